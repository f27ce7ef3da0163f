"""Layers + scenario -> SitingInputs: the only seam between geography and the model.

``SitingInputs`` holds plain tables and arrays: candidate sites, demand regions, the sparse
eligible (region, site, link) arcs and every cost coefficient as a present value (M$). Two ways
in: :func:`from_layers` (the geography: merging, distances, round-trip times, prices) and
:func:`from_cost_matrix` (plain arrays, e.g. a textbook facility-location instance).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .. import costs, fiber, physics
from ..energy import climate, hydro
from ..energy.storage import HourlyInputs, daily_energy_bound, hourly_inputs
from ..errors import InputError, ScenarioError, clip, show_id
from ..geo import cells, constellation, groups
from ..geo.layers import read_demand, read_energy_sources, read_pops
from ..geo.merge import greedy_cluster
from ..paths import DATA_DIR
from ..scenario import Scenario
from .periods import Periods, compute_per_mw, make_periods
from .pricing import cost_tables, energy_mwh_per_mw_year

__all__ = ["SitingInputs", "UnitCosts", "from_layers", "from_cost_matrix", "LINKS", "Geography", "SiteCells",
           "site_cells", "cell_capacities", "read_geography", "priced", "cooling_table"]

LINKS = ("fiber", "satellite", "direct")  # "direct": no backhaul decision (plain arrays)
MAX_MODULES_PER_SITE = 100_000  # more whole modules than HiGHS's integrality tolerance can keep whole


@dataclass(frozen=True)
class UnitCosts:
    """Objective coefficients (PV M$): per open site [K], per MW IT by cooling [K, C], per fiber
    lateral [K], per satellite unit [K], per MW served on each arc [A], per MW unmet (or None);
    hourly energy (empty without it): per MWh and per MW of storage and per MW of overbuild [K],
    per MW charged and discharged and per MW imported from the grid in each hourly cell [H]."""

    open: np.ndarray
    it: np.ndarray
    fiber: np.ndarray
    sat_unit: np.ndarray
    serve: np.ndarray
    unmet: float | None
    storage_mwh: np.ndarray = field(default_factory=lambda: np.zeros(0))
    storage_mw: np.ndarray = field(default_factory=lambda: np.zeros(0))
    overbuild_mw: np.ndarray = field(default_factory=lambda: np.zeros(0))
    charge: np.ndarray = field(default_factory=lambda: np.zeros(0))
    discharge: np.ndarray = field(default_factory=lambda: np.zeros(0))
    grid_import: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass
class SitingInputs:
    """Everything the model needs, as arrays; money as present value in M$.

    sites: site_id, name, firm_mw, max_it_mw (+ descriptive columns), positional index 0..K-1.
    regions: region_id, name, inference_mw, latency_ms, positional index 0..R-1.
    arcs: region, site (positions), link (one of LINKS), rtt_ms, cost_musd_per_mw.
    cooling: cooling, pue, carries_training, carries_inference, positional index 0..C-1.
    *_cost_musd: {component: array}; it per MW IT (K x C), site per open site (K),
    fiber per lateral (K), sat per backhaul unit (K).
    """

    sites: pd.DataFrame
    regions: pd.DataFrame
    arcs: pd.DataFrame
    cooling: pd.DataFrame
    it_cost_musd: dict[str, np.ndarray]
    site_cost_musd: dict[str, np.ndarray]
    fiber_cost_musd: dict[str, np.ndarray]
    sat_unit_cost_musd: dict[str, np.ndarray]
    sat_unit_gbps: float = 10.0
    gbps_per_mw: float = 1.0
    training_mw: float = 0.0
    training_min_cluster_mw: float = 0.0
    module_mw: float | None = None
    resilience_max_share: float = 1.0
    unmet_cost_musd_per_mw: float | None = None
    max_sites: int | None = None
    notes: list[str] = field(default_factory=list)
    training_gbps_per_mw: float = 0.0  # training traffic (Gbps per training MW) needing backhaul
    training_links: tuple = ("fiber", "satellite")  # links training traffic may use
    lateral_practical_km: float = float("inf")  # a built lateral longer than this is flagged (reported, not priced)
    n_minus_1_share: float | None = None  # beta: share of each region's served MW that survives any one failure
    failure_group: np.ndarray | None = None  # [K] failure-group label per site; None: each site alone
    n_minus_1_groups: tuple | None = None  # groups given a recourse block; None: every group (exact)
    hourly: HourlyInputs | None = None  # hourly energy on representative days (energy.hourly)
    climate_pue_peak: np.ndarray | None = None  # [K, C] warmest-month PUE (facility.climate)
    water_m3_per_mw_year: np.ndarray | None = None  # [K, C] water drawn per MW IT a year (reported)
    water_limit_m3_per_year: np.ndarray | None = None  # [K] water a site may draw a year (inf: no limit)
    energy_mwh_per_mw_year: np.ndarray | None = None  # [K, C] MWh a year per MW IT (energy, carbon priced on it)
    embodied_tco2e_per_mw_it: float = 0.0  # building + IT built, per MW IT (reported, not priced)
    battery_tco2e_per_mwh: float = 0.0  # batteries built over the horizon, per MWh of storage (reported)
    periods: Periods | None = None  # investment periods (time: block); None: one period, today's model
    sat_cell: np.ndarray | None = None  # [K] position of each site's satellite cell (network.cell_capacity)
    cell_gbps: np.ndarray | None = None  # [N, 2] or by period [P, N, 2]: satellite Gbps per cell, up and down
    cell_ids: tuple | None = None  # [N] the cells' names (H3 ids), for reports and errors
    sat_up_gbps_per_mw: float = 1.0  # inference traffic up from a colony's terminals (responses)
    sat_down_gbps_per_mw: float = 1.0  # ... and down to them (prompts)
    available_share: np.ndarray | None = None  # [K] usable share of each site's IT (a scenario's drought)
    training_shortfall_cost_musd_per_mw: float | None = None  # training MW left unplaced, priced (a scenario's
    # recourse: None, the deterministic model, places all training_mw)

    def failure_groups(self) -> np.ndarray:
        """The failure-group label of every site (K): a whole group fails together."""
        if self.failure_group is None:
            return np.arange(len(self.sites))
        label = np.asarray(self.failure_group)
        if label.shape != (len(self.sites),):
            raise InputError("sites", "failure_group", f"has {label.shape} labels for {len(self.sites)} sites")
        return label

    def __post_init__(self):
        """The one array constructor: every way in (layers, cost matrices, notebooks) is checked
        here, so the model never sees a shape, an index or a number it cannot use."""
        for name, frame, cols in (("sites", self.sites, ["site_id", "name", "firm_mw", "max_it_mw"]),
                                  ("regions", self.regions, ["region_id", "name", "inference_mw", "latency_ms"]),
                                  ("arcs", self.arcs, ["region", "site", "link", "rtt_ms", "cost_musd_per_mw"]),
                                  ("cooling", self.cooling, ["cooling", "pue", "carries_training",
                                                             "carries_inference"])):
            missing = [c for c in cols if c not in frame]
            if missing:
                raise InputError("inputs", f"{name}.{missing[0]}", "missing column")
        self.arcs = self.arcs.astype({"region": "int64", "site": "int64", "rtt_ms": float,
                                      "cost_musd_per_mw": float})
        K, R, C = len(self.sites), len(self.regions), len(self.cooling)
        a = self.arcs
        for col, n in (("region", R), ("site", K)):
            bad = np.flatnonzero((a[col].to_numpy() < 0) | (a[col].to_numpy() >= n))
            if bad.size:
                raise InputError("inputs", f"arcs.{col}", f"position {a[col].iloc[bad[0]]} is outside 0..{n - 1}",
                                 int(bad[0]))
        bad = np.flatnonzero(~a["link"].isin(LINKS).to_numpy())
        if bad.size:
            raise InputError("inputs", "arcs.link", f"{a['link'].iloc[bad[0]]!r} is not one of {LINKS}", int(bad[0]))
        shapes = {"it_cost_musd": (K, C), "site_cost_musd": (K,), "fiber_cost_musd": (K,),
                  "sat_unit_cost_musd": (K,)}
        for table, shape in shapes.items():
            for component, values in getattr(self, table).items():
                if np.shape(values) != shape:
                    raise InputError("inputs", f"{table}.{component}", f"shape {np.shape(values)}, expected {shape}")
                if not np.all(np.isfinite(values)):
                    raise InputError("inputs", f"{table}.{component}", "not finite")
        for name, frame, cols in (("sites", self.sites, ["firm_mw", "max_it_mw"]),
                                  ("regions", self.regions, ["inference_mw"]), ("cooling", self.cooling, ["pue"]),
                                  ("arcs", a, ["cost_musd_per_mw"])):
            for col in cols:
                v = frame[col].to_numpy(float)
                bad = np.flatnonzero(~np.isfinite(v) | (v < 0))
                if bad.size:
                    raise InputError("inputs", f"{name}.{col}", f"{v[bad[0]]} is not a finite number >= 0",
                                     int(bad[0]))

        share = self.resilience_max_share
        if isinstance(share, bool) or not (isinstance(share, int | float | np.number) and 0 < share <= 1):
            raise InputError("inputs", "resilience_max_share", f"{share!r} must be a share in (0, 1] (1: no limit; "
                             "a site may serve at most this share of a region)")
        short = self.training_shortfall_cost_musd_per_mw
        if short is not None and (isinstance(short, bool) or not (isinstance(short, int | float | np.number)
                                                                  and np.isfinite(short) and short >= 0)):
            raise InputError("inputs", "training_shortfall_cost_musd_per_mw", f"{short!r} must be a finite cost >= 0")
        unmet = self.unmet_cost_musd_per_mw
        if unmet is not None and (isinstance(unmet, bool) or not (isinstance(unmet, int | float | np.number)
                                                                  and np.isfinite(unmet) and unmet >= 0)):
            raise InputError("inputs", "unmet_cost_musd_per_mw", f"{unmet!r} must be a finite cost >= 0 "
                             "(M$ per MW left unserved) or None (every MW must be served)")
        self._check_water(K, C)
        self._check_periods(K, R)
        self._check_cells(K)

    def _check_periods(self, K: int, R: int) -> None:
        """Periods on these axes; options not yet stated over periods refused with a period axis."""
        per = self.periods
        if per is None:
            return
        for name, shape in (("demand_factor", (per.P, R)), ("site_first", (K,)), ("fiber_first", (K,)),
                            ("training_mw", (per.P,)), ("weight", (per.P,))):
            if np.shape(getattr(per, name)) != shape:
                raise InputError("inputs", f"periods.{name}", f"shape {np.shape(getattr(per, name))}, expected {shape}")
        if per.P > 1:
            # N-1 and the climate's peak PUE are laid over the periods like every family; these not yet:
            off = [name for name, on in (("energy.hourly", self.hourly is not None),
                                         ("facility.water_limit_m3_per_year", self.water_limited().size > 0),
                                         ("demand.n_minus_1_share with time.chips",  # N-1 holds MW, not compute
                                          self.n_minus_1_share is not None and per.compute_per_mw is not None))
                   if on]
            if off:
                raise ScenarioError(f"{off[0]}: not yet stated over investment periods; with time.years "
                                    f"({per.P} periods) turn it off")

    def _check_cells(self, K: int) -> None:
        """A cell per site (positions 0..N-1) and a capacity > 0 per cell and direction."""
        if self.sat_cell is None and self.cell_gbps is None:
            return
        if self.sat_cell is None or self.cell_gbps is None:
            raise InputError("inputs", "sat_cell" if self.sat_cell is None else "cell_gbps",
                             "satellite cells need both a cell per site and a capacity per cell")
        full = np.asarray(self.cell_gbps, float)
        P = None if self.periods is None else self.periods.P
        if not (full.ndim == 2 or (full.ndim == 3 and full.shape[0] == P)) or full.shape[-1] != 2:
            raise InputError("inputs", "cell_gbps", f"shape {full.shape}, expected (cells, 2): up, down"
                             + ("" if P is None else f", or ({P} periods, cells, 2)"))
        cap = full.min(axis=0) if full.ndim == 3 else full  # every period's capacity > 0
        ids = self.cell_ids if self.cell_ids is not None else tuple(range(len(cap)))
        if len(ids) != len(cap):
            raise InputError("inputs", "cell_ids", f"{len(ids)} names for {len(cap)} cells")
        bad = np.flatnonzero(~(np.isfinite(cap) & (cap > 0)).all(axis=1))
        if bad.size:
            d = int(np.argmin(np.isfinite(cap[bad[0]]) & (cap[bad[0]] > 0)))
            raise InputError("inputs", f"cell_gbps.{('up', 'down')[d]}",
                             f"{cap[bad[0], d]} Gbps is not a capacity > 0", ids[bad[0]])
        cell = np.asarray(self.sat_cell)
        if cell.shape != (K,) or not np.issubdtype(cell.dtype, np.integer):
            raise InputError("inputs", "sat_cell", f"{cell.shape} {cell.dtype} cells, expected {K} integer positions")
        out = np.flatnonzero((cell < 0) | (cell >= len(cap)))
        if out.size:
            raise InputError("inputs", "sat_cell", f"position {cell[out[0]]} is outside 0..{len(cap) - 1}",
                             self.sites["site_id"].iloc[out[0]])
        for name in ("sat_up_gbps_per_mw", "sat_down_gbps_per_mw"):
            if not (np.isfinite(getattr(self, name)) and getattr(self, name) >= 0):
                raise InputError("inputs", name, f"{getattr(self, name)} is not a finite number >= 0")
        self.sat_cell, self.cell_gbps = cell.astype(np.int64), full

    def _check_water(self, K: int, C: int) -> None:
        """Water per MW IT [K, C] finite and >= 0; water limits [K] >= 0 (inf: none); embodied >= 0."""
        for name, shape, may_be_inf in (("water_m3_per_mw_year", (K, C), False),
                                        ("water_limit_m3_per_year", (K,), True)):
            v = getattr(self, name)
            if v is None:
                continue
            v = np.asarray(v, float)
            if v.shape != shape:
                raise InputError("inputs", name, f"shape {v.shape}, expected {shape}")
            bad = np.flatnonzero(((~np.isfinite(v)) & ~(may_be_inf & (v == np.inf))).reshape(K, -1).any(axis=1)
                                 | (v < 0).reshape(K, -1).any(axis=1))
            if bad.size:
                raise InputError("inputs", name, f"{v.reshape(K, -1)[bad[0]].min()} is not a number >= 0",
                                 self.sites["site_id"].iloc[bad[0]])
            setattr(self, name, v)
        for name in ("embodied_tco2e_per_mw_it", "battery_tco2e_per_mwh"):
            if not (np.isfinite(getattr(self, name)) and getattr(self, name) >= 0):
                raise InputError("inputs", name, f"{getattr(self, name)} is not a finite number >= 0")

    def in_period(self, t: int) -> SitingInputs:
        """Period ``t`` of a build-out as one period's inputs, with no period axis: each region's
        inference MW times its demand factor in ``t``, that period's training MW (what the
        post-check reads that period's tables against), its satellite cells' capacity. Without
        periods: these inputs."""
        per = self.periods
        if per is None:
            return self
        regions = self.regions.copy()
        regions["inference_mw"] = regions["inference_mw"].to_numpy(float) * per.demand_factor[t]
        cells = self.cell_gbps[t] if self.cell_gbps is not None and np.ndim(self.cell_gbps) == 3 else self.cell_gbps
        return replace(self, regions=regions, training_mw=float(per.training_mw[t]), periods=None, notes=[],
                       cell_gbps=cells)

    def water_limited(self) -> np.ndarray:
        """Positions of the sites with a finite water limit."""
        if self.water_limit_m3_per_year is None or self.water_m3_per_mw_year is None:
            return np.zeros(0, np.int64)
        return np.flatnonzero(np.isfinite(self.water_limit_m3_per_year))

    def load_pue(self) -> np.ndarray:
        """PUE that turns IT MW into the power a site must supply [K, C]: the warmest month's
        with ``facility.climate``, else each technology's own."""
        if self.climate_pue_peak is not None:
            return np.asarray(self.climate_pue_peak, float)
        return np.ones((len(self.sites), 1)) * self.cooling["pue"].to_numpy(float)[None, :]

    def unit_costs(self) -> UnitCosts:
        """The objective's coefficients: each cost table summed over its components."""
        K, C = len(self.sites), len(self.cooling)
        total = lambda table, shape: sum(table.values(), np.zeros(shape))  # noqa: E731
        hourly = {}
        if self.hourly is not None:
            hi = self.hourly
            per_site = lambda v: np.bincount(hi.site, v, K) if hi.V else np.zeros(K)  # noqa: E731
            hourly = dict(storage_mwh=per_site(hi.storage_mwh_musd), storage_mw=per_site(hi.storage_mw_musd),
                          overbuild_mw=per_site(hi.overbuild_musd_per_mw), charge=hi.charge_cost(),
                          discharge=-hi.charge_cost(), grid_import=hi.import_cost())
        return UnitCosts(open=total(self.site_cost_musd, K), it=total(self.it_cost_musd, (K, C)),
                         fiber=total(self.fiber_cost_musd, K), sat_unit=total(self.sat_unit_cost_musd, K),
                         serve=self.arcs["cost_musd_per_mw"].to_numpy(float),
                         unmet=self.unmet_cost_musd_per_mw, **hourly)

    def cost_breakdown(self, dec) -> tuple[pd.DataFrame, dict[str, float]]:
        """PV cost (M$) of a plan by component: per site (K rows), and the plan-wide terms
        (``assignment`` over arcs, ``unmet_demand``). Sums to the objective."""
        parts: dict[str, np.ndarray] = {}
        for table, level in ((self.site_cost_musd, dec.open), (self.fiber_cost_musd, dec.fiber),
                             (self.sat_unit_cost_musd, dec.sat_units)):
            for name, c in table.items():
                parts[name] = parts.get(name, 0.0) + c * np.asarray(level, float)
        for name, c in self.it_cost_musd.items():
            parts[name] = parts.get(name, 0.0) + (c * dec.it_mw).sum(axis=1)
        u = self.unit_costs()
        if self.hourly is not None:
            cell_site = self.hourly.site[self.hourly.cell_site]
            K = len(self.sites)
            parts["storage_energy"] = u.storage_mwh * dec.storage_mwh
            parts["storage_power"] = u.storage_mw * dec.storage_mw
            parts["overbuild"] = u.overbuild_mw * dec.overbuild_mw
            parts["storage_losses"] = np.bincount(cell_site, u.charge * dec.charge_mw
                                                  + u.discharge * dec.discharge_mw, K)
            if self.hourly.grid:
                parts["grid_import"] = np.bincount(cell_site, u.grid_import * dec.import_mw, K)
        plan_wide = {"assignment": float((u.serve * dec.serve_mw).sum()),
                     "unmet_demand": float((u.unmet or 0.0) * dec.unmet_mw.sum())}
        return pd.DataFrame(parts, index=range(len(self.sites))), plan_wide

    @property
    def size(self) -> dict[str, int]:
        return {"candidates": len(self.sites), "regions": len(self.regions),
                "arcs": len(self.arcs), "cooling_options": len(self.cooling)}


