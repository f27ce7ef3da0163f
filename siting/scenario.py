"""Scenario schema (pydantic, unknown keys rejected, units in names) and YAML loading.

Every default value comes from the tables in ``data/`` (``defaults.csv``, ``fuels.csv``,
``cooling.csv``), each with its unit and source; a scenario file only states what differs.
"""

from __future__ import annotations

import copy
import re
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
import yaml
from pydantic import AllowInfNan, BaseModel, ConfigDict, Field, Strict, ValidationError, field_validator

from . import fiber, physics
from .errors import ScenarioError, clip, decode_utf8, special_file
from .paths import DATA_DIR, MODELS_DIR

__all__ = ["Scenario", "load_scenario", "default_values", "apply_override", "DEFAULT_SCENARIO"]

DEFAULT_SCENARIO = MODELS_DIR / "default.yaml"
MAX_YAML_NODES = 5000  # a scenario has a few hundred; an alias bomb expands to billions
MAX_SEED = 2_147_483_647  # HiGHS random_seed is a non-negative C int

# Strict numbers: ``true`` is not 1 and ``"5"`` is not 5; an int is still a float; inf/nan refused.
Num = Annotated[float, Strict(), AllowInfNan(False)]
Int = Annotated[int, Strict()]
Bool = Annotated[bool, Strict()]
_EXPONENT_FLOAT = re.compile(r"^[-+]?[0-9][0-9_]*(\.[0-9_]*)?[eE][-+]?[0-9]+$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LayerColumns(_Strict):
    """Per layer, the file's column names mapped to the names the tool reads."""

    energy_sources: dict[str, str] = {}
    demand: dict[str, str] = {}
    pops: dict[str, str] = {}

    @field_validator("energy_sources", "demand", "pops")
    @classmethod
    def _known_targets(cls, mapping: dict[str, str], info) -> dict[str, str]:
        from .geo.layers import SPECS  # the layer specs own the column names

        known = SPECS[info.field_name].columns
        for src, dst in mapping.items():
            if dst not in known:
                raise ValueError(f"{clip(src)!r} is mapped to {clip(dst)!r}, which this layer does not "
                                 f"read (it reads: {', '.join(known)})")
        if len(set(mapping.values())) < len(mapping):
            raise ValueError("two columns are mapped to the same name")
        return mapping


class Layers(_Strict):
    """Layer files (``path#layer`` names one layer of a GeoPackage) and their column mappings."""

    energy_sources: Path = DATA_DIR / "energy_sources.csv"
    demand: Path = DATA_DIR / "cities.csv"
    pops: Path = DATA_DIR / "pops.csv"
    profiles: Path | None = None  # hourly capacity factors: site_id + 8760 hour columns (energy.hourly)
    columns: LayerColumns = LayerColumns()


class Candidates(_Strict):
    merge_km: Num = Field(ge=0, le=1000)
    min_firm_mw: Num = Field(ge=0)
    max_count: Int = Field(ge=1)
    rank_by: Literal["firm_mw", "cost"] = "cost"


class Demand(_Strict):
    merge_km: Num = Field(ge=0, le=2000)
    min_population: Num = Field(ge=0)
    max_regions: Int = Field(ge=1)
    inference_w_per_person: Num = Field(gt=0, le=1000)
    latency_ms: Num = Field(gt=0, le=2000)
    training_mw: Num = Field(ge=0)
    training_min_cluster_mw: Num = Field(ge=0)
    resilience_max_share: Num = Field(gt=0, le=1)
    unmet_penalty_usd_per_mwh: Num | None = Field(gt=0)
    n_minus_1_share: Num | None = Field(default=None, gt=0, le=1)  # off by default
    failure_group_km: Num | None = Field(default=None, gt=0, le=5000)  # off by default


class Facility(_Strict):
    module_mw: Num | None = Field(gt=0)
    site_fixed_musd: Num = Field(ge=0)
    land_acres_per_mw: Num = Field(ge=0)
    land_usd_per_acre: Num = Field(ge=0)
    staff_fte_per_site: Num = Field(ge=0)
    staff_fte_per_mw: Num = Field(ge=0)
    staff_usd_per_fte_year: Num = Field(ge=0)
    om_share_per_year: Num = Field(ge=0, le=1)
    utilisation: Num = Field(gt=0, le=1)
    power_share_available: Num = Field(gt=0, le=1)
    inference_rack_kw: Num = Field(gt=0)
    training_rack_kw: Num = Field(gt=0)
    max_sites: Int | None = Field(default=None, ge=1)
    climate: Bool = True  # PUE by the site's ambient temperature (data/climate.csv, siting.energy.climate)
    pue_cap: Num = Field(ge=1.0, le=3.0)
    embodied_tco2e_per_mw_it: Num = Field(ge=0)  # building + IT equipment, reported (not priced)
    water_price_usd_per_m3: Num = Field(ge=0)  # 0: water is not priced
    water_limit_m3_per_year: Num | None = Field(default=None, ge=0)  # per site; a layer column overrides


class Cooling(_Strict):
    capex_musd_per_mw: Num = Field(ge=0)
    pue: Num = Field(ge=1.0, le=3.0)
    rack_kw: Num = Field(gt=0)
    water_l_per_kwh: Num = Field(ge=0)
    pue_slope_per_c: Num = Field(default=0.0, ge=0, le=0.1)  # PUE rise per degC above pue_ref_temp_c
    pue_ref_temp_c: Num = Field(default=50.0, ge=-50, le=60)
    water_slope_per_c: Num = Field(default=0.0, ge=0, le=0.5)  # relative water rise per degC above pue_ref_temp_c


class Fuel(_Strict):
    price_usd_per_mwh: Num = Field(gt=0)
    ref_capacity_factor: Num = Field(gt=0, le=1)
    firm_fraction: Num = Field(gt=0, le=1)
    lifecycle_gco2_per_kwh: Num = Field(ge=0)
    variable: Bool = False  # hourly profile instead of a constant firm fraction (energy.hourly)
    overbuild_capex_usd_per_kw: Num | None = Field(default=None, ge=0)  # None: no overbuild offered
    overbuild_om_usd_per_kw_year: Num | None = Field(default=None, ge=0)
    firming_hours: Num = Field(default=0.0, ge=0, le=48)  # storage hours assumed when ranking by cost


class Energy(_Strict):
    price_clamp_low: Num = Field(gt=0)
    price_clamp_high: Num = Field(gt=0)
    carbon_price_usd_per_tco2: Num = Field(ge=0)
    fuels: dict[str, Fuel]
    hourly: Bool = False
    representative_days: Int = Field(ge=1, le=60)
    profile_seed: Int = Field(ge=0, le=MAX_SEED)
    battery_energy_usd_per_kwh: Num = Field(ge=0)
    battery_power_usd_per_kw: Num = Field(ge=0)
    battery_round_trip_efficiency: Num = Field(gt=0, le=1)
    battery_life_years: Num = Field(gt=0, le=100)
    battery_cycle_life: Num = Field(gt=0)
    overbuild_max_share: Num = Field(ge=0, le=10)
    overbuild_life_years: Num = Field(gt=0, le=100)
    grid_import: Bool = False  # hourly: variable-fuel sites may import from the grid (off by default)
    grid_price_usd_per_mwh: Num = Field(ge=0)
    grid_gco2_per_kwh: Num = Field(ge=0)
    cfe_target: Num | None = Field(default=None, ge=0, le=1)  # 24/7 carbon-free share of the plan's load
    cfe_target_per_site: Num | None = Field(default=None, ge=0, le=1)  # ... of each variable site's load
    battery_embodied_kgco2e_per_kwh: Num = Field(ge=0)
    hydro_firm_basis: Literal["mean", "dry_year", "critical_period"] = "dry_year"  # siting/energy/hydro.py


class Network(_Strict):
    fiber_build_usd_per_km: Num = Field(ge=0)
    fiber_om_share_per_year: Num = Field(ge=0, le=1)
    fiber_life_years: Num = Field(gt=0)
    fiber_refractive_index: Num = Field(ge=1, le=2)
    fiber_internet_stretch: Num = Field(ge=1, le=10)
    fiber_lateral_stretch: Num = Field(ge=1, le=10)
    fiber_overhead_ms: Num = Field(ge=0)
    lateral_practical_km: Num = Field(gt=0)  # longer laterals are flagged (sites.csv long_lateral, summary)
    leo_altitude_km: Num = Field(gt=0, le=2000)
    leo_slant_factor: Num = Field(ge=1, le=5)
    leo_isl_stretch: Num = Field(ge=1, le=5)
    leo_overhead_ms: Num = Field(ge=0)
    sat_price_musd_per_gbps_year: Num = Field(ge=0)
    sat_unit_gbps: Num = Field(gt=0)
    sat_terminal_usd: Num = Field(ge=0)
    sat_terminal_gbps: Num = Field(gt=0)
    sat_terminal_life_years: Num = Field(gt=0)
    inference_gbps_per_mw: Num = Field(ge=0)
    training_gbps_per_mw: Num = Field(ge=0)
    leo_model: Literal["formula", "constellation"] = "constellation"
    leo_percentile: Literal[50, 95] = 50
    leo_min_elevation_deg: Num = Field(default=25.0, ge=0, lt=90)
    leo_snapshots: Int = Field(default=16, ge=1, le=200)
    leo_shells: Path = DATA_DIR / "constellation.csv"
    allow_satellite: Bool = True
    allow_fiber: Bool = True
    # Internet path stretch: one figure (fiber_internet_stretch), by distance band (data/fiber_stretch_bands.csv)
    # or by route type (continent pair) and band (fiber_stretch_table), fitted to measured round trips
    # (bench/rtt_pairs.py, siting/fiber.py)
    fiber_stretch_model: Literal["constant", "banded", "route"] = "route"
    fiber_stretch_table: Path = DATA_DIR / "fiber_stretch_routes.csv"
    # satellite capacity per ground cell (siting/geo/cells.py; data/satellite_generations.csv)
    cell_capacity: Bool = True
    cell_h3_resolution: Int = Field(default=5, ge=0, le=15)
    satellite_generation: str = "gen1"
    # with time.years: each period's cells carry the newest generation in service by its year
    # (data/satellite_generations.csv year_in_service), never older than satellite_generation
    cell_generation_by_year: Bool = True
    cell_percentile: Num = Field(default=50, ge=0, le=100)
    cell_gbps_per_beam_up: Num | None = Field(default=None, gt=0)  # None: the generation's
    cell_gbps_per_beam_down: Num | None = Field(default=None, gt=0)
    cell_beams_per_cell: Num | None = Field(default=None, gt=0)
    cell_beams_per_satellite: Num | None = Field(default=None, gt=0)
    inference_up_gbps_per_mw: Num = Field(default=1.0, ge=0)
    inference_down_gbps_per_mw: Num = Field(default=1.0, ge=0)

    def fiber_rtt_ms(self, internet_km, lateral_km, route=None):
        """Fiber round trip (ms) with this network's figures (:func:`siting.physics.rtt_fiber_ms`);
        with ``fiber_stretch_model: banded`` the Internet path's stretch by its distance band, with
        ``route`` by its route type (``route``: :func:`siting.physics.route_type` of the path's ends,
        broadcast with ``internet_km``; ``None``: the table's ``*`` rows, the bands over all routes)."""
        stretch = self.fiber_internet_stretch
        if self.fiber_stretch_model == "banded":
            bands = pd.read_csv(DATA_DIR / "fiber_stretch_bands.csv")
            stretch = physics.banded_stretch(internet_km, bands["min_km"], bands["stretch"])
        elif self.fiber_stretch_model == "route":
            stretch = fiber.route_stretch(physics.ANY_ROUTE if route is None else route, internet_km,
                                          fiber.read_route_table(self.fiber_stretch_table))
        return physics.rtt_fiber_ms(internet_km, lateral_km, refractive_index=self.fiber_refractive_index,
                                    internet_stretch=stretch,
                                    lateral_stretch=self.fiber_lateral_stretch, overhead_ms=self.fiber_overhead_ms)

    def leo_rtt_ms(self, distance_km):
        """LEO round trip (ms), the closed form with this network's figures (:func:`siting.physics.rtt_leo_ms`)."""
        return physics.rtt_leo_ms(distance_km, altitude_km=self.leo_altitude_km, slant_factor=self.leo_slant_factor,
                                  isl_stretch=self.leo_isl_stretch, overhead_ms=self.leo_overhead_ms)


class Money(_Strict):
    discount_rate: Num = Field(ge=0, le=0.5)
    lifetime_years: Int = Field(ge=1, le=100)
    building_life_years: Num = Field(gt=0, le=100)


class WarmStart(_Strict):
    """Solve first over the ``candidates`` best-ranked candidates (the first rows of the inputs,
    which ``from_layers`` orders by ``candidates.rank_by``) within ``time_s`` seconds of the
    solver's time limit, then the full set from that plan: a larger candidate set never returns
    a worse plan than this subset did."""

    candidates: Int = Field(ge=1)
    time_s: Num = Field(gt=0)


class Solver(_Strict):
    time_limit_s: Num = Field(gt=0)
    mip_gap: Num = Field(ge=0, le=1)
    threads: Int = Field(ge=1, le=256)
    seed: Int = Field(ge=0, le=MAX_SEED)
    restricted_time_s: Num = Field(ge=0)
    strategy: Literal["auto", "lp_start", "plain", "benders"] = "auto"  # auto: picked by the structure
    warm_start: WarmStart | None = None  # off by default


class Time(_Strict):
    """Investment periods (issue 20): ``years`` null is one period, today's model."""

    years: list[Int] | None = None
    end_year: Int | None = None
    first_build_years: Num = Field(ge=0, le=20)
    demand_growth_per_year: Num = Field(ge=-0.5, le=5)
    demand_growth_table: Path | None = None
    training_mw: list[Annotated[Num, Field(ge=0)]] | None = None
    lead_time_months: dict[str, Annotated[Num, Field(ge=0, le=600)]] = {}
    fiber_lead_months: Num = Field(ge=0, le=600)
    fiber_lead_months_per_100km: Num = Field(ge=0, le=600)
    ramp_per_year: Num | None = Field(default=None, ge=0)
    seed_mw_per_year: Num | None = Field(default=None, ge=0)
    jurisdiction_new_mw_per_year: dict[str, Annotated[Num, Field(ge=0)]] = {}
    modules_per_year: Num | None = Field(default=None, ge=0)
    chips: Bool = False
    chip_life_years: Num = Field(default=5.0, gt=0, le=50)
    it_hardware_musd_per_mw: Num = Field(ge=0, le=1000)  # with chips: IT hardware, bought again at each refresh
    foresight: Literal["perfect", "myopic"] = "perfect"
    myopic_start: Bool = True
    myopic_lookahead: Int = Field(default=0, ge=0, le=20)

    @property
    def periods(self) -> int:
        return 1 if not self.years else len(self.years)


class Scenario(_Strict):
    """A complete, validated scenario. Build it with :func:`load_scenario`."""

    name: str = "scenario"
    description: str = ""
    layers: Layers = Layers()
    candidates: Candidates
    demand: Demand
    facility: Facility
    cooling: dict[str, Cooling] = Field(min_length=1)
    energy: Energy
    network: Network
    money: Money
    solver: Solver
    time: Time
    uncertainty: dict[str, Any] | None = None  # scenarios for `siting stochastic` (siting.inputs.uncertainty)


def _nest(flat: dict[str, object]) -> dict:
    out: dict = {}
    for key, value in flat.items():
        node = out
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


def default_values() -> dict:
    """The nested default scenario values read from ``data/*.csv`` (no numbers in code); read
    again whenever one of those files' bytes change (else remembered: a sweep loads thousands of
    scenarios)."""
    from .fingerprint import file_digest

    stamp = tuple(file_digest(DATA_DIR / f) for f in ("defaults.csv", "fuels.csv", "cooling.csv"))
    if _DEFAULTS.get("stamp") != stamp:
        _DEFAULTS.update(stamp=stamp, tree=_read_default_values())
    return copy.deepcopy(_DEFAULTS["tree"])


_DEFAULTS: dict = {}


def _read_default_values() -> dict:
    table = pd.read_csv(DATA_DIR / "defaults.csv", dtype={"value": str}, keep_default_na=False)  # "null": None
    tree = _nest({row.key: yaml.safe_load(str(row.value)) for row in table.itertuples()})
    fuels = pd.read_csv(DATA_DIR / "fuels.csv").drop(columns="source").set_index("fuel")
    fuels = fuels.astype(object).where(fuels.notna(), None)  # a blank cell: not offered (None)
    cooling = pd.read_csv(DATA_DIR / "cooling.csv").drop(columns="source").set_index("cooling")
    tree.setdefault("energy", {})["fuels"] = fuels.to_dict(orient="index")
    tree["cooling"] = cooling.to_dict(orient="index")
    lead = pd.read_csv(DATA_DIR / "lead_times.csv").set_index("fuel")["lead_time_months"]
    tree.setdefault("time", {})["lead_time_months"] = {f: float(v) for f, v in lead.items()}
    return tree


def _merge(base: dict, update: dict) -> dict:
    """Deep-merge ``update`` into a copy of ``base``; a ``None`` for a mapping entry deletes it."""
    out = copy.deepcopy(base)
    for key, value in (update or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        elif value is None and isinstance(out.get(key), dict):
            out.pop(key)  # e.g. ``cooling: {air: null}`` removes a technology
        else:
            out[key] = value
    return out


class _ScenarioLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses a key written twice in one mapping and reads ``1e-9``
    as a number (YAML 1.2; PyYAML's YAML 1.1 reads it as text)."""

    def resolve(self, kind, value, implicit):
        if kind is yaml.ScalarNode and implicit[0] and _EXPONENT_FLOAT.match(value):
            return "tag:yaml.org,2002:float"
        return super().resolve(kind, value, implicit)

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if isinstance(key, typing.Hashable) and key in seen:
                raise ScenarioError(f"duplicate key {clip(repr(key))} at line {line} "
                                    f"(first at line {seen[key]})")
            seen[key] = line
        return super().construct_mapping(node, deep)


def _expanded_size(node, memo: dict, stack: set) -> int:
    """How many nodes ``node`` stands for once every alias is expanded (recursion refused)."""
    if id(node) in memo:
        return memo[id(node)]
    if id(node) in stack:
        raise ScenarioError("a YAML alias refers to itself (recursive anchor)")
    stack.add(id(node))
    children = node.value if isinstance(node, yaml.CollectionNode) else ()
    total = 1
    for child in children:
        for part in (child if isinstance(child, tuple) else (child,)):
            total += _expanded_size(part, memo, stack)
            if total > MAX_YAML_NODES:
                raise ScenarioError(f"the YAML expands to more than {MAX_YAML_NODES:,} values "
                                    "(anchors and aliases that multiply, e.g. a 'billion laughs' file)")
    stack.discard(id(node))
    memo[id(node)] = total
    return total


def parse_yaml(text: str):
    """YAML text to Python values; :class:`ScenarioError` for a duplicate key, an alias bomb or bad YAML.

    >>> parse_yaml("a: 1")
    {'a': 1}
    """
    try:
        loader = _ScenarioLoader(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                _expanded_size(node, {}, set())
            return None if node is None else loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise ScenarioError(f"not valid YAML ({_yaml_problem(exc)})") from None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """PyYAML's complaint on one line, with its line and column when it knows them."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return clip(f"{problem}{where}", 200)


def _nul_path(value, prefix: str = ""):
    """The dotted key of the first text (key or value) holding a NUL character, else ``None``."""
    if isinstance(value, str):
        return prefix or "(the document)" if "\x00" in value else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        here = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(key, str) and "\x00" in key:
            return here
        found = _nul_path(child, here)
        if found:
            return found
    return None


def apply_override(tree: dict, assignment: str) -> dict:
    """Apply one ``a.b.c=value`` override (value parsed as YAML) to a nested dict.

    >>> apply_override({"demand": {"latency_ms": 100}}, "demand.latency_ms=50")
    {'demand': {'latency_ms': 50}}
    """
    if "=" not in assignment:
        raise ScenarioError(f"override {clip(repr(assignment))}: expected key.path=value")
    key, text = assignment.split("=", 1)
    parts = key.strip().split(".")
    if not all(parts):
        raise ScenarioError(f"override {clip(repr(assignment))}: empty key")
    try:
        value = parse_yaml(text)
    except ScenarioError as exc:
        raise ScenarioError(f"override {clip(key.strip())}: the value {clip(repr(text))} is {exc}") from None
    return _merge(tree, _nest({".".join(parts): value}))


def _format_validation(err: ValidationError, source: str) -> str:
    lines = [f"{source}: invalid scenario"]
    for e in err.errors():
        field = clip(".".join(str(p) for p in e["loc"]))
        if e["type"] == "extra_forbidden":
            lines.append(f"  {field}: unknown key (not in the schema)")
        else:
            lines.append(f"  {field}: {clip(e['msg'], 300)} (got {clip(repr(e.get('input')))})")
    return "\n".join(lines)


def _read_scenario_text(path: Path) -> str:
    """The file's text; a special file, an unreadable or a non-UTF-8 file is one ScenarioError."""
    kind = special_file(path)
    if kind:
        raise ScenarioError(f"{clip(path)}: is {kind}, not a scenario file")
    try:
        return decode_utf8(path.read_bytes())
    except OSError as exc:
        raise ScenarioError(f"{clip(path)}: cannot read scenario ({exc.strerror})") from None
    except ValueError as exc:
        raise ScenarioError(f"{clip(path)}: {exc}") from None


def load_scenario(path: str | Path | None = None, overrides: list[str] | tuple = ()) -> Scenario:
    """Load a scenario YAML over the defaults in ``data/``, apply overrides, validate.

    Layer paths in the file are relative to the file. ``path=None`` loads ``models/default.yaml``.
    """
    path = Path(path) if path is not None else DEFAULT_SCENARIO
    text = _read_scenario_text(path)
    try:
        user = parse_yaml(text) or {}
    except ScenarioError as exc:
        raise ScenarioError(f"{clip(path)}: {exc}") from None
    if not isinstance(user, dict):
        raise ScenarioError(f"{clip(path)}: a scenario must be a mapping of keys to values")
    layers = user.get("layers")
    for key, rel in (layers.items() if isinstance(layers, dict) else ()):
        if isinstance(rel, str) and "\x00" not in rel:
            user["layers"][key] = str((path.parent / rel).resolve())
    table = user.get("time", {}).get("demand_growth_table") if isinstance(user.get("time"), dict) else None
    if isinstance(table, str) and "\x00" not in table:
        user["time"]["demand_growth_table"] = str((path.parent / table).resolve())
    tree = _merge(default_values(), user)
    for assignment in overrides:
        tree = apply_override(tree, assignment)
    return validate_tree(tree, str(path))


def validate_tree(tree: dict, source: str = "scenario") -> Scenario:
    """Validate a nested dict as a :class:`Scenario`, raising :class:`ScenarioError`."""
    nul = _nul_path(tree)
    if nul:
        raise ScenarioError(f"{clip(source)}: {clip(nul)}: contains a NUL character")
    try:
        scenario = Scenario.model_validate(tree)
    except ValidationError as err:
        raise ScenarioError(_format_validation(err, source)) from None
    e = scenario.energy
    if e.price_clamp_low > e.price_clamp_high:
        raise ScenarioError(f"{source}: energy.price_clamp_low ({e.price_clamp_low}) is above "
                            f"energy.price_clamp_high ({e.price_clamp_high})")
    if scenario.layers.profiles is not None and not e.hourly:
        raise ScenarioError(f"{source}: layers.profiles is given but energy.hourly is off, so the profiles would "
                            "be ignored: set energy.hourly: true, or remove layers.profiles")
    if e.grid_import and not e.hourly:
        raise ScenarioError(f"{source}: energy.grid_import needs energy.hourly: true (imports are hourly)")
    for key in ("cfe_target", "cfe_target_per_site"):
        if getattr(e, key) is not None and not e.grid_import:
            raise ScenarioError(f"{source}: energy.{key} needs energy.grid_import: true (without a grid "
                                "every MWh the model knows is carbon-free, so a target constrains nothing)")
    _check_time(scenario, source)
    return scenario


def _check_time(sc: Scenario, source: str) -> None:
    """Periods increasing, as many training figures as periods, options not yet over periods off."""
    t = sc.time
    if t.years is None:
        return
    if not t.years:
        raise ScenarioError(f"{source}: time.years: list at least one period (or null for none)")
    for i in range(1, len(t.years)):
        if t.years[i] <= t.years[i - 1]:
            raise ScenarioError(f"{source}: time.years[{i}]: {t.years[i]} is not after {t.years[i - 1]} "
                                "(periods must be increasing, without duplicates)")
    if t.end_year is not None and t.end_year <= t.years[-1]:
        raise ScenarioError(f"{source}: time.end_year: {t.end_year} is not after the last period ({t.years[-1]})")
    if t.training_mw is not None and len(t.training_mw) != len(t.years):
        raise ScenarioError(f"{source}: time.training_mw: {len(t.training_mw)} figures for {len(t.years)} periods")
    missing = [f for f in sc.energy.fuels if f not in t.lead_time_months]
    if missing:
        raise ScenarioError(f"{source}: time.lead_time_months: no lead time for fuel {missing[0]!r}")
    if len(t.years) > 1:
        for key, on in (("energy.hourly", sc.energy.hourly),  # N-1 and climate are laid over periods
                        ("facility.water_limit_m3_per_year", sc.facility.water_limit_m3_per_year),
                        ("demand.n_minus_1_share with time.chips", sc.demand.n_minus_1_share and t.chips)):
            if on:
                raise ScenarioError(f"{source}: {key}: not yet stated over investment periods; with "
                                    f"time.years ({len(t.years)} periods) turn it off")
