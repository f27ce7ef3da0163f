"""A plan over a subset of candidates as the start of the full solve (issue 11: more candidates
never give a worse plan than a subset did).

:func:`restrict_sites` cuts inputs down to some candidates; :func:`lift` carries a plan of one
candidate set onto a superset (sites by ``site_id``, regions by ``region_id``, arcs by (region,
site, link)), every new site closed; :func:`keep_start` makes a solver's report no worse than a
feasible start it was given. The pipeline composes them (``solver.warm_start``).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ..inputs.inputs import SitingInputs
from ..solve import Phase, SolutionStatus, SolveReport, StandardForm, Termination, feasible, relative_gap
from .decisions import Decisions

__all__ = ["restrict_sites", "lift", "keep_start"]


def restrict_sites(inp: SitingInputs, keep) -> SitingInputs:
    """The inputs with only the candidates at positions ``keep`` (in that order) and their arcs.

    Regions, cooling and every scalar stay as they are; per-site arrays are cut to ``keep``.
    """
    if inp.hourly is not None:
        raise ValueError("a warm start from a subset of candidates does not support energy.hourly")
    keep = np.asarray(keep, np.int64)
    K = len(inp.sites)
    if keep.size and (keep.min() < 0 or keep.max() >= K or np.unique(keep).size < keep.size):
        raise ValueError(f"restrict_sites: keep must be distinct positions in 0..{K - 1}")
    pos = np.full(K, -1)
    pos[keep] = np.arange(keep.size)
    arcs = inp.arcs[pos[inp.arcs["site"].to_numpy()] >= 0].copy()
    arcs["site"] = pos[arcs["site"].to_numpy()]
    cut = lambda table: {name: np.asarray(v)[keep] for name, v in table.items()}  # noqa: E731
    return dataclasses.replace(
        inp, sites=inp.sites.iloc[keep].reset_index(drop=True), arcs=arcs.reset_index(drop=True),
        it_cost_musd=cut(inp.it_cost_musd), site_cost_musd=cut(inp.site_cost_musd),
        fiber_cost_musd=cut(inp.fiber_cost_musd), sat_unit_cost_musd=cut(inp.sat_unit_cost_musd),
        failure_group=None if inp.failure_group is None else np.asarray(inp.failure_group)[keep],
        climate_pue_peak=None if inp.climate_pue_peak is None else np.asarray(inp.climate_pue_peak)[keep],
        sat_cell=None if inp.sat_cell is None else np.asarray(inp.sat_cell)[keep],  # the cells stay as they are
        water_m3_per_mw_year=None if inp.water_m3_per_mw_year is None else np.asarray(inp.water_m3_per_mw_year)[keep],
        water_limit_m3_per_year=(None if inp.water_limit_m3_per_year is None
                                 else np.asarray(inp.water_limit_m3_per_year)[keep]),
        notes=list(inp.notes) + [f"subset: {keep.size} of {K} candidates, {len(arcs):,} of {len(inp.arcs):,} arcs"])


def _positions(of: pd.Index, ids: pd.Index, what: str) -> np.ndarray:
    at = of.get_indexer(ids)
    if (at < 0).any():
        raise ValueError(f"lift: {what} {ids[np.argmax(at < 0)]!r} of the plan is not in the larger inputs")
    return at


def lift(dec: Decisions, sub: SitingInputs, full: SitingInputs) -> Decisions:
    """The plan ``dec`` of ``sub`` on the axes of ``full`` (a superset): sites matched by
    ``site_id``, regions by ``region_id``, arcs by (region, site, link); sites and arcs that
    ``sub`` does not have are closed and carry nothing. N-1 recourse flows are not carried
    (their blocks depend on the candidate set): the start leaves them at zero.
    """
    if list(sub.cooling["cooling"]) != list(full.cooling["cooling"]):
        raise ValueError("lift: the two inputs have different cooling options")
    k_at = _positions(pd.Index(full.sites["site_id"]), pd.Index(sub.sites["site_id"]), "site")
    r_at = _positions(pd.Index(full.regions["region_id"]), pd.Index(sub.regions["region_id"]), "region")
    key = lambda r, k, link: pd.MultiIndex.from_arrays([r, k, link])  # noqa: E731
    fa, sa = full.arcs, sub.arcs
    a_at = _positions(key(fa["region"].to_numpy(), fa["site"].to_numpy(), fa["link"].to_numpy()),
                      key(r_at[sa["region"].to_numpy()], k_at[sa["site"].to_numpy()], sa["link"].to_numpy()), "arc")
    K, R, A, C = len(full.sites), len(full.regions), len(full.arcs), len(full.cooling)

    def spread(values, n, at, fill=0.0, shape=()):
        out = np.full((n,) + shape, fill, dtype=np.asarray(values).dtype)
        out[at] = values
        return out
    return Decisions(
        open=spread(dec.open, K, k_at), modules=spread(dec.modules, K, k_at), cooling=spread(dec.cooling, K, k_at, -1),
        it_mw=spread(dec.it_mw, K, k_at, shape=(C,)), serve_mw=spread(dec.serve_mw, A, a_at),
        train_mw=spread(dec.train_mw, K, k_at), fiber=spread(dec.fiber, K, k_at),
        sat_units=spread(dec.sat_units, K, k_at), unmet_mw=spread(dec.unmet_mw, R, r_at),
        train_sat_mw=spread(dec.train_sat_mw, K, k_at))


def keep_start(sf: StandardForm, report: SolveReport, start: np.ndarray | None, tol: float = 1e-9) -> SolveReport:
    """``report``, or, where the solver returned no plan or a dearer one than ``start`` (feasible
    for ``sf``), the start as the plan: the report's bound stays, its gap is the start's, and a
    ``kept_start`` phase says so."""
    if start is None or not feasible(sf, np.asarray(start, float)):
        return report
    cost = float(sf.c @ start + sf.offset)
    if report.objective is not None and report.objective <= cost + tol * max(1.0, abs(cost)):
        return report
    bound = report.best_bound
    gap = relative_gap(cost, bound)
    proven = report.termination == Termination.OPTIMAL and gap is not None
    return dataclasses.replace(
        report, objective=cost, x=np.asarray(start, float), gap=gap,
        solution_status=SolutionStatus.OPTIMAL if proven else SolutionStatus.FEASIBLE,
        phases=report.phases + (Phase("kept_start", report.termination, cost, 0.0),))
