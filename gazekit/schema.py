"""The scanpath table: one row per glimpse (model) or per fixation/sample (human).

Columns
-------
Required
    ``step`` : int, 0-based position of the row in its scanpath.
    ``x``, ``y`` : float, gaze position in **pixels**, origin at the top-left corner of the
    image, x to the right, y downwards.
    ``scanpath_id`` : any hashable, *or* the key columns that form it: whichever of
    :data:`KEY_COLUMNS` are present (at least one of them).
Optional
    ``t`` : float, onset of the row in **milliseconds**.
    ``duration`` : float, how long the row lasts in **milliseconds** (fixation lists).
    ``model``, ``dataset``, ``image_id``, ``subject``, ``trial``, ``label``, ``pred``,
    ``correct``, ``image_width``, ``image_height`` (px), ``glimpse_size`` (px), ``scales``,
    ``policy`` (``"mean"``, ``"sampled"``, ``"saliency"``, ``"synthetic"``, ``"human"``).

Rows of one scanpath must be contiguous in a file (as :mod:`zoo` exports them) so that large
inputs can be streamed; within a scanpath they may come in any order of ``step``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

REQUIRED_COLUMNS: tuple[str, ...] = ("step", "x", "y")
KEY_COLUMNS: tuple[str, ...] = ("model", "dataset", "subject", "trial", "image_id")
NUMERIC_COLUMNS: tuple[str, ...] = (
    "x", "y", "t", "duration", "image_width", "image_height", "glimpse_size",
)
#: pandas >= 3 always copies on write, so :func:`validate`'s result and its input stay
#: independent with a shallow copy; a deep one would copy, and consolidate, every column.
_COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3


class ScanpathError(ValueError):
    """Invalid scanpath input; the message names the file, column or row and what was expected."""

    def __init__(self, message: str, source: str | None = None):
        self.source = source
        super().__init__(f"{source}: {message}" if source else message)


def key_columns(columns: Sequence[str], source: str | None = None) -> list[str]:
    """Return the columns that identify a scanpath: ``scanpath_id`` or the present key columns.

    Raises
    ------
    ScanpathError
        If neither ``scanpath_id`` nor any of :data:`KEY_COLUMNS` is present.
    """
    if "scanpath_id" in columns:
        return ["scanpath_id"]
    keys = [c for c in KEY_COLUMNS if c in columns]
    if not keys:
        raise ScanpathError(
            "missing column 'scanpath_id' (or any of "
            + ", ".join(repr(c) for c in KEY_COLUMNS) + " to form it)", source)
    return keys


def _first_bad_row(mask: np.ndarray, index: pd.Index) -> str:
    return str(index[int(np.flatnonzero(mask)[0])])


def _show(value: object) -> str:
    return repr(value.item() if isinstance(value, np.generic) else value)


def scanpath_codes(df: pd.DataFrame, keys: Sequence[str]) -> np.ndarray:
    """Integer code per row, numbering scanpaths in order of first appearance (int64)."""
    codes = np.zeros(len(df), dtype=np.int64)
    for key in keys:
        # Combine the key columns one at a time and renumber, so that the combined code stays
        # below n**2 (no int64 overflow) and numbering follows first appearance.
        column, uniques = pd.factorize(df[key], sort=False, use_na_sentinel=False)
        codes, _ = pd.factorize(codes * len(uniques) + column, sort=False)
    return codes.astype(np.int64, copy=False)


def _floats(column: pd.Series) -> np.ndarray:
    """``column`` as float64, anything not a number as NaN (no copy for a float64 column)."""
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "fi":
        return column.to_numpy(np.float64)
    return pd.to_numeric(column, errors="coerce").to_numpy(np.float64, na_value=np.nan)


def _assign(df: pd.DataFrame, name: str, values: np.ndarray) -> None:
    """``df[name] = values`` without the copy that pandas makes of a bare array."""
    df[name] = pd.Series(values, index=df.index, copy=False)


def _run_codes(starts: np.ndarray, n: int) -> np.ndarray:
    """Run number of each of ``n`` rows, for runs starting at the row positions ``starts``."""
    codes = np.zeros(n, dtype=np.int64)
    codes[starts[1:]] = 1
    return np.cumsum(codes, out=codes)


def validate(df: pd.DataFrame, source: str | None = None, *,
             scanpath_starts: np.ndarray | None = None) -> pd.DataFrame:
    """Check a scanpath table and return it sorted by scanpath (first appearance) and step.

    Parameters
    ----------
    df : pandas.DataFrame
        Scanpath rows (see the module docstring for the columns and units).
    source : str, optional
        Name of the file the rows came from, used in error messages.
    scanpath_starts : numpy.ndarray, optional
        Ascending row positions at which the scanpaths of ``df`` start (the first is 0), for a
        caller that has already cut ``df`` into runs of equal key values and checked that no
        run's key values come back in a later run (as :mod:`gazekit.io` does): scanpaths are
        then numbered by run, which is their order of first appearance, without grouping the
        key columns again. By default they are found from the key values, and the rows of a
        scanpath need not be contiguous.

    Returns
    -------
    pandas.DataFrame
        The rows, with ``step`` as int64 and ``x``, ``y`` as float64, ordered by scanpath and
        step, with a fresh ``RangeIndex`` and an int64 column ``_scanpath`` numbering the
        scanpaths (0, 1, ... in order of first appearance).

    Raises
    ------
    ScanpathError
        On an empty table, a missing required column, non-numeric or non-finite coordinates,
        negative or non-integer steps, missing key values, or a step repeated within a
        scanpath. The message names the column and the first offending row.
    """
    if len(df) == 0:
        raise ScanpathError("no rows (expected at least one glimpse)", source)
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ScanpathError(
            f"missing column {missing[0]!r} (required: {', '.join(REQUIRED_COLUMNS)})", source)
    keys = key_columns(df.columns, source)
    out = df.copy(deep=not _COPY_ON_WRITE)
    for col in (c for c in NUMERIC_COLUMNS if c in out.columns):
        values = _floats(out[col])
        finite = np.isfinite(values)
        if not finite.all():
            bad = ~finite
            if col in ("x", "y"):
                raise ScanpathError(
                    f"column {col!r} row {_first_bad_row(bad, out.index)}: expected a finite "
                    f"number (pixels), got {_show(out[col].iloc[int(np.flatnonzero(bad)[0])])}",
                    source)
            if col in ("t", "duration") and not bad.all():
                raise ScanpathError(
                    f"column {col!r} row {_first_bad_row(bad, out.index)}: expected a finite "
                    "number (milliseconds)", source)
        if out[col].dtype != np.float64:
            _assign(out, col, values)
    if isinstance(out["step"].dtype, np.dtype) and out["step"].dtype.kind == "i":
        # Signed integers (the usual case) need only the sign check, no round trip via float.
        step = out["step"].to_numpy(np.int64)
        bad = step < 0
    else:
        step = pd.to_numeric(out["step"], errors="coerce").to_numpy(np.float64, na_value=np.nan)
        bad = ~np.isfinite(step) | (step < 0) | (step != np.round(step))
    if bad.any():
        raise ScanpathError(
            f"column 'step' row {_first_bad_row(bad, out.index)}: expected a non-negative "
            f"integer, got {_show(out['step'].iloc[int(np.flatnonzero(bad)[0])])}", source)
    if out["step"].dtype != np.int64:
        step = step.astype(np.int64, copy=False)
        _assign(out, "step", step)
    for key in keys:
        null = out[key].isna().to_numpy()
        if null.any():
            raise ScanpathError(
                f"column {key!r} row {_first_bad_row(null, out.index)}: missing value "
                "(expected a scanpath identifier)", source)

    codes = (scanpath_codes(out, keys) if scanpath_starts is None
             else _run_codes(scanpath_starts, len(out)))
    # Sorted, with strictly increasing steps within each scanpath (so none repeated)? Boolean
    # comparisons of neighbours, not np.diff: no temporary of 8 bytes per row.
    ordered = codes[1:] > codes[:-1]
    ordered |= (codes[1:] == codes[:-1]) & (step[1:] > step[:-1])
    if not ordered.all():
        order = np.lexsort((step, codes))
        out, codes, step = out.iloc[order], codes[order], step[order]
        repeated = (np.diff(codes) == 0) & (np.diff(step) == 0)
        if repeated.any():
            i = int(np.flatnonzero(repeated)[0]) + 1
            raise ScanpathError(
                f"row {out.index[i]}: step {step[i]} appears twice in one scanpath "
                f"({', '.join(keys)} = {tuple(out[keys].iloc[i])}); expected unique steps",
                source)
    out = out.reset_index(drop=True)
    _assign(out, "_scanpath", codes)
    return out
