"""``siting stochastic``: the plan that holds over a scenario set (two-stage, :mod:`siting.model.stochastic`).

The scenarios come from the scenario's ``uncertainty:`` block or are generated (correlated
droughts by basin or country, one demand growth factor; :func:`~siting.inputs.uncertainty.correlated_scenarios`).
The stochastic plan (RP) is solved as the extensive form (HiGHS alone) or by multi-cut L-shaped
decomposition on Dask; then the average-scenario plan (EV) and its expected cost on every
scenario (EEV), the wait-and-see value (WS), VSS = EEV - RP, EVPI = RP - WS; per scenario the
cost and unmet MW of both plans (each scenario's model with the plan's first stage fixed). The
plan files are the stochastic plan's first stage operated in the reference year (the inputs as
given), through the one solve path and its post-check. With ``uncertainty.cvar_weight`` > 0 the
objective adds lambda CVaR_alpha of the scenario cost (:mod:`siting.solve.twostage`);
:func:`cost_distribution` draws both plans' scenario costs; :mod:`siting.out_of_sample` judges
both plans on a fresh sample.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import NoSolutionError, ScenarioError
from .inputs.inputs import SitingInputs
from .inputs.uncertainty import Uncertainty, correlated_scenarios, read_risk, read_uncertainty, uncertainty_defaults
from .model import compile_inputs
from .model.stochastic import FIRST_STAGE, StochasticModel, site_regions, two_stage
from .outputs.audit import require_clean
from .outputs.results import Plan, make_plan
from .pipeline import solve_model
from .solve import SolveOptions, Strategy, Termination, solve
from .solve.lshaped import lshaped
from .solve.twostage import (
    StochasticValues,
    TwoStageResult,
    cvar,
    expected_value_problem,
    held_bounds,
    solve_ef,
    value_of_stochastic_solution,
)

__all__ = ["METHODS", "STOCHASTIC_FILES", "scenario_set", "Stochastic", "solve_stochastic", "operate",
           "cost_distribution"]

METHODS = ("ef", "lshaped")
# the files of a stochastic output beside the plan's (out_of_sample.csv too with --out-of-sample)
STOCHASTIC_FILES = ("scenarios.csv", "value.csv", "stochastic.json", "cost_distribution.png")


def _drought_regions(inp: SitingInputs) -> list[str]:
    region = site_regions(inp)
    hydro = (inp.sites["fuel"].astype(str).str.lower().to_numpy() == "hydro" if "fuel" in inp.sites
             else np.ones(len(region), bool))
    return sorted({r for r, h in zip(region, hydro) if h and r})


def scenario_set(inp: SitingInputs, raw: dict | None, n: int | None, seed: int) -> Uncertainty:
    """The scenarios: ``n`` generated with ``seed`` when ``n`` is given (or there is no
    ``uncertainty:`` block), else the block ``raw`` checked against the sites' basins and countries.
    The risk measure (``cvar_weight``, ``cvar_alpha``) is the block's in both cases."""
    regions = site_regions(inp)
    if n is None and isinstance(raw, dict) and "scenarios" in raw:
        return read_uncertainty(raw, {r for r in regions if r})
    if n is None:
        read_risk(raw)  # a bad risk measure is named first
        raise ScenarioError("uncertainty: the scenario has no uncertainty scenarios; give --scenarios N to "
                            "generate N")
    d = uncertainty_defaults()
    risks = {r: d.risk() for r in _drought_regions(inp)}
    u = correlated_scenarios(n, risks, correlation=d.basin_correlation, growth_median=d.demand_growth_median,
                             growth_sigma=d.demand_growth_sigma, seed=seed)
    return u.model_copy(update=read_risk(raw).model_dump())  # the block's risk measure, if it has one