def from_cost_matrix(fixed_cost, capacity, demand, cost, *, cost_is_total=True,
                     resilience_max_share=1.0, unmet_cost=None) -> SitingInputs:
    """Capacitated facility location from arrays (the spopt ``from_cost_matrix`` way in).

    ``cost[i, j]`` is the cost of serving all of customer j's demand from site i when
    ``cost_is_total`` (OR-Library convention), else a cost per unit served; ``inf``/NaN marks
    a pair that may not be used. Only the families that apply get switched on: no cooling
    choice, no modules, no backhaul, no training.
    """
    fixed_cost = np.asarray(fixed_cost, float)
    capacity = np.asarray(capacity, float)
    demand = np.asarray(demand, float)
    cost = np.asarray(cost, float)
    k, r = cost.shape
    if fixed_cost.shape != (k,) or capacity.shape != (k,) or demand.shape != (r,):
        raise InputError("cost_matrix", "shape", f"cost is {cost.shape}, fixed cost "
                         f"{fixed_cost.shape}, capacity {capacity.shape}, demand {demand.shape}")
    for what, values in (("fixed_cost", fixed_cost), ("capacity", capacity), ("demand", demand)):
        bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
        if bad.size:
            raise InputError("cost_matrix", what, f"{values[bad[0]]} is not a finite number >= 0", int(bad[0]))
    bad = np.argwhere(cost < 0)  # NaN compares False: NaN and +inf mark a pair that may not be used
    if bad.size:
        i, j = bad[0]
        raise InputError("cost_matrix", "cost", f"{cost[i, j]} at site {i}, customer {j} is negative "
                         "(costs are >= 0; inf or NaN marks a pair that may not be used)", int(i))
    divides = (demand <= 0) & np.isfinite(cost).any(axis=0)  # a total cost to be divided by no demand
    if cost_is_total and divides.any():
        j = int(np.flatnonzero(divides)[0])
        raise InputError("cost_matrix", "demand", f"{demand[j]} must be > 0 when cost is the total cost of serving "
                         "the customer (cost_is_total=True)", j)
    site_idx, region_idx = np.nonzero(np.isfinite(cost))
    unit = cost[site_idx, region_idx] / (demand[region_idx] if cost_is_total else 1.0)
    arcs = pd.DataFrame({"region": region_idx, "site": site_idx, "link": "direct",
                         "rtt_ms": 0.0, "cost_musd_per_mw": unit})
    arcs = arcs.sort_values(["region", "site"], kind="stable").reset_index(drop=True)
    sites = pd.DataFrame({"site_id": np.arange(k), "name": [f"site {i}" for i in range(k)],
                          "firm_mw": capacity, "max_it_mw": capacity})
    regions = pd.DataFrame({"region_id": np.arange(r), "name": [f"region {j}" for j in range(r)],
                            "inference_mw": demand, "latency_ms": np.inf})
    cooling = pd.DataFrame({"cooling": ["none"], "pue": [1.0], "carries_training": [True],
                            "carries_inference": [True]})
    zeros = np.zeros(k)
    return SitingInputs(sites, regions, arcs, cooling, {"capex": np.zeros((k, 1))},
                        {"fixed": fixed_cost}, {"capex": zeros}, {"capex": zeros},
                        resilience_max_share=resilience_max_share, unmet_cost_musd_per_mw=unmet_cost)


