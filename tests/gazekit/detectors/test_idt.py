"""Tests of the I-DT detector: hand-made streams, a naive loop, and pymovements on real data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gazekit.detectors import duration_samples, idt
from gazekit.readers import TOBII, read_samples

DATA = Path(__file__).resolve().parents[2] / "data" / "human"
SHARED = Path(__file__).resolve().parents[4] / "shared" / "data" / "human"


@pytest.mark.parametrize("rate", [300.0, 1000.0])
def test_idt_finds_the_steps(rate, stream, spans):
    dt = 1000 / rate
    found = idt(*stream(rate))
    # The lost data (850-970 ms) split the fourth fixation. A fixation that follows a jump
    # starts one sample late: the sample that broke the previous window is removed with it
    # (Salvucci & Goldberg's pseudocode); one that follows lost data or starts the recording
    # does not.
    want = [(0, 300), (300 + dt, 520), (520 + dt, 700), (700 + dt, 850), (970, 1120),
            (1120 + dt, 1400)]
    np.testing.assert_allclose(spans(found), want, atol=1e-6)


def test_idt_same_events_at_two_rates(stream, spans):
    slow, fast = (spans(idt(*stream(rate, seed=rate))) for rate in (300, 1000))
    assert slow.shape == fast.shape
    assert np.abs(slow - fast).max() <= 1000 / 300 + 1e-6  # within one (slower) sample


def test_minimum_duration_is_in_ms():
    # 100 ms are 30 samples at 300 Hz: a 30-sample still period is a fixation, 29 are not.
    for n, expected in ((30, 1), (29, 0)):
        t = np.arange(n + 20) * (1000 / 300)
        x = np.where(np.arange(n + 20) < n, 0.0, np.arange(n + 20) * 2.0)  # then moves on
        assert len(idt(t, x, np.zeros_like(x))) == expected
    assert duration_samples(100.0, 1000 / 300).item() == 30


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


@pytest.mark.parametrize("seed", [0, 1])
def test_idt_matches_a_naive_loop(seed, random_walk):
    t, x, y, recording = random_walk(4000, seed)
    found = idt(t, x, y, recording=recording, dispersion_deg=1.0, min_duration_ms=80.0)
    want = naive_idt(list(x), list(y), list(recording), n=40, limit=1.0)
    assert list(zip(found["start"], found["stop"], strict=True)) == want
    assert len(want) > 20  # the walk does have fixations, some longer than 64 samples
    assert (np.diff(want, axis=1) > 64).any()
    # Every fixation stays inside one recording.
    np.testing.assert_array_equal(recording[found["start"]], recording[found["stop"] - 1])


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
    n = int(duration_samples(100.0, np.median(np.diff(t))))
    found = idt(t, x, y, dispersion_deg=1.0, min_duration_ms=100.0)
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
