"""The ``plain`` strategy: HiGHS alone on the whole problem (from the start vector, if one is
given); :func:`mip_from` is also the last phase of the other strategies."""

from __future__ import annotations

import time

import numpy as np

from .highs import Clock, consistent, make_highs, run_phase
from .report import Outcome, Phase, SolutionStatus, SolveOptions, StandardForm, Termination

__all__ = ["mip_from", "plain"]


def mip_from(sf: StandardForm, opts: SolveOptions, clock: Clock, phases: list[Phase], say, start,
             name: str = "mip", target: float | None = None) -> Outcome:
    """The MIP from an optional start, stopped at the first plan below ``target`` if given
    (the objective a bound known outside HiGHS proves within the gap). HiGHS 1.16 can end a
    solve from a start 'optimal' with an objective and bound its returned solution does not have
    (below the LP bound, even); when the report disagrees with c x, the solve is repeated
    without the start."""
    limit = clock.left()
    h = make_highs(sf, opts, time_limit=limit, target=target)
    if start is not None:
        h.setSolution(sf.shape[1], np.arange(sf.shape[1], dtype=np.int32), np.asarray(start, float))
    phase, o = run_phase(name, h, True, time.perf_counter(), say, sf, limit)
    phases.append(phase)
    if start is not None and not consistent(sf, o) and clock.left() > 0:
        say("HiGHS reported an objective its solution does not have; solving again without the start")
        limit = clock.left()
        phase, o = run_phase(name + "_no_start", make_highs(sf, opts, time_limit=limit, target=target), True,
                             time.perf_counter(), say, sf, limit)
        phases.append(phase)
    if not consistent(sf, o):
        obj = float(sf.c @ o.x + sf.offset)
        return Outcome(Termination.UNKNOWN, SolutionStatus.FEASIBLE, obj, None, None, o.x)
    return o


def plain(sf, opts, clock, phases, say, restrict, start, **_hints) -> Outcome:
    """HiGHS alone: the MIP (from ``start``), or the LP when no column is integer."""
    is_mip = bool(sf.integer.any())
    say("solving the " + ("MIP" if is_mip else "LP") + (" from the given start" if start is not None else ""))
    if is_mip:
        return mip_from(sf, opts, clock, phases, say, start)
    limit = clock.left()
    phase, o = run_phase("lp", make_highs(sf, opts, time_limit=limit), False, time.perf_counter(), say, sf, limit)
    phases.append(phase)
    return o