def _plant_table(plants: pd.DataFrame, sc: Scenario) -> pd.DataFrame:
    fuels = sc.energy.fuels
    unknown = ~plants["fuel"].isin(list(fuels))
    if unknown.any():
        row = plants.index[np.argmax(unknown.to_numpy())]
        raise InputError("energy_sources", "fuel", f"unknown fuel {clip(repr(plants.loc[row, 'fuel']))} "
                         f"(known: {', '.join(fuels)})", row)
    par = pd.DataFrame({n: f.model_dump() for n, f in fuels.items()}).T.loc[plants["fuel"]]
    gen = plants.get("estimated_generation_gwh_2017", pd.Series(np.nan, index=plants.index))
    cf = costs.capacity_factor(gen.to_numpy(), plants["capacity_mw"].to_numpy())
    price = costs.price_by_capacity_factor(
        par["price_usd_per_mwh"].to_numpy(float), par["ref_capacity_factor"].to_numpy(float), cf,
        sc.energy.price_clamp_low, sc.energy.price_clamp_high)
    if "price_usd_per_mwh" in plants:  # a user's own price overrides the estimate
        own = plants["price_usd_per_mwh"].to_numpy(float)
        price = np.where(np.isfinite(own), own, price)
    basis = sc.energy.hydro_firm_basis
    own = hydro.share_column(basis)
    share = hydro.firm_share(basis, plants["fuel"], plants.get("country", pd.Series(None, index=plants.index)),
                             own=plants[own] if own in plants else None, ids=plants["source_id"])
    firm = (plants["capacity_mw"].to_numpy() * par["firm_fraction"].to_numpy(float)
            * sc.facility.power_share_available * share)
    _check_basins(plants)
    extra = {c: plants[c].to_numpy() for c in ("failure_group", "water_limit_m3_per_year", "basin") if c in plants}
    extra["hydro_firm_share"] = share
    if sc.time.years:  # time to power: the year a plant can first feed a colony
        extra["ready_year"] = _ready_year(plants, par, sc)
    return pd.DataFrame(extra | {"source_id": plants["source_id"].to_numpy(),
                         "name": plants["name"].astype(str).to_numpy(),
                         "fuel": plants["fuel"].to_numpy(),
                         "country": plants.get("country", pd.Series("", index=plants.index)).to_numpy(),
                         "longitude": plants["longitude"].to_numpy(),
                         "latitude": plants["latitude"].to_numpy(),
                         "capacity_mw": plants["capacity_mw"].to_numpy(), "firm_mw": firm,
                         "capacity_factor": cf, "price_usd_per_mwh": price,
                         "gco2_per_kwh": par["lifecycle_gco2_per_kwh"].to_numpy(float)})


