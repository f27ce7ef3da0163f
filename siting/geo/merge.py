"""Merge nearby points (plants into candidate sites, cities into metro regions).

Radius queries use a k-d tree (``scipy.spatial.cKDTree``) on 3-D unit vectors: the chord between
two points on the sphere is ``2 sin(d / 2R)`` for a great-circle distance ``d``, so a chord-radius
query finds exactly the points within a great-circle radius, with no special case at the poles
or across the antimeridian. The tree only proposes candidates (with a small safety margin); the
decision is the same ``haversine_km(...) <= radius_km`` test as the all-pairs algorithm it
replaces, so labels are identical (tests/geo/test_merge.py checks this against a slow reference).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from scipy.spatial import cKDTree

from ..physics import EARTH_RADIUS_KM, haversine_km

__all__ = ["greedy_cluster", "unit_vectors", "chord_radius"]

_CHORD_MARGIN = 1e-9  # unit-sphere chord (~6 mm): candidates only, haversine decides


def unit_vectors(lon, lat) -> np.ndarray:
    """Points given in WGS84 degrees as unit vectors on the sphere, shape (n, 3).

    >>> unit_vectors([0, 90, 0], [0, 0, 90]).round(12).tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    lon, lat = np.radians(np.asarray(lon, float)), np.radians(np.asarray(lat, float))
    cos_lat = np.cos(lat)
    return np.stack([cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)], axis=-1)


def chord_radius(radius_km):
    """Chord length on the unit sphere of a great-circle distance in km (``2 sin(d / 2R)``).

    Distances beyond half the circumference give the diameter, 2.

    >>> round(float(chord_radius(EARTH_RADIUS_KM * np.pi / 3)), 12)  # 60 degrees apart
    1.0
    >>> chord_radius([0, 1e6]).tolist()
    [0.0, 2.0]
    """
    angle = np.minimum(np.asarray(radius_km, float) / EARTH_RADIUS_KM, np.pi)
    return 2 * np.sin(angle / 2)


def greedy_cluster(lon, lat, weight, radius_km: float, *,
                   progress: Callable[[str], None] | None = None, progress_every_s: float = 5.0) -> np.ndarray:
    """Label points so each cluster is the points within ``radius_km`` of its heaviest member.

    Points are taken in order of decreasing weight (ties: earlier position first); each
    unlabelled point seeds a cluster that takes every unlabelled point within the radius. Returns,
    per point, the position of its cluster's seed (so a seed is labelled with itself). A point
    with a non-finite coordinate is a cluster of its own.

    ``progress``, if given, is called with a line every ``progress_every_s`` seconds while
    merging and once at the end.

    >>> greedy_cluster([0, 0.1, 5], [0, 0, 0], [1, 3, 2], 50).tolist()
    [1, 1, 2]
    >>> greedy_cluster([0, 0.1], [0, 0], [1, 3], 0).tolist()
    [0, 1]
    >>> greedy_cluster([179.9, -179.9, 0], [0, 0, 89.99], [1, 2, 3], 30).tolist()  # antimeridian
    [1, 1, 2]
    """
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    n = lon.size
    if radius_km <= 0 or n == 0:
        return np.arange(n)
    t0 = last = time.monotonic()
    order = np.argsort(-np.asarray(weight, float), kind="stable")
    finite = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
    tree = cKDTree(unit_vectors(lon[finite], lat[finite]))
    reach = float(chord_radius(radius_km)) + _CHORD_MARGIN
    xyz = tree.data
    label = np.full(n, -1)
    pos_in_tree = np.full(n, -1)
    pos_in_tree[finite] = np.arange(finite.size)
    n_seeds = 0
    for i, seed in enumerate(order):
        if label[seed] >= 0:
            continue
        n_seeds += 1
        label[seed] = seed
        t = pos_in_tree[seed]
        if t >= 0:
            near = finite[tree.query_ball_point(xyz[t], reach)]
            near = near[label[near] < 0]
            near = near[haversine_km(lon[seed], lat[seed], lon[near], lat[near]) <= radius_km]
            label[near] = seed
        if progress is not None and time.monotonic() - last >= progress_every_s:
            last = time.monotonic()
            progress(f"merging within {radius_km:g} km: {i + 1:,} of {n:,} points by weight, "
                     f"{n_seeds:,} clusters so far")
    if progress is not None:
        progress(f"merged {n:,} points within {radius_km:g} km into {n_seeds:,} clusters "
                 f"in {time.monotonic() - t0:.1f} s")
    return label
