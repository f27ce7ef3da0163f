"""THE statement of the siting MILP: its variables (with their costs) and one function per
constraint family, each returning its row blocks on named variable families.

Every family is stated here once, its math on the first line of its docstring. An absent family
returns no rows. The standard form for HiGHS, the named Pyomo model a user can inspect and
extend, the size count of the memory check, the structure key and the in-place updates are all
derived from these records by generic code (:mod:`siting.model.compile`,
:mod:`siting.model.pyomo`); none of them knows a family. A new family is one function here,
listed in :data:`FAMILIES`, plus its hand-solved test.

Layout: arcs are positions 0..A-1 of ``inputs.arcs`` (latency-eligible arcs only), the
per-site-and-cooling columns ``it`` and ``cool`` are flat ``k * C + c``; hourly cells ``h`` follow
:class:`~siting.energy.storage.HourlyInputs`. Term positions (``pos``) fix the order of the terms in a
row, and so the column order of the standard form (first seen, as Pyomo's compiler walks).
"""

from __future__ import annotations

import numpy as np

from ..inputs.inputs import SitingInputs
from .blocks import Rows, Var, grouped, rows, terms
from .layout import Layout, n_minus_1_layout, training_traffic

__all__ = ["variables", "FAMILIES", "hourly_on", "math_table"]


def hourly_on(inp: SitingInputs):
    """The hourly inputs when hourly energy has variable sites, else ``None``."""
    hi = inp.hourly
    return hi if hi is not None and hi.V else None


def variables(inp: SitingInputs, ix: Layout) -> dict[str, Var]:
    """Decisions and their PV costs (M$): open, IT MW by cooling, fiber, satellite units, serve
    (eligible arcs only), unmet; with hourly energy storage, overbuild, charge, discharge, import;
    then modules, cooling choice, training, training by satellite, N-1 recourse, state of charge.

    Declared in the order the objective lists them; a family that is off has no variable."""
    K, C, R = ix.K, ix.C, ix.R
    u = inp.unit_costs()
    out: dict[str, Var] = {}
    per, P = inp.periods, ix.P

    def var(name, keys, upper, integer=False, cost=None, cost_at=None):
        keys = np.asarray(keys, np.int64)
        upper = np.asarray(upper, float)
        upper = np.broadcast_to(upper, (P,) + keys.shape if upper.ndim > keys.ndim or P > 1 else keys.shape)
        upper = upper.reshape(-1).copy()
        if np.isnan(upper).any():
            raise ValueError(f"the model's variable {name!r} has a NaN upper bound at "
                             f"{np.flatnonzero(np.isnan(upper))[:3].tolist()} (check the inputs' capacities)")
        if cost is not None:
            cost = np.broadcast_to(np.asarray(cost, float), keys.shape)
            if per is not None:  # each period's PV share of the lifetime cost (1 for one whole period)
                cost = (per.weight[:, None] * cost[None, :]).reshape(-1)
                cost_at = None if cost_at is None else (np.arange(P)[:, None] * len(keys) + cost_at).reshape(-1)
        if P > 1:  # keyed (period, key), period-major
            keys = np.column_stack([np.repeat(per.years, len(keys)), np.tile(keys, P)])
        out[name] = Var(name, keys, np.zeros(len(upper)), upper, integer, cost, cost_at)

    t = np.arange(P)[:, None]
    site_on = 1.0 if per is None else (t >= per.site_first[None, :]).astype(float)  # time to power
    lateral_on = 1.0 if per is None else site_on * (t >= per.fiber_first[None, :])

    traffic = training_traffic(inp)
    gbps = max(inp.gbps_per_mw, inp.training_gbps_per_mw) if traffic else inp.gbps_per_mw
    with np.errstate(divide="ignore", invalid="ignore"):
        sat_ub = np.ceil(gbps * ix.max_it / inp.sat_unit_gbps)
    var("open", np.arange(K), site_on, True, u.open)
    var("it", np.arange(K * C), np.repeat(ix.max_it, C), cost=u.it.ravel())
    var("fiber", ix.fiber_sites, lateral_on if per is None else lateral_on[:, ix.fiber_sites], True,
        u.fiber[ix.fiber_sites])
    var("sat_units", ix.sat_sites, sat_ub[ix.sat_sites], True, u.sat_unit[ix.sat_sites])
    var("serve", np.arange(ix.A), ix.serve_ub if per is None else ix.serve_ub_p, cost=u.serve,
        cost_at=np.flatnonzero(u.serve))
    if inp.unmet_cost_musd_per_mw is not None:
        var("unmet", np.arange(R), np.inf, cost=u.unmet)
    hi = hourly_on(inp)
    if hi is not None:
        if len(np.unique(hi.site)) != hi.V:
            raise ValueError("hourly energy: a variable site is listed twice")
        top = hi.max_power_mw()
        offered = hi.overbuild_max_mw > 0
        cell_top = top[hi.cell_site]
        var("storage_mwh", hi.site, 24 * top, cost=u.storage_mwh[hi.site])
        var("storage_mw", hi.site, top, cost=u.storage_mw[hi.site])
        var("overbuild_mw", hi.site[offered], hi.overbuild_max_mw[offered], cost=u.overbuild_mw[hi.site[offered]])
        var("charge", np.arange(hi.H), cell_top, cost=u.charge)
        var("discharge", np.arange(hi.H), cell_top, cost=u.discharge)
        if hi.grid:  # never more than the site's largest load (grid_import family)
            var("grid_import", np.arange(hi.H), (ix.max_it * inp.load_pue().max(axis=1))[hi.site[hi.cell_site]],
                cost=u.grid_import)
    if inp.module_mw:
        var("modules", np.arange(K), np.floor(ix.max_it / inp.module_mw + 1e-9), True)
    if C > 1:
        var("cool", np.arange(K * C), 1.0, True)
    if ix.training_p.max() > 0:
        train_ub = ix.train_ub_p
        var("train", np.arange(K), train_ub)
        var("hosts_training", np.arange(K), 1.0, True)
        if inp.training_shortfall_cost_musd_per_mw is not None:  # a scenario's recourse: training left unplaced
            var("train_short", np.zeros(1), ix.training_p[:, None], cost=inp.training_shortfall_cost_musd_per_mw)
        if traffic and "satellite" in inp.training_links:
            var("train_sat", np.arange(K), train_ub)
    n1 = n_minus_1_layout(inp)
    if n1 is not None and n1.n:
        var("backup", np.arange(n1.n), inp.n_minus_1_share * ix.demand_p[:, n1.pair_region[n1.pair]])  # per period
    if hi is not None:
        var("soc", np.arange(hi.H), 24 * cell_top)
    return out


