"""Geography -> inputs -> plan on tiny real-coordinate layers with hand-computed answers."""

import numpy as np
import pandas as pd
import pytest
from helpers import EXACT

from siting.cli import _summary_text
from siting.inputs.inputs import from_layers
from siting.outputs.audit import audit
from siting.pipeline import solve_inputs
from siting.scenario import load_scenario

KM_PER_DEG = 6371.0088 * np.pi / 180  # along the equator
C = 299_792.458
PVF = (1 - 1.07 ** -25) / 0.07  # 25 years at 7 %: 11.6536
SIMPLE = ["candidates.min_firm_mw=0", "demand.unmet_penalty_usd_per_mwh=null", "demand.min_population=0",
          "demand.training_mw=0",
          "facility.module_mw=null", "demand.resilience_max_share=1", "candidates.merge_km=0",
          "demand.merge_km=0", "network.fiber_stretch_model=constant",  # fiber at the one stretch 2.1
          "network.leo_model=formula", "facility.climate=false",  # LEO by the closed form, one PUE per cooling
          "network.cell_capacity=false"]  # satellite uncapped (the cells: tests/model/test_satellite_cells.py)


def layers(tmp_path, plants, cities, pops):
    """Write tiny layers and a scenario pointing at them; returns the scenario path."""
    pd.DataFrame(plants).to_csv(tmp_path / "plants.csv", index=False)
    pd.DataFrame(cities).to_csv(tmp_path / "cities.csv", index=False)
    pd.DataFrame(pops).to_csv(tmp_path / "pops.csv", index=False)
    (tmp_path / "s.yaml").write_text(
        "name: tiny\nlayers: {energy_sources: plants.csv, demand: cities.csv, pops: pops.csv}\n")
    return tmp_path / "s.yaml"


def plant(pid, lon, lat=0.0, mw=2000.0, fuel="hydro", **kw):
    return {"source_id": pid, "name": pid, "fuel": fuel, "capacity_mw": mw, "longitude": lon,
            "latitude": lat, **kw}


def city(rid, lon, lat=0.0, pop=20e6):
    return {"region_id": rid, "name": rid, "population": pop, "longitude": lon, "latitude": lat}


def test_satellite_serves_beyond_the_fiber_reach(tmp_path):
    # site at lon 0 with its PoP on site (lateral 0); regions 1,000 and 3,000 km east, 60 ms:
    # fiber 3,000 km = 2*1.468*2.1*3000/c + 2 = 63.7 ms > 60; LEO = 2*(2*715 + 1.2*3000*
    # (6921/6371))/c + 15 = 50.6 ms -> satellite only. At 1,000 km fiber is 22.6 ms.
    path = layers(tmp_path, [plant("P", 0.0)],
                  [city("near", 1000 / KM_PER_DEG), city("far", 3000 / KM_PER_DEG)],
                  [{"pop_id": "pop", "longitude": 0.0, "latitude": 0.0}])
    sc = load_scenario(path, SIMPLE + ["demand.latency_ms=60"])
    inp = from_layers(sc)
    rtt = inp.arcs.set_index(["region", "link"])["rtt_ms"]
    r = 6371.0088
    assert rtt[(0, "fiber")] == pytest.approx(2e3 * 1.468 * 2.1 * 1000 / C + 2, rel=1e-6)
    assert rtt[(1, "satellite")] == pytest.approx(
        2e3 * (2 * 1.3 * 550 + 1.2 * 3000 * (r + 550) / r) / C + 15, rel=1e-6)
    assert (1, "fiber") not in rtt.index  # 63.7 ms is over the limit: no variable at all
    plan = solve_inputs(inp, EXACT)
    links = plan.assignments.set_index("region_id")["link"].to_dict()
    assert links == {"near": "fiber", "far": "satellite"}
    assert plan.sites["backhaul"].tolist() == ["fiber+satellite"]
    assert plan.sites["sat_gbps"].iloc[0] >= 100  # 100 MW at 1 Gbps/MW, in 10 Gbps units
    assert audit(plan, inp) == []


def test_latency_rules_out_the_cheap_far_site(tmp_path):
    # cheap hydro (price 20) 5,000 km away, dear site (price 90) next to the city. At 100 ms the
    # far site is reachable only by LEO (2*(1430+1.2*5000*1.0863)/c + 15 = 68.0 ms) and wins on
    # price; at 50 ms it is out of reach, so the dear site serves.
    path = layers(tmp_path, [plant("far", 5000 / KM_PER_DEG, price_usd_per_mwh=20.0),
                             plant("near", 0.5, price_usd_per_mwh=90.0)],
                  [city("c", 0.0)],
                  [{"pop_id": "a", "longitude": 0.5, "latitude": 0.0},
                   {"pop_id": "b", "longitude": 5000 / KM_PER_DEG, "latitude": 0.0}])
    wide = solve_inputs(from_layers(load_scenario(path, SIMPLE)), EXACT)
    tight = solve_inputs(from_layers(load_scenario(path, SIMPLE + ["demand.latency_ms=50"])), EXACT)
    assert wide.sites["site_id"].tolist() == ["far"]
    assert tight.sites["site_id"].tolist() == ["near"]


