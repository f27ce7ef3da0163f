"""Hourly energy against the constant-firm model on one scenario (issue 12 figures).

    python bench/hourly.py [--scenario models/hourly.yaml] [--set energy.representative_days=8]

Solves the scenario twice on the same candidates — with ``energy.hourly`` off (constant firm
power) and on — and prints model size (hourly cells = variable sites x days x 24), times, gap,
the sites that change, the storage and overbuild built and what they cost. Prints the load
average beside the times (the machine is shared).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from siting.inputs.inputs import from_layers
from siting.pipeline import options_from, solve_inputs
from siting.scenario import load_scenario


def _load() -> str:
    return Path("/proc/loadavg").read_text().split(" ")[0] if Path("/proc/loadavg").exists() else "n/a"


def run(scenario, sets, hourly: bool):
    t0 = time.perf_counter()
    sc = load_scenario(scenario, [*sets, f"energy.hourly={str(hourly).lower()}"])
    inp = from_layers(sc)
    inputs_s = time.perf_counter() - t0
    plan = solve_inputs(inp, options_from(sc))
    r = plan.report
    hi = inp.hourly
    cells = f"{hi.V} variable sites x {hi.D} days x 24 h = {hi.H} cells" if hi is not None else "no hourly cells"
    gap = "n/a" if r.gap is None else f"{r.gap:.3%}"
    print(f"hourly={hourly}: {inp.size['candidates']} sites, {cells}; {r.n_variables} vars "
          f"({r.n_integer} int), {r.n_constraints} rows, {r.n_nonzeros} nnz; inputs {inputs_s:.1f} s, "
          f"build {r.build_s:.1f} s, compile {r.compile_s:.1f} s, solve {r.solve_s:.1f} s (load {_load()}); "
          f"objective {r.objective:,.1f} M$, bound {r.best_bound:,.1f}, gap {gap}, {r.termination}")
    for ph in r.phases:
        print(f"    {ph.phase:15} {str(ph.termination):11} {ph.seconds:7.2f} s")
    return inp, plan


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default="models/hourly.yaml")
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--hourly-only", action="store_true", help="skip the constant-firm solve")
    ap.add_argument("--png", default=None, help="folder for one PNG per open variable-fuel site (heaviest day)")
    args = ap.parse_args()
    firm = None if args.hourly_only else run(args.scenario, args.set, False)[1]
    inp, hourly = run(args.scenario, args.set, True)
    for note in inp.notes:
        print("  " + note)
    b = hourly.sites.set_index("site_id")
    cols = ["name", "fuel", "capacity_mw", "capacity_factor", "it_mw", "storage_mwh", "storage_mw", "overbuild_mw",
            "curtailment_mwh_per_year", "storage_energy_musd", "storage_power_musd", "overbuild_musd",
            "storage_losses_musd"]
    var = b[b["fuel"].isin(["solar", "wind"])]
    print("variable-fuel sites open (hourly):" + ("\n" + var[cols].round(2).to_string() if len(var) else " none"))
    print(f"unmet MW (hourly): {hourly.regions['unmet_mw'].sum():.1f}")
    if args.png:
        from siting.outputs.plots import hourly_figure

        Path(args.png).mkdir(parents=True, exist_ok=True)
        position = {sid: k for k, sid in enumerate(inp.sites["site_id"])}
        for sid in var.index:
            hourly_figure(inp, hourly.decisions, position[sid]).savefig(Path(args.png) / f"{sid}.png")
    if firm is None:
        return
    a = firm.sites.set_index("site_id")
    print(f"sites: constant-firm {len(a)}, hourly {len(b)}; only constant-firm: "
          f"{sorted(set(a.index) - set(b.index))}; only hourly: {sorted(set(b.index) - set(a.index))}")
    both = sorted(set(a.index) & set(b.index))
    moved = [(s, round(a.at[s, 'it_mw'], 1), round(b.at[s, 'it_mw'], 1)) for s in both
             if abs(a.at[s, "it_mw"] - b.at[s, "it_mw"]) > 1e-6]
    print(f"IT MW changed at (site, firm, hourly): {moved}")
    built = b[(b["storage_mwh"] + b["overbuild_mw"]) > 0]
    print("storage/overbuild built:" + ("\n" + built[cols].round(2).to_string() if len(built) else " none"))
    d = hourly.report.objective - firm.report.objective
    print(f"objective: constant-firm {firm.report.objective:,.1f} M$, hourly {hourly.report.objective:,.1f} M$ "
          f"({d:+,.1f} M$, {d / firm.report.objective:+.2%})")


if __name__ == "__main__":
    main()
