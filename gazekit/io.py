"""Reading scanpath files (whole or streamed in chunks); writing gazekit's Parquet tables.

Supported inputs are Parquet (``.parquet``), comma-separated (``.csv``) and tab-separated
(``.tsv``) files holding the table described in :mod:`gazekit.schema`; a directory stands for
all such files directly inside it, in sorted order.

Rows of one scanpath must be contiguous within a file, and a scanpath (its key values) must
not appear in two files: both are what lets a large input be streamed with bounded memory, and
a violation (usually duplicated or mislabelled input) raises :class:`ScanpathError`.

Dictionary-encoded Parquet columns (what pandas writes for a categorical, e.g. ``model``) are
read as pandas categoricals when every input is Parquet and holds the column dictionary-encoded:
their categories are the column's values in all the files (in order of first appearance), so
every chunk has the same dtype, and the integer codes keep the strings out of the hot path.
Otherwise such columns are decoded to plain values, like every column of CSV/TSV files.

The columns that identify a scanpath (``scanpath_id`` and :data:`gazekit.schema.KEY_COLUMNS`)
of CSV/TSV files are read as text (``image_id`` 5 becomes ``"5"``), whole or in chunks: a type
inferred per chunk could differ between chunks (text in one, integers in the next) and cut a
scanpath in two at the boundary. Parquet files keep the types of their schema. Between files,
key values are compared by their text (``str``, as a CSV file written by pandas holds them):
``image_id`` 5 in a Parquet file and ``"5"`` in a CSV file are the same scanpath, while 5.0
(text ``"5.0"``) and ``"05"`` are other ones.

A file is validated chunk by chunk with the verdict of validating it whole
(:class:`gazekit.schema.TableParts`).

Messages name a row of a CSV/TSV file by the line of the file on which it starts (``line 5``:
the header is line 1 unless blank lines precede it; blank lines and line breaks inside quoted
fields are counted) and a row of a Parquet file by its 0-based number (``row 3 (0-based)``).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from gazekit.atomic import atomic_file
from gazekit.schema import (
    KEY_COLUMNS,
    ScanpathError,
    TableParts,
    check_unique_columns,
    describe_keys,
    key_columns,
    row_name,
    validate,
)

__all__ = [
    "SUFFIXES",
    "expand_paths",
    "find_inputs",
    "iter_scanpath_chunks",
    "parquet_options",
    "path_list",
    "read_scanpaths",
    "write_parquet_atomic",
]

SUFFIXES: tuple[str, ...] = (".parquet", ".csv", ".tsv")
#: Types of the CSV/TSV columns read as text (see the module docstring).
_TEXT_KEYS: dict[str, type] = dict.fromkeys(("scanpath_id", *KEY_COLUMNS), str)

PathLike = str | os.PathLike
Paths = PathLike | Sequence[PathLike]


def path_list(paths: Paths) -> list[PathLike]:
    """``paths`` (one path, or a sequence of them) as a list.

    Examples
    --------
    >>> path_list("a.csv"), path_list(("a.csv", "b.csv"))
    (['a.csv'], ['a.csv', 'b.csv'])
    """
    return [paths] if isinstance(paths, str | os.PathLike) else list(paths)


def expand_paths(paths: Paths, suffixes: Sequence[str], *, given: str, empty: str,
                 recursive: bool = False, ignore_case: bool = False,
                 check_files: bool = True) -> list[Path]:
    """Expand files and directories into the list of files to read.

    Parameters
    ----------
    paths : path or sequence of paths
        Files and/or directories.
    suffixes : sequence of str
        Extensions (with the dot, e.g. ``".csv"``) of the files taken from a directory.
    given : str
        What the paths name, for the error when there are none: ``"no {given} given"``.
    empty : str
        Error message for a directory that holds no file with one of ``suffixes``.
    recursive : bool, default False
        Search directories recursively; otherwise only the files directly inside them.
    ignore_case : bool, default False
        Match ``suffixes`` in any letter case.
    check_files : bool, default True
        Reject a file given directly whose extension is not one of ``suffixes``.

    Returns
    -------
    list of pathlib.Path
        The files, in the order given (directory contents sorted).

    Raises
    ------
    ScanpathError
        If no path is given, a path does not exist, a directory holds no such file or (with
        ``check_files``) a file has another extension; the message names the path.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     (Path(tmp) / "sub").mkdir()
    ...     for name in ("a.TSV", "sub/b.tsv", "c.txt"):
    ...         _ = (Path(tmp) / name).write_text("")
    ...     files = expand_paths(tmp, [".tsv"], given="recording", empty="no .tsv file",
    ...                          recursive=True, ignore_case=True)
    ...     print([path.relative_to(tmp).as_posix() for path in files])
    ['a.TSV', 'sub/b.tsv']
    """
    items = path_list(paths)
    if not items:
        raise ScanpathError(f"no {given} given (expected files or directories)")

    def suffix(path: Path) -> str:
        return path.suffix.lower() if ignore_case else path.suffix

    files: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            found = sorted(p for p in (item.rglob("*") if recursive else item.iterdir())
                           if p.is_file() and suffix(p) in suffixes)
            if not found:
                raise ScanpathError(empty, str(item))
            files.extend(found)
        elif not item.exists():
            raise ScanpathError(_why_missing(item), str(item))
        elif check_files and suffix(item) not in suffixes:
            raise ScanpathError(
                f"unsupported file type {item.suffix!r} (expected one of {', '.join(suffixes)})",
                str(item))
        else:
            files.append(item)
    return files


def _why_missing(path: Path) -> str:
    """Why ``path``, which does not exist for :meth:`Path.exists`, cannot be read."""
    try:
        path.stat()
    except FileNotFoundError:
        return "symbolic link to a missing file" if path.is_symlink() else "file not found"
    except OSError as exc:  # e.g. a loop of symbolic links, a folder without permission
        return f"cannot open ({exc.strerror or exc})"
    return "file not found"  # it has appeared meanwhile; report what was seen


def find_inputs(paths: Paths) -> list[Path]:
    """Expand files and directories into the list of scanpath files to read.

    Parameters
    ----------
    paths : path or sequence of paths
        Files (``.parquet``, ``.csv``, ``.tsv``) and/or directories; a directory contributes
        the supported files directly inside it, sorted by name.

    Returns
    -------
    list of pathlib.Path
        The files, in the order given (directory contents sorted).

    Raises
    ------
    ScanpathError
        If no path is given, a path does not exist, a file has an unsupported extension, or a
        directory holds no supported file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     for name in ("b.csv", "a.parquet", "notes.txt"):
    ...         _ = (Path(tmp) / name).write_text("")
    ...     print([path.name for path in find_inputs(tmp)])
    ['a.parquet', 'b.csv']
    """
    return expand_paths(paths, SUFFIXES, given="input path",
                        empty="directory holds no scanpath file (expected *"
                        + ", *".join(SUFFIXES) + ")")


def _categories(files: list[Path]) -> dict[str, pd.CategoricalDtype]:
    """Dtype of each column to read as a categorical (see the module docstring).

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


