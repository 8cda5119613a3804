"""The whole analysis of scanpath files: segmentation, statistics, comparisons, figures, report.

:func:`analyze` is the Python API behind ``gazekit analyze``. It streams the input in chunks of
whole scanpaths, so its memory use is bounded by the chunk size plus a few compact columns per
fixation and saccade (about 25 bytes each), not by the size of the input.

Outputs (in ``out_dir``, written atomically: the directory appears only when all are done)

``fixations.parquet``, ``saccades.parquet``
    The full segmentation (:func:`gazekit.segment.segment`).
``summary.csv``
    One row per group (:func:`gazekit.stats.summarize`).
``comparison.csv``
    Every pair of groups compared on fixation duration and saccade distance
    (:func:`gazekit.compare.compare_groups`); no rows with a single group.
``reference_comparison.csv``
    Each group next to human reference values (:func:`gazekit.compare.compare_with_reference`);
    kept apart from ``comparison.csv`` because its columns differ.
``densities.png``, ``densities.svg``
    Fixation-duration and saccade-distance densities per group
    (:func:`gazekit.plot.plot_densities`).
``report.md``
    Inputs, parameters, the three tables and links to the figures.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from gazekit.compare import (
    UNITS,
    compare_groups,
    compare_with_reference,
    group_durations,  # same conversion as the comparison
    normalize,
)
from gazekit.density import Density, distance_density, duration_density
from gazekit.io import Paths, atomic_output_dir, find_inputs, iter_scanpath_chunks
from gazekit.plot import plot_densities
from gazekit.reference import human_reference
from gazekit.schema import ScanpathError
from gazekit.segment import MODES, SCANPATH_COLUMNS, segment
from gazekit.stats import summarize

__all__ = ["UNITS", "AnalysisResult", "analyze", "markdown_table"]

#: Bootstrap settings of the summary and comparison confidence intervals.
CONFIDENCE = 0.95
N_RESAMPLES = 1000
MAX_BOOTSTRAP = 50_000
FIGURE_STEM = "densities"


@dataclass
class AnalysisResult:
    """What :func:`analyze` produced; all paths lie in the final output directory.

    Attributes
    ----------
    fixations_path, saccades_path : pathlib.Path
        Parquet files of all fixations and saccades.
    summary : pandas.DataFrame
        Per-group statistics (also ``summary.csv``).
    comparison : pandas.DataFrame
        Pairwise group comparisons (also ``comparison.csv``).
    reference_comparison : pandas.DataFrame
        Groups next to human reference values (also ``reference_comparison.csv``).
    densities : dict
        ``{"fixation_duration": {group: Density}, "saccade_distance": {group: Density}}``, in
        the units of the analysis (a group without saccades has no distance density).
    figures : list of pathlib.Path
        The density figure as PNG and SVG.
    report_path : pathlib.Path
        ``report.md``.
    rows, scanpaths : int
        Input rows (glimpses) and scanpaths read.
    """

    fixations_path: Path
    saccades_path: Path
    summary: pd.DataFrame
    comparison: pd.DataFrame
    reference_comparison: pd.DataFrame
    densities: dict[str, dict[str, Density]]
    figures: list[Path]
    report_path: Path
    rows: int
    scanpaths: int


def _check_arguments(threshold: float, mode: str, units: str, ms_per_step: float | None,
                     px_per_degree: float | None, chunk_rows: int) -> None:
    """Reject bad arguments before any file is read or written."""
    if not float(threshold) >= 0:
        raise ValueError(f"threshold must be a non-negative distance in pixels, got {threshold}")
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
    if units not in UNITS:
        raise ValueError(f"unknown units {units!r}; expected one of {', '.join(UNITS)}")
    for name, value in (("ms_per_step", ms_per_step), ("px_per_degree", px_per_degree)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive finite number, got {value}")
    if units == "physical" and px_per_degree is None:
        raise ValueError("units='physical' needs px_per_degree (pixels per degree of visual "
                         "angle) to express saccade distances in degrees")
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise ValueError(f"chunk_rows must be a positive integer, got {chunk_rows!r}")


class _ParquetAppender:
    """Append DataFrames to one Parquet file; the first one fixes the schema."""

    def __init__(self, path: Path):
        self.path = path
        self.writer: pq.ParquetWriter | None = None

    def append(self, df: pd.DataFrame, source: str | None) -> None:
        table = pa.Table.from_pandas(df, preserve_index=False)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema)
        elif not table.schema.equals(self.writer.schema):
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


def _segment_all(files: list[Path], tmp: Path, *, threshold: float, mode: str,
                 group_col: str, keep_width: bool, chunk_rows: int,
                 progress: bool) -> tuple[pd.DataFrame, pd.DataFrame, int, int]:
    """Segment the input chunk by chunk, write the full tables, return the compact columns.

    Returns
    -------
    fixations : DataFrame
        ``group_col`` (categorical), ``_scanpath``, ``n_glimpses`` (steps), ``duration_ms``.
    saccades : DataFrame
        ``group_col``, ``_scanpath``, ``distance_px`` and, if ``keep_width``, ``image_width``.
    rows, scanpaths : int
    """
    groups = _GroupCodes()
    fix_parts: dict[str, list[np.ndarray]] = {"g": [], "sp": [], "n": [], "ms": []}
    sac_parts: dict[str, list[np.ndarray]] = {"g": [], "sp": [], "px": [], "w": []}
    fix_out = _ParquetAppender(tmp / "fixations.parquet")
    sac_out = _ParquetAppender(tmp / "saccades.parquet")
    rows = scanpaths = 0
    try:
        for chunk in iter_scanpath_chunks(files, chunk_rows=chunk_rows, progress=progress):
            source = chunk.attrs.get("source")
            seg = segment(chunk, threshold=threshold, mode=mode)
            if group_col in chunk.columns and group_col not in seg.fixations.columns:
                raise ValueError(
                    f"group_by column {group_col!r} does not describe whole scanpaths; "
                    f"expected a key column or one of {', '.join(SCANPATH_COLUMNS)}")
            fix_out.append(seg.fixations, source)
            sac_out.append(seg.saccades, source)
            rows += len(chunk)
            scanpaths = int(chunk["_scanpath"].iloc[-1]) + 1
            fix, sac = seg.fixations, seg.saccades
            fix_parts["g"].append(groups.encode(_group_values(fix, group_col), source))
            fix_parts["sp"].append(fix["_scanpath"].to_numpy(np.int64))
            fix_parts["n"].append(fix["n_glimpses"].to_numpy(np.int32))
            fix_parts["ms"].append(fix["duration_ms"].to_numpy(np.float64))
            sac_parts["g"].append(groups.encode(_group_values(sac, group_col), source))
            sac_parts["sp"].append(sac["_scanpath"].to_numpy(np.int64))
            sac_parts["px"].append(sac["distance_px"].to_numpy(np.float64))
            if keep_width:
                if "image_width" not in sac.columns:
                    raise ScanpathError("units='relative' needs the column 'image_width' "
                                        "(pixels)", source)
                sac_parts["w"].append(sac["image_width"].to_numpy(np.float64))
            del chunk, seg, fix, sac  # free this chunk before the next one is read
            # Hand the Arrow pool's freed buffers back, so that they do not add up to the
            # compact columns kept in memory.
            pa.default_memory_pool().release_unused()
    finally:
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
    return fixations, saccades, rows, scanpaths


def _densities(fixations: pd.DataFrame, saccades: pd.DataFrame, group_col: str, units: str,
               ms_per_step: float | None, px_per_degree: float | None,
               bw_method: str | float) -> dict[str, dict[str, Density]]:
    """Per-group densities of fixation duration and saccade distance, in the analysis units.

    The conversions are those of :func:`gazekit.compare.compare_groups`: native glimpse steps
    and px; physical ms (measured ``duration_ms`` when a group has it, else
    ``n_glimpses * ms_per_step``) and degrees (``distance_px / px_per_degree``); relative
    durations over the group median and distances over ``image_width``.
    """
    steps = fixations["n_glimpses"].to_numpy(np.float64)
    ms = fixations["duration_ms"].to_numpy(np.float64)
    px = saccades["distance_px"].to_numpy(np.float64)
    if units == "physical":
        distances = normalize(px, "physical", scale=1 / px_per_degree)
    elif units == "relative":
        distances = normalize(px, "width", scale=saccades["image_width"].to_numpy(np.float64))
    else:
        distances = px
    dur_unit = {"native": "steps", "physical": "ms", "relative": "relative"}[units]
    dist_unit = {"native": "px", "physical": "deg", "relative": "relative"}[units]
    out: dict[str, dict[str, Density]] = {"fixation_duration": {}, "saccade_distance": {}}
    # Both tables share one categorical dtype (see _GroupCodes), so the codes match.
    fix_group = fixations[group_col].cat.codes.to_numpy()
    sac_group = saccades[group_col].cat.codes.to_numpy()
    # A loop over groups; each density works on its whole sample at once.
    for code, label in enumerate(fixations[group_col].cat.categories):
        in_group = fix_group == code
        durations = group_durations(steps[in_group], ms[in_group], units, ms_per_step, label)
        out["fixation_duration"][str(label)] = duration_density(
            durations, unit=dur_unit, bw_method=bw_method)
        group_distances = distances[sac_group == code]
        if group_distances.size:
            out["saccade_distance"][str(label)] = distance_density(
                group_distances, unit=dist_unit, bw_method=bw_method)
    return out


def analyze(paths: Paths, out_dir: str | Path, *, threshold: float = 6.0,
            mode: str = "consecutive", group_by: str | None = "model", units: str = "native",
            ms_per_step: float | None = None, px_per_degree: float | None = None,
            bw_method: str | float = "scott", chunk_rows: int = 1_000_000,
            overwrite: bool = False, progress: bool = True, seed: int = 0) -> AnalysisResult:
    """Segment scanpath files into fixations and saccades and describe them per group.

    Parameters
    ----------
    paths : path or sequence of paths
        Scanpath files (``.parquet``, ``.csv``, ``.tsv``) and/or directories of them, in the
        :mod:`gazekit.schema` format.
    out_dir : path
        Output directory (see the module docstring for its files). Created atomically.
    threshold : float, default 6.0
        Fixation threshold in **pixels** (the paper's 6 px; see :func:`gazekit.segment.segment`).
    mode : {"consecutive", "centroid", "anchor"}, default "consecutive"
        Fixation rule (the paper's is ``"consecutive"``).
    group_by : str or None, default "model"
        Column whose values define the groups compared; None, or a column absent from the
        input, gives one group ``"all"``. Must be a per-scanpath column (key or
        :data:`gazekit.segment.SCANPATH_COLUMNS`).
    units : {"native", "physical", "relative"}, default "native"
        Units of the comparisons and figures: ``"native"`` glimpse steps and px;
        ``"physical"`` ms and degrees of visual angle (needs ``px_per_degree``, and
        ``ms_per_step`` unless the input has time columns); ``"relative"`` durations over the
        group median and distances over the image width (needs column ``image_width``).
        The summary always reports steps, ms (when known) and px.
    ms_per_step : float, optional
        Milliseconds per glimpse step, for ``"physical"`` units and the reference comparison.
    px_per_degree : float, optional
        Pixels per degree of visual angle, for ``"physical"`` units and the reference
        comparison.
    bw_method : {"scott", "silverman"} or float, default "scott"
        KDE bandwidth rule, or the bandwidth in the analysis units
        (see :mod:`gazekit.density`).
    chunk_rows : int, default 1_000_000
        Input rows read at a time; bounds the memory used.
    overwrite : bool, default False
        Replace a non-empty ``out_dir``.
    progress : bool, default True
        Show a progress bar over the input rows (on stderr).
    seed : int, default 0
        Seed of the bootstrap confidence intervals.

    Returns
    -------
    AnalysisResult

    Raises
    ------
    ScanpathError
        For unreadable or invalid input (the message names the file).
    ValueError
        For bad arguments, or units that the input cannot be converted to.
    FileExistsError
        If ``out_dir`` exists and is not empty, unless ``overwrite``.
    """
    _check_arguments(threshold, mode, units, ms_per_step, px_per_degree, chunk_rows)
    files = find_inputs(paths)
    group_col = group_by or "_group"  # a name no input column has
    out_dir = Path(out_dir)
    with atomic_output_dir(out_dir, overwrite=overwrite) as tmp:
        fixations, saccades, rows, scanpaths = _segment_all(
            files, tmp, threshold=threshold, mode=mode, group_col=group_col,
            keep_width=units == "relative", chunk_rows=chunk_rows, progress=progress)
        boot = {"confidence": CONFIDENCE, "n_resamples": N_RESAMPLES,
                "max_bootstrap": MAX_BOOTSTRAP, "seed": seed}
        summary = summarize(fixations, saccades, group_by=group_col, **boot)
        comparison = compare_groups(fixations, saccades, group_by=group_col, units=units,
                                    ms_per_step=ms_per_step, px_per_degree=px_per_degree,
                                    bw_method=bw_method, **boot)
        reference = compare_with_reference(summary, ms_per_step=ms_per_step,
                                           px_per_degree=px_per_degree)
        densities = _densities(fixations, saccades, group_col, units, ms_per_step,
                               px_per_degree, bw_method)
        del fixations, saccades
        summary.to_csv(tmp / "summary.csv", index=False)
        comparison.to_csv(tmp / "comparison.csv", index=False)
        reference.to_csv(tmp / "reference_comparison.csv", index=False)
        figures = plot_densities(
            densities["fixation_duration"], densities["saccade_distance"], tmp / FIGURE_STEM,
            title=f"Fixation durations and saccade distances ({mode} rule, {threshold:g} px)")
        report = _report(
            files=files, rows=rows, scanpaths=scanpaths, group_by=group_by,
            group_col=group_col, threshold=threshold, mode=mode, units=units,
            ms_per_step=ms_per_step, px_per_degree=px_per_degree, bw_method=bw_method,
            seed=seed, densities=densities, summary=summary, comparison=comparison,
            reference=reference, figures=[f.name for f in figures])
        (tmp / "report.md").write_text(report, encoding="utf-8")
    return AnalysisResult(
        fixations_path=out_dir / "fixations.parquet", saccades_path=out_dir / "saccades.parquet",
        summary=summary, comparison=comparison, reference_comparison=reference,
        densities=densities, figures=[out_dir / f.name for f in figures],
        report_path=out_dir / "report.md", rows=rows, scanpaths=scanpaths)


def _cell(value: object) -> str:
    if isinstance(value, float | np.floating):
        return "" if np.isnan(value) else f"{value:.4g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(df: pd.DataFrame) -> str:
    """Render ``df`` as a GitHub-flavoured Markdown table (floats to 4 significant digits).

    NaN cells are left empty; ``|`` in cells is escaped.
    """
    header = "| " + " | ".join(map(_cell, df.columns)) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(map(_cell, row)) + " |" for row in df.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def _with_ci(df: pd.DataFrame, column: str) -> pd.Series:
    """``"mean [low, high]"`` strings for a column with ``_ci_low``/``_ci_high`` companions."""
    return pd.Series([f"{_cell(v)} [{_cell(lo)}, {_cell(hi)}]" for v, lo, hi in zip(
        df[column], df[f"{column}_ci_low"], df[f"{column}_ci_high"], strict=True)],
        index=df.index, dtype=object)


def _summary_view(summary: pd.DataFrame) -> pd.DataFrame:
    """The key summary columns, headed with their units."""
    view = pd.DataFrame({
        "group": summary["group"].astype(str),
        "scanpaths": summary["scanpaths"],
        "fixations": summary["fixations"],
        "saccades": summary["saccades"],
        "fixations / scanpath [95% CI]": _with_ci(summary, "fixations_per_scanpath"),
        "fixation duration mean (steps) [95% CI]": _with_ci(summary, "fixation_steps_mean"),
        "fixation duration median (steps)": summary["fixation_steps_median"],
    })
    if summary["fixation_ms_mean"].notna().any():
        view["fixation duration mean (ms) [95% CI]"] = _with_ci(summary, "fixation_ms_mean")
    view["saccade distance mean (px) [95% CI]"] = _with_ci(summary, "saccade_px_mean")
    view["saccade distance median (px)"] = summary["saccade_px_median"]
    view["fixational share"] = summary["fixational_share"]
    return view


def _report(*, files: Sequence[Path], rows: int, scanpaths: int, group_by: str | None,
            group_col: str, threshold: float, mode: str, units: str,
            ms_per_step: float | None, px_per_degree: float | None,
            bw_method: str | float, seed: int, densities: dict[str, dict[str, Density]],
            summary: pd.DataFrame, comparison: pd.DataFrame, reference: pd.DataFrame,
            figures: list[str]) -> str:
    """The Markdown report of one analysis."""
    from gazekit import __version__  # here: the package imports this module first

    unit_names = {"native": "glimpse steps and pixels", "physical": "milliseconds and degrees",
                  "relative": "durations over the group median, distances over image width"}
    grouping = (f"column `{group_col}`" if len(summary) > 1 or summary["group"].iloc[0] != "all"
                else f"a single group `all` (no column `{group_by}` in the input)"
                if group_by else "a single group `all`")
    bandwidths = ", ".join(f"{kind.replace('_', ' ')} `{g}` {d.bandwidth:.4g} {d.unit}"
                           for kind, per_group in densities.items()
                           for g, d in per_group.items())
    no_saccades = [g for g in densities["fixation_duration"]
                   if g not in densities["saccade_distance"]]
    lines = [
        "# gazekit analysis", "",
        f"gazekit {__version__}.", "",
        "## Inputs", "",
        *[f"- `{f}`" for f in files], "",
        f"{rows:,} rows (glimpses) in {scanpaths:,} scanpaths; groups by {grouping}.", "",
        "## Parameters", "",
        f"- Fixation threshold: {threshold:g} px, rule `{mode}` (a glimpse joins the current "
        "fixation when its distance to the "
        + {"consecutive": "previous glimpse", "centroid": "fixation's centroid",
           "anchor": "fixation's first glimpse"}[mode]
        + " is below the threshold; the paper's rule is `consecutive` with 6 px).",
        f"- Units of comparisons and figures: `{units}` ({unit_names[units]}); "
        f"ms per glimpse step: {ms_per_step if ms_per_step is not None else 'not given'}; "
        f"px per degree: {px_per_degree if px_per_degree is not None else 'not given'}.",
        f"- Densities: Gaussian KDE reflected at the lower bound of the support, bandwidth "
        f"rule `{bw_method}` ({bandwidths}).",
        f"- Confidence intervals: {CONFIDENCE:.0%} percentile bootstrap, {N_RESAMPLES} "
        f"resamples, at most {MAX_BOOTSTRAP:,} values (a seeded random subsample above that, "
        f"which makes the interval conservative), seed {seed}.",
        "",
        "## Summary (`summary.csv`)", "",
        markdown_table(_summary_view(summary)), "",
        "Fixational share: the fraction of glimpse-to-glimpse transitions that stay within a "
        "fixation.", "",
        "## Group comparison (`comparison.csv`)", "",
        markdown_table(comparison) if len(comparison) else "Only one group: nothing to compare.",
        "",
        "## Human reference (`reference_comparison.csv`)", "",
        markdown_table(reference), "",
        "Reference values: " + "; ".join(human_reference()["source"].unique()) + ".", "",
        "## Figures", "",
        f"![Fixation-duration and saccade-distance densities]({figures[0]})", "",
        "Files: " + ", ".join(f"[{name}]({name})" for name in figures) + ".",
    ]
    if no_saccades:
        lines += ["", "No saccades (so no distance density) in: "
                  + ", ".join(f"`{g}`" for g in no_saccades) + "."]
    return "\n".join(lines) + "\n"
