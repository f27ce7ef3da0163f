"""Prices: a scenario's money figures -> the present-value cost tables (M$) of the model.

The geography of a scenario (candidate sites, regions, arcs and their round trips, climate) is
slow to make (1.7 s on ``models/full.yaml``); the cost tables a price change alters take
milliseconds. :data:`PRICE_FIELDS` are the scenario fields read only when pricing, so two
scenarios with the same :func:`geography_key` share their geography
(:func:`siting.inputs.inputs.read_geography`) and differ only in :func:`siting.inputs.inputs.priced`.
A test re-prices one geography with each of these fields changed and compares the inputs with
:func:`siting.inputs.inputs.from_layers`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from .. import costs
from ..fingerprint import file_digest
from ..scenario import Scenario

__all__ = ["PRICE_FIELDS", "price_fields", "geography_key", "layer_stamp", "cost_tables", "energy_mwh_per_mw_year"]

# read only by the pricing step (never by the geography); cooling.<name>.capex_musd_per_mw too
PRICE_FIELDS = (
    "energy.carbon_price_usd_per_tco2", "energy.battery_embodied_kgco2e_per_kwh",
    "money.discount_rate", "money.lifetime_years", "money.building_life_years",
    "facility.site_fixed_musd", "facility.land_acres_per_mw", "facility.land_usd_per_acre",
    "facility.staff_fte_per_site", "facility.staff_fte_per_mw", "facility.staff_usd_per_fte_year",
    "facility.om_share_per_year", "facility.water_price_usd_per_m3", "facility.max_sites",
    "facility.embodied_tco2e_per_mw_it",
    "network.fiber_build_usd_per_km", "network.fiber_om_share_per_year", "network.fiber_life_years",
    "network.sat_price_musd_per_gbps_year", "network.sat_unit_gbps", "network.sat_terminal_usd",
    "network.sat_terminal_gbps", "network.sat_terminal_life_years", "network.inference_gbps_per_mw",
    "network.training_gbps_per_mw", "network.lateral_practical_km",
    "demand.unmet_penalty_usd_per_mwh", "demand.training_mw", "demand.training_min_cluster_mw",
    "demand.resilience_max_share",
)
_HOURLY_READS = ("energy.carbon_price_usd_per_tco2", "money.discount_rate", "money.lifetime_years")
_RANK_BY_COST_READS = ("money.discount_rate",)


def price_fields(sc: Scenario) -> tuple[str, ...]:
    """The fields of ``sc`` that only pricing reads: :data:`PRICE_FIELDS` and every cooling's
    ``capex_musd_per_mw``, less those the geography reads in this scenario (hourly energy prices
    its storage and grid imports with the discount rate and the carbon price; ranking candidates
    by cost discounts their storage)."""
    used = set(_HOURLY_READS if sc.energy.hourly else ()) | set(
        _RANK_BY_COST_READS if sc.candidates.rank_by == "cost" else ())
    return tuple(f for f in PRICE_FIELDS if f not in used) + tuple(
        f"cooling.{name}.capex_musd_per_mw" for name in sc.cooling)


def geography_key(sc: Scenario) -> str:
    """sha256 of what the geography of ``sc`` depends on: the resolved scenario without its
    price fields, its solver settings, name and description, and the bytes of the files it
    reads (:func:`layer_stamp`). Equal keys: the same :func:`siting.inputs.inputs.read_geography`."""
    tree = sc.model_dump(mode="json")
    for key in ("name", "description", "solver"):
        tree.pop(key, None)
    for path in price_fields(sc):
        *parents, leaf = path.split(".")
        node = tree
        for p in parents:
            node = node[p]
        node.pop(leaf)
    text = json.dumps(tree, sort_keys=True) + json.dumps(layer_stamp(sc))
    return hashlib.sha256(text.encode()).hexdigest()


def layer_stamp(sc: Scenario) -> list:
    """``[field, path, sha256 of its bytes]`` of each file the scenario reads: the layers, the
    user's hourly profiles, the constellation's shells and the fiber route table (``None`` for a file that cannot be
    read). The bytes, not the size and modification time: an edit is always seen
    (:func:`siting.fingerprint.file_digest`, read once per file state in a process)."""
    out = []
    files = {f"layers.{name}": getattr(sc.layers, name) for name in ("energy_sources", "demand", "pops", "profiles")}
    files["network.leo_shells"] = sc.network.leo_shells
    if sc.network.fiber_stretch_model == "route":
        files["network.fiber_stretch_table"] = sc.network.fiber_stretch_table
    for name, value in files.items():
        if value is None:
            continue
        path = Path(str(value).split("#")[0])
        out.append([name, str(path), file_digest(path)])
    return out


def energy_mwh_per_mw_year(n_sites: int, cooling: pd.DataFrame, sc: Scenario, pue_annual=None) -> np.ndarray:
    """MWh drawn a year per MW IT at each site and cooling [K, C]: utilisation x 8,760 h x the PUE
    that prices energy (each site's annual-mean PUE with ``facility.climate``, else the cooling's).

    >>> from siting.scenario import load_scenario
    >>> sc = load_scenario(None)
    >>> cool = pd.DataFrame({"pue": [1.0, 1.5]})
    >>> energy_mwh_per_mw_year(1, cool, sc).round(1).tolist()  # utilisation 0.8
    [[7008.0, 10512.0]]
    """
    pue = cooling["pue"].to_numpy(float)[None, :] if pue_annual is None else np.asarray(pue_annual, float)
    return pue * (sc.facility.utilisation * costs.HOURS_PER_YEAR) * np.ones((n_sites, 1))


def cost_tables(sites, cooling, sc: Scenario, pue_annual=None, water=None):
    """Present-value cost coefficients (M$) per component; the model only sums them.

    ``pue_annual`` [K, C] (``facility.climate``) prices energy at each site's own PUE; ``water``
    [K, C] (m3 a year per MW IT) is priced at ``facility.water_price_usd_per_m3`` when above 0.
    With chip generations (``time.chips``) IT hardware is priced too (``it_hardware``:
    ``time.it_hardware_musd_per_mw`` as annuities over ``time.chip_life_years``, each refresh
    bought again), so a refresh is not free.
    Energy and carbon are priced on :func:`energy_mwh_per_mw_year` (the plan's tables count its
    MWh and tonnes with the same figure)."""
    m, f, net = sc.money, sc.facility, sc.network
    pvf = float(costs.pv_annuity_factor(m.discount_rate, m.lifetime_years))
    cap = lambda capex, life: costs.pv_of_capex(capex, m.discount_rate, life, m.lifetime_years)  # noqa: E731
    capex = cooling["capex_musd_per_mw"].to_numpy(float)[None, :]
    mwh = energy_mwh_per_mw_year(len(sites), cooling, sc, pue_annual)
    price = sites["price_usd_per_mwh"].to_numpy(float)[:, None]
    gco2 = sites["gco2_per_kwh"].to_numpy(float)[:, None]
    ones = np.ones((len(sites), 1))
    land = f.land_acres_per_mw * f.land_usd_per_acre / 1e6
    it = {"building": cap(capex, m.building_life_years) * ones,
          "land": cap(land, m.building_life_years) * np.ones_like(mwh),
          "om": capex * f.om_share_per_year * pvf * ones,
          "staff": f.staff_fte_per_mw * f.staff_usd_per_fte_year * pvf / 1e6 * np.ones_like(mwh),
          "energy": mwh * price * pvf / 1e6,
          "carbon": mwh * gco2 / 1e3 * sc.energy.carbon_price_usd_per_tco2 * pvf / 1e6}
    if sc.time.chips:  # IT hardware: annuities over the chips' life, so each refresh is bought again
        it["it_hardware"] = cap(sc.time.it_hardware_musd_per_mw, sc.time.chip_life_years) * np.ones_like(mwh)
    if f.water_price_usd_per_m3 > 0 and water is not None:  # only when priced: the default table is unchanged
        it["water"] = np.asarray(water, float) * f.water_price_usd_per_m3 * pvf / 1e6
    k = len(sites)
    site = {"site_fixed": cap(np.full(k, f.site_fixed_musd), m.building_life_years),
            "staff": np.full(k, f.staff_fte_per_site * f.staff_usd_per_fte_year * pvf / 1e6)}
    fiber_capex = net.fiber_build_usd_per_km * net.fiber_lateral_stretch * sites["lateral_km"].to_numpy() / 1e6
    fiber = {"fiber_capex": cap(fiber_capex, net.fiber_life_years),
             "fiber_om": fiber_capex * net.fiber_om_share_per_year * pvf}
    terminals = np.ceil(net.sat_unit_gbps / net.sat_terminal_gbps)
    sat = {"sat_terminals": np.full(k, cap(terminals * net.sat_terminal_usd / 1e6,
                                             net.sat_terminal_life_years)),
           "sat_fees": np.full(k, net.sat_unit_gbps * net.sat_price_musd_per_gbps_year * pvf)}
    return it, site, fiber, sat
