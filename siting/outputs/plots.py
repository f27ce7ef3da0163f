"""A site's hours on one representative day: generation, storage and load (matplotlib Figure API).

No pyplot (no global state): the caller saves the returned figure, e.g.
``hourly_figure(inp, plan.decisions, k).savefig("site.png")``.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

__all__ = ["site_hours", "hourly_figure"]


def site_hours(inp, dec, k: int, day: int) -> dict[str, np.ndarray]:
    """Hourly MW of site position ``k`` on representative day ``day``: available generation,
    charge, discharge, state of charge (MWh) and the flat load."""
    hi = inp.hourly
    v = int(np.flatnonzero(hi.site == k)[0]) if hi is not None and k in hi.site else None
    if v is None:
        raise ValueError(f"site {k} has no hourly energy (not a variable-fuel site, or hourly is off)")
    cells = slice((v * hi.D + day) * 24, (v * hi.D + day + 1) * 24)
    pue = inp.load_pue()[k]
    return {"generation": hi.cf[v, day] * (hi.available_mw[v] + dec.overbuild_mw[k]),
            "charge": dec.charge_mw[cells], "discharge": dec.discharge_mw[cells],
            "soc": dec.soc_mwh[cells], "load": np.full(24, float((dec.it_mw[k] * pue).sum()))}


def hourly_figure(inp, dec, k: int, day: int | None = None) -> Figure:
    """Generation, discharge, charge and load (MW) with the state of charge (MWh, right axis).

    ``day`` defaults to the representative day with the most weight.
    """
    hi = inp.hourly
    day = int(np.argmax(hi.weight_days)) if day is None else day
    h = site_hours(inp, dec, k, day)
    t = np.arange(24)
    fig = Figure(figsize=(7, 3.6), dpi=110)
    ax = fig.add_subplot()
    ax.plot(t, h["generation"], color="#e0a000", label="available generation")
    ax.bar(t, h["discharge"], color="#2a9d8f", label="discharge")
    ax.bar(t, -h["charge"], color="#8ab17d", label="charge (negative)")
    ax.plot(t, h["load"], color="black", lw=2, label="load (IT x PUE)")
    ax.set_xlabel("hour of the local day")
    ax.set_ylabel("MW")
    twin = ax.twinx()
    twin.plot(t, h["soc"], color="#264653", ls="--", label="state of charge")
    twin.set_ylabel("MWh")
    name = inp.sites["name"].iloc[k]
    ax.set_title(f"{name}: representative day {day} ({hi.weight_days[day]:g} days a year)", fontsize=9)
    lines = ax.get_legend_handles_labels()
    more = twin.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig
