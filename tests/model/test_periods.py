"""Investment periods: hand-solved build-outs, each answer worked out in the test from its numbers.

Money with periods (siting/inputs/periods.py): a cost coefficient is a PV over the lifetime; a
period pays it times its weight w_t = (discount factors of its years) / (those of the lifetime).
With a zero discount rate w_t is the period's years over the lifetime's.
"""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from helpers import EXACT, tiny

from siting.inputs.inputs import from_layers
from siting.inputs.instances import generate
from siting.inputs.periods import compute_per_mw, make_periods
from siting.model import build_model, compile_inputs, compile_model, read_schedule
from siting.scenario import load_scenario
from siting.solve import solve


def run(inp):
    """Solve to optimality: (objective, one Decisions per period)."""
    comp = compile_inputs(inp)
    rep = solve(comp.sf, EXACT)
    assert rep.proven_optimal
    return rep.objective, read_schedule(comp, inp, rep.x)


def timed(inp, years, **kw):
    kw.setdefault("rate", 0.0)
    kw.setdefault("lifetime_years", 4)
    kw.setdefault("end_year", years[0] + kw["lifetime_years"])
    kw.setdefault("training_mw", inp.training_mw)
    return dataclasses.replace(inp, periods=make_periods(years, K=len(inp.sites), R=len(inp.regions), **kw))


def it_mw(sched):
    return [float(d.it_mw.sum()) for d in sched]


@pytest.mark.family("build_order")
def test_capex_once_per_vintage_across_four_periods():
    # one site (fixed 40, 2 per MW IT, PV over the 25-year life), demand 100, 200, 300, 400 MW in
    # the 2026..2029 periods (the last stands for 2029..2050), 7 % a year. Vintage v of 100 MW is
    # charged once: its annuities from its period on; the site is kept once opened.
    d = [1.07 ** -y for y in range(1, 26)]
    W = np.array([d[0], d[1], d[2], sum(d[3:])])
    w = W / sum(d)
    inp = tiny([1000], [100], [(0, 0, "direct", 1)], site_fixed=[40], per_mw=[2], unmet_cost_musd_per_mw=1e4)
    inp = timed(inp, [2026, 2027, 2028, 2029], rate=0.07, lifetime_years=25, end_year=2051,
                demand_factor=[1, 2, 3, 4])
    by_vintage = sum(2 * 100 * w[v:].sum() for v in range(4)) + 40 * w.sum()
    obj, sched = run(inp)
    assert obj == pytest.approx(by_vintage, rel=1e-9)
    assert obj < 40 + 2 * 400  # not the whole capex of the final 400 MW from the start
    assert it_mw(sched) == pytest.approx([100, 200, 300, 400])


@pytest.mark.family("build_order")
def test_a_built_site_is_kept_when_demand_dips():
    # demand 100, 0, 0, 100 over four equal periods (w = 1/4 each): the site may not be
    # dismantled and rebuilt, so it is paid all along: (10 + 100 * 2) * 1 = 210, not 210 / 2.
    inp = tiny([1000], [100], [(0, 0, "direct", 1)], site_fixed=[10], per_mw=[2])
    inp = timed(inp, [2026, 2027, 2028, 2029], demand_factor=[1, 0, 0, 1])
    obj, sched = run(inp)
    assert obj == pytest.approx(210.0)
    assert [bool(d.open[0]) for d in sched] == [True] * 4


@pytest.mark.parametrize("unmet, expected, opened", [(17.0, 50 * 17 + 100, "S1"), (19.0, 1000.0, "S0")])
def test_dear_site_now_against_cheap_site_later(unmet, expected, opened):
    # 100 MW in both periods (2026, 2028; w = 1/2 each). S0 ready now at 10 per MW: 1000 over the
    # horizon. S1 ready in 2028 at 2 per MW: 100 MW unmet in 2026 (u * 100 / 2) + 2 * 100 / 2.
    # Both is worse (S0's capacity is kept). The cheap later site wins iff 50 u + 100 < 1000: u < 18.
    inp = tiny([1000, 1000], [100], [(0, 0, "direct", 1), (0, 1, "direct", 1)], site_fixed=[0, 0],
               per_mw=[10, 2], unmet_cost_musd_per_mw=unmet)
    inp = timed(inp, [2026, 2028], site_ready_year=[2026, 2028])
    obj, sched = run(inp)
    assert obj == pytest.approx(expected)
    assert sched[-1].it_mw[:, 0].tolist() == [100.0 * (opened == "S0"), 100.0 * (opened == "S1")]


