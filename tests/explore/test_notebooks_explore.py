"""The exploration notebooks (front, alternatives, uncertainty) run top to bottom in a kernel, outputs stripped."""

import json
from pathlib import Path

import nbclient
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
EXPECTED = {"pareto.ipynb": ["pareto_small/pareto.csv", "pareto_small/pareto.png"],
            "alternatives.ipynb": ["alternatives_small/sites_in_alternatives.csv", "alternatives_sites.png"],
            "uncertainty.ipynb": ["uncertainty_value.csv", "uncertainty_cost_distribution.png"]}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_is_committed_without_outputs(name):
    nb = json.loads((NOTEBOOKS / name).read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(not c["outputs"] and c["execution_count"] is None for c in code)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_runs(name, tmp_path):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    for rel in EXPECTED[name]:
        assert (tmp_path / rel).stat().st_size > 0, rel
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
