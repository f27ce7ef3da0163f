"""Seeded synthetic siting instances at planet scale, for benchmarks and tests.

:func:`generate` places demand regions around real metro centres and candidate sites spread over
the inhabited latitudes, draws firm power, fuels and prices as the real layers have them, keeps
only latency-eligible (region, site, link) arcs and prices everything with the default scenario's
economics (``models/default.yaml``: cooling, training, modules, resilience, backhaul, unmet demand),
so the model sees an instance shaped like ``from_layers`` output at any size. Nothing is all-pairs:
a k-d tree on unit vectors (as :mod:`siting.geo.merge`) proposes the sites within each region's reach,
and the latency test decides.

The latency limit is calibrated so a region has about ``arcs_per_region`` eligible arcs (fiber
and satellite counted apart); a region with fewer than ``min_sites`` sites in reach gets the
round trip to its ``min_sites``-th nearest site instead (with ``resilience_max_share = 1/2`` a
region needs two sites).

>>> inp = generate(20, 100, seed=1)
>>> inp.size["candidates"], inp.size["regions"]
(20, 100)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .. import costs, physics
from ..geo.merge import chord_radius, unit_vectors
from ..scenario import Scenario, load_scenario
from .inputs import SitingInputs, cooling_table
from .pricing import cost_tables

__all__ = ["SIZES", "METROS", "generate", "reach_km"]

SIZES = ((100, 1_000), (300, 3_000), (1_000, 10_000))  # (sites, regions) of the scale benchmark

# Metro centres (longitude, latitude, population in millions; UN World Urbanization Prospects
# 2018 order of magnitude): regions cluster around them, weighted by population.
METROS = pd.DataFrame([
    ("Tokyo", 139.69, 35.69, 37.4), ("Delhi", 77.21, 28.61, 28.5), ("Shanghai", 121.47, 31.23, 25.6),
    ("Sao Paulo", -46.63, -23.55, 21.7), ("Mexico City", -99.13, 19.43, 21.6), ("Cairo", 31.24, 30.04, 20.1),
    ("Mumbai", 72.88, 19.08, 20.0), ("Beijing", 116.41, 39.90, 19.6), ("Dhaka", 90.41, 23.81, 19.6),
    ("Osaka", 135.50, 34.69, 19.3), ("New York", -74.01, 40.71, 18.8), ("Karachi", 67.01, 24.86, 15.4),
    ("Buenos Aires", -58.38, -34.60, 15.0), ("Istanbul", 28.98, 41.01, 14.8), ("Kolkata", 88.36, 22.57, 14.7),
    ("Manila", 120.98, 14.60, 13.5), ("Lagos", 3.38, 6.52, 13.5), ("Rio de Janeiro", -43.17, -22.91, 13.3),
    ("Guangzhou", 113.26, 23.13, 12.6), ("Los Angeles", -118.24, 34.05, 12.5), ("Moscow", 37.62, 55.76, 12.4),
    ("Kinshasa", 15.27, -4.44, 13.2), ("Paris", 2.35, 48.86, 10.9), ("Jakarta", 106.85, -6.21, 10.5),
    ("Lima", -77.04, -12.05, 10.4), ("Bangkok", 100.50, 13.76, 10.2), ("Seoul", 126.98, 37.57, 9.96),
    ("London", -0.13, 51.51, 9.0), ("Tehran", 51.39, 35.69, 8.9), ("Chicago", -87.63, 41.88, 8.9),
    ("Bogota", -74.07, 4.71, 10.6), ("Johannesburg", 28.05, -26.20, 5.6), ("Nairobi", 36.82, -1.29, 4.4),
    ("Sydney", 151.21, -33.87, 4.9), ("Toronto", -79.38, 43.65, 6.1), ("Madrid", -3.70, 40.42, 6.5),
    ("Riyadh", 46.68, 24.71, 7.2), ("Ho Chi Minh City", 106.63, 10.82, 8.1), ("Santiago", -70.67, -33.45, 6.7),
    ("Berlin", 13.40, 52.52, 3.6), ("Singapore", 103.82, 1.35, 5.8), ("Addis Ababa", 38.75, 9.03, 4.6),
], columns=["name", "longitude", "latitude", "population_m"])

# Fuel mix of the default scenario's kept candidates (the largest merged sources), EST.
FUEL_SHARE = {"hydro": 0.55, "nuclear": 0.2, "wind": 0.1, "solar": 0.1, "geothermal": 0.05}


def _offset(rng: np.random.Generator, lon, lat, distance_km) -> tuple[np.ndarray, np.ndarray]:
    """Points ``distance_km`` from (lon, lat) on random bearings (great-circle destination)."""
    lat1, lon1 = np.radians(lat), np.radians(lon)
    bearing = rng.uniform(0.0, 2 * np.pi, np.shape(distance_km))
    d = np.asarray(distance_km, float) / physics.EARTH_RADIUS_KM
    lat2 = np.arcsin(np.sin(lat1) * np.cos(d) + np.cos(lat1) * np.sin(d) * np.cos(bearing))
    lon2 = lon1 + np.arctan2(np.sin(bearing) * np.sin(d) * np.cos(lat1), np.cos(d) - np.sin(lat1) * np.sin(lat2))
    return (np.degrees(lon2) + 540.0) % 360.0 - 180.0, np.degrees(lat2)


def _regions(rng: np.random.Generator, n: int, sc: Scenario) -> pd.DataFrame:
    """Regions scattered around the metro centres (half-normal ~400 km), population log-normal
    around the default's median metro (5.8 M, at least the default's 2 M)."""
    w = METROS["population_m"].to_numpy()
    centre = rng.choice(len(METROS), n, p=w / w.sum())
    lon, lat = _offset(rng, METROS["longitude"].to_numpy()[centre], METROS["latitude"].to_numpy()[centre],
                       np.abs(rng.normal(0.0, 400.0, n)))
    population = np.maximum(rng.lognormal(np.log(5.8e6), 0.7, n), sc.demand.min_population)
    return pd.DataFrame({"region_id": [f"R{i:05d}" for i in range(n)],
                         "name": [f"{METROS['name'].iloc[c]} {i}" for i, c in enumerate(centre)],
                         "population": population, "longitude": lon, "latitude": lat,
                         "inference_mw": population * sc.demand.inference_w_per_person / 1e6})


def _sites(rng: np.random.Generator, n: int, sc: Scenario) -> pd.DataFrame:
    """Sites: 60 % within ~1,500 km of a metro centre (plants are built for demand), the rest
    uniform on the sphere between 50 S and 70 N; fuel, capacity factor, price and firm power as
    the layers derive them (``inputs._plant_table``)."""
    near = rng.random(n) < 0.6
    centre = rng.integers(0, len(METROS), n)
    lon_c, lat_c = _offset(rng, METROS["longitude"].to_numpy()[centre], METROS["latitude"].to_numpy()[centre],
                           np.abs(rng.normal(0.0, 1500.0, n)))
    z = rng.uniform(np.sin(np.radians(-50.0)), np.sin(np.radians(70.0)), n)
    lon = np.where(near, lon_c, rng.uniform(-180.0, 180.0, n))
    lat = np.where(near, lat_c, np.degrees(np.arcsin(z)))
    names = np.array(list(FUEL_SHARE))
    fuel = names[rng.choice(len(names), n, p=np.array(list(FUEL_SHARE.values())))]
    par = pd.DataFrame({f: sc.energy.fuels[f].model_dump() for f in names}).T.loc[fuel]
    ref_cf = par["ref_capacity_factor"].to_numpy(float)
    cf = np.clip(ref_cf * rng.uniform(0.6, 1.4, n), 0.05, 0.95)
    price = costs.price_by_capacity_factor(par["price_usd_per_mwh"].to_numpy(float), ref_cf, cf,
                                           sc.energy.price_clamp_low, sc.energy.price_clamp_high)
    capacity = np.clip(rng.lognormal(np.log(2800.0), 0.6, n), 500.0, 27_000.0)
    firm = capacity * par["firm_fraction"].to_numpy(float) * sc.facility.power_share_available
    return pd.DataFrame({"site_id": [f"S{i:05d}" for i in range(n)], "name": [f"site {i}" for i in range(n)],
                         "fuel": fuel, "longitude": lon, "latitude": lat, "capacity_mw": capacity,
                         "firm_mw": firm, "capacity_factor": cf, "price_usd_per_mwh": price,
                         "gco2_per_kwh": par["lifecycle_gco2_per_kwh"].to_numpy(float),
                         "lateral_km": np.clip(rng.lognormal(np.log(285.0), 0.9, n), 10.0, 3500.0)})


def _rtt(d_km, lateral_km, sc: Scenario) -> dict[str, np.ndarray]:
    """Round trips (ms) by link: fiber over the Internet to the site's PoP (taken at the site's
    distance) then its lateral, and LEO (the closed form); only the links the scenario allows.
    Fiber on the constant Internet stretch (``network.fiber_internet_stretch``) whatever
    ``fiber_stretch_model`` says: synthetic places have no continent, and the k-d tree's reach
    needs a round trip that grows with distance (the fitted bands are steeper below 1,500 km)."""
    net = sc.network
    out = {}
    if net.allow_fiber:
        out["fiber"] = net.model_copy(update={"fiber_stretch_model": "constant"}).fiber_rtt_ms(d_km, lateral_km)
    if net.allow_satellite:
        out["satellite"] = net.leo_rtt_ms(d_km)
    return out


def reach_km(latency_ms, sc: Scenario) -> np.ndarray:
    """The farthest great-circle distance (km) at which any allowed link meets ``latency_ms``
    (both round trips grow with distance; fiber is taken with no lateral, its shortest).

    >>> sc = load_scenario(None)
    >>> float(np.round(reach_km(100.0, sc)))  # LEO: (85 ms x c / 2 - 2 x 1.3 x 550 km) / (1.2 x 1.086)
    8677.0
    """
    grid = np.linspace(0.0, np.pi * physics.EARTH_RADIUS_KM, 4097)
    best = np.min(np.stack(list(_rtt(grid, 0.0, sc).values())), axis=0)  # increasing in distance
    return np.interp(np.asarray(latency_ms, float), best, grid, left=0.0, right=grid[-1])


def _limits(tree: cKDTree, regions: pd.DataFrame, sites: pd.DataFrame, sc: Scenario, arcs_per_region: int,
            min_sites: int) -> tuple[np.ndarray, float]:
    """Each region's latency limit (ms): one instance-wide limit giving about ``arcs_per_region``
    arcs per region among its nearest sites, raised where fewer than ``min_sites`` sites are in reach."""
    k = min(len(sites), max(2 * arcs_per_region, min_sites))
    xyz = unit_vectors(regions["longitude"], regions["latitude"])
    chord, near = tree.query(xyz, k=k)
    chord, near = chord.reshape(len(regions), k), near.reshape(len(regions), k)
    d = physics.EARTH_RADIUS_KM * 2 * np.arcsin(np.clip(chord / 2, 0.0, 1.0))
    rtt = _rtt(d, sites["lateral_km"].to_numpy()[near], sc)
    best = np.min(np.stack(list(rtt.values())), axis=0)  # (R, k): the faster link per nearest site
    every = np.sort(np.concatenate([v.ravel() for v in rtt.values()]))
    limit = float(every[min(arcs_per_region * len(regions), every.size) - 1])
    # + 1 ns: the chord-based distance here and the haversine in _arcs differ in the last bits
    floor = np.sort(best, axis=1)[:, min(min_sites, k) - 1] + 1e-6
    return np.maximum(limit, floor), limit


def _arcs(tree: cKDTree, regions: pd.DataFrame, sites: pd.DataFrame, sc: Scenario) -> pd.DataFrame:
    """Eligible (region, site, link) arcs: the tree proposes sites within reach, RTT decides."""
    xyz = unit_vectors(regions["longitude"], regions["latitude"])
    limit = regions["latency_ms"].to_numpy(float)
    found = tree.query_ball_point(xyz, chord_radius(reach_km(limit, sc)) + 1e-9, return_sorted=True)
    counts = np.fromiter(map(len, found), np.int64, len(found))
    r = np.repeat(np.arange(len(regions)), counts)
    k = np.fromiter((s for lst in found for s in lst), np.int64, int(counts.sum()))
    d = physics.haversine_km(regions["longitude"].to_numpy()[r], regions["latitude"].to_numpy()[r],
                             sites["longitude"].to_numpy()[k], sites["latitude"].to_numpy()[k])
    parts = []
    for link, rtt in _rtt(d, sites["lateral_km"].to_numpy()[k], sc).items():
        ok = rtt <= limit[r]
        parts.append(pd.DataFrame({"region": r[ok], "site": k[ok], "link": link, "rtt_ms": rtt[ok],
                                   "distance_km": d[ok]}))
    arcs = pd.concat(parts, ignore_index=True).sort_values(["region", "site", "link"], kind="stable")
    arcs["cost_musd_per_mw"] = 0.0
    return arcs.reset_index(drop=True)


def generate(n_sites: int, n_regions: int, seed: int = 0, *, arcs_per_region: int = 30, min_sites: int = 2,
             scenario: Scenario | None = None) -> SitingInputs:
    """A synthetic instance of ``n_sites`` candidates and ``n_regions`` regions (same seed, same instance).

    Economics, training demand, modules, resilience share, backhaul and the unmet-demand price come
    from ``scenario`` (default: ``models/default.yaml``); the geography, firm power and prices are drawn
    from ``numpy.random.default_rng(seed)``.
    """
    if n_sites < 1 or n_regions < 1:
        raise ValueError(f"generate: need at least one site and one region (got {n_sites}, {n_regions})")
    sc = scenario if scenario is not None else load_scenario(None)
    rng = np.random.default_rng(seed)
    regions = _regions(rng, n_regions, sc)
    sites = _sites(rng, n_sites, sc)
    tree = cKDTree(unit_vectors(sites["longitude"], sites["latitude"]))
    regions["latency_ms"], limit = _limits(tree, regions, sites, sc, arcs_per_region, min_sites)
    cooling = cooling_table(sc)
    sites["max_it_mw"] = sites["firm_mw"] / cooling["pue"].astype(float).min()
    arcs = _arcs(tree, regions, sites, sc)
    it, site, fiber, sat = cost_tables(sites, cooling, sc)
    d, f, net = sc.demand, sc.facility, sc.network
    pv_mwh = f.utilisation * costs.HOURS_PER_YEAR * float(costs.pv_annuity_factor(sc.money.discount_rate,
                                                                                   sc.money.lifetime_years))
    unmet = None if d.unmet_penalty_usd_per_mwh is None else d.unmet_penalty_usd_per_mwh * pv_mwh / 1e6
    raised = int((regions["latency_ms"] > limit).sum())
    notes = [f"synthetic instance (siting.inputs.instances, seed {seed}): {n_sites} sites, {n_regions} regions, "
             f"{len(arcs):,} arcs ({len(arcs) / n_regions:.1f} per region); latency limit {limit:.1f} ms, "
             f"raised for {raised} regions to reach {min_sites} sites"]
    return SitingInputs(sites, regions, arcs, cooling, it, site, fiber, sat, sat_unit_gbps=net.sat_unit_gbps,
                        gbps_per_mw=net.inference_gbps_per_mw, training_mw=d.training_mw,
                        training_min_cluster_mw=d.training_min_cluster_mw, module_mw=f.module_mw,
                        resilience_max_share=d.resilience_max_share, unmet_cost_musd_per_mw=unmet,
                        max_sites=f.max_sites, notes=notes, training_gbps_per_mw=net.training_gbps_per_mw,
                        training_links=tuple(b for b, ok in (("fiber", net.allow_fiber),
                                                             ("satellite", net.allow_satellite)) if ok))
