"""The HiGHS process: a ``Highs`` built from a :class:`StandardForm`, every run of it bounded by a
deadline and stopped by Ctrl-C, and what a run ends with read back (outcome, gap, feasibility).

Every HiGHS solve of the solver layer, each strategy's phases and Benders' master and
subproblem LPs alike, goes through :func:`run`: HiGHS works in a thread while this one watches
the clock and the keyboard.
"""

from __future__ import annotations

import dataclasses
import math
import os
import threading
import time
from collections.abc import Callable

import highspy
import numpy as np

from .report import (
    Outcome,
    Phase,
    SolutionStatus,
    SolveOptions,
    SolverOptionError,
    StandardForm,
    Termination,
)

__all__ = ["termination_of", "quiet_first_highs", "set_option", "make_highs", "Watch", "run", "run_within",
           "left_behind", "abandoned_solves", "GRACE_S", "INTERRUPT_GRACE_S", "read_outcome", "Clock",
           "run_phase", "consistent", "relative_gap", "objective_target", "feasible"]

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


_STATE = {"threads": None, "banner_done": False}
_STATE_LOCK = threading.Lock()


def quiet_first_highs() -> None:
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


def set_option(h: highspy.Highs, name: str, value) -> None:
    if h.setOptionValue(name, value) != highspy.HighsStatus.kOk:
        raise SolverOptionError(f"HiGHS refuses option {name}={value!r}")


def make_highs(sf: StandardForm, opts: SolveOptions, *, relax=False, col_upper=None, col_lower=None,
               time_limit: float, target: float | None = None) -> highspy.Highs:
    """A ``Highs`` holding ``sf`` (its LP relaxation with ``relax``; other column bounds if given),
    set up from ``opts`` and for :func:`run`. ``target``: stop at the first plan below it."""
    quiet_first_highs()
    with _STATE_LOCK:
        if _STATE["threads"] not in (None, opts.threads):
            # HiGHS keeps one global thread pool per process; a new thread count needs a new pool
            highspy.Highs.resetGlobalScheduler(True)
        _STATE["threads"] = opts.threads
    h = highspy.Highs()
    set_option(h, "output_flag", bool(opts.log))
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
    set_option(h, "time_limit", max(float(time_limit), 0.0))
    set_option(h, "mip_rel_gap", float(opts.mip_gap))
    set_option(h, "threads", int(opts.threads))
    set_option(h, "random_seed", int(opts.seed))
    if target is not None:  # HiGHS stops at the first plan below it (status kObjectiveTarget)
        set_option(h, "objective_target", float(target))
    h.HandleKeyboardInterrupt = False  # run() handles Ctrl-C itself (highspy's own handler waits
    h.HandleUserInterrupt = True  # for HiGHS, prints and may sys.exit); cancelSolve stops HiGHS
    return h


class Watch:
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


GRACE_S = 2.0  # how long HiGHS cancelled at its deadline gets to stop before it is left behind
INTERRUPT_GRACE_S = 1.0  # the same after a Ctrl-C (the command then exits 130 within 2 s)
_ABANDONED: list[threading.Event] = []  # solves left running past their deadline or a Ctrl-C


def abandoned_solves() -> int:
    """How many HiGHS solves this process left behind (past their deadline or a Ctrl-C) are
    still running. They run in daemon threads until HiGHS next checks its interrupt flag; a
    command-line program should end with ``os._exit`` rather than wait for them."""
    return sum(not done.is_set() for done in _ABANDONED)


def left_behind(h: highspy.Highs) -> bool:
    """``h`` was left running past its deadline or a Ctrl-C: never touch it again."""
    return getattr(h, "_siting_left_behind", False)


def _leave(h: highspy.Highs, finished: threading.Event) -> None:
    _ABANDONED.append(finished)
    h._siting_left_behind = True


