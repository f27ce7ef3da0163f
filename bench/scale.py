"""Planet-scale benchmark: every strategy on the same instances and budget, one fresh process each.

    nice -n 10 python bench/scale.py [--strategy plain,lp_start] [--time-limit 600] [--threads 1]
                                     [--sizes 100x1000,300x3000,1000x10000] [--only REGEX] [--mip-gap 1e-4]
                                     [--warm-start 250:120]

Instances (``--only`` is a regular expression on their names):

- ``gen_<K>x<R>``: :func:`siting.inputs.instances.generate` (seed 0) at each ``--sizes`` entry;
- ``layers_all_sites``: every merged source x the default's 150 metro regions (``models/default.yaml``
  with ``candidates.max_count`` and ``min_firm_mw`` lifted), whose plan must be no worse than the default's;
- ``layers_full``: every merged source x every metro region (``models/full.yaml``);
- ``capa_*``, ``capb_*``, ``capc_*``: the hard OR-Library variants (``optima.csv``), solved to
  ``mip_rel_gap`` 1e-9 so the objective can be compared with the published optimum.

Each instance x strategy runs in a child process (peak memory is that process's ``ru_maxrss``, so
peaks never accumulate) through :func:`siting.pipeline.solve_report`: build (Pyomo), transfer
(standard-form compile to arrays), solve. Strategies are read from ``siting.solve.STRATEGIES``
at run time (default: every registered one). ``--warm-start N:S`` solves each instance through
:func:`siting.pipeline.solve_from_subset` (its first N candidates within S seconds, then all of them
from that plan; the ``subset`` column is that plan's cost). The table is printed row by row.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORLIB = ROOT.parent / "shared" / "data" / "orlib_cap"
HARD_CAP = r"cap[abc]_"


def instance_names(sizes: list[tuple[int, int]], data: Path) -> list[str]:
    import pandas as pd

    names = [f"gen_{k}x{r}" for k, r in sizes] + ["layers_all_sites", "layers_full"]
    optima = data / "optima.csv"
    if optima.exists():
        names += [n for n in pd.read_csv(optima)["instance"] if re.match(HARD_CAP, n)]
    return names


def instance_inputs(name: str, data: Path):
    """The SitingInputs of an instance name, and its known optimum (or None)."""
    if name.startswith("gen_"):
        from siting.inputs.instances import generate

        k, r = map(int, name.removeprefix("gen_").split("x"))
        return generate(k, r, seed=0), None
    if name.startswith("layers_"):
        from siting.inputs.inputs import from_layers
        from siting.scenario import load_scenario

        if name == "layers_full":
            sc = load_scenario(ROOT / "models" / "full.yaml")
        else:
            sc = load_scenario(None, ["candidates.max_count=100000", "candidates.min_firm_mw=0"])
        return from_layers(sc), None
    import pandas as pd

    from siting.inputs.orlib import read_cap

    row = pd.read_csv(data / "optima.csv").set_index("instance").loc[name]
    cap = None if pd.isna(row["capacity"]) else float(row["capacity"])
    return read_cap(data / row["file"], cap).to_inputs(), float(row["optimal_value"])


def child(name: str, strategy: str, time_limit: float, threads: int, mip_gap: float, data: Path,
          warm: str | None, restricted_s: float = 20.0) -> None:
    """One instance x strategy in this process; prints one JSON line and exits at once (a HiGHS
    thread left behind at the deadline must not keep the process alive)."""
    import resource

    from siting.pipeline import solve_from_subset, solve_report
    from siting.scenario import WarmStart
    from siting.solve import SolveOptions

    t0 = time.perf_counter()
    inp, optimum = instance_inputs(name, data)
    inputs_s = time.perf_counter() - t0
    gap = min(mip_gap, 1e-9) if optimum is not None else mip_gap
    opts = SolveOptions(time_limit_s=time_limit, mip_gap=gap, threads=threads, seed=0, strategy=strategy,
                        restricted_time_s=restricted_s)
    if warm:
        n, secs = warm.split(":")
        rep, _ = solve_from_subset(inp, opts, WarmStart(candidates=int(n), time_s=float(secs)))
    else:
        rep, _ = solve_report(inp, opts)
    subset = rep.phases[0].objective if rep.phases and rep.phases[0].phase == "subset" else None
    out = dict(arcs=len(inp.arcs), inputs_s=inputs_s, variables=rep.n_variables, rows=rep.n_constraints,
               nonzeros=rep.n_nonzeros, integer=rep.n_integer, build_s=rep.build_s, transfer_s=rep.compile_s,
               solve_s=rep.solve_s, objective=rep.objective, bound=rep.best_bound, gap=rep.gap,
               status=str(rep.termination), optimum=optimum, subset=subset,
               peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)


HEADER = (f"{'instance':17} {'strategy':9} {'arcs':>8} {'vars':>8} {'rows':>8} {'nonzeros':>9} {'int':>6} "
          f"{'inputs s':>8} {'build s':>7} {'xfer s':>6} {'solve s':>7} {'peak MB':>7} {'objective':>15} "
          f"{'bound':>15} {'gap':>8} {'status':>10} {'vs optimum':>10} {'subset':>15}")


def _num(v, fmt: str, width: int) -> str:
    return f"{'-':>{width}}" if v is None else f"{v:{width}{fmt}}"


def row(name: str, strategy: str, r: dict) -> str:
    vs = "" if r.get("optimum") is None or r["objective"] is None else \
        f"{(r['objective'] - r['optimum']) / abs(r['optimum']):10.1e}"
    return (f"{name:17} {strategy:9} {r['arcs']:8,d} {r['variables']:8,d} {r['rows']:8,d} {r['nonzeros']:9,d} "
            f"{r['integer']:6,d} {r['inputs_s']:8.1f} {r['build_s']:7.1f} {r['transfer_s']:6.1f} {r['solve_s']:7.1f} "
            f"{r['peak_mb']:7.0f} {_num(r['objective'], ',.1f', 15)} {_num(r['bound'], ',.1f', 15)} "
            f"{_num(None if r['gap'] is None else 100 * r['gap'], '.3f', 7)}{'' if r['gap'] is None else '%'} "
            f"{r['status']:>10} {vs:>10} {_num(r.get('subset'), ',.1f', 15)}")


def main() -> int:
    from siting.solve import STRATEGIES

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strategy", default=",".join(STRATEGIES),
                    help=f"comma-separated, from siting.solve.STRATEGIES ({', '.join(STRATEGIES)})")
    ap.add_argument("--time-limit", type=float, default=600.0, help="per instance and strategy, s")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--mip-gap", type=float, default=1e-4, help="relative gap target (OR-Library: 1e-9)")
    ap.add_argument("--sizes", default="100x1000,300x3000,1000x10000", help="generated (sites x regions)")
    ap.add_argument("--only", default="", help="regular expression on instance names")
    ap.add_argument("--data", type=Path, default=ORLIB, help="OR-Library CAP folder with optima.csv")
    ap.add_argument("--warm-start", default=None, metavar="N:S",
                    help="solve the first N candidates within S s first, then all from that plan")
    ap.add_argument("--restricted-time", type=float, default=20.0,
                    help="lp_start's budget for the MIP restricted to the LP's sites, s (solver.restricted_time_s)")
    ap.add_argument("--child", nargs=2, metavar=("INSTANCE", "STRATEGY"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child, args.time_limit, args.threads, args.mip_gap, args.data, args.warm_start,
              args.restricted_time)
    strategies = [s for s in args.strategy.split(",") if s]
    unknown = [s for s in strategies if s not in STRATEGIES]
    if unknown:
        ap.error(f"unknown strategy {', '.join(unknown)} (registered: {', '.join(STRATEGIES)})")
    sizes = [tuple(map(int, s.split("x"))) for s in args.sizes.split(",") if s]
    names = [n for n in instance_names(sizes, args.data) if re.search(args.only, n)]
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores; "
          f"time limit {args.time_limit:g} s, {args.threads} thread(s), mip_gap {args.mip_gap:g} "
          f"(OR-Library 1e-9); restricted MIP {args.restricted_time:g} s; strategies {', '.join(strategies)}"
          + (f"; warm start from the first {args.warm_start.replace(':', ' candidates within ')} s"
             if args.warm_start else ""), flush=True)
    print(HEADER, flush=True)
    for name in names:
        for strategy in strategies:
            cmd = [sys.executable, __file__, "--child", name, strategy, "--time-limit", str(args.time_limit),
                   "--threads", str(args.threads), "--mip-gap", str(args.mip_gap), "--data", str(args.data),
                   "--restricted-time", str(args.restricted_time)]
            cmd += ["--warm-start", args.warm_start] if args.warm_start else []
            try:
                p = subprocess.run(cmd, capture_output=True, text=True, timeout=2 * args.time_limit + 900)
            except subprocess.TimeoutExpired:
                print(f"{name:17} {strategy:9} killed: no result within {2 * args.time_limit + 900:g} s", flush=True)
                continue
            lines = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
            if not lines:
                last = (p.stderr.strip().splitlines() or ["no output"])[-1]
                print(f"{name:17} {strategy:9} failed (exit {p.returncode}): {last}", flush=True)
                continue
            print(row(name, strategy, json.loads(lines[-1].removeprefix("RESULT "))), flush=True)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
