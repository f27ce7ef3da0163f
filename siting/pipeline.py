"""Scenario -> plan in one call, for the CLI and notebooks: inputs, model, solve, tables."""

from __future__ import annotations

import dataclasses
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import NoSolutionError, ScenarioError
from .inputs.diagnose import diagnose, elastic, explain_infeasible, grouped, listed
from .inputs.inputs import SitingInputs, from_layers
from .model import Compiled, compile_inputs, n_periods, period_view, read_decisions, read_schedule, start_vector
from .model.decisions import Decisions
from .model.estimate import check_fits, estimate
from .model.polish import polish
from .model.repair import cell_start
from .model.warmstart import keep_start, lift, restrict_sites
from .outputs.audit import require_clean
from .outputs.outdir import Written
from .outputs.results import Plan, make_plan, write_outputs
from .scenario import Scenario, WarmStart, load_scenario
from .solve import (
    Phase,
    Reoptimizer,
    SolutionStatus,
    SolveOptions,
    SolveReport,
    StandardForm,
    Termination,
    feasible,
    lp_optimum,
    relative_gap,
    solve,
)

__all__ = ["Run", "Solved", "compile_checked", "check_decisions", "precheck", "explain_no_plan",
           "solve_model", "solve_scenario", "solve_inputs", "solve_report",
           "solve_from_subset", "options_from", "run_info", "solve_myopic", "solve_buildout"]


@dataclass
class Run:
    scenario: Scenario
    inputs: SitingInputs
    plan: Plan

    def write(self, out: str | Path, run_id: str | None = None) -> Written:
        """Write the plan's files (and the resolved scenario) into ``out``; see :mod:`siting.outputs.outdir`."""
        return write_outputs(self.plan, self.inputs, Path(out), scenario=self.scenario, run_id=run_id)


def options_from(sc: Scenario, log: bool = False) -> SolveOptions:
    s = sc.solver
    return SolveOptions(time_limit_s=s.time_limit_s, mip_gap=s.mip_gap, threads=s.threads,
                        seed=s.seed, strategy=s.strategy, restricted_time_s=s.restricted_time_s,
                        log=log)


@dataclass(frozen=True)
class Solved:
    """What the one solve path returns: the solver's report (never dearer than a feasible start),
    the plan's decisions (None: no plan) and the compiled model (for the caller's next solve)."""

    report: SolveReport
    decisions: Decisions | None
    compiled: Compiled

    @property
    def x(self) -> np.ndarray | None:
        return self.report.x


def compile_checked(inp: SitingInputs, *, progress: Callable[[str], None] | None = None) -> tuple[Compiled, float]:
    """The first two steps of the solve path: compile, then refuse, with the numbers, a model that
    cannot be solved in the memory there is (:func:`~siting.model.estimate.check_fits` on the compiled
    model's own counts). ``(compiled, build_s)``: ``build_s`` is the time beyond the standard
    form's own (0 when the arrays are made directly)."""
    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    comp = compile_inputs(inp)
    build_s = time.perf_counter() - t0 - comp.sf.seconds  # the Pyomo build (0 when assembled)
    est = estimate(comp)
    say(est.line())
    check_fits(est)
    how = "assembled (numpy)" if comp.built_by == "numpy" else f"built (Pyomo) in {build_s:.1f} s and compiled"
    say(f"{how} {comp.sf.shape[0]:,} rows x {comp.sf.shape[1]:,} columns "
        f"({int(comp.sf.integer.sum()):,} integer) in {comp.sf.seconds:.1f} s")
    return comp, build_s


