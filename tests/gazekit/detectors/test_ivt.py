"""Tests of the I-VT detector on hand-made streams and against a plain loop."""

from __future__ import annotations

import numpy as np
import pytest

from gazekit.detectors import ivt, savgol_speed


@pytest.mark.parametrize("rate", [300.0, 1000.0])
def test_ivt_finds_the_steps(rate, stream, spans):
    dt = 1000 / rate
    found = spans(ivt(*stream(rate)))
    # The velocity filter spans 20 ms, so samples up to 10 ms from a jump move fast; the lost
    # data (850-970 ms) and the recording's ends leave the fixations whole.
    want = np.array([(0, 290), (310, 510), (530, 690), (710, 850), (970, 1110), (1130, 1400)])
    assert found.shape == want.shape
    assert np.abs(found - want).max() <= dt + 1e-6


def test_ivt_same_events_at_two_rates(stream, spans):
    slow, fast = (spans(ivt(*stream(rate, seed=7))) for rate in (300, 1000))
    assert slow.shape == fast.shape
    assert np.abs(slow - fast).max() <= 1000 / 300 + 1e-6


def test_ivt_is_runs_of_slow_samples(random_walk):
    t, x, y, recording = random_walk(3000, 3)
    speed = savgol_speed(t, x, y, recording=recording)
    found = ivt(t, x, y, recording=recording, velocity_deg_s=50.0, min_duration_ms=40.0)
    slow = speed < 50.0  # False where the speed is unknown
    want, i = [], 0
    while i < len(t):  # plain loop over samples
        if not slow[i]:
            i += 1
            continue
        j = i
        while j < len(t) and slow[j] and recording[j] == recording[i]:
            j += 1
        if j - i >= 20:  # 40 ms at 2 ms per sample
            want.append((i, j))
        i = j
    assert list(zip(found["start"], found["stop"], strict=True)) == want
    assert len(want) > 10
