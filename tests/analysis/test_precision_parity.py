"""bf16 against float32 parity (issue 16): the verdict rule on hand-made numbers, and the whole
script on tiny fake runs against an independent computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import precision_parity
from analysis.precision_parity import QUANTITIES, parity_table
from zoo.train import TrainConfig, train

LABELS = ["fp32 seed1", "fp32 seed2", "fp32 seed3", "bf16 seed1"]


def values(rows: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, index=LABELS)


def test_parity_when_the_precision_effect_is_within_the_seed_spread():
    v = values({"accuracy_pct": [88.0, 88.9, 88.3, 88.5], "saccade_px_mean": [9.0, 9.2, 9.1, 10.0]})
    effects = {"accuracy_pct": (0.5, 0.1, 0.9), "saccade_px_mean": (1.0, 0.8, 1.2)}
    table = parity_table(v, effects, finished=True)
    # seed spread = largest pairwise difference of the float32 seeds: 0.9 and 0.2
    assert table.loc["accuracy_pct", "seed_spread"] == pytest.approx(0.9)
    assert table.loc["saccade_px_mean", "seed_spread"] == pytest.approx(0.2)
    assert table.loc["accuracy_pct", "verdict"] == "parity"  # |0.5| <= 0.9
    assert table.loc["saccade_px_mean", "verdict"] == "differs"  # |1.0| > 0.2
    # a negative effect counts by its size
    negative = parity_table(v, {**effects, "accuracy_pct": (-0.95, -1.2, -0.7)}, True)
    assert negative.loc["accuracy_pct", "verdict"] == "differs"


def test_partial_when_a_run_is_unfinished_or_a_seed_missing():
    v = values({"accuracy_pct": [88.0, 88.9, 88.3, 88.5]})
    effects = {"accuracy_pct": (0.5, 0.1, 0.9)}
    assert parity_table(v, effects, finished=False).loc["accuracy_pct", "verdict"] == "partial"
    v.loc["fp32 seed3", "accuracy_pct"] = np.nan
    table = parity_table(v, effects, finished=True)
    assert table.loc["accuracy_pct", "verdict"] == "partial"
    assert table.loc["accuracy_pct", "seed_spread"] == pytest.approx(0.9)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Three float32 seeds and one bf16 run of RAM-7, one epoch each on the synthetic data."""
    root = tmp_path_factory.mktemp("parity")
    runs, bf16 = root / "runs", root / "precision" / "ram-7-bf16"
    common = dict(model="ram", model_kwargs={"glimpses": 7}, dataset="synthetic", epochs=1,
                  batch_size=32, limit=64, num_threads=1)
    for seed, name in precision_parity.FP32_RUNS.items():
        train(TrainConfig(**common, seed=seed, out_dir=str(runs / name)))
    train(TrainConfig(**common, seed=1, precision="bf16", out_dir=str(bf16)))
    results = root / "results"
    assert precision_parity.main(["--runs", str(runs), "--bf16", str(bf16), "--results",
                                  str(results), "--n-resamples", "200"]) == 0
    return runs, bf16, results


def test_script_matches_an_independent_computation(tiny, naive_gaze):
    runs, bf16, results = tiny
    table = pd.read_csv(results / "precision_parity.csv").set_index("quantity")
    assert list(table.index) == list(QUANTITIES)
    exports = {f"fp32 seed{s}": runs / "_precision" / "exports" / f"{name}.parquet"
               for s, name in precision_parity.FP32_RUNS.items()}
    exports["bf16 seed1"] = runs / "_precision" / "exports" / "ram-7-bf16.parquet"
    for label, path in exports.items():
        df = pd.read_parquet(path)
        accuracy = 100 * df.groupby("image_id")["correct"].first().mean()
        assert table.loc["accuracy_pct", label] == pytest.approx(accuracy)
        for quantity, value in naive_gaze(path).items():
            assert table.loc[quantity, label] == pytest.approx(value, nan_ok=True)
    for quantity in QUANTITIES:
        row = table.loc[quantity]
        assert row["effect"] == pytest.approx(row["bf16 seed1"] - row["fp32 seed1"],
                                              nan_ok=True)
        seeds = row[["fp32 seed1", "fp32 seed2", "fp32 seed3"]].to_numpy(float)
        assert row["seed_spread"] == pytest.approx(np.ptp(seeds), nan_ok=True)
        if np.isfinite(row["effect"]):
            assert row["effect_ci_low"] <= row["effect"] <= row["effect_ci_high"]
    assert set(table["criterion"]) == {precision_parity.CRITERION}
    text = (results / "precision_parity.md").read_text()
    assert "Criterion" in text and "Overall" in text


def test_no_weights_yet_says_so(tmp_path, capsys):
    assert precision_parity.main(["--runs", str(tmp_path / "none"), "--bf16",
                                  str(tmp_path / "none" / "bf16"), "--results",
                                  str(tmp_path / "results")]) == 1
    assert "no run has weights yet" in capsys.readouterr().out
    assert not (tmp_path / "results").exists()


def test_finished_runs_give_a_verdict(tiny):
    table = pd.read_csv(tiny[2] / "precision_parity.csv").set_index("quantity")
    assert set(table["verdict"]) <= {"parity", "differs", "partial"}
    finite = table[np.isfinite(table["effect"]) & np.isfinite(table["seed_spread"])]
    for quantity, row in finite.iterrows():
        expected = "parity" if abs(row["effect"]) <= row["seed_spread"] else "differs"
        assert row["verdict"] == expected, quantity
