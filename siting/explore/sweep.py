"""What-if sweeps: many variants of one scenario, solved on a Dask cluster, as one tidy table.

A sweep is a base scenario plus variants, each a set of overrides (``a.b.c=value``, as
``siting solve --set``): a grid ``{key: [values]}`` (every combination) or an explicit list of
dicts. :func:`sweep` returns one row per variant (a :class:`Row`; see :meth:`Row.columns`).

No needless work:

- variants that differ only in prices (:func:`siting.inputs.pricing.geography_key`) share their
  geography: it is read once (:func:`siting.inputs.inputs.read_geography`: layers, merges, distances,
  arcs) and each variant is priced on it (:func:`siting.inputs.inputs.priced`, milliseconds);
- variants are grouped by :func:`siting.model.structure_key` of their inputs; a group builds and
  compiles its model once and re-solves every further variant in place
  (:func:`siting.model.in_place_update`: new costs and row bounds on the compiled arrays, solved
  from the previous variant's plan; see :class:`_Group` for when :class:`siting.solve.Reoptimizer`
  is used), in an order that keeps neighbours close;
- every finished variant's row is cached as JSON under ``<cache_dir>/<sha256>.json``, keyed by
  the resolved scenario, the bytes of every file it reads, the shipped tables and the package's
  code (:func:`cache_key`), the entry holding its key and a checksum that are verified before it
  is used; a sweep started again redoes only what is not cached. The default
  cache folder is the hidden sibling ``<out parent>/.<out name>.sweep-cache/`` (not inside the
  output folder, which is replaced as a whole), or ``platformdirs.user_cache_dir("siting")/sweep``
  when there is no output folder; ``cache_dir=None`` turns caching off.

Distribution (bounded work, whatever the grid's size): variants are made one at a time
(:class:`Grid`; a grid above :data:`MAX_VARIANTS` needs ``yes``), each prepared only when a
worker frees up, so the first rows stream within seconds. Each worker runs one contiguous lane of
the grid (:class:`_Lanes`, in an order where price-only keys vary fastest), one Dask task per
variant, and keeps its last geographies and compiled structure groups, so consecutive variants
re-use the geography and re-solve in place; a worker that runs out takes half of another's lane.
With the embedded cluster the first variant is solved in this process while the workers start.
By default an embedded ``LocalCluster`` (processes, one thread each, at most one worker per core:
:func:`worker_count`, HiGHS threads set so that workers x threads <= cores);
``scheduler="tcp://host:port"`` uses an existing cluster as it is. A variant that fails is a row
with its error and the sweep goes on; Ctrl-C kills the embedded workers (within a second or two)
and keeps what is done (the cache, and a partial table - never over a complete one).
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import hashlib
import itertools
import json
import math
import os
import shutil
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..errors import ScenarioError, SitingError, clip
from ..inputs.pricing import geography_key, layer_stamp
from ..outputs.outdir import check_out, claim, replace_dir, safe_name
from ..outputs.results import json_default
from ..scenario import Scenario, load_scenario

__all__ = ["sweep", "SweepError", "SweepInterrupted", "Row", "VariantState", "Grid", "expand", "parse_vary",
           "plot_sweep", "cache_key", "worker_count", "MAX_VARIANTS"]

CONNECT_TIMEOUT_S = 20  # how long to try reaching a --scheduler
ROW_FORMAT = 3  # in the cache key: rows cached in an earlier layout are not reused (3: key and checksum stored)


class SweepError(SitingError):
    """A sweep's own setting is wrong (e.g. a scheduler that cannot be reached)."""


# ---------------------------------------------------------------------------- a row

class VariantState(enum.StrEnum):
    """Where a variant ended: a plan, a solve without one, an error, or never run (interrupted)."""

    SOLVED = "solved"
    NO_PLAN = "no_plan"
    FAILED = "failed"
    NOT_RUN = "not_run"


