"""The cost–latency front: the cheapest plan at each round-trip limit (ε-constraint on the limit).

The inputs are built once, at the loosest limit, so every arc any point may use exists. The
model is compiled once; a point at limit ``L`` closes the ``serve`` column of every arc with
``rtt_ms > L`` (column upper bound 0) in one HiGHS problem kept in memory
(:class:`~siting.solve.Reoptimizer`). Points are solved from the tightest limit to the loosest:
a plan that meets a tighter limit uses only arcs that a looser limit keeps open, so each
point starts from its tighter neighbour's plan, which is feasible there. (The other way, a
looser plan would use arcs the tighter point closes, and the start would be thrown away.)
The tightest point is solved cold by the scenario's strategy; with ``lp_start``, every later
point also runs the LP relaxation and restricted MIP first and starts from the cheaper of that
plan and its neighbour's (see :func:`_warm_solve`), so no point reports a plan dearer than a
tighter point's.

Latency limits: a point sets every region's limit to its value. A region whose demand layer
gives its own ``latency_ms`` keeps it as a cap: its limit at a point is the smaller of the two
(the inputs never hold its arcs above its own limit). The scenario's unmet-demand price is kept,
so a region with no eligible arc at a tight limit shows as unmet demand, not as an infeasible
point.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ScenarioError
from ..inputs.inputs import SitingInputs
from ..inputs.periods import one_period_only
from ..model.decisions import Decisions
from ..solve import SolveOptions, SolveReport

__all__ = ["Point", "Front", "Monotone", "Start", "parse_range", "check_limits", "front", "front_of_inputs",
           "monotone_flags", "front_table", "at_limit",
           "render_front_png", "write_front", "FRONT_FILES", "MAX_LATENCY_MS"]

FRONT_FILES = ("pareto.csv", "pareto.png", "summary.json")
MAX_LATENCY_MS = 2000.0  # the scenario schema's bound on demand.latency_ms
_REL_TOL = 1e-9


class Monotone(enum.StrEnum):
    """Is a point's cost non-increasing from the tighter points' (see :func:`monotone_flags`)?"""

    YES = "yes"
    WITHIN_GAP = "within gap"
    NO = "NO"
    NO_PLAN = "no plan"


class Start(enum.StrEnum):
    """What a point's final solve started from."""

    COLD = "cold"
    NEIGHBOUR = "neighbour"  # the tighter neighbour's plan
    LP_RESTRICTED = "lp_restricted"  # the plan of the LP relaxation's restricted MIP


@dataclass(frozen=True)
class Point:
    """One point of the front: its limit (ms), the solver's report, the plan and how it started."""

    limit_ms: float
    report: SolveReport
    decisions: Decisions | None
    warm_start: bool
    unreachable_regions: int  # regions with no eligible arc at this limit
    start: Start = Start.COLD  # what the final solve started from


@dataclass
class Front:
    points: list[Point]
    table: pd.DataFrame
    inputs: SitingInputs
    name: str = "scenario"
    notes: list[str] = field(default_factory=list)

    @property
    def uncertain(self) -> list[float]:
        """Limits (ms) whose monotonicity rests on a reported gap, or whose plan is missing."""
        return [float(r.limit_ms) for r in self.table.itertuples() if r.monotone != Monotone.YES]


