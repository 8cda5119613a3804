"""Raw gaze samples: their column formats, reading and checking them, and finding fixations.

A :class:`SampleFormat` maps the columns of a CSV/TSV file of samples (one or two eyes, pixels,
display fractions or degrees); :func:`read_samples` reads and checks a file (timestamps,
sampling rate, valid samples) and :func:`detect_fixations` turns samples into the fixation list
of :mod:`gazekit.readers` with a detector of :mod:`gazekit.detectors`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gazekit import detectors
from gazekit.geometry import ScreenGeometry
from gazekit.recording_files import (
    TIME_FACTORS,
    line_list,
    parse_numbers,
    read_text_columns,
    recording_names,
)
from gazekit.schema import ScanpathError

__all__ = ["COORDINATES", "CSV", "IRREGULAR_TOLERANCE", "TOBII", "SampleFormat",
           "detect_fixations", "read_samples"]

#: Sampling intervals may deviate from the recording's median by this share before the
#: recording counts as irregularly sampled.
IRREGULAR_TOLERANCE = 0.2
#: ``SampleFormat.coordinates`` values.
COORDINATES: tuple[str, ...] = ("px", "normalized", "deg")


@dataclass(frozen=True)
class SampleFormat:
    """Column mapping of a raw gaze-sample file.

    Parameters
    ----------
    time : str
        Timestamp column.
    x, y : tuple of str
        Horizontal and vertical gaze columns, one per eye (one or two eyes; two are averaged
        over the eyes that are valid at a sample).
    time_unit : {"us", "ms", "s"}, default "ms"
        Unit of ``time``.
    coordinates : {"px", "normalized", "deg"}, default "px"
        ``"px"``: pixels from the top-left corner; ``"normalized"``: fractions of the display
        (0..1 from the top-left corner), multiplied by the screen resolution; ``"deg"``:
        degrees of visual angle from the screen centre per axis (y downwards), turned into
        pixels exactly (:meth:`gazekit.geometry.ScreenGeometry.deg2pix`).
    validity : tuple of str, default ()
        Validity-code column per eye (same order as ``x``); none: every finite sample is valid.
    valid_codes : tuple of int, default (0,)
        Codes of ``validity`` that mark a valid eye.
    missing : tuple of float, default ()
        Coordinate values that mark a lost sample (e.g. ``-1``); empty fields and NaN always do.
    trial : str, optional
        Column naming the trial of each row (rows of a trial contiguous); default: the file is
        one trial.
    sep : str, optional
        Field separator; default tab for ``.tsv`` files, comma otherwise.

    Examples
    --------
    Monocular samples with times in seconds and a trial column:

    >>> fmt = SampleFormat(time="timestamp", x=("gx",), y=("gy",), time_unit="s", trial="block")
    >>> fmt.columns()
    ['timestamp', 'gx', 'gy', 'block']
    >>> TOBII.columns()  # both eyes, with their validity codes
    ['Time', 'LGazePos2dx', 'RGazePos2dx', 'LGazePos2dy', 'RGazePos2dy', 'LValidity', 'RValidity']
    """

    time: str
    x: tuple[str, ...]
    y: tuple[str, ...]
    time_unit: str = "ms"
    coordinates: str = "px"
    validity: tuple[str, ...] = ()
    valid_codes: tuple[int, ...] = (0,)
    missing: tuple[float, ...] = ()
    trial: str | None = None
    sep: str | None = None

    def __post_init__(self) -> None:
        if self.time_unit not in TIME_FACTORS:
            raise ValueError(f"time_unit must be one of {', '.join(TIME_FACTORS)}, got "
                             f"{self.time_unit!r}")
        if self.coordinates not in COORDINATES:
            raise ValueError(f"coordinates must be one of {', '.join(COORDINATES)}, got "
                             f"{self.coordinates!r}")
        if len(self.x) != len(self.y) or len(self.x) not in (1, 2):
            raise ValueError(f"x and y must name the same number of eyes (1 or 2) columns, got "
                             f"{self.x!r} and {self.y!r}")
        if self.validity and len(self.validity) != len(self.x):
            raise ValueError(f"validity must name one column per eye ({len(self.x)}), got "
                             f"{self.validity!r}")

    def columns(self) -> list[str]:
        """All columns the format reads."""
        return [self.time, *self.x, *self.y, *self.validity, *([self.trial] if self.trial else [])]


#: Tobii TX300 / Titta-style export (I2MC example data): binocular, times in microseconds,
#: coordinates as display fractions, ``-1`` and validity 4 where lost.
TOBII = SampleFormat(time="Time", x=("LGazePos2dx", "RGazePos2dx"),
                     y=("LGazePos2dy", "RGazePos2dy"), time_unit="us", coordinates="normalized",
                     validity=("LValidity", "RValidity"), valid_codes=(0,), missing=(-1.0,))
#: Plain samples: ``t`` in ms, ``x``, ``y`` in pixels, NaN or empty where lost.
CSV = SampleFormat(time="t", x=("x",), y=("y",))


def _block_codes(values: pd.Series, source: str, what: str) -> np.ndarray:
    """Codes 0, 1, ... of contiguous blocks of equal values; raise if a block reappears."""
    codes, uniques = pd.factorize(values, sort=False)
    new = np.ones(len(codes), dtype=bool)
    np.not_equal(codes[1:], codes[:-1], out=new[1:])
    if new.sum() != len(uniques):
        row = int(np.flatnonzero(new & (np.maximum.accumulate(codes) > codes))[0])
        raise ScanpathError(
            f"line {row + 2}: {what} {values.iloc[row]!r} appears again after another one "
            f"started (expected the rows of a {what} to be contiguous)", source)
    return codes.astype(np.int64)


def _check_times(t: np.ndarray, codes: np.ndarray, labels: Sequence[str], source: str,
                 column: str) -> None:
    """Raise on decreasing, duplicated or irregularly spaced times within a trial."""
    same = codes[1:] == codes[:-1]
    diffs = np.diff(t)
    for bad, what in ((same & (diffs < 0), "is earlier than the one before it"),
                      (same & (diffs == 0), "repeats the one before it (duplicated timestamp)")):
        if bad.any():
            rows = np.flatnonzero(bad) + 1
            raise ScanpathError(
                f"column {column!r}: the timestamp on line {rows[0] + 2} {what}; expected "
                f"strictly increasing times ({len(rows)} such row(s), lines {line_list(rows)})",
                source)
    if (np.bincount(codes) < 2).any():
        trial = labels[int(np.argmax(np.bincount(codes) < 2))]
        raise ScanpathError(f"trial {trial!r} has a single sample; need at least two", source)
    dt = pd.Series(diffs[same]).groupby(codes[1:][same]).median().to_numpy()[codes[1:]]
    irregular = same & (np.abs(diffs - dt) > IRREGULAR_TOLERANCE * dt)
    if irregular.any():
        rows = np.flatnonzero(irregular) + 1
        i = rows[0] - 1
        raise ScanpathError(
            f"irregular sampling: {len(rows)} of {int(same.sum())} intervals differ from the "
            f"median {dt[i]:.4g} ms ({1000 / dt[i]:.4g} Hz) by more than "
            f"{IRREGULAR_TOLERANCE:.0%}, first the {diffs[i]:.4g} ms before line {rows[0] + 2} "
            f"(lines {line_list(rows)}); expected a constant sampling rate, with lost samples as "
            "rows marked invalid rather than missing rows", source)


def read_samples(path: str | os.PathLike, fmt: SampleFormat = TOBII, *,
                 geometry: ScreenGeometry, subject: str | None = None,
                 trial: str | None = None) -> pd.DataFrame:
    """Read raw gaze samples and check them.

    Parameters
    ----------
    path : path
        CSV/TSV file (see ``fmt.sep``).
    fmt : SampleFormat, default :data:`TOBII`
        Column mapping.
    geometry : ScreenGeometry
        Screen of the recording: its resolution turns normalised coordinates into pixels,
        and a gaze position off it (outside ``0..width``, ``0..height`` px) is lost data.
    subject, trial : str, optional
        Names of the recording; default from the file name (:func:`recording_names`). With
        ``fmt.trial`` the trial names come from that column.

    Returns
    -------
    pandas.DataFrame
        One row per sample, in file order: ``subject``, ``trial`` (str), ``t`` (**ms**),
        ``x``, ``y`` (**px**, NaN where the sample is lost: missing, marked invalid or off
        the screen). With two eyes, a sample is the mean of the valid eyes (one eye when the
        other is lost).

    Raises
    ------
    ScanpathError
        For a missing or empty file, a missing column, unparseable rows, decreasing or
        duplicated timestamps, irregular sampling (an interval off the median by more than
        :data:`IRREGULAR_TOLERANCE`), a trial's rows not contiguous, or a trial without a
        single valid sample; the message names the file and lines.

    Examples
    --------
    Plain ``t`` (ms), ``x``, ``y`` (px) columns; the sample at x = 2000 lies off the 1920 px
    screen and counts as lost:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from gazekit.geometry import TOBII_TX300
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "sub-01_run-1.csv"
    ...     _ = path.write_text("t,x,y\\n0,960,540\\n2,961,541\\n4,2000,540\\n6,962,540\\n")
    ...     samples = read_samples(path, CSV, geometry=TOBII_TX300)
    >>> samples[["subject", "trial"]].iloc[0].tolist(), samples["x"].tolist()
    (['sub-01', 'run-1'], [960.0, 961.0, nan, 962.0])
    """
    path = Path(path)
    source = str(path)
    raw = read_text_columns(path, fmt.columns(), fmt.sep)
    numeric = [fmt.time, *fmt.x, *fmt.y, *fmt.validity]
    values = parse_numbers(raw, numeric, required=[fmt.time], source=source)
    default_subject, default_trial = recording_names(path)
    if fmt.trial:
        names = raw[fmt.trial].fillna("").astype(str)
        codes = _block_codes(names, source, "trial")
        labels = list(pd.unique(names))
    else:
        codes = np.zeros(len(raw), dtype=np.int64)
        labels = [trial or default_trial]
    t = values[fmt.time] * TIME_FACTORS[fmt.time_unit]
    _check_times(t, codes, labels, source, fmt.time)

    # One row per eye.
    eye_x = np.stack([values[c] for c in fmt.x])
    eye_y = np.stack([values[c] for c in fmt.y])
    ok = np.isfinite(eye_x) & np.isfinite(eye_y)
    if fmt.missing:
        ok &= ~(np.isin(eye_x, fmt.missing) | np.isin(eye_y, fmt.missing))
    if fmt.coordinates == "normalized":
        eye_x, eye_y = eye_x * geometry.resolution_px[0], eye_y * geometry.resolution_px[1]
    elif fmt.coordinates == "deg":
        eye_x, eye_y = geometry.deg2pix(eye_x, eye_y)
    if fmt.validity:
        ok &= np.isin(np.stack([values[c] for c in fmt.validity]), fmt.valid_codes)
    # Off the screen is lost: the tracker extrapolated a gaze that no stimulus pixel received.
    (width, height) = geometry.resolution_px
    with np.errstate(invalid="ignore"):  # NaN compares False: already lost
        ok &= (eye_x >= 0) & (eye_x <= width) & (eye_y >= 0) & (eye_y <= height)
    n_ok = ok.sum(axis=0)
    with np.errstate(invalid="ignore"):  # 0 / 0 -> NaN where no eye is valid
        x = np.where(ok, eye_x, 0.0).sum(axis=0) / n_ok
        y = np.where(ok, eye_y, 0.0).sum(axis=0) / n_ok
    valid_per_trial = np.bincount(codes, weights=n_ok > 0, minlength=len(labels))
    if (valid_per_trial == 0).any():
        k = int(np.argmax(valid_per_trial == 0))
        raise ScanpathError(
            f"trial {labels[k]!r} has no valid samples ({int((codes == k).sum())} rows, all "
            f"lost, marked invalid or off the {geometry.resolution_px[0]} x "
            f"{geometry.resolution_px[1]} px screen); expected at least one", source)
    return pd.DataFrame({
        "subject": subject or default_subject,
        "trial": np.asarray(labels, dtype=object)[codes],
        "t": t, "x": x, "y": y,
    })


def detect_fixations(samples: pd.DataFrame, geometry: ScreenGeometry,
                     method: str = detectors.DEFAULT_DETECTOR, **params) -> pd.DataFrame:
    """Find fixations in gaze samples and return them as a fixation list.

    Positions are converted to degrees with ``geometry.pix2deg`` and passed to
    the detector ``method`` of :mod:`gazekit.detectors` (its defaults unless ``params`` say
    otherwise), one recording per (``subject``, ``trial``).

    Parameters
    ----------
    samples : pandas.DataFrame
        As returned by :func:`read_samples` (rows of a recording contiguous).
    geometry : ScreenGeometry
        Screen of the recording.
    method : str, default :data:`gazekit.detectors.DEFAULT_DETECTOR`
        A name in :func:`gazekit.detectors.list_detectors`.
    **params
        Detector parameters in degrees, deg/s and ms
        (:func:`gazekit.detectors.detector_parameters`).

    Returns
    -------
    pandas.DataFrame
        The fixation list (:mod:`gazekit.readers`): ``subject``, ``trial``, ``step``, ``x``, ``y``
        (centroid of the fixation's samples, **px**), ``t`` (onset, **ms**), ``duration``
        (**ms**), ``image_width``, ``image_height`` (px), ``after_gap`` (a lost sample lies
        between the previous fixation of the trial and this one). Recordings without
        fixations contribute no rows.

    Examples
    --------
    Samples at 500 Hz that jump 400 px once:

    >>> import numpy as np
    >>> import pandas as pd
    >>> from gazekit.geometry import TOBII_TX300
    >>> t = np.arange(0.0, 600.0, 2.0)  # ms
    >>> samples = pd.DataFrame({"subject": "sub-01", "trial": "run-1", "t": t,
    ...                         "x": np.where(t < 300, 500.0, 900.0), "y": 540.0})
    >>> fixations = detect_fixations(samples, TOBII_TX300, "ivt")
    >>> print(fixations[["step", "x", "y", "t", "duration", "after_gap"]].to_string(index=False))
     step     x     y     t  duration  after_gap
        0 500.0 540.0   0.0     290.0      False
        1 900.0 540.0 310.0     290.0      False
    """
    recording = samples.groupby(["subject", "trial"], sort=False).ngroup().to_numpy()
    x = samples["x"].to_numpy(np.float64)
    y = samples["y"].to_numpy(np.float64)
    found = detectors.detect(samples["t"].to_numpy(np.float64), *geometry.pix2deg(x, y),
                          recording=recording, method=method, **params)
    start, stop = found["start"].to_numpy(), found["stop"].to_numpy()
    # Centroids and lost-sample counts from cumulative sums (no loop over fixations).
    cx, cy = (np.concatenate([[0.0], np.cumsum(np.nan_to_num(v))]) for v in (x, y))
    lost = np.concatenate([[0], np.cumsum(~(np.isfinite(x) & np.isfinite(y)))])
    # Valid samples only: a detector that merges across a short loss spans missing samples.
    n = (stop - start) - (lost[stop] - lost[start])
    rec = found["recording"].to_numpy()
    first = np.ones(len(found), dtype=bool)
    np.not_equal(rec[1:], rec[:-1], out=first[1:])
    gap = np.zeros(len(found), dtype=bool)
    gap[1:] = ~first[1:] & (lost[start[1:]] - lost[stop[:-1]] > 0)
    fixation_index = np.arange(len(found)) - np.flatnonzero(first)[np.cumsum(first) - 1]
    return pd.DataFrame({
        "subject": samples["subject"].to_numpy()[start],
        "trial": samples["trial"].to_numpy()[start],
        "step": fixation_index,
        "x": (cx[stop] - cx[start]) / n, "y": (cy[stop] - cy[start]) / n,
        "t": found["onset_ms"].to_numpy(), "duration": found["duration_ms"].to_numpy(),
        "image_width": float(geometry.resolution_px[0]),
        "image_height": float(geometry.resolution_px[1]),
        "after_gap": gap,
    })
