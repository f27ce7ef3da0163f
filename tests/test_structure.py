"""The package's shape, read from its source: the import graph of EVERY module under ``siting/``
(recursively; ``import a.b``, ``from a import b``, relative imports at any level, imports inside
functions), and the rules of SPEC "Layout" checked on it:

- no import circles (between modules, and between folders);
- no private (underscore) name imported across modules, nor read off an imported module;
- only the model folder (``siting/model/**``, or the one module ``siting/model.py``) imports pyomo;
- only the solver layer (``siting/solve/**``, or ``siting/solve.py``; ``siting/benders.py`` until it
  moves into ``siting/solve/``) imports highspy, and the solver layer imports nothing else of siting.

The checker is a function of a folder (:func:`check_structure`), so each rule is shown failing on a
copy of the package with a fault planted in it (relative and absolute, in a sub-folder). Imports by
``importlib.import_module("siting.x")`` with a literal name count too; computed names cannot be seen.

``python tests/test_structure.py [ROOT]`` prints the graph by module and by folder.
"""

from __future__ import annotations

import ast
import shutil
import sys
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "siting"

# where an external package may be imported: a module name or the folder it heads (prefix + ".")
ONLY_IN = {
    "pyomo": ("model",),  # siting/model.py today, siting/model/** after the move
    "highspy": ("solve", "benders"),  # siting/solve.py + siting/benders.py today, siting/solve/** after
}
SOLVER_LAYER = ONLY_IN["highspy"]  # knows nothing of siting: imports only itself


@dataclass(frozen=True)
class Import:
    """One imported module (or one name taken from it) in one module's source."""

    source: str  # the importing module, dotted ("siting.model.families")
    target: str  # the module imported, resolved to a module of the package when it is one
    name: str | None  # the name taken by ``from target import name`` (None: the module itself)
    line: int
    internal: bool  # target is in the package


def module_files(root: Path) -> dict[str, Path]:
    """Every module of the package at ``root`` by dotted name (``__init__.py`` names its folder)."""
    root = Path(root)
    out = {}
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out.setdefault(name, path)  # siting/x.py beside siting/x/__init__.py: the package wins
    return out


def _folders(mods: dict[str, Path]) -> set[str]:
    """Every package folder (with or without ``__init__.py``) by dotted name."""
    return {m.rsplit(".", 1)[0] for m, p in mods.items() if "." in m and p.name != "__init__.py"} | {
        m for m, p in mods.items() if p.name == "__init__.py"}


def _resolve(name: str, mods: dict[str, Path], folders: set[str]) -> str:
    """The longest prefix of ``name`` that is a module or folder of the package."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        head = ".".join(parts[:n])
        if head in mods or head in folders:
            return head
    return name


def _parsed(root: Path) -> list:
    """``(module, tree, [(alias, Import), ...])`` for every module: each import statement anywhere
    in the file (module level, in functions, under ``if``), its names resolved. Read once per
    state of the files."""
    mods = module_files(root)
    key = (str(Path(root).resolve()), tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in mods.values()))
    if key not in _PARSED:
        _PARSED.clear()
        _PARSED[key] = list(_parse(root, mods))
    return _PARSED[key]


_PARSED: dict = {}


def _parse(root: Path, mods: dict[str, Path]):
    folders = _folders(mods)
    pkg = Path(root).name
    for mod, path in mods.items():
        here = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        tree = ast.parse(path.read_text(), str(path))
        found = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    inside = a.name.split(".")[0] == pkg
                    target = _resolve(a.name, mods, folders) if inside else a.name
                    found.append((a, Import(mod, target, None, node.lineno, inside)))
            elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", ""))
                  in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant)
                  and isinstance(node.args[0].value, str) and not node.args[0].value.startswith(".")):
                name = node.args[0].value  # importlib.import_module("siting.x"): an import all the same
                inside = name.split(".")[0] == pkg
                target = _resolve(name, mods, folders) if inside else name
                found.append((ast.alias(name=name), Import(mod, target, None, node.lineno, inside)))
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # level 1: this module's package; each further level one folder up
                    up = here.split(".")
                    up = up[: len(up) - (node.level - 1)]
                    base = ".".join(up + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                inside = base.split(".")[0] == pkg
                for a in node.names:
                    sub = f"{base}.{a.name}"
                    if inside and (sub in mods or sub in folders):  # from pkg import submodule
                        found.append((a, Import(mod, sub, None, node.lineno, True)))
                    else:
                        target = _resolve(base, mods, folders) if inside else base
                        found.append((a, Import(mod, target, a.name, node.lineno, inside)))
        yield mod, tree, found


def imports(root: Path) -> list[Import]:
    """Every import of every module under ``root``, anywhere in the file."""
    return [imp for _m, _t, found in _parsed(root) for _a, imp in found]


def import_graph(root: Path) -> dict[str, set[str]]:
    """module -> the package's modules it imports (every module a key)."""
    graph: dict[str, set[str]] = {m: set() for m in module_files(root)}
    for imp in imports(root):
        if imp.internal and imp.target != imp.source:
            graph[imp.source].add(imp.target)
            graph.setdefault(imp.target, set())
    return graph


