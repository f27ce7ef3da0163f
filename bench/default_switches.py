"""The default scenario before and after each switch of issue 21, cumulatively, on one table.

    python bench/default_switches.py [--threads 1] [--only 0,1,...] [--alone] [--set KEY=VALUE ...]

Each row adds one switch to the row above, from every switch off to today's default: the routed
constellation's round trips, candidates ranked by delivered cost (region by region), PUE by
climate, satellite capacity per cell (``--alone``: each switch alone on the all-off row).
Columns: objective (M$), gap, solve and inputs seconds, open sites, unmet MW, satellite MW and
its uplink Gbps, and the satellite cells the plan's satellite sites sit in, with the least
uplink headroom among them (negative: the plan overfills a cell; computed after the solve for
rows where cells are not in the model).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from siting.inputs.inputs import cell_capacities, from_layers, site_cells
from siting.pipeline import options_from, solve_inputs
from siting.scenario import load_scenario

# The default since issue 21 has every switch on; "before" pins them off (dry-year hydro, the
# route stretch and training traffic were already the default). Row i lifts the first i pins.
PINS = [("+ leo_model: constellation", "network.leo_model=formula"),
        ("+ rank_by: cost", "candidates.rank_by=firm_mw"),
        ("+ climate: true", "facility.climate=false"),
        ("+ cell_capacity: true (the default)", "network.cell_capacity=false")]
SWITCHES = [("before: every switch off", [p for _, p in PINS])] + [
    (name, [p for _, p in PINS[i + 1:]]) for i, (name, _) in enumerate(PINS)]


def cell_use(plan, sc):
    """(cells used by the plan's satellite sites, least uplink headroom Gbps among them)."""
    s = plan.sites[plan.sites["satellite_mw"] > 1e-6]
    if s.empty:
        return 0, float("nan")
    net = sc.network
    cells = site_cells(s["longitude"], s["latitude"], net)
    cap = cell_capacities(cells, s["site_id"], net)
    up = np.bincount(cells.position, s["satellite_mw"].to_numpy() * net.inference_up_gbps_per_mw, len(cap))
    return len(cap), float((cap[:, 0] - up).min())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--only", default=None)
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--alone", action="store_true", help="each switch alone on the all-off row (not cumulative)")
    args = ap.parse_args()
    rows = range(len(SWITCHES)) if args.only is None else map(int, args.only.split(","))
    print(f"load {os.getloadavg()[0]:.1f}, threads {args.threads}")
    print(f"{'variant':32} {'objective M$':>13} {'gap':>7} {'solve s':>7} {'inputs s':>8} {'sites':>5} "
          f"{'unmet MW':>8} {'sat MW':>7} {'sat up Gbps':>11} {'cells':>5} {'min headroom':>12}", flush=True)
    for i in rows:
        pins = ([p for j, (_, p) in enumerate(PINS) if j != i - 1] if args.alone and i else SWITCHES[i][1])
        over = pins + [f"solver.threads={args.threads}"] + args.set
        t0 = time.perf_counter()
        sc = load_scenario(None, over)
        inp = from_layers(sc)
        inputs_s = time.perf_counter() - t0
        plan = solve_inputs(inp, options_from(sc))
        r, s = plan.report, plan.sites
        sat_mw = float(s["satellite_mw"].sum())
        n_cells, head = cell_use(plan, sc)
        gap = "n/a" if r.gap is None else f"{r.gap:.3%}"
        print(f"{SWITCHES[i][0]:32} {r.objective:13,.1f} {gap:>7} {r.solve_s:7.1f} {inputs_s:8.1f} {len(s):5d} "
              f"{float(plan.regions['unmet_mw'].sum()):8.1f} {sat_mw:7.1f} "
              f"{sat_mw * sc.network.inference_up_gbps_per_mw:11.1f} {n_cells:5d} {head:12.2f}  "
              f"load {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
