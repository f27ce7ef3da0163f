"""Peak memory of build + compile + HiGHS against model size; fits siting/estimate.py's constants.

    python bench/memory.py [--counts 250,1000,2250] [--lp-time-s 120] [--mip-time-s 0]

Each size runs in a fresh process (peak RSS is per process, ``ru_maxrss``): the default scenario
with ``candidates.max_count=N`` and ``candidates.min_firm_mw=0`` (so that N sites exist),
``from_layers``, ``build_model``, ``compile_model``, then HiGHS on the LP relaxation (passModel,
presolve, simplex: the part that scales with size and does not depend on luck), then, for
information, the MILP for ``--mip-time-s`` if > 0 (branch and bound grows with time as well as size,
so it is not in the fit). Prints one row per size and the non-negative least-squares fit
``peak_bytes ~ a + b * arcs + c * nonzeros`` of the LP-phase peak, beside the estimate's own
prediction.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import numpy as np
from scipy.optimize import nnls

CHILD = """
import json, resource, sys, time
from siting.scenario import load_scenario
from siting.inputs.inputs import from_layers
from siting.model import build_model, compile_model
from siting.solve import SolveOptions, _highs
rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
count, lp_s, mip_s = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
inp = from_layers(load_scenario(None, [f"candidates.max_count={count}", "candidates.min_firm_mw=0"]))
out = {"arcs": len(inp.arcs), "candidates": len(inp.sites), "inputs_rss": rss()}
t0 = time.perf_counter()
sf = compile_model(build_model(inp)).sf
out.update(nonzeros=int(sf.A.nnz), compile_rss=rss(), build_compile_s=time.perf_counter() - t0)
t0 = time.perf_counter()
h = _highs(sf, SolveOptions(time_limit_s=lp_s, threads=1), relax=True, time_limit=lp_s)
h.run()
out.update(lp_rss=rss(), lp_s=time.perf_counter() - t0)
del h
if mip_s > 0:
    t0 = time.perf_counter()
    h = _highs(sf, SolveOptions(time_limit_s=mip_s, threads=1), time_limit=mip_s)
    h.run()
    out.update(mip_s=time.perf_counter() - t0)
out["mip_rss"] = rss()
print(json.dumps(out))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--counts", default="250,1000,2250")
    ap.add_argument("--lp-time-s", type=float, default=120.0)
    ap.add_argument("--mip-time-s", type=float, default=0.0)
    args = ap.parse_args()
    from siting.model.estimate import PEAK_BASE_BYTES, PEAK_BYTES_PER_ARC, PEAK_BYTES_PER_NONZERO, peak_bytes

    rows = []
    print(f"{'max_count':>9} {'sites':>6} {'arcs':>9} {'nonzeros':>10} {'inputs MB':>10} {'compiled MB':>12} "
          f"{'LP peak MB':>11} {'estimate MB':>12} {'MIP peak MB':>12} {'build+compile s':>16} {'LP s':>6} "
          f"{'MIP s':>6}")
    for n in args.counts.split(","):
        out = subprocess.run([sys.executable, "-c", CHILD, n, str(args.lp_time_s), str(args.mip_time_s)],
                             check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        rows.append(r)
        print(f"{int(n):9d} {r['candidates']:6d} {r['arcs']:9,d} {r['nonzeros']:10,d} {r['inputs_rss'] / 1e6:10.0f} "
              f"{r['compile_rss'] / 1e6:12.0f} {r['lp_rss'] / 1e6:11.0f} "
              f"{float(peak_bytes(r['arcs'], r['nonzeros'])) / 1e6:12.0f} {r['mip_rss'] / 1e6:12.0f} "
              f"{r['build_compile_s']:16.1f} {r['lp_s']:6.1f} {r.get('mip_s', 0.0):6.1f}", flush=True)
    X = np.array([[1.0, r["arcs"], r["nonzeros"]] for r in rows])
    y = np.array([r["lp_rss"] for r in rows], float)
    (a, b, c), _ = nnls(X, y)
    worst = np.max(np.abs(X @ [a, b, c] - y) / y)
    print(f"fit (LP-phase peak): peak_bytes ~ {a / 1e6:.0f} MB + {b:,.0f} B/arc + {c:,.0f} B/nonzero "
          f"(worst relative residual {worst:.1%})")
    print(f"in siting/estimate.py: PEAK_BASE_BYTES={PEAK_BASE_BYTES:.3g}, PEAK_BYTES_PER_ARC={PEAK_BYTES_PER_ARC:.4g}, "
          f"PEAK_BYTES_PER_NONZERO={PEAK_BYTES_PER_NONZERO:.4g}")


if __name__ == "__main__":
    main()
