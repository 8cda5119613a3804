"""I-DT: dispersion-threshold identification of fixations (Salvucci & Goldberg 2000).

Defaults: dispersion threshold 1.0 degree and minimum duration 100 ms, the values discussed by
Salvucci & Goldberg (2000), "Identifying fixations and saccades in eye-tracking protocols",
Proc. ETRA 2000, 71-78 (https://doi.org/10.1145/355017.355028); pymovements uses the same.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.ndimage import maximum_filter1d, minimum_filter1d

from gazekit.checks import check_positive
from gazekit.detectors.common import duration_samples, event_table, prepare
from gazekit.detectors.registry import register_detector

__all__ = ["idt"]


@register_detector
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
        :func:`~gazekit.detectors.common.duration_samples` (at least 2).

    Returns
    -------
    pandas.DataFrame
        One row per fixation in time order: ``recording`` (code), ``start``, ``stop`` (sample
        indices, ``stop`` exclusive), ``onset_ms``, ``duration_ms``.

    Examples
    --------
    >>> t = np.arange(100) * 4.0                          # 250 Hz, 400 ms
    >>> x = np.where(t < 200, 0.0, 3.0)                   # one jump of 3 degrees at 200 ms
    >>> found = idt(t, x, np.zeros(100))
    >>> found[["start", "stop"]].values.tolist(), found["duration_ms"].tolist()
    ([[0, 50], [51, 100]], [200.0, 196.0])
    """
    check_positive(dispersion_deg=dispersion_deg, min_duration_ms=min_duration_ms)
    s = prepare(t_ms, x_deg, y_deg, recording)
    runs = s.runs
    size = np.maximum(duration_samples(min_duration_ms, s.dt), 2)  # window length per sample
    # Values at missing samples never enter a window (windows stay inside runs); zero them so
    # that the rolling filters stay finite.
    x0 = np.where(runs.mask, s.x, 0.0)
    y0 = np.where(runs.mask, s.y, 0.0)
    index = np.arange(len(s.t))
    fits = runs.mask & (index + size <= runs.stop_of)
    starts_ok = np.zeros(len(s.t), dtype=bool)
    # One pass per distinct window length (one per sampling rate): the dispersion of the
    # window starting at every sample, from rolling maxima and minima.
    for n in np.unique(size[fits]):
        rows = np.flatnonzero(fits & (size == n))
        centre = rows + n // 2  # scipy's window for output j starts at j - n // 2
        disp = (maximum_filter1d(x0, n)[centre] - minimum_filter1d(x0, n)[centre]
                + maximum_filter1d(y0, n)[centre] - minimum_filter1d(y0, n)[centre])
        starts_ok[rows] = disp <= dispersion_deg
    candidates = np.flatnonzero(starts_ok)

    found_start, found_stop = [], []
    pos = 0
    # A loop over fixations (each step is array work): where the next window may start
    # depends on where the previous fixation ended.
    while (k := np.searchsorted(candidates, pos)) < len(candidates):
        start = int(candidates[k])
        stop = int(runs.stop_of[start])
        end = _grow(s.x, s.y, start, start + int(size[start]), stop, dispersion_deg)
        found_start.append(start)
        found_stop.append(end)
        pos = end + 1 if end < stop else end
    return event_table(s, found_start, found_stop)


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
