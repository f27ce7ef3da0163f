"""lp_start's path for large models (issue 11): the LP by lazy-row generation, the MIP over the
LP's support, MIPs stopped at the plan the LP bound proves. Answers are checked against HiGHS
alone on the whole model (the LP relaxation, and the MIP solved to optimality)."""

import re

import numpy as np
import pytest

from siting.inputs.instances import generate
from siting.model import compile_inputs
from siting.pipeline import solve_report
from siting.solve import Clock, SolveOptions, SolverOptionError, Termination, solve
from siting.solve import lp_start as lp_start_mod
from siting.solve.lp_start import lp_relaxation

SEEDS = (0, 1, 2, 3)


def _lp(sf, lazy):
    said = []
    o = lp_relaxation(sf, SolveOptions(threads=1, mip_gap=0.0), Clock(120), [], said.append, lazy)
    return o, said


@pytest.mark.parametrize("seed", SEEDS)
def test_lazy_rows_reach_the_lp_optimum_and_every_round_bounds_it(seed, monkeypatch):
    monkeypatch.setattr(lp_start_mod, "bound_settled", lambda *_: False)  # never stop early: run to the LP optimum
    comp = compile_inputs(generate(30, 300, seed=seed))
    full, _ = _lp(comp.sf, None)
    lazy, said = _lp(comp.sf, comp.lazy_rows)
    assert comp.lazy_rows.sum() > 1000
    assert full.termination == lazy.termination == Termination.OPTIMAL
    assert lazy.bound == pytest.approx(full.bound, rel=1e-7)
    rounds = [float(m.group(1).replace(",", "")) for s in said if (m := re.search(r"round \d+: bound ([\d,.]+)", s))]
    assert rounds and all(b <= full.bound + 0.05 for b in rounds)  # each a relaxation (printed to 0.1)
    assert rounds == sorted(rounds)  # rows only ever added


def test_a_settled_bound_is_still_a_bound_and_marks_the_rows_it_breaks(monkeypatch):
    monkeypatch.setattr(lp_start_mod, "bound_settled", lambda before, *_: before is not None)  # stop after round 2
    comp = compile_inputs(generate(30, 300, seed=0))
    full, _ = _lp(comp.sf, None)
    early, said = _lp(comp.sf, comp.lazy_rows)
    assert "bound settled after 2 round(s)" in said[-1]
    assert early.termination != Termination.OPTIMAL and early.bound <= full.bound * (1 + 1e-9)
    # every open binary of a row the relaxation still breaks counts as used by the LP
    sf, x = comp.sf, early.x
    ax = sf.A @ x
    broken = comp.lazy_rows & (ax > sf.row_upper + 1e-6 * np.maximum(1, abs(ax)))
    cols = np.unique(sf.A.tocsr()[np.flatnonzero(broken)].indices)
    assert broken.any() and np.all(x[cols[sf.integer[cols]]] > 1e-6)


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_the_large_path_plan_is_within_the_gap_of_the_true_optimum(seed, monkeypatch):
    monkeypatch.setattr(lp_start_mod, "LARGE_LAZY_ROWS", 1)
    inp = generate(10, 100, seed=seed)
    comp = compile_inputs(inp)
    # HiGHS alone brackets the optimum: lo <= optimum <= hi
    ref = solve(comp.sf, SolveOptions(threads=1, mip_gap=1e-6, strategy="plain", time_limit_s=60))
    lo, hi = ref.best_bound, ref.objective
    assert (hi - lo) / hi < 1e-3
    said = []
    rep, dec = solve_report(inp, SolveOptions(threads=1, mip_gap=0.01, time_limit_s=120), progress=said.append)
    assert "support_mip" in [p.phase for p in rep.phases]
    assert any("lazy rows" in s for s in said)
    assert rep.termination == Termination.OPTIMAL and rep.gap <= 0.01
    assert rep.best_bound <= hi * (1 + 1e-9) and rep.objective >= lo * (1 - 1e-9)  # a bound and a plan
    assert (rep.objective - lo) / rep.objective <= 0.01 + 1e-3
    assert dec is not None and dec.open.sum() > 0


def test_small_models_keep_the_plain_lp(monkeypatch):
    comp = compile_inputs(generate(20, 100, seed=1))
    assert comp.lazy_rows.sum() < lp_start_mod.LARGE_LAZY_ROWS
    said = []
    rep = solve(comp.sf, SolveOptions(threads=1, mip_gap=0.01), restrict=comp.open_mask,
                support=comp.support_mask, lazy=comp.lazy_rows, progress=said.append)
    assert [p.phase for p in rep.phases][0] == "lp_relaxation" and "support_mip" not in [p.phase for p in rep.phases]
    assert not any("lazy" in s for s in said)


def test_hint_masks_of_the_wrong_shape_are_refused():
    comp = compile_inputs(generate(20, 100, seed=1))
    with pytest.raises(SolverOptionError, match="lazy mask has shape"):
        solve(comp.sf, SolveOptions(threads=1), lazy=np.ones(3, bool))
    with pytest.raises(SolverOptionError, match="support mask has shape"):
        solve(comp.sf, SolveOptions(threads=1), support=np.ones(3, bool))
