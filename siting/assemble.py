"""SitingInputs -> :class:`~siting.model.Compiled` with numpy: model.py's array twin.

:mod:`siting.model` states the model (Pyomo, one ``add_<family>`` per constraint family, the
math in its docstrings); this module writes the same families straight into a sparse matrix,
about a hundred times faster than the Pyomo build and standard-form compile together
(``bench/build.py``). It knows the layout of model.py on purpose: every variable component, its
index order and bounds, every constraint family's rows and the order of the terms in each row.
``tests/test_assemble.py`` binds the two: on every test instance the assembly equals Pyomo's
compile exactly (matrix, row and column bounds, costs, integrality, columns, keys and rows).

The order is Pyomo's (``LinearStandardFormCompiler``, ``mixed_form``): the objective is walked
first, then each constraint in declaration order; a variable component takes its columns, all
its indices at once, when any of its variables is first met (zero coefficients included); rows
with no nonzero term are dropped, and so are columns with no nonzero in the matrix or the costs.

:func:`assemble` raises :class:`NotCovered` for anything it does not reproduce (a family it does
not know, a trivially infeasible row, a bound Pyomo refuses): the caller then builds with Pyomo.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .inputs import SitingInputs
from .model import ENERGY_FAMILIES, FAMILIES, OPTION_FAMILIES, Compiled, _training_traffic, n_minus_1_layout
from .solve import StandardForm

__all__ = ["assemble", "NotCovered"]


class NotCovered(Exception):  # noqa: N818 (a signal to the caller, not an error for users)
    """The assembly does not reproduce these inputs' model: build it with Pyomo instead."""


@dataclass
class _Var:
    """A variable component: its keys (index order), bounds and integrality."""

    name: str
    keys: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integer: bool

    @property
    def n(self) -> int:
        return len(self.keys)


@dataclass
class _Terms:
    """Terms of one variable component in the rows of one constraint component: ``coef *
    var[index]`` at position ``pos`` of local row ``row``."""

    var: str
    row: np.ndarray
    pos: np.ndarray
    index: np.ndarray
    coef: np.ndarray


@dataclass
class _Con:
    """A constraint component: ``n`` rows (before empty rows are dropped), bounds, terms."""

    name: str
    n: int
    lower: np.ndarray
    upper: np.ndarray
    terms: list[_Terms]


def _terms(var, row, pos, index, coef) -> _Terms:
    row = np.asarray(row, np.int64)
    shape = row.shape
    return _Terms(var, row, np.broadcast_to(np.asarray(pos, np.int64), shape),
                  np.broadcast_to(np.asarray(index, np.int64), shape),
                  np.broadcast_to(np.asarray(coef, float), shape))


def _con(name, n, terms, *, le=None, ge=None, eq=None) -> _Con:
    """Rows ``body <= le``, ``body >= ge`` or ``body == eq`` (Pyomo's mixed form bounds)."""
    inf = np.full(n, np.inf)
    if eq is not None:
        lo = up = np.broadcast_to(np.asarray(eq, float), (n,))
    elif le is not None:
        lo, up = -inf, np.broadcast_to(np.asarray(le, float), (n,))
    else:
        lo, up = np.broadcast_to(np.asarray(ge, float), (n,)), inf
    return _Con(name, n, lo, up, [t for t in terms if t.row.size])


def _grouped(keys: np.ndarray, n: int):
    """Positions sorted stably by key, the rank of each within its key, and the count per key."""
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys, minlength=n)
    starts = np.cumsum(counts) - counts
    rank = np.arange(keys.size) - starts[keys[order]]
    return order, rank, counts


class _Layout:
    """The index sets of model.py's ``ModelIndex`` as flat arrays (no per-row lists)."""

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
        if _training_traffic(inp):
            everywhere = np.arange(self.K)
            fiber_sites = everywhere if "fiber" in inp.training_links else fiber_sites
            sat_sites = everywhere if "satellite" in inp.training_links else sat_sites
        self.fiber_sites, self.sat_sites = fiber_sites, sat_sites
        self.by_region = _grouped(self.region, self.R)
        self.by_site = _grouped(self.site, self.K)

    def it_terms(self, row_of_site, sites, pos0, coef, cols=None) -> _Terms:
        """``sum_c coef[k, c] it[k, c]`` over ``cols`` for each site in ``sites``, starting at
        position ``pos0`` (per row) of the row ``row_of_site`` (per site)."""
        cols = np.arange(self.C) if cols is None else np.asarray(cols, np.int64)
        sites = np.asarray(sites, np.int64)
        S, n = len(sites), len(cols)
        row = np.broadcast_to(np.asarray(row_of_site, np.int64), (S,))
        pos = np.broadcast_to(np.asarray(pos0, np.int64), (S,))[:, None] + np.arange(n)[None, :]
        return _terms("it", np.repeat(row, n), pos.ravel(), (sites[:, None] * self.C + cols[None, :]).ravel(),
                      np.broadcast_to(np.asarray(coef, float), (S, n)).ravel())


