"""Hourly energy on representative days: storage and overbuild, hand-solved.

Each expected optimum is worked out in the comment above its assertion from the instance's
numbers alone; every plan is audited (hourly balance, state of charge, throughput) from its
tables and decisions.
"""

import numpy as np
import pandas as pd
import pytest
from helpers import GRID, OWN, PREMIUM, SQUARE, hourly, solar_site, solve, tiny
from helpers import check as check_optimum

from siting import physics
from siting.energy.storage import daily_energy_bound
from siting.inputs.inputs import from_layers
from siting.model import build_model
from siting.outputs.audit import audit
from siting.scenario import load_scenario


def check(inp, expected):
    return check_optimum(inp, expected, rel=1e-7)


@pytest.mark.family("hourly_balance", "storage", "storage_capacity")
def test_square_wave_solar_needs_the_battery_arithmetic_says():
    # 20 MW flat load; 100 MW of sun for 12 h, none for 12 h; round trip 0.81 (0.9 each way).
    # Night: 12 h x 20 MW = 240 MWh out -> 240 / 0.9 = 266.67 MWh stored at dusk (the battery).
    # Day: 240 / 0.81 = 296.30 MWh charged over 12 h -> 24.69 MW of power (no simultaneous use).
    # Losses 296.30 - 240 = 56.30 MWh a day x 365 days x 0.001 M$/MWh = 20.55.
    hi = hourly(SQUARE, mwh=0.3, mw=0.1, energy=0.001)
    plan = check(solar_site(hi), 10 + 20 + 0.3 * 240 / 0.9 + 0.1 * 240 / 0.81 / 12
                 + 0.001 * 365 * (240 / 0.81 - 240))
    row = plan.sites.iloc[0]
    assert row["storage_mwh"] == pytest.approx(240 / 0.9)
    assert row["storage_mw"] == pytest.approx(240 / 0.81 / 12)
    assert row["overbuild_mw"] == 0
    # curtailment: 12 h x (100 - 20 - 24.69) MW x 365 days
    assert row["curtailment_mwh_per_year"] == pytest.approx(12 * (80 - 240 / 0.81 / 12) * 365)




@pytest.mark.family("grid_import")
def test_without_a_target_the_night_is_imported():
    # 240 MWh every night from the grid: 240 x 365 x 0.0004 = 35.04; carbon-free share 1/2
    hi = hourly(SQUARE, mwh=0.3, mw=0.1, energy=OWN, grid=GRID)
    plan = check(solar_site(hi), 10 + 20 + 240 * 365 * PREMIUM)
    row = plan.sites.iloc[0]
    assert row["storage_mwh"] == 0 and row["grid_import_mwh_per_year"] == pytest.approx(240 * 365)
    assert row["cfe_share"] == pytest.approx(0.5)


@pytest.mark.family("cfe")
@pytest.mark.parametrize("where", ["plan", "site"])
def test_a_cfe_target_forces_exactly_the_battery_arithmetic_says(where):
    # target 0.75: imports <= 0.25 x 175,200 = 43,800 MWh a year = 120 MWh a night; the other
    # 120 MWh come from the battery: 120 / 0.9 = 133.33 MWh stored, 120 / 0.81 = 148.15 MWh
    # charged over 12 sunny hours = 12.35 MW; losses 148.15 - 120 = 28.15 MWh a day at 0.0001
    kw = {"cfe": 0.75} if where == "plan" else {"cfe_site": 0.75}
    hi = hourly(SQUARE, mwh=0.3, mw=0.1, energy=OWN, grid=GRID, **kw)
    plan = check(solar_site(hi), 10 + 20 + 0.3 * 120 / 0.9 + 0.1 * 120 / 0.81 / 12 + 120 * 365 * PREMIUM
                 + OWN * 365 * (120 / 0.81 - 120))
    row = plan.sites.iloc[0]
    assert row["storage_mwh"] == pytest.approx(120 / 0.9)
    assert row["storage_mw"] == pytest.approx(120 / 0.81 / 12)
    assert row["grid_import_mwh_per_year"] == pytest.approx(120 * 365)
    assert row["cfe_share"] == pytest.approx(0.75)


