"""Scenario -> plan in one call, for the CLI and notebooks: inputs, model, solve, tables."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .diagnose import diagnose
from .errors import NoSolutionError
from .inputs import SitingInputs, from_layers
from .model import build_model
from .results import Plan, make_plan, write_outputs
from .scenario import Scenario
from .solve import SolveOptions, solve_model

__all__ = ["Run", "solve_scenario", "solve_inputs", "options_from"]


@dataclass
class Run:
    scenario: Scenario
    inputs: SitingInputs
    plan: Plan

    def write(self, out: str | Path) -> Path:
        return write_outputs(self.plan, self.inputs, Path(out))


def options_from(sc: Scenario, log: bool = False) -> SolveOptions:
    s = sc.solver
    return SolveOptions(time_limit_s=s.time_limit_s, mip_gap=s.mip_gap, threads=s.threads,
                        seed=s.seed, strategy=s.strategy, restricted_time_s=s.restricted_time_s,
                        log=log)


def solve_inputs(inp: SitingInputs, opts: SolveOptions, *, name: str = "scenario",
                 description: str = "", progress: Callable[[str], None] | None = None) -> Plan:
    """Build and solve the model for ready inputs; raise :class:`NoSolutionError` if no plan."""
    say = progress or (lambda _m: None)
    problems = diagnose(inp)
    if problems:
        raise NoSolutionError("the scenario cannot be met:\n  " + "\n  ".join(problems))
    t0 = time.perf_counter()
    model = build_model(inp)
    build_s = time.perf_counter() - t0
    say(f"built the model in {build_s:.1f} s")
    report, sol = solve_model(model, opts, progress=say)
    report.build_s = build_s
    if sol is None:
        raise NoSolutionError(
            f"no plan: the solver ended '{report.termination}' without a feasible solution"
            + (" (the scenario is infeasible: enable demand.unmet_penalty_usd_per_mwh to see the "
               "shortfall, or relax latency, resilience or training limits)"
               if report.termination.startswith("infeasible") else
               " (raise --time-limit)" if report.termination == "time_limit" else ""))
    return make_plan(inp, sol, report, scenario_name=name, description=description)


def solve_scenario(sc: Scenario, *, progress: Callable[[str], None] | None = None,
                   log: bool = False) -> Run:
    """Read the layers, build the inputs, solve and return the plan (nothing written)."""
    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    inp = from_layers(sc)
    for note in inp.notes:
        say(note)
    say(f"inputs ready in {time.perf_counter() - t0:.1f} s")
    plan = solve_inputs(inp, options_from(sc, log), name=sc.name, description=sc.description,
                        progress=say)
    plan.summary["times_s"]["inputs"] = time.perf_counter() - t0 - plan.report.solve_s \
        - plan.report.compile_s - plan.report.build_s
    return Run(sc, inp, plan)
