"""Scenario -> plan in one call, for the CLI and notebooks: inputs, model, solve, tables."""

from __future__ import annotations

import dataclasses
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .diagnose import diagnose
from .errors import NoSolutionError, show_id
from .inputs import SitingInputs, from_layers
from .model import build_model
from .outdir import Written
from .results import Plan, make_plan, write_outputs
from .scenario import Scenario
from .solve import SolveOptions, solve_model

__all__ = ["Run", "solve_scenario", "solve_inputs", "options_from", "run_info"]


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


def solve_inputs(inp: SitingInputs, opts: SolveOptions, *, name: str = "scenario",
                 description: str = "", progress: Callable[[str], None] | None = None,
                 inputs_s: float | None = None, run: dict | None = None) -> Plan:
    """Build and solve the model for ready inputs; raise :class:`NoSolutionError` if no plan."""
    say = progress or (lambda _m: None)
    findings = diagnose(inp)
    errors = [f.message for f in findings if f.severity == "error"]
    for f in findings:
        if f.severity != "error":
            say(str(f))
    if errors:
        raise NoSolutionError("the scenario cannot be met:\n  " + _lines(errors))
    t0 = time.perf_counter()
    model = build_model(inp)
    build_s = time.perf_counter() - t0
    say(f"built the model in {build_s:.1f} s")
    report, sol = solve_model(model, opts, progress=say)
    report.build_s = build_s
    if sol is None:
        if report.termination.startswith("infeasible"):
            raise NoSolutionError(explain_infeasible(inp, opts, say))
        raise NoSolutionError(
            f"no plan: the solver ended '{report.termination}' without a feasible solution"
            + (" (raise --time-limit)" if report.termination == "time_limit" else ""))
    return make_plan(inp, sol, report, scenario_name=name, description=description,
                     inputs_s=inputs_s, run=run)


def _lines(items: list[str], most: int = 12) -> str:
    """One item per line, at most ``most`` of them and a count of the rest."""
    shown = items[:most] + ([f"... and {len(items) - most} more"] if len(items) > most else [])
    return "\n  ".join(shown)


def explain_infeasible(inp: SitingInputs, opts: SolveOptions, say) -> str:
    """Re-solve with every region's demand made elastic and name the regions left short."""
    big = 10.0 * (max(sum(inp.site_cost_musd.values()).max(initial=0.0)
                      + sum(inp.fiber_cost_musd.values()).max(initial=0.0)
                      + sum(inp.sat_unit_cost_musd.values()).max(initial=0.0), 1.0)
                  + sum(inp.it_cost_musd.values()).max(initial=0.0)
                  + np.max(inp.arcs["cost_musd_per_mw"].to_numpy(float), initial=0.0))
    say("infeasible: re-solving with elastic demand to find what to relax")
    report, sol = solve_model(build_model(dataclasses.replace(inp, unmet_cost_musd_per_mw=big)),
                              dataclasses.replace(opts, strategy="plain"))
    head = "the scenario is infeasible"
    if sol is None:
        return (f"{head}, even with every region's demand elastic: the training load "
                f"({inp.training_mw:g} MW in clusters of >= {inp.training_min_cluster_mw:g} MW) "
                "cannot be placed; lower demand.training_mw or the minimum cluster, or add power")
    short = sol["unmet"]
    reg = inp.regions
    rows = [f"region {show_id(reg['region_id'].iloc[i])} ({reg['name'].iloc[i]}) short "
            f"{short[i]:,.1f} of {reg['inference_mw'].iloc[i]:,.1f} MW"
            for i in np.flatnonzero(short > 1e-6)]
    return (f"{head}; with elastic demand these regions stay short:\n  " + _lines(rows)
            + "\nrelax their latency limit or demand.resilience_max_share, add candidate power "
              "near them, or set demand.unmet_penalty_usd_per_mwh to plan with a priced shortfall")


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
    inp = from_layers(sc)
    inputs_s = time.perf_counter() - t0
    for note in inp.notes:
        say(note)
    say(f"inputs ready in {inputs_s:.1f} s")
    plan = solve_inputs(inp, options_from(sc, log), name=sc.name, description=sc.description,
                        progress=say, inputs_s=inputs_s, run=run if run is not None else run_info())
    return Run(sc, inp, plan)