def _ready_year(plants: pd.DataFrame, par: pd.DataFrame, sc: Scenario) -> np.ndarray:
    """Year each plant can first power a colony: its ``online_year``, else the start of building
    (``time.first_build_years`` before the first period) plus its ``lead_time_months`` (else its
    fuel's, ``time.lead_time_months``) / 12. An online year before the first period is refused
    with its row."""
    t = sc.time
    first = float(t.years[0]) - t.first_build_years
    lead = np.array([t.lead_time_months[f] for f in plants["fuel"]], float)
    if "lead_time_months" in plants:
        own = plants["lead_time_months"].to_numpy(float)
        lead = np.where(np.isfinite(own), own, lead)
    ready = first + lead / 12.0
    if "online_year" in plants:
        own = plants["online_year"].to_numpy(float)
        bad = np.flatnonzero(np.isfinite(own) & (own < t.years[0]))
        if bad.size:
            raise InputError("energy_sources", "online_year", f"{own[bad[0]]:g} is before the first period "
                             f"(time.years[0] = {t.years[0]})", plants["source_id"].iloc[bad[0]])
        ready = np.where(np.isfinite(own), own, ready)
    return ready


def _check_basins(plants: pd.DataFrame) -> None:
    """A layer's ``basin`` column names the river basin of every hydro source (blank elsewhere)."""
    if "basin" not in plants:
        return
    b = plants["basin"]
    blank = (plants["fuel"] == "hydro").to_numpy() & (b.isna() | (b.astype(str).str.strip() == "")).to_numpy()
    if blank.any():
        raise InputError("energy_sources", "basin", "blank at a hydro source: with a basin column every hydro "
                         "source needs its river basin (its failure group under N-1)",
                         plants["source_id"].iloc[int(np.argmax(blank))])


def _blank_notes(table: pd.DataFrame, id_column: str, fallbacks: dict[str, str]) -> list[str]:
    """One note per column given with blank cells: how many, the first ids, what was used instead."""
    notes = []
    for col, used in fallbacks.items():
        if col not in table or not table[col].isna().any():
            continue
        ids = table.loc[table[col].isna(), id_column].tolist()
        shown = ", ".join(show_id(i) for i in ids[:3]) + (", ..." if len(ids) > 3 else "")
        notes.append(f"{len(ids)} rows with a blank {col} ({shown}) use {used}")
    return notes


def _merge_rows(table: pd.DataFrame, label: np.ndarray, weight: str, sums: list[str],
                means: list[str]) -> pd.DataFrame:
    """One row per cluster: the seed's descriptive fields, summed and weight-averaged numbers."""
    t = table.assign(_label=label)
    w = t[weight].to_numpy()
    grouped = t.groupby("_label", sort=False)
    out = t.loc[t.index[label == np.arange(len(t))]].set_index("_label")
    out[sums] = grouped[sums].sum(min_count=1)  # all blank stays blank
    for col in means:
        vals = t[col].to_numpy(float)
        ok = np.isfinite(vals)
        num = pd.Series(np.where(ok, vals * w, 0.0)).groupby(label).sum()
        den = pd.Series(np.where(ok, w, 0.0)).groupby(label).sum()
        out[col] = (num / den.where(den > 0)).reindex(out.index).to_numpy()
    out["n_merged"] = grouped.size()
    return out.reset_index(drop=True)


