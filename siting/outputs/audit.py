"""Recompute every constraint from a plan's output tables, independently of the model code.

``audit(plan, inputs)`` returns a list of violations (empty when the plan keeps every rule).
It reads only the tables a user sees (sites, assignments, regions, costs) plus the scenario
parameters in the inputs; it never looks at the Pyomo model. A build-out (investment periods) is
checked period by period, each period's tables against that period's inputs
(:meth:`~siting.inputs.inputs.SitingInputs.in_period`), and across periods from its schedule
(:mod:`siting.outputs.audit_periods`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import PlanCheckError
from .audit_n_minus_1 import n_minus_1_check
from .audit_periods import compute_by_site, period_findings

__all__ = ["audit", "audit_buildout", "audit_hourly", "n_minus_1_findings", "require_clean"]


def require_clean(plan, inp, where: str = "", tol: float = 1e-5) -> None:
    """Raise :class:`~siting.errors.PlanCheckError` naming the families ``plan`` breaks (none: return)."""
    bad = audit(plan, inp, tol)
    if bad:
        raise PlanCheckError(bad, where)


def audit(plan, inp, tol: float = 1e-5, *, compute_mw: pd.Series | None = None) -> list[str]:
    """Every rule the plan breaks, one finding each (``family: what``); none: it keeps them all.

    ``compute_mw``: each site's capacity in compute at the reference generation (chip
    generations), in place of its IT MW."""
    if getattr(plan, "schedule", None) is not None and inp.periods is not None:
        return audit_buildout(plan, inp, tol)
    bad: list[str] = []
    s, a, r = plan.sites, plan.assignments, plan.regions
    cool = inp.cooling.set_index("cooling")
    close = lambda x, y: abs(x - y) <= tol * max(1.0, abs(x), abs(y))  # noqa: E731

    # demand: served + unmet = inference demand (the inputs', not the table's), for every region
    served = a.groupby("region_id")["mw"].sum().reindex(r["region_id"]).fillna(0.0).to_numpy()
    ids = inp.regions["region_id"].astype(str)  # ids as text: a table read back from CSV may hold numbers
    demand = inp.regions["inference_mw"].set_axis(ids).reindex(r["region_id"].astype(str)).to_numpy(float)
    demand = np.where(np.isnan(demand), r["inference_mw"].to_numpy(float), demand)  # an id the inputs lack
    for rid, srv, un, dem in zip(r["region_id"], served, r["unmet_mw"], demand):
        if not close(srv + un, dem):
            bad.append(f"demand: region {rid} served {srv:.6g} + unmet {un:.6g} != {dem:.6g}")
    # latency: every used arc within the region's limit
    for row in a[a["rtt_ms"] > a["latency_limit_ms"] + tol].itertuples():
        bad.append(f"latency: {row.region_id} <- {row.site_id} {row.rtt_ms:.2f} ms > limit")
    # resilience: no site serves more than alpha of a region
    share = a.groupby(["region_id", "site_id"])["share_of_region"].sum()
    for key, v in share[share > inp.resilience_max_share + tol].items():
        bad.append(f"resilience: {key} share {v:.4f} > {inp.resilience_max_share}")
    by_site = a.groupby("site_id")["mw"].sum()
    sat_by_site = a[a["link"] == "satellite"].groupby("site_id")["mw"].sum()
    fiber_users = set(a.loc[a["link"] == "fiber", "site_id"])
    pue_of = cool["pue"].astype(float)
    for row in s.itertuples():
        inf_mw = by_site.get(row.site_id, 0.0)
        if not close(inf_mw, row.inference_mw):
            bad.append(f"tables: site {row.site_id} inference {row.inference_mw} != assignments {inf_mw}")
        cap = row.it_mw if compute_mw is None else float(compute_mw.get(row.site_id, 0.0))
        if inf_mw + row.training_mw > cap + tol * max(1, cap):
            bad.append(f"capacity: site {row.site_id} load {inf_mw + row.training_mw:.6g} > "
                       f"{'IT' if compute_mw is None else 'compute'} {cap:.6g}")
        power = pue_of[row.cooling] * row.it_mw
        if power > row.firm_mw + tol * max(1, row.firm_mw) or not close(power, row.power_used_mw):
            bad.append(f"power: site {row.site_id} uses {power:.6g} MW of firm {row.firm_mw:.6g}")
        if inp.module_mw:
            n = row.it_mw / inp.module_mw
            if abs(n - round(n)) > 1e-6:
                bad.append(f"modules: site {row.site_id} IT {row.it_mw} is not whole modules")
        if row.site_id in fiber_users and not row.fiber:
            bad.append(f"backhaul: site {row.site_id} serves over fiber without a lateral")
        need = inp.gbps_per_mw * sat_by_site.get(row.site_id, 0.0)
        if not row.fiber and inp.training_mw > 0:  # training traffic without a lateral goes by satellite
            need += inp.training_gbps_per_mw * row.training_mw
        if row.training_mw > tol and inp.training_gbps_per_mw > 0 and not row.fiber and row.sat_gbps <= 0:
            bad.append(f"backhaul: training site {row.site_id} has no backhaul for its traffic")
        if need > row.sat_gbps + tol * max(1.0, need):
            bad.append(f"backhaul: site {row.site_id} needs {need:.6g} Gbps, has {row.sat_gbps}")
        carries = cool.loc[row.cooling]
        if row.training_mw > tol and not carries["carries_training"]:
            bad.append(f"cooling: site {row.site_id} trains on {row.cooling}")
        if inf_mw > tol and not carries["carries_inference"]:
            bad.append(f"cooling: site {row.site_id} serves inference on {row.cooling}")
        if row.training_mw > tol and row.training_mw < inp.training_min_cluster_mw - tol:
            bad.append(f"training: site {row.site_id} cluster {row.training_mw} below the minimum")
    if not close(s["training_mw"].sum() if len(s) else 0.0, inp.training_mw):
        bad.append(f"training: total {s['training_mw'].sum()} != {inp.training_mw}")
    if inp.max_sites is not None and len(s) > inp.max_sites:
        bad.append(f"max_sites: {len(s)} open > {inp.max_sites}")
    if plan.report.objective is not None and not close(plan.costs["pv_musd"].sum(), plan.report.objective):
        bad.append(f"objective: cost table sums to {plan.costs['pv_musd'].sum():.6f}, "
                   f"solver reports {plan.report.objective:.6f}")
    if "power_peak_mw" in s:  # facility.climate: the warmest month's power within the firm power
        for row in s[s["power_peak_mw"] > s["firm_mw"] * (1 + tol) + tol].itertuples():
            bad.append(f"climate power: site {row.site_id} needs {row.power_peak_mw:.6g} MW of firm {row.firm_mw:.6g}")
    if inp.water_m3_per_mw_year is not None and "water_m3_per_year" in s:
        bad += _audit_water(s, inp, tol)
    if inp.hourly is not None and plan.decisions is not None:
        bad += audit_hourly(plan, inp, tol)
    if isinstance(r, pd.DataFrame) and (r["unmet_mw"] < -tol).any():
        bad.append("demand: negative unmet demand")
    if np.any(a["mw"] < -tol):
        bad.append("assignments: negative flow")
    bad += n_minus_1_findings(plan, inp)
    if "cell_headroom_up_gbps" in s:  # satellite cells: every open site's cell within its capacity
        for d in ("up", "down"):
            for row in s[s[f"cell_headroom_{d}_gbps"] < -tol * np.maximum(1.0, s[f"cell_{d}_gbps"])].itertuples():
                bad.append(f"satellite cell: {row.sat_cell} of site {row.site_id} is over its {d} capacity by "
                           f"{-getattr(row, f'cell_headroom_{d}_gbps'):.6g} Gbps")
    return bad


def audit_buildout(plan, inp, tol: float = 1e-5) -> list[str]:
    """A build-out's findings: each period's plan (``plan.by_period``) against that period's inputs
    (findings say the year), the schedule and regions-by-period tables against those plans, the
    rules across periods (:func:`~siting.outputs.audit_periods.period_findings`), and the cost
    table against the objective."""
    per = inp.periods
    years = [int(y) for y in per.years]
    parts = getattr(plan, "by_period", None)
    if parts is None or len(parts) != per.P:
        return [f"tables: the build-out holds no plan for each of its periods {years}"]
    bad: list[str] = []
    sched, regions = plan.schedule, plan.periods
    for t, (year, part) in enumerate(zip(years, parts)):
        chips = (None if per.compute_per_mw is None
                 else compute_by_site(sched, per.compute_per_mw, years, t, inp.cooling["cooling"].tolist()))
        bad += [_in_year(f, year) for f in audit(part, inp.in_period(t), tol, compute_mw=chips)]
        it = part.sites.set_index("site_id")["it_mw"]
        rows = sched[sched["year"] == year].set_index("site_id")
        got = rows["it_mw"].where(rows["open"].astype(bool), 0.0).reindex(it.index.union(rows.index)).fillna(0.0)
        off = (got - it.reindex(got.index).fillna(0.0)).abs() > tol * np.maximum(1.0, got.abs())
        bad += [f"tables: {year} site {sid} IT {got[sid]:.6g} in the schedule, {it.get(sid, 0.0):.6g} in "
                f"that period's plan" for sid in got.index[off.to_numpy()]]
        reg = part.regions.set_index("region_id")
        p = regions[regions["year"] == year].set_index("region_id").reindex(reg.index)
        for col, mine in (("demand_mw", "inference_mw"), ("unmet_mw", "unmet_mw"), ("served_mw", "served_mw")):
            off = (p[col] - reg[mine]).abs().fillna(np.inf) > tol * np.maximum(1.0, reg[mine].abs())
            bad += [f"tables: {year} region {rid} {col} {p[col].get(rid)} in the regions by period, "
                    f"{reg[mine][rid]:.6g} in that period's plan" for rid in reg.index[off.to_numpy()]]
    bad += period_findings(plan, inp, tol)
    if plan.report.objective is not None and abs(plan.costs["pv_musd"].sum() - plan.report.objective) > tol * max(
            1.0, abs(plan.report.objective)):
        bad.append(f"objective: cost table sums to {plan.costs['pv_musd'].sum():.6f}, "
                   f"solver reports {plan.report.objective:.6f}")
    return bad


def _in_year(finding: str, year: int) -> str:
    """``family: what`` as ``family: in <year>, what`` (the family stays the finding's first word)."""
    family, _, what = finding.partition(":")
    return f"{family}: in {year},{what}"


def n_minus_1_findings(plan, inp) -> list[str]:
    """One finding per failure group and region it leaves short (:mod:`siting.outputs.audit_n_minus_1`);
    none when N-1 is off."""
    if inp.n_minus_1_share is None:
        return []
    return [f"n-1: losing {row.failed_sites} leaves region {region} {got:.4f} < {inp.n_minus_1_share:g}"
            for row in n_minus_1_check(plan, inp).query("~meets").itertuples()
            for region, got in zip(row.short_regions, row.short_shares)]


def _audit_water(s: pd.DataFrame, inp, tol: float) -> list[str]:
    """Water recomputed from each open site's IT MW and cooling, within its limit."""
    bad: list[str] = []
    pos = pd.Series(np.arange(len(inp.sites)), index=inp.sites["site_id"].to_numpy())
    tech = pd.Series(np.arange(len(inp.cooling)), index=inp.cooling["cooling"].to_numpy())
    limit = inp.water_limit_m3_per_year
    for row in s.itertuples():
        k = pos[row.site_id]
        used = inp.water_m3_per_mw_year[k, tech[row.cooling]] * row.it_mw
        if abs(used - row.water_m3_per_year) > tol * max(1.0, used):
            bad.append(f"tables: site {row.site_id} water {row.water_m3_per_year:.6g} != {used:.6g} m3 a year")
        if limit is not None and used > limit[k] + tol * max(1.0, used):
            bad.append(f"water: site {row.site_id} draws {used:.6g} m3 a year, limit {limit[k]:.6g}")
    return bad


def audit_hourly(plan, inp, tol: float = 1e-5) -> list[str]:
    """Hourly balance, state of charge, storage power and throughput, overbuild, recomputed
    from the plan's site table (load) and its storage decisions."""
    hi, dec = inp.hourly, plan.decisions
    if not hi.V:
        return []
    bad: list[str] = []
    ids = inp.sites["site_id"].to_numpy()
    col = "power_peak_mw" if "power_peak_mw" in plan.sites else "power_used_mw"
    load = plan.sites.set_index("site_id")[col].reindex(ids).fillna(0.0).to_numpy()
    k = hi.site[hi.cell_site]
    gen = hi.cf.ravel() * (hi.available_mw[hi.cell_site] + dec.overbuild_mw[k])
    ch, dis, soc = dec.charge_mw, dec.discharge_mw, dec.soc_mwh
    imp = dec.import_mw if hi.grid else np.zeros(hi.H)
    scale = np.maximum(1.0, load[k])
    short = gen + dis - ch + imp - load[k] < -tol * scale
    for h in np.flatnonzero(short)[:5]:
        bad.append(f"hourly balance: site {ids[k[h]]} cell {h} has {gen[h] + dis[h] - ch[h] + imp[h]:.6g} MW "
                   f"for a load of {load[k[h]]:.6g} MW")
    if hi.grid:
        bad += _audit_grid(plan, inp, load, imp, tol)
    drift = soc - soc[hi.previous_cell] - hi.eta_charge * ch + dis / hi.eta_discharge
    for h in np.flatnonzero(np.abs(drift) > tol * np.maximum(1.0, soc))[:5]:
        bad.append(f"storage: site {ids[k[h]]} cell {h} state of charge is off by {drift[h]:.6g} MWh")
    if np.any(soc > dec.storage_mwh[k] + tol * np.maximum(1.0, soc)):
        bad.append("storage: a state of charge exceeds the storage built")
    if np.any(ch + dis > dec.storage_mw[k] + tol * np.maximum(1.0, ch + dis)):
        bad.append("storage: charge + discharge exceeds the storage power built")
    yearly = np.bincount(hi.cell_site, dis * hi.cell_weight, hi.V)
    if np.any(yearly > hi.cycles_per_year * dec.storage_mwh[hi.site] + tol * np.maximum(1.0, yearly)):
        bad.append("storage: yearly discharge exceeds the cycle-life throughput")
    if np.any(dec.overbuild_mw[hi.site] > hi.overbuild_max_mw * dec.open[hi.site] + tol):
        bad.append("overbuild: above its bound or at a closed site")
    built = np.zeros(len(ids), bool)
    built[hi.site] = True
    if np.any((dec.storage_mwh + dec.storage_mw + dec.overbuild_mw > tol) & ~built):
        bad.append("storage: built at a site that has no hourly energy")
    return bad


def _audit_grid(plan, inp, load: np.ndarray, imp: np.ndarray, tol: float) -> list[str]:
    """Imports within the load, the 24/7 carbon-free targets, and the sites table's own figures."""
    hi = inp.hourly
    bad: list[str] = []
    k = hi.site[hi.cell_site]
    if np.any(imp > load[k] + tol * np.maximum(1.0, load[k])):
        bad.append("grid: an hour imports more than the site's load")
    hours = 24.0 * float(hi.weight_days.sum())
    per_v = np.bincount(hi.cell_site, imp * hi.cell_weight, hi.V)
    allowed = None if hi.cfe_target is None else (1 - hi.cfe_target) * hours * load.sum()
    if allowed is not None and per_v.sum() > allowed + tol * max(1.0, per_v.sum()):
        bad.append(f"cfe: the plan imports {per_v.sum():.6g} MWh a year, above {1 - hi.cfe_target:g} of its load")
    if hi.cfe_site_target is not None:
        over = per_v > (1 - hi.cfe_site_target) * hours * load[hi.site] + tol * np.maximum(1.0, per_v)
        for v in np.flatnonzero(over)[:5]:
            bad.append(f"cfe: site {inp.sites['site_id'].iloc[hi.site[v]]} imports above its carbon-free target")
    table = plan.sites.set_index("site_id")["grid_import_mwh_per_year"]
    ids = inp.sites["site_id"].to_numpy()[hi.site]
    for sid, mwh in zip(ids, per_v):
        if sid in table.index and abs(table[sid] - mwh) > tol * max(1.0, mwh):
            bad.append(f"tables: site {sid} grid import {table[sid]} != hours {mwh}")
    return bad