def test_lead_time_delays_availability_not_only_cost():
    # the only site is ready in 2027: whatever the unmet price (1000 per MW), 2026's 100 MW go
    # unserved. w = 1/4 a year: unmet 1000 * 100 / 4 + site (5 + 100) * 3 / 4.
    inp = tiny([1000], [100], [(0, 0, "direct", 1)], site_fixed=[5], per_mw=[1], unmet_cost_musd_per_mw=1000.0)
    inp = timed(inp, [2026, 2027, 2028, 2029], site_ready_year=[2027])
    obj, sched = run(inp)
    assert obj == pytest.approx(1000 * 100 / 4 + 105 * 3 / 4)
    assert it_mw(sched) == pytest.approx([0, 100, 100, 100])
    assert sched[0].unmet_mw.tolist() == [100.0]


@pytest.mark.family("growth")
def test_growth_from_zero_with_the_seed():
    # IT[t] - IT[t-1] <= y_t (R IT[t-1] + S): ramp R = 1 a year, seed S = 100 MW a year, one year
    # before each period: IT <= 100, 100 + (100 + 100) = 300, 300 + (300 + 100) = 700. Demand
    # 1000 MW, unmet at 1000 per MW: the site grows as fast as it may; w = 1/3 each.
    inp = tiny([5000], [1000], [(0, 0, "direct", 1)], site_fixed=[0], per_mw=[1], unmet_cost_musd_per_mw=1000.0)
    grow = dict(lifetime_years=3, ramp_per_year=1.0, first_build_years=1.0)
    obj, sched = run(timed(inp, [2026, 2027, 2028], seed_mw_per_year=100.0, **grow))
    assert it_mw(sched) == pytest.approx([100, 300, 700])
    assert obj == pytest.approx(((100 + 900_000) + (300 + 700_000) + (700 + 300_000)) / 3)
    # without a seed a ramp cannot grow from zero (the trap Temoa's seed term fixes): all unmet
    obj0, sched0 = run(timed(inp, [2026, 2027, 2028], seed_mw_per_year=0.0, **grow))
    assert it_mw(sched0) == [0.0, 0.0, 0.0]
    assert obj0 == pytest.approx(1000 * 1000.0)


@pytest.mark.family("backhaul", "build_order")
def test_satellite_until_the_lateral_is_built():
    # 100 MW over three equal periods (w = 1/3); the lateral (10) can be in use from 2028 only;
    # satellite at once: 10 units of 10 Gbps for 100 MW at 5 per unit. 2026, 2027: satellite,
    # 2 * 50 / 3; 2028: fiber, 10 / 3 (cheaper than 50 / 3); the site (0 + 100 * 1) all along.
    inp = tiny([1000], [100], [(0, 0, "fiber", 1), (0, 0, "satellite", 1)], site_fixed=[0], per_mw=[1],
               fiber_cost=10.0, sat_unit_cost=5.0)
    inp = timed(inp, [2026, 2027, 2028], lifetime_years=3, fiber_ready_year=[2028])
    obj, sched = run(inp)
    assert obj == pytest.approx(100 + 2 * 50 / 3 + 10 / 3)
    assert [bool(d.fiber[0]) for d in sched] == [False, False, True]
    assert [float(d.sat_units[0]) for d in sched] == [10.0, 10.0, 0.0]
    link = inp.arcs["link"].to_numpy()
    assert [float(d.serve_mw[link == "fiber"].sum()) for d in sched] == pytest.approx([0, 0, 100])


@pytest.mark.family("jurisdiction_cap")
def test_jurisdiction_cap_moves_capacity_to_the_next_province():
    # cheap S0 (1 per MW) is in a jurisdiction that lets 50 MW of new power a year; S1 (3 per MW)
    # has no cap. Demand 100 then 200 (2026, 2027; w = 1/2; one year of building before 2026):
    # S0 50 then 100, S1 50 then 100: (50 + 150) / 2 + (100 + 300) / 2 = 300 (uncapped: 100 + 200 / 2).
    inp = tiny([1000, 1000], [100], [(0, 0, "direct", 1), (0, 1, "direct", 1)], site_fixed=[0, 0],
               per_mw=[1, 3])
    inp = timed(inp, [2026, 2027], lifetime_years=2, demand_factor=[1, 2], jurisdiction=[0, -1],
                jurisdiction_cap_mw_per_year=[50.0], jurisdiction_names=["QC"])
    obj, sched = run(inp)
    assert obj == pytest.approx(300.0)
    assert [d.it_mw[:, 0].tolist() for d in sched] == [[50, 50], [100, 100]]


