"""Model build cost: the derived Pyomo model (build + Pyomo's standard-form compile) against the
statement compiled directly (``siting.model.compile_inputs``, what every solve uses).

    python bench/build.py [--sizes 100x1000,300x3000,1000x10000] [--arcs-per-region 30]
                          [--layers "default;candidates.max_count=2250,candidates.min_firm_mw=0"]
                          [--pyomo-max-arcs 500000] [--seed 0]

Seeded synthetic capacitated facility-location instances (``from_cost_matrix`` with a sparse cost
matrix: each region may be served by ``--arcs-per-region`` random sites, ``inf`` elsewhere). Each
path of each size runs in a fresh process that loads the pickled inputs, resets the peak resident
set (``/proc/self/clear_refs``) and reports the peak growth over what it held before the build
(``VmHWM``; ``ru_maxrss`` where the reset is refused), so the inputs and the interpreter are not
counted. ``--layers`` adds the real layers (every family: cooling, modules, training, backhaul),
one row per ``;``-separated set of scenario overrides. The Pyomo path is skipped above
``--pyomo-max-arcs``. Both paths' arrays are checked equal (same shape and nonzeros;
tests/model/test_pyomo_model.py checks every entry).
"""

from __future__ import annotations

import argparse
import json
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CHILD = """
import gc, json, pickle, resource, sys, time
import siting.model  # imports outside the measurement

def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
inp = pickle.load(open(sys.argv[1], "rb"))
gc.collect()
try:
    open("/proc/self/clear_refs", "w").write("5")
    peak = lambda: rss("VmHWM")
except OSError:
    peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
before = rss("VmRSS")
out = {}
t0 = time.perf_counter()
if sys.argv[2] == "pyomo":
    m = siting.model.build_model(inp)
    out["build_s"] = time.perf_counter() - t0
    comp = siting.model.compile_model(m)
    out["compile_s"] = comp.sf.seconds
else:
    comp = siting.model.compile_inputs(inp)
out["total_s"] = time.perf_counter() - t0
out["peak_mb"] = (peak() - before) / 1e6
out["shape"], out["nnz"] = list(comp.sf.shape), int(comp.sf.A.nnz)
print(json.dumps(out))
"""


def instance(K: int, R: int, per_region: int, seed: int):
    """Fixed costs, capacities (3x total demand), demands and a sparse cost matrix (inf: no arc)."""
    from siting.inputs.inputs import from_cost_matrix

    rng = np.random.default_rng(seed)
    demand = rng.uniform(5, 35, R)
    capacity = rng.uniform(0.5, 1.5, K) * 3 * demand.sum() / K
    fixed = rng.uniform(500, 1500, K)
    cost = np.full((K, R), np.inf)
    for r in range(R):
        cost[rng.choice(K, size=min(per_region, K), replace=False), r] = rng.uniform(1, 100) * demand[r]
    return from_cost_matrix(fixed, capacity, demand, cost)


def layers(overrides: list[str]):
    """The real layers under scenario overrides (the default scenario otherwise)."""
    from siting.inputs.inputs import from_layers
    from siting.scenario import load_scenario

    return from_layers(load_scenario(None, overrides))


def run(path: Path, how: str) -> dict:
    res = subprocess.run([sys.executable, "-c", CHILD, str(path), how], capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100x1000,300x3000,1000x10000")
    ap.add_argument("--arcs-per-region", type=int, default=30)
    ap.add_argument("--layers", default="default;candidates.max_count=2250,candidates.min_firm_mw=0",
                    help="';'-separated sets of ','-separated scenario overrides ('default': none; '': no rows)")
    ap.add_argument("--pyomo-max-arcs", type=int, default=500_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    head = (f"{'arcs':>9} {'rows':>9} {'cols':>9} {'nonzeros':>10} {'pyomo build s':>13} "
            f"{'compile s':>9} {'statement s':>11} {'speed-up':>8} {'pyomo MB':>8} {'statement MB':>12}  instance")
    print(head)
    print("-" * (len(head) + 30))
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        cases = [(size, lambda size=size: instance(*map(int, size.split("x")), args.arcs_per_region, args.seed))
                 for size in filter(None, args.sizes.split(","))]
        cases += [("layers: " + name,
                   lambda name=name: layers([] if name == "default" else name.split(",")))
                  for name in filter(None, args.layers.split(";"))]
        for label, make in cases:
            inp = make()
            path = Path(tmp) / "inputs.pkl"
            path.write_bytes(pickle.dumps(inp))
            arcs = len(inp.arcs)
            del inp
            fast = run(path, "numpy")
            slow = run(path, "pyomo") if arcs <= args.pyomo_max_arcs else None
            if slow is not None and (slow["shape"], slow["nnz"]) != (fast["shape"], fast["nnz"]):
                ok = False
            rows, cols = fast["shape"]
            def p(key, fmt, slow=slow):
                return f"{slow[key]:{fmt}}" if slow else "skipped"

            speed = f"{slow['total_s'] / fast['total_s']:.0f}x" if slow else "-"
            print(f"{arcs:>9,} {rows:>9,} {cols:>9,} {fast['nnz']:>10,} {p('build_s', '.2f'):>13} "
                  f"{p('compile_s', '.2f'):>9} {fast['total_s']:>11.3f} {speed:>8} {p('peak_mb', '.0f'):>8} "
                  f"{fast['peak_mb']:>12.0f}  {label}", flush=True)
    if not ok:
        print("the two paths' arrays differ in shape or nonzeros", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
