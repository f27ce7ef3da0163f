"""Money: annuities, present values and energy prices (pure, vectorised, doctested).

All rates are real, per year; all present values are at the start of operation.
"""

from __future__ import annotations

import numpy as np

__all__ = ["capital_recovery_factor", "pv_annuity_factor", "pv_of_capex", "capacity_factor",
           "price_by_capacity_factor", "delivered_cost_usd_per_mwh", "HOURS_PER_YEAR"]

HOURS_PER_YEAR = 8760.0


def pv_annuity_factor(rate, years):
    """Present value of 1 paid at the end of each year for ``years`` years.

    >>> round(float(pv_annuity_factor(0.07, 25)), 4)
    11.6536
    >>> float(pv_annuity_factor(0.0, 10))
    10.0
    """
    rate, years = np.asarray(rate, float), np.asarray(years, float)
    safe = np.where(rate == 0, 1.0, rate)
    return np.where(rate == 0, years, (1 - (1 + safe) ** -years) / safe)


def capital_recovery_factor(rate, life_years):
    """Equal yearly payment that repays 1 of capital over ``life_years`` (the annuity).

    >>> round(float(capital_recovery_factor(0.07, 25)), 5)
    0.08581
    """
    return 1.0 / pv_annuity_factor(rate, life_years)


def pv_of_capex(capex, rate, life_years, horizon_years):
    """Present value over the horizon of an asset's capex, as equal annuities over its life.

    An asset that lives exactly the horizon costs its capex; one that lives longer leaves
    residual value (costs less); one that lives shorter is renewed (costs more).

    >>> float(pv_of_capex(100.0, 0.07, 25, 25))
    100.0
    >>> round(float(pv_of_capex(100.0, 0.07, 30, 25)), 2)
    93.91
    >>> round(float(pv_of_capex(100.0, 0.07, 5, 25)), 2)
    284.22
    """
    return (np.asarray(capex, float) * capital_recovery_factor(rate, life_years)
            * pv_annuity_factor(rate, horizon_years))


def capacity_factor(generation_gwh, capacity_mw):
    """Yearly generation over nameplate x 8,760 h; NaN where generation is missing or <= 0.

    >>> capacity_factor([876.0, None, 0.0], [200.0, 100.0, 100.0]).round(2).tolist()
    [0.5, nan, nan]
    """
    gen = np.asarray(generation_gwh, dtype=float)
    cap = np.asarray(capacity_mw, dtype=float)
    cf = gen * 1e3 / (cap * HOURS_PER_YEAR)
    return np.where(gen > 0, cf, np.nan)


def price_by_capacity_factor(ref_price, ref_cf, site_cf, low=0.5, high=2.0):
    """Energy price ($/MWh) of a site whose resource runs at ``site_cf``.

    Renewable cost is mostly capital, so price scales as ``ref_price * ref_cf / site_cf``,
    clamped to ``[low, high] x ref_price``; a missing factor gives the reference price.

    >>> price_by_capacity_factor(55.0, 0.40, [0.40, 0.80, 0.10, np.nan]).tolist()
    [55.0, 27.5, 110.0, 55.0]
    """
    ref_price = np.asarray(ref_price, float)
    site_cf = np.asarray(site_cf, float)
    ratio = np.where(np.isfinite(site_cf) & (site_cf > 0),
                     np.asarray(ref_cf, float) / np.where(site_cf > 0, site_cf, 1.0), 1.0)
    return ref_price * np.clip(ratio, low, high)


def delivered_cost_usd_per_mwh(price, pue, firming_hours, battery_usd_per_kwh, battery_usd_per_kw,
                               rate, battery_life_years, round_trip=1.0):
    """Rough cost of one MWh of flat IT load at a site ($/MWh), for ranking candidates.

    ``pue * price / rt + firming``: the energy bill per IT MWh (a firmed source also buys its
    storage losses: ``rt`` is the round trip where ``firming_hours > 0``, else 1) plus the yearly
    cost of a battery of ``firming_hours`` of the load (energy and power capex as an annuity over
    its life), spread over the 8,760 MWh a flat MW draws in a year.

    >>> delivered_cost_usd_per_mwh([55.0, 50.0], 1.08, [0.0, 14.0], 250.0, 300.0, 0.07, 15, 0.85).round(1).tolist()
    [59.4, 111.2]
    """
    hours = np.asarray(firming_hours, float)
    battery_usd_per_mw = hours * battery_usd_per_kwh * 1e3 + np.where(hours > 0, battery_usd_per_kw * 1e3, 0.0)
    firming = battery_usd_per_mw * capital_recovery_factor(rate, battery_life_years) / HOURS_PER_YEAR
    rt = np.where(hours > 0, round_trip, 1.0)
    return np.asarray(pue, float) * np.asarray(price, float) / rt + firming
