"""Tiny hand-built inputs whose optimum can be worked out on paper."""

from __future__ import annotations

import numpy as np
import pandas as pd

from siting.inputs import SitingInputs
from siting.pipeline import solve_inputs
from siting.solve import SolveOptions

EXACT = SolveOptions(time_limit_s=60, mip_gap=0.0, threads=1, seed=0)


def tiny(firm_mw, demand_mw, arcs, *, site_fixed, per_mw, cooling=None, fiber_cost=0.0,
         sat_unit_cost=0.0, latency_ms=100.0, **kw) -> SitingInputs:
    """Sites with firm power and fixed cost, regions with demand, arcs (r, k, link, rtt_ms).

    ``per_mw`` is the cost per MW IT of each site (K) or of each site and cooling (K x C).
    """
    K, R = len(firm_mw), len(demand_mw)
    cooling = cooling if cooling is not None else pd.DataFrame(
        {"cooling": ["std"], "pue": [1.0], "carries_training": [True], "carries_inference": [True]})
    pue_min = cooling["pue"].min()
    sites = pd.DataFrame({"site_id": [f"S{k}" for k in range(K)], "name": [f"site {k}" for k in range(K)],
                          "longitude": np.arange(K, dtype=float), "latitude": 0.0,
                          "firm_mw": np.asarray(firm_mw, float),
                          "max_it_mw": np.asarray(firm_mw, float) / pue_min})
    regions = pd.DataFrame({"region_id": [f"R{r}" for r in range(R)], "name": [f"region {r}" for r in range(R)],
                            "longitude": np.arange(R, dtype=float), "latitude": 1.0,
                            "inference_mw": np.asarray(demand_mw, float), "latency_ms": latency_ms})
    arcs = pd.DataFrame(arcs, columns=["region", "site", "link", "rtt_ms"])
    arcs["cost_musd_per_mw"] = 0.0
    per_mw = np.asarray(per_mw, float)
    per_mw = per_mw.reshape(K, -1) * np.ones((1, len(cooling)))
    return SitingInputs(sites, regions, arcs, cooling, {"capex": per_mw},
                        {"site_fixed": np.asarray(site_fixed, float) * np.ones(K)},
                        {"fiber_capex": np.asarray(fiber_cost, float) * np.ones(K)},
                        {"sat_fees": np.asarray(sat_unit_cost, float) * np.ones(K)}, **kw)


def solve(inp: SitingInputs, opts: SolveOptions = EXACT):
    return solve_inputs(inp, opts)


def check(inp: SitingInputs, expected: float, **approx):
    """Solve to optimality; the objective is ``expected`` (hand-solved) and the plan passes the audit."""
    import pytest

    from siting.audit import audit

    plan = solve(inp)
    assert plan.report.proven_optimal
    assert plan.report.objective == pytest.approx(expected, **(approx or {"rel": 1e-9, "abs": 1e-9}))
    assert audit(plan, inp) == []
    return plan


def assert_refuses_foreign_folder(tmp_path, command: str, args: list[str]) -> None:
    """``siting COMMAND --out DIR`` with a folder siting did not write: exit 2 before solving,
    the folder left as it was."""
    from click.testing import CliRunner

    from siting.cli import main

    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    result = CliRunner().invoke(main, [command, "--out", str(foreign), "--quiet"] + args)
    assert result.exit_code == 2 and "siting did not write" in result.output
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]
