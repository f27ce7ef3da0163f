"""Tiny hand-built inputs whose optimum can be worked out on paper: the tests' one shared builder module."""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from siting.energy.storage import HourlyInputs, daily_energy_bound
from siting.inputs.inputs import SitingInputs
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

    from siting.outputs.audit import audit

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


# ---------------------------------------------------------------- shared builders of the tests


THREE = [(0, 0, "direct", 1), (0, 1, "direct", 1), (0, 2, "direct", 1)]


def three_sites(**kw):
    # one region of 100 MW; three sites of 100 MW firm power, 10 M$ each to open, 1 M$ per MW IT;
    # no site serves more than half of the region (alpha = 1/2)
    return tiny([100, 100, 100], [100], THREE, site_fixed=kw.pop("site_fixed", [10, 10, 10]),
                per_mw=[1, 1, 1], resilience_max_share=0.5, **kw)


WATER_COOLING = pd.DataFrame({"cooling": ["evaporative", "liquid"], "pue": [1.2, 1.15],
                              "carries_training": [False, True],
                              "carries_inference": [True, True], "water_l_per_kwh": [1.8, 0.1],
                              "water_slope_per_c": [0.04, 0.0], "pue_ref_temp_c": [10.0, 20.0]})
PER_MW = [[35.0, 37.0]]  # M$ per MW IT without water: evaporative is 2 M$/MW cheaper


def water_site(water, limit=None, per_mw=PER_MW):
    """One site at the equator, 100 MW of inference, evaporative or liquid cooling."""
    return tiny([1000], [100], [(0, 0, "direct", 1)], site_fixed=[5], per_mw=per_mw, cooling=WATER_COOLING,
                water_m3_per_mw_year=water, water_limit_m3_per_year=None if limit is None else np.array([limit]))


SQUARE = np.r_[np.ones(12), np.zeros(12)]  # sun 12 h, dark 12 h


def hourly(cf_day, *, available=100.0, overbuild_max=0.0, round_trip=0.81, mwh=1.0, mw=1.0,
           overbuild=0.0, energy=0.0, cycles=365.0, weight=365.0, grid=None, cfe=None, cfe_site=None):
    """One variable site (position 0) on one representative day standing for ``weight`` days;
    ``grid``: PV M$ per MWh imported every year (None: no grid), ``cfe``/``cfe_site``: targets."""
    eta = float(np.sqrt(round_trip))
    one = lambda x: np.array([float(x)])  # noqa: E731
    return HourlyInputs(site=np.array([0]), cf=np.asarray(cf_day, float).reshape(1, 1, 24),
                        weight_days=one(weight), available_mw=one(available),
                        overbuild_max_mw=one(overbuild_max), eta_charge=eta, eta_discharge=eta,
                        cycles_per_year=cycles, storage_mwh_musd=one(mwh), storage_mw_musd=one(mw),
                        overbuild_musd_per_mw=one(overbuild), energy_musd_per_mwh=one(energy),
                        grid_musd_per_mwh=None if grid is None else one(grid), grid_gco2_per_kwh=400.0,
                        cfe_target=cfe, cfe_site_target=cfe_site)


def solar_site(hi, load_mw=20.0):
    firm = daily_energy_bound(hi.cf, hi.available_mw, hi.overbuild_max_mw)
    return tiny(firm, [load_mw], [(0, 0, "direct", 1)], site_fixed=[10], per_mw=[1], hourly=hi)


# grid import on the square-wave site: 0.0005 M$ per MWh a year from the grid, 0.0001 for the
# site's own energy, which each imported MWh displaces -> 0.0004 per MWh a year, 0.146 per daily MWh.
# A daily MWh of night load from the battery costs 0.3 / 0.9 + 0.1 / (0.81 x 12) = 0.3436 plus
# losses 0.0001 x 365 x (1 / 0.81 - 1) = 0.0086: the grid is cheaper, so storage is built only as
# far as a carbon-free target forces it. The load is 20 MW x 24 h x 365 = 175,200 MWh a year.
GRID, OWN, PREMIUM = 0.0005, 0.0001, 0.0004


COOLING = pd.DataFrame({"cooling": ["air", "evap", "liquid"], "pue": [1.4, 1.2, 1.1],
                        "carries_training": [False, False, True], "carries_inference": [True, True, True]})


@st.composite
def tiny_instances(draw):
    K, R = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    C = draw(st.integers(1, 3))
    cooling = COOLING.iloc[:C].reset_index(drop=True).copy()
    if C > 1:
        cooling["carries_training"] = draw(st.lists(st.booleans(), min_size=C, max_size=C))
        cooling["carries_inference"] = draw(st.lists(st.booleans(), min_size=C, max_size=C))
    links = ["fiber", "satellite", "direct"]
    arcs = sorted({(r, k, link) for r in range(R) for k in range(K) for link in links
                   if draw(st.booleans())})
    unmet = draw(st.booleans())
    covered = {r for r, _, _ in arcs}
    demand = [draw(st.sampled_from([0.0, 30.0, 80.0])) if (r in covered or unmet) else 0.0 for r in range(R)]
    firm = draw(st.lists(st.sampled_from([0.0, 50.0, 200.0]), min_size=K, max_size=K))
    kw = dict(training_mw=draw(st.sampled_from([0.0, 40.0])),
              training_min_cluster_mw=draw(st.sampled_from([0.0, 20.0])),
              module_mw=draw(st.sampled_from([None, 10.0])),
              resilience_max_share=draw(st.sampled_from([0.5, 1.0])),
              unmet_cost_musd_per_mw=1e3 if unmet else None,
              max_sites=draw(st.sampled_from([None, 2])),
              gbps_per_mw=draw(st.sampled_from([0.0, 1.0])))
    return tiny(firm, demand, [(r, k, link, 10.0) for r, k, link in arcs],
                site_fixed=draw(st.sampled_from([0.0, 10.0])), per_mw=np.ones(K), cooling=cooling,
                sat_unit_cost=draw(st.sampled_from([0.0, 2.0])), **kw)


def compiled_counts(inp):
    """Pyomo's compile of the derived model: (columns, integers, rows, nonzeros)."""
    from siting.model import build_model, compile_model

    sf = compile_model(build_model(inp)).sf
    return sf.shape[1], int(sf.integer.sum()), sf.shape[0], int(sf.A.nnz)


def estimated_counts(inp):
    from siting.model.estimate import estimate

    e = estimate(inp)
    return e.n_variables, e.n_integer, e.n_constraints, e.n_nonzeros


def assert_exact(inp):
    """The memory check's size count is exactly the compiled matrix."""
    assert estimated_counts(inp) == compiled_counts(inp)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def dask_processes(folder, workers: int = 2):
    """A separately started ``dask scheduler`` and ``workers`` ``dask worker`` processes on
    loopback (one thread each, no nanny): yields (address, [scheduler, worker, ...]); every
    process is stopped at the end. Skips the test where the ``dask`` command is missing."""
    import os
    import shutil
    import subprocess
    import sys

    import pytest
    from dask.distributed import Client

    dask_cli = shutil.which("dask", path=os.path.dirname(sys.executable)) or shutil.which("dask")
    if dask_cli is None:
        pytest.skip("no dask command")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=folder)
    procs = [subprocess.Popen([dask_cli, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], **quiet)]
    try:
        procs += [subprocess.Popen([dask_cli, "worker", address, "--nthreads", "1", "--no-nanny",
                                    "--no-dashboard", "--host", "127.0.0.1"], **quiet) for _ in range(workers)]
        with Client(address, timeout="20s") as c:
            c.wait_for_workers(workers, timeout=25)
        yield address, procs
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
