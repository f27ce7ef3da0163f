"""The plan contract and the solver layer: typed decisions, honest proofs and limits, refused
typos and options, re-solves in place, and a solver module that knows nothing of siting."""

import dataclasses

import highspy
import numpy as np
import pytest
import scipy.sparse as sp
from helpers import EXACT, tiny

import siting.solve.highs as solver
from siting.inputs.diagnose import diagnose
from siting.inputs.inputs import from_cost_matrix, from_layers
from siting.model import (
    build_model,
    compile_model,
    in_place_update,
    objective_vector,
    read_decisions,
    start_vector,
    structure_key,
)
from siting.model.decisions import Decisions
from siting.pipeline import solve_inputs, solve_report
from siting.scenario import load_scenario
from siting.solve import Reoptimizer, SolveOptions, SolverOptionError, StandardForm, Termination, solve, termination_of

SMALL = ["candidates.max_count=15", "demand.max_regions=10"]


@pytest.fixture(scope="module")
def small():
    inp = from_layers(load_scenario(None, SMALL))
    comp = compile_model(build_model(inp))
    report = solve(comp.sf, SolveOptions(mip_gap=0, threads=1), restrict=comp.open_mask)
    return inp, comp, report


# which module may import what: tests/test_structure.py (walks every module, recursively)


def test_decisions_round_trip_through_a_start_vector(small):
    inp, comp, report = small
    dec = read_decisions(comp, inp, report.x)
    x = start_vector(comp, inp, dec)
    assert read_decisions(comp, inp, x).same_as(dec)
    assert float(comp.sf.c @ x + comp.sf.offset) == pytest.approx(report.objective, rel=1e-9)
    assert dec.open.flags.writeable is False
    with pytest.raises(dataclasses.FrozenInstanceError):
        dec.open = dec.open


def test_a_plan_as_start_is_accepted_at_once(small):
    inp, comp, report = small
    x = start_vector(comp, inp, read_decisions(comp, inp, report.x))
    again = solve(comp.sf, SolveOptions(mip_gap=0, threads=1, strategy="plain"), start=x)
    assert again.proven_optimal and again.objective == pytest.approx(report.objective, rel=1e-9)


def test_objective_vector_is_the_compiled_objective(small):
    inp, comp, _ = small
    assert np.array_equal(objective_vector(comp, inp), comp.sf.c)


def test_an_lp_stopped_by_its_time_limit_proves_nothing(monkeypatch):
    # one site, integral LP: the restricted plan equals the LP objective. If the LP ended on its
    # time limit, its objective is no bound, so the full MIP must still run to prove the plan.
    inp = tiny([500], [10], [(0, 0, "direct", 1)], site_fixed=[1], per_mw=[1])
    real = solver.read_outcome

    def lp_timed_out(h, is_mip):
        o = real(h, is_mip)
        return o if is_mip else dataclasses.replace(o, termination=Termination.TIME_LIMIT)
    monkeypatch.setattr(solver, "read_outcome", lp_timed_out)
    report, _ = solve_report(inp, EXACT)
    assert [p.phase for p in report.phases] == ["lp_relaxation", "restricted_mip", "mip"]
    assert report.proven_optimal and report.objective == pytest.approx(11.0)


def test_the_time_limit_bounds_the_whole_solve():
    rng = np.random.default_rng(3)
    k, r = 60, 300
    inp = from_cost_matrix(rng.uniform(500, 1500, k), rng.uniform(50, 150, k), rng.uniform(1, 10, r),
                           rng.uniform(1, 100, (k, r)))
    report, _ = solve_report(inp, SolveOptions(time_limit_s=0.05, mip_gap=0, threads=1))
    assert report.solve_s < 0.6, report.phases  # every phase once had a 1 s floor: >= 2 s
    assert not report.proven_optimal or report.gap == 0


@pytest.mark.parametrize("kwargs, field", [({"strategy": "lp-start"}, "strategy"), ({"seed": -1}, "seed"),
                                           ({"seed": 2**31}, "seed"), ({"threads": 0}, "threads"),
                                           ({"time_limit_s": 0}, "time_limit_s"), ({"mip_gap": 2}, "mip_gap")])