# ---------------------------------------------------------------------------- variables


def _variables(inp: SitingInputs, ix: _Layout) -> dict[str, _Var]:
    """model.add_variables, in its declaration order."""
    K, C, R = ix.K, ix.C, ix.R
    out: dict[str, _Var] = {}

    def var(name, keys, upper, integer=False, lower=0.0):
        keys = np.asarray(keys, np.int64)
        upper = np.broadcast_to(np.asarray(upper, float), keys.shape).copy()
        if np.isnan(upper).any():
            raise NotCovered(f"{name}: a NaN bound (Pyomo refuses it)")
        out[name] = _Var(name, keys, np.full(keys.shape, lower), upper, integer)

    var("open", np.arange(K), 1.0, True)
    var("it", np.arange(K * C), np.repeat(ix.max_it, C))
    var("serve", np.arange(ix.A), ix.serve_ub)
    if inp.module_mw:
        var("modules", np.arange(K), np.floor(ix.max_it / inp.module_mw + 1e-9), True)
    if C > 1:
        var("cool", np.arange(K * C), 1.0, True)
    if inp.training_mw > 0:
        var("train", np.arange(K), np.minimum(ix.max_it, inp.training_mw))
        var("hosts_training", np.arange(K), 1.0, True)
    var("fiber", ix.fiber_sites, 1.0, True)
    traffic = _training_traffic(inp)
    gbps = max(inp.gbps_per_mw, inp.training_gbps_per_mw) if traffic else inp.gbps_per_mw
    with np.errstate(divide="ignore", invalid="ignore"):
        sat_ub = np.ceil(gbps * ix.max_it / inp.sat_unit_gbps)
    if traffic and "satellite" in inp.training_links:
        var("train_sat", np.arange(K), np.minimum(ix.max_it, inp.training_mw))
    var("sat_units", ix.sat_sites, sat_ub[ix.sat_sites], True)
    if inp.unmet_cost_musd_per_mw is not None:
        var("unmet", np.arange(R), np.inf)
    n1 = n_minus_1_layout(inp)
    if n1 is not None and n1.n:
        var("backup", np.arange(n1.n), inp.n_minus_1_share * ix.demand[n1.pair_region[n1.pair]])
    hi = inp.hourly
    if hi is not None and hi.V:
        if len(np.unique(hi.site)) != hi.V:
            raise NotCovered("hourly: a site listed twice")
        top = hi.max_power_mw()
        var("storage_mw", hi.site, top)
        var("storage_mwh", hi.site, 24 * top)
        offered = hi.overbuild_max_mw > 0
        var("overbuild_mw", hi.site[offered], hi.overbuild_max_mw[offered])
        cell_top = top[hi.cell_site]
        var("charge", np.arange(hi.H), cell_top)
        var("discharge", np.arange(hi.H), cell_top)
        var("soc", np.arange(hi.H), 24 * cell_top)
        if hi.grid:
            var("grid_import", np.arange(hi.H), (ix.max_it * inp.load_pue().max(axis=1))[hi.site[hi.cell_site]])
    return out


