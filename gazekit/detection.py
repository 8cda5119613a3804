"""Event detection on human recordings as files: the Python API of ``gazekit detect``.

:func:`detect_files` reads raw gaze samples (or event files), finds fixations with a detector of
:mod:`gazekit.detectors` and writes one directory (atomically: all files or none):

``fixations.parquet``
    One row per fixation, a :mod:`gazekit.schema` scanpath table: ``subject``, ``trial``,
    ``step`` (fixation index), ``x``, ``y`` (centroid, **px**), ``t`` (onset, **ms**),
    ``duration`` (**ms**), ``image_width``, ``image_height`` (screen, **px**), ``after_gap``
    (lost data since the previous fixation), ``model`` (group label), ``policy`` (``human``).
``saccades.parquet``
    One row per move between consecutive fixations of a trial (none across lost data), as
    :func:`gazekit.human.human_segmentation` makes them (``from_x`` ... ``to_y``,
    ``distance_px``), plus ``amplitude_deg``: the exact visual angle in **degrees**.
``summary.csv``
    One row per recording (``subject``, ``trial``) and one for all of them (``all``):
    fixation and saccade counts, fixation duration mean and median (**ms**), saccade amplitude
    mean and median (**degrees**).
``detection.json``
    How the events were made: format, files, screen geometry, detector and its parameters,
    gazekit version. :func:`read_detection` reads the directory back with it, so
    ``gazekit analyze --human DIR`` needs no geometry or detector options.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from gazekit.atomic import atomic_output_dir, check_outputs
from gazekit.geometry import ScreenGeometry
from gazekit.human import FORMATS, HumanRecordings, human_segmentation, load_recordings
from gazekit.io import path_list
from gazekit.readers import SampleFormat
from gazekit.schema import ScanpathError

__all__ = ["DETECTION_FILE", "detect_files", "detection_summary", "is_detection",
           "load_human", "read_detection", "write_detection"]

#: The file that marks a directory written by :func:`write_detection`.
DETECTION_FILE = "detection.json"


def detection_summary(recordings: HumanRecordings) -> pd.DataFrame:
    """Per-recording counts, fixation durations (**ms**) and saccade amplitudes (**degrees**).

    One row per (``subject``, ``trial``) in reading order, then a row ``all`` over every
    recording. Recordings without saccades have NaN amplitudes.

    Examples
    --------
    >>> from gazekit.geometry import ScreenGeometry
    >>> table = pd.DataFrame({"subject": "s1", "trial": "1", "step": [0, 1],
    ...                       "x": [100.0, 500.0], "y": [300.0, 300.0], "duration": [200., 300.]})
    >>> screen = ScreenGeometry((1000, 600), (40.0, 24.0), 60.0)
    >>> rec = HumanRecordings([], "fixations", screen, "human", None, {}, table,
    ...                       human_segmentation(table), np.array([15.2]))
    >>> detection_summary(rec)[["trial", "fixations", "fixation_ms_median", "saccade_deg_mean"]]
      trial  fixations  fixation_ms_median  saccade_deg_mean
    0     1          2               250.0              15.2
    1   all          2               250.0              15.2
    """
    fix, sac = recordings.segmentation.fixations, recordings.segmentation.saccades
    keys = ["subject", "trial"]
    durations = fix.groupby(keys, sort=False)["duration_ms"]
    amplitudes = pd.Series(recordings.saccade_deg, index=pd.MultiIndex.from_frame(sac[keys]))
    amp = amplitudes.groupby(level=keys, sort=False)
    per = pd.DataFrame({
        "fixations": durations.size(), "saccades": amp.size(),
        "fixation_ms_mean": durations.mean(), "fixation_ms_median": durations.median(),
        "saccade_deg_mean": amp.mean(), "saccade_deg_median": amp.median(),
    })
    per["saccades"] = per["saccades"].fillna(0).astype(np.int64)
    pooled = pd.DataFrame([{
        "fixations": len(fix), "saccades": len(sac),
        "fixation_ms_mean": fix["duration_ms"].mean(),
        "fixation_ms_median": fix["duration_ms"].median(),
        "saccade_deg_mean": amplitudes.mean(), "saccade_deg_median": amplitudes.median(),
    }], index=pd.MultiIndex.from_tuples([("all", "all")], names=keys))
    return pd.concat([per, pooled]).reset_index()


def _metadata(recordings: HumanRecordings) -> dict:
    from gazekit import __version__

    g = recordings.geometry
    return {
        "gazekit": __version__, "format": recordings.format, "label": recordings.label,
        "files": [str(f) for f in recordings.files],
        "geometry": {"resolution_px": list(g.resolution_px), "size_cm": list(g.size_cm),
                     "distance_cm": g.distance_cm},
        "method": recordings.method, "params": recordings.params,
        "trials_without_fixations": recordings.trials_without_fixations,
    }


def write_detection(recordings: HumanRecordings, out_dir: str | os.PathLike, *,
                    overwrite: bool = False) -> list[Path]:
    """Write ``recordings`` to ``out_dir`` (module docstring), all files or none.

    Returns
    -------
    list of pathlib.Path
        The files written, in ``out_dir``.

    Raises
    ------
    FileExistsError
        If ``out_dir`` exists and is not empty, unless ``overwrite``.
    """
    out_dir = Path(out_dir)
    names = ["fixations.parquet", "saccades.parquet", "summary.csv", DETECTION_FILE]
    with atomic_output_dir(out_dir, overwrite=overwrite) as tmp:
        recordings.fixation_list.to_parquet(tmp / names[0], index=False)
        recordings.segmentation.saccades.drop(columns="_scanpath").assign(
            amplitude_deg=recordings.saccade_deg).to_parquet(tmp / names[1], index=False)
        detection_summary(recordings).to_csv(tmp / names[2], index=False)
        (tmp / names[3]).write_text(json.dumps(_metadata(recordings), indent=2) + "\n",
                                    encoding="utf-8")
    return [out_dir / n for n in names]


def is_detection(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a directory written by :func:`write_detection`."""
    return (Path(path) / DETECTION_FILE).is_file()