def test_typos_and_refused_options_are_errors(kwargs, field):
    with pytest.raises(SolverOptionError, match=f"solver.{field}"):
        SolveOptions(**kwargs)


def test_highs_refusing_an_option_is_an_error():
    with pytest.raises(SolverOptionError, match="HiGHS refuses option random_seed"):
        solver.set_option(highspy.Highs(), "random_seed", -5)


def test_a_misspelt_component_is_an_error(small):
    _, comp, _ = small
    with pytest.raises(KeyError, match="no component 'opne'"):
        comp.mask("opne")


def test_every_highs_status_is_mapped_and_an_empty_model_is_not_optimal():
    for name in highspy.HighsModelStatus.__members__:
        assert isinstance(termination_of(name), Termination)
    assert termination_of("kModelEmpty") == Termination.MODEL_EMPTY
    empty = StandardForm(np.zeros(0), 0.0, sp.csc_array((0, 0)), np.zeros(0), np.zeros(0), np.zeros(0),
                         np.zeros(0), np.zeros(0, bool))
    report = solve(empty)
    assert report.termination == Termination.MODEL_EMPTY and not report.proven_optimal


def test_priced_unmet_inference_is_not_called_impossible():
    # 150 MW of inference and 50 MW of training on one 100 MW site, unmet inference priced at
    # 1000 M$/MW: train 50, serve 50, leave 100 unmet -> 1 + 100 * 1 + 100 * 1000 = 100,101
    inp = tiny([100], [150], [(0, 0, "direct", 1)], site_fixed=[1], per_mw=[1], training_mw=50,
               training_min_cluster_mw=10, unmet_cost_musd_per_mw=1000.0)
    assert [f.severity for f in diagnose(inp)] == ["warning"]
    plan = solve_inputs(inp, EXACT)
    assert plan.report.objective == pytest.approx(100_101.0)
    assert plan.decisions.unmet_mw.tolist() == pytest.approx([100.0])
    assert plan.decisions.train_mw.tolist() == pytest.approx([50.0])


def test_training_that_fits_nowhere_is_still_an_error():
    inp = tiny([100], [10], [(0, 0, "direct", 1)], site_fixed=[1], per_mw=[1], training_mw=500,
               unmet_cost_musd_per_mw=1000.0)
    assert any(f.severity == "error" and "training needs" in f.message for f in diagnose(inp))


def test_in_place_resolve_matches_a_rebuild():
    base = from_layers(load_scenario(None, SMALL + ["facility.max_sites=5"]))
    comp = compile_model(build_model(base))
    opts = SolveOptions(mip_gap=0, threads=1, time_limit_s=60)
    reopt = Reoptimizer(comp.sf, opts, restrict=comp.open_mask)
    first = reopt.solve()
    assert first.phases[0].phase == "lp_relaxation"  # no start: the configured strategy
    changed = from_layers(load_scenario(None, SMALL + ["facility.max_sites=4",
                                                       "network.sat_price_musd_per_gbps_year=0.02",
                                                       "energy.carbon_price_usd_per_tco2=190"]))
    assert structure_key(changed) == structure_key(base)
    c, rows = in_place_update(comp, changed)
    reopt.set_costs(c)
    for r, lo, up in rows:
        reopt.set_row_bounds(r, lo, up)
    again = reopt.solve(start=first.x)
    rebuilt, dec = solve_report(changed, opts)
    assert again.proven_optimal and rebuilt.proven_optimal
    assert again.objective == pytest.approx(rebuilt.objective, rel=1e-7)
    assert dec.open.sum() <= 4 and read_decisions(comp, changed, again.x).open.sum() <= 4
    assert isinstance(dec, Decisions)


def test_structure_changes_are_detected():
    a = from_layers(load_scenario(None, SMALL))
    b = from_layers(load_scenario(None, SMALL + ["demand.latency_ms=60"]))
    c = from_layers(load_scenario(None, SMALL + ["network.sat_price_musd_per_gbps_year=0.5"]))
    assert structure_key(a) != structure_key(b)
    assert structure_key(a) == structure_key(c)


