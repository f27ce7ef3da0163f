"""Two-stage stochastic programs in standard form: the record, its extensive form, one scenario's
subproblem, and the values a board asks for (expected value of the average-scenario plan, the
wait-and-see value, VSS and EVPI). Knows nothing of siting.

The problem::

    min  c x + offset + sum_s p_s Q_s(x)
    s.t. row_lower <= A x <= row_upper,  col_lower <= x <= col_upper,  x_j integer where integer_j
    Q_s(x) = min { q_s y :  h_lower_s <= T_s x + W_s y <= h_upper_s,  l_s <= y <= u_s,  y_j integer where ... }

optionally plus ``lambda CVaR_alpha`` of the scenario cost ``cost_s = c_s x + offset + Q_s(x)``
(``c_s``: the scenario's own first-stage cost where it has one, else ``c``), in the form of
Rockafellar and Uryasev ("Optimization of conditional value-at-risk", J. Risk 2(3), 2000)::

    CVaR_alpha = min_eta  eta + 1/(1 - alpha) sum_s p_s u_s,   u_s >= cost_s - eta,  u_s >= 0

:func:`extensive_form` stacks it into one :class:`StandardForm` (columns: x, then y_1, ..., y_S;
rows: A, then the rows of each scenario); :func:`solve_ef` hands that to HiGHS through
:func:`siting.solve.solve` (deadline and Ctrl-C as every solve). :mod:`.lshaped` decomposes it.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .highs import Clock, make_highs, read_outcome, run_within, set_option
from .report import SolveOptions, SolverOptionError, StandardForm, Strategy, Termination
from .strategies import lp_optimum, solve

__all__ = ["TwoStageError", "Scenario", "TwoStage", "TwoStageResult", "extensive_form", "scenario_form",
           "solve_ef", "ScenarioValue", "scenario_value", "lagrangian_bound", "evaluate", "expected_value_problem",
           "single_scenario", "solve_form", "wait_and_see", "value_of_stochastic_solution", "StochasticValues",
           "PROBABILITY_TOL", "cvar", "risk_neutral", "with_cvar"]

PROBABILITY_TOL = 1e-9  # probabilities must sum to 1 within this


class TwoStageError(SolverOptionError):
    """A two-stage problem whose arrays do not fit together (shapes, probabilities)."""


def _vec(a, n: int, what: str, dtype=float) -> np.ndarray:
    v = np.asarray(a, dtype=dtype).reshape(-1)
    if v.shape != (n,):
        raise TwoStageError(f"{what}: {v.shape[0]} entries, expected {n}")
    return v


def _mat(a, shape: tuple[int, int], what: str) -> sp.csr_array:
    m = sp.csr_array(a, dtype=float)
    if m.shape != shape:
        raise TwoStageError(f"{what}: shape {m.shape}, expected {shape}")
    return m


@dataclass(frozen=True)
class Scenario:
    """One scenario: its probability, recourse columns y (cost q, bounds, integrality) and rows
    ``h_lower <= T x + W y <= h_upper`` (T couples the first stage in)."""

    probability: float
    q: np.ndarray
    T: sp.csr_array
    W: sp.csr_array
    h_lower: np.ndarray
    h_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray
    name: str = ""
    first_cost: np.ndarray | None = None  # this scenario's own first-stage cost c_s (risk term); None: c

    @classmethod
    def build(cls, probability, q, T, W, h_lower, h_upper, col_lower=None, col_upper=None, integer=None,
              name: str = "", first_cost=None) -> Scenario:
        """Checked constructor: dense or sparse inputs, default bounds [0, inf), continuous."""
        q = np.asarray(q, float).reshape(-1)
        n2 = q.size
        W = sp.csr_array(W, dtype=float)
        rows = W.shape[0]
        W = _mat(W, (rows, n2), f"scenario {name!r} W")
        T = sp.csr_array(T, dtype=float)
        if T.shape[0] != rows:
            raise TwoStageError(f"scenario {name!r} T: {T.shape[0]} rows, W has {rows}")
        return cls(float(probability), q, T, W, _vec(h_lower, rows, f"scenario {name!r} h_lower"),
                   _vec(h_upper, rows, f"scenario {name!r} h_upper"),
                   np.zeros(n2) if col_lower is None else _vec(col_lower, n2, f"scenario {name!r} col_lower"),
                   np.full(n2, np.inf) if col_upper is None else _vec(col_upper, n2, f"scenario {name!r} col_upper"),
                   np.zeros(n2, bool) if integer is None else _vec(integer, n2, f"scenario {name!r} integer", bool),
                   name, None if first_cost is None else _vec(first_cost, T.shape[1], f"scenario {name!r} first_cost"))

    @property
    def n_cols(self) -> int:
        return self.q.size

    @property
    def n_rows(self) -> int:
        return self.W.shape[0]


@dataclass(frozen=True)
class TwoStage:
    """A two-stage stochastic program: first stage ``c, A, bounds, integer``; its scenarios."""

    c: np.ndarray
    A: sp.csr_array
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray
    scenarios: tuple[Scenario, ...]
    offset: float = 0.0
    cvar_weight: float = 0.0  # lambda >= 0: weight of CVaR_alpha of the scenario cost in the objective
    cvar_alpha: float = 0.95  # alpha in (0, 1): CVaR is the mean cost of the worst 1 - alpha of the probability

    def __post_init__(self):
        if not (math.isfinite(self.cvar_weight) and self.cvar_weight >= 0):
            raise TwoStageError(f"cvar_weight: {self.cvar_weight!r} is not >= 0")
        if not (math.isfinite(self.cvar_alpha) and 0.0 < self.cvar_alpha < 1.0):
            raise TwoStageError(f"cvar_alpha: {self.cvar_alpha!r} is outside (0, 1)")
        n1 = self.c.size
        if not self.scenarios:
            raise TwoStageError("a two-stage problem needs at least one scenario")
        if self.A.shape[1] != n1:
            raise TwoStageError(f"first-stage A: {self.A.shape[1]} columns, c has {n1}")
        for k, s in enumerate(self.scenarios):
            if s.T.shape[1] != n1:
                raise TwoStageError(f"scenario {k} ({s.name!r}) T: {s.T.shape[1]} columns, expected {n1}")
            if s.first_cost is not None and s.first_cost.size != n1:
                raise TwoStageError(f"scenario {k} ({s.name!r}) first_cost: {s.first_cost.size} entries, expected {n1}")
            if not (math.isfinite(s.probability) and s.probability >= 0):
                raise TwoStageError(f"scenario {k} ({s.name!r}) probability: {s.probability!r} is not >= 0")
        total = sum(s.probability for s in self.scenarios)
        if abs(total - 1.0) > PROBABILITY_TOL:
            raise TwoStageError(f"scenario probabilities sum to {total!r}, not 1")

    @classmethod
    def build(cls, c, A, row_lower, row_upper, scenarios, col_lower=None, col_upper=None, integer=None,
              offset: float = 0.0, cvar_weight: float = 0.0, cvar_alpha: float = 0.95) -> TwoStage:
        c = np.asarray(c, float).reshape(-1)
        n1 = c.size
        A = sp.csr_array(A, dtype=float) if A is not None else sp.csr_array((0, n1))
        rows = A.shape[0]
        return cls(c, _mat(A, (rows, n1), "first-stage A"), _vec(row_lower, rows, "first-stage row_lower"),
                   _vec(row_upper, rows, "first-stage row_upper"),
                   np.zeros(n1) if col_lower is None else _vec(col_lower, n1, "first-stage col_lower"),
                   np.full(n1, np.inf) if col_upper is None else _vec(col_upper, n1, "first-stage col_upper"),
                   np.zeros(n1, bool) if integer is None else _vec(integer, n1, "first-stage integer", bool),
                   tuple(scenarios), float(offset), float(cvar_weight), float(cvar_alpha))

    @property
    def n_first(self) -> int:
        return self.c.size

    @property
    def probabilities(self) -> np.ndarray:
        return np.array([s.probability for s in self.scenarios])

    @property
    def binary_first_stage(self) -> bool:
        """Every first-stage column is integer with bounds inside [0, 1]."""
        return bool(np.all(self.integer) and np.all(self.col_lower >= 0) and np.all(self.col_upper <= 1))

    @property
    def integer_recourse(self) -> bool:
        return any(s.integer.any() for s in self.scenarios)

    def first_cost(self, x: np.ndarray) -> float:
        return float(self.c @ x + self.offset)

    @property
    def risk_averse(self) -> bool:
        return self.cvar_weight > 0

    def scenario_first_costs(self) -> np.ndarray:
        """[S, n1]: each scenario's first-stage cost vector c_s (c where a scenario has none)."""
        return np.array([self.c if s.first_cost is None else s.first_cost for s in self.scenarios])

    def scenario_totals(self, x: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Each scenario's whole cost c_s x + offset + Q_s at first stage ``x`` and recourse costs ``q``."""
        return self.scenario_first_costs() @ np.asarray(x, float) + self.offset + np.asarray(q, float)

    def objective_at(self, x: np.ndarray, q: np.ndarray) -> float:
        """The objective at first stage ``x`` with recourse costs ``q`` (Q_s(x) per scenario):
        c x + offset + sum_s p_s q_s, plus lambda CVaR_alpha of the scenario costs when risk-averse."""
        q = np.asarray(q, float)
        out = self.first_cost(x) + float(self.probabilities @ q)
        if self.risk_averse:
            out += self.cvar_weight * cvar(self.scenario_totals(x, q), self.probabilities, self.cvar_alpha)
        return out


def cvar(costs, p, alpha: float) -> float:
    """CVaR_alpha of a discrete cost distribution: min over eta of eta + sum_s p_s (cost_s - eta)+ / (1 - alpha)
    (Rockafellar and Uryasev 2000), the probability-weighted mean of its worst 1 - alpha. The
    minimum is at a scenario's cost (the function is piecewise linear with kinks there).

    >>> round(cvar([2.0, 14.0], [0.8, 0.2], 0.5), 12)  # the worst half: 0.2 at 14 and 0.3 at 2, over 0.5
    6.8
    >>> round(cvar([1.0, 2.0, 3.0], [1/3, 1/3, 1/3], 1e-12), 9), cvar([5.0, 7.0], [0.5, 0.5], 0.9)  # mean; worst
    (2.0, 7.0)
    """
    costs, p = np.asarray(costs, float), np.asarray(p, float)
    if not np.all(np.isfinite(costs)):
        return math.inf
    excess = np.maximum(costs[None, :] - costs[:, None], 0.0) @ p  # at eta = each cost
    return float(np.min(costs + excess / (1.0 - alpha)))


def risk_neutral(ts: TwoStage) -> TwoStage:
    """``ts`` without its CVaR term (expected cost only)."""
    return dataclasses.replace(ts, cvar_weight=0.0)


@dataclass(frozen=True)
class TwoStageResult:
    """A two-stage solve: first-stage plan ``x``, objective (``c x`` + expected recourse), a valid
    lower bound, the gap, each scenario's recourse cost ``Q_s(x)``, and how it was obtained."""

    termination: Termination
    objective: float | None
    bound: float | None
    gap: float | None
    x: np.ndarray | None = field(repr=False)
    scenario_costs: np.ndarray | None = field(repr=False)
    seconds: float
    method: str
    iterations: int = 0
    workers: int = 0
    history: tuple[tuple[int, float, float, float, float], ...] = field(default=(), repr=False)
    master_s: float = 0.0  # decomposition: time in the master's HiGHS solves (here, serial)
    scenarios_s: float = 0.0  # ... and waiting for the scenario tasks (on the workers, in parallel)

    @property
    def within_gap(self) -> bool:
        return self.termination == Termination.OPTIMAL


def _block_cols(ts: TwoStage) -> list[slice]:
    out, k = [], ts.n_first
    for s in ts.scenarios:
        out.append(slice(k, k + s.n_cols))
        k += s.n_cols
    return out


def extensive_form(ts: TwoStage) -> StandardForm:
    """The deterministic equivalent: columns x, y_1..y_S; rows A x, then T_s x + W_s y_s per s;
    cost c x + sum_s p_s q_s y_s.

    >>> ts = TwoStage.build([1.0], None, [], [], [Scenario.build(0.5, [2.0], [[1.0]], [[1.0]], [1.0], [np.inf]),
    ...                     Scenario.build(0.5, [3.0], [[1.0]], [[1.0]], [2.0], [np.inf])], col_upper=[5.0])
    >>> ef = extensive_form(ts); ef.shape, ef.c.tolist()
    ((2, 3), [1.0, 1.0, 1.5])
    """
    n1, S = ts.n_first, ts.scenarios
    n = n1 + sum(s.n_cols for s in S)
    blocks = [[sp.hstack([ts.A, sp.csr_array((ts.A.shape[0], n - n1))])]] if ts.A.shape[0] else []
    k = n1
    for s in S:
        left, right = sp.csr_array((s.n_rows, k - n1)), sp.csr_array((s.n_rows, n - k - s.n_cols))
        blocks.append([sp.hstack([s.T, left, s.W, right])])
        k += s.n_cols
    A = sp.csc_array(sp.vstack([b[0] for b in blocks])) if blocks else sp.csc_array((0, n))
    def cat(first, each):
        return np.concatenate([first] + [each(s) for s in S])

    sf = StandardForm(cat(ts.c, lambda s: s.probability * s.q), ts.offset, A,
                      cat(ts.row_lower, lambda s: s.h_lower), cat(ts.row_upper, lambda s: s.h_upper),
                      cat(ts.col_lower, lambda s: s.col_lower), cat(ts.col_upper, lambda s: s.col_upper),
                      cat(ts.integer, lambda s: s.integer))
    return with_cvar(ts, sf, [sp.hstack([-sp.csr_array(ts.scenario_first_costs()[k][None, :]),
                                          sp.csr_array((1, sl.start - n1)), -sp.csr_array(s.q[None, :]),
                                          sp.csr_array((1, n - sl.stop))])
                               for k, (s, sl) in enumerate(zip(S, _block_cols(ts)))])


def with_cvar(ts: TwoStage, sf: StandardForm, minus_cost: list) -> StandardForm:
    """``sf`` (whose columns hold the first stage and each scenario's cost) with the CVaR term when
    ``ts`` is risk-averse: columns eta (free, cost lambda) and u_s >= 0 (cost lambda p_s / (1 - alpha)),
    rows u_s + eta - cost_s >= offset, ``minus_cost[s]`` being the row -cost_s over sf's columns."""
    if not ts.risk_averse:
        return sf
    S = len(ts.scenarios)
    lam, p = ts.cvar_weight, ts.probabilities
    rows = sp.hstack([sp.vstack(minus_cost), sp.csr_array(np.ones((S, 1))), sp.eye_array(S, format="csr")])
    A = sp.csc_array(sp.vstack([sp.hstack([sf.A, sp.csr_array((sf.shape[0], S + 1))]), rows]))
    return StandardForm(np.concatenate([sf.c, [lam], lam * p / (1.0 - ts.cvar_alpha)]), sf.offset, A,
                        np.concatenate([sf.row_lower, np.full(S, ts.offset)]),
                        np.concatenate([sf.row_upper, np.full(S, np.inf)]),
                        np.concatenate([sf.col_lower, [-np.inf], np.zeros(S)]),
                        np.concatenate([sf.col_upper, np.full(S + 1, np.inf)]),
                        np.concatenate([sf.integer, np.zeros(S + 1, bool)]))


def scenario_form(ts: TwoStage, k: int, first_rows: bool = True) -> StandardForm:
    """Scenario ``k`` alone with a copy ``z`` of the first stage (columns z, y; cost 0 on z, q on
    y; rows A z, then T z + W y). Fixing z = x gives Q_k(x); leaving z free and pricing it gives
    the Lagrangian bound behind a strengthened Benders cut (:mod:`.lshaped`). ``first_rows=False``
    frees the rows A z (for a given plan x they only re-test x, and a solver's x meets them only
    to its tolerance: an equality off by 3e-7 once its integers are rounded would call the
    scenario infeasible)."""
    s = ts.scenarios[k]
    n1 = ts.n_first
    A = sp.csc_array(sp.vstack([sp.hstack([ts.A, sp.csr_array((ts.A.shape[0], s.n_cols))]),
                                sp.hstack([s.T, s.W])]))
    m1 = ts.A.shape[0]
    lo1, up1 = (ts.row_lower, ts.row_upper) if first_rows else (np.full(m1, -np.inf), np.full(m1, np.inf))
    return StandardForm(np.concatenate([np.zeros(n1), s.q]), 0.0, A, np.concatenate([lo1, s.h_lower]),
                        np.concatenate([up1, s.h_upper]), np.concatenate([ts.col_lower, s.col_lower]),
                        np.concatenate([ts.col_upper, s.col_upper]), np.concatenate([ts.integer, s.integer]))


def held_bounds(lo: np.ndarray, up: np.ndarray, cols: np.ndarray, x: np.ndarray,
                integer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bounds ``lo``, ``up`` with columns ``cols`` held at ``x``: integers rounded and fixed,
    continuous columns within 1e-6 relative (a solver's optimum meets its rows only within the
    feasibility tolerance; fixed exactly, a row over held columns alone can then be called
    infeasible). The result stays within the original bounds.

    >>> lo, up = held_bounds(np.zeros(3), np.full(3, 9.0), np.array([0, 2]), np.array([2.9999999, 4.0]),
    ...                      np.array([True, False]))
    >>> lo.tolist(), up.tolist()
    ([3.0, 0.0, 3.999996], [3.0, 9.0, 4.000004])
    """
    x = np.where(integer, np.round(x), x)
    tol = np.where(integer, 0.0, 1e-6 * np.maximum(1.0, np.abs(x)))
    lo, up = lo.copy(), up.copy()
    lo[cols] = np.maximum(lo[cols], x - tol)
    up[cols] = np.minimum(up[cols], x + tol)
    return lo, up


def completed_start(ts: TwoStage, sf: StandardForm, x1: np.ndarray, opts: SolveOptions,
                    progress: Callable[[str], None] | None = None) -> np.ndarray | None:
    """A whole extensive-form vector from a first stage ``x1`` (e.g. the average scenario's
    plan): every scenario's recourse solved with ``x1`` held (one block-separable MIP), or None
    where ``x1`` leaves a scenario infeasible or the time runs out."""
    first = np.arange(ts.n_first)
    lo, up = held_bounds(sf.col_lower, sf.col_upper, first, np.asarray(x1, float), ts.integer)
    r = solve(dataclasses.replace(sf, col_lower=lo, col_upper=up), dataclasses.replace(opts, strategy=Strategy.PLAIN))
    if progress is not None:
        progress("start: the given first stage operated in every scenario: "
                 + ("none" if r.objective is None else f"{r.objective:,.2f}") + f" ({r.termination})")
    return r.x


LARGE_EF_COLUMNS = 100_000  # from this size the EF's LP relaxation is solved by the interior point method


def solve_ef(ts: TwoStage, opts: SolveOptions, progress: Callable[[str], None] | None = None,
             restrict: np.ndarray | None = None, start_first: np.ndarray | None = None) -> TwoStageResult:
    """The extensive form solved by HiGHS within ``opts`` (deadline, gap, Ctrl-C): ``plain``, or,
    given ``restrict`` (a mask of first-stage binaries, e.g. the site openings) and the ``auto`` or
    ``lp_start`` strategy, ``lp_start`` restricting those columns to the LP's support first (on the
    default layers with 20 scenarios plain HiGHS had no plan within 1 % in 400 s). With
    ``start_first`` (a first stage, e.g. the average scenario's plan), the solve starts from it
    operated in every scenario (:func:`completed_start`, a quarter of the time limit at most) and
    never returns a dearer plan. From :data:`LARGE_EF_COLUMNS` columns (``lp_start``), the LP
    relaxation is solved first by the interior point method (:func:`~.strategies.lp_optimum`,
    half the time left at most) and the MIP restricted to its support then has the rest: on the
    default layers with 20 scenarios (195k columns) the dual simplex took 327 s of 600."""
    t0 = time.perf_counter()
    sf = extensive_form(ts)
    mask = None
    if restrict is not None and opts.strategy in (Strategy.AUTO, Strategy.LP_START):
        mask = np.zeros(sf.shape[1], bool)
        mask[:ts.n_first] = np.asarray(restrict, bool)
    strategy = Strategy.PLAIN if mask is None else Strategy.LP_START
    start = None
    if start_first is not None:
        start = completed_start(ts, sf, start_first, dataclasses.replace(opts, time_limit_s=opts.time_limit_s / 4),
                                progress)
        opts = dataclasses.replace(opts, time_limit_s=max(opts.time_limit_s - (time.perf_counter() - t0), 1e-3))
    lp = None
    if mask is not None and sf.shape[1] >= LARGE_EF_COLUMNS:
        t1 = time.perf_counter()  # opts' time limit is what is left from here
        lp = lp_optimum(sf, dataclasses.replace(opts, time_limit_s=opts.time_limit_s / 2), progress=progress)
        if lp.termination != Termination.OPTIMAL or lp.x is None:
            lp = None
        left = max(opts.time_limit_s - (time.perf_counter() - t1), 1e-3)
        opts = dataclasses.replace(opts, time_limit_s=left, restricted_time_s=left if lp is not None
                                   else opts.restricted_time_s)
    r = solve(sf, dataclasses.replace(opts, strategy=strategy), progress=progress, restrict=mask, start=start, lp=lp)
    x = costs = None
    if r.x is not None:
        x = r.x[:ts.n_first].copy()
        costs = np.array([float(s.q @ r.x[sl]) for s, sl in zip(ts.scenarios, _block_cols(ts))])
    term = r.termination
    if term == Termination.OPTIMAL and r.gap is not None and r.gap > opts.mip_gap:
        term = Termination.UNKNOWN
    return TwoStageResult(term, r.objective, r.best_bound, r.gap, x, costs, time.perf_counter() - t0,
                          "extensive form (HiGHS)")


@dataclass(frozen=True)
class ScenarioValue:
    """What one scenario subproblem says at a first-stage point (:func:`scenario_value`)."""

    feasible: bool
    value: float | None  # Q_s(x) of the returned recourse (an upper bound when not proven)
    bound: float | None  # a proven lower bound of Q_s(x)
    slope: np.ndarray | None = None  # reduced costs of z at the LP relaxation (a subgradient)
    lp_value: float | None = None
    lagrangian: float | None = None  # min over (z, y) of q y - slope z: a bound for every x


def _sub_opts(opts: SolveOptions, gap: float) -> SolveOptions:
    return dataclasses.replace(opts, log=False, mip_gap=gap, strategy=Strategy.PLAIN, threads=1)


def solve_form(sf: StandardForm, opts: SolveOptions, relax: bool, clock: Clock | None,
               col_lower=None, col_upper=None):
    """One HiGHS solve of ``sf`` (its LP relaxation with ``relax``, other column bounds if given)
    within ``clock``: the ``Highs`` and its outcome, or (None, None) if left behind."""
    h = make_highs(sf, opts, relax=relax, col_lower=col_lower, col_upper=col_upper,
                   time_limit=math.inf if clock is None else clock.left())
    if relax:
        set_option(h, "solver", "simplex")
    state = run_within(h, clock, None, is_mip=not relax and bool(sf.integer.any()))
    if state == "abandoned":
        return None, None
    return h, read_outcome(h, not relax and bool(sf.integer.any()))


def _timed_out(o) -> bool:
    return o is None or o.termination in (Termination.TIME_LIMIT, Termination.INTERRUPTED)


def scenario_value(sf: StandardForm, n1: int, x: np.ndarray, opts: SolveOptions, *, mode: str = "exact",
                   gap: float = 1e-9, clock: Clock | None = None, lp_highs=None) -> ScenarioValue:
    """Scenario subproblem ``sf`` (:func:`scenario_form`) at first stage ``x`` (z fixed to x).

    ``mode="lp"``: the LP relaxation only: its value, the reduced costs of z (a subgradient) and
    the LP cut's intercept (``x`` may be fractional). ``"exact"``: also Q(x), the MIP (where the
    recourse is integer), with its proven bound. ``"strengthened"``: also raises the intercept to
    :func:`lagrangian_bound` at the LP slope. ``lp_highs``: a ``Highs`` holding the LP relaxation
    of ``sf`` from an earlier call, re-solved from its basis after new z bounds (warm start).
    Runs on a Dask worker or locally; raises TimeoutError past ``clock``."""
    o_ = _sub_opts(opts, gap)
    x = np.asarray(x, float)
    lo, up = sf.col_lower.copy(), sf.col_upper.copy()
    lo[:n1], up[:n1] = x, x
    is_mip = bool(sf.integer[n1:].any())
    if lp_highs is not None:
        idx = np.arange(n1, dtype=np.int32)
        lp_highs.changeColsBounds(n1, idx, x, x)
        state = run_within(lp_highs, clock)
        h, lp = (None, None) if state == "abandoned" else (lp_highs, read_outcome(lp_highs, False))
    else:
        h, lp = solve_form(sf, o_, True, clock, lo, up)
    if _timed_out(lp):
        raise TimeoutError("scenario LP ran out of time")
    if lp.termination != Termination.OPTIMAL:
        if lp.termination in (Termination.INFEASIBLE, Termination.INFEASIBLE_OR_UNBOUNDED):
            return ScenarioValue(False, None, None)
        raise TwoStageError(f"scenario LP ended {lp.termination} at a first-stage plan")
    slope = np.asarray(h.getSolution().col_dual, float)[:n1]
    lag = lp.objective - slope @ x  # the LP cut's intercept: valid for every x
    if not is_mip:
        return ScenarioValue(True, lp.objective, lp.objective, slope, lp.objective, lag)
    if mode == "lp":
        return ScenarioValue(True, None, lp.objective, slope, lp.objective, lag)
    _, mip = solve_form(sf, o_, False, clock, lo, up)
    if _timed_out(mip):
        raise TimeoutError("scenario MIP ran out of time")
    if mip.termination == Termination.INFEASIBLE:
        return ScenarioValue(False, None, None, slope, lp.objective)
    if mip.objective is None or mip.bound is None:
        raise TwoStageError(f"scenario MIP ended {mip.termination} without a plan at a first-stage plan")
    if mode == "strengthened":
        lag = max(lag, lagrangian_bound(sf, n1, slope, opts, gap=gap, clock=clock))
    return ScenarioValue(True, mip.objective, min(mip.bound, mip.objective), slope, lp.objective, lag)


def lagrangian_bound(sf: StandardForm, n1: int, slope: np.ndarray, opts: SolveOptions, *, gap: float = 1e-9,
                     clock: Clock | None = None) -> float:
    """min { q y - slope z : (z, y) feasible for the scenario, z integer where x is } (a proven
    bound of it): the intercept of the strengthened Benders cut theta >= bound + slope x, valid
    for every first-stage x (Zou, Ahmed and Sun, "Stochastic dual dynamic integer programming",
    Math. Prog. 175 (2019)). With ``slope = 0``: the scenario's least recourse cost over all x."""
    c = sf.c.copy()
    c[:n1] = -np.asarray(slope, float)
    _, o = solve_form(dataclasses.replace(sf, c=c), _sub_opts(opts, gap), False, clock)
    if _timed_out(o):
        raise TimeoutError("Lagrangian MIP ran out of time")
    if o.bound is None or not math.isfinite(o.bound):
        raise TwoStageError(f"a scenario has no finite minimum over the first stage ({o.termination})")
    return float(o.bound)


def evaluate(ts: TwoStage, x: np.ndarray, opts: SolveOptions, gap: float = 1e-9) -> np.ndarray:
    """Q_s(x) for every scenario (inf where x leaves scenario s infeasible), solved here, one by one.
    The integer columns of ``x`` are rounded first: a MIP's 0.9999999 open site is open, and fixing
    it at 0.9999999 would shrink every row it bounds (a plan feasible when rounded could be called
    infeasible)."""
    clock = Clock(opts.time_limit_s)
    x = np.where(ts.integer, np.round(x), x)
    out = []
    for k in range(len(ts.scenarios)):
        v = scenario_value(scenario_form(ts, k, first_rows=False), ts.n_first, x, opts, mode="exact", gap=gap,
                           clock=clock)
        out.append(v.value if v.feasible else math.inf)
    return np.array(out)


def single_scenario(ts: TwoStage, k: int) -> TwoStage:
    """The deterministic problem of scenario ``k`` alone (probability 1, its own first-stage cost;
    no risk term: one certain scenario has no tail)."""
    s = ts.scenarios[k]
    return dataclasses.replace(ts, c=ts.c if s.first_cost is None else s.first_cost, cvar_weight=0.0,
                               scenarios=(dataclasses.replace(s, probability=1.0, first_cost=None),))


def expected_value_problem(ts: TwoStage) -> TwoStage:
    """The average scenario: q, T, W, h and bounds averaged with the probabilities (every scenario
    must have the same shape; integrality must agree) — the problem behind the EV plan (risk-neutral:
    the classic plan for the average year)."""
    S = ts.scenarios
    s0 = S[0]
    for k, s in enumerate(S):
        if s.W.shape != s0.W.shape or not np.array_equal(s.integer, s0.integer):
            raise TwoStageError(f"scenario {k} ({s.name!r}) has another shape than scenario 0: no average scenario")
    p = ts.probabilities

    def avg(get):
        vals = [get(s) for s in S]
        if sp.issparse(vals[0]):
            return sp.csr_array(sum(pk * v for pk, v in zip(p, vals)))
        arr = np.array(vals, float)
        same = np.all(arr == arr[0], axis=0)  # keep infinite bounds that all scenarios share
        with np.errstate(invalid="ignore"):
            mean = np.tensordot(p, np.where(np.isfinite(arr), arr, 0.0), axes=1)
        return np.where(same, arr[0], mean)

    mean = Scenario(1.0, avg(lambda s: s.q), avg(lambda s: s.T), avg(lambda s: s.W), avg(lambda s: s.h_lower),
                    avg(lambda s: s.h_upper), avg(lambda s: s.col_lower), avg(lambda s: s.col_upper),
                    s0.integer.copy(), "expected value")
    return dataclasses.replace(ts, scenarios=(mean,), cvar_weight=0.0)


def wait_and_see(ts: TwoStage, opts: SolveOptions, restrict: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """WS = sum_s p_s min_x (c_s x + Q_s(x)): each scenario's own best plan (perfect information);
    risk-averse, plus lambda CVaR_alpha of those per-scenario optima."""
    vals = []
    for k in range(len(ts.scenarios)):
        r = solve_ef(single_scenario(ts, k), opts, restrict=restrict)
        if r.objective is None or r.termination != Termination.OPTIMAL:
            raise TwoStageError(f"wait-and-see: scenario {k} ended {r.termination}")
        vals.append(r.objective)
    vals = np.array(vals)
    ws = float(ts.probabilities @ vals)
    if ts.risk_averse:
        ws += ts.cvar_weight * cvar(vals, ts.probabilities, ts.cvar_alpha)
    return ws, vals


@dataclass(frozen=True)
class StochasticValues:
    """RP (the stochastic plan's expected cost), EV (the average scenario's optimum), EEV (the EV
    plan's expected cost on every scenario), WS; VSS = EEV - RP, EVPI = RP - WS. Risk-averse
    (lambda > 0): RP, EEV and WS each add lambda CVaR_alpha of their scenario costs; EV does not."""

    rp: float
    ev: float
    eev: float
    ws: float
    x_rp: np.ndarray = field(repr=False)
    x_ev: np.ndarray = field(repr=False)
    eev_scenario_costs: np.ndarray = field(repr=False)

    @property
    def vss(self) -> float:
        return self.eev - self.rp

    @property
    def evpi(self) -> float:
        return self.rp - self.ws


def value_of_stochastic_solution(ts: TwoStage, opts: SolveOptions, rp: TwoStageResult | None = None,
                                 restrict: np.ndarray | None = None, ev: TwoStageResult | None = None
                                 ) -> StochasticValues:
    """RP, EV, EEV, WS of ``ts`` (RP and EV solved by the extensive form unless given; ``restrict``
    as in :func:`solve_ef`)."""
    ev = ev or solve_ef(expected_value_problem(ts), opts, restrict=restrict)
    rp = rp or solve_ef(ts, opts, restrict=restrict, start_first=ev.x)
    if rp.x is None or ev.x is None:
        raise TwoStageError(f"no plan: stochastic problem {rp.termination}, average scenario {ev.termination}")
    q = evaluate(ts, ev.x, opts)
    eev = ts.objective_at(ev.x, q) if np.all(np.isfinite(q)) else math.inf
    ws, _ = wait_and_see(ts, opts, restrict)
    return StochasticValues(float(rp.objective), float(ev.objective), eev, ws, rp.x, ev.x, q)
