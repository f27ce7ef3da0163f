"""Near-optimal alternatives (modelling to generate alternatives, MGA): which sites a plan needs.

Solve the optimum, add the cost row ``c x + offset <= (1 + slack) * optimum`` to the standard form
(one more row: the matrix is not rebuilt), then solve ``count`` times with the Hop-Skip-Jump
objective: minimise the number of already-used sites a plan opens (the indicator of every site
open in any plan so far), with the plan's cost as a tie-break worth less than one site. Each
alternative is the cheapest plan within the slack that re-uses the fewest sites seen so far.

Why this variant and not "maximise the Hamming distance to each previous plan": that one rewards
opening sites no plan used (its coefficients are ``2 n_k - P``, negative for unused sites), so
it fills the slack with extra sites that are there only to be different; the union objective
only ever asks "can the demand be met within the slack without these sites?", so a site open in
every alternative is one the plan cannot do without (a must-have), and the rest are
interchangeable.

The slack is measured from the optimum when it is proven with no gap, else from the solver's
bound (a lower bound of the true optimum), so every plan is provably within the slack of the true
optimum; a plan not proven within the gap is warned about. Every alternative opens a set of sites
no earlier plan opened (one "no-good" row per plan), so no plan repeats and ``in_plans`` counts
distinct plans.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ScenarioError
from ..inputs.inputs import SitingInputs
from ..inputs.periods import one_period_only
from ..model.decisions import Decisions
from ..solve import SolveOptions, SolveReport, StandardForm, Termination

__all__ = ["Alternative", "Alternatives", "Role", "Kind", "with_cost_row", "without_plans", "slack_reference",
           "alternatives", "alternatives_of_inputs",
           "site_table", "plan_table", "render_sites_png", "write_alternatives", "ALTERNATIVE_FILES"]

ALTERNATIVE_FILES = ("alternatives.csv", "sites_in_alternatives.csv", "alternatives.png", "summary.json")
MAX_COUNT = 50
TIE_BREAK = 0.5  # the cost term's largest value in the MGA objective: under one site's weight


class Role(enum.StrEnum):
    """A candidate site across the plans: open in every one, in some, or in none."""

    MUST_HAVE = "must-have"
    INTERCHANGEABLE = "interchangeable"
    NEVER = "never"


class Kind(enum.StrEnum):
    OPTIMUM = "optimum"
    ALTERNATIVE = "alternative"


@dataclass(frozen=True)
class Alternative:
    """One plan: 0 is the optimum; its true PV cost (M$, from ``sf.c``) and the solver's report."""

    index: int
    cost_musd: float
    decisions: Decisions
    report: SolveReport
    same_as: int | None = None  # the first earlier plan with the same open sites


@dataclass
class Alternatives:
    plans: list[Alternative]
    sites: pd.DataFrame
    table: pd.DataFrame
    inputs: SitingInputs
    slack: float
    name: str = "scenario"
    notes: list[str] = field(default_factory=list)
    reference: float | None = None  # the cost the slack is measured from (M$)
    reference_kind: str = "optimum"  # "optimum" (proven, no gap) or "bound" (the solver's lower bound)

    @property
    def optimum(self) -> float:
        return self.plans[0].cost_musd


def check_args(slack: float, count: int) -> None:
    """``slack`` in (0, 1], ``count`` a whole number in 1..50; else one error naming the field."""
    if not (isinstance(slack, int | float) and math.isfinite(slack) and 0 < slack <= 1):
        raise ScenarioError(f"--slack: {slack!r} must be a share of the optimum in (0, 1], e.g. 0.05")
    if isinstance(count, bool) or not isinstance(count, int | np.integer) or not 1 <= count <= MAX_COUNT:
        raise ScenarioError(f"--count: {count!r} must be a whole number from 1 to {MAX_COUNT}")


def with_cost_row(sf: StandardForm, limit: float) -> StandardForm:
    """``sf`` with one more row, ``c x <= limit - offset`` (the plan's cost at most ``limit``)."""
    from scipy import sparse

    A = sparse.vstack([sparse.csr_array(sf.A), sparse.csr_array(sf.c.reshape(1, -1))]).tocsc()
    return dataclasses.replace(sf, A=A, row_lower=np.append(sf.row_lower, -np.inf),
                               row_upper=np.append(sf.row_upper, limit - sf.offset))


