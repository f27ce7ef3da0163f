"""Hourly capacity-factor profiles per site and their reduction to representative days.

Pure, vectorised over sites (arrays ``[K, 8760]``), deterministic; no weather download.

* Solar (:func:`solar_cf`): the sun's position from Spencer's (1971) declination and equation of
  time, pvlib's Ineichen–Perez clear-sky model with the Linke turbidity climatology shipped in
  the pvlib wheel (``pvlib/data/LinkeTurbidities.h5``, read offline), transposed onto a
  fixed-tilt plant facing the equator at a tilt equal to the latitude (capped at 40°),
  isotropic sky, albedo 0.2. The clear-sky shape is then scaled so the plant's annual mean
  equals its capacity factor (:func:`scale_to_mean`), clipped at 1 (inverter clipping).
  Limits: every day is a scaled clear day — seasons and day length are real, cloudy spells are
  not, so a representative-day model under-states multi-day storage needs.
* Wind (:func:`wind_cf`): a synthetic hourly speed — Weibull marginal (shape 2) through a
  Gaussian copula of an AR(1) series (lag-1 autocorrelation 0.95 per hour), times a seasonal
  (±15 %, peak in local winter) and a diurnal (±10 %, peak mid-afternoon) cycle — through a
  generic IEC class II power curve (cut-in 3, rated 11.5, cut-out 25 m/s), with the Weibull
  scale chosen per site so the annual mean matches its capacity factor. Seeded per site id.
  Limits: statistics, not weather — no site-specific diurnal phase, no synoptic events, no
  correlation between neighbouring sites; use ``layers.profiles`` (e.g. renewables.ninja)
  for real hours.

Time: hours are UTC of a non-leap year; each site's series is rolled by round(lon / 15) h so
a "day" is the site's local solar day (sites are not coupled hour by hour in the model, so
aligning their days only matters for clustering the days together).
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

__all__ = ["HOURS", "hour_of_year", "solar_position", "solar_cf", "wind_cf", "wind_power_curve",
           "scale_to_mean", "to_local_days", "representative_days", "linke_turbidity"]

HOURS = 8760
TILT_CAP_DEG = 40.0
ALBEDO = 0.2


def hour_of_year(n: int = HOURS) -> tuple[np.ndarray, np.ndarray]:
    """Day of year (1-based) and UTC hour at the middle of each hour of a non-leap year.

    >>> doy, hour = hour_of_year()
    >>> doy[[0, 23, 24, -1]].tolist(), hour[[0, 23, 24]].tolist()
    ([1, 1, 2, 365], [0.5, 23.5, 0.5])
    """
    h = np.arange(n)
    return h // 24 + 1, h % 24 + 0.5


def solar_position(lat_deg, lon_deg, doy, hour_utc):
    """Solar zenith and azimuth (degrees) for sites ``[K]`` at times ``[H]`` -> arrays ``[K, H]``.

    Spencer (1971) declination and equation of time; hour angle from UTC and longitude.

    >>> z, a = solar_position([0.0], [0.0], np.array([80]), np.array([12.0]))
    >>> bool(z[0, 0] < 3.0)   # equinox noon on the equator: sun nearly overhead
    True
    """
    from pvlib import solarposition as sp

    lat = np.radians(np.asarray(lat_deg, float))[:, None]
    lon = np.asarray(lon_deg, float)[:, None]
    dec = np.asarray(sp.declination_spencer71(doy), float)[None, :]
    eot_min = np.asarray(sp.equation_of_time_spencer71(doy), float)[None, :]
    hour_angle = np.radians(15.0 * (hour_utc[None, :] + lon / 15.0 + eot_min / 60.0 - 12.0))
    zen = sp.solar_zenith_analytical(lat, hour_angle, dec)
    az = sp.solar_azimuth_analytical(lat, hour_angle, dec, zen)
    return np.degrees(zen), np.degrees(az)


def linke_turbidity(lat_deg, lon_deg) -> np.ndarray:
    """Monthly Linke turbidity ``[K, 12]`` from the climatology shipped in the pvlib wheel.

    Reads ``pvlib/data/LinkeTurbidities.h5`` (Remund et al. 2003, SoDa) offline; one small read
    per site (the table is 112 MB, too big to load whole).

    >>> t = linke_turbidity([47.0], [8.0])
    >>> t.shape, bool(1.5 < t.min() <= t.max() < 8)
    ((1, 12), True)
    """
    import h5py
    import pvlib

    path = Path(pvlib.__file__).parent / "data" / "LinkeTurbidities.h5"
    lat = np.asarray(lat_deg, float)
    lon = np.asarray(lon_deg, float)
    # the table is 2160 x 4320 cells of 1/12 degree, from 90 N and 180 W (as pvlib reads it)
    rows = np.clip(np.floor((90.0 - lat) * 12.0), 0, 2159).astype(int)
    cols = np.clip(np.floor((lon + 180.0) * 12.0), 0, 4319).astype(int)
    with h5py.File(path, "r") as f:
        table = f["LinkeTurbidity"]
        out = np.array([table[r, c, :] for r, c in zip(rows, cols)], float).reshape(len(lat), 12)
    return out / 20.0


def _month_of_doy(doy: np.ndarray) -> np.ndarray:
    starts = np.cumsum([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30])
    return np.searchsorted(starts, doy - 1, side="right") - 1


def solar_cf(lat_deg, lon_deg) -> np.ndarray:
    """Clear-sky plane-of-array irradiance / 1 kW/m² of a fixed, equator-facing plant ``[K, 8760]``
    (UTC hours, unscaled, clipped at 1).

    >>> cf = solar_cf([30.0, -30.0], [0.0, 0.0])
    >>> cf.shape, bool(cf[:, :24].min() == 0.0), bool(0.15 < cf.mean() < 0.35)
    ((2, 8760), True, True)
    """
    from pvlib import atmosphere, clearsky, irradiance

    lat = np.asarray(lat_deg, float)
    doy, hour = hour_of_year()
    zen, az = solar_position(lat, lon_deg, doy, hour)
    up = zen < 90.0
    zen_c = np.where(up, zen, 89.9)
    am = atmosphere.get_relative_airmass(zen_c)  # Kasten & Young; sea level: absolute = relative
    tl = linke_turbidity(lat, lon_deg)[:, _month_of_doy(doy)]
    dni_extra = np.asarray(irradiance.get_extra_radiation(doy), float)[None, :]
    sky = clearsky.ineichen(zen_c, am, tl, altitude=0, dni_extra=dni_extra)
    tilt = np.minimum(np.abs(lat), TILT_CAP_DEG)[:, None]
    surface_az = np.where(lat >= 0, 180.0, 0.0)[:, None]
    cos_aoi = np.cos(np.radians(irradiance.aoi(tilt, surface_az, zen_c, az)))
    ct = np.cos(np.radians(tilt))
    poa = (sky["dni"] * np.maximum(cos_aoi, 0) + sky["dhi"] * (1 + ct) / 2
           + sky["ghi"] * ALBEDO * (1 - ct) / 2)
    return np.clip(np.where(up, np.nan_to_num(poa), 0.0) / 1000.0, 0.0, 1.0)


def wind_power_curve(speed_ms, cut_in=3.0, rated=11.5, cut_out=25.0):
    """Generic IEC class II turbine: share of rated power at hub-height speed (m/s).

    Cubic between cut-in and rated, flat to cut-out, zero beyond.

    >>> wind_power_curve(np.array([2.0, 3.0, 11.5, 20.0, 26.0])).round(3).tolist()
    [0.0, 0.0, 1.0, 1.0, 0.0]
    """
    v = np.asarray(speed_ms, float)
    part = (v ** 3 - cut_in ** 3) / (rated ** 3 - cut_in ** 3)
    return np.where(v < cut_in, 0.0, np.where(v < rated, part, np.where(v <= cut_out, 1.0, 0.0)))


def _site_normals(keys, seed: int, n: int) -> np.ndarray:
    """Standard normal draws ``[K, n]``, each row seeded by (seed, crc32 of the site key)."""
    return np.stack([np.random.default_rng([seed, zlib.crc32(str(k).encode())]).standard_normal(n)
                     for k in keys]) if len(keys) else np.zeros((0, n))


def wind_cf(lat_deg, lon_deg, target_cf, keys, *, seed: int = 0, weibull_k: float = 2.0,
            ar1: float = 0.95, seasonal: float = 0.15, diurnal: float = 0.10) -> np.ndarray:
    """Synthetic hourly wind capacity factor ``[K, 8760]`` (UTC) whose mean is ``target_cf``.

    >>> cf = wind_cf([55.0], [0.0], [0.35], ["W1"])
    >>> round(float(cf.mean()), 3), bool(cf.min() >= 0 and cf.max() <= 1)
    (0.35, True)
    >>> bool(np.array_equal(cf, wind_cf([55.0], [0.0], [0.35], ["W1"])))   # deterministic
    True
    """
    from scipy.signal import lfilter
    from scipy.special import ndtr

    lat = np.asarray(lat_deg, float)[:, None]
    lon = np.asarray(lon_deg, float)[:, None]
    eps = _site_normals(keys, seed, HOURS)
    z = lfilter([np.sqrt(1 - ar1 ** 2)], [1.0, -ar1], eps, axis=1)  # AR(1), unit variance
    u = np.clip(ndtr(z), 1e-12, 1 - 1e-12)
    base = (-np.log1p(-u)) ** (1.0 / weibull_k)  # Weibull(shape k, scale 1) by the copula
    doy, hour = hour_of_year()
    winter_peak = np.where(lat >= 0, 15.0, 196.0)
    local_hour = (hour[None, :] + lon / 15.0) % 24
    shape = (base * (1 + seasonal * np.cos(2 * np.pi * (doy[None, :] - winter_peak) / 365.0))
             * (1 + diurnal * np.cos(2 * np.pi * (local_hour - 15.0) / 24.0)))
    target = np.asarray(target_cf, float)[:, None]
    lo, hi = np.zeros_like(target), np.full_like(target, 30.0)
    for _ in range(50):  # bisection on the Weibull scale (m/s), all sites at once
        mid = (lo + hi) / 2
        low_cf = wind_power_curve(mid * shape).mean(axis=1, keepdims=True) < target
        lo, hi = np.where(low_cf, mid, lo), np.where(low_cf, hi, mid)
    return wind_power_curve((lo + hi) / 2 * shape)


def scale_to_mean(shape, target_mean) -> np.ndarray:
    """``min(1, a * shape)`` per row, with ``a`` chosen so each row's mean is ``target_mean``.

    Hours pushed past 1 are clipped (inverter clipping) and the others scaled up to make up.

    >>> scale_to_mean(np.array([[0.0, 0.5, 1.0, 0.5]]), [0.25]).round(4).tolist()
    [[0.0, 0.25, 0.5, 0.25]]
    >>> scale_to_mean(np.array([[0.0, 0.5, 1.0, 0.5]]), [0.6]).round(4).tolist()
    [[0.0, 0.7, 1.0, 0.7]]
    """
    shape = np.asarray(shape, float)
    target = np.asarray(target_mean, float)[:, None]
    lo, hi = np.zeros_like(target), np.full_like(target, 1.0 / max(shape[shape > 0].min(initial=1), 1e-6))
    for _ in range(60):
        mid = (lo + hi) / 2
        low = np.minimum(1.0, mid * shape).mean(axis=1, keepdims=True) < target
        lo, hi = np.where(low, mid, lo), np.where(low, hi, mid)
    return np.minimum(1.0, (lo + hi) / 2 * shape)


def to_local_days(cf_utc, lon_deg) -> np.ndarray:
    """Roll each site's UTC series by round(lon / 15) hours so hour 0 is local solar midnight.

    Local hour h is UTC hour h - lon / 15 (east of Greenwich the day starts earlier in UTC).

    >>> to_local_days(np.arange(6.0)[None, :], [30.0]).tolist()   # UTC+2: local 00:00 is UTC 22:00
    [[4.0, 5.0, 0.0, 1.0, 2.0, 3.0]]
    >>> noon = to_local_days(solar_cf([35.0, 35.0], [-115.0, 120.0]), [-115.0, 120.0])[:, 180 * 24:181 * 24]
    >>> [bool(11 <= h <= 12) for h in noon.argmax(axis=1)]   # California, China: peak near local noon
    [True, True]
    """
    cf = np.asarray(cf_utc, float)
    shift = np.round(np.asarray(lon_deg, float) / 15.0).astype(int)
    cols = (np.arange(cf.shape[1])[None, :] - shift[:, None]) % cf.shape[1]
    return np.take_along_axis(cf, cols, axis=1)


def representative_days(cf, n_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Typical days of hourly profiles ``[K, 8760]`` -> ``(cf [K, D, 24], weight_days [D])``.

    The method of tsam's default (Kotzur et al., Renewable Energy 117, 2018): Ward hierarchical
    clustering of the 365 days, each day one vector of every site's 24 hours; the medoid day of
    each cluster represents it; each site's weighted mean is then rescaled to its annual mean
    (clipped at 1). Done here with scipy: tsam 4.1 pins pandas <= 3.0.5, which broke a test of
    this project; this is also faster (bench/profiles.py: 0.35 s for 200 sites where tsam took
    1-3.5 s). The weights are days per year (they sum to 365); deterministic.

    >>> days = np.tile(np.r_[np.zeros(12), np.ones(12)], 365)[None, :] * np.repeat(
    ...     np.where(np.arange(365) < 200, 0.5, 1.0), 24)[None, :]
    >>> rep, w = representative_days(days, 2)
    >>> sorted(w.tolist()), bool(np.isclose((rep.sum(axis=2) * w).sum() / 8760, days.mean()))
    ([165.0, 200.0], True)
    """
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import cdist

    cf = np.asarray(cf, float)
    K = cf.shape[0]
    n_days_year = cf.shape[1] // 24
    if K == 0:
        return np.zeros((0, n_days, 24)), np.zeros(n_days)
    daily = cf[:, :n_days_year * 24].reshape(K, n_days_year, 24)
    X = daily.transpose(1, 0, 2).reshape(n_days_year, K * 24)  # one row per day
    labels = fcluster(linkage(X, method="ward"), t=n_days, criterion="maxclust") - 1
    clusters = np.unique(labels)
    medoids = []
    for c in clusters:  # one small distance matrix per cluster (at most 365 x 365)
        members = np.flatnonzero(labels == c)
        medoids.append(members[cdist(X[members], X[members]).sum(axis=1).argmin()])
    weights = np.array([np.sum(labels == c) for c in clusters], float)
    rep = daily[:, medoids, :]  # [K, D, 24]
    target = cf.mean(axis=1)[:, None, None]
    for _ in range(20):  # rescale to the annual mean; clipping at 1 needs a few rounds
        mean = (rep.mean(axis=2) * weights).sum(axis=1)[:, None, None] / weights.sum()
        rep = np.minimum(1.0, rep * np.where(mean > 0, target / np.where(mean > 0, mean, 1.0), 1.0))
    return rep, weights
