"""Scenario -> plan in one call, for the CLI and notebooks: inputs, model, solve, tables."""

from __future__ import annotations

import dataclasses
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .decisions import Decisions
from .diagnose import _lines, diagnose, elastic, explain_infeasible, grouped
from .errors import NoSolutionError
from .estimate import check_fits, estimate
from .inputs import SitingInputs, from_layers
from .model import compile_inputs, read_decisions
from .outdir import Written
from .results import Plan, make_plan, write_outputs
from .scenario import Scenario
from .solve import SolveOptions, SolveReport, Termination, solve

__all__ = ["Run", "solve_scenario", "solve_inputs", "solve_report", "options_from", "run_info"]


@dataclass
class Run:
    scenario: Scenario
    inputs: SitingInputs
    plan: Plan

    def write(self, out: str | Path, run_id: str | None = None) -> Written:
        """Write the plan's files (and the resolved scenario) into ``out``; see :mod:`siting.outdir`."""
        return write_outputs(self.plan, self.inputs, Path(out), scenario=self.scenario, run_id=run_id)


def options_from(sc: Scenario, log: bool = False) -> SolveOptions:
    s = sc.solver
    return SolveOptions(time_limit_s=s.time_limit_s, mip_gap=s.mip_gap, threads=s.threads,
                        seed=s.seed, strategy=s.strategy, restricted_time_s=s.restricted_time_s,
                        log=log)


def solve_report(inp: SitingInputs, opts: SolveOptions, *,
                 progress: Callable[[str], None] | None = None) -> tuple[SolveReport, Decisions | None]:
    """Build, compile and solve the model: the solver's report and the plan's decisions."""
    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    comp = compile_inputs(inp)
    build_s = time.perf_counter() - t0 - comp.sf.seconds  # the Pyomo build (0 when assembled)
    how = "assembled (numpy)" if comp.built_by == "numpy" else f"built (Pyomo) in {build_s:.1f} s and compiled"
    say(f"{how} {comp.sf.shape[0]:,} rows x {comp.sf.shape[1]:,} columns "
        f"({int(comp.sf.integer.sum()):,} integer) in {comp.sf.seconds:.1f} s")
    report = dataclasses.replace(solve(comp.sf, opts, restrict=comp.open_mask, progress=say), build_s=build_s)
    return report, (None if report.x is None else read_decisions(comp, inp, report.x))


def solve_inputs(inp: SitingInputs, opts: SolveOptions, *, name: str = "scenario",
                 description: str = "", progress: Callable[[str], None] | None = None,
                 inputs_s: float | None = None, run: dict | None = None) -> Plan:
    """Build and solve the model for ready inputs; raise :class:`NoSolutionError` if no plan."""
    say = progress or (lambda _m: None)
    findings = diagnose(inp)
    errors = [f.message for f in findings if f.severity == "error"]
    for line in grouped([str(f) for f in findings if f.severity != "error"]):
        say(line)
    if errors:
        raise NoSolutionError("the scenario cannot be met:\n  " + _lines(errors))
    est = estimate(inp)
    check_fits(est)  # refuse, with the numbers, a model that cannot fit in memory
    say(est.line())
    report, dec = solve_report(inp, opts, progress=say)
    if report.x is None:
        if report.termination in (Termination.INFEASIBLE, Termination.INFEASIBLE_OR_UNBOUNDED):
            say("infeasible: re-solving with elastic demand to find what to relax")
            _, short = solve_report(elastic(inp), dataclasses.replace(opts, strategy="plain"))
            raise NoSolutionError(explain_infeasible(inp, None if short is None else short.unmet_mw))
        if report.termination == Termination.MODEL_EMPTY:
            raise NoSolutionError("no plan: the model is empty (no candidate site and no demand)")
        raise NoSolutionError(
            f"no plan: the solver ended '{report.termination}' without a feasible solution"
            + (" (raise --time-limit)" if report.termination == Termination.TIME_LIMIT else ""))
    return make_plan(inp, dec, report, scenario_name=name,
                     description=description, inputs_s=inputs_s, run=run)


def run_info(scenario_file: str | Path | None = None, overrides=()) -> dict:
    """Where a run came from: scenario file, every override, versions and the machine's cores."""
    from importlib.metadata import version

    from .scenario import DEFAULT_SCENARIO

    return {"scenario_file": str(scenario_file or DEFAULT_SCENARIO), "overrides": list(overrides),
            "siting_version": version("siting"), "highspy_version": version("highspy"),
            "pyomo_version": version("pyomo"), "python": platform.python_version(),
            "cpu_count": os.cpu_count()}


def solve_scenario(sc: Scenario, *, progress: Callable[[str], None] | None = None,
                   log: bool = False, run: dict | None = None) -> Run:
    """Read the layers, build the inputs, solve and return the plan (nothing written)."""
    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    inp = from_layers(sc, progress=say)
    inputs_s = time.perf_counter() - t0
    for note in inp.notes:
        say(note)
    say(f"inputs ready in {inputs_s:.1f} s")
    plan = solve_inputs(inp, options_from(sc, log), name=sc.name, description=sc.description,
                        progress=say, inputs_s=inputs_s, run=run if run is not None else run_info())
    return Run(sc, inp, plan)
