"""The siting statement over a scenario set (``uncertainty:``): a two-stage stochastic program.

The scenario axis is a dimension of the one statement, never a copy of a family: each
scenario's inputs (:func:`scenario_inputs`: drought share of firm power by basin or country as
the usable share of the IT built at a site (``capacity`` family), inference demand x growth,
energy / carbon / satellite prices x multipliers) are compiled by the same generic code
(:func:`siting.model.compile.compile_inputs`), and :func:`two_stage` lays the compiled columns
out generically: the first-stage families (:data:`FIRST_STAGE`: what is built) are one shared
copy, every other column (serve, unmet, train, hosts_training, train_sat, sat_units) is one
copy per scenario; a row whose every term is first-stage and that is the same in every scenario
is a first-stage row, every other row is a scenario row (its first-stage part is ``T_s``). The
result is a :class:`~siting.solve.twostage.TwoStage` the solver layer solves as an extensive
form or by L-shaped decomposition on Dask. Objective: first-stage costs + sum_s p_s (second-
stage costs of s); a first-stage cost that changes with the scenario (the energy price on the
IT built) enters at its expectation, and per scenario in :func:`scenario_costs` (and in the risk
term: ``uncertainty.cvar_weight`` lambda times CVaR at ``uncertainty.cvar_alpha`` of each
scenario's whole cost, when lambda > 0).

Not yet supported together with scenarios (refused with a :class:`ScenarioError` naming the
field): investment periods (``time``), hourly energy (``energy.hourly``), N-1
(``demand.n_minus_1_share``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..errors import ScenarioError
from ..inputs.inputs import SitingInputs
from ..inputs.uncertainty import UncertainScenario, Uncertainty
from ..solve.twostage import Scenario, TwoStage
from .compile import Compiled, compile_inputs

__all__ = ["FIRST_STAGE", "StochasticModel", "site_regions", "scenario_inputs", "two_stage", "scenario_costs"]

# the families decided before the scenario is known (what is built); every other one is recourse
FIRST_STAGE = ("open", "it", "cool", "modules", "fiber", "storage_mwh", "storage_mw", "overbuild_mw")


def site_regions(inp: SitingInputs) -> np.ndarray:
    """The drought region of every site: its ``basin`` where the sites have one, else its
    ``country`` ('' where neither is known)."""
    K = len(inp.sites)
    country = inp.sites["country"].astype(str).to_numpy() if "country" in inp.sites else np.full(K, "")
    if "basin" not in inp.sites:
        return country
    basin = inp.sites["basin"]
    named = basin.notna().to_numpy() & (basin.astype(str).str.strip() != "").to_numpy()
    return np.where(named, basin.astype(str).to_numpy(), country)


def _refuse_unsupported(inp: SitingInputs) -> None:
    for field, on in (("time", inp.periods is not None), ("energy.hourly", inp.hourly is not None),
                      ("demand.n_minus_1_share", inp.n_minus_1_share is not None)):
        if on:
            raise ScenarioError(f"{field}: not supported together with uncertainty.scenarios yet "
                                "(remove one of them)")


def scenario_inputs(inp: SitingInputs, s: UncertainScenario) -> SitingInputs:
    """``inp`` as scenario ``s`` sees it (a new record; ``inp`` is not changed): the usable share
    of each site's IT = 1 - the drought share of its region (hydro sites only where the sites name
    their ``fuel``), inference demand x growth, the
    ``energy`` and ``carbon`` parts of the IT cost and the satellite unit cost x their multipliers;
    training MW may go unplaced at the unmet-demand price (``training`` family's ``train_short``).

    >>> from siting.inputs.inputs import from_cost_matrix
    >>> inp = from_cost_matrix([1, 1], [5, 5], [4.0], [[1.0], [1.0]])
    >>> s = UncertainScenario(name="dry", probability=1.0, demand_growth=1.5)
    >>> scenario_inputs(inp, s).regions["inference_mw"].tolist(), scenario_inputs(inp, s).available_share.tolist()
    ([6.0], [1.0, 1.0])
    """
    region = site_regions(inp)
    share = np.array([s.drought.get(r, 0.0) for r in region], float)
    if "fuel" in inp.sites:  # a drought takes the power of the hydro sources of a basin or country only
        share = np.where(inp.sites["fuel"].astype(str).str.lower().to_numpy() == "hydro", share, 0.0)
    regions = inp.regions.copy()
    regions["inference_mw"] = regions["inference_mw"].to_numpy(float) * s.demand_growth
    it = dict(inp.it_cost_musd)
    for part, m in (("energy", s.prices.energy), ("carbon", s.prices.carbon)):
        if part in it:
            it[part] = np.asarray(it[part], float) * m
    sat = {k: np.asarray(v, float) * s.prices.satellite for k, v in inp.sat_unit_cost_musd.items()}
    # training a drought leaves no room for goes unplaced at the price of unmet demand (the same
    # value of compute not delivered, per MW), rather than making the scenario infeasible
    short = inp.unmet_cost_musd_per_mw if inp.training_mw > 0 else None
    return dataclasses.replace(inp, regions=regions, it_cost_musd=it, sat_unit_cost_musd=sat,
                               available_share=1.0 - share, training_shortfall_cost_musd_per_mw=short,
                               notes=list(inp.notes))


@dataclass(frozen=True)
class StochasticModel:
    """The two-stage problem of a siting statement: ``ts``, each scenario's compiled model
    (same columns), the first-stage column mask, and each scenario's first-stage costs."""

    ts: TwoStage
    compiled: tuple[Compiled, ...]
    first: np.ndarray  # [n] bool: first-stage columns of the compiled model
    first_costs: np.ndarray  # [S, n1]: c_s of the first-stage columns in each scenario
    names: tuple[str, ...]

    @property
    def open_first(self) -> np.ndarray:
        """[n1] bool: the site-opening binaries among the first-stage columns (what ``lp_start`` restricts)."""
        return self.compiled[0].open_mask[self.first]

    def full_x(self, x1: np.ndarray, s: int, y: np.ndarray) -> np.ndarray:
        """The compiled model's column vector of scenario ``s`` from first stage ``x1`` and its recourse ``y``."""
        out = np.zeros(self.first.size)
        out[self.first] = x1
        out[~self.first] = y
        return out


def _same_layout(comps: list[Compiled], names: list[str]) -> None:
    c0 = comps[0]
    for c, name in zip(comps[1:], names[1:]):
        same = c.sf.shape == c0.sf.shape and all(np.array_equal(c.columns[k], c0.columns[k]) for k in c0.columns) \
            and c.rows.keys() == c0.rows.keys() and all(np.array_equal(c.rows[k], c0.rows[k]) for k in c0.rows)
        if not same:
            raise ScenarioError(f"uncertainty.scenarios ({name!r}): the scenario changes which decisions the "
                                "model has (e.g. a demand or a cost set to zero); not supported")


def two_stage(inp: SitingInputs, unc: Uncertainty) -> StochasticModel:
    """The siting model of ``inp`` over the scenarios of ``unc`` as a :class:`TwoStage` (see the module)."""
    _refuse_unsupported(inp)
    scen = unc.scenarios
    names = [s.name for s in scen]
    comps = [compile_inputs(scenario_inputs(inp, s)) for s in scen]
    _same_layout(comps, names)
    c0 = comps[0]
    n = c0.sf.shape[1]
    first = np.zeros(n, bool)
    for name in FIRST_STAGE:
        if name in c0.columns:
            first |= c0.mask(name)
    mats = [sp.csr_array(c.sf.A) for c in comps]
    # a first-stage row: only first-stage terms, and the same row (terms and bounds) in every scenario
    A0 = mats[0]
    has_second = np.zeros(A0.shape[0], bool)
    for M in mats:
        rn = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))
        has_second[rn[~first[M.indices]]] = True
    same = np.ones(A0.shape[0], bool)
    for M, c in zip(mats[1:], comps[1:]):
        D = sp.csr_array(M - A0)
        D.eliminate_zeros()
        same[np.repeat(np.arange(D.shape[0]), np.diff(D.indptr))] = False
        same &= (c.sf.row_lower == c0.sf.row_lower) & (c.sf.row_upper == c0.sf.row_upper)
    r1 = ~has_second & same
    r2 = ~r1
    f_idx, s_idx = np.flatnonzero(first), np.flatnonzero(~first)
    p = np.array([s.probability for s in scen])
    first_costs = np.array([c.sf.c[f_idx] for c in comps])
    scenarios = []
    for s, (M, c) in enumerate(zip(mats, comps)):
        sf = c.sf
        rows2 = M[np.flatnonzero(r2)]
        scenarios.append(Scenario.build(p[s], sf.c[s_idx], rows2[:, f_idx], rows2[:, s_idx], sf.row_lower[r2],
                                        sf.row_upper[r2], sf.col_lower[s_idx], sf.col_upper[s_idx],
                                        sf.integer[s_idx], names[s], first_cost=first_costs[s]))
    sf0 = c0.sf
    ts = TwoStage.build(p @ first_costs, A0[np.flatnonzero(r1)][:, f_idx], sf0.row_lower[r1], sf0.row_upper[r1],
                        scenarios, col_lower=sf0.col_lower[f_idx], col_upper=sf0.col_upper[f_idx],
                        integer=sf0.integer[f_idx], offset=float(sf0.offset), cvar_weight=unc.cvar_weight,
                        cvar_alpha=unc.cvar_alpha)
    return StochasticModel(ts, tuple(comps), first, first_costs, tuple(names))


def scenario_costs(model: StochasticModel, x1: np.ndarray, recourse: np.ndarray) -> np.ndarray:
    """Each scenario's whole cost of plan ``x1`` (its first-stage costs at that scenario's prices,
    plus its recourse cost ``recourse[s]`` = Q_s(x1))."""
    return model.first_costs @ np.asarray(x1, float) + model.ts.offset + np.asarray(recourse, float)
