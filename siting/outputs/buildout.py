"""A build-out's tables (investment periods, issue 20): the schedule, regions by period, costs.

Reads one :class:`~siting.model.decisions.Decisions` per period (cumulative builds, that period's
flows) and the inputs' :class:`~siting.inputs.periods.Periods`; writes nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..inputs.inputs import SitingInputs
from ..model.decisions import Decisions

__all__ = ["weighted_costs", "schedule_table", "periods_table", "first_served_year", "buildout_summary",
           "buildout_figure"]

TOL = 1e-6


def weighted_costs(inp: SitingInputs, schedule: list[Decisions]) -> tuple[pd.DataFrame, dict[str, float]]:
    """PV cost by component: each period's :meth:`SitingInputs.cost_breakdown` times its weight
    (so the parts sum to the objective: every coefficient of the model is a PV times the weight)."""
    per_site, plan_wide = None, {}
    for w, dec in zip(inp.periods.weight, schedule):
        site_t, wide_t = inp.cost_breakdown(dec)
        per_site = site_t * w if per_site is None else per_site.add(site_t * w, fill_value=0.0)
        for k, v in wide_t.items():
            plan_wide[k] = plan_wide.get(k, 0.0) + w * v
    return per_site, plan_wide


def _online_year(inp: SitingInputs, schedule: list[Decisions]) -> np.ndarray:
    """Year each site is first open (NaN: never)."""
    opened = np.array([d.open for d in schedule])
    first = np.where(opened.any(axis=0), opened.argmax(axis=0), -1)
    return np.where(first >= 0, inp.periods.years[np.maximum(first, 0)], np.nan)


def schedule_table(inp: SitingInputs, schedule: list[Decisions]) -> pd.DataFrame:
    """Site x period (sites open in some period): MW IT (and new), modules, cooling, backhaul,
    inference, training and satellite MW, the site's online year."""
    arcs, sites, cooling = inp.arcs, inp.sites, inp.cooling["cooling"].to_numpy()
    K = len(sites)
    site_of = arcs["site"].to_numpy()
    sat_arc = (arcs["link"] == "satellite").to_numpy()
    online = _online_year(inp, schedule)
    ever = np.isfinite(online)
    rows, before = [], np.zeros(K)
    for year, d in zip(inp.periods.years, schedule):
        it = d.site_it_mw
        backhaul = np.select([d.fiber & (d.sat_units > 0), d.fiber, d.sat_units > 0],
                             ["fiber+satellite", "fiber", "satellite"], "none")
        frame = pd.DataFrame({
            "site_id": sites["site_id"].to_numpy(), "name": sites["name"].to_numpy(),
            "fuel": sites["fuel"].to_numpy() if "fuel" in sites else "",
            "country": sites["country"].to_numpy() if "country" in sites else "",
            "year": int(year), "open": d.open, "it_mw": it, "new_it_mw": it - before,
            "modules": d.modules if inp.module_mw else np.nan,
            "cooling": np.where(d.open, cooling[np.maximum(d.cooling, 0)], ""),
            "backhaul": backhaul, "fiber": d.fiber, "sat_units": d.sat_units,
            "inference_mw": np.bincount(site_of, d.serve_mw, K), "training_mw": d.train_mw,
            "satellite_mw": np.bincount(site_of, d.serve_mw * sat_arc, K), "online_year": online})
        rows.append(frame[ever])
        before = it
    return pd.concat(rows, ignore_index=True)


def periods_table(inp: SitingInputs, schedule: list[Decisions]) -> pd.DataFrame:
    """Region x period: demand, served (by fiber and by satellite) and unmet MW, share served."""
    arcs, reg = inp.arcs, inp.regions
    R = len(reg)
    region_of = arcs["region"].to_numpy()
    sat_arc = (arcs["link"] == "satellite").to_numpy()
    keep = [c for c in ("region_id", "name", "country", "continent") if c in reg]
    out = []
    for t, (year, d) in enumerate(zip(inp.periods.years, schedule)):
        demand = reg["inference_mw"].to_numpy(float) * inp.periods.demand_factor[t]
        served = np.bincount(region_of, d.serve_mw, R)
        frame = reg[keep].copy()
        frame["year"] = int(year)
        frame["demand_mw"] = demand
        frame["served_mw"] = served
        frame["satellite_mw"] = np.bincount(region_of, d.serve_mw * sat_arc, R)
        frame["fiber_mw"] = served - frame["satellite_mw"]
        frame["unmet_mw"] = d.unmet_mw
        frame["served_share"] = np.where(demand > 0, served / np.where(demand > 0, demand, 1.0), 1.0)
        out.append(frame)
    return pd.concat(out, ignore_index=True)


