"""The index sets of the model, computed once from the inputs with numpy (no per-row lists).

Only latency-eligible arcs exist (positions 0..A-1 of ``inputs.arcs``); per-site-and-cooling
columns are flat ``k * C + c``; the N-1 recourse columns are one block per failure group. With
``inputs.periods`` every family is keyed (period, key) too (:func:`siting.model.blocks.over_periods`):
``P`` periods, and the figures that change with the period carry a leading period axis
(``demand_p``, ``serve_ub_p``, ``training_p``: shape (P, ...), P = 1 without periods).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ModelTooLargeError
from ..inputs.inputs import SitingInputs
from .blocks import Terms, grouped, terms

__all__ = ["Layout", "N1Layout", "n_minus_1_layout", "training_traffic", "MAX_BACKUP_VARIABLES"]

MAX_BACKUP_VARIABLES = 1_000_000  # N-1 recourse variables built at once: a bound on the build, EST


def training_traffic(inp: SitingInputs) -> bool:
    """Training traffic needs backhaul (training MW and Gbps per training MW both above zero)."""
    return inp.training_mw > 0 and inp.training_gbps_per_mw > 0


class Layout:
    """Arc columns (region, site, link), the sites with a fiber or satellite column, and the
    sparse groupings (arcs by region, by site) every family reads."""

    def __init__(self, inp: SitingInputs):
        arcs = inp.arcs
        self.K, self.R, self.C, self.A = len(inp.sites), len(inp.regions), len(inp.cooling), len(arcs)
        self.region = arcs["region"].to_numpy(np.int64)
        self.site = arcs["site"].to_numpy(np.int64)
        link = arcs["link"].to_numpy()
        self.fiber, self.sat = link == "fiber", link == "satellite"
        self.demand = inp.regions["inference_mw"].to_numpy(float)
        self.max_it = inp.sites["max_it_mw"].to_numpy(float)
        self.serve_ub = inp.resilience_max_share * self.demand[self.region]
        fiber_sites, sat_sites = np.unique(self.site[self.fiber]), np.unique(self.site[self.sat])
        if training_traffic(inp):  # any site may host training, whose traffic needs backhaul too
            everywhere = np.arange(self.K)
            fiber_sites = everywhere if "fiber" in inp.training_links else fiber_sites
            sat_sites = everywhere if "satellite" in inp.training_links else sat_sites
        self.fiber_sites, self.sat_sites = fiber_sites, sat_sites
        self.by_region = grouped(self.region, self.R)
        self.by_site = grouped(self.site, self.K)
        per = self.periods = inp.periods
        self.P = 1 if per is None else per.P
        self.demand_p = self.demand[None, :] * (1.0 if per is None else per.demand_factor)
        self.serve_ub_p = inp.resilience_max_share * self.demand_p[:, self.region]
        self.training_p = np.array([inp.training_mw]) if per is None else per.training_mw
        most = 1.0 if per is None or per.compute_per_mw is None else float(per.compute_per_mw.max())  # compute/MW
        self.train_ub_p = np.minimum(self.max_it * most, self.training_p[:, None])

    def it_terms(self, row_of_site, sites, pos0, coef, cols=None, lag: int = 0) -> Terms:
        """``sum_c coef[k, c] it[k, c]`` over ``cols`` for each site in ``sites``, starting at
        position ``pos0`` (per row) of the row ``row_of_site`` (per site); ``coef`` of shape
        (P, S or 1, n or 1) holds one value per period; ``lag`` reads ``it`` that many periods earlier."""
        cols = np.arange(self.C) if cols is None else np.asarray(cols, np.int64)
        sites = np.asarray(sites, np.int64)
        S, n = len(sites), len(cols)
        row = np.broadcast_to(np.asarray(row_of_site, np.int64), (S,))
        pos = np.broadcast_to(np.asarray(pos0, np.int64), (S,))[:, None] + np.arange(n)[None, :]
        coef = np.asarray(coef, float)
        coef = (np.broadcast_to(coef, (coef.shape[0], S, n)).reshape(coef.shape[0], -1) if coef.ndim == 3
                else np.broadcast_to(coef, (S, n)).ravel())
        return terms("it", np.repeat(row, n), pos.ravel(), (sites[:, None] * self.C + cols[None, :]).ravel(),
                     coef, lag)

    def compute_terms(self, row_of_site, sites, pos0, coef, cols=None) -> list[Terms]:
        """The compute of ``it`` (as :meth:`it_terms`): IT MW itself, or, with chip generations
        (``periods.compute_per_mw`` g[v, t] or, with racks, g[v, t, c]: compute per MW in period t
        of MW built in period v on cooling c),
        ``sum_{v <= t} g[v,t] (it[v] - it[v-1]) = sum_L (g[t-L,t] - g[t-L+1,t]) it[t-L]``
        (g[t+1, t] = 0), one lagged term per L."""
        g = None if self.periods is None else self.periods.compute_per_mw
        if g is None:
            return [self.it_terms(row_of_site, sites, pos0, coef, cols)]
        P = self.P
        idx = np.arange(self.C) if cols is None else np.asarray(cols, np.int64)
        n = len(idx)
        g = np.asarray(g, float)
        g = g[:, :, idx] if g.ndim == 3 else np.repeat(g[:, :, None], n, axis=2)  # [P, P, n]
        out = []
        t = np.arange(P)
        for L in range(P):
            v = t - L
            ok = v >= 0
            d = np.zeros((P, n))
            nxt = np.where((v + 1 <= t)[:, None], g[np.minimum(v + 1, P - 1), t], 0.0)
            d[ok] = g[v[ok], t[ok]] - nxt[ok]
            out.append(self.it_terms(row_of_site, sites, np.asarray(pos0) + L * n,
                                     d[:, None, :] * np.asarray(coef, float), cols, lag=L))
        return out


@dataclass(frozen=True)
class N1Layout:
    """The N-1 recourse variables: one block per failure group, one variable per eligible
    (region, site) pair whose site survives that group's failure.

    groups[G] failure-group labels with a block; block[N], pair[N] per backup variable;
    pair_region, pair_site, pair_arc (first arc of the pair) per pair.
    """

    groups: np.ndarray
    block: np.ndarray
    pair: np.ndarray
    pair_region: np.ndarray
    pair_site: np.ndarray
    pair_arc: np.ndarray

    @property
    def n(self) -> int:
        return int(self.block.size)


def n_minus_1_layout(inp: SitingInputs) -> N1Layout | None:
    """The recourse blocks of the N-1 family (``None`` when N-1 is off).

    A group none of whose sites has an arc gets no block: its failure takes away no service and
    the plan's own flows are a re-assignment. ``inp.n_minus_1_groups`` restricts the blocks (the
    scenario-generation loop); ``None`` builds every block (exact).
    """
    if inp.n_minus_1_share is None:
        return None
    K = len(inp.sites)
    label = inp.failure_groups()
    region = inp.arcs["region"].to_numpy(np.int64)
    site = inp.arcs["site"].to_numpy(np.int64)
    keys, first = np.unique(region * K + site, return_index=True)
    pr, ps = keys // K, keys % K
    groups = np.unique(label[ps])
    if inp.n_minus_1_groups is not None:
        groups = groups[np.isin(groups, np.asarray(inp.n_minus_1_groups))]
    blocks = [np.flatnonzero(label[ps] != g) for g in groups]
    n = sum(len(b) for b in blocks)
    if inp.n_minus_1_groups is None and n > MAX_BACKUP_VARIABLES:
        raise ModelTooLargeError(
            f"demand.n_minus_1_share: one recourse block per failure group is {len(groups):,} blocks and "
            f"{n:,} variables (limit {MAX_BACKUP_VARIABLES:,}); solve with the N-1 loop "
            "(solve_n_minus_1), which adds only the blocks that bind, or lower candidates.max_count")
    block = np.repeat(np.arange(len(groups)), [len(b) for b in blocks]).astype(np.int64)
    pair = np.concatenate(blocks) if blocks else np.zeros(0, np.int64)
    return N1Layout(groups, block, pair, pr, ps, first)