def _raw_frames(path: Path, chunk_rows: int | None,
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


def _rows_named(path: Path) -> str | Callable[[Hashable], str]:
    """How messages name the rows of ``path`` (:func:`gazekit.schema.row_name`)."""
    return "row" if path.suffix == ".parquet" else partial(_line_name, path, _separator(path))


def _key_hashes(keys: pd.DataFrame) -> np.ndarray:
    """64-bit hash of each row's key values, equal for rows whose values have equal text
    (``str``): the identity of a scanpath, whatever the format of its file."""
    # One row per scanpath, so the text costs little (about 0.15 us per scanpath and key).
    return pd.util.hash_pandas_object(keys.astype(str), index=False).to_numpy(np.uint64)


class _HashSet:
    """A set of uint64 values held as a few sorted arrays of decreasing size.

    Adding merges equal-or-smaller arrays (like carrying in a binary counter), so there are at
    most log2(n) arrays and adding or testing k values costs O(k log n), with 8 bytes per value.
    """

    def __init__(self) -> None:
        self._levels: list[np.ndarray] = []

    def add(self, values: np.ndarray) -> None:
        new = np.sort(values)
        if new.size == 0:
            return
        while self._levels and self._levels[-1].size <= new.size:
            new = np.sort(np.concatenate([self._levels.pop(), new]))
        self._levels.append(new)

    def contains(self, values: np.ndarray) -> np.ndarray:
        # Sorted probes walk each level in order, which is much faster than random probes.
        order = np.argsort(values)
        probes = values[order]
        hit = np.zeros(values.shape, dtype=bool)
        for level in self._levels:
            i = np.minimum(np.searchsorted(level, probes), level.size - 1)
            hit |= level[i] == probes
        found = np.empty_like(hit)
        found[order] = hit
        return found


@dataclass
class _File:
    """What :class:`_Assembler` keeps while it reads one file."""

    source: str  # the file, for messages
    rows: str | Callable[[Hashable], str]  # how messages name its rows (schema.row_name)
    hashes: list[np.ndarray] = field(default_factory=list)  # of its completed scanpaths
    parts: TableParts = field(default_factory=TableParts)  # its chunks: one table to validate


class _Assembler:
    """Cut a stream of raw frames into validated frames of whole, globally numbered scanpaths.

    Scanpaths are recognised as runs of equal key values. The key values of every completed
    scanpath are remembered as 64-bit hashes of their text (8 bytes per scanpath,
    :func:`_key_hashes`), which is how a scanpath that reappears later in a file, or in
    another file (of any format), is detected without keeping the rows.
    """

    def __init__(self) -> None:
        self.offset = 0  # scanpaths numbered so far, over all files
        self.seen = _HashSet()  # key hashes of all completed scanpaths
        self.files: list[tuple[str, np.ndarray]] = []  # (file, its key hashes), for messages

    def file(self, frames: Iterator[pd.DataFrame], source: str,
             rows: str | Callable[[Hashable], str]) -> Iterator[pd.DataFrame]:
        """Yield validated frames of whole scanpaths from the raw frames of one file, whose
        rows messages name as ``rows`` says (:func:`gazekit.schema.row_name`)."""
        state = _File(source, rows)
        carry: pd.DataFrame | None = None
        done = 0
        for frame in frames:
            # Index = row number in the file, so that validation errors point at file rows.
            frame.index = pd.RangeIndex(done, done + len(frame))
            done += len(frame)
            df = frame if carry is None else pd.concat([carry, frame])
            del frame  # only the concatenation is needed from here on
            if len(df) == 0:
                continue
            starts, hashes = self._runs(df, state)
            # A copy, so that the carried rows do not keep the whole batch alive.
            carry, carry_hash = df.iloc[starts[-1]:].copy(), hashes[-1:]
            if len(starts) > 1:
                self._complete(hashes[:-1], state)
                chunk = self._finish(df.iloc[:starts[-1]], state, starts[:-1])
                del df  # free the raw rows while the caller works on the chunk
                yield chunk
                del chunk
        if carry is None:
            raise ScanpathError("no rows (expected at least one glimpse)", source)
        self._complete(carry_hash, state)
        last = self._finish(carry, state, np.zeros(1, dtype=np.int64))  # one scanpath
        state.parts.finish(source)  # the rules on the whole file
        yield last
        self.files.append((source, np.concatenate(state.hashes)))

    def _complete(self, hashes: np.ndarray, state: _File) -> None:
        self.seen.add(hashes)
        state.hashes.append(hashes)

    def _runs(self, df: pd.DataFrame, state: _File) -> tuple[np.ndarray, np.ndarray]:
        """Row positions where a scanpath starts, and the hash of each scanpath's key values.

        Raises if a scanpath starts twice (rows not contiguous) or was already completed, in
        this file or in an earlier one.
        """
        source, rows = state.source, state.rows
        keys = key_columns(df.columns, source)
        if df[keys].isna().to_numpy().any():
            # Raises the schema's message for the missing key (or for an earlier defect).
            validate(df, source, rows=rows, parts=state.parts)
        change = np.zeros(len(df), dtype=bool)
        change[0] = True
        for key in keys:
            # Compare the arrays (not Series: no index alignment); Arrow strings stay in Arrow.
            values = df[key].array
            change[1:] |= np.asarray(values[1:] != values[:-1], dtype=bool)
        starts = np.flatnonzero(change)
        first_rows = df[keys].iloc[starts]
        hashes = _key_hashes(first_rows)
        bad = pd.Series(hashes).duplicated().to_numpy() | self.seen.contains(hashes)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            where = (f"{row_name(df.index[starts[i]], rows)}: scanpath "
                     f"({describe_keys(first_rows, i, keys)})")
            other = next((name for name, past in self.files if np.isin(hashes[i], past)), None)
            if other is None:
                raise ScanpathError(
                    f"{where} appears again after another scanpath started (expected the rows "
                    "of a scanpath to be contiguous)", source)
            raise ScanpathError(
                f"{where} also appears in {other} (expected each scanpath in one file only)",
                source)
        return starts, hashes

    def _finish(self, df: pd.DataFrame, state: _File, starts: np.ndarray) -> pd.DataFrame:
        """Validate the whole scanpaths of ``df``, which start at the row positions ``starts``,
        as the next part of the file."""
        # _runs has checked that no scanpath comes back, so validate can number them by run.
        out = validate(df, state.source, scanpath_starts=starts, rows=state.rows,
                       parts=state.parts)
        out.attrs["source"] = state.source
        out["_scanpath"] += self.offset
        self.offset = int(out["_scanpath"].iloc[-1]) + 1
        return out


def iter_scanpath_chunks(paths: Paths, chunk_rows: int = 1_000_000,
                         progress: bool = False) -> Iterator[pd.DataFrame]:
    """Stream scanpath files as validated chunks of whole scanpaths.

    Parquet files are read by record batches of ``chunk_rows`` rows and CSV/TSV files by
    pandas chunks; the last, possibly incomplete scanpath of a batch is carried over to the
    next one, so a chunk can exceed ``chunk_rows`` by up to one scanpath (or hold fewer rows).

    Parameters
    ----------
    paths : path or sequence of paths
        Files and/or directories (see :func:`find_inputs`).
    chunk_rows : int, default 1_000_000
        Rows read per batch; bounds the memory used (about ``chunk_rows`` rows at a time).
    progress : bool, default False
        Show a tqdm progress bar over input rows (the total is known for Parquet only).

    Yields
    ------
    pandas.DataFrame
        Validated rows (see :func:`gazekit.schema.validate`) of whole scanpaths of one file,
        whose int64 ``_scanpath`` numbers scanpaths 0, 1, ... uniquely across all chunks and
        files; ``attrs["source"]`` names the file.

    Raises
    ------
    ScanpathError
        For a missing, empty, unreadable or unsupported file, any schema violation, a
        scanpath whose rows are not contiguous in its file, or a scanpath found in two files;
        the message names the file.

    Examples
    --------
    The 18,000 demo rows in chunks of about 5,000; no scanpath is cut between chunks:

    >>> import gazekit
    >>> chunks = list(iter_scanpath_chunks(gazekit.demo_path(), chunk_rows=5000))
    >>> [len(chunk) for chunk in chunks]
    [4992, 5004, 4992, 3000, 12]
    >>> int(chunks[1]["_scanpath"].iloc[0]) == int(chunks[0]["_scanpath"].iloc[-1]) + 1
    True
    """
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int | np.integer) \
            or chunk_rows < 1:
        raise ValueError(f"chunk_rows must be a positive integer, got {chunk_rows!r}")
    yield from _iter(find_inputs(paths), int(chunk_rows), progress)


