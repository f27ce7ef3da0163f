"""The size estimate equals the compiled model's counts exactly; check_fits refuses what won't fit."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import assert_exact, tiny_instances
from hypothesis import HealthCheck, given, settings

from siting.cli import main
from siting.errors import ModelTooLargeError, SitingError
from siting.inputs.inputs import from_cost_matrix, from_layers
from siting.model.estimate import ModelEstimate, available_memory_bytes, check_fits, estimate, peak_bytes
from siting.scenario import load_scenario


@pytest.mark.parametrize("overrides", [[], ["demand.training_mw=0", "facility.module_mw=null"],
                                       ["network.allow_satellite=false", "demand.unmet_penalty_usd_per_mwh=null"]])
def test_default_scenario_counts_are_exact(overrides):
    assert_exact(from_layers(load_scenario(None, overrides)))


def test_or_library_style_instance_counts_are_exact():
    cost = np.array([[1.0, 2.0, np.inf], [3.0, np.inf, 1.0], [2.0, 2.0, 2.0]])
    assert_exact(from_cost_matrix([5, 7, 0], [10, 10, 10], [4, 6, 3], cost))
    assert_exact(from_cost_matrix([5, 7, 1], [10, 10, 10], [4, 6, 3], cost, resilience_max_share=0.5,
                                  unmet_cost=100.0))


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
