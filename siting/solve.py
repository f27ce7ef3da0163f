"""The only module that talks to HiGHS; it knows nothing of siting.

It takes a problem in standard form (:class:`StandardForm`: arrays and a sparse matrix), options,
and optionally a mask of binary columns a strategy may restrict and a start vector; it returns
a :class:`SolveReport` created complete: termination condition and solution status as separate
enums (as ``pyomo.contrib.solver`` does), objective, bound, gap, phases, timings and the
solution vector. Strategies sit in one registry that refuses unknown names:

- ``plain``: HiGHS alone (from the start vector, if one is given);
- ``lp_start``: the LP relaxation, then the MIP restricted to the masked columns the LP uses
  (short budget), then the full MIP from that plan (SPEC.md, "Solving realistic instances").
  With many ``lazy`` rows (``LARGE_LAZY_ROWS``) the LP is solved by row generation, a MIP with the
  ``support`` binaries fixed to the LP's support gives a first plan, and each MIP stops at the
  first plan the LP bound proves within the gap.

``time_limit_s`` bounds the whole solve, every phase included. A plan is called proven only
against a valid bound: HiGHS's own, or the LP relaxation's objective when that LP ended optimal.
:class:`Reoptimizer` keeps one HiGHS problem and re-solves it after cost or bound changes,
without rebuilding anything.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib.metadata import version

import highspy
import numpy as np

__all__ = ["SolveOptions", "SolveReport", "StandardForm", "Termination", "SolutionStatus",
           "STRATEGIES", "solve", "Reoptimizer", "SolverOptionError", "termination_of", "abandoned_solves",
           "feasible", "relative_gap"]

HIGHS_MAX_SEED = 2_147_483_647


class SolverOptionError(ValueError):
    """An option the solver layer or HiGHS refuses (unknown strategy, out-of-range value)."""


class Termination(enum.StrEnum):
    """Why the solver stopped (apart from whether it has a solution)."""

    OPTIMAL = "optimal"
    TIME_LIMIT = "time_limit"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    INFEASIBLE_OR_UNBOUNDED = "infeasible_or_unbounded"
    INTERRUPTED = "interrupted"
    ITERATION_LIMIT = "iteration_limit"
    SOLUTION_LIMIT = "solution_limit"
    OBJECTIVE_BOUND = "objective_bound"
    OBJECTIVE_TARGET = "objective_target"
    MEMORY_LIMIT = "memory_limit"
    MODEL_EMPTY = "model_empty"
    UNKNOWN = "unknown"
    ERROR = "error"


class SolutionStatus(enum.StrEnum):
    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    NONE = "none"


_HIGHS_STATUS = {
    "kNotset": Termination.ERROR, "kLoadError": Termination.ERROR, "kModelError": Termination.ERROR,
    "kPresolveError": Termination.ERROR, "kSolveError": Termination.ERROR,
    "kPostsolveError": Termination.ERROR, "kModelEmpty": Termination.MODEL_EMPTY,
    "kOptimal": Termination.OPTIMAL, "kInfeasible": Termination.INFEASIBLE,
    "kUnboundedOrInfeasible": Termination.INFEASIBLE_OR_UNBOUNDED, "kUnbounded": Termination.UNBOUNDED,
    "kObjectiveBound": Termination.OBJECTIVE_BOUND, "kObjectiveTarget": Termination.OBJECTIVE_TARGET,
    "kTimeLimit": Termination.TIME_LIMIT, "kIterationLimit": Termination.ITERATION_LIMIT,
    "kUnknown": Termination.UNKNOWN, "kSolutionLimit": Termination.SOLUTION_LIMIT,
    "kInterrupt": Termination.INTERRUPTED, "kHighsInterrupt": Termination.INTERRUPTED,
    "kMemoryLimit": Termination.MEMORY_LIMIT,
}


def termination_of(status_name: str) -> Termination:
    """The termination condition of a HiGHS model status name (every status is mapped).

    >>> termination_of("kModelEmpty"), termination_of("kTimeLimit")
    (<Termination.MODEL_EMPTY: 'model_empty'>, <Termination.TIME_LIMIT: 'time_limit'>)
    """
    try:
        return _HIGHS_STATUS[status_name]
    except KeyError:
        raise SolverOptionError(f"HiGHS model status {status_name!r} is not mapped") from None


@dataclass(frozen=True)
class SolveOptions:
    """Solver settings; every value is checked here, and again by HiGHS when passed to it."""

    time_limit_s: float = 120.0
    mip_gap: float = 0.01
    threads: int = 2
    seed: int = 0
    strategy: str = "lp_start"
    restricted_time_s: float = 20.0
    log: bool = False

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise SolverOptionError(f"solver.strategy: unknown strategy {self.strategy!r} "
                                    f"(known: {', '.join(STRATEGIES)})")
        checks = {"time_limit_s": self.time_limit_s > 0, "mip_gap": 0 <= self.mip_gap <= 1,
                  "threads": isinstance(self.threads, int) and 1 <= self.threads <= 1024,
                  "seed": isinstance(self.seed, int) and 0 <= self.seed <= HIGHS_MAX_SEED,
                  "restricted_time_s": self.restricted_time_s >= 0}
        for name, ok in checks.items():
            if not ok:
                raise SolverOptionError(f"solver.{name}: {getattr(self, name)!r} is out of range")


@dataclass(frozen=True)
class StandardForm:
    """min c x + offset  s.t.  row_lower <= A x <= row_upper, col_lower <= x <= col_upper."""

    c: np.ndarray
    offset: float
    A: object  # scipy.sparse.csc_array
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray
    seconds: float = 0.0  # time taken to produce it

    @property
    def shape(self) -> tuple[int, int]:
        return self.A.shape


@dataclass(frozen=True)
class Phase:
    phase: str
    termination: Termination
    objective: float | None
    seconds: float


@dataclass(frozen=True)
class SolveReport:
    """Termination condition and solution status kept apart, with bound, gap, times and x."""

    termination: Termination
    solution_status: SolutionStatus
    objective: float | None
    best_bound: float | None
    gap: float | None
    compile_s: float
    solve_s: float
    build_s: float = 0.0
    n_variables: int = 0
    n_binary: int = 0
    n_integer: int = 0
    n_constraints: int = 0
    n_nonzeros: int = 0
    solver: str = f"HiGHS (highspy {version('highspy')})"
    strategy: str = "lp_start"
    phases: tuple[Phase, ...] = ()
    x: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def proven_optimal(self) -> bool:
        return self.termination == Termination.OPTIMAL and self.solution_status == SolutionStatus.OPTIMAL

    @property
    def has_solution(self) -> bool:
        return self.x is not None

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("x")
        d["phases"] = [dict(asdict(p), termination=str(p.termination)) for p in self.phases]
        d["termination"], d["solution_status"] = str(self.termination), str(self.solution_status)
        d["proven_optimal"] = self.proven_optimal
        return d


_STATE = {"threads": None, "banner_done": False}
_STATE_LOCK = threading.Lock()


def _quiet_first_highs() -> None:
    """HiGHS prints its banner on the process's first ``Highs()``; create that one with stdout
    closed (once, on first use: nothing happens at import)."""
    with _STATE_LOCK:
        if _STATE["banner_done"]:
            return
        _STATE["banner_done"] = True
        import ctypes

        try:
            saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
        except OSError:
            return
        try:
            ctypes.CDLL(None).fflush(None)
            os.dup2(null, 1)
            highspy.Highs()
            ctypes.CDLL(None).fflush(None)
        finally:
            os.dup2(saved, 1)
            os.close(null)
            os.close(saved)


def _set(h: highspy.Highs, name: str, value) -> None:
    if h.setOptionValue(name, value) != highspy.HighsStatus.kOk:
        raise SolverOptionError(f"HiGHS refuses option {name}={value!r}")


def _highs(sf: StandardForm, opts: SolveOptions, *, relax=False, col_upper=None, col_lower=None,
           time_limit: float, target: float | None = None) -> highspy.Highs:
    _quiet_first_highs()
    with _STATE_LOCK:
        if _STATE["threads"] not in (None, opts.threads):
            # HiGHS keeps one global thread pool per process; a new thread count needs a new pool
            highspy.Highs.resetGlobalScheduler(True)
        _STATE["threads"] = opts.threads
    h = highspy.Highs()
    _set(h, "output_flag", bool(opts.log))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = sf.A.shape[1], sf.A.shape[0]
    lp.col_cost_ = sf.c
    lp.offset_ = sf.offset
    lp.col_lower_ = sf.col_lower if col_lower is None else col_lower
    lp.col_upper_ = sf.col_upper if col_upper is None else col_upper
    lp.row_lower_ = sf.row_lower
    lp.row_upper_ = sf.row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = sf.A.indptr
    lp.a_matrix_.index_ = sf.A.indices
    lp.a_matrix_.value_ = sf.A.data
    if not relax and sf.integer.any():
        lp.integrality_ = np.where(sf.integer, highspy.HighsVarType.kInteger,
                                   highspy.HighsVarType.kContinuous).tolist()
    h.passModel(lp)
    _set(h, "time_limit", max(float(time_limit), 0.0))
    _set(h, "mip_rel_gap", float(opts.mip_gap))
    _set(h, "threads", int(opts.threads))
    _set(h, "random_seed", int(opts.seed))
    if target is not None:  # HiGHS stops at the first plan below it (status kObjectiveTarget)
        _set(h, "objective_target", float(target))
    h.HandleKeyboardInterrupt = False  # _run handles Ctrl-C itself (highspy's own handler waits
    h.HandleUserInterrupt = True  # for HiGHS, prints and may sys.exit); cancelSolve stops HiGHS
    return h


class _Watch:
    """What HiGHS reports through its MIP callbacks: the best plan it has found (kept so a solve
    that overruns its deadline can be left behind without losing it), the bound, and progress
    lines (incumbent, bound, gap) at most one per ``every_s`` seconds."""

    def __init__(self, every_s: float = 5.0):
        self.every_s = every_s
        self.reset(None)

    def reset(self, say: Callable[[str], None] | None) -> None:
        self.say, self.last, self.best, self.x, self.bound = say, -math.inf, math.inf, None, None

    def attach(self, h: highspy.Highs) -> None:
        h.cbMipImprovingSolution.subscribe(self._improving)
        h.cbMipInterrupt.subscribe(self._event)

    def _improving(self, e) -> None:
        obj = e.data_out.objective_function_value
        if math.isfinite(obj) and obj < self.best:
            self.best, self.x = obj, np.array(e.data_out.mip_solution, dtype=float, copy=True)
        self._event(e)

    def _event(self, e) -> None:
        d = e.data_out
        if math.isfinite(d.mip_dual_bound):
            self.bound = d.mip_dual_bound
        now = time.monotonic()
        if self.say is None or now - self.last < self.every_s or not math.isfinite(self.best):
            return
        self.last = now
        bound, gap = d.mip_dual_bound, d.mip_gap
        self.say(f"  MIP at {d.running_time:5.0f} s: incumbent {self.best:,.1f}, bound "
                 + (f"{bound:,.1f}, gap {gap:.2%}" if math.isfinite(bound) and math.isfinite(gap)
                    else "not yet known (root node)") + f", {int(d.mip_node_count):,} nodes")

    def tick(self, seconds: float) -> None:
        """Called while HiGHS works where it makes no callbacks (e.g. root-node cuts)."""
        if self.say is not None and time.monotonic() - self.last >= 3 * self.every_s:
            self.last = time.monotonic()
            best = f"incumbent {self.best:,.1f}" if math.isfinite(self.best) else "no incumbent yet"
            self.say(f"  MIP at {seconds:5.0f} s: still working ({best})")


LARGE_LAZY_ROWS = 50_000  # lp_start's fast path from this many lazy rows (see _lp_start)
_SETTLED = 1e-5  # lazy rows: a round moving the bound less (relative) ends row generation
_GRACE_S = 2.0  # how long a cancelled HiGHS gets to stop before it is left behind
_ABANDONED: list[threading.Event] = []  # solves left running past their deadline or a Ctrl-C


def abandoned_solves() -> int:
    """How many HiGHS solves this process left behind (past their deadline or a Ctrl-C) are
    still running. They run in daemon threads until HiGHS next checks its interrupt flag; a
    command-line program should end with ``os._exit`` rather than wait for them."""
    return sum(not done.is_set() for done in _ABANDONED)


def _run(h: highspy.Highs, say: Callable[[str], None] | None = None, is_mip: bool = True,
         deadline: float | None = None) -> str:
    """Run HiGHS in its thread; return ``"done"``, ``"time"`` (cancelled at the deadline and
    stopped) or ``"abandoned"`` (cancelled and still running: left behind). Ctrl-C cancels the
    solve and raises KeyboardInterrupt within ``_GRACE_S`` seconds, whatever HiGHS is doing.

    HiGHS checks its own time limit and interrupt flag only at some points: measured here, the
    root node's cut loop of the default model ran 100 s past a 10 s limit without a check.
    """
    watch = getattr(h, "_siting_watch", None)
    if is_mip and watch is None:
        watch = _Watch()
        watch.attach(h)
        h._siting_watch = watch
    if watch is not None:
        watch.reset(say)
    t0, cancelled_at = time.monotonic(), None
    finished = threading.Event()

    def work():  # highspy's own startSolve allows one solve per process (a class-level lock)
        try:
            highspy._Highs.run(h)
        finally:
            finished.set()
    threading.Thread(target=work, daemon=True, name="highs-solve").start()
    try:
        while not finished.wait(0.2):
            now = time.monotonic()
            if watch is not None:
                watch.tick(now - t0)
            if deadline is not None and now > deadline:
                if cancelled_at is None:
                    h.cancelSolve()
                    cancelled_at = now
                elif now > cancelled_at + _GRACE_S:
                    _ABANDONED.append(finished)
                    return "abandoned"
    except KeyboardInterrupt:
        h.cancelSolve()
        end = time.monotonic() + _GRACE_S
        if not finished.wait(max(end - time.monotonic(), 0.0)):
            _ABANDONED.append(finished)
        raise KeyboardInterrupt("solve interrupted") from None
    interrupted = h.getModelStatus().name in ("kInterrupt", "kHighsInterrupt")
    if interrupted and cancelled_at is None:
        raise KeyboardInterrupt("solve interrupted")
    return "time" if interrupted else "done"


@dataclass(frozen=True)
class _Outcome:
    termination: Termination
    solution_status: SolutionStatus
    objective: float | None
    bound: float | None
    gap: float | None
    x: np.ndarray | None


def _outcome(h: highspy.Highs, is_mip: bool) -> _Outcome:
    term = termination_of(h.getModelStatus().name)
    info = h.getInfo()
    has = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if term == Termination.MODEL_EMPTY:
        has = False
    x = np.asarray(h.getSolution().col_value, float) if has else None
    obj = info.objective_function_value if has else None
    if is_mip:
        bound = info.mip_dual_bound if math.isfinite(info.mip_dual_bound) else None
        gap = info.mip_gap if (has and math.isfinite(info.mip_gap)) else None
    else:
        bound, gap = (obj, 0.0) if term == Termination.OPTIMAL else (None, None)
    status = (SolutionStatus.NONE if not has else
              SolutionStatus.OPTIMAL if term == Termination.OPTIMAL else SolutionStatus.FEASIBLE)
    return _Outcome(term, status, obj, bound, gap, x)


class _Clock:
    """The whole solve's deadline: every phase gets what is left, never a floor past it."""

    def __init__(self, limit_s: float):
        self.t0, self.limit_s = time.perf_counter(), limit_s

    def left(self) -> float:
        return max(self.limit_s - (time.perf_counter() - self.t0), 0.0)

    def since(self, t: float | None = None) -> float:
        return time.perf_counter() - (self.t0 if t is None else t)


