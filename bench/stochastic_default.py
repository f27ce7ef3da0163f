"""Two-stage siting on the default layers: the stochastic plan over N generated correlated
scenarios by the extensive form (HiGHS alone, started from the average scenario's plan) and by
L-shaped on Dask with 2 and 1 workers, back to back.
Usage: python bench/stochastic_default.py N [--ef-only | --lshaped-only] [--workers W] [--set KEY=VALUE ...]."""

from __future__ import annotations

import os
import sys
import time

from siting.inputs.inputs import from_layers
from siting.model.stochastic import two_stage
from siting.pipeline import options_from
from siting.scenario import load_scenario
from siting.solve.lshaped import lshaped
from siting.solve.twostage import expected_value_problem, solve_ef
from siting.stochastic import scenario_set


def _m(v) -> str:
    return "none" if v is None else f"{v:,.2f}"


def _shown(line: str) -> bool:
    """Every progress line but the LP phase's iterations, of which every tenth."""
    words = line.split()
    return "LP iteration" not in line or words[2].rstrip(":").endswith("0")


def main(argv):
    n = int(argv[0])
    ef_only, ls_only = "--ef-only" in argv, "--lshaped-only" in argv
    workers = (2, 1)
    if "--workers" in argv:  # one L-shaped run on that many workers (default: 2, then 1)
        i = argv.index("--workers")
        workers = (int(argv[i + 1]),)
        argv = argv[:i] + argv[i + 2:]
    sets = [a for a in argv[1:] if a not in ("--set", "--ef-only", "--lshaped-only")]
    bad = [a for a in sets if "=" not in a]
    if bad:
        sys.exit(f"expected --set KEY=VALUE, got {bad[0]!r}")
    sc = load_scenario(None, sets)
    inp = from_layers(sc)
    unc = scenario_set(inp, None, n, 0)
    t0 = time.perf_counter()
    m = two_stage(inp, unc)
    ts = m.ts
    print(f"scenarios {n}; first stage {ts.n_first} columns ({int(ts.integer.sum())} integer); per scenario "
          f"{ts.scenarios[0].n_cols} columns, {ts.scenarios[0].n_rows} rows; "
          f"built in {time.perf_counter() - t0:.1f} s; "
          f"dry scenarios {sum(bool(s.drought) for s in unc.scenarios)}", flush=True)
    opts = options_from(sc)
    print(f"load {os.getloadavg()[0]:.2f}", flush=True)
    ev = solve_ef(expected_value_problem(ts), opts, restrict=m.open_first)
    print(f"EV (the average scenario): {_m(ev.objective)} M$ {ev.termination} {ev.seconds:.1f} s", flush=True)
    if not ls_only:
        ef = solve_ef(ts, opts, restrict=m.open_first, start_first=ev.x,
                      progress=lambda s: print(f"  EF {s}", flush=True) if not s.startswith("  MIP at") else None)
        print(f"EF: {_m(ef.objective)} M$ bound {_m(ef.bound)} gap {ef.gap} {ef.termination} {ef.seconds:.1f} s "
              f"(load {os.getloadavg()[0]:.2f})", flush=True)
    for w in () if ef_only else workers:
        r = lshaped(ts, opts, workers=w, start=ev.x, restrict=m.open_first,
                    progress=lambda s: print(f"  L-shaped {s}", flush=True) if _shown(s) else None)
        print(f"L-shaped {w} workers: {_m(r.objective)} M$ bound {_m(r.bound)} gap {r.gap} {r.termination} "
              f"{r.seconds:.1f} s, {r.iterations} iterations, master {r.master_s:.1f} s, "
              f"scenarios {r.scenarios_s:.1f} s "
              f"(load {os.getloadavg()[0]:.2f})", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
