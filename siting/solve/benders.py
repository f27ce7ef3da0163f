"""Benders decomposition of a mixed-integer :class:`~siting.solve.StandardForm` (a strategy).

Knows nothing of siting: the integer columns ``y`` form the master, the continuous columns ``x``
the subproblem, an LP whose value ``phi(y)`` the master sees through one variable ``eta``::

    master:  min c_I y + eta   s.t. rows of y alone, eta >= alpha_t + beta_t y (cuts), y integer
    sub(y):  min c_C x         s.t. row_lower - A_I y <= A_C x <= row_upper - A_I y, l(y) <= x <= u(y)

Rows with one continuous column (``x_j <= d y_k``: variable upper bounds, the assignment-to-open
links of facility location) become bounds of that column in the subproblem, so the subproblem
keeps only the rows that couple many columns (demand, capacity) and re-solves from its last
basis in a fraction of a second. Every subproblem row gets an elastic column at cost ``M`` so
that ``sub(y)`` is feasible for every ``y`` the master proposes; its dual then gives a valid cut
``phi(y') >= phi_M(y') >= alpha + beta y'`` (weak duality), and ``M`` grows when an integer
``y`` still needs the elastic columns (Fischetti, Ljubic and Sinnl, "Benders decomposition
without separability: a computational study for capacitated facility location problems",
EJOR 253 (2016), with their in-out stabilisation of the LP phase, Ben-Ameur and Neto 2007).

Phase 1 (LP): Kelley cutting planes on the LP relaxation of the master, separating at a point
between the master's solution and a core point. Phase 2 (integer): the master MIP with every
cut, started from the best plan; its bound is a valid bound of the whole problem; each new
master solution is evaluated exactly by the subproblem (an upper bound) and cut off if it is
not optimal. It stops when the gap closes, time runs out, or the master proves the plan.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .highs import Clock, left_behind, make_highs, relative_gap, run_phase, run_within
from .plain import plain
from .report import Outcome, Phase, SolutionStatus, SolveOptions, StandardForm, Termination

__all__ = ["Split", "split", "Sub", "benders"]

_CROSSING = "crossing"  # evaluate(): bounds crossed at y; the master got feasibility cuts instead


@dataclass(frozen=True)
class Split:
    """The subproblem's arrays for a split of ``sf`` into integer ``I`` and continuous ``C``."""

    I: np.ndarray  # noqa: E741 - master columns
    C: np.ndarray  # subproblem columns
    master_rows: np.ndarray
    sub_rows: np.ndarray
    A_I: sp.csr_array  # sub rows x I
    A_C: sp.csc_array  # sub rows x C
    # rows turned into bounds: x[col] * a + B y in [lo, up]  ->  (lo_rhs - B y)/a <= x <= (hi_rhs - B y)/a
    b_col: np.ndarray  # position in C
    b_a: np.ndarray
    B: sp.csr_array  # bound rows x I
    lo_rhs: np.ndarray  # the row side that bounds x below (lo for a > 0, up for a < 0)
    hi_rhs: np.ndarray  # the row side that bounds x above


def split(sf: StandardForm) -> Split:
    """Partition rows: integer-only rows go to the master, rows with one continuous column
    become its bounds, every other row stays in the subproblem."""
    A = sp.csr_array(sf.A)
    I, C = np.flatnonzero(sf.integer), np.flatnonzero(~sf.integer)  # noqa: E741 - the master columns
    is_c = ~sf.integer
    nz_c = np.add.reduceat(is_c[A.indices].astype(np.int64), A.indptr[:-1]) if A.nnz else np.zeros(A.shape[0], int)
    nz_c[np.diff(A.indptr) == 0] = 0
    nz_i = np.diff(A.indptr) - nz_c
    is_bound = (nz_c == 1) & (nz_i > 0)
    master_rows = np.flatnonzero((nz_c == 0) & (nz_i > 0))
    bound_rows = np.flatnonzero(is_bound)
    sub_rows = np.flatnonzero((nz_c >= 1) & ~is_bound)
    AI, AC = A[:, I], A[:, C]
    Ab = sp.csr_array(AC[bound_rows])  # one entry per row
    pos = Ab.data > 0
    lo, up = sf.row_lower[bound_rows], sf.row_upper[bound_rows]
    return Split(I, C, master_rows, sub_rows, sp.csr_array(AI[sub_rows]), sp.csc_array(AC[sub_rows]),
                 Ab.indices.copy(), Ab.data.copy(), sp.csr_array(AI[bound_rows]),
                 np.where(pos, lo, up), np.where(pos, up, lo))