@pytest.mark.family("module_delivery")
def test_module_deliveries_limit_the_build_out():
    # 10 MW modules, 3 delivered a year (one year before 2026, one more to 2027): 30 then 60 MW
    # for 100 MW of demand; unmet at 100 per MW, modules at 1 per MW; w = 1/2:
    # (30 + 70 * 100) / 2 + (60 + 40 * 100) / 2 = 5545.
    inp = tiny([1000], [100], [(0, 0, "direct", 1)], site_fixed=[0], per_mw=[1], module_mw=10.0,
               unmet_cost_musd_per_mw=100.0)
    obj, sched = run(timed(inp, [2026, 2027], lifetime_years=2, modules_per_year=3.0))
    assert [float(d.modules[0]) for d in sched] == [3.0, 6.0]
    assert obj == pytest.approx(5545.0)


# ---------------------------------------------------------------- one period is today's model


def same_model(a, b) -> list[str]:
    """Every way two compiled models differ (exact): arrays, matrix, columns, keys, rows."""
    out = [n for n in ("c", "row_lower", "row_upper", "col_lower", "col_upper", "integer")
           if not np.array_equal(getattr(a.sf, n), getattr(b.sf, n))]
    A, B = (sp.csc_array(m, copy=True) for m in (a.sf.A, b.sf.A))
    if A.shape != B.shape or (A != B).nnz:
        out.append("A")
    for field in ("columns", "keys", "rows"):
        x, y = getattr(a, field), getattr(b, field)
        if list(x) != list(y) or any(not np.array_equal(x[k], y[k]) for k in x):
            out.append(field)
    return out


def one_period(inp, rate=0.07, life=25):
    return dataclasses.replace(inp, periods=make_periods([2026], K=len(inp.sites), R=len(inp.regions), rate=rate,
                                                         lifetime_years=life, training_mw=inp.training_mw))


def test_one_period_is_todays_model_on_the_default():
    inp = from_layers(load_scenario(None))
    assert same_model(compile_inputs(one_period(inp)), compile_inputs(inp)) == []


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_period_is_todays_model_on_generated_instances(seed):
    inp = generate(30, 200, seed=seed)
    assert same_model(compile_inputs(one_period(inp)), compile_inputs(inp)) == []


def test_the_comparison_sees_a_second_period():
    inp = generate(10, 50, seed=0)
    two = dataclasses.replace(inp, periods=make_periods([2026, 2030], K=10, R=50, rate=0.07, lifetime_years=25,
                                                        training_mw=inp.training_mw))
    assert same_model(compile_inputs(two), compile_inputs(inp)) != []


def test_the_pyomo_model_of_periods_is_the_same_model():
    # keyed (start year, key); Pyomo's own compiler gives the same arrays as the numpy path
    inp = generate(8, 30, seed=3)
    inp = dataclasses.replace(inp, periods=make_periods(
        [2026, 2028, 2031], K=8, R=30, rate=0.07, lifetime_years=25, training_mw=[0, inp.training_mw, 2000],
        demand_factor=[1, 1.5, 2], site_ready_year=[2026, 2028] * 4, ramp_per_year=0.5, seed_mw_per_year=300,
        jurisdiction=[0, -1] * 4, jurisdiction_cap_mw_per_year=[500], modules_per_year=40,
        compute=compute_per_mw([2026, 2028, 2031], [2022, 2027], [1.0, 2.5], 4)))
    got = compile_inputs(inp)
    assert same_model(got, compile_model(build_model(inp))) == []
    m = build_model(inp)
    assert (2028, 0) in m.open and m.open[2026, 1].ub == 0  # site 1 ready in 2028


