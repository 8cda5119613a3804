"""The knob grid (issue 14, part B) on tiny fake runs trained with the grid's own zoo train
arguments (on the synthetic data set, 1-2 epochs): queue, table, verdicts per setting, partial
runs and the reduced-protocol labels, checked against independent computations."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy.stats import binomtest

from analysis import sensitivity
from analysis.claims import measure_claims
from analysis.experiments import DRAM_REMEDY_ARGS
from gazekit.schema import validate
from gazekit.segment import segment
from zoo.train import main as train_main

LIMIT = 24
RESAMPLES = 200
TRAINED = ("ram-7-default", "mram-7-default", "ram-7-std0.05", "ram-7-first-random",
           "mram-7-detach", "dram-7-default")


def train_like_the_grid(runs: Path, name: str, epochs: int = 1) -> None:
    """Train run ``name`` with the grid's arguments, on the synthetic data in a few seconds."""
    args = list(next(r for r in sensitivity.sensitivity_runs() if r.run == name).args)
    args[args.index("--dataset") + 1] = "synthetic"
    args[args.index("--epochs") + 1] = str(epochs)
    assert train_main([*args, "--out", str(runs / name), "--limit", "64", "--batch-size",
                       "32", "--num-threads", "1", "--hidden", "32"]) == 0


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    root = tmp_path_factory.mktemp("sensitivity")
    runs = root / "runs"
    for name in TRAINED:
        train_like_the_grid(runs, name, epochs=2 if name == "mram-7-detach" else 1)
    partial = runs / "mram-7-detach"  # interrupted after epoch 2
    (partial / "final.json").unlink()
    stamp = time.time() - 7200
    for f in partial.iterdir():
        os.utime(f, (stamp, stamp))
    results = root / "results"
    assert sensitivity.main(["--runs", str(runs), "--results", str(results), "--limit",
                             str(LIMIT), "--n-resamples", str(RESAMPLES)]) == 0
    table = pd.read_csv(results / "sensitivity_fashion_mnist.csv")
    claims = pd.read_csv(results / "sensitivity_fashion_mnist_claims.csv",
                         keep_default_na=False)
    return {"runs": runs, "results": results, "table": table, "claims": claims}


def test_grid_runs_order_and_arguments():
    runs = sensitivity.sensitivity_runs()
    names = [r.run for r in runs]
    assert names[:4] == ["ram-7-default", "mram-7-default", "ram-7-std0.05", "mram-7-std0.05"]
    assert len(names) == 3 * len(sensitivity.SETTINGS)
    assert all(n.startswith("dram-7-") for n in names[-len(sensitivity.SETTINGS):])
    by = {r.run: r.args for r in runs}
    for args in by.values():
        assert args[args.index("--epochs") + 1] == str(sensitivity.REDUCED_EPOCHS)
        assert "--seed" not in args and "--patience" not in args  # seed 1, same stopping
    assert by["ram-7-default"] == ("--model", "ram", "--dataset", "fashion-mnist",
                                   "--glimpses", "7", "--epochs", "100")
    assert by["mram-7-std0.2"][-2:] == ("--std", "0.2")
    assert by["ram-7-first-random"][-2:] == ("--first-location", "random")
    assert by["mram-7-detach"][-1] == "--reinforce-detach-core"
    assert by["ram-7-lr0.1-p20"][-4:] == ("--lr-factor", "0.1", "--lr-patience", "20")
    assert set(DRAM_REMEDY_ARGS) <= set(by["dram-7-std0.05"])


def test_knob_arguments_reach_the_runs_config(grid):
    def kwargs(run: str) -> dict:
        return json.loads((grid["runs"] / run / "config.json").read_text())["model_kwargs"]

    assert kwargs("ram-7-std0.05")["std"] == 0.05
    assert kwargs("ram-7-first-random")["first_location"] == "random"
    assert kwargs("mram-7-detach")["detach_policy_state"] is True
    assert "std" not in kwargs("ram-7-default")


