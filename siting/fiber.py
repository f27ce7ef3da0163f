"""The Internet path stretch by route type, fitted to measured inter-city round trips (issue 21).

A route type is the pair of continents its ends sit on (:func:`siting.physics.route_type`:
``EU-NA`` is trans-Atlantic, ``NA-OC`` trans-Pacific, ``EU-EU`` inside Europe); inside each, the
stretch by distance band. The table (``data/fiber_stretch_routes.csv``: ``route``, ``min_km``,
``stretch``) is :func:`fit_measured` of ``data/rtt_pairs_measured.csv``; route types it has no
measurement for take its ``*`` rows, the distance bands fitted to every pair.

Before the fit, one stated data-quality rule: a pair measured slower than ``DETOUR_FACTOR`` times
the best relay through a third measured city is a routing detour (a triangle-inequality
violation that large: Lumezanu et al., "Triangle Inequality and Routing Policy Violations in the
Internet", PAM 2009; Zheng et al., "Internet Routing Policies and Round-Trip-Times", PAM 2005),
not the fiber route, and is left out of the fit (:func:`detours` says which and why).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import physics
from .errors import InputError, clip
from .paths import DATA_DIR

__all__ = ["ROUTE_TABLE", "DETOUR_FACTOR", "BAND_EDGES_KM", "read_route_table", "check_continents",
           "detours", "fit_measured", "nearest_continent", "route_stretch"]

ROUTE_TABLE = DATA_DIR / "fiber_stretch_routes.csv"
DETOUR_FACTOR = 1.5  # measured RTT above 1.5 x the best measured relay: a routing detour
# distance bands inside each route type: metro/regional below 1,500 km, then every 3,000 km
BAND_EDGES_KM = (0.0, 1500.0, 3000.0, 6000.0, 9000.0, 12000.0)


def check_continents(values, layer: str, ids) -> np.ndarray:
    """The continent codes as text, or :class:`InputError` naming the first row whose code is
    blank or not a GeoNames continent (``AF AN AS EU NA OC SA``)."""
    v = pd.Series(values).fillna("").astype(str).str.strip().to_numpy()
    bad = np.flatnonzero(~np.isin(v, physics.CONTINENTS))
    if bad.size:
        raise InputError(layer, "continent", f"unknown continent {clip(v[bad[0]])!r}: the route type of a "
                         f"fiber path needs a GeoNames continent code ({' '.join(physics.CONTINENTS)})",
                         list(ids)[bad[0]])
    return v


def read_route_table(path: Path = ROUTE_TABLE) -> pd.DataFrame:
    """The stretch by route type and band, checked: every route ``XX-YY`` of known continents
    (sorted) or ``*``, ``*`` present, ``min_km`` >= 0 with each route's first band at 0, and
    ``stretch`` >= 1 (a path no shorter than the great circle)."""
    t = pd.read_csv(path, dtype={"route": str}, keep_default_na=False)
    layer = f"fiber stretch table {clip(Path(path).name)}"
    for col in ("route", "min_km", "stretch"):
        if col not in t:
            raise InputError(layer, col, "missing required column")
    known = {"-".join(sorted((a, b))) for a in physics.CONTINENTS for b in physics.CONTINENTS}
    for i, (route, lo, s) in enumerate(zip(t["route"], pd.to_numeric(t["min_km"], errors="coerce"),
                                           pd.to_numeric(t["stretch"], errors="coerce"))):
        if route != physics.ANY_ROUTE and route not in known:
            raise InputError(layer, "route", f"unknown route type {clip(route)!r}: two GeoNames continent "
                             f"codes, sorted, joined by '-' (e.g. EU-NA), or '*'", i + 1)
        if not (np.isfinite(lo) and lo >= 0):
            raise InputError(layer, "min_km", f"must be a number >= 0 (got {clip(t['min_km'][i])!r})", i + 1)
        if not (np.isfinite(s) and s >= 1):
            raise InputError(layer, "stretch", f"must be a number >= 1, a path no shorter than the great "
                             f"circle (got {clip(t['stretch'][i])!r})", i + 1)
    t["min_km"], t["stretch"] = t["min_km"].astype(float), t["stretch"].astype(float)
    if physics.ANY_ROUTE not in set(t["route"]):
        raise InputError(layer, "route", "no '*' rows: the route types without a row of their own need them")
    first = t.groupby("route")["min_km"].min()
    if (first > 0).any():
        raise InputError(layer, "min_km", f"route {first.index[first > 0][0]!r} has no band from 0 km")
    return t


def nearest_continent(lon, lat, places: Path = DATA_DIR / "cities.csv") -> np.ndarray:
    """The continent (GeoNames code) of the nearest place in ``places`` to each point. Read with
    ``keep_default_na=False``: pandas would otherwise read North America's "NA" as missing.

    >>> nearest_continent([-74.0, 2.35], [40.7, 48.86]).tolist()  # New York, Paris
    ['NA', 'EU']
    """
    t = pd.read_csv(places, usecols=["continent", "longitude", "latitude"], keep_default_na=False)
    near = physics.pairwise_km(np.atleast_1d(lon), np.atleast_1d(lat), t["longitude"], t["latitude"]).argmin(axis=1)
    return t["continent"].to_numpy(str)[near]


def route_stretch(route, distance_km, table: pd.DataFrame):
    """The stretch of each path from the table (:func:`siting.physics.route_stretch`)."""
    return physics.route_stretch(route, distance_km, table["route"], table["min_km"], table["stretch"])


def detours(t: pd.DataFrame, factor: float = DETOUR_FACTOR) -> pd.DataFrame:
    """The measured pairs (``city_a``, ``city_b``, ``measured_rtt_ms``) with the best relay through a
    third measured city and whether the pair is a routing detour (measured > ``factor`` x relay)."""
    relay, via = physics.relay_rtt_ms(t["city_a"], t["city_b"], t["measured_rtt_ms"])
    return t.assign(relay_ms=relay, relay_via=via, detour=t["measured_rtt_ms"].to_numpy() > factor * relay)


def fit_measured(t: pd.DataFrame, edges_km=BAND_EDGES_KM, factor: float = DETOUR_FACTOR) -> pd.DataFrame:
    """The route table fitted to measured pairs (columns ``city_a``, ``city_b``, ``lon_a`` ... ``lat_b``,
    ``continent_a``, ``continent_b``, ``measured_rtt_ms``), routing detours left out: per route type
    and per band (:func:`siting.physics.fit_route_stretch`), and the ``*`` rows over every kept pair."""
    keep = ~detours(t, factor)["detour"].to_numpy()
    k = t[keep]
    km = physics.haversine_km(k["lon_a"], k["lat_a"], k["lon_b"], k["lat_b"])
    rtt = k["measured_rtt_ms"].to_numpy(float)
    routes = physics.route_type(k["continent_a"], k["continent_b"])
    parts = [physics.fit_route_stretch(np.full(len(k), physics.ANY_ROUTE), km, rtt, edges_km),
             physics.fit_route_stretch(routes, km, rtt, edges_km)]
    out = pd.concat([pd.DataFrame(dict(zip(("route", "min_km", "stretch", "pairs"), p))) for p in parts],
                    ignore_index=True)
    return out.assign(min_km=out["min_km"].astype(int), stretch=out["stretch"].round(2))  # the grid's 0.01
