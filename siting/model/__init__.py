"""The model: stated once (:mod:`.families`), compiled for HiGHS (:mod:`.compile`), derived as a
named Pyomo model (:mod:`.pyomo`), read back onto the plan's axes (:mod:`.vectors`).

Pyomo is imported only when its model is asked for (``build_model``, ``compile_model``,
``model_of``): the solve path never needs it, and its import costs every sweep worker 1-2 s."""

from .blocks import Rows, Terms, Var
from .compile import (
    Compiled,
    Sizes,
    Statement,
    compile_inputs,
    in_place_update,
    objective_vector,
    sizes,
    standard_form,
    statement,
    structure_key,
)
from .families import FAMILIES, variables
from .layout import Layout, N1Layout, n_minus_1_layout, training_traffic
from .vectors import n_periods, period_view, read_decisions, read_schedule, start_vector

__all__ = ["Rows", "Terms", "Var", "Compiled", "Sizes", "Statement", "compile_inputs", "in_place_update",
           "objective_vector", "sizes", "standard_form", "statement", "structure_key", "FAMILIES", "variables",
           "Layout", "N1Layout", "n_minus_1_layout", "training_traffic", "build_model", "compile_model",
           "model_of", "read_decisions", "start_vector", "n_periods", "period_view", "read_schedule"]


_PYOMO_NAMES = ("build_model", "compile_model", "model_of")


def __getattr__(name: str):
    if name in _PYOMO_NAMES:
        from . import pyomo

        return getattr(pyomo, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
