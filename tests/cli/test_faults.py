"""Faults: interrupts leave the previous output intact; time limits return marked incumbents."""

import os
import signal
import subprocess
import sys
import time

import pytest

from siting.inputs.inputs import from_layers
from siting.outputs.outdir import MANIFEST, replace_dir
from siting.outputs.results import OUTPUT_FILES
from siting.pipeline import solve_inputs
from siting.scenario import load_scenario
from siting.solve import SolveOptions


def _start_solve(out, *extra):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "siting.cli", "solve", "--out", str(out), *extra]
    # a shell starts background jobs with SIGINT ignored, and Python keeps it so: give the child
    # the default disposition, as a terminal's Ctrl-C would find it (the suite may run under `&`)
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_during_solve_keeps_the_previous_output(tmp_path, sig):
    out = tmp_path / "plan"
    with replace_dir(out) as (tmp, _):  # a previous siting output
        (tmp / "sites.csv").write_text("previous plan\n")
    # interrupt a 0 %-gap solve (it would run for minutes) a second after HiGHS starts
    proc = _start_solve(out, "--set", "demand.latency_ms=40", "--set", "solver.strategy=plain", "--mip-gap", "0")
    lines = []
    deadline = time.time() + 120
    for line in proc.stdout:
        lines.append(line)
        # HiGHS starts on the MIP, or on the cell repair's model without the cells before it
        if "solving the MIP" in line or "cell repair: solving" in line or time.time() > deadline:
            break
    time.sleep(3.0)  # inside HiGHS's root node, where it checks no interrupt flag for minutes
    proc.send_signal(sig)
    t0 = time.time()
    rest, _ = proc.communicate(timeout=60)
    assert time.time() - t0 < 10, "Ctrl-C must stop the run within seconds"
    text = "".join(lines) + rest
    assert proc.returncode == 130, text
    assert "interrupted: nothing written" in text and "Traceback" not in text
    assert sorted(p.name for p in out.iterdir()) == sorted([MANIFEST, "sites.csv"])
    assert (out / "sites.csv").read_text() == "previous plan\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]  # no temporary folder left


def test_time_limit_returns_the_incumbent_marked_not_optimal():
    # plain HiGHS with a 3 s limit on the default model stops before proving 0 % gap, with the
    # heuristic incumbent it has (or, failing one, says so): never marked optimal. Without the
    # satellite cells, whose repair start alone takes longer than 3 s
    sc = load_scenario(None, ["network.cell_capacity=false"])
    inp = from_layers(sc)
    plan = solve_inputs(inp, SolveOptions(time_limit_s=3, mip_gap=0, threads=1, strategy="lp_start",
                                          restricted_time_s=1))
    rep = plan.report
    assert rep.termination == "time_limit"
    assert rep.solution_status == "feasible" and not rep.proven_optimal
    assert rep.gap is not None and rep.gap > 0 and rep.best_bound < rep.objective
    assert rep.best_bound >= rep.phases[0].objective - 1e-6  # never weaker than the LP bound
    assert plan.summary["proven_optimal"] is False


def test_complete_run_replaces_the_previous_output(tmp_path):
    out = tmp_path / "plan"
    with replace_dir(out) as (tmp, _):
        (tmp / "stale.txt").write_text("old")
    proc = _start_solve(out, "--set", "demand.max_regions=10", "--set", "candidates.max_count=20",
                        "--quiet")
    text, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, text
    assert sorted(p.name for p in out.iterdir()) == sorted([*OUTPUT_FILES, MANIFEST])


def test_the_time_limit_holds_even_where_highs_does_not_check_it(tmp_path):
    # plain HiGHS on the default model spends its root node in cut rounds that check no time
    # limit (measured: 100 s past a 10 s limit). The solve is cancelled at the limit and, if
    # HiGHS does not stop, left behind with the best plan its callbacks reported.
    # (cells off: their repair start would take a share of the limit, and under load a CI run once
    # ended at 5 s with no plan yet: exit 4)
    out = tmp_path / "plan"
    proc = _start_solve(out, "--set", "solver.strategy=plain", "--time-limit", "8", "--mip-gap", "0",
                        "--set", "network.cell_capacity=false")
    text, _ = proc.communicate(timeout=120)
    assert proc.returncode == 3, text  # a plan, not proven within the gap
    summary = __import__("json").loads((out / "summary.json").read_text())
    assert summary["termination"] == "time_limit" and summary["proven_optimal"] is False
    assert summary["times_s"]["solve"] <= 8 + 3.5, summary["times_s"]
