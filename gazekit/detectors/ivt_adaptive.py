"""I-VT with a noise-adaptive threshold, post-saccadic oscillation trimming and fixation merging.

The default detector of gazekit, chosen and tuned against expert labels
(``benchmarks/eval_detectors.py``, results in ``benchmarks/README.md``): tuned on the
hand-labelled EyeLink 1000 Plus recordings of Zemblys et al. (2018, lookAtPoint_EL), and
reported as well on the image-viewing data of Hooge et al. (2018), which played no part in the
tuning. Steps, per recording:

1. **Speed**: Savitzky-Golay differentiation over ``window_ms`` (``polyorder`` 2), as
   :func:`~gazekit.detectors.common.savgol_speed`.
2. **Adaptive threshold**: ``max(min_velocity_deg_s, noise_factor * median speed)``; the median
   speed of a recording measures its noise (most samples lie in fixations), so a noisy 300 Hz
   remote tracker gets a higher threshold than a 1000 Hz tower-mounted one, in the spirit of
   Nystrom & Holmqvist (2010) and Engbert & Kliegl (2003).
3. **Fixation candidates**: runs of samples below the threshold within runs of valid samples.
4. **Post-saccadic oscillations** (PSO): a fixation that follows a saccade starts after the
   last sample of its first ``pso_ms`` whose speed exceeds ``pso_factor`` times the threshold
   (the overshoot is still settling there; cf. Nystrom & Holmqvist 2010, Zemblys et al. 2018).
5. **Merging**: consecutive fixations of a recording less than ``merge_gap_ms`` apart (fast or
   missing samples between them) whose mean positions lie within ``merge_deg`` are one fixation
   split by noise or a short track loss; off by default (``merge_gap_ms = 0``), since on the
   tuning data it merged the small corrective saccades the expert marked.
6. **Minimum duration**: fixations shorter than ``min_duration_ms`` are dropped.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from gazekit.checks import check_positive
from gazekit.detectors.common import (
    Samples,
    duration_samples,
    event_table,
    prepare,
    runs_of,
    speed,
)
from gazekit.detectors.registry import register_detector

__all__ = ["ivt_adaptive"]


@register_detector
def ivt_adaptive(t_ms, x_deg, y_deg, *, recording=None, window_ms: float = 10.0,
                 noise_factor: float = 6.0, min_velocity_deg_s: float = 20.0,
                 pso_ms: float = 20.0, pso_factor: float = 0.5, merge_gap_ms: float = 0.0,
                 merge_deg: float = 0.5, min_duration_ms: float = 40.0) -> pd.DataFrame:
    """Velocity-threshold fixations with a threshold adapted to each recording's noise.

    See the module docstring for the steps. Defaults were tuned on the lookAtPoint_EL data set
    (1000 Hz) by a grid search maximising sample kappa + event F1.

    Parameters
    ----------
    t_ms : array-like
        Sample times in **ms**, strictly increasing within a recording.
    x_deg, y_deg : array-like
        Gaze position in **degrees** per axis; NaN where missing.
    recording : array-like, optional
        Recording code of every sample (contiguous blocks); default one recording.
    window_ms : float, default 10.0
        Savitzky-Golay differentiation span in **ms** (velocity smoothing).
    noise_factor : float, default 6.0
        Velocity threshold as a multiple of the recording's median speed (no unit).
    min_velocity_deg_s : float, default 20.0
        Lowest velocity threshold in **deg/s**, for very clean recordings.
    pso_ms : float, default 20.0
        Span in **ms** at the start of a fixation after a saccade searched for oscillation.
    pso_factor : float, default 0.5
        Oscillation speed as a share of the velocity threshold (no unit).
    merge_gap_ms : float, default 0.0
        Longest gap in **ms** between two fixations that are merged; 0 turns merging off.
    merge_deg : float, default 0.5
        Largest distance in **degrees** between the mean positions of two merged fixations.
    min_duration_ms : float, default 40.0
        Minimum fixation duration in **ms**, applied after merging.

    Returns
    -------
    pandas.DataFrame
        One row per fixation in time order: ``recording`` (code), ``start``, ``stop`` (sample
        indices, ``stop`` exclusive), ``onset_ms``, ``duration_ms`` (a merged fixation spans
        its gap, missing samples included).

    Examples
    --------
    >>> t = np.arange(500) * 1.0                          # 1000 Hz, 500 ms
    >>> x = np.clip((t - 250) / 20, 0, 1) * 5.0           # a 5-degree saccade over 20 ms
    >>> found = ivt_adaptive(t, x, np.zeros(500))
    >>> found[["start", "stop"]].values.tolist()
    [[0, 247], [275, 500]]
    """
    check_positive(window_ms=window_ms, noise_factor=noise_factor,
                   min_velocity_deg_s=min_velocity_deg_s, pso_ms=pso_ms,
                   pso_factor=pso_factor, merge_deg=merge_deg, min_duration_ms=min_duration_ms)
    _check_not_negative(merge_gap_ms=merge_gap_ms)
    s = prepare(t_ms, x_deg, y_deg, recording)
    fast_speed = speed(s, window_ms, 2)
    noise = pd.Series(fast_speed).groupby(s.codes).transform("median").to_numpy()  # skips NaN
    threshold = np.maximum(min_velocity_deg_s, noise_factor * noise)
    slow = fast_speed < threshold  # False where the speed is unknown
    start, stop = runs_of(slow, s.codes)
    start, stop = trim_oscillations(s, fast_speed, threshold, slow, start, stop,
                                    pso_ms=pso_ms, pso_factor=pso_factor)
    if merge_gap_ms > 0:
        start, stop = merge_fixations(s, start, stop, gap_ms=merge_gap_ms, distance_deg=merge_deg)
    keep = stop - start >= duration_samples(min_duration_ms, s.dt[start])
    return event_table(s, start[keep], stop[keep])


def _check_not_negative(**values: float) -> None:
    for name, value in values.items():
        if not (isinstance(value, int | float) and not isinstance(value, bool)
                and math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def trim_oscillations(s: Samples, fast_speed: np.ndarray, threshold: np.ndarray,
                      slow: np.ndarray, start: np.ndarray, stop: np.ndarray, *,
                      pso_ms: float, pso_factor: float) -> tuple[np.ndarray, np.ndarray]:
    """Move the onset of each fixation that follows a saccade past its oscillation (step 4).

    A fixation follows a saccade when the sample before it is a valid, fast sample of the same
    recording. Within its first ``pso_ms``, the onset moves to just after the last sample whose
    speed exceeds ``pso_factor * threshold``; fixations trimmed to nothing are dropped.

    Examples
    --------
    >>> from gazekit.detectors.common import prepare
    >>> s = prepare(np.arange(8.0), np.zeros(8), np.zeros(8))
    >>> v = np.array([50, 50, 20, 5, 20, 5, 5, 5.0])         # deg/s; threshold 30
    >>> trim_oscillations(s, v, np.full(8, 30.0), v < 30, np.array([2]), np.array([8]),
    ...                   pso_ms=4.0, pso_factor=0.5)
    (array([5]), array([8]))
    """
    prev = np.maximum(start - 1, 0)
    after_saccade = (start > 0) & s.runs.mask[prev] & ~slow[prev] \
        & (s.codes[prev] == s.codes[start])
    span = duration_samples(pso_ms, s.dt[start])
    width = int(span.max()) if len(start) else 0
    offsets = np.arange(width)
    index = np.minimum(start[:, None] + offsets, len(slow) - 1)
    inside = (offsets < span[:, None]) & (start[:, None] + offsets < stop[:, None])
    wobble = inside & (fast_speed[index] > pso_factor * threshold[index])
    last = width - 1 - np.argmax(wobble[:, ::-1], axis=1)  # last wobbling offset
    start = np.where(after_saccade & wobble.any(axis=1), start + last + 1, start)
    keep = start < stop
    return start[keep], stop[keep]


def merge_fixations(s: Samples, start: np.ndarray, stop: np.ndarray, *, gap_ms: float,
                    distance_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """Merge consecutive fixations of a recording at most ``gap_ms`` apart whose mean positions
    (valid samples) lie within ``distance_deg`` (step 5); chains merge into one.

    Examples
    --------
    >>> from gazekit.detectors.common import prepare
    >>> x = np.r_[np.zeros(10), np.nan, np.nan, np.full(10, 0.2), np.full(10, 3.0)]
    >>> s = prepare(np.arange(32.0), x, np.zeros(32))
    >>> merge_fixations(s, np.array([0, 12, 22]), np.array([10, 22, 32]), gap_ms=5.0,
    ...                 distance_deg=0.5)
    (array([ 0, 22]), array([22, 32]))
    """
    if len(start) < 2:
        return start, stop
    valid = s.runs.mask
    # Mean positions from cumulative sums over valid samples (no loop over fixations).
    cx, cy, cn = (np.r_[0.0, np.cumsum(v)] for v in (np.where(valid, s.x, 0.0),
                                                      np.where(valid, s.y, 0.0), valid))
    n = np.maximum(cn[stop] - cn[start], 1)
    mx, my = (cx[stop] - cx[start]) / n, (cy[stop] - cy[start]) / n
    gap = (start[1:] - stop[:-1]) * s.dt[start[1:]]
    join = ((gap <= gap_ms) & (np.hypot(np.diff(mx), np.diff(my)) <= distance_deg)
            & (s.codes[start[1:]] == s.codes[stop[:-1] - 1]))
    first = np.r_[True, ~join]
    last = np.r_[~join, True]
    return start[first], stop[last]
