"""Satellite capacity per ground cell (issue 21): the satellite_cells family, cell geometry and
capacity from a tiny constellation, and the bad-input errors. Every answer worked out by hand."""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import pytest

from siting.errors import InputError, ScenarioError
from siting.geo import cells
from siting.inputs.inputs import SiteCells, cell_capacities
from siting.scenario import load_scenario
from tests.helpers import check, tiny

# one region of 10 MW; site 0 (1/MW) by satellite only, site 1 (2/MW) by satellite or a fiber
# lateral costing 20; a satellite unit is 10 Gbps for 1, inference 1 Gbps per MW each way
ARCS = [(0, 0, "satellite", 40), (0, 1, "satellite", 40), (0, 1, "fiber", 30)]
COMMON = dict(site_fixed=[0, 0], per_mw=[1, 2], fiber_cost=20, sat_unit_cost=1, sat_unit_gbps=10, gbps_per_mw=1)


def _cells(cell_of_site, up, down=(100.0, 100.0)):
    n = max(cell_of_site) + 1
    return dict(sat_cell=np.array(cell_of_site), cell_gbps=np.column_stack([up[:n], down[:n]]),
                cell_ids=tuple(f"c{i}" for i in range(n)))


@pytest.mark.family("satellite_cells")
def test_two_colonies_in_one_cell_share_its_uplink():
    # no cell limit: all 10 MW at site 0 by satellite: IT 10 + 1 unit = 11
    plan = check(tiny([500, 500], [10], ARCS, **COMMON), 11.0)
    assert plan.sites["sat_units"].tolist() == [1, 0]
    # both sites in one cell of 4 Gbps up: at most 4 MW by satellite in the cell (1 Gbps/MW up).
    # Site 0 takes 4 MW by satellite (4 + 1 unit = 5); the other 6 MW go to site 1 over fiber
    # (6 x 2 + 20 = 32), not by satellite (same cell, full): 5 + 32 = 37. All at site 1 by fiber
    # would cost 20 + 20 = 40 > 37.
    plan = check(tiny([500, 500], [10], ARCS, **COMMON, **_cells([0, 0], up=(4.0,))), 37.0)
    mw = plan.assignments.groupby("link")["mw"].sum().to_dict()
    assert mw == pytest.approx({"satellite": 4.0, "fiber": 6.0})
    assert plan.sites["sat_units"].tolist() == [1, 0]
    # sites.csv: each site's cell, its satellite Gbps (4 up at site 0) and the cell's headroom (4 - 4)
    shown = plan.sites[["sat_cell", "sat_up_gbps", "cell_up_gbps", "cell_headroom_up_gbps", "cell_headroom_down_gbps"]]
    assert shown.values.tolist() == [["c0", 4.0, 4.0, 0.0, 96.0], ["c0", 0.0, 4.0, 0.0, 96.0]]
    # site 1 in a cell of its own with 6 Gbps up: it takes the 6 MW by satellite instead of
    # fiber: 5 + (6 x 2 + 1 unit) = 18
    plan = check(tiny([500, 500], [10], ARCS, **COMMON, **_cells([0, 1], up=(4.0, 6.0))), 18.0)
    assert plan.assignments.groupby("link")["mw"].sum().to_dict() == pytest.approx({"satellite": 10.0})
    # the down direction binds when it is the smaller: 2 Gbps per MW down into 8 Gbps -> 4 MW again
    inp = tiny([500, 500], [10], ARCS, **COMMON, sat_down_gbps_per_mw=2.0,
               **_cells([0, 0], up=(100.0,), down=(8.0,)))
    check(inp, 37.0)