def parse_range(text: str, field_name: str = "--latency-ms") -> list[float]:
    """``start:stop:step`` (inclusive of ``stop`` when a step lands on it) or ``a,b,c`` -> limits (ms).

    >>> parse_range("30:150:40"), parse_range("50"), parse_range("100, 30")
    ([30.0, 70.0, 110.0, 150.0], [50.0], [30.0, 100.0])
    >>> parse_range("30:150:0")
    Traceback (most recent call last):
    ...
    siting.errors.ScenarioError: --latency-ms: step 0 must be > 0 (write start:stop:step, e.g. 30:150:10)
    """
    text = str(text).strip()
    usage = "write start:stop:step, e.g. 30:150:10"
    try:
        if ":" in text:
            parts = [float(p) for p in text.split(":")]
            if len(parts) != 3:
                raise ScenarioError(f"{field_name}: {text!r} has {len(parts)} parts ({usage})")
            start, stop, step = parts
            if not step > 0 or not math.isfinite(step):
                raise ScenarioError(f"{field_name}: step {step:g} must be > 0 ({usage})")
            if not stop >= start:
                raise ScenarioError(f"{field_name}: stop {stop:g} is below start {start:g} ({usage})")
            n = math.floor((stop - start) / step + 1e-9) + 1
            if n > 1000:
                raise ScenarioError(f"{field_name}: {n} points; at most 1000 ({usage})")
            values = [round(start + i * step, 9) for i in range(n)]
        else:
            values = [float(p) for p in text.split(",") if p.strip()]
    except ValueError as exc:
        if isinstance(exc, ScenarioError):
            raise
        raise ScenarioError(f"{field_name}: {text[:40]!r} is not a number list ({usage})") from None
    return check_limits(values, field_name)


def check_limits(values: Sequence[float], field_name: str = "latency_ms") -> list[float]:
    """The limits sorted, duplicates dropped; each finite, > 0 and <= 2000 ms, else one error."""
    vals = [float(v) for v in values]
    if not vals:
        raise ScenarioError(f"{field_name}: no latency limit given")
    bad = [v for v in vals if not (math.isfinite(v) and 0 < v <= MAX_LATENCY_MS)]
    if bad:
        raise ScenarioError(f"{field_name}: {bad[0]:g} ms is out of range (each limit must be > 0 and "
                            f"<= {MAX_LATENCY_MS:g} ms)")
    return sorted(set(vals))


def monotone_flags(limits_ms, objective, bound) -> list[Monotone]:
    """Is the cost non-increasing as the limit loosens? One flag per point (limits ascending).

    ``yes``: no tighter point's plan is cheaper. ``within gap``: a tighter point's plan is
    cheaper, but this point's bound lies below that cost, so the true front may still be
    monotone; the point's gap leaves it uncertain. ``NO``: this point's bound is above a
    tighter plan's cost, which no correct solve allows. ``no plan``: the point has no solution.

    >>> [str(f) for f in monotone_flags([30, 40, 50], [10.0, 9.0, 9.5], [9.9, 8.0, 8.9])]
    ['yes', 'yes', 'within gap']
    >>> monotone_flags([30, 40], [10.0, 11.0], [10.0, 10.5])[1]
    <Monotone.NO: 'NO'>
    """
    order = np.argsort(np.asarray(limits_ms, float), kind="stable")
    flags: list[Monotone] = [Monotone.NO_PLAN] * len(order)
    best = math.inf  # cheapest plan cost over tighter points
    for i in order:
        obj, bnd = objective[i], bound[i]
        if obj is None or not math.isfinite(obj):
            flags[i] = Monotone.NO_PLAN
            continue
        tol = _REL_TOL * max(1.0, abs(obj))
        if obj <= best + tol:
            flags[i] = Monotone.YES
        elif bnd is not None and math.isfinite(bnd) and bnd > best + tol:
            flags[i] = Monotone.NO
        else:
            flags[i] = Monotone.WITHIN_GAP
        best = min(best, obj)
    return flags


def _eligible(inp: SitingInputs, limit_ms: float) -> np.ndarray:
    """Arcs usable at ``limit_ms``: within the point's limit and the region's own limit."""
    own = inp.regions["latency_ms"].to_numpy(float)[inp.arcs["region"].to_numpy()]
    return inp.arcs["rtt_ms"].to_numpy(float) <= np.minimum(own, limit_ms) + 1e-9


