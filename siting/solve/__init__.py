"""The solver layer: the only code that talks to HiGHS; it knows nothing of siting.

It takes a problem in standard form (:class:`StandardForm`: arrays and a sparse matrix), options,
and optionally a mask of binary columns a strategy may restrict and a start vector; it returns
a :class:`SolveReport` created complete: termination condition and solution status as separate
enums (as ``pyomo.contrib.solver`` does), objective, bound, gap, phases, timings and the
solution vector. Strategies (:class:`Strategy`) sit in one registry that refuses unknown names:

- ``plain``: HiGHS alone (from the start vector, if one is given);
- ``lp_start``: the LP relaxation, then the MIP restricted to the masked columns the LP uses
  (short budget), then the full MIP from that plan (SPEC.md, "Solving realistic instances").
  With many ``lazy`` rows (``LARGE_LAZY_ROWS``) the LP is solved by row generation, a MIP with the
  ``support`` binaries fixed to the LP's support gives a first plan, and each MIP stops at the
  first plan the LP bound proves within the gap;
- ``benders``: Benders decomposition, integer master and continuous subproblem (facility location).

Two-stage stochastic programs (:mod:`.twostage`: the :class:`TwoStage` record, its extensive form
solved by HiGHS, VSS and EVPI) and their multi-cut L-shaped decomposition over scenarios on Dask
(:func:`siting.solve.lshaped.lshaped`) sit beside the strategies: they take a :class:`TwoStage`.

``time_limit_s`` bounds the whole solve, every phase and every inner HiGHS solve included, and
Ctrl-C stops any of them (:mod:`.highs`). A plan is called proven only against a valid bound:
HiGHS's own, or the LP relaxation's objective when that LP ended optimal.
:class:`Reoptimizer` keeps one HiGHS problem and re-solves it after cost or bound changes,
without rebuilding anything.

Modules, each importing only those above it: :mod:`.report` (enums, options, records),
:mod:`.highs` (the HiGHS process), :mod:`.plain`, :mod:`.lp_start`, :mod:`.benders` (one per
strategy), :mod:`.strategies` (the registry, :func:`solve`, :class:`Reoptimizer`).
"""

from .highs import Clock, abandoned_solves, feasible, make_highs, relative_gap, termination_of
from .lp_start import LARGE_LAZY_ROWS
from .report import (
    HIGHS_MAX_SEED,
    LIMITS,
    Limit,
    Phase,
    SolutionStatus,
    SolveOptions,
    SolveReport,
    SolverOptionError,
    StandardForm,
    Strategy,
    Termination,
)
from .strategies import STRATEGIES, Reoptimizer, lp_optimum, solve
from .twostage import (
    Scenario,
    StochasticValues,
    TwoStage,
    TwoStageError,
    TwoStageResult,
    extensive_form,
    solve_ef,
    value_of_stochastic_solution,
)

__all__ = ["SolveOptions", "SolveReport", "StandardForm", "Phase", "Termination", "SolutionStatus", "Strategy",
           "STRATEGIES", "solve", "lp_optimum", "Reoptimizer", "SolverOptionError", "termination_of",
           "abandoned_solves",
           "feasible", "relative_gap", "make_highs", "Clock", "LIMITS", "Limit", "HIGHS_MAX_SEED",
           "LARGE_LAZY_ROWS", "TwoStage", "Scenario", "TwoStageResult", "TwoStageError", "StochasticValues",
           "extensive_form", "solve_ef", "value_of_stochastic_solution"]

# the old private names, still imported by tests/model/test_warmstart.py and bench/memory.py (not ours
# to edit): drop these once they import feasible and make_highs
_feasible = feasible
_highs = make_highs