# ---------------------------------------------------------------------------- families


def demand(inp, ix: Layout, vs) -> list[Rows]:
    """sum_{k,b} serve[r,k,b] + unmet[r] = inference_mw[r]   for every region r."""
    order, rank, counts = ix.by_region
    body = [terms("serve", ix.region[order], rank, order, 1.0)]
    if "unmet" in vs:
        body.append(terms("unmet", np.arange(ix.R), counts, np.arange(ix.R), 1.0))
    return [rows("demand", ix.R, body, eq=ix.demand_p)]


def training(inp, ix: Layout, vs) -> list[Rows]:
    """sum_k train[k] + train_short = training_mw;  L hosts[k] <= train[k] <= U_k hosts[k].

    ``train_short`` (training MW left unplaced, priced) exists only in a scenario's recourse
    (``inputs.training_shortfall_cost_musd_per_mw``): a severe drought can then leave too little
    usable IT for the training without making the scenario infeasible."""
    if "train" not in vs:
        return []
    k = np.arange(ix.K)
    ub = ix.train_ub_p
    total = [terms("train", np.zeros(ix.K), k, k, 1.0)]
    if "train_short" in vs:
        total.append(terms("train_short", np.zeros(1), ix.K, np.zeros(1), 1.0))
    return [rows("training_total", 1, total, eq=ix.training_p[:, None]),
            rows("training_upper", ix.K, [terms("train", k, 0, k, 1.0), terms("hosts_training", k, 1, k, -ub)],
                 le=0.0),
            rows("training_cluster", ix.K, [terms("hosts_training", k, 0, k, inp.training_min_cluster_mw),
                                            terms("train", k, 1, k, -1.0)], le=0.0)]


def capacity(inp, ix: Layout, vs) -> list[Rows]:
    """sum_{r,b} serve[r,k,b] + train[k] <= a_k sum_c it[k,c]   for every site k.

    ``a_k`` (``inputs.available_share``, 1 without it) is the share of the site's IT its firm
    power runs in a scenario: a drought that takes a share d of a basin's firm power leaves
    a = 1 - d of the IT built there usable (a recourse limit: the build rows keep the reference
    firm power). With chip generations (periods), the right side is the compute of the MW built
    by vintage, refreshed after their life (:meth:`~siting.model.layout.Layout.compute_terms`):
    serve and train are then in compute at the reference generation."""
    k = np.arange(ix.K)
    order, rank, counts = ix.by_site
    avail = 1.0 if inp.available_share is None else np.asarray(inp.available_share, float)[:, None]
    cap = ix.compute_terms(k, k, 0, -avail)  # IT MW, or its compute with chip generations
    n = len(cap) * ix.C
    body = cap + [terms("serve", ix.site[order], n + rank, order, 1.0)]
    if "train" in vs:
        body.append(terms("train", k, n + counts, k, 1.0))
    return [rows("capacity", ix.K, body, le=0.0)]


