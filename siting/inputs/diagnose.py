"""Why a scenario has no plan: cheap checks before solving, and an explanation after.

:func:`diagnose` finds, before any solving, what no plan can satisfy given the scenario's
slack settings (errors) and what will show as a priced shortfall (warnings).
:func:`elastic` makes every region's demand elastic, and :func:`explain_infeasible` names the
regions its re-solve leaves short when the solver proves a scenario infeasible.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..errors import show_id
from .inputs import SitingInputs

__all__ = ["Finding", "diagnose", "elastic", "explain_infeasible", "grouped", "listed"]


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
    if inp.training_mw > max_it.sum() + 1e-9:  # training has no slack: it must fit
        found.append(Finding("error", f"power: training needs {inp.training_mw:,.1f} MW IT but all "
                             f"candidates together can host {max_it.sum():,.1f} MW at the best PUE"))
    elif total > max_it.sum() + 1e-9:  # inference may go unmet at its price, if priced
        found.append(Finding(severity, f"power: inference and training need {total:,.1f} MW IT but "
                             f"all candidates together can host {max_it.sum():,.1f} MW at the best PUE"
                             + ("; the rest of inference will be unmet" if slack else "")))
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


def listed(items: list[str], most: int = 12) -> str:
    """One item per line, at most ``most`` of them and a count of the rest.

    >>> listed(["a", "b", "c"], most=2)
    'a\\n  b\\n  ... and 1 more'
    """
    shown = items[:most] + ([f"... and {len(items) - most} more"] if len(items) > most else [])
    return "\n  ".join(shown)




def grouped(messages: list[str], most: int = 5) -> list[str]:
    """Messages grouped by their kind (the text before the first ':'), at most ``most`` each.

    >>> grouped(["warning: r1: far", "warning: r2: far", "warning: r3: far", "note: x"], most=2)
    ['warning: r1: far', 'warning: r2: far', 'warning: ... and 1 more like these', 'note: x']
    """
    kinds: dict[str, list[str]] = {}
    for m in messages:
        kinds.setdefault(m.split(":", 1)[0], []).append(m)
    out = []
    for kind, items in kinds.items():
        out += items[:most] + ([f"{kind}: ... and {len(items) - most} more like these"] if len(items) > most else [])
    return out


def elastic(inp: SitingInputs) -> SitingInputs:
    """The same inputs with every region's demand elastic at a price above any plan's cost."""
    u = inp.unit_costs()
    big = 10.0 * (max(u.open.max(initial=0.0) + u.fiber.max(initial=0.0) + u.sat_unit.max(initial=0.0), 1.0)
                  + u.it.max(initial=0.0) + u.serve.max(initial=0.0))
    return dataclasses.replace(inp, unmet_cost_musd_per_mw=big)


def explain_infeasible(inp: SitingInputs, short_mw: np.ndarray | None) -> str:
    """Name the regions left short (``short_mw``: unmet MW of the :func:`elastic` re-solve, or
    ``None`` when even that had no plan)."""
    head = "the scenario is infeasible"
    if short_mw is None:
        return (f"{head}, even with every region's demand elastic: the training load "
                f"({inp.training_mw:g} MW in clusters of >= {inp.training_min_cluster_mw:g} MW) "
                "cannot be placed; lower demand.training_mw or the minimum cluster, or add power")
    reg = inp.regions
    rows = [f"{_region(reg, i)} short {short_mw[i]:,.1f} of {reg['inference_mw'].iloc[i]:,.1f} MW"
            for i in np.flatnonzero(short_mw > 1e-6)]
    return (f"{head}; with elastic demand these regions stay short:\n  " + listed(rows)
            + "\nrelax their latency limit or demand.resilience_max_share, add candidate power "
              "near them, or set demand.unmet_penalty_usd_per_mwh to plan with a priced shortfall")