def read_detection(path: str | os.PathLike, label: str | None = None) -> HumanRecordings:
    """Read a directory written by :func:`write_detection` (``gazekit detect``) back.

    The screen geometry, detector and parameters come from its ``detection.json``.

    Parameters
    ----------
    path : path
        The directory.
    label : str, optional
        Group label; default the one it was written with.

    Raises
    ------
    ScanpathError
        If a file is missing or ``detection.json`` is not what :func:`write_detection` writes.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import pandas as pd
    >>> from gazekit.geometry import TOBII_TX300
    >>> from gazekit.human import load_recordings
    >>> t = np.arange(0.0, 600.0, 2.0)  # ms
    >>> samples = pd.DataFrame({"t": t, "x": np.where(t < 300, 500.0, 900.0), "y": 540.0})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     samples.to_csv(Path(tmp) / "sub-01_run-1.csv", index=False)
    ...     recordings = load_recordings(Path(tmp) / "sub-01_run-1.csv", "csv",
    ...                                  geometry=TOBII_TX300, method="ivt")
    ...     _ = write_detection(recordings, Path(tmp) / "events")
    ...     print(is_detection(Path(tmp) / "events"), is_detection(tmp))
    ...     again = read_detection(Path(tmp) / "events", label="observers")
    True False
    >>> again.label, again.geometry == TOBII_TX300, len(again.segmentation.fixations)
    ('observers', True, 2)
    """
    path = Path(path)
    source = str(path / DETECTION_FILE)
    try:
        meta = json.loads((path / DETECTION_FILE).read_text(encoding="utf-8"))
        geometry = ScreenGeometry(**meta["geometry"])
        fixation_list = pd.read_parquet(path / "fixations.parquet")
        saccades = pd.read_parquet(path / "saccades.parquet", columns=["amplitude_deg"])
    except FileNotFoundError as exc:
        raise ScanpathError(f"missing {Path(exc.filename).name} (expected the output "
                            "directory of gazekit detect)", str(path)) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ScanpathError(f"not a detection written by gazekit detect ({exc})",
                            source) from None
    label = meta.get("label", "human") if label is None else label
    fixation_list = fixation_list.assign(model=label)
    seg = human_segmentation(fixation_list)
    if len(seg.saccades) != len(saccades):
        raise ScanpathError(f"saccades.parquet has {len(saccades)} rows, but the fixations "
                            f"make {len(seg.saccades)} saccades (files of different runs?)",
                            str(path))
    return HumanRecordings(
        files=[Path(f) for f in meta["files"]], format=meta["format"], geometry=geometry,
        label=label, method=meta["method"], params=meta["params"],
        fixation_list=fixation_list, segmentation=seg,
        saccade_deg=saccades["amplitude_deg"].to_numpy(np.float64),
        trials_without_fixations=int(meta.get("trials_without_fixations", 0)))


