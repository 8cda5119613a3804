"""Fixation detection in raw gaze samples: I-DT and I-VT, with parameters in physical units.

Input: one array per quantity over all samples of one or more recordings (trials), each
recording a contiguous block (``recording`` codes): time ``t`` in **milliseconds**, gaze position
``x``, ``y`` in **degrees** per axis (:meth:`gazekit.geometry.ScreenGeometry.pix2deg`); NaN marks a
missing sample (blink, track loss).

Conventions shared by both detectors
------------------------------------
- The sampling interval ``dt`` of a recording is the median of its time differences (ms), and a
  sample lasts ``dt``: a fixation of samples ``start .. stop - 1`` has onset ``t[start]`` and
  lasts ``(stop - start) * dt`` ms.
- A duration ``d`` in ms spans ``n = ceil(d / dt - 0.05)`` samples: the smallest ``n`` with
  ``n * dt >= d``, allowing 5% of a sample for clock jitter (100 ms are 30 samples at 300 Hz,
  ``dt = 3.33`` ms, and 100 at 1000 Hz). Thresholds are therefore independent of the sampling
  rate up to one sample.
- Missing samples split events: the data are cut into runs of consecutive valid samples (a
  recording boundary cuts too) and no fixation contains or spans a missing sample.

Defaults, from the literature
-----------------------------
I-DT: dispersion threshold 1.0 degree and minimum duration 100 ms, the values discussed by
Salvucci & Goldberg (2000), "Identifying fixations and saccades in eye-tracking protocols",
Proc. ETRA 2000, 71-78 (https://doi.org/10.1145/355017.355028); pymovements uses the same.

I-VT: velocity threshold 30 deg/s and minimum fixation duration 60 ms, the defaults of the Tobii
I-VT fixation filter (Olsen 2012, "The Tobii I-VT fixation filter", Tobii Technology); velocity
from a second-order Savitzky-Golay differentiating filter over 20 ms, as in Nystrom & Holmqvist
(2010), Behav. Res. Methods 42(1):188-204 (https://doi.org/10.3758/BRM.42.1.188).
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import pandas as pd
from scipy.ndimage import maximum_filter1d, minimum_filter1d
from scipy.signal import savgol_coeffs, savgol_filter

__all__ = [
    "IDT_DEFAULTS",
    "IVT_DEFAULTS",
    "METHODS",
    "detect",
    "duration_samples",
    "idt",
    "ivt",
    "sampling_intervals",
    "savgol_speed",
]

#: Literature defaults of :func:`idt` (degrees, ms) and :func:`ivt` (deg/s, ms, ms, order).
IDT_DEFAULTS = {"dispersion_deg": 1.0, "min_duration_ms": 100.0}
IVT_DEFAULTS = {"velocity_deg_s": 30.0, "min_duration_ms": 60.0, "window_ms": 20.0,
                "polyorder": 2}
METHODS: tuple[str, ...] = ("idt", "ivt")
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


def _block_starts(codes: np.ndarray) -> np.ndarray:
    """True where a new block of equal codes begins."""
    new = np.ones(len(codes), dtype=bool)
    np.not_equal(codes[1:], codes[:-1], out=new[1:])
    return new


def sampling_intervals(t_ms, recording=None) -> np.ndarray:
    """Sampling interval of every sample's recording, in **ms** (median time difference).

    Raises
    ------
    ValueError
        If times are not finite and strictly increasing within a recording, a recording block
        reappears, or a recording has a single sample.
    """
    t = np.asarray(t_ms, dtype=np.float64)
    codes = _recording_codes(recording, len(t))
    new = _block_starts(codes)
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


class _Runs:
    """Runs of consecutive valid samples within recordings.

    Attributes: ``valid`` (bool per sample), ``start``/``stop`` (index of the first sample and
    one past the last of each run), ``start_of``, ``stop_of`` (per sample: start and stop of
    its run; 0 if invalid).
    """

    def __init__(self, valid: np.ndarray, codes: np.ndarray):
        new = _block_starts(codes)
        first = valid.copy()
        first[1:] &= ~valid[:-1] | new[1:]
        last = valid.copy()
        last[:-1] &= ~valid[1:] | new[1:]
        self.valid = valid
        self.start = np.flatnonzero(first)
        self.stop = np.flatnonzero(last) + 1
        self.stop_of = np.zeros(len(valid), dtype=np.int64)
        run = np.cumsum(first) - 1
        self.stop_of[valid] = self.stop[run[valid]]
        self.start_of = np.zeros(len(valid), dtype=np.int64)
        self.start_of[valid] = self.start[run[valid]]


def _prepare(t_ms, x_deg, y_deg, recording):
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
    return t, x, y, codes, dt, _Runs(np.isfinite(x) & np.isfinite(y), codes)


def _table(codes, start, stop, t, dt) -> pd.DataFrame:
    start = np.asarray(start, dtype=np.int64)
    stop = np.asarray(stop, dtype=np.int64)
    return pd.DataFrame({
        "recording": codes[start], "start": start, "stop": stop, "onset_ms": t[start],
        "duration_ms": (stop - start) * dt[start],
    }, columns=list(COLUMNS))


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                or not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def _check_polyorder(polyorder: int) -> int:
    if isinstance(polyorder, bool) or not isinstance(polyorder, numbers.Integral) \
            or polyorder < 1:
        raise ValueError(f"polyorder must be a positive integer, got {polyorder!r}")
    return int(polyorder)


def idt(t_ms, x_deg, y_deg, *, recording=None, dispersion_deg: float = 1.0,
        min_duration_ms: float = 100.0) -> pd.DataFrame:
    """Dispersion-threshold identification of fixations (I-DT, Salvucci & Goldberg 2000).

    Within each run of valid samples: a window covering the minimum duration starts at the
    first sample not yet used. If its dispersion ``D = (max x - min x) + (max y - min y)``
    (degrees) is at most ``dispersion_deg``, samples are added until the next one would make
    ``D`` exceed the threshold; the window is a fixation, and the search goes on after the
    sample that broke it (the window's points, that sample included, are removed, as in the
    published pseudocode and in pymovements' ``idt``). Otherwise the window moves on by one
    sample.

    Parameters
    ----------
    t_ms : array-like
        Sample times in **ms**, strictly increasing within a recording.
    x_deg, y_deg : array-like
        Gaze position in **degrees** per axis; NaN where missing.
    recording : array-like, optional
        Recording code of every sample (contiguous blocks); default one recording.
    dispersion_deg : float, default 1.0
        Dispersion threshold in **degrees** (Salvucci & Goldberg 2000).
    min_duration_ms : float, default 100.0
        Minimum fixation duration in **ms**; converted to samples per recording as in
        :func:`duration_samples` (at least 2).

    Returns
    -------
    pandas.DataFrame
        One row per fixation in time order: ``recording`` (code), ``start``, ``stop`` (sample
        indices, ``stop`` exclusive), ``onset_ms``, ``duration_ms``.
    """
    _check_positive(dispersion_deg=dispersion_deg, min_duration_ms=min_duration_ms)
    t, x, y, codes, dt, runs = _prepare(t_ms, x_deg, y_deg, recording)
    size = np.maximum(duration_samples(min_duration_ms, dt), 2)  # window length per sample
    # Values at missing samples never enter a window (windows stay inside runs); zero them so
    # that the rolling filters stay finite.
    x0 = np.where(runs.valid, x, 0.0)
    y0 = np.where(runs.valid, y, 0.0)
    index = np.arange(len(t))
    fits = runs.valid & (index + size <= runs.stop_of)
    starts_ok = np.zeros(len(t), dtype=bool)
    # One pass per distinct window length (one per sampling rate): the dispersion of the
    # window starting at every sample, from rolling maxima and minima.
    for n in np.unique(size[fits]):
        s = np.flatnonzero(fits & (size == n))
        centre = s + n // 2  # scipy's window for output j starts at j - n // 2
        disp = (maximum_filter1d(x0, n)[centre] - minimum_filter1d(x0, n)[centre]
                + maximum_filter1d(y0, n)[centre] - minimum_filter1d(y0, n)[centre])
        starts_ok[s] = disp <= dispersion_deg
    candidates = np.flatnonzero(starts_ok)

    found_start, found_stop = [], []
    pos = 0
    # A loop over fixations (each step is array work): where the next window may start
    # depends on where the previous fixation ended.
    while (k := np.searchsorted(candidates, pos)) < len(candidates):
        s = int(candidates[k])
        stop = int(runs.stop_of[s])
        e = _grow(x, y, s, s + int(size[s]), stop, dispersion_deg)
        found_start.append(s)
        found_stop.append(e)
        pos = e + 1 if e < stop else e
    return _table(codes, found_start, found_stop, t, dt)


def _grow(x: np.ndarray, y: np.ndarray, s: int, e: int, stop: int, limit: float) -> int:
    """First index ``j`` in ``[e, stop)`` whose sample makes the dispersion of ``x[s:j + 1]``
    exceed ``limit``, or ``stop``; looks ahead in blocks that double in size."""
    bounds = np.array([x[s:e].max(), x[s:e].min(), y[s:e].max(), y[s:e].min()])
    block = max(2 * (e - s), 64)
    while e < stop:
        end = min(stop, e + block)
        xmax = np.maximum.accumulate(np.maximum(x[e:end], bounds[0]))
        xmin = np.minimum.accumulate(np.minimum(x[e:end], bounds[1]))
        ymax = np.maximum.accumulate(np.maximum(y[e:end], bounds[2]))
        ymin = np.minimum.accumulate(np.minimum(y[e:end], bounds[3]))
        over = np.flatnonzero(xmax - xmin + ymax - ymin > limit)
        if over.size:
            return e + int(over[0])
        bounds = np.array([xmax[-1], xmin[-1], ymax[-1], ymin[-1]])
        e, block = end, 2 * block
    return stop


def _window_length(window_ms: float, dt_ms: np.ndarray, polyorder: int) -> np.ndarray:
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
    t_ms, x_deg, y_deg, recording
        As in :func:`idt`.
    window_ms : float, default 20.0
        Filter span in **ms**.
    polyorder : int, default 2
        Order of the fitted polynomial.

    Returns
    -------
    numpy.ndarray
        Speed per sample in **deg/s**; NaN at missing samples and in runs shorter than the
        window.
    """
    _check_positive(window_ms=window_ms)
    polyorder = _check_polyorder(polyorder)
    _, x, y, _, dt, runs = _prepare(t_ms, x_deg, y_deg, recording)
    return _speed(x, y, dt, runs, _window_length(window_ms, dt, polyorder), polyorder)


def _speed(x, y, dt, runs: _Runs, width: np.ndarray, polyorder: int) -> np.ndarray:
    speed = np.full(len(x), np.nan)
    x0 = np.where(runs.valid, x, 0.0)
    y0 = np.where(runs.valid, y, 0.0)
    long_enough = runs.valid & (runs.stop_of - runs.start_of >= width)
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
        speed[rows] = np.hypot(vx, vy) / (dt[rows] / 1000.0)
    return speed


def ivt(t_ms, x_deg, y_deg, *, recording=None, velocity_deg_s: float = 30.0,
        min_duration_ms: float = 60.0, window_ms: float = 20.0,
        polyorder: int = 2) -> pd.DataFrame:
    """Velocity-threshold identification of fixations (I-VT).

    A valid sample whose Savitzky-Golay speed (:func:`savgol_speed`) is below
    ``velocity_deg_s`` is a fixation sample; each maximal run of fixation samples within a run
    of valid samples that lasts at least ``min_duration_ms`` is a fixation. Missing samples and
    samples whose speed is unknown (runs shorter than the filter) are never fixation samples.

    Parameters
    ----------
    t_ms, x_deg, y_deg, recording
        As in :func:`idt`.
    velocity_deg_s : float, default 30.0
        Velocity threshold in **deg/s** (Olsen 2012).
    min_duration_ms : float, default 60.0
        Minimum fixation duration in **ms** (Olsen 2012).
    window_ms : float, default 20.0
        Savitzky-Golay filter span in **ms** (Nystrom & Holmqvist 2010).
    polyorder : int, default 2
        Savitzky-Golay polynomial order.

    Returns
    -------
    pandas.DataFrame
        As :func:`idt`.
    """
    _check_positive(velocity_deg_s=velocity_deg_s, min_duration_ms=min_duration_ms,
                    window_ms=window_ms)
    polyorder = _check_polyorder(polyorder)
    t, x, y, codes, dt, runs = _prepare(t_ms, x_deg, y_deg, recording)
    slow = _speed(x, y, dt, runs, _window_length(window_ms, dt, polyorder), polyorder) \
        < velocity_deg_s  # False where the speed is NaN
    new = _block_starts(codes)
    first = slow.copy()
    first[1:] &= ~slow[:-1] | new[1:]
    last = slow.copy()
    last[:-1] &= ~slow[1:] | new[1:]
    start, stop = np.flatnonzero(first), np.flatnonzero(last) + 1
    keep = stop - start >= duration_samples(min_duration_ms, dt[start])
    return _table(codes, start[keep], stop[keep], t, dt)


def detect(t_ms, x_deg, y_deg, *, recording=None, method: str = "idt",
           **params) -> pd.DataFrame:
    """Run :func:`idt` or :func:`ivt` (``method``) with ``params``; literature defaults."""
    if method not in METHODS:
        raise ValueError(f"unknown detection method {method!r}; expected one of "
                         f"{', '.join(METHODS)}")
    detector, allowed = (idt, IDT_DEFAULTS) if method == "idt" else (ivt, IVT_DEFAULTS)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(f"unknown parameter {unknown[0]!r} for {method}; expected any of "
                         f"{', '.join(allowed)}")
    return detector(t_ms, x_deg, y_deg, recording=recording, **params)