def _report(sf: StandardForm, opts: SolveOptions, clock: _Clock, phases: list[Phase],
            o: _Outcome) -> SolveReport:
    return SolveReport(
        termination=o.termination, solution_status=o.solution_status, objective=o.objective,
        best_bound=o.bound, gap=o.gap, compile_s=sf.seconds, solve_s=clock.since(),
        n_variables=sf.shape[1],
        n_binary=int((sf.integer & (sf.col_lower == 0) & (sf.col_upper == 1)).sum()),
        n_integer=int(sf.integer.sum()), n_constraints=sf.shape[0], n_nonzeros=int(sf.A.nnz),
        strategy=opts.strategy, phases=tuple(phases), x=o.x)


def _phase(name: str, h: highspy.Highs, is_mip: bool, t: float, say, sf: StandardForm | None = None,
           limit_s: float | None = None) -> tuple[Phase, _Outcome]:
    """Run one HiGHS solve; past ``limit_s`` (+1 s for HiGHS to stop itself) it is cancelled,
    and left behind with the best plan its callbacks reported if it does not stop."""
    deadline = None if limit_s is None else time.monotonic() + limit_s + 1.0
    state = _run(h, say, is_mip, deadline)
    if state == "abandoned":
        watch = getattr(h, "_siting_watch", None)
        x = None if watch is None or watch.x is None or sf is None else watch.x
        obj = None if x is None else float(sf.c @ x + sf.offset)
        bound = None if watch is None else watch.bound
        o = _Outcome(Termination.TIME_LIMIT, SolutionStatus.NONE if x is None else SolutionStatus.FEASIBLE,
                     obj, bound, relative_gap(obj, bound), x)
    else:
        o = _outcome(h, is_mip)
        if state == "time":  # we cancelled it at the deadline: a time limit, not a user's Ctrl-C
            o = dataclasses.replace(o, termination=Termination.TIME_LIMIT, solution_status=(
                SolutionStatus.NONE if o.x is None else SolutionStatus.FEASIBLE))
    return Phase(name, o.termination, o.objective, time.perf_counter() - t), o