class Sub:
    """The subproblem LP kept in one HiGHS instance: new bounds per ``y``, re-solved warm.

    Each solve is bounded by ``clock`` (if given) and stopped by Ctrl-C like every other HiGHS
    run; one left running past its deadline makes the subproblem ``lost`` (no more solves)."""

    def __init__(self, sf: StandardForm, s: Split, opts: SolveOptions, penalty: float):
        self.sf, self.s = sf, s
        m, n = s.A_C.shape
        lo, up = sf.row_lower[s.sub_rows], sf.row_upper[s.sub_rows]
        self.elastic_lo = np.flatnonzero(np.isfinite(lo))  # +e helps reach a lower bound
        self.elastic_up = np.flatnonzero(np.isfinite(up))  # -e helps stay under an upper bound
        ne = self.elastic_lo.size + self.elastic_up.size
        E = sp.csc_array((np.r_[np.ones(self.elastic_lo.size), -np.ones(self.elastic_up.size)],
                          (np.r_[self.elastic_lo, self.elastic_up], np.arange(ne))), shape=(m, ne))
        A = sp.csc_array(sp.hstack([s.A_C, E], format="csc"))
        self.n, self.ne = n, ne
        self.c = np.r_[sf.c[s.C], np.full(ne, penalty)]
        form = StandardForm(self.c.copy(), 0.0, A, lo, up, np.r_[sf.col_lower[s.C], np.zeros(ne)],
                            np.r_[sf.col_upper[s.C], np.full(ne, np.inf)], np.zeros(n + ne, bool))
        # quiet whatever the caller's log option: thousands of these solves per run
        self.h = make_highs(form, dataclasses.replace(opts, log=False), relax=True, time_limit=np.inf)
        self.lost = False

    def set_penalty(self, penalty: float) -> None:
        self.c[self.n:] = penalty
        if self.lost:
            return
        idx = np.arange(self.n, self.n + self.ne, dtype=np.int32)
        self.h.changeColsCost(idx.size, idx, self.c[self.n:])

    def infeasibility(self, y: np.ndarray, clock: Clock | None = None):
        """The least total elastic at ``y`` (phase 1: real columns cost nothing) and its cut."""
        if self.lost:
            return None
        saved = self.c.copy()
        self.c = np.r_[np.zeros(self.n), np.ones(self.ne)]
        idx = np.arange(self.n + self.ne, dtype=np.int32)
        self.h.changeColsCost(idx.size, idx, self.c)
        try:
            return self.solve(y, clock)
        finally:
            self.c = saved
            if not self.lost:
                self.h.changeColsCost(idx.size, idx, self.c)

    def bounds(self, y: np.ndarray):
        """Column bounds of x at ``y`` and, per column, which bound row is active (-1: none)."""
        s, sf = self.s, self.sf
        l0, u0 = sf.col_lower[s.C].copy(), sf.col_upper[s.C].copy()
        by = s.B @ y
        with np.errstate(invalid="ignore"):
            hi = np.where(np.isfinite(s.hi_rhs), (s.hi_rhs - by) / s.b_a, np.inf)
            lo = np.where(np.isfinite(s.lo_rhs), (s.lo_rhs - by) / s.b_a, -np.inf)
        u, lw = u0.copy(), l0.copy()
        np.minimum.at(u, s.b_col, hi)
        np.maximum.at(lw, s.b_col, lo)
        up_row = np.full(u.size, -1)
        lo_row = np.full(u.size, -1)
        t = np.arange(s.b_col.size)
        hit = (hi <= u[s.b_col] + 1e-12) & (hi < u0[s.b_col])
        up_row[s.b_col[hit]] = t[hit]
        hit = (lo >= lw[s.b_col] - 1e-12) & (lo > l0[s.b_col])
        lo_row[s.b_col[hit]] = t[hit]
        return lw, u, lo_row, up_row

    def crossing_cuts(self, y: np.ndarray) -> list[tuple[float, np.ndarray]]:
        """Feasibility cuts ``0 >= alpha + beta y`` for columns whose bounds cross at ``y``.

        A column bounded below by one line of ``y`` and above by another (``it >= m * modules``
        and ``it <= firm / pue * open``) has no value when they cross: no elastic row helps, so
        the master learns ``lower(y) <= upper(y)``, valid for every feasible ``y``.
        """
        s = self.s
        lw, u, lo_row, up_row = self.bounds(y)
        # beyond the solvers' feasibility tolerance: a master plan may sit that close to its cuts
        cross = np.flatnonzero(lw > u + 1e-6 * np.maximum(1.0, np.abs(u)))
        cuts = []
        for j in cross:
            alpha, beta = 0.0, np.zeros(s.I.size)
            t, r = lo_row[j], up_row[j]
            if t >= 0:  # lower(y) = (lo_rhs - B_t y) / a_t
                alpha += s.lo_rhs[t] / s.b_a[t]
                beta -= s.B[[t]].toarray().ravel() / s.b_a[t]
            else:
                alpha += lw[j]
            if r >= 0:  # minus upper(y) = (hi_rhs - B_r y) / a_r
                alpha -= s.hi_rhs[r] / s.b_a[r]
                beta += s.B[[r]].toarray().ravel() / s.b_a[r]
            else:
                alpha -= u[j]
            cuts.append((alpha, beta))
        return cuts

    def solve(self, y: np.ndarray, clock: Clock | None = None):
        """phi_M(y), the subproblem solution, the cut (alpha, beta) and the elastic total; None
        where the LP did not end optimal (out of time, too)."""
        if self.lost:
            return None
        s, sf, h = self.s, self.sf, self.h
        lw, u, lo_row, up_row = self.bounds(y)
        u = np.maximum(u, lw)  # bounds crossing by rounding noise (callers check crossing_cuts first)
        idx = np.arange(self.n, dtype=np.int32)
        h.changeColsBounds(self.n, idx, lw, u)
        ay = s.A_I @ y
        lo, up = sf.row_lower[s.sub_rows] - ay, sf.row_upper[s.sub_rows] - ay
        ridx = np.arange(lo.size, dtype=np.int32)
        h.changeRowsBounds(lo.size, ridx, lo, up)
        state = run_within(h, clock)
        if state == "abandoned":
            self.lost = True
        if state != "done" or h.getModelStatus().name != "kOptimal":
            return None
        sol = h.getSolution()
        x = np.asarray(sol.col_value)
        pi = np.asarray(sol.row_dual)
        rc = np.asarray(sol.col_dual)[: self.n]
        value = float(self.c @ x)
        # dual value as a function of y': rows take the bound their dual sign selects
        row_lo, row_up = sf.row_lower[s.sub_rows], sf.row_upper[s.sub_rows]
        use_lo = pi > 0
        rhs = np.where(use_lo, row_lo, row_up)
        pi_eff = np.where(np.isfinite(rhs), pi, 0.0)
        alpha = float(pi_eff @ np.where(np.isfinite(rhs), rhs, 0.0))
        beta = -(s.A_I.T @ pi_eff)
        # columns at a bound: constant bound, or the bound row's line (valid either way)
        neg, posr = rc < 0, rc > 0
        for mask, row, rhs_b, bnd in ((neg, up_row, s.hi_rhs, u), (posr, lo_row, s.lo_rhs, lw)):
            via = mask & (row >= 0)
            const = mask & (row < 0)
            alpha += float(rc[const] @ np.where(np.isfinite(bnd[const]), bnd[const], 0.0))
            t = row[via]
            alpha += float((rc[via] * rhs_b[t] / s.b_a[t]).sum())
            if t.size:
                beta -= (s.B[t].T @ (rc[via] / s.b_a[t]))
        elastic = float(x[self.n:].sum())
        return value, x[: self.n], alpha, np.asarray(beta).ravel(), elastic