def test_queue_and_protocol_are_printed(grid, capsys, tmp_path):
    assert sensitivity.main(["--runs", str(grid["runs"]), "--results", str(tmp_path),
                             "--limit", str(LIMIT), "--n-resamples", "50",
                             "--models", "ram", "mram"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == sensitivity.REDUCED_PROTOCOL
    queued = " ".join(line for line in out.splitlines() if "train_queue.sh" in line)
    assert "'ram-7-std0.2:--model ram --dataset fashion-mnist --glimpses 7 --epochs 100 " \
           "--std 0.2'" in queued
    assert "mram-7-detach:" in queued  # interrupted: queued to resume
    assert "ram-7-default:" not in queued and "dram-7" not in queued


def test_table_against_independent_computations(grid, naive_gaze):
    table = grid["table"].set_index("run")
    exports = grid["runs"] / "_sensitivity" / "exports"
    for run in TRAINED:
        row = table.loc[run]
        export = pd.read_parquet(exports / f"{run}-limit{LIMIT}.parquet")
        correct = export.groupby("image_id")["correct"].first()
        assert row["accuracy_pct"] == pytest.approx(100 * correct.mean(), abs=1e-9)
        ci = binomtest(int(correct.sum()), len(correct)).proportion_ci(method="wilson")
        assert row["accuracy_ci_low"] == pytest.approx(100 * ci.low)
        naive = naive_gaze(exports / f"{run}-limit{LIMIT}.parquet")
        for statistic, value in naive.items():
            assert row[statistic] == pytest.approx(value, rel=1e-9, nan_ok=True)
    assert table.loc["mram-7-detach", "state"] == "epoch 2 (partial)"
    assert table.loc["ram-7-default", "state"] == "finished"
    assert table.loc["ram-7-std0.2", "state"] == "not started"
    assert np.isnan(table.loc["ram-7-std0.2", "accuracy_pct"])


def setting_claims(grid, setting: str, dram_setting: str) -> pd.DataFrame:
    exports = grid["runs"] / "_sensitivity" / "exports"
    labels = {"ram": f"RAM-7 {setting}", "mram": f"MRAM-7 {setting}",
              "dram": f"DRAM-7 {dram_setting}"}
    parts = [pd.read_parquet(exports / f"{label.split()[0].lower()}-{label.split()[1]}"
                                       f"-limit{LIMIT}.parquet").assign(model=label)
             for label in labels.values()
             if (exports / f"{label.split()[0].lower()}-{label.split()[1]}-limit{LIMIT}"
                           ".parquet").is_file()]
    seg = segment(validate(pd.concat(parts, ignore_index=True)), 6.0, "consecutive")
    return measure_claims(seg.fixations, seg.saccades, labels, n_resamples=RESAMPLES)


def test_verdicts_per_setting(grid):
    claims, table = grid["claims"], grid["table"]
    assert set(claims["setting"]) == {"default", "std0.05", "first-random", "detach"}
    for setting in ("default", "std0.05", "first-random", "detach"):
        expected = setting_claims(grid, setting, "default")  # no DRAM-7 of these knobs
        got = claims[claims["setting"] == setting]
        assert list(got["verdict"]) == list(expected["verdict"])
        assert list(got["measured"]) == list(expected["measured"])
        assert set(got["dram_run"]) == {"DRAM-7 default"}
        row = table[(table["setting"] == setting) & (table["model"] == "RAM-7")].iloc[0]
        for claim in expected.itertuples():
            assert row[f"verdict_{claim.key}"] == claim.verdict
    # Only RAM in the std0.05 setting: the MRAM claims cannot be assessed there.
    std = claims[claims["setting"] == "std0.05"].set_index("key")
    assert std.loc["mram_between", "verdict"].startswith("cannot assess: no scanpaths of MRAM")


def test_every_output_is_labelled_reduced_protocol(grid):
    assert set(grid["table"]["protocol"]) == {sensitivity.REDUCED_PROTOCOL}
    assert set(grid["claims"]["protocol"]) == {sensitivity.REDUCED_PROTOCOL}
    assert sensitivity.REDUCED_PROTOCOL.startswith("REDUCED PROTOCOL")
    md = (grid["results"] / "sensitivity_fashion_mnist.md").read_text()
    assert md.count(sensitivity.REDUCED_PROTOCOL) == 2  # at the top and at the end
    with Image.open(grid["results"] / "sensitivity_fashion_mnist.png") as png:
        assert png.size[0] > 1000
    assert (grid["results"] / "sensitivity_fashion_mnist.svg").stat().st_size > 10_000
