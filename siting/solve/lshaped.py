"""Multi-cut L-shaped decomposition of a :class:`~.twostage.TwoStage` problem over its scenarios,
the scenario subproblems solved on Dask workers. Knows nothing of siting.

Master (HiGHS, here)::

    min c x + sum_s p_s theta_s   s.t. A x in [row_lower, row_upper], theta_s >= L_s, cuts

risk-averse (``ts.cvar_weight`` lambda > 0), plus lambda (eta + 1/(1 - alpha) sum_s p_s u_s) with
u_s >= c_s x + offset + theta_s - eta, u_s >= 0: the objective rises with every theta_s, so the
cuts (lower bounds of Q_s) keep the master a relaxation and its bound valid; the upper bound is the
risk-averse objective at the plan evaluated (:meth:`~.twostage.TwoStage.objective_at`).

Each iteration the master's plan x^k goes to every scenario (one Dask task per scenario, all in
parallel): the task returns Q_s(x^k) (the upper bound: c x^k + sum_s p_s Q_s(x^k)) and cuts:

- LP cut (Benders, Van Slyke & Wets 1969): theta_s >= V_s(x^k) + r_s (x - x^k), from the LP
  relaxation of the scenario with x fixed (r_s: reduced costs of x). Exact for continuous recourse.
- strengthened cut (integer recourse): the same slope r_s, the intercept raised to the Lagrangian
  bound min { q_s y - r_s z : (z, y) feasible for scenario s, z integer } (Zou, Ahmed and Sun 2019).
- integer L-shaped optimality cut (Laporte and Louveaux, "The integer L-shaped method for
  stochastic integer programs with complete recourse", Oper. Res. Letters 13 (1993)), when x is
  binary: theta_s >= (Q_s(x^k) - L_s) (sum_{i in S_k} x_i - sum_{i not in S_k} x_i - |S_k| + 1) + L_s,
  tight at x^k: this is what makes the method exact with integer recourse.
- where x^k leaves a scenario infeasible (binary x): the no-good cut that removes x^k.

Lower bound: the master LP's, then the master MIP's own bound (valid: every cut is valid); upper
bound: the best plan evaluated. Given ``restrict`` (e.g. the site openings), the master MIP first
runs with those the LP phase leaves at zero closed (its bound not the problem's; measured on the
default with 20 scenarios: the full master MIP, 1,748 integers, did not end in 600 s, the
restricted one proved the plan within 0.31 % after 42 iterations). It stops when the gap is
within ``opts.mip_gap``, at ``opts.time_limit_s``, or on Ctrl-C (cancelling the tasks; the best
plan and bound so far are returned). A worker lost mid-solve has its tasks re-run by Dask
elsewhere (the tasks are pure; the scenario data is replicated on every worker), so a lost
worker costs time, never a wrong answer. Integer recourse
needs a binary first stage (else the method would not be exact) and is refused otherwise.

Chosen by measurement (bench/sslp.py, 2 cores shared, load 3-11): the LP phase + strengthened cuts
prove sslp_15_45_5 in 51 iterations where LP + integer cuts take 59 and are slower (78 against 93 s
at the same load); on sslp_5_25_50 (5 first-stage binaries, 50 scenarios) LP + integer cuts are the
faster (25 against 35 s), as the Lagrangian MIPs cost more than they save there. Keeping each
scenario's LP warm on its worker (``warm``) changes which of the degenerate LP duals a cut takes:
51 iterations (44 s) against 417 (139 s) cold on sslp_15_45_5.

The default cluster is an embedded ``dask.distributed.LocalCluster`` (processes, ``workers`` of
them, one thread each); ``scheduler="tcp://host:port"`` runs the same solve on an existing one.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack

import numpy as np
import scipy.sparse as sp

from .highs import Clock, make_highs, read_outcome, relative_gap, run_within, set_option
from .report import SolveOptions, StandardForm, Termination
from .twostage import (
    ScenarioValue,
    TwoStage,
    TwoStageError,
    TwoStageResult,
    lagrangian_bound,
    scenario_form,
    scenario_value,
    with_cvar,
)

__all__ = ["CUTS", "lshaped", "value_task", "lagrangian_task"]

CUTS = ("strengthened", "lp")
_SUB_GAP = 1e-9  # scenario MIPs are solved to this relative gap (their bound makes the cuts)
_LP_CACHE: dict = {}  # on a worker: (solve token, scenario) -> the scenario's LP in HiGHS, kept warm


def value_task(payload: tuple, x: np.ndarray, opts: SolveOptions, mode: str, time_left: float, gap: float,
               token: str | None = None) -> ScenarioValue:
    """One scenario at one plan, on a worker (:func:`~.twostage.scenario_value`); with ``token``,
    the scenario's LP stays in this worker's memory and is re-solved from its last basis. The rows
    A z are left free: at a given plan they only re-test it, and a master's plan meets them only to
    its tolerance (its integers rounded, an equality may be off by 1e-6, and the scenario would be
    called infeasible: it happened on the default)."""
    sf, n1, s, m1 = payload
    lo, up = sf.row_lower.copy(), sf.row_upper.copy()
    lo[:m1], up[:m1] = -np.inf, np.inf  # the first m1 rows are A z (scenario_form)
    sf = dataclasses.replace(sf, row_lower=lo, row_upper=up)
    h = None
    if token is not None:
        h = _LP_CACHE.get((token, s))
        if h is None:
            for key in [k for k in _LP_CACHE if k[0] != token]:  # an earlier solve's: let it go
                del _LP_CACHE[key]
            h = make_highs(sf, dataclasses.replace(opts, log=False, threads=1), relax=True, time_limit=math.inf)
            set_option(h, "solver", "simplex")
            _LP_CACHE[(token, s)] = h
    return scenario_value(sf, n1, x, opts, mode=mode, gap=gap, clock=Clock(max(time_left, 1e-3)), lp_highs=h)


def _hold(payload: tuple) -> tuple:
    return payload


def lagrangian_task(payload: tuple, slope: np.ndarray, opts: SolveOptions, time_left: float, gap: float) -> float:
    sf, n1, _s, _m1 = payload
    return lagrangian_bound(sf, n1, slope, opts, gap=gap, clock=Clock(max(time_left, 1e-3)))


def _open_client(stack: ExitStack, workers: int, scheduler: str | None):
    from dask.distributed import Client, LocalCluster

    if scheduler is not None:
        return stack.enter_context(Client(scheduler, timeout="30s"))
    # workers' logs at CRITICAL only: a task cut by the time limit raises TimeoutError, which the
    # client handles (the best plan so far); Dask would also print it as "Compute Failed" + traceback
    cluster = stack.enter_context(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                               dashboard_address=":0", silence_logs=logging.CRITICAL))
    return stack.enter_context(Client(cluster))


class _Master:
    """The master problem: x, then one theta per scenario; cuts as rows theta_s - g x >= rhs."""

    def __init__(self, ts: TwoStage, lower: np.ndarray):
        self.ts, self.S = ts, len(ts.scenarios)
        self.lower = lower
        self.rows: list[tuple[int, np.ndarray, float]] = []  # (scenario or -1 for a no-good, g, rhs)
        self.version = 0  # counts prunings: a master kept in HiGHS is rebuilt after one

    def prune(self, keep: list[int]) -> None:
        """Keep the scenario cuts ``keep`` (first, in that order) and every no-good cut."""
        self.rows = [self.rows[i] for i in keep] + [r for r in self.rows if r[0] < 0]
        self.version += 1

    def add_cut(self, s: int, g: np.ndarray, rhs: float) -> None:
        self.rows.append((s, np.asarray(g, float), float(rhs)))

    def add_no_good(self, x: np.ndarray) -> None:
        a = np.where(x > 0.5, 1.0, -1.0)  # a x <= |S| - 1 cuts off x alone
        self.rows.append((-1, a, float((x > 0.5).sum() - 1)))

    def form(self) -> StandardForm:
        ts, S, n1 = self.ts, self.S, self.ts.n_first
        blocks = [sp.hstack([ts.A, sp.csr_array((ts.A.shape[0], S))])]
        lo, up = [ts.row_lower], [ts.row_upper]
        if self.rows:
            G, rlo, rup = _cut_rows(self.rows, n1, S)
            blocks.append(G)
            lo.append(rlo)
            up.append(rup)
        sf = StandardForm(np.concatenate([ts.c, ts.probabilities]), ts.offset, sp.csc_array(sp.vstack(blocks)),
                          np.concatenate(lo), np.concatenate(up), np.concatenate([ts.col_lower, self.lower]),
                          np.concatenate([ts.col_upper, np.full(S, np.inf)]),
                          np.concatenate([ts.integer, np.zeros(S, bool)]))
        # risk-averse: eta and u_s >= theta_s + c_s x + offset - eta (cost_s with theta_s for Q_s)
        return with_cvar(ts, sf, [sp.hstack([-sp.csr_array(cs[None, :]), -sp.csr_array(([1.0], ([0], [s])),
                                                                                          shape=(1, S))])
                                   for s, cs in enumerate(ts.scenario_first_costs())])

    def binding(self, x: np.ndarray, theta: np.ndarray, tol: float = 1e-7) -> list[int]:
        """Indices of the scenario cuts that hold with equality at (x, theta)."""
        return [i for i, (s, g, rhs) in enumerate(self.rows)
                if s >= 0 and theta[s] - g @ x - rhs <= tol * max(1.0, abs(rhs))]


def _cut_rows(rows: list, n1: int, S: int) -> tuple[sp.csr_array, np.ndarray, np.ndarray]:
    """Master rows of cuts ``(s, g, rhs)`` over (x, theta): a scenario cut theta_s - g x >= rhs,
    a no-good (s = -1) g x <= rhs; as a sparse matrix and its row bounds."""
    data, idx, ptr, lo, up = [], [], [0], [], []
    for s, g, rhs in rows:
        nz = np.flatnonzero(g)
        scen = s >= 0
        idx += nz.tolist() + ([n1 + s] if scen else [])
        data += ((-g[nz]) if scen else g[nz]).tolist() + ([1.0] if scen else [])
        ptr.append(len(idx))
        lo.append(rhs if scen else -np.inf)
        up.append(np.inf if scen else rhs)
    return (sp.csr_array((np.array(data, float), np.array(idx, np.int64), np.array(ptr, np.int64)),
                         shape=(len(rows), n1 + S)), np.array(lo, float), np.array(up, float))


def _add_cuts(h, rows: list, n1: int, S: int) -> None:
    """Cuts added to a master held in HiGHS (rows of :func:`_cut_rows`)."""
    if not rows:
        return
    G, lo, up = _cut_rows(rows, n1, S)
    h.addRows(G.shape[0], lo, up, G.nnz, G.indptr[:-1].astype(np.int32), G.indices.astype(np.int32), G.data)


def _integer_cut(x: np.ndarray, q: float, low: float) -> tuple[np.ndarray, float]:
    """Laporte-Louveaux: theta >= (q - L)(a x - |S| + 1) + L, a = +1 on S = {x = 1}, -1 off it."""
    a = np.where(x > 0.5, 1.0, -1.0)
    d = q - low
    return d * a, low + d * (1.0 - (x > 0.5).sum())


def lshaped(ts: TwoStage, opts: SolveOptions, *, workers: int = 2, scheduler: str | None = None,
            cuts: str = "strengthened", progress: Callable[[str], None] | None = None,
            warm: bool = True, lp_phase: bool = True, max_iterations: int = 10_000,
            start: np.ndarray | None = None, stabilize: bool = True,
            restrict: np.ndarray | None = None) -> TwoStageResult:
    """Solve ``ts`` by the multi-cut L-shaped method, scenarios on Dask (module docstring).

    ``opts``: time limit of the whole solve, relative gap to stop at (``mip_gap``). ``workers``:
    size of the embedded cluster (ignored with ``scheduler``, whose workers are counted).
    ``warm``: keep each scenario's LP on its worker between iterations. ``lp_phase``: first cut
    the master's LP relaxation (Kelley), then strengthen the cuts binding there. ``start``: a first
    stage (e.g. the average scenario's plan) evaluated first: the incumbent from the first
    iteration, its cuts in the master, and the core point of the stabilisation. ``stabilize``:
    the LP phase separates at a point between the master's solution and a core point (in-out,
    Ben-Ameur and Neto 2007, as in Fischetti, Ljubic and Sinnl 2017 for facility location), which
    moves the bound in fewer iterations than Kelley's oscillating points. ``restrict``: a mask of
    first-stage integer columns (e.g. the site openings); after the LP phase the master MIP first
    runs with those the LP phase's solution and the incumbent leave at zero closed, until it can
    improve on the incumbent by no more than the gap (a small MIP, as the extensive form's
    restricted MIP), then with every column open. The bound is the full master's (the LP phase's
    first), never the restricted one's."""
    if cuts not in CUTS:
        raise TwoStageError(f"cuts: {cuts!r} is not one of {', '.join(CUTS)}")
    if ts.integer_recourse and not ts.binary_first_stage:
        raise TwoStageError("integer recourse needs a binary first stage for an exact L-shaped method; "
                            "solve the extensive form instead")
    say = progress or (lambda _m: None)
    clock, t0 = Clock(opts.time_limit_s), time.perf_counter()
    S, n1 = len(ts.scenarios), ts.n_first
    binary, mixed = ts.binary_first_stage, bool(ts.integer.any())
    sub_gap = min(_SUB_GAP, opts.mip_gap)
    st = {"x": None, "ub": math.inf, "q": None, "lb": -math.inf, "k": 0, "master_s": 0.0, "scenarios_s": 0.0}
    history, term, n_workers = [], Termination.TIME_LIMIT, 0
    # the master MIP to a tenth of the gap sought: its plan's cuts are exact there, so a plan it
    # returns again has its cost within that tenth of the master's bound, and the method still ends
    master_opts = dataclasses.replace(opts, log=False, mip_gap=opts.mip_gap / 10, threads=1)
    token = uuid.uuid4().hex if warm else None
    exact = "strengthened" if cuts == "strengthened" and ts.integer_recourse else "exact"
    with ExitStack() as stack:
        client = _open_client(stack, workers, scheduler)
        n_workers = len(client.scheduler_info().get("workers", {}))
        say(f"L-shaped: {S} scenarios on {n_workers} Dask worker(s) "
            f"({f'at {scheduler}' if scheduler else f'embedded, started in {clock.since():.1f} s'}), {cuts} cuts")
        # each scenario's data is a task's result, not scattered data: the scheduler can compute it again
        # wherever a worker holding it is lost (scattered data would be gone with the worker)
        payloads = [client.submit(_hold, (scenario_form(ts, s), n1, s, ts.A.shape[0]), pure=False) for s in range(S)]
        pending: list = []

        def gather(futs: list) -> list:
            pending[:] = futs
            t = time.perf_counter()
            out = client.gather(futs)
            st["scenarios_s"] += time.perf_counter() - t
            pending.clear()
            return out

        def at(x: np.ndarray, mode: str) -> list:
            return gather([client.submit(value_task, pl, x, opts, mode, clock.left(), sub_gap, token, pure=False)
                           for pl in payloads])

        def log(phase: str, plan: float | None = None):
            gap = relative_gap(st["ub"], st["lb"]) if math.isfinite(st["ub"]) else None
            history.append((st["k"], st["lb"], st["ub"], math.inf if gap is None else gap, clock.since()))
            say(f"  {phase} {st['k']:4d}: bound {st['lb']:,.6g}, incumbent {st['ub']:,.6g}, gap "
                + (f"{gap:.2e}" if gap is not None else "-")
                + (f", this plan {plan:,.6g}" if plan is not None else "")
                + f", {len(master.rows)} cuts, {clock.since():.1f} s")
            return gap

        def take(x, vals) -> float | None:
            """The plan's objective (None where a scenario is infeasible), kept if the best so far."""
            if not all(v.feasible and v.value is not None for v in vals):
                return None
            q = np.array([v.value for v in vals])
            ub = ts.objective_at(x, q)
            if ub < st["ub"]:
                st["ub"], st["x"], st["q"] = ub, x, q
            return ub

        kept = {"h": None, "rows": 0, "version": 0}  # the master LP, kept in HiGHS: each round adds its cuts

        def master_lp():
            """The master LP built afresh (cold) and kept."""
            kept["h"] = make_highs(master.form(), master_opts, relax=True, time_limit=clock.left())
            kept["rows"], kept["version"] = len(master.rows), master.version
            return kept["h"]

        def solve_master(relax: bool, closed: np.ndarray | None = None):
            t = time.perf_counter()
            if not relax:
                sf = master.form()
                up = sf.col_upper.copy()
                if closed is not None:  # the restricted master: first-stage columns ``closed`` at 0
                    up[:n1][closed] = 0.0
                h = make_highs(sf, master_opts, relax=False, col_upper=up, time_limit=clock.left())
                if st["x"] is not None and ts.cvar_weight == 0:  # from the incumbent, theta_s = Q_s(x)
                    x0 = np.concatenate([st["x"], st["q"]])
                    h.setSolution(x0.size, np.arange(x0.size, dtype=np.int32), x0)
            elif kept["h"] is None or kept["version"] != master.version:
                h = master_lp()
            else:  # warm: the new cuts added as rows, re-solved from the last basis
                h = kept["h"]
                _add_cuts(h, master.rows[kept["rows"]:], n1, S)
                kept["rows"] = len(master.rows)
                # a warm re-solve has ended "optimal" without a solution (in 6 of 8 runs on the
                # default, at 120-180 iterations): then the master LP is built again and solved cold
                state = run_within(h, clock, None)
                o = None if state == "abandoned" else read_outcome(h, False)
                if o is None or o.x is not None or o.termination == Termination.TIME_LIMIT or clock.left() <= 0:
                    st["master_s"] += time.perf_counter() - t
                    return o
                say(f"  master LP: the warm re-solve ended {o.termination} without a solution; built again, cold")
                h = master_lp()
            state = run_within(h, clock, None, is_mip=mixed and not relax)
            st["master_s"] += time.perf_counter() - t
            return None if state == "abandoned" else read_outcome(h, mixed and not relax)

        try:
            # theta_s >= L_s: the scenario's least cost over every first stage (z free), once
            lower = np.array(gather([client.submit(lagrangian_task, pl, np.zeros(n1), opts, clock.left(), sub_gap,
                                                   pure=False) for pl in payloads]))
            master = _Master(ts, lower)
            core = None
            if start is not None:
                x = np.asarray(start, float).copy()
                x[ts.integer] = np.round(x[ts.integer])
                vals = at(x, exact)
                take(x, vals)
                for s_, v in enumerate(vals):
                    if v.feasible and v.slope is not None:
                        master.add_cut(s_, v.slope, v.lagrangian)
                core = x
                say("  start: the given first stage costs "
                    + (f"{st['ub']:,.6g}" if math.isfinite(st["ub"]) else "- (a scenario is infeasible there)")
                    + f", {clock.since():.1f} s")
            x_lp = None
            if lp_phase and mixed:
                x_lp = _lp_phase(ts, master, solve_master, at, gather, client, payloads, opts, clock, sub_gap, st,
                                 log, say, strengthen=ts.integer_recourse and cuts == "strengthened", core=core,
                                 stabilize=stabilize)
            # the restricted master first: the ``restrict`` columns the LP phase leaves at zero (and
            # the incumbent does not use) closed, so its MIP is small; its bound is not the problem's
            closed = None
            if restrict is not None and x_lp is not None:
                restrict = np.asarray(restrict, bool)
                closed = restrict & (x_lp <= 1e-6)
                if st["x"] is not None:
                    closed &= st["x"] <= 1e-6
                say(f"  restricted master: {int(restrict.sum() - closed.sum())} of {int(restrict.sum())} "
                    "restricted columns open (the LP phase's or the incumbent's)")
            while st["k"] < max_iterations:
                st["k"] += 1
                if clock.left() <= 0:
                    break
                o = solve_master(False, closed)
                if closed is not None and (
                        o is None or o.x is None or o.termination == Termination.INFEASIBLE
                        or (o.bound is not None and math.isfinite(st["ub"])
                            and relative_gap(st["ub"], o.bound) <= opts.mip_gap)):
                    # the restricted master can give no plan better by more than the gap: the full one
                    closed = None
                    say(f"  restricted master done at {clock.since():.1f} s; the full master from here")
                    st["k"] -= 1
                    continue
                if o is None or o.x is None:
                    if o is not None and o.termination == Termination.INFEASIBLE:
                        term = Termination.INFEASIBLE
                    break
                if closed is None:  # only the full master's bound bounds the problem
                    st["lb"] = max(st["lb"], o.bound if o.bound is not None else -math.inf)
                x = o.x[:n1].copy()
                x[ts.integer] = np.round(x[ts.integer])
                vals = at(x, exact)
                plan = take(x, vals)
                for s, v in enumerate(vals):
                    if not v.feasible:
                        if not binary:
                            raise TwoStageError(f"scenario {s} ({ts.scenarios[s].name!r}) is infeasible at a "
                                                "first-stage plan: the L-shaped method here needs relatively "
                                                "complete recourse unless the first stage is binary")
                        master.add_no_good(x)
                        break
                    master.add_cut(s, v.slope, v.lagrangian)
                    if ts.integer_recourse:
                        master.add_cut(s, *_integer_cut(x, v.bound, lower[s]))
                gap = log("iteration" if closed is None else "restricted", plan)
                if gap is not None and (gap <= opts.mip_gap or st["ub"] - st["lb"] <= 1e-9 * max(1.0, abs(st["ub"]))):
                    term = Termination.OPTIMAL
                    break
            else:
                term = Termination.ITERATION_LIMIT
        except KeyboardInterrupt:
            client.cancel(pending)
            term = Termination.INTERRUPTED
            say("L-shaped: interrupted; returning the best plan and bound so far")
        except TimeoutError:
            client.cancel(pending)
            term = Termination.TIME_LIMIT
    ub, lb = st["ub"], st["lb"]
    gap = relative_gap(ub, lb) if math.isfinite(ub) and math.isfinite(lb) else None
    return TwoStageResult(term, None if st["x"] is None else ub, lb if math.isfinite(lb) else None, gap, st["x"],
                          st["q"], time.perf_counter() - t0, f"L-shaped, multi-cut, {cuts} cuts, Dask",
                          st["k"], n_workers, tuple(history), st["master_s"], st["scenarios_s"])


