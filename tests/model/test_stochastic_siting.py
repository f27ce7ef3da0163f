"""The siting statement over scenarios (siting.model.stochastic): a hand-solved two-site,
two-scenario drought instance (the stochastic plan differs from the average-scenario plan; RP,
EEV, WS, VSS and EVPI by hand), the extensive form and the L-shaped decomposition on Dask
agreeing, the scenario layout (first stage shared, recourse per scenario), and refusals."""

from __future__ import annotations

import numpy as np
import pytest

from siting.errors import ScenarioError
from siting.inputs.uncertainty import read_uncertainty
from siting.model.compile import compile_inputs
from siting.model.stochastic import scenario_costs, scenario_inputs, two_stage
from siting.solve import SolveOptions, Termination
from siting.solve.lshaped import lshaped
from siting.solve.twostage import evaluate, expected_value_problem, solve_ef, value_of_stochastic_solution
from tests.helpers import tiny

OPTS = SolveOptions(time_limit_s=60, mip_gap=1e-9, threads=1)

# Site A: a hydro dam in the Yangtze basin, 20 MW firm, 2 M$ to open, IT free. Site B: gas in
# country X, 10 MW firm, 5 M$ to open, 0.1 M$ per MW IT. One region of 10 MW; unmet 1.2 M$/MW.
# Wet year (p = 1/2): A runs all its IT. Dry year (p = 1/2): the drought takes all of A's power.
FIXED, PER_MW, FIRM, DEMAND, UNMET = [2.0, 5.0], [0.0, 0.1], [20.0, 10.0], 10.0, 1.2
UNC = {"scenarios": [{"name": "wet", "probability": 0.5},
                     {"name": "dry", "probability": 0.5, "drought": {"Yangtze": 1.0}}]}


def two_sites():
    inp = tiny(FIRM, [DEMAND], [(0, 0, "direct", 10.0), (0, 1, "direct", 10.0)], site_fixed=FIXED, per_mw=PER_MW,
               unmet_cost_musd_per_mw=UNMET)
    inp.sites["basin"] = ["Yangtze", None]
    inp.sites["country"] = ["CN", "X"]
    return inp


def hand_cost(a: int, b: int, dry: bool) -> float:
    """Open A and/or B, build the IT that serves (B's 10 MW IT costs 1 only if opened), serve A
    first (free) where its power runs, then B, the rest unmet."""
    cost = FIXED[0] * a + FIXED[1] * b + PER_MW[1] * FIRM[1] * b
    from_a = 0.0 if dry else min(DEMAND, FIRM[0] * a)
    from_b = min(DEMAND - from_a, FIRM[1] * b)
    return cost + UNMET * (DEMAND - from_a - from_b)


def test_stochastic_plan_and_vss_by_hand():
    plans = [(a, b) for a in (0, 1) for b in (0, 1)]
    expected = {pl: 0.5 * hand_cost(*pl, False) + 0.5 * hand_cost(*pl, True) for pl in plans}
    rp_plan = min(expected, key=expected.get)  # (0, 1): B alone, 6 in both years
    # the average year: A runs half its 20 MW IT = 10 MW, all the demand, for 2 M$: A alone
    ev_plan = (1, 0)
    ws = 0.5 * min(hand_cost(*pl, False) for pl in plans) + 0.5 * min(hand_cost(*pl, True) for pl in plans)
    assert rp_plan == (0, 1) and expected[rp_plan] == pytest.approx(6.0) and ws == pytest.approx(4.0)
    vss_hand, evpi_hand = expected[ev_plan] - expected[rp_plan], expected[rp_plan] - ws  # 8 - 6, 6 - 4

    m = two_stage(two_sites(), read_uncertainty(UNC, {"Yangtze", "CN", "X"}))
    val = value_of_stochastic_solution(m.ts, OPTS)
    open_cols = m.compiled[0].columns["open"]
    f_pos = np.cumsum(m.first) - 1  # first-stage position of each first-stage column
    opened = lambda x: tuple(int(round(x[f_pos[c]])) for c in open_cols)  # noqa: E731
    assert opened(val.x_rp) == rp_plan and opened(val.x_ev) == ev_plan  # the two plans differ
    assert val.rp == pytest.approx(expected[rp_plan], abs=1e-6)
    assert val.eev == pytest.approx(expected[ev_plan], abs=1e-6)
    assert val.ws == pytest.approx(ws, abs=1e-6)
    assert val.vss == pytest.approx(vss_hand, abs=1e-6) and val.evpi == pytest.approx(evpi_hand, abs=1e-6)
    # per scenario: the average-scenario plan pays 2 in the wet year and 2 + 12 in the dry one
    costs = scenario_costs(m, val.x_ev, evaluate(m.ts, val.x_ev, OPTS))
    assert costs.tolist() == pytest.approx([hand_cost(*ev_plan, False), hand_cost(*ev_plan, True)], abs=1e-6)


