"""Data through the ecosystem: pymovements' gaze and events to gazekit's tables and back, and
BIDS-style event files.

`pymovements <https://pymovements.readthedocs.io>`_ (an optional extra:
``pip install "gazekit[pymovements]"``) reads EyeLink ``.asc`` files and many other formats
and data sets into a ``Gaze`` (polars ``samples`` with ``time`` and a ``pixel`` list column,
plus ``events``). :func:`from_pymovements` turns that into gazekit's tables:

samples
    ``subject``, ``trial``, ``t`` (**ms**), ``x``, ``y`` (**px**, NaN where lost), as
    :func:`gazekit.readers.read_samples` returns them, ready for gazekit's detectors.
events
    ``subject``, ``trial``, ``label`` (pymovements' event name, e.g. ``fixation_eyelink``),
    ``eye`` (where given), ``onset_ms``, ``duration_ms`` (**ms**), ``start_x``, ``start_y``,
    ``end_x``, ``end_y`` (**px**: the gaze sample at onset and at offset, of the event's own
    eye in a binocular recording; NaN without one), as
    :func:`gazekit.readers.read_bids_events` returns them.

:func:`to_pymovements` goes back (samples and/or events to a ``Gaze`` or ``Events``), and
:func:`write_bids_events` writes events as a BIDS-style ``events.tsv`` (``onset`` and
``duration`` in seconds, REMoDNaV's labels ``FIXA``/``SACC``, positions in px), which
:func:`gazekit.readers.read_bids_events`, REMoDNaV users and multimatch-gaze read. Times are in
pymovements' time unit, milliseconds.

>>> import pymovements as pm
>>> events = pm.Events(name="fixation", onsets=[0, 300], offsets=[250, 600])
>>> from_pymovements(events).events[["label", "onset_ms", "duration_ms"]].to_dict("list")
{'label': ['fixation', 'fixation'], 'onset_ms': [0.0, 300.0], 'duration_ms': [250.0, 300.0]}
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gazekit.atomic import atomic_file

__all__ = ["BIDS_LABELS", "PymovementsData", "events_from_fixations", "from_pymovements",
           "to_pymovements", "write_bids_events"]

#: Event names (their prefix before ``_``, e.g. ``fixation_eyelink``) and REMoDNaV's labels.
BIDS_LABELS: dict[str, str] = {"fixation": "FIXA", "saccade": "SACC", "pso": "PSO",
                               "smooth pursuit": "PURS", "blink": "BLINK"}
_EYES = ("auto", "mean", "left", "right")


@dataclass
class PymovementsData:
    """gazekit's tables of a pymovements ``Gaze`` (module docstring).

    Attributes
    ----------
    samples : pandas.DataFrame or None
        Gaze samples; None when only events were given.
    events : pandas.DataFrame
        Events (empty when there are none).
    screen_px : (int, int) or None
        Screen resolution from the ``Gaze``'s experiment, where known.
    """

    samples: pd.DataFrame | None
    events: pd.DataFrame
    screen_px: tuple[int, int] | None


def _pymovements():
    try:
        import pymovements
    except ImportError:
        raise ImportError("this needs pymovements: pip install 'gazekit[pymovements]'") from None
    return pymovements


def _trials(frame, trial_columns, default: str) -> np.ndarray:
    """Trial name of every row: the trial columns joined by ``/``, or ``default``."""
    if not trial_columns:
        return np.full(len(frame), default, dtype=object)
    parts = frame.select(trial_columns).to_pandas().astype(str)
    return parts.agg("/".join, axis=1).to_numpy(dtype=object)


def _positions(samples, eye: str) -> tuple[np.ndarray, np.ndarray]:
    """x, y (px) of every sample from the ``pixel`` list column (NaN where lost)."""
    if "pixel" not in samples.columns:
        raise ValueError(f"the gaze samples have no 'pixel' column (columns: "
                         f"{', '.join(samples.columns)}); expected pixel coordinates")
    pixel = samples.get_column("pixel")
    width = _n_components(samples)
    if width not in (2, 4):
        raise ValueError(f"the 'pixel' column has {width} components; expected 2 (one eye) "
                         "or 4 (left x, left y, right x, right y)")
    values = pixel.list.to_array(width).to_numpy().astype(np.float64)  # null -> NaN
    if width == 2:
        if eye in ("left", "right"):
            raise ValueError(f"eye={eye!r} needs a binocular recording; this one has one eye")
        return values[:, 0], values[:, 1]
    if eye in ("left", "right"):
        k = 0 if eye == "left" else 2
        return values[:, k], values[:, k + 1]
    xs, ys = values[:, [0, 2]], values[:, [1, 3]]
    ok = np.isfinite(xs) & np.isfinite(ys)
    with np.errstate(invalid="ignore"):  # no valid eye: 0 / 0 -> NaN
        n = ok.sum(axis=1)
        return (np.where(ok, xs, 0).sum(axis=1) / n, np.where(ok, ys, 0).sum(axis=1) / n)


def _at(t: np.ndarray, trial: np.ndarray, values: np.ndarray, when: np.ndarray,
        when_trial: np.ndarray) -> np.ndarray:
    """``values`` of the sample at time ``when`` of trial ``when_trial`` (NaN if none)."""
    out = np.full(len(when), np.nan)
    for name in pd.unique(when_trial):  # one sorted search per trial
        rows = np.flatnonzero(when_trial == name)
        mine = np.flatnonzero(trial == name)
        if len(mine) == 0:
            continue
        order = mine[np.argsort(t[mine], kind="stable")]
        k = np.minimum(np.searchsorted(t[order], when[rows]), len(order) - 1)
        hit = t[order][k] == when[rows]
        out[rows[hit]] = values[order[k[hit]]]
    return out


def from_pymovements(data, *, eye: str = "auto", subject: str = "pymovements",
                     trial: str = "1") -> PymovementsData:
    """Convert a pymovements ``Gaze`` (or ``Events``) to gazekit's tables.

    Parameters
    ----------
    data : pymovements.Gaze or pymovements.Events
        E.g. from ``pymovements.gaze.from_asc(path, events=True)`` (EyeLink).
    eye : {"auto", "mean", "left", "right"}, default "auto"
        Which eye's ``pixel`` columns give ``x``, ``y``: a monocular recording's one eye; of a
        binocular one the mean of the eyes valid at a sample ("auto", "mean") or one eye.
    subject : str, default "pymovements"
        ``subject`` of every row.
    trial : str, default "1"
        ``trial`` of every row where the data has no trial columns (otherwise their values,
        joined by ``/``).

    Returns
    -------
    PymovementsData

    Raises
    ------
    ValueError
        For an unknown ``eye``, samples without a 2- or 4-component ``pixel`` column, or
        ``eye="left"``/``"right"`` on a monocular recording.
    ImportError
        Without pymovements.

    Examples
    --------
    >>> import pymovements as pm, polars as pl
    >>> gaze = pm.Gaze(pl.DataFrame({"time": [0, 1, 2], "pixel": [[1., 2.], [3., 4.], None]}))
    >>> from_pymovements(gaze).samples[["t", "x", "y"]].to_numpy().tolist()
    [[0.0, 1.0, 2.0], [1.0, 3.0, 4.0], [2.0, nan, nan]]
    """
    pm = _pymovements()
    if eye not in _EYES:
        raise ValueError(f"eye must be one of {', '.join(_EYES)}, got {eye!r}")
    if isinstance(data, pm.Events):
        gaze_samples, events, trial_columns, screen = None, data, data.trial_columns, None
    elif isinstance(data, pm.Gaze):
        gaze_samples, events, trial_columns = data.samples, data.events, data.trial_columns
        resolution = data.experiment.screen.resolution if data.experiment is not None else None
        screen = (tuple(int(v) for v in resolution)
                  if resolution is not None and None not in resolution else None)
    else:
        raise TypeError(f"expected a pymovements Gaze or Events, got {type(data).__name__}")
    samples = None
    if gaze_samples is not None:
        x, y = _positions(gaze_samples, eye)
        samples = pd.DataFrame({
            "subject": subject, "trial": _trials(gaze_samples, trial_columns, trial),
            "t": gaze_samples.get_column("time").to_numpy().astype(np.float64), "x": x, "y": y,
        })
    frame = events.frame if events is not None else None
    n = 0 if frame is None else len(frame)
    table = pd.DataFrame({
        "subject": pd.Series([subject] * n, dtype=object),
        "trial": _trials(frame, trial_columns, trial) if n else np.empty(0, dtype=object),
        "label": frame.get_column("name").to_numpy().astype(object) if n else [],
        "onset_ms": frame.get_column("onset").to_numpy().astype(np.float64) if n else [],
        "duration_ms": (frame.get_column("offset").to_numpy().astype(np.float64)
                        - frame.get_column("onset").to_numpy()) if n else [],
    })
    if n and "eye" in frame.columns:
        table.insert(3, "eye", frame.get_column("eye").to_numpy().astype(object))
    for column in ("start_x", "start_y", "end_x", "end_y"):
        table[column] = np.full(n, np.nan)
    if samples is not None and n:
        # An event of one eye of a binocular recording is placed by that eye's samples.
        sources = {None: (samples["x"].to_numpy(), samples["y"].to_numpy())}
        which = np.full(n, None, dtype=object)
        if eye in ("auto", "mean") and "eye" in table and _n_components(gaze_samples) == 4:
            which = table["eye"].where(table["eye"].isin(["left", "right"]), None).to_numpy()
            sources.update({side: _positions(gaze_samples, side) for side in ("left", "right")})
        t, trials = samples["t"].to_numpy(), samples["trial"].to_numpy(dtype=object)
        onset = table["onset_ms"].to_numpy(np.float64)
        offset = onset + table["duration_ms"].to_numpy(np.float64)
        for side, (x, y) in sources.items():
            rows = np.flatnonzero(which == side) if side else np.flatnonzero(
                pd.isna(which))
            for end, when in (("start", onset), ("end", offset)):
                for axis, values in (("x", x), ("y", y)):
                    table.loc[rows, f"{end}_{axis}"] = _at(
                        t, trials, values, when[rows], table["trial"].to_numpy(dtype=object)[rows])
    return PymovementsData(samples, table, screen)


def _n_components(samples) -> int:
    return int(samples.get_column("pixel").list.len().max() or 0)


def to_pymovements(samples: pd.DataFrame | None = None, events: pd.DataFrame | None = None, *,
                   screen_px: tuple[int, int] | None = None):
    """gazekit's samples and/or events as a pymovements ``Gaze`` (or ``Events`` alone).

    Parameters
    ----------
    samples : pandas.DataFrame, optional
        ``t`` (**ms**), ``x``, ``y`` (**px**), optionally ``trial`` (as :func:`from_pymovements`
        and :func:`gazekit.readers.read_samples` make them).
    events : pandas.DataFrame, optional
        ``label``, ``onset_ms``, ``duration_ms``, optionally ``trial`` and ``eye``.
    screen_px : (int, int), optional
        Screen resolution for the ``Gaze``'s experiment.

    Returns
    -------
    pymovements.Gaze
        With ``time``, ``pixel`` (and ``trial``) samples and the events; or
        ``pymovements.Events`` when only ``events`` are given. pymovements stores times as
        integers where they are whole milliseconds.

    Examples
    --------
    >>> events = pd.DataFrame({"label": ["fixation"], "onset_ms": [10.0], "duration_ms": [250.0]})
    >>> to_pymovements(events=events).frame.select("name", "onset", "offset").rows()
    [('fixation', 10, 260)]
    """
    pm = _pymovements()
    import polars as pl

    if samples is None and events is None:
        raise ValueError("give samples, events or both")
    pm_events = None
    if events is not None:
        missing = [c for c in ("label", "onset_ms", "duration_ms") if c not in events.columns]
        if missing:
            raise ValueError(f"the events have no column {missing[0]!r}; expected label, "
                             "onset_ms and duration_ms (ms)")
        onset = events["onset_ms"].to_numpy(np.float64)
        offset = onset + events["duration_ms"].to_numpy(np.float64)
        columns = {"name": events["label"].astype(str).to_list(), "onset": _whole(onset),
                   "offset": _whole(offset)}
        if "eye" in events.columns:
            columns["eye"] = events["eye"].astype(str).to_list()
        trial_columns = None
        if "trial" in events.columns:
            columns["trial"] = events["trial"].astype(str).to_list()
            trial_columns = ["trial"]
        pm_events = pm.Events(pl.DataFrame(columns), trial_columns=trial_columns)
        if samples is None:
            return pm_events
    t = samples["t"].to_numpy(np.float64)
    pixel = np.column_stack([samples["x"].to_numpy(np.float64),
                             samples["y"].to_numpy(np.float64)])
    # A lost sample is null in pymovements (as its EyeLink reader writes it), not NaN.
    frame = {"time": _whole(t), "pixel": pl.Series(pixel).cast(pl.List(pl.Float64)).list.eval(
        pl.element().fill_nan(None))}
    trial_columns = None
    if "trial" in samples.columns:
        frame["trial"] = samples["trial"].astype(str).to_list()
        trial_columns = ["trial"]
    experiment = (pm.Experiment(screen_width_px=int(screen_px[0]),
                                screen_height_px=int(screen_px[1]))
                  if screen_px is not None else None)
    return pm.Gaze(pl.DataFrame(frame), experiment=experiment, events=pm_events,
                   trial_columns=trial_columns)


def _whole(values: np.ndarray) -> np.ndarray:
    """Times as integers where all are whole milliseconds (pymovements' own choice)."""
    whole = np.isfinite(values).all() and (values == np.round(values)).all()
    return values.astype(np.int64) if whole else values


def _bids_label(name: str) -> str:
    base = name.split("_")[0].lower()
    return BIDS_LABELS.get(base, name)


def events_from_fixations(fixations: pd.DataFrame) -> pd.DataFrame:
    """A fixation list (one row per fixation, :mod:`gazekit.human`) as an event table.

    Parameters
    ----------
    fixations : pandas.DataFrame
        ``t`` (onset, **ms**), ``duration`` (**ms**), ``x``, ``y`` (**px**) and optionally
        ``subject``, ``trial``.

    Returns
    -------
    pandas.DataFrame
        The event table of the module docstring, ``label`` "fixation", start and end at the
        fixation's position.

    Examples
    --------
    >>> fix = pd.DataFrame({"t": [0.0, 300.0], "duration": [250.0, 200.0], "x": [10.0, 50.0],
    ...                     "y": [20.0, 20.0]})
    >>> events_from_fixations(fix)[["label", "onset_ms", "end_x"]].to_dict("list")
    {'label': ['fixation', 'fixation'], 'onset_ms': [0.0, 300.0], 'end_x': [10.0, 50.0]}
    """
    missing = [c for c in ("t", "duration", "x", "y") if c not in fixations.columns]
    if missing:
        raise ValueError(f"the fixation list has no column {missing[0]!r}; expected t and "
                         "duration (ms), x and y (px)")
    x, y = fixations["x"].to_numpy(np.float64), fixations["y"].to_numpy(np.float64)
    return pd.DataFrame({
        "subject": fixations["subject"].to_numpy() if "subject" in fixations else "",
        "trial": fixations["trial"].to_numpy() if "trial" in fixations else "",
        "label": "fixation", "onset_ms": fixations["t"].to_numpy(np.float64),
        "duration_ms": fixations["duration"].to_numpy(np.float64),
        "start_x": x, "start_y": y, "end_x": x, "end_y": y,
    })


def write_bids_events(events: pd.DataFrame, path: str | os.PathLike, *,
                      overwrite: bool = False) -> Path:
    """Write events as a BIDS-style ``events.tsv`` (REMoDNaV's columns), atomically.

    Columns: ``onset``, ``duration`` (**s**), ``label`` (:data:`BIDS_LABELS` by the name's
    prefix, e.g. ``fixation_eyelink`` -> ``FIXA``; other names unchanged), ``start_x``,
    ``start_y``, ``end_x``, ``end_y`` (**px**, ``n/a`` where unknown, as BIDS writes missing
    values), and ``eye`` where the events have it. One file holds one recording.

    Parameters
    ----------
    events : pandas.DataFrame
        Event table (module docstring).
    path : path
        Output ``.tsv`` file.
    overwrite : bool, default False
        Replace an existing file.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> events = pd.DataFrame({"label": ["fixation_eyelink"], "onset_ms": [1500.0],
    ...                        "duration_ms": [250.0], "start_x": [1.0], "start_y": [2.0],
    ...                        "end_x": [3.0], "end_y": [4.0]})
    >>> path = write_bids_events(events, Path(tempfile.mkdtemp()) / "events.tsv")
    >>> path.read_text().splitlines()[1].split()
    ['1.5', '0.25', 'FIXA', '1.0', '2.0', '3.0', '4.0']
    """
    need = ("label", "onset_ms", "duration_ms", "start_x", "start_y", "end_x", "end_y")
    missing = [c for c in need if c not in events.columns]
    if missing:
        raise ValueError(f"the events have no column {missing[0]!r}; expected "
                         f"{', '.join(need)}")
    out = pd.DataFrame({
        "onset": events["onset_ms"].to_numpy(np.float64) / 1000.0,
        "duration": events["duration_ms"].to_numpy(np.float64) / 1000.0,
        "label": [_bids_label(str(v)) for v in events["label"]],
        **{c: events[c].to_numpy(np.float64) for c in need[3:]},
    })
    if "eye" in events.columns:
        out["eye"] = events["eye"].to_numpy()
    with atomic_file(path, overwrite=overwrite) as tmp:
        out.to_csv(tmp, sep="\t", index=False, na_rep="n/a")
    return Path(path)
