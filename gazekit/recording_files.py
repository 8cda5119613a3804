"""File plumbing shared by the readers of human recordings (:mod:`gazekit.readers`).

A recording's subject and trial from its file name, the columns of a delimited file as text,
their parsing as numbers with errors that name the file and its lines, and the time units.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from gazekit.schema import ScanpathError

__all__ = ["TIME_FACTORS", "line_list", "parse_numbers", "read_text_columns",
           "recording_names"]

#: Milliseconds per unit of the time units a reader accepts.
TIME_FACTORS = {"us": 1e-3, "ms": 1.0, "s": 1e3}
_SUBJECT = re.compile(r"(?:^|_)(sub-[A-Za-z0-9]+)(?=_|$)")
#: How many line numbers an error message lists.
_SHOW = 5


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


def line_list(rows: np.ndarray) -> str:
    """``"5, 9, 12"`` (file line numbers of 0-based data rows; line 1 is the header)."""
    shown = ", ".join(str(int(r) + 2) for r in rows[:_SHOW])
    return shown + (", ..." if len(rows) > _SHOW else "")


def read_text_columns(path: Path, columns: Sequence[str], sep: str | None,
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


def parse_numbers(raw: pd.DataFrame, columns: Sequence[str], required: Sequence[str],
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
            f"{len(rows)} unparseable row(s) (lines {line_list(rows)}): {first}; expected numbers",
            source)
    return values
