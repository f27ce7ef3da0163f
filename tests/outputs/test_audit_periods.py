"""The post-check of a build-out, period by period and across periods (issue 20 on issue 19's
principle): every rule recomputed from the plan's tables, each period's against that period's
inputs; a plan that breaks one is refused naming the family (exit 6 from the CLI)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import EXACT, tiny

from siting.cli import main
from siting.errors import PlanCheckError
from siting.inputs.periods import compute_per_mw, make_periods
from siting.model import compile as compile_mod
from siting.model import families
from siting.outputs.audit import audit
from siting.pipeline import solve_inputs

EXAMPLE = Path(__file__).parents[2] / "models" / "examples" / "southern_africa.yaml"


def timed(inp, years, **kw):
    kw.setdefault("rate", 0.0)
    kw.setdefault("lifetime_years", len(years))
    kw.setdefault("training_mw", inp.training_mw)
    return dataclasses.replace(inp, periods=make_periods(years, K=len(inp.sites), R=len(inp.regions), **kw))


def every_rule():
    # S0 (1 per MW; lateral ready 2028, satellite before; jurisdiction QC: 60 MW of new power a
    # year) and S1 (3 per MW, ready 2027); 10 MW modules, 20 delivered a year; growth ramp 1 and
    # seed 100 MW a year; demand 100, 200, 300 MW; unmet at 1000 per MW
    inp = tiny([1000, 1000], [100], [(0, 0, "fiber", 1), (0, 0, "satellite", 1), (0, 1, "direct", 1)],
               site_fixed=[0, 0], per_mw=[1, 3], module_mw=10.0, fiber_cost=10.0, sat_unit_cost=5.0,
               unmet_cost_musd_per_mw=1000.0)
    return timed(inp, [2026, 2027, 2028], demand_factor=[1, 2, 3], site_ready_year=[2026, 2027],
                 fiber_ready_year=[2028, 2026], ramp_per_year=1.0, seed_mw_per_year=100.0, jurisdiction=[0, -1],
                 jurisdiction_cap_mw_per_year=[60.0], jurisdiction_names=["QC"], modules_per_year=20.0)


@pytest.fixture(scope="module")
def solved():
    inp = every_rule()
    plan = solve_inputs(inp, EXACT)  # post-checked: it raised otherwise
    # by hand: QC lets S0 grow 60 MW a year (6 modules): 60, 120, 180, by satellite until its
    # lateral in 2028; S1 (ready 2027) serves the rest: 80 then 120 MW (within its growth, 100
    # then 300, and the 20 modules a year less S0's 6). w = 1/3: 2026 60 + 6 x 5 + 40 x 1000;
    # 2027 120 + 12 x 5 + 80 x 3; 2028 180 + 10 + 120 x 3
    assert plan.report.objective == pytest.approx((40_090 + 420 + 550) / 3)
    s = plan.schedule.set_index(["site_id", "year"])["it_mw"]
    assert [s["S0", y] for y in (2026, 2027, 2028)] == pytest.approx([60, 120, 180])
    assert [s["S1", y] for y in (2026, 2027, 2028)] == pytest.approx([0, 80, 120])
    assert audit(plan, inp) == []
    return plan, inp


def _schedule(plan, site, year, column, value):
    s = plan.schedule.copy()
    s.loc[(s["site_id"] == site) & (s["year"] == year), column] = value
    return dataclasses.replace(plan, schedule=s)


def _period(plan, t, table, column, change):
    parts = list(plan.by_period)
    frame = getattr(parts[t], table).copy()
    frame[column] = frame[column].map(change)
    parts[t] = dataclasses.replace(parts[t], **{table: frame})
    return dataclasses.replace(plan, by_period=tuple(parts))


@pytest.mark.parametrize("breaks, finding", [
    (lambda p: _schedule(p, "S0", 2028, "it_mw", 100.0), "build order: site S0 IT MW 100 in 2028 < 120 in 2027"),
    (lambda p: _schedule(p, "S0", 2028, "cooling", "air"), "build order: site S0 cooling std in 2027 becomes"),
    (lambda p: _schedule(p, "S0", 2027, "open", False), "build order: site S0 open 0 in 2027 < 1 in 2026"),
    (lambda p: _schedule(p, "S1", 2026, "open", True), "time to power: site S1 open in 2026, ready from 2027"),
    (lambda p: _schedule(p, "S0", 2027, "fiber", True), "time to power: site S0 its lateral in use in 2027"),
    (lambda p: _schedule(p, "S1", 2027, "it_mw", 101.0), "growth: site S1 IT 101 MW in 2027 > 100"),
    (lambda p: _schedule(p, "S0", 2026, "it_mw", 70.0), "jurisdiction cap: QC takes 70 MW of new power in 2026 > 60"),
    (lambda p: _schedule(p, "S1", 2028, "modules", 30), "module delivery: 28 new modules in 2028 > 20"),
    (lambda p: _period(p, 1, "assignments", "rtt_ms", lambda v: v + 500), "latency: in 2027,"),
    (lambda p: _period(p, 2, "sites", "it_mw", lambda v: v - 5), "capacity: in 2028, site S0"),
    (lambda p: _period(p, 1, "sites", "sat_gbps", lambda v: 0.0), "backhaul: in 2027, site S0 needs 120"),
    (lambda p: _period(p, 0, "regions", "unmet_mw", lambda v: v - 1), "demand: in 2026, region R0"),
    (lambda p: dataclasses.replace(p, periods=p.periods.assign(unmet_mw=p.periods["unmet_mw"] + 1)),
     "tables: 2026 region R0 unmet_mw"),
    (lambda p: dataclasses.replace(p, by_period=None), "tables: the build-out holds no plan"),
])
def test_a_build_out_that_breaks_a_period_rule_is_refused(solved, breaks, finding):
    plan, inp = solved
    found = audit(breaks(plan), inp)
    assert any(f.startswith(finding) for f in found), found


def test_each_period_is_checked_against_its_own_demand(solved):
    # the last period's plan read against the first period's demand (100 MW, not 300): the
    # demand rows fail, so the audit does read each period's own inputs
    plan, inp = solved
    parts = (plan.by_period[2],) + plan.by_period[1:]
    found = audit(dataclasses.replace(plan, by_period=parts), inp)
    assert any(f.startswith("demand: in 2026, region R0 served 300 + unmet 0 != 100") for f in found), found


@pytest.mark.parametrize("case", ["jurisdiction", "growth", "modules", "bridge", "chips", "racks"])
def test_real_tiny_build_outs_are_post_checked(case):
    # the hand-solved build-outs of tests/model/test_periods.py through the one solve path, whose
    # post-check now reads every period (it raised otherwise)
    if case == "jurisdiction":  # (50 + 150) / 2 + (100 + 300) / 2
        inp = timed(tiny([1000, 1000], [100], [(0, 0, "direct", 1), (0, 1, "direct", 1)], site_fixed=[0, 0],
                         per_mw=[1, 3]), [2026, 2027], demand_factor=[1, 2], jurisdiction=[0, -1],
                    jurisdiction_cap_mw_per_year=[50.0], jurisdiction_names=["QC"])
        expected = 300.0
    elif case == "growth":  # 100, 300, 700 MW of 1000, the rest unmet at 1000 per MW, w = 1/3
        inp = timed(tiny([5000], [1000], [(0, 0, "direct", 1)], site_fixed=[0], per_mw=[1],
                         unmet_cost_musd_per_mw=1000.0), [2026, 2027, 2028], ramp_per_year=1.0,
                    seed_mw_per_year=100.0)
        expected = ((100 + 900_000) + (300 + 700_000) + (700 + 300_000)) / 3
    elif case == "modules":  # 30 then 60 MW of 100: (30 + 70 * 100) / 2 + (60 + 40 * 100) / 2
        inp = timed(tiny([1000], [100], [(0, 0, "direct", 1)], site_fixed=[0], per_mw=[1], module_mw=10.0,
                         unmet_cost_musd_per_mw=100.0), [2026, 2027], modules_per_year=3.0)
        expected = 5545.0
    elif case == "bridge":  # satellite (50 / 3 a period) until the lateral (10 / 3) in 2028
        inp = timed(tiny([1000], [100], [(0, 0, "fiber", 1), (0, 0, "satellite", 1)], site_fixed=[0], per_mw=[1],
                         fiber_cost=10.0, sat_unit_cost=5.0), [2026, 2027, 2028], fiber_ready_year=[2028])
        expected = 100 + 2 * 50 / 3 + 10 / 3
    elif case == "racks":  # the 2028 chips' racks only on liquid cooling (test_periods): 100 + 50 x 1.5 / 2
        cooling = pd.DataFrame({"cooling": ["evap", "liquid"], "pue": [1.0, 1.0], "carries_training": [True, True],
                                "carries_inference": [True, True]})
        g = compute_per_mw([2026, 2029], [2022, 2028], [1.0, 2.0], 10, [40, 130], [40, 140])
        inp = timed(tiny([1000, 1000], [100], [(0, 0, "direct", 1), (0, 1, "direct", 1)], site_fixed=[0, 0],
                         per_mw=[[1, 1.5], [1, 1.5]], cooling=cooling, unmet_cost_musd_per_mw=1000.0),
                    [2026, 2029], lifetime_years=6, demand_factor=[1, 2], compute=g)
        expected = 137.5
    else:  # 100 MW of 2026 chips refreshed in 2029 carry 200 of compute: no new MW (test_periods)
        g = compute_per_mw([2026, 2029, 2032], [2022, 2028], [1.0, 2.0], 3)
        inp = timed(tiny([1000], [100], [(0, 0, "direct", 1)], site_fixed=[0], per_mw=[1],
                         unmet_cost_musd_per_mw=1000.0), [2026, 2029, 2032], lifetime_years=9,
                    demand_factor=[1, 2, 2], compute=g)
        expected = 100.0
    plan = solve_inputs(inp, EXACT)
    assert plan.report.objective == pytest.approx(expected)
    assert plan.by_period is not None and len(plan.by_period) == inp.periods.P
    assert audit(plan, inp) == []


@pytest.fixture
def growth_dropped(monkeypatch):
    """The statement without its growth rows: a build-out's ramp silently not enforced."""
    monkeypatch.setattr(compile_mod, "FAMILIES", tuple(f for f in families.FAMILIES if f is not families.growth))


