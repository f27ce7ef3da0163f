"""Properties the economics says every optimum must have, checked on random small instances."""

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from helpers import tiny
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from siting.errors import NoSolutionError
from siting.outputs.audit import audit
from siting.pipeline import solve_inputs
from siting.solve import SolveOptions

EXACT = SolveOptions(time_limit_s=30, mip_gap=0.0, threads=1, seed=0)
SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def instances(draw):
    """Up to 4 sites x 4 regions with random power, costs, latencies, cooling and options."""
    K, R = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    f = lambda lo, hi, n: np.array(draw(st.lists(st.floats(lo, hi), min_size=n, max_size=n)))  # noqa: E731
    arcs = [(r, k, link, float(draw(st.floats(5, 120))))
            for r in range(R) for k in range(K) for link in ("fiber", "satellite")]
    two = draw(st.booleans())
    cooling = pd.DataFrame({"cooling": ["evaporative", "liquid"], "pue": [1.2, 1.1],
                            "carries_training": [False, True], "carries_inference": [True, True]})
    cooling = cooling if two else cooling.iloc[1:].reset_index(drop=True)
    per_mw = f(1, 5, K * len(cooling)).reshape(K, -1)
    kw = dict(site_fixed=f(0, 50, K), per_mw=per_mw, cooling=cooling, fiber_cost=f(0, 30, K),
              sat_unit_cost=f(0, 10, K), sat_unit_gbps=10.0, gbps_per_mw=1.0,
              resilience_max_share=draw(st.sampled_from([1.0, 0.5])),
              module_mw=draw(st.sampled_from([None, 10.0])), unmet_cost_musd_per_mw=1000.0,
              training_mw=draw(st.sampled_from([0.0, 30.0])), training_min_cluster_mw=20.0)
    return tiny(f(40, 200, K), f(5, 50, R), arcs, **kw), float(draw(st.floats(20, 120)))


def within(inp, limit):
    """The instance as a planner with this latency limit sees it: only arcs within it exist."""
    arcs = inp.arcs[inp.arcs["rtt_ms"] <= limit].reset_index(drop=True)
    regions = inp.regions.assign(latency_ms=limit)
    return dataclasses.replace(inp, arcs=arcs, regions=regions)


def cost(inp):
    """Optimal cost, or infinity where no plan exists (training has no slack)."""
    try:
        plan = solve_inputs(inp, EXACT)
    except NoSolutionError:
        return math.inf
    assert plan.report.proven_optimal
    assert audit(plan, inp) == []
    return plan.report.objective


@SETTINGS
@given(instances(), st.floats(0, 60))
def test_a_looser_latency_limit_never_costs_more(case, extra):
    inp, limit = case
    assert cost(within(inp, limit + extra)) <= cost(within(inp, limit)) * (1 + 1e-9) + 1e-6


@SETTINGS
@given(instances())
def test_another_candidate_never_costs_more(case):
    inp, limit = case
    inp = within(inp, limit)
    K = len(inp.sites)
    assume(K > 1)
    keep = inp.arcs["site"] < K - 1
    smaller = dataclasses.replace(
        inp, sites=inp.sites.iloc[:-1], arcs=inp.arcs[keep].reset_index(drop=True),
        it_cost_musd={k: v[:-1] for k, v in inp.it_cost_musd.items()},
        site_cost_musd={k: v[:-1] for k, v in inp.site_cost_musd.items()},
        fiber_cost_musd={k: v[:-1] for k, v in inp.fiber_cost_musd.items()},
        sat_unit_cost_musd={k: v[:-1] for k, v in inp.sat_unit_cost_musd.items()})
    assert cost(inp) <= cost(smaller) * (1 + 1e-9) + 1e-6


@SETTINGS
@given(instances(), st.floats(0.01, 100))
def test_scaling_every_cost_scales_the_optimum(case, lam):
    inp, limit = case
    inp = within(inp, limit)
    scale = lambda d: {k: v * lam for k, v in d.items()}  # noqa: E731
    scaled = dataclasses.replace(
        inp, it_cost_musd=scale(inp.it_cost_musd), site_cost_musd=scale(inp.site_cost_musd),
        fiber_cost_musd=scale(inp.fiber_cost_musd), sat_unit_cost_musd=scale(inp.sat_unit_cost_musd),
        unmet_cost_musd_per_mw=inp.unmet_cost_musd_per_mw * lam,
        arcs=inp.arcs.assign(cost_musd_per_mw=inp.arcs["cost_musd_per_mw"] * lam))
    base = cost(inp)
    assume(math.isfinite(base))
    assert cost(scaled) == pytest.approx(lam * base, rel=1e-7, abs=1e-7)


@settings(max_examples=10, deadline=None)
@given(instances())
def test_same_input_and_seed_give_the_same_plan(case):
    inp, limit = case
    inp = within(inp, limit)
    assume(math.isfinite(cost(inp)))
    a, b = solve_inputs(inp, EXACT), solve_inputs(inp, EXACT)
    pd.testing.assert_frame_equal(a.sites, b.sites)
    pd.testing.assert_frame_equal(a.assignments, b.assignments)
