"""``siting stochastic``: a small run's tables agree with each other (the expected cost of the
per-scenario costs is RP, VSS = EEV - RP), its folder is a stochastic output (a plain solve is
refused over it), bad scenario sets and foreign folders are one clear error (exit 2)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from siting.cli import main
from siting.outputs.outdir import read_manifest
from tests.helpers import assert_refuses_foreign_folder

SMALL = ["--set", "candidates.max_count=8", "--set", "demand.max_regions=6", "--set", "solver.threads=1",
         "--set", "solver.mip_gap=1e-6", "--quiet"]


def test_a_small_stochastic_run_writes_consistent_tables(tmp_path):
    out = tmp_path / "st"
    res = CliRunner().invoke(main, ["stochastic", "--scenarios", "3", "--seed", "0", "--out-of-sample", "3",
                                    "--out", str(out), *SMALL])
    assert res.exit_code == 0, res.output
    oos = pd.read_csv(out / "out_of_sample.csv")  # 3 fresh scenarios (seed 1), both plans re-operated on each
    assert len(oos) == 3 and not set(oos["scenario"]) - {f"sample {k}" for k in (1, 2, 3)}
    fresh = json.loads((out / "stochastic.json").read_text())["out_of_sample"]
    assert fresh["seed"] == 1 and fresh["stochastic"]["mean_musd"] == pytest.approx(oos["stochastic_cost_musd"].mean())
    assert fresh["stochastic"]["ci_low_musd"] <= fresh["stochastic"]["mean_musd"] <= fresh["stochastic"]["ci_high_musd"]
    assert "out of sample, 3 fresh scenarios (seed 1): mean cost of the stochastic plan" in res.output
    png = out / "cost_distribution.png"  # the cost distribution of both plans, in and out of sample
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert {"cost_distribution.png", "out_of_sample.csv"} <= set(read_manifest(out)["files"])
    sc, val = pd.read_csv(out / "scenarios.csv"), pd.read_csv(out / "value.csv").set_index("value")["musd"]
    assert len(sc) == 3 and sc["probability"].sum() == pytest.approx(1.0, abs=1e-5)
    assert (sc["probability"] * sc["cost_musd"]).sum() == pytest.approx(val["RP"], rel=1e-5)
    assert (sc["probability"] * sc["average_plan_cost_musd"]).sum() == pytest.approx(val["EEV"], rel=1e-5)
    assert val["VSS"] == pytest.approx(val["EEV"] - val["RP"]) and val["EVPI"] == pytest.approx(val["RP"] - val["WS"])
    assert val["WS"] <= val["RP"] * (1 + 1e-6) and val["RP"] <= val["EEV"] * (1 + 1e-6)
    assert (out / "sites.csv").exists() and json.loads((out / "stochastic.json").read_text())["scenarios"] == 3
    refused = CliRunner().invoke(main, ["solve", "--out", str(out), *SMALL])
    assert refused.exit_code == 2 and "holds a stochastic output" in refused.output


def test_an_unknown_basin_is_one_clear_error(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: dry\nuncertainty:\n  scenarios:\n    - {name: wet, probability: 0.5}\n"
                    "    - {name: dry, probability: 0.5, drought: {Nile: 0.5}}\n")
    res = CliRunner().invoke(main, ["stochastic", str(path), "--out", str(tmp_path / "o"), *SMALL])
    assert res.exit_code == 2, res.output
    assert "uncertainty.scenarios[1] ('dry'): field 'drought.Nile': unknown basin or country" in res.output
    assert "Traceback" not in res.output and not (tmp_path / "o").exists()


@pytest.mark.parametrize("block,message", [
    ("scenarios:\n    - {name: wet, probability: 0.5}\n    - {name: dry, probability: 0.4}\n",
     "uncertainty.scenarios: field 'probability': the probabilities sum to 0.9, not 1"),
    ("scenarios:\n    - {name: dry, probability: 1.0, drought: {CHN: 1.5}}\n",
     "uncertainty.scenarios[0] ('dry'): field 'drought.CHN': share 1.5 is outside [0, 1]"),
    ("cvar_weight: -1\n  scenarios:\n    - {name: a, probability: 1.0}\n",
     "uncertainty: field 'cvar_weight': Input should be greater than or equal to 0"),
])
def test_validate_checks_the_uncertainty_block(tmp_path, block, message):
    path = tmp_path / "s.yaml"
    path.write_text("name: dry\nuncertainty:\n  " + block)
    res = CliRunner().invoke(main, ["validate", str(path), *SMALL[:2]])
    assert res.exit_code == 2, res.output
    assert message in res.output and "Traceback" not in res.output
    path.write_text("name: dry\nuncertainty:\n  scenarios:\n    - {name: wet, probability: 0.5}\n"
                    "    - {name: dry, probability: 0.5, drought: {CHN: 0.4}}\n")
    ok = CliRunner().invoke(main, ["validate", str(path), *SMALL[:2]])
    assert ok.exit_code == 0 and "uncertainty: 2 scenarios (1 with a drought), CVaR weight 0 at 0.95" in ok.output


def test_refuses_a_foreign_folder(tmp_path):
    assert_refuses_foreign_folder(tmp_path, "stochastic", ["--scenarios", "2", *SMALL[:-1]])


CONTINUOUS = ["--set", "network.allow_satellite=false", "--set", "demand.training_mw=0"]  # no integer recourse


def test_decomposition_agrees_with_the_extensive_form(tmp_path):
    rp = {}
    for method in ("ef", "lshaped"):
        out = tmp_path / method
        res = CliRunner().invoke(main, ["stochastic", "--scenarios", "4", "--method", method, "--workers", "1",
                                        "--out", str(out), *CONTINUOUS, *SMALL])
        assert res.exit_code == 0, res.output
        rp[method] = pd.read_csv(out / "value.csv").set_index("value")["musd"]["RP"]
        assert json.loads((out / "stochastic.json").read_text())["termination"] == "optimal"
    assert rp["lshaped"] == pytest.approx(rp["ef"], rel=1e-5)


def test_decomposition_with_integer_recourse_is_refused(tmp_path):
    res = CliRunner().invoke(main, ["stochastic", "--scenarios", "2", "--method", "lshaped",
                                    "--out", str(tmp_path / "o"), *SMALL])
    assert res.exit_code == 2, res.output
    assert "--method lshaped: the recourse has integer decisions (hosts_training, sat_units)" in res.output
    assert not (tmp_path / "o").exists()


def test_siting_stochastic_on_a_separate_scheduler_and_two_workers_gives_the_embedded_numbers(tmp_path):
    """``siting stochastic --scheduler`` against a separately started ``dask scheduler`` + 2
    ``dask worker`` processes: the same values and per-scenario costs as on the embedded cluster."""
    from tests.helpers import dask_processes

    args = ["stochastic", "--scenarios", "3", "--seed", "2", *CONTINUOUS, *SMALL]
    embedded = CliRunner().invoke(main, [*args, "--method", "lshaped", "--workers", "2",
                                         "--out", str(tmp_path / "embedded")])
    assert embedded.exit_code == 0, embedded.output
    with dask_processes(tmp_path, 2) as (address, _):
        external = CliRunner().invoke(main, [*args, "--scheduler", address, "--out", str(tmp_path / "external")])
    assert external.exit_code == 0, external.output
    runs = {}
    for name in ("embedded", "external"):
        out = tmp_path / name
        st = json.loads((out / "stochastic.json").read_text())
        runs[name] = (st, pd.read_csv(out / "value.csv").set_index("value")["musd"], pd.read_csv(out / "scenarios.csv"))
    (st_e, val_e, sc_e), (st_x, val_x, sc_x) = runs["embedded"], runs["external"]
    assert st_e["termination"] == st_x["termination"] == "optimal" and st_e["workers"] == st_x["workers"] == 2
    assert "Dask" in st_x["method"]
    pd.testing.assert_series_equal(val_x, val_e, rtol=1e-6)
    pd.testing.assert_frame_equal(sc_x, sc_e, rtol=1e-6)
