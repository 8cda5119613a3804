import json
import math

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch

from gazekit.schema import ScanpathError, validate
from zoo import data as zdata
from zoo import export as zexport
from zoo.checkpoint import CheckpointError
from zoo.export import export_scanpaths, export_source
from zoo.saliency import gradient_saliency

NORM = {"mean": 0.5, "std": 0.25}
T = 5
LIMIT = 12
COLUMNS = ["model", "dataset", "image_id", "label", "pred", "correct", "step", "x", "y",
           "image_width", "image_height", "glimpse_size", "scales", "policy"]


def by_hand_inputs(n):
    """The first n synthetic test images normalised with plain float64 arithmetic."""
    images, labels = zdata.load_dataset("synthetic", "test")
    x = (images[:n].double() / 255.0 - NORM["mean"]) / NORM["std"]
    return x.float().unsqueeze(1), labels[:n]


@pytest.fixture(scope="module")
def mram(make_checkpoint, tmp_path_factory):
    return make_checkpoint(tmp_path_factory.mktemp("ckpt") / "mram.pt", "mram",
                           normalization=NORM, glimpses=T)


@pytest.fixture(scope="module")
def mean_export(mram, tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "mram.parquet"
    return export_scanpaths(mram[0], out=out, limit=LIMIT, batch_size=5, device="cpu")


def test_export_is_a_valid_scanpath_table(mean_export):
    df = pd.read_parquet(mean_export)
    assert list(df.columns) == COLUMNS
    checked = validate(df, source=str(mean_export))
    assert checked["_scanpath"].nunique() == LIMIT
    assert len(df) == LIMIT * T
    counts = df.groupby("image_id")["step"].agg(["count", "min", "max"])
    assert counts.index.tolist() == list(range(LIMIT))
    assert (counts["count"] == T).all() and (counts["min"] == 0).all()
    assert (counts["max"] == T - 1).all()
    assert df["x"].between(0, 28).all() and df["y"].between(0, 28).all()
    assert set(df["model"]) == {"MRAM-5"} and set(df["policy"]) == {"mean"}
    assert set(df["dataset"]) == {"synthetic"}
    assert (df[["image_width", "image_height", "glimpse_size", "scales"]].drop_duplicates()
            .to_numpy().tolist() == [[28, 28, 8, 1]])
    assert pq.ParquetFile(mean_export).num_row_groups == math.ceil(LIMIT / 5)
    assert export_source(mean_export) == ("synthetic", "test")


def test_export_matches_a_direct_forward_pass(mram, mean_export):
    _, model = mram
    x, labels = by_hand_inputs(LIMIT)
    with torch.no_grad():
        out = model(x, sample=False)
    df = pd.read_parquet(mean_export).set_index(["image_id", "step"]).sort_index()
    image, step = 3, 2
    lx, ly = out.locations[image, step].double().tolist()
    row = df.loc[(image, step)]
    # pixel centre by hand: -1 is the left/top edge (0 px), +1 the right/bottom edge (28 px)
    # (tolerance: the export normalises in float32, this test in float64)
    assert row["x"] == pytest.approx((lx + 1) / 2 * 28, abs=1e-4)
    assert row["y"] == pytest.approx((ly + 1) / 2 * 28, abs=1e-4)
    first = df.xs(0, level="step")
    pred = out.logits.argmax(1).numpy()
    np.testing.assert_array_equal(first["pred"].to_numpy(), pred)
    np.testing.assert_array_equal(first["label"].to_numpy(), labels.numpy())
    np.testing.assert_array_equal(first["correct"].to_numpy(), pred == labels.numpy())


def test_stochastic_export_is_seeded_and_differs_from_the_mean(mram, mean_export, tmp_path):
    rng_before = torch.get_rng_state()
    paths = [export_scanpaths(mram[0], out=tmp_path / f"s{i}.parquet", limit=LIMIT,
                              batch_size=5, device="cpu", stochastic=True, seed=seed)
             for i, seed in enumerate((1, 1, 2))]
    assert torch.equal(torch.get_rng_state(), rng_before)  # global RNG left untouched
    a, b, c = (pd.read_parquet(p) for p in paths)
    mean = pd.read_parquet(mean_export)
    pd.testing.assert_frame_equal(a, b)
    assert set(a["policy"]) == {"sampled"} and set(a["model"]) == {"MRAM-5-sampled"}
    assert not np.allclose(a[["x", "y"]], mean[["x", "y"]])
    assert not np.allclose(a[["x", "y"]], c[["x", "y"]])
    assert a["x"].between(0, 28).all() and a["y"].between(0, 28).all()
    assert json.loads(pq.read_schema(paths[0]).metadata[b"zoo"])["seed"] == 1


def test_failed_export_leaves_nothing_and_keeps_an_old_file(mram, monkeypatch, tmp_path):
    out = tmp_path / "scan.parquet"
    export_scanpaths(mram[0], out=out, limit=3, device="cpu")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scan.parquet"]  # no temp files
    before = out.read_bytes()
    calls = []

    def fail_on_second_batch(*args):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(*args)

    real = zexport._batch_table
    monkeypatch.setattr(zexport, "_batch_table", fail_on_second_batch)
    with pytest.raises(RuntimeError, match="disk full"):
        export_scanpaths(mram[0], out=out, limit=LIMIT, batch_size=5, device="cpu")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scan.parquet"]
    assert out.read_bytes() == before
    new = tmp_path / "new" / "scan.parquet"
    with pytest.raises(RuntimeError):
        calls.clear()
        export_scanpaths(mram[0], out=new, limit=LIMIT, batch_size=5, device="cpu")
    assert not new.parent.exists()  # the folder made for it is gone too


def test_bad_input_raises_before_writing(mram, tmp_path):
    out = tmp_path / "x.parquet"
    with pytest.raises(ValueError, match="limit"):
        export_scanpaths(mram[0], out=out, limit=0, device="cpu")
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        export_scanpaths(tmp_path / "missing.pt", out=out, device="cpu")
    with pytest.raises(zdata.DatasetError):
        export_scanpaths(mram[0], split="nonsense", out=out, device="cpu")
    assert not out.exists()
    not_parquet = tmp_path / "bad.parquet"
    not_parquet.write_text("model,x\n")
    with pytest.raises(ScanpathError, match="bad.parquet"):
        export_source(not_parquet)


def test_cnn_export_is_a_saliency_scanpath(make_checkpoint, tmp_path):
    path, model = make_checkpoint(tmp_path / "cnn.pt", "cnn", normalization=NORM)
    out = export_scanpaths(path, out=tmp_path / "cnn.parquet", limit=4, device="cpu")
    df = validate(pd.read_parquet(out))
    assert set(df["policy"]) == {"saliency"} and set(df["model"]) == {"CNN-saliency-12"}
    assert (df.groupby("image_id").size() == 12).all()
    # glimpses sit on pixel centres; the first is the maximum of |d logit_pred / d image|
    np.testing.assert_array_equal(df["x"] % 1, 0.5)
    x, labels = by_hand_inputs(4)
    grad_input = x.clone().requires_grad_(True)
    logits = model(grad_input)
    pred = logits.argmax(1)
    logits[torch.arange(4), pred].sum().backward()
    sal = grad_input.grad.abs()[:, 0]
    torch.testing.assert_close(sal, gradient_saliency(model, x)[0])
    first = df[df["step"] == 0]
    flat = sal.view(4, -1).argmax(1)
    np.testing.assert_array_equal(first["x"].to_numpy(), (flat % 28).numpy() + 0.5)
    np.testing.assert_array_equal(first["y"].to_numpy(), (flat // 28).numpy() + 0.5)
    np.testing.assert_array_equal(first["pred"].to_numpy(), pred.numpy())
