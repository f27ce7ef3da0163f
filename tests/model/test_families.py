"""One hand-solved instance per constraint family, where that family binds.

Each expected optimum is worked out in the comment above the assertion, from the instance's
numbers alone; every plan is also audited constraint by constraint from its output tables.
"""

import dataclasses

import pandas as pd
import pytest
from helpers import check, solve, tiny

from siting.errors import NoSolutionError
from siting.model import build_model


@pytest.mark.family("demand", "capacity")
def test_demand_picks_the_cheaper_site():
    # one region of 100 MW; site 0: 10 + 2/MW, site 1: 30 + 1/MW -> 10+200=210 vs 30+100=130
    inp = tiny([500, 500], [100], [(0, 0, "direct", 1), (0, 1, "direct", 1)],
               site_fixed=[10, 30], per_mw=[2, 1])
    plan = check(inp, 130.0)
    assert plan.sites["site_id"].tolist() == ["S1"]


def test_latency_rules_out_the_cheap_far_site():
    # the cheap site 1 has no eligible arc (its RTT is over the limit): only site 0 can serve
    inp = tiny([500, 500], [100], [(0, 0, "direct", 40)], site_fixed=[10, 30], per_mw=[2, 1])
    check(inp, 210.0)


@pytest.mark.family("power")
def test_power_caps_a_site():
    # cheap site 0 has 60 MW of firm power (PUE 1): 10 + 60*1 + 30 + 40*2 = 180
    inp = tiny([60, 500], [100], [(0, 0, "direct", 1), (0, 1, "direct", 1)],
               site_fixed=[10, 30], per_mw=[1, 2])
    plan = check(inp, 180.0)
    assert plan.sites.set_index("site_id")["power_used_mw"]["S0"] == pytest.approx(60)


@pytest.mark.family("power")
def test_power_counts_pue():
    # PUE 1.25 on 100 MW firm: 80 MW IT at site 0 (10 + 80), the rest at site 1 (30 + 2*20)
    cooling = pd.DataFrame({"cooling": ["warm"], "pue": [1.25], "carries_training": [True],
                            "carries_inference": [True]})
    inp = tiny([100, 500], [100], [(0, 0, "direct", 1), (0, 1, "direct", 1)],
               site_fixed=[10, 30], per_mw=[1, 2], cooling=cooling)
    check(inp, 160.0)


@pytest.mark.family("cooling")
def test_cooling_choice_flips_with_energy_price():
    # per MW: capex + pue * energy price. cheap energy (1/MW per unit PUE): evaporative
    # 11 + 1.2*1 = 12.2 beats liquid 12 + 1.1*1 = 13.1; dear energy (20): 11+24=35 vs 12+22=34
    cooling = pd.DataFrame({"cooling": ["evaporative", "liquid"], "pue": [1.2, 1.1],
                            "carries_training": [False, True], "carries_inference": [True, True]})
    for price, tech, per_mw in ((1.0, "evaporative", 12.2), (20.0, "liquid", 34.0)):
        cost = [[11 + 1.2 * price, 12 + 1.1 * price]]
        inp = tiny([1000], [100], [(0, 0, "direct", 1)], site_fixed=[5], per_mw=cost, cooling=cooling)
        plan = check(inp, 5 + 100 * per_mw)
        assert plan.sites["cooling"].tolist() == [tech]


@pytest.mark.family("cooling_density")
def test_training_needs_dense_cooling():
    # training 50 MW may not sit on evaporative (40 kW racks) even though it is cheaper:
    # one site, liquid is forced: 5 + (50 + 10 inference) * 13
    cooling = pd.DataFrame({"cooling": ["evaporative", "liquid"], "pue": [1.0, 1.0],
                            "carries_training": [False, True], "carries_inference": [True, True]})
    inp = tiny([1000], [10], [(0, 0, "direct", 1)], site_fixed=[5], per_mw=[[12, 13]],
               cooling=cooling, training_mw=50)
    plan = check(inp, 5 + 60 * 13)
    assert plan.sites["cooling"].tolist() == ["liquid"]


