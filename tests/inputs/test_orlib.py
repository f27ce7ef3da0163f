"""OR-Library CAP instances: our model reproduces the published optima (J.E. Beasley)."""

import os

import pandas as pd
import pytest

from siting.errors import InputError
from siting.inputs.orlib import read_cap
from siting.pipeline import solve_report
from siting.solve import SolveOptions

EXACT = SolveOptions(time_limit_s=120, mip_gap=1e-9, threads=1, strategy="plain")
SUBSET = ["cap41", "cap71", "cap101", "cap131"]


@pytest.fixture
def orlib(shared_data):
    folder = shared_data / "orlib_cap"
    return folder, pd.read_csv(folder / "optima.csv").set_index("instance")


@pytest.mark.parametrize("name", SUBSET)
def test_published_optimum(orlib, name):
    folder, optima = orlib
    row = optima.loc[name]
    cap = None if pd.isna(row["capacity"]) else float(row["capacity"])
    inst = read_cap(folder / row["file"], cap)
    assert inst.cost.shape == (row["n_warehouses"], row["n_customers"])
    report, _ = solve_report(inst.to_inputs(), EXACT)
    assert report.proven_optimal
    assert report.objective == pytest.approx(row["optimal_value"], rel=1e-6)


def test_reader_matches_the_format(orlib):
    folder, _ = orlib
    inst = read_cap(folder / "cap41.txt")
    assert inst.capacity.tolist() == [5000.0] * 16
    assert sorted(inst.fixed_cost)[:2] == [0.0, 7500.0]  # one warehouse has fixed cost 0
    assert inst.demand.sum() == 58268
    assert inst.demand[0] == 146 and inst.cost[0, 0] == pytest.approx(6739.725)


def test_capacity_word_needs_a_value(orlib):
    folder, _ = orlib
    with pytest.raises(InputError, match="capacity.*warehouse 1.*pass a capacity"):
        read_cap(folder / "capa.txt")
    assert read_cap(folder / "capa.txt", 8000).capacity.max() == 8000


@pytest.mark.parametrize("text, message", [
    ("2 3\n10 5.\n10 6.\n4 1 2\n5 3 4\n",
     r"orlib bad.txt: field .data.: truncated: 12 numbers, 15 expected.*customer 3"),
    ("2 2\n10 5.\n10 6.\n4 1 2\n5 3 x4\n", r"field 'cost', row 'customer 2': not a number: 'x4'"),
    ("2 2\n10 five\n10 6.\n4 1 2\n5 3 4\n", r"field 'fixed_cost', row 'warehouse 1'"),
    ("1 2\n10 5.\n-4 1\n5 3\n", r"field 'demand', row 'customer 1'"),
], ids=["truncated", "non-numeric cost", "non-numeric fixed cost", "negative demand"])
def test_malformed_file_is_named(tmp_path, text, message):
    bad = tmp_path / "bad.txt"
    bad.write_text(text)
    with pytest.raises(InputError, match=message):
        read_cap(bad)


@pytest.mark.skipif(not os.environ.get("SITING_SLOW"), reason="85 s on one core: set SITING_SLOW=1")
def test_fastest_large_variant(orlib):
    # capa with capacity 14000 is the fastest capa-capc variant here (85 s); the others need
    # more than 120 s (bench/orlib_cap.py)
    folder, optima = orlib
    inst = read_cap(folder / "capa.txt", 14000)
    report, _ = solve_report(inst.to_inputs(), EXACT)
    assert report.proven_optimal
    assert report.objective == pytest.approx(optima.loc["capa_14000", "optimal_value"], rel=1e-6)
