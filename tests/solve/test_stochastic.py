"""The two-stage stochastic engine: a hand-solved drought instance (stochastic plan against the
average-scenario plan: VSS and EVPI by hand and by the engine), the extensive form and the
L-shaped decomposition on Dask agreeing with each other and with SSLP's published optima."""

from __future__ import annotations

import csv
import dataclasses
import itertools

import numpy as np
import pytest

from siting.inputs.sslp import read_instance
from siting.model.sslp import two_stage
from siting.solve import SolveOptions, Termination
from siting.solve.lshaped import lshaped
from siting.solve.twostage import (
    Scenario,
    TwoStage,
    TwoStageError,
    completed_start,
    evaluate,
    expected_value_problem,
    extensive_form,
    solve_ef,
    value_of_stochastic_solution,
    wait_and_see,
)

OPTS = SolveOptions(time_limit_s=120, mip_gap=1e-9, threads=1)

# Two sites: A a hydro site (build 2, serves for free, but a drought takes all its firm power),
# B a gas-backed site (build 5, serves at 0.2 per unit, 10 units firm in every year). Demand 10
# units; unserved demand costs 1.2 per unit. Wet year (p = 1/2): A has 20 units firm; dry year
# (p = 1/2): A has none. The average year gives A 10 units: enough for all the demand.
BUILD = {"A": 2.0, "B": 5.0}
SERVE = {"A": 0.0, "B": 0.2}
UNMET, DEMAND, FIRM_B = 1.2, 10.0, 10.0
YEARS = {"wet": (0.5, 20.0), "dry": (0.5, 0.0)}  # probability, firm power of A


def drought_problem() -> TwoStage:
    """x = (x_A, x_B) binary; per year y = (y_A, y_B, unmet) with y_A <= firm_A x_A,
    y_B <= 10 x_B, y_A + y_B + unmet = 10."""
    W = [[1, 0, 0], [0, 1, 0], [1, 1, 1]]
    scen = [Scenario.build(p, [SERVE["A"], SERVE["B"], UNMET], [[-firm_a, 0], [0, -FIRM_B], [0, 0]], W,
                           [-np.inf, -np.inf, DEMAND], [0, 0, DEMAND], name=name)
            for name, (p, firm_a) in YEARS.items()]
    return TwoStage.build([BUILD["A"], BUILD["B"]], None, [], [], scen, col_lower=[0, 0], col_upper=[1, 1],
                          integer=[True, True])


def hand_cost(plan: tuple[int, int], firm_a: float) -> float:
    """Build cost plus the cheapest way to serve 10 units in a year: A first (free), then B, then unmet."""
    cost = BUILD["A"] * plan[0] + BUILD["B"] * plan[1]
    from_a = min(DEMAND, firm_a * plan[0])
    from_b = min(DEMAND - from_a, FIRM_B * plan[1])
    return cost + SERVE["B"] * from_b + UNMET * (DEMAND - from_a - from_b)


PLANS = list(itertools.product((0, 1), repeat=2))


def test_hand_solved_drought_instance_vss_and_evpi():
    expected = {plan: sum(p * hand_cost(plan, firm) for p, firm in YEARS.values()) for plan in PLANS}
    rp_plan = min(expected, key=expected.get)
    mean_firm = sum(p * firm for p, firm in YEARS.values())
    ev_plan = min(PLANS, key=lambda plan: hand_cost(plan, mean_firm))
    eev = expected[ev_plan]
    ws = sum(p * min(hand_cost(plan, firm) for plan in PLANS) for p, firm in YEARS.values())
    # by hand: B alone costs 7 in every year; A alone 2 in a wet year, 14 in a dry one (expected 8)
    assert (rp_plan, expected[rp_plan]) == ((0, 1), 7.0)
    assert ev_plan == (1, 0) and hand_cost(ev_plan, mean_firm) == 2.0  # the average year: A is enough
    assert eev == pytest.approx(8.0) and ws == pytest.approx(4.5)  # VSS 1, EVPI 2.5

    ts = drought_problem()
    v = value_of_stochastic_solution(ts, OPTS)
    assert tuple(np.round(v.x_rp).astype(int)) == rp_plan and tuple(np.round(v.x_ev).astype(int)) == ev_plan
    assert v.rp == pytest.approx(7.0) and v.ev == pytest.approx(2.0) and v.eev == pytest.approx(eev)
    assert v.ws == pytest.approx(ws)
    assert v.vss == pytest.approx(1.0) and v.evpi == pytest.approx(2.5)
    np.testing.assert_allclose(v.eev_scenario_costs, [0.0, UNMET * DEMAND])  # the EV plan in a dry year
    # the pieces on their own: the average scenario's firm power of A, Q_s of every plan, WS per year
    mean = expected_value_problem(ts).scenarios[0]
    assert mean.T.toarray()[0, 0] == -mean_firm
    for plan in PLANS:
        q = evaluate(ts, np.array(plan, float), OPTS)
        assert ts.first_cost(np.array(plan, float)) + ts.probabilities @ q == pytest.approx(expected[plan])
    ws_engine, per_year = wait_and_see(ts, OPTS)
    np.testing.assert_allclose(per_year, [2.0, 7.0])


