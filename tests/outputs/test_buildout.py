"""A build-out's files: schedule (site x period), regions by period, weighted costs, online years."""

import dataclasses
import json

import pandas as pd
import pytest
from helpers import solve, tiny

from siting.inputs.periods import make_periods
from siting.outputs.results import write_outputs


def bridged():
    # one site ready in 2027, its lateral (10) in 2028; satellite (5 per 10 Gbps unit: 100 MW is
    # 10 units) at once; 100 MW a period, unmet at 1000 per MW; three periods of a 3-year life
    # (rate 0: w = 1/3 each). 2026 unmet; 2027 by satellite; 2028 by fiber (10 / 3 < 50 / 3).
    inp = tiny([1000], [100], [(0, 0, "fiber", 1), (0, 0, "satellite", 1)], site_fixed=[0], per_mw=[1],
               fiber_cost=10.0, sat_unit_cost=5.0, unmet_cost_musd_per_mw=1000.0)
    per = make_periods([2026, 2027, 2028], K=1, R=1, rate=0.0, lifetime_years=3, site_ready_year=[2027],
                       fiber_ready_year=[2028])
    return dataclasses.replace(inp, periods=per)


def test_the_schedule_and_regions_by_period_read_as_built(tmp_path):
    inp = bridged()
    plan = solve(inp)
    expected = 1000 * 100 / 3 + 100 * 2 / 3 + 50 / 3 + 10 / 3
    assert plan.report.objective == pytest.approx(expected)
    assert plan.costs["pv_musd"].sum() == pytest.approx(plan.report.objective)  # weighted per period
    s = plan.schedule.set_index("year")
    assert s["it_mw"].tolist() == [0, 100, 100] and s["new_it_mw"].tolist() == [0, 100, 0]
    assert s["backhaul"].tolist() == ["none", "satellite", "fiber"]
    assert s["online_year"].tolist() == [2027] * 3
    p = plan.periods.set_index("year")
    assert p["unmet_mw"].tolist() == [100, 0, 0]
    assert p["satellite_mw"].tolist() == [0, 100, 0] and p["fiber_mw"].tolist() == [0, 0, 100]
    assert plan.regions["first_full_year"].tolist() == [2027]
    assert plan.sites["online_year"].tolist() == [2027]
    b = plan.summary.to_dict()["buildout"]
    assert [r["unmet_mw"] for r in b["periods"]] == [100, 0, 0]
    write_outputs(plan, inp, tmp_path / "out")
    out = tmp_path / "out"
    assert pd.read_csv(out / "schedule.csv")["year"].tolist() == [2026, 2027, 2028]
    assert pd.read_csv(out / "periods.csv")["unmet_mw"].tolist() == [100, 0, 0]
    assert (out / "buildout.png").stat().st_size > 0
    feats = json.loads((out / "sites.geojson").read_text())["features"]
    assert [f["properties"]["online_year"] for f in feats] == [2027]


def test_a_first_full_year_needs_every_later_period_served():
    from siting.outputs.buildout import first_served_year

    p = pd.DataFrame({"region_id": ["a"] * 3 + ["b"] * 3, "year": [2026, 2027, 2028] * 2,
                      "demand_mw": 10.0, "unmet_mw": [0, 5, 0, 5, 5, 5]})
    assert first_served_year(p).to_dict() == {"a": 2028.0, "b": pytest.approx(float("nan"), nan_ok=True)}


def test_the_map_has_a_period_control():
    from siting.outputs.maps import map_data, map_page

    inp = bridged()
    plan = solve(inp)
    data = map_data(plan, inp)
    assert data["years"] == [2026, 2027, 2028]
    site = data["sites"][0]
    assert site["radius_by_year"]["2026"] == 0 and site["radius_by_year"]["2027"] > 0  # online from 2027
    assert ["online year", "2027"] in site["rows"]
    assert "Colonies online in " in map_page(data)
