"""Pair scanpaths on the same stimulus, compare each pair, and summarise groups of pairs.

:func:`compare_scanpaths` pairs every scanpath of table ``a`` with every scanpath of table
``b`` shown the same stimulus (equal values of the ``by`` column, compared as text), or, with
one table, every two scanpaths of it on the same stimulus, and computes per pair:

``mm_vector``, ``mm_direction``, ``mm_length``, ``mm_position``, ``mm_duration``
    MultiMatch similarities in [0, 1] (:mod:`gazekit.similarity.multimatching`);
``dtw_px``
    DTW distance of the fixation positions, **px** (:func:`gazekit.similarity.sequence.dtw`);
``edit_distance``, ``edit_similarity``
    Levenshtein distance of the grid-cell strings (default grid 5 x 5 cells over the image)
    and ``1 - distance / max(len_a, len_b)`` (:mod:`gazekit.similarity.sequence`).

Fixations: each row of a table is one fixation (human fixation lists), unless ``threshold``
(px) is given, in which case glimpses are first merged into fixations by
:func:`gazekit.segment.segment` (``"consecutive"`` rule). Durations: in **ms** where a table
has time (``duration`` or ``t``), else in **glimpse steps** (glimpses per fixation); the
``duration_unit`` column says which. MultiMatch's duration similarity is a ratio and needs both
sides in one unit: a pair of a timed and an untimed scanpath gets NaN there (``"mixed"``).
Without ``threshold`` every glimpse of a model scanpath lasts 1 step, so its duration
similarity is 1 by construction; pass a threshold to compare fixation durations.

:func:`summarize_pairs` gives, per pair of groups and measure, the mean over pairs with a
cluster-bootstrap percentile interval: stimuli are resampled with replacement, each drawn
stimulus bringing all its pairs, because pairs on one stimulus share scanpaths and are not
independent (default 2,000 resamples, 95 %, seed 0).

>>> import pandas as pd
>>> table = pd.DataFrame({"subject": list("aaabbb"), "image_id": 1, "step": [0, 1, 2] * 2,
...                       "x": [10., 60., 90., 12., 58., 95.], "y": [10., 20., 80., 15., 25., 70.],
...                       "duration": [200., 150., 300., 180., 160., 250.]})
>>> pairs = compare_scanpaths(table, screen_px=(100, 100))
>>> pairs[["mm_position", "dtw_px", "edit_distance"]].round(3).to_dict("records")
[{'mm_position': 0.962, 'dtw_px': 13.528, 'edit_distance': 2}]
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gazekit.atomic import atomic_output_dir, check_outputs
from gazekit.io import Paths, find_inputs, read_scanpaths
from gazekit.schema import ScanpathError, key_columns, validate
from gazekit.segment import segment
from gazekit.similarity.multimatching import DIMENSIONS, Simplification, multimatch
from gazekit.similarity.sequence import DEFAULT_GRID, dtw, edit_distance, grid_codes

__all__ = ["MEASURES", "SimilarityResult", "compare_scanpaths", "similarity_files",
           "summarize_pairs"]

#: Measures of :func:`compare_scanpaths` and the columns each adds.
MEASURES: dict[str, tuple[str, ...]] = {
    "multimatch": tuple(f"mm_{d}" for d in DIMENSIONS),
    "dtw": ("dtw_px",),
    "edit": ("edit_distance", "edit_similarity"),
}
#: Unit of each measure column, for the summary.
UNITS: dict[str, str] = {**{f"mm_{d}": "similarity" for d in DIMENSIONS}, "dtw_px": "px",
                         "edit_distance": "edits", "edit_similarity": "similarity"}


@dataclass
class SimilarityResult:
    """Per-pair values and group summaries of :func:`gazekit.similarity.similarity_files`.

    Attributes
    ----------
    pairs : pandas.DataFrame
        One row per pair (:func:`compare_scanpaths`).
    summary : pandas.DataFrame
        One row per pair of groups and measure (:func:`summarize_pairs`).
    """

    pairs: pd.DataFrame
    summary: pd.DataFrame


@dataclass
class _Side:
    """The scanpaths of one table as fixation arrays, with their per-scanpath columns."""

    info: pd.DataFrame  # one row per scanpath: stimulus, group, name, size, fixation count
    fixations: list[np.ndarray]  # (n, 3): x, y (px), duration
    unit: str  # "ms" or "steps"


def _side(table: pd.DataFrame, by: str, group_by: str | None, label: str,
          threshold: float | None, name: str) -> _Side:
    if by not in table.columns:
        raise ScanpathError(f"missing column {by!r} (the stimulus column that pairs "
                            "scanpaths; choose another with by=/--by)", name)
    if group_by is not None and group_by not in table.columns:
        raise ScanpathError(f"missing column {group_by!r} (the group column, group_by=/"
                            "--group-by)", name)
    table = validate(table, name)
    fix = segment(table, threshold=0.0 if threshold is None else threshold).fixations
    timed = bool(fix["duration_ms"].notna().all())
    duration = fix["duration_ms" if timed else "n_glimpses"].to_numpy(np.float64)
    codes = fix["_scanpath"].to_numpy()
    first = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    values = np.column_stack([fix["x"].to_numpy(np.float64), fix["y"].to_numpy(np.float64),
                              duration])
    keys = key_columns(table.columns)
    head = fix.iloc[first]
    for column in {by, group_by} - {None}:  # other per-scanpath columns are validated
        if (fix.groupby("_scanpath", sort=False)[column].nunique(dropna=False) > 1).any():
            raise ScanpathError(f"column {column!r} changes within a scanpath; expected one "
                                "value per scanpath", name)
    info = pd.DataFrame({
        "stimulus": head[by].astype(str).to_numpy(),
        "group": head[group_by].astype(str).to_numpy() if group_by else label,
        "scanpath": head[keys].astype(str).agg("/".join, axis=1).to_numpy(),
        "n_fixations": np.diff(np.r_[first, len(fix)]),
        "width": head["image_width"].to_numpy(np.float64) if "image_width" in head else np.nan,
        "height": head["image_height"].to_numpy(np.float64) if "image_height" in head
        else np.nan,
    })
    return _Side(info, np.split(values, first[1:]), "ms" if timed else "steps")


def _pairs(a: _Side, b: _Side | None) -> pd.DataFrame:
    """Index pairs (``ia``, ``ib``) of scanpaths on the same stimulus."""
    left = a.info[["stimulus"]].assign(ia=np.arange(len(a.info)))
    right = (a if b is None else b).info[["stimulus"]].assign(ib=np.arange(
        len((a if b is None else b).info)))
    pairs = left.merge(right, on="stimulus", sort=False)
    if b is None:
        pairs = pairs[pairs["ia"] < pairs["ib"]]
        # Within one table, a pair of groups is unordered: put the smaller label first.
        group = a.info["group"].to_numpy()
        swap = group[pairs["ia"].to_numpy()] > group[pairs["ib"].to_numpy()]
        pairs.loc[swap, ["ia", "ib"]] = pairs.loc[swap, ["ib", "ia"]].to_numpy()
    if pairs.empty:
        raise ValueError("no stimulus has a scanpath in both inputs" if b is not None else
                         "no stimulus has two scanpaths; expected scanpaths to compare")
    return pairs.sort_values(["ia", "ib"]).reset_index(drop=True)


def _screen(a: _Side, b: _Side, ia: np.ndarray, ib: np.ndarray, screen_px) -> np.ndarray:
    """Screen or image size (px) of each pair: ``screen_px``, else the tables' image size."""
    if screen_px is not None:
        width, height = (float(v) for v in screen_px)
        if not (0 < width < np.inf and 0 < height < np.inf):
            raise ValueError(f"screen_px must be two positive numbers (px), got {screen_px}")
        return np.tile([width, height], (len(ia), 1))
    size_a = a.info[["width", "height"]].to_numpy()[ia]
    size_b = b.info[["width", "height"]].to_numpy()[ib]
    if np.isnan(size_a).any() or np.isnan(size_b).any():
        raise ValueError("the image size is unknown: the inputs have no image_width and "
                         "image_height columns; give the screen or image size in px "
                         "(screen_px=, --screen-px W H)")
    differ = (size_a != size_b).any(axis=1)
    if differ.any():
        k = int(np.argmax(differ))
        raise ValueError(f"scanpaths {a.info['scanpath'].iloc[ia[k]]!r} and "
                         f"{b.info['scanpath'].iloc[ib[k]]!r} on stimulus "
                         f"{a.info['stimulus'].iloc[ia[k]]!r} have different image sizes "
                         f"({size_a[k].tolist()} and {size_b[k].tolist()} px); give one "
                         "with screen_px=/--screen-px")
    return size_a


