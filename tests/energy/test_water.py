"""Water by climate (limit and price) and embodied carbon, hand-solved.

Each expected optimum or figure is worked out in the comment above its assertion from the
instance's numbers alone; every solved plan is audited (water recomputed from its tables).
"""

import numpy as np
import pandas as pd
import pytest
from helpers import PER_MW, WATER_COOLING, assert_exact, check, solve, tiny, water_site

from siting import costs
from siting.energy.climate import site_water_m3_per_mw_year
from siting.errors import InputError
from siting.geo.layers import read_energy_sources
from siting.inputs.inputs import from_layers
from siting.model import build_model
from siting.outputs.audit import audit
from siting.scenario import load_scenario

PVF = float(costs.pv_annuity_factor(0.07, 25))  # 11.6536: PV of 1 $ a year for 25 years at 7 %


def test_water_by_climate_at_the_equator():
    # latitude 0: annual mean 26 C (data/climate.csv). Evaporative: 1.8 x (1 + 0.04 x (26 - 10)) =
    # 2.952 L/kWh; liquid 0.1 (no slope). Per MW IT a year at 80 % use: x 0.8 x 8760 m3.
    water = site_water_m3_per_mw_year([0.0], WATER_COOLING, 0.8)
    assert water[0].tolist() == pytest.approx([2.952 * 0.8 * 8760, 0.1 * 0.8 * 8760])
    # and at 60 N (annual -1 C) the same evaporative hall draws 1.8 x (1 - 0.44) = 1.008 L/kWh
    assert site_water_m3_per_mw_year([60.0], WATER_COOLING, 0.8)[0, 0] == pytest.approx(1.008 * 0.8 * 8760)


@pytest.mark.parametrize("limit, tech, cost", [(100_000.0, "evaporative", 5 + 100 * 35),
                                               (99_999.0, "liquid", 5 + 100 * 37)])
@pytest.mark.family("water")
def test_a_water_limit_stops_evaporative_cooling_beyond_it(limit, tech, cost):
    # 1,000 m3 per MW-year evaporative, none liquid: 100 MW evaporative draws exactly 100,000 m3.
    # One technology per site, so one m3 less and the whole site runs on liquid (2 M$/MW dearer).
    plan = check(water_site(np.array([[1000.0, 0.0]]), limit), cost)
    row = plan.sites.iloc[0]
    assert row["cooling"] == tech
    assert row["water_m3_per_year"] == pytest.approx(100_000.0 if tech == "evaporative" else 0.0)


# With a water price p ($/m3), water costs evaporative 20,687.6 x p x PVF / 1e6 M$ per MW IT and
# liquid 700.8 x p x PVF / 1e6: the 2 M$/MW capex gap closes at
# p* = 2e6 / ((20,687.6 - 700.8) x 11.6536) = 8.587 $/m3.
CROSSING = 2e6 / ((2.952 - 0.1) * 0.8 * 8760 * PVF)


@pytest.mark.parametrize("price, tech", [(8.0, "evaporative"), (9.0, "liquid")])
def test_a_water_price_turns_an_evaporative_site_to_liquid_at_the_price_computed_by_hand(price, tech):
    assert CROSSING == pytest.approx(8.587, abs=1e-3)
    water = site_water_m3_per_mw_year([0.0], WATER_COOLING, 0.8)
    per_mw = np.array(PER_MW) + water * price * PVF / 1e6
    c = 0 if tech == "evaporative" else 1
    plan = check(water_site(water, per_mw=per_mw), 5 + 100 * per_mw[0, c])
    assert plan.sites.iloc[0]["cooling"] == tech


