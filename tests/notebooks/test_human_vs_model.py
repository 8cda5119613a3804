"""Runs notebooks/human_vs_model.ipynb on the excerpts in tests/data/human."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "human_vs_model.ipynb"


def test_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


def test_notebook_runs_on_the_excerpts(monkeypatch, tmp_path):
    monkeypatch.delenv("GAZEKIT_HUMAN_DATA", raising=False)
    monkeypatch.delenv("GAZEKIT_MODEL_SCANPATHS", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the notebook's outputs go to a temp dir
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # Started from the notebooks/ folder, as Jupyter would: the notebook finds the repo root.
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    text = "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
                     + str(o.get("data", {}).get("text/markdown", ""))
                     for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert str(ROOT / "tests" / "data" / "human") in text
    assert "closest to `human` by KS" in text
    assert "Unit bridging between model and human: physical" in text
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if "image/png" in o.get("data", {})]
    assert len(images) == 3  # the trace and two density figures
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
