"""The size estimate equals the compiled model's counts exactly; check_fits refuses what won't fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import tiny
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siting.cli import main
from siting.errors import ModelTooLargeError, SitingError
from siting.estimate import ModelEstimate, available_memory_bytes, check_fits, estimate, peak_bytes
from siting.inputs import from_cost_matrix, from_layers
from siting.model import build_model, compile_model
from siting.scenario import load_scenario


def compiled_counts(inp):
    sf = compile_model(build_model(inp)).sf
    return sf.shape[1], int(sf.integer.sum()), sf.shape[0], int(sf.A.nnz)


def estimated_counts(inp):
    e = estimate(inp)
    return e.n_variables, e.n_integer, e.n_constraints, e.n_nonzeros


def assert_exact(inp):
    assert estimated_counts(inp) == compiled_counts(inp)


@pytest.mark.parametrize("overrides", [[], ["demand.training_mw=0", "facility.module_mw=null"],
                                       ["network.allow_satellite=false", "demand.unmet_penalty_usd_per_mwh=null"]])
def test_default_scenario_counts_are_exact(overrides):
    assert_exact(from_layers(load_scenario(None, overrides)))


def test_or_library_style_instance_counts_are_exact():
    cost = np.array([[1.0, 2.0, np.inf], [3.0, np.inf, 1.0], [2.0, 2.0, 2.0]])
    assert_exact(from_cost_matrix([5, 7, 0], [10, 10, 10], [4, 6, 3], cost))
    assert_exact(from_cost_matrix([5, 7, 1], [10, 10, 10], [4, 6, 3], cost, resilience_max_share=0.5,
                                  unmet_cost=100.0))


COOLING = pd.DataFrame({"cooling": ["air", "evap", "liquid"], "pue": [1.4, 1.2, 1.1],
                        "carries_training": [False, False, True], "carries_inference": [True, True, True]})


@st.composite
def tiny_instances(draw):
    K, R = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    C = draw(st.integers(1, 3))
    cooling = COOLING.iloc[:C].reset_index(drop=True).copy()
    if C > 1:
        cooling["carries_training"] = draw(st.lists(st.booleans(), min_size=C, max_size=C))
        cooling["carries_inference"] = draw(st.lists(st.booleans(), min_size=C, max_size=C))
    links = ["fiber", "satellite", "direct"]
    arcs = sorted({(r, k, link) for r in range(R) for k in range(K) for link in links
                   if draw(st.booleans())})
    unmet = draw(st.booleans())
    covered = {r for r, _, _ in arcs}
    demand = [draw(st.sampled_from([0.0, 30.0, 80.0])) if (r in covered or unmet) else 0.0 for r in range(R)]
    firm = draw(st.lists(st.sampled_from([0.0, 50.0, 200.0]), min_size=K, max_size=K))
    kw = dict(training_mw=draw(st.sampled_from([0.0, 40.0])),
              training_min_cluster_mw=draw(st.sampled_from([0.0, 20.0])),
              module_mw=draw(st.sampled_from([None, 10.0])),
              resilience_max_share=draw(st.sampled_from([0.5, 1.0])),
              unmet_cost_musd_per_mw=1e3 if unmet else None,
              max_sites=draw(st.sampled_from([None, 2])),
              gbps_per_mw=draw(st.sampled_from([0.0, 1.0])))
    return tiny(firm, demand, [(r, k, link, 10.0) for r, k, link in arcs],
                site_fixed=draw(st.sampled_from([0.0, 10.0])), per_mw=np.ones(K), cooling=cooling,
                sat_unit_cost=draw(st.sampled_from([0.0, 2.0])), **kw)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_instances())
def test_tiny_instance_counts_are_exact(inp):
    assert_exact(inp)


def test_a_15_million_arc_model_is_refused_with_its_numbers():
    arcs, nnz = 15_000_000, 80_000_000
    est = ModelEstimate(16_000_000, 30_000, 17_000_000, nnz, arcs, float(peak_bytes(arcs, nnz)))
    with pytest.raises(ModelTooLargeError) as err:
        check_fits(est, available_bytes=8e9)
    msg = str(err.value)
    assert isinstance(err.value, SitingError)
    for needle in ("15,000,000 arcs", "80,000,000 nonzeros", "8.0 GB", f"~{est.peak_bytes / 1e9:.1f} GB",
                   "candidates.max_count", "demand.max_regions", "demand.latency_ms", "demand.merge_km"):
        assert needle in msg
    check_fits(est, available_bytes=est.peak_bytes)  # exactly enough is enough


def test_peak_grows_with_size_and_memory_is_known_here():
    assert peak_bytes(2e5, 1e6) > peak_bytes(2e4, 1e5) > 0
    assert available_memory_bytes() > 0


def test_validate_prints_the_estimate():
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 0, result.output
    inp = from_layers(load_scenario(None, []))
    assert f"  {estimate(inp).line()}" in result.output.splitlines()[1:]