@pytest.mark.parametrize("price, tech", [(100.0, "evaporative"), (1000.0, "immersion")])
def test_cooling_flips_with_energy_price(tmp_path, price, tech):
    # Per MW IT (PV M$, defaults): building capex c + O&M c*0.02*PVF + energy pue*0.8*8760*p*PVF
    # + carbon pue*0.8*8760*24 g/kWh*80 $/t*PVF. p=100: evaporative 23.55 < direct 26.84 <
    # immersion 27.49; p=1000: immersion 106.87 < direct 111.36 < evaporative 111.75.
    path = layers(tmp_path, [plant("P", 0.0, price_usd_per_mwh=price)], [city("c", 0.1)],
                  [{"pop_id": "pop", "longitude": 0.0, "latitude": 0.0}])
    plan = solve_inputs(from_layers(load_scenario(path, SIMPLE)), EXACT)
    assert plan.sites["cooling"].tolist() == [tech]
    capex, pue = {"evaporative": (11, 1.2), "immersion": (15, 1.08)}[tech]
    mwh = 0.8 * 8760 * pue
    per_mw = (capex * (1 + 0.02 * PVF) + mwh * price * PVF / 1e6 + mwh * 24e-3 * 80 * PVF / 1e6
              + 0.6 * 20000 / 1e6 + 0.3 * 120000 * PVF / 1e6)
    fixed = 20 + 20 * 120000 * PVF / 1e6
    assert plan.report.objective == pytest.approx(fixed + 100 * per_mw, rel=1e-7)


def test_merging_and_capacity_factor_prices(tmp_path):
    # two hydro plants 10 km apart merge into one candidate; the one with cf 0.8 is priced
    # 55 * 0.4 / 0.8 = 27.5 $/MWh, the other (no generation estimate) at the reference 55.
    gen = 1000 * 8760 * 0.8 / 1e3
    path = layers(tmp_path, [plant("A", 0.0, mw=1000, estimated_generation_gwh_2017=gen),
                             plant("B", 0.09, mw=1000)],
                  [city("c", 1.0)], [{"pop_id": "p", "longitude": 0.0, "latitude": 0.0}])
    inp = from_layers(load_scenario(path, SIMPLE[:-2] + ["candidates.merge_km=50"]))
    assert len(inp.sites) == 1
    site = inp.sites.iloc[0]
    assert site["firm_mw"] == pytest.approx(2000 * 0.5 * 0.65)  # hydro firmed on a dry year (global 0.65)
    assert site["price_usd_per_mwh"] == pytest.approx((27.5 + 55) / 2)


@pytest.mark.parametrize("practical_km, flagged", [(480.0, True), (700.0, False)])
def test_a_lateral_longer_than_practical_is_flagged(tmp_path, practical_km, flagged):
    # the site at (0, 0), its only PoP and the city 600 km east on the equator: the lateral is
    # 600 km (fiber 2 x 1.468 x 1.3 x 600 / c + 2 = 9.64 ms), longer than the 480 km default
    # practical length (flagged), shorter than 700 (not)
    east = 600 / KM_PER_DEG
    path = layers(tmp_path, [plant("P", 0.0)], [city("c", east)],
                  [{"pop_id": "far", "longitude": east, "latitude": 0.0}])
    sc = load_scenario(path, SIMPLE + ["network.allow_satellite=false", f"network.lateral_practical_km={practical_km}"])
    inp = from_layers(sc)
    assert inp.arcs.loc[0, "rtt_ms"] == pytest.approx(2e3 * 1.468 * 1.3 * 600 / C + 2, rel=1e-6)
    plan = solve_inputs(inp, EXACT)
    row = plan.sites.iloc[0]
    assert bool(row["fiber"]) and row["lateral_km"] == pytest.approx(600.0, rel=1e-9)
    assert bool(row["long_lateral"]) == flagged
    want = ({"site_id": "P", "name": "P", "pop_id": "far", "lateral_km": pytest.approx(600.0), "practical_km": 480.0},)
    assert plan.summary.plan.long_laterals == (want if flagged else ())
    assert ("long laterals" in _summary_text(plan, tmp_path)) == flagged
    assert "600 km to far" in _summary_text(plan, tmp_path) or not flagged
