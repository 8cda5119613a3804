"""The figure notebooks are committed without outputs and run on small data (nbclient).

fig2 and fig4 run on their fallbacks (UNTRAINED models on synthetic images or synthetic
FER2013-format faces, no shipped weights); fig3 on
fake shipped Fashion-MNIST weights (seeded random, in a tmp ZOO_WEIGHTS) and the shipped
example images. Outputs are checked against independent computations."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import torch
from nbclient import NotebookClient
from PIL import Image

import zoo
from zoo.pretrained import save_pretrained

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
N_IMAGES = 6


def execute(name: str) -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return nb


def outputs(nb: nbformat.NotebookNode, kind: str) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
            if o.output_type == kind]


@pytest.mark.parametrize("name", ["fig2_glimpses", "fig3_densities", "fig4_fer_glimpses"])
def test_committed_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)


def test_fig2_on_untrained_models(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_WEIGHTS", str(tmp_path / "no-weights"))
    monkeypatch.setenv("FIG_OUT", str(tmp_path / "out"))
    monkeypatch.setenv("FIG_IMAGES", str(N_IMAGES))
    monkeypatch.delenv("FIG_EXPORTS", raising=False)
    nb = execute("fig2_glimpses")
    assert any("image/png" in o.data for o in outputs(nb, "display_data"))
    exports = tmp_path / "out" / "exports"
    models = [pd.read_parquet(exports / f"{m}-12-untrained.parquet")
              for m in ("mram", "dram", "ram")]
    assert [m["model"].iloc[0] for m in models] == [
        "MRAM-12 (untrained)", "DRAM-12 (untrained)", "RAM-12 (untrained)"]
    # One column per class among the exported images, one row per model, 1.4 in at 200 dpi.
    columns = models[0]["label"].nunique()
    with Image.open(tmp_path / "out" / "fig2_glimpses.png") as png:
        assert png.size == (280 * columns, 280 * 3)


def test_fig4_on_untrained_models_with_two_scales(tmp_path, monkeypatch):
    monkeypatch.setenv("FIG_OUT", str(tmp_path / "out"))
    monkeypatch.setenv("FIG_IMAGES", "7")
    monkeypatch.delenv("FIG_EXPORTS", raising=False)
    nb = execute("fig4_fer_glimpses")
    assert any("image/png" in o.data for o in outputs(nb, "display_data"))
    exports = tmp_path / "out" / "exports"
    rows = [pd.read_parquet(exports / f"{m}-12{s}-untrained.parquet")
            for s in ("", "-2scales") for m in ("mram", "dram", "ram")]
    assert [(r["model"].iloc[0], r["scales"].iloc[0]) for r in rows] == [
        (f"{m}-12{s} (untrained)", n) for s, n in (("", 1), ("-2scales", 2))
        for m in ("MRAM", "DRAM", "RAM")]
    assert all(r["dataset"].iloc[0] == "fer2013" and r["image_id"].nunique() == 7 for r in rows)
    columns = rows[0]["label"].nunique()  # one image per class among the 7 exported
    with Image.open(tmp_path / "out" / "fig4_glimpses.png") as png:
        assert png.size == (280 * columns, 280 * 6)


def naive_counts(df: pd.DataFrame, threshold: float = 6.0) -> tuple[int, int]:
    """Fixations and saccades of all scanpaths in ``df``: a plain loop, consecutive rule."""
    fixations = saccades = 0
    for _, path in df.sort_values(["image_id", "step"]).groupby("image_id"):
        xy = path[["x", "y"]].to_numpy()
        jumps = sum(math.dist(a, b) >= threshold for a, b in zip(xy[:-1], xy[1:], strict=True))
        saccades += jumps
        fixations += jumps + 1
    return fixations, saccades


def test_fig3_on_shipped_weights(tmp_path, monkeypatch):
    weights = tmp_path / "weights"
    shutil.copytree(REPO / "zoo" / "weights" / "examples", weights / "examples")
    torch.manual_seed(0)
    for name in ("mram", "dram", "ram"):
        model = zoo.create_model(name, glimpses=12)
        save_pretrained(model.state_dict(), {
            "model": name, "model_kwargs": model.config, "dataset": "fashion-mnist",
            "normalization": {"mean": 0.286, "std": 0.353}, "image_size": [28, 28],
            "num_classes": 10}, weights)
    monkeypatch.setenv("ZOO_WEIGHTS", str(weights))
    monkeypatch.setenv("FIG_OUT", str(tmp_path / "out"))
    monkeypatch.setenv("FIG_IMAGES", str(N_IMAGES))
    monkeypatch.delenv("FIG_EXPORTS", raising=False)
    nb = execute("fig3_densities")
    text = "".join(o.text for o in outputs(nb, "stream"))
    assert "shipped fashion-mnist weights" in text
    assert any("image/png" in o.data for o in outputs(nb, "display_data"))
    summary = pd.read_csv(tmp_path / "out" / "analysis" / "summary.csv").set_index("group")
    for name, label in (("mram-12", "MRAM-12"), ("dram-12", "DRAM-12"), ("ram-12", "RAM-12")):
        df = pd.read_parquet(tmp_path / "out" / "exports" / f"{name}.parquet")
        assert df["image_id"].nunique() == N_IMAGES
        fixations, saccades = naive_counts(df)
        assert (summary.loc[label, "fixations"], summary.loc[label, "saccades"]) == (
            fixations, saccades)
    claims = outputs(nb, "execute_result")[-2].data["text/plain"]
    assert "MRAM mixes fixations and saccades" in claims
    # The threshold sweep: its figure and the claims re-judged at every threshold.
    assert (tmp_path / "out" / "threshold_sweep.png").stat().st_size > 0
    by_threshold = outputs(nb, "execute_result")[-1].data["text/plain"]
    assert "mram_between" in by_threshold and "12 px" in by_threshold
