"""`siting solve --time-limit ...` into the folder of a proven plan of the same scenario (issue 19,
the README's `--time-limit 60 --mip-gap 0.005` example): a dearer plan that is not proven never
replaces it silently; it is written to <out>.unproven and the run says so (exit 3), unless
--replace-proven. A plan of another scenario, or a proven one, replaces as before."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from siting import pipeline
from siting.cli import main
from siting.outputs.results import make_plan
from siting.solve import SolutionStatus, Termination

EXAMPLE = str(Path(__file__).parents[2] / "models" / "examples" / "southern_africa.yaml")


def _objective(folder: Path) -> float:
    return json.loads((folder / "summary.json").read_text())["objective_musd"]


@pytest.fixture
def dearer_unproven(monkeypatch):
    """Every solve after this returns its plan marked as ended by the time limit, 100 M$ dearer, gap 10 %."""
    real = pipeline.solve_inputs

    def unproven(inp, opts, **kw):
        plan = real(inp, opts, **kw)
        rep = dataclasses.replace(plan.report, termination=Termination.TIME_LIMIT,
                                  solution_status=SolutionStatus.FEASIBLE,
                                  objective=plan.report.objective + 100.0, gap=0.1)
        return make_plan(inp, plan.decisions, rep, scenario_name=plan.summary.scenario, mip_gap=opts.mip_gap)

    return lambda: monkeypatch.setattr(pipeline, "solve_inputs", unproven)


def test_a_dearer_unproven_plan_goes_beside_the_proven_one(tmp_path, dearer_unproven):
    out = tmp_path / "default"
    first = CliRunner().invoke(main, ["solve", EXAMPLE, "--out", str(out), "--quiet"])
    assert first.exit_code == 0, first.output
    proven = _objective(out)
    dearer_unproven()
    again = CliRunner().invoke(main, ["solve", EXAMPLE, "--out", str(out), "--quiet", "--time-limit", "60",
                                      "--mip-gap", "0.005"])
    assert again.exit_code == 3, again.output
    assert _objective(out) == proven  # the proven plan is kept
    beside = tmp_path / "default.unproven"
    assert _objective(beside) == pytest.approx(proven + 100.0)
    assert f"kept {out}/" in again.output and "--replace-proven" in again.output
    # asked for: replaced
    forced = CliRunner().invoke(main, ["solve", EXAMPLE, "--out", str(out), "--quiet", "--replace-proven"])
    assert forced.exit_code == 3 and _objective(out) == pytest.approx(proven + 100.0)


def test_a_plan_of_another_scenario_replaces_as_before(tmp_path, dearer_unproven):
    out = tmp_path / "what-if"
    assert CliRunner().invoke(main, ["solve", EXAMPLE, "--out", str(out), "--quiet"]).exit_code == 0
    dearer_unproven()
    other = CliRunner().invoke(main, ["solve", EXAMPLE, "--out", str(out), "--quiet", "--set", "demand.latency_ms=50"])
    assert other.exit_code == 3 and not (tmp_path / "what-if.unproven").exists()
    assert json.loads((out / "summary.json").read_text())["termination"] == "time_limit"


def test_the_readme_examples_never_share_a_folder():
    """Each `siting solve` line of the README that sets solver limits writes to its own --out."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    lines = [ln.split("#")[0] for ln in readme.splitlines() if ln.startswith("siting solve")]
    limited = [ln for ln in lines if "--time-limit" in ln or "--mip-gap" in ln]
    assert limited and all("--out" in ln for ln in limited)
    outs = [ln.split("--out")[1].split()[0] for ln in lines if "--out" in ln]
    assert len(outs) == len(set(outs))
