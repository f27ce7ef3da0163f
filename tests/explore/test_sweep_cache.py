"""The sweep cache cannot go stale: its key holds the bytes of every file a variant reads
(layers, profiles, shells), the shipped tables and the package's code; an entry is verified
before it is used; --workers (solver threads) does not invalidate it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import siting
from siting.explore.sweep import sweep
from siting.paths import DATA_DIR
from siting.scenario import load_scenario

SMALL = ["candidates.max_count=15", "demand.max_regions=10", "solver.threads=1"]
GRID = {"network.sat_price_musd_per_gbps_year": [0.2]}


def _edit_keeping_size_and_mtime(path: Path, old: str, new: str) -> None:
    """An edit a size-and-mtime stamp cannot see (as ``cp -p`` of another version would make)."""
    st = path.stat()
    text = path.read_text()
    assert len(old) == len(new) and old in text
    path.write_text(text.replace(old, new, 1))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns


@pytest.fixture
def client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster, \
            Client(cluster) as c:
        yield c


def test_a_shell_file_edit_or_a_code_change_between_two_sweeps_recomputes(tmp_path, client, monkeypatch):
    shells = tmp_path / "shells.csv"
    shutil.copy(DATA_DIR / "constellation.csv", shells)
    run = dict(base_overrides=SMALL + [f"network.leo_shells={shells}"], scheduler=client,
               cache_dir=tmp_path / "cache", progress=False)
    first = sweep(None, GRID, **run)
    assert first["error"].isna().all() and not first["from_cache"].any()
    assert sweep(None, GRID, **run)["from_cache"].all()  # nothing changed: the row comes back

    _edit_keeping_size_and_mtime(shells, "72,22,53.0,550", "72,22,53.0,551")
    assert not sweep(None, GRID, **run)["from_cache"].any()  # the shells changed: solved again
    assert sweep(None, GRID, **run)["from_cache"].all()

    import siting.fingerprint as fp

    monkeypatch.setattr(fp, "code_digest", lambda: "another version of the code")
    assert not sweep(None, GRID, **run)["from_cache"].any()  # new code never reuses old rows


def test_an_entry_is_verified_before_it_is_used(tmp_path, client):
    run = dict(base_overrides=SMALL, scheduler=client, cache_dir=tmp_path / "cache", progress=False)
    first = sweep(None, GRID, **run)
    (entry,) = (tmp_path / "cache").glob("*.json")
    data = json.loads(entry.read_text())
    data["row"]["objective_musd"] = 1.0  # a tampered or torn row
    entry.write_text(json.dumps(data))
    again = sweep(None, GRID, **run)
    assert not again["from_cache"].any()
    assert again["objective_musd"].iloc[0] == pytest.approx(first["objective_musd"].iloc[0])
    # a well-formed entry of another key, copied under this key's name, is not trusted either
    other = sweep(None, {"network.sat_price_musd_per_gbps_year": [1.0]}, **run)
    assert not other["from_cache"].any()
    files = sorted((tmp_path / "cache").glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
    shutil.copy(files[-1], entry)
    assert not sweep(None, GRID, **run)["from_cache"].any()


def test_the_key_holds_every_file_s_bytes_and_not_the_thread_count(tmp_path, monkeypatch):
    from siting.explore.sweep import cache_key

    profiles, shells = tmp_path / "p.csv", tmp_path / "shells.csv"
    profiles.write_text("site_id," + ",".join(f"h{i}" for i in range(8760)) + "\nS1," + ",".join(["0.5"] * 8760) + "\n")
    shutil.copy(DATA_DIR / "constellation.csv", shells)
    sets = SMALL + ["energy.hourly=true", f"layers.profiles={profiles}", f"network.leo_shells={shells}"]
    key = cache_key(load_scenario(None, sets))
    assert cache_key(load_scenario(None, sets)) == key
    # --workers sets solver.threads: the same key, so the rows are reused
    assert cache_key(load_scenario(None, sets + ["solver.threads=4"])) == key
    _edit_keeping_size_and_mtime(profiles, "S1,0.5", "S1,0.4")
    assert cache_key(load_scenario(None, sets)) != key
    key = cache_key(load_scenario(None, sets))
    _edit_keeping_size_and_mtime(shells, "72,22,53.0,550", "72,22,53.0,551")
    assert cache_key(load_scenario(None, sets)) != key


def test_the_code_digest_changes_with_any_source_file(tmp_path):
    from siting.fingerprint import code_digest, package_digest

    copy = tmp_path / "siting"
    shutil.copytree(Path(siting.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__", "assets"))
    assert package_digest(copy) == code_digest()
    module = copy / "model" / "families.py"
    module.write_text(module.read_text() + "\n# a change\n")
    assert package_digest(copy) != code_digest()


# ---------------------------------------------------------------------------- bounded work

def test_workers_are_capped_by_the_cores_and_zero_is_refused(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from siting.cli import main
    from siting.explore import sweep as sweep_mod

    cores = os.cpu_count() or 1
    n, note = sweep_mod.worker_count(1000)
    assert n == cores and f"--workers 1000: capped at the {cores} cores" in note
    monkeypatch.setattr(sweep_mod, "_client", lambda *a, **k: pytest.fail("started a cluster"))
    res = CliRunner().invoke(main, ["sweep", "--vary", "demand.latency_ms=50,100", "--workers", "0",
                                    "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "--workers: 0 is not a positive number of workers" in res.output


def test_a_grid_above_the_limit_asks_for_yes(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from siting.cli import main
    from siting.explore import sweep as sweep_mod

    monkeypatch.setattr(sweep_mod, "_client", lambda *a, **k: pytest.fail("started a cluster"))
    values = ",".join(str(40 + i) for i in range(41))
    res = CliRunner().invoke(main, ["sweep", "--vary", f"demand.latency_ms={values}", "--vary",
                                    f"network.sat_price_musd_per_gbps_year={','.join(['0.2', '0.3'] * 13)}",
                                    "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "1,066 variants, more than 1,000: pass --yes" in res.output, res.output


def test_a_large_grid_streams_its_first_row_before_preparing_the_rest(tmp_path, client, monkeypatch):
    """10,000 variants: the first row comes after a handful of variants were made, not 10,000."""
    import threading

    from siting.explore import sweep as sweep_mod

    made = []
    real_load = sweep_mod.load_scenario

    def load(*args, **kw):
        made.append(1)
        if len(made) > 1000:
            raise AssertionError("every variant is being made before any is solved")
        return real_load(*args, **kw)

    real_write = sweep_mod._cache_write

    def then_ctrl_c(folder, key, row):
        real_write(folder, key, row)
        if threading.current_thread() is threading.main_thread():
            raise KeyboardInterrupt

    monkeypatch.setattr(sweep_mod, "load_scenario", load)
    monkeypatch.setattr(sweep_mod, "_cache_write", then_ctrl_c)
    grid = {"network.sat_price_musd_per_gbps_year": [round(0.05 + 0.01 * i, 2) for i in range(100)],
            "energy.carbon_price_usd_per_tco2": [2 * i for i in range(100)]}
    with pytest.raises(KeyboardInterrupt):
        sweep_mod.sweep(None, grid, base_overrides=SMALL, scheduler=client, out=tmp_path / "big", yes=True,
                        cache_dir=tmp_path / "cache", progress=False)
    assert len(made) < 250  # the base, one check of each of the 200 values, the few variants run
    summary = json.loads((tmp_path / "big" / "sweep.json").read_text())
    assert summary["partial"] and summary["variants"] == 10_000 and summary["finished"] >= 1