LP_PHASE_GAP = 1e-6  # the LP phase stops when the master LP is this close to its relaxation's value
LP_PHASE_STALL = 5  # ... or when its bound has not moved for this many iterations
IN_OUT = 0.5  # the separation point's weight on the core point (in-out stabilisation)


def _lp_phase(ts, master, solve_master, at, gather, client, payloads, opts, clock, sub_gap, st, log, say,
              strengthen: bool, core: np.ndarray | None = None, stabilize: bool = False) -> np.ndarray | None:
    """Kelley's cutting planes on the master's LP relaxation (LP cuts at fractional plans), then the
    cuts binding at its optimum strengthened (one Lagrangian MIP each, all in parallel).

    With ``stabilize`` (in-out): the cuts are taken at ``IN_OUT * core + (1 - IN_OUT) * x`` (x the
    master's solution; any point of the first stage's polytope gives valid cuts), the core point
    moving half way to x each iteration; when the bound stalls the phase falls back to Kelley's
    points (the separation point = x), which alone proves the LP bound."""
    n1 = ts.n_first
    best_lp, stall, last = math.inf, 0, -math.inf
    o = None
    kelley = not stabilize
    while clock.left() > 0:
        st["k"] += 1
        o = solve_master(True)
        if o is None or o.x is None or o.objective is None:
            say(f"  LP phase: the master LP ended without a solution ({'out of time' if o is None else o.termination})"
                "; the master MIP from here")
            return None
        st["lb"] = max(st["lb"], o.objective)  # the master LP with valid cuts bounds the whole problem
        x = o.x[:n1]
        if not kelley:
            core = x if core is None else 0.5 * (core + x)
            x = IN_OUT * core + (1.0 - IN_OUT) * x
        vals = at(x, "lp")
        if not all(v.feasible for v in vals):
            break
        ub_lp = ts.objective_at(x, np.array([v.lp_value for v in vals]))
        best_lp = min(best_lp, ub_lp)
        for s, v in enumerate(vals):
            master.add_cut(s, v.slope, v.lagrangian)
        stall = stall + 1 if o.objective <= last + 1e-9 * max(1.0, abs(last)) else 0
        last = o.objective
        say(f"  LP iteration {st['k']:4d}: master LP {o.objective:,.6g}, best LP value {best_lp:,.6g}"
            f"{'' if kelley else ' (in-out)'}, {len(master.rows)} cuts, {clock.since():.1f} s")
        if best_lp - o.objective <= LP_PHASE_GAP * max(1.0, abs(best_lp)):
            break
        if stall >= LP_PHASE_STALL:
            if kelley:
                break
            kelley, stall = True, 0  # stalled at in-out points: Kelley's from here
    if o is None or o.x is None:
        return None
    # the master MIP gets the cuts binding at the LP optimum only (the LP's optimum and bound are
    # the same with them alone; on the default with 20 scenarios 3,100 dense cuts kept its first
    # MIP from ending in 400 s)
    x, theta = o.x[:n1], o.x[n1:n1 + len(ts.scenarios)]
    keep = master.binding(x, theta)
    before = len(master.rows)
    master.prune(keep)
    say(f"  LP phase: {st['k']} iterations, LP bound {o.objective:,.6g}, {len(keep)} of {before} cuts binding "
        f"kept, {clock.since():.1f} s")
    if not strengthen:
        return x.copy()
    keep = list(range(len(keep)))
    futs = [client.submit(lagrangian_task, payloads[master.rows[i][0]], master.rows[i][1], opts, clock.left(),
                          sub_gap, pure=False) for i in keep]
    bounds = gather(futs)
    for i, b in zip(keep, bounds):
        s, g, rhs = master.rows[i]
        if b > rhs:
            master.add_cut(s, g, b)
    o = solve_master(True)
    if o is not None and o.objective is not None:
        st["lb"] = max(st["lb"], o.objective)
    say(f"  strengthened {len(keep)} binding cuts: LP bound {st['lb']:,.6g}, {clock.since():.1f} s")
    return x.copy()
