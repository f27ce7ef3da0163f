"""The rules across a build-out's periods, recomputed from its schedule table (site x period).

``period_findings(plan, inp)`` reads only ``plan.schedule`` (the sites ever open, one row per
period: open, IT MW, modules, cooling, fiber) and the inputs' :class:`~siting.inputs.periods.Periods`;
it never looks at the model. The rules, as the model states them (:mod:`siting.model.families`):

- build order: open, IT MW, modules, fiber never fall from one period to the next, and a site's
  cooling, once chosen, is kept;
- time to power: no site open before its first period, no lateral in use before its own;
- growth: ``it[t] <= (1 + y_t R) it[t-1] + y_t S`` (``it[-1] = 0``, y_t the years of building);
- jurisdiction caps: the new MW of power (PUE x new IT MW) of a jurisdiction's sites <= y_t cap;
- module delivery: the new modules of all sites <= y_t modules a year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["period_findings", "compute_by_site"]


def _wide(sched: pd.DataFrame, col: str, years) -> pd.DataFrame:
    return sched.pivot(index="site_id", columns="year", values=col).reindex(columns=list(years))


def compute_by_site(sched: pd.DataFrame, g: np.ndarray, years, t: int, coolings=None) -> pd.Series:
    """Compute (x the reference generation) of each site in period ``t``: the IT MW new in each
    period v times g[v, t], its chips' compute per MW in t (refreshed after their life); with
    racks (g[v, t, c]) on the site's cooling (the schedule's ``cooling``, a name of ``coolings``).

    >>> s = pd.DataFrame({"site_id": ["a", "a"], "year": [2026, 2029], "new_it_mw": [100.0, 50.0]})
    >>> compute_by_site(s, np.array([[1.0, 2.0], [0.0, 2.0]]), [2026, 2029], 1).to_dict()
    {'a': 300.0}
    >>> s["cooling"] = "air"  # air carries only the old chips: 1 per MW in both periods
    >>> g = np.array([[[1.0, 1.0], [1.0, 2.0]], [[0.0, 0.0], [1.0, 2.0]]])
    >>> compute_by_site(s, g, [2026, 2029], 1, ["air", "liquid"]).to_dict()
    {'a': 150.0}
    """
    wide = _wide(sched, "new_it_mw", years)
    new = wide.fillna(0.0).to_numpy(float)
    g = np.asarray(g, float)
    if g.ndim == 2:
        return pd.Series(new @ g[:, t], index=wide.index)
    cool = _wide(sched, "cooling", years).ffill(axis=1).bfill(axis=1).iloc[:, -1]  # one technology a site
    c = np.maximum(pd.Index(list(coolings)).get_indexer(cool.reindex(wide.index)), 0)  # never built: no MW
    return pd.Series(np.einsum("kv,vk->k", new, g[:, t, c]), index=wide.index)


def period_findings(plan, inp, tol: float = 1e-5) -> list[str]:
    """One finding per broken rule across periods (none: the schedule keeps them all)."""
    per, sched = inp.periods, plan.schedule
    years = [int(y) for y in per.years]
    if sched is None or not len(sched):
        return []
    it = _wide(sched, "it_mw", years)
    if it.isna().to_numpy().any() or set(sched["year"]) - set(years):
        return [f"tables: the schedule does not hold one row per site and period {years}"]
    pos = pd.Series(np.arange(len(inp.sites)), index=inp.sites["site_id"].to_numpy())
    if not it.index.isin(pos.index).all():
        unknown = sorted(set(it.index) - set(pos.index))[:3]
        return [f"tables: the schedule names sites that are not candidates: {unknown}"]
    ids, k = it.index.to_numpy(), pos[it.index].to_numpy()
    it = it.to_numpy(float)
    opened = _wide(sched, "open", years).to_numpy(bool)
    fiber = _wide(sched, "fiber", years).to_numpy(bool)
    cooling = _wide(sched, "cooling", years).fillna("").astype(str).to_numpy()
    modules = _wide(sched, "modules", years).to_numpy(float) if inp.module_mw else None
    y = np.asarray(per.build_years, float)
    slack = lambda v: tol * np.maximum(1.0, np.abs(v))  # noqa: E731
    bad: list[str] = []

    for name, v in (("open", opened.astype(float)), ("IT MW", it), ("fiber", fiber.astype(float)),
                    ("modules", modules)):
        if v is None:
            continue
        for i, j in zip(*np.nonzero(v[:, 1:] < v[:, :-1] - slack(v[:, :-1]))):
            bad.append(f"build order: site {ids[i]} {name} {v[i, j + 1]:.6g} in {years[j + 1]} "
                       f"< {v[i, j]:.6g} in {years[j]} (what is built is kept)")
    for i, j in zip(*np.nonzero((cooling[:, :-1] != "") & (cooling[:, 1:] != cooling[:, :-1]))):
        bad.append(f"build order: site {ids[i]} cooling {cooling[i, j]} in {years[j]} becomes "
                   f"'{cooling[i, j + 1]}' in {years[j + 1]} (what is built is kept)")

    t = np.arange(len(years))[None, :]
    for what, on, first in (("open", opened, per.site_first), ("its lateral in use", fiber, per.fiber_first)):
        for i, j in zip(*np.nonzero(on & (t < np.asarray(first)[k][:, None]))):
            ready = first[k[i]]
            bad.append(f"time to power: site {ids[i]} {what} in {years[j]}, ready from "
                       f"{years[ready] if ready < len(years) else 'no period'}")

    before = np.hstack([np.zeros((len(k), 1)), it[:, :-1]])
    if per.ramp_per_year is not None or per.seed_mw_per_year is not None:
        limit = (1.0 + y * (per.ramp_per_year or 0.0)) * before + y * (per.seed_mw_per_year or 0.0)
        for i, j in zip(*np.nonzero(it > limit + slack(limit))):
            bad.append(f"growth: site {ids[i]} IT {it[i, j]:.6g} MW in {years[j]} > {limit[i, j]:.6g} "
                       f"(from {before[i, j]:.6g} MW)")

    if per.jurisdiction is not None and per.jurisdiction_cap_mw_per_year is not None:
        pue = inp.cooling.set_index("cooling")["pue"].astype(float).to_dict()
        power = it * np.vectorize(lambda c: pue.get(c, 0.0))(cooling)
        new = power - np.hstack([np.zeros((len(k), 1)), power[:, :-1]])
        juris = np.asarray(per.jurisdiction)[k]
        for jj, cap in enumerate(per.jurisdiction_cap_mw_per_year):
            got = new[juris == jj].sum(axis=0)
            name = per.jurisdiction_names[jj] if jj < len(per.jurisdiction_names) else jj
            for j in np.flatnonzero(got > y * cap + slack(y * cap)):
                bad.append(f"jurisdiction cap: {name} takes {got[j]:.6g} MW of new power in {years[j]} "
                           f"> {y[j] * cap:.6g}")

    if per.modules_per_year is not None and modules is not None:
        new = (modules - np.hstack([np.zeros((len(k), 1)), modules[:, :-1]])).sum(axis=0)
        for j in np.flatnonzero(new > y * per.modules_per_year + slack(y * per.modules_per_year)):
            bad.append(f"module delivery: {new[j]:.6g} new modules in {years[j]} > {y[j] * per.modules_per_year:.6g}")
    return bad
