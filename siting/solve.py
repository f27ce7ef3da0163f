"""The only module that talks to HiGHS.

The Pyomo model is compiled to standard form (``LinearStandardFormCompiler``) and handed to
highspy as a sparse column-wise matrix: measured faster than an LP file or the persistent
interfaces. ``lp_start`` solves the LP relaxation, then the MIP restricted to the sites the LP
opens (short budget), and hands that plan to the full MIP as a start (SPEC.md, "Solving
realistic instances"); ``plain`` runs HiGHS alone.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib.metadata import version

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

__all__ = ["SolveOptions", "SolveReport", "Solution", "StandardForm", "compile_model", "solve_model"]

_TERMINATION = {
    "kOptimal": "optimal", "kTimeLimit": "time_limit", "kInfeasible": "infeasible",
    "kUnbounded": "unbounded", "kUnboundedOrInfeasible": "infeasible_or_unbounded",
    "kInterrupt": "interrupted", "kHighsInterrupt": "interrupted",
    "kIterationLimit": "iteration_limit", "kSolutionLimit": "solution_limit",
    "kObjectiveBound": "objective_bound", "kObjectiveTarget": "objective_target",
    "kMemoryLimit": "memory_limit", "kModelEmpty": "optimal",
}


@dataclass(frozen=True)
class SolveOptions:
    time_limit_s: float = 120.0
    mip_gap: float = 1e-4
    threads: int = 1
    seed: int = 0
    strategy: str = "lp_start"
    restricted_time_s: float = 20.0
    log: bool = False


@dataclass
class SolveReport:
    """Termination condition and solution status kept apart, with bound, gap and timings."""

    termination: str
    solution_status: str  # optimal | feasible | none
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
    phases: list[dict] = field(default_factory=list)

    @property
    def proven_optimal(self) -> bool:
        return self.termination == "optimal" and self.solution_status == "optimal"

    @property
    def has_solution(self) -> bool:
        return self.solution_status in ("optimal", "feasible")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["proven_optimal"] = self.proven_optimal
        return d


@dataclass
class Solution:
    """Variable values by component name, in the component's index order (missing = 0)."""

    values: dict[str, np.ndarray]
    index: dict[str, np.ndarray] = field(default_factory=dict)  # component name -> its keys

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values.get(name, np.zeros(0))

    def by_key(self, name: str, n: int) -> np.ndarray:
        """Values of an integer-indexed component spread over positions 0..n-1 (0 elsewhere)."""
        out = np.zeros(n)
        if name in self.values:
            out[self.index[name].astype(int)] = self.values[name]
        return out


@dataclass
class StandardForm:
    """The model as arrays: min c x + offset, row_lower <= A x <= row_upper, bounds, integrality."""

    c: np.ndarray
    offset: float
    A: object  # scipy.sparse.csc_array
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray
    columns: dict[str, np.ndarray]  # component name -> column per index (-1: not in the matrix)
    keys: dict[str, np.ndarray]  # component name -> its index keys, in the same order
    seconds: float

    @property
    def shape(self) -> tuple[int, int]:
        return self.A.shape


def compile_model(model: pyo.ConcreteModel) -> StandardForm:
    """Compile a linear Pyomo model to :class:`StandardForm` (Pyomo's standard-form compiler)."""
    t0 = time.perf_counter()
    from .model import _no_gc

    with _no_gc():
        info = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
    col_of = {id(v): j for j, v in enumerate(info.columns)}
    columns = {var.local_name: np.fromiter((col_of.get(id(v), -1) for v in var.values()), int)
               for var in model.component_objects(pyo.Var, active=True)}
    keys = {var.local_name: np.array(list(var.keys()), dtype=object)
            for var in model.component_objects(pyo.Var, active=True)}
    bt = np.fromiter((r.bound_type for r in info.rows), int, len(info.rows))
    rhs = np.asarray(info.rhs, float)
    inf = np.inf
    lo = np.array([-inf if v.lb is None else v.lb for v in info.columns], float)
    up = np.array([inf if v.ub is None else v.ub for v in info.columns], float)
    integer = np.fromiter((v.is_integer() for v in info.columns), bool, len(info.columns))
    c = info.c.toarray().ravel() if info.c.shape[0] else np.zeros(len(info.columns))
    return StandardForm(c, float(info.c_offset[0]) if len(info.c_offset) else 0.0, info.A,
                        np.where(bt >= 0, np.where(bt == 0, rhs, -inf), rhs),
                        np.where(bt <= 0, np.where(bt == 0, rhs, inf), rhs),
                        lo, up, integer, columns, keys, time.perf_counter() - t0)


