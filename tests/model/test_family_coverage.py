"""Every constraint family of the statement is listed, states its math, and has a hand-solved test.

The checks read the sources (``ast``), so they hold for the whole tree whichever tests a run
collects, and each is shown failing on a copy with a planted fault: a family's test deleted, a
family function not listed in ``FAMILIES``, a family without its math line, a mark naming no family.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FAMILIES_PY = ROOT / "siting" / "model" / "families.py"
MATH = ("<=", ">=", "=")


def _family_mark(dec: ast.expr) -> list[str] | None:
    """The names of a ``@pytest.mark.family(...)`` decorator, else None."""
    if isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute) and dec.func.attr == "family":
        return [a.value for a in dec.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    return None


def marked_families(tests: Path) -> dict[str, list[str]]:
    """family -> the tests marked with it that assert something (or call a checking helper)."""
    out: dict[str, list[str]] = {}
    for path in sorted(tests.rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.FunctionDef) and node.name.startswith("test_")):
                continue
            names = [n for d in node.decorator_list for n in (_family_mark(d) or [])]
            checks = any(isinstance(n, ast.Assert) or (isinstance(n, ast.Call) and getattr(n.func, "id", "") == "check")
                         for n in ast.walk(node))
            for name in names if checks else []:
                out.setdefault(name, []).append(f"{path.name}::{node.name}")
    return out


def stated_families(families_py: Path) -> tuple[list[str], dict[str, str]]:
    """The names listed in ``FAMILIES`` and, for every function with the family signature
    ``(inp, ix, vs)``, the first line of its docstring."""
    tree = ast.parse(families_py.read_text())
    listed = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "FAMILIES" for t in node.targets):
            listed = [e.id for e in node.value.elts]
    functions = {node.name: (ast.get_docstring(node) or "").split("\n")[0] for node in tree.body
                 if isinstance(node, ast.FunctionDef) and [a.arg for a in node.args.args] == ["inp", "ix", "vs"]}
    return listed, functions


def problems(root: Path = ROOT) -> list[str]:
    listed, functions = stated_families(root / "siting" / "model" / "families.py")
    tested = marked_families(root / "tests")
    out = [f"family {f!r} is not in FAMILIES" for f in functions if f not in listed]
    out += [f"FAMILIES lists {f!r}, which is not a family function (inp, ix, vs)" for f in listed if f not in functions]
    out += [f"family {f!r} has no math on its first docstring line" for f, line in functions.items()
            if not any(op in line for op in MATH)]
    out += [f"family {f!r} has no hand-solved test (@pytest.mark.family({f!r}))" for f in listed if f not in tested]
    out += [f"{', '.join(tests)} marks {f!r}, which is no family" for f, tests in tested.items() if f not in listed]
    return out


def test_every_family_is_listed_stated_and_tested():
    assert problems() == []


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "siting" / "model", tmp_path / "siting" / "model")
    shutil.copytree(ROOT / "tests", tmp_path / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_a_deleted_family_test_is_caught(tmp_path):
    root = _copy(tmp_path)
    _edit(root / "tests" / "model" / "test_families.py", '@pytest.mark.family("modules")\n', "")
    assert problems(root) == ["family 'modules' has no hand-solved test (@pytest.mark.family('modules'))"]


def test_an_unlisted_family_and_a_missing_math_line_are_caught(tmp_path):
    root = _copy(tmp_path)
    fam = root / "siting" / "model" / "families.py"
    fam.write_text(fam.read_text() + '\n\ndef spare(inp, ix, vs):\n    """A family someone forgot."""\n    return []\n')
    assert problems(root) == ["family 'spare' is not in FAMILIES",
                              "family 'spare' has no math on its first docstring line"]


def test_a_mark_naming_no_family_and_a_test_asserting_nothing_are_caught(tmp_path):
    root = _copy(tmp_path)
    (root / "tests" / "geo" / "test_planted.py").write_text(  # a sub-folder: the walk is recursive
        'import pytest\n\n\n@pytest.mark.family("damand")\ndef test_typo():\n    assert True\n\n\n'
        '@pytest.mark.family("max_sites")\ndef test_nothing():\n    pass\n')
    _edit(root / "tests" / "model" / "test_families.py", '@pytest.mark.family("max_sites")\n', "")
    assert problems(root) == ["family 'max_sites' has no hand-solved test (@pytest.mark.family('max_sites'))",
                              "test_planted.py::test_typo marks 'damand', which is no family"]


def test_the_readme_table_is_the_statement():
    from siting.model.families import math_table

    assert math_table() in (ROOT / "README.md").read_text()
