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
    ``t`` : float, onset of the row in **milliseconds**, finite and strictly increasing with
    ``step`` within a scanpath.
    ``duration`` : float, how long the row lasts in **milliseconds** (fixation lists), finite
    and positive.
    A ``t`` or ``duration`` column that is entirely empty (NaN) counts as absent; one that is
    empty in some rows only is an error.
    ``model``, ``dataset``, ``image_id``, ``subject``, ``trial``, ``label``, ``pred``,
    ``correct``, ``image_width``, ``image_height`` (px), ``glimpse_size`` (px), ``scales``,
    ``policy`` (``"mean"``, ``"sampled"``, ``"saliency"``, ``"synthetic"``, ``"human"``).
    ``image_width``, ``image_height`` and ``glimpse_size`` must be positive and finite.
    Coordinates and sizes must lie within +-:data:`MAX_PIXELS` (10 million px): no image is
    that large, and far larger values (up to 1.8e308) would overflow the squared distances and
    variances computed from them.
    The columns of :data:`SCANPATH_COLUMNS` describe a whole scanpath: one value per scanpath.

Rows of one scanpath must be contiguous in a file (as :mod:`zoo` exports them) so that large
inputs can be streamed; within a scanpath they may come in any order of ``step``.

Coordinates normalised to ``[-1, 1]`` (as attention models use them internally) are rejected:
a table whose ``x`` and ``y`` all lie within ``[-1, 1]``, some of them negative, while its
images are larger than 2 px (``image_width`` and ``image_height``, where given) would, in
pixels, be gaze within 1 px of the image's top-left corner throughout.

Both that rule and the one on empty time columns judge a whole table; a table validated in
parts (a file read in chunks) gets the same verdict through :class:`TableParts`.

Each column name may occur once. Error messages cut long values (:func:`show_value`).

