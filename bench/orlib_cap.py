"""OR-Library capacitated facility location: our model vs published optima vs plain highspy.

    python bench/orlib_cap.py [--data ../shared/data/orlib_cap] [--time-limit 600] [--only cap4]

For every instance in ``optima.csv`` it builds the model through the same code the geospatial
pipeline uses (``from_cost_matrix`` -> ``build_model`` -> standard form -> HiGHS) and, side by
side, the identical MILP built directly as a sparse matrix for highspy, with the same options.
Exits non-zero if a proven optimum differs from the published value by more than 1e-6
(relative) or if an instance is not solved to optimality.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp

from siting.inputs.orlib import read_cap
from siting.pipeline import solve_report
from siting.solve import STRATEGIES, SolveOptions

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "orlib_cap"


def direct_highspy(inst, opts: SolveOptions):
    """min f y + (c/d) x; sum_i x_ij = d_j; sum_j x_ij <= s_i y_i; x_ij <= d_j y_i."""
    t0 = time.perf_counter()
    m, n = inst.cost.shape
    nx = m * n
    i_of = np.repeat(np.arange(m), n)  # x column k = i * n + j
    j_of = np.tile(np.arange(n), m)
    xcol = m + np.arange(nx)
    rows = np.concatenate([j_of, n + i_of, n + i_of[::n], n + m + np.arange(nx), n + m + np.arange(nx)])
    cols = np.concatenate([xcol, xcol, np.arange(m), xcol, i_of])
    vals = np.concatenate([np.ones(nx), np.ones(nx), -inst.capacity, np.ones(nx), -inst.demand[j_of]])
    A = sp.csc_array((vals, (rows, cols)), shape=(n + m + nx, m + nx))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = m + nx, n + m + nx
    lp.col_cost_ = np.concatenate([inst.fixed_cost, (inst.cost / inst.demand[None, :]).ravel()])
    lp.col_lower_ = np.zeros(m + nx)
    lp.col_upper_ = np.concatenate([np.ones(m), inst.demand[j_of]])
    lp.row_lower_ = np.concatenate([inst.demand, np.full(m + nx, -np.inf)])
    lp.row_upper_ = np.concatenate([inst.demand, np.zeros(m + nx)])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = A.indptr, A.indices, A.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * m + [highspy.HighsVarType.kContinuous] * nx
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(lp)
    for k, v in (("time_limit", opts.time_limit_s), ("mip_rel_gap", opts.mip_gap),
                 ("threads", opts.threads), ("random_seed", opts.seed)):
        h.setOptionValue(k, v)
    build = time.perf_counter() - t0
    h.run()
    info = h.getInfo()
    return (build, time.perf_counter() - t0 - build, h.getModelStatus().name.removeprefix("k").lower(),
            info.objective_function_value, info.mip_gap)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--time-limit", type=float, default=600.0, help="per instance and path, s")
    ap.add_argument("--only", default="", help="regular expression on instance names, e.g. 'cap[0-9]'")
    ap.add_argument("--strategy", default="plain", choices=sorted(STRATEGIES))
    ap.add_argument("--no-direct", action="store_true")
    args = ap.parse_args()
    table = pd.read_csv(args.data / "optima.csv")
    table = table[table["instance"].str.match(args.only)]
    opts = SolveOptions(time_limit_s=args.time_limit, mip_gap=1e-9, threads=1, seed=0,
                        strategy=args.strategy)
    print(f"HiGHS via highspy; one thread; mip_rel_gap 1e-9; time limit {args.time_limit:g} s per "
          f"instance and path; our strategy: {args.strategy}")
    print(f"{'instance':11} {'m x n':>9} {'published':>15} {'ours':>15} {'rel diff':>9} {'status':>10} "
          f"{'gap':>8} {'build s':>8} {'solve s':>8} {'direct s':>8} {'d.status':>10} {'ratio':>6}")
    failures, ours_total, direct_total = 0, 0.0, 0.0
    for row in table.itertuples():
        cap = None if pd.isna(row.capacity) else float(row.capacity)
        t0 = time.perf_counter()
        inst = read_cap(args.data / row.file, cap)
        inputs = inst.to_inputs()
        build = time.perf_counter() - t0
        report, _ = solve_report(inputs, opts)
        build += report.build_s
        solve = report.compile_s + report.solve_s
        ours = report.objective if report.objective is not None else float("nan")
        rel = abs(ours - row.optimal_value) / abs(row.optimal_value)
        ok = report.proven_optimal and rel <= 1e-6
        failures += not ok
        gap = "n/a" if report.gap is None else f"{report.gap:.2e}"
        line = (f"{row.instance:11} {inst.cost.shape[0]:>3} x {inst.cost.shape[1]:<4} {row.optimal_value:15.3f} "
                f"{ours:15.3f} {rel:9.1e} {report.termination:>10} {gap:>8} {build:8.3f} {solve:8.3f}")
        if not args.no_direct:
            d_build, d_solve, d_status, d_obj, _ = direct_highspy(inst, opts)
            d_total = d_build + d_solve
            ratio = (build + solve) / d_total
            line += f" {d_total:8.3f} {d_status:>10} {ratio:6.2f}"
            if report.proven_optimal and d_status == "optimal":
                ours_total += build + solve
                direct_total += d_total
        print(line + ("" if ok else "  <-- FAIL"), flush=True)
    if direct_total:
        print(f"overall, instances both paths proved optimal: ours {ours_total:.2f} s, direct "
              f"{direct_total:.2f} s, ratio {ours_total / direct_total:.2f}")
    print(f"{len(table) - failures} of {len(table)} instances matched their published optimum to 1e-6")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