def solve_model(inp: SitingInputs, opts: SolveOptions, *, compiled: Compiled | None = None,
                sf: StandardForm | None = None, reoptimizer: Reoptimizer | None = None,
                start: Decisions | np.ndarray | None = None, progress: Callable[[str], None] | None = None,
                lp=None) -> Solved:
    """The one solve path: compile and check it fits (:func:`compile_checked`) -> solve ->
    keep the start (:func:`~siting.model.warmstart.keep_start`: never dearer than a feasible start) ->
    read the decisions. Every caller takes it: the pipeline, sweeps, fronts, alternatives, N-1.

    ``compiled``: a model already compiled (and checked) for ``inp``'s structure, solved as it is.
    ``sf``: the arrays to solve instead of ``compiled.sf`` (same columns; e.g. with some columns
    closed or a row added). ``reoptimizer``: solve its kept, updated arrays in place
    (:class:`~siting.solve.Reoptimizer`; ``sf`` is then its own). ``start``: a plan on the axes
    of ``inp`` (:class:`Decisions`) or a column vector to start from. ``lp``: the LP relaxation of
    ``compiled`` already solved to optimality (:func:`~siting.solve.lp_optimum`), for ``lp_start``."""
    say = progress or (lambda _m: None)
    build_s = None
    if compiled is None:
        compiled, build_s = compile_checked(inp, progress=say)
    comp = compiled
    if reoptimizer is not None:
        sf = reoptimizer.sf
    sf = comp.sf if sf is None else sf
    x0 = start_vector(comp, inp, start) if isinstance(start, Decisions) else start
    pre, spent = (), 0.0
    if x0 is None and reoptimizer is None and sf is comp.sf and n_periods(inp) == 1 and inp.sat_cell is not None:
        # satellite cells: a start from the plan without them, repaired to keep them (model/repair.py)
        t0 = time.perf_counter()
        x0, pre = cell_start(comp, opts, progress=say, lazy=comp.lazy_rows)
        spent = time.perf_counter() - t0
        opts = dataclasses.replace(opts, time_limit_s=max(opts.time_limit_s - spent, 1e-3))
    if x0 is not None and not feasible(sf, np.asarray(x0, float)):
        say("the start is not feasible for this model (e.g. N-1 recourse flows are not carried "
            "over): the solver gets it as a hint only")
    if reoptimizer is not None:
        report = reoptimizer.solve(start=x0, progress=say, time_limit_s=opts.time_limit_s)
    else:
        report = solve(sf, opts, restrict=comp.open_mask, start=x0, progress=say,
                       support=comp.support_mask, lazy=_rows_of(comp.lazy_rows, sf), lp=lp)
    report = keep_start(sf, report, x0)
    if pre:
        report = dataclasses.replace(report, phases=pre + report.phases, solve_s=report.solve_s + spent)
    report = _polished(comp, inp, sf, report, say)
    if build_s is not None:
        report = dataclasses.replace(report, build_s=build_s)
    P = n_periods(inp)  # with periods: the plan as built by the last one (read_schedule: every period)
    return Solved(report, None if report.x is None else read_decisions(period_view(comp, P - 1, P), inp, report.x),
                  comp)


def solve_myopic(inp: SitingInputs, opts: SolveOptions, *, progress: Callable[[str], None] | None = None,
                 time_limit_s: float | None = None, lookahead: int = 0, allowed: np.ndarray | None = None) -> Solved:
    """The myopic build-out: period by period, each solve seeing only the periods up to its own
    (and ``lookahead`` more: a rolling horizon), every earlier period's decisions fixed (column
    bounds) to the previous solve's. The last solve is the whole model with all but its last
    period fixed: its report is the plan's full cost, its ``x`` a feasible start for the
    perfect-foresight model (same compiled columns). ``time_limit_s`` (default
    ``opts.time_limit_s``) is shared: each period gets what is left over the periods left.
    ``allowed``: (periods, sites) mask of the site openings each solve may use (e.g. those the
    perfect-foresight LP uses: a myopic plan guided by foresight); the others stay closed."""
    say = progress or (lambda _m: None)
    P = n_periods(inp)
    budget = opts.time_limit_s if time_limit_s is None else time_limit_s
    t0, prev, phases = time.perf_counter(), None, []
    for t in range(P):
        n = min(t + 1 + lookahead, P)
        sub = inp if n == P else dataclasses.replace(inp, periods=inp.periods.first(n), cell_gbps=(
            inp.cell_gbps[:n] if inp.cell_gbps is not None and np.ndim(inp.cell_gbps) == 3 else inp.cell_gbps))
        comp = compile_inputs(sub)
        sf = comp.sf if prev is None else _fixed_before(comp, n, t, *prev)
        if allowed is not None:
            sf = _closed_unless(comp, sf, n, allowed)
        left = max(budget - (time.perf_counter() - t0), 1e-3) / (P - t)
        say(f"myopic: period {int(inp.periods.years[t])} ({t + 1} of {P}) within {left:.0f} s")
        done = solve_model(sub, dataclasses.replace(opts, time_limit_s=left), compiled=comp, sf=sf)
        if done.report.x is None:
            raise NoSolutionError(f"myopic build-out: no plan for period {int(inp.periods.years[t])} "
                                  f"({done.report.termination}) with the earlier periods fixed")
        phases.append(Phase(f"myopic {int(inp.periods.years[t])}", done.report.termination,
                            done.report.objective, done.report.solve_s))
        prev = (comp, n, done.report.x)
    # a feasible build-out, not a proven one: the last solve's bound holds only with the earlier
    # periods fixed, so no bound and no gap are claimed (compare with the perfect-foresight bound)
    report = dataclasses.replace(done.report, phases=tuple(phases) + done.report.phases,
                                 solve_s=time.perf_counter() - t0, best_bound=None, gap=None,
                                 solution_status=SolutionStatus.FEASIBLE, strategy="myopic")
    return dataclasses.replace(done, report=report)


