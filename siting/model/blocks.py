"""The vocabulary the statement is written in: variable families and row blocks (numpy, no solver).

A :class:`Var` is a family of columns: its keys (index order), bounds, integrality and cost. A
:class:`Rows` block is one constraint family's rows ``lower <= sum of terms <= upper``; its
:class:`Terms` put ``coef * var[index]`` at position ``pos`` of local row ``row``.

Periods are a dimension, never copies: with P investment periods every variable family is keyed
(period, key), period-major (position ``t * n + i``), and a family states its rows once for one
period; :func:`over_periods` lays them out over the period axis (rows ``t * n + r``), a bound or a
coefficient given with a leading period axis ``(P, n)`` taking its own value in each period. A
block stated across periods (``across_periods``: e.g. ``x[t] >= x[t-1]``) already indexes them. Everything
else — the standard form, the Pyomo model, the size count, the structure key — is derived from
these records by generic code (:mod:`siting.model.compile`, :mod:`siting.model.pyomo`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Var", "Terms", "Rows", "terms", "rows", "grouped", "over_periods"]


@dataclass(frozen=True)
class Var:
    """A variable family: ``keys`` (index order), ``lower``/``upper`` bounds, integrality, and the
    objective coefficient of each key (``cost``; ``cost_at``: the keys with an objective term,
    ``None`` for every key)."""

    name: str
    keys: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integer: bool
    cost: np.ndarray | None = None
    cost_at: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.keys)

    def objective_terms(self) -> tuple[np.ndarray, np.ndarray]:
        """(positions, coefficients) of this family's terms in the objective (empty without a cost)."""
        if self.cost is None:
            return np.zeros(0, np.int64), np.zeros(0)
        at = np.arange(self.n) if self.cost_at is None else np.asarray(self.cost_at, np.int64)
        return at, np.asarray(self.cost, float)[at]


@dataclass(frozen=True)
class Terms:
    """``coef * var[index]`` at position ``pos`` of local row ``row`` (parallel arrays); ``coef``
    may carry a leading period axis (P, m): one value per period (see :func:`over_periods`)."""

    var: str
    row: np.ndarray
    pos: np.ndarray
    index: np.ndarray
    coef: np.ndarray
    lag: int = 0  # with periods: the term reads its variable ``lag`` periods earlier (none before)


@dataclass(frozen=True)
class Rows:
    """One constraint family: ``n`` rows ``lower <= body <= upper`` whose bodies are ``terms``.

    ``lower``/``upper`` may carry a leading period axis (P, n); ``across_periods``: the rows
    already index the period-keyed variables (not laid out again by :func:`over_periods`)."""

    name: str
    n: int
    lower: np.ndarray
    upper: np.ndarray
    terms: tuple[Terms, ...]
    across_periods: bool = False


def terms(var: str, row, pos, index, coef, lag: int = 0) -> Terms:
    """Terms broadcast to the shape of ``row``.

    >>> t = terms("open", [0, 1], 0, [3, 4], -1.0)
    >>> t.index.tolist(), t.coef.tolist()
    ([3, 4], [-1.0, -1.0])
    """
    row = np.asarray(row, np.int64)
    shape = row.shape
    coef = np.asarray(coef, float)
    return Terms(var, row, np.broadcast_to(np.asarray(pos, np.int64), shape),
                 np.broadcast_to(np.asarray(index, np.int64), shape),
                 np.broadcast_to(coef, coef.shape[:-1] + shape if coef.ndim > len(shape) else shape), lag)


def rows(name: str, n: int, body, *, le=None, ge=None, eq=None, across_periods=False) -> Rows:
    """Rows ``body <= le``, ``body >= ge`` or ``body == eq`` (one of them; scalars broadcast; a
    bound of shape (P, n) holds one value per period).

    >>> r = rows("max_sites", 1, [terms("open", [0, 0], [0, 1], [0, 1], 1.0)], le=3)
    >>> r.lower.tolist(), r.upper.tolist()
    ([-inf], [3.0])
    """
    if sum(b is not None for b in (le, ge, eq)) != 1:
        raise ValueError(f"{name}: give exactly one of le, ge, eq")
    bound = np.asarray(next(b for b in (eq, le, ge) if b is not None), float)
    shape = bound.shape[:-1] + (n,) if bound.ndim > 1 else (n,)
    bound = np.broadcast_to(bound, shape)
    inf = np.full(shape, np.inf)
    lo, up = (bound, bound) if eq is not None else (-inf, bound) if le is not None else (bound, inf)
    return Rows(name, n, lo, up, tuple(t for t in body if t.row.size), across_periods)


def _per_period(a: np.ndarray, P: int, m: int) -> np.ndarray:
    """``a`` of shape (m,) or (1, m) repeated, or (P, m) as it is, flattened period-major."""
    if m == 0:
        return np.zeros(0)
    a = np.asarray(a).reshape(-1, m)
    return (np.tile(a, (P // a.shape[0], 1)) if a.shape[0] != P else a).ravel()


def over_periods(b: Rows, P: int, n_of: dict[str, int]) -> Rows:
    """A block stated for one period laid out over ``P`` periods: local row ``r`` of period ``t``
    is row ``t * n + r``; a term on variable family ``v`` (``n_of[v]`` keys a period) reads
    position ``t * n_of[v] + index``; bounds and coefficients with a period axis take period t's
    value; a term with a ``lag`` reads its variable that many periods earlier (and is absent in
    the first ``lag`` periods). With one period (or a block stated ``across_periods``) the block
    is unchanged.

    >>> b = rows("cap", 1, [terms("x", [0], 0, [1], [[1.0], [2.0]])], le=[[5.0], [6.0]])
    >>> o = over_periods(b, 2, {"x": 3})
    >>> o.n, o.upper.tolist(), o.terms[0].index.tolist(), o.terms[0].coef.tolist()
    (2, [5.0, 6.0], [1, 4], [1.0, 2.0])
    """
    if b.across_periods or (P == 1 and b.lower.ndim == 1 and all(t.coef.ndim == t.row.ndim for t in b.terms)):
        return b
    out = []
    for t in b.terms:
        m, shift = t.row.size, np.repeat(np.arange(P), t.row.size)
        keep = shift >= t.lag  # a lagged term has no earlier period to read in the first ones
        out.append(Terms(t.var, (np.tile(t.row, P) + shift * b.n)[keep], np.tile(t.pos, P)[keep],
                         (np.tile(t.index, P) + (shift - t.lag) * n_of[t.var])[keep],
                         _per_period(t.coef, P, m)[keep]))
    return Rows(b.name, P * b.n, _per_period(b.lower, P, b.n), _per_period(b.upper, P, b.n), tuple(out), True)


def grouped(keys: np.ndarray, n: int):
    """Positions sorted stably by key, the rank of each within its key, and the count per key.

    >>> order, rank, counts = grouped(np.array([1, 0, 1]), 2)
    >>> order.tolist(), rank.tolist(), counts.tolist()
    ([1, 0, 2], [0, 0, 1], [1, 2])
    """
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys, minlength=n)
    starts = np.cumsum(counts) - counts
    rank = np.arange(keys.size) - starts[keys[order]]
    return order, rank, counts
