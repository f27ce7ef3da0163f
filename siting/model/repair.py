"""A feasible start for a model with satellite cells (issue 21): solve without the cells, then
repair the plan so that it keeps them.

With ``network.cell_capacity`` on, HiGHS alone finds no good plan on the default scenario (the
rows of the cells make the LP relaxation open many sites a little, each for a few MW of
satellite). Without the cell rows the same model solves in seconds, but its plan overfills the
cells. :func:`repair` keeps that plan's builds (which sites are open) and re-solves everything
else on the full rows: the satellite flows of each cell come back within its capacity and the
rest is re-routed over fiber or left unmet (unmet demand is priced, so the repair always has a
plan). :func:`cell_start` composes the two; the pipeline hands its plan to the full solve as the
start (``lp_start`` keeps the start's sites open in its restricted MIP, and the plan returned is
never dearer than it: :func:`~siting.model.warmstart.keep_start`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np

from ..solve import Phase, SolveOptions, SolveReport, StandardForm, feasible, solve
from .compile import Compiled

__all__ = ["CELL_ROWS", "cell_rows", "without_rows", "repair", "cell_start"]

CELL_ROWS = ("sat_cell", "sat_cell_units", "sat_cell_open", "sat_cell_module")  # the satellite_cells family


def cell_rows(comp: Compiled) -> np.ndarray:
    """The rows of the satellite_cells family in ``comp`` (empty without cells)."""
    return np.concatenate([np.zeros(0, np.int64)] + [np.asarray(comp.rows[n], np.int64) for n in CELL_ROWS
                                                      if n in comp.rows])


def without_rows(sf: StandardForm, drop: np.ndarray) -> StandardForm:
    """``sf`` without the rows ``drop`` (a relaxation: same columns, fewer rows)."""
    keep = np.ones(sf.shape[0], bool)
    keep[np.asarray(drop, np.int64)] = False
    A = sf.A.tocsr()[keep].tocsc()
    return dataclasses.replace(sf, A=A, row_lower=sf.row_lower[keep], row_upper=sf.row_upper[keep])


def repair(comp: Compiled, x: np.ndarray, opts: SolveOptions, *, sf: StandardForm | None = None,
           progress: Callable[[str], None] | None = None) -> SolveReport:
    """The plan ``x`` (which may break rows of ``sf``, e.g. overfill a cell) with its builds kept:
    every site's ``open`` fixed to its value in ``x``, every other column re-solved on all rows
    of ``sf`` (default ``comp.sf``) by HiGHS (``plain``, within ``opts.restricted_time_s``).
    Flows over a full cell are trimmed to its capacity and re-routed to the open sites' fiber or
    left unmet; the report's ``x`` is feasible for ``sf`` whenever the solve found a plan."""
    sf = comp.sf if sf is None else sf
    cols = comp.columns["open"]
    cols = cols[cols >= 0]
    on = np.round(np.clip(np.asarray(x, float)[cols], 0.0, 1.0))
    lo, up = sf.col_lower.copy(), sf.col_upper.copy()
    lo[cols] = np.maximum(lo[cols], on)
    up[cols] = np.minimum(up[cols], on)
    fixed = dataclasses.replace(sf, col_lower=lo, col_upper=up)
    ropts = dataclasses.replace(opts, strategy="plain", time_limit_s=min(opts.restricted_time_s, opts.time_limit_s))
    return solve(fixed, ropts, progress=progress)


def cell_start(comp: Compiled, opts: SolveOptions, *, progress: Callable[[str], None] | None = None,
               lazy: np.ndarray | None = None) -> tuple[np.ndarray | None, tuple[Phase, ...]]:
    """A feasible start for ``comp`` (a model with satellite cells): the model solved without the
    cell rows (``opts``' strategy within a sixth of its time limit), then :func:`repair`-ed on
    all rows (within another sixth, at most ``opts.restricted_time_s``). ``(start, phases)``:
    start None when there are no cell rows or no plan was found. ``lazy``: the row mask of
    ``comp.sf``'s lazy rows (passed on, without the cell rows). Measured with the routed
    constellation and cells on: the relaxed solve took 26 s and the repaired plan (188,045 M$)
    was the one the full solve kept, where without it HiGHS ended at 601,436 M$."""
    say = progress or (lambda _m: None)
    drop = cell_rows(comp)
    if not drop.size:
        return None, ()
    t0 = time.perf_counter()
    relaxed = without_rows(comp.sf, drop)
    keep = np.ones(comp.sf.shape[0], bool)
    keep[drop] = False
    say(f"cell repair: solving without the {drop.size:,} satellite-cell rows")
    first = solve(relaxed, dataclasses.replace(opts, time_limit_s=opts.time_limit_s / 6), restrict=comp.open_mask,
                  support=comp.support_mask, lazy=None if lazy is None else np.asarray(lazy, bool)[keep])
    t1 = time.perf_counter()
    phases = [Phase("no_cells", first.termination, first.objective, t1 - t0)]
    if first.x is None:
        say("cell repair: no plan without the cells")
        return None, tuple(phases)
    fixed = repair(comp, first.x, dataclasses.replace(opts, time_limit_s=opts.time_limit_s / 6))
    phases.append(Phase("cell_repair", fixed.termination, fixed.objective, time.perf_counter() - t1))
    if fixed.x is None or not feasible(comp.sf, fixed.x):
        say("cell repair: no feasible repaired plan")
        return None, tuple(phases)
    say(f"cell repair: {first.objective:,.1f} without the cells -> {fixed.objective:,.1f} within them "
        f"({time.perf_counter() - t0:.1f} s)")
    return fixed.x, tuple(phases)
