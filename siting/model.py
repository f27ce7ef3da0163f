"""SitingInputs -> Pyomo ConcreteModel, one ``add_<family>`` function per constraint family.

Index sets are flat and sparse: arcs are positions 0..A-1 of ``inputs.arcs`` (only
latency-eligible arcs exist), per-site-and-cooling variables are flat ``k * C + c``. Every rule
reads index lists precomputed with numpy; no rule filters a cross product.

This is the only module that knows component names and index layouts: :func:`compile_model`
turns the model into solver arrays, :func:`read_decisions` reads a solution onto the
:class:`~siting.decisions.Decisions` axes, :func:`start_vector` turns a plan back into a
start, and :func:`objective_vector` recomputes the costs for an in-place re-solve.
"""

from __future__ import annotations

import contextlib
import gc
import time
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from .decisions import Decisions
from .errors import ModelTooLargeError
from .inputs import SitingInputs
from .solve import StandardForm

__all__ = ["build_model", "FAMILIES", "OPTION_FAMILIES", "ENERGY_FAMILIES", "ModelIndex", "Compiled",
           "compile_model", "compile_inputs", "read_decisions", "start_vector", "objective_vector", "structure_key",
           "in_place_update", "N1Layout", "n_minus_1_layout"]


MAX_BACKUP_VARIABLES = 1_000_000  # N-1 recourse variables built at once: a bound on the build, EST


def _groups(keys: np.ndarray, n: int) -> list[np.ndarray]:
    """Positions of ``keys`` grouped by key value 0..n-1 (stable)."""
    order = np.argsort(keys, kind="stable")
    return np.split(order, np.searchsorted(keys[order], np.arange(1, n)))


def _lin(coefs, variables, constant=0.0):
    """A linear expression from parallel lists (fast path: no operator overloading)."""
    return LinearExpression(constant=constant, linear_coefs=list(map(float, coefs)),
                            linear_vars=list(variables))


@dataclass
class ModelIndex:
    """Sparse index lists computed once from the inputs, before the model exists."""

    K: int
    R: int
    C: int
    A: int
    by_region: list[np.ndarray]
    by_site: list[np.ndarray]
    pair_arcs: list[np.ndarray]  # arcs of each (region, site) pair needing a linking row
    fiber_arcs: np.ndarray
    sat_by_site: list[np.ndarray]
    fiber_sites: np.ndarray
    sat_sites: np.ndarray
    max_it: np.ndarray
    serve_ub: np.ndarray

    @classmethod
    def of(cls, inp: SitingInputs) -> ModelIndex:
        arcs = inp.arcs
        K, R, C, A = len(inp.sites), len(inp.regions), len(inp.cooling), len(arcs)
        region = arcs["region"].to_numpy(dtype=np.int64)
        site = arcs["site"].to_numpy(dtype=np.int64)
        link = arcs["link"].to_numpy()
        pair = region * K + site
        _, pair_id = np.unique(pair, return_inverse=True)
        n_pairs = int(pair_id.max()) + 1 if A else 0
        # a pair whose arcs are all fiber is already linked by its fiber rows
        not_fiber = np.bincount(pair_id, link != "fiber", n_pairs) > 0
        pair_arcs = [p for p, keep in zip(_groups(pair_id, n_pairs), not_fiber) if keep]
        sat = link == "satellite"
        demand = inp.regions["inference_mw"].to_numpy(float)
        fiber_sites, sat_sites = np.unique(site[link == "fiber"]), np.unique(site[sat])
        if _training_traffic(inp):  # any site may host training, whose traffic needs backhaul too
            everywhere = np.arange(K)
            fiber_sites = everywhere if "fiber" in inp.training_links else fiber_sites
            sat_sites = everywhere if "satellite" in inp.training_links else sat_sites
        return cls(K, R, C, A, _groups(region, R), _groups(site, K), pair_arcs,
                   np.flatnonzero(link == "fiber"), _groups(np.where(sat, site, K), K + 1)[:K],
                   fiber_sites, sat_sites,
                   inp.sites["max_it_mw"].to_numpy(float),
                   inp.resilience_max_share * demand[region])


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
    scenario-generation loop in :mod:`siting.resilience`); ``None`` builds every block (exact).
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
            f"{n:,} variables (limit {MAX_BACKUP_VARIABLES:,}); solve with "
            "siting.resilience.solve_n_minus_1, which adds only the blocks that bind, or lower "
            "candidates.max_count")
    block = np.repeat(np.arange(len(groups)), [len(b) for b in blocks]).astype(np.int64)
    pair = np.concatenate(blocks) if blocks else np.zeros(0, np.int64)
    return N1Layout(groups, block, pair, pr, ps, first)


def _training_traffic(inp: SitingInputs) -> bool:
    """Training traffic needs backhaul (training MW and Gbps per training MW both above zero)."""
    return inp.training_mw > 0 and inp.training_gbps_per_mw > 0