@dataclass(frozen=True)
class Stochastic:
    """The outcome: the two-stage model, the stochastic plan's solve, the values, the per-scenario
    table, and the stochastic plan's first stage as a :class:`Plan` (reference year)."""

    model: StochasticModel
    rp: TwoStageResult
    values: StochasticValues
    scenarios: pd.DataFrame
    plan: Plan

    def value_table(self) -> pd.DataFrame:
        v = self.values
        rows = [("RP", v.rp, "expected cost of the stochastic plan"),
                ("EV", v.ev, "optimum of the average scenario"),
                ("EEV", v.eev, "expected cost of the average-scenario plan on every scenario"),
                ("WS", v.ws, "expected cost with perfect information (each scenario its own plan)"),
                ("VSS", v.vss, "EEV - RP: what planning for the scenarios saves"),
                ("EVPI", v.evpi, "RP - WS: what knowing the scenario in advance would save")]
        ts, sc = self.model.ts, self.scenarios
        a = ts.cvar_alpha
        rows += [("CVaR_RP", cvar(sc["cost_musd"], sc["probability"], a),
                  f"mean cost of the stochastic plan's worst {1 - a:.0%} of probability (CVaR at {a:g})"),
                 ("CVaR_EV", cvar(sc["average_plan_cost_musd"], sc["probability"], a),
                  f"mean cost of the average-scenario plan's worst {1 - a:.0%} of probability (CVaR at {a:g})")]
        if ts.risk_averse:
            rows.append(("lambda", ts.cvar_weight, "RP, EEV and WS include lambda x CVaR of their scenario costs"))
        return pd.DataFrame(rows, columns=["value", "musd", "meaning"])


def operate(model: StochasticModel, s: int, x1: np.ndarray, opts: SolveOptions) -> tuple[float, float]:
    """Scenario ``s``'s whole cost and unmet MW with the first stage fixed to ``x1`` (its second
    stage re-solved; inf where ``x1`` leaves the scenario infeasible)."""
    comp = model.compiled[s]
    sf = comp.sf
    first = np.flatnonzero(model.first)
    lo, up = held_bounds(sf.col_lower, sf.col_upper, first, x1, model.ts.integer)
    r = solve(dataclasses.replace(sf, col_lower=lo, col_upper=up), dataclasses.replace(opts, strategy=Strategy.PLAIN))
    if r.x is None:
        return math.inf, math.inf
    # unmet MW as the solver left them, within its tolerance of 0 (e.g. -1e-9, shown as "-0.0"): 0
    return float(r.objective), float(np.maximum(comp.values("unmet", r.x), 0.0).sum())


def _reference_plan(inp: SitingInputs, model: StochasticModel, x1: np.ndarray, opts: SolveOptions,
                    name: str, say: Callable[[str], None]) -> Plan:
    comp = compile_inputs(inp)
    # the first stage by family (the scenarios' recourse may have columns the reference year has not,
    # e.g. train_short): each first-stage family's columns must match, key for key
    c0 = model.compiled[0]
    x_sc = model.full_x(x1, 0, np.zeros(int((~model.first).sum())))  # held (integers rounded) below
    ref_cols, sc_cols = [], []
    for fam in FIRST_STAGE:
        if (fam in comp.columns) != (fam in c0.columns) or (
                fam in comp.columns and comp.columns[fam].shape != c0.columns[fam].shape):
            raise NoSolutionError("the reference year's model has other columns than the scenarios' (a scenario "
                                  "changes which decisions exist): no plan files")
        if fam in comp.columns:
            r, c = comp.columns[fam].ravel(), c0.columns[fam].ravel()
            ref_cols.append(r[r >= 0])
            sc_cols.append(c[c >= 0])
    ref_cols, sc_cols = np.concatenate(ref_cols), np.concatenate(sc_cols)
    if ref_cols.size != sc_cols.size:
        raise NoSolutionError("the reference year's first stage differs from the scenarios': no plan files")
    sf = comp.sf
    lo, up = held_bounds(sf.col_lower, sf.col_upper, ref_cols, x_sc[sc_cols], sf.integer[ref_cols])
    done = solve_model(inp, opts, compiled=comp, sf=dataclasses.replace(sf, col_lower=lo, col_upper=up),
                       progress=say)
    if done.decisions is None:
        raise NoSolutionError("the stochastic plan cannot be operated in the reference year "
                              f"({done.report.termination})")
    plan = make_plan(inp, done.decisions, done.report, scenario_name=name, mip_gap=opts.mip_gap)
    say("post-check of the stochastic plan in the reference year: every rule recomputed from the plan's tables")
    require_clean(plan, inp)
    return plan