def modules(inp, ix: Layout, vs) -> list[Rows]:
    """sum_c it[k,c] = module_mw * modules[k]   (IT capacity comes in whole modules)."""
    if "modules" not in vs:
        return []
    k = np.arange(ix.K)
    return [rows("module_build", ix.K, [ix.it_terms(k, k, 0, 1.0),
                                        terms("modules", k, ix.C, k, -inp.module_mw)], eq=0.0)]


def cooling(inp, ix: Layout, vs) -> list[Rows]:
    """sum_c cool[k,c] = open[k];  it[k,c] <= M_k cool[k,c]   (one technology per open site)."""
    if "cool" not in vs:
        return []  # one technology: the power row already gives it[k] <= firm[k]/pue * open[k]
    K, C = ix.K, ix.C
    k, i = np.arange(K), np.arange(K * C)
    one = [terms("cool", np.repeat(k, C), np.tile(np.arange(C), K), i, 1.0), terms("open", k, C, k, -1.0)]
    link = [terms("it", i, 0, i, 1.0), terms("cool", i, 1, i, -np.repeat(ix.max_it, C))]
    return [rows("one_cooling", K, one, eq=0.0), rows("cooling_link", K * C, link, le=0.0)]


def cooling_density(inp, ix: Layout, vs) -> list[Rows]:
    """train[k] <= sum_{c carries training} it[k,c];  sum serve[.,k,.] <= sum_{c carries inference} it[k,c]."""
    cool = inp.cooling
    train_c = np.flatnonzero(cool["carries_training"].to_numpy(bool))
    inf_c = np.flatnonzero(cool["carries_inference"].to_numpy(bool))
    k = np.arange(ix.K)
    out = []
    if "train" in vs and len(train_c) < ix.C:
        n = len(train_c)
        cap = ix.compute_terms(k, k, 0, -1.0, train_c)
        out.append(rows("training_density", ix.K, cap + [terms("train", k, len(cap) * n, k, 1.0)], le=0.0))
        if "cool" in vs:  # hosts_training[k] <= sum_{c carries training} cool[k,c]
            idx = (k[:, None] * ix.C + train_c[None, :]).ravel()
            out.append(rows("training_cooling", ix.K, [
                terms("cool", np.repeat(k, n), np.tile(np.arange(n), ix.K), idx, -1.0),
                terms("hosts_training", k, n, k, 1.0)], le=0.0))
    if len(inf_c) < ix.C:
        order, rank, _ = ix.by_site
        cap = ix.compute_terms(k, k, 0, -1.0, inf_c)
        out.append(rows("inference_density", ix.K, cap + [
            terms("serve", ix.site[order], len(cap) * len(inf_c) + rank, order, 1.0)], le=0.0))
    return out


def power(inp, ix: Layout, vs) -> list[Rows]:
    """sum_c pue[c] * it[k,c] <= firm_mw[k] * open[k]   (firm power of the site's source)."""
    k = np.arange(ix.K)
    firm = inp.sites["firm_mw"].to_numpy(float)
    return [rows("power", ix.K, [ix.it_terms(k, k, 0, inp.cooling["pue"].to_numpy(float)),
                                 terms("open", k, ix.C, k, -firm)], le=0.0)]


def backhaul(inp, ix: Layout, vs) -> list[Rows]:
    """fiber[k] <= open[k]; serve[r,k,fib] <= a D_r fiber[k]; g sum serve[.,k,sat] + g_t train_sat[k] <= u sat_units[k];
    with training traffic, train[k] - train_sat[k] <= U_k fiber[k] and train_sat[k] <= train[k].

    With training traffic (``training_gbps_per_mw`` g_t > 0) a training site carries it over its
    lateral or by satellite, and no satellite carries training traffic a site does not make.
    """
    fs, ss = ix.fiber_sites, ix.sat_sites
    nf = len(fs)
    fiber_open = [terms("fiber", np.arange(nf), 0, np.arange(nf), 1.0), terms("open", np.arange(nf), 1, fs, -1.0)]
    fa = np.flatnonzero(ix.fiber)
    j = np.arange(len(fa))
    fiber_link = [terms("serve", j, 0, fa, 1.0),
                  terms("fiber", j, 1, np.searchsorted(fs, ix.site[fa]), -ix.serve_ub_p[:, fa])]
    sa = np.flatnonzero(ix.sat)  # sat_capacity: one row per satellite site, its arcs in arc order
    row_of = np.full(ix.K + 1, -1, np.int64)
    row_of[ss] = np.arange(len(ss))
    order, rank, counts = grouped(ix.site[sa], ix.K)
    n_at = counts[ss]
    r = np.arange(len(ss))
    sat = [terms("serve", row_of[ix.site[sa[order]]], rank, sa[order], inp.gbps_per_mw),
           terms("sat_units", r, n_at, r, -inp.sat_unit_gbps)]
    by_sat = "train_sat" in vs
    if by_sat:
        sat.append(terms("train_sat", r, n_at + 1, ss, inp.training_gbps_per_mw))
    out = [rows("fiber_open", nf, fiber_open, le=0.0), rows("fiber_link", len(fa), fiber_link, le=0.0),
           rows("sat_capacity", len(ss), sat, le=0.0)]
    if not (training_traffic(inp) and "train" in vs):
        return out
    by_fiber = "fiber" in inp.training_links
    k = np.arange(ix.K)
    ub = ix.train_ub_p
    body = [terms("train", k, 0, k, 1.0)]
    if by_sat:
        body.append(terms("train_sat", k, 1, k, -1.0))
    if by_fiber:  # fiber_sites is every site here
        body.append(terms("fiber", k, 1 + by_sat, k, -ub))
    out.append(rows("training_backhaul", ix.K, body, le=0.0))
    if by_sat:
        out.append(rows("training_sat_load", ix.K, [terms("train_sat", k, 0, k, 1.0),
                                                   terms("train", k, 1, k, -1.0)], le=0.0))
    return out


