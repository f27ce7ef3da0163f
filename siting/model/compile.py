"""The statement -> solver arrays, by generic code that knows no family.

:func:`statement` gathers the variables and every family's row blocks
(:mod:`siting.model.families`); :func:`standard_form` turns them into the
:class:`~siting.solve.StandardForm` HiGHS takes, with the column and rows of every variable and
family; :func:`sizes`, :func:`structure_key` and :func:`in_place_update` are read off the same
arrays, so the size count, the key and the updates cannot drift from the model.

The arrays are the ones Pyomo's ``LinearStandardFormCompiler`` (``mixed_form``) gives for the
derived Pyomo model (:mod:`siting.model.pyomo`; tests prove them equal): the objective is walked
first, then each row block in order; a variable family takes its columns, all its keys at once,
where any of its terms is first met (zero coefficients included); rows with no nonzero term are
dropped, and so are columns with no nonzero in the matrix or the costs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..errors import NoSolutionError
from ..inputs.inputs import SitingInputs
from ..solve import StandardForm
from .blocks import Rows, Terms, Var, over_periods, terms
from .families import FAMILIES, variables
from .layout import Layout

__all__ = ["Statement", "statement", "Compiled", "standard_form", "compile_inputs", "Sizes", "sizes",
           "structure_key", "in_place_update", "objective_vector"]


@dataclass(frozen=True)
class Statement:
    """The model of one set of inputs: variables (with costs), objective terms, row blocks."""

    variables: dict[str, Var]
    objective: tuple[Terms, ...]
    blocks: tuple[Rows, ...]


def statement(inp: SitingInputs) -> Statement:
    """Every variable and every family's rows for ``inp``, in order."""
    ix = Layout(inp)
    vs = variables(inp, ix)
    objective, pos = [], 0
    for v in vs.values():
        at, coef = v.objective_terms()
        if at.size:
            objective.append(terms(v.name, np.zeros(at.size), pos + np.arange(at.size), at, coef))
            pos += at.size
    n_of = {name: v.n // ix.P for name, v in vs.items()}  # keys a period
    return Statement(vs, tuple(objective), tuple(over_periods(b, ix.P, n_of)
                                                 for family in FAMILIES for b in family(inp, ix, vs)))


@dataclass(frozen=True)
class Compiled:
    """The model as solver arrays plus, per variable family, the column of each key (-1: absent)."""

    sf: StandardForm
    columns: dict[str, np.ndarray]
    keys: dict[str, np.ndarray]
    rows: dict[str, np.ndarray]  # constraint family -> its rows in the matrix
    built_by: str = "numpy"  # "pyomo": compiled from a (user's) Pyomo model by siting.model.pyomo

    def mask(self, component: str) -> np.ndarray:
        """Boolean mask of the columns of ``component`` (e.g. the sites' open binaries)."""
        if component not in self.columns:
            raise KeyError(f"the model has no component {component!r} (has: {', '.join(self.columns)})")
        out = np.zeros(self.sf.shape[1], bool)
        cols = self.columns[component]
        out[cols[cols >= 0]] = True
        return out

    @property
    def open_mask(self) -> np.ndarray:
        """The site-opening binaries: what the ``lp_start`` strategy restricts."""
        return self.mask("open")

    @property
    def support_mask(self) -> np.ndarray:
        """The site-level binaries (open, fiber lateral) ``lp_start`` first fixes to the LP's support."""
        return self.open_mask | (self.mask("fiber") if "fiber" in self.columns else False)

    @property
    def lazy_rows(self) -> np.ndarray:
        """The per-arc linking rows (resilience share, fiber link): one per arc, seldom binding, so
        the LP relaxation adds them only where its solution breaks them (measured: without them the
        (1,000, 10,000) LP takes 10 s, not 460 s, and bounds within 0.12 % of it)."""
        out = np.zeros(self.sf.shape[0], bool)
        for name in ("resilience", "fiber_link"):
            out[self.rows.get(name, np.zeros(0, np.int64))] = True
        return out

    def values(self, component: str, x: np.ndarray) -> np.ndarray:
        cols = self.columns.get(component)
        if cols is None:
            return np.zeros(0)
        return np.where(cols >= 0, x[np.maximum(cols, 0)], 0.0)


def _first_seen(t: Terms, row0: int) -> tuple[int, int]:
    """(row, position) at which a block of terms first meets its variable family."""
    r = int(t.row.min())
    return row0 + r, int(t.pos[t.row == r].min())


def _column_order(st: Statement) -> list[str]:
    """Variable families in the order their columns come (first seen; the objective is row -1)."""
    seen: dict[str, tuple[int, int]] = {}
    row0 = 0
    placed = [(-1, t) for t in st.objective]
    for b in st.blocks:
        placed += [(row0, t) for t in b.terms]
        row0 += b.n
    for r0, t in placed:
        at = _first_seen(t, r0)
        if t.var not in seen or at < seen[t.var]:
            seen[t.var] = at
    return sorted(seen, key=seen.__getitem__)


def _infeasible(b: Rows, lower: np.ndarray, upper: np.ndarray, empty: np.ndarray) -> NoSolutionError:
    i = int(np.flatnonzero(empty & ((lower > 0) | (upper < 0)))[0])
    return NoSolutionError(f"the model cannot hold: row {i} of the {b.name!r} family has no variable left "
                           f"and needs {lower[i]:g} <= 0 <= {upper[i]:g} (e.g. a region with demand and no "
                           "eligible arc, and no unmet demand allowed)")


def standard_form(st: Statement) -> Compiled:
    """The statement as :class:`Compiled` solver arrays (see the module docstring for the order).

    Raises :class:`~siting.errors.NoSolutionError` naming the family and row of a row that
    cannot hold whatever the decisions (a trivially infeasible row)."""
    t0 = time.perf_counter()
    vs = st.variables
    order = _column_order(st)
    start, n_cols = {}, 0
    for name in order:
        start[name] = n_cols
        n_cols += vs[name].n
    c = np.zeros(n_cols)
    for t in st.objective:
        np.add.at(c, start[t.var] + t.index, t.coef)
    rws, cols, vals, lower, upper, kept = [], [], [], [], [], []
    row0 = 0
    for b in st.blocks:
        used = np.zeros(b.n, bool)
        for t in b.terms:
            nz = t.coef != 0
            rws.append(row0 + t.row[nz])
            cols.append(start[t.var] + t.index[nz])
            vals.append(t.coef[nz])
            used[t.row[nz]] = True
        if ((b.lower[~used] > 0) | (b.upper[~used] < 0)).any():
            raise _infeasible(b, b.lower, b.upper, ~used)
        lower.append(b.lower)
        upper.append(b.upper)
        kept.append(used)
        row0 += b.n
    cat = lambda parts, dtype: np.concatenate(parts) if parts else np.zeros(0, dtype)  # noqa: E731
    rws, cols, vals = cat(rws, np.int64), cat(cols, np.int64), cat(vals, float)
    lower, upper, kept = cat(lower, float), cat(upper, float), cat(kept, bool)
    # rows: a row left without a nonzero term holds whatever the decisions: dropped
    new_row = np.cumsum(kept) - 1
    A = sp.coo_array((vals, (new_row[rws], cols)), shape=(int(kept.sum()), n_cols)).tocsc()
    A.sum_duplicates()
    A.eliminate_zeros()
    A.sort_indices()
    # columns: a column without a nonzero in A or c is dropped
    active = (np.diff(A.indptr) > 0) | (c != 0)
    A = sp.csc_array((A.data, A.indices, A.indptr[np.append(active, True)]), shape=(A.shape[0], int(active.sum())))
    final = np.where(active, np.cumsum(active) - 1, -1)
    col_lower = cat([vs[n].lower for n in order], float)
    col_upper = cat([vs[n].upper for n in order], float)
    integer = cat([np.full(vs[n].n, vs[n].integer) for n in order], bool)
    columns = {name: (final[start[name]:start[name] + v.n] if name in start else np.full(v.n, -1, np.int64))
               for name, v in vs.items()}
    keys = {name: np.array(v.keys.tolist(), dtype=object) for name, v in vs.items()}
    before = np.r_[0, np.cumsum(kept)]  # kept rows before each row
    edges = before[np.r_[0, np.cumsum([b.n for b in st.blocks], dtype=np.int64)]]
    # each family's rows are contiguous; only families that kept a row are named
    kept_rows = {b.name: np.arange(s, e, dtype=np.int64)
                 for b, s, e in zip(st.blocks, edges[:-1], edges[1:]) if e > s}
    sf = StandardForm(c[active], 0.0, A, lower[kept], upper[kept], col_lower[active], col_upper[active],
                      integer[active], time.perf_counter() - t0)
    return Compiled(sf, columns, keys, kept_rows)


def compile_inputs(inp: SitingInputs) -> Compiled:
    """The model of ``inp`` as solver arrays (``sf.seconds``: the whole statement and compile)."""
    t0 = time.perf_counter()
    comp = standard_form(statement(inp))
    return dataclasses.replace(comp, sf=dataclasses.replace(comp.sf, seconds=time.perf_counter() - t0))


@dataclass(frozen=True)
class Sizes:
    """Rows, columns, integer columns and nonzeros of the matrix HiGHS receives."""

    rows: int
    columns: int
    integers: int
    nonzeros: int


def sizes(comp: Compiled) -> Sizes:
    """The compiled model's size (what the memory check and ``siting validate`` report).

    >>> from siting.inputs.inputs import from_cost_matrix
    >>> sizes(compile_inputs(from_cost_matrix([5, 7], [10, 10], [4, 6, 3], [[1, 2, 9], [3, 1, 1]])))
    Sizes(rows=13, columns=10, integers=2, nonzeros=30)
    """
    sf = comp.sf
    return Sizes(int(sf.shape[0]), int(sf.shape[1]), int(sf.integer.sum()), int(sf.A.nnz))


def structure_key(inp_or_comp: SitingInputs | Compiled) -> str:
    """A hash of everything but the costs and the row bounds: the matrix, the column bounds and
    integrality, and which variable and row each column and row is.

    Two models with one key differ only in ``c`` and the row bounds, so one is re-solved in place
    from the other by :func:`in_place_update`.
    """
    comp = inp_or_comp if isinstance(inp_or_comp, Compiled) else compile_inputs(inp_or_comp)
    sf = comp.sf
    A = sp.csc_array(sf.A)
    h = hashlib.sha256(repr(sf.shape).encode())
    for a in (A.indptr, A.indices, A.data, sf.col_lower, sf.col_upper, sf.integer):
        h.update(np.ascontiguousarray(a).tobytes())
    for name, cols in comp.columns.items():
        h.update(name.encode() + np.ascontiguousarray(cols).tobytes())
    for name, r in comp.rows.items():
        h.update(name.encode() + np.ascontiguousarray(r).tobytes())
    return h.hexdigest()


def objective_vector(comp: Compiled, inp: SitingInputs) -> np.ndarray:
    """The cost of every column of ``comp`` for ``inp`` (same structure): the in-place re-solve's ``c``."""
    out = np.zeros(comp.sf.shape[1])
    ix = Layout(inp)
    for v in variables(inp, ix).values():
        at, coef = v.objective_terms()
        cols = comp.columns[v.name][at] if v.name in comp.columns else np.full(at.size, -1)
        if (cols < 0).any() and np.any(coef[cols < 0] != 0):
            raise ValueError(f"in-place update: {v.name} gains a cost on a column the model dropped "
                             "(the structure differs; compare structure_key first)")
        np.add.at(out, cols[cols >= 0], coef[cols >= 0])
    return out


def in_place_update(comp: Compiled, inp: SitingInputs) -> tuple[np.ndarray, list[tuple]]:
    """Costs and row bounds that turn ``comp`` into the model of ``inp`` (same structure key).

    Returns the new cost vector and ``[(rows, lower, upper)]`` for the rows whose bounds differ.
    """
    new = compile_inputs(inp)
    if new.sf.shape != comp.sf.shape:
        raise ValueError(f"in-place update: the model's shape changes {comp.sf.shape} -> {new.sf.shape} "
                         "(compare structure_key first)")
    lo, up = new.sf.row_lower, new.sf.row_upper
    diff = np.flatnonzero((lo != comp.sf.row_lower) | (up != comp.sf.row_upper))
    changes = [(diff, lo[diff], up[diff])] if diff.size else []
    return new.sf.c.copy(), changes
