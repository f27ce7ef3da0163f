"""Scenario schema (pydantic, unknown keys rejected, units in names) and YAML loading.

Every default value comes from the tables in ``data/`` (``defaults.csv``, ``fuels.csv``,
``cooling.csv``), each with its unit and source; a scenario file only states what differs.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ScenarioError
from .paths import DATA_DIR, MODELS_DIR

__all__ = ["Scenario", "load_scenario", "default_values", "apply_override", "DEFAULT_SCENARIO"]

DEFAULT_SCENARIO = MODELS_DIR / "default.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Layers(_Strict):
    energy_sources: Path = DATA_DIR / "energy_sources.csv"
    demand: Path = DATA_DIR / "cities.csv"
    pops: Path = DATA_DIR / "pops.csv"


class Candidates(_Strict):
    merge_km: float = Field(ge=0, le=1000)
    min_firm_mw: float = Field(ge=0)
    max_count: int = Field(ge=1)


class Demand(_Strict):
    merge_km: float = Field(ge=0, le=2000)
    min_population: float = Field(ge=0)
    max_regions: int = Field(ge=1)
    inference_w_per_person: float = Field(gt=0, le=1000)
    latency_ms: float = Field(gt=0, le=2000)
    training_mw: float = Field(ge=0)
    training_min_cluster_mw: float = Field(ge=0)
    resilience_max_share: float = Field(gt=0, le=1)
    unmet_penalty_usd_per_mwh: float | None = Field(gt=0)


class Facility(_Strict):
    module_mw: float | None = Field(gt=0)
    site_fixed_musd: float = Field(ge=0)
    land_acres_per_mw: float = Field(ge=0)
    land_usd_per_acre: float = Field(ge=0)
    staff_fte_per_site: float = Field(ge=0)
    staff_fte_per_mw: float = Field(ge=0)
    staff_usd_per_fte_year: float = Field(ge=0)
    om_share_per_year: float = Field(ge=0, le=1)
    utilisation: float = Field(gt=0, le=1)
    power_share_available: float = Field(gt=0, le=1)
    inference_rack_kw: float = Field(gt=0)
    training_rack_kw: float = Field(gt=0)
    max_sites: int | None = Field(default=None, ge=1)


class Cooling(_Strict):
    capex_musd_per_mw: float = Field(ge=0)
    pue: float = Field(ge=1.0, le=3.0)
    rack_kw: float = Field(gt=0)
    water_l_per_kwh: float = Field(ge=0)


class Fuel(_Strict):
    price_usd_per_mwh: float = Field(gt=0)
    ref_capacity_factor: float = Field(gt=0, le=1)
    firm_fraction: float = Field(gt=0, le=1)
    lifecycle_gco2_per_kwh: float = Field(ge=0)


class Energy(_Strict):
    price_clamp_low: float = Field(gt=0)
    price_clamp_high: float = Field(gt=0)
    carbon_price_usd_per_tco2: float = Field(ge=0)
    fuels: dict[str, Fuel]


class Network(_Strict):
    fiber_build_usd_per_km: float = Field(ge=0)
    fiber_om_share_per_year: float = Field(ge=0, le=1)
    fiber_life_years: float = Field(gt=0)
    fiber_refractive_index: float = Field(ge=1, le=2)
    fiber_internet_stretch: float = Field(ge=1, le=10)
    fiber_lateral_stretch: float = Field(ge=1, le=10)
    fiber_overhead_ms: float = Field(ge=0)
    leo_altitude_km: float = Field(gt=0, le=2000)
    leo_slant_factor: float = Field(ge=1, le=5)
    leo_isl_stretch: float = Field(ge=1, le=5)
    leo_overhead_ms: float = Field(ge=0)
    sat_price_musd_per_gbps_year: float = Field(ge=0)
    sat_unit_gbps: float = Field(gt=0)
    sat_terminal_usd: float = Field(ge=0)
    sat_terminal_gbps: float = Field(gt=0)
    sat_terminal_life_years: float = Field(gt=0)
    inference_gbps_per_mw: float = Field(ge=0)
    allow_satellite: bool = True
    allow_fiber: bool = True


class Money(_Strict):
    discount_rate: float = Field(ge=0, le=0.5)
    lifetime_years: int = Field(ge=1, le=100)
    building_life_years: float = Field(gt=0, le=100)


class Solver(_Strict):
    time_limit_s: float = Field(gt=0)
    mip_gap: float = Field(ge=0, le=1)
    threads: int = Field(ge=1, le=256)
    seed: int = Field(ge=0)
    restricted_time_s: float = Field(ge=0)
    strategy: Literal["lp_start", "plain"] = "lp_start"


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
    """The nested default scenario values read from ``data/*.csv`` (no numbers in code)."""
    table = pd.read_csv(DATA_DIR / "defaults.csv", dtype={"value": str})
    tree = _nest({row.key: yaml.safe_load(str(row.value)) for row in table.itertuples()})
    fuels = pd.read_csv(DATA_DIR / "fuels.csv").drop(columns="source").set_index("fuel")
    cooling = pd.read_csv(DATA_DIR / "cooling.csv").drop(columns="source").set_index("cooling")
    tree.setdefault("energy", {})["fuels"] = fuels.to_dict(orient="index")
    tree["cooling"] = cooling.to_dict(orient="index")
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


def apply_override(tree: dict, assignment: str) -> dict:
    """Apply one ``a.b.c=value`` override (value parsed as YAML) to a nested dict.

    >>> apply_override({"demand": {"latency_ms": 100}}, "demand.latency_ms=50")
    {'demand': {'latency_ms': 50}}
    """
    if "=" not in assignment:
        raise ScenarioError(f"override {assignment!r}: expected key.path=value")
    key, text = assignment.split("=", 1)
    parts = key.strip().split(".")
    if not all(parts):
        raise ScenarioError(f"override {assignment!r}: empty key")
    return _merge(tree, _nest({".".join(parts): yaml.safe_load(text)}))


def _format_validation(err: ValidationError, source: str) -> str:
    lines = [f"{source}: invalid scenario"]
    for e in err.errors():
        field = ".".join(str(p) for p in e["loc"])
        msg = "unknown key (not in the schema)" if e["type"] == "extra_forbidden" else e["msg"]
        lines.append(f"  {field}: {msg} (got {e.get('input')!r})" if e["type"] != "extra_forbidden"
                     else f"  {field}: {msg}")
    return "\n".join(lines)


def load_scenario(path: str | Path | None = None, overrides: list[str] | tuple = ()) -> Scenario:
    """Load a scenario YAML over the defaults in ``data/``, apply overrides, validate.

    Layer paths in the file are relative to the file. ``path=None`` loads ``models/default.yaml``.
    """
    path = Path(path) if path is not None else DEFAULT_SCENARIO
    try:
        text = path.read_text()
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read scenario ({exc.strerror})") from None
    try:
        user = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(user, dict):
        raise ScenarioError(f"{path}: a scenario must be a mapping of keys to values")
    layers = user.get("layers")
    for key, rel in (layers.items() if isinstance(layers, dict) else ()):
        if isinstance(rel, str):
            user["layers"][key] = str((path.parent / rel).resolve())
    tree = _merge(default_values(), user)
    for assignment in overrides:
        tree = apply_override(tree, assignment)
    return validate_tree(tree, str(path))


def validate_tree(tree: dict, source: str = "scenario") -> Scenario:
    """Validate a nested dict as a :class:`Scenario`, raising :class:`ScenarioError`."""
    try:
        scenario = Scenario.model_validate(tree)
    except ValidationError as err:
        raise ScenarioError(_format_validation(err, source)) from None
    e = scenario.energy
    if e.price_clamp_low > e.price_clamp_high:
        raise ScenarioError(f"{source}: energy.price_clamp_low ({e.price_clamp_low}) is above "
                            f"energy.price_clamp_high ({e.price_clamp_high})")
    return scenario