def without_plans(sf: StandardForm, open_cols: np.ndarray, plans: list[np.ndarray]) -> StandardForm:
    """``sf`` with one "no-good" row per plan: its open sites ``S`` (a boolean per site) may not come
    back as they are, ``sum_{k not in S} open_k - sum_{k in S} open_k >= 1 - |S|`` (at least one
    site of ``S`` closed or one other opened)."""
    from scipy import sparse

    if not plans:
        return sf
    have = open_cols >= 0
    rows = np.zeros((len(plans), sf.shape[1]))
    for i, opened in enumerate(plans):
        rows[i, open_cols[have]] = np.where(opened[have], -1.0, 1.0)
    lower = np.array([1.0 - float(opened[have].sum()) for opened in plans])
    A = sparse.vstack([sparse.csr_array(sf.A), sparse.csr_array(rows)]).tocsc()
    return dataclasses.replace(sf, A=A, row_lower=np.append(sf.row_lower, lower),
                               row_upper=np.append(sf.row_upper, np.full(len(plans), np.inf)))


def slack_reference(report: SolveReport, optimum: float) -> tuple[float, str]:
    """The cost the slack is measured from, and what it is: the optimum's cost when it is proven with
    no gap left, else the solver's bound (a lower bound of the true optimum, so every plan within
    ``(1 + slack)`` of it is provably within ``slack`` of the true optimum).

    >>> from siting.solve import SolutionStatus, Termination
    >>> r = SolveReport(Termination.TIME_LIMIT, SolutionStatus.FEASIBLE, 101.0, 99.0, 0.0198, 0, 0)
    >>> slack_reference(r, 101.0)
    (99.0, 'bound')
    >>> slack_reference(SolveReport(Termination.OPTIMAL, SolutionStatus.OPTIMAL, 100.0, 100.0, 0.0, 0, 0), 100.0)
    (100.0, 'optimum')
    """
    bound = report.best_bound
    if bound is None or not math.isfinite(bound) or bound >= optimum - 1e-9 * max(1.0, abs(optimum)):
        return optimum, "optimum"
    return float(bound), "bound"


