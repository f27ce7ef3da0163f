"""Size and peak memory of the model before building it, from the inputs alone.

The counts follow ``siting/model.py`` family by family, as HiGHS receives them after Pyomo's
standard-form compiler: a zero coefficient is not a nonzero, a row left without a nonzero term is
dropped, and a column without a nonzero coefficient (constraints or objective) is dropped. Under
those rules the counts equal the compiled model's exactly (tests/test_estimate.py). Keep this
module in step with ``model.py``: a new family or variable needs a line here.

Peak memory is a linear fit to measurements (``bench/memory.py``), see the constants below.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .errors import ModelTooLargeError
from .inputs import SitingInputs

__all__ = ["ModelEstimate", "estimate", "available_memory_bytes", "check_fits",
           "PEAK_BASE_BYTES", "PEAK_BYTES_PER_ARC", "PEAK_BYTES_PER_NONZERO"]

# Peak resident memory of one process that reads the default layers, builds the Pyomo model,
# compiles it to standard form and runs HiGHS on the LP relaxation (passModel, presolve,
# simplex). Measured by bench/memory.py (ru_maxrss; candidates.max_count 250/500/1000/2250 with
# min_firm_mw 0: 28,566..246,905 arcs, 0.33..1.17 GB), fitted by non-negative least squares,
# worst residual 4.2 % (2026-11-26, Python 3.11, Linux x86-64). Nonzeros are ~6.4 per arc in
# those runs, so the fit puts everything on arcs. The base is the interpreter, pandas, Pyomo,
# highspy and the layers. Build + compile alone is ~3.1 KB per arc; branch and bound adds memory
# over time that this does not model (250 sites: 1.0 GB after 118 s of MIP vs 0.33 GB LP peak).
PEAK_BASE_BYTES = 235e6
PEAK_BYTES_PER_ARC = 3_814.0
PEAK_BYTES_PER_NONZERO = 0.0


@dataclass(frozen=True)
class ModelEstimate:
    """Expected size of the compiled model and peak memory of build + compile + HiGHS."""

    n_variables: int
    n_integer: int
    n_constraints: int
    n_nonzeros: int
    n_arcs: int
    peak_bytes: float

    def line(self) -> str:
        """One line for people.

        >>> ModelEstimate(10, 4, 7, 30, 5, 2.5e9).line()
        'model estimate: 10 variables (4 integer), 7 constraints, 30 nonzeros; peak memory ~2.5 GB'
        """
        return (f"model estimate: {self.n_variables:,} variables ({self.n_integer:,} integer), "
                f"{self.n_constraints:,} constraints, {self.n_nonzeros:,} nonzeros; "
                f"peak memory ~{self.peak_bytes / 1e9:.1f} GB")


def peak_bytes(n_arcs, n_nonzeros):
    """Estimated peak resident bytes of build + compile + HiGHS (the fitted linear model).

    >>> round(float(peak_bytes(28_566, 182_796)) / 1e6)  # default scenario; measured 330 MB
    344
    """
    return (PEAK_BASE_BYTES + PEAK_BYTES_PER_ARC * np.asarray(n_arcs, float)
            + PEAK_BYTES_PER_NONZERO * np.asarray(n_nonzeros, float))


def estimate(inp: SitingInputs) -> ModelEstimate:
    """Counts of the compiled model (as ``compile_model(build_model(inp))`` gives them) and peak memory.

    >>> from siting.inputs import from_cost_matrix
    >>> e = estimate(from_cost_matrix([5, 7], [10, 10], [4, 6, 3], [[1, 2, 9], [3, 1, 1]]))
    >>> e.n_variables, e.n_integer, e.n_constraints, e.n_nonzeros  # open 2 + it 2 + serve 6
    (10, 2, 13, 30)
    """
    K, R, C, A = len(inp.sites), len(inp.regions), len(inp.cooling), len(inp.arcs)
    region = inp.arcs["region"].to_numpy(np.int64)
    site = inp.arcs["site"].to_numpy(np.int64)
    link = inp.arcs["link"].to_numpy()
    fiber, sat = link == "fiber", link == "satellite"
    demand = inp.regions["inference_mw"].to_numpy(float)
    serve_ub = inp.resilience_max_share * demand[region]
    max_it = inp.sites["max_it_mw"].to_numpy(float)
    firm = inp.sites["firm_mw"].to_numpy(float)
    pue = inp.cooling["pue"].to_numpy(float)
    train_c = np.flatnonzero(inp.cooling["carries_training"].to_numpy(bool))
    inf_c = np.flatnonzero(inp.cooling["carries_inference"].to_numpy(bool))
    training, modules, multi = inp.training_mw > 0, bool(inp.module_mw), C > 1
    unmet = inp.unmet_cost_musd_per_mw is not None
    fiber_sites, sat_sites = np.unique(site[fiber]), np.unique(site[sat])
    arcs_per_site = np.bincount(site, minlength=K)
    nz = lambda x: int(np.count_nonzero(x))  # noqa: E731

    # pairs (region, site) with a non-fiber arc get a resilience row
    pair_keys, pair_id = np.unique(region * K + site, return_inverse=True)
    n_pairs = len(pair_keys)
    pair_nf = np.bincount(pair_id, ~fiber, n_pairs) > 0
    pair_len = np.bincount(pair_id, minlength=n_pairs)
    pair_site, pair_region = (pair_keys % K, pair_keys // K) if K else (pair_keys, pair_keys)
    pair_ub = inp.resilience_max_share * demand[pair_region]
    res = pair_nf

    rows, nnz = 0, 0
    regions_with_row = (np.bincount(region, minlength=R) > 0) | unmet
    rows += nz(regions_with_row)  # demand
    nnz += A + (R if unmet else 0)
    hosts_active = np.zeros(K, bool)
    if training:
        ub = np.minimum(max_it, inp.training_mw)
        rows += (K > 0) + 2 * K  # training_total, training_upper, training_cluster
        nnz += K + (K + nz(ub)) + K * (1 + (inp.training_min_cluster_mw != 0))
        hosts_active |= (ub != 0) | (inp.training_min_cluster_mw != 0)
    rows += K  # capacity
    nnz += K * C + A + K * training
    if modules:
        rows += K
        nnz += K * C + K
    if multi:  # one_cooling, cooling_link
        rows += K + K * C
        nnz += K * (C + 1) + K * C + C * nz(max_it)
    if training and len(train_c) < C:
        rows += K
        nnz += K * (len(train_c) + 1)
        if multi:
            rows += K
            nnz += K * (len(train_c) + 1)
            hosts_active |= True
    if len(inf_c) < C:
        rows += K if len(inf_c) else nz(arcs_per_site)
        nnz += K * len(inf_c) + A
    rows += K if nz(pue) else nz(firm)  # power
    nnz += K * nz(pue) + nz(firm)
    rows += len(fiber_sites) + nz(fiber)  # fiber_open, fiber_link
    nnz += 2 * len(fiber_sites) + nz(fiber) + nz(serve_ub[fiber])
    g, u = inp.gbps_per_mw, inp.sat_unit_gbps
    rows += len(sat_sites) if (g or u) else 0  # sat_capacity
    nnz += (nz(sat) if g else 0) + (len(sat_sites) if u else 0)
    rows += nz(res)  # resilience
    nnz += int(pair_len[res].sum()) + nz(pair_ub[res])
    if inp.max_sites is not None:
        rows += 1
        nnz += K
    limited = inp.water_limited()
    if limited.size:  # water: a row per limited site with a nonzero water coefficient
        per_site = np.count_nonzero(inp.water_m3_per_mw_year[limited], axis=1)
        rows += nz(per_site)
        nnz += int(per_site.sum())

    # columns: a variable is kept when it has a nonzero coefficient somewhere
    site_cost = sum(inp.site_cost_musd.values())
    open_active = (firm != 0) | multi | (inp.max_sites is not None) | (np.asarray(site_cost) != 0)
    open_active = np.broadcast_to(open_active, (K,)).copy()
    open_active[fiber_sites] = True
    open_active[pair_site[res & (pair_ub != 0)]] = True
    sat_cost = np.broadcast_to(sum(inp.sat_unit_cost_musd.values()), (K,))[sat_sites]
    sat_active = nz((u != 0) | (sat_cost != 0))
    n_int = (nz(open_active) + K * modules + K * C * multi + nz(hosts_active) * training
             + len(fiber_sites) + sat_active)
    n_var = n_int + K * C + A + K * training + (R if unmet else 0)
    return ModelEstimate(int(n_var), int(n_int), int(rows), int(nnz), A, float(peak_bytes(A, nnz)))


def available_memory_bytes() -> int | None:
    """Memory the system can give a new process now: MemAvailable on Linux, else free pages.

    >>> (available_memory_bytes() or 1) > 0
    True
    """
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_fits(est: ModelEstimate, available_bytes: float | None = None) -> None:
    """Raise :class:`ModelTooLargeError` when the estimated peak exceeds the available memory.

    ``available_bytes`` defaults to :func:`available_memory_bytes`; unknown means no check.

    >>> check_fits(ModelEstimate(10, 4, 7, 30, 5, 1e9), available_bytes=2e9)
    >>> check_fits(ModelEstimate(10, 4, 7, 30, 5, 3e9), available_bytes=2e9)
    Traceback (most recent call last):
    ...
    siting.errors.ModelTooLargeError: the model needs ~3.0 GB ...
    """
    available = available_memory_bytes() if available_bytes is None else available_bytes
    if available is None or est.peak_bytes <= available:
        return
    raise ModelTooLargeError(
        f"the model needs ~{est.peak_bytes / 1e9:.1f} GB at its peak but {available / 1e9:.1f} GB is "
        f"available ({est.n_arcs:,} arcs, {est.n_variables:,} variables, {est.n_constraints:,} "
        f"constraints, {est.n_nonzeros:,} nonzeros); make it smaller: fewer candidates "
        f"(candidates.max_count), fewer regions (demand.max_regions), a tighter latency limit "
        f"(demand.latency_ms) or a larger merge radius (demand.merge_km)")