def _objective(inp: SitingInputs, ix: _Layout, vs: dict[str, _Var]) -> list[_Terms]:
    """model.add_objective: one row of terms, in its order."""
    u = inp.unit_costs()
    every = lambda coef: (np.arange(len(coef)), coef)  # noqa: E731
    nz = np.flatnonzero(u.serve)
    parts = [("open", *every(u.open)), ("it", *every(u.it.ravel())), ("fiber", *every(u.fiber[ix.fiber_sites])),
             ("sat_units", *every(u.sat_unit[ix.sat_sites])), ("serve", nz, u.serve[nz])]
    if "unmet" in vs:
        parts.append(("unmet", *every(np.full(ix.R, u.unmet, float))))
    if _hourly(inp) is not None:
        for name, unit in (("storage_mwh", u.storage_mwh), ("storage_mw", u.storage_mw),
                           ("overbuild_mw", u.overbuild_mw)):
            parts.append((name, *every(unit[vs[name].keys])))
        parts += [("charge", *every(u.charge)), ("discharge", *every(u.discharge))]
        if "grid_import" in vs:
            parts.append(("grid_import", *every(u.grid_import)))
    out, pos = [], 0
    for name, index, coef in parts:
        n = len(index)
        out.append(_terms(name, np.zeros(n, np.int64), pos + np.arange(n), index, coef))
        pos += n
    return [t for t in out if t.row.size]


# ---------------------------------------------------------------------------- families
# one twin per model.py family, same name, same components, rows and term order


def add_demand(inp, ix: _Layout, vs) -> list[_Con]:
    order, rank, counts = ix.by_region
    terms = [_terms("serve", ix.region[order], rank, order, 1.0)]
    if "unmet" in vs:
        terms.append(_terms("unmet", np.arange(ix.R), counts, np.arange(ix.R), 1.0))
    elif ((counts == 0) & (ix.demand > 0)).any():
        raise NotCovered("demand: a region with demand and no arc (Constraint.Infeasible)")
    return [_con("demand", ix.R, terms, eq=ix.demand)]


def add_training(inp, ix: _Layout, vs) -> list[_Con]:
    if "train" not in vs:
        return []
    K = ix.K
    k = np.arange(K)
    ub = np.minimum(ix.max_it, inp.training_mw)
    return [_con("training_total", 1, [_terms("train", np.zeros(K), k, k, 1.0)], eq=inp.training_mw),
            # train[k] <= ub[k] * hosts[k]  ->  train - ub hosts <= 0
            _con("training_upper", K, [_terms("train", k, 0, k, 1.0), _terms("hosts_training", k, 1, k, -ub)],
                 le=0.0),
            # train[k] >= L * hosts[k]  ->  L hosts - train <= 0
            _con("training_cluster", K, [_terms("hosts_training", k, 0, k, inp.training_min_cluster_mw),
                                         _terms("train", k, 1, k, -1.0)], le=0.0)]


def add_capacity(inp, ix: _Layout, vs) -> list[_Con]:
    k = np.arange(ix.K)
    order, rank, counts = ix.by_site
    terms = [ix.it_terms(k, k, 0, -1.0), _terms("serve", ix.site[order], ix.C + rank, order, 1.0)]
    if "train" in vs:
        terms.append(_terms("train", k, ix.C + counts, k, 1.0))
    return [_con("capacity", ix.K, terms, le=0.0)]


def add_modules(inp, ix: _Layout, vs) -> list[_Con]:
    if "modules" not in vs:
        return []
    k = np.arange(ix.K)
    return [_con("module_build", ix.K, [ix.it_terms(k, k, 0, 1.0),
                                        _terms("modules", k, ix.C, k, -inp.module_mw)], eq=0.0)]


def add_cooling(inp, ix: _Layout, vs) -> list[_Con]:
    if "cool" not in vs:
        return []
    K, C = ix.K, ix.C
    k, i = np.arange(K), np.arange(K * C)
    one = [_terms("cool", np.repeat(k, C), np.tile(np.arange(C), K), i, 1.0), _terms("open", k, C, k, -1.0)]
    link = [_terms("it", i, 0, i, 1.0), _terms("cool", i, 1, i, -np.repeat(ix.max_it, C))]
    return [_con("one_cooling", K, one, eq=0.0), _con("cooling_link", K * C, link, le=0.0)]


def add_cooling_density(inp, ix: _Layout, vs) -> list[_Con]:
    cool = inp.cooling
    train_c = np.flatnonzero(cool["carries_training"].to_numpy(bool))
    inf_c = np.flatnonzero(cool["carries_inference"].to_numpy(bool))
    k = np.arange(ix.K)
    out = []
    if "train" in vs and len(train_c) < ix.C:
        n = len(train_c)
        out.append(_con("training_density", ix.K, [ix.it_terms(k, k, 0, -1.0, train_c),
                                                   _terms("train", k, n, k, 1.0)], le=0.0))
        if "cool" in vs:
            idx = (k[:, None] * ix.C + train_c[None, :]).ravel()
            out.append(_con("training_cooling", ix.K, [
                _terms("cool", np.repeat(k, n), np.tile(np.arange(n), ix.K), idx, -1.0),
                _terms("hosts_training", k, n, k, 1.0)], le=0.0))
    if len(inf_c) < ix.C:
        order, rank, _ = ix.by_site
        out.append(_con("inference_density", ix.K, [
            ix.it_terms(k, k, 0, -1.0, inf_c), _terms("serve", ix.site[order], len(inf_c) + rank, order, 1.0)],
            le=0.0))
    return out