def test_the_extensive_form_from_the_average_plan_starts_at_eev_and_ends_at_rp():
    # the drought instance: the average year's plan (A alone) operated in both years costs EEV = 8
    # by hand (above); the extensive form started from it reaches RP = 7 (B alone); and with CVaR
    # (lambda = 1, alpha = 0.5) the start is A alone's 22 and the end B alone's 14
    ts = drought_problem()
    ev = solve_ef(expected_value_problem(ts), OPTS)
    assert tuple(np.round(ev.x).astype(int)) == (1, 0)
    sf = extensive_form(ts)
    start = completed_start(ts, sf, ev.x, OPTS)
    assert float(sf.c @ start + sf.offset) == pytest.approx(8.0)
    r = solve_ef(ts, OPTS, start_first=ev.x)
    assert r.objective == pytest.approx(7.0) and tuple(np.round(r.x).astype(int)) == (0, 1)
    risk = dataclasses.replace(ts, cvar_weight=1.0, cvar_alpha=0.5)
    sf = extensive_form(risk)
    assert float(sf.c @ completed_start(risk, sf, ev.x, OPTS) + sf.offset) == pytest.approx(22.0)
    assert solve_ef(risk, OPTS, start_first=ev.x).objective == pytest.approx(14.0)


def test_lshaped_on_the_drought_instance_matches_the_extensive_form():
    import dataclasses
    import logging

    from dask.distributed import LocalCluster

    ts = drought_problem()
    ef = solve_ef(ts, OPTS)
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=":0", silence_logs=logging.ERROR) as c:
        r = lshaped(ts, OPTS, scheduler=c.scheduler_address)
        assert ef.termination == r.termination == Termination.OPTIMAL
        assert r.objective == pytest.approx(7.0) and ef.objective == pytest.approx(7.0)
        np.testing.assert_array_equal(np.round(r.x), [0, 1])
        np.testing.assert_allclose(r.scenario_costs, [2.0, 2.0])  # B serves everything at 0.2 in both years
        assert r.bound <= r.objective + 1e-9 and r.gap <= 1e-9 and r.workers == 1
        # the first stage relaxed to [0, 1] (an LP in both stages; LP cuts alone are exact): still 7,
        # e.g. B alone, or x = (1/2, 1): 2/2 + 5 + (wet: A's 10 units free) 0 + (dry: B) 1/2 * 2 = 7
        lp = dataclasses.replace(ts, integer=np.zeros(2, bool))
        r_lp, ef_lp = lshaped(lp, OPTS, scheduler=c.scheduler_address), solve_ef(lp, OPTS)
        assert r_lp.termination == Termination.OPTIMAL
        assert r_lp.objective == pytest.approx(7.0) and ef_lp.objective == pytest.approx(7.0)
        assert r_lp.bound <= 7.0 + 1e-7