def test_a_misreported_objective_after_a_start_is_caught():
    # found by the property tests: HiGHS 1.16, started from the restricted plan, ends 'optimal'
    # at 23.0 (below the LP bound of 24.0) while the solution it returns costs 25.5, the
    # optimum plain HiGHS proves. The solver layer must notice and solve again without the start.
    import pandas as pd

    from siting.outputs.audit import audit

    rtt = {(0, 0): (21, 5), (0, 1): (5, 21), (0, 2): (5, 5), (0, 3): (5, 5), (1, 0): (21, 21), (1, 1): (21, 21),
           (1, 2): (5, 21), (1, 3): (5, 5), (2, 0): (5, 5), (2, 1): (5, 5), (2, 2): (5, 5), (2, 3): (21, 21),
           (3, 0): (5, 5), (3, 1): (5, 5), (3, 2): (21, 5), (3, 3): (5, 5)}
    arcs = [(r, k, link, t) for (r, k), both in rtt.items() for link, t in zip(("fiber", "satellite"), both)
            if t <= 20]
    cooling = pd.DataFrame({"cooling": ["liquid"], "pue": [1.1], "carries_training": [True],
                            "carries_inference": [True]})
    inp = tiny([40] * 4, [5] * 4, arcs, site_fixed=[0, 1, 1, 0], per_mw=[1, 1, 1, 2], cooling=cooling,
               fiber_cost=[0, 1, 0, 0], sat_unit_cost=[1, 0, 1, 0], resilience_max_share=0.5,
               unmet_cost_musd_per_mw=1000.0, latency_ms=20.0)
    plan = solve_inputs(inp, EXACT)
    assert plan.report.proven_optimal and plan.report.objective == pytest.approx(25.5)
    assert plan.report.best_bound <= 25.5 + 1e-9 and plan.report.best_bound >= 24.0 - 1e-9
    assert audit(plan, inp) == []


@pytest.mark.parametrize("change, message", [
    (lambda kw: kw["arcs"].append((0, 5, "fiber", 1)), r"arcs.site.*outside 0..1"),
    (lambda kw: kw["arcs"].append((0, 0, "pigeon", 1)), r"arcs.link.*'pigeon' is not one of"),
    (lambda kw: kw.update(per_mw=[1.0, float("nan")]), r"it_cost_musd.capex.*not finite"),
    (lambda kw: kw.update(firm_mw=[10.0, -1.0]), r"sites.firm_mw.*-1.0 is not a finite number >= 0")])
def test_the_one_array_constructor_refuses_what_the_model_cannot_use(change, message):
    from siting.errors import InputError

    kw = {"firm_mw": [10.0, 10.0], "arcs": [(0, 0, "fiber", 1)], "per_mw": [1.0, 1.0]}
    change(kw)
    with pytest.raises(InputError, match=message):
        tiny(kw["firm_mw"], [5.0], kw["arcs"], site_fixed=[1, 1], per_mw=kw["per_mw"])


def test_a_given_start_is_used_only_when_feasible_and_cheaper(small):
    inp, comp, report = small
    opts = SolveOptions(mip_gap=0, threads=1)
    junk = np.ones(comp.sf.shape[1]) * 1e6  # breaks every bound: must be ignored, not passed on
    assert not solver.feasible(comp.sf, junk)
    assert solver.feasible(comp.sf, report.x)
    again = solve(comp.sf, opts, restrict=comp.open_mask, start=junk)
    assert again.proven_optimal and again.objective == pytest.approx(report.objective, rel=1e-9)
    warm = solve(comp.sf, opts, restrict=comp.open_mask, start=report.x)
    assert warm.proven_optimal and warm.objective == pytest.approx(report.objective, rel=1e-9)


def test_a_proven_infeasible_scenario_names_the_region_left_short():
    # 100 MW of demand, one 100 MW site, but IT comes in 70 MW modules: one module fits, so the
    # elastic re-solve leaves 30 MW short (the pre-solve checks cannot see modules)
    from siting.errors import NoSolutionError

    inp = tiny([100], [100], [(0, 0, "direct", 1)], site_fixed=[1], per_mw=[1], module_mw=70.0)
    assert [f for f in diagnose(inp) if f.severity == "error"] == []
    with pytest.raises(NoSolutionError, match=r"region 'R0' \(region 0\) short 30.0 of 100.0 MW"):
        solve_inputs(inp, EXACT)