def resilience(inp, ix: Layout, vs) -> list[Rows]:
    """sum_b serve[r,k,b] <= alpha D_r open[k]   (strong linking; no site serves > alpha of r)."""
    pair = ix.region * ix.K + ix.site
    keys, pair_id = np.unique(pair, return_inverse=True)
    n_pairs = len(keys)
    not_fiber = np.bincount(pair_id, ~ix.fiber, n_pairs) > 0  # all-fiber pairs: linked by fiber_link
    row_of = np.cumsum(not_fiber) - 1
    order, rank, counts = grouped(pair_id, n_pairs)
    keep = not_fiber[pair_id[order]]
    first = order[np.cumsum(counts) - counts]  # first arc of each pair
    pk = np.flatnonzero(not_fiber)
    r = np.arange(len(pk))
    body = [terms("serve", row_of[pair_id[order[keep]]], rank[keep], order[keep], 1.0),
            terms("open", r, counts[pk], ix.site[first[pk]], -ix.serve_ub_p[:, first[pk]])]
    return [rows("resilience", len(pk), body, le=0.0)]


def max_sites(inp, ix: Layout, vs) -> list[Rows]:
    """sum_k open[k] <= max_sites   (optional)."""
    if inp.max_sites is None:
        return []
    k = np.arange(ix.K)
    return [rows("max_sites", 1, [terms("open", np.zeros(ix.K), k, k, 1.0)], le=inp.max_sites)]


def n_minus_1(inp, ix: Layout, vs) -> list[Rows]:
    """sum_{k not in g} y_g[r,k] >= beta sum_{k,b} serve[r,k,b];  sum_r y_g[r,k] <= sum_c it[k,c] - train[k]  (all g).

    Recourse flows y_g (``backup``) re-assign each region's inference after the whole group g
    fails, over latency-eligible pairs to surviving sites, within their IT capacity left after
    training (training keeps running). Every region with an arc has a cover row in every block,
    also when no eligible site survives g (then the row forbids serving it at all). No binaries
    and no big-M: when no site of g is open, the plan's own flows are a feasible y_g. Exact: the
    rows hold iff the re-assignment LP of the N-1 check is feasible for every g. Backhaul
    capacity is not re-checked after a failure.
    """
    n1 = n_minus_1_layout(inp)
    if n1 is None or not len(n1.groups):
        return []
    beta = inp.n_minus_1_share
    region = n1.pair_region[n1.pair]
    site = n1.pair_site[n1.pair]
    G, R, K = len(n1.groups), ix.R, ix.K
    j = np.arange(n1.n)
    ro, _, rcounts = ix.by_region
    # n1_cover over every (block, region with an arc) cell, in cell order
    cell = n1.block * R + region
    o, rank, counts = grouped(cell, G * R)
    cover = np.flatnonzero(counts | np.tile(rcounts > 0, G))
    row_of = np.full(G * R, -1, np.int64)
    row_of[cover] = np.arange(len(cover))
    ny = counts[cover]
    reg = cover % R
    n_arcs = rcounts[reg]
    rws = np.repeat(np.arange(len(cover)), n_arcs)
    starts = (np.cumsum(rcounts) - rcounts)[reg]
    within = np.arange(rws.size) - np.repeat(np.cumsum(n_arcs) - n_arcs, n_arcs)
    cover_body = [terms("backup", row_of[cell[o]], rank, j[o], 1.0),
                  terms("serve", rws, np.repeat(ny, n_arcs) + within, ro[np.repeat(starts, n_arcs) + within],
                        -beta)]
    # n1_capacity over the nonempty (block, site) cells
    cell = n1.block * K + site
    o, rank, counts = grouped(cell, G * K)
    hold = np.flatnonzero(counts)
    row_of = np.cumsum(counts > 0) - 1
    ny = counts[hold]
    ks = hold % K
    r = np.arange(len(hold))
    hold_body = [terms("backup", row_of[cell[o]], rank, j[o], 1.0), ix.it_terms(r, ks, ny, -1.0)]
    if "train" in vs:
        hold_body.append(terms("train", r, ny + ix.C, ks, 1.0))
    return [rows("n1_cover", len(cover), cover_body, ge=0.0), rows("n1_capacity", len(hold), hold_body, le=0.0)]


