"""Default scenario: size, build/compile/solve times and gap, lp_start vs plain HiGHS.

    python bench/default_scenario.py [--strategies lp_start,plain] [--scenario models/x.yaml]

Prints one row per strategy; the time limit and gap are the scenario's (120 s, 1 %).
"""

from __future__ import annotations

import argparse
import time

from siting.inputs.inputs import from_layers
from siting.pipeline import options_from, solve_inputs
from siting.scenario import load_scenario


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default=None)
    ap.add_argument("--strategies", default="lp_start,plain")
    ap.add_argument("--set", action="append", default=[])
    args = ap.parse_args()
    t0 = time.perf_counter()
    sc = load_scenario(args.scenario, args.set)
    inp = from_layers(sc)
    inputs_s = time.perf_counter() - t0
    print(f"scenario {sc.name}: {inp.size}; inputs {inputs_s:.2f} s")
    for note in inp.notes:
        print("  " + note)
    head = (f"{'strategy':9} {'vars':>7} {'int':>6} {'rows':>7} {'nnz':>8} {'build s':>8} {'compile s':>9} "
            f"{'solve s':>8} {'objective M$':>13} {'bound M$':>13} {'gap':>7} {'status':>10} sites")
    print(head)
    for strategy in args.strategies.split(","):
        opts = options_from(sc).__class__(**{**options_from(sc).__dict__, "strategy": strategy})
        plan = solve_inputs(inp, opts)
        r = plan.report
        gap = "n/a" if r.gap is None else f"{r.gap:.3%}"
        print(f"{strategy:9} {r.n_variables:7d} {r.n_integer:6d} {r.n_constraints:7d} {r.n_nonzeros:8d} "
              f"{r.build_s:8.2f} {r.compile_s:9.2f} {r.solve_s:8.2f} {r.objective:13,.1f} "
              f"{r.best_bound:13,.1f} {gap:>7} {r.termination:>10} {len(plan.sites)}")
        for ph in r.phases:
            obj = "n/a" if ph.objective is None else f"{ph.objective:,.1f}"
            print(f"    {ph.phase:15} {ph.termination:11} {ph.seconds:7.2f} s  objective {obj}")


if __name__ == "__main__":
    main()