@pytest.mark.family("training")
def test_training_minimum_cluster():
    # 150 MW training, clusters >= 80 MW; site 0 cheap (1/MW) but only 90 MW of power,
    # site 1 dear (2/MW). Without a cluster minimum: 90 at site 0 and 60 at site 1 ->
    # 10 + 90 + 10 + 120 = 230. With it, 60 at site 1 is too small and site 0 cannot host
    # >= 80 while leaving >= 80 to site 1 -> all 150 at site 1: 10 + 300 = 310.
    args = dict(site_fixed=[10, 10], per_mw=[1, 2], training_mw=150)
    check(tiny([90, 500], [0.001], [], **args, unmet_cost_musd_per_mw=0.0), 230.0)
    check(tiny([90, 500], [0.001], [], **args, training_min_cluster_mw=80,
               unmet_cost_musd_per_mw=0.0), 310.0)


@pytest.mark.family("modules")
def test_modules_round_capacity_up():
    # 60 MW in 25 MW modules -> 75 MW built: 10 + 75 * 2
    inp = tiny([500], [60], [(0, 0, "direct", 1)], site_fixed=[10], per_mw=[2], module_mw=25)
    plan = check(inp, 160.0)
    assert plan.sites["modules"].tolist() == [3]


@pytest.mark.family("backhaul")
def test_fiber_lateral_or_satellite_units():
    # 15 MW over one site: fiber lateral costs 40 once; satellite costs 10 per 10-Gbps unit
    # at 1 Gbps/MW -> 2 units = 20 < 40: satellite. Fiber at 15 would win instead.
    arcs = [(0, 0, "fiber", 30), (0, 0, "satellite", 40)]
    common = dict(site_fixed=[0], per_mw=[1], sat_unit_cost=10, sat_unit_gbps=10, gbps_per_mw=1)
    plan = check(tiny([500], [15], arcs, fiber_cost=40, **common), 15 + 20)
    assert plan.sites["backhaul"].tolist() == ["satellite"]
    assert plan.sites["sat_units"].tolist() == [2]
    plan = check(tiny([500], [15], arcs, fiber_cost=15, **common), 15 + 15)
    assert plan.sites["backhaul"].tolist() == ["fiber"]


@pytest.mark.family("resilience")
def test_resilience_share_forces_a_second_site():
    # alpha = 1/2: no site serves more than 50 of the 100 MW -> both open: 10+50 + 30+100 = 190
    arcs = [(0, 0, "direct", 1), (0, 1, "direct", 1)]
    inp = tiny([500, 500], [100], arcs, site_fixed=[10, 30], per_mw=[1, 2],
               resilience_max_share=0.5)
    plan = check(inp, 190.0)
    assert sorted(plan.assignments["mw"]) == [50, 50]


def test_unmet_demand_is_priced_when_nothing_can_serve():
    # region 1 has no eligible arc: its 20 MW are unmet at 7/MW -> 10 + 100 + 140
    inp = tiny([500], [100, 20], [(0, 0, "direct", 1)], site_fixed=[10], per_mw=[1],
               unmet_cost_musd_per_mw=7.0)
    plan = check(inp, 250.0)
    assert plan.regions.set_index("region_id")["unmet_mw"].to_dict() == {"R0": 0, "R1": 20}


def test_unserved_region_without_slack_has_no_plan():
    inp = tiny([500], [100, 20], [(0, 0, "direct", 1)], site_fixed=[10], per_mw=[1])
    with pytest.raises(NoSolutionError, match="region .R1. .region 1.: no candidate site"):
        solve(inp)


@pytest.mark.family("max_sites")
def test_max_sites():
    # two regions each reachable only from its own site; one site allowed -> one unmet
    arcs = [(0, 0, "direct", 1), (1, 1, "direct", 1)]
    inp = tiny([500, 500], [10, 10], arcs, site_fixed=[1, 1], per_mw=[1, 2],
               unmet_cost_musd_per_mw=100.0, max_sites=1)
    check(inp, 1 + 10 + 100 * 10)


def test_sparse_arcs_only_get_variables():
    inp = tiny([500, 500], [100], [(0, 1, "direct", 1)], site_fixed=[1, 1], per_mw=[1, 1])
    assert len(build_model(inp).serve) == 1


