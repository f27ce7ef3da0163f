"""The plan as decisions on the :class:`~siting.inputs.inputs.SitingInputs` axes (the model's way out).

:class:`Decisions` is frozen and typed: per site ``k`` (K), cooling option ``c`` (C), arc ``a``
(A, positions in ``inputs.arcs``) and region ``r`` (R). Only :mod:`siting.model` reads it from
a solver vector or turns it back into a start vector; results, audit, maps, sweeps and
warm starts speak this record and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

__all__ = ["Decisions"]


def _frozen(a, dtype) -> np.ndarray:
    out = np.array(a, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class Decisions:
    """open[K], modules[K], cooling[K] (option index, -1 where closed), it_mw[K, C],
    serve_mw[A], train_mw[K], fiber[K], sat_units[K], unmet_mw[R] (MW, counts, flags), and
    backup_mw[G, A]: with N-1 on, the re-assignment flow (MW) of each (region, site) pair after
    failure block g (blocks in the order of ``model.n_minus_1_layout(inputs).groups``), reported
    on the pair's first arc; shape (0, A) without N-1; train_sat_mw[K]: training MW whose
    traffic goes by satellite (0 without training traffic); with hourly energy: storage_mwh[K],
    storage_mw[K], overbuild_mw[K] (zero where not built or not offered) and, per hourly cell h
    (H, the layout of :class:`~siting.energy.storage.HourlyInputs`), charge_mw[H], discharge_mw[H],
    soc_mwh[H] (empty without hourly energy); with grid import, import_mw[H] (empty without it)."""

    open: np.ndarray
    modules: np.ndarray
    cooling: np.ndarray
    it_mw: np.ndarray
    serve_mw: np.ndarray
    train_mw: np.ndarray
    fiber: np.ndarray
    sat_units: np.ndarray
    unmet_mw: np.ndarray
    backup_mw: np.ndarray | None = None
    train_sat_mw: np.ndarray | None = None
    storage_mwh: np.ndarray | None = None
    storage_mw: np.ndarray | None = None
    overbuild_mw: np.ndarray | None = None
    charge_mw: np.ndarray | None = None
    discharge_mw: np.ndarray | None = None
    soc_mwh: np.ndarray | None = None
    import_mw: np.ndarray | None = None

    _DTYPES = {"open": bool, "modules": float, "cooling": np.int64, "it_mw": float, "serve_mw": float,
               "train_mw": float, "fiber": bool, "sat_units": float, "unmet_mw": float, "backup_mw": float,
               "train_sat_mw": float, "storage_mwh": float, "storage_mw": float, "overbuild_mw": float,
               "charge_mw": float, "discharge_mw": float, "soc_mwh": float, "import_mw": float}

    def __post_init__(self):
        K = np.shape(self.open)[0]
        if self.backup_mw is None:
            object.__setattr__(self, "backup_mw", np.zeros((0, np.shape(self.serve_mw)[0])))
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:  # absent families: zeros per site, empty per hourly cell
                value = np.zeros(K if f.name in ("train_sat_mw", "storage_mwh", "storage_mw", "overbuild_mw")
                                 else 0)
            object.__setattr__(self, f.name, _frozen(value, self._DTYPES[f.name]))
        for name in ("modules", "cooling", "train_mw", "fiber", "sat_units", "train_sat_mw", "storage_mwh",
                     "storage_mw", "overbuild_mw"):
            if getattr(self, name).shape != (K,):
                raise ValueError(f"Decisions.{name} has shape {getattr(self, name).shape}, expected ({K},)")
        if self.it_mw.ndim != 2 or self.it_mw.shape[0] != K:
            raise ValueError(f"Decisions.it_mw has shape {self.it_mw.shape}, expected ({K}, C)")
        if self.backup_mw.ndim != 2 or self.backup_mw.shape[1] != self.serve_mw.shape[0]:
            raise ValueError(f"Decisions.backup_mw has shape {self.backup_mw.shape}, "
                             f"expected (G, {self.serve_mw.shape[0]})")
        if not self.charge_mw.shape == self.discharge_mw.shape == self.soc_mwh.shape:
            raise ValueError("Decisions.charge_mw, discharge_mw and soc_mwh must have one shape (H,)")

    @property
    def shape(self) -> dict[str, int]:
        return {"K": self.open.shape[0], "C": self.it_mw.shape[1], "A": self.serve_mw.shape[0],
                "R": self.unmet_mw.shape[0]}

    @property
    def site_it_mw(self) -> np.ndarray:
        """IT MW per site (sum over cooling options)."""
        return self.it_mw.sum(axis=1)

    @property
    def hosts_training(self) -> np.ndarray:
        return self.train_mw > 0

    def same_as(self, other: Decisions, tol: float = 1e-6) -> bool:
        """Equal within ``tol`` on every axis (for tests and warm-start checks)."""
        return all(getattr(self, f.name).shape == getattr(other, f.name).shape
                   and np.allclose(getattr(self, f.name), getattr(other, f.name), atol=tol, rtol=0)
                   for f in fields(self))