def folder_of(module: str, pkg: str, packages: set[str] = frozenset()) -> str:
    """A module's floor: its first sub-folder (``siting.model.compile`` and the package
    ``siting.model`` itself -> ``model/``), or the top-level module (``siting.cli`` -> ``cli``)."""
    parts = module.split(".")[1:]
    if not parts:
        return pkg
    return parts[0] + "/" if len(parts) > 1 or module in packages else parts[0]


def folder_graph(root: Path) -> dict[str, set[str]]:
    """The import graph between floors (sub-folders and top-level modules), self-edges dropped."""
    pkg = Path(root).name
    folders = _folders(module_files(root))
    graph: dict[str, set[str]] = defaultdict(set)
    for src, targets in import_graph(root).items():
        a = folder_of(src, pkg, folders)
        graph[a]
        for t in targets:
            b = folder_of(t, pkg, folders)
            if b != a:
                graph[a].add(b)
    return dict(graph)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One shortest circle per strongly connected component of more than one node: ``[a, b, ..., a]``."""
    return [c for c, _comp in tangles(graph)]


def tangles(graph: dict[str, set[str]]) -> list[tuple[list[str], list[str]]]:
    """``(a shortest circle, every node of its strongly connected component)`` per component of
    more than one node (every node of a component reaches every other: one tangle)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    comps: list[list[str]] = []

    def strong(v: str) -> None:  # Tarjan, iterative enough for a package's depth
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            comps.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            strong(v)
    out = []
    for comp in sorted(c for c in comps if len(c) > 1):
        members, start = set(comp), comp[0]
        prev: dict[str, str | None] = {start: None}
        todo = deque([start])
        while todo:  # breadth first from start, inside the component, until an edge back to start
            v = todo.popleft()
            if start in graph.get(v, ()):
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                out.append((path[::-1] + [start], comp))
                break
            for w in sorted(graph.get(v, ())):
                if w in members and w not in prev:
                    prev[w] = v
                    todo.append(w)
    return out


# documented API of the standard library; highspy's unlocked C++ run (its public run() takes a
# class-level lock: one solve per process), read in exactly one place, siting/solve/highs.py
PUBLIC_DESPITE_THE_UNDERSCORE = {"os._exit", "highspy._Highs"}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_imports(root: Path) -> list[str]:
    """``from m import _x`` across modules, and ``m._x`` read off a module bound by an import
    (``import a.b`` binds ``a``; ``import a.b as c``, ``from pkg import module`` bind the module)."""
    found = []
    for mod, tree, imps in _parsed(root):
        bound: dict[str, str] = {}
        for alias, imp in imps:
            if imp.name is not None and _private(imp.name) and imp.target != mod:
                found.append(f"{mod}:{imp.line} imports {imp.target}.{imp.name}")
            elif imp.name is None and alias.asname:
                bound[alias.asname] = imp.target
            elif imp.name is None and "." in alias.name and not imp.internal:
                bound[alias.name.split(".")[0]] = alias.name.split(".")[0]
            elif imp.name is None:
                bound[alias.name.split(".")[0]] = imp.target if imp.target.endswith("." + alias.name) \
                    or imp.target == alias.name else alias.name.split(".")[0]
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in bound and _private(node.attr)
                    and f"{bound[node.value.id]}.{node.attr}" not in PUBLIC_DESPITE_THE_UNDERSCORE):
                found.append(f"{mod}:{node.lineno} reads {bound[node.value.id]}.{node.attr}")
    return sorted(set(found))