def _consistent(sf: StandardForm, o: _Outcome) -> bool:
    """HiGHS's objective is the cost of the solution it returns (seen to fail after a start)."""
    if o.x is None or o.objective is None:
        return True
    true = float(sf.c @ o.x + sf.offset)
    return abs(true - o.objective) <= 1e-6 * max(1.0, abs(true))


def relative_gap(obj: float | None, bound: float | None) -> float | None:
    """The relative gap of a plan's objective to a bound, (obj - bound) / |obj|, never below 0.

    >>> relative_gap(100.0, 99.0), relative_gap(100.0, 101.0), relative_gap(None, 1.0), relative_gap(1.0, None)
    (0.01, 0.0, None, None)
    """
    if obj is None or bound is None:
        return None
    return max(obj - bound, 0.0) / max(abs(obj), 1e-9)


def _target(bound: float | None, gap: float) -> float | None:
    """The objective below which a plan is proven within ``gap`` of a valid ``bound``
    ((obj - bound) / obj <= gap); None where the bound is not positive.

    >>> _target(99.0, 0.01), _target(None, 0.01), _target(-5.0, 0.01)
    (100.0, None, None)
    """
    if bound is None or bound <= 0 or not 0 < gap < 1:
        return None
    return bound / (1.0 - gap)