def test_the_restricted_master_never_bounds_the_problem():
    """Fixed charge: A costs 10 and holds 10 units, B costs 12 and holds 100; every year needs
    8 or 10 units (unmet 100 each). The LP relaxation opens a tenth of B (1.2: 0.12 a unit, against
    A's 1), so the restricted master, with A closed, can only build B (12); the optimum is A (10).
    L-shaped with ``restrict`` must still end at A: the restricted master's bound (12) is not a
    bound of the problem, only the full master's is."""
    W = [[1, 0, 0], [0, 1, 0], [1, 1, 1]]
    scen = [Scenario.build(0.5, [0.0, 0.0, 100.0], [[-10, 0], [0, -100], [0, 0]], W,
                           [-np.inf, -np.inf, d], [0, 0, np.inf], name=f"d{d}") for d in (8.0, 10.0)]
    ts = TwoStage.build([10.0, 12.0], None, [], [], scen, col_lower=[0, 0], col_upper=[1, 1], integer=[True, True])
    assert solve_ef(ts, OPTS).objective == pytest.approx(10.0)
    said = []
    r = lshaped(ts, OPTS, workers=1, restrict=np.array([True, True]), progress=said.append)
    assert any("restricted master: 1 of 2" in m for m in said)  # A closed after the LP phase
    assert any(m.lstrip().startswith("restricted ") and "this plan 12," in m for m in said)  # B alone, 12
    assert any("restricted master done" in m for m in said)
    assert r.termination == Termination.OPTIMAL and r.objective == pytest.approx(10.0)
    assert np.round(r.x).tolist() == [1, 0] and r.bound <= 10.0 + 1e-9


def test_a_warm_master_lp_without_a_solution_is_built_again_cold(monkeypatch):
    """HiGHS has ended a warm re-solve of the master LP "optimal" with no solution (on the default,
    twice): made to happen here on the third master LP, which is then built again and solved cold;
    the LP phase goes on and the method still proves the extensive form's optimum."""
    import siting.solve.lshaped as ls_module

    real, calls = ls_module.read_outcome, []

    def read_outcome(h, is_mip):
        o = real(h, is_mip)
        calls.append(is_mip)
        return dataclasses.replace(o, x=None, objective=None) if calls.count(False) == 3 else o

    monkeypatch.setattr(ls_module, "read_outcome", read_outcome)
    ts = two_stage(small_sslp())
    said = []
    r = lshaped(ts, OPTS, workers=1, progress=said.append)
    assert any("ended optimal without a solution; built again, cold" in m for m in said)
    assert any("LP phase:" in m for m in said) and calls.count(False) > 4
    assert r.termination == Termination.OPTIMAL
    assert r.objective == pytest.approx(solve_ef(ts, OPTS).objective, rel=1e-9)


def test_a_plan_off_its_first_stage_equality_by_a_tolerance_is_still_evaluated():
    """modules m (integer) and IT = 25 m MW (an equality of the first stage); a year needs 200 MW
    (unmet 100 a MW). A master's plan with m = 9 rounded from 8.9999999 and IT = 225 - 3e-6 meets
    the equality only to 7.5e-5: the scenario is still evaluated (Q = 0: 200 of 225 MW served),
    not called infeasible as it was with the rows A z held in the scenario."""
    from siting.solve.lshaped import value_task
    from siting.solve.twostage import scenario_form, scenario_value

    scen = Scenario.build(1.0, [0.0, 100.0], [[0, -1], [0, 0]], [[1, 0], [1, 1]], [-np.inf, 200.0], [0.0, np.inf])
    ts = TwoStage.build([1.0, 0.1], [[-25.0, 1.0]], [0.0], [0.0], [scen], col_lower=[0, 0], col_upper=[20, 1000],
                        integer=[True, False])
    x = np.array([9.0, 225.0 - 3e-6])
    assert not scenario_value(scenario_form(ts, 0), 2, x, OPTS).feasible  # the rows held: "infeasible"
    payload = (scenario_form(ts, 0), 2, 0, 1)
    for token in (None, "t"):
        v = value_task(payload, x, OPTS, "exact", 60.0, 1e-9, token)
        assert v.feasible and v.value == pytest.approx(0.0, abs=1e-9)
    assert value_task(payload, np.array([4.0, 100.0]), OPTS, "exact", 60.0, 1e-9).value == pytest.approx(100 * 100)


