"""Ids as written in the hourly profiles and the failure groups (issue 19): ``007`` stays ``007``;
an unknown, duplicate or unused id is refused by name; a header-only profile file and profiles
given with hourly energy off are refused with a clear error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from siting.errors import InputError, ScenarioError
from siting.inputs.inputs import from_layers
from siting.scenario import load_scenario

EXAMPLES = Path(__file__).parents[2] / "models" / "examples"
# ids that a number parser would change: 007 (-> 7), 01 (-> 1), 1 (the same 1); 007 and 01 are variable
PLANTS = """source_id,name,country,fuel,capacity_mw,latitude,longitude,failure_group
007,Sun,ZA,solar,800,-25.9,28.9,01
01,Breeze,ZA,wind,600,-33.0,18.5,1
1,Dam,MZ,hydro,2075,-15.6,32.7,01
"""


def _scenario(tmp_path, *sets):
    (tmp_path / "plants.csv").write_text(PLANTS)
    (tmp_path / "s.yaml").write_text(
        "name: ids\nlayers:\n"
        f"  energy_sources: {tmp_path / 'plants.csv'}\n  demand: {EXAMPLES / 'demand.csv'}\n"
        f"  pops: {EXAMPLES / 'pops.csv'}\n"
        "candidates: {min_firm_mw: 0}\ndemand: {min_population: 0, training_mw: 0}\n")
    return load_scenario(tmp_path / "s.yaml", ["energy.hourly=true", "energy.representative_days=2", *sets])


def _profiles(tmp_path, ids, value=0.5, name="p.csv"):
    head = "site_id," + ",".join(f"h{i}" for i in range(8760))
    rows = [f"{i}," + ",".join([str(value)] * 8760) for i in ids]
    (tmp_path / name).write_text("\n".join([head, *rows]) + "\n")
    return tmp_path / name


def test_a_profile_for_007_is_used_for_the_site_007(tmp_path):
    inp = from_layers(_scenario(tmp_path, f"layers.profiles={_profiles(tmp_path, ['007'])}"))
    ids = inp.sites["site_id"].to_numpy()[inp.hourly.site].tolist()
    assert sorted(ids) == ["007", "01"]
    assert np.allclose(inp.hourly.cf[ids.index("007")], 0.5)
    assert not np.allclose(inp.hourly.cf[ids.index("01")], 0.5)
    assert "1 with the user's own profiles" in " ".join(inp.notes)


@pytest.mark.parametrize("ids, named, says", [
    (["7"], "'7'", "no candidate site has this id"),  # 007 read as a number
    (["007", "01", "007"], "'007'", "given twice"),
    (["1"], "'1'", "not a variable fuel"),  # the hydro plant
])
def test_an_unknown_duplicate_or_unused_id_is_refused_by_name(tmp_path, ids, named, says):
    path = _profiles(tmp_path, ids)
    with pytest.raises(InputError, match=f"profiles: field 'site_id', row {named}: .*{says}"):
        from_layers(_scenario(tmp_path, f"layers.profiles={path}"))


def test_a_header_only_profile_file_is_refused(tmp_path):
    path = _profiles(tmp_path, [])
    with pytest.raises(InputError, match="header but no rows"):
        from_layers(_scenario(tmp_path, f"layers.profiles={path}"))


def test_profiles_with_hourly_off_are_refused(tmp_path):
    path = _profiles(tmp_path, ["007"])
    with pytest.raises(ScenarioError, match="layers.profiles is given but energy.hourly is off"):
        _scenario(tmp_path, f"layers.profiles={path}", "energy.hourly=false")


def test_failure_groups_are_read_as_written(tmp_path):
    # 007 and 1 share the label "01"; 01's label "1" is another group (not the number 1 = 01)
    inp = from_layers(_scenario(tmp_path, "energy.hourly=false", "demand.n_minus_1_share=0.5"))
    label = dict(zip(inp.sites["site_id"], inp.failure_groups()))
    assert label["007"] == label["1"] != label["01"]