def front_of_inputs(inp: SitingInputs, latencies_ms: Sequence[float], opts: SolveOptions, *,
                    name: str = "scenario", progress: Callable[[str], None] | None = None) -> Front:
    """The front for ready inputs (built at the loosest limit or looser), one point per limit.
    Every solve takes the pipeline's path (:func:`siting.pipeline.solve_model`): the model is
    checked for memory and compiled once, and no point returns a plan dearer than its start."""
    from ..pipeline import check_decisions, compile_checked, solve_model
    from ..solve import Reoptimizer

    say = progress or (lambda _m: None)
    limits = check_limits(latencies_ms)
    one_period_only(inp.periods, "siting pareto")  # a build-out's studies are not yet over periods (issue 20)
    comp, _build_s = compile_checked(inp, progress=say)
    cols = comp.columns["serve"]
    has_col = cols >= 0
    ub_full = comp.sf.col_upper[cols[has_col]]
    lo_full = comp.sf.col_lower[cols[has_col]]
    region_of = inp.arcs["region"].to_numpy()
    reopt, prev, points = None, None, []
    for limit in limits:
        ok = _eligible(inp, limit)
        ub = np.where(ok[has_col], ub_full, 0.0)
        unreachable = int(len(inp.regions) - np.unique(region_of[ok]).size)
        t0 = time.perf_counter()
        if prev is None:
            say(f"{limit:g} ms: solving cold ({int(ok.sum()):,} of {len(ok):,} arcs eligible)")
            col_upper = comp.sf.col_upper.copy()
            col_upper[cols[has_col]] = ub
            done = solve_model(inp, opts, compiled=comp, sf=dataclasses.replace(comp.sf, col_upper=col_upper),
                               progress=say)
            start = Start.COLD
        else:
            say(f"{limit:g} ms: solving from the {prev.limit_ms:g} ms plan ({int(ok.sum()):,} arcs eligible)")
            if reopt is None:
                reopt = Reoptimizer(comp.sf, opts)
            reopt.set_col_bounds(cols[has_col], lo_full, ub)
            done, start = _warm_solve(inp, comp, reopt, prev.report.x, say)
        report, dec = done.report, done.decisions
        if dec is not None:  # checked at this limit: every region's limit is min(its own, the point's)
            check_decisions(at_limit(inp, limit), dec, report, where=f"front point {limit:g} ms")
        point = Point(limit, report, dec, prev is not None, unreachable, start)
        gap = "n/a" if report.gap is None else f"{report.gap:.2%}"
        say(f"{limit:g} ms: {report.termination}, PV cost "
            + ("none" if report.objective is None else f"{report.objective:,.1f} M$") + f", gap {gap}, "
            f"{time.perf_counter() - t0:.1f} s")
        points.append(point)
        if dec is not None:
            prev = point
    table = front_table(points, inp)
    notes = [f"points solved from the tightest limit ({limits[0]:g} ms) to the loosest "
             f"({limits[-1]:g} ms), each from its tighter neighbour's plan (feasible at the looser limit)"]
    own = inp.regions["latency_ms"].to_numpy(float)
    if np.any(own < limits[-1]):
        notes.append(f"{int((own < limits[-1]).sum())} regions have their own latency limit below "
                     f"{limits[-1]:g} ms and keep it as a cap")
    return Front(points, table, inp, name, notes)


def at_limit(inp: SitingInputs, limit_ms: float) -> SitingInputs:
    """``inp`` with every region's latency limit at most ``limit_ms`` (what a point's plan must keep)."""
    own = inp.regions["latency_ms"].to_numpy(float)
    return dataclasses.replace(inp, regions=inp.regions.assign(latency_ms=np.minimum(own, limit_ms)))


