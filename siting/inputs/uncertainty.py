"""A scenario set for two-stage siting (the ``uncertainty:`` block): each scenario a probability
and changes to firm power by basin or country (the share a drought takes), demand growth and
prices; checked against the regions the inputs know (one clear error naming field and row); and
a seeded generator of correlated scenarios (a drought takes a whole basin at once, demand grows
everywhere together) whose parameters are in ``data/uncertainty.csv`` with their sources.

Not wired into the siting statement yet: that is done once the scenario dimension of the
families exists (issue 22, after the period dimension of issue 20).

>>> u = read_uncertainty({"scenarios": [{"name": "wet", "probability": 0.75},
...                       {"name": "dry", "probability": 0.25, "drought": {"Yangtze": 0.5}}]}, {"Yangtze"})
>>> [(s.name, s.probability, dict(s.drought)) for s in u.scenarios]
[('wet', 0.75, {}), ('dry', 0.25, {'Yangtze': 0.5})]
"""

from __future__ import annotations

import csv
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import numpy as np
from pydantic import AllowInfNan, BaseModel, ConfigDict, Field, Strict, ValidationError
from scipy.stats import norm

from ..errors import ScenarioError, clip
from ..paths import DATA_DIR

__all__ = ["PriceChanges", "UncertainScenario", "Uncertainty", "read_uncertainty", "read_risk", "DroughtRisk",
           "UncertaintyDefaults", "uncertainty_defaults", "correlated_scenarios", "PROBABILITY_TOL"]

PROBABILITY_TOL = 1e-9
DATA = DATA_DIR / "uncertainty.csv"
Num = Annotated[float, Strict(), AllowInfNan(False)] | Annotated[int, Strict()]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PriceChanges(_Strict):
    """Multipliers of the reference prices in one scenario (1: unchanged)."""

    energy: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1.0
    satellite: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1.0
    carbon: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 1.0


class UncertainScenario(_Strict):
    """One scenario: probability; per basin or country the share of firm power a drought takes
    (0: none, 1: all); demand growth factor (1: as the inputs say); price multipliers."""

    name: str
    probability: float
    drought: dict[str, float] = {}
    demand_growth: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1.0
    prices: PriceChanges = PriceChanges()


def _shipped(key: str) -> float:
    with open(DATA, newline="") as fh:
        return next(float(r["value"]) for r in csv.DictReader(fh) if r["key"] == key)


class RiskMeasure(_Strict):
    """The risk-averse objective: expected cost + ``cvar_weight`` x CVaR at level ``cvar_alpha``
    of the scenario cost (defaults in data/uncertainty.csv: 0, risk-neutral; 0.95)."""

    cvar_weight: Annotated[float, Field(ge=0, allow_inf_nan=False,
                                        default_factory=lambda: _shipped("risk.cvar_weight"))]
    cvar_alpha: Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False,
                                       default_factory=lambda: _shipped("risk.cvar_alpha"))]


class Uncertainty(RiskMeasure):
    scenarios: Annotated[list[UncertainScenario], Field(min_length=1)]


def read_risk(raw: Mapping | None) -> RiskMeasure:
    """The ``cvar_weight`` / ``cvar_alpha`` of an ``uncertainty:`` block alone (its scenarios
    not read: generated scenarios keep the block's risk measure). One :class:`ScenarioError`
    naming the field.

    >>> read_risk({"cvar_weight": 2, "scenarios": []}).cvar_weight, read_risk(None).cvar_alpha
    (2.0, 0.95)
    """
    part = {k: v for k, v in (raw or {}).items() if k in RiskMeasure.model_fields} if isinstance(raw, Mapping) else {}
    try:
        return RiskMeasure.model_validate(part)
    except ValidationError as e:
        err = e.errors()[0]
        raise ScenarioError(f"uncertainty: field '{'.'.join(str(x) for x in err['loc'])}': {err['msg']}") from None


def _row(raw, k: int) -> str:
    name = raw[k].get("name") if isinstance(raw, list) and k < len(raw) and isinstance(raw[k], dict) else None
    return f"uncertainty.scenarios[{k}]" + (f" ({clip(repr(name))})" if name is not None else "")


