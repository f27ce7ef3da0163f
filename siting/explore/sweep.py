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
  the resolved scenario (``model_dump_json()``), the siting version and the layer files' size
  and modification time; a sweep started again redoes only what is not cached. The default
  cache folder is the hidden sibling ``<out parent>/.<out name>.sweep-cache/`` (not inside the
  output folder, which is replaced as a whole), or ``platformdirs.user_cache_dir("siting")/sweep``
  when there is no output folder; ``cache_dir=None`` turns caching off.

Distribution: one Dask task per structure group (split in contiguous chunks when there are
fewer groups than workers), so in-place re-solves stay inside one worker. By default an
embedded ``LocalCluster`` (processes, one thread each, HiGHS threads set so that workers x
threads <= cores); ``scheduler="tcp://host:port"`` uses an existing cluster as it is. Results
stream back as they finish; a variant that fails is a row with its error and the sweep goes on;
Ctrl-C closes the cluster and keeps what is done (the cache, and a partial table).
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import hashlib
import itertools
import json
import math
import operator
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..errors import ScenarioError, SitingError, clip
from ..inputs.pricing import geography_key, layer_stamp
from ..outputs.outdir import check_out, replace_dir, safe_name
from ..outputs.results import json_default
from ..scenario import Scenario, load_scenario

__all__ = ["sweep", "SweepError", "Row", "VariantState", "expand", "parse_vary", "plot_sweep", "cache_key"]

CONNECT_TIMEOUT_S = 20  # how long to try reaching a --scheduler
ROW_FORMAT = 2  # in the cache key: rows cached in an earlier layout are not reused (2: water, carbon from the plan)


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


def _neighbour_order(values: list[dict]) -> list[int]:
    """Positions of ``values`` in a greedy nearest-neighbour chain (numbers scaled by their range,
    other values 0/1 apart), so consecutive in-place re-solves start from a close plan.

    >>> _neighbour_order([{"p": 0}, {"p": 10}, {"p": 1}, {"p": 9}])
    [0, 2, 3, 1]
    """
    keys = sorted({k for v in values for k in v})

    def num(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

    span = {}
    for k in keys:
        nums = [v[k] for v in values if num(v.get(k))]
        span[k] = (max(nums) - min(nums)) or 1.0 if nums else 1.0

    def dist(a, b):
        return sum(abs(a.get(k) - b.get(k)) / span[k] if num(a.get(k)) and num(b.get(k))
                   else float(a.get(k) != b.get(k)) for k in keys)

    order, left = [0], list(range(1, len(values)))
    while left:
        nxt = min(left, key=lambda j: dist(values[order[-1]], values[j]))
        order.append(nxt)
        left.remove(nxt)
    return order


# ---------------------------------------------------------------------------- cache

def cache_key(sc: Scenario) -> str:
    """sha256 of the resolved scenario, the siting version, the row format and the layer files'
    size and mtime."""
    from importlib.metadata import version

    text = sc.model_dump_json() + version("siting") + f"row{ROW_FORMAT}" + json.dumps(layer_stamp(sc))
    return hashlib.sha256(text.encode()).hexdigest()


def _default_cache_dir(out: Path | None) -> Path | None:
    if out is not None:
        return out.parent / f".{out.name}.sweep-cache"
    try:
        import platformdirs
    except ImportError:
        return None
    return Path(platformdirs.user_cache_dir("siting")) / "sweep"


def _cache_read(folder: Path | None, key: str) -> Row | None:
    if folder is None:
        return None
    try:
        return Row.from_columns(json.loads((folder / f"{key}.json").read_text()))
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def _cache_write(folder: Path | None, key: str, row: Row) -> None:
    """Write atomically (temporary file, then rename); a cache that cannot be written is skipped."""
    if folder is None or row.error:
        return
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{key}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(row.columns(), default=json_default))
        os.replace(tmp, folder / f"{key}.json")


# ---------------------------------------------------------------------------- work in a worker

