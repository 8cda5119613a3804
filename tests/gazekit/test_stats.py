"""Tests of gazekit.stats on hand-built fixation and saccade tables."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from gazekit.stats import bootstrap_ci, summarize


def tables(categorical: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Group "A": scanpath 0 with fixations of 2, 1, 3 glimpses and scanpath 1 with one of 4
    (no time data). Group "B": scanpath 2 with five one-glimpse fixations of 100..500 ms."""
    fixations = pd.DataFrame({
        "model": ["A", "A", "A", "A", "B", "B", "B", "B", "B"],
        "_scanpath": [0, 0, 0, 1, 2, 2, 2, 2, 2],
        "n_glimpses": [2, 1, 3, 4, 1, 1, 1, 1, 1],
        "duration_ms": [np.nan] * 4 + [100.0, 200.0, 300.0, 400.0, 500.0],
    })
    saccades = pd.DataFrame({
        "model": ["A", "A", "B", "B", "B", "B"],
        "_scanpath": [0, 0, 2, 2, 2, 2],
        "distance_px": [10.0, 20.0, 7.0, 8.0, 9.0, 30.0],
    })
    if categorical:
        kind = pd.CategoricalDtype(["B", "A", "unused"])
        fixations["model"] = fixations["model"].astype(kind)
        saccades["model"] = saccades["model"].astype(kind)
    return fixations, saccades


@pytest.mark.parametrize("categorical", [False, True])
def test_counts_and_point_estimates_by_hand(categorical):
    out = summarize(*tables(categorical), n_resamples=200)
    assert list(out["group"]) == ["A", "B"]
    a, b = out.iloc[0], out.iloc[1]
    assert (a["scanpaths"], a["glimpses"], a["fixations"], a["saccades"]) == (2, 10, 4, 2)
    assert (b["scanpaths"], b["glimpses"], b["fixations"], b["saccades"]) == (1, 5, 5, 4)
    assert a["fixations_per_scanpath"] == 2.0 and b["fixations_per_scanpath"] == 5.0
    # 8 transitions in A, 2 of them saccades; every transition of B is a saccade.
    assert a["fixational_share"] == pytest.approx(0.75)
    assert b["fixational_share"] == pytest.approx(0.0)
    assert a["fixation_steps_mean"] == 2.5 and a["fixation_steps_median"] == 2.5
    assert a["fixation_steps_sd"] == pytest.approx(np.sqrt(5 / 3))
    assert (a["fixation_steps_q25"], a["fixation_steps_q75"]) == (1.75, 3.25)
    assert np.isnan(a["fixation_ms_mean"]) and np.isnan(a["fixation_ms_median_ci_low"])
    assert b["fixation_ms_mean"] == 300.0 and b["fixation_ms_median"] == 300.0
    assert b["fixation_ms_sd"] == pytest.approx(np.std([100, 200, 300, 400, 500], ddof=1))
    assert a["saccade_px_mean"] == 15.0 and b["saccade_px_median"] == 8.5
    assert (b["saccade_px_q25"], b["saccade_px_q75"]) == (7.75, 14.25)
    # One scanpath in B: no interval for its per-scanpath mean.
    assert np.isnan(b["fixations_per_scanpath_ci_low"])


def test_confidence_intervals_contain_the_estimates():
    out = summarize(*tables(), n_resamples=300)
    for prefix in ("fixation_steps", "saccade_px"):
        for stat in ("mean", "median"):
            est, low, high = (out[f"{prefix}_{stat}{s}"] for s in ("", "_ci_low", "_ci_high"))
            assert np.all((low <= est) & (est <= high))
    b = out.iloc[1]
    assert b["fixation_ms_mean_ci_low"] <= 300.0 <= b["fixation_ms_mean_ci_high"]
    a = out.iloc[0]
    assert a["fixations_per_scanpath_ci_low"] <= 2.0 <= a["fixations_per_scanpath_ci_high"]


def test_interval_equals_direct_scipy_call():
    fixations, saccades = tables()
    out = summarize(fixations, saccades, n_resamples=500, seed=7, confidence=0.9)
    expected = stats.bootstrap((np.array([7.0, 8.0, 9.0, 30.0]),), np.mean, vectorized=True,
                               n_resamples=500, confidence_level=0.9, method="percentile",
                               rng=np.random.default_rng(7)).confidence_interval
    assert out.iloc[1]["saccade_px_mean_ci_low"] == pytest.approx(expected.low)
    assert out.iloc[1]["saccade_px_mean_ci_high"] == pytest.approx(expected.high)


def test_single_group_when_no_group_column():
    fixations, saccades = tables()
    for out in (summarize(fixations, saccades, group_by=None, n_resamples=50),
                summarize(fixations.drop(columns="model"), saccades.drop(columns="model"),
                          n_resamples=50)):
        assert len(out) == 1 and out["group"].iloc[0] == "all"
        row = out.iloc[0]
        assert (row["scanpaths"], row["glimpses"], row["fixations"], row["saccades"]) == (
            3, 15, 9, 6)
        assert row["fixational_share"] == pytest.approx(1 - 6 / 12)
        assert row["fixation_ms_mean"] == 300.0  # only the finite durations count


def test_subsampling_widens_the_interval():
    x = np.random.default_rng(0).normal(size=20_000)
    full = np.subtract(*bootstrap_ci((x,), np.mean, n_resamples=300)[::-1])
    sub = np.subtract(*bootstrap_ci((x,), np.mean, n_resamples=300, max_bootstrap=500)[::-1])
    # Width scales as 1 / sqrt(sample size): about sqrt(40) = 6.3 times wider.
    assert 4 < sub / full < 9


def test_bad_input_raises():
    fixations, saccades = tables()
    with pytest.raises(ValueError, match="fixations: missing column 'n_glimpses'"):
        summarize(fixations.drop(columns="n_glimpses"), saccades)
    with pytest.raises(ValueError, match="saccades: missing group column 'model'"):
        summarize(fixations, saccades.drop(columns="model"))
    bad = saccades.assign(model=["A", "A", "B", "B", "C", "B"])
    with pytest.raises(ValueError, match="saccades: column 'model' row 4: group 'C'"):
        summarize(fixations, bad)
    with pytest.raises(ValueError, match="confidence"):
        summarize(fixations, saccades, confidence=1.5)