def _candidate_sites(sc: Scenario, notes: list[str], progress=None) -> tuple[pd.DataFrame, tuple[int, int]]:
    """Merged sources with firm power >= the minimum (uncapped), and (plants, merged sources)."""
    raw = read_energy_sources(sc.layers.energy_sources, sc.layers.columns.energy_sources)
    notes.extend("energy: " + n for n in _blank_notes(raw, "source_id", {
        "estimated_generation_gwh_2017": "their fuel's reference capacity factor and price",
        "price_usd_per_mwh": "a price estimated from their fuel and capacity factor"}))
    plants = _plant_table(raw, sc)
    label = greedy_cluster(plants["longitude"], plants["latitude"], plants["firm_mw"],
                           sc.candidates.merge_km, progress=progress)
    water = ["water_limit_m3_per_year"] if "water_limit_m3_per_year" in plants else []  # the limits given, summed
    sites = _merge_rows(plants, label, "firm_mw", ["capacity_mw", "firm_mw"] + water,
                        ["price_usd_per_mwh", "gco2_per_kwh", "capacity_factor"])
    counts = (len(plants), len(sites))
    sites = sites[sites["firm_mw"] >= sc.candidates.min_firm_mw]
    return sites.rename(columns={"source_id": "site_id"}).reset_index(drop=True), counts


def region_turns(cost, reach) -> np.ndarray:
    """Each source's turn in a round over the regions: 0 for every region's cheapest source
    within its reach (``reach[k, r]``), 1 for every region's second, ...; a large number for a
    source no region reaches. Kept in turn order, every region has its cheapest sources among the
    candidates however small the cap, instead of the cheapest few all in one place.

    >>> cost = np.array([10.0, 11.0, 12.0, 30.0])     # three cheap sources near region 0, one far
    >>> reach = np.array([[1, 0], [1, 0], [1, 0], [0, 1]], bool)
    >>> region_turns(cost, reach).tolist()            # region 1's only source comes second
    [0, 1, 2, 0]
    """
    cost, reach = np.asarray(cost, float), np.asarray(reach, bool)
    big = np.iinfo(np.int64).max
    if reach.size == 0:
        return np.full(len(cost), big, np.int64)
    keyed = np.where(reach, cost[:, None], np.inf)  # [K, R]
    rank = np.argsort(np.argsort(keyed, axis=0, kind="stable"), axis=0, kind="stable")
    return np.where(reach, rank, big).min(axis=1)


def _cap_candidates(sites: pd.DataFrame, counts: tuple[int, int], regions: pd.DataFrame, sc: Scenario,
                    notes: list[str]) -> pd.DataFrame:
    """Keep at most ``candidates.max_count`` sources: the largest (``rank_by: firm_mw``) or, by
    the estimated delivered cost of a flat MWh, each region's cheapest sources within reach in
    turn (:func:`region_turns`; ``rank_by: cost``); the note says what the cap dropped, by fuel."""
    (c, e), (n_plants, n_merged) = (sc.candidates, sc.energy), counts
    if c.rank_by == "firm_mw":
        order = sites.sort_values("firm_mw", ascending=False, kind="stable").index
        how = "largest first"
    else:
        fuel = sites["fuel"].to_numpy()
        pue = min(t.pue for t in sc.cooling.values())
        est = costs.delivered_cost_usd_per_mwh(
            sites["price_usd_per_mwh"].to_numpy(float), pue, [e.fuels[f].firming_hours for f in fuel],
            e.battery_energy_usd_per_kwh, e.battery_power_usd_per_kw, sc.money.discount_rate,
            e.battery_life_years, e.battery_round_trip_efficiency)
        km = physics.pairwise_km(sites["longitude"], sites["latitude"], regions["longitude"], regions["latitude"])
        net, limit = sc.network, regions["latency_ms"].to_numpy(float)[None, :]
        # reach: fiber without a lateral; LEO too unless satellite cells cap it at a few MW a cell
        leo = net.leo_rtt_ms(km) <= limit
        fiber = net.fiber_rtt_ms(km, np.zeros_like(km)) <= limit
        reach = fiber if net.cell_capacity else fiber | leo
        sites = sites.assign(estimated_usd_per_mwh=est)
        order = pd.DataFrame({"tier": np.where(reach.any(axis=1), 0, np.where(leo.any(axis=1), 1, 2)),
                              "turn": region_turns(est, reach), "est": est}, index=sites.index).sort_values(
            ["tier", "turn", "est"], kind="stable").index
        how = ("each region's cheapest sources within reach (estimated delivered cost, in turn: every "
               "region's cheapest, then every region's second, ...), then " +
               ("those reaching demand by LEO only, " if net.cell_capacity else "") + "the rest")
    kept = sites.loc[order[:c.max_count]]
    dropped = sites.loc[order[c.max_count:], "fuel"].value_counts()
    notes.append(f"energy: {n_plants} plants merged within {c.merge_km:g} km into "
                 f"{n_merged} sources; kept the {len(kept)} with firm power >= "
                 f"{c.min_firm_mw:g} MW ({how}, at most {c.max_count})")
    if len(dropped):
        notes.append("energy: the candidate cap dropped " + ", ".join(f"{n} {f}" for f, n in dropped.items()))
    return kept.reset_index(drop=True)


def _demand_regions(sc: Scenario, notes: list[str], progress=None) -> pd.DataFrame:
    d = sc.demand
    cities = read_demand(sc.layers.demand, sc.layers.columns.demand).reset_index(drop=True)
    notes.extend("demand: " + n for n in _blank_notes(cities, "region_id", {
        "inference_mw": f"population x demand.inference_w_per_person ({d.inference_w_per_person:g} W)",
        "latency_ms": f"demand.latency_ms ({d.latency_ms:g} ms)"}))
    from_population = cities["population"] * d.inference_w_per_person / 1e6
    cities["inference_mw"] = cities.get("inference_mw", from_population).fillna(from_population)
    cities["latency_ms"] = cities.get("latency_ms", pd.Series(d.latency_ms, index=cities.index)).fillna(d.latency_ms)
    label = greedy_cluster(cities["longitude"], cities["latitude"], cities["population"], d.merge_km,
                           progress=progress)
    regions = _merge_rows(cities.drop(columns="geometry"), label, "population",
                          ["population", "inference_mw"], [])
    regions["latency_ms"] = cities.groupby(label)["latency_ms"].min().reindex(
        label[label == np.arange(len(cities))]).to_numpy()
    n_merged, total = len(regions), regions["population"].sum()
    regions = regions[regions["population"] >= d.min_population]
    regions = regions.sort_values("population", ascending=False, kind="stable").head(d.max_regions)
    notes.append(f"demand: {len(cities)} places merged within {d.merge_km:g} km into {n_merged} "
                 f"regions; kept {len(regions)} with >= {d.min_population:,.0f} people "
                 f"({regions['population'].sum() / total:.0%} of the population)")
    return regions.reset_index(drop=True)