@pytest.mark.family("satellite_cells")
def test_a_site_buys_no_more_units_than_its_cell_carries():
    # the sat_cell_units row: a cell of 4 Gbps (both ways) bounds site 0's units by ceil(4 / 10) = 1
    from siting.model import compile_inputs

    inp = tiny([500, 500], [10], ARCS, **COMMON, **_cells([0, 0], up=(4.0,), down=(4.0,)))
    comp = compile_inputs(inp)
    r = comp.rows["sat_cell_units"]
    assert comp.sf.row_upper[r].tolist() == [10.0, 10.0]  # 10 Gbps x 1 unit, for each satellite site


def test_cell_capacity_by_hand_from_a_tiny_constellation():
    # one equatorial plane of 45 satellites at 550 km (8 deg apart), seen at t = 0. From (0, 0):
    # the satellite overhead and the two 8 deg away (elevation atan((cos 8 - 6371/6921) / sin 8)
    # = 26.6 deg) are above 25 deg, 16 deg away is below the horizon -> 3. From (4, 0): those at
    # 0 and 8 deg longitude are 4 deg away (elevation 63 deg), the one at -8 is 12 deg away
    # (15.5 deg) -> 2. The two points are ~445 km apart: two H3 resolution-5 cells.
    ring = pd.DataFrame({"planes": [1], "sats_per_plane": [45], "inclination_deg": [0.0],
                         "altitude_km": [550.0], "phase_factor": [0]})
    assert cells.satellites_in_view([0.0, 4.0], [0.0, 0.0], ring, snapshots=1).tolist() == [[3, 2]]
    centre_lat, centre_lon = h3.cell_to_latlng(h3.latlng_to_cell(0.0, 0.0, 5))  # a third site, in cell 0
    pos, ids = cells.site_cells([0.0, 4.0, centre_lon], [0.0, 0.0, centre_lat], 5)
    assert pos.tolist() == [0, 1, 0] and len(ids) == 2
    # Gen1: up 0.25 Gbps a beam, down 1.0, one beam per satellite, at most 8 per cell:
    # cell 0: min(3, 8) beams -> 0.75 up, 3 down; cell 1: 0.5 up, 2 down
    net = load_scenario(None, []).network
    sites = ["a", "b", "c"]
    cap = cell_capacities(SiteCells(pos, tuple(ids), np.array([3.0, 2.0])), sites, net)
    assert cap.tolist() == [[0.75, 3.0], [0.5, 2.0]]
    # 4 beams per satellite: cell 0 reaches the EPFD ceiling of 8 beams (2 up, 8 down)
    net = load_scenario(None, ["network.cell_beams_per_satellite=4"]).network
    cap = cell_capacities(SiteCells(pos, tuple(ids), np.array([3.0, 2.0])), sites, net)
    assert cap.tolist() == [[2.0, 8.0], [2.0, 8.0]]


def test_bad_cell_inputs_name_the_field_and_row():
    with pytest.raises(InputError, match=r"cell_gbps.up', row 'c1': 0.0 Gbps is not a capacity > 0"):
        tiny([500, 500], [10], ARCS, **COMMON, **_cells([0, 1], up=(4.0, 0.0)))
    with pytest.raises(InputError, match=r"sat_cell', row 'S1': position 2 is outside 0..1"):
        tiny([500, 500], [10], ARCS, **COMMON, sat_cell=np.array([0, 2]), cell_gbps=np.ones((2, 2)))
    with pytest.raises(InputError, match="cell_h3_resolution.*16 is not an H3 resolution"):
        cells.site_cells([0.0], [0.0], 16)
    with pytest.raises(ScenarioError, match="cell_h3_resolution"):
        load_scenario(None, ["network.cell_h3_resolution=16"])
    with pytest.raises(ScenarioError, match="cell_gbps_per_beam_up"):
        load_scenario(None, ["network.cell_gbps_per_beam_up=0"])
    net = load_scenario(None, ["network.satellite_generation=gen9"]).network
    with pytest.raises(ScenarioError, match="satellite_generation: 'gen9' is not a generation"):
        cell_capacities(SiteCells(np.array([0]), ("x",), np.array([3.0])), ["a"], net)
    with pytest.raises(InputError, match=r"sites: field 'cell_gbps', row 'a': cell x sees no satellite"):
        cell_capacities(SiteCells(np.array([0]), ("x",), np.array([0.0])), ["a"],
                        load_scenario(None, []).network)