def _mip_from(sf, opts, clock, phases, say, start, name="mip", target=None) -> _Outcome:
    """The MIP from an optional start, stopped at the first plan below ``target`` if given
    (the objective a bound known outside HiGHS proves within the gap). HiGHS 1.16 can end a
    solve from a start 'optimal' with an objective and bound its returned solution does not have
    (below the LP bound, even); when the report disagrees with c x, the solve is repeated
    without the start."""
    limit = clock.left()
    h = _highs(sf, opts, time_limit=limit, target=target)
    if start is not None:
        h.setSolution(sf.shape[1], np.arange(sf.shape[1], dtype=np.int32), np.asarray(start, float))
    phase, o = _phase(name, h, True, time.perf_counter(), say, sf, limit)
    phases.append(phase)
    if start is not None and not _consistent(sf, o) and clock.left() > 0:
        say("HiGHS reported an objective its solution does not have; solving again without the start")
        limit = clock.left()
        phase, o = _phase(name + "_no_start", _highs(sf, opts, time_limit=limit, target=target), True,
                          time.perf_counter(), say, sf, limit)
        phases.append(phase)
    if not _consistent(sf, o):
        obj = float(sf.c @ o.x + sf.offset)
        return _Outcome(Termination.UNKNOWN, SolutionStatus.FEASIBLE, obj, None, None, o.x)
    return o


