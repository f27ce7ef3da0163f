"""A site's hours on one representative day: generation, storage and load; the cost distribution
of a stochastic plan and the average-scenario plan (matplotlib Figure API).

No pyplot (no global state): the caller saves the returned figure, e.g.
``hourly_figure(inp, plan.decisions, k).savefig("site.png")``.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

__all__ = ["site_hours", "hourly_figure", "weighted_cdf", "cost_distribution_figure"]


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


def weighted_cdf(values, probabilities) -> tuple[np.ndarray, np.ndarray]:
    """The probability-weighted distribution function of ``values``: sorted values and
    P(cost <= value) at each (a step function, drawn with ``where="post"``).

    >>> x, F = weighted_cdf([14.0, 2.0, 6.0], [0.2, 0.5, 0.3]); x.tolist(), F.round(9).tolist()
    ([2.0, 6.0, 14.0], [0.5, 0.8, 1.0])
    """
    v, p = np.asarray(values, float), np.asarray(probabilities, float)
    order = np.argsort(v, kind="stable")
    return v[order], np.cumsum(p[order])


def cost_distribution_figure(panels: list[tuple[str, np.ndarray, dict[str, np.ndarray]]], *,
                             cvar_alpha: float | None = None) -> Figure:
    """One panel per ``(title, probabilities, {plan label: per-scenario cost M$})``: each plan's
    probability-weighted cost distribution (CDF step, the mean dashed), e.g. the stochastic and
    the average-scenario plan in sample and out of sample. ``cvar_alpha``: a line at that level."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=(7, 3.4 * len(panels)), dpi=110)
    FigureCanvasAgg(fig)
    axes = np.atleast_1d(fig.subplots(len(panels), 1, squeeze=False)[:, 0])
    colors = ["#1f77b4", "#d62728", "#2a9d8f", "#e0a000"]
    for ax, (title, p, plans) in zip(axes, panels):
        for (label, cost), color in zip(plans.items(), colors):
            finite = np.isfinite(cost)
            x, F = weighted_cdf(np.asarray(cost)[finite], np.asarray(p)[finite])
            if x.size == 0:
                continue
            ax.step(np.concatenate([[x[0]], x]), np.concatenate([[0.0], F]), where="post", color=color, lw=2,
                    label=f"{label} (mean {float(np.asarray(p)[finite] @ np.asarray(cost)[finite]):,.0f} M$"
                          + (f", {int((~finite).sum())} infeasible" if (~finite).any() else "") + ")")
            ax.axvline(float(np.asarray(p)[finite] @ np.asarray(cost)[finite]), color=color, ls="--", lw=1)
        if cvar_alpha is not None:
            ax.axhline(cvar_alpha, color="grey", ls=":", lw=1, label=f"CVaR level {cvar_alpha:g}: the tail above")
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("probability cost <= x")
        ax.set_title(title, fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    axes[-1].set_xlabel("scenario PV cost (M$)")
    fig.tight_layout()
    return fig
