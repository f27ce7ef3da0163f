"""In-place re-solve vs rebuild: cost changes in a row on the default scenario.

    python bench/resolve.py [--changes 10] [--set candidates.max_count=100 ...] [--time-limit 120]

For each change (satellite price, carbon price, discount rate, ... one after another) it runs
the rebuild path (inputs, Pyomo build, compile, ``lp_start`` solve) and the in-place path
(inputs, the new cost vector, HiGHS ``changeColsCost`` on the kept problem, solve from the
previous plan) and prints the seconds of each step and both objectives.
"""

from __future__ import annotations

import argparse
import time

from siting.inputs.inputs import from_layers
from siting.model import build_model, compile_model, in_place_update, structure_key
from siting.pipeline import options_from, solve_report
from siting.scenario import load_scenario
from siting.solve import Reoptimizer

CHANGES = ["network.sat_price_musd_per_gbps_year=0.02", "energy.carbon_price_usd_per_tco2=190",
           "money.discount_rate=0.05", "network.sat_price_musd_per_gbps_year=0.005",
           "facility.site_fixed_musd=200", "energy.carbon_price_usd_per_tco2=50",
           "network.fiber_build_usd_per_km=60000", "money.discount_rate=0.10",
           "facility.staff_usd_per_fte_year=200000", "network.sat_price_musd_per_gbps_year=0.1"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--changes", type=int, default=10)
    ap.add_argument("--time-limit", type=float, default=None)
    args = ap.parse_args()
    base = args.set + ([f"solver.time_limit_s={args.time_limit}"] if args.time_limit else [])
    sc = load_scenario(None, base)
    opts = options_from(sc)
    inp = from_layers(sc)
    t = time.perf_counter()
    comp = compile_model(build_model(inp))
    reopt = Reoptimizer(comp.sf, opts, restrict=comp.open_mask)  # kept in HiGHS for every change
    first = reopt.solve()  # no start yet: the default strategy (lp_start) finds the first plan
    print(f"scenario {inp.size}; first solve ({opts.strategy}) {time.perf_counter() - t:.1f} s, "
          f"objective {first.objective:,.1f} ({first.termination})")
    print(f"load average {open('/proc/loadavg').read().split()[:3]}")
    print(f"{'change':46} | {'rebuild: inputs build compile solve':>36} {'objective':>11} | "
          f"{'in place: inputs update solve':>30} {'objective':>11} {'speed-up':>8}")
    x, overrides = first.x, list(base)
    for change in CHANGES[: args.changes]:
        overrides.append(change)
        t0 = time.perf_counter()
        new = from_layers(load_scenario(None, overrides))
        t1 = time.perf_counter()
        rebuilt, _ = solve_report(new, opts)
        rebuild = (t1 - t0) + rebuilt.build_s + rebuilt.compile_s + rebuilt.solve_s
        t2 = time.perf_counter()
        new = from_layers(load_scenario(None, overrides))
        t3 = time.perf_counter()
        assert structure_key(new) == structure_key(inp), change
        c, rows = in_place_update(comp, new)
        reopt.set_costs(c)
        for r, lo, up in rows:
            reopt.set_row_bounds(r, lo, up)
        t4 = time.perf_counter()
        again = reopt.solve(start=x)
        x = again.x if again.x is not None else x
        in_place = (t3 - t2) + (t4 - t3) + again.solve_s
        print(f"{change:46} | {t1 - t0:6.2f} {rebuilt.build_s:6.2f} {rebuilt.compile_s:6.2f} "
              f"{rebuilt.solve_s:7.1f} = {rebuild:6.1f} {rebuilt.objective or float('nan'):11,.1f} | "
              f"{t3 - t2:6.2f} {t4 - t3:6.3f} {again.solve_s:7.1f} = {in_place:6.1f} "
              f"{again.objective or float('nan'):11,.1f} {rebuild / in_place:7.1f}x")


if __name__ == "__main__":
    main()
