"""The solver module: strategies agree, early proof from the LP bound, report fields."""

import pytest
from helpers import solve, tiny

from siting.model import build_model, compile_model
from siting.pipeline import solve_report
from siting.solve import SolveOptions


def _instance():
    # 3 sites x 3 regions, alpha 1/2: optimum found by enumeration in the comment below
    arcs = [(r, k, "direct", 1) for r in range(3) for k in range(3)]
    return tiny([100, 100, 100], [40, 40, 40], arcs, site_fixed=[50, 60, 70], per_mw=[1.0, 1.2, 1.1],
                resilience_max_share=0.5)


def test_strategies_agree_on_the_optimum():
    # 120 MW, alpha 1/2 -> at least two sites, each <= 100 MW (PUE 1): sites 0 and 2 open,
    # site 0 takes 60 (20 from each region: half of each is the cap), site 2 takes 60:
    # 50 + 70 + 60*1 + 60*1.1 = 246; sites 0+1: 110 + 60 + 72 = 242 -> 242 is the optimum
    inp = _instance()
    for strategy in ("lp_start", "plain"):
        plan = solve(inp, SolveOptions(mip_gap=0, threads=1, strategy=strategy))
        assert plan.report.proven_optimal
        assert plan.report.objective == pytest.approx(242.0)
        assert plan.report.best_bound == pytest.approx(242.0, rel=1e-6)
        assert plan.report.strategy == strategy


def test_lp_bound_proves_the_restricted_plan():
    # one site, integral LP: the restricted MIP equals the LP bound, no full MIP is needed
    inp = tiny([500], [10], [(0, 0, "direct", 1)], site_fixed=[1], per_mw=[1])
    report, _ = solve_report(inp, SolveOptions(mip_gap=0, threads=1))
    assert [p.phase for p in report.phases] == ["lp_relaxation", "restricted_mip"]
    assert report.proven_optimal and report.objective == pytest.approx(11.0) and report.gap == 0


def test_standard_form_keeps_bounds_integrality_and_rows():
    comp = compile_model(build_model(_instance()))
    sf = comp.sf
    rows, cols = sf.shape
    assert sf.integer.sum() == 3  # the three open[k]; one cooling tech, so no cool binaries
    assert comp.columns["serve"].size == 9 and (comp.columns["serve"] >= 0).all()
    assert (sf.row_lower <= sf.row_upper).all() and rows == len(sf.row_lower)
    assert cols == len(sf.c)


def test_report_separates_termination_and_solution_status():
    report, _ = solve_report(_instance(), SolveOptions(mip_gap=0, threads=1))
    d = report.to_dict()
    assert d["termination"] == "optimal" and d["solution_status"] == "optimal"
    assert {"objective", "best_bound", "gap", "compile_s", "solve_s", "n_variables",
            "n_constraints", "solver", "phases", "proven_optimal"} <= set(d)


def test_lp_start_keeps_the_given_plans_sites_open_in_its_restricted_mip():
    """The restricted MIP runs over the sites the LP uses and those the given plan opens, from
    the given plan (a subset's plan lifted onto more candidates, say)."""
    import numpy as np

    from siting.model import compile_inputs
    from siting.solve import solve as solve_sf

    # the LP serves all 60 MW from site 0 (1.5/MW with its fixed cost spread) and leaves site 1 shut
    inp = tiny([100.0, 100.0], [60.0], [(0, 0, "direct", 5.0), (0, 1, "direct", 5.0)],
               site_fixed=[50.0, 0.0], per_mw=[1.0, 3.0])
    comp = compile_inputs(inp)
    given = np.zeros(comp.sf.shape[1])  # a feasible plan on site 1 alone: 180
    for name, value in (("open", [0, 1]), ("it", [0, 60]), ("serve", [0, 60])):
        given[comp.columns[name]] = value
    assert float(comp.sf.c @ given) == pytest.approx(180.0)
    said = []
    opts = SolveOptions(time_limit_s=30, mip_gap=0.0, threads=1, strategy="lp_start", restricted_time_s=5)
    report = solve_sf(comp.sf, opts, restrict=comp.open_mask, start=given, progress=said.append)
    assert any("restricted MIP over the 2 columns the LP or the given plan uses" in m for m in said), said
    restricted = [p for p in report.phases if p.phase == "restricted_mip"]
    assert restricted and restricted[0].objective == pytest.approx(110.0)  # 50 + 60 on site 0
    assert report.proven_optimal and report.objective == pytest.approx(110.0)


def test_the_scenario_offers_every_registered_strategy():
    from typing import get_args

    from siting.scenario import Solver
    from siting.solve import STRATEGIES, Strategy

    offered = set(get_args(Solver.model_fields["strategy"].annotation))
    assert offered == set(STRATEGIES)
    assert Solver.model_fields["strategy"].default == Strategy.AUTO  # the default picks by structure


