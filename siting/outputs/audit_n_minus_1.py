"""The N-1 post-check: re-assign a plan's inference after each failure, from its tables alone.

:func:`n_minus_1_check` reads only a plan's tables (``sites``: IT and training MW of the open
sites; ``regions``: MW served) and the eligible (region, site) pairs of the inputs; it never looks
at the model. For each failure group holding an open site it removes the whole group and
re-assigns the served inference to the surviving open sites (HiGHS through
:func:`scipy.optimize.linprog`). With ``share_r = sum_{k survives} y[r,k] / served[r]``:

    sum_r y[r,k] <= it_mw[k] - training_mw[k]  (every surviving open site k),  y >= 0 on eligible pairs.

The worst share is ``max z s.t. share_r >= z`` (every served region, ``z <= 1``). The regions it
names short are those below ``share`` in the max-min-fair (lexicographic) re-assignment: raise
the lowest shares as far as they go together, fix the regions that cannot rise further without
pushing another region below them, and repeat with the rest. These levels are unique (one LP
optimum may have many solutions, the levels do not), so a region that can keep its share is never
named because of a tie: a region whose own best share (the others ignored) is below ``share`` is
always named, and no region is named when every region can keep ``share`` at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linprog

__all__ = ["n_minus_1_check", "N_MINUS_1_COLUMNS"]

N_MINUS_1_COLUMNS = ["failed_group", "failed_sites", "worst_region", "worst_share", "short_regions",
                     "short_shares", "meets"]


def n_minus_1_check(plan, inp, share: float | None = None, tol: float = 1e-6) -> pd.DataFrame:
    """For each failure group holding an open site: remove the whole group, re-assign the
    inference from the plan's tables, and report the shares the survivors can carry.

    Columns: ``failed_group``, ``failed_sites`` (site ids of the group's open sites, space-separated),
    ``worst_share`` (0..1, the largest share every served region reaches at once), ``worst_region``
    (a region held at ``worst_share`` in every re-assignment that reaches it; ``None`` when every
    region keeps all its MW), ``short_regions`` and ``short_shares`` (tuples: the regions whose
    max-min-fair share is below ``share``, in the inputs' order, and those shares), ``meets``
    (``worst_share >= share``; it is false exactly when ``short_regions`` is not empty).
    """
    share = inp.n_minus_1_share if share is None else share
    share = 0.0 if share is None else float(share)
    sites, regions = inp.sites, inp.regions
    site_ids, region_ids = sites["site_id"].to_numpy(), regions["region_id"].to_numpy()
    pos_site = pd.Series(np.arange(len(sites)), index=site_ids)
    pos_region = pd.Series(np.arange(len(regions)), index=region_ids)
    cap = np.zeros(len(sites))
    open_k = pos_site.loc[plan.sites["site_id"].to_numpy()].to_numpy()
    cap[open_k] = plan.sites["it_mw"].to_numpy(float) - plan.sites["training_mw"].to_numpy(float)
    served = np.zeros(len(regions))
    served[pos_region.loc[plan.regions["region_id"].to_numpy()].to_numpy()] = plan.regions["served_mw"].to_numpy(float)
    label = inp.failure_groups()
    pairs = inp.arcs[["region", "site"]].drop_duplicates()  # eligible pairs (any link), by position
    pr, pk = pairs["region"].to_numpy(), pairs["site"].to_numpy()
    is_open = np.zeros(len(sites), bool)
    is_open[open_k] = True
    rows = []
    for g in np.unique(label[open_k]):
        survives = is_open[pk] & (label[pk] != g)
        worst, worst_at, levels = Reassignment(served, cap, pr[survives], pk[survives], tol).fair_shares(share)
        short = np.flatnonzero(levels < share - tol)
        rows.append({"failed_group": int(g),
                     "failed_sites": " ".join(map(str, site_ids[is_open & (label == g)])),
                     "worst_region": region_ids[worst_at] if worst_at >= 0 else None,
                     "worst_share": worst, "short_regions": tuple(region_ids[short]),
                     "short_shares": tuple(levels[short].tolist()), "meets": worst >= share - tol})
    return pd.DataFrame(rows, columns=N_MINUS_1_COLUMNS)


def _share(x: float) -> float:
    """A share clipped to [0, 1], never -0.0."""
    return min(max(float(x), 0.0), 1.0) + 0.0


class Reassignment:
    """The re-assignment LPs of one failure: flows ``y`` on the surviving eligible pairs of the
    served regions, within the surviving sites' inference capacity."""

    def __init__(self, served: np.ndarray, cap: np.ndarray, pr: np.ndarray, pk: np.ndarray, tol: float = 1e-6):
        self.need = np.flatnonzero(served > 1e-9)
        row_of = np.full(served.size, -1)
        row_of[self.need] = np.arange(self.need.size)
        keep = row_of[pr] >= 0
        pr, pk = row_of[pr[keep]], pk[keep]
        n, R = pr.size, self.need.size
        self.size = served.size
        self.n, self.R, self.tol = n, R, tol
        # share_r = sum_k y[r,k] / served_r ;  load_k = sum_r y[r,k]
        self.share = sp.csr_matrix((1.0 / served[self.need][pr], (pr, np.arange(n))), shape=(R, n))
        self.load = sp.csr_matrix((np.ones(n), (pk, np.arange(n))), shape=(cap.size, n))
        self.cap = np.maximum(cap, 0.0)

    def _solve(self, c, a_ub, b_ub, bounds) -> np.ndarray:
        res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
        if res.status != 0:
            raise RuntimeError(f"re-assignment LP ended with status {res.status}: {res.message}")
        return res.x

    def max_min(self, free: np.ndarray, floor: np.ndarray, top: float) -> tuple[float, np.ndarray]:
        """``max t <= top`` with every free region's share >= t and every other's >= its floor;
        returns t and the regions' shares in that solution."""
        fixed = ~free
        # rows: t - share_r <= 0 (free);  -share_r <= -floor_r (fixed);  load_k <= cap_k
        a = sp.vstack([sp.hstack([-self.share[free], np.ones((int(free.sum()), 1))]),
                       sp.hstack([-self.share[fixed], sp.csr_matrix((int(fixed.sum()), 1))]),
                       sp.hstack([self.load, sp.csr_matrix((self.load.shape[0], 1))])], format="csr")
        b = np.concatenate([np.zeros(int(free.sum())), -self._loose(floor[fixed]), self.cap])
        c = np.zeros(self.n + 1)
        c[-1] = -1.0
        x = self._solve(c, a, b, [(0, None)] * self.n + [(0, top)])
        return float(x[-1]), self.share @ x[:-1]

    def _loose(self, level: np.ndarray) -> np.ndarray:
        """A lower bound a hair below ``level``, so a level an LP reached stays feasible."""
        return level - self.tol * 0.1

    def stuck(self, cand: np.ndarray, free: np.ndarray, floor: np.ndarray, t: float) -> np.ndarray:
        """The candidates (free regions at ``t``) that cannot rise above ``t`` while every free
        region keeps ``t`` and every fixed one its floor: maximise the candidates' summed share;
        a candidate that rises is not stuck; when none rises, each is stuck (one rising would
        raise the sum)."""
        low = np.where(free, t, floor)
        a = sp.vstack([-self.share, self.load], format="csr")
        b = np.concatenate([-self._loose(low), self.cap])
        cand = cand.copy()
        while cand.any() and self.n:  # with no surviving pair no share can rise
            c = -np.asarray(self.share[cand].sum(axis=0)).ravel()
            s = self.share @ self._solve(c, a, b, [(0, None)] * self.n)
            rise = cand & (s > t + self.tol)
            if not rise.any():
                return cand
            cand &= ~rise
        return cand

    def fair_shares(self, share: float) -> tuple[float, int, np.ndarray]:
        """``(worst share, a region held at it or -1, level per region)``: the max-min-fair
        levels, exact below ``share``; a region at or above ``share`` (or not served) reads 1.0."""
        levels = np.ones(self.R)
        free = np.ones(self.R, bool)
        worst, worst_at = 1.0, -1
        first = True
        while free.any():
            t, s = self.max_min(free, levels, 1.0 if first else share)
            t = _share(t)
            done = t >= share - self.tol
            if done and not first:
                break
            held = (self.stuck(free & (s <= t + self.tol), free, levels, t) if t < 1.0 - self.tol
                    else np.zeros(self.R, bool))
            if first:
                worst, first = t, False
                worst_at = int(self.need[np.flatnonzero(held)[0]]) if held.any() else -1
            if done:
                break
            levels[held], free = t, free & ~held
        out = np.ones(self.size)
        out[self.need] = levels
        return worst, worst_at, out