def alternatives_of_inputs(inp: SitingInputs, opts: SolveOptions, *, slack: float = 0.05, count: int = 3,
                           name: str = "scenario", time_limit_s: float | None = None,
                           progress: Callable[[str], None] | None = None) -> Alternatives:
    """The optimum and up to ``count`` near-optimal alternatives, each with its own set of open sites,
    provably within ``slack`` of the true optimum. Every solve takes the pipeline's path
    (:func:`siting.pipeline.solve_model`): the model is checked for memory and compiled once; the
    scenario is checked and, when infeasible, explained as ``siting solve`` explains it; every
    plan passes the independent post-check.

    The slack is measured from :func:`slack_reference`: the optimum when it is proven with no gap,
    else the solver's bound (with a warning when the optimum is not proven within the gap asked
    for). Each alternative's site set differs from every earlier plan's (:func:`without_plans`);
    when no further one fits in the slack the run stops and says so."""
    from ..pipeline import check_decisions, explain_no_plan, precheck, solve_model

    check_args(slack, count)
    say = progress or (lambda _m: None)
    one_period_only(inp.periods, "siting alternatives")  # a build-out's studies are not yet over periods (issue 20)
    precheck(inp, progress=say)
    say("solving the optimum")
    first = solve_model(inp, opts, progress=say)
    if first.x is None:
        explain_no_plan(inp, opts, first.report, progress=say)
    comp = first.compiled
    optimum = float(comp.sf.c @ first.x + comp.sf.offset)
    check_decisions(inp, first.decisions, first.report, where="the optimum", objective=optimum)
    plans = [Alternative(0, optimum, first.decisions, first.report)]
    ref, what = slack_reference(first.report, optimum)
    limit = (1 + slack) * ref
    gap = "n/a" if first.report.gap is None else f"{first.report.gap:.3%}"
    notes = [f"the slack is measured from the {what} ({ref:,.3f} M$; best plan {optimum:,.3f} M$, gap {gap}): "
             f"every plan costs at most {limit:,.3f} M$, within {slack:.1%} of the true optimum"]
    if not first.report.proven_optimal:
        warning = (f"warning: the optimum is not proven ({first.report.termination}, gap {gap}); the slack is "
                   f"measured from the solver's bound, so the alternatives have less room than {slack:.1%} "
                   "of the best plan (raise --time-limit for a proven optimum)")
        say(warning)
        notes.append(warning)
    sf = with_cost_row(comp.sf, limit)
    open_cols = comp.columns["open"]
    tie = comp.sf.c * (TIE_BREAK / max(abs(limit), 1e-9))
    alt_opts = dataclasses.replace(opts, time_limit_s=time_limit_s or opts.time_limit_s)
    used = plans[0].decisions.open.copy()
    say(f"optimum {optimum:,.1f} M$ with {int(used.sum())} sites; alternatives with other site sets "
        f"within {slack:.1%} of the {what} (PV cost <= {limit:,.1f} M$)")
    for i in range(1, count + 1):
        c = tie.copy()
        c[open_cols[used]] += 1.0
        distinct = without_plans(sf, open_cols, [p.decisions.open for p in plans])
        # the scenario's strategy (LP, restricted MIP, full MIP); no start: the no-good rows exclude
        # every earlier plan
        done = solve_model(inp, alt_opts, compiled=comp, sf=dataclasses.replace(distinct, c=c, offset=0.0),
                           progress=say)
        rep = done.report
        if rep.x is None:
            why = ("no other set of sites fits within the slack" if rep.termination in
                   (Termination.INFEASIBLE, Termination.INFEASIBLE_OR_UNBOUNDED)
                   else f"the solver ended '{rep.termination}' without one")
            say(f"alternative {i}: none ({why}); stopping")
            notes.append(f"{len(plans) - 1} of {count} alternatives: {why}")
            break
        dec = done.decisions
        cost = float(comp.sf.c @ rep.x + comp.sf.offset)
        check_decisions(inp, dec, rep, where=f"alternative {i}", objective=cost)
        plans.append(Alternative(i, cost, dec, rep, None))
        say(f"alternative {i}: {int(dec.open.sum())} sites, {int((dec.open & used).sum())} of them used before, "
            f"PV cost {cost:,.1f} M$ (+{cost / optimum - 1:.2%}, {rep.termination})")
        used |= dec.open
    return Alternatives(plans, site_table(plans, inp), plan_table(plans, inp), inp, slack, name, notes,
                        reference=ref, reference_kind=what)


def alternatives(scenario, slack: float = 0.05, count: int = 3, *, options: SolveOptions | None = None,
                 time_limit_s: float | None = None,
                 progress: Callable[[str], None] | None = None) -> Alternatives:
    """Near-optimal alternatives of ``scenario`` (its inputs built once)."""
    from ..inputs.inputs import from_layers
    from ..pipeline import options_from

    check_args(slack, count)
    inp = from_layers(scenario, progress=progress)
    return alternatives_of_inputs(inp, options or options_from(scenario), slack=slack, count=count,
                                  name=scenario.name, time_limit_s=time_limit_s, progress=progress)


def site_table(plans: list[Alternative], inp: SitingInputs) -> pd.DataFrame:
    """Per candidate site: in how many plans (the optimum included) it is open, and its role."""
    opened = np.array([p.decisions.open for p in plans])
    n = opened.sum(axis=0)
    role = [Role.MUST_HAVE if k == len(plans) else Role.INTERCHANGEABLE if k > 0 else Role.NEVER for k in n]
    s = inp.sites
    out = pd.DataFrame({"site_id": s["site_id"].to_numpy(), "name": s["name"].to_numpy(),
                        "in_plans": n, "of_plans": len(plans), "role": role,
                        "in_optimum": opened[0]})
    for col in ("fuel", "country", "longitude", "latitude", "firm_mw", "price_usd_per_mwh"):
        if col in s:
            out[col] = s[col].to_numpy()
    order = {role: i for i, role in enumerate(Role)}
    return out.sort_values(["role", "in_plans"], key=lambda c: c.map(order) if c.name == "role" else -c,
                           kind="stable").reset_index(drop=True)


