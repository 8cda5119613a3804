"""Synthetic gaze streams with known fixations, shared by the detector tests."""

from __future__ import annotations

import numpy as np
import pytest

# Fixations as (start ms, end ms, x deg, y deg), separated by instantaneous jumps (steps) of at
# least 4 degrees; the gaze is lost from 850 to 970 ms, inside the fourth fixation. All
# boundaries are multiples of 10 ms, so they fall on samples at both 300 and 1000 Hz.
TRUTH = [(0, 300, 0.0, 0.0), (300, 520, 4.0, 1.0), (520, 700, -3.0, 2.0),
         (700, 1120, 2.0, -2.0), (1120, 1400, 6.0, 3.0)]
LOST = (850, 970)
NOISE_DEG = 0.05


def _stream(rate_hz: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.arange(int(round(1400 * rate_hz / 1000))) * (1000 / rate_hz)
    x, y = np.empty_like(t), np.empty_like(t)
    for start, end, fx, fy in TRUTH:
        inside = (t >= start - 1e-9) & (t < end - 1e-9)
        x[inside], y[inside] = fx, fy
    rng = np.random.default_rng(seed)
    x += rng.normal(0, NOISE_DEG, t.size)
    y += rng.normal(0, NOISE_DEG, t.size)
    lost = (t >= LOST[0] - 1e-9) & (t < LOST[1] - 1e-9)
    x[lost] = y[lost] = np.nan
    return t, x, y


def _random_walk(n: int, seed: int):
    """Noisy positions with occasional jumps and gaps, two recordings, 500 Hz."""
    rng = np.random.default_rng(seed)
    x = np.cumsum(np.where(rng.random(n) < 0.01, rng.normal(0, 3, n), 0.0)) \
        + rng.normal(0, 0.1, n)
    y = np.cumsum(np.where(rng.random(n) < 0.01, rng.normal(0, 3, n), 0.0)) \
        + rng.normal(0, 0.1, n)
    lost = rng.random(n) < 0.002
    lost = lost | np.roll(lost, 1) | np.roll(lost, 2)
    x[lost] = y[lost] = np.nan
    recording = (np.arange(n) >= n // 3).astype(int)
    t = np.arange(n) * 2.0
    return t, x, y, recording


@pytest.fixture
def stream():
    """``stream(rate_hz, seed=0) -> (t_ms, x_deg, y_deg)``: the fixations of ``TRUTH`` with
    0.05 deg noise, lost from 850 to 970 ms."""
    return _stream


@pytest.fixture
def random_walk():
    """``random_walk(n, seed) -> (t_ms, x_deg, y_deg, recording)`` at 500 Hz."""
    return _random_walk


def onsets_and_ends(found) -> np.ndarray:
    return np.column_stack([found["onset_ms"], found["onset_ms"] + found["duration_ms"]])


@pytest.fixture
def spans():
    """``spans(table) -> array of (onset ms, end ms)`` per event."""
    return onsets_and_ends