@pytest.mark.parametrize("how", ["in-out", "kelley", "from the average plan"])
def test_extensive_form_and_decomposition_agree(how):
    unc = {"scenarios": [{"name": "wet", "probability": 0.3, "demand_growth": 0.8},
                         {"name": "normal", "probability": 0.4, "drought": {"Yangtze": 0.4}},
                         {"name": "dry", "probability": 0.3, "drought": {"Yangtze": 0.9}, "demand_growth": 1.3}]}
    m = two_stage(two_sites(), read_uncertainty(unc, {"Yangtze", "CN", "X"}))
    ef = solve_ef(m.ts, OPTS)
    kw = {"in-out": {}, "kelley": {"stabilize": False},
          "from the average plan": {"start": solve_ef(expected_value_problem(m.ts), OPTS).x}}[how]
    ls = lshaped(m.ts, SolveOptions(time_limit_s=120, mip_gap=1e-6, threads=1), workers=1, **kw)
    assert ef.termination == Termination.OPTIMAL and ls.termination == Termination.OPTIMAL
    assert ls.objective == pytest.approx(ef.objective, rel=1e-6)
    assert ls.bound <= ef.objective + 1e-6


def test_decomposition_evaluates_its_start_first():
    # the hand instance: the average-scenario plan (A alone) costs 0.5 * 2 + 0.5 * (2 + 12) = 8;
    # with no iteration left after the start, L-shaped returns exactly that plan at that cost;
    # with iterations it moves to B alone, 6
    m = two_stage(two_sites(), read_uncertainty(UNC, {"Yangtze", "CN", "X"}))
    ev = solve_ef(expected_value_problem(m.ts), OPTS).x
    ls = lshaped(m.ts, OPTS, workers=1, start=ev, lp_phase=False, max_iterations=0)
    assert ls.objective == pytest.approx(8.0, abs=1e-6) and ls.x.tolist() == pytest.approx(ev.tolist())
    full = lshaped(m.ts, OPTS, workers=1, start=ev)
    assert full.objective == pytest.approx(6.0, abs=1e-6)


@pytest.mark.family("capacity")
def test_layout_one_scenario_is_the_deterministic_model():
    """One certain scenario: the two-stage problem's extensive form has the deterministic model's
    optimum; the first stage is shared (open, it), serve and unmet are the recourse."""
    inp = two_sites()
    m = two_stage(inp, read_uncertainty({"scenarios": [{"name": "only", "probability": 1.0}]}, {"Yangtze"}))
    det = compile_inputs(inp)
    assert m.first.sum() == det.mask("open").sum() + det.mask("it").sum()
    assert solve_ef(m.ts, OPTS).objective == pytest.approx(hand_cost(1, 0, False), abs=1e-9)  # A alone: 2
    # a drought of 60 % leaves 8 of A's 20 MW usable to serve... only if 8 < built IT: A with 20 MW serves 8
    half = scenario_inputs(inp, read_uncertainty(
        {"scenarios": [{"name": "d", "probability": 1.0, "drought": {"Yangtze": 0.6}}]}, {"Yangtze"}).scenarios[0])
    assert half.available_share.tolist() == pytest.approx([0.4, 1.0])
    assert inp.available_share is None and inp.regions["inference_mw"].tolist() == [DEMAND]  # not changed
    # open A alone (2) + 2 MW unmet (2.4) = 4.4 against B alone 6: A alone
    r = solve_ef(two_stage(inp, read_uncertainty(
        {"scenarios": [{"name": "d", "probability": 1.0, "drought": {"Yangtze": 0.6}}]}, {"Yangtze"})).ts, OPTS)
    assert r.objective == pytest.approx(2.0 + UNMET * 2.0, abs=1e-9)


def test_prices_and_growth_change_the_scenario_only():
    inp = two_sites()
    inp.it_cost_musd["energy"] = np.array([[0.0], [0.1]])
    s = read_uncertainty({"scenarios": [{"name": "p", "probability": 1.0, "demand_growth": 2.0,
                                         "prices": {"energy": 3.0}}]}, set()).scenarios[0]
    out = scenario_inputs(inp, s)
    assert out.it_cost_musd["energy"].tolist() == [[0.0], [pytest.approx(0.3)]]
    assert out.regions["inference_mw"].tolist() == [2 * DEMAND]
    assert inp.it_cost_musd["energy"].tolist() == [[0.0], [0.1]]


