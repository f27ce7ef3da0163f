"""The ``lp_start`` strategy: the LP relaxation, then the MIP restricted to the masked columns the
LP uses (short budget), then the full MIP from that plan (SPEC.md, "Solving realistic instances").

With many ``lazy`` rows (:data:`LARGE_LAZY_ROWS`) the LP is solved by row generation, a MIP with
the ``support`` binaries fixed to the LP's support gives a first plan, and each MIP stops at the
first plan the LP bound proves within the gap. A plan is called proven only against a valid
bound: HiGHS's own, or the LP relaxation's objective when that LP ended optimal.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from .highs import feasible, make_highs, objective_target, relative_gap, run_phase, set_option
from .plain import mip_from, plain
from .report import Outcome, Phase, SolutionStatus, Termination

__all__ = ["LARGE_LAZY_ROWS", "SETTLED", "bound_settled", "interior_lp", "lp_relaxation", "lp_start"]

LARGE_LAZY_ROWS = 50_000  # lp_start's fast path from this many lazy rows (see lp_start)
SETTLED = 1e-5  # lazy rows: a round moving the bound less (relative) ends row generation


def bound_settled(before: float | None, after: float) -> bool:
    """A round of lazy rows moved the bound less than ``SETTLED`` (relative). Not a share of the
    gap: an early stop leaves the LP's solution, which picks the restricted MIP's sites, less
    informed (measured on models/full.yaml: stopping at a tenth of a 1 % gap left the bound 0.12 %
    low and the restricted MIP found no better plan than the start in 20 s).

    >>> bound_settled(None, 1.0), bound_settled(100.0, 100.0001), bound_settled(100.0, 100.01)
    (False, True, False)
    """
    return before is not None and after - before < SETTLED * max(abs(before), 1.0)


def interior_lp(sf, opts, clock, phases, say) -> Outcome:
    """The LP relaxation with every row, by HiGHS's interior point method and crossover (a vertex:
    few columns in use, and an optimum that bounds the MIP). Measured on models/buildout.yaml
    (241,818 columns x 270,568 rows, 1 thread, load 1): 105 s to the optimum 399,795 M$, where the
    dual simplex takes 327 s and row generation (:func:`lp_relaxation` with lazy rows) had reached
    only 389,897 M$ after 7 rounds in 205 s (each round's re-solve 20-45 s)."""
    t = time.perf_counter()
    limit = clock.left()
    say("solving the LP relaxation (every row) by the interior point method")
    h = make_highs(sf, opts, relax=True, time_limit=limit)
    set_option(h, "solver", "ipm")
    set_option(h, "run_crossover", "on")
    phase, lp = run_phase("lp_relaxation_ipm", h, False, t, say, sf, limit)
    phases.append(phase)
    if lp.termination == Termination.OPTIMAL and lp.objective is not None:
        lp = dataclasses.replace(lp, bound=lp.objective, gap=0.0)
        say(f"LP optimum {lp.objective:,.1f} in {time.perf_counter() - t:.0f} s")
    return lp


def lp_relaxation(sf, opts, clock, phases, say, lazy) -> Outcome:
    """The LP relaxation. With ``lazy`` rows, by row generation: the LP without them, then again
    with the ones its solution breaks, until it breaks none (the LP relaxation's optimum) or time
    runs out. Every round is a relaxation of the LP, so its optimum is a valid bound (``bound``);
    its solution may break lazy rows that were never added."""
    t = time.perf_counter()
    if lazy is None or not np.any(lazy):
        say("solving the LP relaxation")
        limit = clock.left()
        phase, lp = run_phase("lp_relaxation", make_highs(sf, opts, relax=True, time_limit=limit),
                           False, t, say, sf, limit)
        phases.append(phase)
        return lp
    A = sf.A.tocsr()
    out = np.flatnonzero(lazy)  # lazy rows not yet in the LP
    inner = np.flatnonzero(~lazy)
    h = make_highs(dataclasses.replace(sf, A=A[inner].tocsc(), row_lower=sf.row_lower[inner],
                                   row_upper=sf.row_upper[inner]), opts, relax=True, time_limit=clock.left())
    say(f"solving the LP relaxation without its {out.size:,} lazy rows, adding those it breaks")
    bound, x, o, rounds, exact, settled = None, None, None, 0, False, False
    while not (exact or settled):
        rounds += 1
        limit = clock.left()
        set_option(h, "time_limit", limit)
        _, o = run_phase("lp_round", h, False, time.perf_counter(), None, sf, limit)
        if rounds == 1 and o.termination in (Termination.UNBOUNDED, Termination.INFEASIBLE_OR_UNBOUNDED):
            return lp_relaxation(sf, opts, clock, phases, say, None)  # the lazy rows bound it: take them all
        if o.termination != Termination.OPTIMAL or o.x is None:
            break  # infeasible (so is the LP), or out of time: the last round's bound stands
        # a relaxation's optimum bounds the LP and the MIP; bounds that no longer move are settled
        settled = bound_settled(bound, o.objective)
        settled |= time.perf_counter() - t >= opts.time_limit_s / 3  # the MIP needs the rest
        bound, x = o.objective, o.x
        rows = A[out]
        ax = rows @ x
        scale = 1e-6 * np.maximum(1.0, np.abs(ax))
        broken = (ax > sf.row_upper[out] + scale) | (ax < sf.row_lower[out] - scale)
        exact = not broken.any()
        if not (exact or settled):
            # the broken rows, and every lazy row whose flows are in use (they tend to break next)
            flowing = ((np.abs(x) > 1e-9) & ~sf.integer).astype(float)  # continuous columns in use
            used = broken | (abs(rows) @ flowing > 0)
            add, out = out[used], out[~used]
            sub = A[add]
            h.addRows(add.size, sf.row_lower[add], sf.row_upper[add], sub.nnz,
                      sub.indptr[:-1].astype(np.int32), sub.indices.astype(np.int32), sub.data)
            say(f"  LP round {rounds}: bound {bound:,.1f}; {int(broken.sum()):,} lazy rows broken; added "
                f"{add.size:,} in use ({out.size:,} still left out)")
    if settled and not exact:  # the integer columns of rows still broken count as in use
        hit = np.asarray(abs(A[out[broken]]).sum(axis=0)).ravel() > 0
        x = np.where(hit & sf.integer, np.maximum(x, 2e-6), x)
    phases.append(Phase("lp_relaxation", Termination.OPTIMAL if exact else o.termination, o.objective,
                        time.perf_counter() - t))
    if bound is None:
        return o
    say(f"LP {'optimum' if exact else 'bound settled' if settled else 'relaxation (time ran out)'} after "
        f"{rounds} round(s): bound {bound:,.1f}")
    return Outcome(Termination.OPTIMAL if exact else Termination.TIME_LIMIT,
                    SolutionStatus.OPTIMAL if exact else SolutionStatus.FEASIBLE,
                    o.objective if exact else bound, bound, 0.0 if exact else None, x)


def lp_start(sf, opts, clock, phases, say, restrict, start, support=None, lazy=None, lp=None) -> Outcome:
    """The ``lp_start`` strategy (see the module docstring). ``lp``: the LP relaxation already
    solved to optimality (e.g. :func:`interior_lp`), taken as it is: its optimum bounds the MIP
    and its solution picks the restricted MIP's columns; the restricted MIP then runs for
    ``opts.restricted_time_s``, stopped by that bound's target alone (HiGHS's own gap is against
    the restricted model's bound, which may stop it at a plan the LP bound does not prove)."""
    if not sf.integer.any() or restrict is None or not np.any(restrict):
        return plain(sf, opts, clock, phases, say, restrict, start)
    given = start if start is not None and feasible(sf, np.asarray(start, float)) else None
    start = None
    # Large models (many lazy linking rows) take the fast path: the LP by row generation, a MIP over
    # the LP's support first, and every MIP stopped at the first plan the LP bound proves within the
    # gap. Smaller ones keep the plain LP and HiGHS's own stopping rule (measured on the default,
    # 28,566 lazy rows: the fast path stops at 0.75 % in 2 s where this one reaches 0.16 % in 51 s).
    large = lazy is not None and int(np.sum(lazy)) >= LARGE_LAZY_ROWS
    given_lp = lp is not None and lp.termination == Termination.OPTIMAL and lp.x is not None
    if given_lp:
        large = True
    else:
        lp = lp_relaxation(sf, opts, clock, phases, say, lazy if large else None)
    if lp.termination in (Termination.INFEASIBLE, Termination.MODEL_EMPTY):
        return lp
    # a bound only from an LP solved to optimality (lazy rows: the last relaxation solved to optimality)
    lp_bound = lp.bound if large or lp.termination == Termination.OPTIMAL else None
    target = objective_target(lp_bound, opts.mip_gap) if large else None
    support = support if large and not (given_lp and given is not None) else None  # a plan is at hand
    supported = None
    if lp.x is not None and support is not None and np.any(support) and clock.left() > 0:
        # dive: the support binaries fixed where the LP uses them (1) and does not (0); the rest is
        # a small MIP whose plan keeps every row of the full model
        on = support & (lp.x > 1e-6)
        lo, ub = sf.col_lower.copy(), sf.col_upper.copy()
        lo[on], ub[support & ~on] = np.maximum(lo[on], 1.0), 0.0
        say(f"MIP with the {int(on.sum())} of {int(support.sum())} support binaries the LP uses fixed on, the rest off")
        limit = clock.left() / 2
        h = make_highs(sf, opts, col_lower=lo, col_upper=ub, time_limit=limit, target=target)
        phase, d = run_phase("support_mip", h, True, time.perf_counter(), say, sf, limit)
        phases.append(phase)
        supported = d.x if d.x is not None and feasible(sf, d.x) else None

    def proven(x) -> Outcome | None:  # the plan, if the LP bound already proves it within the gap
        obj = float(sf.c @ x + sf.offset)
        gap = relative_gap(obj, lp_bound)
        return None if gap is None or gap > opts.mip_gap else Outcome(
            Termination.OPTIMAL, SolutionStatus.OPTIMAL, obj, lp_bound, gap, x)

    lead = min((x for x in (supported, given) if x is not None), key=lambda x: float(sf.c @ x), default=None)
    if large and lead is not None and (done := proven(lead)) is not None:
        return done
    if lp.x is not None and clock.left() > 0:
        ub = sf.col_upper.copy()
        closed = restrict & (lp.x <= 1e-6)
        if given is not None:  # the given plan's columns stay open too
            closed &= ~(np.asarray(given) > 1e-6)
        ub[closed] = 0.0
        say(f"LP {'bound' if lp_bound is not None else 'objective (not a bound)'} {lp.objective:,.1f}; "
            f"restricted MIP over the {int(restrict.sum() - closed.sum())} columns the LP "
            + ("or the given plan uses" if given is not None else "uses")
            + ("" if lead is None else f", from the plan at {float(sf.c @ lead) + sf.offset:,.1f}"))
        limit = min(opts.restricted_time_s, clock.left())
        inner = dataclasses.replace(opts, mip_gap=opts.mip_gap / 100) if given_lp and target is not None else opts
        h = make_highs(sf, inner, col_upper=ub, time_limit=limit, target=target)
        if lead is not None:  # the best plan at hand starts the restricted MIP
            h.setSolution(sf.shape[1], np.arange(sf.shape[1], dtype=np.int32), np.asarray(lead, float))
        phase, r = run_phase("restricted_mip", h, True, time.perf_counter(), say, sf, limit)
        phases.append(phase)
        # the restricted plan (kept only if it keeps every row: HiGHS can misreport after a start),
        # the support MIP's, the given one
        plans = [x for x in (r.x, supported, given)
                 if x is not None and (x is given or x is supported or feasible(sf, x))]
        if plans:
            start = min(plans, key=lambda x: float(sf.c @ x))
            if (done := proven(start)) is not None:  # the LP relaxation bounds the full MIP
                return done
    if start is None:
        start = given
    if clock.left() <= 0:
        if start is None:
            return Outcome(Termination.TIME_LIMIT, SolutionStatus.NONE, None, lp_bound, None, None)
        obj = float(sf.c @ start + sf.offset)
        return Outcome(Termination.TIME_LIMIT, SolutionStatus.FEASIBLE, obj, lp_bound,
                        relative_gap(obj, lp_bound), start)
    say("solving the full MIP" + (" from the restricted plan" if start is not None else ""))
    o = mip_from(sf, opts, clock, phases, say, start, target=target)
    if lp_bound is not None and (o.bound is None or lp_bound > o.bound):
        # a MIP stopped early may not have passed its root yet: the LP relaxation still bounds it
        o = Outcome(o.termination, o.solution_status, o.objective, lp_bound, relative_gap(o.objective, lp_bound), o.x)
    if o.termination == Termination.OBJECTIVE_TARGET and o.gap is not None and o.gap <= opts.mip_gap:
        # stopped at the plan the LP bound proves within the gap: what HiGHS calls optimal
        o = dataclasses.replace(o, termination=Termination.OPTIMAL, solution_status=SolutionStatus.OPTIMAL)
    return o
