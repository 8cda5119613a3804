"""Reading scanpath files (whole or streamed in chunks).

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

The work is shared out: :mod:`gazekit.paths` expands the paths, :mod:`gazekit.rawframes` reads
the raw rows of a file, :mod:`gazekit.assembly` cuts them into validated whole scanpaths, and
:mod:`gazekit.parquet` writes gazekit's Parquet tables (re-exported here).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from gazekit.assembly import Assembler
from gazekit.parquet import parquet_options, write_parquet_atomic
from gazekit.paths import PathLike as PathLike  # re-exported: the type of one path
from gazekit.paths import Paths, expand_paths, path_list
from gazekit.rawframes import category_dtypes, raw_frames, rows_named

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
    assembler = Assembler()
    categories = category_dtypes(files)
    # leave=False: the bar is erased when done, so that an error message stands alone.
    with tqdm(total=total, unit="rows", unit_scale=True, disable=not progress,
              leave=False) as bar:
        for path in files:
            for chunk in assembler.file(raw_frames(path, chunk_rows, categories), str(path),
                                        rows_named(path)):
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
