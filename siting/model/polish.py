"""Polish a solver's plan: moves that keep it feasible and make it strictly cheaper.

A time-limited incumbent can hold a site that is open with no IT load (it pays the site's fixed
cost and serves nothing), a fiber lateral nobody uses or more satellite units than its traffic
needs. :func:`polish` tries, in this order and for every site,

1. closing an open site with no IT load (its open, cooling, backhaul, storage and hourly columns
   set to 0);
2. dropping a fiber lateral;
3. lowering the satellite units to the fewest that still carry the traffic;
4. lowering a site's IT capacity to its load (inference served + training), in whole modules
   where IT comes in modules;

and keeps a move only when the standard form still holds (every row and bound it touches, the
tolerance of :func:`siting.solve.feasible`) and the objective falls. Each move is checked on the
rows of the columns it changes, so a pass costs a few sparse column products per site.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..inputs.inputs import SitingInputs
from ..solve import StandardForm
from .compile import Compiled

__all__ = ["polish", "Polished"]

SITE_KEYED = ("open", "fiber", "sat_units", "modules", "hosts_training", "train", "train_sat",
              "storage_mwh", "storage_mw", "overbuild_mw")  # keys are site positions
SITE_COOLING_KEYED = ("it", "cool")  # keys are k * C + c
CELL_KEYED = ("charge", "discharge", "soc", "grid_import")  # keys are hourly cells


@dataclass(frozen=True)
class Polished:
    """The polished column vector, its objective and one line per move kept."""

    x: np.ndarray
    objective: float
    moves: tuple[str, ...]


class _Checker:
    """``A x`` kept up to date, so a move is checked on the rows its columns touch."""

    def __init__(self, sf: StandardForm, x: np.ndarray, tol: float):
        self.sf, self.tol = sf, tol
        self.A = sf.A.tocsc() if hasattr(sf.A, "tocsc") else sf.A
        self.x = np.asarray(x, float).copy()
        self.ax = self.A @ self.x

    def cost(self, x: np.ndarray) -> float:
        return float(self.sf.c @ x + self.sf.offset)

    def holds(self, cols: np.ndarray, values) -> tuple | None:
        """``(cols, new values, rows, their new A x)`` if ``x[cols] = values`` keeps every bound and
        row those columns touch, else None (nothing changed)."""
        cols = np.asarray(cols, np.int64)
        new_x = np.asarray(values, float)
        delta = new_x - self.x[cols]
        sf, tol = self.sf, self.tol
        if np.any(new_x < sf.col_lower[cols] - tol) or np.any(new_x > sf.col_upper[cols] + tol):
            return None
        change = self.A[:, cols] @ delta
        rows = np.flatnonzero(change)
        ax = self.ax[rows] + change[rows]
        scale = tol * np.maximum(1.0, np.abs(ax))
        if np.any(ax < sf.row_lower[rows] - scale) or np.any(ax > sf.row_upper[rows] + scale):
            return None
        return cols, new_x, rows, ax

    def try_move(self, cols: np.ndarray, values) -> float | None:
        """Set ``x[cols] = values`` if the result is feasible and strictly cheaper; the saving or None."""
        cols = np.asarray(cols, np.int64)
        values = np.broadcast_to(np.asarray(values, float), cols.shape)
        saving = -float(self.sf.c[cols] @ (values - self.x[cols]))
        if saving <= 1e-9 * max(1.0, abs(self.cost(self.x))):
            return None
        ok = self.holds(cols, values)
        if ok is None:
            return None
        cols, new_x, rows, ax = ok
        self.x[cols] = new_x
        self.ax[rows] = ax
        return saving


def _columns_of_site(comp: Compiled, inp: SitingInputs) -> list[np.ndarray]:
    """Per site position, every column that belongs to it alone (absent columns left out)."""
    K, C = len(inp.sites), len(inp.cooling)
    found: list[tuple[np.ndarray, np.ndarray]] = []
    for name in SITE_KEYED + SITE_COOLING_KEYED + CELL_KEYED:
        if name not in comp.columns:
            continue
        keys, cols = np.asarray(comp.keys[name], np.int64), np.asarray(comp.columns[name], np.int64)
        if name in SITE_COOLING_KEYED:
            site = keys // C
        elif name in CELL_KEYED:
            hi = inp.hourly
            site = hi.site[hi.cell_site][keys]
        else:
            site = keys
        found.append((site, cols))
    site = np.concatenate([s for s, _ in found]) if found else np.zeros(0, np.int64)
    cols = np.concatenate([c for _, c in found]) if found else np.zeros(0, np.int64)
    keep = cols >= 0
    site, cols = site[keep], cols[keep]
    return [cols[site == k] for k in range(K)]


def _by_site(comp: Compiled, name: str, K: int) -> np.ndarray:
    """The column of ``name`` at each site position (-1: none)."""
    out = np.full(K, -1, np.int64)
    if name in comp.columns:
        keys, cols = np.asarray(comp.keys[name], np.int64), np.asarray(comp.columns[name], np.int64)
        out[keys] = cols
    return out


def polish(comp: Compiled, inp: SitingInputs, x: np.ndarray, sf: StandardForm | None = None,
           tol: float = 1e-6) -> Polished:
    """Close open sites with no IT load, drop unused fiber laterals, trim satellite units: each move
    kept only if ``sf`` (default ``comp.sf``) still holds and its objective falls.

    ``x``: a feasible column vector of ``sf``. Returns the polished vector, its objective and the moves.
    """
    sf = comp.sf if sf is None else sf
    check = _Checker(sf, x, tol)
    K, C = len(inp.sites), len(inp.cooling)
    ids = inp.sites["site_id"].to_numpy()
    moves: list[str] = []
    open_col = _by_site(comp, "open", K)
    it_cols = np.asarray(comp.columns.get("it", np.full(K * C, -1)), np.int64).reshape(K, C)

    def it_mw(k: int) -> float:
        cols = it_cols[k][it_cols[k] >= 0]
        return float(check.x[cols].sum()) if cols.size else 0.0

    own = _columns_of_site(comp, inp)
    for k in np.flatnonzero(open_col >= 0):
        if check.x[open_col[k]] > 0.5 and it_mw(k) <= tol:
            saving = check.try_move(own[k], np.zeros(own[k].size))
            if saving is not None:
                moves.append(f"closed site {ids[k]} (open with 0 MW IT): {saving:,.3f} M$ less")
    fiber_col = _by_site(comp, "fiber", K)
    for k in np.flatnonzero(fiber_col >= 0):
        if check.x[fiber_col[k]] > 0.5:
            saving = check.try_move(fiber_col[[k]], [0.0])
            if saving is not None:
                moves.append(f"dropped the unused fiber lateral of site {ids[k]}: {saving:,.3f} M$ less")
    sat_col = _by_site(comp, "sat_units", K)
    for k in np.flatnonzero(sat_col >= 0):
        j = sat_col[k]
        have = int(round(check.x[j]))
        lo, hi = 0, have  # the fewest units that hold lies in [lo, hi]; hi holds
        while lo < hi:
            mid = (lo + hi) // 2
            if _holds(check, j, mid):
                hi = mid
            else:
                lo = mid + 1
        if hi < have:
            saving = check.try_move(np.array([j]), [float(hi)])
            if saving is not None:
                moves.append(f"site {ids[k]}: {have} -> {hi} satellite units (the traffic needs no more): "
                             f"{saving:,.3f} M$ less")
    moves += _trim_it(check, comp, inp, it_cols, open_col, ids)
    return Polished(check.x, check.cost(check.x), tuple(moves))


def _holds(check: _Checker, j: int, value: int) -> bool:
    """Would ``x[j] = value`` keep the rows of column ``j`` (cost not asked)?"""
    return check.holds(np.array([j]), [float(value)]) is not None


def _trim_it(check: _Checker, comp: Compiled, inp: SitingInputs, it_cols: np.ndarray, open_col: np.ndarray,
             ids: np.ndarray) -> list[str]:
    """IT capacity above a site's load (inference served + training): down to the fewest whole
    modules that still hold (``module_mw``), or to the load itself, where every row still holds."""
    K = len(inp.sites)
    moves: list[str] = []
    serve = np.asarray(comp.columns.get("serve", np.zeros(0, np.int64)), np.int64)
    arc_site = inp.arcs["site"].to_numpy()[np.asarray(comp.keys["serve"], np.int64)] if serve.size else serve
    train_col, mod_col = _by_site(comp, "train", K), _by_site(comp, "modules", K)
    m = float(inp.module_mw or 0.0)
    for k in np.flatnonzero(open_col >= 0):
        cs = it_cols[k][it_cols[k] >= 0]
        used = cs[check.x[cs] > check.tol] if cs.size else cs
        if check.x[open_col[k]] <= 0.5 or used.size != 1 or (m and mod_col[k] < 0):
            continue
        j, have = int(used[0]), float(check.x[used[0]])
        mine = serve[(arc_site == k) & (serve >= 0)]
        load = float(check.x[mine].sum()) + (float(check.x[train_col[k]]) if train_col[k] >= 0 else 0.0)
        if m:
            n_have = int(round(have / m))
            lo, hi = int(np.ceil(load / m - 1e-9)), n_have  # the fewest modules that hold lies in [lo, hi]
            while lo < hi:
                mid = (lo + hi) // 2
                if check.holds(np.array([j, mod_col[k]]), [mid * m, float(mid)]) is not None:
                    hi = mid
                else:
                    lo = mid + 1
            saving = check.try_move(np.array([j, mod_col[k]]), [hi * m, float(hi)]) if hi < n_have else None
            if saving is not None:
                moves.append(f"site {ids[k]}: IT {have:,.6g} -> {hi * m:,.6g} MW ({n_have} -> {hi} modules; "
                             f"its load is {load:,.6g} MW): {saving:,.3f} M$ less")
        elif load < have - check.tol * max(1.0, have):
            saving = check.try_move(np.array([j]), [load])
            if saving is not None:
                moves.append(f"site {ids[k]}: IT {have:,.6g} -> {load:,.6g} MW (its load): {saving:,.3f} M$ less")
    return moves
