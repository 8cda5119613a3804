"""Raw rows of one scanpath file (Parquet, CSV, TSV) as DataFrames, and how messages name them.

The rules (categoricals from dictionary-encoded Parquet columns, key columns of CSV/TSV files
read as text, rows named by file line or 0-based number) are those of :mod:`gazekit.io`, which
validates and assembles these frames into whole scanpaths (:mod:`gazekit.assembly`).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Hashable, Iterator
from functools import partial
from itertools import islice
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from gazekit.schema import KEY_COLUMNS, ScanpathError, check_unique_columns

__all__ = ["category_dtypes", "raw_frames", "rows_named"]

#: Types of the CSV/TSV columns read as text (see :mod:`gazekit.io`).
_TEXT_KEYS: dict[str, type] = dict.fromkeys(("scanpath_id", *KEY_COLUMNS), str)


def category_dtypes(files: list[Path]) -> dict[str, pd.CategoricalDtype]:
    """Dtype of each column to read as a categorical (see :mod:`gazekit.io`).

    Reads only the dictionaries of those columns, batch by batch. Any problem with a file
    gives ``{}``: the file is then reported, with the proper message, when the stream reaches
    it.
    """
    if any(f.suffix != ".parquet" for f in files):
        return {}
    try:
        schemas = [pq.read_schema(f) for f in files]
        encoded = {f.name for schema in schemas for f in schema if pa.types.is_dictionary(f.type)}
        plain = {f.name for schema in schemas for f in schema if not pa.types.is_dictionary(f.type)}
        parts: dict[str, list[pa.Array]] = {name: [] for name in encoded - plain}
        for path, schema in zip(files, schemas, strict=True):
            present = [name for name in schema.names if name in parts]
            if present:
                with pq.ParquetFile(path) as reader:
                    for batch in reader.iter_batches(columns=present):
                        for name, column in zip(present, batch.columns, strict=True):
                            parts[name].append(column.dictionary)
        values = {name: pa.chunked_array(arrays).to_pandas().dropna()
                  for name, arrays in parts.items() if arrays}
    except (pa.ArrowException, OSError):
        return {}
    return {name: pd.CategoricalDtype(v.unique()) for name, v in values.items()}


def raw_frames(path: Path, chunk_rows: int | None,
               categories: dict[str, pd.CategoricalDtype]) -> Iterator[pd.DataFrame]:
    """Yield the rows of one file as DataFrames of at most ``chunk_rows`` rows (all if None).

    Every error of the underlying reader becomes a one-line :class:`ScanpathError` naming the
    file. Dictionary-encoded Parquet columns become categoricals of the dtype given in
    ``categories`` or, if not listed there, are decoded, so that all chunks share one dtype.
    """
    source = str(path)
    if path.stat().st_size == 0:
        raise ScanpathError("empty file (0 bytes)", source)
    if path.suffix == ".parquet":
        try:
            reader = pq.ParquetFile(path)
            check_unique_columns(reader.schema_arrow.names, source)
            batch_rows = chunk_rows or max(reader.metadata.num_rows, 1)
            for batch in reader.iter_batches(batch_size=batch_rows):
                columns = [c.dictionary_decode()
                           if pa.types.is_dictionary(c.type) and name not in categories else c
                           for name, c in zip(batch.schema.names, batch.columns, strict=True)]
                # One array per column (no 2-D blocks of several columns): smaller, reusable
                # allocations, and no copy for consolidating them.
                frame = pa.RecordBatch.from_arrays(columns, names=batch.schema.names).to_pandas(
                    split_blocks=True)
                for name in frame.columns.intersection(list(categories)):
                    frame[name] = frame[name].astype(categories[name])
                yield frame
        except (pa.ArrowException, OSError) as exc:
            raise ScanpathError(
                f"cannot read as Parquet ({' '.join(str(exc).split())})", source) from exc
        return
    kind, sep = ("TSV" if path.suffix == ".tsv" else "CSV"), _separator(path)
    try:
        # The header as written: pandas renames a repeated name ("x" to "x.1").
        header = pd.read_csv(path, sep=sep, header=None, nrows=1, dtype=str).iloc[0]
        check_unique_columns(header.tolist(), source)
        if chunk_rows is None:
            yield pd.read_csv(path, sep=sep, dtype=_TEXT_KEYS)
        else:
            yield from pd.read_csv(path, sep=sep, dtype=_TEXT_KEYS, chunksize=chunk_rows)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            OSError) as exc:
        raise ScanpathError(f"cannot read as {kind} ({' '.join(str(exc).split())})",
                            source) from exc


def _separator(path: Path) -> str:
    return "\t" if path.suffix == ".tsv" else ","


class _LastLine:
    """The lines of a text file, remembering the one handed out last."""

    def __init__(self, file: Iterator[str]) -> None:
        self._file = file
        self.last = ""

    def __iter__(self) -> _LastLine:
        return self

    def __next__(self) -> str:
        self.last = next(self._file)
        return self.last


def _row_lines(path: Path, sep: str) -> Iterator[int]:
    """The 1-based line of the file on which each data row of a CSV/TSV file starts.

    Rows are delimited as pandas' reader delimits them: a line break inside a quoted field
    continues the row, and blank lines (empty, or spaces and tabs other than ``sep``) are
    skipped; the first row that is left is the header.
    """
    blank = " \t".replace(sep, "") + "\r\n"
    # newline="": the csv module sees quoted line breaks, and counts \r\n as one line.
    with open(path, newline="", encoding="utf-8", errors="replace") as file:
        lines = _LastLine(file)
        reader = csv.reader(lines, delimiter=sep)
        end, header = 0, True
        for _ in reader:
            start, end = end + 1, reader.line_num
            if start == end and not lines.last.strip(blank):
                continue
            if header:
                header = False
            else:
                yield start


def _line_name(path: Path, sep: str, row: Hashable) -> str:
    """How messages name data row ``row`` (0-based) of a CSV/TSV file: by its line.

    Only called for an error message, so it reads the file again up to that row instead of
    keeping the line of every row while streaming. If the file cannot be read so (a field
    over the csv module's size limit, the file gone), the row is named by its number.
    """
    try:
        line = next(islice(_row_lines(path, sep), int(row), None), None)
    except (csv.Error, OSError):
        line = None
    return f"data row {int(row) + 1}" if line is None else f"line {line}"


def rows_named(path: Path) -> str | Callable[[Hashable], str]:
    """How messages name the rows of ``path`` (:func:`gazekit.schema.row_name`)."""
    return "row" if path.suffix == ".parquet" else partial(_line_name, path, _separator(path))