def compare_scanpaths(a: pd.DataFrame, b: pd.DataFrame | None = None, *, by: str = "image_id",
                      group_by: str | None = None, labels: tuple[str, str] = ("A", "B"),
                      measures: Sequence[str] = tuple(MEASURES), screen_px=None,
                      grid: tuple[int, int] = DEFAULT_GRID,
                      simplification: Simplification | None = None,
                      threshold: float | None = None,
                      names: tuple[str, str] = ("a", "b")) -> pd.DataFrame:
    """Compare every pair of scanpaths shown the same stimulus (module docstring).

    Parameters
    ----------
    a : pandas.DataFrame
        Scanpath table (:mod:`gazekit.schema`): one row per fixation, or per glimpse with
        ``threshold``; positions in **px**.
    b : pandas.DataFrame, optional
        Second table; default: pairs within ``a``.
    by : str, default "image_id"
        Column naming the stimulus; scanpaths pair when its values are equal (as text).
    group_by : str, optional
        Per-scanpath column whose values label the groups (e.g. ``"model"``); default: the
        ``labels`` of the two tables.
    labels : (str, str), default ("A", "B")
        Group labels of ``a`` and ``b`` without ``group_by``.
    measures : sequence of {"multimatch", "dtw", "edit"}, default all
    screen_px : (float, float), optional
        Screen or image width and height, **px**, for MultiMatch's normalisation and the
        grid; default: the tables' ``image_width`` and ``image_height``.
    grid : (int, int), default (5, 5)
        Columns and rows of the grid of the edit distance.
    simplification : Simplification, optional
        MultiMatch's simplification (its ``duration`` threshold in the durations' unit).
    threshold : float, optional
        Merge glimpses closer than this (**px**, consecutive rule) into fixations first.
    names : (str, str), default ("a", "b")
        Names of the tables (e.g. their files) for error messages.

    Returns
    -------
    pandas.DataFrame
        One row per pair: ``stimulus``, ``group_a``, ``group_b``, ``scanpath_a``,
        ``scanpath_b`` (key values joined by ``/``), ``n_fixations_a``, ``n_fixations_b``,
        ``duration_unit`` and the columns of the chosen :data:`MEASURES`.

    Raises
    ------
    ScanpathError
        For an invalid table or a missing ``by`` or ``group_by`` column.
    ValueError
        For an unknown measure, no stimulus in common, or no known image size.

    Examples
    --------
    Two models' fixations on one 100 x 80 px image:

    >>> import pandas as pd
    >>> fixations = pd.DataFrame({
    ...     "model": ["m1"] * 3 + ["m2"] * 3, "image_id": [0] * 6, "step": [0, 1, 2] * 2,
    ...     "x": [10, 50, 90, 12, 48, 70], "y": [10, 40, 20, 14, 40, 60],
    ...     "duration": [200, 250, 300, 180, 260, 240]})
    >>> pairs = compare_scanpaths(fixations, group_by="model", screen_px=(100, 80))
    >>> pairs[["group_a", "group_b", "scanpath_a", "scanpath_b"]].values.tolist()
    [['m1', 'm2', 'm1/0', 'm2/0']]
    >>> pairs[["mm_position", "dtw_px", "edit_distance"]].round(3).values.tolist()
    [[0.975, 44.989, 1.0]]
    """
    unknown = [m for m in measures if m not in MEASURES]
    if unknown or not measures:
        raise ValueError(f"unknown measure {unknown[0]!r}; expected some of "
                         f"{', '.join(MEASURES)}" if unknown else "no measure chosen")
    if threshold is not None and not 0 <= threshold < np.inf:
        raise ValueError(f"threshold must be finite and >= 0 (px), got {threshold}")
    side_a = _side(a, by, group_by, labels[0], threshold, names[0])
    side_b = None if b is None else _side(b, by, group_by, labels[1], threshold, names[1])
    pairs = _pairs(side_a, side_b)
    other = side_a if side_b is None else side_b
    ia, ib = pairs["ia"].to_numpy(), pairs["ib"].to_numpy()
    screen = _screen(side_a, other, ia, ib, screen_px)
    info_a, info_b = side_a.info.iloc[ia], other.info.iloc[ib]
    unit = side_a.unit if side_a.unit == other.unit else "mixed"
    out = pd.DataFrame({
        "stimulus": info_a["stimulus"].to_numpy(),
        "group_a": info_a["group"].to_numpy(), "group_b": info_b["group"].to_numpy(),
        "scanpath_a": info_a["scanpath"].to_numpy(), "scanpath_b": info_b["scanpath"].to_numpy(),
        "n_fixations_a": info_a["n_fixations"].to_numpy(),
        "n_fixations_b": info_b["n_fixations"].to_numpy(),
        "duration_unit": unit,
    })
    if "multimatch" in measures:
        values = multimatch(side_a.fixations, other.fixations, screen, pairs=(ia, ib),
                            simplification=simplification)
        if unit == "mixed":
            values[:, DIMENSIONS.index("duration")] = np.nan
        for k, column in enumerate(MEASURES["multimatch"]):
            out[column] = values[:, k]
    if "dtw" in measures or "edit" in measures:
        out = out.join(_per_stimulus(side_a, other, pairs, screen_px, grid, measures))
    return out