class _Master:
    """min c_I y + eta over the master rows and the cuts so far (kept in one HiGHS instance)."""

    def __init__(self, sf: StandardForm, s: Split, eta_lower: float):
        A = sp.csr_array(sf.A)[s.master_rows][:, s.I]
        self.n = s.I.size
        self.cuts: list[tuple[float, np.ndarray, float]] = []  # eta_coef * eta - beta y >= alpha
        self.c = np.r_[sf.c[s.I], 1.0]
        self.lower = np.r_[sf.col_lower[s.I], eta_lower]
        self.upper = np.r_[sf.col_upper[s.I], np.inf]
        A = sp.csc_array(sp.hstack([A, sp.csr_array((A.shape[0], 1))], format="csc"))
        self.A = A
        self.row_lo, self.row_up = sf.row_lower[s.master_rows], sf.row_upper[s.master_rows]

    def add_cut(self, alpha: float, beta: np.ndarray, eta: float = 1.0) -> None:
        """An optimality cut ``eta >= alpha + beta y`` (eta 1) or a feasibility cut
        ``0 >= alpha + beta y`` (eta 0)."""
        self.cuts.append((alpha, beta, eta))

    def form(self, integer: bool) -> StandardForm:
        """The master with its cuts as a StandardForm: eta - beta y >= alpha."""
        rows = [self.A]
        lo, up = [self.row_lo], [self.row_up]
        if self.cuts:
            B = np.array([np.r_[-b, e] for _, b, e in self.cuts])
            rows.append(sp.csr_array(B))
            lo.append(np.array([a for a, _, _ in self.cuts]))
            up.append(np.full(len(self.cuts), np.inf))
        A = sp.csc_array(sp.vstack(rows, format="csc"))
        integer_mask = np.r_[np.ones(self.n, bool), False] if integer else np.zeros(self.n + 1, bool)
        return StandardForm(self.c, 0.0, A, np.concatenate(lo), np.concatenate(up),
                            self.lower, self.upper, integer_mask)


