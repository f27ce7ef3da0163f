"""Sweeps answer where they used to crash: ``null`` among the --vary values (plot and table), and
a sweep in which no variant has a plan (its error rows written, exit 0)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from siting.cli import main
from siting.explore.sweep import plot_sweep

SMALL = ["candidates.max_count=12", "demand.max_regions=6", "solver.threads=1"]
SETS = sum((["--set", s] for s in SMALL), [])


@pytest.fixture(scope="module")
def address():
    """An in-process Dask cluster the CLI reaches by its address (no worker processes to boot)."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


def test_null_among_the_values_is_plotted_and_tabled(tmp_path, address):
    out = tmp_path / "sw"
    res = CliRunner().invoke(main, ["sweep", *SETS, "--vary", "demand.unmet_penalty_usd_per_mwh=null,9000",
                                    "--vary", "facility.max_sites=null,4",
                                    "--scheduler", address, "--out", str(out), "--quiet", "--no-cache"])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out / "sweep.csv")
    assert len(table) == 4 and (table["state"] == "solved").all(), table["error"].tolist()
    assert table["demand.unmet_penalty_usd_per_mwh"].isna().sum() == 2  # null is written as an empty cell
    assert (out / "sweep.png").stat().st_size > 0


def test_the_plot_takes_null_and_nan_on_either_axis():
    table = pd.DataFrame({"a": [None, 1.0, np.nan, 2.0], "b": [None, None, 3.0, 3.0],
                          "objective_musd": [1.0, 2.0, 3.0, np.nan], "satellite_share": [0.1, 0.2, 0.3, np.nan],
                          "termination": ["optimal", "optimal", "time_limit", None]})
    fig = plot_sweep(table, ["a", "b"])
    labels = [t.get_text() for t in fig.axes[1].get_xticklabels()]
    assert labels == ["null", "1.0", "2.0"]
    assert sorted(line.get_label() for line in fig.axes[0].get_lines() if not line.get_label().startswith("_")) \
        == ["b=3.0", "b=null"]


def test_a_sweep_without_any_plan_writes_its_error_rows_and_exits_0(tmp_path, address):
    out = tmp_path / "none"
    res = CliRunner().invoke(main, ["sweep", *SETS, "--set", "demand.unmet_penalty_usd_per_mwh=null",
                                    "--vary", "demand.latency_ms=1,2", "--scheduler", address,
                                    "--out", str(out), "--quiet", "--no-cache"])
    assert res.exit_code == 0, res.output
    assert "0 of 2 variants solved" in res.output and "cannot be met" in res.output
    table = pd.read_csv(out / "sweep.csv")
    assert (table["state"] == "failed").all() and table["error"].str.contains("cannot be met").all()
    assert table["objective_musd"].isna().all()
    assert json.loads((out / "sweep.json").read_text())["failed"] == 2 and (out / "sweep.png").exists()
