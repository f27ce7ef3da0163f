"""Solution -> plan tables keyed by the user's ids, GeoJSON (RFC 7946), summary and map.

Outputs are written into a temporary sibling folder and renamed into place, so a failed or
interrupted run leaves the previous output folder as it was and no half-written new one.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import SitingError
from .inputs import SitingInputs
from .solve import Solution, SolveReport

__all__ = ["Plan", "make_plan", "write_outputs", "sites_geojson", "links_geojson",
           "check_writable", "atomic_dir", "OUTPUT_FILES"]

OUTPUT_FILES = ("sites.csv", "assignments.csv", "regions.csv", "costs.csv", "summary.json",
                "sites.geojson", "links.geojson", "map.html", "map.png")
TOL = 1e-6


@dataclass
class Plan:
    """A solved plan as tidy tables (money in present-value M$, power in MW)."""

    sites: pd.DataFrame
    assignments: pd.DataFrame
    regions: pd.DataFrame
    costs: pd.DataFrame
    report: SolveReport
    summary: dict = field(default_factory=dict)


def _site_costs(inp: SitingInputs, sol: Solution, it: np.ndarray) -> pd.DataFrame:
    """Per-site PV cost of every component (M$), from the same coefficient tables as the model."""
    K = len(inp.sites)
    fiber, sat = sol.by_key("fiber", K), sol.by_key("sat_units", K)
    parts: dict[str, np.ndarray] = {}
    for table, level in ((inp.site_cost_musd, sol["open"]), (inp.fiber_cost_musd, fiber),
                         (inp.sat_unit_cost_musd, sat)):
        for name, c in table.items():
            parts[name] = parts.get(name, 0.0) + c * level
    for name, c in inp.it_cost_musd.items():
        parts[name] = parts.get(name, 0.0) + (c * it).sum(axis=1)
    return pd.DataFrame(parts)


def make_plan(inp: SitingInputs, sol: Solution, report: SolveReport, *,
              scenario_name: str = "scenario", description: str = "") -> Plan:
    """Turn solver values into the plan tables (rounded to remove solver noise)."""
    K, C = len(inp.sites), len(inp.cooling)
    it = sol["it"].reshape(K, C)
    arcs = inp.arcs
    serve = np.where(sol["serve"] > TOL, sol["serve"], 0.0)
    site_of = arcs["site"].to_numpy()
    region_of = arcs["region"].to_numpy()
    sat_arc = (arcs["link"] == "satellite").to_numpy()
    train = sol["train"] if sol["train"].size else np.zeros(K)
    fiber = sol.by_key("fiber", K) > 0.5
    units = np.round(sol.by_key("sat_units", K)) + 0.0  # + 0.0 turns -0.0 into 0.0
    cool = (sol["cool"].reshape(K, C) if sol["cool"].size else it)
    cost = _site_costs(inp, sol, it)
    s = inp.sites.copy()
    s["open"] = sol["open"] > 0.5
    s["it_mw"] = it.sum(axis=1)
    s["modules"] = np.round(sol["modules"]) + 0.0 if sol["modules"].size else np.nan
    chosen = cool.argmax(axis=1)
    s["cooling"] = np.where(s["open"], inp.cooling["cooling"].to_numpy()[chosen], "")
    s["pue"] = np.where(s["open"], inp.cooling["pue"].to_numpy(float)[chosen], np.nan)
    s["power_used_mw"] = (it * inp.cooling["pue"].to_numpy(float)).sum(axis=1)
    s["inference_mw"] = np.bincount(site_of, serve, K)
    s["training_mw"] = np.where(train > TOL, train, 0.0)
    s["satellite_mw"] = np.bincount(site_of, serve * sat_arc, K)
    s["fiber"] = fiber
    s["sat_units"] = units
    s["sat_gbps"] = units * inp.sat_unit_gbps
    s["backhaul"] = np.select([fiber & (units > 0), fiber, units > 0],
                              ["fiber+satellite", "fiber", "satellite"], "none")
    for col in cost:
        s[f"{col}_musd"] = cost[col].to_numpy()
    s["total_musd"] = cost.sum(axis=1).to_numpy()
    sites = s[s["open"]].drop(columns="open").reset_index(drop=True)

    used = np.flatnonzero(serve > 0)
    reg, site = inp.regions, inp.sites
    assignments = pd.DataFrame({
        "region_id": reg["region_id"].to_numpy()[region_of[used]],
        "region_name": reg["name"].to_numpy()[region_of[used]],
        "site_id": site["site_id"].to_numpy()[site_of[used]],
        "site_name": site["name"].to_numpy()[site_of[used]],
        "link": arcs["link"].to_numpy()[used], "mw": serve[used],
        "rtt_ms": arcs["rtt_ms"].to_numpy()[used],
        "latency_limit_ms": reg["latency_ms"].to_numpy()[region_of[used]],
        "share_of_region": serve[used] / reg["inference_mw"].to_numpy()[region_of[used]]})

    R = len(reg)
    unmet = sol["unmet"] if sol["unmet"].size else np.zeros(R)
    regions = reg.drop(columns=[c for c in ("geometry",) if c in reg]).copy()
    regions["served_mw"] = np.bincount(region_of, serve, R)
    regions["satellite_mw"] = np.bincount(region_of, serve * sat_arc, R)
    regions["unmet_mw"] = np.where(unmet > TOL, unmet, 0.0)
    regions["n_sites"] = np.bincount(region_of[used], minlength=R)

    comp = cost.sum(axis=0)
    arc_cost = float((inp.arcs["cost_musd_per_mw"].to_numpy(float) * serve).sum())
    unmet_cost = float((inp.unmet_cost_musd_per_mw or 0.0) * regions["unmet_mw"].sum())
    costs = pd.DataFrame({"component": list(comp.index) + ["assignment", "unmet_demand"],
                          "pv_musd": list(comp.to_numpy()) + [arc_cost, unmet_cost]})
    summary = {
        "scenario": scenario_name, "description": description,
        "termination": report.termination, "solution_status": report.solution_status,
        "proven_optimal": report.proven_optimal, "objective_musd": report.objective,
        "best_bound_musd": report.best_bound, "gap": report.gap,
        "times_s": {"inputs": None, "build": report.build_s, "compile": report.compile_s,
                    "solve": report.solve_s},
        "size": inp.size | {"variables": report.n_variables, "integer_variables": report.n_integer,
                            "constraints": report.n_constraints, "nonzeros": report.n_nonzeros},
        "plan": {"sites": len(sites), "it_mw": float(sites["it_mw"].sum()),
                 "inference_mw": float(regions["served_mw"].sum()),
                 "training_mw": float(sites["training_mw"].sum()),
                 "unmet_mw": float(regions["unmet_mw"].sum()),
                 "satellite_share": float(regions["satellite_mw"].sum()
                                          / max(regions["served_mw"].sum(), TOL)),
                 "cooling_mw": sites.groupby("cooling")["it_mw"].sum().round(3).to_dict()},
        "costs_musd": dict(zip(costs["component"], costs["pv_musd"].round(6))),
        "solver": report.solver, "strategy": report.strategy, "phases": report.phases,
        "notes": inp.notes,
    }
    return Plan(sites, assignments, regions, costs, report, summary)


def _coord(lon, lat) -> list[float]:
    return [round(float(lon), 6), round(float(lat), 6)]


def _line(lon0, lat0, lon1, lat1) -> dict:
    """LineString, split into a MultiLineString where it crosses the antimeridian (RFC 7946 3.1.9)."""
    if abs(lon1 - lon0) <= 180:
        return {"type": "LineString", "coordinates": [_coord(lon0, lat0), _coord(lon1, lat1)]}
    edge = 180.0 if lon0 > 0 else -180.0
    lon1_unwrapped = lon1 + (360 if lon0 > 0 else -360)
    lat_x = lat0 + (lat1 - lat0) * (edge - lon0) / (lon1_unwrapped - lon0)
    return {"type": "MultiLineString", "coordinates": [
        [_coord(lon0, lat0), _coord(edge, lat_x)], [_coord(-edge, lat_x), _coord(lon1, lat1)]]}


def _props(row: pd.Series) -> dict:
    out = {}
    for k, v in row.items():
        if k == "geometry":
            continue
        if isinstance(v, (np.floating, float)):
            out[k] = None if not np.isfinite(v) else round(float(v), 6)
        elif isinstance(v, (np.integer, np.bool_)):
            out[k] = v.item()
        else:
            out[k] = v
    return out


def sites_geojson(plan: Plan) -> dict:
    """Chosen sites as a GeoJSON FeatureCollection of Points (WGS84 lon/lat, no ``crs``)."""
    feats = [{"type": "Feature", "id": str(r["site_id"]),
              "geometry": {"type": "Point", "coordinates": _coord(r["longitude"], r["latitude"])},
              "properties": _props(r)} for _, r in plan.sites.iterrows()]
    return {"type": "FeatureCollection", "features": feats}


def links_geojson(plan: Plan, inp: SitingInputs) -> dict:
    """Region -> site links as LineStrings (split at the antimeridian)."""
    site_xy = inp.sites.set_index("site_id")[["longitude", "latitude"]]
    reg_xy = inp.regions.set_index("region_id")[["longitude", "latitude"]]
    feats = []
    for _, a in plan.assignments.iterrows():
        s, r = site_xy.loc[a["site_id"]], reg_xy.loc[a["region_id"]]
        feats.append({"type": "Feature", "geometry": _line(s["longitude"], s["latitude"],
                                                           r["longitude"], r["latitude"]),
                      "properties": _props(a)})
    return {"type": "FeatureCollection", "features": feats}


def check_writable(out: Path) -> None:
    """Create the output's parent folders; fail before any solving if it cannot be written."""
    out = Path(out)
    parent = out.resolve().parent
    if out.exists() and not out.is_dir():
        raise SitingError(f"--out {out}: exists and is not a folder")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SitingError(f"--out {out}: cannot create folder {parent} ({exc.strerror})") from None
    try:
        probe = tempfile.mkdtemp(prefix=f".{out.name}.probe-", dir=parent)
        os.rmdir(probe)
    except OSError as exc:
        raise SitingError(f"--out {out}: cannot write in {parent} ({exc.strerror})") from None