def _warm_solve(inp: SitingInputs, comp, reopt, neighbour: np.ndarray, say: Callable[[str], None]) -> tuple:
    """One point from its tighter neighbour's plan ``neighbour`` (feasible here) on the kept
    problem ``reopt``; ``(Solved, Start)``. Each solve is the pipeline's path, which keeps the
    start it is given where the solver returns a dearer plan.

    With the ``lp_start`` strategy, the LP relaxation and the MIP restricted to the sites the LP
    opens run first, from the neighbour's plan, on a short budget (``restricted_time_s``): a plan
    they prove within the gap by the LP bound ends the point. Otherwise the kept HiGHS problem
    solves the full MIP from the cheaper of that plan and the neighbour's, and the LP bound stays
    a valid bound. Measured on the default scenario, HiGHS from the neighbour's plan alone often
    ended the 120 s at the neighbour's plan, 1-2.5 % from its bound.
    """
    from ..pipeline import Solved, solve_model
    from ..solve import SolutionStatus, Termination

    opts = reopt.opts
    t0 = time.perf_counter()
    same = lambda done, x: done.report.x is not None and np.array_equal(done.report.x, x)  # noqa: E731
    runs: list[tuple] = []  # (Solved, what its plan is or started from)
    begin = (neighbour, Start.NEIGHBOUR)
    if opts.strategy in ("lp_start", "auto"):  # auto is lp_start on siting models
        quick_s = min(max(opts.restricted_time_s, 1.0), opts.time_limit_s)
        quick = solve_model(inp, dataclasses.replace(opts, time_limit_s=quick_s), compiled=comp, sf=reopt.sf,
                            start=neighbour, progress=say)
        runs.append((quick, Start.NEIGHBOUR if same(quick, neighbour) else Start.LP_RESTRICTED))
        if quick.report.x is not None:
            begin = (quick.report.x, runs[-1][1])
    if not runs or not _within_gap(runs, opts.mip_gap):
        left = opts.time_limit_s - (time.perf_counter() - t0)
        full = solve_model(inp, dataclasses.replace(opts, time_limit_s=max(left, 1e-3)), compiled=comp,
                           reoptimizer=reopt, start=begin[0], progress=say)
        runs.append((full, begin[1]))
    chosen, start = min(((d, s) for d, s in runs if d.report.x is not None),
                        key=lambda r: r[0].report.objective, default=runs[-1])
    report = chosen.report
    bounds = [d.report.best_bound for d, _ in runs if d.report.best_bound is not None]
    bound = max(bounds) if bounds else None
    obj = report.objective
    gap = None if bound is None or obj is None else max(obj - bound, 0.0) / max(abs(obj), 1e-9)
    proven = _within_gap(runs, opts.mip_gap)
    term = Termination.OPTIMAL if proven else (
        report.termination if report.termination != Termination.OPTIMAL else Termination.UNKNOWN)
    report = dataclasses.replace(
        report, termination=term, solution_status=SolutionStatus.OPTIMAL if proven else SolutionStatus.FEASIBLE,
        best_bound=bound, gap=gap,
        solve_s=time.perf_counter() - t0, phases=tuple(p for d, _ in runs for p in d.report.phases),
        strategy=f"{opts.strategy}, from the neighbour's plan")
    return Solved(report, chosen.decisions, comp), start


def _within_gap(runs, mip_gap: float) -> bool:
    """The cheapest plan of ``runs`` (``(Solved, _)``) is proven within ``mip_gap`` by the best
    valid bound of any of them."""
    objs = [d.report.objective for d, _ in runs if d.report.x is not None]
    bounds = [d.report.best_bound for d, _ in runs if d.report.best_bound is not None]
    if not objs or not bounds:
        return False
    obj = min(objs)
    return max(obj - max(bounds), 0.0) / max(abs(obj), 1e-9) <= mip_gap + 1e-12


def front(scenario, latencies_ms: Sequence[float], *, options: SolveOptions | None = None,
          progress: Callable[[str], None] | None = None) -> Front:
    """The cost–latency front of ``scenario``: inputs built once at the loosest limit, one solve per limit."""
    from ..inputs.inputs import from_layers
    from ..pipeline import options_from

    limits = check_limits(latencies_ms)
    loose = scenario.model_copy(update={"demand": scenario.demand.model_copy(update={"latency_ms": limits[-1]})})
    inp = from_layers(loose, progress=progress)
    for note in inp.notes:
        (progress or (lambda _m: None))(note)
    return front_of_inputs(inp, limits, options or options_from(scenario), name=scenario.name,
                           progress=progress)


