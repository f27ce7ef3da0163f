"""The scenario's time: block: bad periods, lead times, ramps, online years and growth tables get
one clear error naming the field and row; good ones reach the inputs' periods."""

import numpy as np
import pandas as pd
import pytest

from siting.errors import InputError, ScenarioError
from siting.inputs.inputs import from_layers
from siting.scenario import load_scenario

SIX = "time.years=[2026,2027,2028,2030,2032,2035]"
# PUE by climate (on by default since issue 21) is not yet stated over periods: a build-out turns it off
SMALL = ["candidates.max_count=5", "demand.max_regions=3", "facility.climate=false"]


@pytest.mark.parametrize("overrides, message", [
    (["time.years=[2026,2026]"], "time.years[1]: 2026 is not after 2026"),
    (["time.years=[2030,2026]"], "time.years[1]: 2026 is not after 2030"),
    (["time.years=[2026,2030]", "time.end_year=2030"], "time.end_year: 2030 is not after the last period"),
    ([SIX, "time.lead_time_months.hydro=-3"],
     "time.lead_time_months.hydro: Input should be greater than or equal to 0"),
    ([SIX, "time.ramp_per_year=-1"], "time.ramp_per_year: Input should be greater than or equal to 0"),
    ([SIX, "time.seed_mw_per_year=-5"], "time.seed_mw_per_year: Input should be greater than or equal to 0"),
    ([SIX, "time.training_mw=[0,1000]"], "time.training_mw: 2 figures for 6 periods"),
    ([SIX, "energy.hourly=true"], "energy.hourly: not yet stated over investment periods"),
    ([SIX, "demand.n_minus_1_share=0.5", "time.chips=true"],
     "demand.n_minus_1_share with time.chips: not yet stated over investment periods"),
    ([SIX, "facility.water_limit_m3_per_year=1000"], "facility.water_limit_m3_per_year: not yet stated"),
])
def test_bad_time_settings_are_named(overrides, message):
    with pytest.raises(ScenarioError) as err:
        load_scenario(None, overrides)
    assert message in str(err.value)


def test_one_period_allows_every_option():
    assert load_scenario(None, ["time.years=[2026]", "energy.hourly=true"]).time.periods == 1


def plants(tmp_path, **cols):
    df = pd.DataFrame({"source_id": ["a", "b"], "name": ["A", "B"], "fuel": ["hydro", "nuclear"],
                       "capacity_mw": [3000.0, 3000.0], "latitude": [31.0, 40.0], "longitude": [121.0, 116.0],
                       "country": ["CHN", "CAN"]} | cols)
    df.to_csv(tmp_path / "p.csv", index=False)
    return f"layers.energy_sources={tmp_path / 'p.csv'}"


def test_online_year_before_the_first_period_is_named(tmp_path):
    sc = load_scenario(None, [SIX, plants(tmp_path, online_year=[2030, 2020])] + SMALL)
    with pytest.raises(InputError, match="field 'online_year', row 'b': 2020 is before the first period"):
        from_layers(sc)


def test_negative_lead_time_column_is_named(tmp_path):
    sc = load_scenario(None, [SIX, plants(tmp_path, lead_time_months=[12, -1])] + SMALL)
    with pytest.raises(InputError, match="field 'lead_time_months', row 'b': must be >= 0"):
        from_layers(sc)


def test_time_to_power_from_fuel_column_and_online_year(tmp_path):
    # building starts one year before 2026 (time.first_build_years): hydro's 24 months -> 2027
    # (period 1); b's own 84 months -> 2032 (period 4); with online_year 2035: period 5
    def by_id(inp, values):
        return dict(zip(inp.sites["site_id"], np.asarray(values).tolist()))

    inp = from_layers(load_scenario(None, [SIX, plants(tmp_path, lead_time_months=["", 84])] + SMALL))
    assert by_id(inp, inp.periods.site_first) == {"a": 1, "b": 4}
    inp = from_layers(load_scenario(None, [SIX, plants(tmp_path, online_year=["", 2035])] + SMALL))
    assert by_id(inp, inp.periods.site_first) == {"a": 1, "b": 5}
    # the jurisdiction cap reads the country column: b (CAN) capped, a not
    inp = from_layers(load_scenario(None, [SIX, plants(tmp_path), "time.jurisdiction_new_mw_per_year={CAN: 500}"]
                                    + SMALL))
    assert by_id(inp, inp.periods.jurisdiction) == {"a": -1, "b": 0}
    assert inp.periods.jurisdiction_cap_mw_per_year.tolist() == [500]


def test_growth_path_and_table(tmp_path):
    inp = from_layers(load_scenario(None, [SIX] + SMALL))
    years = np.array([2026, 2027, 2028, 2030, 2032, 2035])
    assert inp.periods.demand_factor[:, 0] == pytest.approx(1.147 ** (years - 2026))
    ids = inp.regions["region_id"].astype(str).tolist()
    rows = [(r, y, 1 + i + j) for i, r in enumerate(ids) for j, y in enumerate(years)]
    table = pd.DataFrame(rows, columns=["region_id", "year", "factor"])
    table.to_csv(tmp_path / "g.csv", index=False)
    inp = from_layers(load_scenario(None, [SIX, f"time.demand_growth_table={tmp_path / 'g.csv'}"] + SMALL))
    assert inp.periods.demand_factor[:, 1].tolist() == [2, 3, 4, 5, 6, 7]
    table[~((table["region_id"] == ids[2]) & (table["year"] == 2030))].to_csv(tmp_path / "g.csv", index=False)
    with pytest.raises(InputError, match=f"time.demand_growth_table: field 'year', row '{ids[2]}': no factor for "
                                         "period 2030"):
        from_layers(load_scenario(None, [SIX, f"time.demand_growth_table={tmp_path / 'g.csv'}"] + SMALL))