def _closed_unless(comp: Compiled, sf: StandardForm, n: int, allowed: np.ndarray) -> StandardForm:
    """``sf`` (``n`` periods) with every site opening not in ``allowed[:n]`` closed (upper bound 0),
    except where its lower bound (an earlier period fixed) keeps it open."""
    cols = comp.columns["open"].reshape(n, -1)
    shut = cols[~np.asarray(allowed, bool)[:n] & (cols >= 0)]
    shut = shut[sf.col_lower[shut] < 0.5]
    up = sf.col_upper.copy()
    up[shut] = 0.0
    return dataclasses.replace(sf, col_upper=up)


def _fixed_before(comp: Compiled, n: int, t: int, prev: Compiled, n_prev: int, x: np.ndarray) -> StandardForm:
    """``comp``'s arrays (``n`` periods) with every column of periods before ``t`` fixed to ``x``
    (the solution of ``prev``, a model of ``n_prev`` >= t periods); a family ``prev`` lacked is 0."""
    sf = comp.sf
    lo, up = sf.col_lower.copy(), sf.col_upper.copy()
    for name, cols in comp.columns.items():
        cur = cols.reshape(n, -1)[:t]
        old = prev.columns.get(name)
        vals = (np.zeros(cur.shape) if old is None
                else np.where(old >= 0, x[np.maximum(old, 0)], 0.0).reshape(n_prev, -1)[:t])
        ok = cur >= 0
        c = cur[ok]
        v = np.where(sf.integer[c], np.round(vals[ok]), vals[ok])
        v = np.clip(v, lo[c], up[c])
        lo[c], up[c] = v, v
    return dataclasses.replace(sf, col_lower=lo, col_upper=up)


