"""Domain errors: every bad input ends in one of these, naming the field, the row and the rule.

Also the few helpers that describe a bad file or value in a message (shared by the scenario
loader and the layer readers).
"""

from __future__ import annotations

import stat
from pathlib import Path

__all__ = ["SitingError", "InputError", "ScenarioError", "NoSolutionError", "ModelTooLargeError", "show_id",
           "clip", "special_file", "decode_utf8"]

ECHO_CHARS = 80  # the most characters of a user's value a message repeats


def clip(text: str, limit: int = ECHO_CHARS) -> str:
    """``text`` cut to ``limit`` characters, marking the cut with its full length.

    >>> clip("x" * 100, 10)
    'xxxxxxxxx… (100 characters)'
    """
    text = str(text)
    return text if len(text) <= limit else f"{text[:limit - 1]}… ({len(text)} characters)"


def show_id(value) -> str:
    """A user's id as they wrote it (numpy scalars shown as plain numbers), clipped.

    >>> import numpy as np
    >>> show_id(np.int64(7)), show_id("a"), show_id("007")
    ('7', "'a'", "'007'")
    """
    return clip(repr(value.item() if hasattr(value, "item") else value))


def special_file(path: Path) -> str | None:
    """What ``path`` is if it exists but is not a regular file (reading a FIFO would block).

    >>> special_file(Path("/")), special_file(Path("/no/such/file"))
    ('a directory', None)
    """
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), None if stat.S_ISREG(mode) else "not a regular file")


def decode_utf8(data: bytes) -> str:
    """``data`` decoded as UTF-8 (a leading byte-order mark dropped), or ``ValueError`` naming the byte.

    >>> decode_utf8("né".encode("latin-1"))
    Traceback (most recent call last):
    ...
    ValueError: not UTF-8, at byte 1 (0xe9); save the file as UTF-8
    """
    bom = b"\xef\xbb\xbf"
    skip = len(bom) if data.startswith(bom) else 0
    try:
        return data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        at = skip + exc.start
        raise ValueError(f"not UTF-8, at byte {at} (0x{data[at]:02x}); save the file as UTF-8") from None


class SitingError(ValueError):
    """Base of every error the tool reports to a user (a ``ValueError``)."""


class InputError(SitingError):
    """A layer breaks a rule: names the layer, the field, the row id and the rule."""

    def __init__(self, layer: str, field: str, rule: str, row=None):
        self.layer, self.field, self.rule, self.row = layer, field, rule, row
        where = f"{layer}: field '{clip(field)}'" + (f", row {show_id(row)}" if row is not None else "")
        super().__init__(f"{where}: {rule}")


class ScenarioError(SitingError):
    """A scenario file or override breaks the schema (unknown key, out-of-range value, ...)."""


class NoSolutionError(SitingError):
    """The solver ended without any plan (infeasible, or no incumbent within the limits)."""


class ModelTooLargeError(SitingError):
    """The model's estimated peak memory exceeds what the machine has available."""


class PlanCheckError(RuntimeError):
    """A plan broke a rule of the independent post-check (:mod:`siting.outputs.audit`): a fault of
    the tool, never a plan to call optimal. ``families``: the rules broken (``power``, ``n-1``, ...)."""

    def __init__(self, findings: list[str], where: str = ""):
        self.findings = list(findings)
        self.families = sorted({f.split(":", 1)[0].strip() for f in self.findings})
        shown = "; ".join(clip(f) for f in self.findings[:5])
        more = f" (and {len(self.findings) - 5} more)" if len(self.findings) > 5 else ""
        super().__init__(f"{where + ': ' if where else ''}the plan fails the independent post-check of "
                         f"{', '.join(self.families)}: {shown}{more}. It is not reported as a plan; "
                         "this is a fault of the tool, please report it")