def _check_module_size(sites: pd.DataFrame, module_mw: float | None) -> None:
    """Refuse a module size no candidate can host, or so small a site needs > 1e5 modules."""
    if module_mw is None:
        return
    big = sites["max_it_mw"].idxmax()
    most, name = float(sites.loc[big, "max_it_mw"]), clip(sites.loc[big, "name"], 40)
    if module_mw > most:
        raise ScenarioError(f"facility.module_mw: {module_mw:g} MW is larger than any candidate can host "
                            f"(the largest, {name!r}, holds {most:,.1f} MW IT); use smaller modules")
    if most / module_mw > MAX_MODULES_PER_SITE:
        raise ScenarioError(f"facility.module_mw: {module_mw:g} MW would need {most / module_mw:,.0f} "
                            f"modules at {name!r} ({most:,.1f} MW IT), more than {MAX_MODULES_PER_SITE:,}; "
                            f"use modules of at least {most / MAX_MODULES_PER_SITE:.3g} MW")


def _arcs(sites, regions, pops, sc: Scenario) -> pd.DataFrame:
    net = sc.network
    d_site_pop = physics.pairwise_km(sites["longitude"], sites["latitude"],
                                     pops["longitude"], pops["latitude"])
    nearest = d_site_pop.argmin(axis=1)
    sites["pop_id"] = pops["pop_id"].to_numpy()[nearest]
    sites["lateral_km"] = d_site_pop[np.arange(len(sites)), nearest]
    d_region_site = physics.pairwise_km(regions["longitude"], regions["latitude"],
                                        sites["longitude"], sites["latitude"])
    d_region_pop = physics.pairwise_km(regions["longitude"], regions["latitude"],
                                       pops["longitude"].to_numpy()[nearest],
                                       pops["latitude"].to_numpy()[nearest])
    route = _fiber_routes(regions, pops, nearest) if net.fiber_stretch_model == "route" else None
    rtt = {"fiber": net.fiber_rtt_ms(d_region_pop, sites["lateral_km"].to_numpy()[None, :], route),
           "satellite": _rtt_satellite(sites, regions, d_region_site, sc)}
    allowed = {"fiber": net.allow_fiber, "satellite": net.allow_satellite}
    limit = regions["latency_ms"].to_numpy()[:, None]
    best = np.fmin(np.where(allowed["fiber"], rtt["fiber"], np.inf),
                   np.where(allowed["satellite"], rtt["satellite"], np.inf))
    regions["nearest_rtt_ms"] = best.min(axis=1)  # for diagnosis: what the limit would need
    regions["nearest_site"] = sites["name"].to_numpy()[best.argmin(axis=1)]
    parts = []
    for link, matrix in rtt.items():
        r, k = np.nonzero((matrix <= limit) & allowed[link])
        parts.append(pd.DataFrame({"region": r, "site": k, "link": link, "rtt_ms": matrix[r, k],
                                   "distance_km": d_region_site[r, k]}))
    arcs = pd.concat(parts, ignore_index=True).sort_values(["region", "site", "link"], kind="stable")
    arcs["cost_musd_per_mw"] = 0.0
    return arcs.reset_index(drop=True)


def _fiber_routes(regions, pops, nearest) -> np.ndarray:
    """Route type (:func:`siting.physics.route_type`) of each region's Internet path to each site's
    PoP, regions x sites. A PoP's continent is its ``continent`` column where given, else that of
    the nearest demand region (a PoP sits in a metro). ``None`` (every path on the table's ``*``
    rows) when the demand layer has no continent column."""
    if "continent" not in regions:
        return None
    reg = fiber.check_continents(regions["continent"], "demand", regions["region_id"])
    given = pops["continent"].fillna("").astype(str).str.strip() if "continent" in pops else pd.Series(
        "", index=pops.index)
    near = physics.pairwise_km(pops["longitude"], pops["latitude"], regions["longitude"],
                               regions["latitude"]).argmin(axis=1)
    pop_cont = np.where(given.to_numpy() != "", given.to_numpy(), reg[near])
    pop_cont = fiber.check_continents(pop_cont, "pops", pops["pop_id"])
    return physics.route_type(reg[:, None], pop_cont[nearest][None, :])


def _rtt_satellite(sites, regions, d_region_site, sc: Scenario) -> np.ndarray:
    """Satellite round trip (ms), regions x sites: the closed form, or the routed constellation's
    median or 95th percentile over an orbital period (``network.leo_model``, ``leo_percentile``)."""
    net = sc.network
    if net.leo_model == "formula":
        return net.leo_rtt_ms(d_region_site)
    stats = constellation.rtt_constellation(
        regions["longitude"], regions["latitude"], sites["longitude"], sites["latitude"],
        shells=constellation.load_shells(net.leo_shells), snapshots=net.leo_snapshots,
        min_elevation_deg=net.leo_min_elevation_deg, overhead_ms=net.leo_overhead_ms)
    return stats.percentile(net.leo_percentile)


def cooling_table(sc: Scenario) -> pd.DataFrame:
    c = pd.DataFrame({n: t.model_dump() for n, t in sc.cooling.items()}).T
    c = c.rename_axis("cooling").reset_index()
    c["carries_training"] = c["rack_kw"].astype(float) >= sc.facility.training_rack_kw
    c["carries_inference"] = c["rack_kw"].astype(float) >= sc.facility.inference_rack_kw
    return c


def from_layers(sc: Scenario, *, progress: Callable[[str], None] | None = None) -> SitingInputs:
    """Read the scenario's layers and turn them into model inputs (geography happens here):
    :func:`priced` of :func:`read_geography`.

    ``progress``, if given, receives progress lines from the merges of plants and places.
    """
    return priced(read_geography(sc, progress=progress), sc)


@dataclass(frozen=True)
class Geography:
    """What :func:`read_geography` reads and measures, before any price: the candidate sites
    (with their pop, lateral km, price and carbon per MWh), regions, arcs with their round trips
    (``cost_musd_per_mw`` 0), hourly profiles, the climate's PUE [K, C] (annual mean, warmest
    month), water per MW IT [K, C], water limits [K], failure groups [K] and the notes.
    Scenarios with the same :func:`siting.inputs.pricing.geography_key` share it."""

    sites: pd.DataFrame
    regions: pd.DataFrame
    arcs: pd.DataFrame
    notes: tuple[str, ...]
    hourly: HourlyInputs | None
    pue_annual: np.ndarray | None
    pue_peak: np.ndarray | None
    water: np.ndarray
    water_limit: np.ndarray | None
    failure_group: np.ndarray | None
    cells: SiteCells | None = None  # satellite cells (network.cell_capacity)


@dataclass(frozen=True)
class SiteCells:
    """Each candidate's H3 cell (``position`` [K] into ``ids`` [N]) and the satellites each
    cell sees above the minimum elevation at ``network.cell_percentile`` over the snapshots [N]."""

    position: np.ndarray
    ids: tuple
    sats_in_view: np.ndarray


