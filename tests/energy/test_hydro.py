"""Firm hydro on a dry year and river-basin failure groups (issue 21), on tiny real-coordinate
layers whose answers are worked out by hand."""

import pandas as pd
import pytest
from helpers import EXACT

from siting.energy.hydro import firm_share, load_dry_year_table
from siting.errors import InputError
from siting.inputs.inputs import from_layers
from siting.outputs.audit import audit
from siting.pipeline import solve_inputs
from siting.scenario import load_scenario

SIMPLE = ["candidates.min_firm_mw=0", "demand.unmet_penalty_usd_per_mwh=null", "demand.min_population=0",
          "demand.training_mw=0", "facility.module_mw=null", "demand.resilience_max_share=1",
          "candidates.merge_km=0", "demand.merge_km=0", "energy.hydro_firm_basis=mean",
          "facility.climate=false"]  # one PUE per technology: the arithmetic below has no warmest month
POP = [{"pop_id": "pop", "longitude": 0.0, "latitude": 60.0}]


def layers(tmp_path, plants, pop=80e6):
    """One city of ``pop`` people at (0, 60) (5 W each: 400 MW at 80 M), a PoP on it."""
    pd.DataFrame(plants).to_csv(tmp_path / "plants.csv", index=False)
    pd.DataFrame([{"region_id": "c", "name": "c", "population": pop, "longitude": 0.0, "latitude": 60.0}]).to_csv(
        tmp_path / "cities.csv", index=False)
    pd.DataFrame(POP).to_csv(tmp_path / "pops.csv", index=False)
    (tmp_path / "s.yaml").write_text(
        "name: tiny\nlayers: {energy_sources: plants.csv, demand: cities.csv, pops: pops.csv}\n")
    return tmp_path / "s.yaml"


def plant(pid, lon, fuel="hydro", mw=1000.0, price=20.0, **kw):
    return {"source_id": pid, "name": pid, "fuel": fuel, "capacity_mw": mw, "longitude": lon, "latitude": 60.0,
            "country": "NOR", "price_usd_per_mwh": price, **kw}


def test_a_dry_year_shrinks_firm_hydro_and_moves_load_to_a_second_site(tmp_path):
    # Norwegian hydro H (1,000 MW, 20 $/MWh) and a dear nuclear plant N (150 $/MWh) next to a
    # 400 MW city. Mean year: H's firm power is 1000 x 0.5 (reservoir hydro's firm fraction) =
    # 500 MW, enough for the 400 MW at any PUE <= 1.25: H serves it all. Dry year (NVE: the
    # driest recorded years are 69 % of mean): 1000 x 0.5 x 0.69 = 345 MW, so H runs full
    # (power used = 345 MW) and N serves the rest, 400 - 345 / PUE_H MW.
    path = layers(tmp_path, [plant("H", 0.0), plant("N", 0.2, fuel="nuclear", price=150.0)])
    mean = solve_inputs(from_layers(load_scenario(path, SIMPLE)), EXACT)
    assert mean.sites.set_index("site_id")["firm_mw"]["H"] == pytest.approx(500.0)
    assert mean.assignments.groupby("site_id")["mw"].sum().to_dict() == pytest.approx({"H": 400.0})
    inp = from_layers(load_scenario(path, SIMPLE + ["energy.hydro_firm_basis=dry_year"]))
    dry = solve_inputs(inp, EXACT)
    s = dry.sites.set_index("site_id")
    assert s.loc["H", "firm_mw"] == pytest.approx(345.0) and s.loc["N", "firm_mw"] == pytest.approx(900.0)
    assert s.loc["H", "power_used_mw"] == pytest.approx(345.0)
    served = dry.assignments.groupby("site_id")["mw"].sum()
    assert served["N"] == pytest.approx(400.0 - 345.0 / s.loc["H", "pue"])
    assert audit(dry, inp) == []
    # the layer's own share overrides the country's: 0.3 -> 150 MW
    path = layers(tmp_path, [plant("H", 0.0, hydro_dry_year_share=0.3), plant("N", 0.2, fuel="nuclear", price=150.0)])
    inp = from_layers(load_scenario(path, SIMPLE + ["energy.hydro_firm_basis=dry_year"]))
    assert inp.sites.set_index("site_id")["firm_mw"]["H"] == pytest.approx(150.0)


def test_two_dams_on_one_river_fail_together_under_n_minus_1(tmp_path):
    # two cheap dams A and B (20 $/MWh) 1,000 km apart on one river, a dear plant X (90 $/MWh) in
    # another basin; 400 MW, N-1 at full share (any one failure group lost, the rest re-serve all
    # 400 MW). Without basins every site is its own group: the dams back each other up, and the
    # plan holds less than 400 MW at X (three sites at 200 MW each, or the two dams at 400).
    # With the basin column A and B are one group: losing the river loses both, so X alone must
    # hold the 400 MW, and losing X the dams together must hold 400 MW.
    n1 = SIMPLE + ["demand.n_minus_1_share=1", "demand.latency_ms=150"]
    a, b, x = plant("A", 0.0), plant("B", 18.0), plant("X", 9.0, price=90.0)
    plain = solve_inputs(from_layers(load_scenario(layers(tmp_path, [a, b, x]), n1)), EXACT)
    it = plain.sites.set_index("site_id")["it_mw"]
    assert it.get("X", 0.0) < 400.0 - 1e-6 and it.get("A", 0.0) + it.get("B", 0.0) > 0
    path = layers(tmp_path, [a | {"basin": "river"}, b | {"basin": "river"}, x | {"basin": "other"}])
    inp = from_layers(load_scenario(path, n1))
    group = dict(zip(inp.sites["site_id"], inp.failure_groups()))
    assert group["A"] == group["B"] != group["X"]
    plan = solve_inputs(inp, EXACT)
    assert "X" in set(plan.sites["site_id"])
    it = plan.sites.set_index("site_id")["it_mw"]
    assert it["X"] == pytest.approx(400.0) and it.get("A", 0.0) + it.get("B", 0.0) >= 400.0 - 1e-6
    assert audit(plan, inp) == []


def test_bad_shares_and_blank_basins_name_the_field_and_row(tmp_path):
    with pytest.raises(InputError, match=r"field 'hydro_dry_year_share', row 'H': 1.5 is not a share in \(0, 1\]"):
        firm_share("dry_year", ["hydro"], ["NOR"], own=[1.5], ids=["H"])
    with pytest.raises(InputError, match=r"hydro_dry_year: field 'dry_year_share', row 'XX': 0.0 is not a share"):
        (tmp_path / "t.csv").write_text("country,dry_year_share,critical_period_share,source\n"
                                        "*,0.6,0.6,s\nXX,0,0.5,s\n")
        load_dry_year_table(tmp_path / "t.csv")
    path = layers(tmp_path, [plant("H", 0.0, hydro_dry_year_share=0.0)])
    with pytest.raises(InputError, match=r"field 'hydro_dry_year_share', row 'H': 0.0 is not a share"):
        from_layers(load_scenario(path, SIMPLE + ["energy.hydro_firm_basis=dry_year"]))
    path = layers(tmp_path, [plant("H", 0.0, basin="river"), plant("G", 1.0, basin=None),
                             plant("S", 2.0, fuel="solar", basin=None)])
    with pytest.raises(InputError, match=r"energy_sources: field 'basin', row 'G': blank at a hydro source"):
        from_layers(load_scenario(path, SIMPLE))