@contextlib.contextmanager
def atomic_dir(out: Path):
    """Yield a temporary folder that replaces ``out`` only if the block completes."""
    out = Path(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.resolve().parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_outputs(plan: Plan, inp: SitingInputs, out: Path) -> Path:
    """Write every output file atomically into ``out``; returns the folder."""
    from .maps import render_map, render_png

    with atomic_dir(out) as tmp:
        plan.sites.to_csv(tmp / "sites.csv", index=False)
        plan.assignments.to_csv(tmp / "assignments.csv", index=False)
        plan.regions.to_csv(tmp / "regions.csv", index=False)
        plan.costs.to_csv(tmp / "costs.csv", index=False)
        (tmp / "summary.json").write_text(json.dumps(plan.summary, indent=2, default=_json))
        (tmp / "sites.geojson").write_text(json.dumps(sites_geojson(plan), default=_json))
        (tmp / "links.geojson").write_text(json.dumps(links_geojson(plan, inp), default=_json))
        render_map(plan, inp, tmp / "map.html")
        render_png(plan, inp, tmp / "map.png")
    return Path(out)


def _json(v):
    if isinstance(v, (np.integer, np.bool_)):
        return v.item()
    if isinstance(v, np.floating):
        return float(v) if np.isfinite(v) else None
    return str(v)