def add_variables(m, inp: SitingInputs, ix: ModelIndex) -> None:
    """Decisions: open, modules, cooling, IT MW, serve (eligible arcs only), training, backhaul."""
    m.open = pyo.Var(range(ix.K), domain=pyo.Binary)
    m.it = pyo.Var(range(ix.K * ix.C), domain=pyo.NonNegativeReals,
                   bounds=lambda _, i: (0, ix.max_it[i // ix.C]))
    m.serve = pyo.Var(range(ix.A), domain=pyo.NonNegativeReals,
                      bounds=lambda _, a: (0, ix.serve_ub[a]))
    if inp.module_mw:
        m.modules = pyo.Var(range(ix.K), domain=pyo.NonNegativeIntegers,
                            bounds=lambda _, k: (0, np.floor(ix.max_it[k] / inp.module_mw + 1e-9)))
    if ix.C > 1:
        m.cool = pyo.Var(range(ix.K * ix.C), domain=pyo.Binary)
    if inp.training_mw > 0:
        m.train = pyo.Var(range(ix.K), domain=pyo.NonNegativeReals,
                          bounds=lambda _, k: (0, min(ix.max_it[k], inp.training_mw)))
        m.hosts_training = pyo.Var(range(ix.K), domain=pyo.Binary)
    m.fiber = pyo.Var(ix.fiber_sites.tolist(), domain=pyo.Binary)
    gbps = max(inp.gbps_per_mw, inp.training_gbps_per_mw) if _training_traffic(inp) else inp.gbps_per_mw
    sat_ub = np.ceil(gbps * ix.max_it / inp.sat_unit_gbps)
    if _training_traffic(inp) and "satellite" in inp.training_links:
        m.train_sat = pyo.Var(range(ix.K), domain=pyo.NonNegativeReals,
                              bounds=lambda _, k: (0, min(ix.max_it[k], inp.training_mw)))
    m.sat_units = pyo.Var(ix.sat_sites.tolist(), domain=pyo.NonNegativeIntegers,
                          bounds=lambda _, k: (0, sat_ub[k]))
    if inp.unmet_cost_musd_per_mw is not None:
        m.unmet = pyo.Var(range(ix.R), domain=pyo.NonNegativeReals)
    n1 = n_minus_1_layout(inp)
    if n1 is not None and n1.n:
        ub = inp.n_minus_1_share * inp.regions["inference_mw"].to_numpy(float)[n1.pair_region[n1.pair]]
        m.backup = pyo.Var(range(n1.n), domain=pyo.NonNegativeReals, bounds=lambda _, i: (0, ub[i]))
    hi = inp.hourly
    if hi is not None and hi.V:  # hourly energy: only variable-fuel sites get these columns
        pmax = hi.max_power_mw()
        top = dict(zip(hi.site.tolist(), pmax))
        m.storage_mw = pyo.Var(hi.site.tolist(), domain=pyo.NonNegativeReals, bounds=lambda _, k: (0, top[k]))
        m.storage_mwh = pyo.Var(hi.site.tolist(), domain=pyo.NonNegativeReals,
                                bounds=lambda _, k: (0, 24 * top[k]))
        offered = hi.overbuild_max_mw > 0
        ob_max = dict(zip(hi.site[offered].tolist(), hi.overbuild_max_mw[offered]))
        m.overbuild_mw = pyo.Var(list(ob_max), domain=pyo.NonNegativeReals, bounds=lambda _, k: (0, ob_max[k]))
        cell_top = pmax[hi.cell_site]
        m.charge = pyo.Var(range(hi.H), domain=pyo.NonNegativeReals, bounds=lambda _, h: (0, cell_top[h]))
        m.discharge = pyo.Var(range(hi.H), domain=pyo.NonNegativeReals, bounds=lambda _, h: (0, cell_top[h]))
        m.soc = pyo.Var(range(hi.H), domain=pyo.NonNegativeReals, bounds=lambda _, h: (0, 24 * cell_top[h]))
        if hi.grid:  # never more than the site's largest load (add_grid_import)
            load_top = (ix.max_it * inp.load_pue().max(axis=1))[hi.site[hi.cell_site]]
            m.grid_import = pyo.Var(range(hi.H), domain=pyo.NonNegativeReals, bounds=lambda _, h: (0, load_top[h]))


def _it_sum(m, ix: ModelIndex, k: int, cols=None, coefs=None):
    cols = range(ix.C) if cols is None else cols
    coefs = [1.0] * len(cols) if coefs is None else coefs
    return [m.it[k * ix.C + c] for c in cols], list(coefs)


def add_demand(m, inp: SitingInputs, ix: ModelIndex) -> None:
    """sum_{k,b} serve[r,k,b] + unmet[r] = inference_mw[r]   for every region r."""
    demand = inp.regions["inference_mw"].to_numpy(float)
    slack = hasattr(m, "unmet")

    def rule(m, r):
        vs = [m.serve[a] for a in ix.by_region[r]] + ([m.unmet[r]] if slack else [])
        if not vs:
            return pyo.Constraint.Infeasible if demand[r] > 0 else pyo.Constraint.Skip
        return _lin([1.0] * len(vs), vs) == demand[r]
    m.demand = pyo.Constraint(range(ix.R), rule=rule)


def add_training(m, inp: SitingInputs, ix: ModelIndex) -> None:
    """sum_k train[k] = training_mw;  L hosts[k] <= train[k] <= U_k hosts[k]."""
    if not hasattr(m, "train"):
        return
    m.training_total = pyo.Constraint(expr=_lin([1.0] * ix.K, m.train.values()) == inp.training_mw)
    ub = np.minimum(ix.max_it, inp.training_mw)
    m.training_upper = pyo.Constraint(
        range(ix.K), rule=lambda m, k: m.train[k] <= ub[k] * m.hosts_training[k])
    m.training_cluster = pyo.Constraint(
        range(ix.K), rule=lambda m, k: m.train[k] >= inp.training_min_cluster_mw * m.hosts_training[k])


def add_capacity(m, inp: SitingInputs, ix: ModelIndex) -> None:
    """sum_{r,b} serve[r,k,b] + train[k] <= sum_c it[k,c]   for every site k."""
    training = hasattr(m, "train")

    def rule(m, k):
        vs, cs = _it_sum(m, ix, k)
        vs += [m.serve[a] for a in ix.by_site[k]] + ([m.train[k]] if training else [])
        cs = [-c for c in cs] + [1.0] * (len(vs) - len(cs))
        return _lin(cs, vs) <= 0
    m.capacity = pyo.Constraint(range(ix.K), rule=rule)


def add_modules(m, inp: SitingInputs, ix: ModelIndex) -> None:
    """sum_c it[k,c] = module_mw * modules[k]   (IT capacity comes in whole modules)."""
    if not hasattr(m, "modules"):
        return

    def rule(m, k):
        vs, cs = _it_sum(m, ix, k)
        return _lin(cs + [-inp.module_mw], vs + [m.modules[k]]) == 0
    m.module_build = pyo.Constraint(range(ix.K), rule=rule)


def add_cooling(m, inp: SitingInputs, ix: ModelIndex) -> None:
    """sum_c cool[k,c] = open[k];  it[k,c] <= M_k cool[k,c]   (one technology per open site)."""
    if not hasattr(m, "cool"):
        return  # one technology: the power row already gives it[k] <= firm[k]/pue * open[k]
    C = ix.C
    m.one_cooling = pyo.Constraint(range(ix.K), rule=lambda m, k: _lin(
        [1.0] * C + [-1.0], [m.cool[k * C + c] for c in range(C)] + [m.open[k]]) == 0)
    m.cooling_link = pyo.Constraint(range(ix.K * C), rule=lambda m, i: _lin(
        [1.0, -ix.max_it[i // C]], [m.it[i], m.cool[i]]) <= 0)


def add_cooling_density(m, inp: SitingInputs, ix: ModelIndex) -> None:
    """train[k] <= sum_{c carries training} it[k,c];  sum serve[.,k,.] <= sum_{c carries inference} it[k,c]."""
    cool = inp.cooling
    train_c = np.flatnonzero(cool["carries_training"].to_numpy(bool))
    inf_c = np.flatnonzero(cool["carries_inference"].to_numpy(bool))
    if hasattr(m, "train") and len(train_c) < ix.C:
        def rule_t(m, k):
            vs, cs = _it_sum(m, ix, k, train_c)
            return _lin([-c for c in cs] + [1.0], vs + [m.train[k]]) <= 0
        m.training_density = pyo.Constraint(range(ix.K), rule=rule_t)
        if hasattr(m, "cool"):
            m.training_cooling = pyo.Constraint(range(ix.K), rule=lambda m, k: _lin(
                [-1.0] * len(train_c) + [1.0],
                [m.cool[k * ix.C + c] for c in train_c] + [m.hosts_training[k]]) <= 0)
    if len(inf_c) < ix.C:
        def rule_i(m, k):
            vs, cs = _it_sum(m, ix, k, inf_c)
            arcs = ix.by_site[k]
            return _lin([-c for c in cs] + [1.0] * len(arcs), vs + [m.serve[a] for a in arcs]) <= 0
        m.inference_density = pyo.Constraint(range(ix.K), rule=rule_i)


def add_power(m, inp: SitingInputs, ix: ModelIndex) -> None:
    """sum_c pue[c] * it[k,c] <= firm_mw[k] * open[k]   (firm power of the site's source)."""
    pue = inp.cooling["pue"].to_numpy(float)
    firm = inp.sites["firm_mw"].to_numpy(float)

    def rule(m, k):
        vs, cs = _it_sum(m, ix, k, coefs=pue)
        return _lin(cs + [-firm[k]], vs + [m.open[k]]) <= 0
    m.power = pyo.Constraint(range(ix.K), rule=rule)


def add_climate_power(m, inp: SitingInputs, ix: ModelIndex) -> None:
    """sum_c pue_peak[k,c] * it[k,c] <= firm_mw[k] * open[k]   (warmest-month PUE; sites where it exceeds pue[c])."""
    if inp.climate_pue_peak is None:
        return
    peak = inp.load_pue()
    hot = np.flatnonzero((peak > inp.cooling["pue"].to_numpy(float)[None, :] + 1e-12).any(axis=1))
    firm = inp.sites["firm_mw"].to_numpy(float)

    def rule(m, k):
        vs, cs = _it_sum(m, ix, k, coefs=peak[k])
        return _lin(cs + [-firm[k]], vs + [m.open[k]]) <= 0
    m.climate_power = pyo.Constraint(hot.tolist(), rule=rule)


def add_hourly_balance(m, inp: SitingInputs, ix: ModelIndex) -> None:
    """cf[h] (avail[v] + overbuild[v]) + discharge[h] - charge[h] + import[h] >= sum_c pue[c] it[k,c]   (h: v,d,t)."""
    hi = inp.hourly
    if hi is None or not hi.V:
        return
    pue = inp.load_pue()
    cf = hi.cf.ravel()
    site = hi.site[hi.cell_site]
    avail = hi.available_mw[hi.cell_site]
    grid = hi.grid

    def rule(m, h):
        k = int(site[h])
        vs, cs = _it_sum(m, ix, k, coefs=pue[k])
        vs += [m.charge[h], m.discharge[h]] + ([m.grid_import[h]] if grid else [])
        cs += [1.0, -1.0] + ([-1.0] if grid else [])
        if k in m.overbuild_mw:
            vs.append(m.overbuild_mw[k])
            cs.append(-cf[h])
        return _lin(cs, vs) <= cf[h] * avail[h]
    m.hourly_balance = pyo.Constraint(range(hi.H), rule=rule)


def add_storage(m, inp: SitingInputs, ix: ModelIndex) -> None:
    """soc[h] = soc[h-1, cyclic within the representative day] + eta_c charge[h] - discharge[h] / eta_d."""
    hi = inp.hourly
    if hi is None or not hi.V:
        return
    prev = hi.previous_cell
    m.soc_balance = pyo.Constraint(range(hi.H), rule=lambda m, h: _lin(
        [1.0, -1.0, -hi.eta_charge, 1.0 / hi.eta_discharge],
        [m.soc[h], m.soc[int(prev[h])], m.charge[h], m.discharge[h]]) == 0)


def add_storage_capacity(m, inp: SitingInputs, ix: ModelIndex) -> None:
    """soc[h] <= storage_mwh[k];  charge[h] + discharge[h] <= storage_mw[k]   (k the cell's site)."""
    hi = inp.hourly
    if hi is None or not hi.V:
        return
    site = hi.site[hi.cell_site]
    m.soc_capacity = pyo.Constraint(range(hi.H), rule=lambda m, h: _lin(
        [1.0, -1.0], [m.soc[h], m.storage_mwh[int(site[h])]]) <= 0)
    m.storage_power = pyo.Constraint(range(hi.H), rule=lambda m, h: _lin(
        [1.0, 1.0, -1.0], [m.charge[h], m.discharge[h], m.storage_mw[int(site[h])]]) <= 0)


def add_storage_throughput(m, inp: SitingInputs, ix: ModelIndex) -> None:
    """sum_{d,t} w_d discharge[v,d,t] <= cycle_life / life_years * mwh[k]   (cycle life as a throughput limit)."""
    hi = inp.hourly
    if hi is None or not hi.V:
        return
    per_v = hi.D * 24
    w = hi.cell_weight

    def rule(m, v):
        cells = range(v * per_v, (v + 1) * per_v)
        return _lin([w[h] for h in cells] + [-hi.cycles_per_year],
                    [m.discharge[h] for h in cells] + [m.storage_mwh[int(hi.site[v])]]) <= 0
    m.storage_throughput = pyo.Constraint(range(hi.V), rule=rule)


def add_grid_import(m, inp: SitingInputs, ix: ModelIndex) -> None:
    """import[v,d,t] <= sum_c pue[k,c] it[k,c]   (the grid serves the load only; variable k, energy.grid_import)."""
    hi = inp.hourly
    if hi is None or not hi.grid:
        return
    pue = inp.load_pue()
    site = hi.site[hi.cell_site]

    def rule(m, h):
        k = int(site[h])
        vs, cs = _it_sum(m, ix, k, coefs=pue[k])
        return _lin([1.0] + [-c for c in cs], [m.grid_import[h]] + vs) <= 0
    m.grid_import_load = pyo.Constraint(range(hi.H), rule=rule)


def add_cfe(m, inp: SitingInputs, ix: ModelIndex) -> None:
    """sum_h w_h import[h] <= (1 - T) 24 W sum_{k,c} pue[k,c] it[k,c]   (24/7 carbon-free share T; plan, per site)."""
    hi = inp.hourly
    if hi is None or not hi.grid or (hi.cfe_target is None and hi.cfe_site_target is None):
        return
    pue = inp.load_pue()
    w = hi.cell_weight
    hours = 24.0 * float(hi.weight_days.sum())  # hours a year the representative days stand for
    per_v = hi.D * 24

    def row(cells, sites, target):
        vs = [m.grid_import[h] for h in cells]
        cs = [w[h] for h in cells]
        for k in sites:
            its, coefs = _it_sum(m, ix, int(k), coefs=pue[k])
            vs += its
            cs += [-(1.0 - target) * hours * c for c in coefs]
        return _lin(cs, vs) <= 0
    if hi.cfe_target is not None:
        m.cfe_plan = pyo.Constraint(expr=row(range(hi.H), range(ix.K), hi.cfe_target))
    if hi.cfe_site_target is not None:
        m.cfe_site = pyo.Constraint(range(hi.V), rule=lambda m, v: row(
            range(v * per_v, (v + 1) * per_v), [hi.site[v]], hi.cfe_site_target))


def add_overbuild(m, inp: SitingInputs, ix: ModelIndex) -> None:
    """overbuild_mw[k] <= overbuild_max_mw[k] * open[k]   (extra renewable MW only at an open site)."""
    if inp.hourly is None or not hasattr(m, "overbuild_mw") or not len(m.overbuild_mw):
        return
    top = dict(zip(inp.hourly.site.tolist(), inp.hourly.overbuild_max_mw))
    m.overbuild_open = pyo.Constraint(list(m.overbuild_mw.keys()), rule=lambda m, k: _lin(
        [1.0, -top[k]], [m.overbuild_mw[k], m.open[k]]) <= 0)


def add_backhaul(m, inp: SitingInputs, ix: ModelIndex) -> None:
    """fiber[k] <= open[k]; serve[r,k,fib] <= a D_r fiber[k]; g sum serve[.,k,sat] + g_t train_sat[k] <= u sat_units[k].

    With training traffic (``training_gbps_per_mw`` g_t > 0) a training site carries it over its
    lateral or by satellite: ``train[k] - train_sat[k] <= U_k fiber[k]``.
    """
    site = inp.arcs["site"].to_numpy()
    m.fiber_open = pyo.Constraint(ix.fiber_sites.tolist(), rule=lambda m, k: m.fiber[k] <= m.open[k])
    m.fiber_link = pyo.Constraint(ix.fiber_arcs.tolist(), rule=lambda m, a: _lin(
        [1.0, -ix.serve_ub[a]], [m.serve[a], m.fiber[int(site[a])]]) <= 0)
    by_sat = hasattr(m, "train_sat")

    def rule_sat(m, k):
        arcs = ix.sat_by_site[k]
        vs = [m.serve[a] for a in arcs] + [m.sat_units[k]] + ([m.train_sat[k]] if by_sat else [])
        cs = [inp.gbps_per_mw] * len(arcs) + [-inp.sat_unit_gbps] + ([inp.training_gbps_per_mw] if by_sat else [])
        return _lin(cs, vs) <= 0
    m.sat_capacity = pyo.Constraint(ix.sat_sites.tolist(), rule=rule_sat)
    if not (_training_traffic(inp) and hasattr(m, "train")):
        return
    by_fiber = "fiber" in inp.training_links
    ub = np.minimum(ix.max_it, inp.training_mw)

    def rule_train(m, k):
        vs = [m.train[k]] + ([m.train_sat[k]] if by_sat else []) + ([m.fiber[k]] if by_fiber else [])
        cs = [1.0] + ([-1.0] if by_sat else []) + ([-ub[k]] if by_fiber else [])
        return _lin(cs, vs) <= 0
    m.training_backhaul = pyo.Constraint(range(ix.K), rule=rule_train)


def add_resilience(m, inp: SitingInputs, ix: ModelIndex) -> None:
    """sum_b serve[r,k,b] <= alpha D_r open[k]   (strong linking; no site serves > alpha of r)."""
    site = inp.arcs["site"].to_numpy()

    def rule(m, p):
        arcs = ix.pair_arcs[p]
        return _lin([1.0] * len(arcs) + [-ix.serve_ub[arcs[0]]],
                    [m.serve[a] for a in arcs] + [m.open[int(site[arcs[0]])]]) <= 0
    m.resilience = pyo.Constraint(range(len(ix.pair_arcs)), rule=rule)


def add_n_minus_1(m, inp: SitingInputs, ix: ModelIndex) -> None:
    """sum_{k not in g} y_g[r,k] >= beta sum_{k,b} serve[r,k,b];  sum_r y_g[r,k] <= sum_c it[k,c] - train[k]  (all g).

    Recourse flows y_g (``backup``) re-assign each region's inference after the whole group g
    fails, over latency-eligible pairs to surviving sites, within their IT capacity left after
    training (training keeps running). No binaries and no big-M: when no site of g is open,
    the plan's own flows are a feasible y_g, so every block can stay switched on. Exact: the
    rows hold iff the re-assignment LP of :mod:`siting.resilience` is feasible for every g.
    Backhaul capacity is not re-checked after a failure.
    """
    n1 = n_minus_1_layout(inp)
    if n1 is None or not n1.n:
        return
    beta = inp.n_minus_1_share
    training = hasattr(m, "train")
    region = n1.pair_region[n1.pair]
    site = n1.pair_site[n1.pair]
    G = len(n1.groups)
    cover_of = _groups(n1.block * ix.R + region, G * ix.R)
    cover = [i for i in range(G * ix.R) if len(cover_of[i])]
    hold_of = _groups(n1.block * ix.K + site, G * ix.K)
    hold = [i for i in range(G * ix.K) if len(hold_of[i])]

    def rule_cover(m, i):
        arcs = ix.by_region[i % ix.R]
        ys = cover_of[i]
        return _lin([1.0] * len(ys) + [-beta] * len(arcs),
                    [m.backup[j] for j in ys] + [m.serve[a] for a in arcs]) >= 0
    m.n1_cover = pyo.Constraint(cover, rule=rule_cover)

    def rule_hold(m, i):
        k = i % ix.K
        ys = hold_of[i]
        vs, cs = _it_sum(m, ix, k)
        vs = [m.backup[j] for j in ys] + vs + ([m.train[k]] if training else [])
        cs = [1.0] * len(ys) + [-c for c in cs] + ([1.0] if training else [])
        return _lin(cs, vs) <= 0
    m.n1_capacity = pyo.Constraint(hold, rule=rule_hold)


def add_water(m, inp: SitingInputs, ix: ModelIndex) -> None:
    """sum_c water[k,c] it[k,c] <= water_limit[k]   (m3 a year; sites with a limit)."""
    limited = inp.water_limited()
    if not limited.size:
        return
    water, limit = inp.water_m3_per_mw_year, inp.water_limit_m3_per_year

    def rule(m, k):
        vs, cs = _it_sum(m, ix, k, coefs=water[k])
        return _lin(cs, vs) <= limit[k]
    m.water = pyo.Constraint(limited.tolist(), rule=rule)


def add_max_sites(m, inp: SitingInputs, ix: ModelIndex) -> None:
    """sum_k open[k] <= max_sites   (optional)."""
    if inp.max_sites is not None:
        m.max_sites = pyo.Constraint(expr=_lin([1.0] * ix.K, m.open.values()) <= inp.max_sites)


def add_objective(m, inp: SitingInputs, ix: ModelIndex) -> None:
    """min PV lifetime cost: site + IT (by cooling) + fiber + satellite + arc + unmet (M$)."""
    u = inp.unit_costs()
    coefs = list(u.open) + list(u.it.ravel())
    vs = list(m.open.values()) + list(m.it.values())
    coefs += list(u.fiber[ix.fiber_sites]) + list(u.sat_unit[ix.sat_sites])
    vs += list(m.fiber.values()) + list(m.sat_units.values())
    nz = np.flatnonzero(u.serve)
    coefs += list(u.serve[nz])
    vs += [m.serve[a] for a in nz]
    if hasattr(m, "unmet"):
        coefs += [u.unmet] * ix.R
        vs += list(m.unmet.values())
    if inp.hourly is not None and inp.hourly.V:
        for name, unit in (("storage_mwh", u.storage_mwh), ("storage_mw", u.storage_mw),
                           ("overbuild_mw", u.overbuild_mw)):
            var = getattr(m, name)
            coefs += [unit[k] for k in var.keys()]
            vs += list(var.values())
        coefs += list(u.charge) + list(u.discharge)
        vs += list(m.charge.values()) + list(m.discharge.values())
        if hasattr(m, "grid_import"):
            coefs += list(u.grid_import)
            vs += list(m.grid_import.values())
    m.cost = pyo.Objective(expr=_lin(coefs, vs), sense=pyo.minimize)


FAMILIES = (add_demand, add_training, add_capacity, add_modules, add_cooling,
            add_cooling_density, add_power, add_backhaul, add_resilience, add_max_sites)
# families of options that are off by default, each with its hand-solved tests in its own test
# module (tests/test_resilience.py, tests/test_water.py); build_model runs them after FAMILIES
OPTION_FAMILIES = (add_n_minus_1, add_water)
# hourly energy on representative days (issue 12): each returns at once without ``inputs.hourly``
ENERGY_FAMILIES = (add_climate_power, add_hourly_balance, add_storage, add_storage_capacity, add_storage_throughput,
                   add_overbuild, add_grid_import, add_cfe)


def build_model(inp: SitingInputs) -> pyo.ConcreteModel:
    """Build the siting MILP from inputs: variables, every constraint family, objective."""
    ix = ModelIndex.of(inp)
    m = pyo.ConcreteModel(name="siting")
    m._index = ix
    with _no_gc():
        add_variables(m, inp, ix)
        for family in FAMILIES + OPTION_FAMILIES + ENERGY_FAMILIES:
            family(m, inp, ix)
        add_objective(m, inp, ix)
    return m


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


@dataclass(frozen=True)
class Compiled:
    """The model as solver arrays plus, per component, the column of each index (-1: absent)."""

    sf: StandardForm
    columns: dict[str, np.ndarray]
    keys: dict[str, np.ndarray]
    rows: dict[str, np.ndarray]  # constraint family -> its rows in the matrix
    built_by: str = "pyomo"  # or "numpy": siting.assemble wrote the same arrays directly

    def mask(self, component: str) -> np.ndarray:
        """Boolean mask of the columns of ``component`` (e.g. the sites' open binaries)."""
        if component not in self.columns:
            raise KeyError(f"the model has no component {component!r} (has: {', '.join(self.columns)})")
        out = np.zeros(self.sf.shape[1], bool)
        cols = self.columns[component]
        out[cols[cols >= 0]] = True
        return out

    @property
    def open_mask(self) -> np.ndarray:
        """The site-opening binaries: what the ``lp_start`` strategy restricts."""
        return self.mask("open")

    @property
    def support_mask(self) -> np.ndarray:
        """The site-level binaries (open, fiber lateral) ``lp_start`` first fixes to the LP's support."""
        return self.open_mask | (self.mask("fiber") if "fiber" in self.columns else False)

    @property
    def lazy_rows(self) -> np.ndarray:
        """The per-arc linking rows (resilience share, fiber link): one per arc, seldom binding, so
        the LP relaxation adds them only where its solution breaks them (measured: without them the
        (1,000, 10,000) LP takes 10 s, not 460 s, and bounds within 0.12 % of it)."""
        out = np.zeros(self.sf.shape[0], bool)
        for name in ("resilience", "fiber_link"):
            out[self.rows.get(name, np.zeros(0, np.int64))] = True
        return out

    def values(self, component: str, x: np.ndarray) -> np.ndarray:
        cols = self.columns.get(component)
        if cols is None:
            return np.zeros(0)
        return np.where(cols >= 0, x[np.maximum(cols, 0)], 0.0)


def compile_model(model: pyo.ConcreteModel) -> Compiled:
    """Compile the linear model to :class:`StandardForm` arrays (Pyomo's standard-form compiler)."""
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
    return Compiled(sf, columns, keys, rows)


def compile_inputs(inp: SitingInputs) -> Compiled:
    """The model of ``inp`` as solver arrays, by the cheapest exact way.

    :func:`siting.assemble.assemble` writes the arrays of this module's families with numpy
    (~100x faster than the Pyomo build and compile; tests/test_assemble.py proves them equal);
    for inputs it does not cover, :func:`build_model` + :func:`compile_model`, the Pyomo model
    freed before returning. ``sf.seconds`` is the compile (or the whole assembly).
    """
    from .assemble import NotCovered, assemble

    try:
        return assemble(inp)
    except NotCovered:
        pass
    model = build_model(inp)
    comp = compile_model(model)
    del model  # the arrays are all HiGHS needs: free the Pyomo objects before solving
    return comp


_TOL = 1e-6


def _by_site(comp: Compiled, name: str, x: np.ndarray, K: int) -> np.ndarray:
    """Values of a site-keyed component spread over 0..K-1 (0 where it has no variable)."""
    out = np.zeros(K)
    if name in comp.columns and comp.keys[name].size:
        out[comp.keys[name].astype(np.int64)] = comp.values(name, x)
    return out


def read_decisions(comp: Compiled, inp: SitingInputs, x: np.ndarray) -> Decisions:
    """The solver's vector ``x`` as :class:`Decisions` (solver noise below 1e-6 MW removed)."""
    K, C, R = len(inp.sites), len(inp.cooling), len(inp.regions)
    clean = lambda v: np.where(np.abs(v) > _TOL, v, 0.0) + 0.0  # noqa: E731
    it = clean(comp.values("it", x).reshape(K, C))
    is_open = comp.values("open", x) > 0.5
    cool = comp.values("cool", x).reshape(K, C) if "cool" in comp.columns else np.ones((K, C))
    cooling = np.where(is_open, cool.argmax(axis=1), -1)
    modules = np.round(comp.values("modules", x)) + 0.0 if "modules" in comp.columns else np.zeros(K)
    return Decisions(
        open=is_open, modules=modules, cooling=cooling, it_mw=it,
        serve_mw=clean(comp.values("serve", x)),
        train_mw=clean(comp.values("train", x)) if "train" in comp.columns else np.zeros(K),
        train_sat_mw=clean(comp.values("train_sat", x)) if "train_sat" in comp.columns else np.zeros(K),
        fiber=_by_site(comp, "fiber", x, K) > 0.5,
        sat_units=np.round(_by_site(comp, "sat_units", x, K)) + 0.0,
        unmet_mw=clean(comp.values("unmet", x)) if "unmet" in comp.columns else np.zeros(R),
        backup_mw=_backup_table(inp, clean(comp.values("backup", x))),
        storage_mwh=clean(_by_site(comp, "storage_mwh", x, K)),
        storage_mw=clean(_by_site(comp, "storage_mw", x, K)),
        overbuild_mw=clean(_by_site(comp, "overbuild_mw", x, K)),
        charge_mw=clean(comp.values("charge", x)), discharge_mw=clean(comp.values("discharge", x)),
        soc_mwh=clean(comp.values("soc", x)), import_mw=clean(comp.values("grid_import", x)))


def _backup_table(inp: SitingInputs, values: np.ndarray) -> np.ndarray:
    """The backup variables as a (blocks, arcs) table, each pair's flow on its first arc."""
    n1 = n_minus_1_layout(inp)
    if n1 is None or not n1.n:
        return np.zeros((0, len(inp.arcs)))
    out = np.zeros((len(n1.groups), len(inp.arcs)))
    out[n1.block, n1.pair_arc[n1.pair]] = values
    return out


def start_vector(comp: Compiled, inp: SitingInputs, dec: Decisions) -> np.ndarray:
    """A full column vector for HiGHS from a plan (the inverse of :func:`read_decisions`)."""
    K, C = len(inp.sites), len(inp.cooling)
    if dec.shape != {"K": K, "C": C, "A": len(inp.arcs), "R": len(inp.regions)}:
        raise ValueError(f"the plan's axes {dec.shape} do not match the inputs'")
    one_hot = np.zeros((K, C))
    one_hot[np.flatnonzero(dec.open), dec.cooling[dec.open]] = 1.0
    per_index = {"open": dec.open, "it": dec.it_mw.ravel(), "serve": dec.serve_mw,
                 "modules": dec.modules, "cool": one_hot.ravel(), "train": dec.train_mw,
                 "hosts_training": dec.hosts_training, "unmet": dec.unmet_mw, "train_sat": dec.train_sat_mw,
                 "charge": dec.charge_mw, "discharge": dec.discharge_mw, "soc": dec.soc_mwh,
                 "grid_import": dec.import_mw}
    if "backup" in comp.columns:
        n1 = n_minus_1_layout(inp)
        known = dec.backup_mw.shape[0] == len(n1.groups)  # a plan without N-1 flows starts them at 0
        per_index["backup"] = dec.backup_mw[n1.block, n1.pair_arc[n1.pair]] if known else np.zeros(n1.n)
    by_site = {"fiber": dec.fiber, "sat_units": dec.sat_units, "storage_mwh": dec.storage_mwh,
               "storage_mw": dec.storage_mw, "overbuild_mw": dec.overbuild_mw}
    return _scatter(comp, per_index, by_site)


def _scatter(comp: Compiled, per_index: dict, by_site: dict) -> np.ndarray:
    """A column vector from values per component: in the component's index order (``per_index``)
    or per site 0..K-1 for components indexed by a subset of sites (``by_site``); other columns 0."""
    out = np.zeros(comp.sf.shape[1])
    for name, cols in comp.columns.items():
        if name in by_site:
            vals = np.asarray(by_site[name], float)[comp.keys[name].astype(np.int64)]
        elif name in per_index:
            vals = np.broadcast_to(np.asarray(per_index[name], float), cols.shape)
        else:
            continue
        used = cols >= 0
        out[cols[used]] = vals[used]
    return out


def objective_vector(comp: Compiled, inp: SitingInputs) -> np.ndarray:
    """The cost of every column for ``inp`` (same structure): the in-place re-solve's ``c``."""
    u = inp.unit_costs()
    per_index = {"open": u.open, "it": u.it.ravel(), "serve": u.serve, "charge": u.charge,
                 "discharge": u.discharge, "grid_import": u.grid_import,
                 "unmet": u.unmet if u.unmet is not None else 0.0}
    by_site = {"fiber": u.fiber, "sat_units": u.sat_unit, "storage_mwh": u.storage_mwh,
               "storage_mw": u.storage_mw, "overbuild_mw": u.overbuild_mw}
    return _scatter(comp, per_index, by_site)


def structure_key(inp: SitingInputs) -> str:
    """A hash of everything that shapes the matrix (not the costs, not the max-sites bound).

    Two inputs with the same key compile to the same rows, columns and coefficients, so one can
    be re-solved in place from the other by :func:`objective_vector` and a row-bound change.
    """
    import hashlib

    h = hashlib.sha256()
    arcs = inp.arcs
    for frame, cols in ((inp.sites, ["firm_mw", "max_it_mw"]), (inp.regions, ["inference_mw"]),
                        (arcs, ["region", "site"]), (inp.cooling, ["pue", "carries_training",
                                                                  "carries_inference"])):
        h.update(np.ascontiguousarray(frame[cols].to_numpy(float)).tobytes())
    h.update("|".join(arcs["link"].astype(str)).encode())
    h.update(repr((inp.sat_unit_gbps, inp.gbps_per_mw, inp.training_mw, inp.training_min_cluster_mw,
                   inp.module_mw, inp.resilience_max_share, inp.unmet_cost_musd_per_mw is None,
                   inp.max_sites is None)).encode())
    if _training_traffic(inp):  # only with training traffic on, so other keys stay as they were
        h.update(repr((inp.training_gbps_per_mw, tuple(inp.training_links))).encode())
    n1 = n_minus_1_layout(inp)
    if n1 is not None:  # only with N-1 on, so keys without it stay as they were
        h.update(repr(inp.n_minus_1_share).encode() + inp.failure_groups().astype(np.int64).tobytes()
                 + n1.groups.astype(np.int64).tobytes())
    if inp.climate_pue_peak is not None:
        h.update(np.ascontiguousarray(inp.climate_pue_peak, float).tobytes())
    limited = inp.water_limited()
    if limited.size:  # only with a water limit, so other keys stay as they were
        h.update(limited.tobytes() + np.ascontiguousarray(inp.water_limit_m3_per_year[limited]).tobytes()
                 + np.ascontiguousarray(inp.water_m3_per_mw_year[limited], float).tobytes())
    if inp.hourly is not None:
        hi = inp.hourly
        for a in (hi.site, hi.cf, hi.available_mw, hi.overbuild_max_mw, hi.weight_days):
            h.update(np.ascontiguousarray(a, float).tobytes())
        h.update(repr((hi.eta_charge, hi.eta_discharge, hi.cycles_per_year)).encode())
        if hi.grid:  # only with grid import on, so other keys stay as they were
            h.update(repr(("grid", hi.cfe_target, hi.cfe_site_target)).encode())
    return h.hexdigest()


def in_place_update(comp: Compiled, inp: SitingInputs) -> tuple[np.ndarray, list[tuple]]:
    """Costs and row bounds that turn ``comp`` into the model of ``inp`` (same structure).

    Returns the new cost vector and ``(rows, lower, upper)`` changes; the caller checks
    :func:`structure_key` first.
    """
    changes = []
    if inp.max_sites is not None and "max_sites" in comp.rows:
        rows = comp.rows["max_sites"]
        changes.append((rows, np.full(rows.size, -np.inf), np.full(rows.size, float(inp.max_sites))))
    return objective_vector(comp, inp), changes
