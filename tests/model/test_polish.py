"""The polish step (issue 19): an open site with no IT load, an unused fiber lateral and spare
satellite units are dropped where the model still holds, the plan re-costed, and the run says so."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from helpers import EXACT, tiny

from siting import pipeline
from siting.model import compile_inputs
from siting.model.polish import polish
from siting.solve import SolutionStatus, Termination, feasible

# One region of 100 MW; S0, S1, S2: 100 MW firm, 10 M$ to open, 1 M$ per MW IT; no site serves more
# than half the region. S1 also has a fiber arc (lateral 5 M$). The optimum: S0 + S1 over their
# direct arcs, 50 MW each: 10 + 10 + 100 = 120 M$.
ARCS = [(0, 0, "direct", 1), (0, 1, "direct", 1), (0, 1, "fiber", 1), (0, 2, "direct", 1)]


def _inputs():
    return tiny([100, 100, 100], [100], ARCS, site_fixed=[10, 10, 10], per_mw=[1, 1, 1], fiber_cost=5.0,
                resilience_max_share=0.5)


def _time_limited_plan(comp, optimum_x):
    """The optimum plus S2 open with 0 MW IT (+10 M$) and S1's lateral built unused (+5 M$): 135 M$."""
    x = optimum_x.copy()
    x[comp.columns["open"][2]] = 1.0
    x[comp.columns["fiber"][comp.keys["fiber"].tolist().index(1)]] = 1.0
    assert feasible(comp.sf, x) and float(comp.sf.c @ x + comp.sf.offset) == pytest.approx(135.0)
    return x


def test_polish_closes_the_empty_site_and_drops_the_unused_lateral_by_hand():
    inp = _inputs()
    comp = compile_inputs(inp)
    best = pipeline.solve_model(inp, EXACT)
    assert best.report.objective == pytest.approx(120.0)
    done = polish(comp, inp, _time_limited_plan(comp, best.x))
    assert done.objective == pytest.approx(120.0)  # 135 - 10 (S2's fixed cost) - 5 (S1's lateral)
    assert feasible(comp.sf, done.x)
    assert [m.split(":")[0] for m in done.moves] == ["closed site S2 (open with 0 MW IT)",
                                                     "dropped the unused fiber lateral of site S1"]


def test_a_time_limited_plan_is_polished_re_costed_and_says_so(monkeypatch):
    """The solver ends at its time limit with the 135 M$ plan (bound 118): the plan reported costs
    120 M$, the cost table sums to it, the gap is re-measured (2/120) and the notes say what moved."""
    inp = _inputs()
    comp = compile_inputs(inp)
    x = _time_limited_plan(comp, pipeline.solve_model(inp, EXACT).x)
    real = pipeline.solve

    def time_limited(sf, opts, **kw):
        rep = real(sf, opts, **kw)
        return dataclasses.replace(rep, termination=Termination.TIME_LIMIT, solution_status=SolutionStatus.FEASIBLE,
                                   objective=135.0, best_bound=118.0, gap=17 / 135, x=x.copy())

    monkeypatch.setattr(pipeline, "solve", time_limited)
    said = []
    plan = pipeline.solve_inputs(inp, EXACT, progress=said.append)
    assert plan.report.objective == pytest.approx(120.0)
    assert plan.costs["pv_musd"].sum() == pytest.approx(120.0)
    assert plan.report.gap == pytest.approx(2 / 120)
    assert plan.sites["site_id"].tolist() == ["S0", "S1"] and not plan.sites["fiber"].any()
    assert plan.report.phases[-1].phase == "polish"
    assert any("closed site S2" in n for n in plan.summary.notes)
    assert any(s.startswith("polish: PV cost 135.000 -> 120.000") for s in said)


