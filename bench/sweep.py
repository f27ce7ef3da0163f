"""Sweep speed-up: the same ``siting sweep`` on the embedded 2-worker cluster and on 1 worker.

    python bench/sweep.py [--out results/bench-sweep] [--time-limit 60] [--workers 2] [--grid mixed|prices]
                          [--runs 2,1] [-- extra siting args]
    python bench/sweep.py --inputs-only [--scenario models/full.yaml] [--grid prices]

Default grid (``mixed``: 24 variants of the default scenario, 4 structure groups of 6, so 20
variants are cost-only and re-solved in place): satellite price 0.05/0.2/1.0 M$ per Gbps-year x
carbon price 0/190 $/tCO2 x latency limit 50/75/100/150 ms. ``prices``: the first two axes only
(6 variants, one geography: it is read once and each variant priced on it). Both runs use
``--no-cache`` and run back to back; the load average is printed beside each wall time, and the
variants' ``inputs_s`` (geography + prices) from sweep.csv.

``--inputs-only``: no solve; the inputs of every variant of the grid made as a sweep makes them
(one :func:`siting.inputs.inputs.read_geography` per :func:`siting.inputs.pricing.geography_key`, then
:func:`siting.inputs.inputs.priced` per variant) against :func:`siting.inputs.inputs.from_layers` per variant.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

PRICES = {"network.sat_price_musd_per_gbps_year": ["0.05", "0.2", "1.0"],
          "energy.carbon_price_usd_per_tco2": ["0", "190"]}
GRIDS = {"prices": PRICES, "mixed": PRICES | {"demand.latency_ms": ["50", "75", "100", "150"]}}


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return "n/a"


def vary_args(grid: dict) -> list[str]:
    return [a for key, values in grid.items() for a in ("--vary", f"{key}={','.join(values)}")]


def run(out: Path, workers: int, time_limit: float, grid: dict, extra: list[str]) -> float:
    cmd = ["siting", "sweep", *vary_args(grid), "--out", str(out), "--workers", str(workers), "--no-cache",
           "--quiet", "--time-limit", str(time_limit), *extra]
    print(f"$ {' '.join(cmd)}\n  load before: {loadavg()}", flush=True)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    print(done.stdout[-4000:], done.stderr[-2000:], sep="\n", flush=True)
    summary = json.loads((out / "sweep.json").read_text())
    table = pd.read_csv(out / "sweep.csv")
    inputs = table["inputs_s"].to_numpy(float)
    print(f"  inputs_s per variant: sum {inputs.sum():.2f} s, max {inputs.max():.3f} s, "
          f"median {pd.Series(inputs).median():.3f} s ({', '.join(f'{v:.3f}' for v in inputs)})")
    print(f"  workers {workers}: wall {wall:.1f} s (exit {done.returncode}); {summary}\n  load after: {loadavg()}\n",
          flush=True)
    return wall


def inputs_only(scenario: str | None, grid: dict) -> None:
    """Time the inputs of every variant: from_layers each, then as the sweep makes them."""
    from siting.inputs import inputs
    from siting.scenario import load_scenario

    variants = [dict(zip(grid, combo)) for combo in itertools.product(*grid.values())]
    scenarios = [load_scenario(scenario, [f"{k}={v}" for k, v in values.items()]) for values in variants]
    print(f"{len(scenarios)} variants of {scenario or 'the default scenario'}; load before: {loadavg()}", flush=True)
    t0 = time.perf_counter()
    each = []
    for sc in scenarios:
        t = time.perf_counter()
        inputs.from_layers(sc)
        each.append(time.perf_counter() - t)
    alone = time.perf_counter() - t0
    print(f"  from_layers per variant: {alone:.2f} s ({', '.join(f'{v:.2f}' for v in each)})", flush=True)
    if not hasattr(inputs, "read_geography"):
        print(f"  (this siting has no read_geography: every variant reads its geography)\n  load after: {loadavg()}")
        return
    from siting.inputs.pricing import geography_key

    t0 = time.perf_counter()
    geos, priced = {}, []
    for sc in scenarios:
        key = geography_key(sc)
        if key not in geos:
            t = time.perf_counter()
            geos[key] = inputs.read_geography(sc)
            print(f"  read_geography: {time.perf_counter() - t:.2f} s", flush=True)
        t = time.perf_counter()
        inputs.priced(geos[key], sc)
        priced.append(time.perf_counter() - t)
    shared = time.perf_counter() - t0
    print(f"  shared geography: {shared:.2f} s in all ({len(geos)} read; priced per variant "
          f"{', '.join(f'{1e3 * v:.1f}' for v in priced)} ms); {alone / shared:.1f}x\n  load after: {loadavg()}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="results/bench-sweep")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--grid", choices=list(GRIDS), default="mixed")
    ap.add_argument("--runs", default=None, help="worker counts to run, e.g. 2 or 2,1 (default: --workers, then 1)")
    ap.add_argument("--inputs-only", action="store_true")
    ap.add_argument("--scenario", default=None, help="with --inputs-only: the scenario file (default: built-in)")
    ap.add_argument("extra", nargs="*")
    args = ap.parse_args()
    grid = GRIDS[args.grid]
    if args.inputs_only:
        inputs_only(args.scenario, grid)
        return
    out = Path(args.out)
    runs = [int(w) for w in (args.runs or f"{args.workers},1").split(",")]
    walls = {w: run(out.with_name(out.name + f"-{args.grid}-{w}w"), w, args.time_limit, grid, args.extra) for w in runs}
    if len(walls) == 2:
        (a, pa), (b, pb) = walls.items()
        print(f"speed-up {a} workers vs {b}: {pb:.1f} s / {pa:.1f} s = {pb / pa:.2f}x", file=sys.stdout)


if __name__ == "__main__":
    main()
