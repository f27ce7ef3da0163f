"""Reader for J.E. Beasley's OR-Library capacitated warehouse location (CAP) files.

Format (a whitespace-separated token stream; line breaks carry no meaning)::

    m n
    s_1 f_1  ...  s_m f_m        capacity (a number, or the word ``capacity``) and fixed cost
    d_1 c_11 ... c_m1            per customer j: demand, then the cost of serving ALL of its
    ...                          demand from each warehouse i
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from .inputs import SitingInputs, from_cost_matrix

__all__ = ["CapInstance", "read_cap"]


@dataclass
class CapInstance:
    name: str
    capacity: np.ndarray  # (m,)
    fixed_cost: np.ndarray  # (m,)
    demand: np.ndarray  # (n,)
    cost: np.ndarray  # (m, n): cost of serving all of customer j from warehouse i

    def to_inputs(self) -> SitingInputs:
        return from_cost_matrix(self.fixed_cost, self.capacity, self.demand, self.cost,
                                cost_is_total=True)


def _number(tok: str, layer: str, field: str, row) -> float:
    try:
        value = float(tok)
    except ValueError:
        raise InputError(layer, field, f"not a number: {tok!r}", row) from None
    if not np.isfinite(value):
        raise InputError(layer, field, f"not a finite number: {tok!r}", row)
    return value


def read_cap(path: str | Path, capacity: float | None = None) -> CapInstance:
    """Read a CAP file; ``capacity`` replaces the word ``capacity`` (capa/capb/capc files).

    Raises :class:`~siting.errors.InputError` naming the file, the field and the warehouse or
    customer on a truncated, non-numeric or inconsistent file.
    """
    path = Path(path)
    layer = f"orlib {path.name}"
    try:
        tokens = path.read_text().split()
    except OSError as exc:
        raise InputError(layer, "path", f"cannot read ({exc.strerror})") from None
    if len(tokens) < 2:
        raise InputError(layer, "header", "expected 'm n' (warehouses, customers)")
    m_f, n_f = (_number(t, layer, "header", None) for t in tokens[:2])
    if m_f < 1 or n_f < 1 or m_f != int(m_f) or n_f != int(n_f):
        raise InputError(layer, "header", f"m and n must be positive integers (got {tokens[:2]})")
    m, n = int(m_f), int(n_f)
    need = 2 + 2 * m + n * (1 + m)
    if len(tokens) < need:
        have = len(tokens) - 2 - 2 * m
        where = (f"warehouse {(len(tokens) - 2) // 2 + 1}" if have < 0
                 else f"customer {have // (1 + m) + 1}")
        raise InputError(layer, "data", f"truncated: {len(tokens)} numbers, {need} expected "
                         f"for {m} warehouses x {n} customers (ends in {where})")
    if len(tokens) > need:
        raise InputError(layer, "data", f"{len(tokens) - need} numbers after the last customer")
    cap = np.empty(m)
    fixed = np.empty(m)
    for i in range(m):
        s, f = tokens[2 + 2 * i], tokens[3 + 2 * i]
        if s.lower() == "capacity":
            if capacity is None:
                raise InputError(layer, "capacity", "the file leaves capacities open: pass a "
                                 "capacity value", f"warehouse {i + 1}")
            cap[i] = capacity
        else:
            cap[i] = _number(s, layer, "capacity", f"warehouse {i + 1}")
        fixed[i] = _number(f, layer, "fixed_cost", f"warehouse {i + 1}")
    body = tokens[2 + 2 * m:]
    try:
        block = np.array(body, dtype=float).reshape(n, 1 + m)
    except ValueError:
        for k, tok in enumerate(body):  # name the first bad token; _number raises on it
            _number(tok, layer, "demand" if k % (1 + m) == 0 else "cost", f"customer {k // (1 + m) + 1}")
        raise
    demand, cost = block[:, 0], block[:, 1:].T.copy()
    for name, arr, label in (("capacity", cap, "warehouse"), ("fixed_cost", fixed, "warehouse"),
                             ("demand", demand, "customer"), ("cost", cost.min(axis=0), "customer")):
        bad = np.flatnonzero(~np.isfinite(arr) | (arr < 0))
        if bad.size:
            raise InputError(layer, name, f"must be a finite number >= 0 (got {arr[bad[0]]})",
                             f"{label} {bad[0] + 1}")
    if (demand <= 0).any():
        j = int(np.argmax(demand <= 0))
        raise InputError(layer, "demand", "must be > 0", f"customer {j + 1}")
    return CapInstance(path.stem, cap, fixed, demand, cost)

