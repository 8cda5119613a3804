"""Tests of gazekit.events: I-DT and I-VT on hand-made streams, references and real data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.signal import savgol_filter

from gazekit import events
from gazekit.human import TOBII, read_samples

DATA = Path(__file__).resolve().parents[1] / "data" / "human"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "human"

# --- hand-made streams ----------------------------------------------------------------------
# Fixations as (start ms, end ms, x deg, y deg), separated by instantaneous jumps (steps) of at
# least 4 degrees; the gaze is lost from 850 to 970 ms, inside the fourth fixation. All
# boundaries are multiples of 10 ms, so they fall on samples at both 300 and 1000 Hz.
TRUTH = [(0, 300, 0.0, 0.0), (300, 520, 4.0, 1.0), (520, 700, -3.0, 2.0),
         (700, 1120, 2.0, -2.0), (1120, 1400, 6.0, 3.0)]
LOST = (850, 970)
NOISE_DEG = 0.05


def stream(rate_hz: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def onsets_and_ends(found: pd.DataFrame) -> np.ndarray:
    return np.column_stack([found["onset_ms"], found["onset_ms"] + found["duration_ms"]])


@pytest.mark.parametrize("rate", [300.0, 1000.0])
def test_idt_finds_the_steps(rate):
    dt = 1000 / rate
    found = events.idt(*stream(rate))
    # The lost data split the fourth fixation. A fixation that follows a jump starts one
    # sample late: the sample that broke the previous window is removed with it (Salvucci &
    # Goldberg's pseudocode); one that follows lost data or starts the recording does not.
    want = [(0, 300), (300 + dt, 520), (520 + dt, 700), (700 + dt, 850), (970, 1120),
            (1120 + dt, 1400)]
    np.testing.assert_allclose(onsets_and_ends(found), want, atol=1e-6)
    lost = (found["onset_ms"] < LOST[1]) & (found["onset_ms"] + found["duration_ms"] > LOST[0])
    assert not lost.any()  # no fixation spans the lost samples


def test_idt_same_events_at_two_rates():
    slow, fast = (onsets_and_ends(events.idt(*stream(rate, seed=rate))) for rate in (300, 1000))
    assert slow.shape == fast.shape
    assert np.abs(slow - fast).max() <= 1000 / 300 + 1e-6  # within one (slower) sample


@pytest.mark.parametrize("rate", [300.0, 1000.0])
def test_ivt_finds_the_steps(rate):
    dt = 1000 / rate
    found = onsets_and_ends(events.ivt(*stream(rate)))
    # The velocity filter spans 20 ms, so samples up to 10 ms from a jump move fast; the lost
    # data and the recording's ends leave the fixations whole.
    want = np.array([(0, 290), (310, 510), (530, 690), (710, 850), (970, 1110), (1130, 1400)])
    assert found.shape == want.shape
    assert np.abs(found - want).max() <= dt + 1e-6


def test_ivt_same_events_at_two_rates():
    slow, fast = (onsets_and_ends(events.ivt(*stream(rate, seed=7))) for rate in (300, 1000))
    assert slow.shape == fast.shape
    assert np.abs(slow - fast).max() <= 1000 / 300 + 1e-6


def test_minimum_duration_is_in_ms():
    # 100 ms are 30 samples at 300 Hz: a 30-sample still period is a fixation, 29 are not.
    for n, expected in ((30, 1), (29, 0)):
        t = np.arange(n + 20) * (1000 / 300)
        x = np.where(np.arange(n + 20) < n, 0.0, np.arange(n + 20) * 2.0)  # then moves on
        found = events.idt(t, x, np.zeros_like(x))
        assert len(found) == expected
    assert events.duration_samples(100.0, 1000 / 300).item() == 30
    assert events.duration_samples(100.0, 3.352).item() == 30  # jitter-tolerant
    assert events.duration_samples(100.0, 1.0).item() == 100
    assert events.duration_samples(60.0, 1000 / 300).item() == 18


# --- independent references -----------------------------------------------------------------


def naive_idt(x, y, recording, n: int, limit: float) -> list[tuple[int, int]]:
    """Salvucci & Goldberg's I-DT as plain Python over lists, run by run of valid samples."""
    out = []
    size = len(x)
    i = 0
    while i < size:  # find each run of valid samples of one recording
        if np.isnan(x[i]):
            i += 1
            continue
        j = i
        while j < size and not np.isnan(x[j]) and recording[j] == recording[i]:
            j += 1
        s = i
        while s + n <= j:
            def disp(a, b):
                return (max(x[a:b]) - min(x[a:b])) + (max(y[a:b]) - min(y[a:b]))
            if disp(s, s + n) <= limit:
                e = s + n
                while e < j and disp(s, e + 1) <= limit:
                    e += 1
                out.append((s, e))
                s = e + 1 if e < j else e
            else:
                s += 1
        i = j
    return out