def test_a_full_cfe_target_needs_the_whole_night_stored():
    # target 1: no import at all, the square-wave battery of the first test (266.67 MWh, 24.69 MW)
    hi = hourly(SQUARE, mwh=0.3, mw=0.1, energy=OWN, grid=GRID, cfe=1.0)
    plan = check(solar_site(hi), 10 + 20 + 0.3 * 240 / 0.9 + 0.1 * 240 / 0.81 / 12
                 + OWN * 365 * (240 / 0.81 - 240))
    row = plan.sites.iloc[0]
    assert row["storage_mwh"] == pytest.approx(240 / 0.9) and row["grid_import_mwh_per_year"] == 0
    assert row["cfe_share"] == pytest.approx(1.0)


def test_a_cfe_target_counts_the_firm_sites_load():
    # a firm (hydro-like) site beside the solar one: the plan's target is over both loads. Each
    # serves its own 20 MW region: load 2 x 175,200 MWh; target 0.75 -> imports <= 87,600 MWh a
    # year = 240 MWh a night: the solar site imports its whole night, no battery (cf. the 0.75
    # single-site case, which needed one)
    hi = hourly(SQUARE, mwh=0.3, mw=0.1, energy=OWN, grid=GRID, cfe=0.75)
    firm = daily_energy_bound(hi.cf, hi.available_mw, hi.overbuild_max_mw)
    inp = tiny([firm[0], 500], [20, 20], [(0, 0, "direct", 1), (1, 1, "direct", 1)], site_fixed=[10, 10],
               per_mw=[1, 1], hourly=hi)
    plan = check(inp, 10 + 20 + 10 + 20 + 240 * 365 * PREMIUM)
    assert plan.sites["storage_mwh"].sum() == 0
    assert plan.sites.set_index("site_id")["cfe_share"].tolist() == pytest.approx([0.5, 1.0])


@pytest.mark.family("storage_throughput")
def test_cycle_life_caps_throughput():
    # same site, but only 300 cycles a year: 365 days x 240 MWh <= 300 x MWh -> MWh = 292
    hi = hourly(SQUARE, mwh=0.3, mw=0.1, cycles=300.0)
    plan = check(solar_site(hi), 10 + 20 + 0.3 * 365 * 240 / 300 + 0.1 * 240 / 0.81 / 12)
    assert plan.sites.iloc[0]["storage_mwh"] == pytest.approx(292.0)


@pytest.mark.family("overbuild")
def test_overbuild_wins_where_storage_is_dearer():
    # night cf 0.1 instead of 0: without storage a 20 MW load needs (100 + x) * 0.1 >= 20 -> x = 100
    # MW of overbuild at 0.1 each = 10. Storage instead: each MW of overbuild spared adds 0.1 MW
    # of night deficit = 1.2 MWh / 0.9 stored at 10/MWh = 13.3 >> 0.1: all overbuild.
    cf = np.r_[np.ones(12), np.full(12, 0.1)]
    hi = hourly(cf, overbuild_max=100.0, mwh=10.0, mw=10.0, overbuild=0.1)
    plan = check(solar_site(hi), 10 + 20 + 100 * 0.1)
    row = plan.sites.iloc[0]
    assert row["overbuild_mw"] == pytest.approx(100.0) and row["storage_mwh"] == 0


def test_storage_wins_where_overbuild_is_dearer():
    # same site with overbuild at 10/MW: the 10 MW night deficit is stored instead:
    # 120 MWh out -> 133.33 MWh stored (0.1 each); charge 148.15 MWh over 12 h -> 12.35 MW (0.1 each)
    cf = np.r_[np.ones(12), np.full(12, 0.1)]
    hi = hourly(cf, overbuild_max=100.0, mwh=0.1, mw=0.1, overbuild=10.0)
    plan = check(solar_site(hi), 10 + 20 + 0.1 * 120 / 0.9 + 0.1 * 120 / 0.81 / 12)
    assert plan.sites.iloc[0]["overbuild_mw"] == 0


