"""Merging plants into candidate sites: the all-pairs scan against the k-d tree.

    python bench/merge.py [--sizes 20000,50000,200000] [--reference-sizes 20000,50000] [--radius-km 50]

Synthetic plants (seeded): 85 % drawn around the real plants of data/energy_sources.csv
(Gaussian, sigma 5-80 km), 15 % uniform over the sphere; weights log-normal (MW). Times are
wall seconds of one run; peak memory is tracemalloc's peak during a second run of the same call
(numpy and Python allocations). The all-pairs reference is run on the ``--reference-sizes`` only;
its time at larger sizes is extrapolated with a power law fitted to the measured sizes (marked
``~``). Labels are checked equal wherever both ran. With scikit-learn installed, a BallTree
(metric="haversine") variant of the same loop is timed as well.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from siting.geo.merge import greedy_cluster
from siting.physics import EARTH_RADIUS_KM, haversine_km

DATA = Path(__file__).resolve().parents[1] / "data" / "energy_sources.csv"


def greedy_cluster_reference(lon, lat, weight, radius_km: float) -> np.ndarray:
    """The all-pairs algorithm as it was before the spatial index (O(n * clusters))."""
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


def greedy_cluster_balltree(lon, lat, weight, radius_km: float) -> np.ndarray:
    """The same loop on scikit-learn's BallTree(metric="haversine") (for comparison only)."""
    from sklearn.neighbors import BallTree

    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    order = np.argsort(-np.asarray(weight, float), kind="stable")
    tree = BallTree(np.radians(np.column_stack([lat, lon])), metric="haversine")
    reach = radius_km / EARTH_RADIUS_KM + 1e-9
    label = np.full(lon.size, -1)
    for seed in order:
        if label[seed] >= 0:
            continue
        label[seed] = seed
        near = tree.query_radius(tree.data[seed:seed + 1], reach)[0]
        near = near[label[near] < 0]
        label[near[haversine_km(lon[seed], lat[seed], lon[near], lat[near]) <= radius_km]] = seed
    return label


def synthetic_plants(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` plants (lon, lat, weight MW) clustered around real plant locations plus noise."""
    rng = np.random.default_rng(seed)
    real = pd.read_csv(DATA, usecols=["longitude", "latitude"])
    n_real = int(0.85 * n)
    pick = rng.integers(0, len(real), n_real)
    sigma_km = rng.choice([5.0, 20.0, 80.0], n_real)
    lat = real["latitude"].to_numpy()[pick] + rng.normal(0, 1, n_real) * sigma_km / 111.2
    lat = np.clip(lat, -89.9, 89.9)
    lon = (real["longitude"].to_numpy()[pick]
           + rng.normal(0, 1, n_real) * sigma_km / (111.2 * np.cos(np.radians(lat))))
    lon = (lon + 180.0) % 360.0 - 180.0
    n_noise = n - n_real
    lon = np.concatenate([lon, rng.uniform(-180, 180, n_noise)])
    lat = np.concatenate([lat, np.degrees(np.arcsin(rng.uniform(-1, 1, n_noise)))])
    weight = rng.lognormal(np.log(50.0), 1.5, n).round(1)  # MW; rounding makes ties
    return lon, lat, weight


def measure(fn, *args) -> tuple[np.ndarray, float, float]:
    """(labels, wall seconds, tracemalloc peak MB) of ``fn(*args)``: one timed run, one traced run."""
    t0 = time.perf_counter()
    label = fn(*args)
    seconds = time.perf_counter() - t0
    tracemalloc.start()
    fn(*args)
    peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return label, seconds, peak_mb


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="20000,50000,200000")
    ap.add_argument("--reference-sizes", default="20000,50000")
    ap.add_argument("--radius-km", type=float, default=50.0)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    ref_sizes = {int(s) for s in args.reference_sizes.split(",") if s}
    try:
        import sklearn  # noqa: F401
        balltree = True
    except ImportError:
        balltree = False
    print(f"merge at {args.radius_km:g} km; synthetic plants around data/energy_sources.csv (seed 0)")
    print(f"{'plants':>8} {'clusters':>9} {'all-pairs s':>12} {'all-pairs MB':>13} {'k-d tree s':>11} "
          f"{'k-d tree MB':>12} {'speed-up':>9} {'BallTree s':>11} {'same labels':>12}")
    ref_fit: list[tuple[int, float]] = []
    for n in sizes:
        lon, lat, weight = synthetic_plants(n)
        new, new_s, new_mb = measure(greedy_cluster, lon, lat, weight, args.radius_km)
        ball_s = "-"
        if balltree:
            t0 = time.perf_counter()
            ball = greedy_cluster_balltree(lon, lat, weight, args.radius_km)
            ball_s = f"{time.perf_counter() - t0:.2f}"
            assert np.array_equal(ball, new)
        if n in ref_sizes:
            old, old_s, old_mb = measure(greedy_cluster_reference, lon, lat, weight, args.radius_km)
            ref_fit.append((n, old_s))
            same = "yes" if np.array_equal(old, new) else "NO"
            old_txt, mb_txt = f"{old_s:.1f}", f"{old_mb:.1f}"
        elif len(ref_fit) >= 2:
            (n1, s1), (n2, s2) = ref_fit[-2:]
            p = np.log(s2 / s1) / np.log(n2 / n1)
            old_s = s2 * (n / n2) ** p
            old_txt, mb_txt, same = f"~{old_s:.0f} (n^{p:.2f})", "-", "-"
        else:
            old_s, old_txt, mb_txt, same = float("nan"), "-", "-", "-"
        print(f"{n:8,d} {len(np.unique(new)):9,d} {old_txt:>12} {mb_txt:>13} {new_s:11.2f} {new_mb:12.1f} "
              f"{old_s / new_s:8.0f}x {ball_s:>11} {same:>12}")


if __name__ == "__main__":
    main()