def test_myopic_builds_the_dear_site_now_where_foresight_waits():
    # the instance of test_dear_site_now_against_cheap_site_later at u = 17: foresight waits for
    # the cheap site (50 * 17 + 100 = 950). A myopic planner sees 2026 alone: S0 (10 * 100 / 2 =
    # 500) beats unmet (17 * 100 / 2 = 850); in 2028 S0 is built and kept: 500 + 500 = 1000.
    from siting.pipeline import solve_buildout, solve_myopic

    inp = tiny([1000, 1000], [100], [(0, 0, "direct", 1), (0, 1, "direct", 1)], site_fixed=[0, 0],
               per_mw=[10, 2], unmet_cost_musd_per_mw=17.0)
    inp = timed(inp, [2026, 2028], site_ready_year=[2026, 2028])
    myopic = solve_myopic(inp, EXACT)
    assert myopic.report.objective == pytest.approx(1000.0)
    assert myopic.decisions.it_mw[:, 0].tolist() == [100.0, 0.0]
    assert [p.phase for p in myopic.report.phases[:2]] == ["myopic 2026", "myopic 2028"]
    perfect = solve_buildout(inp, EXACT)  # started from a myopic plan, never dearer
    assert perfect.report.objective == pytest.approx(950.0)
    lp, start = perfect.report.phases[:2]  # the LP relaxation (every row), the myopic plan it guides
    assert lp.phase == "lp_relaxation (interior point)" and lp.objective <= 950.0 + 1e-6
    # (no fixed costs: the LP may open S0 at no cost, so its guidance need not close it here)
    assert start.phase == "myopic start (LP-guided)" and start.objective <= 1000.0 + 1e-6


def test_a_myopic_plan_guided_by_foresight_waits_for_the_cheap_site():
    # the same instance; ``allowed`` keeps S0 closed in every period (as the perfect-foresight LP
    # does): 2026 leaves the 100 MW unmet (17 * 100 / 2 = 850), 2028 builds S1 (2 * 100 / 2 = 100):
    # 950, the perfect-foresight optimum, where the unguided myopic plan costs 1000
    from siting.pipeline import solve_myopic

    inp = tiny([1000, 1000], [100], [(0, 0, "direct", 1), (0, 1, "direct", 1)], site_fixed=[0, 0],
               per_mw=[10, 2], unmet_cost_musd_per_mw=17.0)
    inp = timed(inp, [2026, 2028], site_ready_year=[2026, 2028])
    guided = solve_myopic(inp, EXACT, allowed=np.array([[False, True], [False, True]]))
    assert guided.report.objective == pytest.approx(950.0)
    assert guided.decisions.it_mw[:, 0].tolist() == [0.0, 100.0]  # as built by 2028: S1 only


def test_a_myopic_plan_claims_no_bound():
    # the last myopic solve's bound holds only with the earlier periods fixed: none is reported
    from siting.pipeline import solve_myopic

    inp = tiny([1000], [100], [(0, 0, "direct", 1)], site_fixed=[5], per_mw=[1], unmet_cost_musd_per_mw=1000.0)
    rep = solve_myopic(timed(inp, [2026, 2027]), EXACT).report
    assert rep.best_bound is None and rep.gap is None and not rep.proven_optimal
    assert rep.objective == pytest.approx(105.0)


@pytest.mark.family("capacity")
@pytest.mark.parametrize("life, expected_mw", [(3, [100, 100, 100]), (10, [100, 150, 150])])
def test_a_refresh_to_a_newer_generation_frees_mw(life, expected_mw):
    # demand in reference compute: 100, 200, 200 (2026, 2029, 2032; w = 1/3); chips of 2022 give
    # 1 compute per MW, those of 2028 give 2. Refreshed every 3 years, the 100 MW of 2026 carry 200
    # from 2029: no new MW (cost 100 x 1). Kept 10 years, 2029 needs 50 MW of the new chips
    # (100 / 2): 100 + 50 x 2/3 = 133.33. Unmet at 1000 per unit: never worth it.
    inp = tiny([1000], [100], [(0, 0, "direct", 1)], site_fixed=[0], per_mw=[1], unmet_cost_musd_per_mw=1000.0)
    g = compute_per_mw([2026, 2029, 2032], [2022, 2028], [1.0, 2.0], life)
    obj, sched = run(timed(inp, [2026, 2029, 2032], lifetime_years=9, demand_factor=[1, 2, 2], compute=g))
    assert it_mw(sched) == pytest.approx(expected_mw)
    assert obj == pytest.approx(100 + (expected_mw[1] - 100) * 2 / 3)


