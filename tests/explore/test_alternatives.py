"""Near-optimal alternatives: known by hand on a tiny instance, the slack, roles, files and errors."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import EXACT, assert_refuses_foreign_folder, tiny

from siting.cli import main
from siting.errors import NoSolutionError, ScenarioError
from siting.explore.alternatives import alternatives_of_inputs, check_args, with_cost_row
from siting.model import build_model, compile_model
from siting.solve import SolveOptions, solve

# Two regions of 10 MW, four sites (100 MW firm, PUE 1), unmet demand at 100 M$/MW.
#   R0 only by S0 (fixed 10, 1 /MW): S0 is needed, 10 + 10 = 20; leaving R0 unmet costs 1000.
#   R1 by S1 (fixed 10, 1 /MW) = 20, by S2 (fixed 11, 1 /MW) = 21, or by S3 (fixed 20, 1 /MW) = 30.
# Optimum S0 + S1 = 40. Within 5 % (<= 42): S0 + S2 = 41 (+2.5 %); S0 + S3 = 50 is not.
# MGA 1 (used: S0, S1): S0 cannot be avoided; cheapest avoiding S1 is S0 + S2 = 41.
# MGA 2 (used: S0, S1, S2): every plan within 42 re-uses two sites; the cheapest is S0 + S1 again.
# Within 1 % (<= 40.4) only the optimum fits: the alternative is the optimum, all its sites must-have.
ARCS = [(0, 0, "direct", 1), (1, 1, "direct", 1), (1, 2, "direct", 1), (1, 3, "direct", 1)]
SMALL = ["--set", "candidates.max_count=15", "--set", "demand.max_regions=10"]


def _inputs():
    return tiny([100] * 4, [10, 10], ARCS, site_fixed=[10, 10, 11, 20], per_mw=[1, 1, 1, 1],
                unmet_cost_musd_per_mw=100.0)


def test_alternatives_worked_out_by_hand():
    alt = alternatives_of_inputs(_inputs(), EXACT, slack=0.05, count=2)
    t = alt.table
    assert t["cost_musd"].tolist() == pytest.approx([40, 41, 40])
    assert t["site_ids"].tolist() == ["S0;S1", "S0;S2", "S0;S1"]
    assert [None if pd.isna(v) else int(v) for v in t["same_sites_as_plan"]] == [None, None, 0]
    assert (t["cost_musd"] <= 1.05 * alt.optimum + 1e-9).all()
    roles = dict(zip(alt.sites["site_id"], alt.sites["role"]))
    counts = dict(zip(alt.sites["site_id"], alt.sites["in_plans"]))
    assert roles == {"S0": "must-have", "S1": "interchangeable", "S2": "interchangeable", "S3": "never"}
    assert counts == {"S0": 3, "S1": 2, "S2": 1, "S3": 0}


def test_with_no_substitute_within_the_slack_the_alternative_is_the_optimum():
    alt = alternatives_of_inputs(_inputs(), EXACT, slack=0.01, count=1)
    assert alt.table["site_ids"].tolist() == ["S0;S1", "S0;S1"]
    assert alt.plans[1].same_as == 0 and alt.plans[1].decisions.open.tolist() == alt.plans[0].decisions.open.tolist()
    assert alt.sites.set_index("site_id")["role"].to_dict() == {
        "S0": "must-have", "S1": "must-have", "S2": "never", "S3": "never"}


def test_the_cost_row_bounds_the_true_cost():
    comp = compile_model(build_model(_inputs()))
    sf = with_cost_row(comp.sf, 40.5)
    assert sf.shape == (comp.sf.shape[0] + 1, comp.sf.shape[1])
    # with every site but S2 for R1 closed, R1 must go unmet (1000 M$): above 40.5, so infeasible
    ub = sf.col_upper.copy()
    ub[comp.columns["open"][[1, 3]]] = 0
    opts = dataclasses.replace(EXACT, strategy="plain")
    assert solve(dataclasses.replace(comp.sf, col_upper=ub), opts).objective == pytest.approx(41)
    assert solve(dataclasses.replace(sf, col_upper=ub), opts).x is None
    assert solve(sf, opts).objective == pytest.approx(40)


@pytest.mark.parametrize("slack, count, field", [(0, 3, "--slack"), (-0.1, 3, "--slack"), (float("nan"), 3, "--slack"),
                                                 (1.5, 3, "--slack"), (0.05, 0, "--count"), (0.05, 51, "--count"),
                                                 (0.05, True, "--count"), (0.05, 2.5, "--count")])
def test_bad_arguments_name_the_option(slack, count, field):
    with pytest.raises(ScenarioError, match=field):
        check_args(slack, count)


def test_alternatives_respect_the_slack_on_a_real_scenario(tmp_path):
    out = tmp_path / "alt"
    result = CliRunner().invoke(main, ["alternatives", "--count", "1", "--slack", "0.05", "--out", str(out),
                                       "--quiet"] + SMALL)
    assert result.exit_code == 0, result.output
    for name in ("alternatives.csv", "sites_in_alternatives.csv", "alternatives.png", "summary.json"):
        assert (out / name).stat().st_size > 0, name
    plans = pd.read_csv(out / "alternatives.csv", dtype={"site_ids": str})
    assert len(plans) == 2 and (plans["above_optimum"] <= 0.05 + 1e-9).all()
    sites = pd.read_csv(out / "sites_in_alternatives.csv", dtype={"site_id": str})
    opened = [set(s.split(";")) for s in plans["site_ids"]]
    must = set(sites.loc[sites["role"] == "must-have", "site_id"])
    assert must == set.intersection(*opened)
    assert set(sites.loc[sites["role"] == "interchangeable", "site_id"]) == set.union(*opened) - must
    assert np.all(sites["in_plans"] == [sum(s in o for o in opened) for s in sites["site_id"]])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["must_have"] and set(summary["must_have"]) == must
    assert "must-have" in result.output


def test_cli_refuses_a_foreign_folder_and_bad_options_before_solving(tmp_path):
    assert_refuses_foreign_folder(tmp_path, "alternatives", SMALL)
    for bad in (["--slack", "0"], ["--count", "0"]):
        result = CliRunner().invoke(main, ["alternatives", *bad, "--out", str(tmp_path / "x")] + SMALL)
        assert result.exit_code == 2 and bad[0] in result.output and "Traceback" not in result.output
    assert not (tmp_path / "x").exists()


def test_a_scenario_without_a_plan_is_one_clear_error():
    inp = tiny([5], [10], [(0, 0, "direct", 1)], site_fixed=[1], per_mw=[1])  # 10 MW demand, 5 MW site
    with pytest.raises(NoSolutionError, match="no plan"):
        alternatives_of_inputs(inp, SolveOptions(time_limit_s=10, threads=1), count=1)


def test_the_solves_take_the_pipelines_path_memory_check_and_kept_start(monkeypatch):
    """A model too large for the memory is refused before any solve; an alternative's solve that
    returns no plan keeps the optimum's plan it started from (the start is feasible within the slack)."""
    from siting import pipeline
    from siting.errors import ModelTooLargeError
    from siting.model import estimate
    from siting.solve import SolutionStatus, SolveReport, Termination

    real_solve = pipeline.solve
    with monkeypatch.context() as m:
        m.setattr(estimate, "available_memory_bytes", lambda: 1)
        m.setattr(pipeline, "solve", lambda *a, **k: pytest.fail("solved a model that does not fit"))
        with pytest.raises(ModelTooLargeError):
            alternatives_of_inputs(_inputs(), EXACT, slack=0.05, count=1)

    def no_plan_for_alternatives(sf, opts, **kw):
        if kw.get("start") is None:  # the optimum
            return real_solve(sf, opts, **kw)
        return SolveReport(Termination.TIME_LIMIT, SolutionStatus.NONE, None, None, None, 0.0, 0.0)

    monkeypatch.setattr(pipeline, "solve", no_plan_for_alternatives)
    alt = alternatives_of_inputs(_inputs(), EXACT, slack=0.05, count=1)
    assert alt.table["site_ids"].tolist() == ["S0;S1", "S0;S1"] and alt.plans[1].same_as == 0
    assert alt.plans[1].report.phases[-1].phase == "kept_start"