def test_classic_pins_todays_default_and_best_turns_every_switch_on():
    from siting.paths import MODELS_DIR

    def fields(sc):
        return sc.model_dump(exclude={"name", "description"})

    classic = load_scenario(MODELS_DIR / "classic.yaml")
    # the switches the default turned: dry_year hydro, cell capacity, cost ranking, constellation, climate,
    # fiber stretch by route type, training traffic
    pinned = ["energy.hydro_firm_basis=mean", "network.cell_capacity=false", "candidates.rank_by=firm_mw",
              "network.leo_model=formula", "facility.climate=false",
              "network.fiber_stretch_model=constant", "network.training_gbps_per_mw=0"]
    assert (classic.energy.hydro_firm_basis, classic.network.cell_capacity, classic.candidates.rank_by,
            classic.network.leo_model, classic.facility.climate) == ("mean", False, "firm_mw", "formula", False)
    assert fields(classic) == fields(load_scenario(None, pinned))
    default = load_scenario(None)
    assert (default.energy.hydro_firm_basis, default.network.cell_capacity, default.candidates.rank_by,
            default.network.leo_model, default.facility.climate, default.network.fiber_stretch_model,
            default.network.training_gbps_per_mw) == ("dry_year", True, "cost", "constellation", True, "route", 0.05)
    best = load_scenario(MODELS_DIR / "best.yaml")
    assert fields(best) == fields(default)  # every switch on: the default since issue 21
    assert (best.network.leo_model, best.network.cell_capacity, best.network.fiber_stretch_model,
            best.candidates.rank_by, best.facility.climate, best.energy.hydro_firm_basis) == (
        "constellation", True, "route", "cost", True, "dry_year")


@pytest.mark.family("satellite_cells")
def test_the_open_and_module_rows_tighten_the_lp_to_the_plan():
    # one region of 10 MW (unmet 100 per MW), one site (10 to open, 1 per MW IT, 25 MW modules)
    # by satellite only, in a cell of 2 Gbps up: at most 2 MW by satellite (a 10 Gbps unit for 1)
    import dataclasses

    from siting.model import compile_inputs
    from siting.model.repair import without_rows
    from siting.solve import SolveOptions, solve

    inp = tiny([500], [10], [(0, 0, "satellite", 40)], site_fixed=[10], per_mw=[1], sat_unit_cost=1,
               sat_unit_gbps=10, gbps_per_mw=1, module_mw=25.0, unmet_cost_musd_per_mw=100.0,
               **_cells([0], up=(2.0,)))
    # the plan: one module (25), open (10), one unit (1), 8 MW unmet (800) = 836; nothing built: 1,000
    check(inp, 836.0)
    comp = compile_inputs(inp)
    lp = lambda sf: solve(dataclasses.replace(sf, integer=np.zeros_like(sf.integer)),  # noqa: E731
                          SolveOptions(threads=1)).objective
    # LP with the rows: 2 MW of satellite needs open = 2 / 2 = 1 (10) and a whole module (25 MW
    # of IT: 25), units 2 / 10 (0.2), unmet 800: 835.2
    assert lp(comp.sf) == pytest.approx(835.2)
    # without them: open 2 / 10 by the resilience row (2), modules 2 / 25 (IT 2), units 0.2,
    # unmet 800: 804.2
    loose = np.concatenate([comp.rows["sat_cell_open"], comp.rows["sat_cell_module"]])
    assert lp(without_rows(comp.sf, loose)) == pytest.approx(804.2)


