"""Peak memory of build + compile + HiGHS against model size; fits siting/estimate.py's constants.

    python bench/memory.py [--counts 250,500,1000,2250] [--highs-time-s 10]

Each size runs in a fresh process (peak RSS is per process): load the default scenario with
``candidates.max_count=N``, ``from_layers``, ``build_model``, ``compile_model``, then HiGHS
(the MILP with a ``--highs-time-s`` time limit: passModel, presolve, root LP and the start of
branching). Peak RSS is ``ru_maxrss``. Prints one row per size and the non-negative
least-squares fit ``peak_bytes ~ a + b * arcs + c * nonzeros``, with the estimate's own
prediction beside it.
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
from siting.inputs import from_layers
from siting.model import build_model
from siting.solve import SolveOptions, compile_model, _highs
rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
inp = from_layers(load_scenario(None, [f"candidates.max_count={sys.argv[1]}"]))
after_inputs = rss()
t0 = time.perf_counter()
sf = compile_model(build_model(inp))
after_compile = rss()
h = _highs(sf, SolveOptions(time_limit_s=float(sys.argv[2]), threads=1))
h.run()
print(json.dumps({"arcs": len(inp.arcs), "candidates": len(inp.sites), "nonzeros": int(sf.A.nnz),
                  "rows": sf.shape[0], "cols": sf.shape[1], "inputs_rss": after_inputs,
                  "compile_rss": after_compile, "peak_rss": rss(), "seconds": time.perf_counter() - t0}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--counts", default="250,500,1000,2250")
    ap.add_argument("--highs-time-s", type=float, default=10.0)
    args = ap.parse_args()
    from siting.estimate import PEAK_BASE_BYTES, PEAK_BYTES_PER_ARC, PEAK_BYTES_PER_NONZERO, peak_bytes

    rows = []
    print(f"{'max_count':>9} {'sites':>6} {'arcs':>9} {'nonzeros':>10} {'inputs MB':>10} {'compiled MB':>12} "
          f"{'peak MB':>8} {'estimate MB':>12} {'seconds':>8}")
    for n in args.counts.split(","):
        out = subprocess.run([sys.executable, "-c", CHILD, n, str(args.highs_time_s)], check=True,
                             capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        rows.append(r)
        print(f"{int(n):9d} {r['candidates']:6d} {r['arcs']:9,d} {r['nonzeros']:10,d} {r['inputs_rss'] / 1e6:10.0f} "
              f"{r['compile_rss'] / 1e6:12.0f} {r['peak_rss'] / 1e6:8.0f} "
              f"{float(peak_bytes(r['arcs'], r['nonzeros'])) / 1e6:12.0f} {r['seconds']:8.1f}")
    X = np.array([[1.0, r["arcs"], r["nonzeros"]] for r in rows])
    y = np.array([r["peak_rss"] for r in rows], float)
    (a, b, c), _ = nnls(X, y)
    worst = np.max(np.abs(X @ [a, b, c] - y) / y)
    print(f"fit: peak_bytes ~ {a / 1e6:.0f} MB + {b:,.0f} B/arc + {c:,.0f} B/nonzero "
          f"(worst relative residual {worst:.1%})")
    print(f"in siting/estimate.py: PEAK_BASE_BYTES={PEAK_BASE_BYTES:.3g}, PEAK_BYTES_PER_ARC={PEAK_BYTES_PER_ARC:.4g}, "
          f"PEAK_BYTES_PER_NONZERO={PEAK_BYTES_PER_NONZERO:.4g}")


if __name__ == "__main__":
    main()
