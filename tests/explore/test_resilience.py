"""N-1: hand-solved plans that survive the loss of any one site (or failure group), each proved
by the independent re-assignment post-check in siting.outputs.audit_n_minus_1."""

import dataclasses

import numpy as np
import pytest
from helpers import check, solve, three_sites, tiny

from siting.explore.n_minus_1 import solve_n_minus_1
from siting.geo.groups import failure_groups
from siting.inputs.inputs import from_layers
from siting.model import (
    build_model,
    compile_model,
    read_decisions,
    start_vector,
    structure_key,
)
from siting.outputs.audit import audit
from siting.outputs.audit_n_minus_1 import n_minus_1_check
from siting.scenario import load_scenario
from siting.solve import SolveOptions
from siting.solve import solve as highs


def test_a_plan_that_meets_alpha_fails_n_minus_1_and_the_n_minus_1_plan_fixes_it():
    # alpha only: two sites of 50 MW -> 2 x 10 + 100 = 120
    plain = check(three_sites(), 120.0)
    # losing either site leaves the other's 50 MW: half the region
    table = n_minus_1_check(plain, three_sites(), share=0.8)
    assert table["worst_share"].tolist() == pytest.approx([0.5, 0.5])
    assert not table["meets"].any()
    # beta = 0.8: any two open sites must hold 80 MW. Two sites need 80 MW each: 20 + 160 = 180;
    # three sites need a + b, a + c, b + c >= 80, so a + b + c >= 120 (three at 40): 30 + 120 = 150
    inp = three_sites(n_minus_1_share=0.8)
    plan = check(inp, 150.0)
    assert plan.sites["it_mw"].tolist() == pytest.approx([40, 40, 40])
    table = n_minus_1_check(plan, inp)
    assert table["meets"].all() and table["worst_share"].min() == pytest.approx(0.8)
    assert plan.decisions.backup_mw.shape == (3, 3)


def test_full_n_minus_1_needs_the_whole_region_after_any_failure():
    # beta = 1: three sites of 50 (30 + 150 = 180) beat two of 100 (20 + 200 = 220)
    plan = check(three_sites(n_minus_1_share=1.0), 180.0)
    assert plan.sites["it_mw"].tolist() == pytest.approx([50, 50, 50])


def test_two_sites_in_one_failure_group_count_as_one():
    # S0 and S1 share a failure group (say one river), S2 stands alone and costs 30 to open.
    # alpha only: S0 + S1 at 50 MW each -> 10 + 11 + 100 = 121. With beta = 1/2 and the group,
    # losing {S0, S1} must leave 50 MW: S0 + S2 -> 10 + 30 + 100 = 140 (S0 + S1 + S2 costs 151)
    kw = dict(site_fixed=[10, 11, 30])
    check(three_sites(**kw), 121.0)
    alone = three_sites(n_minus_1_share=0.5, **kw)
    check(alone, 121.0)  # as single sites, alpha = 1/2 already leaves half after any one loss
    grouped = three_sites(n_minus_1_share=0.5, failure_group=np.array([0, 0, 1]), **kw)
    plan = check(grouped, 140.0)
    assert plan.sites["site_id"].tolist() == ["S0", "S2"]
    table = n_minus_1_check(plan, grouped)
    assert table["failed_sites"].tolist() == ["S0", "S2"] and table["meets"].all()
    # the alpha plan, re-checked with the group: losing the group leaves nothing
    worst = n_minus_1_check(solve(three_sites(**kw)), grouped)
    assert worst["failed_sites"].tolist() == ["S0 S1"] and worst["worst_share"].tolist() == [0.0]


def test_training_capacity_is_not_backup():
    # as the 150 case, plus 40 MW of training that must stay in one cluster of >= 40 MW: the
    # training site's training MW cannot carry inference after a failure. Three sites at 40 MW
    # of inference capacity each, one of them 40 MW larger for training: 30 + 120 + 40 = 190
    plan = check(three_sites(n_minus_1_share=0.8, training_mw=40, training_min_cluster_mw=40), 190.0)
    assert sorted(plan.sites["it_mw"]) == pytest.approx([40, 40, 80])


def test_scenario_generation_reaches_the_full_model_optimum():
    inp = three_sites(n_minus_1_share=0.8, site_fixed=[10, 12, 14])
    full = solve(inp).report.objective
    plan, last, rounds = solve_n_minus_1(inp, SolveOptions(mip_gap=0, threads=1))
    assert plan.report.objective == pytest.approx(full) == pytest.approx(36 + 120)
    assert rounds["blocks"].iloc[0] == 0 and rounds["short_groups"].iloc[-1] == 0
    assert n_minus_1_check(plan, last)["meets"].all()


def test_n_minus_1_off_changes_nothing():
    base = three_sites()
    on = three_sites(n_minus_1_share=0.8)
    assert not hasattr(build_model(base), "backup") and hasattr(build_model(on), "backup")
    assert structure_key(base) == structure_key(dataclasses.replace(base, failure_group=np.array([0, 0, 1])))
    assert structure_key(base) != structure_key(on)


