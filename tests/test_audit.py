"""The independent checker catches each kind of broken plan (so a clean audit means something)."""

import pandas as pd
import pytest
from helpers import solve, tiny

from siting.audit import audit


@pytest.fixture
def solved():
    cooling = pd.DataFrame({"cooling": ["evaporative", "liquid"], "pue": [1.2, 1.1],
                            "carries_training": [False, True], "carries_inference": [True, True]})
    arcs = [(0, 0, "fiber", 20), (0, 1, "satellite", 60), (1, 0, "satellite", 70), (1, 1, "fiber", 10)]
    inp = tiny([300, 300], [40, 30], arcs, site_fixed=[5, 5], per_mw=[[1, 2], [1.5, 1.6]],
               cooling=cooling, fiber_cost=3, sat_unit_cost=1, sat_unit_gbps=10, gbps_per_mw=1,
               resilience_max_share=0.75, module_mw=10, training_mw=20, training_min_cluster_mw=20)
    plan = solve(inp)
    assert audit(plan, inp) == []
    return plan, inp


@pytest.mark.parametrize("table, column, change, finding", [
    ("assignments", "mw", lambda v: v * 0.5, "demand:"),
    ("assignments", "rtt_ms", lambda v: v + 500, "latency:"),
    ("assignments", "share_of_region", lambda v: v + 0.5, "resilience:"),
    ("sites", "it_mw", lambda v: v - 5, "capacity:"),
    ("sites", "firm_mw", lambda v: v * 0.01, "power:"),
    ("sites", "fiber", lambda v: False, "backhaul:"),
    ("sites", "sat_gbps", lambda v: 0.0, "backhaul:"),
    ("sites", "cooling", lambda v: "evaporative", "cooling:"),
    ("costs", "pv_musd", lambda v: v + 1, "objective:"),
])
def test_audit_finds_the_broken_rule(solved, table, column, change, finding):
    plan, inp = solved
    frame = getattr(plan, table).copy()
    frame[column] = frame[column].map(change)
    broken = type(plan)(**{**plan.__dict__, table: frame})
    assert any(f.startswith(finding) for f in audit(broken, inp)), audit(broken, inp)