def random_walk(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Noisy positions with occasional jumps and gaps, two recordings, 500 Hz."""
    rng = np.random.default_rng(seed)
    jumps = np.cumsum(np.where(rng.random(n) < 0.01, rng.normal(0, 3, n), 0.0))
    x = jumps + rng.normal(0, 0.1, n)
    y = np.cumsum(np.where(rng.random(n) < 0.01, rng.normal(0, 3, n), 0.0)) \
        + rng.normal(0, 0.1, n)
    lost = rng.random(n) < 0.002
    lost = lost | np.roll(lost, 1) | np.roll(lost, 2)
    x[lost] = y[lost] = np.nan
    recording = (np.arange(n) >= n // 3).astype(int)
    t = np.arange(n) * 2.0
    return t, x, y, recording


@pytest.mark.parametrize("seed", [0, 1])
def test_idt_matches_a_naive_loop(seed):
    t, x, y, recording = random_walk(4000, seed)
    found = events.idt(t, x, y, recording=recording, dispersion_deg=1.0, min_duration_ms=80.0)
    want = naive_idt(list(x), list(y), list(recording), n=40, limit=1.0)
    assert list(zip(found["start"], found["stop"], strict=True)) == want
    assert len(want) > 20  # the walk does have fixations, some longer than 64 samples
    assert (np.diff(want, axis=1) > 64).any()
    # Every fixation stays inside one recording.
    np.testing.assert_array_equal(recording[found["start"]], recording[found["stop"] - 1])


def test_savgol_speed_matches_savgol_filter_per_run():
    t, x, y, recording = random_walk(3000, 2)
    speed = events.savgol_speed(t, x, y, recording=recording, window_ms=20.0)
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


def test_ivt_is_runs_of_slow_samples():
    t, x, y, recording = random_walk(3000, 3)
    speed = events.savgol_speed(t, x, y, recording=recording)
    found = events.ivt(t, x, y, recording=recording, velocity_deg_s=50.0, min_duration_ms=40.0)
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


# --- real data --------------------------------------------------------------------------------


def tobii_files() -> list[Path]:
    files = sorted((DATA / "i2mc-tobii-tx300").rglob("*.tsv"))
    if SHARED.is_dir():
        files += sorted((SHARED / "i2mc-tobii-tx300").rglob("*.tsv"))
    return files


@pytest.mark.parametrize("path", tobii_files(), ids=lambda p: "/".join(p.parts[-3:]))
def test_idt_agrees_with_pymovements(path):
    pm_idt = pytest.importorskip("pymovements.events.detection.idt").idt
    from gazekit.geometry import TOBII_TX300

    samples = read_samples(path, TOBII, geometry=TOBII_TX300)
    x, y = TOBII_TX300.pix2deg(samples["x"], samples["y"])
    t = samples["t"].to_numpy()
    n = int(events.duration_samples(100.0, np.median(np.diff(t))))
    found = events.idt(t, x, y, dispersion_deg=1.0, min_duration_ms=100.0)
    # pymovements on each run of valid samples, in sample units (its times must be regular).
    valid = np.isfinite(x)
    edges = np.flatnonzero(np.diff(np.r_[0, valid.astype(int), 0]))
    want = []
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        if b - a >= n:
            frame = pm_idt(np.column_stack([x[a:b], y[a:b]]), minimum_duration=n,
                           dispersion_threshold=1.0).frame
            want += [(a + on, a + off) for on, off in zip(frame["onset"], frame["offset"],
                                                          strict=True)]
    # pymovements' offset is the index of the sample that broke the window, or the last
    # sample when the run ends first.
    run_end = np.array([edges[1::2][np.searchsorted(edges[1::2], s, side="right")]
                        for s in found["start"]], dtype=int)
    stop = found["stop"].to_numpy()
    got = list(zip(found["start"], np.where(stop < run_end, stop, run_end - 1), strict=True))
    assert got == want


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("t, recording, message", [
    ([0.0, 1.0, 1.0, 2.0], None, "sample 2: time 1.0 ms does not increase"),
    ([0.0, 2.0, 1.0, 3.0], None, "sample 2: time 1.0 ms does not increase"),
    ([0.0, 1.0, 2.0, 3.0], [0, 1, 1, 1], "has a single sample"),
    ([0.0, 1.0, 2.0, 3.0], [0, 1, 0, 0], "contiguous blocks"),
    ([0.0, np.nan, 2.0, 3.0], None, "sample 1: time is not finite"),
])
def test_bad_times(t, recording, message):
    with pytest.raises(ValueError, match=message):
        events.idt(t, np.zeros(4), np.zeros(4), recording=recording)


@pytest.mark.parametrize("kw, message", [
    ({"method": "hmm"}, "unknown detection method 'hmm'"),
    ({"method": "idt", "velocity_deg_s": 30.0}, "unknown parameter 'velocity_deg_s' for idt"),
    ({"method": "idt", "dispersion_deg": 0.0}, "dispersion_deg must be a positive"),
    ({"method": "ivt", "min_duration_ms": -1.0}, "min_duration_ms must be a positive"),
    ({"method": "ivt", "polyorder": 1.5}, "polyorder must be a positive integer"),
])
def test_bad_parameters(kw, message):
    t, x, y = stream(300.0)
    with pytest.raises(ValueError, match=message):
        events.detect(t, x, y, **kw)


def test_detect_uses_the_literature_defaults():
    t, x, y = stream(1000.0)
    pd.testing.assert_frame_equal(events.detect(t, x, y, method="ivt"),
                                  events.ivt(t, x, y, **events.IVT_DEFAULTS))
    pd.testing.assert_frame_equal(events.detect(t, x, y), events.idt(t, x, y, dispersion_deg=1.0,
                                                                     min_duration_ms=100.0))