def test_the_default_layers_price_and_limit_water():
    # an instance HiGHS proves in seconds: without the satellite cells (their 2 MW steps kept it
    # from a proof in 30 s) and with the largest 15 sources (the cheapest took 30 s)
    small = ["candidates.max_count=15", "demand.max_regions=10", "network.cell_capacity=false",
             "candidates.rank_by=firm_mw"]
    base = from_layers(load_scenario(None, small))
    assert "water" not in base.it_cost_musd and base.water_limit_m3_per_year is None
    assert base.water_limited().size == 0 and not hasattr(build_model(base), "water")
    priced = from_layers(load_scenario(None, small + ["facility.water_price_usd_per_m3=3"]))
    # the water component is water (m3 per MW-year) x 3 $/m3 x PVF, per site and cooling
    assert priced.it_cost_musd["water"] == pytest.approx(base.water_m3_per_mw_year * 3 * PVF / 1e6)
    capped = from_layers(load_scenario(None, small + ["facility.water_limit_m3_per_year=500000"]))
    assert (capped.water_limit_m3_per_year == 500_000).all() and len(build_model(capped).water) == 15

    assert_exact(capped)  # siting/estimate.py counts the water rows
    plan = solve(capped)
    assert plan.report.proven_optimal and audit(plan, capped) == []
    assert (plan.sites["water_m3_per_year"] <= 500_000 * (1 + 1e-9)).all()
    assert plan.summary["carbon_water"]["water_m3_per_year"] == pytest.approx(plan.sites["water_m3_per_year"].sum())


def test_a_layers_water_limit_is_read_and_a_negative_one_named():
    plants = pd.DataFrame({"source_id": ["a", "b"], "name": ["A", "B"], "fuel": ["hydro", "wind"],
                           "capacity_mw": [1000.0, 500.0], "latitude": [10.0, 20.0], "longitude": [100.0, -50.0],
                           "water_limit_m3_per_year": [2e5, None]})
    assert read_energy_sources(plants)["water_limit_m3_per_year"].tolist()[0] == 2e5
    plants.loc[1, "water_limit_m3_per_year"] = -1.0
    with pytest.raises(InputError, match="field 'water_limit_m3_per_year', row 'b': must be >= 0"):
        read_energy_sources(plants)


def test_bad_water_arrays_name_the_field_and_row():
    with pytest.raises(InputError, match="field 'water_m3_per_mw_year', row 'S0'"):
        water_site(np.array([[-1.0, 0.0]]))
    with pytest.raises(InputError, match="field 'water_limit_m3_per_year'.*shape"):
        tiny([1000], [100], [(0, 0, "direct", 1)], site_fixed=[5], per_mw=PER_MW, cooling=WATER_COOLING,
             water_m3_per_mw_year=np.zeros((1, 2)), water_limit_m3_per_year=np.zeros(2))


def test_embodied_carbon_is_reported_as_arithmetic_says():
    from helpers import SQUARE, hourly, solar_site

    # the square-wave site builds 240 / 0.9 = 266.67 MWh of storage for a 20 MW IT load.
    # Battery: 80 kgCO2e/kWh = 80 t/MWh, built twice in 25 years of 15-year batteries -> 160 t/MWh:
    # 42,666.7 t. Facility: 1,500 t per MW IT x 20 MW = 30,000 t. Total 72,666.7 t.
    inp = solar_site(hourly(SQUARE, mwh=0.3, mw=0.1))
    inp.embodied_tco2e_per_mw_it, inp.battery_tco2e_per_mwh = 1500.0, 80.0 * 2
    plan = solve(inp)
    row = plan.sites.iloc[0]
    assert row["embodied_battery_tco2e"] == pytest.approx(240 / 0.9 * 160)
    assert row["embodied_facility_tco2e"] == pytest.approx(20 * 1500)
    carbon = plan.summary["carbon_water"]
    assert carbon["embodied_tco2e"] == pytest.approx(240 / 0.9 * 160 + 30_000)
    # the default factors: 80 kg/kWh x ceil(25 / 15) builds; 1,500 t per MW IT
    default = from_layers(load_scenario(None, ["candidates.max_count=15", "demand.max_regions=10"]))
    assert (default.battery_tco2e_per_mwh, default.embodied_tco2e_per_mw_it) == (160.0, 1500.0)
