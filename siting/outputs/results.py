"""Solution -> plan tables keyed by the user's ids, GeoJSON (RFC 7946), summary and map.

Outputs are written through :mod:`siting.outputs.outdir`: into a temporary sibling, swapped into place
as the last act, and only over a folder that is a siting output.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..inputs.inputs import SitingInputs
from ..model.decisions import Decisions
from ..solve import SolutionStatus, SolveReport, Termination
from .buildout import (
    buildout_figure,
    buildout_summary,
    first_served_year,
    periods_table,
    schedule_table,
    weighted_costs,
)
from .outdir import Written, replace_dir

__all__ = ["Plan", "Summary", "Times", "Size", "Totals", "CarbonWater", "make_plan", "within_gap",
           "write_outputs", "sites_geojson", "links_geojson", "csv_safe", "write_csv", "OUTPUT_FILES"]

OUTPUT_FILES = ("sites.csv", "assignments.csv", "regions.csv", "costs.csv", "summary.json",
                "sites.geojson", "links.geojson", "map.html", "map.png", "scenario.yaml")
TOL = 1e-6
GAP_TOL = 1e-12  # a reported gap this far above the one asked for is still within it


def within_gap(report: SolveReport, mip_gap: float | None) -> bool:
    """The plan is proven optimal, or its reported gap is at most ``mip_gap`` (the gap asked for).

    >>> r = SolveReport(Termination.TIME_LIMIT, SolutionStatus.FEASIBLE, 100.0, 99.5, 0.005, 0, 0)
    >>> within_gap(r, 0.01), within_gap(r, 0.001), within_gap(r, None)
    (True, False, False)
    """
    if report.proven_optimal:
        return True
    return report.gap is not None and mip_gap is not None and report.gap <= mip_gap + GAP_TOL


@dataclass(frozen=True)
class Times:
    """Seconds spent: reading the inputs (None: not measured), building, compiling, solving."""

    inputs: float | None
    build: float
    compile: float
    solve: float


@dataclass(frozen=True)
class Size:
    """The inputs' and the solved model's size."""

    candidates: int
    regions: int
    arcs: int
    cooling_options: int
    variables: int
    integer_variables: int
    constraints: int
    nonzeros: int


@dataclass(frozen=True)
class Totals:
    """The plan's totals: sites opened, MW IT, inference served, training, unmet, satellite share,
    MW IT by cooling."""

    sites: int
    it_mw: float
    inference_mw: float
    training_mw: float
    unmet_mw: float
    satellite_share: float
    cooling_mw: dict[str, float]
    # built laterals longer than network.lateral_practical_km: site_id, name, pop_id, lateral_km, practical_km
    long_laterals: tuple = ()


@dataclass(frozen=True)
class CarbonWater:
    """Plan totals of carbon and water (see :func:`_carbon_water`); ``None``: not in this model."""

    embodied_facility_tco2e: float
    embodied_battery_tco2e: float
    embodied_factors: dict[str, float]
    carbon_tco2_per_year: float | None = None  # operational: the sites' MWh x their gCO2/kWh (priced as carbon)
    grid: bool = False  # hourly grid imports in the model (the three grid figures below)
    grid_import_mwh_per_year: float | None = None
    grid_import_tco2_per_year: float | None = None
    cfe_share: float | None = None
    water_m3_per_year: float | None = None

    @property
    def embodied_tco2e(self) -> float:
        return self.embodied_facility_tco2e + self.embodied_battery_tco2e

    def to_dict(self) -> dict:
        out = {"embodied_facility_tco2e": self.embodied_facility_tco2e,
               "embodied_battery_tco2e": self.embodied_battery_tco2e, "embodied_tco2e": self.embodied_tco2e,
               "embodied_factors": dict(self.embodied_factors)}
        if self.carbon_tco2_per_year is not None:
            out["carbon_tco2_per_year"] = self.carbon_tco2_per_year
        if self.grid:
            out |= {"grid_import_mwh_per_year": self.grid_import_mwh_per_year,
                    "grid_import_tco2_per_year": self.grid_import_tco2_per_year, "cfe_share": self.cfe_share}
        if self.water_m3_per_year is not None:
            out["water_m3_per_year"] = self.water_m3_per_year
        return out


@dataclass(frozen=True)
class Summary(Mapping):
    """What a plan's ``summary.json`` says, as typed attributes; read as a mapping it is that
    file's layout (``summary["plan"]["sites"]``). ``within_gap``: decided on the report and the
    gap asked for (:func:`within_gap`)."""

    scenario: str
    description: str
    termination: Termination
    solution_status: SolutionStatus
    proven_optimal: bool
    within_gap: bool
    mip_gap: float | None
    objective_musd: float | None
    best_bound_musd: float | None
    gap: float | None
    times: Times
    size: Size
    plan: Totals
    costs_musd: dict[str, float]
    carbon_water: CarbonWater
    solver: str
    strategy: str
    phases: tuple[dict, ...]
    notes: tuple[str, ...]
    run: dict = field(default_factory=dict)
    buildout: dict | None = None  # with investment periods: per-period totals, first fully served years

    def to_dict(self) -> dict:
        """The summary.json layout."""
        return {
            "scenario": self.scenario, "description": self.description,
            "termination": str(self.termination), "solution_status": str(self.solution_status),
            "proven_optimal": self.proven_optimal, "objective_musd": self.objective_musd,
            "best_bound_musd": self.best_bound_musd, "gap": self.gap,
            "times_s": {"inputs": self.times.inputs, "build": self.times.build, "compile": self.times.compile,
                        "solve": self.times.solve},
            "size": dict(vars(self.size)), "plan": dict(vars(self.plan)), "costs_musd": dict(self.costs_musd),
            "carbon_water": self.carbon_water.to_dict(), "solver": self.solver, "strategy": self.strategy,
            "phases": [dict(p) for p in self.phases], "notes": list(self.notes), "run": dict(self.run),
        } | ({} if self.buildout is None else {"buildout": self.buildout})

    @cached_property
    def _layout(self) -> dict:
        return self.to_dict()

    def __getitem__(self, key: str):
        return self._layout[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._layout)

    def __len__(self) -> int:
        return len(self._layout)


@dataclass(frozen=True)
class Plan:
    """A solved plan as tidy tables (money in present-value M$, power in MW), the solver's report,
    the typed :class:`Summary` (a plain mapping for a plan put together by hand) and the decisions."""

    sites: pd.DataFrame
    assignments: pd.DataFrame
    regions: pd.DataFrame
    costs: pd.DataFrame
    report: SolveReport
    summary: Summary | Mapping = field(default_factory=dict)
    decisions: Decisions | None = None
    schedule: pd.DataFrame | None = None  # with investment periods: site x period (siting.outputs.buildout)
    periods: pd.DataFrame | None = None  # with investment periods: region x period
    by_period: tuple[Plan, ...] | None = None  # with investment periods: each period's plan against its inputs


def make_plan(inp: SitingInputs, dec: Decisions, report: SolveReport, *,
              scenario_name: str = "scenario", description: str = "", inputs_s: float | None = None,
              run: dict | None = None, mip_gap: float | None = None,
              schedule: list[Decisions] | None = None) -> Plan:
    """Turn a plan's :class:`Decisions` into the tables a user reads (ids, names, MW, M$).

    ``mip_gap``: the gap asked of the solver (:attr:`Summary.within_gap`; None: only a proven optimum is).
    ``schedule``: with investment periods, one :class:`Decisions` per period (``dec`` is the last):
    costs are each period's weighted, the sites carry their ``online_year``, and the plan its
    schedule and regions by period (:mod:`siting.outputs.buildout`)."""
    K = len(inp.sites)
    arcs = inp.arcs
    serve, it, units = dec.serve_mw, dec.it_mw, dec.sat_units
    site_of = arcs["site"].to_numpy()
    region_of = arcs["region"].to_numpy()
    sat_arc = (arcs["link"] == "satellite").to_numpy()
    per_site, plan_wide = inp.cost_breakdown(dec) if schedule is None else weighted_costs(inp, schedule)
    chosen = np.maximum(dec.cooling, 0)
    s = inp.sites.copy()
    s["it_mw"] = dec.site_it_mw
    s["modules"] = dec.modules if inp.module_mw else np.nan
    s["cooling"] = np.where(dec.open, inp.cooling["cooling"].to_numpy()[chosen], "")
    s["pue"] = np.where(dec.open, inp.cooling["pue"].to_numpy(float)[chosen], np.nan)
    s["power_used_mw"] = (it * inp.cooling["pue"].to_numpy(float)).sum(axis=1)
    s["inference_mw"] = np.bincount(site_of, serve, K)
    s["training_mw"] = dec.train_mw
    s["satellite_mw"] = np.bincount(site_of, serve * sat_arc, K)
    s["fiber"] = dec.fiber
    s["sat_units"] = units
    s["sat_gbps"] = units * inp.sat_unit_gbps
    s["backhaul"] = np.select([dec.fiber & (units > 0), dec.fiber, units > 0],
                              ["fiber+satellite", "fiber", "satellite"], "none")
    if "lateral_km" in s:  # a lateral longer than a practical one is a long-haul route to a far PoP
        s["long_lateral"] = dec.fiber & (s["lateral_km"].to_numpy(float) > inp.lateral_practical_km)
    if inp.sat_cell is not None:
        s = s.assign(**_cell_columns(inp, dec, s["satellite_mw"].to_numpy()))
    load_mw = (it * inp.load_pue()).sum(axis=1)
    if inp.climate_pue_peak is not None:
        s["pue_peak"] = np.where(dec.open, inp.load_pue()[np.arange(K), chosen], np.nan)
        s["power_peak_mw"] = load_mw
    if inp.hourly is not None:
        s["storage_mwh"] = dec.storage_mwh
        s["storage_mw"] = dec.storage_mw
        s["overbuild_mw"] = dec.overbuild_mw
        s["curtailment_mwh_per_year"] = _curtailment(inp, dec, load_mw)
        s["grid_import_mwh_per_year"], s["cfe_share"] = _grid_use(inp, dec, load_mw)
    if inp.water_m3_per_mw_year is not None:
        s["water_m3_per_year"] = (it * inp.water_m3_per_mw_year).sum(axis=1)
    if inp.water_limit_m3_per_year is not None:
        s["water_limit_m3_per_year"] = inp.water_limit_m3_per_year
    if inp.energy_mwh_per_mw_year is not None and "gco2_per_kwh" in s:  # the tonnes the carbon price is paid on
        s["carbon_tco2_per_year"] = ((it * inp.energy_mwh_per_mw_year).sum(axis=1)
                                     * s["gco2_per_kwh"].to_numpy(float) / 1e3)
    s["embodied_facility_tco2e"] = dec.site_it_mw * inp.embodied_tco2e_per_mw_it
    if inp.hourly is not None:
        s["embodied_battery_tco2e"] = dec.storage_mwh * inp.battery_tco2e_per_mwh
    for col in per_site:
        s[f"{col}_musd"] = per_site[col].to_numpy()
    s["total_musd"] = per_site.sum(axis=1).to_numpy()
    table = periods = buildout = by_period = None
    if schedule is not None:
        table, periods = schedule_table(inp, schedule), periods_table(inp, schedule)
        s["online_year"] = table.groupby("site_id", sort=False)["online_year"].first().reindex(
            s["site_id"]).to_numpy(float)
        buildout = buildout_summary(inp, table, periods)
        alone = dataclasses.replace(report, objective=None, best_bound=None, gap=None)  # a period is not the plan
        by_period = tuple(make_plan(inp.in_period(t), d, alone, scenario_name=f"{scenario_name} {year}")
                          for t, (year, d) in enumerate(zip(inp.periods.years, schedule)))
    sites = s[dec.open].reset_index(drop=True)

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
    regions = reg.drop(columns=[c for c in ("geometry",) if c in reg]).copy()
    regions["served_mw"] = np.bincount(region_of, serve, R)
    regions["satellite_mw"] = np.bincount(region_of, serve * sat_arc, R)
    regions["unmet_mw"] = dec.unmet_mw
    regions["n_sites"] = np.bincount(region_of[used], minlength=R)
    if periods is not None:
        regions["first_full_year"] = first_served_year(periods).reindex(regions["region_id"]).to_numpy()

    comp = per_site.sum(axis=0)
    costs = pd.DataFrame({"component": list(comp.index) + list(plan_wide),
                          "pv_musd": list(comp.to_numpy()) + list(plan_wide.values())})
    summary = Summary(
        scenario=scenario_name, description=description, termination=report.termination,
        solution_status=report.solution_status, proven_optimal=report.proven_optimal,
        within_gap=within_gap(report, mip_gap), mip_gap=mip_gap, objective_musd=report.objective,
        best_bound_musd=report.best_bound, gap=report.gap,
        times=Times(inputs_s, report.build_s, report.compile_s, report.solve_s),
        size=Size(**inp.size, variables=report.n_variables, integer_variables=report.n_integer,
                  constraints=report.n_constraints, nonzeros=report.n_nonzeros),
        plan=Totals(sites=len(sites), it_mw=float(sites["it_mw"].sum()),
                    inference_mw=float(regions["served_mw"].sum()),
                    training_mw=float(sites["training_mw"].sum()), unmet_mw=float(regions["unmet_mw"].sum()),
                    satellite_share=float(regions["satellite_mw"].sum() / max(regions["served_mw"].sum(), TOL)),
                    cooling_mw=sites.groupby("cooling")["it_mw"].sum().round(3).to_dict(),
                    long_laterals=_long_laterals(sites, inp.lateral_practical_km)),
        costs_musd=dict(zip(costs["component"], costs["pv_musd"].round(6))),
        carbon_water=_carbon_water(inp, sites), solver=report.solver, strategy=report.strategy,
        phases=tuple(report.to_dict()["phases"]), notes=tuple(inp.notes) + tuple(report.notes), run=run or {},
        buildout=buildout)
    return Plan(sites, assignments, regions, costs, report, summary, dec, table, periods, by_period)


def _long_laterals(sites: pd.DataFrame, practical_km: float) -> tuple[dict, ...]:
    """The opened sites whose built lateral is longer than ``practical_km``, longest first."""
    if "long_lateral" not in sites:
        return ()
    far = sites[sites["long_lateral"].to_numpy(bool)].sort_values("lateral_km", ascending=False)
    return tuple({"site_id": r.site_id, "name": r.name, "pop_id": getattr(r, "pop_id", ""),
                  "lateral_km": float(r.lateral_km), "practical_km": float(practical_km)}
                 for r in far.itertuples(index=False))


def _cell_columns(inp: SitingInputs, dec: Decisions, satellite_mw: np.ndarray) -> dict[str, np.ndarray]:
    """Per site: its satellite cell, its satellite traffic up and down (Gbps: inference at
    ``sat_up/down_gbps_per_mw`` plus training traffic by satellite), the cell's capacity and the
    headroom the whole cell has left (capacity minus every site's traffic in it), per direction."""
    cap = np.asarray(inp.cell_gbps)
    cap = cap[-1] if cap.ndim == 3 else cap  # by period: the last period's (the plan as built)
    cell, N = inp.sat_cell, len(cap)
    train = dec.train_sat_mw * inp.training_gbps_per_mw if dec.train_sat_mw is not None else 0.0
    out = {"sat_cell": np.asarray(inp.cell_ids, dtype=object)[cell] if inp.cell_ids is not None else cell}
    for d, (name, g) in enumerate((("up", inp.sat_up_gbps_per_mw), ("down", inp.sat_down_gbps_per_mw))):
        traffic = satellite_mw * g + train
        out[f"sat_{name}_gbps"] = traffic
        out[f"cell_{name}_gbps"] = cap[cell, d]
        out[f"cell_headroom_{name}_gbps"] = (cap[:, d] - np.bincount(cell, traffic, N))[cell]
    return out


def _curtailment(inp: SitingInputs, dec: Decisions, load_mw: np.ndarray) -> np.ndarray:
    """Generation available to the colony and not used, MWh per year per site (0 at firm sites)."""
    hi = inp.hourly
    out = np.zeros(len(inp.sites))
    if not hi.V or dec.charge_mw.size != hi.H:
        return out
    k = hi.site[hi.cell_site]
    gen = hi.cf.ravel() * (hi.available_mw[hi.cell_site] + dec.overbuild_mw[k])
    imported = dec.import_mw if dec.import_mw.size == hi.H else 0.0
    spare = gen + dec.discharge_mw - dec.charge_mw + imported - load_mw[k]
    out[hi.site] = np.bincount(hi.cell_site, np.maximum(spare, 0.0) * hi.cell_weight, hi.V)
    return np.where(dec.open, out, 0.0)


def _carbon_water(inp: SitingInputs, sites: pd.DataFrame) -> CarbonWater:
    """Plan totals: embodied carbon (tCO2e, built once over the horizon; batteries once per life),
    operational carbon (the tonnes the carbon price is paid on), grid imports and their carbon,
    the hourly carbon-free share of the load, water drawn: each the sum of its sites.csv column."""
    total = lambda col: float(sites[col].sum()) if col in sites else 0.0  # noqa: E731
    grid = {}
    if inp.hourly is not None and inp.hourly.grid:
        mwh = total("grid_import_mwh_per_year")
        col = "power_peak_mw" if "power_peak_mw" in sites else "power_used_mw"  # the load add_cfe counts
        load = float(sites[col].sum()) * 24.0 * float(inp.hourly.weight_days.sum())
        grid = {"grid": True, "grid_import_mwh_per_year": mwh,
                "grid_import_tco2_per_year": mwh * inp.hourly.grid_gco2_per_kwh / 1e3,
                "cfe_share": 1.0 - mwh / load if load > 0 else None}
    return CarbonWater(
        embodied_facility_tco2e=total("embodied_facility_tco2e"),
        embodied_battery_tco2e=total("embodied_battery_tco2e"),
        embodied_factors={"facility_tco2e_per_mw_it": inp.embodied_tco2e_per_mw_it,
                          "battery_tco2e_per_mwh_over_horizon": inp.battery_tco2e_per_mwh},
        carbon_tco2_per_year=total("carbon_tco2_per_year") if "carbon_tco2_per_year" in sites else None,
        water_m3_per_year=total("water_m3_per_year") if "water_m3_per_year" in sites else None, **grid)


def _grid_use(inp: SitingInputs, dec: Decisions, load_mw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Grid MWh imported per year and the hourly carbon-free share of the load (1 - imports /
    load, on the representative days' weights) per site; firm sites are carbon-free."""
    hi = inp.hourly
    imported = np.zeros(len(inp.sites))
    if hi.grid and dec.import_mw.size == hi.H:
        imported[hi.site] = np.bincount(hi.cell_site, dec.import_mw * hi.cell_weight, hi.V)
    load = load_mw * 24.0 * float(hi.weight_days.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(load > 0, 1.0 - imported / load, np.nan)
    return imported, share


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


def csv_safe(frame: pd.DataFrame, decimals: int = 6) -> pd.DataFrame:
    """A copy safe to open in a spreadsheet: floats rounded, formula-like text neutralised.

    Text cells starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return get a leading
    apostrophe (OWASP CSV injection); floats are rounded to ``decimals`` places (no
    ``2099.999999999999``, no ``-0.0``).

    >>> safe = csv_safe(pd.DataFrame({"name": ["=HYPERLINK(1)", "Itaipu"], "mw": [2099.999999999999, -0.0]}))
    >>> safe["name"].tolist(), safe["mw"].tolist()
    (["'=HYPERLINK(1)", 'Itaipu'], [2100.0, 0.0])
    """
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_float_dtype(s):
            out[col] = s.round(decimals) + 0.0
        elif pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s):
            out[col] = s.map(lambda v: "'" + v if isinstance(v, str) and v[:1] in _FORMULA_START else v)
    return out


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a table for people and spreadsheets: :func:`csv_safe`, and every text cell quoted
    (a name holding a line break stays one cell)."""
    csv_safe(frame).to_csv(path, index=False, quoting=csv.QUOTE_NONNUMERIC)


def write_outputs(plan: Plan, inp: SitingInputs, out: Path, *, scenario=None,
                  run_id: str | None = None, kind: str = "solve", tables: dict | None = None,
                  texts: dict | None = None, figures: dict | None = None) -> Written:
    """Write every output file into ``out``, replacing it only if it is a siting output.

    Files go to a temporary sibling first; the swap is the last act (see :mod:`siting.outputs.outdir`).
    ``scenario`` (the resolved :class:`~siting.scenario.Scenario`) is written as scenario.yaml.
    ``kind``: the output's kind (:data:`~siting.outputs.outdir.KINDS`); ``tables`` (file name ->
    DataFrame), ``texts`` (file name -> text) and ``figures`` (file name -> matplotlib Figure): more
    files of that kind, written beside the plan's.
    """
    from .maps import render_map, render_png

    meta = {"scenario": plan.summary.get("scenario"), "objective_musd": plan.report.objective, "kind": kind}
    with replace_dir(out, meta, run_id=run_id) as (tmp, info):
        for name, frame in (tables or {}).items():
            write_csv(frame, tmp / name)
        for name, text in (texts or {}).items():
            (tmp / name).write_text(text)
        for name, fig in (figures or {}).items():
            fig.savefig(tmp / name)
        for name in ("sites", "assignments", "regions", "costs"):
            write_csv(getattr(plan, name), tmp / f"{name}.csv")
        summary = plan.summary.to_dict() if isinstance(plan.summary, Summary) else dict(plan.summary)
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, default=json_default))
        (tmp / "sites.geojson").write_text(json.dumps(sites_geojson(plan), default=json_default))
        (tmp / "links.geojson").write_text(json.dumps(links_geojson(plan, inp), default=json_default))
        if scenario is not None:
            (tmp / "scenario.yaml").write_text(
                "# the resolved scenario of this run: every value, defaults included\n"
                + yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False, allow_unicode=True))
        if plan.schedule is not None:
            write_csv(plan.schedule, tmp / "schedule.csv")
            write_csv(plan.periods, tmp / "periods.csv")
            buildout_figure(plan.schedule, plan.periods).savefig(tmp / "buildout.png")
        render_map(plan, inp, tmp / "map.html")
        render_png(plan, inp, tmp / "map.png")
    return info["written"]


def json_default(v):
    """``json.dumps(default=...)`` for numpy scalars (non-finite floats as null) and the rest as text."""
    if isinstance(v, (np.integer, np.bool_)):
        return v.item()
    if isinstance(v, (float, np.floating)):
        return float(v) if np.isfinite(v) else None
    return str(v)