def site_cells(lon, lat, net, notes: list[str] | None = None) -> SiteCells:
    """Geometry of the satellite cells of points (sites): one H3 cell each, satellites in view per
    cell at ``network.cell_percentile`` over the constellation's snapshots."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    pos, ids = cells.site_cells(lon, lat, net.cell_h3_resolution)
    first = np.unique(pos, return_index=True)[1]
    view = cells.satellites_in_view(lon[first], lat[first], constellation.load_shells(net.leo_shells),
                                    snapshots=net.leo_snapshots, min_elevation_deg=net.leo_min_elevation_deg)
    n_view = np.percentile(view, net.cell_percentile, axis=0, method="inverted_cdf")
    if notes is not None:
        notes.append(f"satellite cells: {len(lon)} candidates in {len(ids)} H3 cells (resolution "
                     f"{net.cell_h3_resolution}); satellites in view at the {net.cell_percentile:g}th percentile: "
                     f"{int(n_view.min())}..{int(n_view.max())}")
    return SiteCells(pos, tuple(ids), n_view.astype(float))


def cell_capacities(geo_cells: SiteCells, site_ids, net, generation: str | None = None) -> np.ndarray:
    """Capacity (Gbps) per cell [N, 2] (up, down) from the satellites in view and the satellite
    generation (``generation``, default the scenario's; ``data/satellite_generations.csv``, each
    figure overridable)."""
    table = cells.load_generations()
    if net.satellite_generation not in table.index:
        raise ScenarioError(f"network.satellite_generation: {clip(repr(net.satellite_generation))} is not a "
                            f"generation of data/satellite_generations.csv (known: {', '.join(table.index)})")
    gen = table.loc[generation or net.satellite_generation]
    per_sat = net.cell_beams_per_satellite or float(gen["beams_per_satellite_per_cell"])
    per_cell = net.cell_beams_per_cell or float(gen["beams_per_cell"])
    cap = np.column_stack([cells.cell_capacity_gbps(geo_cells.sats_in_view, per_sat, per_cell, beam)
                           for beam in (net.cell_gbps_per_beam_up or float(gen["gbps_per_beam_up"]),
                                        net.cell_gbps_per_beam_down or float(gen["gbps_per_beam_down"]))])
    empty = np.flatnonzero(cap.min(axis=1) <= 0)
    if empty.size:
        k = int(np.flatnonzero(geo_cells.position == empty[0])[0])
        raise InputError("sites", "cell_gbps", f"cell {geo_cells.ids[empty[0]]} sees no satellite above "
                         f"{net.leo_min_elevation_deg:g} deg at the {net.cell_percentile:g}th percentile: its "
                         f"capacity is 0 (lower network.leo_min_elevation_deg or network.cell_percentile)",
                         list(site_ids)[k])
    return cap


def read_geography(sc: Scenario, *, progress: Callable[[str], None] | None = None) -> Geography:
    """The slow part of :func:`from_layers`: layers read, merged, capped; distances, round trips
    and eligible arcs; hourly profiles, climate and water (see :class:`Geography`)."""
    notes: list[str] = []
    sites, counts = _candidate_sites(sc, notes, progress)
    demand_notes: list[str] = []
    regions = _demand_regions(sc, demand_notes, progress)
    sites = _cap_candidates(sites, counts, regions, sc, notes)
    notes += demand_notes
    pops = read_pops(sc.layers.pops, sc.layers.columns.pops).reset_index(drop=True)
    if sites.empty:
        raise InputError("energy_sources", "firm_mw", "no candidate site is left after merging "
                         f"and the minimum firm power of {sc.candidates.min_firm_mw:g} MW")
    if regions.empty:
        raise InputError("demand", "population", "no demand region is left after merging and "
                         f"the minimum population of {sc.demand.min_population:,.0f}")
    cooling = cooling_table(sc)
    hourly = None
    if sc.energy.hourly:
        hourly = hourly_inputs(sites, sc, notes)
        sites.loc[hourly.site, "firm_mw"] = daily_energy_bound(hourly.cf, hourly.available_mw,
                                                               hourly.overbuild_max_mw)
        notes.append("hourly: the power row of a variable-fuel site caps its load at the mean "
                     "generation of its poorest representative day (with the most overbuild)")
    sites["max_it_mw"] = sites["firm_mw"] / cooling["pue"].astype(float).min()
    _check_module_size(sites, sc.facility.module_mw)
    arcs = _arcs(sites, regions, pops, sc)
    if sc.network.fiber_stretch_model == "route" and "continent" not in regions:
        notes.append("fiber: the demand layer has no continent column, so every Internet path takes the "
                     "route table's '*' rows (the distance bands over all route types)")
    n_pairs = len(sites) * len(regions)
    notes.append(f"arcs: {len(arcs)} of {2 * n_pairs} (region, site, link) combinations are "
                 f"within their region's latency limit")
    f = sc.facility
    pue_annual = pue_peak = None
    if f.climate:
        pue_annual, pue_peak = climate.site_pue(sites["latitude"].to_numpy(float), cooling, f.pue_cap)
        notes.append("climate: PUE by the latitude band's ambient temperature (data/climate.csv, EST): "
                     f"annual-mean PUE prices energy, warmest-month PUE sizes power (up to {pue_peak.max():.2f})")
    water = climate.site_water_m3_per_mw_year(sites["latitude"].to_numpy(float), cooling, f.utilisation)
    limit = _water_limits(sites, f, notes)
    d = sc.demand
    group = None
    if d.n_minus_1_share is not None and (d.failure_group_km is not None or "failure_group" in sites
                                          or "basin" in sites):
        group = groups.failure_groups(sites["longitude"], sites["latitude"], d.failure_group_km,
                                      sites["failure_group"] if "failure_group" in sites else None,
                                      basins=sites["basin"] if "basin" in sites else None)
        notes.append(f"N-1: {len(sites)} candidates form {group.max() + 1} failure groups")
    sat_cells = (site_cells(sites["longitude"], sites["latitude"], sc.network, notes)
                 if sc.network.cell_capacity else None)
    return Geography(sites, regions, arcs, tuple(notes), hourly, pue_annual, pue_peak, water, limit, group,
                     sat_cells)


def priced(geo: Geography, sc: Scenario) -> SitingInputs:
    """Model inputs from a geography and a scenario's prices (milliseconds: the cost tables of
    :func:`siting.inputs.pricing.cost_tables` and the scenario's scalars); ``geo`` is not changed."""
    f, d = sc.facility, sc.demand
    sites, cooling = geo.sites.copy(), cooling_table(sc)
    net = sc.network
    cell = {}
    notes = list(geo.notes)
    if geo.cells is not None:
        cap = cell_capacities(geo.cells, sites["site_id"], net)
        if sc.time.years and net.cell_generation_by_year:  # each period's cells: the generation of its year
            table = cells.load_generations()
            gens = cells.generation_by_year(sc.time.years, table["year_in_service"].to_dict(), net.satellite_generation)
            cap = np.stack([cell_capacities(geo.cells, sites["site_id"], net, g) for g in gens])
            notes.append("satellite cells by period: " + ", ".join(f"{y} {g}" for y, g in zip(sc.time.years, gens))
                         + " (data/satellite_generations.csv year_in_service)")
        cell = dict(sat_cell=geo.cells.position, cell_gbps=cap,
                    cell_ids=geo.cells.ids, sat_up_gbps_per_mw=net.inference_up_gbps_per_mw,
                    sat_down_gbps_per_mw=net.inference_down_gbps_per_mw)
        sites["sat_cell"] = np.asarray(geo.cells.ids, dtype=object)[geo.cells.position]
    it, site, fiber, sat = cost_tables(sites, cooling, sc, geo.pue_annual, geo.water)
    mwh_per_mw_pv = (f.utilisation * costs.HOURS_PER_YEAR
                     * float(costs.pv_annuity_factor(sc.money.discount_rate, sc.money.lifetime_years)))
    unmet = (None if d.unmet_penalty_usd_per_mwh is None
             else d.unmet_penalty_usd_per_mwh * mwh_per_mw_pv / 1e6)
    periods = _periods(sites, geo.regions, sc, cooling) if sc.time.years else None
    training_mw = d.training_mw if periods is None else float(periods.training_mw.max())
    return SitingInputs(sites, geo.regions.copy(), geo.arcs, cooling, it, site, fiber, sat,
                        sat_unit_gbps=sc.network.sat_unit_gbps,
                        gbps_per_mw=sc.network.inference_gbps_per_mw,
                        training_mw=training_mw, training_min_cluster_mw=d.training_min_cluster_mw,
                        module_mw=f.module_mw, resilience_max_share=d.resilience_max_share,
                        unmet_cost_musd_per_mw=unmet, max_sites=f.max_sites, notes=notes,
                        n_minus_1_share=d.n_minus_1_share, failure_group=geo.failure_group,
                        training_gbps_per_mw=sc.network.training_gbps_per_mw,
                        lateral_practical_km=sc.network.lateral_practical_km,
                        training_links=tuple(b for b, ok in (("fiber", sc.network.allow_fiber),
                                                             ("satellite", sc.network.allow_satellite)) if ok),
                        hourly=geo.hourly, climate_pue_peak=geo.pue_peak,
                        water_m3_per_mw_year=geo.water, water_limit_m3_per_year=geo.water_limit,
                        energy_mwh_per_mw_year=energy_mwh_per_mw_year(len(sites), cooling, sc, geo.pue_annual),
                        embodied_tco2e_per_mw_it=f.embodied_tco2e_per_mw_it,
                        battery_tco2e_per_mwh=sc.energy.battery_embodied_kgco2e_per_kwh
                        * float(np.ceil(sc.money.lifetime_years / sc.energy.battery_life_years)),
                        periods=periods, **cell)


