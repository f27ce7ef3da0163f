"""Issue 8, part 3: inputs are read as written, or refused by name (one SitingError, never a traceback).

Each test names the fault class it covers; every error must name the field and, for a layer, the row.
"""

import os
import threading
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import Point, Polygon

from siting.cli import main
from siting.errors import InputError, ScenarioError, SitingError
from siting.geo.layers import read_demand, read_energy_sources, read_pops
from siting.inputs.inputs import from_layers
from siting.paths import MODELS_DIR
from siting.scenario import load_scenario

EXAMPLE = MODELS_DIR / "examples" / "southern_africa.yaml"
PLANTS_HEADER = "source_id,name,fuel,capacity_mw,latitude,longitude\n"
CITIES_HEADER = "region_id,name,country,population,latitude,longitude,inference_mw,latency_ms\n"


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def error_of(call, *args, **kwargs) -> SitingError:
    with pytest.raises(SitingError) as err:
        call(*args, **kwargs)
    return err.value


# --- ids, names, country codes and text read as written -------------------------------------------

def test_ids_and_codes_are_read_as_written(tmp_path):
    path = write(tmp_path, "p.csv", "source_id,name,country,fuel,capacity_mw,latitude,longitude\n"
                 "007,Seven,NA,hydro,100,1,1\n1e3,Thousand,NA,hydro,100,2,2\n"
                 "1,One,NA,hydro,100,3,3\n01,Oh-one,NA,hydro,100,4,4\n")
    out = read_energy_sources(path)
    assert out["source_id"].tolist() == ["007", "1e3", "1", "01"]
    assert out["country"].tolist() == ["NA"] * 4


def test_ids_round_trip_through_a_solve(tmp_path):
    result = CliRunner().invoke(main, ["solve", str(EXAMPLE), "--out", str(tmp_path / "o"), "--quiet"])
    assert result.exit_code == 0, result.output
    sites = pd.read_csv(tmp_path / "o" / "sites.csv", dtype=str, keep_default_na=False)
    assert "007" in sites["site_id"].tolist()
    assert set(sites["site_id"]) <= {"007", "1e3", "01", "1"}
    regions = pd.read_csv(tmp_path / "o" / "regions.csv", dtype=str, keep_default_na=False)
    assert regions.set_index("region_id").loc["NA-WDH", "country"] == "NA"


# --- blanks in numeric columns: an error naming the row, or a reported fallback ------------------

@pytest.mark.parametrize("column, blank_row, note", [
    ("inference_mw", "a", "demand: 1 rows with a blank inference_mw ('a') use population x "
                          "demand.inference_w_per_person (5 W)"),
    ("latency_ms", "b", "demand: 1 rows with a blank latency_ms ('b') use demand.latency_ms (100 ms)"),
])
def test_a_blank_with_a_fallback_is_filled_and_reported(tmp_path, column, blank_row, note):
    rows = {"a": "a,A,NA,4000000,-22.5,17.0,{inference_mw},{latency_ms}\n",
            "b": "b,B,ZA,6000000,-26.2,28.0,{inference_mw},{latency_ms}\n"}
    cells = {"inference_mw": "25", "latency_ms": "80"}
    text = CITIES_HEADER + "".join(
        row.format(**{c: ("" if (c == column and r == blank_row) else v) for c, v in cells.items()})
        for r, row in rows.items())
    sc = load_scenario(EXAMPLE, [f"layers.demand={write(tmp_path, 'd.csv', text)}"])
    inp = from_layers(sc)
    assert note in inp.notes
    regions = inp.regions.set_index("region_id")
    expected = {"inference_mw": 4e6 * 5 / 1e6, "latency_ms": 100.0}[column]
    assert regions.loc[blank_row, column] == pytest.approx(expected)


@pytest.mark.parametrize("cells, field, message", [
    ("a,A,hydro,  ,1,1", "capacity_mw", "missing value"),
    ("a,A,hydro,100, ,1", "latitude", "missing (NaN) coordinate"),
    ("a,  ,hydro,100,1,1", "name", "missing value"),
    ("a,A, ,100,1,1", "fuel", "missing value"),
])
def test_a_blank_without_a_fallback_names_field_and_row(tmp_path, cells, field, message):
    err = error_of(read_energy_sources, write(tmp_path, "p.csv", PLANTS_HEADER + "z,Z,wind,5,0,0\n" + cells))
    assert isinstance(err, InputError) and (err.field, err.row) == (field, "a")
    assert f"field '{field}', row 'a': {message}" in str(err)


# --- non-finite numbers ----------------------------------------------------------------------------