def _cells(side: _Side, screen_px, grid: tuple[int, int]) -> list[np.ndarray]:
    """Grid cell of every fixation of a side, each scanpath cut by its own image size."""
    counts = side.info["n_fixations"].to_numpy()
    xy = np.concatenate(side.fixations)[:, :2]
    size = (np.broadcast_to(np.asarray(screen_px, dtype=np.float64), (len(xy), 2))
            if screen_px is not None else
            np.repeat(side.info[["width", "height"]].to_numpy(), counts, axis=0))
    return np.split(grid_codes(xy, size.T, grid), np.cumsum(counts)[:-1])


def _per_stimulus(a: _Side, b: _Side, pairs: pd.DataFrame, screen_px,
                  grid: tuple[int, int], measures: Sequence[str]) -> pd.DataFrame:
    """DTW and edit distances, computed per stimulus for all its pairs in one library call."""
    if "edit" in measures:
        cells_a, cells_b = _cells(a, screen_px, grid), _cells(b, screen_px, grid)
    dtw_px = np.full(len(pairs), np.nan)
    edits = np.zeros(len(pairs), dtype=np.int64)
    longest = np.zeros(len(pairs), dtype=np.int64)
    for _, rows in pairs.groupby("stimulus", sort=False).indices.items():
        ia = pairs["ia"].to_numpy()[rows]
        ib = pairs["ib"].to_numpy()[rows]
        ua, inv_a = np.unique(ia, return_inverse=True)
        ub, inv_b = np.unique(ib, return_inverse=True)
        xy_a = [a.fixations[k][:, :2] for k in ua]
        xy_b = [b.fixations[k][:, :2] for k in ub]
        if "dtw" in measures:
            dtw_px[rows] = dtw(xy_a, xy_b)[inv_a, inv_b]
        if "edit" in measures:
            codes_a = [cells_a[k] for k in ua]
            codes_b = [cells_b[k] for k in ub]
            edits[rows] = edit_distance(codes_a, codes_b)[inv_a, inv_b]
            longest[rows] = np.maximum(np.array([len(c) for c in codes_a])[inv_a],
                                       np.array([len(c) for c in codes_b])[inv_b])
    out = pd.DataFrame(index=pairs.index)
    if "dtw" in measures:
        out["dtw_px"] = dtw_px
    if "edit" in measures:
        out["edit_distance"] = edits
        out["edit_similarity"] = 1 - edits / longest
    return out


