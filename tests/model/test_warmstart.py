"""A larger candidate set never gives a worse plan than a subset did (solver.warm_start)."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from siting.inputs.inputs import from_layers
from siting.inputs.instances import generate
from siting.model import build_model, compile_model, start_vector
from siting.model.warmstart import keep_start, lift, restrict_sites
from siting.outputs.audit import audit
from siting.pipeline import solve_from_subset, solve_inputs, solve_report
from siting.scenario import WarmStart, load_scenario
from siting.solve import SolutionStatus, SolveOptions, Termination, _feasible, solve

QUICK = SolveOptions(time_limit_s=20, mip_gap=0.01, threads=1, seed=0)


def test_the_subset_is_what_the_candidate_cap_keeps():
    # from_layers keeps candidates in rank order: the first 250 of a 600 cap are the default's 250
    capped = from_layers(load_scenario(None))
    wide = from_layers(load_scenario(None, ["candidates.max_count=600"]))
    sub = restrict_sites(wide, np.arange(250))
    assert list(sub.sites["site_id"]) == list(capped.sites["site_id"])
    cols = ["region", "site", "link", "rtt_ms"]
    pd.testing.assert_frame_equal(sub.arcs[cols], capped.arcs[cols])
    for table in ("it_cost_musd", "site_cost_musd", "fiber_cost_musd", "sat_unit_cost_musd"):
        for name, v in getattr(capped, table).items():
            np.testing.assert_allclose(getattr(sub, table)[name], v)


def test_lifted_plan_is_feasible_for_the_full_model_at_the_same_cost():
    full = generate(16, 80, seed=4)
    sub = restrict_sites(full, np.arange(6))
    report, dec = solve_report(sub, QUICK)
    assert dec is not None
    up = lift(dec, sub, full)
    assert up.open[6:].sum() == 0 and up.serve_mw.sum() == pytest.approx(dec.serve_mw.sum())
    comp = compile_model(build_model(full))
    x0 = start_vector(comp, full, up)
    assert _feasible(comp.sf, x0)
    assert float(comp.sf.c @ x0 + comp.sf.offset) == pytest.approx(report.objective, rel=1e-9)


def test_lift_refuses_a_plan_with_sites_the_larger_set_lacks():
    full = generate(10, 40, seed=1)
    sub = restrict_sites(full, np.arange(4))
    other = restrict_sites(full, np.arange(4, 10))
    _, dec = solve_report(sub, QUICK)
    with pytest.raises(ValueError, match="site"):
        lift(dec, sub, other)


def test_keep_start_replaces_a_dearer_or_missing_plan_and_nothing_else():
    full = generate(10, 40, seed=1)
    sub = restrict_sites(full, np.arange(5))
    _, dec = solve_report(sub, QUICK)
    comp = compile_model(build_model(full))
    sf = comp.sf
    x0 = start_vector(comp, full, lift(dec, sub, full))
    cost = float(sf.c @ x0 + sf.offset)
    # a solver that stopped at its limit without a plan: the start becomes the plan, bound kept
    none = solve(sf, dataclasses.replace(QUICK, time_limit_s=1e-3, strategy="plain"))
    kept = keep_start(sf, dataclasses.replace(none, best_bound=cost * 0.9), x0)
    assert kept.objective == pytest.approx(cost) and kept.x is not None
    assert kept.gap == pytest.approx(0.1) and kept.solution_status == SolutionStatus.FEASIBLE
    assert kept.phases[-1].phase == "kept_start"
    # a cheaper plan stays as it is; an infeasible start is ignored
    best = solve(sf, QUICK)
    assert best.objective <= cost + 1e-6
    assert keep_start(sf, best, x0) is best
    bad = x0.copy()
    bad[comp.columns["serve"][0]] += 1e3
    assert keep_start(sf, none, bad) is none


def test_full_set_plan_is_never_dearer_than_the_subset_plan_with_no_time_left():
    # the subset (mip_gap 0) takes the whole budget, the full set gets 1 ms, yet returns the subset's plan
    full = generate(40, 300, seed=5)
    opts = SolveOptions(time_limit_s=6, mip_gap=0.0, threads=1, seed=0)
    for strategy in ("plain", "lp_start"):
        report, dec = solve_from_subset(full, dataclasses.replace(opts, strategy=strategy),
                                        WarmStart(candidates=20, time_s=6))
        subset = report.phases[0]
        assert subset.phase == "subset" and subset.objective is not None
        assert subset.termination == Termination.TIME_LIMIT  # no time was left for the full set
        assert report.objective is not None and report.objective <= subset.objective * (1 + 1e-9)
        assert dec is not None and dec.open[20:].sum() == 0  # the subset's plan, on the full axes


def test_scenario_warm_start_through_the_front_door():
    sc = load_scenario(None, ["candidates.max_count=40", "demand.max_regions=40", "solver.time_limit_s=30",
                              "solver.threads=1", "solver.warm_start={candidates: 15, time_s: 10}"])
    assert sc.solver.warm_start == WarmStart(candidates=15, time_s=10)
    inp = from_layers(sc)
    plan = solve_inputs(inp, QUICK, warm_start=sc.solver.warm_start)
    first = plan.report.phases[0]
    assert first.phase == "subset" and plan.report.objective <= first.objective * (1 + 1e-9)
    assert plan.report.termination != Termination.ERROR
    assert audit(plan, inp) == []


def test_full_scenario_lifts_the_caps_and_changes_nothing_else():
    from siting.paths import MODELS_DIR

    full, default = load_scenario(MODELS_DIR / "full.yaml"), load_scenario(None)
    assert (full.candidates.min_firm_mw, full.demand.min_population) == (0, 0)
    assert full.candidates.max_count >= 2250 and full.demand.max_regions >= 574  # merged sources, regions
    assert full.solver.warm_start == WarmStart(candidates=default.candidates.max_count, time_s=180)
    changed = {"candidates": {"min_firm_mw", "max_count"}, "demand": {"min_population", "max_regions"},
               "solver": {"time_limit_s", "warm_start"}, "name": None, "description": None}
    a, b = full.model_dump(), default.model_dump()
    for key in a:
        if key in changed and changed[key] is None:
            continue
        skip = changed.get(key, set())
        if isinstance(a[key], dict):
            assert {k: v for k, v in a[key].items() if k not in skip} == \
                {k: v for k, v in b[key].items() if k not in skip}, key
        else:
            assert a[key] == b[key], key


@pytest.mark.parametrize("sets", [[], ["facility.water_limit_m3_per_year=500000", "facility.water_price_usd_per_m3=3",
                                       "facility.climate=true", "demand.n_minus_1_share=0.5"]])
def test_restrict_sites_cuts_every_per_site_array(sets):
    """Every option's per-site arrays follow the kept candidates (the inputs' own checks refuse a
    shape that does not match: this failed on the water arrays once)."""
    full = from_layers(load_scenario(None, ["candidates.max_count=30", "demand.max_regions=10"] + sets))
    keep = np.array([4, 0, 17])
    sub = restrict_sites(full, keep)
    assert list(sub.sites["site_id"]) == list(full.sites["site_id"].iloc[keep])
    for name in ("water_m3_per_mw_year", "water_limit_m3_per_year", "climate_pue_peak", "failure_group", "sat_cell"):
        if getattr(full, name) is not None:
            np.testing.assert_array_equal(getattr(sub, name), np.asarray(getattr(full, name))[keep])
    for table in ("it_cost_musd", "site_cost_musd"):
        for key, value in getattr(full, table).items():
            np.testing.assert_array_equal(getattr(sub, table)[key], np.asarray(value)[keep])
