"""Conventions and helpers shared by the event detectors of :mod:`gazekit.detectors`.

Input: one array per quantity over all samples of one or more recordings (trials), each
recording a contiguous block (``recording`` codes): time ``t`` in **milliseconds**, gaze position
``x``, ``y`` in **degrees** per axis (:meth:`gazekit.geometry.ScreenGeometry.pix2deg`); NaN marks a
missing sample (blink, track loss).

- The sampling interval ``dt`` of a recording is the median of its time differences (ms), and a
  sample lasts ``dt``: a fixation of samples ``start .. stop - 1`` has onset ``t[start]`` and
  lasts ``(stop - start) * dt`` ms.
- A duration ``d`` in ms spans ``n = ceil(d / dt - 0.05)`` samples: the smallest ``n`` with
  ``n * dt >= d``, allowing 5% of a sample for clock jitter (100 ms are 30 samples at 300 Hz,
  ``dt = 3.33`` ms, and 100 at 1000 Hz). Thresholds are therefore independent of the sampling
  rate up to one sample.
- Missing samples split events: the data are cut into runs of consecutive valid samples (a
  recording boundary cuts too) and no fixation contains or spans a missing sample.
- Every detector returns the table of :func:`event_table`: one row per fixation in time order,
  ``recording`` (code), ``start``, ``stop`` (sample indices, ``stop`` exclusive), ``onset_ms``,
  ``duration_ms``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.signal import savgol_coeffs, savgol_filter

from gazekit.checks import check_positive, positive

__all__ = [
    "COLUMNS",
    "Runs",
    "Samples",
    "duration_samples",
    "event_table",
    "prepare",
    "runs_of",
    "sampling_intervals",
    "savgol_speed",
]

#: Share of a sample by which a duration may fall short when counted in samples (clock jitter).
_JITTER = 0.05
#: Columns of the tables returned by the detectors.
COLUMNS: tuple[str, ...] = ("recording", "start", "stop", "onset_ms", "duration_ms")


def duration_samples(duration_ms: float, dt_ms) -> np.ndarray:
    """Number of samples spanning ``duration_ms`` at intervals ``dt_ms`` (see module docstring).

    Parameters
    ----------
    duration_ms : float
        Duration in **milliseconds**.
    dt_ms : float or array of float
        Sampling interval(s) in **milliseconds**.

    Returns
    -------
    numpy.ndarray
        ``ceil(duration_ms / dt_ms - 0.05)`` as int64, at least 1.

    Examples
    --------
    >>> int(duration_samples(100.0, 1000 / 300))
    30
    """
    n = np.ceil(duration_ms / np.asarray(dt_ms, dtype=np.float64) - _JITTER)
    return np.maximum(n, 1).astype(np.int64)


def _recording_codes(recording, n: int) -> np.ndarray:
    if recording is None:
        return np.zeros(n, dtype=np.int64)
    codes = np.asarray(recording)
    if codes.shape != (n,):
        raise ValueError(f"recording must have one code per sample ({n}), got shape {codes.shape}")
    return codes


def block_starts(codes: np.ndarray) -> np.ndarray:
    """True where a new block of equal codes begins."""
    new = np.ones(len(codes), dtype=bool)
    np.not_equal(codes[1:], codes[:-1], out=new[1:])
    return new


def sampling_intervals(t_ms, recording=None) -> np.ndarray:
    """Sampling interval of every sample's recording, in **ms** (median time difference).

    Parameters
    ----------
    t_ms : array-like
        Sample times in **ms**, strictly increasing within a recording.
    recording : array-like, optional
        Recording code of every sample (contiguous blocks); default one recording.

    Returns
    -------
    numpy.ndarray
        One interval per sample (ms).

    Raises
    ------
    ValueError
        If times are not finite and strictly increasing within a recording, a recording block
        reappears, or a recording has a single sample.

    Examples
    --------
    >>> sampling_intervals([0.0, 2.0, 4.0, 0.0, 1.0], recording=[0, 0, 0, 1, 1]).tolist()
    [2.0, 2.0, 2.0, 1.0, 1.0]
    """
    t = np.asarray(t_ms, dtype=np.float64)
    codes = _recording_codes(recording, len(t))
    new = block_starts(codes)
    block = np.cumsum(new) - 1
    if pd.Series(codes[new]).duplicated().any():
        raise ValueError("recording codes must form contiguous blocks (one per recording)")
    if not np.isfinite(t).all():
        raise ValueError(f"sample {int(np.flatnonzero(~np.isfinite(t))[0])}: time is not finite")
    inner = ~new[1:]
    diffs = np.diff(t)
    bad = inner & ~(diffs > 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0]) + 1
        raise ValueError(f"sample {i}: time {t[i]} ms does not increase (previous {t[i - 1]} ms); "
                         "expected strictly increasing times within a recording")
    counts = np.bincount(block)
    if (counts < 2).any():
        raise ValueError(f"recording {codes[new][int(np.argmax(counts < 2))]!r} has a single "
                         "sample; need at least two to know the sampling interval")
    median = pd.Series(diffs[inner]).groupby(block[1:][inner]).median().to_numpy()
    return median[block]


class Runs:
    """Runs of consecutive ``True`` samples within recordings.

    Attributes: ``mask`` (bool per sample), ``start``/``stop`` (index of the first sample and
    one past the last of each run), ``start_of``, ``stop_of`` (per sample: start and stop of
    its run; 0 outside runs).
    """

    def __init__(self, mask: np.ndarray, codes: np.ndarray):
        self.start, self.stop = runs_of(mask, codes)
        first = np.zeros(len(mask), dtype=bool)
        first[self.start] = True
        run = np.cumsum(first) - 1
        self.mask = mask
        self.stop_of = np.zeros(len(mask), dtype=np.int64)
        self.stop_of[mask] = self.stop[run[mask]]
        self.start_of = np.zeros(len(mask), dtype=np.int64)
        self.start_of[mask] = self.start[run[mask]]


def runs_of(mask: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop (exclusive) of each maximal run of ``True`` in ``mask`` within a block of
    equal ``codes``.

    Examples
    --------
    >>> runs_of(np.array([1, 1, 0, 1, 1, 1], bool), np.array([0, 0, 0, 0, 1, 1]))
    (array([0, 3, 4]), array([2, 4, 6]))
    """
    new = block_starts(codes)
    first = mask.copy()
    first[1:] &= ~mask[:-1] | new[1:]
    last = mask.copy()
    last[:-1] &= ~mask[1:] | new[1:]
    return np.flatnonzero(first), np.flatnonzero(last) + 1