def _cluster_interval(sums: np.ndarray, counts: np.ndarray, n_resamples: int,
                      confidence: float, rng: np.random.Generator) -> tuple[float, float]:
    """Percentile interval of sum(sums) / sum(counts) over resamples of the clusters."""
    k = len(sums)
    if k < 2:
        return np.nan, np.nan
    draws = rng.multinomial(k, np.full(k, 1 / k), size=n_resamples)  # times each is drawn
    means = (draws @ sums) / (draws @ counts)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return float(low), float(high)


def summarize_pairs(pairs: pd.DataFrame, *, n_resamples: int = 2000, confidence: float = 0.95,
                    seed: int = 0) -> pd.DataFrame:
    """Mean of each measure per pair of groups, with a cluster-bootstrap interval.

    Parameters
    ----------
    pairs : pandas.DataFrame
        As returned by :func:`compare_scanpaths`.
    n_resamples : int, default 2000
        Bootstrap resamples; 0 for no intervals.
    confidence : float, default 0.95
        Level of the percentile interval.
    seed : int, default 0
        Seed of the resampling (one generator per summary, used group by group in order).

    Returns
    -------
    pandas.DataFrame
        One row per (``group_a``, ``group_b``, ``measure``): ``unit``, ``n_pairs`` and
        ``n_stimuli`` with a value (NaN values are left out), ``mean`` over those pairs,
        ``median``, ``ci_low``, ``ci_high`` (resampling stimuli with replacement; NaN with
        fewer than 2 stimuli), ``confidence`` and ``n_resamples``.

    Examples
    --------
    >>> pairs = pd.DataFrame({"stimulus": ["1", "1", "2", "3"], "group_a": "A",
    ...                       "group_b": "B", "dtw_px": [10., 20., 30., 40.]})
    >>> summarize_pairs(pairs, n_resamples=200)[["n_stimuli", "mean"]].to_dict("records")
    [{'n_stimuli': 3, 'mean': 25.0}]
    """
    if n_resamples < 0 or not 0 < confidence < 1:
        raise ValueError(f"need n_resamples >= 0 and confidence in (0, 1), got {n_resamples} "
                         f"and {confidence}")
    rng = np.random.default_rng(seed)
    columns = [c for c in UNITS if c in pairs.columns]
    rows = []
    for (group_a, group_b), part in pairs.groupby(["group_a", "group_b"], sort=True):
        stimulus = part["stimulus"].to_numpy()
        for column in columns:
            values = part[column].to_numpy(np.float64)
            ok = ~np.isnan(values)
            codes, clusters = pd.factorize(stimulus[ok])
            sums = np.bincount(codes, weights=values[ok], minlength=len(clusters))
            counts = np.bincount(codes, minlength=len(clusters)).astype(np.float64)
            low, high = (_cluster_interval(sums, counts, n_resamples, confidence, rng)
                         if n_resamples else (np.nan, np.nan))
            rows.append({
                "group_a": group_a, "group_b": group_b, "measure": column,
                "unit": UNITS[column], "n_pairs": int(ok.sum()), "n_stimuli": len(clusters),
                "mean": values[ok].mean() if ok.any() else np.nan,
                "median": np.median(values[ok]) if ok.any() else np.nan,
                "ci_low": low, "ci_high": high, "confidence": confidence,
                "n_resamples": n_resamples,
            })
    return pd.DataFrame(rows)