@pytest.mark.family("satellite_cells")
def test_a_bigger_cell_in_the_second_period_lets_the_site_use_more_satellite():
    # two periods (2026, 2027; no discounting, a 2-year life: each period weighs 1/2). Demand 10
    # then 16 MW (unmet 10 per MW-period, 5 a period). Site 0 (1 per MW IT) by satellite only in
    # a cell of 2 Gbps up in 2026 and 6 in 2027 (the next satellite generation); site 1 (2 per
    # MW) over a 20 lateral. IT and the lateral are built once and kept: built in 2026 they cost
    # their whole price, added in 2027 half of it; a 10 Gbps unit costs 1 a year (1/2 a period).
    #   2026: site 0 takes the cell's 2 MW (2), site 1 the other 8 (16 + lateral 20)
    #   2027: site 0 grows to the cell's 6 MW (+4 x 1/2 = 2), site 1 to 10 (+2 x 2 x 1/2 = 2);
    #   units 1/2 + 1/2: 2 + 16 + 20 + 2 + 2 + 1 = 43.
    # With the 2026 cell in both periods site 1 takes the growth (+6 x 2 x 1/2 = 6): 45.
    import dataclasses

    from siting.inputs.periods import make_periods
    from siting.model import compile_inputs, read_schedule
    from siting.solve import solve
    from tests.helpers import EXACT

    arcs = [(0, 0, "satellite", 40), (0, 1, "fiber", 30)]
    inp = tiny([500, 500], [10], arcs, site_fixed=[0, 0], per_mw=[1, 2], fiber_cost=20, sat_unit_cost=1,
               sat_unit_gbps=10, gbps_per_mw=1, unmet_cost_musd_per_mw=10.0, **_cells([0, 1], up=(2.0, 100.0)))
    periods = make_periods([2026, 2027], K=2, R=1, rate=0.0, lifetime_years=2, demand_factor=[1.0, 1.6])
    for up_2027, expected, site0 in ((6.0, 43.0, [2, 6]), (2.0, 45.0, [2, 2])):
        cap = np.array([[[2.0, 100.0], [100.0, 100.0]], [[up_2027, 100.0], [100.0, 100.0]]])
        timed = dataclasses.replace(inp, periods=periods, cell_gbps=cap)
        comp = compile_inputs(timed)
        rep = solve(comp.sf, EXACT)
        assert rep.proven_optimal and rep.objective == pytest.approx(expected)
        sched = read_schedule(comp, timed, rep.x)
        assert [float(d.serve_mw[0]) for d in sched] == pytest.approx(site0)


def test_a_myopic_build_out_cuts_the_cells_by_period_with_the_periods():
    # the 2-period case above, myopic: 2026 alone sees the 2 Gbps cell (2 MW by satellite, 8 by
    # fiber: 2 + 16 + 20 + 1/2 unit), then 2027 the 6 Gbps one (+4 x 1/2 at site 0, +2 x 2 x 1/2
    # at site 1, 1/2 unit): the same 43 as with foresight
    import dataclasses

    from siting.inputs.periods import make_periods
    from siting.pipeline import solve_myopic
    from tests.helpers import EXACT

    arcs = [(0, 0, "satellite", 40), (0, 1, "fiber", 30)]
    inp = tiny([500, 500], [10], arcs, site_fixed=[0, 0], per_mw=[1, 2], fiber_cost=20, sat_unit_cost=1,
               sat_unit_gbps=10, gbps_per_mw=1, unmet_cost_musd_per_mw=10.0, **_cells([0, 1], up=(2.0, 100.0)))
    cap = np.array([[[2.0, 100.0], [100.0, 100.0]], [[6.0, 100.0], [100.0, 100.0]]])
    timed = dataclasses.replace(inp, periods=make_periods([2026, 2027], K=2, R=1, rate=0.0, lifetime_years=2,
                                                          demand_factor=[1.0, 1.6]), cell_gbps=cap)
    assert solve_myopic(timed, EXACT).report.objective == pytest.approx(43.0)
