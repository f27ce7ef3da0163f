"""The notebooks run top to bottom in a real Jupyter kernel (nbclient), in a scratch folder."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = [Path(__file__).resolve().parents[2] / "notebooks" / "what_if.ipynb"]  # the others: test_notebooks_explore


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") and not c.get("execution_count") for c in nb.cells if c.cell_type == "code"), \
        "commit notebooks with their outputs stripped"
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert (tmp_path / "what_if_base" / "map.html").exists()
    assert (tmp_path / "what_if_sweep" / "sweep.csv").exists()
    shown = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "display_data"]
    assert any("image/png" in o.get("data", {}) for o in shown), "the plots were not drawn"
    assert any("srcdoc" in o.get("data", {}).get("text/html", "") for o in shown), "the map was not shown"
