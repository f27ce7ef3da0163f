"""What-if sweeps: same answers as solving alone, in-place re-solves, failures, cache, CLI, Dask."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from siting.cli import main
from siting.costs import pv_annuity_factor
from siting.explore import sweep as sweep_mod
from siting.explore.sweep import Row, VariantState, _assignments, _threads, sweep
from siting.inputs.inputs import from_layers, priced, read_geography
from siting.inputs.pricing import geography_key, price_fields
from siting.pipeline import solve_scenario
from siting.scenario import load_scenario

# proven optima (two processes may stop at different plans within 1 %), on an instance HiGHS
# proves quickly: the sweep's machinery is what these tests are about. Measured (1 thread, load
# ~1): the default's 15 x 10 takes ~80 s with the satellite cells, 13.5 s without them, 1.5 s
# without them and with the largest 15 sources (the cells: tests/model/test_satellite_cells.py)
SMALL = ["candidates.max_count=15", "demand.max_regions=10", "solver.threads=1",
         "solver.mip_gap=1e-7", "network.cell_capacity=false", "candidates.rank_by=firm_mw"]
GRID = {"network.sat_price_musd_per_gbps_year": [0.2, 1.0], "energy.carbon_price_usd_per_tco2": [0, 190]}
GRID_ARGS = ["--vary", "network.sat_price_musd_per_gbps_year=0.2,1.0",
             "--vary", "energy.carbon_price_usd_per_tco2=0,190"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("sweep-cache")


@pytest.fixture(scope="module")
def base(cache):
    """The 2 x 2 grid on the embedded 2-worker LocalCluster."""
    return sweep(None, GRID, base_overrides=SMALL, workers=2, cache_dir=cache, progress=False)


def test_one_row_per_variant_with_the_promised_columns(base):
    assert len(base) == 4 and not base.attrs["partial"]
    assert base["error"].isna().all(), base["error"].tolist()
    assert base[list(GRID)].to_dict("records") == [dict(zip(GRID, v)) for v in
                                                   [(0.2, 0), (0.2, 190), (1.0, 0), (1.0, 190)]]
    assert (base["state"] == VariantState.SOLVED).all()
    for col in ("state", "termination", "solution_status", "objective_musd", "best_bound_musd", "gap", "sites",
                "n_sites",
                "it_mw_immersion", "fiber_mw", "satellite_mw", "satellite_share", "unmet_mw",
                "carbon_tco2_per_year", "water_m3_per_year", "inputs_s", "build_s", "solve_s",
                "resolved_in_place", "from_cache"):
        assert col in base, col
    assert (base["n_sites"] == base["sites"].str.split(";").map(len)).all()


def test_results_equal_solving_each_variant_alone(base):
    for row in base.itertuples():
        values = {k: getattr(row, f"_{i + 2}") for i, k in enumerate(GRID)}
        alone = solve_scenario(load_scenario(None, SMALL + _assignments(values))).plan.report
        gap = load_scenario(None, SMALL).solver.mip_gap
        assert abs(row.objective_musd - alone.objective) <= gap * alone.objective + 1e-6, values
        assert row.best_bound_musd <= alone.objective + 1e-6 and alone.best_bound <= row.objective_musd + 1e-6


def test_cost_only_variants_are_resolved_in_place(base):
    # one structure: the first variant is solved in this process while the two workers start,
    # the rest in two contiguous lanes that each build once, then re-solve (the separate
    # cluster's test below: exactly two lanes of two)
    assert base["resolved_in_place"].sum() >= 1
    assert (base.loc[base["resolved_in_place"], "build_s"] < 0.5).all()


@pytest.mark.parametrize("strategy", ["plain", "lp_start"])
def test_in_place_equals_a_rebuild_for_either_strategy(strategy):
    from siting.inputs.inputs import from_layers
    from siting.pipeline import options_from

    # costs and the max-sites row bound change; the structure does not
    first, *others = [{"network.sat_price_musd_per_gbps_year": p, "facility.max_sites": n}
                      for p, n in ((0.2, 6), (1.0, 4))]
    group = sweep_mod._Group()
    for values in [first, *others]:
        sc = load_scenario(None, SMALL + _assignments(values) + [f"solver.strategy={strategy}"])
        report, dec, _build_s, in_place = group.solve(from_layers(sc), options_from(sc))
        alone = solve_scenario(sc).plan.report
        assert in_place == (values is not first)
        assert abs(report.objective - alone.objective) <= sc.solver.mip_gap * alone.objective + 1e-6
        assert dec.open.sum() <= values["facility.max_sites"]


def test_costs_sum_to_the_objective_and_carbon_matches_its_price(base):
    costs = base.filter(regex=r"^cost_.*_musd$").sum(axis=1)
    assert np.allclose(costs, base["objective_musd"], rtol=1e-6)
    sc = load_scenario(None, SMALL)
    pvf = pv_annuity_factor(sc.money.discount_rate, sc.money.lifetime_years)
    priced = base[base["energy.carbon_price_usd_per_tco2"] == 190]
    assert np.allclose(priced["carbon_tco2_per_year"] * 190 * pvf / 1e6, priced["cost_carbon_musd"], rtol=1e-6)
    assert (base.loc[base["energy.carbon_price_usd_per_tco2"] == 0, "cost_carbon_musd"] == 0).all()
    assert (base.filter(regex=r"^it_mw_").sum(axis=1) > 0).all() and (base["water_m3_per_year"] > 0).all()


# evaporative cooling for inference (the others dear), PUE and water by climate: a site's water is
# not its cooling's own L/kWh (the sweep once recomputed it so: 25.0 M m3 where sites.csv said 34.9)
CLIMATE = SMALL + ["facility.climate=true"] + [f"cooling.{c}.capex_musd_per_mw=60"
                                               for c in ("air", "direct_liquid", "immersion")]


def test_a_rows_water_carbon_and_costs_are_its_plans_tables(tmp_path, monkeypatch):
    from distributed import Client, LocalCluster

    from siting.inputs import inputs

    reads = []
    real_read = inputs.read_geography
    monkeypatch.setattr(inputs, "read_geography", lambda sc, **kw: reads.append(sc) or real_read(sc, **kw))
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        table = sweep(None, {"energy.carbon_price_usd_per_tco2": [80, 190]}, base_overrides=CLIMATE,
                      scheduler=client, out=tmp_path / "out", outputs=True, cache_dir=None, progress=False)
    sc = load_scenario(None, CLIMATE)
    pvf = pv_annuity_factor(sc.money.discount_rate, sc.money.lifetime_years)
    assert table["error"].isna().all(), table["error"].tolist()
    assert len(reads) == 1  # a price change: the geography is read once and the second variant re-priced
    for row in table.to_dict("records"):
        folder = tmp_path / "out.variants" / row["variant"]
        sites, costs = pd.read_csv(folder / "sites.csv"), pd.read_csv(folder / "costs.csv")
        assert row["sites"].split(";") == sites["site_id"].astype(str).tolist()
        assert row["water_m3_per_year"] == pytest.approx(sites["water_m3_per_year"].sum(), rel=1e-9)
        assert row["carbon_tco2_per_year"] == pytest.approx(sites["carbon_tco2_per_year"].sum(), rel=1e-9)
        for component, pv in zip(costs["component"], costs["pv_musd"]):
            assert row[f"cost_{component}_musd"] == pytest.approx(pv, rel=1e-9, abs=1e-6), component
        # the carbon column is what the carbon price is paid on
        price = row["energy.carbon_price_usd_per_tco2"]
        assert row["carbon_tco2_per_year"] * price * pvf / 1e6 == pytest.approx(row["cost_carbon_musd"], rel=1e-9)
        # and this scenario tells the two water figures apart
        own = sum(row[f"it_mw_{c}"] * v.water_l_per_kwh for c, v in sc.cooling.items()) * sc.facility.utilisation * 8760
        assert row["it_mw_evaporative"] > 0 and abs(row["water_m3_per_year"] - own) > 0.01 * own


def _other(value):
    """A different valid value of a price field."""
    if value is None:
        return 5
    if isinstance(value, int):
        return value + 1
    return value / 2 if 0 < value <= 1 else value * 1.5 + 1


def _assert_same_inputs(a, b):
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, pd.DataFrame):
            pd.testing.assert_frame_equal(x, y, obj=f.name)
        elif isinstance(x, dict):
            assert x.keys() == y.keys(), f.name
            for k in x:
                np.testing.assert_array_equal(x[k], y[k], err_msg=f"{f.name}.{k}")
        elif isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            np.testing.assert_array_equal(x, y, err_msg=f.name)
        else:
            assert x == y, f.name


def test_a_price_change_reprices_the_same_geography():
    """Every price field changed at once: the same geography key, and the base's geography priced
    with them equals reading the changed scenario from its layers (so no price field is read
    while the geography is made); a field the geography reads changes the key."""
    sets = SMALL + ["facility.climate=true", "facility.water_price_usd_per_m3=2", "demand.n_minus_1_share=0.5",
                    "demand.failure_group_km=500"]
    base = load_scenario(None, sets)
    tree = base.model_dump(mode="json")
    changes = []
    for path in price_fields(base):
        node = tree
        for part in path.split("."):
            node = node[part]
        changes.append(f"{path}={json.dumps(_other(node))}")
    changed = load_scenario(None, sets + changes)
    assert geography_key(changed) == geography_key(base)
    _assert_same_inputs(priced(read_geography(base), changed), from_layers(changed))
    assert geography_key(load_scenario(None, sets + ["demand.latency_ms=60"])) != geography_key(base)
    assert geography_key(load_scenario(None, sets + ["energy.fuels.solar.price_usd_per_mwh=20"])) != \
        geography_key(base)
    hourly = load_scenario(None, ["energy.hourly=true"])
    assert "energy.carbon_price_usd_per_tco2" not in price_fields(hourly)  # hourly grid imports price carbon


def test_a_row_survives_the_cache_as_it_was():
    row = Row("v00", VariantState.SOLVED, "optimal", "optimal", 10.0, 9.9, 0.01, {"energy": 6.0, "unmet_demand": 4.0},
              ("S1", "S2"), {"air": 5.0, "immersion": 0.0}, 4.0, 1.0, 0.2, 0.0, 123.0, 456.0, 0.1, 0.2, 0.3, True)
    assert Row.from_columns(json.loads(json.dumps(row.columns()))) == row
    failed = Row("v01", VariantState.FAILED, error="boom", inputs_s=0.5)
    assert Row.from_columns(failed.columns()) == failed


def test_a_second_run_solves_nothing(base, cache, monkeypatch):
    def no_cluster(*_a, **_k):
        raise AssertionError("a cluster was started although every variant is cached")

    monkeypatch.setattr(sweep_mod, "_client", no_cluster)
    again = sweep(None, GRID, base_overrides=SMALL, workers=2, cache_dir=cache, progress=False)
    assert again["from_cache"].all()
    pd.testing.assert_series_equal(again["objective_musd"], base["objective_musd"])


def test_a_failing_variant_is_recorded_and_the_others_finish(tmp_path, monkeypatch):
    from distributed import Client, LocalCluster

    from siting.inputs.inputs import from_layers

    real = sweep_mod._Group.solve
    default = from_layers(load_scenario(None, SMALL)).unmet_cost_musd_per_mw

    def solve(self, inp, opts):
        if inp.unmet_cost_musd_per_mw is not None and inp.unmet_cost_musd_per_mw > 2 * default:  # 9999 $/MWh
            raise RuntimeError("boom")
        return real(self, inp, opts)

    monkeypatch.setattr(sweep_mod._Group, "solve", solve)
    variants = [{}, {"demand.unmet_penalty_usd_per_mwh": None, "demand.latency_ms": 1},
                {"demand.unmet_penalty_usd_per_mwh": 9999}]
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        table = sweep(None, variants, base_overrides=SMALL, scheduler=client, cache_dir=tmp_path / "cache",
                      out=tmp_path / "out", outputs=True, progress=False)
    ok, impossible, broken = table.to_dict("records")
    assert ok["error"] is None and ok["termination"] == "optimal"
    assert "cannot be met" in impossible["error"] and pd.isna(impossible["objective_musd"])
    assert broken["error"] == "RuntimeError: boom"
    assert len(list((tmp_path / "cache").glob("*.json"))) == 1  # only the plan is cached, failures are retried
    # --outputs: the plan's files for the variant that has one, nothing for the others
    written = sorted(p.name for p in (tmp_path / "out.variants").iterdir())
    assert written == [ok["variant"]]
    assert (tmp_path / "out.variants" / ok["variant"] / "map.html").exists()
    assert pd.read_csv(tmp_path / "out.variants" / ok["variant"] / "sites.csv")["site_id"].astype(str).tolist() \
        == ok["sites"].split(";")


def test_ctrl_c_keeps_what_is_done_and_a_rerun_finishes_the_rest(tmp_path, monkeypatch):
    from distributed import Client, LocalCluster

    real_run = sweep_mod._run

    def interrupted(client, lanes, next_item, run_id, cache_dir, keep_plans, local, on_row, first):
        def then_ctrl_c(row, payload):
            on_row(row, payload)
            raise KeyboardInterrupt  # as if Ctrl-C came right after the first variant finished

        real_run(client, lanes, next_item, run_id, cache_dir, keep_plans, local, then_ctrl_c, first)

    variants = [{"demand.latency_ms": 100}, {"demand.latency_ms": 60}]
    out, cache = tmp_path / "out", tmp_path / "cache"
    run = dict(base_overrides=SMALL, out=out, cache_dir=cache, progress=False)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        monkeypatch.setattr(sweep_mod, "_run", interrupted)
        with pytest.raises(KeyboardInterrupt):
            sweep(None, variants, scheduler=client, **run)
        summary = json.loads((out / "sweep.json").read_text())
        assert summary["partial"] and summary["finished"] == 1
        table = pd.read_csv(out / "sweep.csv")
        assert (table["state"] == "not_run").sum() == 1 and table["objective_musd"].notna().sum() == 1
        assert table.loc[table["state"] == "not_run", "termination"].isna().all()
        assert len(list(cache.glob("*.json"))) >= 1
        monkeypatch.setattr(sweep_mod, "_run", real_run)
        again = sweep(None, variants, scheduler=client, **run)
    assert again["error"].isna().all() and not again.attrs["partial"]
    assert again["from_cache"].sum() >= 1
    assert not json.loads((out / "sweep.json").read_text())["partial"]


def test_cli_writes_the_folder_and_refuses_a_foreign_one(tmp_path, monkeypatch, dask_processes):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "sw"
    # the embedded cluster is the base fixture's; this one uses the separate processes (faster)
    res = CliRunner().invoke(main, ["sweep", *sum((["--set", s] for s in SMALL), []), "--vary",
                                    "demand.latency_ms=1,100", "--set", "demand.unmet_penalty_usd_per_mwh=null",
                                    # 15 candidates serve all 10 regions only with uncapped satellite
                                    "--set", "network.cell_capacity=false", "--out", str(out),
                                    "--scheduler", _address(dask_processes), "--quiet",
                                    "--time-limit", "30"])
    assert res.exit_code == 0, res.output
    names = {p.name for p in out.iterdir()}
    assert {"sweep.csv", "sweep.parquet", "sweep.png", "sweep.json"} <= names
    assert len([n for n in names if n.startswith("scenario-v")]) == 2
    table = pd.read_csv(out / "sweep.csv")
    assert table["error"].notna().tolist() == [True, False]
    assert pd.read_parquet(out / "sweep.parquet")["objective_musd"].iloc[1] == pytest.approx(
        table["objective_musd"].iloc[1])
    assert not json.loads((out / "sweep.json").read_text())["partial"]
    assert load_scenario(out / "scenario-v00_latency_ms-1.yaml").demand.latency_ms == 1
    assert (tmp_path / ".sw.sweep-cache").is_dir()  # the cache lives beside the folder, not in it

    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    monkeypatch.setattr(sweep_mod, "_client", lambda *a, **k: pytest.fail("solved before refusing --out"))
    res = CliRunner().invoke(main, ["sweep", "--vary", "demand.latency_ms=50,100", "--out", str(foreign)])
    assert res.exit_code == 2 and "did not write" in res.output
    assert (foreign / "notes.txt").read_text() == "keep me"


def test_cli_refuses_bad_vary_with_the_field_named(tmp_path, monkeypatch):
    monkeypatch.setattr(sweep_mod, "CONNECT_TIMEOUT_S", 2)
    res = CliRunner().invoke(main, ["sweep", "--vary", "demand.latncy_ms=50", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "demand.latncy_ms" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(main, ["sweep", "--vary", "demand.latency_ms", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "key.path=value1,value2" in res.output
    res = CliRunner().invoke(main, ["sweep", "--vary", "demand.latency_ms=50", "--out", str(tmp_path / "o"),
                                    "--scheduler", "tcp://127.0.0.1:9", "--quiet"])
    assert res.exit_code == 2 and "--scheduler tcp://127.0.0.1:9: cannot connect" in res.output


def test_threads_fit_the_cores():
    cores = os.cpu_count() or 1
    for workers in (1, 2, cores, 4 * cores):
        assert _threads(workers) >= 1
        assert workers * _threads(workers) <= max(cores, workers)


@pytest.fixture(scope="module", autouse=True)
def dask_processes(tmp_path_factory):
    """A separate ``dask scheduler`` and two ``dask worker`` processes, started first (they boot
    while the other tests run) and always shut down."""
    folder = tmp_path_factory.mktemp("dask")
    info = folder / "scheduler.json"
    env = os.environ | {"DASK_LOGGING__DISTRIBUTED": "error"}
    quiet = {"env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": folder}
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(info)], **quiet)]
    procs += [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", str(info),
                                "--nthreads", "1", "--no-dashboard", "--name", f"w{i}"], **quiet) for i in range(2)]
    try:
        yield info
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    assert all(p.poll() is not None for p in procs)


def _address(info) -> str:
    """The scheduler's address once it and both workers are up."""
    from distributed import Client

    deadline = time.monotonic() + 90
    while not info.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    address = json.loads(info.read_text())["address"]
    with Client(address, timeout="30s") as client:
        client.wait_for_workers(2, timeout=90)
    return address


def test_a_separate_scheduler_and_workers_give_the_same_results(base, dask_processes, tmp_path):
    address = _address(dask_processes)
    out = tmp_path / "remote"
    res = CliRunner().invoke(main, ["sweep", *sum((["--set", s] for s in SMALL), []), *GRID_ARGS,
                                    "--scheduler", address, "--out", str(out), "--no-cache", "--quiet"])
    assert res.exit_code == 0, res.output
    remote = pd.read_parquet(out / "sweep.parquet")
    assert remote["error"].isna().all()
    assert np.allclose(remote["objective_musd"], base["objective_musd"], rtol=1e-9)
    assert remote["sites"].tolist() == base["sites"].tolist()
    assert remote["resolved_in_place"].sum() == 2
