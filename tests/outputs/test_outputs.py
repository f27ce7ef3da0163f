"""Outputs never destroy what is not theirs: refusals before solving, locking, atomic swaps,
kills at any instant of the write phase, a full disk, hostile scenario names, CSV injection."""

import dataclasses
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import solve, tiny

from siting.cli import main
from siting.outputs.outdir import MANIFEST, OutputError, check_out, read_manifest, replace_dir
from siting.outputs.results import OUTPUT_FILES, write_outputs

SMALL = ["--set", "candidates.max_count=12", "--set", "demand.max_regions=6", "--quiet"]


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _cli(args, cwd: Path):
    here = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, args)
    finally:
        os.chdir(here)


@pytest.fixture
def user_files(tmp_path):
    """A user's folder of precious files and a scenario with its own layer beside them."""
    docs = tmp_path / "mydocs"
    (docs / "chapter").mkdir(parents=True)
    (docs / "thesis.tex").write_text("five years of work")
    (docs / "chapter" / "one.tex").write_text("chapter one")
    return docs


@pytest.mark.parametrize("out", ["mydocs", "mydocs/chapter"])
def test_an_existing_foreign_folder_is_refused_before_solving(tmp_path, user_files, out):
    before = _tree(user_files)
    result = _cli(["solve", "--out", out, *SMALL[:-1]], tmp_path)
    assert result.exit_code == 2, result.output
    assert "holds files siting did not write" in result.output
    assert "solving" not in result.output and "Traceback" not in result.output
    assert _tree(user_files) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mydocs"]


def test_a_siting_output_with_a_foreign_file_added_is_refused(tmp_path):
    out = tmp_path / "plan"
    assert _cli(["solve", "--out", str(out), *SMALL], tmp_path).exit_code == 0
    (out / "my_notes.txt").write_text("mine")
    result = _cli(["solve", "--out", str(out), *SMALL], tmp_path)
    assert result.exit_code == 2 and "my_notes.txt" in result.output
    assert (out / "my_notes.txt").read_text() == "mine"


def test_a_siting_output_is_replaced_and_records_the_run(tmp_path):
    out = tmp_path / "plan"
    first = _cli(["solve", "--out", str(out), *SMALL], tmp_path)
    assert first.exit_code == 0, first.output
    old_id = read_manifest(out)["run_id"]
    second = _cli(["solve", "--out", str(out), *SMALL, "--set", "demand.latency_ms=90"], tmp_path)
    assert second.exit_code == 0, second.output
    manifest = read_manifest(out)
    assert manifest["run_id"] != old_id
    assert sorted(manifest["files"]) == sorted(OUTPUT_FILES)
    assert sorted(p.name for p in out.iterdir()) == sorted([*OUTPUT_FILES, MANIFEST])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]  # no temp, old or lock debris
    summary = json.loads((out / "summary.json").read_text())
    run = summary["run"]
    assert "demand.latency_ms=90" in run["overrides"] and run["scenario_file"].endswith("default.yaml")
    assert run["cpu_count"] >= 1 and run["highspy_version"] and run["siting_version"]
    resolved = (out / "scenario.yaml").read_text()
    assert "latency_ms: 90" in resolved


@pytest.mark.parametrize("out, message", [
    (".", "the folder you are in"), ("..", "the folder you are in"), ("/", "the folder you are in"),
    ("/proc", "mount point"), ("file.txt", "is a file"),
    ("link", "symbolic link"), ("file.txt/plan", "cannot create folder")])
def test_unsafe_out_paths_are_refused_before_solving(tmp_path, out, message):
    (tmp_path / "file.txt").write_text("keep")
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    result = _cli(["solve", "--out", out, *SMALL[:-1]], tmp_path)
    assert result.exit_code == 2, result.output
    assert message in result.output and "solving" not in result.output
    assert (tmp_path / "file.txt").read_text() == "keep"


def test_read_only_parent_is_refused(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() == 0:  # root writes through permissions: use a read-only file system instead
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=16k", "tmpfs", str(ro)],
                          capture_output=True).returncode:
            pytest.skip("root, and cannot mount a read-only tmpfs here")
        undo = ["umount", "-l", str(ro)]
    else:
        ro.chmod(0o555)
        undo = ["chmod", "755", str(ro)]
    try:
        with pytest.raises(OutputError, match="cannot write in"):
            check_out(ro / "plan")
    finally:
        subprocess.run(undo, check=False)


