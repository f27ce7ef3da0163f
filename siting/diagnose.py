"""Cheap infeasibility checks before any solving: each problem named, with its numbers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import show_id
from .inputs import SitingInputs

__all__ = ["Finding", "diagnose"]


@dataclass(frozen=True)
class Finding:
    severity: str  # "error": no plan can exist; "warning": the plan will show a shortfall
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"


def _region(reg, i) -> str:
    return f"region {show_id(reg['region_id'].iloc[i])} ({reg['name'].iloc[i]})"


def diagnose(inp: SitingInputs) -> list[Finding]:
    """Problems that make the model infeasible whatever the solver does, and shortfalls.

    With unmet-demand slack on, an unreachable region is a warning (its demand will be unmet);
    with it off, an error.
    """
    found: list[Finding] = []
    reg, sites, arcs = inp.regions, inp.sites, inp.arcs
    slack = inp.unmet_cost_musd_per_mw is not None
    severity = "warning" if slack else "error"
    demand = reg["inference_mw"].to_numpy(float)
    reach = np.bincount(arcs["region"].to_numpy(), minlength=len(reg))
    for i in np.flatnonzero((reach == 0) & (demand > 0)):
        near = ""
        if "nearest_rtt_ms" in reg:
            near = (f"; the nearest candidate, {reg['nearest_site'].iloc[i]}, is "
                    f"{reg['nearest_rtt_ms'].iloc[i]:.1f} ms away")
        found.append(Finding(severity, f"{_region(reg, i)}: no candidate site within its "
                             f"{reg['latency_ms'].iloc[i]:g} ms limit by any backhaul{near}"))
    n_sites = (arcs.groupby("region")["site"].nunique().reindex(range(len(reg)), fill_value=0)
               .to_numpy())
    need = int(np.ceil(1 / inp.resilience_max_share - 1e-9))
    for i in np.flatnonzero((n_sites > 0) & (n_sites < need) & (demand > 0)):
        found.append(Finding(severity, f"{_region(reg, i)}: reaches {n_sites[i]} candidate "
                             f"site(s) but a resilience share of {inp.resilience_max_share:g} "
                             f"needs {need}"))
    max_it = sites["max_it_mw"].to_numpy(float)
    total = demand.sum() + inp.training_mw
    if total > max_it.sum() + 1e-9:
        found.append(Finding(severity if inp.training_mw == 0 else "error",
                             f"power: inference and training need {total:,.1f} MW IT but all "
                             f"candidates together can host {max_it.sum():,.1f} MW at the best PUE"))
    if inp.training_mw > 0:
        if not inp.cooling["carries_training"].to_numpy(bool).any():
            found.append(Finding("error", "training: no cooling technology carries training "
                                 "racks (rack_kw below facility.training_rack_kw)"))
        best = max_it.max() if len(max_it) else 0.0
        if inp.training_min_cluster_mw > best + 1e-9:
            found.append(Finding("error", f"training: the minimum cluster of "
                                 f"{inp.training_min_cluster_mw:g} MW fits no single site "
                                 f"(the largest can host {best:,.1f} MW)"))
    return found
