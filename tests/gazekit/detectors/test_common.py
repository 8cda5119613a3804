"""Tests of the detectors' shared conventions: durations in samples, sampling intervals, runs,
Savitzky-Golay speed, and bad times."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import savgol_filter

from gazekit.detectors import duration_samples, idt, sampling_intervals, savgol_speed
from gazekit.detectors.common import runs_of


def test_duration_samples():
    assert duration_samples(100.0, 1000 / 300).item() == 30
    assert duration_samples(100.0, 3.352).item() == 30  # jitter-tolerant
    assert duration_samples(100.0, 1.0).item() == 100
    assert duration_samples(60.0, 1000 / 300).item() == 18
    assert duration_samples(0.1, 1.0).item() == 1  # at least one sample


def test_sampling_intervals_are_medians_per_recording():
    t = [0.0, 2.0, 4.0, 7.0, 9.0, 0.0, 1.0, 2.0]
    np.testing.assert_array_equal(sampling_intervals(t, [5, 5, 5, 5, 5, 3, 3, 3]),
                                  [2.0] * 5 + [1.0] * 3)


def test_runs_stop_at_recording_boundaries():
    mask = np.array([1, 1, 0, 1, 1, 1, 1, 0], bool)
    start, stop = runs_of(mask, np.array([0, 0, 0, 0, 0, 1, 1, 1]))
    assert start.tolist() == [0, 3, 5] and stop.tolist() == [2, 5, 7]


def test_savgol_speed_matches_savgol_filter_per_run(random_walk):
    t, x, y, recording = random_walk(3000, 2)
    speed = savgol_speed(t, x, y, recording=recording, window_ms=20.0)
    want = np.full(len(t), np.nan)
    valid = np.isfinite(x)
    edges = np.flatnonzero(np.diff(np.r_[0, valid.astype(int), 0]))
    # Runs of valid samples, also cut where the recording changes.
    cuts = sorted(set(edges) | {int(np.argmax(recording))})
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        if not valid[a] or b - a < 11:  # 2 ms samples: 11 samples span 20 ms
            continue
        vx = savgol_filter(x[a:b], 11, 2, deriv=1, delta=0.002, mode="interp")
        vy = savgol_filter(y[a:b], 11, 2, deriv=1, delta=0.002, mode="interp")
        want[a:b] = np.hypot(vx, vy)
    np.testing.assert_allclose(speed, want, rtol=1e-9, atol=1e-9)
    assert np.isfinite(want).sum() > 2500


@pytest.mark.parametrize("t, recording, message", [
    ([0.0, 1.0, 1.0, 2.0], None, "sample 2: time 1.0 ms does not increase"),
    ([0.0, 2.0, 1.0, 3.0], None, "sample 2: time 1.0 ms does not increase"),
    ([0.0, 1.0, 2.0, 3.0], [0, 1, 1, 1], "has a single sample"),
    ([0.0, 1.0, 2.0, 3.0], [0, 1, 0, 0], "contiguous blocks"),
    ([0.0, np.nan, 2.0, 3.0], None, "sample 1: time is not finite"),
])
def test_bad_times(t, recording, message):
    with pytest.raises(ValueError, match=message):
        idt(t, np.zeros(4), np.zeros(4), recording=recording)


def test_bad_shapes():
    with pytest.raises(ValueError, match="1-D arrays of one length"):
        idt(np.arange(4.0), np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="no samples given"):
        idt([], [], [])