def front_table(points: Sequence[Point], inp: SitingInputs) -> pd.DataFrame:
    """One row per point: limit, cost, bound, gap, sites, MW by backhaul, unmet, flags."""
    link = inp.arcs["link"].to_numpy()
    site_ids = inp.sites["site_id"].to_numpy()
    rows = []
    for p in points:
        rep, dec = p.report, p.decisions
        row = {"limit_ms": p.limit_ms, "objective_musd": rep.objective, "bound_musd": rep.best_bound,
               "gap": rep.gap, "termination": str(rep.termination), "proven": rep.proven_optimal}
        if dec is None:
            row |= {"n_sites": None, "fiber_mw": None, "satellite_mw": None, "unmet_mw": None,
                    "satellite_share": None, "site_ids": ""}
        else:
            served = dec.serve_mw.sum()
            sat = float(dec.serve_mw[link == "satellite"].sum())
            row |= {"n_sites": int(dec.open.sum()), "fiber_mw": float(dec.serve_mw[link == "fiber"].sum()),
                    "satellite_mw": sat, "unmet_mw": float(dec.unmet_mw.sum()),
                    "satellite_share": sat / served if served > 0 else 0.0,
                    "site_ids": ";".join(str(s) for s in site_ids[dec.open])}
        row |= {"unreachable_regions": p.unreachable_regions, "warm_start": p.warm_start, "start": p.start,
                "solve_s": rep.solve_s}
        rows.append(row)
    table = pd.DataFrame(rows)
    table.insert(6, "monotone", monotone_flags(table["limit_ms"].tolist(), table["objective_musd"].tolist(),
                                               table["bound_musd"].tolist()) if len(table) else [])
    return table


def render_front_png(fr: Front, path, *, width_in: float = 9.0, height_in: float = 7.0, dpi: int = 100) -> None:
    """Write ``path``: PV cost (with the bound) and the fiber / satellite / unmet MW against the limit."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    t = fr.table[fr.table["objective_musd"].notna()]
    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    FigureCanvasAgg(fig)
    ax_cost, ax_mix = fig.subplots(2, 1, sharex=True)
    x = t["limit_ms"].to_numpy(float)
    obj = t["objective_musd"].to_numpy(float) / 1e3
    ax_cost.plot(x, obj, "o-", color="#1f77b4", label="PV cost (plan)")
    bound = t["bound_musd"].astype(float).to_numpy() / 1e3
    ax_cost.fill_between(x, np.where(np.isfinite(bound), bound, obj), obj, color="#1f77b4", alpha=0.2,
                         label="gap to the bound")
    flagged = t["monotone"].to_numpy() != Monotone.YES
    if flagged.any():
        ax_cost.plot(x[flagged], obj[flagged], "x", color="#d62728", ms=10, label="monotone only within gap")
    ax_cost.set_ylabel("PV cost (B$)")
    ax_cost.legend(frameon=False, fontsize=9)
    ax_cost.grid(alpha=0.3)
    ax_cost.set_title(f"{fr.name}: cost–latency front")
    mix = [t[c].astype(float).to_numpy() for c in ("fiber_mw", "satellite_mw", "unmet_mw")]
    ax_mix.stackplot(x, *mix, labels=["fiber", "satellite", "unmet"],
                     colors=["#555555", "#d62728", "#ffbf00"], alpha=0.8)
    ax_mix.set_xlabel("round-trip latency limit (ms)")
    ax_mix.set_ylabel("inference MW")
    ax_mix.legend(loc="lower right", frameon=False, fontsize=9)
    ax_mix.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, format="png")


def write_front(fr: Front, out, *, run: dict | None = None, run_id: str | None = None):
    """Write pareto.csv, pareto.png and summary.json into ``out`` (see :mod:`siting.outputs.outdir`)."""
    from ..outputs.outdir import replace_dir
    from ..outputs.results import json_default, write_csv

    table = fr.table.astype(object).where(fr.table.notna(), None)
    summary = {"scenario": fr.name, "limits_ms": fr.table["limit_ms"].tolist(),
               "points": table.to_dict(orient="records"), "uncertain_monotonicity_ms": fr.uncertain,
               "notes": fr.notes, "inputs": fr.inputs.size, "run": run or {}}
    with replace_dir(Path(out), {"scenario": fr.name, "kind": "pareto"}, run_id=run_id) as (tmp, info):
        write_csv(fr.table, tmp / "pareto.csv")
        render_front_png(fr, tmp / "pareto.png")
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, default=json_default))
    return info["written"]
