"""Answers where a crash used to be: a missing shells file is one clear error (exit 2); an
unwritable SITING_CACHE_DIR costs only the cache (a warning, the run goes on)."""

from __future__ import annotations

import os

from click.testing import CliRunner

from siting.cli import main

SMALL = ["--set", "candidates.max_count=12", "--set", "demand.max_regions=6", "--quiet"]


def test_a_missing_shells_file_is_one_clear_error():
    res = CliRunner().invoke(main, ["rtt", "47.61,-122.33", "40.71,-74.01", "--set",
                                    "network.leo_shells=/nonexistent.csv"])
    assert res.exit_code == 2, res.output
    assert "network.leo_shells: /nonexistent.csv: no such file" in res.output
    assert "Traceback" not in res.output and res.output.count("error") == 1


def test_an_unwritable_cache_dir_runs_uncached_with_a_warning(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SITING_CACHE_DIR", str(blocker / "cache"))  # unwritable even for root
    out = tmp_path / "plan"
    res = CliRunner().invoke(main, ["solve", "--set", "network.leo_model=constellation", "--set",
                                    "network.leo_snapshots=2", "--out", str(out), *SMALL])
    assert res.exit_code == 0, res.output
    assert "warning: the constellation's round trips are not cached: cannot write" in res.output
    assert "SITING_CACHE_DIR" in res.output and (out / "sites.csv").exists()
    assert sorted(os.listdir(tmp_path)) == ["a-file", "plan"]