def solve_buildout(inp: SitingInputs, opts: SolveOptions, *, foresight: str = "perfect", myopic_start: bool = True,
                   lookahead: int = 0, progress: Callable[[str], None] | None = None) -> Solved:
    """A build-out over investment periods: ``foresight="myopic"`` is :func:`solve_myopic` (with
    ``lookahead`` periods more in each solve); ``"perfect"`` the whole MILP started
    (``myopic_start``) from a myopic plan, so the plan is never dearer than it.

    The perfect-foresight path (measured on models/buildout.yaml, 1 thread, load 1): first the LP
    relaxation with every row by the interior point method (~105 s; its optimum is the bound, 2.5 %
    above where row generation had got in 205 s), then the myopic plan guided by it (each period
    may open only the sites the LP opens by then: 404,475 M$ in 20 s, where the unguided myopic
    plan is 406,550 M$ in 61 s), then the MIP restricted to the LP's sites from that plan for the
    time left, stopped at the first plan the LP bound proves within the gap. Where the LP does
    not end within half the time limit, the unguided myopic plan (a third of the time) starts the
    usual ``lp_start`` path."""
    say = progress or (lambda _m: None)
    if foresight == "myopic":
        return solve_myopic(inp, opts, progress=say, lookahead=lookahead)
    if not myopic_start:
        return solve_model(inp, opts, progress=say)
    t0 = time.perf_counter()
    comp, _ = compile_checked(inp, progress=say)
    lp = lp_optimum(comp.sf, dataclasses.replace(opts, time_limit_s=opts.time_limit_s / 2), progress=say)
    lp_phase = Phase("lp_relaxation (interior point)", lp.termination, lp.objective, time.perf_counter() - t0)
    guided = lp.termination == Termination.OPTIMAL and lp.x is not None
    allowed = None
    if guided:
        opens = comp.columns["open"].reshape(n_periods(inp), -1)
        allowed = (lp.x[opens] > 1e-6) & (opens >= 0)
        say(f"myopic start guided by the LP: {int(allowed.sum()):,} site openings of "
            f"{int((opens >= 0).sum()):,} over the periods")
    else:
        say("the LP did not end within half the time limit: an unguided myopic start")
    left = opts.time_limit_s - (time.perf_counter() - t0)
    first = solve_myopic(inp, opts, progress=say, time_limit_s=left / 3, lookahead=lookahead, allowed=allowed)
    spent = time.perf_counter() - t0
    say(f"myopic start: {first.report.objective:,.1f} in {spent:.0f} s; perfect foresight from it")
    left = max(opts.time_limit_s - spent, 1e-3)
    rest = dataclasses.replace(opts, time_limit_s=left, restricted_time_s=left if guided else opts.restricted_time_s)
    done = solve_model(inp, rest, compiled=comp, start=first.report.x, progress=say, lp=lp if guided else None)
    phase = Phase("myopic start" + (" (LP-guided)" if guided else ""), first.report.termination,
                  first.report.objective, spent - lp_phase.seconds)
    report = dataclasses.replace(done.report, phases=(lp_phase, phase) + done.report.phases,
                                 solve_s=done.report.solve_s + spent)
    return dataclasses.replace(done, report=report)


def _polished(comp: Compiled, inp: SitingInputs, sf: StandardForm, report: SolveReport,
              say: Callable[[str], None]) -> SolveReport:
    """``report`` with its plan polished (:func:`~siting.model.polish.polish`: open sites with no IT
    load closed, unused fiber and satellite units dropped, each move kept only where the model still
    holds and the cost falls), re-costed, its gap re-measured from the same bound and a ``polish``
    phase and notes saying what changed. A build-out is polished period by period, first to last
    (each period's columns; every move still checked on the whole statement, rows across periods
    included, so it can only close or trim what no later period needs)."""
    if report.x is None:
        return report
    t0 = time.perf_counter()
    P = n_periods(inp)
    x, objective, moves = report.x, report.objective, []
    for t in range(P):
        done = polish(period_view(comp, t, P), inp, x, sf)
        x, objective = (done.x, done.objective) if done.moves else (x, objective)
        moves += [m if P == 1 else f"{inp.periods.years[t]}: {m}" for m in done.moves]
    if not moves:
        return report
    for move in moves:
        say(f"polish: {move}")
    say(f"polish: PV cost {report.objective:,.3f} -> {objective:,.3f} M$")
    return dataclasses.replace(
        report, x=x, objective=objective, gap=relative_gap(objective, report.best_bound),
        phases=report.phases + (Phase("polish", report.termination, objective, time.perf_counter() - t0),),
        notes=report.notes + tuple(f"polish: {m}" for m in moves))


def check_decisions(inp: SitingInputs, dec: Decisions, report: SolveReport, *, where: str = "",
                    objective: float | None = None) -> Plan:
    """The plan of ``dec`` as tables, run through the independent post-check
    (:func:`~siting.outputs.audit.require_clean`; :class:`~siting.errors.PlanCheckError` naming the
    families it breaks). ``objective``: the plan's true PV cost where the report's objective is
    another one (an alternative's)."""
    if objective is not None:
        report = dataclasses.replace(report, objective=objective)
    plan = make_plan(inp, dec, report)
    require_clean(plan, inp, where)
    return plan


def _rows_of(mask: np.ndarray | None, sf: StandardForm) -> np.ndarray | None:
    """A row mask of the compiled model for ``sf``, which may have rows added after them (not lazy)."""
    if mask is None or len(mask) == sf.shape[0]:
        return mask
    return np.concatenate([mask, np.zeros(sf.shape[0] - len(mask), bool)])