@pytest.mark.parametrize("column, value", [
    ("capacity_mw", "inf"), ("capacity_mw", "-inf"), ("capacity_mw", "nan"), ("capacity_mw", "Infinity"),
    ("latitude", "nan"), ("longitude", "inf"),
])
def test_non_finite_numbers_are_refused_by_field_and_row(tmp_path, column, value):
    cells = {"capacity_mw": "100", "latitude": "1", "longitude": "1", column: value}
    line = f"x,X,hydro,{cells['capacity_mw']},{cells['latitude']},{cells['longitude']}\n"
    err = error_of(read_energy_sources, write(tmp_path, "p.csv", PLANTS_HEADER + line))
    assert isinstance(err, InputError)
    assert f"field '{column}', row 'x': not a finite number: '{value}'" in str(err)


# --- polygons crossing the antimeridian ------------------------------------------------------------

def test_a_polygon_across_the_antimeridian_gets_its_point_inside():
    fiji = Polygon([(179, -18), (-179, -18), (-179, -16), (179, -16)])  # 179E..179W, 2 degrees wide
    gdf = gpd.GeoDataFrame({"region_id": ["fj"], "name": ["Fiji"], "population": [9e5]},
                           geometry=[fiji], crs="EPSG:4326")
    out = read_demand(gdf)
    assert abs(out["longitude"].iloc[0]) > 179
    assert out["latitude"].iloc[0] == pytest.approx(-17, abs=0.5)


# --- scenario files and overrides -----------------------------------------------------------------

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdef", "bcdefg"))


@pytest.mark.parametrize("content, message", [
    (b"name: x\ndemand:\n  latency_ms: 50\n  latency_ms: 60\n",
     "duplicate key 'latency_ms' at line 4 (first at line 3)"),
    ("name: caf\xe9\n".encode("latin-1"), "not UTF-8, at byte 9 (0xe9)"),
    (b'name: "a\\0b"\n', "name: contains a NUL character"),
    (b"demand:\n  latency_ms: true\n", "demand.latency_ms: Input should be a valid number (got True)"),
    (b"solver:\n  seed: 4294967296\n", "solver.seed: Input should be less than or equal to 2147483647"),
    (b"network:\n  allow_fiber: 1\n", "network.allow_fiber: Input should be a valid boolean (got 1)"),
    (b"candidates:\n  min_firm_mw: .inf\n", "candidates.min_firm_mw: Input should be a finite number"),
    (b"a: &a [*a]\n", "a YAML alias refers to itself"),
    (BOMB.encode(), "the YAML expands to more than 5,000 values"),
])
def test_bad_scenario_files_are_one_named_error(tmp_path, content, message):
    path = write(tmp_path, "s.yaml", content)
    t0 = time.perf_counter()
    err = error_of(load_scenario, path)
    assert time.perf_counter() - t0 < 1.0
    assert isinstance(err, ScenarioError) and message in str(err)


@pytest.mark.parametrize("override, message", [
    ("demand.latency_ms=true", "demand.latency_ms: Input should be a valid number (got True)"),
    ("demand.latency_ms=[1", "override demand.latency_ms: the value '[1' is not valid YAML (expected ',' or ']'"),
    ("solver.threads=true", "solver.threads: Input should be a valid integer (got True)"),
    ("facility.module_mw=1e-9", "facility.module_mw: 1e-09 MW would need"),
    ("facility.module_mw=1e6", "facility.module_mw: 1e+06 MW is larger than any candidate can host"),
    ("layers.columns.energy_sources={capacity_m: capcity_mw}",
     "layers.columns.energy_sources: Value error, 'capacity_m' is mapped to 'capcity_mw', which this layer"),
    ("layers.columns.plants={a: b}", "layers.columns.plants: unknown key"),
])
def test_bad_overrides_exit_2_with_one_named_message(override, message):
    result = CliRunner().invoke(main, ["validate", str(EXAMPLE), "--set", override])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_an_echoed_huge_value_is_clipped():
    err = error_of(load_scenario, None, ["demand.latency_ms=" + "x" * 10_000])
    assert "(10002 characters)" in str(err) and len(str(err)) < 400


# --- layers: several layers in one file, shapefile column names, special files --------------------

def regions_gdf():
    return gpd.GeoDataFrame({"region_id": ["r1"], "name": ["R"], "population": [1e6]},
                            geometry=[Point(10, 10)], crs="EPSG:4326")


def test_a_multi_layer_geopackage_needs_the_layer_named(tmp_path):
    path = tmp_path / "two.gpkg"
    gpd.GeoDataFrame({"x": [1]}, geometry=[Point(0, 0)], crs="EPSG:4326").to_file(path, layer="roads")
    regions_gdf().to_file(path, layer="regions")
    err = error_of(read_demand, path)
    assert isinstance(err, InputError) and err.field == "path"
    assert "has 2 layers (roads, regions): name one as" in str(err)
    assert read_demand(f"{path}#regions")["region_id"].tolist() == ["r1"]
    assert "has no layer 'cities' (layers: roads, regions)" in str(error_of(read_demand, f"{path}#cities"))


