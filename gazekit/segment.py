"""Segment scanpaths into fixations and the saccades between them.

A scanpath is a sequence of glimpses (model) or gaze samples (human), one row each, as produced
by :func:`gazekit.schema.validate`. Consecutive glimpses that stay close together form one
fixation; each jump to a new fixation is a saccade. The paper defines a fixation with a
threshold of 6 px between consecutive glimpses (its glimpses are 8 x 8 px); two further rules
are offered for comparison.

All scanpaths are processed at once with array operations: the paper's ``"consecutive"`` rule
needs no Python loop; the history-dependent rules loop over the step *position* only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gazekit.schema import SCANPATH_COLUMNS, ScanpathError, key_columns, row_name

MODES: tuple[str, ...] = ("consecutive", "centroid", "anchor")

#: Relative margin around ``threshold**2`` inside which :func:`_within` does not trust a
#: squared distance (whose rounding error is about 2e-16 relative) and calls ``np.hypot``.
_MARGIN = 1e-9

__all__ = ["MODES", "SCANPATH_COLUMNS", "Segmentation", "segment"]


@dataclass
class Segmentation:
    """Fixations and saccades of a set of scanpaths.

    Attributes
    ----------
    fixations : pandas.DataFrame
        One row per fixation, ordered by scanpath then time. Columns: the key columns and the
        present :data:`SCANPATH_COLUMNS`; ``_scanpath`` (int64); ``fixation`` (0-based index in
        its scanpath); ``first_step``, ``last_step`` (``step`` values of its first and last
        glimpse); ``n_glimpses`` (duration in **glimpse steps**); ``duration_ms`` and
        ``onset_ms`` (**milliseconds**, NaN without time information); ``x``, ``y`` (centroid
        of its glimpses, **pixels**).
    saccades : pandas.DataFrame
        One row per transition between consecutive fixations of a scanpath. Columns: the key
        and per-scanpath columns; ``_scanpath``; ``saccade`` (0-based index in its scanpath);
        ``from_fixation``, ``to_fixation``; ``from_x``, ``from_y`` (last glimpse of the earlier
        fixation) and ``to_x``, ``to_y`` (first glimpse of the later one), **pixels**;
        ``distance_px`` (Euclidean distance between those glimpses, **pixels**: the paper's
        saccade distance); ``direction_deg`` (**degrees** in (-180, 180], 0 = rightwards,
        90 = upwards on the screen).

    Examples
    --------
    >>> import gazekit
    >>> table = gazekit.validate(gazekit.synthetic_scanpaths(n_per_policy=2, steps=5))
    >>> seg = gazekit.segment(table)
    >>> len(seg.fixations) - len(seg.saccades) == table["_scanpath"].nunique()
    True
    """

    fixations: pd.DataFrame
    saccades: pd.DataFrame


def segment(table: pd.DataFrame, threshold: float = 6.0, mode: str = "consecutive") -> Segmentation:
    """Split every scanpath of ``table`` into fixations and saccades.

    A glimpse either joins the current fixation or starts a new one (a saccade lies between
    the two). The first glimpse of a scanpath starts its fixation 0. Whether a later glimpse
    joins depends on ``mode``; in every mode the distance is Euclidean, in **pixels**, and must
    be *strictly* below ``threshold`` to join:

    ``"consecutive"`` (the paper's rule, default)
        distance to the previous glimpse.
    ``"centroid"`` (dispersion-like, as in I-DT)
        distance to the centroid (mean x, mean y) of the glimpses already in the current
        fixation.
    ``"anchor"``
        distance to the first glimpse of the current fixation.

    Hence ``threshold=0`` gives one-glimpse fixations only and ``threshold=inf`` one fixation
    per scanpath.

    Time: a row lasts ``duration`` ms when that column holds values; otherwise, with ``t``, row
    ``i`` lasts ``t[i+1] - t[i]`` ms and the last row of a scanpath lasts the median of that
    scanpath's intervals (NaN for a one-row scanpath). A fixation lasts the sum of its rows'
    durations and starts at the ``t`` of its first row. Without time columns both are NaN.

    Parameters
    ----------
    table : pandas.DataFrame
        Scanpath rows as returned by :func:`gazekit.schema.validate`: sorted by scanpath then
        ``step``, with ``_scanpath``, ``step``, ``x``, ``y`` (pixels), the key columns and,
        optionally, ``t`` and ``duration`` (milliseconds) and per-scanpath columns.
    threshold : float, default 6.0
        Distance in **pixels** below which a glimpse joins the current fixation (the paper
        uses 6 px with 8 x 8 px glimpses).
    mode : {"consecutive", "centroid", "anchor"}, default "consecutive"
        Which joining rule to apply (see above).

    Returns
    -------
    Segmentation
        ``fixations`` and ``saccades`` tables (columns described in :class:`Segmentation`).

    Raises
    ------
    ValueError
        If ``threshold`` is negative or NaN, or ``mode`` is not one of :data:`MODES`.
    ScanpathError
        If ``table`` is empty, lacks ``_scanpath``, ``step``, ``x`` or ``y``, or its scanpaths
        are not in contiguous, sorted blocks (i.e. it did not come from ``validate``).

    Examples
    --------
    Two scanpaths (image 0 and image 1); a step shorter than 6 px stays in the fixation:

    >>> import pandas as pd
    >>> from gazekit.schema import validate
    >>> table = validate(pd.DataFrame({
    ...     "image_id": [0, 0, 0, 0, 1, 1, 1], "step": [0, 1, 2, 3, 0, 1, 2],
    ...     "x": [10, 12, 20, 21, 5, 5, 30], "y": [10, 10, 10, 11, 5, 6, 5]}))
    >>> seg = segment(table, threshold=6.0)
    >>> columns = ["_scanpath", "fixation", "n_glimpses", "x", "y"]
    >>> print(seg.fixations[columns].to_string(index=False))
     _scanpath  fixation  n_glimpses    x    y
             0         0           2 11.0 10.0
             0         1           2 20.5 10.5
             1         0           2  5.0  5.5
             1         1           1 30.0  5.0
    >>> seg.saccades["distance_px"].round(2).tolist()
    [8.0, 25.02]
    >>> segment(table, threshold=0).fixations["n_glimpses"].tolist()  # every glimpse alone
    [1, 1, 1, 1, 1, 1, 1]
    """
    threshold = float(threshold)
    if not threshold >= 0:  # also rejects NaN
        raise ValueError(f"threshold must be a non-negative distance in pixels, got {threshold}")
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(map(repr, MODES))}")
    _check_table(table)

    sp = table["_scanpath"].to_numpy()
    x = table["x"].to_numpy(np.float64)
    y = table["y"].to_numpy(np.float64)
    n = len(table)
    sp_start = np.ones(n, dtype=bool)
    np.not_equal(sp[1:], sp[:-1], out=sp_start[1:])
    starts = np.flatnonzero(sp_start)
    lengths = np.diff(starts, append=n)

    if mode == "consecutive":
        new = sp_start.copy()
        new[1:] |= ~_within(np.diff(x), np.diff(y), threshold)
    else:
        new = _history_starts(x, y, starts, lengths, threshold, anchor=mode == "anchor")

    fix_start = np.flatnonzero(new)
    n_glimpses = np.diff(fix_start, append=n)
    # Index of the scanpath block of each fixation, and of each block's first fixation.
    fix_is_first = sp_start[fix_start]
    fix_block = np.cumsum(fix_is_first) - 1
    fix_index = np.arange(len(fix_start)) - np.flatnonzero(fix_is_first)[fix_block]
    step = table["step"].to_numpy()
    row_ms = _row_durations(table, starts, lengths)
    n_fix = len(fix_start)
    fixations = _frame(table, starts[fix_block], {
        "_scanpath": sp[fix_start].astype(np.int64, copy=False),
        "fixation": fix_index,
        "first_step": step[fix_start],
        "last_step": step[fix_start + n_glimpses - 1],
        "n_glimpses": n_glimpses,
        "duration_ms": (np.add.reduceat(row_ms, fix_start) if row_ms is not None
                        else np.full(n_fix, np.nan)),
        "onset_ms": (table["t"].to_numpy(np.float64)[fix_start] if "t" in table
                     else np.full(n_fix, np.nan)),
        "x": np.add.reduceat(x, fix_start) / n_glimpses,
        "y": np.add.reduceat(y, fix_start) / n_glimpses,
    })

    # A saccade ends at each fixation start that is not a scanpath start.
    to_fix = np.flatnonzero(~fix_is_first)
    to_row = fix_start[to_fix]
    from_row = to_row - 1
    to_index = fix_index[to_fix]
    from_x, from_y, to_x, to_y = x[from_row], y[from_row], x[to_row], y[to_row]
    dx = to_x - from_x
    # Image y points down, so the upward component is from_y - to_y (+0.0 when level, which
    # keeps a leftward saccade at +180 rather than -180).
    up = from_y - to_y
    direction = np.degrees(np.arctan2(up, dx))
    saccades = _frame(table, starts[fix_block[to_fix]], {
        "_scanpath": sp[to_row].astype(np.int64, copy=False),
        "saccade": to_index - 1,
        "from_fixation": to_index - 1,
        "to_fixation": to_index,
        "from_x": from_x, "from_y": from_y, "to_x": to_x, "to_y": to_y,
        "distance_px": np.hypot(dx, up),
        "direction_deg": np.where(direction <= -180.0, direction + 360.0, direction),
    })
    return Segmentation(fixations=fixations, saccades=saccades)


def _check_table(table: pd.DataFrame) -> None:
    """Raise ScanpathError unless ``table`` has the shape that ``schema.validate`` returns."""
    if len(table) == 0:
        raise ScanpathError("no rows (expected at least one glimpse)")
    missing = [c for c in ("_scanpath", "step", "x", "y") if c not in table.columns]
    if missing:
        raise ScanpathError(
            f"missing column {missing[0]!r}; pass the table through gazekit.schema.validate")
    sp = table["_scanpath"].to_numpy()
    unsorted = sp[1:] < sp[:-1]
    if unsorted.any():
        row = int(np.flatnonzero(unsorted)[0]) + 1
        raise ScanpathError(
            f"column '_scanpath' {row_name(table.index[row])}: scanpaths must come in sorted, "
            "contiguous blocks; pass the table through gazekit.schema.validate")


def _history_starts(x: np.ndarray, y: np.ndarray, starts: np.ndarray, lengths: np.ndarray,
                    threshold: float, anchor: bool) -> np.ndarray:
    """Mark fixation starts for the centroid (``anchor=False``) or anchor rule.

    Loops over the step position k = 1, 2, ...; at each k all scanpaths that are longer than k
    are handled together. Scanpaths are ordered by decreasing length so those still active
    form a prefix, and the total work is proportional to the number of rows.
    """
    order = np.argsort(-lengths, kind="stable")
    starts, lengths = starts[order], lengths[order]
    # n_active[k]: number of scanpaths with more than k rows.
    n_active = len(starts) - np.cumsum(np.bincount(lengths))
    # Per active scanpath: anchor point (anchor rule) or coordinate sums and glimpse count of
    # the current fixation (centroid rule); initialised with each scanpath's first glimpse.
    ref_x, ref_y = x[starts], y[starts]
    count = np.ones(len(starts), dtype=np.int32)
    new = np.zeros(len(x), dtype=bool)
    new[starts] = True
    for k in range(1, int(lengths[0])):
        m = int(n_active[k])
        rows = starts[:m] + k
        xi, yi = x[rows], y[rows]
        rx, ry, cnt = ref_x[:m], ref_y[:m], count[:m]
        if anchor:
            join = _within(xi - rx, yi - ry, threshold)
            rx[~join], ry[~join] = xi[~join], yi[~join]
        else:
            join = _within(xi - rx / cnt, yi - ry / cnt, threshold)
            rx[:] = np.where(join, rx + xi, xi)
            ry[:] = np.where(join, ry + yi, yi)
            cnt[:] = np.where(join, cnt + 1, 1)
        new[rows] = ~join
    return new


def _within(dx: np.ndarray, dy: np.ndarray, threshold: float) -> np.ndarray:
    """``np.hypot(dx, dy) < threshold`` element-wise (pixels), exactly, at a fraction of the cost.

    ``np.hypot`` is a scalar libm call per element. The squared distance decides wherever it
    lies clearly (:data:`_MARGIN`) on one side of ``threshold**2``, which is exact since its
    rounding error is far smaller than the margin and it cannot overflow or underflow near a
    normal ``threshold**2``; ``np.hypot`` decides the rest, and every element when
    ``threshold**2`` is zero, subnormal or infinite.
    """
    limit = threshold * threshold
    if not np.finfo(np.float64).tiny <= limit < np.inf:
        return np.hypot(dx, dy) < threshold
    with np.errstate(over="ignore"):  # an overflow to inf is still decided right
        squared = dx * dx
        squared += dy * dy
    within = squared < limit
    close = np.flatnonzero((squared > limit * (1 - _MARGIN)) & (squared < limit * (1 + _MARGIN)))
    within[close] = np.hypot(dx[close], dy[close]) < threshold
    return within


def _frame(table: pd.DataFrame, first_rows: np.ndarray, computed: dict) -> pd.DataFrame:
    """Key and per-scanpath columns of ``table`` at ``first_rows``, then ``computed``.

    A per-scanpath column (:data:`SCANPATH_COLUMNS`) holds one value per scanpath, which
    :func:`gazekit.schema.validate` checks, so the first row's value is the scanpath's.

    Built in one go from fresh arrays (no copies): adding columns one by one to a frame of
    this size costs several times more.
    """
    keys = key_columns(table.columns)
    meta = keys + [c for c in SCANPATH_COLUMNS if c in table.columns and c not in keys]
    return pd.DataFrame({**{c: table[c].array.take(first_rows) for c in meta}, **computed},
                        copy=False)


def _row_durations(table: pd.DataFrame, starts: np.ndarray,
                   lengths: np.ndarray) -> np.ndarray | None:
    """Duration of every row in milliseconds, or None without time information.

    An all-NaN ``duration`` column (allowed by ``validate``) counts as absent. ``validate``
    makes durations positive and ``t`` strictly increasing within a scanpath, so every
    duration is positive (or NaN: the last row of a one-row scanpath without ``duration``).
    """
    if "duration" in table and table["duration"].notna().any():
        return table["duration"].to_numpy(np.float64)
    if "t" not in table:
        return None
    t = table["t"].to_numpy(np.float64)
    dur = np.empty(len(t))
    dur[:-1] = np.diff(t)
    # Each scanpath's last row lasts its median interval (NaN for one-row scanpaths).
    dur[starts + lengths - 1] = _block_medians(dur, starts, lengths - 1)
    return dur


def _block_medians(values: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Median of ``values[s:s + n]`` for each block start ``s`` and length ``n`` (NaN if n = 0).

    Blocks of equal length are stacked into one 2-D array, so the loop runs over the distinct
    lengths only (a single pass for fixed-length model scanpaths).
    """
    out = np.full(len(starts), np.nan)
    order = np.argsort(lengths, kind="stable")
    sizes, first = np.unique(lengths[order], return_index=True)
    for size, group in zip(sizes, np.split(order, first[1:]), strict=True):
        if size > 0:
            out[group] = np.median(values[starts[group, None] + np.arange(size)], axis=1)
    return out
