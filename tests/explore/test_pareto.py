"""The cost–latency front: known by hand on a tiny instance, warm starts, flags, files and errors."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import EXACT, assert_refuses_foreign_folder, tiny

from siting.cli import main
from siting.errors import ScenarioError
from siting.explore.pareto import Monotone, Start, front_of_inputs, monotone_flags, parse_range
from siting.model import build_model, compile_model
from siting.pipeline import solve_inputs
from siting.solve import Reoptimizer, SolverOptionError

# Two regions of 10 MW, three sites (100 MW firm each, PUE 1), unmet demand at 100 M$/MW:
#   S0: fixed 10, 1 /MW, fiber to both regions at 80 ms          -> both from S0: 10 + 20      =   30
#   S1: fixed 20, 2 /MW, R0 by satellite at 40 ms (one unit, 1 M$), R1 by fiber at 60 ms
#                                                                -> both from S1: 20 + 40 + 1 =   61
#   S2: fixed 50, 3 /MW, fiber to both at 20 ms                  -> both from S2: 50 + 60     =  110
# 10 ms: no arc, all unmet: 20 x 100 = 2000. 20 ms: S2, 110. 40 ms: S2 (110) beats S1 for R0 and
# S2 for R1 (20 + 20 + 1 + 50 + 30 = 121). 60 ms: S1, 61. 80 ms: S0, 30.
ARCS = [(0, 0, "fiber", 80), (1, 0, "fiber", 80), (0, 1, "satellite", 40), (1, 1, "fiber", 60),
        (0, 2, "fiber", 20), (1, 2, "fiber", 20)]
FRONT = {10: (2000, "", 0, 0, 20), 20: (110, "S2", 20, 0, 0), 40: (110, "S2", 20, 0, 0),
         60: (61, "S1", 10, 10, 0), 80: (30, "S0", 20, 0, 0)}
SMALL = ["--set", "candidates.max_count=15", "--set", "demand.max_regions=10"]


def _inputs(arcs=ARCS, **kw):
    kw.setdefault("unmet_cost_musd_per_mw", 100.0)
    return tiny([100, 100, 100], [10, 10], arcs, site_fixed=[10, 20, 50], per_mw=[1, 2, 3], sat_unit_cost=1.0,
                latency_ms=80.0, **kw)


@pytest.fixture(scope="module", params=["plain", "lp_start"])
def hand_front(request):
    """The front by HiGHS alone from each neighbour's plan, and with the LP-restricted plan first."""
    return front_of_inputs(_inputs(), [80, 10, 60, 20, 40, 60], dataclasses.replace(EXACT, strategy=request.param))


def test_the_front_is_the_one_worked_out_by_hand(hand_front):
    t = hand_front.table
    assert t["limit_ms"].tolist() == [10, 20, 40, 60, 80]  # sorted, the duplicate dropped
    for row in t.itertuples():
        cost, sites, fiber, sat, unmet = FRONT[int(row.limit_ms)]
        assert row.objective_musd == pytest.approx(cost)
        assert row.site_ids == sites
        assert (row.fiber_mw, row.satellite_mw, row.unmet_mw) == pytest.approx((fiber, sat, unmet))
    assert t["unreachable_regions"].tolist() == [2, 0, 0, 0, 0]
    assert t.loc[t["limit_ms"] == 60, "satellite_share"].item() == pytest.approx(0.5)


def test_the_front_is_monotone_and_warm_started_from_the_tighter_neighbour(hand_front):
    t = hand_front.table
    assert (np.diff(t["objective_musd"].to_numpy()) <= 1e-9).all()
    assert t["monotone"].tolist() == ["yes"] * 5 and hand_front.uncertain == []
    assert t["warm_start"].tolist() == [False, True, True, True, True]
    assert t["proven"].all() and t["start"].iloc[0] == "cold"
    if hand_front.points[1].report.strategy.startswith("plain"):
        assert t["start"].iloc[1:].tolist() == ["neighbour"] * 4
    else:
        assert set(t["start"].iloc[1:]) <= {"neighbour", "lp_restricted"}


@pytest.mark.parametrize("limit", [40, 60])
def test_a_warm_started_point_equals_a_cold_solve_of_that_point(hand_front, limit):
    point = next(p for p in hand_front.points if p.limit_ms == limit)
    cold = solve_inputs(_inputs([a for a in ARCS if a[3] <= limit]), EXACT)  # built at that limit
    assert point.warm_start and point.report.objective == pytest.approx(cold.report.objective)
    assert point.decisions.open.tolist() == cold.decisions.open.tolist()


def test_without_an_unmet_price_a_tight_point_has_no_plan_and_the_next_starts_cold():
    fr = front_of_inputs(_inputs(unmet_cost_musd_per_mw=None), [10, 20, 60], EXACT)
    t = fr.table
    assert t["monotone"].tolist() == ["no plan", "yes", "yes"] and fr.uncertain == [10.0]
    assert t["objective_musd"].iloc[0] is None or pd.isna(t["objective_musd"].iloc[0])
    assert t["warm_start"].tolist() == [False, False, True]
    assert t["objective_musd"].iloc[1:].tolist() == pytest.approx([110, 61])


