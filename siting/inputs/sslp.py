"""SSLP, the stochastic server location problem of Ntaimo and Sen (SIPLIB), read from the
mpi-sppy / PySP ``.dat`` layout into arrays (:mod:`siting.model.sslp` states it as a two-stage
problem for the solver layer).

The reader (:class:`SSLPInstance`, :func:`parse_dat`, :func:`read_instance`) is
``../shared/data/sslp/read_sslp.py``, written for this project from the file format (no mpi-sppy
or Pyomo code); copied here with the folder lookup made explicit and errors raised as
:class:`~siting.errors.InputError` naming the file and the field. The data: L. Ntaimo and S. Sen,
"The 'million-variable' march for stochastic combinatorial optimization", J. Global Optim. 32
(2005); SIPLIB (Ahmed et al.); files from Pyomo/mpi-sppy ``examples/sslp/data`` (BSD-3), see
``../shared/data/sslp/README.md``.

Model (indices: site j, client i, scenario s; 0-based here)::

    min  sum_j c_j x_j + sum_s p_s [ sum_j q0_j o_sj - sum_ij q_ij y_sij ]
    s.t. sum_j x_j <= v
         sum_i d_ij y_sij - o_sj <= u x_j        for all s, j
         sum_j y_sij = h_si                      for all s, i
         x_j, y_sij in {0,1},  o_sj >= 0
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np

from ..errors import InputError

__all__ = ["SSLPInstance", "parse_dat", "read_instance", "instance_names"]

# Defaults of the mpi-sppy ReferenceModel.py for values a file leaves out.
DEFAULT_PENALTY = 1000.0  # q0_j, the same for every server
DEFAULT_PRESENT = 1  # h_i
DEFAULT_TABLE_VALUE = 0.0  # FixedCost, Revenue, Demand

_TOKEN = re.compile(r":=|:|[^\s:;]+")


@dataclasses.dataclass(frozen=True)
class SSLPInstance:
    """One SSLP instance as arrays (0-based indices)."""

    name: str
    n_servers: int  # m, potential server sites j
    n_clients: int  # n, potential clients i
    n_scenarios: int  # S
    fixed_cost: np.ndarray  # (m,)    c_j, cost of opening site j
    max_servers: int  # v, bound on sum_j x_j (the SIPLIB files use v = m)
    capacity: float  # u, capacity of every server
    revenue: np.ndarray  # (n, m) q_ij, revenue if client i is served from j
    demand: np.ndarray  # (n, m)  d_ij, resource client i uses at server j
    presence: np.ndarray  # (S, n) h_si in {0,1}, client i present in scenario s
    probability: np.ndarray  # (S,)   p_s, sums to 1
    overflow_penalty: np.ndarray  # (m,) q0_j, cost per unit of capacity overflow
    scenario_names: tuple  # ("Scenario1", ...), order of the rows of presence

    def summary(self) -> str:
        return (
            f"{self.name}: {self.n_servers} servers, {self.n_clients} clients, "
            f"{self.n_scenarios} scenarios; u={self.capacity:g}, v={self.max_servers}, "
            f"q0={np.unique(self.overflow_penalty).tolist()}, "
            f"mean clients present={self.presence.sum(axis=1).mean():.2f}"
        )


def _number(tok: str):
    try:
        return int(tok)
    except ValueError:
        pass
    try:
        return float(tok)
    except ValueError:
        return tok


def parse_dat(text: str) -> dict:
    """Parse the ``param``/``set`` statements of one .dat text.

    Returns {name: value}; value is a number (scalar param), a dict keyed by label
    (one-index param), a dict keyed by (row label, column label) (two-index param),
    or a list (set).  Labels are ints where they look like ints, else strings.
    """
    text = re.sub(r"#[^\n]*", "", text)
    out = {}
    for stmt in text.split(";"):
        toks = _TOKEN.findall(stmt)
        if not toks:
            continue
        kind, name, rest = toks[0], toks[1] if len(toks) > 1 else None, toks[2:]
        if kind not in ("param", "set") or name is None:
            raise ValueError(f"unexpected statement: {stmt.strip()[:60]!r}")
        if kind == "set":
            if not rest or rest[0] != ":=":
                raise ValueError(f"set {name}: expected ':='")
            out[name] = [_number(t) for t in rest[1:]]
            continue
        if not rest:
            raise ValueError(f"param {name}: no data")
        if rest[0] == ":=":
            vals = rest[1:]
            if len(vals) == 1:
                out[name] = _number(vals[0])
            elif len(vals) % 2 == 0:
                out[name] = {_number(k): _number(v) for k, v in zip(vals[::2], vals[1::2])}
            else:
                raise ValueError(f"param {name}: odd number of key/value tokens")
        elif rest[0] == ":":
            if ":=" not in rest:
                raise ValueError(f"param {name}: table without ':='")
            k = rest.index(":=")
            cols = [_number(t) for t in rest[1:k]]
            body = rest[k + 1 :]
            width = len(cols) + 1
            if not cols or len(body) % width:
                raise ValueError(f"param {name}: table body does not fit {len(cols)} columns")
            table = {}
            for r in range(0, len(body), width):
                row = _number(body[r])
                for c, tok in zip(cols, body[r + 1 : r + width]):
                    table[(row, c)] = _number(tok)
            out[name] = table
        else:
            raise ValueError(f"param {name}: expected ':=' or ':'")
    return out


def _read(path: Path) -> dict:
    return parse_dat(Path(path).read_text(encoding="ascii"))


def _vector(d, m, default):
    v = np.full(m, float(default))
    for k, val in (d or {}).items():
        if not (isinstance(k, int) and 1 <= k <= m):
            raise ValueError(f"index {k!r} outside 1..{m}")
        v[k - 1] = float(val)
    return v


def _matrix(d, n, m, default):
    a = np.full((n, m), float(default))
    for (i, j), val in (d or {}).items():
        if not (isinstance(i, int) and isinstance(j, int) and 1 <= i <= n and 1 <= j <= m):
            raise ValueError(f"index {(i, j)!r} outside 1..{n} x 1..{m}")
        a[i - 1, j - 1] = float(val)
    return a


def _scenario_probabilities(structure: dict) -> tuple:
    """Scenario names and probabilities from ScenarioStructure.dat.

    A scenario's probability is the product of ConditionalProbability along the
    path from RootNode to its leaf (two stages here, but any depth works).
    """
    names = tuple(structure["Scenarios"])
    cond = structure["ConditionalProbability"]
    parent = {}
    for key, children in structure.items():
        m = re.fullmatch(r"Children\[(.+)\]", str(key))
        if m:
            for ch in children:
                parent[ch] = m.group(1)
    probs = []
    for s in names:
        node, p = structure["ScenarioLeafNode"][s], 1.0
        while node is not None:
            p *= float(cond[node])
            node = parent.get(node)
        probs.append(p)
    return names, np.array(probs)


def _folder(path: Path) -> tuple[str, Path]:
    path = Path(path)
    if not path.is_dir():
        raise InputError("sslp", "instance folder", f"no folder {str(path)!r}")
    name = path.name
    if (path / "scenariodata").is_dir():
        path = path / "scenariodata"
    if name == "scenariodata":
        name = path.parent.name
    return name, path


def read_instance(path) -> SSLPInstance:
    """Read one instance from a folder holding ScenarioStructure.dat and Scenario<k>.dat
    (directly or in scenariodata/); every scenario file must carry the same first-stage and
    recourse data."""
    name, folder = _folder(path)
    try:
        return _read_instance(name, folder)
    except (ValueError, KeyError) as e:
        raise InputError(f"sslp {name}", "data", str(e)) from None
    except OSError as e:
        raise InputError(f"sslp {name}", "files", str(e)) from None


def _read_instance(name: str, folder: Path) -> SSLPInstance:
    names, prob = _scenario_probabilities(_read(folder / "ScenarioStructure.dat"))
    first = None
    presence = []
    for s in names:
        d = _read(folder / f"{s}.dat")
        m, n = int(d["NumServers"]), int(d["NumClients"])
        fixed = _vector(d.get("FixedCost"), m, DEFAULT_TABLE_VALUE)
        rev = _matrix(d.get("Revenue"), n, m, DEFAULT_TABLE_VALUE)
        dem = _matrix(d.get("Demand"), n, m, DEFAULT_TABLE_VALUE)
        cap = float(d["Capacity"])
        pen = float(d.get("Penalty", DEFAULT_PENALTY))
        here = (m, n, cap, pen, fixed, rev, dem)
        if first is None:
            first = here
        else:
            same = first[:4] == here[:4] and all(np.array_equal(a, b) for a, b in zip(first[4:], here[4:]))
            if not same:
                raise ValueError(f"{s}: first-stage or recourse data differ from {names[0]}")
        h = _vector(d.get("ClientPresent"), n, DEFAULT_PRESENT)
        if not np.isin(h, (0.0, 1.0)).all():
            raise ValueError(f"{s}: ClientPresent not 0/1")
        presence.append(h.astype(np.int8))
    m, n, cap, pen, fixed, rev, dem = first
    if not np.isclose(prob.sum(), 1.0):
        raise ValueError(f"probabilities sum to {prob.sum()}")
    return SSLPInstance(name=name, n_servers=m, n_clients=n, n_scenarios=len(names), fixed_cost=fixed,
                        max_servers=m,  # no 'v' in these files; SIPLIB's cores use v = m (row c1)
                        capacity=cap, revenue=rev, demand=dem, presence=np.array(presence), probability=prob,
                        overflow_penalty=np.full(m, pen), scenario_names=names)


def instance_names(root) -> list[str]:
    """Names of the instance folders under ``root``."""
    return sorted(e.name for e in Path(root).iterdir() if e.name.startswith("sslp_") and e.is_dir())
