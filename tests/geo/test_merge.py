"""greedy_cluster (k-d tree) gives exactly the labels of the all-pairs algorithm it replaced."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siting.geo.merge import chord_radius, greedy_cluster, unit_vectors
from siting.physics import EARTH_RADIUS_KM, haversine_km


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


# places where spherical geometry bites: poles, the antimeridian, and an ordinary spot
CENTRES = [(0.0, 90.0), (0.0, -90.0), (180.0, 0.0), (-180.0, 60.0), (179.99, -89.9), (10.0, 45.0)]


@st.composite
def point_sets(draw):
    n = draw(st.integers(0, 60))
    centre = draw(st.sampled_from(CENTRES))
    spread_deg = draw(st.sampled_from([0.01, 0.5, 3.0, 40.0]))
    coord = st.floats(-1.0, 1.0, allow_nan=False)
    lon = np.array([centre[0] + spread_deg * draw(coord) for _ in range(n)])
    lat = np.clip([centre[1] + spread_deg * draw(coord) for _ in range(n)], -90.0, 90.0)
    lon = (lon + 180.0) % 360.0 - 180.0 if draw(st.booleans()) else lon  # both ±180 spellings
    # few distinct weights: many ties, so the stable order matters
    weight = np.array([draw(st.integers(0, 3)) for _ in range(n)], float)
    if n and draw(st.booleans()):  # duplicates: distance exactly 0
        lon[n // 2:], lat[n // 2:] = lon[0], lat[0]
    radius_km = draw(st.sampled_from([0.0, 1e-3, 1.0, 30.0, 100.0, 500.0, 5_000.0, 25_000.0]))
    return lon, lat, weight, radius_km


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(point_sets())
def test_same_labels_as_all_pairs_reference(case):
    lon, lat, weight, radius_km = case
    assert greedy_cluster(lon, lat, weight, radius_km).tolist() == \
        greedy_cluster_reference(lon, lat, weight, radius_km).tolist()


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([5.0, 50.0, 300.0]))
def test_same_labels_on_random_world(seed, radius_km):
    rng = np.random.default_rng(seed)
    n = 400
    lon, lat = rng.uniform(-180, 180, n), np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    lon[:100], lat[:100] = lon[0] + rng.normal(0, 1, 100), lat[0] + rng.normal(0, 0.5, 100).clip(-5, 5)
    lat = lat.clip(-90, 90)
    weight = rng.integers(0, 5, n).astype(float)
    assert np.array_equal(greedy_cluster(lon, lat, weight, radius_km),
                          greedy_cluster_reference(lon, lat, weight, radius_km))


def test_points_exactly_on_the_radius_match_the_reference():
    # points at exactly the computed haversine distance of the seed: the boundary is inclusive
    lon = np.array([0.0, 0.5, 0.0, -0.5])
    lat = np.array([0.0, 0.0, 0.5, 0.0])
    radius_km = float(haversine_km(0, 0, 0.5, 0))
    got = greedy_cluster(lon, lat, [9, 1, 1, 1], radius_km)
    assert got.tolist() == greedy_cluster_reference(lon, lat, [9, 1, 1, 1], radius_km).tolist() == [0, 0, 0, 0]


def test_non_finite_points_are_their_own_clusters():
    lon, lat = [0.0, np.nan, 0.01, 0.0], [0.0, 0.0, 0.0, np.inf]
    with np.errstate(invalid="ignore"):
        expected = greedy_cluster_reference(lon, lat, [1, 5, 2, 3], 50).tolist()
    assert greedy_cluster(lon, lat, [1, 5, 2, 3], 50).tolist() == expected == [2, 1, 2, 3]


def test_empty_and_radius_zero():
    assert greedy_cluster([], [], [], 10).tolist() == []
    assert greedy_cluster([1, 1], [2, 2], [1, 1], 0).tolist() == [0, 1]  # 0 km merges nothing


def test_chord_radius_is_the_unit_vector_chord():
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(-180, 180, (2, 50)), rng.uniform(-90, 90, (2, 50))
    chord = np.linalg.norm(unit_vectors(lon[0], lat[0]) - unit_vectors(lon[1], lat[1]), axis=1)
    assert chord == pytest.approx(chord_radius(haversine_km(lon[0], lat[0], lon[1], lat[1])), abs=1e-12)
    assert float(chord_radius(np.pi * EARTH_RADIUS_KM)) == pytest.approx(2.0)


def test_progress_reports_the_merge():
    lines: list[str] = []
    rng = np.random.default_rng(0)
    lon, lat = rng.uniform(0, 10, 2_000), rng.uniform(0, 10, 2_000)
    label = greedy_cluster(lon, lat, np.ones(2_000), 50, progress=lines.append, progress_every_s=0.0)
    assert len(lines) >= 2
    assert lines[-1].startswith(f"merged 2,000 points within 50 km into {len(np.unique(label)):,} clusters")