def test_a_region_with_its_own_tighter_limit_keeps_it():
    inp = _inputs()
    inp.regions.loc[1, "latency_ms"] = 20.0  # R1 may only use the 20 ms arc
    t = front_of_inputs(inp, [80], EXACT).table
    # R0 from S0 (10 + 10), R1 from S2 (50 + 30): 100, cheaper than S2 alone (110)
    assert t["objective_musd"].item() == pytest.approx(100) and t["site_ids"].item() == "S0;S2"


def test_monotone_flags_name_rises_within_and_beyond_the_gap():
    assert monotone_flags([30, 40, 50], [10.0, 9.0, 9.5], [9.9, 8.0, 8.9]) == ["yes", "yes", "within gap"]
    assert monotone_flags([50, 40, 30], [9.5, 9.0, 10.0], [8.9, 8.0, 9.9]) == ["within gap", "yes", "yes"]
    assert monotone_flags([30, 40], [10.0, 10.5], [9.0, None]) == ["yes", "within gap"]
    assert monotone_flags([30, 40], [10.0, 11.0], [10.0, 10.5]) == ["yes", "NO"]
    assert monotone_flags([30, 40], [None, 11.0], [None, 10.5]) == [Monotone.NO_PLAN, Monotone.YES]
    assert all(isinstance(f, Monotone) for f in monotone_flags([30, 40], [10.0, 11.0], [10.0, 10.5]))


def test_a_point_whose_solve_finds_nothing_keeps_its_neighbours_plan_and_a_model_too_large_is_refused(monkeypatch):
    from siting import pipeline
    from siting.errors import ModelTooLargeError
    from siting.model import estimate
    from siting.solve import SolutionStatus, SolveReport, Termination

    with monkeypatch.context() as m:
        m.setattr(estimate, "available_memory_bytes", lambda: 1)
        m.setattr(pipeline, "solve", lambda *a, **k: pytest.fail("solved a model that does not fit"))
        with pytest.raises(ModelTooLargeError):
            front_of_inputs(_inputs(), [20, 40], EXACT)
    # the looser point's own solves return nothing: the tighter plan (feasible there) is its plan
    monkeypatch.setattr(Reoptimizer, "solve", lambda self, **kw: SolveReport(
        Termination.TIME_LIMIT, SolutionStatus.NONE, None, None, None, 0.0, 0.0))
    fr = front_of_inputs(_inputs(), [20, 60], dataclasses.replace(EXACT, strategy="plain"))
    first, second = fr.points
    assert second.start == Start.NEIGHBOUR and second.decisions.open.tolist() == first.decisions.open.tolist()
    assert second.report.objective == pytest.approx(110) and second.report.phases[-1].phase == "kept_start"


def test_set_col_bounds_closes_columns_in_place_and_refuses_bad_bounds():
    inp = _inputs()
    comp = compile_model(build_model(inp))
    reopt = Reoptimizer(comp.sf, EXACT)
    assert reopt.solve().objective == pytest.approx(30)
    s0 = comp.columns["serve"][[0, 1]]  # both arcs of S0
    reopt.set_col_bounds(s0, 0.0, 0.0)
    assert reopt.solve().objective == pytest.approx(61) and (reopt.sf.col_upper[s0] == 0).all()
    reopt.set_col_bounds(s0, 0.0, comp.sf.col_upper[s0])
    assert reopt.solve().objective == pytest.approx(30)
    with pytest.raises(SolverOptionError):
        reopt.set_col_bounds(s0, 1.0, 0.0)
    with pytest.raises(SolverOptionError):
        reopt.set_col_bounds([comp.sf.shape[1]], 0.0, 1.0)


@pytest.mark.parametrize("text, expected", [("30:150:60", [30, 90, 150]), ("30:100:30", [30, 60, 90]),
                                            ("70,30,70", [30, 70]), ("0.5:1.5:0.5", [0.5, 1.0, 1.5])])
def test_parse_range(text, expected):
    assert parse_range(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "30:150", "a:b:c", "30:150:0", "30:150:-10", "150:30:10", "0:50:10",
                                  "30:3000:10", "nan", "1:100000:0.01"])
def test_parse_range_refuses_bad_ranges_naming_the_option(text):
    with pytest.raises(ScenarioError, match="--latency-ms"):
        parse_range(text)


def test_cli_writes_the_front(tmp_path):
    out = tmp_path / "front"
    result = CliRunner().invoke(main, ["pareto", "--latency-ms", "30:150:60", "--out", str(out), "--quiet"] + SMALL)
    assert result.exit_code == 0, result.output
    for name in ("pareto.csv", "pareto.png", "summary.json"):
        assert (out / name).stat().st_size > 0, name
    table = pd.read_csv(out / "pareto.csv")
    assert table["limit_ms"].tolist() == [30, 90, 150]
    assert (np.diff(table["objective_musd"]) <= 0).all()
    summary = json.loads((out / "summary.json").read_text())
    assert [p["limit_ms"] for p in summary["points"]] == [30, 90, 150]
    assert "the front is monotone" in result.output


def test_cli_refuses_a_foreign_folder_and_a_bad_range_before_solving(tmp_path):
    assert_refuses_foreign_folder(tmp_path, "pareto", SMALL)
    result = CliRunner().invoke(main, ["pareto", "--latency-ms", "30:abc", "--out", str(tmp_path / "x")] + SMALL)
    assert result.exit_code == 2 and "--latency-ms" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "x").exists()
