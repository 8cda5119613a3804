"""BIDS-style event files (``events.tsv`` as REMoDNaV writes them) and their fixation lists."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from gazekit.geometry import ScreenGeometry
from gazekit.recording_files import (
    line_list,
    parse_numbers,
    read_text_columns,
    recording_names,
)
from gazekit.schema import ScanpathError

__all__ = ["EVENT_GAP_MS", "bids_fixations", "read_bids_events"]

#: Uncovered time between consecutive events of an event file longer than this (ms) is lost
#: data (REMoDNaV writes times rounded to 1 ms).
EVENT_GAP_MS = 0.5
_EVENT_COLUMNS = ("onset", "duration", "label", "start_x", "start_y", "end_x", "end_y")
_EVENT_OPTIONAL = ("amp", "peak_vel", "med_vel", "avg_vel")


def read_bids_events(path: str | os.PathLike, *, subject: str | None = None,
                     trial: str | None = None) -> pd.DataFrame:
    """Read a BIDS-style ``events.tsv`` of eye-movement events (as written by REMoDNaV).

    Parameters
    ----------
    path : path
        Tab-separated file with ``onset``, ``duration`` (**s**), ``label``, ``start_x``,
        ``start_y``, ``end_x``, ``end_y`` (**px**) and optionally ``amp`` (**degrees**),
        ``peak_vel``, ``med_vel``, ``avg_vel`` (**deg/s**).
    subject, trial : str, optional
        Default from the file name (:func:`recording_names`).

    Returns
    -------
    pandas.DataFrame
        One row per event, in file order: ``subject``, ``trial``, ``label``, ``onset_ms``,
        ``duration_ms`` (**ms**), ``start_x``, ``start_y``, ``end_x``, ``end_y`` (**px**) and
        the optional columns present, ``amp`` renamed ``amplitude_deg``.

    Raises
    ------
    ScanpathError
        For a missing column, unparseable rows, a missing label, a negative duration, or
        onsets that decrease.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> text = ("onset\\tduration\\tlabel\\tstart_x\\tstart_y\\tend_x\\tend_y\\tamp\\n"
    ...         "0.0\\t0.25\\tFIXA\\t100\\t100\\t102\\t101\\t0.1\\n"
    ...         "0.25\\t0.03\\tSACC\\t102\\t101\\t300\\t120\\t3.7\\n")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "sub-01_task-movie_run-1_events.tsv"
    ...     _ = path.write_text(text)
    ...     events = read_bids_events(path)
    >>> events[["subject", "label", "onset_ms", "duration_ms", "amplitude_deg"]].values.tolist()
    [['sub-01', 'FIXA', 0.0, 250.0, 0.1], ['sub-01', 'SACC', 250.0, 30.0, 3.7]]
    """
    path = Path(path)
    source = str(path)
    raw = read_text_columns(path, _EVENT_COLUMNS, "\t", optional=_EVENT_OPTIONAL)
    optional = [c for c in _EVENT_OPTIONAL if c in raw.columns]
    numeric = [c for c in raw.columns if c != "label"]
    values = parse_numbers(raw, numeric, required=numeric, source=source)
    labels = raw["label"]
    for bad, what in ((labels.isna().to_numpy(), "has no label"),
                      (values["duration"] < 0, "has a negative duration"),
                      (np.r_[False, np.diff(values["onset"]) < 0],
                       "starts before the event above it (expected events sorted by onset)")):
        if bad.any():
            rows = np.flatnonzero(bad)
            raise ScanpathError(f"the event on line {rows[0] + 2} {what} ({len(rows)} such "
                                f"row(s), lines {line_list(rows)})", source)
    default_subject, default_trial = recording_names(path)
    out = pd.DataFrame({
        "subject": subject or default_subject, "trial": trial or default_trial,
        "label": labels.to_numpy(dtype=object),
        "onset_ms": values["onset"] * 1000.0, "duration_ms": values["duration"] * 1000.0,
        **{c: values[c] for c in ("start_x", "start_y", "end_x", "end_y")},
    })
    for col in optional:
        out["amplitude_deg" if col == "amp" else col] = values[col]
    return out


def bids_fixations(event_table: pd.DataFrame, geometry: ScreenGeometry,
                   labels: Sequence[str] = ("FIXA",)) -> pd.DataFrame:
    """The fixation list of an event table from :func:`read_bids_events` (one recording).

    A fixation's position is the midpoint of its start and end points; ``after_gap`` is True
    when time between the previous fixation and this one is not covered by events (lost data;
    a gap longer than :data:`EVENT_GAP_MS`).

    Parameters
    ----------
    event_table : pandas.DataFrame
        Events of one recording, sorted by onset.
    geometry : ScreenGeometry
        Screen (or stimulus) the coordinates refer to; gives ``image_width``/``_height``.
    labels : sequence of str, default ("FIXA",)
        Event labels that are fixations.

    Returns
    -------
    pandas.DataFrame
        The fixation list (:mod:`gazekit.readers`), ``t`` and ``duration`` in **ms**.

    Examples
    --------
    Three fixations; no event covers 680-2000 ms, so the last one follows lost data:

    >>> import pandas as pd
    >>> from gazekit.geometry import STUDYFORREST
    >>> events = pd.DataFrame({
    ...     "subject": "sub-01", "trial": "run-1", "label": ["FIXA", "SACC", "FIXA", "FIXA"],
    ...     "onset_ms": [0.0, 250.0, 280.0, 2000.0], "duration_ms": [250.0, 30.0, 400.0, 300.0],
    ...     "start_x": [100, 102, 300, 500], "start_y": [100, 101, 120, 500],
    ...     "end_x": [102, 300, 302, 502], "end_y": [101, 120, 121, 500]})
    >>> fixations = bids_fixations(events, STUDYFORREST)
    >>> print(fixations[["step", "x", "y", "t", "duration", "after_gap"]].to_string(index=False))
     step     x     y      t  duration  after_gap
        0 101.0 100.5    0.0     250.0      False
        1 301.0 120.5  280.0     400.0      False
        2 501.0 500.0 2000.0     300.0       True
    """
    onset = event_table["onset_ms"].to_numpy(np.float64)
    end = onset + event_table["duration_ms"].to_numpy(np.float64)
    gap_before = np.zeros(len(onset), dtype=np.int64)
    gap_before[1:] = onset[1:] - end[:-1] > EVENT_GAP_MS
    gaps = np.cumsum(gap_before)
    rows = np.flatnonzero(event_table["label"].isin(list(labels)).to_numpy())
    fix = event_table.iloc[rows]
    after_gap = np.zeros(len(rows), dtype=bool)
    after_gap[1:] = gaps[rows[1:]] - gaps[rows[:-1]] > 0
    return pd.DataFrame({
        "subject": fix["subject"].to_numpy(), "trial": fix["trial"].to_numpy(),
        "step": np.arange(len(rows)),
        "x": (fix["start_x"].to_numpy() + fix["end_x"].to_numpy()) / 2,
        "y": (fix["start_y"].to_numpy() + fix["end_y"].to_numpy()) / 2,
        "t": onset[rows], "duration": fix["duration_ms"].to_numpy(),
        "image_width": float(geometry.resolution_px[0]),
        "image_height": float(geometry.resolution_px[1]),
        "after_gap": after_gap,
    })
