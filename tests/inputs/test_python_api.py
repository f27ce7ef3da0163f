"""The Python API refuses what the model cannot use with one clear error (issue 19):
``from_cost_matrix`` with negative costs or a zero resilience share, and ``solve_scenario`` given
a path (it loads it, as ``siting solve`` does) or something else."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import EXACT

from siting.errors import InputError, ScenarioError
from siting.inputs.inputs import from_cost_matrix
from siting.pipeline import solve_inputs, solve_scenario

EXAMPLE = Path(__file__).parents[2] / "models" / "examples" / "southern_africa.yaml"
COST = np.array([[1.0, 2.0], [2.0, 1.0]])


def _matrix(**kw):
    args = dict(fixed_cost=[3.0, 4.0], capacity=[10.0, 10.0], demand=[5.0, 5.0], cost=COST)
    args.update({k: kw.pop(k) for k in list(kw) if k in args})
    return from_cost_matrix(**args, **kw)


def test_a_plain_cost_matrix_solves_to_the_hand_optimum():
    # one site serving both (total costs): site 0 = 3 + 1 + 2 = 6, site 1 = 4 + 2 + 1 = 7; both: 3 + 4 + 1 + 1 = 9
    assert solve_inputs(_matrix(), EXACT).report.objective == pytest.approx(6.0)


@pytest.mark.parametrize("kw, field", [
    ({"fixed_cost": [-3.0, 4.0]}, "fixed_cost"),
    ({"unmet_cost": -1.0}, "unmet_cost_musd_per_mw"),
    ({"unmet_cost": float("inf")}, "unmet_cost_musd_per_mw"),
    ({"unmet_cost": float("nan")}, "unmet_cost_musd_per_mw"),
    ({"resilience_max_share": 0}, "resilience_max_share"),
    ({"resilience_max_share": -0.5}, "resilience_max_share"),
    ({"resilience_max_share": 1.5}, "resilience_max_share"),
    ({"cost": np.array([[1.0, -2.0], [2.0, 1.0]])}, "cost"),
    ({"capacity": [10.0, -1.0]}, "capacity"),
    ({"demand": [0.0, 5.0]}, "demand"),
])
def test_from_cost_matrix_refuses_what_the_model_cannot_use(kw, field):
    with pytest.raises(InputError, match=field) as err:
        _matrix(**kw)
    assert err.value.field == field


def test_solve_scenario_takes_a_path_with_overrides():
    run = solve_scenario(str(EXAMPLE), overrides=["demand.latency_ms=50"])
    assert run.scenario.name == "southern_africa" and run.scenario.demand.latency_ms == 50
    assert run.plan.report.objective > 0 and run.plan.summary.run["scenario_file"] == str(EXAMPLE)
    assert solve_scenario(EXAMPLE).plan.report.objective > 0  # a Path too


@pytest.mark.parametrize("bad", [42, {"name": "x"}])
def test_solve_scenario_refuses_anything_else_by_name(bad):
    with pytest.raises(ScenarioError, match="expected a Scenario .* or the path of a scenario file"):
        solve_scenario(bad)