def _plain(sf, opts, clock, phases, say, restrict, start, **_hints) -> _Outcome:
    is_mip = bool(sf.integer.any())
    say("solving the " + ("MIP" if is_mip else "LP") + (" from the given start" if start is not None else ""))
    if is_mip:
        return _mip_from(sf, opts, clock, phases, say, start)
    limit = clock.left()
    phase, o = _phase("lp", _highs(sf, opts, time_limit=limit), False, time.perf_counter(), say, sf, limit)
    phases.append(phase)
    return o


def feasible(sf: StandardForm, x: np.ndarray, tol: float = 1e-6) -> bool:
    """``x`` keeps every bound, row and integrality of ``sf`` (within ``tol``)."""
    ax = sf.A @ x
    scale = tol * np.maximum(1.0, np.abs(ax))
    return bool(np.all(x >= sf.col_lower - tol) and np.all(x <= sf.col_upper + tol)
                and np.all(ax >= sf.row_lower - scale) and np.all(ax <= sf.row_upper + scale)
                and np.all(np.abs(x[sf.integer] - np.round(x[sf.integer])) <= tol))


def _settled(before: float | None, after: float) -> bool:
    """A round of lazy rows moved the bound less than ``_SETTLED`` (relative). Not a share of the
    gap: an early stop leaves the LP's solution, which picks the restricted MIP's sites, less
    informed (measured on models/full.yaml: stopping at a tenth of a 1 % gap left the bound 0.12 %
    low and the restricted MIP found no better plan than the start in 20 s).

    >>> _settled(None, 1.0), _settled(100.0, 100.0001), _settled(100.0, 100.01)
    (False, True, False)
    """
    return before is not None and after - before < _SETTLED * max(abs(before), 1.0)


def _lp_relaxation(sf, opts, clock, phases, say, lazy) -> _Outcome:
    """The LP relaxation. With ``lazy`` rows, by row generation: the LP without them, then again
    with the ones its solution breaks, until it breaks none (the LP relaxation's optimum) or time
    runs out. Every round is a relaxation of the LP, so its optimum is a valid bound (``bound``);
    its solution may break lazy rows that were never added."""
    t = time.perf_counter()
    if lazy is None or not np.any(lazy):
        say("solving the LP relaxation")
        limit = clock.left()
        phase, lp = _phase("lp_relaxation", _highs(sf, opts, relax=True, time_limit=limit),
                           False, t, say, sf, limit)
        phases.append(phase)
        return lp
    A = sf.A.tocsr()
    out = np.flatnonzero(lazy)  # lazy rows not yet in the LP
    inner = np.flatnonzero(~lazy)
    h = _highs(dataclasses.replace(sf, A=A[inner].tocsc(), row_lower=sf.row_lower[inner],
                                   row_upper=sf.row_upper[inner]), opts, relax=True, time_limit=clock.left())
    say(f"solving the LP relaxation without its {out.size:,} lazy rows, adding those it breaks")
    bound, x, o, rounds, exact, settled = None, None, None, 0, False, False
    while not (exact or settled):
        rounds += 1
        limit = clock.left()
        _set(h, "time_limit", limit)
        _, o = _phase("lp_round", h, False, time.perf_counter(), None, sf, limit)
        if rounds == 1 and o.termination in (Termination.UNBOUNDED, Termination.INFEASIBLE_OR_UNBOUNDED):
            return _lp_relaxation(sf, opts, clock, phases, say, None)  # the lazy rows bound it: take them all
        if o.termination != Termination.OPTIMAL or o.x is None:
            break  # infeasible (so is the LP), or out of time: the last round's bound stands
        # a relaxation's optimum bounds the LP and the MIP; bounds that no longer move are settled
        settled = _settled(bound, o.objective)
        settled |= time.perf_counter() - t >= opts.time_limit_s / 3  # the MIP needs the rest
        bound, x = o.objective, o.x
        rows = A[out]
        ax = rows @ x
        scale = 1e-6 * np.maximum(1.0, np.abs(ax))
        broken = (ax > sf.row_upper[out] + scale) | (ax < sf.row_lower[out] - scale)
        exact = not broken.any()
        if not (exact or settled):
            # the broken rows, and every lazy row whose flows are in use (they tend to break next)
            flowing = ((np.abs(x) > 1e-9) & ~sf.integer).astype(float)  # continuous columns in use
            used = broken | (abs(rows) @ flowing > 0)
            add, out = out[used], out[~used]
            sub = A[add]
            h.addRows(add.size, sf.row_lower[add], sf.row_upper[add], sub.nnz,
                      sub.indptr[:-1].astype(np.int32), sub.indices.astype(np.int32), sub.data)
            say(f"  LP round {rounds}: bound {bound:,.1f}; {int(broken.sum()):,} lazy rows broken; added "
                f"{add.size:,} in use ({out.size:,} still left out)")
    if settled and not exact:  # the integer columns of rows still broken count as in use
        hit = np.asarray(abs(A[out[broken]]).sum(axis=0)).ravel() > 0
        x = np.where(hit & sf.integer, np.maximum(x, 2e-6), x)
    phases.append(Phase("lp_relaxation", Termination.OPTIMAL if exact else o.termination, o.objective,
                        time.perf_counter() - t))
    if bound is None:
        return o
    say(f"LP {'optimum' if exact else 'bound settled' if settled else 'relaxation (time ran out)'} after "
        f"{rounds} round(s): bound {bound:,.1f}")
    return _Outcome(Termination.OPTIMAL if exact else Termination.TIME_LIMIT,
                    SolutionStatus.OPTIMAL if exact else SolutionStatus.FEASIBLE,
                    o.objective if exact else bound, bound, 0.0 if exact else None, x)