def _in(module: str, pkg: str, places: tuple[str, ...]) -> bool:
    rel = module.split(".", 1)[1] if "." in module else ""
    return any(rel == p or rel.startswith(p + ".") for p in places)


def external_users(root: Path, package: str) -> list[str]:
    """Modules importing the external ``package`` outside the places :data:`ONLY_IN` allows."""
    pkg = Path(root).name
    return sorted({f"{i.source}:{i.line} imports {i.target}" for i in imports(root)
                   if not i.internal and i.target.split(".")[0] == package
                   and not _in(i.source, pkg, ONLY_IN[package])})


def solver_layer_leaks(root: Path) -> list[str]:
    """Imports from the solver layer of any module of the package outside the solver layer."""
    pkg = Path(root).name
    return sorted({f"{i.source}:{i.line} imports {i.target}" for i in imports(root)
                   if i.internal and _in(i.source, pkg, SOLVER_LAYER) and not _in(i.target, pkg, SOLVER_LAYER)})


def check_structure(root: Path) -> dict[str, list[str]]:
    """Every rule's findings on the package at ``root`` (all empty: the layout holds)."""
    def circles(graph):
        return [" -> ".join(c) + (f"  ({len(comp)} tangled: {', '.join(comp)})" if len(comp) > len(c) - 1 else "")
                for c, comp in tangles(graph)]

    return {
        "module circles": circles(import_graph(root)),
        "folder circles": circles(folder_graph(root)),
        "private names": private_imports(root),
        "pyomo outside the model": external_users(root, "pyomo"),
        "highspy outside the solver": external_users(root, "highspy"),
        "solver layer imports siting": solver_layer_leaks(root),
    }


def render(root: Path = SRC) -> str:
    """The import graph by module and by folder, and every rule's findings, as text."""
    pkg = Path(root).name
    short = lambda m: m.split(".", 1)[1] if "." in m else m  # noqa: E731
    lines = [f"# import graph of {root} by module ({len(module_files(root))} modules)"]
    for m, ts in sorted(import_graph(root).items()):
        lines.append(f"{short(m)} -> {', '.join(sorted(map(short, ts))) or '-'}")
    lines.append("\n# by folder (a top-level module stands for itself)")
    for f, ts in sorted(folder_graph(root).items()):
        lines.append(f"{f} -> {', '.join(sorted(ts)) or '-'}")
    lines.append("")
    for rule, found in check_structure(root).items():
        lines.append(f"# {rule}: {len(found)}")
        lines += [f"  {x}" for x in found]
    return "\n".join(lines).replace(f"{pkg}.", "")


# --- the real tree -------------------------------------------------------------------------------

def test_the_checker_sees_every_module_at_every_depth():
    files = {p.resolve() for p in SRC.rglob("*.py") if "__pycache__" not in p.parts}
    shadowed = {p for p in files if p.name != "__init__.py" and (p.with_suffix("") / "__init__.py").exists()}
    assert {p.resolve() for p in module_files(SRC).values()} == files - shadowed
    assert any(p.parent != SRC.resolve() for p in files - shadowed)  # sub-folders are walked
    assert import_graph(SRC)["siting.inputs.inputs"]  # not a vacuous graph


def test_the_package_has_no_import_circles():
    assert cycles(import_graph(SRC)) == []


