"""SSLP through the project's stochastic path: every instance of ../shared/data/sslp read by
siting.inputs.sslp, stated by siting.model.sslp, solved by the extensive form (HiGHS alone) and by
the multi-cut L-shaped decomposition on an embedded Dask LocalCluster with 2 workers, then with
1 worker back to back (speed-up); each value checked against the published optimum (1e-6 relative).

    python bench/sslp.py [--instances sslp_5_25_50 ...] [--workers 2 1] [--cuts strengthened]
                         [--no-warm] [--no-lp-phase] [--skip-ef] [--time-limit 900]

Prints one row per instance and solve, with the load (1-minute average) at its start.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "sslp"


def published() -> dict[str, float]:
    with open(DATA / "optima.csv", newline="") as fh:
        return {r["instance"]: float(r["published_optimum"]) for r in csv.DictReader(fh)}


def main() -> int:
    from siting.inputs.sslp import instance_names, read_instance
    from siting.model.sslp import two_stage
    from siting.solve import SolveOptions
    from siting.solve.lshaped import lshaped
    from siting.solve.twostage import solve_ef

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", nargs="*", default=None)
    ap.add_argument("--workers", nargs="*", type=int, default=[2, 1])
    ap.add_argument("--cuts", default="strengthened")
    ap.add_argument("--no-warm", action="store_true")
    ap.add_argument("--no-lp-phase", action="store_true")
    ap.add_argument("--kelley", action="store_true", help="no in-out stabilisation of the LP phase")
    ap.add_argument("--skip-ef", action="store_true")
    ap.add_argument("--time-limit", type=float, default=900.0)
    ap.add_argument("--progress", action="store_true")
    a = ap.parse_args()
    if not DATA.is_dir():
        print(f"no SSLP data at {DATA}", file=sys.stderr)
        return 2
    opts = SolveOptions(time_limit_s=a.time_limit, mip_gap=1e-9, threads=1)
    pub = published()
    say = print if a.progress else None
    print(f"# SSLP, HiGHS 1 thread per solve, gap 1e-9, cuts={a.cuts}, warm={not a.no_warm}, "
          f"lp_phase={not a.no_lp_phase}, {os.cpu_count()} cores; load = 1-min load average at the start")
    print(f"{'instance':14} {'published':>10} {'method':28} {'value':>11} {'rel.err':>8} {'bound':>11} "
          f"{'time s':>7} {'iters':>5} {'workers':>7} {'load':>5}")
    ok = True
    for name in a.instances or instance_names(DATA):
        ts = two_stage(read_instance(DATA / name))
        runs = [] if a.skip_ef else [("extensive form (HiGHS)", None)]
        runs += [(f"L-shaped, Dask {w} worker(s)", w) for w in a.workers]
        for label, w in runs:
            load = os.getloadavg()[0]
            t = time.perf_counter()
            if w is None:
                r = solve_ef(ts, opts, progress=say)
            else:
                r = lshaped(ts, opts, workers=w, cuts=a.cuts, warm=not a.no_warm, lp_phase=not a.no_lp_phase,
                            stabilize=not a.kelley,
                            progress=say)
            wall = time.perf_counter() - t
            err = abs(r.objective - pub[name]) / abs(pub[name]) if r.objective is not None else float("inf")
            ok &= err <= 1e-6
            bound = f"{r.bound:11.4f}" if r.bound is not None else f"{'-':>11}"
            val = f"{r.objective:11.4f}" if r.objective is not None else f"{'-':>11}"
            print(f"{name:14} {pub[name]:10.2f} {label:28} {val} {err:8.1e} {bound} {wall:7.1f} "
                  f"{r.iterations:5d} {r.workers if w else '-':>7} {load:5.1f}  {r.termination}"
                  + (f"  (master {r.master_s:.1f} s, waiting on scenarios {r.scenarios_s:.1f} s)" if w else ""),
                  flush=True)
    print("all within 1e-6 of the published optima" if ok else "SOME VALUE MISSES ITS PUBLISHED OPTIMUM")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