def plan_table(plans: list[Alternative], inp: SitingInputs) -> pd.DataFrame:
    """One row per plan: cost, gap to the optimum, sites (ids), sites shared with the optimum."""
    ids = inp.sites["site_id"].to_numpy()
    opt = plans[0]
    rows = []
    for p in plans:
        d = p.decisions
        rows.append({"plan": p.index, "kind": Kind.OPTIMUM if p.index == 0 else Kind.ALTERNATIVE,
                     "cost_musd": p.cost_musd, "above_optimum": p.cost_musd / opt.cost_musd - 1,
                     "solver_gap": p.report.gap,  # of the cost (optimum) or of the re-used site count
                     "termination": str(p.report.termination),
                     "n_sites": int(d.open.sum()), "shared_with_optimum": int((d.open & opt.decisions.open).sum()),
                     "unmet_mw": float(d.unmet_mw.sum()),
                     "same_sites_as_plan": p.same_as,
                     "site_ids": ";".join(str(s) for s in ids[d.open])})
    return pd.DataFrame(rows).astype({"same_sites_as_plan": "Int64"})


def render_sites_png(alt: Alternatives, path, *, width_in: float = 12.0, height_in: float = 6.5,
                     dpi: int = 100) -> None:
    """Write ``path``: candidate sites on a plain lon/lat map, must-have vs interchangeable vs never."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PolyCollection
    from matplotlib.figure import Figure

    from ..outputs.maps import countries

    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_facecolor("#d7e6f2")
    polys = []
    for f in countries()["features"]:
        g = f["geometry"]
        for poly in ([g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]):
            polys.append(np.asarray(poly[0], float))
    ax.add_collection(PolyCollection(polys, facecolors="#f3f0e8", edgecolors="#9a9a9a", linewidths=0.4))
    s = alt.sites
    style = {Role.NEVER: ("#9a9a9a", 12, "never open"), Role.INTERCHANGEABLE: ("#ff7f0e", 50, "interchangeable"),
             Role.MUST_HAVE: ("#d62728", 90, "must-have (open in every plan)")}
    for role, (colour, size, label) in style.items():
        sel = s[s["role"] == role]
        if len(sel):
            ax.scatter(sel["longitude"], sel["latitude"], s=size, c=colour, edgecolors="k", linewidths=0.4,
                       label=f"{label}: {len(sel)}", zorder=3)
    used = s[s["role"] != Role.NEVER]
    for r in used.itertuples():
        ax.annotate(f"{str(r.name)[:18]} ({r.in_plans}/{r.of_plans})", (r.longitude, r.latitude), fontsize=7,
                    xytext=(4, 3), textcoords="offset points", zorder=4)
    if len(s):
        lon, lat = s["longitude"].to_numpy(float), s["latitude"].to_numpy(float)
        ax.set_xlim(max(lon.min() - 10, -180), min(lon.max() + 10, 180))
        ax.set_ylim(max(lat.min() - 10, -90), min(lat.max() + 10, 90))
    ax.set_aspect("equal", adjustable="box")
    ax.legend(loc="lower left", fontsize=9)
    ax.set_title(f"{alt.name}: sites in {len(alt.plans)} plans within {alt.slack:.0%} of the optimum")
    fig.tight_layout()
    fig.savefig(path, format="png")


def write_alternatives(alt: Alternatives, out, *, run: dict | None = None, run_id: str | None = None):
    """Write alternatives.csv, sites_in_alternatives.csv, alternatives.png, summary.json into ``out``."""
    from ..outputs.outdir import replace_dir
    from ..outputs.results import json_default, write_csv

    roles = {str(k): v for k, v in alt.sites["role"].value_counts().to_dict().items()}
    summary = {"scenario": alt.name, "slack": alt.slack, "optimum_musd": alt.optimum,
               "slack_from": alt.reference_kind, "slack_reference_musd": alt.reference,
               "plans": alt.table.astype(object).where(alt.table.notna(), None).to_dict(orient="records"),
               "sites": {k: int(v) for k, v in roles.items()},
               "must_have": alt.sites.loc[alt.sites["role"] == Role.MUST_HAVE, "site_id"].tolist(),
               "notes": alt.notes, "inputs": alt.inputs.size, "run": run or {}}
    with replace_dir(Path(out), {"scenario": alt.name, "kind": "alternatives"}, run_id=run_id) as (tmp, info):
        write_csv(alt.table, tmp / "alternatives.csv")
        write_csv(alt.sites, tmp / "sites_in_alternatives.csv")
        render_sites_png(alt, tmp / "alternatives.png")
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, default=json_default))
    return info["written"]