def water(inp, ix: Layout, vs) -> list[Rows]:
    """sum_c water[k,c] it[k,c] <= water_limit[k]   (m3 a year; sites with a limit)."""
    limited = inp.water_limited()
    if not limited.size:
        return []
    r = np.arange(len(limited))
    return [rows("water", len(limited), [ix.it_terms(r, limited, 0, inp.water_m3_per_mw_year[limited])],
                 le=inp.water_limit_m3_per_year[limited])]


def climate_power(inp, ix: Layout, vs) -> list[Rows]:
    """sum_c pue_peak[k,c] * it[k,c] <= firm_mw[k] * open[k]   (warmest-month PUE; sites where it exceeds pue[c])."""
    if inp.climate_pue_peak is None:
        return []
    peak = inp.load_pue()
    hot = np.flatnonzero((peak > inp.cooling["pue"].to_numpy(float)[None, :] + 1e-12).any(axis=1))
    firm = inp.sites["firm_mw"].to_numpy(float)
    r = np.arange(len(hot))
    return [rows("climate_power", len(hot), [ix.it_terms(r, hot, 0, peak[hot]),
                                             terms("open", r, ix.C, hot, -firm[hot])], le=0.0)]


def hourly_balance(inp, ix: Layout, vs) -> list[Rows]:
    """sum_c pue[k,c] it[k,c] + charge[h] - discharge[h] - import[h] - cf[h] overbuild[v] <= cf[h] avail[v]  (h: v,d,t).

    The load of a variable site is met every hour by its source (available MW plus overbuild, at
    the hour's capacity factor), its storage and, with ``energy.grid_import``, the grid."""
    hi = hourly_on(inp)
    if hi is None:
        return []
    pue = inp.load_pue()
    cf = hi.cf.ravel()
    v = hi.cell_site
    k = hi.site[v]
    h = np.arange(hi.H)
    C = ix.C
    body = [ix.it_terms(h, k, 0, pue[k]), terms("charge", h, C, h, 1.0), terms("discharge", h, C + 1, h, -1.0)]
    grid = "grid_import" in vs
    if grid:
        body.append(terms("grid_import", h, C + 2, h, -1.0))
    ob = vs["overbuild_mw"].keys
    at = np.isin(k, ob)
    sorter = np.argsort(ob)
    body.append(terms("overbuild_mw", h[at], C + 2 + grid, sorter[np.searchsorted(ob, k[at], sorter=sorter)],
                      -cf[at]))
    return [rows("hourly_balance", hi.H, body, le=cf * hi.available_mw[v])]


def storage(inp, ix: Layout, vs) -> list[Rows]:
    """soc[h] = soc[h-1, cyclic within the representative day] + eta_c charge[h] - discharge[h] / eta_d."""
    hi = hourly_on(inp)
    if hi is None:
        return []
    h = np.arange(hi.H)
    return [rows("soc_balance", hi.H, [
        terms("soc", h, 0, h, 1.0), terms("soc", h, 1, hi.previous_cell, -1.0),
        terms("charge", h, 2, h, -hi.eta_charge), terms("discharge", h, 3, h, 1.0 / hi.eta_discharge)], eq=0.0)]


def storage_capacity(inp, ix: Layout, vs) -> list[Rows]:
    """soc[h] <= storage_mwh[k];  charge[h] + discharge[h] <= storage_mw[k]   (k the cell's site)."""
    hi = hourly_on(inp)
    if hi is None:
        return []
    h, v = np.arange(hi.H), hi.cell_site  # storage keys are hi.site: key position = v
    return [rows("soc_capacity", hi.H, [terms("soc", h, 0, h, 1.0), terms("storage_mwh", h, 1, v, -1.0)], le=0.0),
            rows("storage_power", hi.H, [terms("charge", h, 0, h, 1.0), terms("discharge", h, 1, h, 1.0),
                                         terms("storage_mw", h, 2, v, -1.0)], le=0.0)]


