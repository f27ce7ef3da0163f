"""The named Pyomo ``ConcreteModel`` of the statement, derived from it (never written by hand).

:func:`build_model` gives a model a user can inspect (``m.serve``, ``m.power``, ...), extend with
their own constraints and hand to any Pyomo solver; :func:`compile_model` turns such a model,
extended or not, into the solver arrays :mod:`siting.solve` takes, with the columns of every
variable family, so :func:`~siting.model.vectors.read_decisions` reads its solution. Without a
user's change the compiled arrays equal :func:`~siting.model.compile.compile_inputs`' exactly.

Components: one ``Var`` per variable family (indexed by its keys: site, flat ``k * C + c``,
arc position, hourly cell, recourse position; with periods, (start year, key)), one ``Constraint``
per row block (indexed by local row, empty rows skipped), and the objective ``cost``.
"""

from __future__ import annotations

import contextlib
import gc
import time

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from ..inputs.inputs import SitingInputs
from ..solve import StandardForm
from .blocks import Rows
from .compile import Compiled, Statement, statement

__all__ = ["build_model", "compile_model", "model_of"]


@contextlib.contextmanager
def _no_gc():
    """Pause the cyclic garbage collector: Pyomo components are many small objects, and
    collection passes during a build cost more than the build (measured in bench/orlib_cap.py)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _bodies(st: Statement, b: Rows, var_objects: dict[str, list]) -> list[tuple[list, list]]:
    """Each local row's (coefficients, variables), terms in position order."""
    if not b.terms:
        return [([], [])] * b.n
    row = np.concatenate([t.row for t in b.terms])
    pos = np.concatenate([t.pos for t in b.terms])
    coef = np.concatenate([t.coef for t in b.terms]).tolist()
    objs = [var_objects[t.var][i] for t in b.terms for i in t.index.tolist()]
    order = np.lexsort((pos, row))
    cuts = np.searchsorted(row[order], np.arange(1, b.n)).tolist()
    out, lo = [], 0
    order = order.tolist()
    for hi in cuts + [len(order)]:
        idx = order[lo:hi]
        out.append(([coef[i] for i in idx], [objs[i] for i in idx]))
        lo = hi
    return out


def model_of(st: Statement) -> pyo.ConcreteModel:
    """A Pyomo model of a statement: its variables, every row block, the objective."""
    m = pyo.ConcreteModel(name="siting")
    var_objects = {}
    with _no_gc():
        for v in st.variables.values():
            keys = [tuple(k) for k in v.keys.tolist()] if v.keys.ndim == 2 else v.keys.tolist()  # (period, key)
            lo = dict(zip(keys, v.lower.tolist()))
            up = {k: (None if np.isinf(u) else u) for k, u in zip(keys, v.upper.tolist())}
            comp = pyo.Var(keys, domain=pyo.NonNegativeIntegers if v.integer else pyo.NonNegativeReals,
                           bounds=lambda _m, *k, lo=lo, up=up: (lo[k if len(k) > 1 else k[0]],
                                                                         up[k if len(k) > 1 else k[0]]),
                           dense=True)
            m.add_component(v.name, comp)
            var_objects[v.name] = [comp[k] for k in keys]
            if v.integer and np.all(v.upper <= 1):
                comp.domain = pyo.Binary
        for b in st.blocks:  # rows set one by one: no rule (and its row lists) kept with the model
            con = pyo.Constraint(range(b.n))
            m.add_component(b.name, con)
            for i, ((cs, xs), lo, up) in enumerate(zip(_bodies(st, b, var_objects), b.lower.tolist(),
                                                      b.upper.tolist())):
                if not xs:
                    continue  # a row with no term (Pyomo's compiler would drop it)
                body = LinearExpression(constant=0.0, linear_coefs=cs, linear_vars=xs)
                con[i] = body == lo if lo == up else (None if lo == -np.inf else lo, body,
                                                      None if up == np.inf else up)
        cs, xs = [], []
        for t in st.objective:
            cs += t.coef.tolist()
            xs += [var_objects[t.var][i] for i in t.index.tolist()]
        m.cost = pyo.Objective(expr=LinearExpression(constant=0.0, linear_coefs=cs, linear_vars=xs),
                               sense=pyo.minimize)
    return m


def build_model(inp: SitingInputs) -> pyo.ConcreteModel:
    """The siting MILP of ``inp`` as a named Pyomo model (derived from the statement)."""
    return model_of(statement(inp))


def compile_model(model: pyo.ConcreteModel) -> Compiled:
    """Compile a linear Pyomo model (e.g. :func:`build_model`'s, with a user's constraints added)
    to :class:`Compiled` solver arrays by Pyomo's standard-form compiler."""
    t0 = time.perf_counter()
    with _no_gc():
        info = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
    col_of = {id(v): j for j, v in enumerate(info.columns)}
    variables = list(model.component_objects(pyo.Var, active=True))
    columns = {var.local_name: np.fromiter((col_of.get(id(v), -1) for v in var.values()), np.int64)
               for var in variables}
    keys = {var.local_name: np.array(list(var.keys()), dtype=object) for var in variables}
    bt = np.fromiter((r.bound_type for r in info.rows), int, len(info.rows))
    rhs = np.asarray(info.rhs, float)
    inf = np.inf
    n = len(info.columns)
    lo = np.array([-inf if v.lb is None else v.lb for v in info.columns], float)
    up = np.array([inf if v.ub is None else v.ub for v in info.columns], float)
    integer = np.fromiter((v.is_integer() for v in info.columns), bool, n)
    c = info.c.toarray().ravel() if info.c.shape[0] else np.zeros(n)
    family = [r.constraint.parent_component().local_name for r in info.rows]
    rows = {name: np.flatnonzero(np.asarray(family, dtype=object) == name) for name in dict.fromkeys(family)}
    sf = StandardForm(c, float(info.c_offset[0]) if len(info.c_offset) else 0.0, info.A,
                      np.where(bt >= 0, np.where(bt == 0, rhs, -inf), rhs),
                      np.where(bt <= 0, np.where(bt == 0, rhs, inf), rhs),
                      lo, up, integer, time.perf_counter() - t0)
    return Compiled(sf, columns, keys, rows, built_by="pyomo")
