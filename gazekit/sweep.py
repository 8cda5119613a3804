"""How the gaze statistics move with the fixation threshold: one row per group and threshold.

The paper calls consecutive glimpses closer than 6 px one fixation (its glimpses are 8 x 8 px),
and its qualitative claims (RAM mostly saccadic, DRAM mostly fixational, MRAM in between)
depend on that choice. :func:`threshold_sweep` segments the same scanpaths at several
thresholds and reports, per group, the statistics that those claims rest on;
:func:`sweep_files` does so for scanpath files and writes the table and its figure
(``gazekit sweep``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from gazekit.analyze import check_group_column, check_threshold
from gazekit.atomic import check_outputs, write_atomically
from gazekit.io import Paths, find_inputs, read_scanpaths
from gazekit.plot import figure_files, figure_paths, threshold_sweep_figure
from gazekit.schema import check_per_scanpath, key_columns
from gazekit.segment import MODES, SCANPATH_COLUMNS, segment
from gazekit.stats import summarize

__all__ = ["COLUMNS", "DEFAULT_THRESHOLDS", "sweep_files", "threshold_sweep"]

#: Thresholds swept by default, in **pixels**: around the paper's 6 px, up to 1.5 glimpse widths.
DEFAULT_THRESHOLDS: tuple[float, ...] = (2, 3, 4, 5, 6, 7, 8, 10, 12)

#: Columns of the result of :func:`threshold_sweep`, in order.
COLUMNS: tuple[str, ...] = (
    "group", "threshold_px", "scanpaths", "glimpses", "fixations", "saccades",
    "fixations_per_scanpath", "fixational_share", "fixation_steps_mean",
    "fixation_steps_median", "saccade_px_mean", "saccade_px_median",
)


def _check_thresholds(thresholds: float | Iterable[float]) -> np.ndarray:
    """The thresholds as sorted float64 pixels; ValueError naming the first bad value."""
    items = list(np.ravel(np.asarray(thresholds, dtype=object)))
    if not items:
        raise ValueError("no thresholds given (expected finite distances >= 0 in pixels)")
    values: list[float] = []
    for value in map(check_threshold, items):  # the rule of gazekit.analyze
        if value in values:
            raise ValueError(f"threshold {value:g} px is given twice (thresholds must be "
                             "distinct)")
        values.append(value)
    return np.sort(np.array(values, dtype=np.float64))


def threshold_sweep(table: pd.DataFrame, thresholds: float | Iterable[float] = DEFAULT_THRESHOLDS,
                    mode: str = "consecutive", group_by: str | None = "model") -> pd.DataFrame:
    """Per-group fixation and saccade statistics of ``table`` at each fixation threshold.

    For each threshold the scanpaths are segmented with :func:`gazekit.segment.segment` and
    described per group by :func:`gazekit.stats.summarize` without intervals
    (``n_resamples=0``): point estimates only. Bootstrap confidence intervals would cost the
    whole bootstrap once per threshold; those at the threshold finally chosen come from
    :func:`gazekit.stats.summarize` or ``gazekit analyze``.

    Parameters
    ----------
    table : pandas.DataFrame
        Validated scanpath rows (:func:`gazekit.schema.validate`, as returned by
        :func:`gazekit.io.read_scanpaths`), ``x`` and ``y`` in **pixels**.
    thresholds : float or iterable of float, default :data:`DEFAULT_THRESHOLDS`
        Fixation thresholds in **pixels** (default 2, 3, 4, 5, 6, 7, 8, 10, 12 px), in any
        order; each finite and >= 0 (:func:`gazekit.analyze.check_threshold`; 0 px makes
        every glimpse its own fixation), and no value may repeat.
    mode : {"consecutive", "centroid", "anchor"}, default "consecutive"
        Joining rule of :func:`gazekit.segment.segment` (the paper's is ``"consecutive"``).
    group_by : str or None, default "model"
        Per-scanpath column defining the groups. None gives a single group ``"all"``, as
        does the default ``"model"`` where ``table`` lacks it; any other column must be in
        ``table`` (:func:`gazekit.analyze.check_group_column`).

    Returns
    -------
    pandas.DataFrame
        Long format, one row per group and threshold: groups in order of first appearance
        in ``table``, thresholds ascending within a group. Columns (:data:`COLUMNS`):

        - ``group``; ``threshold_px`` (**pixels**);
        - counts ``scanpaths``, ``glimpses``, ``fixations``, ``saccades``;
        - ``fixations_per_scanpath`` (mean number of fixations per scanpath);
        - ``fixational_share``: share of glimpse-to-glimpse transitions within a fixation,
          ``1 - saccades / (glimpses - scanpaths)`` (NaN when no scanpath has two glimpses);
        - ``fixation_steps_mean``, ``fixation_steps_median``: fixation duration in
          **glimpse steps**;
        - ``saccade_px_mean``, ``saccade_px_median``: saccade distance in **pixels** (NaN
          when the group has no saccade at that threshold).

    Raises
    ------
    ValueError
        On a threshold that is not a finite number >= 0 or is repeated (the message names
        it), an unknown ``mode``, a ``group_by`` column that ``table`` lacks (other than
        ``"model"``) or that is not a key column or one of
        :data:`~gazekit.segment.SCANPATH_COLUMNS`, or missing group values.
    ScanpathError
        If ``table`` is not a validated scanpath table, or its ``group_by`` column varies
        within a scanpath (the message names the row and both values).

    Examples
    --------
    >>> import gazekit
    >>> table = gazekit.validate(gazekit.synthetic_scanpaths(n_per_policy=20, seed=0))
    >>> sweep = threshold_sweep(table, [4, 6, 8])
    >>> columns = ["group", "threshold_px", "fixations", "fixational_share"]
    >>> print(sweep[columns].head(3).round(2).to_string(index=False))
                 group  threshold_px  fixations  fixational_share
    synthetic-saccadic           4.0        215              0.11
    synthetic-saccadic           6.0        215              0.11
    synthetic-saccadic           8.0        179              0.28
    """
    values = _check_thresholds(thresholds)
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
    check_group_column(group_by, [c for c in table.columns if c != "_scanpath"])
    if group_by in table.columns:
        if group_by not in SCANPATH_COLUMNS and group_by not in key_columns(table.columns):
            raise ValueError(
                f"group_by column {group_by!r} does not describe whole scanpaths; "
                f"expected a key column or one of {', '.join(SCANPATH_COLUMNS)}")
        # validate checks this already; a table changed or built since may not hold to it.
        check_per_scanpath(table, [group_by])
    parts = []
    for threshold in values:  # one segmentation alive at a time: memory of a single one
        seg = segment(table, threshold, mode)
        summary = summarize(seg.fixations, seg.saccades, group_by, n_resamples=0)
        parts.append(summary.assign(threshold_px=threshold, _order=np.arange(len(summary))))
    # Every threshold has the same groups in the same order (first appearance in the table):
    # group by group, thresholds ascending.
    sweep = pd.concat(parts, ignore_index=True).sort_values(["_order", "threshold_px"],
                                                            kind="stable")
    return sweep[list(COLUMNS)].reset_index(drop=True)


def sweep_files(paths: Paths, thresholds: float | Iterable[float] = DEFAULT_THRESHOLDS, *,
                mode: str = "consecutive", group_by: str | None = "model",
                csv: str | Path | None = None, figure: str | Path | None = None,
                ) -> tuple[pd.DataFrame, list[Path]]:
    """:func:`threshold_sweep` of scanpath files, written to a CSV file and/or a figure.

    The Python API of ``gazekit sweep``. The outputs are written all or nothing
    (:func:`gazekit.atomic.write_atomically`), and never over an input.

    Parameters
    ----------
    paths : path or sequence of paths
        Scanpath files and/or directories (:func:`gazekit.io.read_scanpaths`).
    thresholds, mode, group_by
        As for :func:`threshold_sweep` (thresholds in **pixels**).
    csv : path, optional
        Write the sweep (all of :data:`COLUMNS`) to this CSV file, replacing it if it exists.
    figure : path, optional
        Write the figure (:func:`gazekit.plot.threshold_sweep_figure`, the paper's 6 px
        marked) to ``figure.png`` and ``figure.svg``.

    Returns
    -------
    sweep : pandas.DataFrame
        The result of :func:`threshold_sweep`.
    written : list of pathlib.Path
        The files written: the CSV file, then the PNG and SVG.

    Raises
    ------
    ScanpathError
        For unreadable or invalid input (the message names the file).
    ValueError
        As :func:`threshold_sweep`, or if an output is an input file or is named twice
        (:func:`gazekit.atomic.check_outputs`); nothing is written then.
    OSError
        If an output cannot be written (e.g. it is a directory); no output is left then.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import gazekit
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     sweep, written = sweep_files(gazekit.demo_path(), [4, 6],
    ...                                  csv=Path(tmp) / "sweep.csv")
    ...     print([path.name for path in written], len(sweep))
    ['sweep.csv'] 6
    """
    files = find_inputs(paths)
    # Checked before the input is read: a bad output path fails at once, however large it is.
    check_outputs(files, files=([Path(csv)] if csv is not None else [])
                  + (figure_paths(figure) if figure is not None else []))
    sweep = threshold_sweep(read_scanpaths(files), thresholds, mode=mode, group_by=group_by)
    writers = {}
    if csv is not None:
        writers[Path(csv)] = lambda tmp: sweep.to_csv(tmp, index=False)
    if figure is not None:
        title = f"Gaze statistics against the fixation threshold ({mode} rule)"
        writers.update(figure_files(threshold_sweep_figure(sweep, title=title), figure))
    return sweep, write_atomically(writers)
