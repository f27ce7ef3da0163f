"""Out-of-sample evaluation of first-stage plans (``siting stochastic --out-of-sample N``).

A plan chosen on one scenario sample is judged on a fresh one (another seed): each plan's first
stage is fixed and every fresh scenario's second stage re-solved (:func:`siting.stochastic.operate`),
so a plan that only looked good on the sample it was fitted to shows it. The summary per plan is
the probability-weighted mean cost, a Student-t confidence interval of that mean (the fresh
scenarios are equally likely independent draws), CVaR at the set's level, and the same for the
paired difference of the two plans (Mak, Morton and Wood, "Monte Carlo bounding techniques for
determining solution quality in stochastic programs", Oper. Res. Letters 24, 1999: the paired
estimator has the smaller variance).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .errors import ScenarioError
from .inputs.inputs import SitingInputs
from .inputs.uncertainty import Uncertainty
from .model.stochastic import StochasticModel, two_stage
from .solve import SolveOptions
from .solve.twostage import cvar
from .stochastic import operate

__all__ = ["CONFIDENCE", "Estimate", "mean_interval", "evaluate_plans", "summarise"]

CONFIDENCE = 0.95  # two-sided level of the intervals (the usual 95 %)


@dataclass(frozen=True)
class Estimate:
    """A sample mean with its two-sided ``CONFIDENCE`` interval (nan where it has none)."""

    mean: float
    low: float
    high: float
    n: int


def mean_interval(values, probabilities=None, level: float = CONFIDENCE) -> Estimate:
    """The mean of ``values`` and its Student-t interval mean +- t_{(1+level)/2, n-1} s / sqrt(n)
    (equally likely draws; unequal probabilities give the weighted mean and no interval).

    >>> e = mean_interval([2.0, 14.0]); e.mean, round(e.high - e.mean, 3)  # t(0.975, 1) = 12.706, s = 8.485
    (8.0, 76.237)
    >>> mean_interval([6.0, 6.0, 6.0])
    Estimate(mean=6.0, low=6.0, high=6.0, n=3)
    """
    v = np.asarray(values, float)
    n = v.size
    p = np.full(n, 1.0 / n) if probabilities is None else np.asarray(probabilities, float)
    mean = float(p @ v) if np.all(np.isfinite(v)) else math.inf
    if n < 2 or not np.allclose(p, 1.0 / n) or not math.isfinite(mean):
        return Estimate(mean, math.nan, math.nan, n)
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * v.std(ddof=1) / math.sqrt(n))
    return Estimate(mean, mean - half, mean + half, n)


def evaluate_plans(inp: SitingInputs, unc: Uncertainty, plans: Mapping[str, np.ndarray], like: StochasticModel,
                   opts: SolveOptions, progress: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Each plan's (first stage as in ``like``, the model it was solved on) whole cost and unmet
    MW on every scenario of ``unc``, its second stage re-solved: one row per scenario, columns
    ``scenario, probability`` and ``<plan>_cost_musd, <plan>_unmet_mw`` per plan."""
    say = progress or (lambda _m: None)
    model = two_stage(inp, unc)
    if not np.array_equal(model.first, like.first):
        raise ScenarioError("--out-of-sample: the fresh scenarios give the model other decisions than the sample "
                            "the plans were solved on; cannot evaluate them")
    rows = []
    for s, sc in enumerate(unc.scenarios):
        row = {"scenario": sc.name, "probability": sc.probability}
        for name, x1 in plans.items():
            row[f"{name}_cost_musd"], row[f"{name}_unmet_mw"] = operate(model, s, x1, opts)
        rows.append(row)
        say(f"out of sample: scenario {s + 1}/{len(unc.scenarios)} evaluated")
    return pd.DataFrame(rows)


def summarise(table: pd.DataFrame, plans: list[str], alpha: float) -> dict:
    """Per plan (and for the paired difference ``plans[1] - plans[0]``): mean, interval, CVaR at ``alpha``."""
    p = table["probability"].to_numpy(float)
    out = {}
    for name in plans:
        c = table[f"{name}_cost_musd"].to_numpy(float)
        e = mean_interval(c, p)
        out[name] = {"mean_musd": e.mean, "ci_low_musd": e.low, "ci_high_musd": e.high, "cvar_musd": cvar(c, p, alpha)}
    if len(plans) == 2:
        d = table[f"{plans[1]}_cost_musd"].to_numpy(float) - table[f"{plans[0]}_cost_musd"].to_numpy(float)
        e = mean_interval(d, p)
        out[f"{plans[1]}_minus_{plans[0]}"] = {"mean_musd": e.mean, "ci_low_musd": e.low, "ci_high_musd": e.high}
    return {"scenarios": len(table), "confidence": CONFIDENCE, "cvar_alpha": alpha} | out
