"""The Benders strategy: published optima, the same optimum as HiGHS on the whole model, valid cuts;
its inner solves bounded by the time limit and stopped by Ctrl-C."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd
import pytest
from helpers import tiny_instances
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siting.inputs.orlib import read_cap
from siting.model import compile_inputs
from siting.pipeline import solve_report
from siting.solve import SolveOptions, Termination, solve
from siting.solve.benders import Sub, split

BENDERS = SolveOptions(time_limit_s=120, mip_gap=1e-9, threads=1, strategy="benders")
PLAIN = SolveOptions(time_limit_s=120, mip_gap=0.0, threads=1, strategy="plain")


@pytest.mark.parametrize("name", ["cap41", "cap71", "cap101", "cap131"])
def test_published_optimum(shared_data, name):
    folder = shared_data / "orlib_cap"
    row = pd.read_csv(folder / "optima.csv").set_index("instance").loc[name]
    report, _ = solve_report(read_cap(folder / row["file"]).to_inputs(), BENDERS)
    assert report.strategy == "benders" and [p.phase for p in report.phases][:1] == ["benders_lp"]
    assert report.proven_optimal
    assert report.objective == pytest.approx(row["optimal_value"], rel=1e-6)
    assert report.best_bound <= row["optimal_value"] * (1 + 1e-9)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_instances())
def test_same_optimum_as_the_whole_model(inp):
    """Training clusters (lower variable bounds), modules, cooling, satellites, unmet demand."""
    plain, _ = solve_report(inp, PLAIN)
    ours, dec = solve_report(inp, BENDERS)
    if plain.termination == Termination.INFEASIBLE:
        assert ours.termination in (Termination.INFEASIBLE, Termination.TIME_LIMIT) and not ours.has_solution
        return
    assert plain.proven_optimal and ours.proven_optimal, (plain.termination, ours.termination)
    assert ours.objective == pytest.approx(plain.objective, rel=1e-7, abs=1e-7)
    assert ours.best_bound <= plain.objective + 1e-7 * max(1.0, abs(plain.objective))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_instances(), st.integers(0, 2**32 - 1))
def test_every_cut_is_below_the_subproblem_everywhere(inp, seed):
    """Weak duality: a cut taken at one master point never exceeds phi_M at another."""
    sf = compile_inputs(inp).sf
    if not sf.integer.any() or sf.integer.all():
        return
    s = split(sf)
    sub = Sub(sf, s, SolveOptions(threads=1), 1e3)
    rng = np.random.default_rng(seed)
    lo, up = sf.col_lower[s.I], np.minimum(sf.col_upper[s.I], 5.0)
    points = [rng.uniform(lo, up) for _ in range(4)] + [np.round(rng.uniform(lo, up)) for _ in range(4)]
    crossing = [sub.crossing_cuts(y) for y in points]
    for y, cuts in zip(points, crossing):  # a crossing cut cuts off its own point
        assert all(alpha + beta @ y > 0 for alpha, beta in cuts)
    ok = [y for y, cuts in zip(points, crossing) if not cuts]  # elsewhere the subproblem exists
    for cuts in crossing:
        for alpha, beta in cuts:
            assert all(alpha + beta @ y <= 1e-7 for y in ok)
    results = [sub.solve(y) for y in ok]
    assert all(r is not None for r in results)  # the elastic columns keep it feasible
    for _, _, alpha, beta, _ in results:
        for y, (phi, *_rest) in zip(ok, results):
            assert alpha + beta @ y <= phi + 1e-6 * max(1.0, abs(phi))
    for y, (phi, _x, alpha, beta, _e) in zip(ok, results):  # tight where it was taken
        assert alpha + beta @ y == pytest.approx(phi, rel=1e-6, abs=1e-6)


# --- every inner HiGHS solve of Benders is bounded by the solve's clock and stopped by Ctrl-C ---

def _capa_8000(shared_data):
    return compile_inputs(read_cap(shared_data / "orlib_cap" / "capa.txt", 8000).to_inputs()).sf


def _default_sf():
    """The default scenario's standard form: Benders' first subproblem LP there is a cold solve
    of ~30,000 columns that takes over a second at load 3 (a window to land a deadline in)."""
    from siting.inputs.inputs import from_layers
    from siting.scenario import load_scenario

    return compile_inputs(from_layers(load_scenario())).sf


def test_every_inner_solve_runs_through_the_highs_process(shared_data, monkeypatch):
    """Master LP, subproblem LP and master MIP each run in solve.highs.run's thread (where the
    deadline and Ctrl-C are watched), with a time limit no longer than the solve's."""
    import threading

    import highspy

    seen, original = [], highspy._Highs.run

    def spy(h):
        seen.append((threading.current_thread().name, h.getOptionValue("time_limit")[1]))
        return original(h)

    monkeypatch.setattr(highspy._Highs, "run", spy)
    sf = compile_inputs(read_cap(shared_data / "orlib_cap" / "cap41.txt").to_inputs()).sf
    report = solve(sf, dataclasses.replace(BENDERS, time_limit_s=100))
    assert report.proven_optimal and len(seen) > 10
    assert {name for name, _ in seen} == {"highs-solve"}, seen[:5]
    assert max(limit for _, limit in seen) <= 100


