"""Cheap infeasibility checks before any solving: each problem named, with its numbers."""

from __future__ import annotations

import numpy as np

from .inputs import SitingInputs

__all__ = ["diagnose"]


def diagnose(inp: SitingInputs) -> list[str]:
    """Problems that make the model infeasible whatever the solver does (empty if none).

    With unmet-demand slack on, unreachable regions are not problems: they show as shortfall.
    """
    problems: list[str] = []
    reg, sites = inp.regions, inp.sites
    reach = np.bincount(inp.arcs["region"].to_numpy(), minlength=len(reg))
    demand = reg["inference_mw"].to_numpy(float)
    if inp.unmet_cost_musd_per_mw is None:
        for i in np.flatnonzero((reach == 0) & (demand > 0)):
            problems.append(f"region {reg['region_id'].iloc[i]!r} ({reg['name'].iloc[i]}): no "
                            f"candidate site within its {reg['latency_ms'].iloc[i]:g} ms limit by "
                            "any backhaul")
        for i in np.flatnonzero(reach > 0):
            n_sites = inp.arcs.loc[inp.arcs["region"] == i, "site"].nunique()
            if n_sites * inp.resilience_max_share < 1 - 1e-9:
                problems.append(f"region {reg['region_id'].iloc[i]!r}: reaches {n_sites} site(s) "
                                f"but the resilience share {inp.resilience_max_share:g} needs "
                                f"{int(np.ceil(1 / inp.resilience_max_share))}")
    max_it = sites["max_it_mw"].to_numpy(float)
    total = demand.sum() * (inp.unmet_cost_musd_per_mw is None) + inp.training_mw
    if total > max_it.sum() + 1e-9:
        problems.append(f"power: the demand needs {total:,.1f} MW IT but all candidates together "
                        f"can host {max_it.sum():,.1f} MW at the best PUE")
    if inp.training_mw > 0:
        dense = inp.cooling["carries_training"].to_numpy(bool)
        if not dense.any():
            problems.append("training: no cooling technology carries training racks")
        best = max_it.max() if len(max_it) else 0.0
        cluster = max(inp.training_min_cluster_mw, 0.0)
        if cluster > best + 1e-9:
            problems.append(f"training: the minimum cluster of {cluster:g} MW fits no single site "
                            f"(largest can host {best:,.1f} MW)")
    return problems