def _lp_start(sf, opts, clock, phases, say, restrict, start, support=None, lazy=None) -> _Outcome:
    if not sf.integer.any() or restrict is None or not np.any(restrict):
        return _plain(sf, opts, clock, phases, say, restrict, start)
    given = start if start is not None and feasible(sf, np.asarray(start, float)) else None
    start = None
    # Large models (many lazy linking rows) take the fast path: the LP by row generation, a MIP over
    # the LP's support first, and every MIP stopped at the first plan the LP bound proves within the
    # gap. Smaller ones keep the plain LP and HiGHS's own stopping rule (measured on the default,
    # 28,566 lazy rows: the fast path stops at 0.75 % in 2 s where this one reaches 0.16 % in 51 s).
    large = lazy is not None and int(np.sum(lazy)) >= LARGE_LAZY_ROWS
    lp = _lp_relaxation(sf, opts, clock, phases, say, lazy if large else None)
    if lp.termination in (Termination.INFEASIBLE, Termination.MODEL_EMPTY):
        return lp
    # a bound only from an LP solved to optimality (lazy rows: the last relaxation solved to optimality)
    lp_bound = lp.bound if large or lp.termination == Termination.OPTIMAL else None
    target = _target(lp_bound, opts.mip_gap) if large else None
    support = support if large else None
    supported = None
    if lp.x is not None and support is not None and np.any(support) and clock.left() > 0:
        # dive: the support binaries fixed where the LP uses them (1) and does not (0); the rest is
        # a small MIP whose plan keeps every row of the full model
        on = support & (lp.x > 1e-6)
        lo, ub = sf.col_lower.copy(), sf.col_upper.copy()
        lo[on], ub[support & ~on] = np.maximum(lo[on], 1.0), 0.0
        say(f"MIP with the {int(on.sum())} of {int(support.sum())} support binaries the LP uses fixed on, the rest off")
        limit = clock.left() / 2
        h = _highs(sf, opts, col_lower=lo, col_upper=ub, time_limit=limit, target=target)
        phase, d = _phase("support_mip", h, True, time.perf_counter(), say, sf, limit)
        phases.append(phase)
        supported = d.x if d.x is not None and feasible(sf, d.x) else None

    def proven(x) -> _Outcome | None:  # the plan, if the LP bound already proves it within the gap
        obj = float(sf.c @ x + sf.offset)
        gap = relative_gap(obj, lp_bound)
        return None if gap is None or gap > opts.mip_gap else _Outcome(
            Termination.OPTIMAL, SolutionStatus.OPTIMAL, obj, lp_bound, gap, x)

    lead = min((x for x in (supported, given) if x is not None), key=lambda x: float(sf.c @ x), default=None)
    if large and lead is not None and (done := proven(lead)) is not None:
        return done
    if lp.x is not None and clock.left() > 0:
        ub = sf.col_upper.copy()
        closed = restrict & (lp.x <= 1e-6)
        if given is not None:  # the given plan's columns stay open too
            closed &= ~(np.asarray(given) > 1e-6)
        ub[closed] = 0.0
        say(f"LP {'bound' if lp_bound is not None else 'objective (not a bound)'} {lp.objective:,.1f}; "
            f"restricted MIP over the {int(restrict.sum() - closed.sum())} columns the LP "
            + ("or the given plan uses" if given is not None else "uses")
            + ("" if lead is None else f", from the plan at {float(sf.c @ lead) + sf.offset:,.1f}"))
        limit = min(opts.restricted_time_s, clock.left())
        h = _highs(sf, opts, col_upper=ub, time_limit=limit, target=target)
        if lead is not None:  # the best plan at hand starts the restricted MIP
            h.setSolution(sf.shape[1], np.arange(sf.shape[1], dtype=np.int32), np.asarray(lead, float))
        phase, r = _phase("restricted_mip", h, True, time.perf_counter(), say, sf, limit)
        phases.append(phase)
        # the restricted plan (kept only if it keeps every row: HiGHS can misreport after a start),
        # the support MIP's, the given one
        plans = [x for x in (r.x, supported, given)
                 if x is not None and (x is given or x is supported or feasible(sf, x))]
        if plans:
            start = min(plans, key=lambda x: float(sf.c @ x))
            if (done := proven(start)) is not None:  # the LP relaxation bounds the full MIP
                return done
    if start is None:
        start = given
    if clock.left() <= 0:
        if start is None:
            return _Outcome(Termination.TIME_LIMIT, SolutionStatus.NONE, None, lp_bound, None, None)
        obj = float(sf.c @ start + sf.offset)
        return _Outcome(Termination.TIME_LIMIT, SolutionStatus.FEASIBLE, obj, lp_bound,
                        relative_gap(obj, lp_bound), start)
    say("solving the full MIP" + (" from the restricted plan" if start is not None else ""))
    o = _mip_from(sf, opts, clock, phases, say, start, target=target)
    if lp_bound is not None and (o.bound is None or lp_bound > o.bound):
        # a MIP stopped early may not have passed its root yet: the LP relaxation still bounds it
        o = _Outcome(o.termination, o.solution_status, o.objective, lp_bound, relative_gap(o.objective, lp_bound), o.x)
    if o.termination == Termination.OBJECTIVE_TARGET and o.gap is not None and o.gap <= opts.mip_gap:
        # stopped at the plan the LP bound proves within the gap: what HiGHS calls optimal
        o = dataclasses.replace(o, termination=Termination.OPTIMAL, solution_status=SolutionStatus.OPTIMAL)
    return o