@pytest.mark.parametrize("field,change", [("time", "periods"), ("demand.n_minus_1_share", "n_minus_1_share")])
def test_refuses_combinations_not_supported(field, change):
    inp = two_sites()
    value = object() if change == "periods" else 0.5
    setattr(inp, change, value)
    with pytest.raises(ScenarioError, match=field.replace(".", r"\.")):
        two_stage(inp, read_uncertainty({"scenarios": [{"name": "a", "probability": 1.0}]}, set()))


def test_bad_uncertainty_is_one_clear_error():
    with pytest.raises(ScenarioError, match=r"scenarios\[1\].*drought\.Nile.*unknown basin"):
        read_uncertainty({"scenarios": [{"name": "a", "probability": 0.5},
                                        {"name": "b", "probability": 0.5, "drought": {"Nile": 0.5}}]}, {"Yangtze"})


# CVaR: the wet year is likely (0.8), the dry one rare (0.2). Risk-neutral, A alone is cheaper on
# average (0.8 x 2 + 0.2 x 14 = 4.4 against B's 6 in both years); its CVaR at alpha = 0.5 (the
# worst half of the probability: 0.2 at 14 and 0.3 at 2) is (2.8 + 0.6) / 0.5 = 6.8 against B's 6.
RISKY = {"scenarios": [{"name": "wet", "probability": 0.8},
                       {"name": "dry", "probability": 0.2, "drought": {"Yangtze": 1.0}}], "cvar_alpha": 0.5}


@pytest.mark.parametrize("lam,plan,objective", [(0.0, (1, 0), 4.4), (1.0, (1, 0), 4.4 + 6.8),
                                                (3.0, (0, 1), 6.0 + 3 * 6.0)])
def test_cvar_flips_the_plan_to_the_safer_one_by_hand(lam, plan, objective):
    plans = [(a, b) for a in (0, 1) for b in (0, 1)]
    cost = {pl: (hand_cost(*pl, False), hand_cost(*pl, True)) for pl in plans}
    tail = {pl: (0.2 * max(w, d) + 0.3 * min(w, d)) / 0.5 for pl, (w, d) in cost.items()}  # CVaR_0.5 by hand
    total = {pl: 0.8 * w + 0.2 * d + lam * tail[pl] for pl, (w, d) in cost.items()}
    assert min(total, key=total.get) == plan and total[plan] == pytest.approx(objective)
    m = two_stage(two_sites(), read_uncertainty(RISKY | {"cvar_weight": lam}, {"Yangtze", "CN", "X"}))
    r = solve_ef(m.ts, OPTS)
    f_pos = np.cumsum(m.first) - 1
    assert tuple(int(round(r.x[f_pos[c]])) for c in m.compiled[0].columns["open"]) == plan
    assert r.objective == pytest.approx(objective, abs=1e-6)
    assert m.ts.objective_at(r.x, r.scenario_costs) == pytest.approx(objective, abs=1e-6)


def test_extensive_form_and_decomposition_agree_with_cvar():
    unc = {"cvar_weight": 0.7, "cvar_alpha": 0.6,
           "scenarios": [{"name": "wet", "probability": 0.3, "demand_growth": 0.8},
                         {"name": "normal", "probability": 0.5, "drought": {"Yangtze": 0.4}},
                         {"name": "dry", "probability": 0.2, "drought": {"Yangtze": 0.9}, "demand_growth": 1.3}]}
    m = two_stage(two_sites(), read_uncertainty(unc, {"Yangtze", "CN", "X"}))
    ef = solve_ef(m.ts, OPTS)
    neutral = solve_ef(two_stage(two_sites(), read_uncertainty(unc | {"cvar_weight": 0.0}, {"Yangtze"})).ts, OPTS)
    ls = lshaped(m.ts, SolveOptions(time_limit_s=120, mip_gap=1e-6, threads=1), workers=1)
    assert ef.termination == Termination.OPTIMAL and ls.termination == Termination.OPTIMAL
    assert ef.objective > neutral.objective + 1e-3  # the risk term counts here
    assert ls.objective == pytest.approx(ef.objective, rel=1e-6) and ls.bound <= ef.objective + 1e-6
    assert m.ts.objective_at(ls.x, ls.scenario_costs) == pytest.approx(ls.objective, rel=1e-9)


@pytest.mark.parametrize("field,value,msg", [("cvar_weight", -0.1, "greater than or equal to 0"),
                                             ("cvar_alpha", 1.0, "less than 1"), ("cvar_alpha", 0.0, "greater than 0")])
def test_a_bad_risk_measure_is_one_error_naming_the_field(field, value, msg):
    with pytest.raises(ScenarioError, match=f"uncertainty: field '{field}': .*{msg}"):
        read_uncertainty({"scenarios": [{"name": "a", "probability": 1.0}], field: value}, set())


