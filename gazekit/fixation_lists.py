"""Plain fixation lists: one fixation per row, with its position and duration."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from gazekit.geometry import ScreenGeometry
from gazekit.recording_files import (
    TIME_FACTORS,
    line_list,
    parse_numbers,
    read_text_columns,
    recording_names,
)
from gazekit.schema import ScanpathError

__all__ = ["read_fixation_list"]


def read_fixation_list(path: str | os.PathLike, geometry: ScreenGeometry, *,
                       x: str = "start_x", y: str = "start_y", duration: str = "duration",
                       duration_unit: str = "s", subject: str | None = None,
                       trial: str | None = None) -> pd.DataFrame:
    """Read a plain fixation list (one fixation per row) of one recording.

    Parameters
    ----------
    path : path
        CSV/TSV file (tab-separated if ``.tsv``).
    geometry : ScreenGeometry
        Screen the coordinates refer to; gives ``image_width``/``_height``.
    x, y : str, default "start_x", "start_y"
        Fixation position columns, **px**.
    duration : str, default "duration"
        Fixation duration column, in ``duration_unit``.
    duration_unit : {"us", "ms", "s"}, default "s"
    subject, trial : str, optional
        Default from the file name (:func:`recording_names`).

    Returns
    -------
    pandas.DataFrame
        The fixation list (:mod:`gazekit.readers`), without ``t`` (onsets unknown);
        ``after_gap`` all False (no information on lost data).

    Raises
    ------
    ScanpathError
        For a missing column, unparseable or empty fields, or a duration that is not positive.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from gazekit.geometry import STUDYFORREST
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "sub-01_run-1.tsv"
    ...     _ = path.write_text("start_x\\tstart_y\\tduration\\n"
    ...                         "100\\t200\\t0.25\\n400\\t210\\t0.5\\n")
    ...     fixations = read_fixation_list(path, STUDYFORREST)
    >>> fixations[["subject", "step", "x", "y", "duration"]].values.tolist()
    [['sub-01', 0, 100.0, 200.0, 250.0], ['sub-01', 1, 400.0, 210.0, 500.0]]
    """
    if duration_unit not in TIME_FACTORS:
        raise ValueError(f"duration_unit must be one of {', '.join(TIME_FACTORS)}, got "
                         f"{duration_unit!r}")
    path = Path(path)
    source = str(path)
    raw = read_text_columns(path, [x, y, duration], None)
    values = parse_numbers(raw, [x, y, duration], required=[x, y, duration], source=source)
    bad = ~(values[duration] > 0)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise ScanpathError(f"column {duration!r}: the duration on line {rows[0] + 2} is not "
                            f"positive ({len(rows)} such row(s), lines {line_list(rows)})", source)
    default_subject, default_trial = recording_names(path)
    return pd.DataFrame({
        "subject": subject or default_subject, "trial": trial or default_trial,
        "step": np.arange(len(raw)), "x": values[x], "y": values[y],
        "duration": values[duration] * TIME_FACTORS[duration_unit],
        "image_width": float(geometry.resolution_px[0]),
        "image_height": float(geometry.resolution_px[1]),
        "after_gap": False,
    })