def test_firm_sites_get_no_hourly_rows():
    # a firm site next to the variable one: only the variable site has hourly columns
    hi = hourly(SQUARE)
    inp = tiny([50, 500], [20], [(0, 0, "direct", 1), (0, 1, "direct", 1)], site_fixed=[10, 10],
               per_mw=[1, 1], hourly=hi)
    m = build_model(inp)
    assert len(m.hourly_balance) == 24 and list(m.storage_mwh.keys()) == [0]


SMALL = ["candidates.max_count=15", "demand.max_regions=10"]


def test_hourly_off_leaves_the_default_inputs_alone():
    off = from_layers(load_scenario(None, SMALL))
    assert off.hourly is None
    m = build_model(off)
    assert not hasattr(m, "hourly_balance") and not hasattr(m, "storage_mwh")
    assert off.unit_costs().charge.size == 0


def test_hourly_default_scenario_solves_and_audits():
    # dear hydro and nuclear: ranking by cost keeps wind and solar sources
    inp = from_layers(load_scenario(None, SMALL + ["energy.hourly=true", "energy.representative_days=2",
                                                   "candidates.rank_by=cost", "candidates.min_firm_mw=50",
                                                   "energy.fuels.hydro.price_usd_per_mwh=400",
                                                   "energy.fuels.nuclear.price_usd_per_mwh=400"]))
    hi = inp.hourly
    assert hi is not None and hi.V > 0 and hi.weight_days.sum() == 365
    fuels = inp.sites["fuel"].to_numpy()[hi.site]
    assert set(fuels) <= {"solar", "wind"}
    plan = solve(inp)
    assert plan.report.proven_optimal
    assert audit(plan, inp) == []


def _profiles_csv(path, ids, value):
    import pandas as pd

    table = pd.DataFrame(np.full((len(ids), 8760), value), columns=[f"h{i}" for i in range(8760)])
    table.insert(0, "site_id", ids)
    table.to_csv(path, index=False)
    return path


def test_users_own_profiles_override_the_synthetic_ones(tmp_path):
    sets = SMALL + ["energy.hourly=true", "energy.representative_days=2", "candidates.rank_by=cost",
                    "candidates.min_firm_mw=50", "energy.fuels.hydro.price_usd_per_mwh=400",
                    "energy.fuels.nuclear.price_usd_per_mwh=400"]
    base = from_layers(load_scenario(None, sets))
    sid = str(base.sites["site_id"].iloc[base.hourly.site[0]])
    path = _profiles_csv(tmp_path / "p.csv", [sid], 0.5)
    own = from_layers(load_scenario(None, sets + [f"layers.profiles={path}"]))
    assert np.allclose(own.hourly.cf[0], 0.5)
    assert not np.allclose(base.hourly.cf[0], 0.5)
    # the other sites keep their synthetic profiles (their representative days may move: the
    # days are clustered over every site's year)
    assert own.hourly.V == 1 or not np.allclose(own.hourly.cf[1:], 0.5)
    assert "1 with the user's own profiles" in " ".join(own.notes)


@pytest.mark.parametrize("value, field", [(1.5, "capacity_factor"), ("x", "capacity_factor")])
def test_bad_profiles_name_the_field(tmp_path, value, field):
    from siting.energy.storage import read_profiles
    from siting.errors import SitingError

    path = _profiles_csv(tmp_path / "p.csv", ["S1"], 0.3)
    text = path.read_text().splitlines()
    text[1] = text[1].replace(",0.3", f",{value}", 1)
    path.write_text("\n".join(text))
    with pytest.raises(SitingError, match=f"profiles: field '{field}', row 'S1'"):
        read_profiles(path, ["S1"])
    (tmp_path / "short.csv").write_text("site_id,h0\nS1,0.5\n")
    with pytest.raises(SitingError, match="field 'hours'"):
        read_profiles(tmp_path / "short.csv", ["S1"])