@dataclass(frozen=True)
class Row:
    """One variant's line of the sweep. Every quantity is read off the variant's own plan
    (:func:`of_plan`): the PV cost of each component from its ``costs`` table, MW from its
    ``sites``, ``assignments`` and ``regions`` tables, carbon and water as the sums of the
    ``sites`` table's ``carbon_tco2_per_year`` and ``water_m3_per_year`` columns; none is
    recomputed here."""

    variant: str
    state: VariantState
    termination: str | None = None  # siting.solve.Termination
    solution_status: str | None = None
    objective_musd: float | None = None
    best_bound_musd: float | None = None
    gap: float | None = None
    costs_musd: Mapping[str, float] = field(default_factory=dict)  # PV M$ by component
    sites: tuple[str, ...] | None = None  # the open sites' ids
    it_mw: Mapping[str, float] = field(default_factory=dict)  # MW IT by cooling
    fiber_mw: float | None = None
    satellite_mw: float | None = None
    satellite_share: float | None = None
    unmet_mw: float | None = None
    carbon_tco2_per_year: float | None = None  # operational: the tonnes the carbon price is paid on
    water_m3_per_year: float | None = None
    inputs_s: float | None = None
    build_s: float | None = None
    solve_s: float | None = None
    resolved_in_place: bool = False
    error: str | None = None

    @classmethod
    def of_plan(cls, variant: str, plan, coolings: Sequence[str], **times) -> Row:
        """The row of a solved plan (a :class:`siting.outputs.results.Plan`); ``coolings``: every cooling
        option (an ``it_mw_<cooling>`` column each); ``times``: ``inputs_s``, ``build_s``,
        ``solve_s``, ``resolved_in_place``."""
        rep, sites = plan.report, plan.sites
        by_link = plan.assignments.groupby("link")["mw"].sum()
        fiber, sat = float(by_link.get("fiber", 0.0)), float(by_link.get("satellite", 0.0))
        by_cooling = sites.groupby("cooling")["it_mw"].sum()
        total = lambda col: float(sites[col].sum()) if col in sites else 0.0  # noqa: E731
        return cls(variant, VariantState.SOLVED, str(rep.termination), str(rep.solution_status), rep.objective,
                   rep.best_bound, rep.gap,
                   costs_musd={c: float(v) for c, v in zip(plan.costs["component"], plan.costs["pv_musd"])},
                   sites=tuple(str(s) for s in sites["site_id"]),
                   it_mw={c: float(by_cooling.get(c, 0.0)) for c in coolings},
                   fiber_mw=fiber, satellite_mw=sat, satellite_share=sat / (fiber + sat) if fiber + sat > 0 else 0.0,
                   unmet_mw=float(plan.regions["unmet_mw"].sum()),
                   carbon_tco2_per_year=total("carbon_tco2_per_year"), water_m3_per_year=total("water_m3_per_year"),
                   **times)

    def columns(self) -> dict:
        """The table's (and the cache's) columns: ``state``, ``termination``, ``solution_status``,
        ``objective_musd``, ``best_bound_musd``, ``gap``, ``cost_<component>_musd``, ``sites``
        (ids, ``;``-joined), ``n_sites``, ``it_mw_<cooling>``, ``fiber_mw``, ``satellite_mw``,
        ``satellite_share``, ``unmet_mw``, ``carbon_tco2_per_year``, ``water_m3_per_year``,
        ``inputs_s``, ``build_s``, ``solve_s``, ``resolved_in_place``, ``error``."""
        out = {"variant": self.variant, "state": str(self.state), "termination": self.termination,
               "solution_status": self.solution_status, "objective_musd": self.objective_musd,
               "best_bound_musd": self.best_bound_musd, "gap": self.gap}
        out |= {f"cost_{c}_musd": v for c, v in self.costs_musd.items()}
        if self.sites is not None:
            out |= {"sites": ";".join(self.sites), "n_sites": len(self.sites)}
        out |= {f"it_mw_{c}": v for c, v in self.it_mw.items()}
        if self.state == VariantState.SOLVED:
            out |= {"fiber_mw": self.fiber_mw, "satellite_mw": self.satellite_mw,
                    "satellite_share": self.satellite_share, "unmet_mw": self.unmet_mw,
                    "carbon_tco2_per_year": self.carbon_tco2_per_year, "water_m3_per_year": self.water_m3_per_year}
        return out | {"inputs_s": self.inputs_s, "build_s": self.build_s, "solve_s": self.solve_s,
                      "resolved_in_place": self.resolved_in_place, "error": self.error}

    @classmethod
    def from_columns(cls, cols: Mapping) -> Row:
        """The row whose :meth:`columns` are ``cols`` (a cached row)."""
        plain = {f.name for f in dataclasses.fields(cls)} - {"costs_musd", "sites", "it_mw"}
        sites = cols.get("sites")
        return cls(**{k: v for k, v in cols.items() if k in plain} | {
            "state": VariantState(cols["state"]),
            "costs_musd": {k[5:-5]: v for k, v in cols.items() if k.startswith("cost_") and k.endswith("_musd")},
            "it_mw": {k[6:]: v for k, v in cols.items() if k.startswith("it_mw_")},
            "sites": None if sites is None else tuple(s for s in str(sites).split(";") if s)})


# ---------------------------------------------------------------------------- variants

def expand(overrides: Mapping[str, Sequence] | Sequence[Mapping[str, object]]) -> list[dict]:
    """Variants as dicts ``{key: value}``: every combination of a grid, or the list as given.

    >>> expand({"a.x": [1, 2], "b.y": [True]})
    [{'a.x': 1, 'b.y': True}, {'a.x': 2, 'b.y': True}]
    >>> expand([{"a.x": 1}, {"b.y": 2}])
    [{'a.x': 1}, {'b.y': 2}]
    """
    if isinstance(overrides, Mapping):
        for key, values in overrides.items():
            if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
                raise ScenarioError(f"--vary {clip(key)}: give a non-empty list of values")
        keys = list(overrides)
        return [dict(zip(keys, combo)) for combo in itertools.product(*overrides.values())]
    variants = [dict(v) for v in overrides]
    if not variants:
        raise ScenarioError("--vary: no variants given")
    return variants


def parse_vary(texts: Sequence[str]) -> dict[str, list]:
    """``--vary`` options (``a.b=v1,v2,...``, each value a YAML scalar) as a grid.

    >>> parse_vary(["network.sat_price_musd_per_gbps_year=0.2,1", "demand.unmet_penalty_usd_per_mwh=null,500"])
    {'network.sat_price_musd_per_gbps_year': [0.2, 1], 'demand.unmet_penalty_usd_per_mwh': [None, 500]}
    """
    from ..scenario import parse_yaml

    grid: dict[str, list] = {}
    for text in texts:
        key, sep, values = text.partition("=")
        key = key.strip()
        if not sep or not key or not all(key.split(".")):
            raise ScenarioError(f"--vary {clip(repr(text))}: expected key.path=value1,value2,...")
        if key in grid:
            raise ScenarioError(f"--vary {clip(key)}: given twice; list all its values in one --vary")
        parsed = []
        for part in values.split(","):
            try:
                parsed.append(parse_yaml(part.strip()))
            except ScenarioError as exc:
                raise ScenarioError(f"--vary {clip(key)}: the value {clip(repr(part))} is {exc}") from None
        grid[key] = parsed
    return grid


def _assignments(values: Mapping[str, object]) -> list[str]:
    """``key=value`` override strings (JSON is YAML, so every scalar round-trips).

    >>> _assignments({"a.b": 0.5, "c": None, "d": "x y"})
    ['a.b=0.5', 'c=null', 'd="x y"']
    """
    return [f"{k}={json.dumps(v)}" for k, v in values.items()]


def _variant_name(i: int, values: Mapping[str, object]) -> str:
    """``v03_latency_ms-50_carbon_price_usd_per_tco2-80``: index first, so names never collide."""
    parts = "_".join(f"{k.split('.')[-1]}-{v}" for k, v in values.items())
    return safe_name(f"v{i:02d}_{parts}", fallback=f"v{i:02d}")


