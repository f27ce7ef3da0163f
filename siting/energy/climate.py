"""Cooling by climate: a site's ambient temperature and the PUE of each cooling technology there.

Pure, vectorised, doctested. Temperatures come from ``data/climate.csv`` — zonal (latitude-band)
annual and warmest-month means, an engineering estimate: land, altitude and distance from the
sea move a real site by ±10 °C. PUE rises linearly above a technology's reference temperature
(DEFAULTS.md, EST): ``pue = pue_ref + slope * max(0, T - T_ref)``, capped.

Used two ways when ``facility.climate`` is on: the annual-mean PUE prices the energy a site
draws; the warmest-month PUE sizes the power a site needs (:func:`siting.model.add_climate_power`).

Water drawn by a cooling technology rises with heat too (evaporative most, EST slope in
``data/cooling.csv``): ``water = water_ref * max(0, 1 + slope * (T - T_ref))`` at the site's
annual-mean temperature, always (it is reported on every plan and constrains or costs a plan
only with ``facility.water_limit_m3_per_year`` or ``facility.water_price_usd_per_m3``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..costs import HOURS_PER_YEAR
from ..paths import DATA_DIR

__all__ = ["pue_at", "zonal_temperature_c", "site_pue", "water_l_per_kwh_at", "site_water_m3_per_mw_year"]


def pue_at(temp_c, pue_ref, slope_per_c, ref_temp_c, cap=1.8):
    """PUE at ambient ``temp_c`` (broadcast: sites x technologies); never below ``pue_ref``.

    >>> pue_at(np.array([[10.0], [30.0]]), [1.20, 1.15], [0.008, 0.004], [10.0, 20.0]).round(3).tolist()
    [[1.2, 1.15], [1.36, 1.19]]
    >>> float(pue_at(60.0, 1.4, 0.01, 15.0, cap=1.8))
    1.8
    """
    pue_ref = np.asarray(pue_ref, float)
    rise = np.asarray(slope_per_c, float) * np.maximum(0.0, np.asarray(temp_c, float) - np.asarray(ref_temp_c, float))
    return np.maximum(pue_ref, np.minimum(pue_ref + rise, cap))


def zonal_temperature_c(latitude_deg, table: pd.DataFrame | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Annual-mean and warmest-month ambient temperature (°C) at each latitude (band table,
    linear between band centres).

    >>> annual, hottest = zonal_temperature_c([0.0, 45.0])
    >>> annual.tolist(), hottest.tolist()
    ([26.0, 9.0], [27.0, 21.0])
    """
    t = pd.read_csv(DATA_DIR / "climate.csv") if table is None else table
    lat = np.asarray(latitude_deg, float)
    x = t["latitude_deg"].to_numpy(float)
    return (np.interp(lat, x, t["annual_mean_c"].to_numpy(float)),
            np.interp(lat, x, t["hottest_month_c"].to_numpy(float)))


def site_pue(latitude_deg, cooling: pd.DataFrame, cap: float) -> tuple[np.ndarray, np.ndarray]:
    """(annual-mean PUE, warmest-month PUE), each [K, C], for sites at ``latitude_deg``.

    >>> cool = pd.DataFrame({"pue": [1.2, 1.15], "pue_slope_per_c": [0.008, 0.004], "pue_ref_temp_c": [10.0, 20.0]})
    >>> annual, peak = site_pue([25.0], cool, 1.8)
    >>> annual.round(3).tolist(), peak.round(3).tolist()
    ([[1.3, 1.16]], [[1.348, 1.184]])
    """
    annual_c, hottest_c = zonal_temperature_c(latitude_deg)
    args = [cooling[c].to_numpy(float)[None, :] for c in ("pue", "pue_slope_per_c", "pue_ref_temp_c")]
    return pue_at(annual_c[:, None], *args, cap=cap), pue_at(hottest_c[:, None], *args, cap=cap)


def water_l_per_kwh_at(temp_c, water_ref, slope_per_c, ref_temp_c):
    """Water drawn per kWh of IT energy (L/kWh) at ambient ``temp_c`` (broadcast); never below 0.

    >>> water_l_per_kwh_at(np.array([[10.0], [30.0], [-20.0]]), [1.8, 0.1], [0.04, 0.0], [10.0, 20.0]).round(3).tolist()
    [[1.8, 0.1], [3.24, 0.1], [0.0, 0.1]]
    """
    ref = np.asarray(water_ref, float)
    rise = np.asarray(slope_per_c, float) * (np.asarray(temp_c, float) - np.asarray(ref_temp_c, float))
    return ref * np.maximum(0.0, 1.0 + rise)


def site_water_m3_per_mw_year(latitude_deg, cooling: pd.DataFrame, utilisation: float) -> np.ndarray:
    """Water (m3 a year) per MW IT at each site and cooling [K, C]: L/kWh at the site's annual-mean
    temperature x utilisation x 8,760 h (1 L/kWh x 1 MW x 1 h = 1 m3).

    >>> cool = pd.DataFrame({"water_l_per_kwh": [1.8, 0.1], "water_slope_per_c": [0.04, 0.0],
    ...                      "pue_ref_temp_c": [10.0, 20.0]})
    >>> site_water_m3_per_mw_year([0.0], cool, 0.8).round(1).tolist()  # 26 C: 1.8 x 1.64 = 2.952 L/kWh
    [[20687.6, 700.8]]
    """
    annual_c, _ = zonal_temperature_c(latitude_deg)
    slope = cooling["water_slope_per_c"] if "water_slope_per_c" in cooling else np.zeros(len(cooling))
    per_kwh = water_l_per_kwh_at(annual_c[:, None], cooling["water_l_per_kwh"].to_numpy(float)[None, :],
                                 np.asarray(slope, float)[None, :], cooling["pue_ref_temp_c"].to_numpy(float)[None, :])
    return per_kwh * utilisation * HOURS_PER_YEAR