def add_power(inp, ix: _Layout, vs) -> list[_Con]:
    k = np.arange(ix.K)
    firm = inp.sites["firm_mw"].to_numpy(float)
    return [_con("power", ix.K, [ix.it_terms(k, k, 0, inp.cooling["pue"].to_numpy(float)),
                                 _terms("open", k, ix.C, k, -firm)], le=0.0)]


def add_backhaul(inp, ix: _Layout, vs) -> list[_Con]:
    fs, ss = ix.fiber_sites, ix.sat_sites
    nf = len(fs)
    fiber_open = [_terms("fiber", np.arange(nf), 0, np.arange(nf), 1.0), _terms("open", np.arange(nf), 1, fs, -1.0)]
    fa = np.flatnonzero(ix.fiber)
    j = np.arange(len(fa))
    fiber_link = [_terms("serve", j, 0, fa, 1.0),
                  _terms("fiber", j, 1, np.searchsorted(fs, ix.site[fa]), -ix.serve_ub[fa])]
    # sat_capacity rows: one per site of sat_sites, arcs of each in arc order
    sa = np.flatnonzero(ix.sat)
    row_of = np.full(ix.K + 1, -1, np.int64)
    row_of[ss] = np.arange(len(ss))
    order, rank, counts = _grouped(ix.site[sa], ix.K)
    n_at = counts[ss]
    r = np.arange(len(ss))
    sat = [_terms("serve", row_of[ix.site[sa[order]]], rank, sa[order], inp.gbps_per_mw),
           _terms("sat_units", r, n_at, r, -inp.sat_unit_gbps)]
    by_sat = "train_sat" in vs
    if by_sat:
        sat.append(_terms("train_sat", r, n_at + 1, ss, inp.training_gbps_per_mw))
    out = [_con("fiber_open", nf, fiber_open, le=0.0), _con("fiber_link", len(fa), fiber_link, le=0.0),
           _con("sat_capacity", len(ss), sat, le=0.0)]
    if not (_training_traffic(inp) and "train" in vs):
        return out
    by_fiber = "fiber" in inp.training_links
    k = np.arange(ix.K)
    ub = np.minimum(ix.max_it, inp.training_mw)
    terms = [_terms("train", k, 0, k, 1.0)]
    if by_sat:
        terms.append(_terms("train_sat", k, 1, k, -1.0))
    if by_fiber:  # fiber_sites is every site here
        terms.append(_terms("fiber", k, 1 + by_sat, k, -ub))
    return out + [_con("training_backhaul", ix.K, terms, le=0.0)]


def add_resilience(inp, ix: _Layout, vs) -> list[_Con]:
    pair = ix.region * ix.K + ix.site
    keys, pair_id = np.unique(pair, return_inverse=True)
    n_pairs = len(keys)
    not_fiber = np.bincount(pair_id, ~ix.fiber, n_pairs) > 0
    row_of = np.cumsum(not_fiber) - 1
    order, rank, counts = _grouped(pair_id, n_pairs)
    keep = not_fiber[pair_id[order]]
    first = order[np.cumsum(counts) - counts]  # first arc of each pair
    pk = np.flatnonzero(not_fiber)
    r = np.arange(len(pk))
    terms = [_terms("serve", row_of[pair_id[order[keep]]], rank[keep], order[keep], 1.0),
             _terms("open", r, counts[pk], ix.site[first[pk]], -ix.serve_ub[first[pk]])]
    return [_con("resilience", len(pk), terms, le=0.0)]


def add_max_sites(inp, ix: _Layout, vs) -> list[_Con]:
    if inp.max_sites is None:
        return []
    k = np.arange(ix.K)
    return [_con("max_sites", 1, [_terms("open", np.zeros(ix.K), k, k, 1.0)], le=inp.max_sites)]


