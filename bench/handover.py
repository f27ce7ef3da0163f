"""How to hand a Pyomo model to HiGHS: compiled standard form vs LP file vs Pyomo's interfaces.

    python bench/handover.py [--set demand.latency_ms=150]

Times the LP relaxation of the default scenario's model through each path (transfer + solve;
the solve itself is the same HiGHS LP solve), so the differences are the hand-over costs.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import highspy
import pyomo.environ as pyo

from siting.inputs.inputs import from_layers
from siting.model import build_model, compile_model
from siting.scenario import load_scenario
from siting.solve import SolveOptions, solve


def relaxed(inp):
    m = build_model(inp)
    pyo.TransformationFactory("core.relax_integer_vars").apply_to(m)
    return m


def via_standard_form(inp):
    m = relaxed(inp)
    t = time.perf_counter()
    report = solve(compile_model(m).sf, SolveOptions(threads=1, strategy="plain"))
    return time.perf_counter() - t, report.objective


def via_lp_file(inp):
    m = relaxed(inp)
    t = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "model.lp")
        m.write(path, io_options={"symbolic_solver_labels": False})
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.readModel(path)
        h.run()
    return time.perf_counter() - t, h.getInfo().objective_function_value


def via_solver(name):
    def run(inp):
        m = relaxed(inp)
        t = time.perf_counter()
        pyo.SolverFactory(name).solve(m)
        return time.perf_counter() - t, pyo.value(m.cost)
    return run


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    inp = from_layers(load_scenario(None, args.set))
    print(f"default scenario {inp.size}; LP relaxation, one thread; best of {args.repeat} after a "
          "warm-up run of every path")
    print(f"{'path':34} {'seconds':>8} {'objective M$':>14}")
    for name, fn in (("standard form -> highspy (ours)", via_standard_form),
                     ("LP file -> highspy", via_lp_file),
                     ("pyomo appsi_highs", via_solver("appsi_highs")),
                     ("pyomo highs (contrib)", via_solver("highs"))):
        try:
            fn(inp)  # warm-up: Pyomo's writers and HiGHS pay a first-call cost
            runs = [fn(inp) for _ in range(args.repeat)]
            sec, obj = min(runs)
            print(f"{name:34} {sec:8.2f} {obj:14,.1f}")
        except Exception as exc:  # a path missing on this machine is reported, not fatal
            print(f"{name:34} failed: {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    main()