def read_uncertainty(raw: Mapping, regions: Collection[str]) -> Uncertainty:
    """The ``uncertainty:`` block checked: schema, each probability in [0, 1] and their sum 1,
    each drought share in [0, 1], each drought region one of ``regions`` (basins or countries).
    Raises :class:`ScenarioError` naming the scenario (row) and the field."""
    scen = raw.get("scenarios") if isinstance(raw, Mapping) else None
    try:
        u = Uncertainty.model_validate(raw)
    except ValidationError as e:
        err = e.errors()[0]
        loc = list(err["loc"])
        if len(loc) >= 2 and loc[0] == "scenarios" and isinstance(loc[1], int):
            where, field = _row(scen, loc[1]), ".".join(str(x) for x in loc[2:]) or "(the scenario)"
        else:
            where, field = "uncertainty", ".".join(str(x) for x in loc) or "(the block)"
        raise ScenarioError(f"{where}: field '{field}': {err['msg']}") from None
    known = set(regions)
    for k, s in enumerate(u.scenarios):
        if not (math.isfinite(s.probability) and 0.0 <= s.probability <= 1.0):
            raise ScenarioError(f"{_row(scen, k)}: field 'probability': {s.probability!r} is outside [0, 1]")
        for region, share in s.drought.items():
            if region not in known:
                hint = ", ".join(sorted(known)[:8]) + (" ..." if len(known) > 8 else "")
                raise ScenarioError(f"{_row(scen, k)}: field 'drought.{clip(region)}': unknown basin or country "
                                    f"(known: {hint or 'none'})")
            if not (math.isfinite(share) and 0.0 <= share <= 1.0):
                raise ScenarioError(f"{_row(scen, k)}: field 'drought.{clip(region)}': share {share!r} is outside "
                                    "[0, 1] (the share of firm power a drought takes)")
    total = math.fsum(s.probability for s in u.scenarios)
    if abs(total - 1.0) > PROBABILITY_TOL:
        raise ScenarioError(f"uncertainty.scenarios: field 'probability': the probabilities sum to {total:.12g}, "
                            "not 1")
    names = [s.name for s in u.scenarios]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise ScenarioError(f"uncertainty.scenarios[{names.index(dup, names.index(dup) + 1)}] ({clip(repr(dup))}): "
                            "field 'name': used by another scenario")
    return u


@dataclass(frozen=True)
class DroughtRisk:
    """A basin's (or country's) dry years: how often, and the share of firm power one takes."""

    dry_year_probability: float
    share_low: float
    share_high: float


@dataclass(frozen=True)
class UncertaintyDefaults:
    """The generator's parameters as shipped (data/uncertainty.csv, every one with its source)."""

    dry_year_probability: float
    drought_share_low: float
    drought_share_high: float
    basin_correlation: float
    demand_growth_median: float
    demand_growth_sigma: float

    def risk(self) -> DroughtRisk:
        return DroughtRisk(self.dry_year_probability, self.drought_share_low, self.drought_share_high)


def uncertainty_defaults(path: Path = DATA) -> UncertaintyDefaults:
    with open(path, newline="") as fh:
        rows = {r["key"]: float(r["value"]) for r in csv.DictReader(fh)}
    return UncertaintyDefaults(rows["drought.dry_year_probability"], rows["drought.share_low"],
                               rows["drought.share_high"], rows["drought.basin_correlation"],
                               rows["demand.growth_median_factor"], rows["demand.growth_sigma_log"])


def correlated_scenarios(n: int, risks: Mapping[str, DroughtRisk], *, correlation: float, growth_median: float,
                         growth_sigma: float, seed: int) -> Uncertainty:
    """``n`` equally likely scenarios. Droughts: a one-factor Gaussian copula across regions
    (z_r = sqrt(rho) Z + sqrt(1 - rho) e_r; region r is dry where Phi(z_r) < its dry-year
    probability), so dry years come together; a dry region loses one share, drawn uniformly in its
    [low, high], at every site in it (basin-wide). Demand grows by one common lognormal factor
    (median ``growth_median``, log-sd ``growth_sigma``). Prices are left at the reference.

    >>> r = {"A": DroughtRisk(0.5, 0.2, 0.5), "B": DroughtRisk(0.5, 0.2, 0.5)}
    >>> u = correlated_scenarios(4, r, correlation=1.0, growth_median=1.0, growth_sigma=0.0, seed=1)
    >>> [sorted(s.drought) in ([], ["A", "B"]) for s in u.scenarios], {s.demand_growth for s in u.scenarios}
    ([True, True, True, True], {1.0})
    """
    if n < 1:
        raise ScenarioError(f"uncertainty.generate: field 'scenarios': {n!r} must be at least 1")
    if not 0.0 <= correlation <= 1.0:
        raise ScenarioError(f"uncertainty.generate: field 'correlation': {correlation!r} is outside [0, 1]")
    rng = np.random.default_rng(seed)
    names = list(risks)
    common = rng.standard_normal(n)
    own = rng.standard_normal((n, len(names)))
    z = math.sqrt(correlation) * common[:, None] + math.sqrt(1.0 - correlation) * own
    u = norm.cdf(z)
    shares = rng.uniform(size=(n, len(names)))
    growth = growth_median * np.exp(growth_sigma * rng.standard_normal(n))
    out = []
    for k in range(n):
        drought = {}
        for j, r in enumerate(names):
            risk = risks[r]
            if u[k, j] < risk.dry_year_probability:
                drought[r] = float(risk.share_low + (risk.share_high - risk.share_low) * shares[k, j])
        out.append({"name": f"sample {k + 1}", "probability": 1.0 / n, "drought": drought,
                    "demand_growth": float(growth[k])})
    # equal probabilities 1/n sum to 1 within rounding: give the last one the remainder
    out[-1]["probability"] = 1.0 - (n - 1) * (1.0 / n)
    return read_uncertainty({"scenarios": out}, names)