def test_the_folders_have_no_import_circles():
    assert cycles(folder_graph(SRC)) == []


def test_no_private_name_is_used_across_modules():
    assert private_imports(SRC) == []


def test_only_the_model_folder_imports_pyomo():
    assert external_users(SRC, "pyomo") == []
    assert any(i.target.startswith("pyomo") for i in imports(SRC))  # someone does: not vacuous


def test_only_the_solver_layer_imports_highspy():
    assert external_users(SRC, "highspy") == []
    assert any(i.target == "highspy" for i in imports(SRC))


def test_the_solver_layer_imports_nothing_else_of_siting():
    assert solver_layer_leaks(SRC) == []


# --- the checker on a package whose graph is known ------------------------------------------------

def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def test_the_checker_resolves_every_kind_of_import(tmp_path):
    pkg = _write(tmp_path / "pkg", {
        "__init__.py": "",
        "errors.py": "import os\n",
        "cli.py": "import pkg.explore.sweep as sw\nfrom pkg import errors\n",
        "geo/__init__.py": "from .layers import read\n",
        "geo/layers.py": "from ..errors import Bad\nfrom . import merge\n",
        "geo/merge.py": "def f():\n    from pkg.errors import Bad\n",
        "geo/later.py": "import importlib\n\ndef f():\n    return importlib.import_module('pkg.geo.merge')\n",
        "model/families.py": "from ..geo import read\nfrom ..geo.merge import f\nimport pyomo.environ\n",
        "model/deep/compile.py": "from ... import errors\nfrom ..families import x\nfrom .. import families\n",
        "solve/highs.py": "import highspy\nfrom .report import R\n",
        "solve/report.py": "import numpy\n",
        "explore/sweep.py": "from ..model.deep import compile\nfrom ..solve.highs import run\n",
    })
    assert import_graph(pkg) == {
        "pkg": set(), "pkg.errors": set(), "pkg.cli": {"pkg.explore.sweep", "pkg.errors"},
        "pkg.geo": {"pkg.geo.layers"}, "pkg.geo.layers": {"pkg.errors", "pkg.geo.merge"},
        "pkg.geo.merge": {"pkg.errors"}, "pkg.geo.later": {"pkg.geo.merge"},
        "pkg.model.families": {"pkg.geo", "pkg.geo.merge"},
        "pkg.model.deep.compile": {"pkg.errors", "pkg.model.families"},
        "pkg.solve.highs": {"pkg.solve.report"}, "pkg.solve.report": set(),
        "pkg.explore.sweep": {"pkg.model.deep.compile", "pkg.solve.highs"}}
    assert folder_graph(pkg) == {"pkg": set(), "errors": set(), "cli": {"explore/", "errors"},
                                 "geo/": {"errors"}, "model/": {"geo/", "errors"}, "solve/": set(),
                                 "explore/": {"model/", "solve/"}}
    assert check_structure(pkg) == {k: [] for k in check_structure(pkg)}


# --- each rule fails on a copy of the real tree with a planted fault -----------------------------

@pytest.fixture
def copy(tmp_path) -> Path:
    root = tmp_path / "siting"
    shutil.copytree(SRC, root, ignore=shutil.ignore_patterns("__pycache__", "assets", "*.pyc"))
    return root


def _new(before: dict[str, list[str]], after: dict[str, list[str]]) -> dict[str, list[str]]:
    return {k: sorted(set(after[k]) - set(before[k])) for k in after if set(after[k]) - set(before[k])}


def test_a_planted_circle_in_a_sub_folder_is_caught(copy):
    before = check_structure(copy)
    _write(copy, {"geo/__init__.py": "", "geo/a.py": "from . import b\n",
                  "geo/b.py": "def later():\n    from .a import thing  # inside a function\n"})
    new = _new(before, check_structure(copy))
    assert new == {"module circles": ["siting.geo.a -> siting.geo.b -> siting.geo.a"]}


