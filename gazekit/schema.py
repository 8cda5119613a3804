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


def validate(df: pd.DataFrame, source: str | None = None) -> pd.DataFrame:
    """Check a scanpath table and return it sorted by scanpath (first appearance) and step.

    Parameters
    ----------
    df : pandas.DataFrame
        Scanpath rows (see the module docstring for the columns and units).
    source : str, optional
        Name of the file the rows came from, used in error messages.

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
    out = df.copy()
    for col in (c for c in NUMERIC_COLUMNS if c in out.columns):
        values = pd.to_numeric(out[col], errors="coerce").to_numpy(np.float64, na_value=np.nan)
        bad = ~np.isfinite(values)
        if col in ("x", "y") and bad.any():
            raise ScanpathError(
                f"column {col!r} row {_first_bad_row(bad, out.index)}: expected a finite number "
                f"(pixels), got {_show(out[col].iloc[int(np.flatnonzero(bad)[0])])}", source)
        if col in ("t", "duration") and bad.any() and not bad.all():
            raise ScanpathError(
                f"column {col!r} row {_first_bad_row(bad, out.index)}: expected a finite number "
                "(milliseconds)", source)
        out[col] = values
    step = pd.to_numeric(out["step"], errors="coerce").to_numpy(np.float64, na_value=np.nan)
    bad = ~np.isfinite(step) | (step < 0) | (step != np.round(step))
    if bad.any():
        raise ScanpathError(
            f"column 'step' row {_first_bad_row(bad, out.index)}: expected a non-negative "
            f"integer, got {_show(out['step'].iloc[int(np.flatnonzero(bad)[0])])}", source)
    out["step"] = step.astype(np.int64)
    for key in keys:
        null = out[key].isna().to_numpy()
        if null.any():
            raise ScanpathError(
                f"column {key!r} row {_first_bad_row(null, out.index)}: missing value "
                "(expected a scanpath identifier)", source)

    codes = scanpath_codes(out, keys)
    step = out["step"].to_numpy()
    ordered = np.all((np.diff(codes) > 0) | ((np.diff(codes) == 0) & (np.diff(step) > 0)))
    if not ordered:
        order = np.lexsort((step, codes))
        out, codes, step = out.iloc[order], codes[order], step[order]
    repeated = (np.diff(codes) == 0) & (np.diff(step) == 0)
    if repeated.any():
        i = int(np.flatnonzero(repeated)[0]) + 1
        raise ScanpathError(
            f"row {out.index[i]}: step {step[i]} appears twice in one scanpath "
            f"({', '.join(keys)} = {tuple(out[keys].iloc[i])}); expected unique steps", source)
    out = out.reset_index(drop=True)
    out["_scanpath"] = codes
    return out
