"""Fuzzing the scenario loader and the layer readers: a valid result or a domain error, always."""

import math

import numpy as np
import pandas as pd
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from siting.errors import SitingError
from siting.geo.layers import read_layer
from siting.inputs.inputs import from_layers
from siting.pipeline import solve_inputs
from siting.scenario import Scenario, default_values, load_scenario
from siting.solve import SolveOptions

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
junk = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                 st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
                 st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


def _paths(tree, prefix=()):
    for k, v in tree.items():
        yield prefix + (k,)
        if isinstance(v, dict):
            yield from _paths(v, prefix + (k,))


PATHS = sorted(_paths(default_values()))


def _load(tmp_path, doc) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc))
    try:
        assert isinstance(load_scenario(path), Scenario)
    except SitingError:
        pass


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(PATHS), junk), min_size=1, max_size=4))
def test_scenario_with_mutated_fields(tmp_path, edits):
    doc: dict = {}
    for path, value in edits:
        node = doc
        for key in path[:-1]:
            node = node.setdefault(key, {}) if isinstance(node.get(key, {}), dict) else {}
        node[path[-1]] = value
    _load(tmp_path, doc)


@FUZZ
@given(st.recursive(junk, lambda inner: st.dictionaries(
    st.sampled_from(["layers", "demand", "solver", "cooling", "air", "x", "name", "energy"]), inner,
    max_size=3), max_leaves=8))
def test_scenario_with_random_structure(tmp_path, doc):
    _load(tmp_path, doc)


@FUZZ
@given(st.text(max_size=60))
def test_scenario_with_random_text(tmp_path, text):
    _load(tmp_path, text)


cell = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-500, 5000),
                 st.text(max_size=4))


@st.composite
def frames(draw, columns, n_max=5):
    n = draw(st.integers(0, n_max))
    cols = [c for c in columns if draw(st.booleans()) or c in ("latitude", "longitude")]
    data = {c: draw(st.lists(cell, min_size=n, max_size=n)) for c in cols}
    return pd.DataFrame(data, dtype=object)


@FUZZ
@given(frames(["source_id", "name", "fuel", "capacity_mw", "latitude", "longitude",
               "estimated_generation_gwh_2017", "price_usd_per_mwh"]))
def test_energy_reader(frame):
    try:
        out = read_layer(frame, "energy_sources")
    except SitingError:
        return
    assert np.isfinite(out["latitude"]).all() and (out["capacity_mw"] > 0).all()


@FUZZ
@given(frames(["region_id", "name", "population", "latitude", "longitude", "latency_ms", "inference_mw"]))
def test_demand_reader(frame):
    try:
        out = read_layer(frame, "demand")
    except SitingError:
        return
    assert (np.abs(out["latitude"]) <= 90).all() and (out["population"] > 0).all()


coord = st.tuples(st.floats(-180, 180), st.floats(-89, 89))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(coord, st.sampled_from(["hydro", "wind", "solar", "nuclear", "geothermal"] * 4 + ["coal"]),
                          st.one_of(st.floats(50, 5000), st.floats(50, 5000), st.floats(-10, 5000),
                                    st.just(math.nan))), min_size=1, max_size=4),
       st.lists(st.tuples(coord, st.floats(-1e5, 3e7)), min_size=1, max_size=4),
       st.sampled_from([20.0, 60.0, 150.0]), st.sampled_from([None, 1000.0]))
def test_end_to_end_plan_or_domain_error(tmp_path, plants, cities, latency, penalty):
    pd.DataFrame({"source_id": [f"p{i}" for i in range(len(plants))], "name": "x",
                  "fuel": [p[1] for p in plants], "capacity_mw": [p[2] for p in plants],
                  "longitude": [p[0][0] for p in plants], "latitude": [p[0][1] for p in plants]}
                 ).to_csv(tmp_path / "e.csv", index=False)
    pd.DataFrame({"region_id": range(len(cities)), "name": "c", "population": [c[1] for c in cities],
                  "longitude": [c[0][0] for c in cities], "latitude": [c[0][1] for c in cities]}
                 ).to_csv(tmp_path / "d.csv", index=False)
    overrides = [f"layers.energy_sources={tmp_path / 'e.csv'}", f"layers.demand={tmp_path / 'd.csv'}",
                 "candidates.min_firm_mw=0", "demand.min_population=0", f"demand.latency_ms={latency}",
                 "demand.training_mw=0", f"demand.unmet_penalty_usd_per_mwh={'null' if penalty is None else penalty}"]
    try:
        inp = from_layers(load_scenario(None, overrides))
        plan = solve_inputs(inp, SolveOptions(time_limit_s=20, mip_gap=1e-6, threads=1))
    except SitingError as exc:
        event(f"domain error: {type(exc).__name__}")
        return
    event("plan")
    assert plan.report.has_solution