def test_ranking_by_cost_keeps_cheap_sources_and_says_what_it_dropped():
    firm = from_layers(load_scenario(None, SMALL + ["candidates.rank_by=firm_mw"]))
    cost = from_layers(load_scenario(None, SMALL + ["candidates.rank_by=cost"]))
    # nuclear (150 $/MWh) is the dearest fuel: the 15 cheapest sources hold none
    assert "nuclear" in set(firm.sites["fuel"]) and "nuclear" not in set(cost.sites["fuel"])
    dropped = [n for n in cost.notes if "the candidate cap dropped" in n]
    assert dropped and "nuclear" in dropped[0]
    # every region keeps the cheapest source within its fiber reach among all the sources (the
    # cap's first round), found here over the uncapped candidates
    sc = load_scenario(None, SMALL + ["candidates.rank_by=cost", "candidates.max_count=100000"])
    every = from_layers(sc)
    km = physics.pairwise_km(every.sites["longitude"], every.sites["latitude"], every.regions["longitude"],
                             every.regions["latitude"])
    reach = sc.network.fiber_rtt_ms(km, np.zeros_like(km)) <= every.regions["latency_ms"].to_numpy()[None, :]
    est = every.sites["estimated_usd_per_mwh"].to_numpy()
    kept = set(cost.sites["site_id"])
    for r in np.flatnonzero(reach.any(axis=0)):
        cheapest = every.sites["site_id"].iloc[np.flatnonzero(reach[:, r])[np.argmin(est[reach[:, r]])]]
        assert cheapest in kept, every.regions["region_id"].iloc[r]
    assert not cost.sites["estimated_usd_per_mwh"].is_monotonic_increasing  # not the 15 cheapest in one place


def test_hourly_figure_shows_the_square_wave_battery(tmp_path):
    from siting.outputs.plots import hourly_figure, site_hours

    hi = hourly(SQUARE, mwh=0.3, mw=0.1)
    inp = solar_site(hi)
    dec = solve(inp).decisions
    h = site_hours(inp, dec, 0, 0)
    # night: the battery discharges the whole 20 MW load; day: it charges 24.69 MW
    assert np.allclose(h["discharge"][12:], 20) and np.allclose(h["charge"][:12], 240 / 0.81 / 12)
    hourly_figure(inp, dec, 0).savefig(tmp_path / "site.png")
    assert (tmp_path / "site.png").read_bytes()[:4] == b"\x89PNG"


def test_hourly_plan_round_trips_and_objective_vector_matches():
    from siting.model import compile_model, objective_vector, read_decisions, start_vector, structure_key
    from siting.solve import SolveOptions
    from siting.solve import solve as highs

    # overbuild is cheaper but capped at 50 MW: the rest of the night deficit is stored
    hi = hourly(np.r_[np.ones(12), np.full(12, 0.1)], overbuild_max=50.0, mwh=0.1, mw=0.1, overbuild=0.05,
                energy=0.001)
    inp = solar_site(hi)
    comp = compile_model(build_model(inp))
    assert np.array_equal(objective_vector(comp, inp), comp.sf.c)
    report = highs(comp.sf, SolveOptions(mip_gap=0, threads=1, strategy="plain"))
    dec = read_decisions(comp, inp, report.x)
    assert dec.storage_mwh[0] > 0 and dec.overbuild_mw[0] == pytest.approx(50.0)
    x = start_vector(comp, inp, dec)
    assert read_decisions(comp, inp, x).same_as(dec)
    assert float(comp.sf.c @ x + comp.sf.offset) == pytest.approx(report.objective, rel=1e-9)
    # the cost table is the objective, component by component
    per_site, plan_wide = inp.cost_breakdown(dec)
    assert per_site.to_numpy().sum() + sum(plan_wide.values()) == pytest.approx(report.objective, rel=1e-9)
    assert structure_key(inp) != structure_key(solar_site(hourly(SQUARE, overbuild_max=100.0)))