def _periods(sites: pd.DataFrame, regions: pd.DataFrame, sc: Scenario, cooling: pd.DataFrame) -> Periods:
    """The scenario's ``time:`` block on these sites and regions (see :mod:`siting.inputs.periods`)."""
    t, m = sc.time, sc.money
    years = np.asarray(t.years)
    factor = (1.0 + t.demand_growth_per_year) ** (years - years[0]).astype(float)
    if t.demand_growth_table is not None:
        factor = _growth_table(t.demand_growth_table, regions, years)
    lateral = t.fiber_lead_months + t.fiber_lead_months_per_100km * sites["lateral_km"].to_numpy(float) / 100.0
    country = sites["country"].astype(str).to_numpy() if "country" in sites else np.full(len(sites), "")
    names = list(t.jurisdiction_new_mw_per_year)
    juris = np.array([names.index(c) if c in names else -1 for c in country], np.int64)
    return make_periods(years, K=len(sites), R=len(regions), rate=m.discount_rate, lifetime_years=m.lifetime_years,
                        end_year=t.end_year, first_build_years=t.first_build_years, demand_factor=factor,
                        training_mw=sc.demand.training_mw if t.training_mw is None else t.training_mw,
                        site_ready_year=sites["ready_year"].to_numpy(float),
                        fiber_ready_year=years[0] - t.first_build_years + lateral / 12.0,
                        ramp_per_year=t.ramp_per_year,
                        seed_mw_per_year=t.seed_mw_per_year, jurisdiction=juris if names else None,
                        jurisdiction_cap_mw_per_year=[t.jurisdiction_new_mw_per_year[n] for n in names] or None,
                        jurisdiction_names=names, modules_per_year=t.modules_per_year,
                        compute=_chips(years, t.chip_life_years, cooling) if t.chips else None)


def _chips(years: np.ndarray, life_years: float, cooling: pd.DataFrame) -> np.ndarray:
    """Compute per MW [P, P, C] of the chip generations in ``data/chips.csv`` on each cooling
    technology (its ``rack_kw`` against each generation's: :func:`compute_per_mw`)."""
    gens = pd.read_csv(DATA_DIR / "chips.csv").sort_values("year_available")
    return compute_per_mw(years, gens["year_available"].to_numpy(float), gens["compute_per_mw"].to_numpy(float),
                          life_years, gens["rack_kw"].to_numpy(float), cooling["rack_kw"].to_numpy(float))


def _growth_table(path, regions: pd.DataFrame, years: np.ndarray) -> np.ndarray:
    """Factors [P, R] (x each region's inference MW) from a CSV of ``region_id, year, factor``;
    every (region, period) must have its row."""
    field = "time.demand_growth_table"
    try:
        table = pd.read_csv(path, dtype={"region_id": str}, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise ScenarioError(f"{field}: cannot read {clip(str(path))} ({exc})") from None
    missing = [c for c in ("region_id", "year", "factor") if c not in table]
    if missing:
        raise InputError(field, missing[0], "missing column")
    year = pd.to_numeric(table["year"], errors="coerce").to_numpy(float)
    factor = pd.to_numeric(table["factor"], errors="coerce").to_numpy(float)
    bad = np.flatnonzero(~np.isfinite(factor) | (factor < 0) | ~np.isfinite(year))
    if bad.size:
        raise InputError(field, "factor", f"{table['factor'].iloc[bad[0]]!r} is not a number >= 0 "
                         f"(or the year is not a number)", table["region_id"].iloc[bad[0]])
    lookup = {(r, int(y)): f for r, y, f in zip(table["region_id"], year, factor)}
    out = np.empty((len(years), len(regions)))
    for j, rid in enumerate(regions["region_id"].astype(str)):
        for i, y in enumerate(years):
            if (rid, int(y)) not in lookup:
                raise InputError(field, "year", f"no factor for period {int(y)}", rid)
            out[i, j] = lookup[(rid, int(y))]
    return out


def _water_limits(sites: pd.DataFrame, f, notes: list[str]) -> np.ndarray | None:
    """Water a site may draw (m3 a year): the layer's ``water_limit_m3_per_year`` where given,
    else ``facility.water_limit_m3_per_year``, else none (inf); ``None`` when no site has one."""
    cap = np.inf if f.water_limit_m3_per_year is None else f.water_limit_m3_per_year
    own = sites["water_limit_m3_per_year"].to_numpy(float) if "water_limit_m3_per_year" in sites else None
    limit = np.full(len(sites), cap) if own is None else np.where(np.isfinite(own), own, cap)
    if not np.isfinite(limit).any():
        return None
    notes.append(f"water: {int(np.isfinite(limit).sum())} of {len(sites)} candidates have a water limit "
                 f"({0 if own is None else int(np.isfinite(own).sum())} from the layer)")
    return limit
