"""Survive the loss of any one site (N-1): failure groups, an independent post-check, and the
scenario-generation loop that solves the N-1 model with only the recourse blocks that bind.

The post-check :func:`n_minus_1_check` reads only a plan's tables (``sites``: IT and training MW
of the open sites; ``regions``: MW served) and the eligible (region, site) pairs of the inputs;
it never looks at the Pyomo model. For each failure group holding an open site it removes the
whole group and solves the re-assignment LP (HiGHS through :func:`scipy.optimize.linprog`):

    max z  s.t.  sum_{k survives} y[r,k] >= z * served[r]  (every served region r),
                 sum_r y[r,k] <= it_mw[k] - training_mw[k]  (every surviving open site k),
                 y >= 0 on latency-eligible pairs,  0 <= z <= 1,

so ``z`` is the worst region's share of its served inference that the survivors can carry.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

from .errors import InputError
from .physics import pairwise_km

__all__ = ["failure_groups", "n_minus_1_check", "solve_n_minus_1"]


def failure_groups(lon, lat, within_km: float | None = None, labels=None) -> np.ndarray:
    """Failure-group label (0..G-1) per site: sites within ``within_km`` of each other (chained)
    or sharing a ``labels`` value (blank: none) fail together.

    >>> failure_groups([0, 0.5, 10], [0, 0, 0], within_km=60).tolist()
    [0, 0, 1]
    >>> failure_groups([0, 5, 10], [0, 0, 0], labels=["a", None, "a"]).tolist()
    [0, 1, 0]
    >>> failure_groups([0, 5], [0, 0]).tolist()
    [0, 1]
    """
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    n = lon.size
    same = sp.csr_matrix((n, n), dtype=bool)
    if within_km is not None:
        same = same + sp.csr_matrix(pairwise_km(lon, lat, lon, lat) <= within_km)
    if labels is not None:
        lab = pd.Series(list(labels), dtype=object)
        if len(lab) != n:
            raise InputError("energy_sources", "failure_group", f"{len(lab)} labels for {n} sites")
        code = pd.factorize(lab.where(lab.notna() & (lab.astype(str).str.strip() != "")))[0]
        given = np.flatnonzero(code >= 0)
        first = pd.Series(given).groupby(code[given]).transform("first").to_numpy()
        same = same + sp.csr_matrix((np.ones(given.size, bool), (given, first)), shape=(n, n))
    return connected_components(same, directed=False)[1].astype(np.int64)


def _pairs(inp) -> pd.DataFrame:
    """Latency-eligible (region, site) pairs of the inputs (any link), by position."""
    return inp.arcs[["region", "site"]].drop_duplicates().reset_index(drop=True)


def _worst_share(served: np.ndarray, cap: np.ndarray, pr: np.ndarray, pk: np.ndarray) -> tuple[float, int]:
    """The re-assignment LP: the largest z every served region reaches; and the worst region."""
    need = np.flatnonzero(served > 1e-9)
    if need.size == 0:
        return 1.0, -1
    row_of = np.full(served.size, -1)
    row_of[need] = np.arange(need.size)
    keep = row_of[pr] >= 0
    pr, pk = pr[keep], pk[keep]
    n, R, K = pr.size, need.size, cap.size
    # rows 0..R-1: z served[r] - sum_k y[r,k] <= 0;  rows R..R+K-1: sum_r y[r,k] <= cap[k]
    a = sp.csr_matrix((np.concatenate([-np.ones(n), np.ones(n), served[need]]),
                       (np.concatenate([row_of[pr], R + pk, np.arange(R)]),
                        np.concatenate([np.arange(n), np.arange(n), np.full(R, n)]))), shape=(R + K, n + 1))
    c = np.zeros(n + 1)
    c[-1] = -1.0
    res = linprog(c, A_ub=a, b_ub=np.concatenate([np.zeros(R), np.maximum(cap, 0.0)]),
                  bounds=[(0, None)] * n + [(0, 1)], method="highs")
    if res.status != 0:
        raise RuntimeError(f"re-assignment LP ended with status {res.status}: {res.message}")
    z = float(res.x[-1])
    got = np.bincount(row_of[pr], res.x[:n], R) / served[need]
    return z, int(need[np.argmin(got)])


def n_minus_1_check(plan, inp, share: float | None = None, tol: float = 1e-6) -> pd.DataFrame:
    """For each failure group holding an open site: remove the whole group, re-assign the
    inference from the plan's tables, and report the worst region's share served.

    Columns: ``failed_group``, ``failed_sites`` (site ids of the group's open sites),
    ``worst_region`` (region id), ``worst_share`` (0..1), ``meets`` (worst_share >= share).
    """
    share = inp.n_minus_1_share if share is None else share
    share = 0.0 if share is None else share
    sites, regions = inp.sites, inp.regions
    pos_site = pd.Series(np.arange(len(sites)), index=sites["site_id"].to_numpy())
    pos_region = pd.Series(np.arange(len(regions)), index=regions["region_id"].to_numpy())
    K, R = len(sites), len(regions)
    cap = np.zeros(K)
    open_k = pos_site.loc[plan.sites["site_id"].to_numpy()].to_numpy()
    cap[open_k] = plan.sites["it_mw"].to_numpy(float) - plan.sites["training_mw"].to_numpy(float)
    served = np.zeros(R)
    served[pos_region.loc[plan.regions["region_id"].to_numpy()].to_numpy()] = plan.regions["served_mw"].to_numpy(float)
    label = inp.failure_groups()
    pairs = _pairs(inp)
    pr, pk = pairs["region"].to_numpy(), pairs["site"].to_numpy()
    is_open = np.zeros(K, bool)
    is_open[open_k] = True
    rows = []
    for g in np.unique(label[open_k]):
        survives = is_open[pk] & (label[pk] != g)
        z, worst = _worst_share(served, cap, pr[survives], pk[survives])
        lost = sites["site_id"].to_numpy()[is_open & (label == g)]
        rows.append({"failed_group": int(g), "failed_sites": " ".join(map(str, lost)),
                     "worst_region": regions["region_id"].to_numpy()[worst] if worst >= 0 else None,
                     "worst_share": min(z, 1.0), "meets": z >= share - tol})
    return pd.DataFrame(rows, columns=["failed_group", "failed_sites", "worst_region", "worst_share", "meets"])


def solve_n_minus_1(inp, opts, *, max_rounds: int = 10, progress: Callable[[str], None] | None = None):
    """Solve the N-1 model by scenario generation: start with no recourse block, add the blocks
    of the failure groups the post-check finds short, repeat until every failure passes.

    Each round's model is a relaxation of the full N-1 model (fewer blocks), so the final plan,
    which passes every failure, is optimal for the full model within the solver's gap, and its
    bound is a valid bound. Returns ``(plan, inputs of the last round, rounds)``, ``rounds`` a
    table of groups added, objective and bound per round.
    """
    from .pipeline import solve_inputs

    say = progress or (lambda _m: None)
    if inp.n_minus_1_share is None:
        raise InputError("demand", "n_minus_1_share", "is off (null); set a share in (0, 1] to solve N-1")
    groups: tuple = ()
    log = []
    for rnd in range(1, max_rounds + 1):
        cur = dataclasses.replace(inp, n_minus_1_groups=groups)
        plan = solve_inputs(cur, opts)
        check = n_minus_1_check(plan, cur)
        short = tuple(int(g) for g in check.loc[~check["meets"], "failed_group"])
        log.append({"round": rnd, "blocks": len(groups), "objective_musd": plan.report.objective,
                    "bound_musd": plan.report.best_bound, "short_groups": len(short)})
        say(f"N-1 round {rnd}: {len(groups)} blocks, objective {plan.report.objective:,.1f} M$, "
            f"{len(short)} failure groups short")
        if not short:
            return plan, cur, pd.DataFrame(log)
        if set(short) <= set(groups):
            raise RuntimeError(f"N-1: groups {short} have recourse blocks yet fail the post-check")
        groups = tuple(sorted(set(groups) | set(short)))
    raise RuntimeError(f"N-1: still short after {max_rounds} rounds ({len(groups)} blocks)")