def _iter(files: list[Path], chunk_rows: int | None, progress: bool) -> Iterator[pd.DataFrame]:
    total = None
    if progress and all(f.suffix == ".parquet" for f in files):
        try:
            total = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
        except (pa.ArrowException, OSError):
            total = None  # the reader reports the bad file with a proper message below
    assembler = _Assembler()
    categories = _categories(files)
    # leave=False: the bar is erased when done, so that an error message stands alone.
    with tqdm(total=total, unit="rows", unit_scale=True, disable=not progress,
              leave=False) as bar:
        for path in files:
            for chunk in assembler.file(_raw_frames(path, chunk_rows, categories), str(path),
                                        _rows_named(path)):
                bar.update(len(chunk))
                yield chunk


def read_scanpaths(paths: Paths) -> pd.DataFrame:
    """Read and validate scanpath files into one table.

    Parameters
    ----------
    paths : path or sequence of paths
        Files and/or directories (see :func:`find_inputs`).

    Returns
    -------
    pandas.DataFrame
        The validated rows of all files, in file order, with ``_scanpath`` numbering the
        scanpaths uniquely across files (see :func:`gazekit.schema.validate`). Files with
        different optional columns are concatenated with missing values filled in.

    Raises
    ------
    ScanpathError
        As :func:`iter_scanpath_chunks`.

    Examples
    --------
    >>> import gazekit
    >>> table = read_scanpaths(gazekit.demo_path())
    >>> len(table), table["_scanpath"].nunique()
    (18000, 1500)
    >>> table["model"].cat.categories.tolist()
    ['synthetic-saccadic', 'synthetic-fixational', 'synthetic-mixed']
    """
    return pd.concat(list(_iter(find_inputs(paths), None, False)), ignore_index=True)