@pytest.mark.parametrize("name, folder", [("", "scenario"), (".", "scenario"),
                                          ("../../Documents", "Documents"), ("/etc", "etc"),
                                          ("a/b\\\\c", "a_b_c")])
def test_hostile_scenario_names_stay_inside_results(tmp_path, name, folder):
    work = tmp_path / "work"
    (work / "results" / "keep").mkdir(parents=True)
    (work / "results" / "keep" / "x.txt").write_text("x")
    (tmp_path / "Documents").mkdir()
    (tmp_path / "Documents" / "cv.txt").write_text("cv")
    scenario = work / "s.yaml"
    scenario.write_text(f"name: {json.dumps(name)}\n")
    result = _cli(["solve", str(scenario), *SMALL], work)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (work / "results").iterdir()) == sorted(["keep", folder])
    assert read_manifest(work / "results" / folder) is not None
    assert (work / "results" / "keep" / "x.txt").read_text() == "x"
    assert (tmp_path / "Documents" / "cv.txt").read_text() == "cv"


def _write_many(args):
    out, n, tag = args
    for i in range(n):
        with replace_dir(out) as (tmp, _):
            for f in ("a.txt", "b.txt", "c.txt"):
                (tmp / f).write_text(f"{tag}-{i}")
    return n


def test_concurrent_writers_to_one_folder_all_succeed(tmp_path):
    out = tmp_path / "shared"
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        done = pool.map(_write_many, [(out, 60, t) for t in "wxyz"])
    assert sum(done) == 240
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted(["a.txt", "b.txt", "c.txt", MANIFEST])
    texts = {(out / f).read_text() for f in ("a.txt", "b.txt", "c.txt")}
    assert len(texts) == 1  # all three from the same write: never a mix of two writers
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared"]


KILL_SCRIPT = textwrap.dedent("""
    import dataclasses, signal, sys, pickle
    from siting.outputs.results import write_outputs
    stopped = []
    def stop(signum, frame):
        stopped.append(signum)
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    plan, inp, out = pickle.load(open(sys.argv[1], "rb"))
    print("ready", flush=True)
    i = 0
    while not stopped:  # a SIGTERM inside an import's cleanup is swallowed: stop anyway
        i += 1
        plan = dataclasses.replace(plan, summary=dataclasses.replace(plan.summary, description=f"write {i}"))
        write_outputs(plan, inp, out)
""")


def _complete(out: Path) -> bool:
    manifest = read_manifest(out)
    if manifest is None:
        return False
    names = sorted(p.name for p in out.iterdir() if p.name != MANIFEST)
    if names != sorted(manifest["files"]):
        return False
    summary = json.loads((out / "summary.json").read_text())
    pd.read_csv(out / "sites.csv")
    return summary["description"].startswith("write") or summary["description"] == "first"


def test_kills_at_any_point_of_the_write_phase_leave_a_complete_output(tmp_path):
    import pickle

    inp = tiny([100, 100], [30, 30], [(0, 0, "fiber", 5), (1, 1, "fiber", 5)], site_fixed=1, per_mw=[1, 1])
    plan = solve(inp)
    plan = dataclasses.replace(plan, summary=dataclasses.replace(plan.summary, description="first"))
    out = tmp_path / "plan"
    write_outputs(plan, inp, out)
    state = tmp_path / "state.pkl"
    state.write_bytes(pickle.dumps((plan, inp, out)))
    delays = [0.01 * (i % 7) + 0.006 * i for i in range(12)]  # 0 to 0.13 s into the write, as 24 were
    for n, delay in enumerate(delays):
        proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(state)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL if n % 3 else signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert "Traceback" not in err or "KeyboardInterrupt" in err
        assert _complete(out), f"kill {n} after {delay:.3f} s left {sorted(p.name for p in out.iterdir())}"
    write_outputs(plan, inp, out)  # the next run cleans up what killed runs left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan", "state.pkl"]
    assert _complete(out)


