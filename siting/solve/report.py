"""The solver layer's records: enums, options (every default and range stated once), the standard
form a problem arrives in, and the report a solve returns. No HiGHS here: checking an option or
a strategy's name imports nothing else."""

from __future__ import annotations

import enum
import math
from dataclasses import asdict, dataclass, field
from importlib.metadata import version

import numpy as np

__all__ = ["SolverOptionError", "Termination", "SolutionStatus", "Strategy", "Limit", "LIMITS",
           "HIGHS_MAX_SEED", "SolveOptions", "StandardForm", "Phase", "Outcome", "SolveReport"]

HIGHS_MAX_SEED = 2_147_483_647  # HiGHS random_seed is a non-negative C int


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


class Strategy(enum.StrEnum):
    """The strategies :func:`siting.solve.solve` knows (its registry has one entry per member).

    >>> Strategy("benders"), [str(s) for s in Strategy]
    (<Strategy.BENDERS: 'benders'>, ['plain', 'lp_start', 'benders', 'auto'])
    """

    PLAIN = "plain"
    LP_START = "lp_start"
    BENDERS = "benders"
    AUTO = "auto"  # one of the others, picked by the problem's structure (solve.auto)


DEFAULT_STRATEGY = Strategy.AUTO  # lp_start on siting models, benders on facility location


@dataclass(frozen=True)
class Limit:
    """The values an option may take: ``low <= v <= high`` (``low < v`` where ``low_open``),
    an int where ``integer``.

    >>> LIMITS["threads"].holds(2), LIMITS["threads"].holds(2.0), LIMITS["time_limit_s"].holds(0)
    (True, False, False)
    >>> LIMITS["mip_gap"].bounds()
    {'ge': 0.0, 'le': 1.0}
    """

    low: float
    high: float = math.inf
    low_open: bool = False
    integer: bool = False

    def holds(self, v) -> bool:
        if self.integer and not isinstance(v, int):
            return False
        try:
            return (self.low < v if self.low_open else self.low <= v) and v <= self.high
        except TypeError:
            return False

    def bounds(self) -> dict:
        """The limit as keyword arguments of a schema field (``gt``/``ge``, ``le``)."""
        out = {"gt" if self.low_open else "ge": self.low}
        if math.isfinite(self.high):
            out["le"] = self.high
        return out


# every option's range, stated once (SolveOptions checks it; a scenario schema can use bounds())
LIMITS: dict[str, Limit] = {
    "time_limit_s": Limit(0.0, low_open=True),
    "mip_gap": Limit(0.0, 1.0),
    "threads": Limit(1, 256, integer=True),
    "seed": Limit(0, HIGHS_MAX_SEED, integer=True),
    "restricted_time_s": Limit(0.0),
}


@dataclass(frozen=True)
class SolveOptions:
    """Solver settings: the field defaults are the solver layer's defaults, :data:`LIMITS` their
    ranges; every value is checked here, and again by HiGHS when passed to it."""

    time_limit_s: float = 120.0
    mip_gap: float = 0.01
    threads: int = 2
    seed: int = 0
    strategy: Strategy = DEFAULT_STRATEGY
    restricted_time_s: float = 20.0
    log: bool = False

    def __post_init__(self):
        try:
            object.__setattr__(self, "strategy", Strategy(self.strategy))
        except ValueError:
            raise SolverOptionError(f"solver.strategy: unknown strategy {self.strategy!r} "
                                    f"(known: {', '.join(Strategy)})") from None
        for name, limit in LIMITS.items():
            if not limit.holds(getattr(self, name)):
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
class Outcome:
    """What one HiGHS run or one strategy ends with (the report adds sizes and times)."""

    termination: Termination
    solution_status: SolutionStatus
    objective: float | None
    bound: float | None
    gap: float | None
    x: np.ndarray | None


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
    strategy: str = str(DEFAULT_STRATEGY)  # a strategy's name, or a caller's account of one
    phases: tuple[Phase, ...] = ()
    x: np.ndarray | None = field(default=None, repr=False, compare=False)
    notes: tuple[str, ...] = ()  # what was done to the plan after the solver (e.g. polish moves)

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
        d["notes"] = list(self.notes)
        d["termination"], d["solution_status"] = str(self.termination), str(self.solution_status)
        d["proven_optimal"] = self.proven_optimal
        return d