Error messages name a row by its index label (``row 3 (index label)``); :mod:`gazekit.io`
names it by its line in a CSV/TSV file (``line 5``) or its 0-based row in a Parquet file
(``row 3 (0-based)``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

import numpy as np
import pandas as pd

REQUIRED_COLUMNS: tuple[str, ...] = ("step", "x", "y")
KEY_COLUMNS: tuple[str, ...] = ("model", "dataset", "subject", "trial", "image_id")
NUMERIC_COLUMNS: tuple[str, ...] = (
    "x", "y", "t", "duration", "image_width", "image_height", "glimpse_size",
)
#: Largest magnitude of a coordinate or size (px); see the module docstring.
MAX_PIXELS = 1e7
#: Numeric columns in pixels, bounded by MAX_PIXELS.
_PIXELS: frozenset[str] = frozenset({"x", "y", "image_width", "image_height", "glimpse_size"})
#: Characters of a value shown in a message (:func:`show_value`); longer ones are cut.
_SHOWN_CHARS = 80
#: Numeric columns that must be positive (besides finite).
_POSITIVE: frozenset[str] = frozenset({"duration", "image_width", "image_height", "glimpse_size"})
#: Unit of each numeric column, for messages.
_UNITS: dict[str, str] = {"x": "pixels", "y": "pixels", "t": "milliseconds",
                          "duration": "milliseconds", "image_width": "pixels",
                          "image_height": "pixels", "glimpse_size": "pixels"}
#: Time columns that may be entirely NaN, which means absent.
_OPTIONAL_TIME: tuple[str, ...] = ("t", "duration")
#: Per-scanpath columns: one value per scanpath (:func:`validate` checks it), which
#: :func:`gazekit.segment.segment` copies into the fixations and saccades.
SCANPATH_COLUMNS: tuple[str, ...] = (
    "model", "dataset", "image_id", "subject", "trial", "label", "pred", "correct",
    "image_width", "image_height", "glimpse_size", "scales", "policy",
)
#: How messages name a row (:func:`row_name`), besides a function of the row's label.
ROW_NAMING: tuple[str, ...] = ("label", "row")
#: Images larger than this (px) cannot hold a pixel table within 1 px of their top-left
#: corner that is mistaken for normalised coordinates (see the module docstring).
_NORMALISED_MAX_SIZE = 2.0
#: pandas >= 3 always copies on write, so :func:`validate`'s result and its input stay
#: independent with a shallow copy; a deep one would copy, and consolidate, every column.
_COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3


class ScanpathError(ValueError):
    """Invalid scanpath input; the message names the file, column or row and what was expected.

    Examples
    --------
    >>> err = ScanpathError("column 'x' line 3: expected a finite number (pixels)", "trial.csv")
    >>> print(err)
    trial.csv: column 'x' line 3: expected a finite number (pixels)
    >>> err.source, isinstance(err, ValueError)
    ('trial.csv', True)
    """

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


def row_name(label: Hashable, rows: str | Callable[[Hashable], str] = "label") -> str:
    """How an error message names the row with index label ``label``.

    Parameters
    ----------
    label : int or hashable
        Index label of the row.
    rows : {"label", "row"} or callable, default "label"
        What the labels are: any index labels (``"row 3 (index label)"``), or 0-based row
        numbers of a Parquet file (``"row 3 (0-based)"``); or a function that names the row
        with a given label (e.g. by its line in a CSV file, see :mod:`gazekit.io`). It is only
        called for error messages, so it may be slow.

    Returns
    -------
    str
    """
    if callable(rows):
        return rows(label)
    if rows == "row":
        return f"row {label} (0-based)"
    return f"row {label} (index label)"


def show_value(value: object) -> str:
    """``repr`` of ``value`` for a message, cut to about 80 characters (a key of a million
    characters would otherwise make a megabyte-long line).

    >>> show_value("abc")
    "'abc'"
    >>> show_value("a" * 10**6)[-30:]
    'aaaaaa... (1000002 characters)'
    """
    text = repr(value.item() if isinstance(value, np.generic) else value)
    if len(text) <= _SHOWN_CHARS:
        return text
    return f"{text[:_SHOWN_CHARS - 3]}... ({len(text)} characters)"



def describe_keys(table: pd.DataFrame, position: int, keys: Sequence[str]) -> str:
    """``key=value, ...`` for the row at ``position`` of ``table`` (for messages)."""
    values = table[list(keys)].iloc[position]
    return ", ".join(f"{key}={show_value(value)}" for key, value in zip(keys, values, strict=True))


def check_unique_columns(columns: Sequence[Hashable], source: str | None = None) -> None:
    """Raise unless every column name occurs once.

    Raises
    ------
    ScanpathError
        Naming the first repeated column.
    """
    repeated = pd.Index(columns).duplicated()
    if repeated.any():
        name = columns[int(np.flatnonzero(repeated)[0])]
        raise ScanpathError(f"column {show_value(name)} appears more than once (expected each "
                            "column name once)", source)


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


def _changes(column: pd.Series) -> np.ndarray:
    """Whether each row's value differs from the previous row's (bool, one shorter than
    ``column``); missing values equal each other."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        values = column.cat.codes.to_numpy()  # -1 for every missing value
    elif column.isna().to_numpy().any():
        # Integer codes, in which all missing values share one code (NaN != NaN otherwise).
        values = pd.factorize(column.array, use_na_sentinel=False)[0]
    else:
        # numpy arrays as such; extension arrays (e.g. Arrow strings) compare in their own code.
        values = column.to_numpy() if isinstance(column.dtype, np.dtype) else column.array
    return np.asarray(values[1:] != values[:-1], dtype=bool)


def _check_constant(table: pd.DataFrame, columns: Sequence[str], same: np.ndarray,
                    keys: Sequence[str], source: str | None, rows: str) -> None:
    """Raise unless every column holds one value within each run of ``same`` (see
    :func:`check_per_scanpath`); ``same[i]``: rows i and i + 1 are in one scanpath."""
    for col in columns:
        varies = _changes(table[col])
        varies &= same
        if varies.any():
            i = int(np.flatnonzero(varies)[0]) + 1
            raise ScanpathError(
                f"column {col!r} {row_name(table.index[i], rows)}: value "
                f"{show_value(table[col].iloc[i])} differs from "
                f"{show_value(table[col].iloc[i - 1])} earlier in the same scanpath "
                f"({describe_keys(table, i, keys)}); expected one value per scanpath", source)


def check_per_scanpath(table: pd.DataFrame, columns: Sequence[str],
                       source: str | None = None) -> None:
    """Check that each of ``columns`` holds one value per scanpath of a validated table.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows sorted by scanpath, with the int64 ``_scanpath`` of :func:`validate`.
    columns : sequence of str
        Columns of ``table`` to check; missing values count as one value.
    source : str, optional
        Name of the file the rows came from, for the message.

    Raises
    ------
    ScanpathError
        If ``table`` lacks ``_scanpath``, or a column changes value within a scanpath; the
        message names the column, the row (index label) and both values.
    """
    if "_scanpath" not in table.columns:
        raise ScanpathError("missing column '_scanpath'; pass the table through "
                            "gazekit.schema.validate", source)
    codes = table["_scanpath"].to_numpy()
    _check_constant(table, columns, codes[1:] == codes[:-1], key_columns(table.columns, source),
                    source, "label")


class TableParts:
    """What :func:`validate` keeps of the earlier parts of a table validated part by part.

    A file read in chunks is validated chunk by chunk, but two rules judge the whole table:
    a ``t`` or ``duration`` column counts as absent only if it is empty (NaN) in every row,
    and normalised coordinates are recognised on all rows together (see the module
    docstring). Passing one ``TableParts`` to :func:`validate` with each part, in order, and
    calling :meth:`finish` after the last one gives the verdict of validating the whole
    table: the same error as far as the parts hold one defect (with several, each part
    reports its own first).
    """

    def __init__(self) -> None:
        #: Time columns with values in an earlier part.
        self._filled: set[str] = set()
        #: Time column -> (index label, raw value) of the first row of the first part in which
        #: it was empty; labels are named only for a message, which may be slow (row_name).
        self._empty: dict[str, tuple[Hashable, object]] = {}
        #: Over the parts so far: x and y all within [-1, 1], some negative, smallest sizes.
        self._unit = True
        self._negative = False
        self._sizes: dict[str, float] = {}

    def _time_column(self, column: pd.Series, ok: np.ndarray,
                     values: np.ndarray) -> tuple[Hashable, object] | None:
        """Record this part's time column; return the (label, raw value) of the table's first
        offending row, or None if the table (so far) is valid in this column.

        ``ok`` says which rows hold a valid value, ``values`` are the rows as float64.
        """
        name = str(column.name)
        if ok.all():
            self._filled.add(name)
            return self._empty.get(name)  # values after an empty part: its first row is wrong
        if name not in self._filled and np.isnan(values).all():
            self._empty.setdefault(name, (column.index[0], column.iloc[0]))
            return None
        i = int(np.flatnonzero(~ok)[0])
        return self._empty.get(name, (column.index[i], column.iloc[i]))

    def _coordinates(self, table: pd.DataFrame) -> None:
        """Record the range of a validated part's coordinates and image sizes."""
        if not self._unit:  # decided: a value outside [-1, 1] (the usual case, at once)
            return
        x, y = table["x"].to_numpy(), table["y"].to_numpy()
        low, high = min(x.min(), y.min()), max(x.max(), y.max())
        self._unit = bool(low >= -1.0 and high <= 1.0)
        self._negative |= bool(low < 0.0)
        for size in ("image_width", "image_height"):
            if size in table.columns:
                smallest = float(table[size].min())
                self._sizes[size] = min(self._sizes.get(size, smallest), smallest)

    def finish(self, source: str | None = None) -> None:
        """Apply the rules on the whole table, after its last part has been validated.

        Parameters
        ----------
        source : str, optional
            Name of the file the rows came from, for the message.

        Raises
        ------
        ScanpathError
            If the coordinates look normalised to ``[-1, 1]`` rather than in pixels.
        """
        if not (self._unit and self._negative) or any(
                size <= _NORMALISED_MAX_SIZE for size in self._sizes.values()):
            return
        images = " and ".join(f"{name} >= {size:g} px" for name, size in self._sizes.items())
        raise ScanpathError(
            "columns 'x' and 'y': every value lies within [-1, 1], some negative"
            f"{f' (with {images})' if images else ''}: the coordinates look normalised to "
            "[-1, 1], not in pixels; expected pixels from the image's top-left corner (x from 0 "
            "to image_width, y from 0 to image_height)", source)


def validate(df: pd.DataFrame, source: str | None = None, *,
             scanpath_starts: np.ndarray | None = None,
             rows: str | Callable[[Hashable], str] = "label",
             parts: TableParts | None = None) -> pd.DataFrame:
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
    rows : {"label", "row"} or callable, default "label"
        What the index labels of ``df`` are, for naming rows in messages (:func:`row_name`):
        any labels, 0-based rows of a Parquet file, or a function naming a row by its label.
    parts : TableParts, optional
        Validate ``df`` as the next part of a larger table (see :class:`TableParts`); the
        caller calls ``parts.finish`` after the last part. By default ``df`` is the whole table.

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
        times or sizes (``t`` and ``duration`` may be entirely NaN), a ``duration``,
        ``image_width``, ``image_height`` or ``glimpse_size`` that is not positive, negative or
        non-integer steps, missing key values, a step repeated within a scanpath, a ``t`` not
        strictly increasing with ``step``, a column of :data:`SCANPATH_COLUMNS` (other than
        the key columns) that changes value within a scanpath, or (last) coordinates that look
        normalised to ``[-1, 1]`` (see the module docstring). The message names the column
        and the first offending row.
    ValueError
        If ``rows`` is neither one of :data:`ROW_NAMING` nor callable.

    Examples
    --------
    Rows may come in any order; ``validate`` sorts them and numbers the scanpaths:

    >>> import pandas as pd
    >>> raw = pd.DataFrame({"image_id": [7, 3, 7], "step": [1, 0, 0],
    ...                     "x": [12, 5, 10], "y": [10, 5, 10]})
    >>> print(validate(raw).to_string())
       image_id  step     x     y  _scanpath
    0         7     0  10.0  10.0          0
    1         7     1  12.0  10.0          0
    2         3     0   5.0   5.0          1
    >>> validate(raw.drop(columns="y"), "trial.csv")
    Traceback (most recent call last):
        ...
    gazekit.schema.ScanpathError: trial.csv: missing column 'y' (required: step, x, y)
    """
    if not callable(rows) and rows not in ROW_NAMING:
        raise ValueError(f"rows must be one of {', '.join(ROW_NAMING)} or a function, "
                         f"got {rows!r}")
    if len(df) == 0:
        raise ScanpathError("no rows (expected at least one glimpse)", source)
    check_unique_columns(df.columns, source)
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ScanpathError(
            f"missing column {missing[0]!r} (required: {', '.join(REQUIRED_COLUMNS)})", source)
    keys = key_columns(df.columns, source)
    table = TableParts() if parts is None else parts
    out = df.copy(deep=not _COPY_ON_WRITE)
    for col in (c for c in NUMERIC_COLUMNS if c in out.columns):
        values = _floats(out[col])
        ok = np.isfinite(values)
        if col in _POSITIVE:
            ok &= values > 0
        if col in _PIXELS:
            ok &= np.abs(values) <= MAX_PIXELS
        huge = False
        if col in _OPTIONAL_TIME:
            bad = table._time_column(out[col], ok, values)
        elif not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            bad = out.index[i], out[col].iloc[i]
            huge = bool(np.isfinite(values[i]) and abs(values[i]) > MAX_PIXELS)
        else:
            bad = None
        if bad is not None:
            raise ScanpathError(
                f"column {col!r} {row_name(bad[0], rows)}: expected a "
                f"{'positive ' if col in _POSITIVE else ''}finite number ({_UNITS[col]})"
                f"{f' of magnitude at most {MAX_PIXELS:.0f}' if huge else ''}, "
                f"got {show_value(bad[1])}", source)
        if out[col].dtype != np.float64:
            _assign(out, col, values)
    kind = out["step"].dtype.kind if isinstance(out["step"].dtype, np.dtype) else None
    if kind == "i":
        # Signed integers (the usual case) need only the sign check, no round trip via float.
        step = out["step"].to_numpy(np.int64)
        bad = step < 0
    elif kind == "u":
        step = out["step"].to_numpy()
        bad = step > np.iinfo(np.int64).max
    else:
        step = pd.to_numeric(out["step"], errors="coerce")
        if isinstance(step.dtype, np.dtype) and step.dtype.kind in "iu":  # exact integers
            step = step.to_numpy()
            bad = (step < 0) | (step > np.iinfo(np.int64).max)
        else:
            # Floats: exact integers below 2**63 only (a larger one would wrap around to a
            # negative int64 and sort first).
            step = step.to_numpy(np.float64, na_value=np.nan)
            bad = ~np.isfinite(step) | (step < 0) | (step != np.round(step)) | (step >= 2.0**63)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ScanpathError(
            f"column 'step' {row_name(out.index[i], rows)}: expected a non-negative "
            f"integer below 2**63, got {show_value(out['step'].iloc[i])}", source)
    if out["step"].dtype != np.int64:
        step = step.astype(np.int64, copy=False)
        _assign(out, "step", step)
    for key in keys:
        null = out[key].isna().to_numpy()
        if null.any():
            raise ScanpathError(
                f"column {key!r} {row_name(out.index[int(np.flatnonzero(null)[0])], rows)}: "
                "missing value (expected a scanpath identifier)", source)

    codes = (scanpath_codes(out, keys) if scanpath_starts is None
             else _run_codes(scanpath_starts, len(out)))
    # Sorted, with strictly increasing steps within each scanpath (so none repeated)? Boolean
    # comparisons of neighbours, not np.diff: no temporary of 8 bytes per row.
    same = codes[1:] == codes[:-1]
    ordered = codes[1:] > codes[:-1]
    ordered |= same & (step[1:] > step[:-1])
    if not ordered.all():
        order = np.lexsort((step, codes))
        out, codes, step = out.iloc[order], codes[order], step[order]
        np.equal(codes[1:], codes[:-1], out=same)
        repeated = same & (step[1:] == step[:-1])
        if repeated.any():
            i = int(np.flatnonzero(repeated)[0]) + 1
            raise ScanpathError(
                f"{row_name(out.index[i], rows)}: step {step[i]} appears twice in one scanpath "
                f"({describe_keys(out, i, keys)}); expected unique steps", source)
    # Checks on neighbours within a scanpath, now that its rows are contiguous and in step order.
    if "t" in out.columns:
        t = out["t"].to_numpy(np.float64)
        if np.isfinite(t[0]):  # all finite by now, or all NaN (no times)
            back = same & ~(t[1:] > t[:-1])
            if back.any():
                i = int(np.flatnonzero(back)[0]) + 1
                raise ScanpathError(
                    f"column 't' {row_name(out.index[i], rows)}: onset {show_value(t[i])} ms at "
                    f"step {step[i]} is not after {show_value(t[i - 1])} ms at step "
                    f"{step[i - 1]} of the same scanpath (expected times strictly increasing "
                    "with step)", source)
    _check_constant(out, [c for c in SCANPATH_COLUMNS if c in out.columns and c not in keys],
                    same, keys, source, rows)
    table._coordinates(out)
    if parts is None:
        table.finish(source)
    out = out.reset_index(drop=True)
    _assign(out, "_scanpath", codes)
    return out