def load_human(paths, fmt: str | None = None, *, geometry: ScreenGeometry | None = None,
               label: str = "human", method: str | None = None, params: dict | None = None,
               sample_format: SampleFormat | None = None) -> HumanRecordings:
    """Human recordings from files of a named format, or from one ``gazekit detect`` output.

    With ``fmt`` None, ``paths`` must be one directory written by :func:`write_detection`:
    it brings its own geometry and detector, so ``geometry``, ``method`` and ``params`` must
    not be given. Otherwise this is :func:`gazekit.human.load_recordings` (``method`` None:
    the default detector).

    Raises
    ------
    ValueError
        For a missing format, or options that a detection directory already fixes.
    """
    given = path_list(paths)
    if fmt is None:
        if len(given) != 1 or not is_detection(given[0]):
            raise ValueError("name the format of the human recordings (one of "
                             f"{', '.join(FORMATS)}), or give one output directory of "
                             "gazekit detect")
        if geometry is not None or method is not None or params or sample_format:
            raise ValueError(f"{given[0]} is a gazekit detect output: its screen geometry and "
                             "detector are in its detection.json; give no geometry or "
                             "detector options")
        return read_detection(given[0], label)
    kwargs = {} if method is None else {"method": method}
    return load_recordings(paths, fmt, geometry=geometry, label=label,
                           sample_format=sample_format, **kwargs, **(params or {}))


def detect_files(paths, out_dir: str | os.PathLike, fmt: str, *, geometry: ScreenGeometry,
                 method: str | None = None, label: str = "human", overwrite: bool = False,
                 sample_format: SampleFormat | None = None,
                 **params) -> tuple[HumanRecordings, list[Path]]:
    """Find fixations and saccades in recordings and write them to ``out_dir``.

    Parameters
    ----------
    paths : path or sequence of paths
        Recording files and/or directories (searched recursively).
    out_dir : path
        Output directory (module docstring); must not hold or lie in an input.
    fmt : str
        One of :data:`gazekit.human.FORMATS`.
    geometry : ScreenGeometry
        The screen of the recordings (required: degrees depend on it).
    method : str, optional
        Detector name (:func:`gazekit.detectors.list_detectors`); default
        :data:`gazekit.detectors.DEFAULT_DETECTOR`.
    label : str, default "human"
        Group label written to the ``model`` column.
    overwrite : bool, default False
        Replace a non-empty ``out_dir``.
    sample_format : SampleFormat, optional
        Column mapping of ``"csv"`` samples (default :data:`gazekit.readers.CSV`).
    **params
        Detector parameters (:func:`gazekit.detectors.detector_parameters`).

    Returns
    -------
    (HumanRecordings, list of pathlib.Path)
        The recordings and the files written.

    Examples
    --------
    Samples at 500 Hz that jump 400 px once, on the Tobii TX300 screen of the example data:

    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import pandas as pd
    >>> from gazekit.geometry import TOBII_TX300
    >>> t = np.arange(0.0, 600.0, 2.0)  # ms
    >>> samples = pd.DataFrame({"t": t, "x": np.where(t < 300, 500.0, 900.0), "y": 540.0})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     (Path(tmp) / "recordings").mkdir()
    ...     samples.to_csv(Path(tmp) / "recordings" / "sub-01_run-1.csv", index=False)
    ...     recordings, written = detect_files(Path(tmp) / "recordings", Path(tmp) / "events",
    ...                                        "csv", geometry=TOBII_TX300, method="ivt")
    ...     print([path.name for path in written])
    ...     print(read_detection(Path(tmp) / "events").detector())
    ['fixations.parquet', 'saccades.parquet', 'summary.csv', 'detection.json']
    ivt (velocity_deg_s 30, min_duration_ms 60, window_ms 20, polyorder 2)
    >>> columns = ["subject", "trial", "x", "y", "duration_ms"]
    >>> print(recordings.segmentation.fixations[columns].to_string(index=False))
    subject trial     x     y  duration_ms
     sub-01 run-1 500.0 540.0        290.0
     sub-01 run-1 900.0 540.0        290.0
    >>> recordings.saccade_deg.round(2)  # the 400 px jump in degrees of visual angle
    array([9.22])
    """
    check_outputs(path_list(paths), dirs=[Path(out_dir)])
    recordings = load_human(paths, fmt, geometry=geometry, label=label, method=method,
                            params=params, sample_format=sample_format)
    return recordings, write_detection(recordings, out_dir, overwrite=overwrite)
