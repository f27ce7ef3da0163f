"""Bad input gets one clear domain error naming the layer or field, the row and the rule."""

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import Point, Polygon

from siting.cli import main
from siting.errors import InputError, NoSolutionError, ScenarioError
from siting.geo.layers import read_demand, read_energy_sources, read_pops
from siting.inputs.inputs import from_layers
from siting.pipeline import solve_inputs
from siting.scenario import load_scenario
from siting.solve import SolveOptions


def plants(**changes):
    df = pd.DataFrame({"source_id": ["a", "b"], "name": ["A", "B"], "fuel": ["hydro", "wind"],
                       "capacity_mw": [1000.0, 500.0], "latitude": [10.0, 20.0],
                       "longitude": [100.0, -50.0]})
    for col, (row, value) in changes.items():
        df[col] = df[col].astype(object)
        df.loc[row, col] = value
    return df


BAD_PLANTS = [
    (plants().drop(columns="capacity_mw"), "energy_sources: field 'capacity_mw': missing required column"),
    (plants().drop(columns="latitude"), "field 'latitude': missing column"),
    (plants(latitude=(1, float("nan"))), "field 'latitude', row 'b': missing (NaN) coordinate"),
    (plants(latitude=(0, 100.0), longitude=(0, 10.0)), "field 'latitude', row 'a': 100.0 is outside [-90, 90] - "
                                  "latitude and longitude look swapped"),
    (plants(longitude=(1, 200.0)), "field 'longitude', row 'b': 200.0 is outside [-180, 180]"),
    (plants(source_id=(1, "a")), "field 'source_id', row 'a': duplicate id"),
    (plants(capacity_mw=(1, -5.0)), "field 'capacity_mw', row 'b': must be > 0 (got -5.0)"),
    (plants(capacity_mw=(0, 0.0)), "field 'capacity_mw', row 'a': must be > 0 (got 0.0)"),
    (plants(capacity_mw=(1, "lots")), "field 'capacity_mw', row 'b': not a number: 'lots'"),
    (plants(name=(0, None)), "field 'name', row 'a': missing value"),
]


@pytest.mark.parametrize("frame, message", BAD_PLANTS)
def test_bad_energy_layer(frame, message):
    with pytest.raises(InputError) as err:
        read_energy_sources(frame)
    assert message in str(err.value)


def test_projected_crs_is_reprojected_and_unknown_refused():
    gdf = gpd.GeoDataFrame(plants().drop(columns=["latitude", "longitude"]),
                           geometry=[Point(100, 10), Point(-50, 20)], crs="EPSG:4326")
    merc = gdf.to_crs("EPSG:3857")
    back = read_energy_sources(merc)
    assert back["longitude"].tolist() == pytest.approx([100, -50])
    assert back["latitude"].tolist() == pytest.approx([10, 20])
    with pytest.raises(InputError, match="field 'crs': no CRS given"):
        read_energy_sources(gdf.set_crs(None, allow_override=True))


def test_polygon_regions_use_an_equal_area_representative_point():
    square = Polygon([(10, 40), (12, 40), (12, 42), (10, 42)])
    gdf = gpd.GeoDataFrame({"region_id": ["r"], "name": ["R"], "population": [1e6]},
                           geometry=[square], crs="EPSG:4326")
    out = read_demand(gdf)
    assert square.contains(out.geometry.iloc[0])
    assert out["longitude"].iloc[0] == pytest.approx(11, abs=0.01)


def test_empty_geometry_is_named():
    gdf = gpd.GeoDataFrame({"pop_id": ["p", "q"]}, geometry=[Point(1, 1), Point()], crs="EPSG:4326")
    with pytest.raises(InputError, match="pops: field 'geometry', row 'q': empty or missing geometry"):
        read_pops(gdf)


def test_unknown_fuel_is_named(tmp_path):
    plants(fuel=(1, "coal")).to_csv(tmp_path / "p.csv", index=False)
    sc = load_scenario(None, [f"layers.energy_sources={tmp_path / 'p.csv'}"])
    with pytest.raises(InputError, match="field 'fuel', row 'b': unknown fuel 'coal' .known: hydro"):
        from_layers(sc)


@pytest.mark.parametrize("override, message", [
    ("demand.latncy_ms=5", "demand.latncy_ms: unknown key"),
    ("money.discount_rate=-0.1", "money.discount_rate: Input should be greater than or equal to 0"),
    ("cooling.air.pue=0.9", "cooling.air.pue: Input should be greater than or equal to 1"),
    ("demand.latency_ms=0", "demand.latency_ms: Input should be greater than 0"),
    ("demand.resilience_max_share=1.5", "demand.resilience_max_share: Input should be less than"),
    ("facility.module_mw=big", "facility.module_mw: Input should be a valid number"),
    ("energy.fuels.hydro.price_usd_per_mwh=-3", "energy.fuels.hydro.price_usd_per_mwh"),
    ("nonsense", "expected key.path=value"),
])
def test_bad_scenario_values(override, message):
    with pytest.raises(ScenarioError) as err:
        load_scenario(None, [override])
    assert message in str(err.value)


def test_bad_yaml_and_missing_file(tmp_path):
    (tmp_path / "s.yaml").write_text("demand: [1, 2\n")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(tmp_path / "s.yaml")
    with pytest.raises(ScenarioError, match="cannot read scenario"):
        load_scenario(tmp_path / "missing.yaml")


def test_unreachable_region_is_named_with_its_nearest_rtt():
    sc = load_scenario(None, ["demand.latency_ms=25", "demand.unmet_penalty_usd_per_mwh=null"])
    with pytest.raises(NoSolutionError, match=r"no candidate site within its 25 ms limit by any "
                                              r"backhaul; the nearest candidate, .*, is \d+\.\d ms away"):
        solve_inputs(from_layers(sc), SolveOptions())


def test_validate_reports_infeasibility_by_name():
    result = CliRunner().invoke(main, ["validate", "--set", "demand.latency_ms=25",
                                       "--set", "demand.unmet_penalty_usd_per_mwh=null"])
    assert result.exit_code == 4
    assert "INFEASIBLE" in result.output and "error: region" in result.output


def test_bad_layer_through_the_cli(tmp_path):
    plants(latitude=(0, 100.0)).to_csv(tmp_path / "p.csv", index=False)
    result = CliRunner().invoke(main, ["solve", "--set", f"layers.energy_sources={tmp_path / 'p.csv'}",
                                       "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].startswith("error: energy_sources: field 'latitude', row 'a'")
    assert "Traceback" not in result.output and not (tmp_path / "o").exists()


def test_invalid_polygon_is_named_with_the_reason():
    bowtie = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    gdf = gpd.GeoDataFrame({"region_id": ["r"], "name": ["R"], "population": [1e6]},
                           geometry=[bowtie], crs="EPSG:4326")
    with pytest.raises(InputError, match=r"demand: field 'geometry', row 'r': invalid geometry "
                                         r"\(Self-intersection.*shapely.make_valid"):
        read_demand(gdf)
