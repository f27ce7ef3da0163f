"""Solver vectors <-> :class:`~siting.model.decisions.Decisions`: the only reader of column layouts.

:func:`read_decisions` reads a solution onto the plan's axes; :func:`start_vector` turns a plan
back into a start for HiGHS. With investment periods, :func:`period_view` is the compiled model
seen at one period (its columns and keys), so :func:`read_schedule` reads one
:class:`Decisions` per period with the same reader.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..inputs.inputs import SitingInputs
from .compile import Compiled
from .decisions import Decisions
from .layout import n_minus_1_layout

__all__ = ["read_decisions", "start_vector", "period_view", "read_schedule", "n_periods"]

_TOL = 1e-6


def n_periods(inp: SitingInputs) -> int:
    """Investment periods of the model of ``inp`` (1 without a time axis)."""
    return 1 if inp.periods is None else inp.periods.P


def period_view(comp: Compiled, t: int, P: int) -> Compiled:
    """``comp`` seen at period ``t`` of ``P``: each family's columns and keys of that period only."""
    if P == 1:
        return comp
    cols = {n: c.reshape(P, -1)[t] for n, c in comp.columns.items()}
    keys = {n: np.asarray(k.reshape(P, -1, 2)[t][:, 1], dtype=object) for n, k in comp.keys.items()}
    return dataclasses.replace(comp, columns=cols, keys=keys)


def read_schedule(comp: Compiled, inp: SitingInputs, x: np.ndarray) -> list[Decisions]:
    """One :class:`Decisions` per investment period (cumulative builds, that period's flows)."""
    P = n_periods(inp)
    return [read_decisions(period_view(comp, t, P), inp, x) for t in range(P)]


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
    if n1 is None:
        return np.zeros((0, len(inp.arcs)))
    out = np.zeros((len(n1.groups), len(inp.arcs)))
    if n1.n and values.size:
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
