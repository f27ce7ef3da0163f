"""Domain errors: every bad input ends in one of these, naming the field, the row and the rule."""

from __future__ import annotations

__all__ = ["SitingError", "InputError", "ScenarioError", "NoSolutionError", "ModelTooLargeError", "show_id"]


def show_id(value) -> str:
    """A user's id as they wrote it (numpy scalars shown as plain numbers).

    >>> import numpy as np
    >>> show_id(np.int64(7)), show_id("a")
    ('7', "'a'")
    """
    return repr(value.item() if hasattr(value, "item") else value)


class SitingError(ValueError):
    """Base of every error the tool reports to a user (a ``ValueError``)."""


class InputError(SitingError):
    """A layer breaks a rule: names the layer, the field, the row id and the rule."""

    def __init__(self, layer: str, field: str, rule: str, row=None):
        self.layer, self.field, self.rule, self.row = layer, field, rule, row
        where = f"{layer}: field '{field}'" + (f", row {show_id(row)}" if row is not None else "")
        super().__init__(f"{where}: {rule}")


class ScenarioError(SitingError):
    """A scenario file or override breaks the schema (unknown key, out-of-range value, ...)."""


class NoSolutionError(SitingError):
    """The solver ended without any plan (infeasible, or no incumbent within the limits)."""


class ModelTooLargeError(SitingError):
    """The model's estimated peak memory exceeds what the machine has available."""
