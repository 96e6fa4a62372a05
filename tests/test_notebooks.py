"""The notebooks in notebooks/ run top to bottom on the outputs of a tiny pipeline.

Each jupytext ``py:percent`` file is converted to a notebook in memory and executed in
a fresh Python kernel (nbclient), with ``CHURNML_PROJECT`` pointing at the session's
tiny pipeline (tests/tiny_pipeline.py) and the kernel started outside the project, so
a notebook that finds the project only through the working directory fails here.
Any cell error fails the test, naming the notebook and showing the cell's traceback.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("e2e")
NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9]*.py"))
CELL_TIMEOUT = 600


def test_the_documented_notebooks_exist():
    names = {p.stem for p in NOTEBOOKS}
    assert {"01_explore_scores", "02_model_diagnostics", "03_customer_journeys"} <= names


def test_notebooks_are_percent_scripts_without_outputs(project_root):
    import jupytext

    assert "notebooks/*.ipynb" in (project_root / ".gitignore").read_text().splitlines()
    tracked = subprocess.run(["git", "ls-files", "notebooks"], cwd=project_root,
                             capture_output=True, text=True)
    if tracked.returncode == 0:  # a git checkout: only .py sources are committed
        assert not [f for f in tracked.stdout.split() if f.endswith(".ipynb")]
    for path in NOTEBOOKS:
        notebook = jupytext.read(path)
        assert notebook.metadata["jupytext"]["text_representation"]["format_name"] == "percent"
        assert any("import churnml" in c.source or "from churnml" in c.source
                   for c in notebook.cells if c.cell_type == "code"), path.name


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path: Path, tiny_pipeline: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch):
    import jupytext
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    monkeypatch.setenv("CHURNML_PROJECT", str(tiny_pipeline))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    for key in [k for k in os.environ if k.startswith("MLFLOW_")]:
        monkeypatch.delenv(key)
    notebook = jupytext.read(path)
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    try:
        client.execute()
    except CellExecutionError as exc:
        pytest.fail(f"{path.name} failed:\n{exc}")
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{path.name}: no plot shown"
