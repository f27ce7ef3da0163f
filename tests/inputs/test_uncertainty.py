"""The scenario set of two-stage siting: its checks (one clear error naming field and row) and
the seeded generator of correlated scenarios."""

from __future__ import annotations

import numpy as np
import pytest

from siting.errors import ScenarioError
from siting.inputs.uncertainty import (
    DroughtRisk,
    correlated_scenarios,
    read_uncertainty,
    uncertainty_defaults,
)

BASINS = {"Yangtze", "Parana", "Columbia"}


def block(*scenarios):
    return {"scenarios": list(scenarios)}


def test_a_valid_set_reads_with_its_defaults():
    u = read_uncertainty(block({"name": "wet", "probability": 0.9},
                               {"name": "dry", "probability": 0.1, "drought": {"Yangtze": 0.5, "Parana": 0.2},
                                "demand_growth": 1.1, "prices": {"energy": 1.5}}), BASINS)
    dry = u.scenarios[1]
    assert dry.drought == {"Yangtze": 0.5, "Parana": 0.2} and dry.demand_growth == 1.1
    assert (dry.prices.energy, dry.prices.satellite, u.scenarios[0].demand_growth) == (1.5, 1.0, 1.0)


@pytest.mark.parametrize("scenarios, message", [
    ([{"name": "a", "probability": 0.5}, {"name": "b", "probability": 0.4}],
     "uncertainty.scenarios: field 'probability': the probabilities sum to 0.9, not 1"),
    ([{"name": "a", "probability": 0.5}, {"name": "dry", "probability": 0.5, "drought": {"Yangtze": 1.2}}],
     "uncertainty.scenarios[1] ('dry'): field 'drought.Yangtze': share 1.2 is outside [0, 1] (the share of "
     "firm power a drought takes)"),
    ([{"name": "dry", "probability": 1.0, "drought": {"Mekong": 0.3}}],
     "uncertainty.scenarios[0] ('dry'): field 'drought.Mekong': unknown basin or country (known: Columbia, "
     "Parana, Yangtze)"),
    ([{"name": "a", "probability": 1.5}, {"name": "b", "probability": -0.5}],
     "uncertainty.scenarios[0] ('a'): field 'probability': 1.5 is outside [0, 1]"),
    ([{"name": "a", "probability": 1.0, "demand_growth": -1}],
     "uncertainty.scenarios[0] ('a'): field 'demand_growth': Input should be greater than 0"),
    ([{"name": "a", "probability": 1.0, "droght": {}}],
     "uncertainty.scenarios[0] ('a'): field 'droght': Extra inputs are not permitted"),
    ([{"name": "a", "probability": 0.5}, {"name": "a", "probability": 0.5}],
     "uncertainty.scenarios[1] ('a'): field 'name': used by another scenario"),
])
def test_bad_input_gives_one_error_naming_field_and_row(scenarios, message):
    with pytest.raises(ScenarioError) as e:
        read_uncertainty(block(*scenarios), BASINS)
    assert str(e.value) == message


def test_generator_is_seeded_basin_wide_and_correlated():
    d = uncertainty_defaults()
    assert (d.drought_share_low, d.drought_share_high) == (0.2, 0.5)  # data/uncertainty.csv (Sichuan 2022)
    risks = {b: d.risk() for b in sorted(BASINS)}
    kw = dict(growth_median=1.0, growth_sigma=0.15, seed=11)
    a = correlated_scenarios(400, risks, correlation=0.9, **kw)
    assert a == correlated_scenarios(400, risks, correlation=0.9, **kw)  # the seed fixes the set
    assert a != correlated_scenarios(400, risks, correlation=0.9, **dict(kw, seed=12))
    assert sum(s.probability for s in a.scenarios) == pytest.approx(1.0, abs=1e-12)
    dry = np.array([[b in s.drought for b in sorted(BASINS)] for s in a.scenarios], float)
    shares = [v for s in a.scenarios for v in s.drought.values()]
    assert min(shares) >= 0.2 and max(shares) <= 0.5
    assert 0.05 < dry.mean() < 0.15  # about the dry-year probability, 0.1
    both = dry[:, 0] * dry[:, 1]
    # strongly correlated basins: far more joint dry years than independence would give (0.1 * 0.1)
    assert both.mean() > 3 * dry[:, 0].mean() * dry[:, 1].mean()
    indep = correlated_scenarios(400, risks, correlation=0.0, **kw)
    dry0 = np.array([[b in s.drought for b in sorted(BASINS)] for s in indep.scenarios], float)
    assert (dry0[:, 0] * dry0[:, 1]).mean() < both.mean()
    growth = np.array([s.demand_growth for s in a.scenarios])
    assert np.median(growth) == pytest.approx(1.0, abs=0.05) and np.std(np.log(growth)) == pytest.approx(0.15, abs=0.03)


def test_generator_refuses_bad_parameters():
    with pytest.raises(ScenarioError, match="field 'correlation'"):
        correlated_scenarios(3, {"A": DroughtRisk(0.1, 0.2, 0.5)}, correlation=1.5, growth_median=1, growth_sigma=0,
                             seed=0)
