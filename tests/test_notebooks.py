"""The notebooks run top to bottom (their code cells, in order, in one namespace)."""

import json
from pathlib import Path

import pytest

NOTEBOOKS = [Path(__file__).resolve().parents[1] / "notebooks" / "what_if.ipynb"]  # the others: test_notebooks_explore


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), f"{path.name}", "exec"), namespace)  # noqa: S102
    assert (tmp_path / "what_if_base" / "map.html").exists()
