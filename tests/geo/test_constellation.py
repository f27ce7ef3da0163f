"""The network: the routed constellation (physical invariants, polar shells, cache, wiring)
and the backhaul of training traffic."""

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import solve, tiny

from siting.cli import main
from siting.errors import InputError, ScenarioError
from siting.geo.constellation import (
    SHELLS_CSV,
    load_shells,
    path_km_snapshots,
    rtt_constellation,
)
from siting.inputs.inputs import from_layers
from siting.outputs.audit import audit
from siting.paths import MODELS_DIR
from siting.physics import C_KM_PER_S, haversine_km
from siting.scenario import load_scenario

SMALL = ["candidates.max_count=15", "demand.max_regions=10"]


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SITING_CACHE_DIR", str(tmp_path / "cache"))


def test_round_trip_never_beats_light_in_vacuum_and_median_le_p95():
    rng = np.random.default_rng(1)
    lon_a, lat_a = rng.uniform(-180, 180, 6), rng.uniform(-60, 60, 6)
    lon_b, lat_b = rng.uniform(-180, 180, 5), rng.uniform(-60, 60, 5)
    st = rtt_constellation(lon_a, lat_a, lon_b, lat_b, snapshots=6, overhead_ms=0.0)
    bound = 2e3 * haversine_km(lon_a[:, None], lat_a[:, None], lon_b[None], lat_b[None]) / C_KM_PER_S
    assert np.isfinite(st.snapshots_ms).all()
    assert (st.snapshots_ms >= bound[None] - 1e-9).all()
    assert (st.median_ms <= st.p95_ms).all()
    assert (st.p95_ms <= st.snapshots_ms.max(axis=0)).all()


def test_a_high_arctic_pair_is_seen_only_by_the_polar_shells():
    # Alert (82.5 N) and a point at 84 N: the 53 deg shells reach ~61 N, the 70 deg shell ~79 N
    pts = ([-62.35], [82.50], [20.0], [84.0])
    shells = load_shells()
    inclined = shells[shells["inclination_deg"] < 90]
    assert np.isinf(path_km_snapshots(*pts, inclined, snapshots=4)[0]).all()
    km, _ = path_km_snapshots(*pts, shells, snapshots=4)
    assert np.isfinite(km).all()
    assert (km > haversine_km(*pts)).all()


def test_no_laser_link_passes_through_the_earth():
    from siting.geo.constellation import _clear_of_earth, plus_grid_links, walker_ecef_km
    # 4 planes 90 deg apart: cross-plane neighbours near the equator are a quarter turn apart
    xyz = walker_ecef_km(4, 43, 97.6, 560, 1, 0.0)
    links = plus_grid_links(4, 43)
    ok = _clear_of_earth(xyz[links[:, 0]], xyz[links[:, 1]])
    assert 0 < (~ok).sum() < len(links) // 2  # some cross-plane links are down, no in-plane one
    xyz = walker_ecef_km(72, 22, 53.0, 550, 1, 0.0)
    links = plus_grid_links(72, 22)
    assert _clear_of_earth(xyz[links[:, 0]], xyz[links[:, 1]]).all()


def test_swapping_the_ends_gives_the_same_paths():
    a = ([0.0, 10.0, 20.0], [0.0, 40.0, -30.0])
    b = ([100.0, -60.0], [10.0, 35.0])
    ab, _ = path_km_snapshots(*a, *b, load_shells(), snapshots=2)
    ba, _ = path_km_snapshots(*b, *a, load_shells(), snapshots=2)
    np.testing.assert_allclose(ab, ba.transpose(0, 2, 1))


def test_results_are_cached_per_input(tmp_path):
    args = ([-74.0], [40.7], [-0.13], [51.5])
    first = rtt_constellation(*args, snapshots=3)
    files = list((tmp_path / "cache" / "constellation").glob("*.npz"))
    assert len(files) == 1
    np.testing.assert_array_equal(rtt_constellation(*args, snapshots=3).snapshots_ms, first.snapshots_ms)
    rtt_constellation(*args, snapshots=3, min_elevation_deg=40)
    assert len(list(files[0].parent.glob("*.npz"))) == 2  # another setting, another file


def test_a_broken_shell_table_names_the_field(tmp_path):
    bad = pd.read_csv(SHELLS_CSV)
    bad.loc[1, "altitude_km"] = 50
    bad.to_csv(tmp_path / "shells.csv", index=False)
    with pytest.raises(InputError, match="constellation: field 'altitude_km', row 'starlink_53.2_540'"):
        load_shells(tmp_path / "shells.csv")
    bad.drop(columns="planes").to_csv(tmp_path / "shells.csv", index=False)
    with pytest.raises(InputError, match="field 'planes'"):
        load_shells(tmp_path / "shells.csv")


