"""I-VT: velocity-threshold identification of fixations.

Defaults: velocity threshold 30 deg/s and minimum fixation duration 60 ms, the defaults of the
Tobii I-VT fixation filter (Olsen 2012, "The Tobii I-VT fixation filter", Tobii Technology);
velocity from a second-order Savitzky-Golay differentiating filter over 20 ms, as in Nystrom &
Holmqvist (2010), Behav. Res. Methods 42(1):188-204 (https://doi.org/10.3758/BRM.42.1.188).
"""

from __future__ import annotations

import pandas as pd

from gazekit.checks import check_positive, positive
from gazekit.detectors.common import (
    duration_samples,
    event_table,
    prepare,
    runs_of,
    speed,
)
from gazekit.detectors.registry import register_detector

__all__ = ["ivt"]


@register_detector
def ivt(t_ms, x_deg, y_deg, *, recording=None, velocity_deg_s: float = 30.0,
        min_duration_ms: float = 60.0, window_ms: float = 20.0,
        polyorder: int = 2) -> pd.DataFrame:
    """Velocity-threshold identification of fixations (I-VT).

    A valid sample whose Savitzky-Golay speed
    (:func:`~gazekit.detectors.common.savgol_speed`) is below ``velocity_deg_s`` is a fixation
    sample; each maximal run of fixation samples within a run of valid samples that lasts at
    least ``min_duration_ms`` is a fixation. Missing samples and samples whose speed is unknown
    (runs shorter than the filter) are never fixation samples.

    Parameters
    ----------
    t_ms : array-like
        Sample times in **ms**, strictly increasing within a recording.
    x_deg, y_deg : array-like
        Gaze position in **degrees** per axis; NaN where missing.
    recording : array-like, optional
        Recording code of every sample (contiguous blocks); default one recording.
    velocity_deg_s : float, default 30.0
        Velocity threshold in **deg/s** (Olsen 2012).
    min_duration_ms : float, default 60.0
        Minimum fixation duration in **ms** (Olsen 2012).
    window_ms : float, default 20.0
        Savitzky-Golay filter span in **ms** (Nystrom & Holmqvist 2010).
    polyorder : int, default 2
        Savitzky-Golay polynomial order (no unit).

    Returns
    -------
    pandas.DataFrame
        One row per fixation in time order: ``recording`` (code), ``start``, ``stop`` (sample
        indices, ``stop`` exclusive), ``onset_ms``, ``duration_ms``.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(100) * 4.0                          # 250 Hz, 400 ms
    >>> x = np.where(t < 200, 0.0, 3.0)                   # one jump of 3 degrees at 200 ms
    >>> found = ivt(t, x, np.zeros(100))
    >>> found[["start", "stop"]].values.tolist(), found["duration_ms"].tolist()
    ([[0, 47], [53, 100]], [188.0, 188.0])
    """
    check_positive(velocity_deg_s=velocity_deg_s, min_duration_ms=min_duration_ms,
                   window_ms=window_ms)
    polyorder = positive("polyorder", polyorder, integer=True)
    s = prepare(t_ms, x_deg, y_deg, recording)
    slow = speed(s, window_ms, polyorder) < velocity_deg_s  # False where the speed is NaN
    start, stop = runs_of(slow, s.codes)
    keep = stop - start >= duration_samples(min_duration_ms, s.dt[start])
    return event_table(s, start[keep], stop[keep])