def test_a_build_out_without_its_growth_rows_is_refused(growth_dropped):
    # the growth instance above without its rows builds 1000 MW at once: 1000 > 100 in 2026
    inp = timed(tiny([5000], [1000], [(0, 0, "direct", 1)], site_fixed=[0], per_mw=[1],
                     unmet_cost_musd_per_mw=1000.0), [2026, 2027, 2028], ramp_per_year=1.0, seed_mw_per_year=100.0)
    with pytest.raises(PlanCheckError) as err:
        solve_inputs(inp, EXACT)
    assert err.value.families == ["growth"]
    assert "site S0 IT 1000 MW in 2026 > 100" in str(err.value)


GROWTH = ["--set", "time.years=[2026,2028]", "--set", "time.ramp_per_year=0", "--set", "time.seed_mw_per_year=10"]


def test_cli_solve_of_a_build_out_exits_6_without_its_growth_rows(tmp_path, growth_dropped):
    out = tmp_path / "plan"
    result = CliRunner().invoke(main, ["solve", str(EXAMPLE), *GROWTH, "--out", str(out), "--quiet"])
    assert result.exit_code == 6, result.output
    assert "post-check of growth" in result.output and not out.exists()


def test_cli_solve_of_a_build_out_says_it_was_checked(tmp_path):
    result = CliRunner().invoke(main, ["solve", str(EXAMPLE), *GROWTH, "--out", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    assert "checked: every rule recomputed from the plan's tables (independent post-check), each period" \
        in result.output


@pytest.mark.parametrize("command, extra", [("pareto", ["--latency-ms", "60,100"]), ("alternatives", ["--count", "1"])])
def test_studies_refuse_a_build_out_naming_time_years(tmp_path, command, extra):
    # alternatives and pareto read one period's plan: a build-out is refused (exit 2), nothing written
    out = tmp_path / command
    result = CliRunner().invoke(main, [command, str(EXAMPLE), *GROWTH, *extra, "--out", str(out), "--quiet"])
    assert result.exit_code == 2, result.output
    assert f"time.years: siting {command} reads one period's plan" in result.output and not out.exists()


def test_the_n_minus_1_loop_refuses_a_build_out():
    from siting.errors import ScenarioError
    from siting.explore.n_minus_1 import solve_n_minus_1

    with pytest.raises(ScenarioError, match="time.years: the N-1 loop reads one period's plan"):
        solve_n_minus_1(every_rule(), EXACT)