COOL = pd.DataFrame({"cooling": ["evaporative", "liquid"], "pue": [1.2, 1.15], "pue_slope_per_c": [0.008, 0.004],
                     "pue_ref_temp_c": [10.0, 20.0], "carries_training": [False, True],
                     "carries_inference": [True, True]})


@pytest.mark.parametrize("temp_c, tech, per_mw", [(30.0, "liquid", 14 + 1.19 * 20), (10.0, "evaporative", 35.0)])
def test_hot_climate_evaporative_loses_to_liquid(temp_c, tech, per_mw):
    # PUE at 30 C: evaporative 1.2 + 0.008 x 20 = 1.36, liquid 1.15 + 0.004 x 10 = 1.19; at 10 C no rise.
    # Per MW: capex (11 / 14) + PUE x 20 (energy per MW and unit of PUE): at 30 C 38.2 vs 37.8 ->
    # liquid; at 10 C 35 vs 37 -> evaporative. They cross at 30 C where 3 = 0.17 x price: 17.65.
    from siting.energy.climate import pue_at

    pue = pue_at(temp_c, COOL["pue"], COOL["pue_slope_per_c"], COOL["pue_ref_temp_c"])
    assert pue.tolist() == pytest.approx([1.36, 1.19] if temp_c == 30 else [1.2, 1.15])
    cost = np.array([[11.0, 14.0]]) + pue[None, :] * 20
    inp = tiny([1000], [100], [(0, 0, "direct", 1)], site_fixed=[5], per_mw=cost, cooling=COOL,
               climate_pue_peak=pue[None, :])
    plan = check(inp, 5 + 100 * per_mw)
    assert plan.sites["cooling"].tolist() == [tech]


@pytest.mark.family("climate_power")
def test_climate_power_counts_the_warmest_month():
    # site 0: 110 MW firm, liquid at a warmest-month PUE of 1.19 -> 110 / 1.19 = 92.44 MW IT;
    # the rest (7.56 MW) at the dear site 1 (PUE 1.15 there): 10 + 92.44 + 30 + 2 x 7.56
    liquid = COOL.iloc[[1]].reset_index(drop=True)
    peak = np.array([[1.19], [1.15]])
    inp = tiny([110, 500], [100], [(0, 0, "direct", 1), (0, 1, "direct", 1)], site_fixed=[10, 30],
               per_mw=[1, 2], cooling=liquid, climate_pue_peak=peak)
    at0 = 110 / 1.19
    plan = check(inp, 10 + at0 + 30 + 2 * (100 - at0))
    assert plan.sites.set_index("site_id")["power_peak_mw"]["S0"] == pytest.approx(110)


def test_climate_on_the_default_layers():
    off = from_layers(load_scenario(None, SMALL + ["facility.climate=false"]))
    on = from_layers(load_scenario(None, SMALL + ["facility.climate=true"]))
    assert off.climate_pue_peak is None and on.climate_pue_peak.shape == (len(on.sites), len(on.cooling))
    assert (on.climate_pue_peak >= on.cooling["pue"].to_numpy(float)).all()
    # energy is priced at the annual-mean PUE: never cheaper than at the reference PUE
    assert (on.it_cost_musd["energy"] >= off.it_cost_musd["energy"] - 1e-9).all()
    plan = solve(on)
    assert audit(plan, on) == []


@pytest.mark.parametrize("name", ["hourly", "solar_wins"])
def test_energy_scenarios_validate(name):
    from siting.paths import MODELS_DIR

    sc = load_scenario(MODELS_DIR / f"{name}.yaml")
    assert sc.energy.hourly and sc.name == name