def _failure(exc: Exception) -> str:
    """A variant's error as its row says it (a siting error as it is, anything else with its type)."""
    return str(exc) if isinstance(exc, SitingError) else f"{type(exc).__name__}: {exc}"


def _prepare(scenarios: list[Scenario]) -> list[tuple]:
    """Inputs of variants that share one geography (:func:`siting.inputs.pricing.geography_key`): it is
    read once and each variant priced on it; ``[(structure key, inputs, inputs_s, error)]``."""
    from ..inputs.diagnose import diagnose
    from ..inputs.inputs import priced, read_geography
    from ..model import structure_key

    geo, failed, out = None, None, []
    for sc in scenarios:
        t0 = time.perf_counter()
        try:
            if failed is not None:
                raise failed
            if geo is None:
                try:
                    geo = read_geography(sc)
                except Exception as exc:  # every variant of this geography fails alike
                    failed = exc
                    raise
            inp = priced(geo, sc)
            errors = [f.message for f in diagnose(inp) if f.severity == "error"]
            if errors:
                out.append((None, None, time.perf_counter() - t0,
                            "the scenario cannot be met: " + "; ".join(errors[:5])))
                continue
            out.append((structure_key(inp), inp, time.perf_counter() - t0, None))
        except Exception as exc:  # a variant's failure is a row, never the end of the sweep
            out.append((None, None, time.perf_counter() - t0, _failure(exc)))
    return out


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


def _solve_chunk(items: list[dict], prepared: list[tuple], cache_dir: str | None, keep_plans: bool) -> list:
    """Solve one chunk of a structure group in order; ``[(row, (plan, inputs) or None)]``."""
    from ..outputs.audit import require_clean
    from ..outputs.results import make_plan
    from ..pipeline import options_from

    group, out = _Group(), []
    folder = Path(cache_dir) if cache_dir else None
    for item, (_key, inp, inputs_s, error) in zip(items, prepared):
        sc, name, payload = item["scenario"], item["name"], None
        row = Row(name, VariantState.FAILED, inputs_s=inputs_s, error=error)
        if error is None:
            try:
                report, dec, build_s, in_place = group.solve(inp, options_from(sc))
                times = {"inputs_s": inputs_s, "build_s": build_s, "solve_s": report.solve_s,
                         "resolved_in_place": in_place}
                if dec is None:
                    row = Row(name, VariantState.NO_PLAN, str(report.termination), error=_no_plan(report), **times)
                else:
                    plan = make_plan(inp, dec, report, scenario_name=sc.name, inputs_s=inputs_s,
                                     mip_gap=sc.solver.mip_gap)
                    require_clean(plan, inp)  # a plan that breaks a rule is a failed row, never "optimal"
                    row = Row.of_plan(name, plan, list(inp.cooling["cooling"]), **times)
                    payload = (plan, inp) if keep_plans else None
            except Exception as exc:  # recorded, and the sweep goes on
                row = dataclasses.replace(row, error=_failure(exc))
        _cache_write(folder, item["cache_key"], row)
        out.append((row, payload))
    return out


# ---------------------------------------------------------------------------- the cluster

def _threads(workers: int) -> int:
    """HiGHS threads per solve so that workers x threads fits the machine's cores."""
    return max(1, (os.cpu_count() or 1) // workers)


@contextlib.contextmanager
def _client(scheduler: str | None, workers: int):
    """A Dask client: to ``scheduler`` as it is, or to an embedded, quiet ``LocalCluster``."""
    import logging

    from distributed import Client, LocalCluster

    if hasattr(scheduler, "submit"):  # a distributed.Client of the caller's: used, never closed
        yield scheduler
        return
    cluster = None
    try:
        if scheduler:
            try:
                client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
            except (OSError, TimeoutError, ValueError) as exc:
                raise SweepError(f"--scheduler {clip(scheduler)}: cannot connect ({clip(exc, 200)})") from None
        else:
            with _workers_ignore_ctrl_c():
                cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       dashboard_address=":0", worker_dashboard_address=None,
                                       silence_logs=logging.ERROR)
            client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()


