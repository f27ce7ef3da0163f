"""The Benders strategy: published optima, the same optimum as HiGHS on the whole model, valid cuts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_estimate import tiny_instances

from siting.model import compile_inputs
from siting.orlib import read_cap
from siting.pipeline import solve_report
from siting.solve import SolveOptions, Termination
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