def test_bad_energy_options_are_scenario_errors():
    from siting.errors import ScenarioError

    for bad, field in (("energy.battery_round_trip_efficiency=1.5", "battery_round_trip_efficiency"),
                       ("energy.representative_days=0", "representative_days"),
                       ("candidates.rank_by=size", "rank_by"), ("energy.hourly=1", "hourly")):
        with pytest.raises(ScenarioError, match=field):
            load_scenario(None, [bad])
    for bad, field in ((["energy.grid_import=true"], "grid_import needs energy.hourly"),
                       (["energy.hourly=true", "energy.cfe_target=0.9"], "cfe_target needs energy.grid_import"),
                       (["energy.hourly=true", "energy.cfe_target_per_site=0.9"], "cfe_target_per_site needs"),
                       (["energy.hourly=true", "energy.grid_import=true", "energy.cfe_target=1.5"], "cfe_target"),
                       (["energy.grid_gco2_per_kwh=-1"], "grid_gco2_per_kwh")):
        with pytest.raises(ScenarioError, match=field):
            load_scenario(None, bad)


def test_grid_import_and_a_cfe_target_on_the_default_layers():
    sets = SMALL + ["energy.hourly=true", "energy.representative_days=2", "candidates.rank_by=cost",
                    "candidates.min_firm_mw=50", "energy.fuels.hydro.price_usd_per_mwh=400",
                    "energy.fuels.nuclear.price_usd_per_mwh=400", "energy.grid_import=true",
                    # the model choices this case was worked out on (before issue 21's defaults)
                    "network.cell_capacity=false", "facility.climate=false", "network.leo_model=formula"]
    free = from_layers(load_scenario(None, sets))
    assert free.hourly.grid and any("grid import" in n for n in free.notes)
    # the grid's price with carbon: 80 $/MWh + 480 g/kWh x 80 $/t = 118.4 $/MWh
    assert free.hourly.grid_musd_per_mwh[0] / free.hourly.energy_musd_per_mwh[0] == pytest.approx(
        118.4 / free.sites["price_usd_per_mwh"].iloc[free.hourly.site[0]])
    # the plan-wide target is met by the firm (geothermal) sites' load; the per-site one is not
    capped = from_layers(load_scenario(None, sets + ["energy.cfe_target_per_site=0.95"]))
    plans = [solve(i) for i in (free, capped)]
    for plan, inp in zip(plans, (free, capped)):
        assert plan.report.proven_optimal and audit(plan, inp) == []
    variable = [p.sites[p.sites["fuel"].isin(["wind", "solar"])] for p in plans]
    assert (variable[0]["cfe_share"] < 0.95).any() and variable[0]["storage_mwh"].sum() == 0
    assert (variable[1]["cfe_share"] >= 0.95 - 1e-6).all() and variable[1]["storage_mwh"].sum() > 0
    assert plans[1].report.objective > plans[0].report.objective


def test_sites_csv_carries_the_energy_columns_of_the_hand_case(tmp_path):
    # the plan-wide 0.75 case above, written and read back: storage 133.33 MWh / 12.35 MW, no
    # overbuild, curtailment 12 h x (100 - 20 - 12.35) MW x 365, imports 120 MWh x 365,
    # carbon-free share 0.75, water 0 (no water table in a hand case is reported as no column)
    from siting.outputs.results import write_outputs

    hi = hourly(SQUARE, mwh=0.3, mw=0.1, energy=OWN, grid=GRID, cfe=0.75)
    inp = solar_site(hi)
    plan = solve(inp)
    write_outputs(plan, inp, tmp_path / "out")
    row = pd.read_csv(tmp_path / "out" / "sites.csv").iloc[0]
    charge_mw = 120 / 0.81 / 12
    expected = {"storage_mwh": 120 / 0.9, "storage_mw": charge_mw, "overbuild_mw": 0.0,
                "curtailment_mwh_per_year": 12 * (80 - charge_mw) * 365, "grid_import_mwh_per_year": 120 * 365,
                "cfe_share": 0.75, "embodied_battery_tco2e": 0.0, "embodied_facility_tco2e": 0.0}
    for col, value in expected.items():
        assert row[col] == pytest.approx(value, abs=1e-5), col
    assert "water_m3_per_year" not in row
