"""The streaming stage of :func:`gazekit.analyze.analyze`: read, segment and write in chunks.

:func:`_segment_all` reads the model scanpath files in chunks of whole scanpaths
(:func:`gazekit.io.iter_scanpath_chunks`), segments each (:func:`gazekit.segment.segment`),
appends the full fixation and saccade tables to Parquet files and keeps only a few compact
columns per event in memory. While one chunk is segmented, the next one is read
(:func:`_prefetched`) and the previous one's tables are written, each on a background thread.
Group labels get small integer codes that agree across chunks (:class:`_GroupCodes`).
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from gazekit.human import HumanRecordings
from gazekit.io import iter_scanpath_chunks, parquet_options
from gazekit.schema import ScanpathError, key_columns
from gazekit.segment import SCANPATH_COLUMNS, segment

__all__ = ["DEFAULT_GROUP", "check_group_column"]

#: The default group column. Inputs without it (synthetic or human scanpaths, say) form one
#: group ``"all"``; any other column asked for by name must be in the input.
DEFAULT_GROUP = "model"


def check_group_column(group_by: str | None, columns: Collection[str]) -> None:
    """Reject a ``group_by`` column that the input lacks, unless it is :data:`DEFAULT_GROUP`.

    None, and the default column where the input lacks it, mean one group ``"all"``; any
    other name is most likely misspelt, and pooling everything silently would hide that.

    Parameters
    ----------
    group_by : str or None
        The group column asked for.
    columns : collection of str
        The columns of all the input (validated scanpath tables).

    Raises
    ------
    ValueError
        If ``group_by`` is not in ``columns`` (nor None or the default); the message lists
        the columns that can define groups (per-scanpath columns).

    Examples
    --------
    >>> columns = ["model", "image_id", "step", "x", "y", "_scanpath"]
    >>> check_group_column("model", columns)  # present: fine
    >>> check_group_column("modle", columns)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: group_by column 'modle' is not in the input (columns that ... model, image_id)
    """
    if group_by is None or group_by == DEFAULT_GROUP or group_by in columns:
        return
    keys = key_columns(list(columns))
    usable = [c for c in columns if c in SCANPATH_COLUMNS or c in keys]
    raise ValueError(f"group_by column {group_by!r} is not in the input (columns that can "
                     f"define groups: {', '.join(usable)})")


class _ParquetAppender:
    """Append DataFrames to one Parquet file.

    The first one fixes the schema, extended by the columns of ``extra`` that it lacks (the
    schema of a table appended last, such as the human recordings'); later tables are cast to
    it, so a column both have keeps the first table's type.
    """

    def __init__(self, path: Path, extra: pa.Schema | None = None):
        self.path = path
        self.extra = extra
        self.writer: pq.ParquetWriter | None = None

    def append(self, df: pd.DataFrame, source: str | None) -> None:
        # One thread: this runs on the writer thread of _segment_all, so a pool of converter
        # threads per call would only add thread start-ups.
        table = pa.Table.from_pandas(df, preserve_index=False, nthreads=1)
        if self.writer is None:
            schema = table.schema
            if self.extra is not None:
                added = [f for f in self.extra if f.name not in schema.names]
                schema = pa.schema([*schema, *added], metadata=schema.metadata)
            self.writer = pq.ParquetWriter(self.path, schema, **parquet_options(schema))
        if not table.schema.equals(self.writer.schema):
            table = self._conform(table, self.writer.schema, source)
        self.writer.write_table(table)

    @staticmethod
    def _conform(table: pa.Table, schema: pa.Schema, source: str | None) -> pa.Table:
        """Cast ``table`` to ``schema``, filling absent columns with nulls."""
        extra = [n for n in table.schema.names if n not in schema.names]
        if extra:
            raise ScanpathError(
                f"column {extra[0]!r} is not in the first input file (expected files with "
                "the same columns; analyse them separately)", source)
        columns = []
        for field in schema:
            if field.name not in table.schema.names:
                columns.append(pa.nulls(len(table), field.type))
                continue
            try:
                columns.append(table.column(field.name).cast(field.type))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise ScanpathError(
                    f"column {field.name!r}: cannot store {table.schema.field(field.name).type} "
                    f"values as {field.type} like the first input file ({exc})", source) from exc
        return pa.Table.from_arrays(columns, schema=schema)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class _GroupCodes:
    """Map group labels to small integer codes, consistently across chunks."""

    def __init__(self) -> None:
        self.labels: dict[Hashable, int] = {}

    def encode(self, values: pd.Series, source: str | None) -> np.ndarray:
        codes, uniques = pd.factorize(values, sort=False)
        if (codes < 0).any():
            raise ScanpathError(f"group_by column {values.name!r}: missing value (expected a "
                                "group label for every scanpath)", source)
        # A loop over the few distinct groups of the chunk, not over rows.
        table = np.array([self.labels.setdefault(u, len(self.labels)) for u in uniques],
                         dtype=np.int32)
        return table[codes]

    def categorical(self, codes: list[np.ndarray]) -> pd.Categorical:
        return pd.Categorical.from_codes(np.concatenate(codes), categories=list(self.labels))


def _group_values(table: pd.DataFrame, column: str) -> pd.Series:
    if column in table.columns:
        return table[column]
    return pd.Series("all", index=table.index, name=column)


def _schema(df: pd.DataFrame) -> pa.Schema:
    return pa.Schema.from_pandas(df, preserve_index=False)


_END = object()


def _prefetched(items: Iterator) -> Iterator:
    """Yield the items of ``items``, producing the next one on a background thread meanwhile.

    The producer runs one item ahead at most (two items alive), and its exceptions are raised
    here, in the order of the items. Close this generator (``contextlib.closing``) to wait for
    the producer when the consumer stops early.
    """
    with ThreadPoolExecutor(1, thread_name_prefix="gazekit-read") as pool:
        pending = pool.submit(next, items, _END)
        while (item := pending.result()) is not _END:
            pending = pool.submit(next, items, _END)
            yield item


def _write(appenders: Sequence[_ParquetAppender], tables: Sequence[pd.DataFrame],
           source: str | None) -> None:
    """Append each table to its file (one chunk's fixations and saccades)."""
    for appender, table in zip(appenders, tables, strict=True):
        appender.append(table, source)


def _segment_all(files: list[Path], tmp: Path, *, threshold: float, mode: str,
                 group_by: str | None, group_col: str, keep_width: bool, chunk_rows: int,
                 progress: bool, human: HumanRecordings | None = None
                 ) -> tuple[pd.DataFrame, pd.DataFrame, int, int]:
    """Segment the input chunk by chunk, write the full tables, return the compact columns.

    The next chunk is read (:func:`_prefetched`) and the previous chunk's tables are written
    (one writer thread) while the current one is segmented; errors of either thread are raised
    here, and no write is running any more when this function returns or raises. Groups are
    the values of ``group_col`` (``group_by``, or a name no column has); once all model input
    is read, :func:`check_group_column` judges whether ``group_by`` may be absent from it.

    With ``human``, its fixations and saccades are appended last (``_scanpath`` shifted past
    the model scanpaths), its rows get the group label ``human.label``, and the compact
    saccades get ``distance_deg`` (exact degrees for human saccades, NaN for the model's).

    Returns
    -------
    fixations : DataFrame
        ``group_col`` (categorical), ``_scanpath``, ``n_glimpses`` (steps), ``duration_ms``.
    saccades : DataFrame
        ``group_col``, ``_scanpath``, ``distance_px``, if ``keep_width`` ``image_width``, and
        with ``human`` ``distance_deg``.
    rows, scanpaths : int
        Model rows and scanpaths read.
    """
    groups = _GroupCodes()
    fix_parts: dict[str, list[np.ndarray]] = {"g": [], "sp": [], "n": [], "ms": []}
    sac_parts: dict[str, list[np.ndarray]] = {"g": [], "sp": [], "px": [], "w": [], "deg": []}
    human_seg = human.segmentation if human is not None else None
    fix_out = _ParquetAppender(tmp / "fixations.parquet",
                               _schema(human_seg.fixations) if human_seg else None)
    sac_out = _ParquetAppender(tmp / "saccades.parquet",
                               _schema(human_seg.saccades) if human_seg else None)
    rows = scanpaths = 0
    columns: dict[str, None] = {}  # of all model chunks, in order of first appearance

    def add(fix: pd.DataFrame, sac: pd.DataFrame, source: str | None,
            fix_group: np.ndarray, sac_group: np.ndarray, sac_deg: np.ndarray) -> None:
        fix_parts["g"].append(fix_group)
        fix_parts["sp"].append(fix["_scanpath"].to_numpy(np.int64))
        fix_parts["n"].append(fix["n_glimpses"].to_numpy(np.int32))
        fix_parts["ms"].append(fix["duration_ms"].to_numpy(np.float64))
        sac_parts["g"].append(sac_group)
        sac_parts["sp"].append(sac["_scanpath"].to_numpy(np.int64))
        sac_parts["px"].append(sac["distance_px"].to_numpy(np.float64))
        sac_parts["deg"].append(sac_deg)
        if keep_width:
            if "image_width" not in sac.columns:
                raise ScanpathError("units='relative' needs the column 'image_width' "
                                    "(pixels)", source)
            sac_parts["w"].append(sac["image_width"].to_numpy(np.float64))

    outputs = (fix_out, sac_out)
    # Three threads (Arrow's Parquet reading and writing and most numpy work release the GIL):
    # the next chunk is read and validated, and the previous chunk's tables are written, while
    # this one is segmented. One chunk in each stage at most, so memory stays bounded.
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="gazekit-write") as writer, closing(
                _prefetched(iter_scanpath_chunks(files, chunk_rows=chunk_rows,
                                                 progress=progress) if files
                            else iter(()))) as chunks:
            written: Future | None = None
            for chunk in chunks:
                source = chunk.attrs.get("source")
                seg = segment(chunk, threshold=threshold, mode=mode)
                # Not "in seg.fixations": those hold x and y too, as fixation centroids.
                if group_col in chunk.columns and group_col not in SCANPATH_COLUMNS \
                        and group_col not in key_columns(chunk.columns):
                    raise ValueError(
                        f"group_by column {group_col!r} does not describe whole scanpaths; "
                        f"expected a key column or one of {', '.join(SCANPATH_COLUMNS)}")
                if written is not None:
                    written.result()  # raises the writer's error, if any
                written = writer.submit(_write, outputs, (seg.fixations, seg.saccades), source)
                rows += len(chunk)
                columns.update(dict.fromkeys(c for c in chunk.columns if c != "_scanpath"))
                scanpaths = int(chunk["_scanpath"].iloc[-1]) + 1
                fix, sac = seg.fixations, seg.saccades
                add(fix, sac, source, groups.encode(_group_values(fix, group_col), source),
                    groups.encode(_group_values(sac, group_col), source),
                    np.full(len(sac), np.nan))
                del chunk, seg, fix, sac  # the writer holds the tables until they are written
                # Hand the Arrow pool's freed buffers back, so that they do not add up to the
                # compact columns kept in memory.
                pa.default_memory_pool().release_unused()
            if written is not None:
                written.result()
        check_group_column(group_by, columns)
        if human_seg is not None:
            if human.label in groups.labels:
                raise ValueError(f"the human group label {human.label!r} is also a model group "
                                 f"(column {group_col!r}); choose another human label")
            source = "human recordings"
            fix = human_seg.fixations.assign(_scanpath=human_seg.fixations["_scanpath"] + scanpaths)
            sac = human_seg.saccades.assign(_scanpath=human_seg.saccades["_scanpath"] + scanpaths)
            _write(outputs, (fix, sac), source)
            label = pd.Series(human.label, name=group_col)
            add(fix, sac, source, groups.encode(label.repeat(len(fix)), source),
                groups.encode(label.repeat(len(sac)), source), human.saccade_deg)
    finally:
        # After the executor's exit, so that no write is running (on success and on error).
        fix_out.close()
        sac_out.close()
    fixations = pd.DataFrame({
        group_col: groups.categorical(fix_parts["g"]),
        "_scanpath": np.concatenate(fix_parts["sp"]),
        "n_glimpses": np.concatenate(fix_parts["n"]),
        "duration_ms": np.concatenate(fix_parts["ms"]),
    })
    saccades = pd.DataFrame({
        group_col: groups.categorical(sac_parts["g"]),
        "_scanpath": np.concatenate(sac_parts["sp"]),
        "distance_px": np.concatenate(sac_parts["px"]),
    })
    if keep_width:
        saccades["image_width"] = np.concatenate(sac_parts["w"])
    if human is not None:
        saccades["distance_deg"] = np.concatenate(sac_parts["deg"])
    return fixations, saccades, rows, scanpaths