def add_n_minus_1(inp, ix: _Layout, vs) -> list[_Con]:
    n1 = n_minus_1_layout(inp)
    if n1 is None or not n1.n:
        return []
    beta = inp.n_minus_1_share
    region = n1.pair_region[n1.pair]
    site = n1.pair_site[n1.pair]
    G, R, K = len(n1.groups), ix.R, ix.K
    j = np.arange(n1.n)
    # n1_cover over the nonempty (block, region) cells, in cell order
    cell = n1.block * R + region
    o, rank, counts = _grouped(cell, G * R)
    cover = np.flatnonzero(counts)
    row_of = np.cumsum(counts > 0) - 1
    ny = counts[cover]
    ro, rrank, rcounts = ix.by_region
    # serve terms: every arc of region cover % R, for every cover row
    reg = cover % R
    n_arcs = rcounts[reg]
    rows = np.repeat(np.arange(len(cover)), n_arcs)
    starts = (np.cumsum(rcounts) - rcounts)[reg]
    within = np.arange(rows.size) - np.repeat(np.cumsum(n_arcs) - n_arcs, n_arcs)
    cover_terms = [_terms("backup", row_of[cell[o]], rank, j[o], 1.0),
                   _terms("serve", rows, np.repeat(ny, n_arcs) + within, ro[np.repeat(starts, n_arcs) + within],
                          -beta)]
    # n1_capacity over the nonempty (block, site) cells
    cell = n1.block * K + site
    o, rank, counts = _grouped(cell, G * K)
    hold = np.flatnonzero(counts)
    row_of = np.cumsum(counts > 0) - 1
    ny = counts[hold]
    ks = hold % K
    r = np.arange(len(hold))
    hold_terms = [_terms("backup", row_of[cell[o]], rank, j[o], 1.0), ix.it_terms(r, ks, ny, -1.0)]
    if "train" in vs:
        hold_terms.append(_terms("train", r, ny + ix.C, ks, 1.0))
    return [_con("n1_cover", len(cover), cover_terms, ge=0.0), _con("n1_capacity", len(hold), hold_terms, le=0.0)]


def add_water(inp, ix: _Layout, vs) -> list[_Con]:
    limited = inp.water_limited()
    if not limited.size:
        return []
    r = np.arange(len(limited))
    return [_con("water", len(limited), [ix.it_terms(r, limited, 0, inp.water_m3_per_mw_year[limited])],
                 le=inp.water_limit_m3_per_year[limited])]


def add_climate_power(inp, ix: _Layout, vs) -> list[_Con]:
    if inp.climate_pue_peak is None:
        return []
    peak = inp.load_pue()
    hot = np.flatnonzero((peak > inp.cooling["pue"].to_numpy(float)[None, :] + 1e-12).any(axis=1))
    firm = inp.sites["firm_mw"].to_numpy(float)
    r = np.arange(len(hot))
    return [_con("climate_power", len(hot), [ix.it_terms(r, hot, 0, peak[hot]),
                                             _terms("open", r, ix.C, hot, -firm[hot])], le=0.0)]


def _hourly(inp):
    hi = inp.hourly
    return hi if hi is not None and hi.V else None


def add_hourly_balance(inp, ix: _Layout, vs) -> list[_Con]:
    hi = _hourly(inp)
    if hi is None:
        return []
    pue = inp.load_pue()
    cf = hi.cf.ravel()
    v = hi.cell_site
    k = hi.site[v]
    h = np.arange(hi.H)
    C = ix.C
    terms = [ix.it_terms(h, k, 0, pue[k]), _terms("charge", h, C, h, 1.0), _terms("discharge", h, C + 1, h, -1.0)]
    grid = "grid_import" in vs
    if grid:
        terms.append(_terms("grid_import", h, C + 2, h, -1.0))
    ob = vs["overbuild_mw"].keys
    at = np.isin(k, ob)
    sorter = np.argsort(ob)
    terms.append(_terms("overbuild_mw", h[at], C + 2 + grid, sorter[np.searchsorted(ob, k[at], sorter=sorter)],
                        -cf[at]))
    return [_con("hourly_balance", hi.H, terms, le=cf * hi.available_mw[v])]