class Grid:
    """The variants of a sweep, made one at a time (a 10,000-variant grid is never expanded up
    front): ``values(i)`` is variant ``i`` of :func:`expand`'s order. ``order`` lists the
    positions in the order they are solved: for a grid, the keys that only change prices
    (``price_keys``) vary fastest, so consecutive variants share their geography and usually
    their structure (re-solved in place).

    >>> g = Grid({"a": [1, 2], "b": [10, 20, 30]})
    >>> len(g), g.values(4), [g.values(i)["b"] for i in range(3)]
    (6, {'a': 2, 'b': 20}, [10, 20, 30])
    >>> [g.position(p) for p in range(6)], [Grid({"a": [1, 2], "b": [10, 20]}, ["a"]).position(p) for p in range(4)]
    ([0, 1, 2, 3, 4, 5], [0, 2, 1, 3])
    """

    def __init__(self, overrides, price_keys=()):
        if isinstance(overrides, Mapping):
            for key, values in overrides.items():
                if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
                    raise ScenarioError(f"--vary {clip(key)}: give a non-empty list of values")
            self.keys = list(overrides)
            self.lists = [list(v) for v in overrides.values()]
            self.listed = None
            self.n = math.prod(len(v) for v in self.lists)
            slow = [j for j, k in enumerate(self.keys) if k not in price_keys]
            self._solve_keys = slow + [j for j in range(len(self.keys)) if j not in slow]
        else:
            self.listed = expand(overrides)
            self.keys = list(dict.fromkeys(k for v in self.listed for k in v))
            self.n = len(self.listed)

    def __len__(self) -> int:
        return self.n

    def _digits(self, i: int, keys: list[int]) -> dict[int, int]:
        out = {}
        for j in reversed(keys):
            i, out[j] = divmod(i, len(self.lists[j]))
        return out

    def values(self, i: int) -> dict:
        if self.listed is not None:
            return dict(self.listed[i])
        d = self._digits(i, list(range(len(self.keys))))
        return {k: self.lists[j][d[j]] for j, k in enumerate(self.keys)}

    def position(self, p: int) -> int:
        """The variant solved ``p``-th."""
        if self.listed is not None:
            return p
        d = self._digits(p, self._solve_keys)
        i = 0
        for j in range(len(self.keys)):
            i = i * len(self.lists[j]) + d[j]
        return i

    def pairs(self) -> list[dict]:
        """Each distinct ``{key: value}`` of the grid once (a check of every value, not every combination)."""
        seen, out = set(), []
        if self.listed is not None:
            rows = [{k: v} for variant in self.listed for k, v in variant.items()]
        else:
            rows = [{k: v} for k, values in zip(self.keys, self.lists) for v in values]
        for r in rows:
            tag = json.dumps(r, sort_keys=True, default=str)
            if tag not in seen:
                seen.add(tag)
                out.append(r)
        return out


# ---------------------------------------------------------------------------- cache

def cache_key(sc: Scenario) -> str:
    """sha256 of everything a variant's row depends on: the resolved scenario (less
    ``solver.threads``, which ``--workers`` sets and which changes no answer beyond the gap), the
    bytes of every file it reads (layers, profiles, shells: :func:`~siting.inputs.pricing.layer_stamp`),
    the shipped tables ``data/*.csv`` and the package's code (:mod:`siting.fingerprint`), and the
    row format."""
    from ..fingerprint import code_digest, data_digest

    tree = sc.model_dump(mode="json")
    tree.get("solver", {}).pop("threads", None)
    text = "\n".join([json.dumps(tree, sort_keys=True), json.dumps(layer_stamp(sc)), code_digest(), data_digest(),
                      f"row{ROW_FORMAT}"])
    return hashlib.sha256(text.encode()).hexdigest()


def _checksum(key: str, columns: Mapping) -> str:
    return hashlib.sha256((key + json.dumps(columns, sort_keys=True, default=json_default)).encode()).hexdigest()


def _default_cache_dir(out: Path | None) -> Path | None:
    if out is not None:
        return out.parent / f".{out.name}.sweep-cache"
    try:
        import platformdirs
    except ImportError:
        return None
    return Path(platformdirs.user_cache_dir("siting")) / "sweep"