@pytest.mark.family("capacity")
@pytest.mark.parametrize("racks, expected", [(True, 137.5), (False, 125.0)])
def test_a_new_generation_needs_a_cooling_that_carries_its_racks(racks, expected):
    # two sites, two coolings of PUE 1: evaporative (1 per MW IT, racks to 40 kW) and liquid (1.5,
    # to 140 kW). Demand 100 then 200 compute (2026, 2029; 6-year horizon at rate 0: a 2029 build
    # pays half). Chips of 2022 (1 per MW, 40 kW racks), of 2028 (2 per MW, 130 kW racks).
    # 2026: 100 MW evaporative = 100. 2029 needs 100 more compute: evaporative air takes only the
    # old chips (100 MW x 1 x 0.5 = 50), liquid the new (50 MW x 1.5 x 0.5 = 37.5): 137.5.
    # Without racks the evaporative site takes the new chips too: 50 MW x 1 x 0.5 = 25: 125.
    from siting.pipeline import solve_inputs

    cooling = pd.DataFrame({"cooling": ["evap", "liquid"], "pue": [1.0, 1.0], "carries_training": [True, True],
                            "carries_inference": [True, True]})
    inp = tiny([1000, 1000], [100], [(0, 0, "direct", 1), (0, 1, "direct", 1)], site_fixed=[0, 0],
               per_mw=[[1, 1.5], [1, 1.5]], cooling=cooling, unmet_cost_musd_per_mw=1000.0)
    g = compute_per_mw([2026, 2029], [2022, 2028], [1.0, 2.0], 10, *(([40, 130], [40, 140]) if racks else ()))
    plan = solve_inputs(timed(inp, [2026, 2029], lifetime_years=6, demand_factor=[1, 2], compute=g), EXACT)
    assert plan.report.objective == pytest.approx(expected)
    sched = plan.schedule
    assert sched.groupby("year")["it_mw"].sum().tolist() == pytest.approx([100, 150])
    assert set(sched.loc[sched["it_mw"] > 0, "cooling"]) == ({"evap", "liquid"} if racks else {"evap"})


def test_one_period_of_lookahead_sees_the_cheap_site_coming():
    # the instance above: with the 2028 period in view from 2026 on, the rolling horizon waits
    # for the cheap site as perfect foresight does: 950 (myopic alone: 1000)
    from siting.pipeline import solve_myopic

    inp = tiny([1000, 1000], [100], [(0, 0, "direct", 1), (0, 1, "direct", 1)], site_fixed=[0, 0],
               per_mw=[10, 2], unmet_cost_musd_per_mw=17.0)
    inp = timed(inp, [2026, 2028], site_ready_year=[2026, 2028])
    assert solve_myopic(inp, EXACT, lookahead=1).report.objective == pytest.approx(950.0)


# ---------------------------------------------------------------- families laid over periods


@pytest.mark.family("climate_power")
def test_the_warmest_months_pue_binds_in_every_period():
    # one site of 100 MW firm power whose warmest month needs PUE 1.25: at most 80 MW IT in any
    # period. Demand 50 then 100 MW (2026, 2027; w = 1/2), 1 per MW IT, unmet at 10 per MW:
    # (50 + (80 + 20 x 10)) / 2 = 165 (without the climate row: (50 + 100) / 2 = 75)
    from siting.pipeline import solve_inputs

    inp = tiny([100], [50], [(0, 0, "direct", 1)], site_fixed=[0], per_mw=[1], unmet_cost_musd_per_mw=10.0,
               climate_pue_peak=np.array([[1.25]]))
    inp = timed(inp, [2026, 2027], lifetime_years=2, demand_factor=[1, 2])
    plan = solve_inputs(inp, EXACT)  # post-checked in each period: the warmest month's power within firm
    assert plan.report.objective == pytest.approx(165.0)
    assert plan.schedule["it_mw"].tolist() == pytest.approx([50.0, 80.0])
    assert [p.sites["power_peak_mw"].tolist() for p in plan.by_period] == [pytest.approx([62.5]),
                                                                          pytest.approx([100.0])]