def test_time_limit_5_on_capa_ends_within_7_s(shared_data):
    sf = _capa_8000(shared_data)
    t0 = time.perf_counter()
    report = solve(sf, dataclasses.replace(BENDERS, time_limit_s=5))
    wall = time.perf_counter() - t0
    assert wall < 7.0, wall
    assert report.termination == Termination.TIME_LIMIT and not report.proven_optimal


def test_the_time_limit_stops_a_long_subproblem_solve():
    # 0.5 s against a first subproblem LP that takes ~1.3 s on its own: before its solves had a
    # deadline, Benders ended after 1.8 s here (load 2.7); now after 0.5 s
    sf = _default_sf()
    t0 = time.perf_counter()
    report = solve(sf, SolveOptions(time_limit_s=0.5, threads=1, strategy="benders"))
    wall = time.perf_counter() - t0
    assert wall < 1.25, (wall, report.phases)
    assert report.termination == Termination.TIME_LIMIT


def test_ctrl_c_stops_a_benders_solve_in_python():
    """SIGINT raises KeyboardInterrupt out of solve() promptly, also mid-subproblem."""
    sf = _default_sf()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # a background suite ignores it
    sent = []
    timer = threading.Timer(1.0, lambda: (sent.append(time.perf_counter()), os.kill(os.getpid(), signal.SIGINT)))
    try:
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            solve(sf, SolveOptions(time_limit_s=60, threads=1, strategy="benders"))
        stopped = time.perf_counter()
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert sent and stopped - sent[0] < 2.0, stopped - sent[0]


def test_ctrl_c_during_benders_exits_130_within_2_s(tmp_path):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "siting.cli", "solve", "--out", str(tmp_path / "plan"),
           "--set", "solver.strategy=benders", "--threads", "1",
           "--set", "network.cell_capacity=false"]  # no cell repair start: Benders at once
    # SIGINT's default disposition, as a terminal's Ctrl-C finds it (a background suite ignores it)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines, deadline = [], time.time() + 120
    for line in proc.stdout:
        lines.append(line)
        if "Benders: master" in line or time.time() > deadline:
            break
    time.sleep(1.0)  # in the LP phase: master LP and subproblem solves
    proc.send_signal(signal.SIGINT)
    t0 = time.monotonic()
    rest, _ = proc.communicate(timeout=60)
    took = time.monotonic() - t0
    text = "".join(lines) + rest
    assert proc.returncode == 130, text
    assert took < 2.0, (took, text)
    assert "interrupted" in text and "Traceback" not in text