def storage_throughput(inp, ix: Layout, vs) -> list[Rows]:
    """sum_{d,t} w_d discharge[v,d,t] <= cycle_life / life_years * mwh[k]   (cycle life as a throughput limit)."""
    hi = hourly_on(inp)
    if hi is None:
        return []
    per_v = hi.D * 24
    h, v = np.arange(hi.H), np.arange(hi.V)
    return [rows("storage_throughput", hi.V, [
        terms("discharge", hi.cell_site, h % per_v, h, hi.cell_weight),
        terms("storage_mwh", v, per_v, v, -hi.cycles_per_year)], le=0.0)]


def overbuild(inp, ix: Layout, vs) -> list[Rows]:
    """overbuild_mw[k] <= overbuild_max_mw[k] * open[k]   (extra renewable MW only at an open site).

    ``overbuild_max_mw`` = ``energy.overbuild_max_share`` x nameplate x the source's
    ``power_share_available`` (:mod:`siting.energy.storage`)."""
    if "overbuild_mw" not in vs or not vs["overbuild_mw"].n:
        return []
    hi = inp.hourly
    offered = hi.overbuild_max_mw > 0
    ob = hi.site[offered]
    r = np.arange(len(ob))
    return [rows("overbuild_open", len(ob), [terms("overbuild_mw", r, 0, r, 1.0),
                                             terms("open", r, 1, ob, -hi.overbuild_max_mw[offered])], le=0.0)]


def grid_import(inp, ix: Layout, vs) -> list[Rows]:
    """import[v,d,t] <= sum_c pue[k,c] it[k,c]   (the grid serves the load only; variable k, energy.grid_import)."""
    if "grid_import" not in vs:
        return []
    hi = inp.hourly
    k = hi.site[hi.cell_site]
    h = np.arange(hi.H)
    return [rows("grid_import_load", hi.H, [terms("grid_import", h, 0, h, 1.0),
                                            ix.it_terms(h, k, 1, -inp.load_pue()[k])], le=0.0)]


def cfe(inp, ix: Layout, vs) -> list[Rows]:
    """sum_h w_h import[h] <= (1 - T) 24 W sum_{k,c} pue[k,c] it[k,c]   (24/7 carbon-free share T; plan, per site)."""
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
        out.append(rows("cfe_plan", 1, [terms("grid_import", np.zeros(hi.H), h, h, w),
                                        ix.it_terms(0, k, hi.H + k * ix.C, -(1.0 - hi.cfe_target) * hours * pue)],
                        le=0.0))
    if hi.cfe_site_target is not None:  # one row per variable site: its cells' import, then its IT
        v = np.arange(hi.V)
        out.append(rows("cfe_site", hi.V, [terms("grid_import", hi.cell_site, h % per_v, h, w),
                                           ix.it_terms(v, hi.site, per_v,
                                                       -(1.0 - hi.cfe_site_target) * hours * pue[hi.site])],
                        le=0.0))
    return out


# ---------------------------------------------------------------------------- across periods
# Families stated across the period axis (with ``inputs.periods``): variables keyed (period, key)
# sit at position t * n + i (keyed by key alone with one period); none has a row without periods.