@pytest.mark.family("n_minus_1")
def test_n_minus_1_holds_in_every_period_at_that_periods_demand():
    # S0, S1: 50 MW firm, 10 to open + 1 per MW; R0 reaches both, R1 only S1; beta = 0.5, unmet
    # at 100 per MW. R1 can never be served (losing S1 leaves it nothing), R0 is split evenly so
    # that either site carries half of it: 10 MW then 20 MW of demand (w = 1/2): period 1 costs
    # 20 + 10 + 10 x 100 = 1030, period 2 20 + 20 + 20 x 100 = 2040: (1030 + 2040) / 2 = 1535.
    # Period 2's recourse flow is 10 MW (half of 20): its bound is that period's demand.
    from siting.pipeline import solve_inputs

    inp = tiny([50, 50], [10, 10], [(0, 0, "direct", 1), (0, 1, "direct", 1), (1, 1, "direct", 1)],
               site_fixed=[10, 10], per_mw=[1, 1], unmet_cost_musd_per_mw=100.0, n_minus_1_share=0.5)
    inp = timed(inp, [2026, 2027], lifetime_years=2, demand_factor=[1, 2])
    plan = solve_inputs(inp, EXACT)  # post-checked: every failure group in every period
    assert plan.report.objective == pytest.approx(1535.0)
    s = plan.schedule.set_index(["site_id", "year"])["it_mw"]
    assert [s["S0", 2026], s["S1", 2026], s["S0", 2027], s["S1", 2027]] == pytest.approx([5, 5, 10, 10])
    assert plan.periods["unmet_mw"].tolist() == pytest.approx([0, 10, 0, 20])


def test_it_hardware_is_bought_again_at_each_refresh():
    # with chip generations, IT hardware (time.it_hardware_musd_per_mw, h) is paid as annuities
    # over the chips' life L: at a zero discount rate over a 9-year horizon, h x 9 / L per MW
    # (three purchases with L = 3, 0.9 of one with L = 10); the default (chips off) prices none
    import pandas as pd

    from siting.inputs.pricing import cost_tables

    sites = pd.DataFrame({"price_usd_per_mwh": [40.0], "gco2_per_kwh": [0.0], "lateral_km": [0.0]})
    cooling = pd.DataFrame({"cooling": ["liquid"], "capex_musd_per_mw": [10.0], "pue": [1.1]})
    base = ["money.discount_rate=0", "money.lifetime_years=9", "time.it_hardware_musd_per_mw=20"]
    for life, purchases in ((3, 3.0), (10, 0.9)):
        sc = load_scenario(None, [*base, "time.chips=true", f"time.chip_life_years={life}"])
        it = cost_tables(sites, cooling, sc)[0]
        assert it["it_hardware"].ravel().tolist() == pytest.approx([20 * purchases])
    assert "it_hardware" not in cost_tables(sites, cooling, load_scenario(None, base))[0]


@pytest.mark.parametrize("life, expected", [(3, 100 * (1 + 3)), (10, 100 * (1 + 0.9) + 50 * (1 + 0.9) * 2 / 3)])
def test_a_refresh_is_not_free_once_hardware_is_priced(life, expected):
    # the refresh instance of test_a_refresh_to_a_newer_generation_frees_mw, each MW IT also
    # paying its hardware (1 per MW, bought 9 / L times over the 9-year horizon at rate 0):
    # refreshed every 3 years the 100 MW of 2026 carry 2029's 200 of compute but buy their chips
    # three times: 100 x (1 + 3) = 400; kept 10 years, 2029 adds 50 MW: 100 x 1.9 + 50 x 1.9 x 2/3.
    # Without hardware the refresh was the cheaper plan (100 against 133.3); with it, it is dearer.
    from siting.costs import pv_of_capex

    hardware = float(pv_of_capex(1.0, 0.0, life, 9))
    inp = tiny([1000], [100], [(0, 0, "direct", 1)], site_fixed=[0], per_mw=[1 + hardware],
               unmet_cost_musd_per_mw=1000.0)
    g = compute_per_mw([2026, 2029, 2032], [2022, 2028], [1.0, 2.0], life)
    obj, sched = run(timed(inp, [2026, 2029, 2032], lifetime_years=9, demand_factor=[1, 2, 2], compute=g))
    assert obj == pytest.approx(expected)
