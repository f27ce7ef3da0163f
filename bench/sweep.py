"""Sweep speed-up: the same ``siting sweep`` on the embedded 2-worker cluster and on 1 worker.

    python bench/sweep.py [--out results/bench-sweep] [--time-limit 60] [--workers 2] [-- extra siting args]

Default grid (24 variants of the default scenario, 4 structure groups of 6, so 20 variants are
cost-only and re-solved in place): satellite price 0.05/0.2/1.0 M$ per Gbps-year x carbon price
0/190 $/tCO2 x latency limit 50/75/100/150 ms. Both runs use ``--no-cache`` and run back to back;
the load average is printed beside each wall time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

GRID = ["--vary", "network.sat_price_musd_per_gbps_year=0.05,0.2,1.0",
        "--vary", "energy.carbon_price_usd_per_tco2=0,190",
        "--vary", "demand.latency_ms=50,75,100,150"]


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return "n/a"


def run(out: Path, workers: int, time_limit: float, extra: list[str]) -> float:
    cmd = ["siting", "sweep", *GRID, "--out", str(out), "--workers", str(workers), "--no-cache", "--quiet",
           "--time-limit", str(time_limit), *extra]
    print(f"$ {' '.join(cmd)}\n  load before: {loadavg()}", flush=True)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    print(done.stdout[-4000:], done.stderr[-2000:], sep="\n", flush=True)
    summary = json.loads((out / "sweep.json").read_text())
    print(f"  workers {workers}: wall {wall:.1f} s (exit {done.returncode}); {summary}\n  load after: {loadavg()}\n",
          flush=True)
    return wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="results/bench-sweep")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("extra", nargs="*")
    args = ap.parse_args()
    out = Path(args.out)
    parallel = run(out.with_name(out.name + f"-{args.workers}w"), args.workers, args.time_limit, args.extra)
    sequential = run(out.with_name(out.name + "-1w"), 1, args.time_limit, args.extra)
    print(f"speed-up {args.workers} workers vs 1: {sequential:.1f} s / {parallel:.1f} s = {sequential / parallel:.2f}x",
          file=sys.stdout)


if __name__ == "__main__":
    main()
