"""Command line: ``siting solve`` and ``siting validate`` (thin: no model logic here)."""

from __future__ import annotations

import signal
import sys
import time
import uuid
from pathlib import Path

import click

from .errors import NoSolutionError, SitingError
from .scenario import load_scenario

EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_NOT_WITHIN_GAP, EXIT_NO_SOLUTION, EXIT_WRITE_FAILED = 1, 2, 3, 4, 5
EXIT_INTERRUPTED = 130


class _Progress:
    def __init__(self, quiet: bool):
        self.t0, self.quiet = time.perf_counter(), quiet

    def __call__(self, msg: str) -> None:
        if not self.quiet:
            click.echo(f"[{time.perf_counter() - self.t0:6.1f} s] {msg}", err=True)


def _terminate(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def _fail(exc: Exception, code: int):
    click.echo(f"error: {exc}", err=True)
    sys.exit(code)


@click.group()
@click.version_option(package_name="siting")
def main():
    """Site AI compute colonies near remote energy: where, how big, which cooling and backhaul."""


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
def solve(scenario, out, overrides, time_limit, mip_gap, threads, seed, log, quiet, debug):
    """Solve SCENARIO (default: the built-in models/default.yaml) and write the plan."""
    from .outdir import OutputError, check_out, read_manifest, safe_name
    from .pipeline import run_info, solve_scenario

    signal.signal(signal.SIGTERM, _terminate)  # SIGTERM cleans up like Ctrl-C
    extra = [f"solver.{k}={v}" for k, v in (("time_limit_s", time_limit), ("mip_gap", mip_gap),
                                            ("threads", threads), ("seed", seed)) if v is not None]
    progress = _Progress(quiet)
    run_id, stage = uuid.uuid4().hex, "reading"
    try:
        sc = load_scenario(scenario, list(overrides) + extra)
        out = Path(out) if out else Path("results") / safe_name(sc.name)
        check_out(out)
        progress(f"scenario '{sc.name}'")
        stage = "solving"
        run = solve_scenario(sc, progress=progress, log=log,
                             run=run_info(scenario, list(overrides) + extra))
        progress("writing outputs")
        stage = "writing"
        run.write(out, run_id=run_id)
    except NoSolutionError as exc:
        _fail(exc, EXIT_NO_SOLUTION)
    except OutputError as exc:
        _fail(exc, EXIT_WRITE_FAILED if stage == "writing" else EXIT_BAD_INPUT)
    except SitingError as exc:
        _fail(exc, EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        manifest = read_manifest(out) if out else None
        if manifest and manifest.get("run_id") == run_id:
            _fail(f"interrupted after writing: {out} holds the new plan, complete", EXIT_INTERRUPTED)
        _fail(f"interrupted: nothing written; {out or 'the output folder'} is as it was", EXIT_INTERRUPTED)
    except MemoryError:
        _fail("out of memory: the model does not fit in this machine's memory; run `siting validate` "
              "for its size and lower candidates.max_count or demand.max_regions, or tighten "
              "demand.latency_ms", EXIT_BAD_INPUT)
    except Exception as exc:  # never a traceback for a user, unless asked
        if debug:
            raise
        _fail(f"unexpected {type(exc).__name__}: {exc} (run again with --debug for the traceback, "
              "and please report it)", EXIT_INTERNAL)
    click.echo(_summary_text(run.plan, out))
    rep = run.plan.report
    if not rep.proven_optimal and (rep.gap is None or rep.gap > sc.solver.mip_gap + 1e-12):
        click.echo(f"warning: plan not proven within the {sc.solver.mip_gap:.2%} gap "
                   f"(termination: {rep.termination})", err=True)
        sys.exit(EXIT_NOT_WITHIN_GAP)


def _summary_text(plan, out: Path) -> str:
    from .results import OUTPUT_FILES

    s, rep = plan.summary, plan.report
    gap = "n/a" if rep.gap is None else f"{rep.gap:.3%}"
    state = "optimal within gap" if rep.proven_optimal else f"NOT proven optimal ({rep.termination})"
    lines = [
        f"scenario {s['scenario']}: {state}; PV cost {rep.objective:,.0f} M$, "
        f"bound {rep.best_bound:,.0f} M$, gap {gap}",
        f"size: {s['size']['candidates']} candidates, {s['size']['regions']} regions, "
        f"{s['size']['arcs']:,} arcs, {rep.n_variables:,} variables ({rep.n_integer:,} integer), "
        f"{rep.n_constraints:,} constraints",
        f"times: build {rep.build_s:.1f} s, compile {rep.compile_s:.1f} s, solve {rep.solve_s:.1f} s",
        f"plan: {s['plan']['sites']} sites, {s['plan']['it_mw']:,.0f} MW IT, inference "
        f"{s['plan']['inference_mw']:,.0f} MW ({s['plan']['satellite_share']:.1%} by satellite), "
        f"training {s['plan']['training_mw']:,.0f} MW, unmet {s['plan']['unmet_mw']:,.1f} MW",
        "",
        f"{'site':28} {'fuel':8} {'IT MW':>7} {'cooling':13} {'$/MWh':>6} {'backhaul':15} {'PV M$':>9}",
    ]
    for r in plan.sites.sort_values("it_mw", ascending=False).itertuples():
        lines.append(f"{str(r.name)[:28]:28} {str(getattr(r, 'fuel', ''))[:8]:8} {r.it_mw:7.0f} "
                     f"{r.cooling:13} {getattr(r, 'price_usd_per_mwh', float('nan')):6.1f} "
                     f"{r.backhaul:15} {r.total_musd:9,.0f}")
    lines.append(f"\nwrote {out}/ ({', '.join(OUTPUT_FILES)})")
    return "\n".join(lines)


@main.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE")
def validate(scenario, overrides):
    """Check SCENARIO and its layers without solving; report sizes, the model's estimated size
    and memory, and problems (errors first, warnings grouped)."""
    from .diagnose import diagnose, grouped
    from .estimate import check_fits, estimate
    from .inputs import from_layers

    try:
        sc = load_scenario(scenario, list(overrides))
        inp = from_layers(sc)
    except SitingError as exc:
        _fail(exc, EXIT_BAD_INPUT)
    except Exception as exc:  # never a traceback for a user
        _fail(f"unexpected {type(exc).__name__}: {exc} (please report it)", EXIT_INTERNAL)
    findings = diagnose(inp)
    errors = [f for f in findings if f.severity == "error"]
    est = estimate(inp)
    try:
        check_fits(est)
        fits = None
    except SitingError as exc:
        fits = str(exc)
    state = "INFEASIBLE" if errors else "TOO LARGE for this machine" if fits else "valid"
    click.echo(f"scenario '{sc.name}' is {state}: "
               + ", ".join(f"{v} {k}" for k, v in inp.size.items()))
    click.echo(f"  {est.line()}")
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
    LEO over the constellation (median and 95th percentile over an orbit) and the closed form."""
    from .constellation import compare_rtt

    (lat_a, lon_a), (lat_b, lon_b) = _point(a), _point(b)
    try:
        net = load_scenario(None, list(overrides)).network
        row = compare_rtt(lon_a, lat_a, lon_b, lat_b, net).iloc[0]
    except SitingError as exc:
        _fail(exc, EXIT_BAD_INPUT)
    click.echo(f"great circle     {row.great_circle_km:10,.0f} km  (vacuum bound {row.vacuum_rtt_ms:.1f} ms)")
    click.echo(f"fiber (model)    {row.fiber_rtt_ms:10.1f} ms  (Internet path, stretch {net.fiber_internet_stretch:g})")
    click.echo(f"LEO median       {row.leo_median_rtt_ms:10.1f} ms  (constellation, {net.leo_snapshots} snapshots)")
    click.echo(f"LEO p95          {row.leo_p95_rtt_ms:10.1f} ms")
    click.echo(f"LEO closed form  {row.leo_formula_rtt_ms:10.1f} ms  (physics.rtt_leo_ms)")


if __name__ == "__main__":
    main()