@dataclass(frozen=True)
class Samples:
    """Checked detector input: float64 ``t`` (ms), ``x``, ``y`` (deg), recording ``codes``,
    per-sample interval ``dt`` (ms) and the :class:`Runs` of valid samples (``runs``)."""

    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    codes: np.ndarray
    dt: np.ndarray
    runs: Runs


def prepare(t_ms, x_deg, y_deg, recording=None) -> Samples:
    """Check the detector input and find its sampling intervals and runs of valid samples.

    Raises
    ------
    ValueError
        For arrays of different shapes, no samples, or bad times (:func:`sampling_intervals`).
    """
    t = np.asarray(t_ms, dtype=np.float64)
    x = np.asarray(x_deg, dtype=np.float64)
    y = np.asarray(y_deg, dtype=np.float64)
    if not (t.ndim == 1 and x.shape == t.shape and y.shape == t.shape):
        raise ValueError(f"t, x and y must be 1-D arrays of one length, got shapes {t.shape}, "
                         f"{x.shape}, {y.shape}")
    if t.size == 0:
        raise ValueError("no samples given")
    codes = _recording_codes(recording, len(t))
    dt = sampling_intervals(t, codes)
    return Samples(t, x, y, codes, dt, Runs(np.isfinite(x) & np.isfinite(y), codes))


def event_table(s: Samples, start, stop) -> pd.DataFrame:
    """The detectors' output table for events ``start .. stop - 1`` (sample indices)."""
    start = np.asarray(start, dtype=np.int64)
    stop = np.asarray(stop, dtype=np.int64)
    return pd.DataFrame({
        "recording": s.codes[start], "start": start, "stop": stop, "onset_ms": s.t[start],
        "duration_ms": (stop - start) * s.dt[start],
    }, columns=list(COLUMNS))