def parquet_options(schema: pa.Schema) -> dict[str, object]:
    """Keyword arguments of :func:`pyarrow.parquet.write_table` for gazekit's output tables.

    Encodings per column type, chosen for the cost of writing (the largest part of streaming
    a segmentation to disk) at about the same file size:

    - floating point: plain. Coordinates, distances and times are almost all distinct, so a
      dictionary would only be built and then abandoned.
    - integers: ``DELTA_BINARY_PACKED`` (differences of consecutive values, bit-packed). The
      ids, counters and steps of scanpath tables are runs or small numbers, which it packs
      into a few bits without the hash table of a dictionary (about a sixth less writing
      time than a dictionary for a segmentation, and slightly smaller files).
    - everything else: dictionary (categoricals, strings; Parquet bit-packs booleans anyway).

    Parameters
    ----------
    schema : pyarrow.Schema
        Schema of the table to write.

    Returns
    -------
    dict
        ``{"use_dictionary": [names of the other columns], "column_encoding": {integer column:
        "DELTA_BINARY_PACKED"}}``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> schema = pa.schema([("model", pa.string()), ("step", pa.int64()), ("x", pa.float64())])
    >>> parquet_options(schema)
    {'use_dictionary': ['model'], 'column_encoding': {'step': 'DELTA_BINARY_PACKED'}}
    """
    integer = [f.name for f in schema if pa.types.is_integer(f.type)]
    return {"use_dictionary": [f.name for f in schema if f.name not in integer
                               and not pa.types.is_floating(f.type)],
            "column_encoding": dict.fromkeys(integer, "DELTA_BINARY_PACKED")}


def write_parquet_atomic(df: pd.DataFrame, path: PathLike, overwrite: bool = False) -> Path:
    """Write ``df`` (without its index) to a Parquet file atomically
    (:func:`gazekit.atomic.atomic_file`).

    Parameters
    ----------
    df : pandas.DataFrame
        Table to write.
    path : path
        Destination file; missing parent directories are created.
    overwrite : bool, default False
        Replace an existing file.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> table = pd.DataFrame({"step": [0, 1], "x": [1.5, 2.5], "y": [3.0, 4.0]})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_parquet_atomic(table, Path(tmp) / "out" / "table.parquet")
    ...     print(pd.read_parquet(path).equals(table))
    ...     try:
    ...         write_parquet_atomic(table, path)
    ...     except FileExistsError:
    ...         print("refused: the file exists")
    True
    refused: the file exists
    """
    with atomic_file(path, overwrite) as tmp:
        table = pa.Table.from_pandas(df, preserve_index=False)
        pq.write_table(table, tmp, **parquet_options(table.schema))
    return Path(path)