def test_out_of_sample_on_the_same_scenarios_is_the_in_sample_cost():
    """Evaluated on its own scenarios (second stage re-solved), the stochastic plan costs what the
    two-stage solve said; on the hand-solved pair (B alone 6 and 6; A alone 2 and 14) the means
    and the t-interval are the hand's: 6 (exact), 8 +- t(0.975, 1) x 8.485 / sqrt 2 = 8 +- 76.24."""
    from siting.out_of_sample import evaluate_plans, summarise

    inp, unc = two_sites(), read_uncertainty(UNC, {"Yangtze", "CN", "X"})
    m = two_stage(inp, unc)
    val = value_of_stochastic_solution(m.ts, OPTS)
    t = evaluate_plans(inp, unc, {"stochastic": val.x_rp, "average": val.x_ev}, m, OPTS)
    in_sample = scenario_costs(m, val.x_rp, evaluate(m.ts, val.x_rp, OPTS))
    assert t["stochastic_cost_musd"].tolist() == pytest.approx(in_sample.tolist(), abs=1e-6)
    assert t["stochastic_cost_musd"].tolist() == pytest.approx([6.0, 6.0], abs=1e-6)
    assert t["average_cost_musd"].tolist() == pytest.approx([2.0, 14.0], abs=1e-6)
    sm = summarise(t, ["stochastic", "average"], 0.95)
    assert sm["stochastic"]["mean_musd"] == pytest.approx(val.rp, abs=1e-6)
    assert sm["stochastic"]["ci_low_musd"] == pytest.approx(6.0, abs=1e-6) == sm["stochastic"]["ci_high_musd"]
    half = 12.7062047 * (72.0 ** 0.5) / 2 ** 0.5  # t quantile from tables, s = sqrt(((2-8)^2 + (14-8)^2) / 1)
    assert sm["average"]["mean_musd"] == pytest.approx(val.eev, abs=1e-6)
    assert sm["average"]["ci_high_musd"] - 8.0 == pytest.approx(half, rel=1e-6)
    assert sm["average_minus_stochastic"]["mean_musd"] == pytest.approx(val.vss, abs=1e-6)


# Training in a drought: 15 MW of training besides the 10 MW of inference. A dry year leaves A's IT
# unusable, so B's 10 MW cannot hold all 25 MW: with training_total an equality the year would be
# infeasible; as a scenario's recourse, training MW left unplaced cost the unmet price (1.2 / MW).
TRAIN = 15.0


def with_training():
    inp = two_sites()
    inp.training_mw = TRAIN
    return inp


@pytest.mark.family("training")
def test_a_drought_leaves_training_unplaced_at_a_price_not_infeasible():
    dry = read_uncertainty({"scenarios": [{"name": "dry", "probability": 1.0, "drought": {"Yangtze": 1.0}}]},
                           {"Yangtze"})
    inp = with_training()
    seen = scenario_inputs(inp, dry.scenarios[0])
    assert seen.training_shortfall_cost_musd_per_mw == UNMET and inp.training_shortfall_cost_musd_per_mw is None
    # the dry year as a deterministic model with the old equality: no plan places 15 MW in B's 10
    from dataclasses import replace

    from siting.solve import solve
    strict = solve(compile_inputs(replace(seen, training_shortfall_cost_musd_per_mw=None)).sf, OPTS)
    assert strict.termination in (Termination.INFEASIBLE, Termination.INFEASIBLE_OR_UNBOUNDED)
    # by hand: B alone (5 + 10 MW IT at 0.1), 25 - 10 = 15 MW short at 1.2: 5 + 1 + 18 = 24; nothing: 30
    r = solve_ef(two_stage(inp, dry).ts, OPTS)
    assert r.termination == Termination.OPTIMAL and r.objective == pytest.approx(24.0, abs=1e-6)


def test_training_shortfall_over_two_years_by_hand():
    """Wet and dry years (1/2 each), 25 MW to place. A alone: wet 20 placed, 5 short: 2 + 6 = 8;
    dry 2 + 30 = 32: 20 expected. B alone: 6 + 18 = 24 in both. A and B (B's IT b MW): wet short
    max(0, 5 - b), dry 25 - b: 7 + 0.1 b + 0.6 max(0, 5 - b) + 0.6 (25 - b), least at b = 10: 17."""
    unc = read_uncertainty(UNC, {"Yangtze", "CN", "X"})
    both = min(7 + 0.1 * b + 0.6 * max(0.0, 5 - b) + 0.6 * (25 - b) for b in (0.0, 5.0, 10.0))
    assert both == pytest.approx(17.0) and min(8 / 2 + 32 / 2, 24.0) > both
    r = solve_ef(two_stage(with_training(), unc).ts, OPTS)
    assert r.objective == pytest.approx(17.0, abs=1e-6)
