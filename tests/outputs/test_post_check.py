"""Every plan a command reports is run through the independent post-check (issue 19): a plan that
breaks a rule is an error naming the family (exit 6), never "optimal" — in solve, sweep rows, front
points and alternatives. The fault is planted by dropping a family from the statement (N-1 silently
not enforced, the fault of issue 18), so the model's own solve returns a plan its rules forbid."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import EXACT, tiny

from siting.cli import main
from siting.errors import PlanCheckError
from siting.model import compile as compile_mod
from siting.model import families
from siting.pipeline import solve_inputs

EXAMPLE = Path(__file__).parents[2] / "models" / "examples" / "southern_africa.yaml"
N1 = ["--set", "demand.n_minus_1_share=0.9"]  # the plan without N-1 rows (1,560 M$) keeps 0.5 of each region


@pytest.fixture
def n_minus_1_dropped(monkeypatch):
    """The statement without its N-1 rows: N-1 on, but silently not enforced."""
    monkeypatch.setattr(compile_mod, "FAMILIES", tuple(f for f in families.FAMILIES if f is not families.n_minus_1))


def _two_sites():
    # S0, S1: firm 50 MW, 10 M$ + 1 M$/MW; R0 (arcs to S0, S1), R1 (arc to S1 only), 10 MW each;
    # beta = 0.5, unmet 100 M$/MW. Without the N-1 rows: S1 serves both, 10 + 20 = 30 M$ — but
    # losing S1 leaves R1 nothing (and R0 nothing), so that plan breaks N-1. With them: 1,030 M$.
    return tiny([50, 50], [10, 10], [(0, 0, "direct", 1), (0, 1, "direct", 1), (1, 1, "direct", 1)],
                site_fixed=[10, 10], per_mw=[1, 1], unmet_cost_musd_per_mw=100.0, n_minus_1_share=0.5)


def test_a_plan_that_fails_n_minus_1_is_an_error_naming_the_family(n_minus_1_dropped):
    with pytest.raises(PlanCheckError) as err:
        solve_inputs(_two_sites(), EXACT)
    assert err.value.families == ["n-1"]
    assert "losing S1 leaves region R1" in str(err.value)


def test_with_the_n_minus_1_rows_the_plan_survives_every_loss_by_hand():
    plan = solve_inputs(_two_sites(), EXACT)  # the post-check ran and passed
    assert plan.report.objective == pytest.approx(1030.0)


def test_cli_solve_exits_6_naming_the_family_and_writes_nothing(tmp_path, n_minus_1_dropped):
    out = tmp_path / "plan"
    result = CliRunner().invoke(main, ["solve", str(EXAMPLE), *N1, "--out", str(out), "--quiet"])
    assert result.exit_code == 6, result.output
    assert "post-check of n-1" in result.output and "optimal" not in result.output
    assert not out.exists()


def test_cli_solve_with_n_minus_1_says_it_was_checked(tmp_path):
    result = CliRunner().invoke(main, ["solve", str(EXAMPLE), *N1, "--out", str(tmp_path / "p"), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "survives the loss of any one failure group with 0.9" in result.output


def test_cli_pareto_and_alternatives_exit_6(tmp_path, n_minus_1_dropped):
    for command, extra in (("pareto", ["--latency-ms", "60,100"]), ("alternatives", ["--count", "1"])):
        out = tmp_path / command
        result = CliRunner().invoke(main, [command, str(EXAMPLE), *N1, *extra, "--out", str(out), "--quiet"])
        assert result.exit_code == 6, (command, result.output)
        assert "post-check of n-1" in result.output and not out.exists()


def test_a_sweep_row_whose_plan_fails_is_a_failed_row_naming_the_family(tmp_path, n_minus_1_dropped):
    from distributed import Client, LocalCluster

    from siting.explore.sweep import VariantState, sweep

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        table = sweep(EXAMPLE, {"demand.n_minus_1_share": [0.3, 0.9]}, scheduler=client, cache_dir=None,
                      out=tmp_path / "sweep", progress=False)
    off, on = table.to_dict("records")
    assert off["state"] == VariantState.SOLVED and off["error"] is None  # 0.3: the plan keeps 0.5 of each region anyway
    assert on["state"] == VariantState.FAILED and "post-check of n-1" in on["error"]
    assert on["objective_musd"] is None or on["objective_musd"] != on["objective_musd"]