def test_a_full_disk_is_one_error_and_the_previous_output_survives(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48k", "tmpfs", str(disk)],
                      capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        out = disk / "plan"
        with replace_dir(out) as (tmp, _):
            (tmp / "sites.csv").write_text("previous plan\n")
        before = _tree(out)
        scenario = tmp_path / "s.yaml"
        scenario.write_text("name: full\n")
        result = _cli(["solve", str(scenario), "--out", str(out), *SMALL], tmp_path)
        assert result.exit_code == 5, result.output
        assert "the disk is full" in result.output and "previous output is intact" in result.output
        assert "Traceback" not in result.output
        assert _tree(out) == before
        assert sorted(p.name for p in disk.iterdir()) == ["plan"]
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_csv_cells_cannot_start_a_formula(tmp_path):
    inp = tiny([100, 100], [30, 30], [(0, 0, "fiber", 5), (1, 1, "fiber", 5)], site_fixed=1, per_mw=[1, 1])
    inp.sites["name"] = ["=HYPERLINK(\"http://x\")", "@SUM(A1)"]
    inp.regions["name"] = ["+1", "-2"]
    plan = solve(inp)
    write_outputs(plan, inp, tmp_path / "o")
    text = (tmp_path / "o" / "assignments.csv").read_text()
    assert "'=HYPERLINK" in text and "'@SUM" in text and "'+1" in text and "'-2" in text
    for line in text.splitlines():
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in line.split(","))


def test_a_file_saved_into_the_folder_while_writing_is_kept_and_the_write_refused(tmp_path):
    out = tmp_path / "plan"
    with replace_dir(out) as (tmp, _):
        (tmp / "sites.csv").write_text("previous\n")
    with pytest.raises(OutputError, match="files appeared in the folder while the outputs were being written"):
        with replace_dir(out) as (tmp, _):
            (tmp / "sites.csv").write_text("new\n")
            (out / "notes.txt").write_text("mine")  # the user saves a file meanwhile
    assert (out / "notes.txt").read_text() == "mine" and (out / "sites.csv").read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


def test_debris_of_killed_runs_is_removed_by_the_next_run(tmp_path):
    out = tmp_path / "k"
    for stale in (".k.probe-x", ".k.tmp-y"):
        (tmp_path / stale).mkdir()
        (tmp_path / stale / "half.csv").write_text("x")
    with replace_dir(out) as (tmp, _):
        (tmp / "a.txt").write_text("a")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k"]


def test_a_line_break_in_a_name_stays_inside_its_cell(tmp_path):
    import csv

    inp = tiny([100, 100], [30, 30], [(0, 0, "fiber", 5), (1, 1, "fiber", 5)], site_fixed=1, per_mw=[1, 1])
    inp.regions["name"] = ["\r=2+2", "two\nlines"]
    write_outputs(solve(inp), inp, tmp_path / "o")
    with open(tmp_path / "o" / "regions.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) == 3 and [r[1] for r in rows[1:]] == ["'\r=2+2", "two\nlines"]


def test_the_plan_is_frozen_and_its_summary_typed_as_summary_json_says(tmp_path):
    from siting.outputs.results import Summary
    from siting.pipeline import solve_inputs
    from siting.solve import SolveOptions

    inp = tiny([100, 100], [30, 30], [(0, 0, "fiber", 5), (1, 1, "fiber", 5)], site_fixed=1, per_mw=[1, 1])
    plan = solve_inputs(inp, SolveOptions(mip_gap=0.01, threads=1), name="typed")
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.report = None
    s = plan.summary
    assert isinstance(s, Summary) and s.scenario == "typed" and s.plan.sites == 2 and s.size.candidates == 2
    assert s.within_gap and s.mip_gap == 0.01 and s.times.solve == plan.report.solve_s
    write_outputs(plan, inp, tmp_path / "out")
    written = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert written == json.loads(json.dumps(s.to_dict())) and written["plan"]["sites"] == s["plan"]["sites"]
    # within the gap is decided on the report: a plan stopped at 0.5 % is within 1 %, not within 0.1 %
    from siting.outputs.results import within_gap
    from siting.solve import SolutionStatus, SolveReport, Termination

    stopped = SolveReport(Termination.TIME_LIMIT, SolutionStatus.FEASIBLE, 100.0, 99.5, 0.005, 0, 0)
    assert within_gap(stopped, 0.01) and not within_gap(stopped, 0.001) and not within_gap(stopped, None)