def _benders(sf, opts, clock, phases, say, restrict, start, **_hints) -> _Outcome:
    from .benders import benders  # imports this module: loaded on first use

    return benders(sf, opts, clock, phases, say, restrict, start)


STRATEGIES: dict[str, Callable] = {"plain": _plain, "lp_start": _lp_start, "benders": _benders}


def _mask(name: str, mask, n: int, what: str = "columns") -> np.ndarray | None:
    """``mask`` as a boolean array of ``n`` entries (one per column or row), or None."""
    if mask is None:
        return None
    mask = np.asarray(mask, bool)
    if mask.shape != (n,):
        raise SolverOptionError(f"{name} mask has shape {mask.shape}, the problem {n} {what}")
    return mask


def solve(sf: StandardForm, opts: SolveOptions = SolveOptions(), *, restrict: np.ndarray | None = None,
          start: np.ndarray | None = None, progress: Callable[[str], None] | None = None,
          support: np.ndarray | None = None, lazy: np.ndarray | None = None) -> SolveReport:
    """Solve ``sf`` with HiGHS by ``opts.strategy``; the report carries the solution vector.

    ``restrict``: boolean mask of the binary columns that ``lp_start`` closes where the LP
    relaxation leaves them at zero. ``start``: a full column vector to start the MIP from.
    ``support``: binary columns ``lp_start`` first fixes to the LP's support (on where the LP uses
    them, off elsewhere) for a quick plan. ``lazy``: boolean mask of rows the LP relaxation may
    leave out until its solution breaks them (rows that are many and seldom binding).
    """
    say = progress or (lambda _msg: None)
    if start is not None and np.shape(start) != (sf.shape[1],):
        raise SolverOptionError(f"start vector has shape {np.shape(start)}, the problem {sf.shape[1]} columns")
    restrict, support = _mask("restrict", restrict, sf.shape[1]), _mask("support", support, sf.shape[1])
    lazy = _mask("lazy", lazy, sf.shape[0], "rows")
    clock, phases = _Clock(opts.time_limit_s), []
    if sf.shape[1] == 0:
        o = _Outcome(Termination.MODEL_EMPTY, SolutionStatus.NONE, None, None, None, None)
        return _report(sf, opts, clock, phases, o)
    o = STRATEGIES[opts.strategy](sf, opts, clock, phases, say, restrict, start, support=support, lazy=lazy)
    return _report(sf, opts, clock, phases, o)