# --- the solver package: one statement of its defaults, imports only downwards ---

def test_the_solver_defaults_are_the_scenarios():
    """data/defaults.csv (the scenario's defaults) and SolveOptions state the same values, and the
    scenario schema checks the solver's own ranges (siting.solve.LIMITS)."""
    from siting.scenario import Solver, default_values
    from siting.solve import LIMITS

    table, ours = default_values()["solver"], SolveOptions()
    assert {name: table[name] for name in LIMITS} == {name: getattr(ours, name) for name in LIMITS}
    assert Solver.model_fields["strategy"].default == ours.strategy
    for name, limit in LIMITS.items():
        schema = {k: getattr(m, k) for m in Solver.model_fields[name].metadata for k in ("gt", "ge", "lt", "le")
                  if hasattr(m, k)}
        assert schema == limit.bounds(), name


def test_the_solver_options_refuse_what_the_limits_refuse():
    from siting.solve import LIMITS, SolverOptionError

    for name, bad in (("time_limit_s", 0), ("mip_gap", 1.5), ("threads", 0), ("threads", 257), ("threads", 2.0),
                      ("seed", -1), ("restricted_time_s", -1.0), ("strategy", "fastest")):
        with pytest.raises(SolverOptionError, match=f"solver.{name}"):
            SolveOptions(**{name: bad})
    assert all(LIMITS[name].holds(getattr(SolveOptions(), name)) for name in LIMITS)


def test_every_strategy_is_registered_once():
    from siting.solve import STRATEGIES, Strategy

    assert list(STRATEGIES) == list(Strategy)
    assert SolveOptions(strategy="benders").strategy is Strategy.BENDERS


def _solve_imports():
    """{module: [(imported module, names)]} of siting/solve/*.py, relative imports resolved."""
    import ast
    from pathlib import Path

    import siting.solve

    out = {}
    for path in sorted(Path(siting.solve.__file__).parent.glob("*.py")):
        found = []
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                module = ("siting.solve." * (node.level > 0)) + (node.module or "") if node.level <= 1 else \
                    "siting." + (node.module or "")
                found.append((module.rstrip("."), [a.name for a in node.names]))
            elif isinstance(node, ast.Import):
                found += [(a.name, []) for a in node.names]
        out[path.stem] = found
    return out


def test_the_solver_package_imports_only_downwards_and_nothing_of_siting():
    order = ["report", "highs", "plain", "lp_start", "benders", "auto", "strategies", "twostage", "lshaped", "__init__"]
    imports = _solve_imports()
    assert sorted(imports) == sorted(order)
    for module, found in imports.items():
        for name, names in found:
            assert not name.startswith("siting.") or name.startswith("siting.solve."), (module, name)
            assert "pyomo" not in name, (module, name)
            if name.startswith("siting.solve."):
                below = name.removeprefix("siting.solve.")
                assert order.index(below) < order.index(module), f"{module} imports {below}"
                assert not any(n.startswith("_") for n in names), (module, name, names)
    assert not any(name == "highspy" for name, _ in imports["report"])  # options are checked without HiGHS


def test_only_the_highs_module_runs_highs():
    from pathlib import Path

    import siting.solve

    runs = sorted(p.stem for p in Path(siting.solve.__file__).parent.glob("*.py") if "_Highs.run" in p.read_text())
    assert runs == ["highs"]


def test_auto_picks_benders_for_facility_location_and_lp_start_for_siting(shared_data):
    from siting.inputs.instances import generate
    from siting.inputs.orlib import read_cap
    from siting.model import compile_inputs
    from siting.solve import Strategy
    from siting.solve.auto import choose

    capa = compile_inputs(read_cap(shared_data / "orlib_cap" / "capa.txt", 8000).to_inputs()).sf
    assert choose(capa)[0] == Strategy.BENDERS
    assert choose(compile_inputs(generate(10, 100, seed=0)).sf)[0] == Strategy.LP_START
    assert choose(compile_inputs(_instance()).sf)[0] == Strategy.LP_START
    said = []
    cap41 = read_cap(shared_data / "orlib_cap" / "cap41.txt").to_inputs()
    report, _ = solve_report(cap41, SolveOptions(mip_gap=1e-9, threads=1, strategy="auto"), progress=said.append)
    assert report.strategy == "auto: benders" and report.phases[0].phase == "benders_lp"
    assert report.proven_optimal and report.objective == pytest.approx(1040444.375, rel=1e-6)
    assert any(m.startswith("strategy auto: benders (the subproblem keeps") for m in said)