@contextlib.contextmanager
def _workers_ignore_ctrl_c():
    """Start worker processes with SIGINT ignored (inherited across exec): Ctrl-C in a terminal
    reaches the whole process group, and only this process should act on it, closing the
    cluster in order instead of every worker dying with a traceback. Restored right after."""
    import signal

    try:
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def _is_local(client) -> bool:
    from distributed import LocalCluster

    return isinstance(getattr(client, "cluster", None), LocalCluster)


def _chunks(groups: list[list[int]], workers: int) -> list[list[int]]:
    """Split the largest groups in contiguous halves until every worker has a task.

    >>> _chunks([[0, 1, 2, 3], [4]], 3)
    [[0, 1], [2, 3], [4]]
    """
    tasks = [list(g) for g in groups]
    while len(tasks) < workers:
        big = max(range(len(tasks)), key=lambda i: len(tasks[i]))
        g = tasks[big]
        if len(g) < 2:
            break
        tasks[big:big + 1] = [g[: len(g) // 2], g[len(g) // 2:]]
    return tasks


def _run(client, todo: list[dict], cache_dir: Path | None, keep_plans: bool, local: bool, bar,
         on_row: Callable[[dict, object], None]) -> None:
    """Prepare every variant (one geography read per :func:`~siting.inputs.pricing.geography_key`),
    group them by structure, solve the groups; rows as they finish."""
    from distributed import as_completed

    futures = []
    try:
        by_geography: dict[str, list[int]] = {}
        for i, it in enumerate(todo):
            by_geography.setdefault(geography_key(it["scenario"]), []).append(i)
        prep = [None] * len(todo)
        for idx in by_geography.values():  # one geography read per group, each variant priced on it
            shared = client.submit(_prepare, [todo[i]["scenario"] for i in idx], pure=False)
            futures.append(shared)
            for j, i in enumerate(idx):
                prep[i] = client.submit(operator.getitem, shared, j, pure=False)
        futures += prep
        keys = client.gather([client.submit(operator.itemgetter(0), f) for f in prep])
        groups: dict = {}
        for i, key in enumerate(keys):
            groups.setdefault(key if key is not None else f"error-{i}", []).append(i)
        ordered = [[g[j] for j in _neighbour_order([todo[i]["values"] for i in g])] for g in groups.values()]
        worker_count = max(1, len(client.scheduler_info().get("workers", {})))
        tasks = _chunks(ordered, worker_count)
        folder = str(cache_dir) if (cache_dir is not None and local) else None
        runs = [client.submit(_solve_chunk, [todo[i] for i in t], [prep[i] for i in t], folder, keep_plans,
                              pure=False) for t in tasks]
        futures += runs
        for fut in as_completed(runs):
            try:
                results = fut.result()
            except Exception as exc:  # a worker died: its variants are rows with the error
                idx = tasks[runs.index(fut)]
                results = [(Row(todo[i]["name"], VariantState.FAILED, error=_failure(exc)), None) for i in idx]
            for row, payload in results:
                on_row(row, payload)
                bar.update(1)
    finally:
        with contextlib.suppress(Exception):
            client.cancel(futures)


# ---------------------------------------------------------------------------- the sweep

def sweep(scenario: str | Path | None = None,
          overrides: Mapping[str, Sequence] | Sequence[Mapping[str, object]] = (), *,
          base_overrides: Sequence[str] = (), workers: int | None = None, scheduler: str | None = None,
          out: str | Path | None = None, cache_dir: str | Path | None = "auto",
          progress: bool = True, time_limit_s: float | None = None, outputs: bool = False) -> pd.DataFrame:
    """Solve every variant of ``scenario`` (``None``: the built-in default) and return one row each.

    ``overrides``: a grid ``{"a.b": [v1, v2], ...}`` or a list of ``{"a.b": v}`` dicts;
    ``base_overrides``: ``a.b=value`` strings applied to every variant first. ``workers``:
    embedded Dask workers (default: the machine's cores; HiGHS gets cores // workers threads);
    ``scheduler``: the address of an existing Dask scheduler instead (or a ``distributed.Client``,
    used and left open), each solve then on one HiGHS thread unless ``solver.threads`` is set.
    ``out``: write ``sweep.csv``, ``sweep.parquet``,
    ``sweep.png``, ``sweep.json`` and each variant's resolved ``scenario-<variant>.yaml`` there
    (replaced only if it is a siting output; checked before any solving); with ``outputs``
    each variant's plan files go to ``<out>.variants/<variant>/``. ``cache_dir``: see the
    module docstring (``"auto"``: the default, ``None``: no cache;
    cached rows are not used with ``outputs``, which needs the plans).

    The table's ``attrs`` hold ``partial`` (interrupted), ``wall_s`` and ``workers``.
    On Ctrl-C the cluster is closed, what is done is cached and, with ``out``, written as a
    partial sweep (unfinished variants in the ``state`` ``not_run``); then ``KeyboardInterrupt`` is re-raised.
    """
    t_start = time.perf_counter()
    variants = expand(overrides) if overrides else [{}]
    keys = list(dict.fromkeys(k for v in variants for k in v))
    out = check_out(out) if out is not None else None
    var_root = out.with_name(out.name + ".variants") if (out is not None and outputs) else None
    if outputs and out is None:
        raise SweepError("--outputs: needs an output folder (--out)")
    workers = workers or (os.cpu_count() or 1)
    if workers < 1:
        raise SweepError(f"--workers: {workers} is not a positive number of workers")
    local = scheduler is None or _is_local(scheduler)  # workers share our file system: they cache too
    extra = [f"solver.threads={_threads(workers) if scheduler is None else 1}"]
    if any(o.split("=", 1)[0].strip() == "solver.threads" for o in base_overrides):
        extra = []  # the user's explicit thread count wins
    if time_limit_s is not None:
        extra.append(f"solver.time_limit_s={json.dumps(time_limit_s)}")
    items = []
    for i, values in enumerate(variants):
        name = _variant_name(i, values)
        try:
            sc = load_scenario(scenario, [*base_overrides, *_assignments(values), *extra])
        except ScenarioError as exc:
            raise ScenarioError(f"variant {name}: {exc}") from None
        items.append({"name": name, "values": values, "scenario": sc, "cache_key": cache_key(sc)})
    if var_root is not None:
        for it in items:
            check_out(var_root / it["name"])
    cache = _default_cache_dir(out) if cache_dir == "auto" else (Path(cache_dir) if cache_dir is not None else None)
    rows: dict[str, tuple[Row, bool]] = {}  # variant -> (row, from the cache)
    for it in items:
        hit = _cache_read(cache, it["cache_key"])
        if hit is not None and not outputs:
            rows[it["name"]] = (hit, True)
    todo = [it for it in items if it["name"] not in rows]
    by_name = {it["name"]: it for it in items}

    def on_row(row: Row, payload):
        it = by_name[row.variant]
        rows[row.variant] = (row, False)
        _cache_write(cache, it["cache_key"], row)
        if payload is not None and var_root is not None:
            from ..outputs.results import write_outputs

            write_outputs(payload[0], payload[1], var_root / it["name"], scenario=it["scenario"])

    from tqdm import tqdm

    bar = tqdm(total=len(items), initial=len(rows), desc="sweep", unit="variant", disable=not progress,
               leave=True, dynamic_ncols=True)

    def finish(partial: bool) -> pd.DataFrame:
        table = _table(items, keys, rows)
        where = scheduler if scheduler is None or isinstance(scheduler, str) else str(scheduler.scheduler.address)
        table.attrs |= {"partial": partial, "wall_s": time.perf_counter() - t_start, "workers": workers,
                        "scheduler": where}
        if out is not None:
            _write(out, table, items)
        return table

    try:
        if todo:
            with _client(scheduler, workers) as client:
                _run(client, todo, cache, outputs, local, bar, on_row)
    except KeyboardInterrupt:
        bar.close()
        finish(partial=True)
        raise
    bar.close()
    return finish(partial=False)


def _table(items: list[dict], keys: list[str], rows: dict[str, tuple[Row, bool]]) -> pd.DataFrame:
    records = []
    for it in items:
        row, cached = rows.get(it["name"], (Row(it["name"], VariantState.NOT_RUN,
                                                 error="not run (the sweep was interrupted)"), False))
        records.append({"variant": it["name"]} | {k: it["values"].get(k) for k in keys}
                       | {k: v for k, v in row.columns().items() if k != "variant"} | {"from_cache": cached})
    table = pd.DataFrame.from_records(records)
    for col in ("error", "sites", "termination", "solution_status"):
        table[col] = table[col].astype(object).where(table[col].notna(), None) if col in table else None
    tail = ["inputs_s", "build_s", "solve_s", "resolved_in_place", "from_cache", "error"]
    return table[[c for c in table.columns if c not in tail] + [c for c in tail if c in table]]


def _write(out: Path, table: pd.DataFrame, items: list[dict]) -> None:
    from ..outputs.results import write_csv

    partial = bool(table.attrs.get("partial"))
    meta = {"kind": "sweep", "partial": partial, "variants": len(items)}
    with replace_dir(out, meta) as (tmp, _info):
        write_csv(table, tmp / "sweep.csv")
        _parquet(table, tmp / "sweep.parquet")
        state = table["state"]
        (tmp / "sweep.json").write_text(json.dumps(
            {"partial": partial, "variants": len(items), "finished": int((state != VariantState.NOT_RUN).sum()),
             "failed": int(state.isin([VariantState.FAILED, VariantState.NO_PLAN]).sum()),
             "resolved_in_place": int(table.get("resolved_in_place", pd.Series(dtype=bool)).fillna(False).sum()),
             "from_cache": int(table.get("from_cache", pd.Series(dtype=bool)).fillna(False).sum()),
             "wall_s": table.attrs.get("wall_s"), "workers": table.attrs.get("workers"),
             "scheduler": table.attrs.get("scheduler")}, indent=2, default=json_default))
        for it in items:
            (tmp / f"scenario-{it['name']}.yaml").write_text(
                f"# variant {it['name']}: the resolved scenario, every value, defaults included\n"
                + yaml.safe_dump(it["scenario"].model_dump(mode="json"), sort_keys=False, allow_unicode=True))
        fig = plot_sweep(table, [k for k in table.columns if k in items[0]["values"]])
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


def plot_sweep(table: pd.DataFrame, keys: list[str]):
    """PV cost and satellite share per variant: the first varied key on the x axis, one line per
    combination of the others (a matplotlib ``Figure``, no pyplot state)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 6.5), layout="constrained")
    ax_cost, ax_sat = fig.subplots(2, 1, sharex=True)
    ok = table[table["objective_musd"].notna()] if "objective_musd" in table else table.iloc[0:0]
    if keys:
        x_key, rest = keys[0], keys[1:]
        xs = list(dict.fromkeys(table[x_key].tolist()))
        pos = {v: i for i, v in enumerate(xs)}
        lines = ok.groupby(rest, dropna=False, sort=False) if rest else [((), ok)]
        for label, part in lines:
            label = label if isinstance(label, tuple) else (label,)
            text = ", ".join(f"{k.split('.')[-1]}={v}" for k, v in zip(rest, label)) or "cost"
            px = np.array([pos[v] for v in part[x_key]])
            loose = (part["termination"] != "optimal").to_numpy()  # not proven within the gap: hollow
            for ax, y in ((ax_cost, part["objective_musd"] / 1e3), (ax_sat, part["satellite_share"] * 100)):
                (line,) = ax.plot(px, y, marker="o", label=text)
                ax.plot(px[loose], y.to_numpy()[loose], "o", color=line.get_color(), markerfacecolor="white")
        ax_sat.set_xticks(range(len(xs)), [str(v) for v in xs])
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