def test_spare_satellite_units_are_trimmed_to_the_traffic():
    # one region of 10 MW served by satellite from S0 (unit: 3 M$); 10 MW x gbps_per_mw need
    # ceil(10 g / u) units; a plan holding 3 more is trimmed back, 9 M$ cheaper
    inp = tiny([100], [10], [(0, 0, "satellite", 30)], site_fixed=[10], per_mw=[1], sat_unit_cost=3.0)
    comp = compile_inputs(inp)
    best = pipeline.solve_model(inp, EXACT)
    col = comp.columns["sat_units"][0]
    need = int(np.ceil(10 * inp.gbps_per_mw / inp.sat_unit_gbps - 1e-9))
    assert best.x[col] == pytest.approx(need)
    x = best.x.copy()
    x[col] += 3
    done = polish(comp, inp, x)
    assert done.x[col] == pytest.approx(need)
    assert done.objective == pytest.approx(best.report.objective)
    assert done.moves and f"{need + 3} -> {need} satellite units" in done.moves[0]


def test_it_above_the_load_is_trimmed_to_whole_modules_by_hand():
    # the three sites of 100 MW, 10 M$ to open, 1 M$ per MW IT, IT in 25 MW modules; one region of
    # 100 MW, at most half from a site. The optimum: two sites with 50 MW each (2 modules): 10 + 10
    # + 100 = 120 M$ (three sites cost 30 + 100). A plan with one of them at 100 MW (4 modules) for
    # the same 50 MW costs 170; polish takes it back to 2 modules (50 MW), 50 M$ less.
    from helpers import three_sites

    inp = three_sites(module_mw=25.0)
    comp = compile_inputs(inp)
    best = pipeline.solve_model(inp, EXACT)
    assert best.report.objective == pytest.approx(120.0)
    x = best.x.copy()
    k = int(np.flatnonzero(best.decisions.open)[0])
    x[comp.columns["it"][k]], x[comp.columns["modules"][k]] = 100.0, 4.0
    assert feasible(comp.sf, x) and float(comp.sf.c @ x) == pytest.approx(170.0)
    done = polish(comp, inp, x)
    assert done.objective == pytest.approx(120.0) and feasible(comp.sf, done.x)
    assert done.x[comp.columns["modules"][k]] == pytest.approx(2.0)
    assert done.moves == (f"site S{k}: IT 100 -> 50 MW (4 -> 2 modules; its load is 50 MW): 50.000 M$ less",)


def test_a_build_out_is_polished_period_by_period_first_to_last():
    """The instance above over 2026 and 2027 (w = 1/2 each; optimum 120 M$): the site the optimum
    leaves shut open with 0 MW IT in both periods (+10) and S1's lateral built unused in 2027
    (+5 / 2): 132.5 M$. It can close in 2027 only once closed in 2026 (kept once open: closing 2027
    first breaks keep_open), so the periods are polished first to last: 120 M$, every row held."""
    from siting.inputs.periods import make_periods
    from siting.model import period_view
    from siting.solve import SolveReport

    inp = _inputs()
    inp = dataclasses.replace(inp, periods=make_periods([2026, 2027], K=3, R=1, rate=0.0, lifetime_years=2))
    comp = compile_inputs(inp)
    best = pipeline.solve_model(inp, EXACT)
    assert best.report.objective == pytest.approx(120.0)
    x = best.report.x.copy()
    shut = int(np.flatnonzero(~best.decisions.open)[0])  # S0, S1, S2 tie: two of them serve
    for t in (0, 1):
        x[period_view(comp, t, 2).columns["open"][shut]] = 1.0
    late = period_view(comp, 1, 2)
    x[late.columns["fiber"][late.keys["fiber"].tolist().index(1)]] = 1.0
    assert feasible(comp.sf, x) and float(comp.sf.c @ x + comp.sf.offset) == pytest.approx(132.5)
    report = SolveReport(Termination.TIME_LIMIT, SolutionStatus.FEASIBLE, 132.5, 118.0, None, 0.0, 0.0, x=x)
    said = []
    done = pipeline._polished(comp, inp, comp.sf, report, said.append)
    assert done.objective == pytest.approx(120.0) and feasible(comp.sf, done.x)
    assert [m.split(" (")[0].split(":")[:3] for m in done.notes] == [
        ["polish", " 2026", f" closed site S{shut}"], ["polish", " 2027", f" closed site S{shut}"],
        ["polish", " 2027", " dropped the unused fiber lateral of site S1"]]