def test_a_planted_circle_through_the_kernel_is_caught_absolute_and_relative(copy):
    def through_errors(found):
        return [c for c in found["module circles"] if "siting.errors" in c.split(" -> ")]

    assert through_errors(check_structure(copy)) == []  # errors imports nothing of siting today
    errors = copy / "errors.py"
    errors.write_text(errors.read_text() + "\n\ndef _late():\n    import siting.inputs.inputs\n")
    assert through_errors(check_structure(copy))
    (copy / "errors.py").write_text((copy / "errors.py").read_text().replace("import siting.inputs.inputs",
                                                                             "from .inputs import SitingInputs"))
    found = check_structure(copy)
    assert through_errors(found) and any("errors" in c for c in found["folder circles"])


def test_a_planted_folder_circle_is_caught(copy):
    before = check_structure(copy)
    _write(copy, {"geo/__init__.py": "", "geo/layers.py": "from ..energy.profiles import p\n",
                  "energy/__init__.py": "", "energy/profiles.py": "from ..geo import merge\n",
                  "geo/merge.py": "x = 1\n"})
    new = _new(before, check_structure(copy))
    assert new == {"folder circles": ["energy/ -> geo/ -> energy/"]}  # no module circle: layers, profiles, merge


def test_a_planted_private_import_is_caught(copy):
    before = check_structure(copy)
    _write(copy, {"outputs/__init__.py": "", "outputs/deep/report.py": (
        "from ...physics import _secret\n"          # relative, two folders down
        "from siting.errors import _hidden\n"       # absolute
        "import siting.costs as c\n"
        "from ... import paths\n"
        "def f():\n    return c._rate, paths._root\n")})   # read off an imported module
    new = _new(before, check_structure(copy))
    assert new == {"private names": ["siting.outputs.deep.report:1 imports siting.physics._secret",
                                     "siting.outputs.deep.report:2 imports siting.errors._hidden",
                                     "siting.outputs.deep.report:6 reads siting.costs._rate",
                                     "siting.outputs.deep.report:6 reads siting.paths._root"]}


def test_pyomo_outside_the_model_folder_is_caught(copy):
    before = check_structure(copy)
    _write(copy, {"outputs/__init__.py": "", "outputs/maps2.py": "import pyomo.environ as pyo\n",
                  "explore/deep/what_if.py": "def f():\n    from pyomo.core import ConcreteModel\n",
                  "model/extra.py": "import pyomo.environ\n",             # allowed: the model folder
                  "model/deep/more.py": "from pyomo.core import Var\n"})  # allowed at any depth
    new = _new(before, check_structure(copy))
    assert new == {"pyomo outside the model": ["siting.explore.deep.what_if:2 imports pyomo.core",
                                               "siting.outputs.maps2:1 imports pyomo.environ"]}


def test_highspy_outside_the_solver_and_siting_inside_it_are_caught(copy):
    before = check_structure(copy)
    _write(copy, {"outputs/__init__.py": "", "outputs/deep/run.py": "from highspy import Highs\n",
                  "model/deep/fast.py": "def f():\n    import highspy\n",
                  "solve/extra.py": "import highspy\nfrom . import report\nfrom .report import SolveOptions\n",
                  "solve/deep/lazy.py": ("from ...inputs import SitingInputs\n"   # relative
                                               "import siting.model\n"                   # absolute
                                               "from ..highs import run\n")})            # allowed
    new = _new(before, check_structure(copy))
    assert new == {"highspy outside the solver": ["siting.model.deep.fast:2 imports highspy",
                                                  "siting.outputs.deep.run:1 imports highspy"],
                   "solver layer imports siting": ["siting.solve.deep.lazy:1 imports siting.inputs",
                                                   "siting.solve.deep.lazy:2 imports siting.model"],
                   "folder circles": ["model/ -> solve/ -> model/"]}  # model/ imports solve/ today


if __name__ == "__main__":
    print(render(Path(sys.argv[1]) if len(sys.argv) > 1 else SRC))