class Reoptimizer:
    """One HiGHS MIP kept in memory: change costs or bounds in place and re-solve from a start.

    Cost and bound changes keep the matrix, so nothing is rebuilt or recompiled; HiGHS starts
    from the given solution (the neighbour's plan). Without a start, ``solve`` runs the
    configured strategy (``lp_start`` with ``restrict``, the site-opening columns) to find one.
    """

    def __init__(self, sf: StandardForm, opts: SolveOptions = SolveOptions(), *,
                 restrict: np.ndarray | None = None):
        self.sf, self.opts, self.restrict = sf, opts, restrict
        # the HiGHS problem is kept only for the plain strategy; the others solve the updated
        # arrays, so it is made on the first plain solve (and again after one was left behind)
        self.h: highspy.Highs | None = None
        self.n = sf.shape[1]
        self._idx = np.arange(self.n, dtype=np.int32)

    def set_costs(self, c: np.ndarray, offset: float | None = None) -> None:
        c = np.asarray(c, float)
        if c.shape != (self.n,):
            raise SolverOptionError(f"cost vector has shape {c.shape}, the problem {self.n} columns")
        if self.h is not None:
            self.h.changeColsCost(self.n, self._idx, c)
            if offset is not None:
                self.h.changeObjectiveOffset(float(offset))
        self.sf = dataclasses.replace(self.sf, c=c, offset=self.sf.offset if offset is None else float(offset))

    def set_row_bounds(self, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        rows = np.asarray(rows, np.int32)
        if self.h is not None:
            self.h.changeRowsBounds(rows.size, rows, np.asarray(lower, float), np.asarray(upper, float))
        lo, up = self.sf.row_lower.copy(), self.sf.row_upper.copy()
        lo[rows], up[rows] = lower, upper
        self.sf = dataclasses.replace(self.sf, row_lower=lo, row_upper=up)

    def set_col_bounds(self, cols: np.ndarray, lower, upper) -> None:
        """Change the bounds of columns ``cols`` in place (``upper = 0`` closes a column).

        ``lower`` and ``upper`` are scalars or one value per column; the next :meth:`solve` sees them.
        """
        cols = np.asarray(cols, np.int64).ravel()
        lo = np.broadcast_to(np.asarray(lower, float), cols.shape).copy()
        up = np.broadcast_to(np.asarray(upper, float), cols.shape).copy()
        if cols.size and (cols.min() < 0 or cols.max() >= self.n):
            raise SolverOptionError(f"column index out of range 0..{self.n - 1}")
        if np.any(lo > up) or np.any(np.isnan(lo)) or np.any(np.isnan(up)):
            raise SolverOptionError("column bounds: a lower bound is above its upper bound (or NaN)")
        if self.h is not None:
            self.h.changeColsBounds(cols.size, cols.astype(np.int32), lo, up)
        col_lo, col_up = self.sf.col_lower.copy(), self.sf.col_upper.copy()
        col_lo[cols], col_up[cols] = lo, up
        self.sf = dataclasses.replace(self.sf, col_lower=col_lo, col_upper=col_up)

    def solve(self, start: np.ndarray | None = None, progress: Callable[[str], None] | None = None,
              time_limit_s: float | None = None) -> SolveReport:
        if self.opts.strategy != "plain":
            # the configured strategy on the updated arrays, from the given plan where it is the
            # better start (measured on the default: HiGHS alone from the neighbour's plan stalled
            # in its root node for 85 s where lp_start took 3 s)
            opts = self.opts if time_limit_s is None else dataclasses.replace(self.opts, time_limit_s=time_limit_s)
            return solve(self.sf, opts, restrict=self.restrict, start=start, progress=progress)
        clock = _Clock(self.opts.time_limit_s if time_limit_s is None else time_limit_s)
        if self.h is None:  # first plain solve, or the last one was left behind at its deadline
            self.h = _highs(self.sf, self.opts, time_limit=clock.left())
        limit = clock.left()
        _set(self.h, "time_limit", limit)
        if start is not None:
            self.h.setSolution(self.n, self._idx, np.asarray(start, float))
        phases = []
        before = abandoned_solves()
        phase, o = _phase("mip", self.h, bool(self.sf.integer.any()), time.perf_counter(), progress,
                          self.sf, limit)
        if abandoned_solves() > before:
            self.h = None  # still running in its thread: never touch it again
        phases.append(phase)
        if not _consistent(self.sf, o):  # see _mip_from: HiGHS misreported after a start
            self.h = None  # the next solve starts from a fresh problem
            o = _mip_from(self.sf, self.opts, clock, phases, progress or (lambda _m: None), None, "mip_no_start")
        return _report(self.sf, dataclasses.replace(self.opts, strategy="plain"), clock, phases, o)



_feasible = feasible  # the old private name, still imported by tests/test_warmstart.py
