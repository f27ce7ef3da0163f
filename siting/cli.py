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


@main.command("sweep")
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@click.option("--vary", "vary", multiple=True, required=True, metavar="KEY=V1,V2,...",
              help="A field and its values (YAML scalars, comma-separated); several --vary make a grid.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override for every variant.")
@click.option("--out", "out", type=click.Path(file_okay=False), default=None,
              help="Output folder (default: results/<scenario name>-sweep); refused before solving "
                   "if it exists and is not a siting output.")
@click.option("--workers", type=int, default=None, help="Embedded Dask workers (default: the cores).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Use a running Dask scheduler (e.g. tcp://host:8786) instead of an embedded cluster.")
@click.option("--time-limit", type=float, default=None, help="Seconds per variant's solve.")
@click.option("--outputs", is_flag=True, help="Also write each variant's plan files to <out>.variants/<variant>/.")
@click.option("--no-cache", is_flag=True, help="Solve every variant again (no reuse of finished ones).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--debug", is_flag=True, help="Show a traceback on an unexpected error.")
def sweep(scenario, vary, overrides, out, workers, scheduler, time_limit, outputs, no_cache, quiet, debug):
    """Solve every combination of the --vary values of SCENARIO; write sweep.csv, sweep.parquet,
    sweep.png, sweep.json and each variant's resolved scenario. Variants that fail are rows with
    their error; finished variants are cached beside the folder, so a run started again redoes
    only the rest."""
    from .outdir import OutputError, safe_name
    from .sweep import parse_vary
    from .sweep import sweep as run_sweep

    signal.signal(signal.SIGTERM, _terminate)
    stage = "reading"
    try:
        grid = parse_vary(vary)
        if not out:
            out = Path("results") / f"{safe_name(load_scenario(scenario, list(overrides)).name)}-sweep"
        stage = "solving"
        table = run_sweep(scenario, grid, base_overrides=list(overrides), workers=workers, scheduler=scheduler,
                          out=out, time_limit_s=time_limit, outputs=outputs, progress=not quiet,
                          **({"cache_dir": None} if no_cache else {}))
    except OutputError as exc:
        _fail(exc, EXIT_WRITE_FAILED if stage == "solving" and "could not write" in str(exc) else EXIT_BAD_INPUT)
    except SitingError as exc:
        _fail(exc, EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        _fail(f"interrupted: finished variants are cached; {out or 'the output folder'} holds them if any "
              "finished (sweep.json says partial); run the same command again to finish", EXIT_INTERRUPTED)
    except Exception as exc:  # never a traceback for a user, unless asked
        if debug:
            raise
        _fail(f"unexpected {type(exc).__name__}: {exc} (run again with --debug for the traceback, "
              "and please report it)", EXIT_INTERNAL)
    click.echo(_sweep_text(table, list(grid), out))


def _sweep_text(table, keys: list[str], out: Path) -> str:
    cols = ["variant", *keys, "termination", "objective_musd", "gap", "n_sites", "satellite_share",
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


if __name__ == "__main__":
    main()
