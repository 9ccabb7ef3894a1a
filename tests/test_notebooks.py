import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def kernel_name():
    """``python3``, checked to start this interpreter (the project's virtual environment)."""
    spec = KernelSpecManager().get_kernel_spec("python3")
    command = spec.argv[0]
    assert command in ("python", "python3", sys.executable), \
        f"kernel python3 would run {command}, not {sys.executable}"
    return "python3"


@pytest.mark.parametrize("name", ["quickstart", "covid_case_study", "counterfactual_sweep"])
def test_notebook_runs(name, kernel_name, tmp_path, monkeypatch):
    monkeypatch.setenv("SOCIALTWIN_NOTEBOOK_AGENTS", "150")
    monkeypatch.setenv("SOCIALTWIN_NOTEBOOK_ENGINE", "rules")
    monkeypatch.setenv("SOCIALTWIN_NOTEBOOK_SEEDS", "2")
    monkeypatch.setenv("SOCIALTWIN_NOTEBOOK_OUT", str(tmp_path / "sweep"))
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name=kernel_name,
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    images = [output for cell in notebook.cells if cell.cell_type == "code"
              for output in cell.get("outputs", []) if "image/png" in output.get("data", {})]
    assert images, "the notebook draws its plots inline"
    if name == "counterfactual_sweep":
        assert (tmp_path / "sweep" / "report.md").is_file()