_THREADS = {"in_use": None}


def _without_banner() -> None:
    """Create the process's first Highs object with stdout closed: HiGHS prints its banner
    on the first construction only, and a CLI's output is no place for it."""
    import ctypes

    try:
        saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        os.dup2(null, 1)
        highspy.Highs()
        ctypes.CDLL(None).fflush(None)
    finally:
        os.dup2(saved, 1)
        os.close(null)
        os.close(saved)


_without_banner()


def _highs(sf: StandardForm, opts: SolveOptions, *, relax=False, col_upper=None,
           time_limit=None) -> highspy.Highs:
    if _THREADS["in_use"] not in (None, opts.threads):
        # HiGHS keeps one global thread pool per process; a new thread count needs a new pool
        highspy.Highs.resetGlobalScheduler(True)
    _THREADS["in_use"] = opts.threads
    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(opts.log))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = sf.A.shape[1], sf.A.shape[0]
    lp.col_cost_ = sf.c
    lp.offset_ = sf.offset
    lp.col_lower_ = sf.col_lower
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
    h.setOptionValue("time_limit", float(time_limit if time_limit is not None else opts.time_limit_s))
    h.setOptionValue("mip_rel_gap", float(opts.mip_gap))
    h.setOptionValue("threads", int(opts.threads))
    h.setOptionValue("random_seed", int(opts.seed))
    h.HandleKeyboardInterrupt = True  # Ctrl-C / SIGTERM cancel the solve instead of being held
    return h


def _run(h: highspy.Highs) -> None:
    """Run HiGHS so that Ctrl-C cancels it; an interrupted solve raises KeyboardInterrupt."""
    h.solve()
    if h.getModelStatus().name in ("kInterrupt", "kHighsInterrupt"):
        raise KeyboardInterrupt("solve interrupted")


def _status(h: highspy.Highs) -> tuple[str, str, float | None, float | None, float | None, np.ndarray | None]:
    status = h.getModelStatus()
    term = _TERMINATION.get(status.name, status.name.removeprefix("k").lower())
    if term == "notset":
        term = "error"
    info = h.getInfo()
    has = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value, float) if has else None
    obj = info.objective_function_value if has else None
    is_mip = h.getLp().integrality_ and any(
        t == highspy.HighsVarType.kInteger for t in h.getLp().integrality_)
    if is_mip:
        bound = info.mip_dual_bound if math.isfinite(info.mip_dual_bound) else None
        gap = info.mip_gap if (has and math.isfinite(info.mip_gap)) else None
    else:
        bound, gap = (obj, 0.0) if term == "optimal" else (None, None)
    sol = "none" if not has else ("optimal" if term == "optimal" else "feasible")
    return term, sol, obj, bound, gap, x