def test_a_shapefile_column_cut_to_ten_characters_is_explained_and_mappable(tmp_path):
    path = tmp_path / "plants.shp"
    gpd.GeoDataFrame({"source_id": [7], "name": ["A"], "fuel": ["hydro"], "capacity_mw": [100.0]},
                     geometry=[Point(1, 1)], crs="EPSG:4326").to_file(path)
    err = error_of(read_energy_sources, path)
    assert err.field == "capacity_mw"
    assert "the file has: source_id, name, fuel, capacity_m, geometry" in str(err)
    assert "cuts column names to 10 characters" in str(err) and "{capacity_m: capacity_mw}" in str(err)
    out = read_energy_sources(path, {"capacity_m": "capacity_mw"})
    assert out["capacity_mw"].tolist() == [100.0] and out["source_id"].tolist() == ["7"]


@pytest.fixture
def fifo(tmp_path):
    """A named pipe; while the test runs, a writer keeps unblocking anything that opens it to read."""
    path = tmp_path / "pipe.csv"
    os.mkfifo(path)
    stop = threading.Event()

    def unblock():
        while not stop.wait(0.5):
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass  # no reader: nothing is blocked
    thread = threading.Thread(target=unblock, daemon=True)
    thread.start()
    yield path
    stop.set()
    thread.join()


def test_special_files_are_refused_without_opening_them(tmp_path, fifo):
    err = error_of(read_pops, fifo)
    assert isinstance(err, InputError) and "is a FIFO (named pipe), not a file" in str(err)
    assert "is a directory, not a file" in str(error_of(read_pops, tmp_path))
    err = error_of(load_scenario, fifo)
    assert isinstance(err, ScenarioError) and "is a FIFO (named pipe), not a scenario file" in str(err)
    assert "is a directory, not a scenario file" in str(error_of(load_scenario, tmp_path))


# --- one clear error each: Latin-1 layer, empty layer, NUL in a name ------------------------------

@pytest.mark.parametrize("reader, content, field, row, message", [
    (read_energy_sources, (PLANTS_HEADER + "a,Caf\xe9,hydro,1,1,1\n").encode("latin-1"), "path", None,
     "not UTF-8, at byte 56 (0xe9)"),
    (read_pops, b"pop_id,latitude,longitude\n", "rows", None, "has no rows"),
    (read_energy_sources, PLANTS_HEADER + "a,A\0B,hydro,1,1,1\n", "name", "a", "contains a NUL character"),
    (read_energy_sources, PLANTS_HEADER + "a,A,hydro,true,1,1\n", "capacity_mw", "a", "not a number: 'true'"),
])
def test_unreadable_or_empty_layers_are_one_named_error(tmp_path, reader, content, field, row, message):
    err = error_of(reader, write(tmp_path, "layer.csv", content))
    assert isinstance(err, InputError) and (err.field, err.row) == (field, row)
    assert message in str(err)


def test_the_readme_example_runs(tmp_path):
    """The commands in README "Your own data" exit 0."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Your own data", 1)[1].split("\n## ", 1)[0]
    commands = [line.split(" # ")[0].split() for line in section.splitlines() if line.startswith("siting ")]
    assert commands, "the README section shows at least one command"
    cwd = Path(__file__).resolve().parents[2]
    for cmd in commands:
        args = [a if not a.startswith("models/") else str(cwd / a) for a in cmd[1:]]
        if args[0] == "solve":
            args += ["--out", str(tmp_path / "o"), "--quiet"]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, (cmd, result.output)


@pytest.mark.parametrize("rows, message", [
    ("A,a,1,-22,17,extra,more\nB,b,2,-20,18\n", "line 2 has 7 fields, the header has 5"),
    ("A,a,1,-22,17\nB,b\n", "line 3 has 2 fields, the header has 5")])
def test_a_row_with_the_wrong_number_of_fields_is_named_by_line(tmp_path, rows, message):
    path = write(tmp_path, "d.csv", "region_id,name,population,latitude,longitude\n" + rows)
    with pytest.raises(InputError, match=message):
        read_demand(path)


def test_a_missing_id_is_counted_as_a_person_counts(tmp_path):
    path = write(tmp_path, "d.csv", "region_id,name,population,latitude,longitude\n"
                                    "A,a,1,-22,17\nB,b,2,-20,18\n,c,3,-21,19\n")
    with pytest.raises(InputError, match=r"missing id in data row 3 \(line 4"):
        read_demand(path)