def test_backup_flows_round_trip_through_a_start_vector():
    inp = three_sites(n_minus_1_share=0.8)
    comp = compile_model(build_model(inp))
    rep = highs(comp.sf, SolveOptions(mip_gap=0, threads=1))
    dec = read_decisions(comp, inp, rep.x)
    again = read_decisions(comp, inp, start_vector(comp, inp, dec))
    assert again.same_as(dec)
    assert dec.backup_mw.sum() > 0


def test_failure_groups_from_distance_and_a_layer_column():
    assert failure_groups([0, 0.3, 0.6, 20], [0, 0, 0, 0], within_km=40).tolist() == [0, 0, 0, 1]
    assert failure_groups([0, 9, 20], [0, 0, 0], within_km=5, labels=["x", "", "x"]).tolist() == [0, 1, 0]


def test_scenario_fields_wire_into_the_inputs():
    sc = ["candidates.max_count=15", "demand.max_regions=10", "demand.n_minus_1_share=0.6",
          "demand.failure_group_km=300"]
    inp = from_layers(load_scenario(None, sc))
    assert inp.n_minus_1_share == 0.6
    assert inp.failure_groups().max() < len(inp.sites) - 1  # some sites within 300 km share a group
    assert from_layers(load_scenario(None, sc[:2])).failure_group is None


def test_the_audit_reports_a_plan_short_after_a_failure():
    plain = solve(three_sites())
    assert audit(plain, three_sites()) == []
    bad = audit(plain, three_sites(n_minus_1_share=0.8))
    assert len(bad) == 2 and all(b.startswith("n-1: losing S") and "0.5000 < 0.8" in b for b in bad)


def test_too_many_recourse_blocks_are_refused_with_the_way_out(monkeypatch):
    import siting.model.layout as model
    from siting.errors import ModelTooLargeError

    monkeypatch.setattr(model, "MAX_BACKUP_VARIABLES", 5)  # 3 blocks x 2 surviving pairs = 6
    with pytest.raises(ModelTooLargeError, match="3 blocks and 6 variables.*solve_n_minus_1"):
        build_model(three_sites(n_minus_1_share=0.8))
    # the scenario-generation loop builds only the blocks it needs
    plan, _, _ = solve_n_minus_1(three_sites(n_minus_1_share=0.8), SolveOptions(mip_gap=0, threads=1))
    assert plan.report.objective == pytest.approx(150.0)


def test_a_failure_group_column_in_the_energy_layer_groups_sites(tmp_path):
    import shutil

    import pandas as pd

    from siting.paths import MODELS_DIR
    ex = MODELS_DIR / "examples"
    for name in ("demand.csv", "pops.csv", "southern_africa.yaml"):
        shutil.copy(ex / name, tmp_path / name)
    plants = pd.read_csv(ex / "energy_sources.csv", dtype=str, keep_default_na=False)
    plants["failure_group"] = ["grid-za", "", "", "grid-za"]  # Koeberg and the solar park share a grid
    plants.to_csv(tmp_path / "energy_sources.csv", index=False)
    inp = from_layers(load_scenario(tmp_path / "southern_africa.yaml", ["demand.n_minus_1_share=0.5"]))
    label = pd.Series(inp.failure_groups(), index=inp.sites["site_id"].to_numpy())
    assert label["007"] == label["1"] and label.nunique() == len(inp.sites) - 1


def test_scenario_generation_solves_the_case_where_a_loss_leaves_a_region_nothing():
    # S0, S1: firm 50 MW, 10 M$ to open, 1 M$/MW; R0 reaches S0 and S1, R1 only S1; 10 MW each;
    # beta = 0.5, unmet at 100 M$/MW. Round 1 (no block): S1 alone serves both, 10 + 20 = 30;
    # losing S1 leaves both nothing. Round 2 (S1's block): R1 has no site but S1, so it goes
    # unmet (1,000) and R0 is served by S0 alone, 10 + 10 + 1,000 = 1,020; losing S0 leaves R0
    # nothing. Round 3 (both blocks): R0 needs 5 + 5 MW at two sites, 20 + 10 + 1,000 = 1,030
    inp = tiny([50, 50], [10, 10], [(0, 0, "direct", 1), (0, 1, "direct", 1), (1, 1, "direct", 1)],
               site_fixed=[10, 10], per_mw=[1, 1], n_minus_1_share=0.5, unmet_cost_musd_per_mw=100.0)
    plan, last, rounds = solve_n_minus_1(inp, SolveOptions(mip_gap=0, threads=1))
    assert rounds["objective_musd"].tolist() == pytest.approx([30, 1020, 1030])
    assert rounds["short_groups"].tolist() == [1, 1, 0] and rounds["blocks"].tolist() == [0, 1, 2]
    assert plan.regions["unmet_mw"].tolist() == pytest.approx([0, 10])
    assert plan.sites["it_mw"].tolist() == pytest.approx([5, 5])
    assert audit(plan, inp) == [] and n_minus_1_check(plan, inp)["meets"].all()