def similarity_files(a: Paths, b: Paths | None = None, out: str | os.PathLike | None = None, *,
                     overwrite: bool = False, n_resamples: int = 2000, confidence: float = 0.95,
                     seed: int = 0, **options) -> SimilarityResult:
    """:func:`compare_scanpaths` and :func:`summarize_pairs` of scanpath files.

    The Python API of ``gazekit similarity``. Groups are labelled by ``group_by``'s values or
    else by the file (or directory) names of ``a`` and ``b``.

    Parameters
    ----------
    a, b : path or sequence of paths
        Scanpath files and/or directories (:func:`gazekit.io.read_scanpaths`); without ``b``,
        scanpaths of ``a`` are compared with each other.
    out : path, optional
        Directory to write ``pairs.csv`` and ``summary.csv`` into, atomically (all or nothing,
        never over an input; an existing non-empty one only with ``overwrite``).
    overwrite : bool, default False
    n_resamples, confidence, seed
        As for :func:`summarize_pairs`.
    **options
        As for :func:`compare_scanpaths` (``by``, ``group_by``, ``measures``, ``screen_px``,
        ``grid``, ``simplification``, ``threshold``).

    Returns
    -------
    SimilarityResult

    Raises
    ------
    ScanpathError, ValueError
        As :func:`compare_scanpaths`; ValueError too if ``out`` is or holds an input.
    FileExistsError
        If ``out`` exists, is not empty and ``overwrite`` is False.

    Examples
    --------
    Glimpses merged into fixations at 6 px, then compared image by image between the models:

    >>> import tempfile
    >>> from pathlib import Path
    >>> import gazekit
    >>> table = gazekit.synthetic_scanpaths(n_per_policy=3, steps=8, seed=0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = gazekit.write_parquet_atomic(table, Path(tmp) / "scanpaths.parquet")
    ...     result = similarity_files(Path(tmp) / "scanpaths.parquet", out=Path(tmp) / "similarity",
    ...                               group_by="model", threshold=6.0, measures=["dtw", "edit"],
    ...                               n_resamples=200)
    ...     print(sorted(path.name for path in (Path(tmp) / "similarity").iterdir()))
    ['pairs.csv', 'summary.csv']
    >>> len(result.pairs)  # 3 images x 3 pairs of models
    9
    >>> columns = ["group_a", "group_b", "measure", "n_pairs", "mean"]
    >>> print(result.summary[columns].head(2).round(2).to_string(index=False))
                 group_a         group_b       measure  n_pairs  mean
    synthetic-fixational synthetic-mixed        dtw_px        3 31.74
    synthetic-fixational synthetic-mixed edit_distance        3  4.67
    """
    inputs = [find_inputs(p) for p in ((a,) if b is None else (a, b))]
    if out is not None:
        check_outputs([f for files in inputs for f in files], dirs=[out])
        if Path(out).is_dir() and any(Path(out).iterdir()) and not overwrite:
            raise FileExistsError(f"{out}: output directory exists and is not empty (use "
                                  "--overwrite to replace it)")

    def label(paths: Paths) -> str:
        return ",".join(Path(p).stem for p in ([paths] if isinstance(paths, (str, os.PathLike))
                                                 else paths))

    labels = (label(a), label(a) if b is None else label(b))
    if labels[0] == labels[1] and b is not None:
        labels = (f"{labels[0]} (a)", f"{labels[1]} (b)")
    tables = [read_scanpaths(files) for files in inputs]
    names = tuple(", ".join(map(str, files)) for files in inputs)
    pairs = compare_scanpaths(tables[0], None if b is None else tables[1], labels=labels,
                              names=(names[0], names[-1]), **options)
    summary = summarize_pairs(pairs, n_resamples=n_resamples, confidence=confidence, seed=seed)
    if out is not None:
        with atomic_output_dir(out, overwrite=overwrite) as tmp:
            pairs.to_csv(tmp / "pairs.csv", index=False)
            summary.to_csv(tmp / "summary.csv", index=False)
    return SimilarityResult(pairs, summary)