def solve_report(inp: SitingInputs, opts: SolveOptions, *, progress: Callable[[str], None] | None = None,
                 start: Decisions | None = None) -> tuple[SolveReport, Decisions | None]:
    """:func:`solve_model` as ``(report, decisions)``: the solver's report and the plan's decisions.

    ``start``: a plan on the axes of ``inp`` to start from; the plan returned is never dearer than
    it (when it is feasible)."""
    done = solve_model(inp, opts, start=start, progress=progress)
    return done.report, done.decisions


def solve_from_subset(inp: SitingInputs, opts: SolveOptions, warm: WarmStart, *,
                      progress: Callable[[str], None] | None = None) -> tuple[SolveReport, Decisions | None]:
    """Solve over the first ``warm.candidates`` candidates (the best-ranked: ``from_layers`` keeps
    them in ``candidates.rank_by`` order) within ``warm.time_s``, then over all of them from that
    plan in what is left of ``opts.time_limit_s``. The full plan is never dearer than the subset's
    (:func:`~siting.model.warmstart.keep_start`); the report's first phase is the subset's solve. The
    full model is checked and compiled first: one that cannot fit is refused before any solve."""
    say = progress or (lambda _m: None)
    K = len(inp.sites)
    if warm.candidates >= K:
        say(f"warm start: the subset of {warm.candidates} holds all {K} candidates; one solve")
        return solve_report(inp, opts, progress=say)
    comp, build_s = compile_checked(inp, progress=say)
    t0 = time.perf_counter()
    sub = restrict_sites(inp, np.arange(warm.candidates))
    say(f"warm start: solving over the first {warm.candidates} of {K} candidates ({len(sub.arcs):,} of "
        f"{len(inp.arcs):,} arcs) within {min(warm.time_s, opts.time_limit_s):g} s")
    sub_report, sub_dec = solve_report(sub, dataclasses.replace(
        opts, time_limit_s=min(warm.time_s, opts.time_limit_s)), progress=say)
    spent = time.perf_counter() - t0
    start = None if sub_dec is None else lift(sub_dec, sub, inp)
    left = max(opts.time_limit_s - spent, 1e-3)
    say("warm start: " + ("no subset plan" if start is None else f"subset plan {sub_report.objective:,.1f}")
        + f"; solving all {K} candidates within {left:.0f} s")
    done = solve_model(inp, dataclasses.replace(opts, time_limit_s=left), compiled=comp, start=start, progress=say)
    phase = Phase("subset", sub_report.termination, sub_report.objective, spent)
    report = dataclasses.replace(done.report, phases=(phase,) + done.report.phases,
                                 solve_s=done.report.solve_s + spent, build_s=build_s)
    return report, done.decisions


def precheck(inp: SitingInputs, *, progress: Callable[[str], None] | None = None) -> None:
    """What makes the scenario infeasible whatever the solver does (:func:`~siting.inputs.diagnose.diagnose`):
    raise :class:`NoSolutionError` naming it; report its warnings. Every command runs it before solving."""
    say = progress or (lambda _m: None)
    findings = diagnose(inp)
    errors = [f.message for f in findings if f.severity == "error"]
    for line in grouped([str(f) for f in findings if f.severity != "error"]):
        say(line)
    if errors:
        raise NoSolutionError("the scenario cannot be met:\n  " + listed(errors))


def explain_no_plan(inp: SitingInputs, opts: SolveOptions, report: SolveReport, *,
                    progress: Callable[[str], None] | None = None) -> None:
    """Raise :class:`NoSolutionError` saying why a solve of ``inp`` ended with no plan: when infeasible,
    the regions left short (an elastic re-solve finds them); else the solver's ending."""
    say = progress or (lambda _m: None)
    if report.termination in (Termination.INFEASIBLE, Termination.INFEASIBLE_OR_UNBOUNDED):
        say("infeasible: re-solving with elastic demand to find what to relax")
        _, short = solve_report(elastic(inp), dataclasses.replace(opts, strategy="plain"))
        raise NoSolutionError(explain_infeasible(inp, None if short is None else short.unmet_mw))
    if report.termination == Termination.MODEL_EMPTY:
        raise NoSolutionError("no plan: the model is empty (no candidate site and no demand)")
    raise NoSolutionError(
        f"no plan: the solver ended '{report.termination}' without a feasible solution"
        + (" (raise --time-limit)" if report.termination == Termination.TIME_LIMIT else ""))