def solve_stochastic(inp: SitingInputs, unc: Uncertainty, opts: SolveOptions, *, method: str = "ef",
                     workers: int = 2, scheduler: str | None = None, name: str = "scenario",
                     progress: Callable[[str], None] | None = None) -> Stochastic:
    """The stochastic plan of ``inp`` over ``unc`` and what a board asks of it (module docstring)."""
    say = progress or (lambda _m: None)
    if method not in METHODS:
        raise ScenarioError(f"--method: {method!r} is not one of {', '.join(METHODS)}")
    model = two_stage(inp, unc)
    ts = model.ts
    if method == "lshaped" and ts.integer_recourse and not ts.binary_first_stage:
        integer = sorted({name for name, cols in model.compiled[0].columns.items()
                          if np.any(model.compiled[0].sf.integer[cols[cols >= 0]] & ~model.first[cols[cols >= 0]])})
        raise ScenarioError(f"--method lshaped: the recourse has integer decisions ({', '.join(integer)}) and the "
                            "first stage is not binary, so the decomposition would not be exact: use --method ef, "
                            "or a model without them (network.allow_satellite=false, demand.training_mw=0)")
    say(f"two-stage model: {ts.n_first} first-stage columns, {len(ts.scenarios)} scenarios of "
        f"{ts.scenarios[0].n_cols} columns and {ts.scenarios[0].n_rows} rows")
    # the average scenario's plan first: the extensive form starts from it, L-shaped evaluates it first
    ev = solve_ef(expected_value_problem(ts), opts, restrict=model.open_first)
    say(f"average-scenario plan: {ev.objective:,.2f} M$ ({ev.termination}, {ev.seconds:.1f} s)"
        if ev.objective is not None else f"average-scenario plan: none ({ev.termination})")
    rp = (solve_ef(ts, opts, progress=say, restrict=model.open_first, start_first=ev.x) if method == "ef"
          else lshaped(ts, opts, workers=workers, scheduler=scheduler, progress=say, start=ev.x,
                       restrict=model.open_first))
    if rp.x is None:
        raise NoSolutionError(f"no stochastic plan ({rp.termination})")
    say(f"stochastic plan: {rp.objective:,.2f} M$ expected ({rp.method}, {rp.seconds:.1f} s); "
        "the average-scenario plan and perfect information next")
    values = value_of_stochastic_solution(ts, opts, rp=rp, restrict=model.open_first, ev=ev)
    rows = []
    for s, sc in enumerate(unc.scenarios):
        cost_rp, unmet_rp = operate(model, s, rp.x, opts)
        cost_ev, unmet_ev = operate(model, s, values.x_ev, opts)
        rows.append({"scenario": sc.name, "probability": sc.probability, "cost_musd": cost_rp,
                     "unmet_mw": unmet_rp, "average_plan_cost_musd": cost_ev, "average_plan_unmet_mw": unmet_ev})
    table = pd.DataFrame(rows)
    plan = _reference_plan(inp, model, rp.x, opts, name, say)
    return Stochastic(model, rp, values, table, plan)


def within_gap(st: Stochastic) -> bool:
    return st.rp.termination == Termination.OPTIMAL


def cost_distribution(st: Stochastic, fresh: pd.DataFrame | None = None):
    """The figure of ``cost_distribution.png``: the stochastic and the average-scenario plan's
    per-scenario cost as probability-weighted distributions, in sample and (``fresh``: the
    :func:`siting.out_of_sample.evaluate_plans` table) out of sample."""
    from .outputs.plots import cost_distribution_figure

    sc = st.scenarios
    panels = [(f"in sample: {len(sc)} scenarios", sc["probability"].to_numpy(float),
               {"stochastic plan": sc["cost_musd"].to_numpy(float),
                "average-scenario plan": sc["average_plan_cost_musd"].to_numpy(float)})]
    if fresh is not None:
        panels.append((f"out of sample: {len(fresh)} fresh scenarios", fresh["probability"].to_numpy(float),
                       {"stochastic plan": fresh["stochastic_cost_musd"].to_numpy(float),
                        "average-scenario plan": fresh["average_cost_musd"].to_numpy(float)}))
    return cost_distribution_figure(panels, cvar_alpha=st.model.ts.cvar_alpha)
