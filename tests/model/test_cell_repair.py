"""The repair start for satellite cells (siting/model/repair.py): a plan that overfills a cell,
its builds kept, comes back within the cell at the cost worked out by hand; the start it gives is
feasible for the full model, and the full solve from it reaches the known optimum."""

from __future__ import annotations

import numpy as np
import pytest

from siting.model import compile_inputs, read_decisions, start_vector
from siting.model.decisions import Decisions
from siting.model.repair import cell_rows, cell_start, repair, without_rows
from siting.solve import SolveOptions, feasible, solve
from tests.helpers import EXACT, check, tiny

# test_satellite_cells' instance: one region of 10 MW; site 0 (1/MW) by satellite only, site 1
# (2/MW, 1 to open) by satellite or a 20 fiber lateral; a unit is 10 Gbps for 1; 1 Gbps per MW
# each way; both sites in one cell of 4 Gbps up (100 down); unmet demand 10 per MW. Optimum 38:
# site 0 4 MW by satellite (4 + 1 unit), site 1 6 MW by fiber (1 + 6 x 2 + 20); site 0 alone
# 4 + 1 + 6 x 10 unmet = 65; site 1 alone by fiber 1 + 20 + 20 = 41
ARCS = [(0, 0, "satellite", 40), (0, 1, "satellite", 40), (0, 1, "fiber", 30)]
CELL = dict(site_fixed=[0, 1], per_mw=[1, 2], fiber_cost=20, sat_unit_cost=1, sat_unit_gbps=10, gbps_per_mw=1,
            unmet_cost_musd_per_mw=10.0, sat_cell=np.array([0, 0]), cell_gbps=np.array([[4.0, 100.0]]),
            cell_ids=("c0",))


def _plan(inp, open_, serve, sat_units, unmet):
    """A start on the axes of ``inp``: IT where it serves, the arcs' MW as given."""
    it = np.zeros((2, 1))
    for a, mw in enumerate(serve):
        it[int(inp.arcs["site"][a]), 0] += mw
    return Decisions(open=open_, modules=[0, 0], cooling=[0 if o else -1 for o in open_], it_mw=it,
                     serve_mw=serve, train_mw=[0, 0], fiber=[False, serve[2] > 0], sat_units=sat_units,
                     unmet_mw=[unmet])


def test_repair_trims_an_overfilled_cell_with_the_builds_kept():
    inp = tiny([500, 500], [10], ARCS, **CELL)
    comp = compile_inputs(inp)
    # the uncapped optimum: all 10 MW at site 0 by satellite (10 + 1 unit = 11): 10 Gbps in a 4 Gbps cell
    x = start_vector(comp, inp, _plan(inp, [True, False], [10, 0, 0], [1, 0], 0))
    assert not feasible(comp.sf, x) and feasible(without_rows(comp.sf, cell_rows(comp)), x)
    # site 0 alone stays open: 4 MW by satellite (4 + 1 unit = 5), the other 6 MW unmet (6 x 10 = 60): 65
    r = repair(comp, x, EXACT)
    assert r.objective == pytest.approx(65.0) and feasible(comp.sf, r.x)
    d = read_decisions(comp, inp, r.x)
    assert d.serve_mw.tolist() == pytest.approx([4, 0, 0]) and d.unmet_mw.tolist() == pytest.approx([6])
    # both sites open, 5 MW each by satellite (10 Gbps in the cell): site 0 keeps 4 MW by
    # satellite (5), site 1 takes 6 MW over its lateral (1 + 6 x 2 + 20 = 33): 38, the optimum
    x = start_vector(comp, inp, _plan(inp, [True, True], [5, 5, 0], [1, 1], 0))
    assert not feasible(comp.sf, x)
    r = repair(comp, x, EXACT)
    assert r.objective == pytest.approx(38.0)
    assert read_decisions(comp, inp, r.x).serve_mw.tolist() == pytest.approx([4, 0, 6])


def test_the_cell_start_is_feasible_for_the_full_model_and_the_solve_keeps_it():
    inp = tiny([500, 500], [10], ARCS, **CELL)
    comp = compile_inputs(inp)
    x, phases = cell_start(comp, EXACT, lazy=comp.lazy_rows)
    # without the cells: 11 (site 0 alone); repaired with site 0 alone open: 65 (above)
    assert [p.phase for p in phases] == ["no_cells", "cell_repair"]
    assert [p.objective for p in phases] == pytest.approx([11.0, 65.0])
    assert feasible(comp.sf, x)
    # the full solve from it: the pipeline starts from the repaired plan and reaches 38
    plan = check(inp, 38.0)
    assert [p.phase for p in plan.report.phases][:2] == ["no_cells", "cell_repair"]
    # no cells, no repair
    uncapped = {k: v for k, v in CELL.items() if k not in ("sat_cell", "cell_gbps", "cell_ids")}
    free = tiny([500, 500], [10], ARCS, **uncapped)
    assert cell_start(compile_inputs(free), EXACT) == (None, ())
    assert solve(comp.sf, SolveOptions(threads=1, mip_gap=0.0), start=x).objective == pytest.approx(38.0)
