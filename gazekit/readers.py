"""Readers of human eye-tracking recordings: raw gaze samples, BIDS events, fixation lists.

Three kinds of input are read:

raw gaze samples (:func:`read_samples`)
    CSV/TSV, one row per sample, described by a :class:`SampleFormat` (time column and unit,
    x/y columns of one or two eyes in pixels or display fractions, validity codes, missing
    values). :data:`TOBII` reads the Tobii TX300 / Titta-style export of the I2MC example data
    (time in microseconds, normalised coordinates, validity 0 = valid, 4 = lost); :data:`CSV`
    reads plain ``t`` (ms), ``x``, ``y`` (px) columns. Fixations are then found with I-DT or
    I-VT (:func:`detect_fixations`, :mod:`gazekit.detectors`).
BIDS-style event files (:func:`read_bids_events`)
    ``events.tsv`` as written by REMoDNaV: ``onset``, ``duration`` (s), ``label``
    (``FIXA`` fixation, ``SACC`` saccade, ...), ``start_x`` ... ``end_y`` (px), ``amp``
    (degrees).
plain fixation lists (:func:`read_fixation_list`)
    ``start_x``, ``start_y`` (px) and ``duration`` (s) per fixation.

Each becomes a **fixation list** (see :mod:`gazekit.human`, which turns fixation lists into
the shared fixations and saccades tables and loads sets of files).

Bad input raises :class:`gazekit.schema.ScanpathError` naming the file and line: missing
columns, unparseable rows (how many, which lines), duplicated or decreasing timestamps,
irregular sampling, a trial without valid samples.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gazekit import detectors
from gazekit.geometry import ScreenGeometry
from gazekit.schema import ScanpathError

__all__ = [
    "COORDINATES",
    "CSV",
    "TOBII",
    "SampleFormat",
    "bids_fixations",
    "detect_fixations",
    "read_bids_events",
    "read_fixation_list",
    "read_samples",
    "recording_names",
]

#: Sampling intervals may deviate from the recording's median by this share before the
#: recording counts as irregularly sampled.
IRREGULAR_TOLERANCE = 0.2
#: Uncovered time between consecutive events of an event file longer than this (ms) is lost
#: data (REMoDNaV writes times rounded to 1 ms).
EVENT_GAP_MS = 0.5
_TIME_FACTORS = {"us": 1e-3, "ms": 1.0, "s": 1e3}
#: ``SampleFormat.coordinates`` values.
COORDINATES: tuple[str, ...] = ("px", "normalized", "deg")
_SUBJECT = re.compile(r"(?:^|_)(sub-[A-Za-z0-9]+)(?=_|$)")
#: How many line numbers an error message lists.
_SHOW = 5


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
        if self.time_unit not in _TIME_FACTORS:
            raise ValueError(f"time_unit must be one of {', '.join(_TIME_FACTORS)}, got "
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


def recording_names(path: str | os.PathLike) -> tuple[str, str]:
    """``(subject, trial)`` of a recording file, from its name.

    A BIDS entity ``sub-<label>`` in the file name is the subject and the rest of the name
    (without a trailing ``_events``) the trial, e.g. ``sub-10_task-movie_run-1_events.tsv`` ->
    ``("sub-10", "task-movie_run-1")``; otherwise the parent directory is the subject and the
    file name without suffix the trial (``participant1/3.tsv`` -> ``("participant1", "3")``).

    Examples
    --------
    >>> recording_names("data/sub-10_task-movie_run-1_events.tsv")
    ('sub-10', 'task-movie_run-1')
    >>> recording_names("participant1/3.tsv")
    ('participant1', '3')
    """
    path = Path(path)
    stem = path.stem
    match = _SUBJECT.search(stem)
    if match is None:
        return path.parent.name, stem
    rest = (stem[:match.start(1)] + stem[match.end(1):]).strip("_")
    return match.group(1), re.sub(r"_?events$", "", rest) or stem


# --- reading ---------------------------------------------------------------------------------


def _lines(rows: np.ndarray) -> str:
    """``"5, 9, 12"`` (file line numbers of 0-based data rows; line 1 is the header)."""
    shown = ", ".join(str(int(r) + 2) for r in rows[:_SHOW])
    return shown + (", ..." if len(rows) > _SHOW else "")


def _read_text(path: Path, columns: Sequence[str], sep: str | None,
               optional: Sequence[str] = ()) -> pd.DataFrame:
    """The named columns (and those of ``optional`` present) of a delimited file as strings,
    NaN where empty, one row per line after the header."""
    source = str(path)
    if not path.is_file():
        raise ScanpathError("file not found", source)
    if path.stat().st_size == 0:
        raise ScanpathError("empty file (0 bytes)", source)
    sep = sep or ("\t" if path.suffix.lower() == ".tsv" else ",")
    try:
        # Blank lines are kept (as empty rows) so that row numbers map to file lines.
        raw = pd.read_csv(path, sep=sep, dtype=str, skip_blank_lines=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ScanpathError(f"cannot read ({' '.join(str(exc).split())})", source) from exc
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        raise ScanpathError(
            f"missing column {missing[0]!r} (expected {', '.join(map(repr, columns))}; the "
            f"file has {', '.join(map(repr, raw.columns[:12]))}"
            + (", ..." if len(raw.columns) > 12 else "") + ")", source)
    if len(raw) == 0:
        raise ScanpathError("no data rows (only a header)", source)
    return raw[list(dict.fromkeys([*columns, *(c for c in optional if c in raw.columns)]))]


def _numbers(raw: pd.DataFrame, columns: Sequence[str], required: Sequence[str],
             source: str) -> dict[str, np.ndarray]:
    """Parse ``columns`` as float64; raise on text that is not a number or an empty ``required``
    field, saying how many rows and which lines."""
    values, bad, first = {}, np.zeros(len(raw), dtype=bool), None
    for col in dict.fromkeys(columns):
        text = raw[col]
        num = pd.to_numeric(text, errors="coerce").to_numpy(np.float64, na_value=np.nan)
        wrong = text.notna().to_numpy() & np.isnan(num)
        if col in required:
            wrong |= text.isna().to_numpy()
        if wrong.any() and first is None:
            row = int(np.flatnonzero(wrong)[0])
            value = text.iloc[row]
            first = (f"column {col!r} holds {value!r} on line {row + 2}" if isinstance(value, str)
                     else f"column {col!r} is empty on line {row + 2}")
        bad |= wrong
        values[col] = num
    if bad.any():
        rows = np.flatnonzero(bad)
        raise ScanpathError(
            f"{len(rows)} unparseable row(s) (lines {_lines(rows)}): {first}; expected numbers",
            source)
    return values


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
                f"strictly increasing times ({len(rows)} such row(s), lines {_lines(rows)})",
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
            f"(lines {_lines(rows)}); expected a constant sampling rate, with lost samples as "
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
    raw = _read_text(path, fmt.columns(), fmt.sep)
    numeric = [fmt.time, *fmt.x, *fmt.y, *fmt.validity]
    values = _numbers(raw, numeric, required=[fmt.time], source=source)
    default_subject, default_trial = recording_names(path)
    if fmt.trial:
        names = raw[fmt.trial].fillna("").astype(str)
        codes = _block_codes(names, source, "trial")
        labels = list(pd.unique(names))
    else:
        codes = np.zeros(len(raw), dtype=np.int64)
        labels = [trial or default_trial]
    t = values[fmt.time] * _TIME_FACTORS[fmt.time_unit]
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
        The fixation list (module docstring): ``subject``, ``trial``, ``step``, ``x``, ``y``
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
    raw = _read_text(path, _EVENT_COLUMNS, "\t", optional=_EVENT_OPTIONAL)
    optional = [c for c in _EVENT_OPTIONAL if c in raw.columns]
    numeric = [c for c in raw.columns if c != "label"]
    values = _numbers(raw, numeric, required=numeric, source=source)
    labels = raw["label"]
    for bad, what in ((labels.isna().to_numpy(), "has no label"),
                      (values["duration"] < 0, "has a negative duration"),
                      (np.r_[False, np.diff(values["onset"]) < 0],
                       "starts before the event above it (expected events sorted by onset)")):
        if bad.any():
            rows = np.flatnonzero(bad)
            raise ScanpathError(f"the event on line {rows[0] + 2} {what} ({len(rows)} such "
                                f"row(s), lines {_lines(rows)})", source)
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
        The fixation list (module docstring), ``t`` and ``duration`` in **ms**.

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
        The fixation list (module docstring), without ``t`` (onsets unknown);
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
    if duration_unit not in _TIME_FACTORS:
        raise ValueError(f"duration_unit must be one of {', '.join(_TIME_FACTORS)}, got "
                         f"{duration_unit!r}")
    path = Path(path)
    source = str(path)
    raw = _read_text(path, [x, y, duration], None)
    values = _numbers(raw, [x, y, duration], required=[x, y, duration], source=source)
    bad = ~(values[duration] > 0)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise ScanpathError(f"column {duration!r}: the duration on line {rows[0] + 2} is not "
                            f"positive ({len(rows)} such row(s), lines {_lines(rows)})", source)
    default_subject, default_trial = recording_names(path)
    return pd.DataFrame({
        "subject": subject or default_subject, "trial": trial or default_trial,
        "step": np.arange(len(raw)), "x": values[x], "y": values[y],
        "duration": values[duration] * _TIME_FACTORS[duration_unit],
        "image_width": float(geometry.resolution_px[0]),
        "image_height": float(geometry.resolution_px[1]),
        "after_gap": False,
    })
