"""Human eye-tracking recordings as one more group: fixation lists and the shared tables.

The readers of :mod:`gazekit.readers` (raw gaze samples with fixation detection, BIDS-style
event files, plain fixation lists; also importable from here) each make a **fixation list**:
a :mod:`gazekit.schema` scanpath table with one row per
fixation (``subject``, ``trial``, ``step`` = fixation index, ``x``, ``y`` = fixation position in
**px**, ``t`` = onset in **ms** where known, ``duration`` in **ms**, ``image_width``,
``image_height`` = the screen or stimulus size in px, ``after_gap`` = lost data since the
previous fixation). :func:`human_segmentation` turns it into the same fixations and saccades
tables that :func:`gazekit.segment.segment` makes of model scanpaths (it *is* ``segment`` with a
threshold of 0, so every row stays one fixation): a saccade is the move between consecutive
fixations of a trial, from one fixation position to the next, and no saccade is counted
across lost data. :func:`load_recordings` does all of this for a set of files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gazekit import detectors
from gazekit.geometry import ScreenGeometry
from gazekit.io import expand_paths
from gazekit.readers import (
    COORDINATES,
    CSV,
    TOBII,
    SampleFormat,
    bids_fixations,
    detect_fixations,
    read_bids_events,
    read_fixation_list,
    read_samples,
    recording_names,
)
from gazekit.schema import ScanpathError, validate
from gazekit.segment import Segmentation, segment

__all__ = [
    "COORDINATES",
    "CSV",
    "FORMATS",
    "TOBII",
    "HumanRecordings",
    "SampleFormat",
    "bids_fixations",
    "detect_fixations",
    "find_recordings",
    "human_segmentation",
    "load_recordings",
    "read_bids_events",
    "read_fixation_list",
    "read_samples",
    "recording_names",
]

#: ``format`` values of :func:`load_recordings` (and of ``gazekit analyze --human-format``).
FORMATS: tuple[str, ...] = ("tobii", "bids-events", "fixations", "csv")

# --- shared tables ---------------------------------------------------------------------------


def human_segmentation(fixation_list: pd.DataFrame) -> Segmentation:
    """Fixations and saccades of fixation lists, in the tables of :func:`gazekit.segment.segment`.

    It is ``segment(validate(fixation_list), threshold=0)``: no distance is below 0, so every
    row stays one fixation (``n_glimpses`` 1, ``duration_ms`` its duration, ``x``, ``y`` its
    position) and a saccade joins each pair of consecutive fixations of a scanpath (distance
    in **px** between the two positions). Saccades into a fixation with ``after_gap`` True
    are dropped (lost data lies between the two fixations) and the remaining ones renumbered.

    Parameters
    ----------
    fixation_list : pandas.DataFrame
        Scanpath table with one row per fixation (as made by the readers of this module),
        optionally with a boolean column ``after_gap``.

    Examples
    --------
    Three fixations; data were lost before the third, so only one saccade is kept:

    >>> import pandas as pd
    >>> fixations = pd.DataFrame({
    ...     "subject": "sub-01", "trial": "run-1", "step": [0, 1, 2], "x": [100, 400, 420],
    ...     "y": [200, 210, 215], "duration": [250, 300, 200],
    ...     "after_gap": [False, False, True]})
    >>> seg = human_segmentation(fixations)
    >>> seg.fixations["n_glimpses"].tolist(), seg.fixations["duration_ms"].tolist()
    ([1, 1, 1], [250.0, 300.0, 200.0])
    >>> seg.saccades[["from_fixation", "to_fixation", "distance_px"]].round(2).values.tolist()
    [[0.0, 1.0, 300.17]]
    """
    table = validate(fixation_list)
    seg = segment(table, threshold=0.0)
    if "after_gap" not in table.columns:
        return seg
    # Saccades follow the rows that do not start a scanpath, in order.
    into_gap = table["after_gap"].to_numpy(bool)[seg.fixations["fixation"].to_numpy() > 0]
    saccades = seg.saccades.loc[~into_gap].reset_index(drop=True)
    sp = saccades["_scanpath"].to_numpy()
    first = np.ones(len(sp), dtype=bool)
    np.not_equal(sp[1:], sp[:-1], out=first[1:])
    saccades["saccade"] = np.arange(len(sp)) - np.flatnonzero(first)[np.cumsum(first) - 1]
    return Segmentation(fixations=seg.fixations, saccades=saccades)


@dataclass
class HumanRecordings:
    """Human recordings read by :func:`load_recordings`.

    Attributes
    ----------
    files : list of pathlib.Path
        The recording files, in reading order.
    format : str
        One of :data:`FORMATS`.
    geometry : ScreenGeometry
        Screen used for degree conversions.
    label : str
        Group label, in the ``model`` column of the tables.
    method : str or None
        Fixation detector (``"idt"``/``"ivt"``) for raw samples, None for event files.
    params : dict
        Detector parameters in effect (defaults filled in).
    fixation_list : pandas.DataFrame
        All fixations as a scanpath table (one row per fixation).
    segmentation : Segmentation
        :func:`human_segmentation` of ``fixation_list``; ``model`` = ``label`` and
        ``policy`` = ``"human"`` in both tables.
    saccade_deg : numpy.ndarray
        Per saccade, the visual angle between its two fixations in **degrees**
        (:meth:`ScreenGeometry.visual_angle`, exact).
    trials_without_fixations : int
        Raw-sample trials in which the detector found no fixation.

    Examples
    --------
    A fixation list of two fixations (250 and 500 ms) on the studyforrest screen:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from gazekit.geometry import STUDYFORREST
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "sub-01_run-1.tsv"
    ...     _ = path.write_text("start_x\\tstart_y\\tduration\\n"
    ...                         "100\\t200\\t0.25\\n400\\t210\\t0.5\\n")
    ...     recordings = load_recordings(path, "fixations", geometry=STUDYFORREST)
    >>> recordings.detector()
    'fixations as listed in fixations files'
    >>> recordings.segmentation.fixations["duration_ms"].tolist()
    [250.0, 500.0]
    """

    files: list[Path]
    format: str
    geometry: ScreenGeometry
    label: str
    method: str | None
    params: dict
    fixation_list: pd.DataFrame
    segmentation: Segmentation
    saccade_deg: np.ndarray
    trials_without_fixations: int = 0

    def detector(self) -> str:
        """How the fixations were found, in words, e.g. ``ivt (velocity_deg_s 30, ...)``
        or ``fixations as listed in bids-events files`` (example in :class:`HumanRecordings`).
        """
        if not self.method:
            return f"fixations as listed in {self.format} files"
        return f"{self.method} (" + ", ".join(f"{k} {v:g}" for k, v in self.params.items()) + ")"

    def describe(self) -> str:
        """One paragraph for reports: files, format, geometry, detector."""
        fix = self.segmentation.fixations
        detector = (f"fixations detected with {self.detector()}" if self.method
                    else self.detector())
        text = (f"{len(self.files)} file(s), format `{self.format}`, "
                f"{fix['_scanpath'].nunique()} trial(s), {len(fix):,} fixations and "
                f"{len(self.segmentation.saccades):,} saccades; screen "
                f"{self.geometry.describe()}; {detector}")
        if self.trials_without_fixations:
            text += f"; {self.trials_without_fixations} trial(s) without any fixation"
        return text + "."


def find_recordings(paths) -> list[Path]:
    """Recording files: files as given, directories searched recursively for ``*.tsv`` and
    ``*.csv`` (sorted).

    Raises
    ------
    ScanpathError
        If no path is given, one does not exist, or a directory holds no such file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     (Path(tmp) / "sub-01").mkdir()
    ...     for name in ("sub-01/sub-01_run-1.tsv", "sub-01/sub-01_run-2.TSV", "notes.txt"):
    ...         _ = (Path(tmp) / name).write_text("")
    ...     print([path.relative_to(tmp).as_posix() for path in find_recordings(tmp)])
    ['sub-01/sub-01_run-1.tsv', 'sub-01/sub-01_run-2.TSV']
    """
    return expand_paths(paths, (".tsv", ".csv"), given="human recording",
                        empty="directory holds no recording (*.tsv, *.csv)", recursive=True,
                        ignore_case=True, check_files=False)


def load_recordings(paths, fmt: str = "tobii", *, geometry: ScreenGeometry | None = None,
                    label: str = "human", method: str = detectors.DEFAULT_DETECTOR,
                    sample_format: SampleFormat | None = None, **params) -> HumanRecordings:
    """Read human recordings into the shared fixations and saccades tables.

    Parameters
    ----------
    paths : path or sequence of paths
        Files and/or directories (searched recursively, see :func:`find_recordings`).
    fmt : {"tobii", "bids-events", "fixations", "csv"}, default "tobii"
        ``"tobii"``/``"csv"``: raw samples (:data:`TOBII` / ``sample_format`` or :data:`CSV`),
        fixations detected with ``method``; ``"bids-events"``: REMoDNaV event files
        (``FIXA`` events); ``"fixations"``: plain fixation lists.
    geometry : ScreenGeometry
        Screen of the recordings (pixels, cm and viewing distance), required: degrees depend
        on it, so it is never guessed. :data:`gazekit.geometry.TOBII_TX300` and
        :data:`~gazekit.geometry.STUDYFORREST` are the set-ups of the example data.
    label : str, default "human"
        Group label written to the ``model`` column.
    method : str, default :data:`gazekit.detectors.DEFAULT_DETECTOR`
        Fixation detector for raw samples (:func:`gazekit.detectors.list_detectors`).
    sample_format : SampleFormat, optional
        Column mapping for ``"csv"`` (default :data:`CSV`).
    **params
        Detector parameters (:func:`gazekit.detectors.detector_parameters`).

    Returns
    -------
    HumanRecordings

    Raises
    ------
    ScanpathError
        For bad files (see the readers), two files with the same subject and trial, or no
        fixation at all.
    ValueError
        For an unknown format or method, bad parameters, or a missing geometry.

    Examples
    --------
    Two fixation lists (``start_x``, ``start_y`` in px, ``duration`` in s) of one subject:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from gazekit.geometry import STUDYFORREST
    >>> text = "start_x\\tstart_y\\tduration\\n100\\t200\\t0.25\\n400\\t210\\t0.5\\n"
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     for run in (1, 2):
    ...         _ = (Path(tmp) / f"sub-01_run-{run}.tsv").write_text(text)
    ...     recordings = load_recordings(tmp, "fixations", geometry=STUDYFORREST,
    ...                                  label="observers")
    >>> columns = ["model", "subject", "trial", "step", "x", "duration"]
    >>> print(recordings.fixation_list[columns].to_string(index=False))
        model subject trial  step     x  duration
    observers  sub-01 run-1     0 100.0     250.0
    observers  sub-01 run-1     1 400.0     500.0
    observers  sub-01 run-2     0 100.0     250.0
    observers  sub-01 run-2     1 400.0     500.0
    >>> recordings.saccade_deg.round(2)  # the 300 px saccade of each run, in degrees
    array([5.55, 5.55])
    >>> print(recordings.describe())  # doctest: +NORMALIZE_WHITESPACE
    2 file(s), format `fixations`, 2 trial(s), 4 fixations and 2 saccades; screen 1280 x 720 px,
    26.5 x 14.9062 cm at 63 cm (53.11 px/deg at the centre); fixations as listed in fixations
    files.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown human format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if geometry is None:
        raise ValueError(f"human recordings ({fmt}) need the screen geometry: resolution in "
                         "px, size in cm and viewing distance in cm (--screen-px, --screen-cm, "
                         "--distance-cm)")
    samples = fmt in ("tobii", "csv")
    if samples:
        params = detectors.resolve_parameters(method, params)
    elif params or sample_format is not None:
        raise ValueError(f"human format {fmt!r} takes no detector parameters or sample format")
    files = find_recordings(paths)
    lists, without = [], 0
    # A loop over files: each is read and checked on its own, so errors name the file.
    for path in files:
        if samples:
            table = read_samples(path, TOBII if fmt == "tobii" else sample_format or CSV,
                                 geometry=geometry)
            found = detect_fixations(table, geometry, method, **params)
            without += table.groupby(["subject", "trial"]).ngroups \
                - found.groupby(["subject", "trial"]).ngroups
        elif fmt == "bids-events":
            found = bids_fixations(read_bids_events(path), geometry)
        else:
            found = read_fixation_list(path, geometry)
        lists.append(found.assign(_file=str(path)))
    fixation_list = pd.concat(lists, ignore_index=True)
    if fixation_list.empty:
        raise ScanpathError(f"no fixation found in {len(files)} human recording file(s)")
    owners = fixation_list.groupby(["subject", "trial"], sort=False)["_file"].nunique()
    if (owners > 1).any():
        subject, trial = owners.index[int(np.argmax(owners.to_numpy() > 1))]
        raise ScanpathError(f"two recording files have subject {subject!r} and trial "
                            f"{trial!r}; pass them separately or rename one")
    fixation_list = fixation_list.drop(columns="_file").assign(model=label, policy="human")
    seg = human_segmentation(fixation_list)
    sac = seg.saccades
    return HumanRecordings(
        files=files, format=fmt, geometry=geometry, label=label,
        method=method if samples else None, params=params if samples else {},
        fixation_list=fixation_list, segmentation=seg,
        saccade_deg=geometry.visual_angle(sac["from_x"], sac["from_y"], sac["to_x"],
                                          sac["to_y"]),
        trials_without_fixations=without)