def test_extensive_form_layout_and_bad_records():
    ts = drought_problem()
    ef = extensive_form(ts)
    assert ef.shape == (6, 8)
    np.testing.assert_allclose(ef.c, [2, 5, 0, 0.1, 0.6, 0, 0.1, 0.6])
    s = ts.scenarios[0]
    with pytest.raises(TwoStageError, match="probabilities sum to 0.9"):
        TwoStage.build([1.0, 1.0], None, [], [], [s, Scenario.build(0.4, s.q, s.T, s.W, s.h_lower, s.h_upper)])
    with pytest.raises(TwoStageError, match="T: 1 columns, expected 2"):
        TwoStage.build([1.0, 1.0], None, [], [], [Scenario.build(1.0, [1.0], [[1.0]], [[1.0]], [0.0], [1.0])])
    with pytest.raises(TwoStageError, match="binary first stage"):
        lshaped(TwoStage.build([1.0], None, [], [], [Scenario.build(1.0, [1.0], [[1.0]], [[1.0]], [0.0], [1.0],
                                                                    integer=[True])], col_upper=[3.0]), OPTS)


def _published(shared, name: str) -> float:
    with open(shared / "sslp" / "optima.csv", newline="") as fh:
        return float(next(r for r in csv.DictReader(fh) if r["instance"] == name)["published_optimum"])


def test_sslp_5_25_50_by_decomposition_matches_the_published_optimum(shared_data):
    inst = read_instance(shared_data / "sslp" / "sslp_5_25_50")
    ts = two_stage(inst)
    assert (ts.n_first, len(ts.scenarios), ts.scenarios[0].n_cols) == (5, 50, 5 * 25 + 5)
    r = lshaped(ts, OPTS, workers=2, cuts="lp")  # LP cuts + integer cuts: the faster here (bench/sslp.py)
    published = _published(shared_data, "sslp_5_25_50")
    assert r.termination == Termination.OPTIMAL
    assert r.objective == pytest.approx(published, rel=1e-6) and r.bound == pytest.approx(published, rel=1e-6)
    assert sorted(np.flatnonzero(np.round(r.x)) + 1) == [1, 3]  # optima.csv: open servers 1 3
    # the plan's cost recomputed from the instance's arrays: c x + sum_s p_s Q_s(x)
    assert inst.fixed_cost @ r.x + inst.probability @ r.scenario_costs == pytest.approx(published, rel=1e-9)


def test_sslp_15_45_5_by_extensive_form_matches_the_published_optimum(shared_data):
    ts = two_stage(read_instance(shared_data / "sslp" / "sslp_15_45_5"))
    r = solve_ef(ts, OPTS)
    assert r.termination == Termination.OPTIMAL
    assert r.objective == pytest.approx(_published(shared_data, "sslp_15_45_5"), rel=1e-6)
    assert sorted(np.flatnonzero(np.round(r.x)) + 1) == [1, 4, 8, 11]


def small_sslp(seed: int = 7, m: int = 4, n: int = 10, S: int = 4):
    """A random SSLP-shaped instance (integer recourse), small enough to solve in seconds."""
    from siting.inputs.sslp import SSLPInstance

    rng = np.random.default_rng(seed)
    d = rng.integers(0, 26, size=(n, m)).astype(float)
    return SSLPInstance("small", m, n, S, rng.integers(40, 81, m).astype(float), m, 60.0, d, d,
                        rng.integers(0, 2, size=(S, n)).astype(np.int8), np.full(S, 1.0 / S), np.full(m, 1000.0),
                        tuple(f"s{k}" for k in range(S)))


