"""Output kinds never replace each other; an interrupted study never replaces a complete one;
a folder another run holds is refused at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from siting.cli import main
from siting.outputs.outdir import MANIFEST, OutputError, WriteError, check_out, read_manifest, replace_dir

SMALL = ["--set", "candidates.max_count=12", "--set", "demand.max_regions=6", "--quiet"]


def _folder_of(tmp_path: Path, kind: str, files=("x.csv",), with_kind=True) -> Path:
    """A siting output folder of ``kind`` (as its command writes the manifest)."""
    out = tmp_path / f"a-{kind}"
    with replace_dir(out, {"kind": kind}) as (tmp, _):
        for f in files:
            (tmp / f).write_text("1")
    if not with_kind:  # a manifest as written before kinds were recorded
        manifest = read_manifest(out)
        del manifest["kind"]
        (out / MANIFEST).write_text(json.dumps(manifest))
    return out


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("have, command", [
    ("sweep", ["solve"]), ("solve", ["sweep", "--vary", "demand.latency_ms=50,100"]),
    ("sweep", ["pareto", "--latency-ms", "60,100"]), ("pareto", ["alternatives"]),
    ("alternatives", ["solve"])])
def test_another_kind_is_refused_before_solving(tmp_path, have, command):
    out = _folder_of(tmp_path, have)
    before = _tree(out)
    res = CliRunner().invoke(main, [*command, "--out", str(out), *SMALL])
    assert res.exit_code == 2, res.output
    assert f"holds a {have} output" in res.output and "Traceback" not in res.output
    assert _tree(out) == before


def test_a_folder_from_before_kinds_is_known_by_its_files(tmp_path):
    out = _folder_of(tmp_path, "sweep", files=("sweep.csv", "sweep.json"), with_kind=False)
    with pytest.raises(OutputError, match="holds a sweep output"):
        check_out(out, "solve")
    assert check_out(out, "sweep") == out
    with pytest.raises(WriteError, match="holds a sweep output"):  # at write time too
        with replace_dir(out, {"kind": "pareto"}) as (tmp, _):
            (tmp / "pareto.csv").write_text("1")
    assert read_manifest(out)["files"] == ["sweep.csv", "sweep.json"]


HOLD = """
import sys, time
from siting.outputs.outdir import claim
with claim(sys.argv[1], "sweep"):
    print("held", flush=True)
    time.sleep(120)
"""


def test_a_second_writer_is_refused_while_the_first_holds_the_folder(tmp_path):
    out = tmp_path / "busy"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        t0 = time.monotonic()
        res = CliRunner().invoke(main, ["solve", "--out", str(out), *SMALL])
        assert res.exit_code == 2, res.output
        assert "another siting run (a sweep run, process" in res.output and time.monotonic() - t0 < 30
        with pytest.raises(WriteError, match="another siting run"):  # a plain write is refused too
            with replace_dir(out) as (tmp, _):
                (tmp / "a.txt").write_text("1")
        assert not out.exists()
    finally:
        os.kill(holder.pid, signal.SIGKILL)  # a killed holder: the kernel releases its lock
        holder.wait()
    with replace_dir(out) as (tmp, _):
        (tmp / "a.txt").write_text("1")
    assert (out / "a.txt").read_text() == "1"


def test_an_interrupted_sweep_never_replaces_a_complete_one(tmp_path, monkeypatch):
    from distributed import Client, LocalCluster

    from siting.explore import sweep as sweep_mod

    sets = ["candidates.max_count=12", "demand.max_regions=6", "solver.threads=1"]
    out, cache = tmp_path / "sw", tmp_path / "cache"
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        run = dict(base_overrides=sets, scheduler=client, out=out, cache_dir=cache, progress=False)
        sweep_mod.sweep(None, {"demand.latency_ms": [100]}, **run)
        complete = _tree(out)
        real_write = sweep_mod._cache_write

        def then_ctrl_c(folder, key, row):  # Ctrl-C as the main process records the first new row
            real_write(folder, key, row)
            if threading.current_thread() is threading.main_thread():
                raise KeyboardInterrupt

        monkeypatch.setattr(sweep_mod, "_cache_write", then_ctrl_c)
        grid = {"demand.latency_ms": [90, 80]}
        with pytest.raises(KeyboardInterrupt) as info:
            sweep_mod.sweep(None, grid, **run)
        assert _tree(out) == complete  # the complete sweep, as it was
        beside = tmp_path / "sw.partial"
        assert f"{beside}/" in str(info.value) and "kept as it was" in str(info.value)
        assert json.loads((beside / "sweep.json").read_text())["partial"]
        assert (pd.read_csv(beside / "sweep.csv")["state"] == "not_run").sum() == 1
        monkeypatch.setattr(sweep_mod, "_cache_write", real_write)
        done = sweep_mod.sweep(None, grid, **run)  # finishes the rest; the partial beside is gone
    assert not done.attrs["partial"] and done["from_cache"].sum() == 1
    assert not json.loads((out / "sweep.json").read_text())["partial"] and not beside.exists()
