"""The strategy registry, :func:`solve` and :class:`Reoptimizer`: the solver layer's entry points.

Every :class:`~siting.solve.report.Strategy` has one entry in :data:`STRATEGIES`; each takes
``(sf, opts, clock, phases, say, restrict, start, support=..., lazy=...)`` and returns an
:class:`~siting.solve.report.Outcome`, which :func:`solve` turns into a complete report.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import highspy
import numpy as np

from .auto import choose
from .benders import benders
from .highs import Clock, consistent, left_behind, make_highs, run_phase, set_option
from .lp_start import interior_lp, lp_start
from .plain import mip_from, plain
from .report import (
    Outcome,
    Phase,
    SolutionStatus,
    SolveOptions,
    SolveReport,
    SolverOptionError,
    StandardForm,
    Strategy,
    Termination,
)

__all__ = ["DEFAULTS", "STRATEGIES", "solve", "lp_optimum", "Reoptimizer", "check_mask", "make_report"]

DEFAULTS = SolveOptions()  # the solver layer's defaults (report.SolveOptions states them)



def auto(sf, opts, clock, phases, say, restrict, start, **hints) -> Outcome:
    """The ``auto`` strategy: the one :func:`~siting.solve.auto.choose` picks for ``sf``."""
    chosen, why = choose(sf)
    say(f"strategy auto: {chosen} ({why})")
    return STRATEGIES[chosen](sf, opts, clock, phases, say, restrict, start, **hints)


STRATEGIES: dict[Strategy, Callable[..., Outcome]] = {
    Strategy.PLAIN: plain, Strategy.LP_START: lp_start, Strategy.BENDERS: benders, Strategy.AUTO: auto,
}


def make_report(sf: StandardForm, opts: SolveOptions, clock: Clock, phases: list[Phase],
                o: Outcome, strategy: str | None = None) -> SolveReport:
    return SolveReport(
        termination=o.termination, solution_status=o.solution_status, objective=o.objective,
        best_bound=o.bound, gap=o.gap, compile_s=sf.seconds, solve_s=clock.since(),
        n_variables=sf.shape[1],
        n_binary=int((sf.integer & (sf.col_lower == 0) & (sf.col_upper == 1)).sum()),
        n_integer=int(sf.integer.sum()), n_constraints=sf.shape[0], n_nonzeros=int(sf.A.nnz),
        strategy=strategy or str(opts.strategy), phases=tuple(phases), x=o.x)


def check_mask(name: str, mask, n: int, what: str = "columns") -> np.ndarray | None:
    """``mask`` as a boolean array of ``n`` entries (one per column or row), or None."""
    if mask is None:
        return None
    mask = np.asarray(mask, bool)
    if mask.shape != (n,):
        raise SolverOptionError(f"{name} mask has shape {mask.shape}, the problem {n} {what}")
    return mask


def solve(sf: StandardForm, opts: SolveOptions = DEFAULTS, *, restrict: np.ndarray | None = None,
          start: np.ndarray | None = None, progress: Callable[[str], None] | None = None,
          support: np.ndarray | None = None, lazy: np.ndarray | None = None, lp: Outcome | None = None) -> SolveReport:
    """Solve ``sf`` with HiGHS by ``opts.strategy``; the report carries the solution vector.

    ``restrict``: boolean mask of the binary columns that ``lp_start`` closes where the LP
    relaxation leaves them at zero. ``start``: a full column vector to start the MIP from.
    ``support``: binary columns ``lp_start`` first fixes to the LP's support (on where the LP uses
    them, off elsewhere) for a quick plan. ``lazy``: boolean mask of rows the LP relaxation may
    leave out until its solution breaks them (rows that are many and seldom binding). ``lp``: the
    LP relaxation already solved to optimality (``lp_start`` takes it instead of solving its own).
    """
    say = progress or (lambda _msg: None)
    if start is not None and np.shape(start) != (sf.shape[1],):
        raise SolverOptionError(f"start vector has shape {np.shape(start)}, the problem {sf.shape[1]} columns")
    restrict, support = check_mask("restrict", restrict, sf.shape[1]), check_mask("support", support, sf.shape[1])
    lazy = check_mask("lazy", lazy, sf.shape[0], "rows")
    clock, phases = Clock(opts.time_limit_s), []
    if sf.shape[1] == 0:
        o = Outcome(Termination.MODEL_EMPTY, SolutionStatus.NONE, None, None, None, None)
        return make_report(sf, opts, clock, phases, o)
    run, name = opts.strategy, None
    if run == Strategy.AUTO:
        run, why = choose(sf)
        say(f"strategy auto: {run} ({why})")
        name = f"{Strategy.AUTO}: {run}"
    hints = {"support": support, "lazy": lazy} | ({} if lp is None else {"lp": lp})
    o = STRATEGIES[run](sf, opts, clock, phases, say, restrict, start, **hints)
    return make_report(sf, opts, clock, phases, o, name)


def lp_optimum(sf: StandardForm, opts: SolveOptions, *, progress: Callable[[str], None] | None = None) -> Outcome:
    """The LP relaxation of ``sf`` with every row, to optimality within ``opts.time_limit_s``
    (:func:`~.lp_start.interior_lp`); pass it to :func:`solve` as ``lp`` for ``lp_start``."""
    return interior_lp(sf, opts, Clock(opts.time_limit_s), [], progress or (lambda _msg: None))


class Reoptimizer:
    """One HiGHS MIP kept in memory: change costs or bounds in place and re-solve from a start.

    Cost and bound changes keep the matrix, so nothing is rebuilt or recompiled; HiGHS starts
    from the given solution (the neighbour's plan). Without a start, ``solve`` runs the
    configured strategy (``lp_start`` with ``restrict``, the site-opening columns) to find one.
    """

    def __init__(self, sf: StandardForm, opts: SolveOptions = DEFAULTS, *,
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
        if self.opts.strategy != Strategy.PLAIN:
            # the configured strategy on the updated arrays, from the given plan where it is the
            # better start (measured on the default: HiGHS alone from the neighbour's plan stalled
            # in its root node for 85 s where lp_start took 3 s)
            opts = self.opts if time_limit_s is None else dataclasses.replace(self.opts, time_limit_s=time_limit_s)
            return solve(self.sf, opts, restrict=self.restrict, start=start, progress=progress)
        clock = Clock(self.opts.time_limit_s if time_limit_s is None else time_limit_s)
        if self.h is None:  # first plain solve, or the last one was left behind at its deadline
            self.h = make_highs(self.sf, self.opts, time_limit=clock.left())
        limit = clock.left()
        set_option(self.h, "time_limit", limit)
        if start is not None:
            self.h.setSolution(self.n, self._idx, np.asarray(start, float))
        phases = []
        phase, o = run_phase("mip", self.h, bool(self.sf.integer.any()), time.perf_counter(), progress,
                             self.sf, limit)
        if left_behind(self.h):
            self.h = None  # still running in its thread: never touch it again
        phases.append(phase)
        if not consistent(self.sf, o):  # see mip_from: HiGHS misreported after a start
            self.h = None  # the next solve starts from a fresh problem
            o = mip_from(self.sf, self.opts, clock, phases, progress or (lambda _m: None), None, "mip_no_start")
        return make_report(self.sf, dataclasses.replace(self.opts, strategy=Strategy.PLAIN), clock, phases, o)