def _cache_read(folder: Path | None, key: str) -> Row | None:
    """The cached row of ``key``, trusted only if the entry holds that key and its rows'
    checksum matches (a truncated, edited or misplaced file is ignored and solved again)."""
    if folder is None:
        return None
    try:
        entry = json.loads((folder / f"{key}.json").read_text())
        if entry.get("key") != key or entry.get("checksum") != _checksum(key, entry["row"]):
            return None
        return Row.from_columns(entry["row"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def _cache_write(folder: Path | None, key: str, row: Row) -> None:
    """Write atomically (temporary file, then rename) the key, the row and their checksum; a
    cache that cannot be written is skipped."""
    if folder is None or row.error:
        return
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        columns = json.loads(json.dumps(row.columns(), default=json_default))
        tmp = folder / f".{key}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({"key": key, "row": columns, "checksum": _checksum(key, columns)}))
        os.replace(tmp, folder / f"{key}.json")


# ---------------------------------------------------------------------------- work in a worker

def _failure(exc: Exception) -> str:
    """A variant's error as its row says it (a siting error as it is, anything else with its type)."""
    return str(exc) if isinstance(exc, SitingError) else f"{type(exc).__name__}: {exc}"


def _no_plan(report) -> str:
    from ..solve import Termination

    if report.termination in (Termination.INFEASIBLE, Termination.INFEASIBLE_OR_UNBOUNDED):
        return ("no plan: infeasible (run `siting solve` with these overrides to have the regions "
                "or limits at fault named)")
    return f"no plan: the solver ended '{report.termination}' without a feasible solution"


class _Group:
    """One structure group's model, compiled once by the pipeline's solve path
    (:func:`siting.pipeline.solve_model`: the memory check, the solve, the start kept); every
    further variant is re-solved in place: the compiled arrays get the variant's costs and row
    bounds (no rebuild, no recompile) and are solved, by the same path, from the neighbour's
    plan (the plan returned is never dearer than that start where it is feasible).

    :class:`~siting.solve.Reoptimizer` does both: with ``solver.strategy: plain`` it keeps one
    HiGHS problem and changes it; with ``lp_start`` (the default) it runs that strategy on the
    updated arrays, the neighbour's plan as the MIP start: measured on the
    default scenario (bench/sweep.py), the kept problem's full-MIP re-solve took 60-530 s under a
    60 s limit where ``lp_start`` proved the gap in 3-14 s, because its LP bound often proves the
    restricted plan without any full MIP.
    """

    def __init__(self):
        self.comp = self.reopt = self.x = None

    def solve(self, inp, opts):
        """``(report, decisions, build_s, in_place)`` for ``inp``."""
        from ..model import in_place_update
        from ..pipeline import solve_model
        from ..solve import Reoptimizer

        t0 = time.perf_counter()
        in_place = self.comp is not None
        if not in_place:  # the pipeline's own solve: compile (checked), solve, read
            done = solve_model(inp, opts)
            self.comp = done.compiled
            build_s = done.report.build_s + self.comp.sf.seconds
        else:  # the variant's costs and row bounds on the kept arrays: no rebuild
            if self.reopt is None or self.reopt.opts != opts:
                self.reopt = Reoptimizer(self.comp.sf, opts, restrict=self.comp.open_mask)
            c, changes = in_place_update(self.comp, inp)
            self.reopt.set_costs(c)
            for rows, lo, up in changes:
                self.reopt.set_row_bounds(rows, lo, up)
            build_s = time.perf_counter() - t0
            done = solve_model(inp, opts, compiled=self.comp, reoptimizer=self.reopt, start=self.x)
        if done.report.x is not None:
            self.x = done.report.x
        return done.report, done.decisions, build_s, in_place


_KEEP_GEOGRAPHIES, _KEEP_GROUPS = 2, 4
_WORKER: dict = {"run": None}  # a worker process's state for the sweep it is running


def _worker_state(run_id: str) -> dict:
    """The geographies and structure groups this worker process keeps for sweep ``run_id``
    (most recent first, a few of each); a new sweep starts afresh."""
    if _WORKER.get("run") != run_id:
        _WORKER.clear()
        _WORKER.update(run=run_id, geo={}, groups={})
    return _WORKER


def _remember(store: dict, key, value, keep: int):
    store.pop(key, None)
    store[key] = value
    while len(store) > keep:
        store.pop(next(iter(store)))
    return value


def _prepare(state: dict, sc: Scenario):
    """``(inputs, structure key)`` of one variant: its geography read once per
    :func:`~siting.inputs.pricing.geography_key` in this worker (a failed read fails every
    variant of it alike), the variant priced on it; refused when the inputs cannot be met."""
    from ..inputs.diagnose import diagnose
    from ..inputs.inputs import priced, read_geography
    from ..model import structure_key

    gkey = geography_key(sc)
    geo = state["geo"].get(gkey)
    if geo is None:
        try:
            geo = read_geography(sc)
        except Exception as exc:
            geo = exc
        _remember(state["geo"], gkey, geo, _KEEP_GEOGRAPHIES)
    if isinstance(geo, Exception):
        raise geo
    inp = priced(geo, sc)
    errors = [f.message for f in diagnose(inp) if f.severity == "error"]
    if errors:
        raise ScenarioError("the scenario cannot be met: " + "; ".join(errors[:5]))
    return inp, structure_key(inp)


def _solve_variant(run_id: str, item: dict, cache_dir: str | None, keep_plans: bool) -> tuple:
    """Solve one variant in a worker: ``(row, (plan, inputs) or None)``. A variant whose
    structure this worker has compiled before is re-solved in place from the last plan of it."""
    from ..model import n_periods, read_schedule
    from ..outputs.audit import require_clean
    from ..outputs.results import make_plan
    from ..pipeline import options_from, solve_buildout

    state = _worker_state(run_id)
    sc, name, payload = item["scenario"], item["name"], None
    t0 = time.perf_counter()
    try:
        inp, skey = _prepare(state, sc)
    except Exception as exc:  # a variant's failure is a row, never the end of the sweep
        row = Row(name, VariantState.FAILED, inputs_s=time.perf_counter() - t0, error=_failure(exc))
    else:
        inputs_s = time.perf_counter() - t0
        group = state["groups"].get(skey) or _Group()
        _remember(state["groups"], skey, group, _KEEP_GROUPS)
        row = Row(name, VariantState.FAILED, inputs_s=inputs_s)
        try:
            schedule = None
            if n_periods(inp) > 1:  # a build-out: solved as `siting solve` does (its foresight), never in place
                t = sc.time
                done = solve_buildout(inp, options_from(sc), foresight=t.foresight, myopic_start=t.myopic_start,
                                      lookahead=t.myopic_lookahead)
                report, dec, build_s, in_place = done.report, done.decisions, done.report.build_s, False
                schedule = None if report.x is None else read_schedule(done.compiled, inp, report.x)
            else:
                report, dec, build_s, in_place = group.solve(inp, options_from(sc))
            times = {"inputs_s": inputs_s, "build_s": build_s, "solve_s": report.solve_s,
                     "resolved_in_place": in_place}
            if dec is None:
                row = Row(name, VariantState.NO_PLAN, str(report.termination), error=_no_plan(report), **times)
            else:
                plan = make_plan(inp, dec, report, scenario_name=sc.name, inputs_s=inputs_s,
                                 mip_gap=sc.solver.mip_gap, schedule=schedule)
                require_clean(plan, inp)  # a plan that breaks a rule is a failed row, never "optimal"
                row = Row.of_plan(name, plan, list(inp.cooling["cooling"]), **times)
                payload = (plan, inp) if keep_plans else None
        except Exception as exc:  # recorded, and the sweep goes on
            row = dataclasses.replace(row, error=_failure(exc))
    _cache_write(Path(cache_dir) if cache_dir else None, item["cache_key"], row)
    return row, payload


# ---------------------------------------------------------------------------- the cluster

def _threads(workers: int) -> int:
    """HiGHS threads per solve so that workers x threads fits the machine's cores."""
    return max(1, (os.cpu_count() or 1) // workers)


@contextlib.contextmanager
def _client(scheduler: str | None, workers: int):
    """A Dask client: to ``scheduler`` as it is, or to an embedded, quiet ``LocalCluster``. On
    Ctrl-C the embedded cluster's worker processes are killed first (a HiGHS solve in a worker
    does not stop for a polite close), so the sweep stops at once."""
    import logging

    from distributed import Client, LocalCluster

    if hasattr(scheduler, "submit"):  # a distributed.Client of the caller's: used, never closed
        yield scheduler
        return
    cluster, pids, pressed = None, [], []
    try:
        if scheduler:
            try:
                client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
            except (OSError, TimeoutError, ValueError) as exc:
                raise SweepError(f"--scheduler {clip(scheduler)}: cannot connect ({clip(exc, 200)})") from None
        else:
            _quiet_resource_tracker()
            with _workers_ignore_ctrl_c() as pressed:
                cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       dashboard_address=":0", worker_dashboard_address=None,
                                       silence_logs=logging.ERROR)
                pids = _worker_pids(cluster)
                client = Client(cluster)
        try:
            if pressed:  # Ctrl-C while the workers started
                raise KeyboardInterrupt
            yield client
        except BaseException:
            _kill(pids)
            raise
        finally:
            with contextlib.suppress(Exception):
                client.close(timeout=2)
    finally:
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close(timeout=2)


def _quiet_resource_tracker() -> None:
    """Workers killed on Ctrl-C leave their semaphores to multiprocessing's resource tracker,
    which would warn about them after the sweep has ended; the tracker (started with this
    interpreter's warning options) is told not to."""
    import sys

    option = "ignore::UserWarning:multiprocessing.resource_tracker"
    if option not in sys.warnoptions:
        sys.warnoptions.append(option)


def _warm_imports() -> None:
    """Import the plotting modules in the background, so a sweep stopped by Ctrl-C writes its
    partial table (and plot) without waiting for them."""
    with contextlib.suppress(Exception):
        import matplotlib.backends.backend_agg  # noqa: F401
        import matplotlib.figure  # noqa: F401


def _worker_pids(cluster) -> list[int]:
    pids = []
    for nanny in getattr(cluster, "workers", {}).values():
        with contextlib.suppress(AttributeError):
            pids.append(int(nanny.process.process.pid))
    return pids


def _kill(pids: list[int]) -> None:
    import signal

    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def _workers_ignore_ctrl_c():
    """Start worker processes with SIGINT blocked: Ctrl-C in a terminal reaches the whole process
    group, and only this process should act on it (killing the workers and writing what is done)
    instead of every worker dying with a traceback. The processes are spawned by other threads
    of the cluster, so multiprocessing's spawn is wrapped meanwhile to block SIGINT in the
    spawning thread around the fork (the mask survives fork and exec; Python keeps it).

    A Ctrl-C while the cluster starts is recorded, not lost: the block yields a list that holds
    it, and the caller stops once the cluster is up (and can be closed in order)."""
    import signal
    from multiprocessing import util

    pressed: list = []
    try:
        old = signal.signal(signal.SIGINT, lambda *_: pressed.append(True))
    except ValueError:  # not the main thread: leave signals alone
        yield pressed
        return
    spawn = util.spawnv_passfds

    def spawn_blocked(*args, **kw):
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            return spawn(*args, **kw)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    util.spawnv_passfds = spawn_blocked
    try:
        yield pressed
    finally:
        util.spawnv_passfds = spawn
        signal.signal(signal.SIGINT, old)


def _is_local(client) -> bool:
    from distributed import LocalCluster

    return isinstance(getattr(client, "cluster", None), LocalCluster)


class _Lanes:
    """Contiguous ranges of solve positions, one per worker, handed out one position at a time;
    a lane that runs out takes the back half of the longest range of a lane (the whole of it if
    that lane is not busy), so consecutive variants stay on one worker and no worker idles
    while another has a queue.

    >>> lanes = _Lanes(5)
    >>> lanes.add(1)
    >>> [lanes.next(0, busy={1}), lanes.next(1, busy={0}), lanes.next(1, busy={0}), lanes.next(0, busy={1})]
    [0, 3, 4, 1]
    >>> lanes.next(1, busy={0}), lanes.next(1, busy={0}), lanes.next(0, busy=set())
    (None, None, 2)
    """

    def __init__(self, n: int):
        self.ranges = [[0, n]]

    def add(self, count: int) -> None:
        self.ranges += [[0, 0] for _ in range(count)]

    def next(self, lane: int, busy=frozenset()) -> int | None:
        r = self.ranges[lane]
        if r[0] >= r[1]:
            size = lambda j: self.ranges[j][1] - self.ranges[j][0]  # noqa: E731
            victim = max(range(len(self.ranges)), key=size)
            v = self.ranges[victim]
            if size(victim) == 0 or (victim in busy and size(victim) < 2):
                return None
            mid = (v[0] + v[1] + 1) // 2 if victim in busy else v[0]
            r[0], r[1], v[1] = mid, v[1], mid
        r[0] += 1
        return r[0] - 1


def _run(client, lanes: _Lanes, next_item: Callable, run_id: str, cache_dir: Path | None, keep_plans: bool,
         local: bool, on_row: Callable[[Row, object], None], first: dict) -> None:
    """Solve variants on the cluster as workers free up: each worker has at most one variant in
    flight, taken from its lane (:class:`_Lanes`) and prepared only then (``next_item(lane, busy)``:
    the next uncached variant, or ``None``); rows are handed to ``on_row`` as they finish."""
    from distributed import as_completed

    addresses = list(client.scheduler_info().get("workers", {})) or [None]
    lanes.add(len(addresses) - 1)
    folder = str(cache_dir) if (cache_dir is not None and local) else None
    running: dict = {}  # future -> (lane, item)

    def submit(lane: int, item: dict):
        where = {"workers": [addresses[lane]], "allow_other_workers": True} if addresses[lane] else {}
        fut = client.submit(_solve_variant, run_id, item, folder, keep_plans, pure=False, **where)
        running[fut] = (lane, item)
        return fut

    pending = as_completed([submit(0, first)])
    for lane in range(1, len(addresses)):
        item = next_item(lane, {ln for ln, _ in running.values()})
        if item is not None:
            pending.add(submit(lane, item))
    try:
        for fut in pending:
            lane, item = running.pop(fut)
            try:
                row, payload = fut.result()
            except Exception as exc:  # a worker died: the variant is a row with the error
                row, payload = Row(item["name"], VariantState.FAILED, error=_failure(exc)), None
            on_row(row, payload)
            for ln in [lane] + list(range(len(addresses))):  # the freed worker first, then any idle one
                busy = {x for x, _ in running.values()}
                if ln not in busy and (nxt := next_item(ln, busy)) is not None:
                    pending.add(submit(ln, nxt))
    finally:
        with contextlib.suppress(Exception):
            client.cancel(list(running))


# ---------------------------------------------------------------------------- the sweep

MAX_VARIANTS = 1000  # a larger grid runs only when asked for (yes=True, --yes)


def worker_count(requested: int | None) -> tuple[int, str | None]:
    """Embedded workers for ``--workers``: the cores by default; above the cores capped at them
    (with a note saying so: more solves than cores only contend for them); below 1 an error.

    >>> cores = os.cpu_count() or 1
    >>> worker_count(None) == (cores, None), worker_count(1)
    (True, (1, None))
    >>> n, note = worker_count(cores + 999); n == cores and "capped" in note
    True
    """
    cores = os.cpu_count() or 1
    if requested is None:
        return cores, None
    if isinstance(requested, bool) or not isinstance(requested, int) or requested < 1:
        raise SweepError(f"--workers: {requested!r} is not a positive number of workers "
                         f"(leave it out for one per core: {cores})")
    if requested > cores:
        return cores, (f"--workers {requested}: capped at the {cores} cores of this machine "
                       "(more solves than cores only slow each other down)")
    return requested, None


def sweep(scenario: str | Path | None = None,
          overrides: Mapping[str, Sequence] | Sequence[Mapping[str, object]] = (), *,
          base_overrides: Sequence[str] = (), workers: int | None = None, scheduler: str | None = None,
          out: str | Path | None = None, cache_dir: str | Path | None = "auto",
          progress: bool = True, time_limit_s: float | None = None, outputs: bool = False,
          yes: bool = False) -> pd.DataFrame:
    """Solve every variant of ``scenario`` (``None``: the built-in default) and return one row each.

    ``overrides``: a grid ``{"a.b": [v1, v2], ...}`` or a list of ``{"a.b": v}`` dicts;
    ``base_overrides``: ``a.b=value`` strings applied to every variant first. ``workers``:
    embedded Dask workers (default: the machine's cores, never more: :func:`worker_count`;
    HiGHS gets cores // workers threads);
    ``scheduler``: the address of an existing Dask scheduler instead (or a ``distributed.Client``,
    used and left open), each solve then on one HiGHS thread unless ``solver.threads`` is set.
    ``out``: write ``sweep.csv``, ``sweep.parquet``,
    ``sweep.png``, ``sweep.json`` and each variant's resolved ``scenario-<variant>.yaml`` there
    (replaced only if it is a sweep output; checked before any solving and held by this run
    until written); with ``outputs``
    each variant's plan files go to ``<out>.variants/<variant>/``. ``cache_dir``: see the
    module docstring (``"auto"``: the default, ``None``: no cache;
    cached rows are not used with ``outputs``, which needs the plans). A grid of more than
    :data:`MAX_VARIANTS` variants needs ``yes=True``.

    Variants are made and prepared one at a time as workers free up (:class:`Grid`,
    :class:`_Lanes`), so the first rows come within seconds whatever the grid's size.
    The table's ``attrs`` hold ``partial`` (interrupted), ``wall_s``, ``workers`` and ``written``
    (the folder the table went to).
    On Ctrl-C the workers are stopped, what is done is cached and, with ``out``, written as a
    partial sweep (unfinished variants in the ``state`` ``not_run``) - beside a complete earlier
    sweep in ``<out>.partial/``, never over it; then :class:`SweepInterrupted` (a
    ``KeyboardInterrupt`` saying where the rows are) is raised.
    """
    t_start = time.perf_counter()
    if outputs and out is None:
        raise SweepError("--outputs: needs an output folder (--out)")
    base_sc = load_scenario(scenario, list(base_overrides))
    from ..inputs.pricing import price_fields

    grid = Grid(overrides if overrides else [{}], price_fields(base_sc))
    if len(grid) > MAX_VARIANTS and not yes:
        raise SweepError(f"the grid has {len(grid):,} variants, more than {MAX_VARIANTS:,}: pass --yes "
                         "(yes=True) to run them all, or give fewer --vary values")
    out = check_out(out, "sweep") if out is not None else None
    var_root = out.with_name(out.name + ".variants") if (out is not None and outputs) else None
    if scheduler is None:
        workers, note = worker_count(workers)
        if note:
            warnings.warn(note, stacklevel=2)
    local = scheduler is None or _is_local(scheduler)  # workers share our file system: they cache too
    extra = [f"solver.threads={_threads(workers or 1) if scheduler is None else 1}"]
    if any(o.split("=", 1)[0].strip() == "solver.threads" for o in base_overrides):
        extra = []  # the user's explicit thread count wins
    if time_limit_s is not None:
        extra.append(f"solver.time_limit_s={json.dumps(time_limit_s)}")
    for values in grid.pairs():  # every value checked before any solving (not every combination)
        try:
            load_scenario(scenario, [*base_overrides, *_assignments(values), *extra])
        except ScenarioError as exc:
            raise ScenarioError(f"--vary {clip(', '.join(_assignments(values)))}: {exc}") from None
    cache = _default_cache_dir(out) if cache_dir == "auto" else (Path(cache_dir) if cache_dir is not None else None)
    items: dict[int, dict] = {}  # grid index -> the variant, once made
    rows: dict[int, tuple[Row, bool]] = {}  # grid index -> (row, from the cache)
    lanes, by_name = _Lanes(len(grid)), {}
    run_id = uuid.uuid4().hex

    bar = None

    def make(i: int) -> dict:
        values = grid.values(i)
        name = _variant_name(i, values)
        it = {"index": i, "name": name, "values": values, "scenario": None, "cache_key": None}
        try:
            it["scenario"] = load_scenario(scenario, [*base_overrides, *_assignments(values), *extra])
            it["cache_key"] = cache_key(it["scenario"])
        except ScenarioError as exc:  # a combination the schema refuses: its row says why
            it["error"] = str(exc)
        if var_root is not None and "error" not in it:
            try:
                check_out(var_root / name, "solve")
            except SitingError as exc:  # its plan folder cannot be written: its row says why
                it["error"] = str(exc)
        items[i], by_name[name] = it, it
        return it

    def next_item(lane: int, busy=frozenset()) -> dict | None:
        """The next variant of ``lane`` that needs a solve; cached and refused ones become rows."""
        while (p := lanes.next(lane, busy)) is not None:
            it = make(grid.position(p))
            if "error" in it:
                rows[it["index"]] = (Row(it["name"], VariantState.FAILED, error=it["error"]), False)
            elif not outputs and (hit := _cache_read(cache, it["cache_key"])) is not None:
                rows[it["index"]] = (dataclasses.replace(hit, variant=it["name"]), True)
            else:
                return it
            bar.update(1)
        return None

    def on_row(row: Row, payload):
        if not rows or all(cached for _, cached in rows.values()):  # the first row solved: the plot's imports
            threading.Thread(target=_warm_imports, daemon=True).start()  # in the background, for a Ctrl-C
        it = by_name[row.variant]
        rows[it["index"]] = (row, False)
        _cache_write(cache, it["cache_key"], row)
        if payload is not None and var_root is not None:
            from ..outputs.results import write_outputs

            write_outputs(payload[0], payload[1], var_root / it["name"], scenario=it["scenario"])
        bar.update(1)

    def finish(partial: bool) -> pd.DataFrame:
        table = _table(grid, items, rows)
        where = scheduler if scheduler is None or isinstance(scheduler, str) else str(scheduler.scheduler.address)
        table.attrs |= {"partial": partial, "wall_s": time.perf_counter() - t_start, "workers": workers,
                        "scheduler": where, "written": None}
        if out is not None:
            table.attrs["written"] = _write(out, table, grid, items)
        return table

    held = claim(out, "sweep") if out is not None else contextlib.nullcontext()
    with held:
        from tqdm import tqdm

        bar = tqdm(total=len(grid), desc="sweep", unit="variant", disable=not progress, leave=True,
                   dynamic_ncols=True)
        def solve_here(item: dict):
            try:
                row, payload = _solve_variant(run_id, item, None, outputs)
            except Exception as exc:  # recorded, and the sweep goes on
                row, payload = Row(item["name"], VariantState.FAILED, error=_failure(exc)), None
            on_row(row, payload)

        try:
            first, here = next_item(0), None
            if first is not None and scheduler is None:
                # the embedded workers take seconds to start: the first variant is solved here meanwhile
                here = threading.Thread(target=solve_here, args=(first,), daemon=True, name="sweep-first-variant")
                here.start()
                first = next_item(0)
            if first is not None:
                with _client(scheduler, workers) as client:
                    _run(client, lanes, next_item, run_id, cache, outputs, local, on_row, first)
            while here is not None and here.is_alive():
                here.join(0.1)  # Ctrl-C stays live
        except KeyboardInterrupt:
            bar.close()
            table = finish(partial=True)
            raise SweepInterrupted(_interrupted_note(out, table.attrs["written"], cache)) from None
        bar.close()
        return finish(partial=False)


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) stopped a sweep; ``str()`` says where its finished rows are."""


def _interrupted_note(out: Path | None, written: Path | None, cache: Path | None) -> str:
    kept = f"; finished variants are cached in {cache}" if cache is not None else ""
    if out is None:
        return "interrupted" + kept
    if written is None:
        return f"interrupted: {out} is as it was (a complete sweep, kept){kept}; run the same command again to finish"
    if written != out:
        return (f"interrupted: {out} holds the earlier complete sweep, kept as it was; the finished rows of this run "
                f"are in {written}/ (sweep.json says partial){kept}; run the same command again to finish")
    return (f"interrupted: {out} holds the finished rows (sweep.json says partial){kept}; "
            "run the same command again to finish")


def _table(grid: Grid, items: dict[int, dict], rows: dict[int, tuple[Row, bool]]) -> pd.DataFrame:
    records = []
    for i in range(len(grid)):
        it = items.get(i)
        values = it["values"] if it else grid.values(i)
        name = it["name"] if it else _variant_name(i, values)
        row, cached = rows.get(i, (Row(name, VariantState.NOT_RUN, error="not run (the sweep was interrupted)"), False))
        records.append({"variant": name} | {k: values.get(k) for k in grid.keys}
                       | {k: v for k, v in row.columns().items() if k != "variant"} | {"from_cache": cached})
    table = pd.DataFrame.from_records(records)
    for col in ("error", "sites", "termination", "solution_status"):
        table[col] = table[col].astype(object).where(table[col].notna(), None) if col in table else None
    for col in ("objective_musd", "best_bound_musd", "gap", "satellite_share", "unmet_mw", "n_sites"):
        if col not in table:  # no variant has a plan: the columns are there, empty
            table[col] = np.nan
    tail = ["inputs_s", "build_s", "solve_s", "resolved_in_place", "from_cache", "error"]
    return table[[c for c in table.columns if c not in tail] + [c for c in tail if c in table]]


def _write(out: Path, table: pd.DataFrame, grid: Grid, items: dict[int, dict]) -> Path | None:
    """Write the sweep to ``out``; a partial one beside a complete earlier sweep
    (``<out>.partial/``), never over it. The folder written (``None``: none could be)."""
    from ..outputs.outdir import CompleteKept, OutputError, read_manifest

    partial = bool(table.attrs.get("partial"))
    beside = out.with_name(out.name + ".partial")
    try:
        _write_to(out, table, grid, items, partial)
    except CompleteKept:
        try:
            _write_to(check_out(beside, "sweep"), table, grid, items, partial)
        except OutputError:
            return None
        return beside
    if not partial:  # a partial sweep left beside this one is finished now: remove it if it is ours alone
        manifest = read_manifest(beside) if beside.is_dir() and not beside.is_symlink() else None
        if manifest and manifest.get("kind") == "sweep" and manifest.get("partial"):
            with contextlib.suppress(OutputError, OSError):
                check_out(beside, "sweep")
                shutil.rmtree(beside)
    return out


def _write_to(out: Path, table: pd.DataFrame, grid: Grid, items: dict[int, dict], partial: bool) -> None:
    from ..outputs.results import write_csv

    meta = {"kind": "sweep", "partial": partial, "variants": len(grid)}
    with replace_dir(out, meta) as (tmp, _info):
        write_csv(table, tmp / "sweep.csv")
        _parquet(table, tmp / "sweep.parquet")
        state = table["state"]
        (tmp / "sweep.json").write_text(json.dumps(
            {"partial": partial, "variants": len(grid), "finished": int((state != VariantState.NOT_RUN).sum()),
             "failed": int(state.isin([VariantState.FAILED, VariantState.NO_PLAN]).sum()),
             "resolved_in_place": int(table.get("resolved_in_place", pd.Series(dtype=bool)).fillna(False).sum()),
             "from_cache": int(table.get("from_cache", pd.Series(dtype=bool)).fillna(False).sum()),
             "wall_s": table.attrs.get("wall_s"), "workers": table.attrs.get("workers"),
             "scheduler": table.attrs.get("scheduler")}, indent=2, default=json_default))
        for it in items.values():  # the variants made (all of them, unless interrupted)
            if it["scenario"] is not None:
                (tmp / f"scenario-{it['name']}.yaml").write_text(
                    f"# variant {it['name']}: the resolved scenario, every value, defaults included\n"
                    + yaml.safe_dump(it["scenario"].model_dump(mode="json"), sort_keys=False, allow_unicode=True))
        fig = plot_sweep(table, list(grid.keys))
        fig.savefig(tmp / "sweep.png", dpi=110)


def _parquet(table: pd.DataFrame, path: Path) -> None:
    """Parquet needs one type per column: mixed override values are written as text."""
    try:
        table.to_parquet(path, index=False)
    except (TypeError, ValueError, ImportError) as first:
        fixed = table.copy()
        for col in fixed.columns:
            if fixed[col].dtype == object:
                fixed[col] = fixed[col].map(lambda v: None if v is None else str(v))
        try:
            fixed.to_parquet(path, index=False)
        except Exception:
            raise first from None


def _shown(value) -> str:
    """A varied value as the plot labels it: ``null`` for None and NaN (a table cell of it).

    >>> [_shown(v) for v in (None, float("nan"), 50, 0.2, True, "x")]
    ['null', 'null', '50', '0.2', 'True', 'x']
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "null"
    return str(value)


def plot_sweep(table: pd.DataFrame, keys: list[str]):
    """PV cost and satellite share per variant: the first varied key on the x axis, one line per
    combination of the others (a matplotlib ``Figure``, no pyplot state)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 6.5), layout="constrained")
    ax_cost, ax_sat = fig.subplots(2, 1, sharex=True)
    ok = table[table["objective_musd"].notna()] if "objective_musd" in table else table.iloc[0:0]
    if keys:
        x_key, rest = keys[0], keys[1:]
        xs = list(dict.fromkeys(_shown(v) for v in table[x_key]))  # null (None or NaN) is a value too
        pos = {v: i for i, v in enumerate(xs)}
        lines = ok.groupby([ok[k].map(_shown) for k in rest], sort=False) if rest else [((), ok)]
        for label, part in lines:
            label = label if isinstance(label, tuple) else (label,)
            text = ", ".join(f"{k.split('.')[-1]}={v}" for k, v in zip(rest, label)) or "cost"
            px = np.array([pos[_shown(v)] for v in part[x_key]], dtype=int)
            loose = (part["termination"] != "optimal").to_numpy()  # not proven within the gap: hollow
            for ax, y in ((ax_cost, part["objective_musd"] / 1e3), (ax_sat, part["satellite_share"] * 100)):
                (line,) = ax.plot(px, y, marker="o", label=text)
                ax.plot(px[loose], y.to_numpy()[loose], "o", color=line.get_color(), markerfacecolor="white")
        step = max(1, math.ceil(len(xs) / 20))  # at most ~20 labels, however many values
        ax_sat.set_xticks(range(0, len(xs), step), xs[::step])
        ax_sat.set_xlabel(x_key)
    else:
        ax_cost.bar(range(len(ok)), ok["objective_musd"] / 1e3)
        ax_sat.bar(range(len(ok)), ok["satellite_share"] * 100)
    ax_cost.set_ylabel("PV cost (bn$)")
    ax_sat.set_ylabel("inference by satellite (%)")
    proven = int((ok["termination"] == "optimal").sum()) if len(ok) else 0
    ax_cost.set_title(f"sweep: {len(ok)} of {len(table)} variants solved, {proven} proven within the gap "
                      "(hollow: not proven)", fontsize=10)
    if keys[1:]:
        ax_cost.legend(fontsize=7, title=", ".join(k.split(".")[-1] for k in keys[1:]), title_fontsize=7)
    for ax in (ax_cost, ax_sat):
        ax.grid(alpha=0.3)
    return fig
