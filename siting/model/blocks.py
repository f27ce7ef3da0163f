"""The vocabulary the statement is written in: variable families and row blocks (numpy, no solver).

A :class:`Var` is a family of columns: its keys (index order), bounds, integrality and cost. A
:class:`Rows` block is one constraint family's rows ``lower <= sum of terms <= upper``; its
:class:`Terms` put ``coef * var[index]`` at position ``pos`` of local row ``row``. Everything
else — the standard form, the Pyomo model, the size count, the structure key — is derived from
these records by generic code (:mod:`siting.model.compile`, :mod:`siting.model.pyomo`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Var", "Terms", "Rows", "terms", "rows", "grouped"]


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
    """``coef * var[index]`` at position ``pos`` of local row ``row`` (parallel arrays)."""

    var: str
    row: np.ndarray
    pos: np.ndarray
    index: np.ndarray
    coef: np.ndarray


@dataclass(frozen=True)
class Rows:
    """One constraint family: ``n`` rows ``lower <= body <= upper`` whose bodies are ``terms``."""

    name: str
    n: int
    lower: np.ndarray
    upper: np.ndarray
    terms: tuple[Terms, ...]


def terms(var: str, row, pos, index, coef) -> Terms:
    """Terms broadcast to the shape of ``row``.

    >>> t = terms("open", [0, 1], 0, [3, 4], -1.0)
    >>> t.index.tolist(), t.coef.tolist()
    ([3, 4], [-1.0, -1.0])
    """
    row = np.asarray(row, np.int64)
    shape = row.shape
    return Terms(var, row, np.broadcast_to(np.asarray(pos, np.int64), shape),
                 np.broadcast_to(np.asarray(index, np.int64), shape),
                 np.broadcast_to(np.asarray(coef, float), shape))


def rows(name: str, n: int, body, *, le=None, ge=None, eq=None) -> Rows:
    """Rows ``body <= le``, ``body >= ge`` or ``body == eq`` (one of them; scalars broadcast).

    >>> r = rows("max_sites", 1, [terms("open", [0, 0], [0, 1], [0, 1], 1.0)], le=3)
    >>> r.lower.tolist(), r.upper.tolist()
    ([-inf], [3.0])
    """
    if sum(b is not None for b in (le, ge, eq)) != 1:
        raise ValueError(f"{name}: give exactly one of le, ge, eq")
    inf = np.full(n, np.inf)
    if eq is not None:
        lo = up = np.broadcast_to(np.asarray(eq, float), (n,))
    elif le is not None:
        lo, up = -inf, np.broadcast_to(np.asarray(le, float), (n,))
    else:
        lo, up = np.broadcast_to(np.asarray(ge, float), (n,)), inf
    return Rows(name, n, lo, up, tuple(t for t in body if t.row.size))


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