class _MasterLP:
    """The master's LP relaxation in one HiGHS instance; cuts are appended as rows (warm)."""

    def __init__(self, master: _Master, opts):
        self.h = make_highs(master.form(False), opts, relax=True, time_limit=np.inf)

    def add(self, alpha: float, beta: np.ndarray, eta: float) -> None:
        row = np.r_[-beta, eta]
        nz = np.flatnonzero(row)
        self.h.addRow(alpha, np.inf, nz.size, nz.astype(np.int32), row[nz])

    def solve(self, clock: Clock):
        """The master LP's solution and objective (None, None where it did not end optimal) and
        its HiGHS status name (``"out of time"`` where the clock stopped it)."""
        state = run_within(self.h, clock)
        if state == "done" and self.h.getModelStatus().name not in ("kOptimal", "kTimeLimit"):
            self.h.clearSolver()  # numerical trouble: once more, from scratch
            state = run_within(self.h, clock)
        if state != "done" or self.h.getModelStatus().name == "kTimeLimit":
            return None, None, "out of time"
        status = self.h.getModelStatus()
        if status.name != "kOptimal":
            return None, None, status.name
        return (np.asarray(self.h.getSolution().col_value), self.h.getInfo().objective_function_value,
                status.name)


def benders(sf, opts, clock, phases, say, restrict, start, **_hints) -> Outcome:
    """The ``benders`` strategy (see the module docstring)."""
    if not sf.integer.any() or sf.integer.all():
        return plain(sf, opts, clock, phases, say, restrict, start)
    t0 = time.perf_counter()
    s = split(sf)
    cC = sf.c[s.C]
    lC, uC = sf.col_lower[s.C], sf.col_upper[s.C]
    if np.any((cC > 0) & ~np.isfinite(lC)) or np.any((cC < 0) & ~np.isfinite(uC)):
        # the subproblem's cost has no finite lower bound to start eta from
        return plain(sf, opts, clock, phases, say, restrict, start)
    eta_lower = float(np.where(cC > 0, cC * np.where(np.isfinite(lC), lC, 0), 0).sum()
                      + np.where(cC < 0, cC * np.where(np.isfinite(uC), uC, 0), 0).sum())
    penalty = 100.0 * max(1.0, float(np.abs(cC).max(initial=0.0)))
    sub = Sub(sf, s, opts, penalty)
    master = _Master(sf, s, eta_lower)
    say(f"Benders: master {s.I.size:,} integer columns, {s.master_rows.size:,} rows; subproblem "
        f"{s.C.size:,} columns, {s.sub_rows.size:,} rows ({s.b_col.size:,} rows became bounds)")
    best = {"obj": np.inf, "x": None}
    lb = -np.inf

    def evaluate(y):
        crossing = sub.crossing_cuts(y)
        if crossing:  # no subproblem at y: the master learns why
            for alpha, beta in crossing:
                master.add_cut(alpha, beta, 0.0)
            return _CROSSING
        r = sub.solve(y, clock)
        if r is None:
            return None
        value, xc, alpha, beta, elastic = r
        master.add_cut(alpha, beta)
        if elastic <= 1e-7:
            x = np.empty(sf.shape[1])
            x[s.I], x[s.C] = y, xc
            obj = float(sf.c @ x + sf.offset)
            if obj < best["obj"] and np.all(np.abs(y - np.round(y)) <= 1e-9):  # an integer plan
                best["obj"], best["x"] = obj, x
        return value, elastic

    if start is not None:
        evaluate(np.round(np.asarray(start, float)[s.I]))
    # phase 1: the LP relaxation of the master, in-out stabilised
    core = np.asarray(sf.col_upper[s.I], float).copy()
    core[~np.isfinite(core)] = np.maximum(sf.col_lower[s.I][~np.isfinite(core)], 0.0)
    lam, stall, it, mlp_cuts = 0.5, 0, 0, 0
    lp_ub = np.inf
    mlp = _MasterLP(master, opts)
    while clock.left() > 0 and it < 500:
        it += 1
        for alpha, beta, eta in master.cuts[mlp_cuts:]:
            mlp.add(alpha, beta, eta)
        mlp_cuts = len(master.cuts)
        xm, obj, status = mlp.solve(clock)
        if xm is None:
            if status == "kInfeasible":
                return Outcome(Termination.INFEASIBLE, SolutionStatus.NONE, None, None, None, None)
            if status != "out of time":
                say(f"Benders LP phase: the master LP ended {status}; going on to the MIP phase")
            break
        y_m, eta_m = xm[: s.I.size], xm[-1]
        obj += sf.offset
        if obj > lb + 1e-9 * max(1.0, abs(obj)):
            lb, stall = obj, 0
        else:
            stall += 1
        y_sep = lam * y_m + (1 - lam) * core
        r = evaluate(y_sep)
        if r is _CROSSING:
            y_sep, r = y_m, evaluate(y_m)
        if r is _CROSSING:
            continue  # the master now knows those bounds must not cross
        if r is None:
            break
        ub_here = float(sf.c[s.I] @ y_sep) + r[0] + sf.offset
        lp_ub = min(lp_ub, ub_here) if r[1] <= 1e-7 else lp_ub
        core = 0.5 * (core + y_m)
        if stall >= 5:
            lam = 1.0
        gap = (lp_ub - lb) / max(abs(lp_ub), 1.0)
        if it % 10 == 0:
            say(f"Benders LP phase: iteration {it}, bound {lb:,.3f}, LP value at most {lp_ub:,.3f}")
        if gap <= 1e-5 or (lam == 1.0 and r[0] <= eta_m + 1e-9 * max(1.0, abs(r[0]))):
            break
    phases.append(Phase("benders_lp", Termination.OPTIMAL, lb, time.perf_counter() - t0))
    say(f"Benders LP phase: {it} iterations, {len(master.cuts)} cuts, bound {lb:,.3f} "
        f"({time.perf_counter() - t0:.1f} s)")
    # phase 2: the master MIP with every cut; each solution evaluated exactly
    t1, it2, term, raised = time.perf_counter(), 0, Termination.TIME_LIMIT, 0
    while clock.left() > 0:
        it2 += 1
        form = master.form(True)
        limit = clock.left()
        h = make_highs(form, opts, time_limit=limit)
        h.setOptionValue("mip_improving_solution_save", True)
        if best["x"] is not None:
            ys = np.r_[best["x"][s.I], best["obj"] - sf.offset - float(sf.c[s.I] @ best["x"][s.I])]
            h.setSolution(ys.size, np.arange(ys.size, dtype=np.int32), ys)
        _, o = run_phase("benders_master", h, True, time.perf_counter(), None, form, limit)
        if o.bound is not None:
            lb = max(lb, o.bound + sf.offset)
        if o.x is None:
            if o.termination == Termination.INFEASIBLE:
                term = Termination.INFEASIBLE
            break
        y = np.round(o.x[: s.I.size])
        r = evaluate(y)
        if r is not None and r is not _CROSSING and r[1] > 1e-7:  # the plan needs the elastic columns:
            f = sub.infeasibility(y, clock)  # infeasible (a feasibility cut), or the penalty is too low
            if f is not None and f[0] > 1e-7:
                master.add_cut(f[2], f[3], 0.0)
            elif raised < 6:
                raised += 1
                sub.set_penalty(sub.c[-1] * 10.0)
                say(f"Benders: elastic penalty raised to {sub.c[-1]:,.0f}")
                evaluate(y)
        # more cuts per master solve: the other plans the master found, and an in-out point
        for saved in [] if left_behind(h) else _saved(h, s.I.size, y, limit=8):
            evaluate(saved)
        evaluate(0.5 * (y + core))
        core = 0.5 * (core + y)
        gap = (best["obj"] - lb) / max(abs(best["obj"]), 1e-9) if best["x"] is not None else np.inf
        say(f"Benders MIP phase: iteration {it2}, plan {best['obj']:,.3f}, bound {lb:,.3f}, gap {gap:.2e}")
        if gap <= max(opts.mip_gap, 1e-9) or o.termination == Termination.OPTIMAL and o.objective is not None \
                and o.objective + sf.offset >= best["obj"] - 1e-9 * max(1.0, abs(best["obj"])):
            term = Termination.OPTIMAL
            lb = min(lb, best["obj"]) if o.termination == Termination.OPTIMAL else lb
            break
    phases.append(Phase("benders_mip", term, best["obj"] if best["x"] is not None else None,
                        time.perf_counter() - t1))
    if best["x"] is None:
        return Outcome(term, SolutionStatus.NONE, None, None if not np.isfinite(lb) else lb, None, None)
    obj = best["obj"]
    gap = relative_gap(obj, lb)
    if term == Termination.OPTIMAL and gap > opts.mip_gap:
        term = Termination.TIME_LIMIT
    status = SolutionStatus.OPTIMAL if term == Termination.OPTIMAL else SolutionStatus.FEASIBLE
    return Outcome(term, status, obj, lb, gap, best["x"])


def _saved(h, n: int, y: np.ndarray, limit: int) -> list[np.ndarray]:
    """Distinct improving solutions HiGHS saved during the last master solve, other than ``y``."""
    try:
        sols = h.getSavedMipSolutions()
    except Exception:  # noqa: BLE001 - an older highspy without the call
        return []
    out, seen = [], {np.round(y).tobytes()}
    for sol in reversed(sols):
        v = np.round(np.asarray(sol.col_value, float)[:n])
        if v.tobytes() not in seen:
            seen.add(v.tobytes())
            out.append(v)
        if len(out) >= limit:
            break
    return out

