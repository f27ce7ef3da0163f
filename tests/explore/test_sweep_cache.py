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