def test_infeasible_by_power_is_reported_by_the_solver():
    # each region reaches only its own site; site 0 has 50 MW for 100 MW of demand
    arcs = [(0, 0, "direct", 1), (1, 1, "direct", 1)]
    inp = tiny([50, 500], [100, 100], arcs, site_fixed=[1, 1], per_mw=[1, 1])
    with pytest.raises(NoSolutionError, match=r"infeasible.*\n  region 'R0' \(region 0\) short 50.0 of 100.0 MW"):
        solve(inp)


def test_thread_count_can_change_between_solves():
    # HiGHS keeps one thread pool per process; a second solve with other threads must still run
    from siting.solve import SolveOptions
    inp = tiny([500], [10], [(0, 0, "direct", 1)], site_fixed=[1], per_mw=[1])
    for threads in (2, 1, 2):
        assert solve(inp, SolveOptions(mip_gap=0, threads=threads)).report.objective == 11


def test_training_that_fits_nowhere_is_explained():
    # 300 MW of training in clusters of >= 200 MW; two sites of 150 MW each
    inp = tiny([150, 150], [0.001], [(0, 0, "direct", 1)], site_fixed=[1, 1], per_mw=[1, 1],
               training_mw=300, training_min_cluster_mw=200)
    with pytest.raises(NoSolutionError, match="minimum cluster of 200 MW fits no single site"):
        solve(inp)
    # clusters of 100 MW fit, but 300 MW of training plus inference exceed 300 MW of power
    inp.training_min_cluster_mw = 100
    with pytest.raises(NoSolutionError, match="power: inference and training need 300.0 MW"):
        solve(inp)


@pytest.mark.family("n_minus_1")
def test_n_minus_1_serves_no_region_its_only_site_cannot_lose():
    # S0, S1: firm 50 MW, 10 M$ + 1 M$/MW each; R0 (arcs to S0 and S1) and R1 (arc to S1 only),
    # 10 MW each; beta = 0.5; unmet at 100 M$/MW. Losing S1 leaves R1 no site, so R1 may not be
    # served at all: unmet 10 MW (1,000 M$). R0 keeps 5 MW after losing either site: 5 + 5 MW
    # at S0 and S1 (2 x 10 + 10 M$). Total 1,030 M$ (the rows dropped when no site survived gave 40).
    inp = tiny([50, 50], [10, 10], [(0, 0, "direct", 1), (0, 1, "direct", 1), (1, 1, "direct", 1)],
               site_fixed=[10, 10], per_mw=[1, 1], unmet_cost_musd_per_mw=100.0, n_minus_1_share=0.5)
    plan = check(inp, 1030.0)
    assert plan.regions.set_index("region_id")["unmet_mw"].to_dict() == pytest.approx({"R0": 0.0, "R1": 10.0})


@pytest.mark.family("backhaul")
def test_no_training_traffic_by_satellite_without_training():
    # training traffic by satellite (train_sat) may not exceed the training load at the site: a
    # plan putting 5 MW of training traffic on a satellite at a site that trains nothing breaks
    # the training_sat_load row, the same plan with 5 MW of training there holds it
    import numpy as np

    from siting.model import compile_inputs, read_decisions, start_vector

    inp = tiny([500, 500], [10], [(0, 0, "satellite", 30), (0, 1, "satellite", 30)], site_fixed=[10, 10],
               per_mw=[1, 1], sat_unit_cost=3.0, training_mw=100, training_gbps_per_mw=0.5)
    comp = compile_inputs(inp)
    plan = solve(inp)
    dec = read_decisions(comp, inp, start_vector(comp, inp, plan.decisions))
    idle = int(np.flatnonzero(dec.train_mw == 0)[0])

    def broken_rows(train_sat):
        x = start_vector(comp, inp, dataclasses.replace(dec, train_sat_mw=train_sat, sat_units=dec.sat_units + 1))
        ax = comp.sf.A @ x
        bad = np.flatnonzero((ax > comp.sf.row_upper + 1e-9) | (ax < comp.sf.row_lower - 1e-9))
        return {name for name, r in comp.rows.items() if np.isin(r, bad).any()}

    extra = dec.train_sat_mw.copy()
    extra[idle] = 5.0
    assert broken_rows(extra) == {"training_sat_load"}
    assert broken_rows(dec.train_sat_mw) == set()
