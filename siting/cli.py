"""Command line: ``siting solve`` and ``siting validate`` (thin: no model logic here)."""

from __future__ import annotations

import math
import os
import signal
import sys
import time
import uuid
from pathlib import Path

import click

from .errors import NoSolutionError, PlanCheckError, SitingError, clip
from .scenario import load_scenario

EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_NOT_WITHIN_GAP, EXIT_NO_SOLUTION, EXIT_WRITE_FAILED = 1, 2, 3, 4, 5
EXIT_CHECK_FAILED = 6  # a plan broke a rule of the independent post-check: a fault of the tool
EXIT_INTERRUPTED = 130


class _Progress:
    def __init__(self, quiet: bool):
        self.t0, self.quiet = time.perf_counter(), quiet

    def __call__(self, msg: str) -> None:
        if not self.quiet:
            click.echo(f"[{time.perf_counter() - self.t0:6.1f} s] {msg}", err=True)


def _terminate(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


_OWNS_PROCESS = [False]  # set by the console entry point only (never under CliRunner or a notebook)


def entry() -> None:
    """The ``siting`` command: the CLI owns its process, so it may end it without waiting."""
    _OWNS_PROCESS[0] = True
    main()


def _exit(code: int):
    """Exit; if this process is the ``siting`` command and a HiGHS solve is still running (left
    past its deadline or a Ctrl-C), do not wait for its thread: flush and leave at once (nothing
    of ours is being written then)."""
    solver = sys.modules.get("siting.solve")
    if _OWNS_PROCESS[0] and solver is not None and solver.abandoned_solves():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _fail(exc: Exception, code: int):
    click.echo(f"error: {exc}", err=True)
    _exit(code)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """A warning as one line a user reads (``warning: ...``), never a source location."""
    click.echo(f"warning: {message}", err=True)


@click.group()
@click.version_option(package_name="siting")
def main():
    """Site AI compute colonies near remote energy: where, how big, which cooling and backhaul."""
    import warnings

    warnings.showwarning = _show_warning


def _fail_on(exc: BaseException, debug: bool, interrupted: str) -> None:
    """The one mapping of errors to messages and exit codes for every command: 4 no plan, 5 the
    outputs could not be written, 6 a plan failed the independent post-check (the message names
    the families), 2 any other bad input, 130 interrupted, 1 unexpected (never a traceback unless
    ``--debug``)."""
    from .outputs.outdir import WriteError

    if isinstance(exc, KeyboardInterrupt):
        _fail(interrupted, EXIT_INTERRUPTED)
    if isinstance(exc, NoSolutionError):
        _fail(exc, EXIT_NO_SOLUTION)
    if isinstance(exc, WriteError):
        _fail(exc, EXIT_WRITE_FAILED)
    if isinstance(exc, PlanCheckError):
        _fail(exc, EXIT_CHECK_FAILED)
    if isinstance(exc, SitingError):
        _fail(exc, EXIT_BAD_INPUT)
    if isinstance(exc, MemoryError):
        _fail("out of memory: the model does not fit in this machine's memory; run `siting validate` "
              "for its size and lower candidates.max_count or demand.max_regions, or tighten "
              "demand.latency_ms", EXIT_BAD_INPUT)
    if debug:
        raise exc
    _fail(f"unexpected {type(exc).__name__}: {exc} (run again with --debug for the traceback, "
          "and please report it)", EXIT_INTERNAL)


@main.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@click.option("--out", "out", type=click.Path(file_okay=False), default=None,
              help="Output folder (default: results/<scenario name>). Replaced only if it is a "
                   "siting output folder; any other existing folder is refused before solving.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override any scenario field, e.g. --set demand.latency_ms=50.")
@click.option("--time-limit", type=float, default=None,
              help="Seconds for the whole solve (LP, restricted MIP and MIP together).")
@click.option("--mip-gap", type=float, default=None, help="Relative MIP gap to stop at.")
@click.option("--threads", type=int, default=None, help="Solver threads.")
@click.option("--seed", type=int, default=None, help="Solver random seed.")
@click.option("--log", is_flag=True, help="Show the HiGHS log.")
@click.option("--quiet", is_flag=True, help="No progress lines.")
@click.option("--debug", is_flag=True, help="Show a traceback on an unexpected error.")
@click.option("--replace-proven", is_flag=True,
              help="Replace a plan proven within its gap in --out (same scenario) even by a dearer plan that is "
                   "not proven; without it such a plan is written to <out>.unproven and the proven one kept.")
def solve(scenario, out, overrides, time_limit, mip_gap, threads, seed, log, quiet, debug, replace_proven):
    """Solve SCENARIO (default: the built-in models/default.yaml) and write the plan."""
    from .outputs.outdir import claim, read_manifest, safe_name
    from .pipeline import run_info, solve_scenario

    signal.signal(signal.SIGTERM, _terminate)  # SIGTERM cleans up like Ctrl-C
    extra = [f"solver.{k}={v}" for k, v in (("time_limit_s", time_limit), ("mip_gap", mip_gap),
                                            ("threads", threads), ("seed", seed)) if v is not None]
    progress = _Progress(quiet)
    run_id = uuid.uuid4().hex
    try:
        sc = load_scenario(scenario, list(overrides) + extra)
        out = Path(out) if out else Path("results") / safe_name(sc.name)
        with claim(out, "solve"):  # checked (kind too) before solving; held until written
            progress(f"scenario '{clip(sc.name)}'")
            proven = None if replace_proven else _proven_plan_in(out, sc)
            run = solve_scenario(sc, progress=progress, log=log,
                                 run=run_info(scenario, list(overrides) + extra))
            kept = out
            if (proven is not None and not run.plan.summary.within_gap
                    and run.plan.report.objective > proven * (1 + 1e-9)):
                out = out.with_name(f"{out.name}.unproven")
                progress(f"{kept} holds a plan proven within its gap for this scenario ({proven:,.1f} M$), cheaper "
                         f"than this one, which is not proven: keeping it and writing this plan to {out}")
            with claim(out, "solve"):  # the same folder: re-entrant; .unproven: checked and held too
                progress("writing outputs")
                run.write(out, run_id=run_id)
    except (Exception, KeyboardInterrupt) as exc:
        manifest = read_manifest(out) if out and isinstance(exc, KeyboardInterrupt) else None
        written = bool(manifest) and manifest.get("run_id") == run_id
        _fail_on(exc, debug, f"interrupted after writing: {out} holds the new plan, complete" if written
                 else f"interrupted: nothing written; {out or 'the output folder'} is as it was")
    click.echo(_summary_text(run.plan, out, sc.demand.n_minus_1_share))
    if out != kept:
        click.echo(f"kept {kept}/: its plan is proven within its gap and cheaper ({proven:,.0f} M$) than this one, "
                   f"which is not proven; this plan is in {out}/ (--replace-proven replaces it)", err=True)
    if not run.plan.summary.within_gap:
        click.echo(f"warning: plan not proven within the {sc.solver.mip_gap:.2%} gap "
                   f"(termination: {run.plan.report.termination})", err=True)
        _exit(EXIT_NOT_WITHIN_GAP)
    _exit(0)


def _proven_plan_in(out: Path, sc) -> float | None:
    """The PV cost (M$) of the plan in ``out`` when siting wrote it, the solver proved it within its gap
    and it solved the same scenario as ``sc`` (its resolved scenario.yaml equal but for the solver
    settings and the description); else None."""
    import json

    import yaml

    from .outputs.outdir import read_manifest

    if read_manifest(out) is None:
        return None
    try:
        summary = json.loads((out / "summary.json").read_text())
        old = yaml.safe_load((out / "scenario.yaml").read_text())
    except (OSError, ValueError, yaml.YAMLError):
        return None
    new = sc.model_dump(mode="json")
    if not isinstance(old, dict) or summary.get("termination") != "optimal" \
            or summary.get("solution_status") != "optimal" or summary.get("objective_musd") is None:
        return None
    same = lambda tree: {k: v for k, v in tree.items() if k not in ("solver", "description")}  # noqa: E731
    return float(summary["objective_musd"]) if same(old) == same(new) else None


def _checked(n1: float | None, buildout: bool = False) -> list[str]:
    """What the post-check proved of the plan (it raised otherwise)."""
    return ["every rule recomputed from the plan's tables (independent post-check)"
            + (", each period against its own inputs and the build-out rules across periods" if buildout else "")] + (
        [f"survives the loss of any one failure group with {n1:g} of each region's MW"] if n1 else [])


def _summary_text(plan, out: Path, n_minus_1_share: float | None = None) -> str:
    from .outputs.results import OUTPUT_FILES

    s, rep = plan.summary, plan.report
    gap = "n/a" if rep.gap is None else f"{rep.gap:.3%}"
    bound = "n/a" if rep.best_bound is None else f"{rep.best_bound:,.0f} M$"
    state = "optimal within gap" if s.within_gap else f"NOT proven within the gap ({rep.termination})"
    lines = [
        f"scenario {clip(s.scenario)}: {state}; PV cost {rep.objective:,.0f} M$, "
        f"bound {bound}, gap {gap}",
        f"size: {s.size.candidates} candidates, {s.size.regions} regions, "
        f"{s.size.arcs:,} arcs, {rep.n_variables:,} variables ({rep.n_integer:,} integer), "
        f"{rep.n_constraints:,} constraints",
        f"times: build {rep.build_s:.1f} s, compile {rep.compile_s:.1f} s, solve {rep.solve_s:.1f} s",
        f"plan: {s.plan.sites} sites, {s.plan.it_mw:,.0f} MW IT, inference "
        f"{s.plan.inference_mw:,.0f} MW ({s.plan.satellite_share:.1%} by satellite), "
        f"training {s.plan.training_mw:,.0f} MW, unmet {s.plan.unmet_mw:,.1f} MW",
        *([f"long laterals (over the practical {s.plan.long_laterals[0]['practical_km']:,.0f} km: a long-haul route "
           "to a far PoP, priced as a lateral): " + "; ".join(
               f"{clip(x['name'], 30)} {x['lateral_km']:,.0f} km to {x['pop_id']}" for x in s.plan.long_laterals)]
          if getattr(s.plan, "long_laterals", ()) else []),
        *[f"checked: {line}" for line in _checked(n_minus_1_share, plan.schedule is not None)],
        *[str(n) for n in rep.notes],
        "",
        f"{'site':28} {'fuel':8} {'IT MW':>7} {'cooling':13} {'$/MWh':>6} {'backhaul':15} {'PV M$':>9}",
    ]
    for r in plan.sites.sort_values("it_mw", ascending=False).itertuples():
        lines.append(f"{str(r.name)[:28]:28} {str(getattr(r, 'fuel', ''))[:8]:8} {r.it_mw:7.0f} "
                     f"{r.cooling:13} {getattr(r, 'price_usd_per_mwh', float('nan')):6.1f} "
                     f"{r.backhaul:15} {r.total_musd:9,.0f}")
    b = s.get("buildout") if hasattr(s, "get") else None
    if b:  # a build-out: the periods, then the sites as built by the last one
        lines[4:4] = ["", f"{'period':>6} {'sites':>5} {'IT MW':>8} {'new MW':>8} {'demand MW':>10} "
                          f"{'satellite MW':>12} {'unmet MW':>9}"] + [
            f"{p['year']:>6} {p['sites_open']:>5} {p['it_mw']:8,.0f} {p['new_it_mw']:8,.0f} {p['demand_mw']:10,.0f} "
            f"{p['satellite_mw']:12,.0f} {p['unmet_mw']:9,.0f}" for p in b["periods"]]
    extra = ", schedule.csv, periods.csv, buildout.png" if plan.schedule is not None else ""
    lines.append(f"\nwrote {out}/ ({', '.join(OUTPUT_FILES)}{extra})")
    return "\n".join(lines)


@main.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE")
def validate(scenario, overrides):
    """Check SCENARIO and its layers without solving; report sizes, the model's estimated size
    and memory, and problems (errors first, warnings grouped)."""
    from .inputs.diagnose import diagnose, grouped
    from .inputs.inputs import from_layers
    from .model.estimate import check_fits, estimate

    unc = None
    try:
        sc = load_scenario(scenario, list(overrides))
        inp = from_layers(sc)
        if sc.uncertainty is not None:  # the scenario set of `siting stochastic`, checked against the sites
            from .inputs.uncertainty import read_risk
            from .stochastic import scenario_set

            risk = read_risk(sc.uncertainty)  # a block may hold the risk measure alone (--scenarios N generates)
            has_rows = isinstance(sc.uncertainty, dict) and "scenarios" in sc.uncertainty
            unc = scenario_set(inp, sc.uncertainty, None, 0) if has_rows else risk
    except SitingError as exc:
        _fail(exc, EXIT_BAD_INPUT)
    except Exception as exc:  # never a traceback for a user
        _fail(f"unexpected {type(exc).__name__}: {exc} (please report it)", EXIT_INTERNAL)
    findings = diagnose(inp)
    errors = [f for f in findings if f.severity == "error"]
    try:  # the size is the compiled model's: a model with a row that cannot hold has none
        est = estimate(inp)
    except NoSolutionError as exc:
        est, errors = None, errors or [exc]
    try:
        fits = None if est is None else check_fits(est)
    except SitingError as exc:
        fits = str(exc)
    state = "INFEASIBLE" if errors else "TOO LARGE for this machine" if fits else "valid"
    click.echo(f"scenario '{clip(sc.name)}' is {state}: "
               + ", ".join(f"{v} {k}" for k, v in inp.size.items()))
    if est is not None:
        click.echo(f"  {est.line()}")
    if unc is not None:
        rows = getattr(unc, "scenarios", None)
        what = (f"{len(rows)} scenarios ({sum(1 for u in rows if u.drought)} with a drought)" if rows is not None
                else "no scenarios (siting stochastic --scenarios N generates them)")
        click.echo(f"  uncertainty: {what}, CVaR weight {unc.cvar_weight:g} at {unc.cvar_alpha:g}")
    for f in errors:
        click.echo(f"  {f}")
    if fits:
        click.echo(f"  error: {fits}")
    for note in inp.notes:
        click.echo(f"  {note}")
    for line in grouped([str(f) for f in findings if f.severity != "error"]):
        click.echo(f"  {line}")
    if fits:
        sys.exit(EXIT_BAD_INPUT)
    if errors:
        sys.exit(EXIT_NO_SOLUTION)



def _point(text: str) -> tuple[float, float]:
    try:
        lat, lon = (float(v) for v in text.split(","))
    except ValueError:
        raise click.BadParameter(f"{text!r}: expected LAT,LON in degrees, e.g. 47.61,-122.33") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise click.BadParameter(f"{text!r}: latitude must be in [-90, 90], longitude in [-180, 180]")
    return lat, lon


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("a")
@click.argument("b")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a network setting, e.g. --set network.leo_min_elevation_deg=20.")
def rtt(a, b, overrides):
    """Round trip between two points A and B given as LAT,LON: great-circle km, fiber (model),
    LEO over the constellation (median and 95th percentile over an orbit), the closed form, and the
    satellite capacity of the ground cell of each end (siting/geo/cells.py)."""
    from .fiber import nearest_continent
    from .geo.constellation import compare_rtt
    from .physics import route_type

    (lat_a, lon_a), (lat_b, lon_b) = _point(a), _point(b)
    try:
        net = load_scenario(None, list(overrides)).network
        ends = nearest_continent([lon_a, lon_b], [lat_a, lat_b])  # of the nearest place (data/cities.csv)
        route = route_type(ends[0], ends[1])
        row = compare_rtt(lon_a, lat_a, lon_b, lat_b, net, route).iloc[0]
    except SitingError as exc:
        _fail(exc, EXIT_BAD_INPUT)
    click.echo(f"great circle     {row.great_circle_km:10,.0f} km  (vacuum bound {row.vacuum_rtt_ms:.1f} ms)")
    stretch = {"banded": "by distance band", "constant": f"{net.fiber_internet_stretch:g}",
               "route": f"of route {route} by distance band"}[net.fiber_stretch_model]
    click.echo(f"fiber (model)    {row.fiber_rtt_ms:10.1f} ms  (Internet path, stretch {stretch})")
    click.echo(f"LEO median       {row.leo_median_rtt_ms:10.1f} ms  (constellation, {net.leo_snapshots} snapshots)")
    click.echo(f"LEO p95          {row.leo_p95_rtt_ms:10.1f} ms")
    click.echo(f"LEO closed form  {row.leo_formula_rtt_ms:10.1f} ms  (physics.rtt_leo_ms)")
    try:
        from .inputs.inputs import cell_capacities, site_cells

        ends = site_cells([lon_a, lon_b], [lat_a, lat_b], net)
        cap = cell_capacities(ends, ["A", "B"], net)
    except SitingError as exc:
        _fail(exc, EXIT_BAD_INPUT)
    for end, k in (("A", 0), ("B", 1)):
        c = ends.position[k]
        click.echo(f"cell {end}  {ends.ids[c]:>15}  {cap[c, 0]:6.2f} Gbps up, {cap[c, 1]:6.2f} Gbps down  "
                   f"({ends.sats_in_view[c]:.0f} satellites in view, {net.satellite_generation}, "
                   f"H3 resolution {net.cell_h3_resolution})")
@main.command("sweep")
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@click.option("--vary", "vary", multiple=True, required=True, metavar="KEY=V1,V2,...",
              help="A field and its values (YAML scalars, comma-separated); several --vary make a grid.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override for every variant.")
@click.option("--out", "out", type=click.Path(file_okay=False), default=None,
              help="Output folder (default: results/<scenario name>-sweep); refused before solving "
                   "if it exists and is not a siting output.")
@click.option("--workers", type=int, default=None,
              help="Embedded Dask workers (default and most: the cores; 0 is refused).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Use a running Dask scheduler (e.g. tcp://host:8786) instead of an embedded cluster.")
@click.option("--time-limit", type=float, default=None, help="Seconds per variant's solve.")
@click.option("--outputs", is_flag=True, help="Also write each variant's plan files to <out>.variants/<variant>/.")
@click.option("--no-cache", is_flag=True, help="Solve every variant again (no reuse of finished ones).")
@click.option("--yes", is_flag=True, help="Run a grid of more than 1,000 variants.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--debug", is_flag=True, help="Show a traceback on an unexpected error.")
def sweep(scenario, vary, overrides, out, workers, scheduler, time_limit, outputs, no_cache, yes, quiet, debug):
    """Solve every combination of the --vary values of SCENARIO; write sweep.csv, sweep.parquet,
    sweep.png, sweep.json and each variant's resolved scenario. Variants that fail are rows with
    their error; finished variants are cached beside the folder, so a run started again redoes
    only the rest."""
    from .explore.sweep import parse_vary, worker_count
    from .explore.sweep import sweep as run_sweep
    from .outputs.outdir import safe_name

    signal.signal(signal.SIGTERM, _terminate)
    try:
        grid = parse_vary(vary)
        if not out:
            out = Path("results") / f"{safe_name(load_scenario(scenario, list(overrides)).name)}-sweep"
        if scheduler is None:
            workers, note = worker_count(workers)
            if note:
                click.echo(f"note: {note}", err=True)
        table = run_sweep(scenario, grid, base_overrides=list(overrides), workers=workers, scheduler=scheduler,
                          out=out, time_limit_s=time_limit, outputs=outputs, progress=not quiet, yes=yes,
                          **({"cache_dir": None} if no_cache else {}))
    except (Exception, KeyboardInterrupt) as exc:
        if isinstance(exc, KeyboardInterrupt) and _OWNS_PROCESS[0]:  # everything is written: leave at once
            click.echo(f"error: {exc if str(exc).startswith('interrupted') else 'interrupted'}", err=True)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(EXIT_INTERRUPTED)
        _fail_on(exc, debug, str(exc) if str(exc).startswith("interrupted") else
                 f"interrupted: finished variants are cached; {out or 'the output folder'} holds them "
                 "if any finished (sweep.json says partial); run the same command again to finish")
    click.echo(_sweep_text(table, list(grid), table.attrs.get("written") or out))


def _sweep_text(table, keys: list[str], out: Path) -> str:
    cols = ["variant", *keys, "state", "termination", "objective_musd", "gap", "n_sites", "satellite_share",
            "unmet_mw", "resolved_in_place", "from_cache"]
    shown = table[[c for c in cols if c in table]].copy()
    shown["variant"] = shown["variant"].str.split("_").str[0]
    failed = table[table["error"].notna()]
    lines = [shown.to_string(index=False, float_format=lambda v: f"{v:,.4g}"), ""]
    lines += [f"failed {r.variant}: {r.error}" for r in failed.itertuples()]
    lines.append(f"{len(table) - len(failed)} of {len(table)} variants solved in {table.attrs['wall_s']:.1f} s "
                 f"({int(table['resolved_in_place'].fillna(False).sum())} re-solved in place, "
                 f"{int(table['from_cache'].fillna(False).sum())} from the cache); "
                 f"wrote {out}/ (sweep.csv, sweep.parquet, sweep.png, sweep.json, scenario-<variant>.yaml)")
    return "\n".join(lines)




def _explore_setup(scenario, overrides, time_limit, out, suffix):
    """The scenario with its overrides and the output folder, checked before any solving (its
    kind too: a study never writes over another kind of output)."""
    from .outputs.outdir import check_out, safe_name

    extra = [f"solver.time_limit_s={time_limit}"] if time_limit is not None else []
    sc = load_scenario(scenario, list(overrides) + extra)
    out = Path(out) if out else Path("results") / f"{safe_name(sc.name)}-{suffix}"
    check_out(out, suffix)
    return sc, out, list(overrides) + extra


def _study_options(kind: str, time_help: str):
    """The options shared by the commands that solve a scenario many times into
    results/<scenario name>-<kind>: --set, --out, --time-limit, --quiet, --debug (in that order)."""
    options = [
        click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override any scenario field."),
        click.option("--out", "out", type=click.Path(file_okay=False), default=None,
                     help=f"Output folder (default: results/<scenario name>-{kind}); a foreign folder is refused."),
        click.option("--time-limit", type=float, default=None, help=time_help),
        click.option("--quiet", is_flag=True, help="No progress lines."),
        click.option("--debug", is_flag=True, help="Show a traceback on an unexpected error."),
    ]

    def wrap(command):
        for option in reversed(options):
            command = option(command)
        return command
    return wrap


@main.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@click.option("--latency-ms", "latency", default="30:150:10", show_default=True,
              help="Round-trip limits: start:stop:step (stop included) or a comma list, in ms.")
@_study_options("pareto", "Seconds per point.")
def pareto(scenario, latency, overrides, out, time_limit, quiet, debug):
    """The cost–latency front of SCENARIO: the cheapest plan at each latency limit."""
    from .explore.pareto import FRONT_FILES, front, parse_range, write_front
    from .outputs.outdir import claim
    from .pipeline import options_from, run_info

    signal.signal(signal.SIGTERM, _terminate)
    try:
        limits = parse_range(latency)
        sc, out, used = _explore_setup(scenario, overrides, time_limit, out, "pareto")
        with claim(out, "pareto"):  # held from here until written: a second run is refused
            fr = front(sc, limits, options=options_from(sc), progress=_Progress(quiet))
            write_front(fr, out, run=run_info(scenario, used) | {"latency_ms": latency})
    except (Exception, KeyboardInterrupt) as exc:
        _fail_on(exc, debug, "interrupted: the output folder is as it was")
    click.echo(f"{'limit ms':>8} {'PV M$':>10} {'gap':>7} {'sites':>5} {'fiber MW':>9} {'sat MW':>8} "
               f"{'unmet MW':>9} {'sat %':>6}  monotone")
    for r in fr.table.itertuples():
        if r.objective_musd is None or r.objective_musd != r.objective_musd:
            click.echo(f"{r.limit_ms:8g} {'no plan':>10} ({r.termination})")
            continue
        gap = "n/a" if r.gap is None or r.gap != r.gap else f"{r.gap:.2%}"
        click.echo(f"{r.limit_ms:8g} {r.objective_musd:10,.0f} {gap:>7} {r.n_sites:5.0f} {r.fiber_mw:9,.0f} "
                   f"{r.satellite_mw:8,.0f} {r.unmet_mw:9,.1f} {r.satellite_share:6.1%}  {r.monotone}")
    if fr.uncertain:
        click.echo("monotonicity uncertain at " + ", ".join(f"{v:g}" for v in fr.uncertain)
                   + " ms: a tighter limit's plan is cheaper than the plan found there (within its gap) "
                   "or no plan was found; raise --time-limit")
    else:
        click.echo("the front is monotone: cost never rises as the limit loosens")
    click.echo(f"wrote {out}/ ({', '.join(FRONT_FILES)})")
    not_proven = fr.table.loc[~fr.table["proven"].astype(bool), "limit_ms"].tolist()
    if not_proven:
        click.echo(f"warning: points not proven within the {sc.solver.mip_gap:.2%} gap: "
                   + ", ".join(f"{v:g}" for v in not_proven) + " ms", err=True)
        sys.exit(EXIT_NOT_WITHIN_GAP)


@main.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@click.option("--slack", type=float, default=0.05, show_default=True,
              help="How much dearer than the optimum an alternative may be (share of its PV cost).")
@click.option("--count", type=int, default=3, show_default=True, help="Number of alternatives after the optimum.")
@_study_options("alternatives", "Seconds per solve (the optimum and each alternative).")
def alternatives(scenario, slack, count, overrides, out, time_limit, quiet, debug):
    """Near-optimal alternatives of SCENARIO: which sites every cheap plan needs, which are interchangeable."""
    import pandas as pd

    from .explore.alternatives import ALTERNATIVE_FILES, Role, check_args, write_alternatives
    from .explore.alternatives import alternatives as run_alternatives
    from .outputs.outdir import claim
    from .pipeline import options_from, run_info

    signal.signal(signal.SIGTERM, _terminate)
    try:
        check_args(slack, count)
        sc, out, used = _explore_setup(scenario, overrides, time_limit, out, "alternatives")
        with claim(out, "alternatives"):  # held from here until written: a second run is refused
            alt = run_alternatives(sc, slack, count, options=options_from(sc), progress=_Progress(quiet))
            write_alternatives(alt, out, run=run_info(scenario, used) | {"slack": slack, "count": count})
    except (Exception, KeyboardInterrupt) as exc:
        _fail_on(exc, debug, "interrupted: the output folder is as it was")
    click.echo(f"{'plan':>4} {'PV M$':>10} {'+optimum':>9} {'sites':>5} {'shared':>6}  site ids")
    for r in alt.table.itertuples():
        same = "" if pd.isna(r.same_sites_as_plan) else f" (same sites as plan {int(r.same_sites_as_plan)})"
        click.echo(f"{r.plan:4d} {r.cost_musd:10,.0f} {r.above_optimum:9.2%} {r.n_sites:5d} "
                   f"{r.shared_with_optimum:6d}  {r.site_ids}{same}")
    s = alt.sites
    for role in (Role.MUST_HAVE, Role.INTERCHANGEABLE):
        names = [f"{n} ({k}/{len(alt.plans)})" for n, k in zip(s.loc[s["role"] == role, "name"],
                                                               s.loc[s["role"] == role, "in_plans"])]
        click.echo(f"{role}: {len(names)}" + (": " + "; ".join(names) if names else ""))
    for note in alt.notes:
        click.echo(note, err=note.startswith("warning"))
    click.echo(f"wrote {out}/ ({', '.join(ALTERNATIVE_FILES)})")
    if not alt.plans[0].report.proven_optimal:  # warned above; the slack was measured from the bound
        _exit(EXIT_NOT_WITHIN_GAP)


if __name__ == "__main__":
    entry()


@main.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@click.option("--scenarios", "n", type=click.IntRange(min=1), default=None,
              help="Generate N correlated drought/demand scenarios (default: the scenario's uncertainty block).")
@click.option("--seed", "seed", type=int, default=0, show_default=True, help="Seed of the generated scenarios.")
@click.option("--method", type=click.Choice(["ef", "lshaped"]), default="ef", show_default=True,
              help="Extensive form (HiGHS alone) or multi-cut L-shaped decomposition on Dask.")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Workers of the embedded Dask cluster (lshaped).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Run the decomposition on an existing Dask scheduler (tcp://host:port) instead.")
@click.option("--out-of-sample", "oos", type=click.IntRange(min=2), default=None, metavar="N",
              help="Also evaluate both plans on N fresh generated scenarios (seed + 1): out_of_sample.csv.")
@_study_options("stochastic", "Seconds for each solve (the stochastic plan, the average plan, each scenario).")
def stochastic(scenario, n, seed, method, workers, scheduler, oos, overrides, out, time_limit, quiet, debug):
    """A plan that holds over SCENARIO's uncertainty (droughts, demand, prices): the two-stage
    stochastic plan, against the average-scenario plan (VSS) and perfect information (EVPI)."""
    import json

    from .inputs.inputs import from_layers
    from .outputs.outdir import claim, read_manifest
    from .outputs.results import write_outputs
    from .pipeline import options_from, run_info
    from .stochastic import STOCHASTIC_FILES, cost_distribution, scenario_set, solve_stochastic

    signal.signal(signal.SIGTERM, _terminate)
    run_id = uuid.uuid4().hex
    progress = _Progress(quiet)
    method = "lshaped" if scheduler and method == "ef" else method
    try:
        sc, out, used = _explore_setup(scenario, overrides, time_limit, out, "stochastic")
        with claim(out, "stochastic"):  # held from here until written: a second run is refused
            inp = from_layers(sc, progress=progress)
            unc = scenario_set(inp, sc.uncertainty, n, seed)
            progress(f"{len(unc.scenarios)} scenarios ({'generated, seed ' + str(seed) if n else 'uncertainty block'})")
            st = solve_stochastic(inp, unc, options_from(sc), method=method, workers=workers, scheduler=scheduler,
                                  name=sc.name, progress=progress)
            tables = {"scenarios.csv": st.scenarios, "value.csv": st.value_table()}
            fresh = None
            if oos is not None:
                from .out_of_sample import evaluate_plans, summarise

                fresh_seed = seed + 1
                fresh_set = scenario_set(inp, sc.uncertainty, oos, fresh_seed)
                progress(f"out of sample: both plans on {oos} fresh scenarios (seed {fresh_seed})")
                tables["out_of_sample.csv"] = evaluate_plans(
                    inp, fresh_set, {"stochastic": st.rp.x, "average": st.values.x_ev}, st.model, options_from(sc),
                    progress)
                fresh = summarise(tables["out_of_sample.csv"], ["stochastic", "average"], st.model.ts.cvar_alpha) | {
                    "seed": fresh_seed}
            progress("writing outputs")
            summary = {"method": st.rp.method, "termination": str(st.rp.termination), "gap": st.rp.gap,
                       "seconds": st.rp.seconds, "workers": st.rp.workers, "scenarios": len(unc.scenarios),
                       "seed": seed if n else None, "run": run_info(scenario, used)} | {
                row.value: row.musd for row in st.value_table().itertuples()} | (
                {"out_of_sample": fresh} if fresh else {})
            figure = cost_distribution(st, tables.get("out_of_sample.csv"))
            write_outputs(st.plan, inp, out, scenario=sc, run_id=run_id, kind="stochastic", tables=tables,
                          figures={"cost_distribution.png": figure},
                          texts={"stochastic.json": json.dumps(summary, indent=2, default=str)})
    except (Exception, KeyboardInterrupt) as exc:
        manifest = read_manifest(out) if isinstance(exc, KeyboardInterrupt) and "out" in locals() else None
        written = bool(manifest) and manifest.get("run_id") == run_id
        _fail_on(exc, debug, f"interrupted after writing: {out} holds the new plan, complete" if written
                 else "interrupted: nothing written; the output folder is as it was")
    v = st.values
    gap = "n/a" if st.rp.gap is None else f"{st.rp.gap:.3%}"
    click.echo(f"stochastic plan over {len(unc.scenarios)} scenarios ({st.rp.method}): expected PV cost "
               f"{v.rp:,.1f} M$, gap {gap}, {st.rp.seconds:.1f} s")
    click.echo(f"average-scenario plan on every scenario (EEV) {v.eev:,.1f} M$; perfect information (WS) "
               f"{v.ws:,.1f} M$; VSS {v.vss:,.1f} M$; EVPI {v.evpi:,.1f} M$")
    vt = st.value_table().set_index("value")["musd"]
    ts = st.model.ts
    click.echo(f"CVaR at {ts.cvar_alpha:g} of the scenario cost: stochastic plan {vt['CVaR_RP']:,.1f} M$, "
               f"average-scenario plan {vt['CVaR_EV']:,.1f} M$" + (
                   f" (objective: expected cost + {ts.cvar_weight:g} x CVaR)" if ts.risk_averse else ""))
    click.echo(f"{'scenario':20} {'p':>6} {'cost M$':>10} {'unmet MW':>9} {'avg-plan M$':>12} {'avg unmet':>9}")
    for r in st.scenarios.itertuples():
        click.echo(f"{clip(str(r.scenario))[:20]:20} {r.probability:6.3f} {r.cost_musd:10,.1f} {r.unmet_mw:9,.1f} "
                   f"{r.average_plan_cost_musd:12,.1f} {r.average_plan_unmet_mw:9,.1f}")
    if fresh:
        def est(e: dict) -> str:
            lo, hi = e["ci_low_musd"], e["ci_high_musd"]
            ci = "" if math.isnan(lo) else f" (95% CI {lo:,.1f} to {hi:,.1f})"
            return f"{e['mean_musd']:,.1f} M${ci}"

        click.echo(f"out of sample, {fresh['scenarios']} fresh scenarios (seed {fresh['seed']}): mean cost of the "
                   f"stochastic plan {est(fresh['stochastic'])}, of the average-scenario plan "
                   f"{est(fresh['average'])}; average minus stochastic {est(fresh['average_minus_stochastic'])}")
    click.echo(f"wrote {out}/ (the stochastic plan's files, {', '.join(STOCHASTIC_FILES)}"
               + (", out_of_sample.csv)" if fresh else ")"))
    if st.rp.termination.name != "OPTIMAL":
        click.echo(f"warning: stochastic plan not proven within the {sc.solver.mip_gap:.2%} gap "
                   f"(termination: {st.rp.termination})", err=True)
        _exit(EXIT_NOT_WITHIN_GAP)
    _exit(0)
