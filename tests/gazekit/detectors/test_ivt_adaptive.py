"""Tests of ivt_adaptive: adaptive threshold, oscillation trimming, merging and minimum
duration, each on a constructed signal worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from gazekit.detectors import detect, ivt_adaptive, savgol_speed
from gazekit.detectors.common import prepare
from gazekit.detectors.ivt_adaptive import merge_fixations, trim_oscillations


def ramp(n=500, onset=250, ms=20, amplitude=5.0):
    """1000 Hz, still at 0 then a linear saccade of ``amplitude`` deg over ``ms`` ms."""
    t = np.arange(n) * 1.0
    return t, np.clip((t - onset) / ms, 0, 1) * amplitude, np.zeros(n)


def test_finds_the_fixations_around_a_saccade():
    t, x, y = ramp()
    found = ivt_adaptive(t, x, y)
    # No noise: the threshold is the 20 deg/s floor. The 11-sample (10 ms) filter's derivative
    # at the centre is sum(k * x_k) / 110: sample 246 sees only x[251] = 0.25 deg (11.4 deg/s,
    # slow), sample 247 sees x[251], x[252] (31.8 deg/s, fast). After the saccade, sample 274
    # sees x[269] = 4.75 (11.4 deg/s, slow) but lies in the oscillation window and exceeds
    # 0.5 * 20 deg/s, so the fixation starts at 275.
    assert found[["start", "stop"]].values.tolist() == [[0, 247], [275, 500]]
    np.testing.assert_allclose(found["duration_ms"], [247.0, 225.0])
    # Without the oscillation rule (factor above 1) it starts at 274.
    assert ivt_adaptive(t, x, y, pso_factor=1.5)["start"].tolist() == [0, 274]


def test_threshold_adapts_to_noise():
    rng = np.random.default_rng(0)
    t, x, y = ramp(n=2000, onset=1000)
    x = x + rng.normal(0, 0.1, t.size)  # noise of a remote tracker: median speed ~11 deg/s
    y = y + rng.normal(0, 0.1, t.size)
    speed = savgol_speed(t, x, y, window_ms=10.0)
    noise = np.median(speed)
    assert 6 * noise > 20  # the noise, not the floor, sets the threshold here
    found = ivt_adaptive(t, x, y)
    assert len(found) == 2  # the fixations are not split by noise
    # A fixed 20 deg/s threshold on the same speed splits them into pieces.
    assert len(detect(t, x, y, method="ivt", velocity_deg_s=20.0, window_ms=10.0,
                      min_duration_ms=40.0)) > 2
    # Threshold exactly 6 x median: the slow samples are those below it.
    slow = speed < 6 * noise
    assert slow[found["start"][0]:found["stop"][0]].all()


def test_trim_oscillations_by_hand():
    s = prepare(np.arange(10.0), np.zeros(10), np.zeros(10))
    v = np.array([50, 50, 20, 5, 20, 5, 5, 5, 5, 5.0])  # deg/s, threshold 30: slow from 2
    slow = v < 30
    # First 4 ms after the saccade: samples 2..5; above 15 deg/s: 2 and 4 -> onset 5.
    assert [a.tolist() for a in trim_oscillations(s, v, np.full(10, 30.0), slow,
                                                  np.array([2]), np.array([10]), pso_ms=4.0,
                                                  pso_factor=0.5)] == [[5], [10]]
    # A fixation at the start of a recording follows no saccade: left alone.
    v0 = np.array([20, 5, 5, 50, 50, 5, 5, 5, 5, 5.0])
    start, stop = trim_oscillations(s, v0, np.full(10, 30.0), v0 < 30, np.array([0, 5]),
                                    np.array([3, 10]), pso_ms=4.0, pso_factor=0.5)
    assert start.tolist() == [0, 5] and stop.tolist() == [3, 10]


def test_merge_fixations_by_hand():
    # Fixation A at 0 deg (samples 0-9), 2 lost samples, B at 0.2 deg (12-21), C at 3 deg.
    x = np.r_[np.zeros(10), np.nan, np.nan, np.full(10, 0.2), np.full(10, 3.0)]
    s = prepare(np.arange(32.0), x, np.zeros(32))
    start, stop = np.array([0, 12, 22]), np.array([10, 22, 32])
    merged = merge_fixations(s, start, stop, gap_ms=5.0, distance_deg=0.5)
    assert [a.tolist() for a in merged] == [[0, 22], [22, 32]]
    # The gap (2 ms) is over the limit, or the distance (0.2 deg) is: nothing merges.
    for gap_ms, distance in ((1.0, 0.5), (5.0, 0.1)):
        kept = merge_fixations(s, start, stop, gap_ms=gap_ms, distance_deg=distance)
        assert [a.tolist() for a in kept] == [start.tolist(), stop.tolist()]
    # Chains merge: A-B and B-C both close.
    assert [a.tolist() for a in merge_fixations(s, start, stop, gap_ms=5.0,
                                                distance_deg=3.0)] == [[0], [32]]


def test_merging_bridges_a_short_loss_and_minimum_duration_applies_after():
    t, x, y = np.arange(300) * 1.0, np.zeros(300), np.zeros(300)
    x[100:110] = np.nan  # 10 ms of track loss inside one fixation
    assert ivt_adaptive(t, x, y)[["start", "stop"]].values.tolist() == [[0, 100], [110, 300]]
    merged = ivt_adaptive(t, x, y, merge_gap_ms=20.0)
    assert merged[["start", "stop"]].values.tolist() == [[0, 300]]
    assert merged["duration_ms"].tolist() == [300.0]
    # Two 30 ms pieces around a 5 ms loss: each is below 40 ms, together they last 65 ms.
    x2 = np.full(300, 5.0)
    x2[100:130], x2[135:165] = 0.0, 0.0
    x2[130:135] = np.nan
    y2 = np.zeros(300)
    pieces = ivt_adaptive(t, x2, y2, min_duration_ms=40.0)
    assert not ((pieces["start"] >= 100) & (pieces["stop"] <= 165)).any()
    joined = ivt_adaptive(t, x2, y2, merge_gap_ms=10.0, min_duration_ms=40.0)
    assert ((joined["start"] >= 100) & (joined["stop"] <= 165)).sum() == 1


@pytest.mark.parametrize("kw, message", [
    ({"merge_gap_ms": -1.0}, "merge_gap_ms must be a finite number >= 0"),
    ({"noise_factor": 0.0}, "noise_factor must be a positive"),
    ({"pso_ms": float("nan")}, "pso_ms must be a positive"),
])
def test_bad_parameters(kw, message):
    with pytest.raises(ValueError, match=message):
        ivt_adaptive(*ramp(), **kw)