def test_a_separate_scheduler_and_two_workers_give_identical_results_even_losing_a_worker(tmp_path):
    """``dask scheduler`` + 2 ``dask worker`` processes on loopback: the same solve as on the embedded
    cluster, to the last iteration, although one worker is killed during it (Dask re-runs its tasks)."""
    import signal
    import threading

    from tests.helpers import dask_processes

    ts = two_stage(small_sslp())
    embedded = lshaped(ts, OPTS, workers=2, warm=False)
    assert embedded.termination == Termination.OPTIMAL
    assert embedded.objective == pytest.approx(solve_ef(ts, OPTS).objective, rel=1e-9)

    with dask_processes(tmp_path, 2) as (address, procs):
        killed = []

        def progress(line: str) -> None:  # kill the second worker as the cuts of the LP phase are strengthened
            if not killed and "LP phase" in line:
                killed.append(line)
                threading.Timer(0.05, procs[2].send_signal, (signal.SIGKILL,)).start()

        external = lshaped(ts, OPTS, scheduler=address, warm=False, progress=progress)
        assert killed and procs[2].wait(timeout=10) == -signal.SIGKILL
    assert external.workers == 2 and external.termination == Termination.OPTIMAL
    assert external.objective == embedded.objective and external.bound == embedded.bound
    np.testing.assert_array_equal(external.x, embedded.x)
    np.testing.assert_array_equal(external.scenario_costs, embedded.scenario_costs)
    assert external.iterations == embedded.iterations
    assert [h[:3] for h in external.history] == [h[:3] for h in embedded.history]


def test_ctrl_c_stops_the_decomposition_cleanly_with_its_bound():
    """Ctrl-C (SIGINT to the main thread, from another thread: as a terminal sends it) while the
    cuts of the LP phase are strengthened on the workers: the tasks are cancelled, the embedded
    cluster closed, and the solve returns 'interrupted' with the bound it had."""
    import _thread
    import threading

    sent = []

    def progress(line: str) -> None:
        if not sent and "LP phase" in line:
            sent.append(line)
            threading.Timer(0.05, _thread.interrupt_main).start()

    r = lshaped(two_stage(small_sslp()), OPTS, workers=1, progress=progress)
    assert sent and r.termination == Termination.INTERRUPTED
    # a valid bound, at least the LP phase's (-17.63 in this instance's log) and at most the optimum (3.25)
    assert -17.632 <= r.bound <= 3.25 + 1e-9


def test_cvar_on_the_record_by_hand_and_its_bad_values():
    """The drought instance with lambda = 1, alpha = 0.5 (two equally likely years: CVaR_0.5 is the
    dry year's cost): A alone 2 + 0.5 x 12 + 14 = 22, B alone 7 + 7 = 14, both 7 + 0.5 x 2 + 9 = 17."""
    ts = dataclasses.replace(drought_problem(), cvar_weight=1.0, cvar_alpha=0.5)
    by_hand = {pl: 0.5 * hand_cost(pl, 20.0) + 0.5 * hand_cost(pl, 0.0) + hand_cost(pl, 0.0) for pl in PLANS}
    best = min(by_hand, key=by_hand.get)
    r = solve_ef(ts, OPTS)
    assert best == (0, 1) and tuple(np.round(r.x).astype(int)) == best
    assert r.objective == pytest.approx(by_hand[best], abs=1e-9) == 14.0
    for field, value in (("cvar_weight", -1.0), ("cvar_alpha", 1.0), ("cvar_alpha", 0.0)):
        with pytest.raises(TwoStageError, match=field):
            dataclasses.replace(ts, **{field: value})


def test_lshaped_with_cvar_and_integer_recourse_matches_the_extensive_form():
    """A small SSLP (binary first stage, integer recourse) with lambda = 1, alpha = 0.7: the
    master's eta and u_s keep the integer L-shaped cuts exact; both reach the extensive form's value."""
    ts = dataclasses.replace(two_stage(small_sslp()), cvar_weight=1.0, cvar_alpha=0.7)
    ef = solve_ef(ts, OPTS)
    ls = lshaped(ts, OPTS, workers=1)
    assert ef.termination == ls.termination == Termination.OPTIMAL
    assert ef.objective > solve_ef(dataclasses.replace(ts, cvar_weight=0.0), OPTS).objective + 1.0
    assert ls.objective == pytest.approx(ef.objective, rel=1e-9) and ls.bound <= ef.objective * (1 + 1e-9)
    assert ts.objective_at(ef.x, evaluate(ts, ef.x, OPTS)) == pytest.approx(ef.objective, rel=1e-9)
