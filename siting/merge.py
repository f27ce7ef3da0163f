"""Merge nearby points (plants into candidate sites, cities into metro regions)."""

from __future__ import annotations

import numpy as np

from .physics import haversine_km

__all__ = ["greedy_cluster"]


def greedy_cluster(lon, lat, weight, radius_km: float) -> np.ndarray:
    """Label points so each cluster is the points within ``radius_km`` of its heaviest member.

    Points are taken in order of decreasing weight; each unlabelled point seeds a cluster that
    takes every unlabelled point within the radius. Returns, per point, the position of its
    cluster's seed (so a seed is labelled with itself).

    >>> greedy_cluster([0, 0.1, 5], [0, 0, 0], [1, 3, 2], 50).tolist()
    [1, 1, 2]
    >>> greedy_cluster([0, 0.1], [0, 0], [1, 3], 0).tolist()
    [0, 1]
    """
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    order = np.argsort(-np.asarray(weight, float), kind="stable")
    label = np.full(lon.size, -1)
    if radius_km <= 0:
        return np.arange(lon.size)
    for seed in order:
        if label[seed] >= 0:
            continue
        free = np.flatnonzero(label < 0)
        near = free[haversine_km(lon[seed], lat[seed], lon[free], lat[free]) <= radius_km]
        label[near] = seed
        label[seed] = seed
    return label