def window_length(window_ms: float, dt_ms: np.ndarray, polyorder: int) -> np.ndarray:
    """Odd number of samples whose span ``(w - 1) * dt`` covers ``window_ms`` (jitter allowed),
    at least ``polyorder + 1`` rounded up to odd."""
    w = duration_samples(window_ms, dt_ms) + 1
    w = np.maximum(w, polyorder + 1)
    return w + (w % 2 == 0)


def savgol_speed(t_ms, x_deg, y_deg, *, recording=None, window_ms: float = 20.0,
                 polyorder: int = 2) -> np.ndarray:
    """Gaze speed in **deg/s** from a Savitzky-Golay differentiating filter.

    Each axis is differentiated with :func:`scipy.signal.savgol_filter` (``deriv=1``) over an
    odd window of ``w`` samples spanning ``window_ms`` (``(w - 1) * dt >= window_ms``, jitter
    allowed); the speed is ``hypot(vx, vy)``. The filter is applied to each run of valid
    samples on its own, exactly as ``savgol_filter(run, w, polyorder, deriv=1,
    mode="interp")`` would: near the ends of a run, the polynomial fitted to its first or last
    ``w`` samples is differentiated.

    Parameters
    ----------
    t_ms : array-like
        Sample times in **ms**, strictly increasing within a recording.
    x_deg, y_deg : array-like
        Gaze position in **degrees** per axis; NaN where missing.
    recording : array-like, optional
        Recording code of every sample (contiguous blocks); default one recording.
    window_ms : float, default 20.0
        Filter span in **ms**.
    polyorder : int, default 2
        Order of the fitted polynomial.

    Returns
    -------
    numpy.ndarray
        Speed per sample in **deg/s**; NaN at missing samples and in runs shorter than the
        window.

    Examples
    --------
    >>> t = np.arange(50) * 2.0                      # 500 Hz
    >>> x = 0.01 * t                                 # 0.01 deg/ms = 10 deg/s
    >>> savgol_speed(t, x, np.zeros(50)).round(6)[:3].tolist()
    [10.0, 10.0, 10.0]
    """
    check_positive(window_ms=window_ms)
    polyorder = positive("polyorder", polyorder, integer=True)
    s = prepare(t_ms, x_deg, y_deg, recording)
    return speed(s, window_ms, polyorder)


def speed(s: Samples, window_ms: float, polyorder: int) -> np.ndarray:
    """:func:`savgol_speed` of checked samples (parameters already checked)."""
    width = window_length(window_ms, s.dt, polyorder)
    runs = s.runs
    out = np.full(len(s.x), np.nan)
    x0 = np.where(runs.mask, s.x, 0.0)
    y0 = np.where(runs.mask, s.y, 0.0)
    long_enough = runs.mask & (runs.stop_of - runs.start_of >= width)
    # One pass per distinct window length (one per sampling rate).
    for w in np.unique(width[long_enough]):
        rows = np.flatnonzero(long_enough & (width == w))
        half = w // 2
        # Interior samples: the centred filter over the whole array is exact wherever the
        # window lies inside the run.
        vx = savgol_filter(x0, w, polyorder, deriv=1, mode="interp")[rows]
        vy = savgol_filter(y0, w, polyorder, deriv=1, mode="interp")[rows]
        lo, hi = runs.start_of[rows], runs.stop_of[rows]
        edge = (rows - half < lo) | (rows + half >= hi)
        # Run ends: differentiate the polynomial fitted to the run's first or last w samples,
        # evaluated at the sample's position in that window (what mode="interp" does).
        first = np.clip(rows[edge] - half, lo[edge], hi[edge] - w)
        coeffs = np.stack([savgol_coeffs(w, polyorder, deriv=1, pos=p, use="dot")
                           for p in range(w)])[rows[edge] - first]
        window = first[:, None] + np.arange(w)
        vx[edge] = np.einsum("ij,ij->i", coeffs, x0[window])
        vy[edge] = np.einsum("ij,ij->i", coeffs, y0[window])
        # Per-sample derivative -> per second.
        out[rows] = np.hypot(vx, vy) / (s.dt[rows] / 1000.0)
    return out