def run(h: highspy.Highs, say: Callable[[str], None] | None = None, is_mip: bool = True,
        deadline: float | None = None) -> str:
    """Run HiGHS in its thread; return ``"done"``, ``"time"`` (cancelled at the deadline, a
    ``time.monotonic()`` value, and stopped) or ``"abandoned"`` (cancelled and still running:
    left behind). Ctrl-C cancels the solve and raises KeyboardInterrupt within
    ``INTERRUPT_GRACE_S`` seconds, whatever HiGHS is doing.

    HiGHS checks its own time limit and interrupt flag only at some points: measured here, the
    root node's cut loop of the default model ran 100 s past a 10 s limit without a check.
    """
    watch = getattr(h, "_siting_watch", None)
    if is_mip and watch is None:
        watch = Watch()
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
                elif now > cancelled_at + GRACE_S:
                    _leave(h, finished)
                    return "abandoned"
    except KeyboardInterrupt:
        h.cancelSolve()
        end = time.monotonic() + INTERRUPT_GRACE_S
        if not finished.wait(max(end - time.monotonic(), 0.0)):
            _leave(h, finished)
        raise KeyboardInterrupt("solve interrupted") from None
    interrupted = h.getModelStatus().name in ("kInterrupt", "kHighsInterrupt")
    if interrupted and cancelled_at is None:
        raise KeyboardInterrupt("solve interrupted")
    return "time" if interrupted else "done"


class Clock:
    """The whole solve's deadline: every phase gets what is left, never a floor past it."""

    def __init__(self, limit_s: float):
        self.t0, self.limit_s = time.perf_counter(), limit_s

    def left(self) -> float:
        return max(self.limit_s - (time.perf_counter() - self.t0), 0.0)

    def since(self, t: float | None = None) -> float:
        return time.perf_counter() - (self.t0 if t is None else t)


def run_within(h: highspy.Highs, clock: Clock | None, say: Callable[[str], None] | None = None,
               is_mip: bool = False) -> str:
    """:func:`run` bounded by what ``clock`` has left: HiGHS's own time limit, and a cancel one
    second past it (no clock: HiGHS's time limit as set, Ctrl-C handled all the same)."""
    if clock is None:
        return run(h, say, is_mip)
    limit = clock.left()
    set_option(h, "time_limit", limit)
    return run(h, say, is_mip, time.monotonic() + limit + 1.0)


def read_outcome(h: highspy.Highs, is_mip: bool) -> Outcome:
    """What a finished HiGHS run ended with: termination, solution status, objective, bound, x."""
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
    return Outcome(term, status, obj, bound, gap, x)


def run_phase(name: str, h: highspy.Highs, is_mip: bool, t: float, say, sf: StandardForm | None = None,
              limit_s: float | None = None) -> tuple[Phase, Outcome]:
    """Run one HiGHS solve; past ``limit_s`` (+1 s for HiGHS to stop itself) it is cancelled,
    and left behind with the best plan its callbacks reported if it does not stop."""
    deadline = None if limit_s is None else time.monotonic() + limit_s + 1.0
    state = run(h, say, is_mip, deadline)
    if state == "abandoned":
        watch = getattr(h, "_siting_watch", None)
        x = None if watch is None or watch.x is None or sf is None else watch.x
        obj = None if x is None else float(sf.c @ x + sf.offset)
        bound = None if watch is None else watch.bound
        o = Outcome(Termination.TIME_LIMIT, SolutionStatus.NONE if x is None else SolutionStatus.FEASIBLE,
                    obj, bound, relative_gap(obj, bound), x)
    else:
        o = read_outcome(h, is_mip)
        if state == "time":  # we cancelled it at the deadline: a time limit, not a user's Ctrl-C
            o = dataclasses.replace(o, termination=Termination.TIME_LIMIT, solution_status=(
                SolutionStatus.NONE if o.x is None else SolutionStatus.FEASIBLE))
    return Phase(name, o.termination, o.objective, time.perf_counter() - t), o


def consistent(sf: StandardForm, o: Outcome) -> bool:
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


def objective_target(bound: float | None, gap: float) -> float | None:
    """The objective below which a plan is proven within ``gap`` of a valid ``bound``
    ((obj - bound) / obj <= gap); None where the bound is not positive.

    >>> objective_target(99.0, 0.01), objective_target(None, 0.01), objective_target(-5.0, 0.01)
    (100.0, None, None)
    """
    if bound is None or bound <= 0 or not 0 < gap < 1:
        return None
    return bound / (1.0 - gap)


def feasible(sf: StandardForm, x: np.ndarray, tol: float = 1e-6) -> bool:
    """``x`` keeps every bound, row and integrality of ``sf`` (within ``tol``)."""
    ax = sf.A @ x
    scale = tol * np.maximum(1.0, np.abs(ax))
    return bool(np.all(x >= sf.col_lower - tol) and np.all(x <= sf.col_upper + tol)
                and np.all(ax >= sf.row_lower - scale) and np.all(ax <= sf.row_upper + scale)
                and np.all(np.abs(x[sf.integer] - np.round(x[sf.integer])) <= tol))