def add_storage(inp, ix: _Layout, vs) -> list[_Con]:
    hi = _hourly(inp)
    if hi is None:
        return []
    h = np.arange(hi.H)
    return [_con("soc_balance", hi.H, [
        _terms("soc", h, 0, h, 1.0), _terms("soc", h, 1, hi.previous_cell, -1.0),
        _terms("charge", h, 2, h, -hi.eta_charge), _terms("discharge", h, 3, h, 1.0 / hi.eta_discharge)], eq=0.0)]


def add_storage_capacity(inp, ix: _Layout, vs) -> list[_Con]:
    hi = _hourly(inp)
    if hi is None:
        return []
    h, v = np.arange(hi.H), hi.cell_site  # storage keys are hi.site: key position = v
    return [_con("soc_capacity", hi.H, [_terms("soc", h, 0, h, 1.0), _terms("storage_mwh", h, 1, v, -1.0)], le=0.0),
            _con("storage_power", hi.H, [_terms("charge", h, 0, h, 1.0), _terms("discharge", h, 1, h, 1.0),
                                         _terms("storage_mw", h, 2, v, -1.0)], le=0.0)]


def add_storage_throughput(inp, ix: _Layout, vs) -> list[_Con]:
    hi = _hourly(inp)
    if hi is None:
        return []
    per_v = hi.D * 24
    h, v = np.arange(hi.H), np.arange(hi.V)
    return [_con("storage_throughput", hi.V, [
        _terms("discharge", hi.cell_site, h % per_v, h, hi.cell_weight),
        _terms("storage_mwh", v, per_v, v, -hi.cycles_per_year)], le=0.0)]


def add_overbuild(inp, ix: _Layout, vs) -> list[_Con]:
    if _hourly(inp) is None or not vs["overbuild_mw"].n:
        return []
    hi = inp.hourly
    offered = hi.overbuild_max_mw > 0
    ob = hi.site[offered]
    r = np.arange(len(ob))
    return [_con("overbuild_open", len(ob), [_terms("overbuild_mw", r, 0, r, 1.0),
                                             _terms("open", r, 1, ob, -hi.overbuild_max_mw[offered])], le=0.0)]


def add_grid_import(inp, ix: _Layout, vs) -> list[_Con]:
    if "grid_import" not in vs:
        return []
    hi = inp.hourly
    k = hi.site[hi.cell_site]
    h = np.arange(hi.H)
    return [_con("grid_import_load", hi.H, [_terms("grid_import", h, 0, h, 1.0),
                                            ix.it_terms(h, k, 1, -inp.load_pue()[k])], le=0.0)]


def add_cfe(inp, ix: _Layout, vs) -> list[_Con]:
    hi = inp.hourly
    if "grid_import" not in vs or (hi.cfe_target is None and hi.cfe_site_target is None):
        return []
    pue = inp.load_pue()
    w = hi.cell_weight
    hours = 24.0 * float(hi.weight_days.sum())  # hours a year the representative days stand for
    per_v = hi.D * 24
    h = np.arange(hi.H)
    out = []
    if hi.cfe_target is not None:  # one row: every cell's import, then every site's IT
        k = np.arange(ix.K)
        out.append(_con("cfe_plan", 1, [_terms("grid_import", np.zeros(hi.H), h, h, w),
                                        ix.it_terms(0, k, hi.H + k * ix.C, -(1.0 - hi.cfe_target) * hours * pue)],
                        le=0.0))
    if hi.cfe_site_target is not None:  # one row per variable site: its cells' import, then its IT
        v = np.arange(hi.V)
        out.append(_con("cfe_site", hi.V, [_terms("grid_import", hi.cell_site, h % per_v, h, w),
                                           ix.it_terms(v, hi.site, per_v,
                                                       -(1.0 - hi.cfe_site_target) * hours * pue[hi.site])],
                        le=0.0))
    return out


TWINS = (add_demand, add_training, add_capacity, add_modules, add_cooling, add_cooling_density, add_power,
         add_backhaul, add_resilience, add_max_sites, add_n_minus_1, add_water, add_climate_power,
         add_hourly_balance, add_storage, add_storage_capacity, add_storage_throughput, add_overbuild,
         add_grid_import, add_cfe)


# ---------------------------------------------------------------------------- standard form