def solve_inputs(inp: SitingInputs, opts: SolveOptions, *, name: str = "scenario",
                 description: str = "", progress: Callable[[str], None] | None = None,
                 inputs_s: float | None = None, run: dict | None = None,
                 warm_start: WarmStart | None = None, check: bool = True, foresight: str = "perfect",
                 myopic_start: bool = True, lookahead: int = 0) -> Plan:
    """Build and solve the model for ready inputs; raise :class:`NoSolutionError` if no plan.

    ``warm_start``: solve a subset of the candidates first (:func:`solve_from_subset`). ``check``:
    run the independent post-check (:func:`~siting.outputs.audit.require_clean`: every rule, N-1
    survival included) and raise :class:`~siting.errors.PlanCheckError` naming the families the
    plan breaks (off only for the N-1 loop's rounds, which check the plan themselves).
    With investment periods: ``foresight``, ``myopic_start`` and ``lookahead`` (:func:`solve_buildout`)."""
    say = progress or (lambda _m: None)
    precheck(inp, progress=say)
    schedule = None
    if n_periods(inp) > 1:  # a build-out: the schedule of every period (warm starts are single-period)
        done = solve_buildout(inp, opts, foresight=foresight, myopic_start=myopic_start, lookahead=lookahead,
                              progress=say)
        report, dec = done.report, done.decisions
        schedule = None if report.x is None else read_schedule(done.compiled, inp, report.x)
    else:
        report, dec = (solve_report(inp, opts, progress=say) if warm_start is None
                       else solve_from_subset(inp, opts, warm_start, progress=say))
    if report.x is None:
        explain_no_plan(inp, opts, report, progress=say)
    plan = make_plan(inp, dec, report, scenario_name=name, description=description, inputs_s=inputs_s,
                     run=run, mip_gap=opts.mip_gap, schedule=schedule)
    if check:
        say("post-check: every rule recomputed from the plan's tables" +
            (", N-1 survival of every failure group" if inp.n_minus_1_share is not None else "") +
            (f", in each of the {n_periods(inp)} periods and across them" if schedule is not None else ""))
        require_clean(plan, inp)
    return plan


def run_info(scenario_file: str | Path | None = None, overrides=()) -> dict:
    """Where a run came from: scenario file, every override, versions and the machine's cores."""
    from importlib.metadata import version

    from .scenario import DEFAULT_SCENARIO

    return {"scenario_file": str(scenario_file or DEFAULT_SCENARIO), "overrides": list(overrides),
            "siting_version": version("siting"), "highspy_version": version("highspy"),
            "pyomo_version": version("pyomo"), "python": platform.python_version(),
            "cpu_count": os.cpu_count()}


def solve_scenario(sc: Scenario | str | os.PathLike, *, overrides=(), progress: Callable[[str], None] | None = None,
                   log: bool = False, run: dict | None = None) -> Run:
    """Read the layers, build the inputs, solve and return the plan (nothing written).

    ``sc``: a loaded :class:`Scenario`, or the path of a scenario file (loaded with ``overrides``,
    ``a.b=value`` strings, as ``siting solve`` loads it)."""
    if isinstance(sc, str | os.PathLike):
        if run is None:
            run = run_info(sc, list(overrides))
        sc = load_scenario(sc, list(overrides))
    elif not isinstance(sc, Scenario):
        raise ScenarioError(f"solve_scenario: expected a Scenario (siting.scenario.load_scenario) or the path of "
                            f"a scenario file, got {type(sc).__name__}")
    elif overrides:
        raise ScenarioError("solve_scenario: overrides apply to a scenario file's path; for a loaded Scenario "
                            "pass them to load_scenario")
    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    inp = from_layers(sc, progress=say)
    inputs_s = time.perf_counter() - t0
    for note in inp.notes:
        say(note)
    say(f"inputs ready in {inputs_s:.1f} s")
    plan = solve_inputs(inp, options_from(sc, log), name=sc.name, description=sc.description,
                        progress=say, inputs_s=inputs_s, run=run if run is not None else run_info(),
                        warm_start=sc.solver.warm_start, foresight=sc.time.foresight,
                        myopic_start=sc.time.myopic_start, lookahead=sc.time.myopic_lookahead)
    return Run(sc, inp, plan)