def _at(vs, name: str, P: int, t, i):
    """Position of (period t, key position i) in the period-keyed family ``name``."""
    return np.asarray(t, np.int64) * (vs[name].n // P) + np.asarray(i, np.int64)


def build_order(inp, ix: Layout, vs) -> list[Rows]:
    """x[t,i] - x[t-1,i] >= 0   for x in open, it, modules, cool, fiber   (built once, kept: cumulative)."""
    P = ix.P
    if P == 1:
        return []
    out = []
    for name in ("open", "it", "modules", "cool", "fiber"):
        if name not in vs:
            continue
        n = vs[name].n // P
        r = np.arange((P - 1) * n)
        t, i = r // n + 1, r % n
        out.append(rows(f"keep_{name}", len(r), [terms(name, r, 0, _at(vs, name, P, t, i), 1.0),
                                                 terms(name, r, 1, _at(vs, name, P, t - 1, i), -1.0)],
                        ge=0.0, across_periods=True))
    return out


def growth(inp, ix: Layout, vs) -> list[Rows]:
    """sum_c it[t,k,c] - (1 + y_t R) sum_c it[t-1,k,c] <= y_t S   (ramp R, seed S per year; y_t years built; it[-1] = 0)."""  # noqa: E501
    per = inp.periods
    if per is None or (per.ramp_per_year is None and per.seed_mw_per_year is None):
        return []
    P, K, C = ix.P, ix.K, ix.C
    ramp, seed = per.ramp_per_year or 0.0, per.seed_mw_per_year or 0.0
    r = np.arange(P * K)
    t, k = r // K, r % K
    c = np.arange(C)
    rr = np.repeat(r, C)
    now = _at(vs, "it", P, np.repeat(t, C), (np.repeat(k, C) * C + np.tile(c, P * K)))
    body = [terms("it", rr, np.tile(c, P * K), now, 1.0)]
    later = t > 0
    rl = np.repeat(r[later], C)
    before = _at(vs, "it", P, np.repeat(t[later] - 1, C), np.repeat(k[later], C) * C + np.tile(c, int(later.sum())))
    body.append(terms("it", rl, C + np.tile(c, int(later.sum())), before,
                      -(1.0 + per.build_years[np.repeat(t[later], C)] * ramp)))
    return [rows("growth", P * K, body, le=per.build_years[t] * seed, across_periods=True)]


def jurisdiction_cap(inp, ix: Layout, vs) -> list[Rows]:
    """sum_{k in j, c} pue[c] (it[t,k,c] - it[t-1,k,c]) <= y_t cap_j   (new MW of power per jurisdiction j and period t)."""  # noqa: E501
    per = inp.periods
    if per is None or per.jurisdiction is None or per.jurisdiction_cap_mw_per_year is None:
        return []
    P, C = ix.P, ix.C
    pue = inp.cooling["pue"].to_numpy(float)
    J = len(per.jurisdiction_cap_mw_per_year)
    capped = np.flatnonzero(per.jurisdiction >= 0)
    order = capped[np.argsort(per.jurisdiction[capped], kind="stable")]
    _, rank, _ = grouped(per.jurisdiction[order], J)
    body = []
    for t in range(P):
        row = t * J + np.repeat(per.jurisdiction[order], C)
        pos = np.repeat(rank, C) * 2 * C + np.tile(np.arange(C), len(order))
        flat = np.repeat(order, C) * C + np.tile(np.arange(C), len(order))
        coef = np.tile(pue, len(order))
        body.append(terms("it", row, pos, _at(vs, "it", P, t, flat), coef))
        if t:
            body.append(terms("it", row, pos + C, _at(vs, "it", P, t - 1, flat), -coef))
    bound = (per.build_years[:, None] * per.jurisdiction_cap_mw_per_year[None, :]).ravel()
    return [rows("jurisdiction_cap", P * J, body, le=bound, across_periods=True)]


def module_delivery(inp, ix: Layout, vs) -> list[Rows]:
    """sum_k modules[t,k] - modules[t-1,k] <= y_t m   (modules delivered a year, all sites)."""
    per = inp.periods
    if per is None or per.modules_per_year is None or "modules" not in vs:
        return []
    P, K = ix.P, ix.K
    body = []
    for t in range(P):
        k = np.arange(K)
        body.append(terms("modules", np.full(K, t), k, _at(vs, "modules", P, t, k), 1.0))
        if t:
            body.append(terms("modules", np.full(K, t), K + k, _at(vs, "modules", P, t - 1, k), -1.0))
    return [rows("module_delivery", P, body, le=per.build_years * per.modules_per_year, across_periods=True)]


def satellite_cells(inp, ix: Layout, vs) -> list[Rows]:
    """g_d sum_{k in n} sum_r serve[r,k,sat] + g_t sum_{k in n} train_sat[k] <= cap[n,d]   (cell n, direction d);
    u sat_units[k] <= u ceil(B_k / u)   (no site buys more satellite units than its cell carries);
    g_d sum_r serve[r,k,sat] + g_t train_sat[k] <= cap[n(k),d] open[k];  open[k] <= modules[k]   (tightening).

    Satellite cells (``network.cell_capacity``, :mod:`siting.geo.cells`): the satellite traffic
    of every site in one ground cell shares the cell's capacity in each direction d (up: the
    responses a colony sends, g_up Gbps per MW; down: the prompts it receives). ``B_k`` =
    min_d max(g / g_d, 1) cap[cell(k), d] bounds the Gbps the units of site k can ever carry (g
    the Gbps per MW the units are sized on), so a site never buys more units than its cell holds.
    Rows are indexed by the flat (cell, direction) pair ``u * D + d`` over the cells that hold a
    satellite site; a period or scenario index is one more axis of ``cap`` and of that flat key.

    Two rows per satellite site make the LP relaxation as tight as the cells are small (measured
    on the default: without them it opens ~100 sites a little, each for its 2 Gbps of satellite,
    and HiGHS ends at 4.9 % after 2 minutes): ``sat_cell_open``, a site's own satellite traffic
    fits its cell only when it is open (the cell row linked to ``open``, like ``resilience``),
    and ``sat_cell_module``, an open satellite site holds at least one module (where IT comes in
    modules). Neither changes the optimum: a site that sends traffic is open, and an open site
    with no module serves nothing, so closing it is feasible and cheaper.
    """
    if inp.sat_cell is None or not len(ix.sat_sites):
        return []
    cap = np.asarray(inp.cell_gbps, float)  # [N, D], or [P, N, D]: one capacity per period
    D = cap.shape[-1]
    g_dir = np.array([inp.sat_up_gbps_per_mw, inp.sat_down_gbps_per_mw], float)[:D]
    ss = ix.sat_sites
    used = np.unique(inp.sat_cell[ss])
    U = len(used)
    row_of_cell = np.full(cap.shape[-2], -1, np.int64)
    row_of_cell[used] = np.arange(U)
    sa = np.flatnonzero(ix.sat)
    order, rank, counts = grouped(row_of_cell[inp.sat_cell[ix.site[sa]]], U)
    cell_row = row_of_cell[inp.sat_cell[ix.site[sa[order]]]]
    d = np.repeat(np.arange(D), len(sa))
    body = [terms("serve", np.tile(cell_row, D) * D + d, np.tile(rank, D), np.tile(sa[order], D), g_dir[d])]
    if "train_sat" in vs:  # keyed by every site: those of the used cells, after the cell's arcs
        o2, r2, _ = grouped(row_of_cell[inp.sat_cell[ss]], U)
        crow = row_of_cell[inp.sat_cell[ss[o2]]]
        d2 = np.repeat(np.arange(D), len(ss))
        body.append(terms("train_sat", np.tile(crow, D) * D + d2, np.tile(counts[crow] + r2, D),
                          np.tile(ss[o2], D), inp.training_gbps_per_mw))
    lead = cap.shape[:-2]  # () or (P,)
    out = [rows("sat_cell", U * D, body, le=cap[..., used, :].reshape(lead + (U * D,)))]
    traffic = training_traffic(inp) and "train_sat" in vs
    g = max(inp.gbps_per_mw, inp.training_gbps_per_mw) if traffic else inp.gbps_per_mw
    site_cap = cap[..., inp.sat_cell[ss], :]  # [(P,) S, D]
    with np.errstate(divide="ignore", invalid="ignore"):
        reach = np.where(g_dir > 0, np.maximum(g / g_dir, 1.0), np.inf) * site_cap
    most = np.ceil(reach.min(axis=-1) / inp.sat_unit_gbps - 1e-9) * inp.sat_unit_gbps
    keep = np.all(np.isfinite(most.reshape(-1, len(ss))), axis=0)
    r = np.arange(int(keep.sum()))
    out.append(rows("sat_cell_units", len(r), [terms("sat_units", r, 0, np.flatnonzero(keep), inp.sat_unit_gbps)],
                    le=most[..., keep]))
    # sat_cell_open: per satellite site and direction, its traffic <= its cell's capacity x open
    S = len(ss)
    row_of_site = np.full(ix.K, -1, np.int64)
    row_of_site[ss] = np.arange(S)
    o3, r3, c3 = grouped(row_of_site[ix.site[sa]], S)
    srow = row_of_site[ix.site[sa[o3]]]
    d3 = np.repeat(np.arange(D), len(sa))
    link = [terms("serve", np.tile(srow, D) * D + d3, np.tile(r3, D), np.tile(sa[o3], D), g_dir[d3])]
    j, dj = np.tile(np.arange(S), D), np.repeat(np.arange(D), S)  # row j * D + d
    if "train_sat" in vs:
        link.append(terms("train_sat", j * D + dj, c3[j], ss[j], inp.training_gbps_per_mw))
    link.append(terms("open", j * D + dj, c3[j] + 1, ss[j], -site_cap[..., j, dj]))
    out.append(rows("sat_cell_open", S * D, link, le=0.0))
    if "modules" in vs:
        s = np.arange(S)
        out.append(rows("sat_cell_module", S, [terms("open", s, 0, ss, 1.0), terms("modules", s, 1, ss, -1.0)],
                        le=0.0))
    return out


# the statement, in row order: every family of the model, each returning no rows when it is off
FAMILIES = (demand, training, capacity, modules, cooling, cooling_density, power, backhaul, resilience,
            max_sites, n_minus_1, water, climate_power, hourly_balance, storage, storage_capacity,
            storage_throughput, overbuild, grid_import, cfe,
            build_order, growth, jurisdiction_cap, module_delivery, satellite_cells)


def math_table() -> str:
    """The model's families as a Markdown table (the README's), from each family's math (the
    first paragraph of its docstring).

    >>> math_table().splitlines()[2]
    '| demand | `sum_{k,b} serve[r,k,b] + unmet[r] = inference_mw[r]   for every region r.` |'
    """
    lines = ["| family | rows (from `siting/model/families.py`) |", "|---|---|"]
    for f in FAMILIES:
        math = " ".join(line.strip() for line in f.__doc__.strip().split("\n\n")[0].splitlines())
        lines.append(f"| {f.__name__} | `{math}` |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(math_table())
