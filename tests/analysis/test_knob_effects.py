"""Tests of analysis.knob_effects: the seed band that knob effects are set against, and
whether a knob acted at all."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.knob_effects import beside_seed_sd, epochs_as_default, seed_band


def test_seed_band_covers_95_percent_of_seed_only_differences():
    """Simulated normal seed noise: the difference of two new runs lies within the band made
    from the sd of n other seeds in 95 % of draws (a prediction interval), for n = 2, 3, 5;
    the naive |d| <= sd covers far less."""
    rng = np.random.default_rng(0)
    draws = 200_000
    for n in (2, 3, 5):
        seeds = rng.normal(0.3, 0.05, size=(draws, n))
        sd = seeds.std(axis=1, ddof=1)
        difference = rng.normal(0.3, 0.05, draws) - rng.normal(0.3, 0.05, draws)
        covered = np.mean(np.abs(difference) <= seed_band(sd, n))
        assert covered == pytest.approx(0.95, abs=0.003)
        assert np.mean(np.abs(difference) <= sd) < 0.6


def test_seed_band_closed_form_and_undefined_below_two_seeds():
    # t(0.975, 2) = 4.302653 (tables); t(0.975, 1) = 12.706205.
    assert seed_band(0.041, 3) == pytest.approx(4.302653 * np.sqrt(2) * 0.041, rel=1e-6)
    assert seed_band(1.0, 2) == pytest.approx(12.706205 * np.sqrt(2), rel=1e-6)
    assert np.isnan(seed_band(0.1, 1)) and np.isnan(seed_band(np.nan, 3))


def test_beside_seed_sd_flags_effects_against_the_band():
    table = pd.DataFrame({"model": ["RAM-7", "RAM-7", "MRAM-7"],
                          "d_fixational_share": [0.2, -0.3, 0.1]})
    spread = pd.DataFrame({"d_fixational_share_seed_sd": [0.041], "seed_n": [3],
                           "seed_partial": [False],
                           "seed_sd_source": ["full protocol, 3 seeds"]}, index=["RAM-7"])
    out = beside_seed_sd(table.copy(), spread)
    band = 4.302653 * np.sqrt(2) * 0.041  # 0.2495
    assert out["d_fixational_share_seed_band"].iloc[0] == pytest.approx(band, rel=1e-6)
    assert out["d_fixational_share_within_seed_noise"].tolist()[:2] == [True, False]
    assert pd.isna(out["d_fixational_share_within_seed_noise"].iloc[2])  # no seeds of MRAM-7
    assert out["seed_sd_source"].tolist()[2] == "model not in the seed table"
    # Effects the table lacks get no flag.
    assert out["d_accuracy_pp_within_seed_noise"].isna().all()
    # A partial seed row (a seed still training) gives no band and no flag.
    partial = beside_seed_sd(table.copy(), spread.assign(seed_partial=True))
    assert partial["d_fixational_share_seed_band"].isna().all()
    assert partial["d_fixational_share_within_seed_noise"].isna().all()
    assert partial["d_fixational_share_seed_sd"].iloc[0] == 0.041  # still shown


def write_log(folder: Path, lrs: list[float], times: list[float]) -> Path:
    """A metrics.jsonl of len(lrs) epochs: LR, timings and a health record as zoo train
    writes them."""
    folder.mkdir()
    lines = [json.dumps({"epoch": i + 1, "val_acc": 0.8, "lr": lr, "epoch_time_s": t,
                         "health": {"spread_px": [0.0, 1.5], "context_spread": None}})
             for i, (lr, t) in enumerate(zip(lrs, times, strict=True))]
    (folder / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    return folder


def test_epochs_as_default_counts_the_epochs_before_the_runs_part(tmp_path):
    default = write_log(tmp_path / "default", [3e-4, 3e-4, 1.5e-4, 1.5e-4], [10, 11, 12, 13])
    # Timings differ and do not count; the LR schedules part at epoch 3.
    late = write_log(tmp_path / "late", [3e-4, 3e-4, 3e-4, 3e-5], [20, 21, 22, 23])
    assert epochs_as_default(late, default) == 2
    # Never parts within the shorter log (a partial run): all of its epochs.
    same = write_log(tmp_path / "same", [3e-4, 3e-4, 1.5e-4], [1, 2, 3])
    assert epochs_as_default(same, default) == 3
    at_once = write_log(tmp_path / "at-once", [1e-3, 3e-4, 1.5e-4, 1.5e-4], [10, 11, 12, 13])
    assert epochs_as_default(at_once, default) == 0
    # A health value that differs is a different run too.
    health = write_log(tmp_path / "health", [3e-4] * 2, [10, 11])
    text = (health / "metrics.jsonl").read_text().replace("1.5]", "1.25]", 1)
    (health / "metrics.jsonl").write_text(text)
    assert epochs_as_default(health, default) == 0
    assert epochs_as_default(tmp_path / "missing", default) is None
