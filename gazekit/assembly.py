"""Cutting a stream of raw frames into validated chunks of whole, globally numbered scanpaths.

A scanpath is a run of rows with equal key values; the key values of every completed scanpath
are kept as a 64-bit hash of their text, which is how a scanpath that comes back later in its
file, or in another file, is detected without keeping its rows (:mod:`gazekit.io` states the
rules). The raw frames come from :func:`gazekit.rawframes.raw_frames`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gazekit.schema import (
    ScanpathError,
    TableParts,
    describe_keys,
    key_columns,
    row_name,
    validate,
)

__all__ = ["Assembler"]


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
    """What :class:`Assembler` keeps while it reads one file."""

    source: str  # the file, for messages
    rows: str | Callable[[Hashable], str]  # how messages name its rows (schema.row_name)
    hashes: list[np.ndarray] = field(default_factory=list)  # of its completed scanpaths
    parts: TableParts = field(default_factory=TableParts)  # its chunks: one table to validate


class Assembler:
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
