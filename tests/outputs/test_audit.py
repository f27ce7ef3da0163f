"""The independent checker catches each kind of broken plan (so a clean audit means something)."""

import pandas as pd
import pytest
from helpers import solve, tiny

from siting.outputs.audit import audit


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


# --- N-1 post-check (siting.outputs.audit_n_minus_1): plans given as tables, shares worked out by hand ---

def _tables(it_mw: dict, served_mw: dict):
    """A plan as the post-check reads it: open sites' IT MW (no training) and MW served by region."""
    from types import SimpleNamespace

    return SimpleNamespace(
        sites=pd.DataFrame({"site_id": list(it_mw), "it_mw": list(it_mw.values()), "training_mw": 0.0}),
        regions=pd.DataFrame({"region_id": list(served_mw), "served_mw": list(served_mw.values())}))


def _two_sites(share=0.5):
    # S0, S1: firm 50 MW, 10 M$ to open, 1 M$/MW; R0 reaches S0 and S1, R1 reaches S1 only; 10 MW each
    return tiny([50, 50], [10, 10], [(0, 0, "direct", 1), (0, 1, "direct", 1), (1, 1, "direct", 1)],
                site_fixed=[10, 10], per_mw=[1, 1], n_minus_1_share=share, unmet_cost_musd_per_mw=100.0)


def test_n_minus_1_check_names_the_region_that_is_short_not_a_tied_one():
    import math

    from siting.outputs.audit_n_minus_1 import n_minus_1_check

    # S0 serves R0 (10 MW), S1 serves R1 (10 MW). Losing S1: R0 keeps all its 10 MW at S0 (share 1),
    # R1 has no surviving site (share 0): the worst share is 0 and only R1 is short. Losing S0:
    # S1's 10 MW carry R0 and R1 at 5 MW each, share 0.5 >= 0.5 (both regions held there).
    inp = _two_sites()
    plan = _tables({"S0": 10, "S1": 10}, {"R0": 10, "R1": 10})
    table = n_minus_1_check(plan, inp).set_index("failed_sites")
    assert table.loc["S1", "worst_region"] == "R1" and table.loc["S1", "short_regions"] == ("R1",)
    assert table.loc["S1", "short_shares"] == (0.0,) and not table.loc["S1", "meets"]
    assert table.loc["S1", "worst_share"] == 0.0 and math.copysign(1.0, table.loc["S1", "worst_share"]) == 1.0
    assert table.loc["S0", "worst_share"] == pytest.approx(0.5) and table.loc["S0", "meets"]
    assert table.loc["S0", "worst_region"] == "R0" and table.loc["S0", "short_regions"] == ()
    assert audit_n_minus_1_findings(plan, inp) == ["n-1: losing S1 leaves region R1 0.0000 < 0.5"]
    # the same with S1 also carrying half of R0 (S0 5 MW, S1 15 MW): losing S1 leaves R0 its
    # 5 MW at S0 (0.5, not short) and R1 nothing; losing S0 spreads S1's 15 MW: 0.75 each
    table = n_minus_1_check(_tables({"S0": 5, "S1": 15}, {"R0": 10, "R1": 10}), inp).set_index("failed_sites")
    assert table.loc["S1", "short_regions"] == ("R1",) and table.loc["S1", "worst_region"] == "R1"
    assert table.loc["S0", "worst_share"] == pytest.approx(0.75)


def test_n_minus_1_check_passes_the_hand_solved_plan():
    from siting.outputs.audit_n_minus_1 import n_minus_1_check

    # the optimum by hand (1,030 M$): R1 unmet, R0 served 5 + 5 by S0 and S1; losing either site
    # leaves R0 the other's 5 MW, half of its 10 MW; R1 serves nothing, so nothing to lose
    table = n_minus_1_check(_tables({"S0": 5, "S1": 5}, {"R0": 10, "R1": 0}), _two_sites())
    assert table["meets"].all() and table["worst_share"].tolist() == pytest.approx([0.5, 0.5])
    assert table["short_regions"].tolist() == [(), ()]


def test_n_minus_1_check_names_regions_that_compete_for_the_survivors():
    from siting.outputs.audit_n_minus_1 import n_minus_1_check

    # R0 and R1 both reach S0 and S1 (10 MW each, each serving one region). Losing S0, S1's 10 MW
    # carry both at 0.5 at best: each alone could keep all its MW, but not both, so both are short
    # of 0.8 (naming regions by their own best share would name none although the check fails)
    inp = tiny([50, 50], [10, 10], [(r, k, "direct", 1) for r in (0, 1) for k in (0, 1)],
               site_fixed=[10, 10], per_mw=[1, 1], n_minus_1_share=0.8)
    table = n_minus_1_check(_tables({"S0": 10, "S1": 10}, {"R0": 10, "R1": 10}), inp)
    assert not table["meets"].any() and table["short_regions"].tolist() == [("R0", "R1"), ("R0", "R1")]
    assert [s for row in table["short_shares"] for s in row] == pytest.approx([0.5] * 4)


def test_n_minus_1_check_fills_the_shares_level_by_level():
    from siting.outputs.audit_n_minus_1 import n_minus_1_check

    # losing S0 (30 MW): R0 reaches only S0 -> 0; R1 and R2 share S1's 10 MW -> 0.5 each; R3 has
    # S2's 10 MW to itself -> 1. With beta = 0.8: R0 (0.0), R1 and R2 (0.5) short, R3 not.
    # Losing S1 or S2 leaves S0's 30 MW, which carries every region whole: worst share 1, no region
    arcs = [(0, 0, "direct", 1), (1, 0, "direct", 1), (1, 1, "direct", 1), (2, 0, "direct", 1),
            (2, 1, "direct", 1), (3, 0, "direct", 1), (3, 2, "direct", 1)]
    inp = tiny([50, 50, 50], [10, 10, 10, 10], arcs, site_fixed=[1, 1, 1], per_mw=[1, 1, 1], n_minus_1_share=0.8)
    plan = _tables({"S0": 30, "S1": 10, "S2": 10}, {"R0": 10, "R1": 10, "R2": 10, "R3": 10})
    table = n_minus_1_check(plan, inp).set_index("failed_sites")
    assert table.loc["S0", "short_regions"] == ("R0", "R1", "R2")
    assert table.loc["S0", "short_shares"] == pytest.approx((0.0, 0.5, 0.5))
    assert (table.loc["S0", "worst_region"], table.loc["S0", "worst_share"]) == ("R0", 0.0)
    assert table.loc[["S1", "S2"], "worst_share"].tolist() == [1.0, 1.0]
    assert table.loc[["S1", "S2"], "worst_region"].isna().all() and table.loc[["S1", "S2"], "meets"].all()
    assert audit_n_minus_1_findings(plan, inp) == [
        "n-1: losing S0 leaves region R0 0.0000 < 0.8", "n-1: losing S0 leaves region R1 0.5000 < 0.8",
        "n-1: losing S0 leaves region R2 0.5000 < 0.8"]


def audit_n_minus_1_findings(plan, inp) -> list[str]:
    """The audit's N-1 findings for a plan given as tables only (the rest of the audit needs a solved plan)."""
    from siting.outputs.audit import n_minus_1_findings

    return n_minus_1_findings(plan, inp)