def test_the_constellation_model_feeds_the_arcs():
    base = from_layers(load_scenario(None, SMALL + ["network.leo_model=formula"]))
    med = from_layers(load_scenario(None, SMALL + ["network.leo_model=constellation"]))
    p95 = from_layers(load_scenario(None, SMALL + ["network.leo_model=constellation",
                                                   "network.leo_percentile=95"]))
    key = ["region", "site", "link"]
    fib = lambda inp: inp.arcs[inp.arcs["link"] == "fiber"].reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(fib(base), fib(med))  # fiber untouched
    sat_med = med.arcs[med.arcs["link"] == "satellite"].set_index(key)["rtt_ms"]
    sat_p95 = p95.arcs[p95.arcs["link"] == "satellite"].set_index(key)["rtt_ms"]
    assert set(sat_p95.index) <= set(sat_med.index)
    assert (sat_p95 >= sat_med.loc[sat_p95.index]).all()
    assert not sat_med.equals(base.arcs[base.arcs["link"] == "satellite"].set_index(key)["rtt_ms"])


def test_percentile_other_than_50_or_95_is_refused():
    with pytest.raises(ScenarioError, match="network.leo_percentile"):
        load_scenario(None, ["network.leo_percentile=90"])
    with pytest.raises(ScenarioError, match="network.leo_model"):
        load_scenario(None, ["network.leo_model=hypatia"])


def test_cli_rtt_prints_fiber_and_leo_side_by_side():
    res = CliRunner().invoke(main, ["rtt", "47.61,-122.33", "40.71,-74.01"])
    assert res.exit_code == 0, res.output
    assert "3,866 km" in res.output or "3,865 km" in res.output
    assert "fiber (model)" in res.output and "LEO p95" in res.output and "closed form" in res.output
    # both ends' cells: mid-latitudes see more than 8 Gen1 satellites, so the EPFD ceiling of 8
    # beams binds: 8 x 0.25 = 2 Gbps up, 8 x 1 = 8 Gbps down
    assert res.output.count("2.00 Gbps up,   8.00 Gbps down") == 2
    res = CliRunner().invoke(main, ["rtt", "47.61,-122.33", "40.71,-74.01", "--set", "network.cell_h3_resolution=16"])
    assert res.exit_code == 2 and "cell_h3_resolution" in res.output
    res = CliRunner().invoke(main, ["rtt", "-33.9,151.2", "north"])
    assert res.exit_code == 2 and "LAT,LON" in res.output


def _training_site(fiber_cost, training_gbps_per_mw):
    # one site: 10 M$ to open, 1 M$/MW IT; 10 MW of inference over a satellite arc (1 Gbps/MW,
    # units of 10 Gbps at 3 M$ each) and 100 MW of training
    return tiny([500], [10], [(0, 0, "satellite", 30)], site_fixed=[10], per_mw=[1], fiber_cost=fiber_cost,
                sat_unit_cost=3.0, training_mw=100, training_min_cluster_mw=100,
                training_gbps_per_mw=training_gbps_per_mw)


@pytest.mark.parametrize("fiber_cost, g_t, expected, fiber, units", [
    (5.0, 0.0, 10 + 110 + 3, False, 1),        # no training traffic: one unit for the inference
    (5.0, 0.5, 10 + 110 + 3 + 5, True, 1),     # 50 Gbps of training: a 5 M$ lateral beats 5 units (15)
    (20.0, 0.5, 10 + 110 + 3 + 15, False, 6),  # a 20 M$ lateral: 5 more units (15) instead
])
def test_training_traffic_needs_backhaul(fiber_cost, g_t, expected, fiber, units):
    inp = _training_site(fiber_cost, g_t)
    plan = solve(inp)
    assert plan.report.objective == pytest.approx(expected)
    assert plan.sites["fiber"].tolist() == [fiber] and plan.sites["sat_units"].tolist() == [units]
    assert audit(plan, inp) == []


@pytest.mark.parametrize("fiber_cost, expected, fiber, units", [
    (5.0, 10 + 110 + 6, False, 2),  # 10 + 100 x 0.05 = 15 Gbps: 2 units (6 M$) beat a 5 M$ lateral + 1 unit (8)
    (2.0, 10 + 110 + 2 + 3, True, 1),  # a 2 M$ lateral + 1 unit (5) beats 2 units (6)
])
def test_training_traffic_is_on_by_default_at_the_documented_estimate(fiber_cost, expected, fiber, units):
    g_t = load_scenario(None).network.training_gbps_per_mw
    assert g_t == 0.05 and load_scenario(MODELS_DIR / "classic.yaml").network.training_gbps_per_mw == 0
    inp = _training_site(fiber_cost, g_t)
    plan = solve(inp)
    assert plan.report.objective == pytest.approx(expected)
    assert plan.sites["fiber"].tolist() == [fiber] and plan.sites["sat_units"].tolist() == [units]
    assert audit(plan, inp) == []
