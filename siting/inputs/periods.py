"""Investment periods: the time axis of a build-out (``time:`` in a scenario), as plain arrays.

A :class:`Periods` record tells the model how many periods there are, what each is worth in
present value, how demand and training grow, and when each candidate and each fiber lateral can
first be in use (time to power). Money: every cost coefficient of :class:`SitingInputs` is a
present value over ``money.lifetime_years`` (capex as annuities over its life, the convention
of :func:`siting.costs.pv_of_capex`); a period's cost is that figure times the period's
``weight`` = (discount factors of the period's years) / (those of the whole lifetime). So a
capacity built in period t and kept pays its capex once, as the annuities of the years it is in
use up to the horizon (the rest is its salvage value), its O&M, energy and staff every year in
use; with one period standing for the whole lifetime the weight is exactly 1 (today's model).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .. import costs
from ..errors import ScenarioError

__all__ = ["Periods", "period_weights", "first_period", "make_periods", "compute_per_mw", "one_period_only"]


@dataclass(frozen=True)
class Periods:
    """years[P] (start year of each period, increasing), end_year (end of the horizon),
    weight[P] (PV share, see the module), build_years[P] (years of building before period t:
    ``first_build_years`` for the first, the gap between starts after), demand_factor[P, R]
    (x each region's inference MW), training_mw[P], site_first[K] and fiber_first[K] (first
    period a site can be open / its lateral in use; P: never), ramp_per_year and
    seed_mw_per_year (new IT MW a year <= ramp x IT MW + seed, per site; None: no limit),
    jurisdiction[K] (index into jurisdiction_cap_mw_per_year, -1: no cap) with
    jurisdiction_names, modules_per_year (None: no delivery limit), compute_per_mw[P, P]
    (chip generations, :func:`compute_per_mw`; None: a MW is a MW of compute in every period)."""

    years: np.ndarray
    end_year: int
    weight: np.ndarray
    build_years: np.ndarray
    demand_factor: np.ndarray
    training_mw: np.ndarray
    site_first: np.ndarray
    fiber_first: np.ndarray
    ramp_per_year: float | None = None
    seed_mw_per_year: float | None = None
    jurisdiction: np.ndarray | None = None
    jurisdiction_cap_mw_per_year: np.ndarray | None = None
    jurisdiction_names: tuple = ()
    modules_per_year: float | None = None
    compute_per_mw: np.ndarray | None = None  # [P, P] g[v, t] or [P, P, C] (racks): compute per MW in t of v's MW

    @property
    def P(self) -> int:
        return len(self.years)

    def first(self, n: int) -> Periods:
        """The first ``n`` periods only, each keeping its weight (what a myopic planner sees at
        period n - 1: the later ones do not exist for it)."""
        if n >= self.P:
            return self
        return dataclasses.replace(self, years=self.years[:n], end_year=int(self.years[n]), weight=self.weight[:n],
                                   build_years=self.build_years[:n], demand_factor=self.demand_factor[:n],
                                   training_mw=self.training_mw[:n],
                                   compute_per_mw=None if self.compute_per_mw is None else self.compute_per_mw[:n, :n])

    def span_years(self) -> np.ndarray:
        """Years each period stands for (until the next, the last until ``end_year``)."""
        return np.diff(np.append(self.years, self.end_year))


def period_weights(years, end_year, rate, lifetime_years) -> np.ndarray:
    """PV share of each period: the discount factors of its years over those of the lifetime,
    counted from the first year (a period of the whole lifetime weighs exactly 1).

    >>> period_weights([2026], 2051, 0.07, 25).tolist()
    [1.0]
    >>> w = period_weights([2026, 2028], 2051, 0.0, 25); w.tolist()
    [0.08, 0.92]
    >>> round(float(period_weights([2026, 2027], 2028, 0.1, 2)[1]), 6)  # (1/1.1^2) / (1/1.1 + 1/1.1^2)
    0.47619
    """
    years = np.asarray(years, float)
    edges = np.append(years, end_year) - years[0]
    pvf = costs.pv_annuity_factor(rate, edges)
    return (pvf[1:] - pvf[:-1]) / costs.pv_annuity_factor(rate, lifetime_years)


def first_period(ready_year, years) -> np.ndarray:
    """Index of the first period starting at or after ``ready_year`` (len(years): never).

    >>> first_period([2026, 2027.5, 2028, 2040], [2026, 2028, 2030]).tolist()
    [0, 1, 1, 3]
    """
    return np.searchsorted(np.asarray(years, float), np.asarray(ready_year, float) - 1e-9, side="left")


def compute_per_mw(years, gen_year, gen_compute, life_years, gen_rack_kw=None, cooling_rack_kw=None) -> np.ndarray:
    """g[v, t]: compute per MW (x the reference generation) in period t of IT built in period v:
    the newest generation available when it was built, replaced by the newest one each time it
    reaches ``life_years`` (a refresh in the same MW); 0 before it is built (t < v).

    With racks (``gen_rack_kw`` per generation, ``cooling_rack_kw`` per cooling technology):
    g[v, t, c], the newest generation whose racks cooling c carries (rack kW <= the cooling's);
    0 where it carries none. A cooling that cannot take the newest racks gets older chips.

    >>> compute_per_mw([2026, 2029, 2032], [2022, 2028], [1.0, 2.0], 3).tolist()
    [[1.0, 2.0, 2.0], [0.0, 2.0, 2.0], [0.0, 0.0, 2.0]]
    >>> compute_per_mw([2026, 2029], [2022, 2028], [1.0, 2.0], 10).tolist()  # no refresh within life
    [[1.0, 1.0], [0.0, 2.0]]
    >>> g = compute_per_mw([2026, 2029], [2022, 2028], [1.0, 2.0], 3, [40, 130], [25, 40, 120, 200])
    >>> g[:, 1].tolist()  # built 2026 and 2029, in 2029: air none, evaporative H100 only, liquid the new chips
    [[0.0, 1.0, 1.0, 2.0], [0.0, 1.0, 1.0, 2.0]]
    """
    years = np.asarray(years, float)
    gen_year, gen_compute = np.asarray(gen_year, float), np.asarray(gen_compute, float)
    racks = gen_rack_kw is not None and cooling_rack_kw is not None
    fits = (np.asarray(gen_rack_kw, float)[None, :] <= np.asarray(cooling_rack_kw, float)[:, None] if racks
            else np.ones((1, len(gen_year)), bool))  # [C, G]

    since = np.concatenate([[-np.inf], gen_year[1:]])  # before the first generation: the first

    def newest(year):  # [..., C]: the newest generation each cooling carries by ``year``
        ok = fits & (since <= np.asarray(year, float)[..., None, None])
        last = len(gen_year) - 1 - np.argmax(ok[..., ::-1], axis=-1)
        return np.where(ok.any(axis=-1), gen_compute[last], 0.0)

    v, t = np.meshgrid(np.arange(len(years)), np.arange(len(years)), indexing="ij")
    age = years[t] - years[v]
    refreshed = years[v] + np.floor(np.maximum(age, 0) / life_years + 1e-9) * life_years
    g = np.where((t >= v)[..., None], newest(refreshed), 0.0)
    return g if racks else g[..., 0]


def _compute(g, P: int) -> np.ndarray:
    """g[v, t] or, with racks, g[v, t, c] (:func:`compute_per_mw`) over ``P`` periods."""
    g = np.asarray(g, float)
    if g.ndim not in (2, 3) or g.shape[:2] != (P, P):
        raise ScenarioError(f"time: compute per MW has shape {g.shape}, not ({P}, {P}) or ({P}, {P}, coolings)")
    return g


def _check_years(years, end_year) -> None:
    years = np.asarray(years)
    if years.size == 0:
        raise ScenarioError("time.years: list at least one period")
    bad = np.flatnonzero(np.diff(years) <= 0)
    if bad.size:
        i = int(bad[0]) + 1
        raise ScenarioError(f"time.years[{i}]: {years[i]} is not after {years[i - 1]} "
                            "(periods must be increasing, without duplicates)")
    if end_year <= years[-1]:
        raise ScenarioError(f"time.end_year: {end_year} is not after the last period's start ({years[-1]})")


def make_periods(years, *, K: int, R: int, rate: float, lifetime_years: float, end_year=None,
                 first_build_years: float = 1.0, demand_factor=None, training_mw=0.0,
                 site_ready_year=None, fiber_ready_year=None, ramp_per_year=None, seed_mw_per_year=None,
                 jurisdiction=None, jurisdiction_cap_mw_per_year=None, jurisdiction_names=(),
                 modules_per_year=None, compute=None) -> Periods:
    """A checked :class:`Periods` record from plain figures (the scenario's ``time:`` block, or a
    test's numbers). ``end_year`` defaults to the first year + ``lifetime_years``;
    ``demand_factor`` [P, R] (or [P]) defaults to 1; ``training_mw`` scalar or [P];
    ``*_ready_year`` [K]: the year a site (its lateral) can first be in use (default: the first);
    ``compute`` [P, P]: chip generations (:func:`compute_per_mw`; None: off).
    """
    years = np.asarray(years, np.int64)
    end_year = int(years[0] + lifetime_years) if end_year is None and years.size else end_year
    _check_years(years, end_year)
    P = len(years)
    factor = np.ones((P, R)) if demand_factor is None else np.asarray(demand_factor, float)
    factor = factor[:, None] * np.ones((1, R)) if factor.ndim == 1 else factor
    if factor.shape != (P, R):
        raise ScenarioError(f"time.demand_growth: {factor.shape} factors, expected (periods, regions) = {(P, R)}")
    train = np.broadcast_to(np.asarray(training_mw, float), (P,)).copy()
    for name, v in (("time.demand_growth", factor), ("time.training_mw", train)):
        bad = np.argwhere(~np.isfinite(v) | (v < 0))
        if bad.size:
            raise ScenarioError(f"{name}: {v[tuple(bad[0])]} at {bad[0].tolist()} is not a number >= 0")
    for name, v in (("time.ramp_per_year", ramp_per_year), ("time.seed_mw_per_year", seed_mw_per_year),
                    ("time.modules_per_year", modules_per_year), ("time.first_build_years", first_build_years)):
        if v is not None and not (np.isfinite(v) and v >= 0):
            raise ScenarioError(f"{name}: {v} is below zero (or not a number)")
    site_first = first_period(np.full(K, years[0]) if site_ready_year is None else site_ready_year, years)
    fiber_first = first_period(np.full(K, years[0]) if fiber_ready_year is None else fiber_ready_year, years)
    build = np.append(float(first_build_years), np.diff(years).astype(float))
    caps = None if jurisdiction_cap_mw_per_year is None else np.asarray(jurisdiction_cap_mw_per_year, float)
    if caps is not None and ((caps < 0) | ~np.isfinite(caps)).any():
        i = int(np.flatnonzero((caps < 0) | ~np.isfinite(caps))[0])
        raise ScenarioError(f"time.jurisdiction_new_mw_per_year.{jurisdiction_names[i] if jurisdiction_names else i}: "
                            f"{caps[i]} is below zero")
    return Periods(years, int(end_year), period_weights(years, end_year, rate, lifetime_years), build, factor,
                   train, site_first.astype(np.int64), fiber_first.astype(np.int64), ramp_per_year,
                   seed_mw_per_year, None if jurisdiction is None else np.asarray(jurisdiction, np.int64), caps,
                   tuple(jurisdiction_names), modules_per_year,
                   None if compute is None else _compute(compute, P))


def one_period_only(periods: Periods | None, command: str) -> None:
    """Refuse a build-out (more than one period) for a study that reads one period's plan.

    >>> one_period_only(None, "siting pareto")
    >>> try:
    ...     one_period_only(make_periods([2026, 2028], K=1, R=1, rate=0.0, lifetime_years=4), "siting pareto")
    ... except ScenarioError as e:
    ...     print(str(e)[:74])
    time.years: siting pareto reads one period's plan, and this scenario has 2
    """
    if periods is not None and periods.P > 1:
        raise ScenarioError(f"time.years: {command} reads one period's plan, and this scenario has {periods.P} "
                            f"investment periods ({periods.years[0]}..{periods.years[-1]}); solve the build-out "
                            "with `siting solve`, or drop time.years for the one-period study")