def assemble(inp: SitingInputs) -> Compiled:
    """The model of ``inp`` as :class:`Compiled`, equal to ``compile_model(build_model(inp))``.

    Raises :class:`NotCovered` when it cannot promise that equality (see the module docstring).
    """
    t0 = time.perf_counter()
    families = [f.__name__ for f in FAMILIES + OPTION_FAMILIES + ENERGY_FAMILIES]
    if families != [f.__name__ for f in TWINS]:
        raise NotCovered(f"model.py's families {families} are not the assembly's")
    ix = _Layout(inp)
    vs = _variables(inp, ix)
    objective = _objective(inp, ix, vs)
    cons = [c for twin in TWINS for c in twin(inp, ix, vs)]
    return _standard_form(vs, objective, cons, t0)


def _first_seen(terms: _Terms, row0: int) -> tuple[int, int]:
    """(row, position) at which a block of terms first meets its variable component."""
    r = int(terms.row.min())
    return row0 + r, int(terms.pos[terms.row == r].min())


def _standard_form(vs: dict[str, _Var], objective: list[_Terms], cons: list[_Con], t0: float) -> Compiled:
    # columns: components in the order they are first met (the objective is row -1)
    seen: dict[str, tuple[int, int]] = {}
    blocks = [(-1, t) for t in objective]
    row0 = 0
    for con in cons:
        blocks += [(row0, t) for t in con.terms]
        row0 += con.n
    n_rows = row0
    for r0, t in blocks:
        at = _first_seen(t, r0)
        if t.var not in seen or at < seen[t.var]:
            seen[t.var] = at
    order = sorted(seen, key=seen.__getitem__)
    start, n_cols = {}, 0
    for name in order:
        start[name] = n_cols
        n_cols += vs[name].n

    c = np.zeros(n_cols)
    for t in objective:
        np.add.at(c, start[t.var] + t.index, t.coef)
    rows, cols, vals = [], [], []
    row0 = 0
    for con in cons:
        for t in con.terms:
            nz = t.coef != 0
            rows.append(row0 + t.row[nz])
            cols.append(start[t.var] + t.index[nz])
            vals.append(t.coef[nz])
        row0 += con.n
    rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    cols = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    vals = np.concatenate(vals) if vals else np.zeros(0)
    lower = np.concatenate([con.lower for con in cons]) if cons else np.zeros(0)
    upper = np.concatenate([con.upper for con in cons]) if cons else np.zeros(0)

    # rows: a row without any nonzero term is dropped (a feasible constant) or refused
    kept = np.zeros(n_rows, bool)
    kept[rows] = True
    empty = ~kept
    if ((lower[empty] > 0) | (upper[empty] < 0)).any():
        raise NotCovered("a trivially infeasible row (Pyomo's compiler raises)")
    new_row = np.cumsum(kept) - 1
    A = sp.coo_array((vals, (new_row[rows], cols)), shape=(int(kept.sum()), n_cols)).tocsc()
    A.sum_duplicates()
    A.eliminate_zeros()
    A.sort_indices()

    # columns: a column without a nonzero in A or c is dropped
    active = (np.diff(A.indptr) > 0) | (c != 0)
    A = sp.csc_array((A.data, A.indices, A.indptr[np.append(active, True)]), shape=(A.shape[0], int(active.sum())))
    final = np.where(active, np.cumsum(active) - 1, -1)
    col_lower = np.concatenate([vs[n].lower for n in order]) if order else np.zeros(0)
    col_upper = np.concatenate([vs[n].upper for n in order]) if order else np.zeros(0)
    integer = np.concatenate([np.full(vs[n].n, vs[n].integer) for n in order]) if order else np.zeros(0, bool)

    columns = {name: (final[start[name]:start[name] + v.n] if name in start else np.full(v.n, -1, np.int64))
               for name, v in vs.items()}
    keys = {name: np.array(v.keys.tolist(), dtype=object) for name, v in vs.items()}
    before = np.r_[0, np.cumsum(kept)]  # kept rows before each row
    edges = before[np.r_[0, np.cumsum([con.n for con in cons], dtype=np.int64)]]
    # each family's rows are contiguous; Pyomo names the families that kept a row
    kept_rows = {con.name: np.arange(start, end, dtype=np.int64)
                 for con, start, end in zip(cons, edges[:-1], edges[1:]) if end > start}
    sf = StandardForm(c[active], 0.0, A, lower[kept], upper[kept], col_lower[active], col_upper[active],
                      integer[active], time.perf_counter() - t0)
    return Compiled(sf, columns, keys, kept_rows, built_by="numpy")
