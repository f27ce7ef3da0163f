"""Hourly energy inputs: representative-day profiles, battery and overbuild costs per site.

:class:`HourlyInputs` is the table the hourly families of :mod:`siting.model` read; it exists
only when ``energy.hourly`` is on, and only for sites whose fuel is variable (solar, wind):
firm sources keep their constant availability and get no hourly rows.

Flat layout of the hourly cells: ``h = (v * D + d) * 24 + t`` for variable site ``v`` (position
``site[v]`` in ``inputs.sites``), representative day ``d`` and hour ``t``.

Money (present value, M$), kept simple and stated:

* battery energy (per MWh) and power (per MW) capex over ``battery_life_years`` (renewed over
  the horizon by :func:`siting.costs.pv_of_capex`); cycle life is a throughput limit, not a
  cost: yearly discharge <= cycle_life / life_years x MWh of storage;
* overbuild: capex per MW over ``overbuild_life_years`` plus fixed O&M per year; its output is
  not credited against the energy bill;
* energy: the colony still pays its site's price for the energy its load draws (the
  ``energy`` cost per MW IT); storage losses are generation drawn too, so each charged MWh
  costs the price and each discharged MWh saves it (weighted by the days' weights);
* grid import (``energy.grid_import``, off by default): a MWh imported displaces a MWh of the
  site's own supply, so it costs the grid price plus its carbon (grid intensity x carbon price)
  minus the site's price; the grid serves the load only (never more than the load in an hour).
  A 24/7 carbon-free target (``energy.cfe_target``, per plan; ``energy.cfe_target_per_site``)
  caps the weighted imports at (1 - target) x the weighted load.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import costs
from ..errors import InputError
from . import profiles

__all__ = ["HourlyInputs", "hourly_inputs", "read_profiles", "daily_energy_bound"]

HOURS_PER_DAY = 24


@dataclass(frozen=True)
class HourlyInputs:
    """Per variable site v (V), representative day d (D) and hour t (24); money PV M$.

    site[V]: positions in ``inputs.sites``; cf[V, D, 24]: capacity factor; weight_days[D]: days
    per year each representative day stands for (sum 365); available_mw[V]: nameplate x share
    the colony may use; overbuild_max_mw[V]; eta_charge, eta_discharge: one-way efficiencies
    (their product is the round trip); cycles_per_year: throughput limit per MWh of storage;
    storage_mwh_musd, storage_mw_musd, overbuild_musd_per_mw: PV cost per unit built [V];
    energy_musd_per_mwh[V]: PV of one MWh drawn every year (price x annuity factor).
    Grid import (all ``None`` when off): grid_musd_per_mwh[V]: PV of one MWh imported every
    year (grid price + carbon price x grid intensity); grid_gco2_per_kwh: grid carbon intensity;
    cfe_target / cfe_site_target: carbon-free share of the load, per plan / per variable site.
    """

    site: np.ndarray
    cf: np.ndarray
    weight_days: np.ndarray
    available_mw: np.ndarray
    overbuild_max_mw: np.ndarray
    eta_charge: float
    eta_discharge: float
    cycles_per_year: float
    storage_mwh_musd: np.ndarray
    storage_mw_musd: np.ndarray
    overbuild_musd_per_mw: np.ndarray
    energy_musd_per_mwh: np.ndarray
    grid_musd_per_mwh: np.ndarray | None = None
    grid_gco2_per_kwh: float = 0.0
    cfe_target: float | None = None
    cfe_site_target: float | None = None

    @property
    def grid(self) -> bool:
        """Grid import offered at the variable sites."""
        return self.grid_musd_per_mwh is not None and self.V > 0

    @property
    def V(self) -> int:
        return len(self.site)

    @property
    def D(self) -> int:
        return len(self.weight_days)

    @property
    def H(self) -> int:
        return self.V * self.D * HOURS_PER_DAY

    @property
    def cell_site(self) -> np.ndarray:
        """Variable-site number v of every hourly cell [H]."""
        return np.repeat(np.arange(self.V), self.D * HOURS_PER_DAY)

    @property
    def cell_weight(self) -> np.ndarray:
        """Days per year every hourly cell stands for [H]."""
        return np.tile(np.repeat(self.weight_days, HOURS_PER_DAY), self.V)

    @property
    def previous_cell(self) -> np.ndarray:
        """The cell one hour earlier on the same representative day, cyclic [H]."""
        h = np.arange(self.H)
        return h - h % HOURS_PER_DAY + (h % HOURS_PER_DAY - 1) % HOURS_PER_DAY

    def charge_cost(self) -> np.ndarray:
        """PV M$ per MW charged in each cell [H] (discharge: minus this)."""
        return self.energy_musd_per_mwh[self.cell_site] * self.cell_weight

    def import_cost(self) -> np.ndarray:
        """PV M$ per MW imported in each cell [H]: the grid's price and carbon less the site's price
        it displaces (empty without grid import).

        >>> hi = HourlyInputs(np.array([0]), np.zeros((1, 1, 24)), np.array([365.0]), np.array([1.0]),
        ...                   np.zeros(1), 0.9, 0.9, 365.0, np.zeros(1), np.zeros(1), np.zeros(1),
        ...                   np.array([0.001]), grid_musd_per_mwh=np.array([0.003]))
        >>> float(hi.import_cost()[0])  # (0.003 - 0.001) x 365 days
        0.73
        """
        if not self.grid:
            return np.zeros(0)
        return (self.grid_musd_per_mwh - self.energy_musd_per_mwh)[self.cell_site] * self.cell_weight

    def max_power_mw(self) -> np.ndarray:
        """Most generation a site can ever see: nameplate share plus the largest overbuild [V]."""
        return (self.available_mw + self.overbuild_max_mw) * self.cf.max(axis=(1, 2), initial=0.0)


def daily_energy_bound(cf, available_mw, overbuild_max_mw) -> np.ndarray:
    """Largest flat load a site can carry on its poorest representative day (MW) [V].

    Summing the hourly balance over a day with cyclic storage (which only loses energy):
    ``24 * load <= sum_t cf[d, t] * (available + overbuild)`` for every day d.

    >>> daily_energy_bound(np.array([[[0.0] * 12 + [1.0] * 12, [0.5] * 24]]), [100.0], [50.0]).tolist()
    [75.0]
    """
    cf = np.asarray(cf, float)
    return cf.mean(axis=2).min(axis=1, initial=np.inf) * (np.asarray(available_mw, float)
                                                          + np.asarray(overbuild_max_mw, float))


def read_profiles(path: Path | str, site_ids, candidates: pd.DataFrame | None = None) -> dict[str, np.ndarray]:
    """A user's hourly capacity factors: ``site_id`` + 8,760 hour columns, values in [0, 1].

    Ids are read as written (``007`` stays ``007``, ``NA`` is an id). Returns ``{site_id: cf[8760]}``,
    one entry per row. ``site_ids``: the variable-fuel candidate sites, the only ones a profile
    is used for; ``candidates`` (``site_id``, ``fuel``): every candidate site, to say why a row is
    not used. Refused, naming the id: a file with no rows, an id given twice, an id no candidate
    site has (a typo, or a plant the candidate filters dropped), a site whose fuel is not variable
    (its profile would be ignored). Hours are taken as the site's local hours from 1 January 00:00.
    """
    try:
        table = pd.read_csv(path, dtype={"site_id": str}, keep_default_na=False, na_values=[])
    except (OSError, ValueError) as exc:
        raise InputError("profiles", "file", f"cannot read {path} ({exc})") from None
    if "site_id" not in table:
        raise InputError("profiles", "site_id", "the profiles table has no site_id column")
    if not len(table):
        raise InputError("profiles", "file", f"{path} has a header but no rows: give one row per variable-fuel "
                         "site (site_id + 8,760 hourly capacity factors), or remove layers.profiles")
    hours = table.drop(columns="site_id")
    if hours.shape[1] != profiles.HOURS:
        raise InputError("profiles", "hours", f"expected {profiles.HOURS} hour columns, got {hours.shape[1]}")
    values = hours.apply(pd.to_numeric, errors="coerce").to_numpy(float)
    ids = table["site_id"].to_numpy(str)
    seen: dict[str, int] = {}
    for row, sid in enumerate(ids):
        if sid in seen:
            raise InputError("profiles", "site_id", f"given twice (rows {seen[sid] + 1} and {row + 1})", sid)
        seen[sid] = row
    bad = ~np.isfinite(values) | (values < 0) | (values > 1)
    if bad.any():
        row = int(np.argmax(bad.any(axis=1)))
        raise InputError("profiles", "capacity_factor", "hourly capacity factors must be numbers in [0, 1] "
                         f"(hour {int(np.argmax(bad[row]))})", ids[row])
    wanted = set(np.asarray(site_ids, dtype=object).astype(str))
    fuel = ({} if candidates is None else
            dict(zip(candidates["site_id"].to_numpy(dtype=object).astype(str), candidates["fuel"].to_numpy())))
    for sid in ids:
        if sid in wanted:
            continue
        if sid in fuel:
            raise InputError("profiles", "site_id", f"the site's fuel is {fuel[sid]}, not a variable fuel: it keeps "
                             "its firm power and a profile would not be used; remove the row", sid)
        raise InputError("profiles", "site_id", "no candidate site has this id (ids are read as written: 007 is "
                         "not 7; or the candidate filters dropped the plant, or merged it into another site)", sid)
    return {i: v for i, v in zip(ids, values)}


def hourly_inputs(sites: pd.DataFrame, sc, notes: list[str]) -> HourlyInputs:
    """Profiles, representative days and unit costs for the variable-fuel candidate sites."""
    import time

    e, m, f = sc.energy, sc.money, sc.facility
    fuel = sites["fuel"].to_numpy()
    variable = np.array([e.fuels[x].variable for x in fuel], bool)
    site = np.flatnonzero(variable)
    v = sites.iloc[site]
    lat, lon = v["latitude"].to_numpy(float), v["longitude"].to_numpy(float)
    fuels = {x: e.fuels[x] for x in set(fuel[site])}
    ref_cf = np.array([fuels[x].ref_capacity_factor for x in fuel[site]])
    cf_mean = v["capacity_factor"].to_numpy(float)
    cf_mean = np.where(np.isfinite(cf_mean) & (cf_mean > 0), cf_mean, ref_cf)
    own = read_profiles(sc.layers.profiles, v["site_id"], sites) if sc.layers.profiles is not None else {}
    t0 = time.perf_counter()
    solar = fuel[site] == "solar"
    hourly = np.zeros((len(site), profiles.HOURS))
    if solar.any():
        hourly[solar] = profiles.scale_to_mean(profiles.solar_cf(lat[solar], lon[solar]), cf_mean[solar])
    if (~solar).any():  # every other variable fuel gets the wind method
        hourly[~solar] = profiles.wind_cf(lat[~solar], lon[~solar], cf_mean[~solar],
                                          v["site_id"].to_numpy()[~solar], seed=e.profile_seed)
    hourly = profiles.to_local_days(hourly, lon)
    ids = v["site_id"].astype(str).to_numpy()
    for i, sid in enumerate(ids):
        if sid in own:
            hourly[i] = own[sid]
    t1 = time.perf_counter()
    cf, weights = profiles.representative_days(hourly, e.representative_days)
    t2 = time.perf_counter()
    if not len(site):
        notes.append("hourly: no candidate site has a variable fuel; every site keeps its firm power")
    else:
        notes.append(f"hourly: {len(site)} variable-fuel sites ({len(own)} with the user's own profiles) on "
                     f"{len(weights)} representative days (Ward clustering, medoid days; weights "
                     f"{', '.join(f'{w:g}' for w in weights)} days); profiles {t1 - t0:.1f} s, "
                     f"reduction {t2 - t1:.1f} s")
    pvf = float(costs.pv_annuity_factor(m.discount_rate, m.lifetime_years))
    cap = lambda capex, life: costs.pv_of_capex(capex, m.discount_rate, life, m.lifetime_years)  # noqa: E731
    ob_capex = np.array([np.nan if fuels[x].overbuild_capex_usd_per_kw is None
                         else fuels[x].overbuild_capex_usd_per_kw for x in fuel[site]], float)
    ob_om = np.array([fuels[x].overbuild_om_usd_per_kw_year or 0.0 for x in fuel[site]], float)
    offered = np.isfinite(ob_capex)
    available = v["capacity_mw"].to_numpy(float) * f.power_share_available
    return HourlyInputs(
        site=site, cf=cf, weight_days=weights, available_mw=available,
        overbuild_max_mw=np.where(offered, e.overbuild_max_share * available, 0.0),
        eta_charge=float(np.sqrt(e.battery_round_trip_efficiency)),
        eta_discharge=float(np.sqrt(e.battery_round_trip_efficiency)),
        cycles_per_year=e.battery_cycle_life / e.battery_life_years,
        storage_mwh_musd=np.full(len(site), float(cap(e.battery_energy_usd_per_kwh * 1e3 / 1e6,
                                                      e.battery_life_years))),
        storage_mw_musd=np.full(len(site), float(cap(e.battery_power_usd_per_kw * 1e3 / 1e6,
                                                     e.battery_life_years))),
        overbuild_musd_per_mw=np.where(offered, cap(np.nan_to_num(ob_capex) * 1e3 / 1e6, e.overbuild_life_years)
                                       + ob_om * 1e3 / 1e6 * pvf, 0.0),
        energy_musd_per_mwh=v["price_usd_per_mwh"].to_numpy(float) * pvf / 1e6,
        **_grid(e, pvf, len(site), notes))


def _grid(e, pvf: float, V: int, notes: list[str]) -> dict:
    """The grid-import fields of :class:`HourlyInputs` (``energy.grid_import``), else none."""
    if not e.grid_import:
        return {}
    per_mwh = e.grid_price_usd_per_mwh + e.grid_gco2_per_kwh / 1e3 * e.carbon_price_usd_per_tco2
    targets = [f"{what} {t:g}" for what, t in (("plan", e.cfe_target), ("each site", e.cfe_target_per_site))
               if t is not None]
    notes.append(f"hourly: grid import at the variable-fuel sites at {e.grid_price_usd_per_mwh:g} $/MWh and "
                 f"{e.grid_gco2_per_kwh:g} gCO2/kWh ({per_mwh:g} $/MWh with carbon); 24/7 carbon-free target: "
                 + (", ".join(targets) if targets else "none"))
    return dict(grid_musd_per_mwh=np.full(V, per_mwh * pvf / 1e6), grid_gco2_per_kwh=e.grid_gco2_per_kwh,
                cfe_target=e.cfe_target, cfe_site_target=e.cfe_target_per_site)