def solve_model(model: pyo.ConcreteModel, opts: SolveOptions = SolveOptions(), *,
                binary_to_restrict: str = "open",
                progress: Callable[[str], None] | None = None) -> tuple[SolveReport, Solution | None]:
    """Solve a Pyomo model with HiGHS; return the report and the values (or ``None``)."""
    say = progress or (lambda _msg: None)
    sf = compile_model(model)
    say(f"compiled {sf.shape[0]:,} rows x {sf.shape[1]:,} columns "
        f"({int(sf.integer.sum()):,} integer) in {sf.seconds:.1f} s")
    t0 = time.perf_counter()
    phases: list[dict] = []
    left = lambda: max(opts.time_limit_s - (time.perf_counter() - t0), 1.0)  # noqa: E731
    start, lp_bound = None, None
    cols = sf.columns.get(binary_to_restrict, np.zeros(0, int))
    if opts.strategy == "lp_start" and sf.integer.any() and cols.size:
        say("solving the LP relaxation")
        h = _highs(sf, opts, relax=True, time_limit=left())
        _run(h)
        term, _, obj, _, _, x = _status(h)
        phases.append({"phase": "lp_relaxation", "termination": term, "objective": obj,
                       "seconds": time.perf_counter() - t0})
        if term == "infeasible":
            return _report(sf, opts, phases, t0, term, "none", None, None, None), None
        lp_bound = obj if term == "optimal" else None
        if x is not None:
            ub = sf.col_upper.copy()
            used = cols[cols >= 0]
            closed = used[x[used] <= 1e-6]
            ub[closed] = 0.0
            say(f"LP bound {obj:,.1f}; restricted MIP over the {used.size - closed.size} sites "
                "the LP opens")
            t1 = time.perf_counter()
            h = _highs(sf, opts, col_upper=ub, time_limit=min(opts.restricted_time_s, left()))
            _run(h)
            term, _, obj_r, _, _, start = _status(h)
            phases.append({"phase": "restricted_mip", "termination": term, "objective": obj_r,
                           "seconds": time.perf_counter() - t1})
            gap = None if start is None else (obj_r - obj) / max(abs(obj_r), 1e-9)
            if gap is not None and gap <= opts.mip_gap:
                # the LP relaxation bounds the full MIP: the restricted plan is already proven
                report = _report(sf, opts, phases, t0, "optimal", "optimal", obj_r, obj, max(gap, 0.0))
                return report, _solution(sf, start)
    say("solving the full MIP" + (" from the restricted plan" if start is not None else ""))
    t2 = time.perf_counter()
    h = _highs(sf, opts, time_limit=left())
    if start is not None:
        h.setSolution(sf.A.shape[1], np.arange(sf.A.shape[1], dtype=np.int32), start)
    _run(h)
    term, sol, obj, bound, gap, x = _status(h)
    phases.append({"phase": "mip" if sf.integer.any() else "lp", "termination": term,
                   "objective": obj, "seconds": time.perf_counter() - t2})
    if lp_bound is not None and (bound is None or lp_bound > bound):
        # a MIP stopped early may not have passed its root yet: the LP relaxation still bounds it
        bound = lp_bound
        gap = None if obj is None else max(obj - bound, 0.0) / max(abs(obj), 1e-9)
    report = _report(sf, opts, phases, t0, term, sol, obj, bound, gap)
    if x is None:
        return report, None
    return report, _solution(sf, x)


def _solution(sf: StandardForm, x: np.ndarray) -> Solution:
    values = {name: np.where(idx >= 0, x[np.maximum(idx, 0)], 0.0) for name, idx in sf.columns.items()}
    return Solution(values, sf.keys)


def _report(sf, opts, phases, t0, term, sol, obj, bound, gap) -> SolveReport:
    return SolveReport(termination=term, solution_status=sol, objective=obj, best_bound=bound,
                       gap=gap, compile_s=sf.seconds, solve_s=time.perf_counter() - t0,
                       n_variables=sf.shape[1], n_binary=int((sf.integer & (sf.col_lower == 0)
                                                              & (sf.col_upper == 1)).sum()),
                       n_integer=int(sf.integer.sum()), n_constraints=sf.shape[0],
                       n_nonzeros=int(sf.A.nnz), strategy=opts.strategy, phases=phases)