def first_served_year(periods: pd.DataFrame, by: str = "region_id") -> pd.Series:
    """First year from which every later period serves the whole demand (NaN: never), per ``by``."""
    full = periods.assign(full=periods["unmet_mw"] <= TOL * np.maximum(1.0, periods["demand_mw"]))
    out = {}
    for key, g in full.groupby(by, sort=False):
        per_year = g.groupby("year")["full"].all().sort_index()
        ok = per_year.to_numpy()[::-1].cumprod()[::-1].astype(bool)  # full from here on
        out[key] = float(per_year.index[ok.argmax()]) if ok.any() else np.nan
    return pd.Series(out, name="first_full_year")


def buildout_summary(inp: SitingInputs, schedule: pd.DataFrame, periods: pd.DataFrame) -> dict:
    """Per period: MW IT online, new MW, sites open, inference served, by satellite, unmet;
    and when each continent (else country) is first fully served."""
    by = "continent" if "continent" in periods else "country" if "country" in periods else None
    per_year = []
    for year in inp.periods.years:
        s, p = schedule[schedule["year"] == year], periods[periods["year"] == year]
        per_year.append({"year": int(year), "sites_open": int(s["open"].sum()), "it_mw": float(s["it_mw"].sum()),
                         "new_it_mw": float(s["new_it_mw"].sum()), "demand_mw": float(p["demand_mw"].sum()),
                         "served_mw": float(p["served_mw"].sum()), "satellite_mw": float(p["satellite_mw"].sum()),
                         "unmet_mw": float(p["unmet_mw"].sum()), "training_mw": float(s["training_mw"].sum())})
    out = {"years": [int(y) for y in inp.periods.years], "end_year": inp.periods.end_year,
           "weights": [round(float(w), 6) for w in inp.periods.weight], "periods": per_year}
    if by is not None:
        served = first_served_year(periods, by)
        out[f"first_fully_served_year_by_{by}"] = {(str(k) or "(blank)"): (None if not np.isfinite(v) else int(v))
                                                  for k, v in served.items()}
    return out


def buildout_figure(schedule: pd.DataFrame, periods: pd.DataFrame) -> Figure:
    """MW IT online by fuel and cooling per period (stacked bars), demand and unmet on top
    (matplotlib Figure API, no pyplot state: the caller saves it)."""
    stack = schedule.assign(kind=schedule["fuel"].astype(str) + " / " + schedule["cooling"].astype(str))
    table = stack.pivot_table(index="year", columns="kind", values="it_mw", aggfunc="sum", fill_value=0.0)
    years = np.asarray(sorted(periods["year"].unique()))
    table = table.reindex(years, fill_value=0.0)
    fig = Figure(figsize=(9, 5), dpi=110)
    ax = fig.add_subplot()
    labels = years.astype(str)
    bottom = np.zeros(len(years))
    for kind in table.columns:
        if kind.endswith(" / "):
            continue  # closed in that period
        ax.bar(labels, table[kind].to_numpy(), bottom=bottom, label=kind)
        bottom += table[kind].to_numpy()
    by_year = periods.groupby("year")[["demand_mw", "unmet_mw"]].sum().reindex(years)
    ax.plot(labels, by_year["demand_mw"], "k-o", label="inference demand (MW)")
    ax.plot(labels, by_year["unmet_mw"], "r--o", label="unmet inference (MW)")
    ax.set_xlabel("period (start year)")
    ax.set_ylabel("MW IT online / MW of inference")
    ax.set_title("Build-out: MW IT online by fuel / cooling; demand and unmet")
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig
