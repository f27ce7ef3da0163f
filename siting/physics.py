"""Distances and round-trip times: pure, vectorised functions (scalars or numpy arrays in).

Units are in the names: kilometres, milliseconds. Sources of the default constants are in
``data/defaults.csv``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["C_KM_PER_S", "EARTH_RADIUS_KM", "haversine_km", "pairwise_km", "rtt_fiber_ms",
           "rtt_leo_ms", "banded_stretch", "fit_band_stretch", "CONTINENTS", "route_type", "relay_rtt_ms",
           "fit_route_stretch", "route_stretch"]

C_KM_PER_S = 299_792.458  # speed of light in vacuum, SI definition
EARTH_RADIUS_KM = 6_371.0088  # IUGG mean Earth radius
CONTINENTS = ("AF", "AN", "AS", "EU", "NA", "OC", "SA")  # GeoNames continent codes
ANY_ROUTE = "*"  # the rows of a route table that serve the route types it does not list


def haversine_km(lon1, lat1, lon2, lat2):
    """Great-circle distance in km between points given in WGS84 degrees (broadcasts).

    >>> round(float(haversine_km(-122.3321, 47.6062, -74.0060, 40.7128)))  # Seattle - New York
    3866
    >>> haversine_km([0, 0], [0, 0], [0, 180], [1, 0]).round(1).tolist()
    [111.2, 20015.1]
    """
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2))
    a = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def pairwise_km(lon_a, lat_a, lon_b, lat_b):
    """Matrix of great-circle distances (km), rows the points a, columns the points b.

    >>> pairwise_km([0, 10], [0, 0], [0], [0]).round(1).tolist()
    [[0.0], [1112.0]]
    """
    lon_a, lat_a = np.asarray(lon_a, float)[:, None], np.asarray(lat_a, float)[:, None]
    return haversine_km(lon_a, lat_a, np.asarray(lon_b, float)[None, :],
                        np.asarray(lat_b, float)[None, :])


def rtt_fiber_ms(internet_km, lateral_km, *, refractive_index=1.468, internet_stretch=2.1,
                 lateral_stretch=1.3, overhead_ms=2.0):
    """Fiber round trip (ms): the Internet path to the site's PoP, then the site's own lateral.

    ``rtt = 2 n (s_internet d_internet + s_lateral d_lateral) / c + overhead``.

    Seattle - New York (3,865 km) over perfect fiber is 37.9 ms (published 38 ms), and 81.5 ms
    over the Internet path (measured 78 ms):

    >>> round(float(rtt_fiber_ms(3865, 0, internet_stretch=1.0, overhead_ms=0)), 1)
    37.9
    >>> round(float(rtt_fiber_ms(3865, 0)), 1)
    81.5
    """
    path_km = (internet_stretch * np.asarray(internet_km, float)
               + lateral_stretch * np.asarray(lateral_km, float))
    return 2e3 * refractive_index * path_km / C_KM_PER_S + overhead_ms


def banded_stretch(distance_km, min_km, stretch):
    """Path stretch by distance band: the ``stretch`` of the last band whose ``min_km`` is at or
    below each distance (bands sorted by ``min_km``, the first at 0).

    >>> banded_stretch([100, 3000, 20000], [0, 3000, 12000], [2.9, 1.7, 2.0]).tolist()
    [2.9, 1.7, 2.0]
    """
    d = np.asarray(distance_km, float)
    i = np.searchsorted(np.asarray(min_km, float), d, side="right") - 1
    return np.asarray(stretch, float)[np.clip(i, 0, None)]


def fit_band_stretch(distance_km, rtt_ms, min_km, *, refractive_index=1.468, overhead_ms=2.0, within=0.15,
                     grid=None):
    """Per distance band, the stretch s of ``2 n s d / c + overhead`` that puts the most measured
    round trips within ``within`` (relative), ties broken by the least median error (``grid``:
    the stretches tried, default 1.00 to 4.99 by 0.01).

    >>> rtt = 2e3 * 1.468 * 1.5 * np.array([1000, 2000]) / C_KM_PER_S + 2
    >>> fit_band_stretch([1000, 2000], rtt, [0]).round(2).tolist()
    [1.5]
    """
    grid = np.arange(1.0, 5.0, 0.01) if grid is None else np.asarray(grid, float)
    d, rtt = np.asarray(distance_km, float), np.asarray(rtt_ms, float)
    band = np.searchsorted(np.asarray(min_km, float), d, side="right") - 1
    out = []
    for b in range(len(min_km)):
        db, rb = d[band == b], rtt[band == b]
        if not db.size:
            out.append(np.nan)
            continue
        err = np.abs(2e3 * refractive_index * grid[:, None] * db[None, :] / C_KM_PER_S + overhead_ms - rb) / rb
        key = (err <= within + 1e-12).sum(axis=1) - np.median(err, axis=1) / 10  # count first, then median
        out.append(float(grid[np.argmax(key)]))
    return np.array(out)


def route_type(continent_a, continent_b):
    """The route type of an Internet path: its two ends' continents (GeoNames codes), sorted and
    joined by ``-`` (broadcasts).

    >>> route_type(["NA", "EU", "OC"], ["EU", "NA", "OC"]).tolist()
    ['EU-NA', 'EU-NA', 'OC-OC']
    """
    a, b = np.broadcast_arrays(np.asarray(continent_a, str), np.asarray(continent_b, str))
    return np.char.add(np.char.add(np.where(a <= b, a, b), "-"), np.where(a <= b, b, a))


def relay_rtt_ms(end_a, end_b, rtt_ms):
    """For each measured pair, the best round trip relayed through a third measured end
    (``min_x rtt(a, x) + rtt(x, b)``; inf where no relay is measured), and that end.

    A pair measured slower than a relay is a triangle-inequality violation: its packets took a
    longer route than the Internet offered (Lumezanu et al., PAM 2009).

    >>> relay, via = relay_rtt_ms(["x", "x", "y"], ["y", "z", "z"], [100.0, 10.0, 20.0])
    >>> relay.tolist(), via.tolist()  # x-y: 100 ms direct, 10 + 20 through z
    ([30.0, 120.0, 110.0], ['z', 'y', 'x'])
    """
    a, b = np.asarray(end_a, str), np.asarray(end_b, str)
    rtt = np.asarray(rtt_ms, float)
    ends = np.unique(np.concatenate([a, b]))
    m = np.full((len(ends), len(ends)), np.inf)
    i, j = np.searchsorted(ends, a), np.searchsorted(ends, b)
    m[i, j] = m[j, i] = rtt
    via = m[i, :] + m[:, j].T  # pair x third end
    via[np.arange(len(a)), i] = via[np.arange(len(a)), j] = np.inf
    best = via.argmin(axis=1)
    relay = via[np.arange(len(a)), best]
    return relay, np.where(np.isfinite(relay), ends[best], "")


def fit_route_stretch(route, distance_km, rtt_ms, edges_km, **fit):
    """Per route type, the stretch of each distance band (``edges_km``) holding measured pairs,
    fitted by :func:`fit_band_stretch` (``fit``: its keywords). A route's first band with pairs
    starts at 0 km, so a route's bands cover every distance. Returns (route, min_km, stretch, pairs)
    arrays, routes sorted.

    >>> rtt = 2e3 * 1.468 * np.array([1.5, 1.5, 3.0]) * 1000 / C_KM_PER_S + 2
    >>> r, lo, s, n = fit_route_stretch(["EU-NA", "EU-NA", "EU-EU"], [1000] * 3, rtt, [0, 500])
    >>> r.tolist(), lo.tolist(), s.round(2).tolist(), n.tolist()
    (['EU-EU', 'EU-NA'], [0.0, 0.0], [3.0, 1.5], [1, 2])
    """
    route, d, rtt = np.asarray(route, str), np.asarray(distance_km, float), np.asarray(rtt_ms, float)
    edges = np.asarray(edges_km, float)
    out = ([], [], [], [])
    for r in np.unique(route):
        dr, tr = d[route == r], rtt[route == r]
        band = np.searchsorted(edges, dr, side="right") - 1
        used = np.unique(band)
        lows = edges[used].copy()
        lows[0] = 0.0
        for col, vals in zip(out, ([r] * len(used), lows, fit_band_stretch(dr, tr, lows, **fit),
                                   [int((band == u).sum()) for u in used])):
            col.extend(vals)
    return np.array(out[0], str), np.array(out[1], float), np.array(out[2], float), np.array(out[3], int)


def route_stretch(route, distance_km, table_route, table_min_km, table_stretch):
    """Path stretch by route type and distance band: the route's rows of the table (a route it
    does not list takes the ``*`` rows), then :func:`banded_stretch` (broadcasts).

    >>> route_stretch(["EU-NA", "AS-EU", "EU-NA"], [1000, 1000, 8000],
    ...               ["*", "EU-NA", "EU-NA"], [0, 0, 7000], [2.0, 1.5, 1.8]).tolist()
    [1.5, 2.0, 1.8]
    """
    r, d = np.broadcast_arrays(np.asarray(route, str), np.asarray(distance_km, float))
    tr, lo, st = np.asarray(table_route, str), np.asarray(table_min_km, float), np.asarray(table_stretch, float)
    out = np.full(d.shape, np.nan)
    for name in np.unique(r):
        rows = tr == (name if (tr == name).any() else ANY_ROUTE)
        order = np.argsort(lo[rows], kind="stable")
        here = r == name
        out[here] = banded_stretch(d[here], lo[rows][order], st[rows][order])
    return out


def rtt_leo_ms(distance_km, *, altitude_km=550.0, slant_factor=1.3, isl_stretch=1.2,
               overhead_ms=15.0):
    """LEO round trip (ms): up at the site, laser links along the shell, down near the region.

    ``rtt = 2 (2 L + k d (R + h) / R) / c + overhead``, with slant range ``L = slant_factor h``.
    An ideal LEO path (k = 1, L = h, no overhead) crosses perfect fiber near 2,900 km
    (Handley, HotNets 2018: "about 3,000 km"):

    >>> d = np.arange(1000, 6000, 10.0)
    >>> leo = rtt_leo_ms(d, slant_factor=1.0, isl_stretch=1.0, overhead_ms=0)
    >>> fib = rtt_fiber_ms(d, 0, internet_stretch=1.0, overhead_ms=0)
    >>> int(d[np.argmax(leo < fib)])
    2890

    With the defaults LEO beats the Internet fiber path past about 1,900 km:

    >>> int(d[np.argmax(rtt_leo_ms(d) < rtt_fiber_ms(d, 0))])
    1900
    """
    d = np.asarray(distance_km, float)
    path_km = 2 * slant_factor * altitude_km + isl_stretch * d * (
        EARTH_RADIUS_KM + altitude_km) / EARTH_RADIUS_KM
    return 2e3 * path_km / C_KM_PER_S + overhead_ms
