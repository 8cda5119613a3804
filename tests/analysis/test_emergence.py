"""analysis/emergence.py on two tiny runs with snapshots: every snapshot summarised, the gaze
statistics checked against a plain loop (conftest.py) over one snapshot's exported scanpaths,
reuse of earlier rows, the figure, and one-line errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from analysis import emergence
from zoo.checkpoint import load_checkpoint
from zoo.export import export_scanpaths
from zoo.train import TrainConfig, train

LIMIT = 30


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("emergence")
    for name, model in (("mram-3", "mram"), ("ram-3", "ram")):
        train(TrainConfig(model=model, model_kwargs={"glimpses": 3, "hidden": 32},
                          dataset="synthetic", out_dir=str(root / name), epochs=3,
                          batch_size=32, limit=120, lr=3e-3, num_threads=1, snapshot_every=1))
    return root


def test_every_snapshot_is_summarised(runs, tmp_path, capsys, naive_gaze):
    out = tmp_path / "res" / "emergence_synthetic"
    assert emergence.main(["--runs", str(runs), "--run", "mram-3", "ram-3", "--limit",
                           str(LIMIT), "--out", str(out), "--device", "cpu"]) == 0
    table = pd.read_csv(out.with_suffix(".csv"))
    assert table[["run", "epoch"]].values.tolist() == [
        [r, e] for r in ("mram-3", "ram-3") for e in (0, 1, 2, 3)]  # 0: untrained
    assert set(table["model"]) == {"MRAM-3", "RAM-3"}
    assert (table["test_images"] == LIMIT).all() and (table["scanpaths"] == LIMIT).all()
    metrics = pd.read_json(runs / "ram-3" / "metrics.jsonl", lines=True)
    untrained = load_checkpoint(runs / "ram-3" / "snapshots" / "epoch-000.pt")
    np.testing.assert_allclose(table.loc[table["run"] == "ram-3", "val_acc_pct"],
                               100 * np.r_[untrained["metrics"]["val_acc"], metrics["val_acc"]])
    export = export_scanpaths(runs / "mram-3" / "snapshots" / "epoch-002.pt", split="test",
                              out=tmp_path / "x.parquet", limit=LIMIT, device="cpu")
    naive = naive_gaze(export)
    row = table[(table["run"] == "mram-3") & (table["epoch"] == 2)].iloc[0]
    assert row["fixational_share"] == pytest.approx(naive["fixational_share"])
    assert row["fixation_steps_mean"] == pytest.approx(naive["fixation_steps_mean"])
    assert row["saccade_px_mean"] == pytest.approx(naive["saccade_px_mean"], nan_ok=True)
    with Image.open(out.with_suffix(".png")) as png:
        assert png.size == (1800, 510)  # 12 x 3.4 in at 150 dpi
    # A second call reuses every row (no snapshot is exported again).
    capsys.readouterr()
    assert emergence.main(["--runs", str(runs), "--run", "mram-3", "ram-3", "--limit",
                           str(LIMIT), "--out", str(out), "--device", "cpu"]) == 0
    assert "[emergence]" not in capsys.readouterr().out
    pd.testing.assert_frame_equal(pd.read_csv(out.with_suffix(".csv")), table)


def test_errors_are_one_line(runs, tmp_path, capsys):
    (tmp_path / "runs" / "bare").mkdir(parents=True)
    for argv, fragment in (
            (["--runs", str(tmp_path / "runs"), "--run", "bare"], "no snapshots"),
            (["--runs", str(runs), "--run", "ram-3", "--limit", "0"], "--limit"),
    ):
        assert emergence.main([*argv, "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("emergence: error: ") and err.count("\n") == 1 and fragment in err
    assert not list(tmp_path.glob("o*"))
