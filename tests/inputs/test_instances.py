"""The synthetic instance generator: deterministic, exactly the eligible arcs, default economics."""

import numpy as np
import pandas as pd
import pytest

from siting import physics
from siting.inputs.inputs import from_layers
from siting.inputs.instances import generate, reach_km
from siting.outputs.audit import audit
from siting.pipeline import solve_inputs
from siting.scenario import load_scenario
from siting.solve import SolveOptions


def test_same_seed_same_instance_other_seed_other_instance():
    a, b, c = generate(30, 200, seed=7), generate(30, 200, seed=7), generate(30, 200, seed=8)
    for name in ("sites", "regions", "arcs"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    for table in ("it_cost_musd", "site_cost_musd", "fiber_cost_musd", "sat_unit_cost_musd"):
        for key in getattr(a, table):
            np.testing.assert_array_equal(getattr(a, table)[key], getattr(b, table)[key])
    assert not np.allclose(a.sites["longitude"], c.sites["longitude"])


def test_arcs_are_exactly_the_latency_eligible_pairs():
    # the k-d tree only proposes: an all-pairs check must find the same arcs, no more, no fewer
    sc = load_scenario(None)
    inp = generate(40, 300, seed=3)
    s, r = inp.sites, inp.regions
    d = physics.pairwise_km(r["longitude"], r["latitude"], s["longitude"], s["latitude"])
    net = sc.network
    rtt = {"fiber": physics.rtt_fiber_ms(d, s["lateral_km"].to_numpy()[None, :]),
           "satellite": physics.rtt_leo_ms(d, altitude_km=net.leo_altitude_km, slant_factor=net.leo_slant_factor,
                                           isl_stretch=net.leo_isl_stretch, overhead_ms=net.leo_overhead_ms)}
    limit = r["latency_ms"].to_numpy()[:, None]
    expected = set()
    for link, m in rtt.items():
        expected |= {(int(i), int(k), link) for i, k in zip(*np.nonzero(m <= limit))}
    got = set(zip(inp.arcs["region"].tolist(), inp.arcs["site"].tolist(), inp.arcs["link"].tolist()))
    assert got == expected
    a = inp.arcs
    assert np.all(a["rtt_ms"].to_numpy() <= r["latency_ms"].to_numpy()[a["region"]])


def test_reach_is_where_the_faster_link_meets_the_limit():
    sc = load_scenario(None)
    d = reach_km(np.array([40.0, 100.0]), sc)
    fiber = physics.rtt_fiber_ms(d, 0.0)
    leo = physics.rtt_leo_ms(d)
    assert np.minimum(fiber, leo) == pytest.approx([40.0, 100.0], abs=0.05)


def test_about_the_asked_arcs_per_region_and_every_region_reaches_two_sites():
    inp = generate(100, 1000, seed=0, arcs_per_region=30)
    assert 27 <= len(inp.arcs) / 1000 <= 33
    assert inp.arcs.groupby("region")["site"].nunique().reindex(range(1000)).min() >= 2
    sparse = generate(50, 400, seed=0, arcs_per_region=4, min_sites=3)
    assert sparse.arcs.groupby("region")["site"].nunique().reindex(range(400)).min() >= 3


def test_costs_are_the_default_scenarios():
    inp, real = generate(20, 100, seed=0), from_layers(load_scenario(None))
    u, v = inp.unit_costs(), real.unit_costs()
    assert u.open == pytest.approx(np.full(20, v.open[0]))  # site fixed + staff, per site
    assert u.sat_unit == pytest.approx(np.full(20, v.sat_unit[0]))
    assert u.unmet == pytest.approx(v.unmet)
    # building, land, O&M and staff per MW are the same for every site; energy by its price
    fixed = ("building", "land", "om", "staff")
    assert sum(inp.it_cost_musd[c][0] for c in fixed) == pytest.approx(sum(real.it_cost_musd[c][0] for c in fixed))
    assert (inp.training_mw, inp.module_mw, inp.resilience_max_share) == (
        real.training_mw, real.module_mw, real.resilience_max_share)
    assert list(inp.cooling["cooling"]) == list(real.cooling["cooling"])


def test_a_small_instance_solves_and_its_plan_passes_the_audit():
    inp = generate(8, 40, seed=2)
    plan = solve_inputs(inp, SolveOptions(time_limit_s=30, mip_gap=0.01, threads=1))
    assert plan.report.objective is not None
    assert audit(plan, inp) == []
