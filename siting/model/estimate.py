"""Size and peak memory of the model before solving it: the memory check.

The counts are the compiled statement's (:func:`siting.model.sizes`), so they equal what HiGHS
receives by construction, family and option alike.

Peak memory is a linear fit to measurements (``bench/memory.py``), see the constants below.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..errors import ModelTooLargeError
from ..inputs.inputs import SitingInputs
from . import Compiled, compile_inputs, sizes

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


def estimate(model: SitingInputs | Compiled) -> ModelEstimate:
    """Counts of the compiled model and its peak memory, read off the compiled statement
    (:func:`siting.model.sizes`: the numpy statement costs ~1 % of a Pyomo build, so the count is
    the matrix HiGHS receives, not a second account of it). Give the compiled model when you have it.

    >>> from siting.inputs.inputs import from_cost_matrix
    >>> e = estimate(from_cost_matrix([5, 7], [10, 10], [4, 6, 3], [[1, 2, 9], [3, 1, 1]]))
    >>> e.n_variables, e.n_integer, e.n_constraints, e.n_nonzeros  # open 2 + it 2 + serve 6
    (10, 2, 13, 30)
    """
    comp = model if isinstance(model, Compiled) else compile_inputs(model)
    s = sizes(comp)
    A = int(comp.columns["serve"].size) if "serve" in comp.columns else 0
    return ModelEstimate(s.columns, s.integers, s.rows, s.nonzeros, A, float(peak_bytes(A, s.nonzeros)))


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
