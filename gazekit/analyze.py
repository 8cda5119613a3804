"""The whole analysis of scanpath files: segmentation, statistics, comparisons, figures, report.

:func:`analyze` is the Python API behind ``gazekit analyze``. It streams the input in chunks of
whole scanpaths, so its memory use is bounded by the chunk size plus a few compact columns per
fixation and saccade (about 25 bytes each), not by the size of the input. While one chunk is
segmented, the next one is read and the previous one's tables are written on two background
threads (three chunks in flight at most; :mod:`gazekit.streaming`).

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
``human_comparison.csv``
    Only with human recordings: each model group against the human group by KS,
    Wasserstein-1 and Jensen-Shannon, with cluster-bootstrap intervals over scanpaths
    (:func:`human_comparison`).
``report.md``
    Inputs, parameters, the tables and links to the figures.

Human recordings
----------------
``human=`` adds eye-tracking recordings (:func:`gazekit.human.load_recordings`) as one more
group, labelled ``human_label``: their fixations and saccades are appended to the same tables
(``_scanpath`` numbered after the model scanpaths) and appear in every table and figure. Their
rows are fixations, not glimpses, so the step-based summary columns (``fixation_steps_*``,
``fixational_share``) are NaN for that group. Model and human units differ, so the comparison
must bridge them explicitly (``units="native"`` is refused):

- ``"physical"``: model durations are glimpse steps times ``ms_per_step`` (or measured ms) and
  model distances ``px / px_per_degree``; human durations are measured in ms and human saccade
  sizes are exact visual angles from the recordings' screen geometry;
- ``"relative"``: every group's durations over its median duration and distances over the
  stimulus width (``image_width``: the model image, the human screen or stimulus), since
  amplitudes scale with the size of the image.

Without model scanpaths (``paths`` None or empty) the human recordings are analysed alone, in
``"physical"`` units by default (ms and degrees, as measured), and there is no
``human_comparison.csv``. The density figure's title names how each group's fixations were
found: the model rule and threshold, the human detector and its parameters
(:func:`figure_title`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gazekit.atomic import atomic_output_dir, check_outputs, final_path
from gazekit.checks import check_positive
from gazekit.compare import (
    UNITS,
    compare_groups,
    compare_with_reference,
    group_durations,  # same conversion as the comparison
    normalize,
    timed_durations,
)
from gazekit.density import (
    Density,
    distance_density,
    duration_density,
)
from gazekit.detection import load_human
from gazekit.distance_ci import HUMAN_METRICS, distance_bootstrap
from gazekit.geometry import ScreenGeometry
from gazekit.human import HumanRecordings
from gazekit.io import Paths, find_inputs, path_list
from gazekit.plot import plot_densities
from gazekit.readers import SampleFormat
from gazekit.report import analysis_report
from gazekit.segment import MODES
from gazekit.stats import summarize
from gazekit.streaming import DEFAULT_GROUP, _segment_all, check_group_column

__all__ = ["DEFAULT_GROUP", "UNITS", "AnalysisResult", "analyze", "check_group_column",
           "check_threshold", "figure_title", "human_comparison"]

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
        Input rows (glimpses) and scanpaths read from the model files.
    human : HumanRecordings or None
        The human recordings compared, if any.
    human_comparison : pandas.DataFrame or None
        Each model group against the human group (also ``human_comparison.csv``), if any.
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
    human: HumanRecordings | None = None
    human_comparison: pd.DataFrame | None = None


def check_threshold(threshold: object) -> float:
    """A fixation threshold as a float in **pixels**, or ValueError naming the bad value.

    The rule of :func:`analyze` and :func:`gazekit.sweep.threshold_sweep`: finite and >= 0.
    0 px is meaningful (every glimpse is its own fixation, as in
    :func:`gazekit.human.human_segmentation`); infinity, negatives and NaN are not.

    >>> check_threshold("6"), check_threshold(0)
    (6.0, 0.0)
    >>> check_threshold(-1)
    Traceback (most recent call last):
        ...
    ValueError: threshold -1: expected a finite distance >= 0 in pixels
    """
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        raise ValueError(f"threshold {threshold!r} is not a number (expected a distance in "
                         "pixels)") from None
    if not (value >= 0 and math.isfinite(value)):  # also rejects NaN
        raise ValueError(f"threshold {value:g}: expected a finite distance >= 0 in pixels")
    return value


def _check_arguments(threshold: float, mode: str, units: str, ms_per_step: float | None,
                     px_per_degree: float | None, chunk_rows: int, with_human: bool,
                     with_models: bool) -> None:
    """Reject bad arguments before any file is read or written."""
    check_threshold(threshold)
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
    if units not in UNITS:
        raise ValueError(f"unknown units {units!r}; expected one of {', '.join(UNITS)}")
    check_positive(**{name: value for name, value in (("ms_per_step", ms_per_step),
                                                        ("px_per_degree", px_per_degree))
                      if value is not None})
    if not (with_models or with_human):
        raise ValueError("nothing to analyse: give scanpath files or human recordings")
    if units == "physical" and px_per_degree is None and with_models:
        raise ValueError("units='physical' needs px_per_degree (pixels per degree of visual "
                         "angle) to express saccade distances in degrees")
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise ValueError(f"chunk_rows must be a positive integer, got {chunk_rows!r}")
    if with_human and with_models and units == "native":
        raise ValueError("comparing with human recordings needs units='physical' (ms and "
                         "degrees: give ms_per_step and px_per_degree for the model image) or "
                         "units='relative' (durations over the group median, distances over "
                         "the stimulus width); glimpse steps and image pixels have no human "
                         "counterpart")


#: Units of fixation durations and saccade distances in each analysis unit system.
_DURATION_UNIT = {"native": "steps", "physical": "ms", "relative": "relative"}
_DISTANCE_UNIT = {"native": "px", "physical": "deg", "relative": "relative"}


def _distances(saccades: pd.DataFrame, units: str, px_per_degree: float | None) -> np.ndarray:
    """Saccade distances in the analysis units.

    Native: ``distance_px``. Physical: ``distance_px / px_per_degree``, except where
    ``distance_deg`` holds a value (human saccades: exact degrees from their screen).
    Relative: ``distance_px / image_width`` (the width of each scanpath's own image).
    """
    px = saccades["distance_px"].to_numpy(np.float64)
    if units == "native" or px.size == 0:
        return px
    if units == "relative":
        return normalize(px, "width", scale=saccades["image_width"].to_numpy(np.float64))
    if "distance_deg" not in saccades.columns:
        return normalize(px, "physical", scale=1 / px_per_degree)
    deg = saccades["distance_deg"].to_numpy(np.float64)
    if px_per_degree is None:  # human recordings alone: every saccade has its degrees
        return deg
    return np.where(np.isfinite(deg), deg, normalize(px, "physical", scale=1 / px_per_degree))


def _group_samples(fixations: pd.DataFrame, saccades: pd.DataFrame, group_col: str,
                   units: str, ms_per_step: float | None,
                   distances: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """Per-group fixation durations and saccade distances in the analysis units.

    Durations are converted as in :func:`gazekit.compare.compare_groups` (native glimpse
    steps; physical ms, measured ``duration_ms`` when a group has it, else
    ``n_glimpses * ms_per_step``; relative, over the group median); ``distances`` come from
    :func:`_distances`. A group without saccades has an empty distance sample.
    """
    steps = fixations["n_glimpses"].to_numpy(np.float64)
    ms = fixations["duration_ms"].to_numpy(np.float64)
    out: dict[str, dict[str, np.ndarray]] = {"fixation_duration": {}, "saccade_distance": {}}
    # Both tables share one categorical dtype (gazekit.streaming._GroupCodes): the codes match.
    fix_group = fixations[group_col].cat.codes.to_numpy()
    sac_group = saccades[group_col].cat.codes.to_numpy()
    for code, label in enumerate(fixations[group_col].cat.categories):  # a loop over groups
        in_group = fix_group == code
        out["fixation_duration"][str(label)] = group_durations(
            steps[in_group], ms[in_group], units, ms_per_step, label)
        out["saccade_distance"][str(label)] = distances[sac_group == code]
    return out


def _group_scanpaths(fixations: pd.DataFrame, saccades: pd.DataFrame, group_col: str,
                     units: str) -> dict[str, dict[str, np.ndarray]]:
    """The ``_scanpath`` of each value of :func:`_group_samples`, in the same structure (the
    clusters of :func:`human_comparison`'s bootstrap)."""
    ms = fixations["duration_ms"].to_numpy(np.float64)
    fix_sp, sac_sp = (t["_scanpath"].to_numpy() for t in (fixations, saccades))
    fix_group = fixations[group_col].cat.codes.to_numpy()
    sac_group = saccades[group_col].cat.codes.to_numpy()
    out: dict[str, dict[str, np.ndarray]] = {"fixation_duration": {}, "saccade_distance": {}}
    for code, label in enumerate(fixations[group_col].cat.categories):  # a loop over groups
        in_group = fix_group == code
        out["fixation_duration"][str(label)] = fix_sp[in_group][
            timed_durations(ms[in_group], units)]
        out["saccade_distance"][str(label)] = sac_sp[sac_group == code]
    return out


def _supports(fixations: pd.DataFrame, group_col: str, units: str, mode: str,
              threshold: float, human_label: str | None) -> dict[str, tuple[int | None, float]]:
    """Per model group, the known support of its densities in native units: the most glimpses
    of one scanpath ``T`` (a fixation lasts 1..T steps) and the smallest saccade (the threshold
    under the consecutive rule, else 0 px). Other units and the human group: ``(None, 0.0)``.
    """
    if units != "native":
        return {}
    glimpses = fixations.groupby([group_col, "_scanpath"], observed=True)["n_glimpses"].sum()
    longest = glimpses.groupby(level=0, observed=True).max()
    floor = threshold if mode == "consecutive" else 0.0
    return {str(g): (int(t), floor) for g, t in longest.items() if str(g) != human_label}


def _densities(samples: dict[str, dict[str, np.ndarray]], units: str,
               bw_method: str | float,
               supports: dict[str, tuple[int | None, float]] | None = None,
               ) -> dict[str, dict[str, Density]]:
    """Per-group densities of the samples of :func:`_group_samples` (none for an empty one),
    bounded to each group's known support (:func:`_supports`)."""
    supports = supports or {}
    return {
        "fixation_duration": {
            g: duration_density(v, unit=_DURATION_UNIT[units], bw_method=bw_method,
                                max_steps=supports.get(g, (None, 0.0))[0])
            for g, v in samples["fixation_duration"].items()},
        "saccade_distance": {
            g: distance_density(v, unit=_DISTANCE_UNIT[units], bw_method=bw_method,
                                lower=supports.get(g, (None, 0.0))[1])
            for g, v in samples["saccade_distance"].items() if v.size},
    }


def human_comparison(samples: dict[str, dict[str, np.ndarray]], comparison: pd.DataFrame,
                     human_label: str, units: str, *, scanpaths: dict[str, dict[str, np.ndarray]],
                     bw_method: str | float = "scott",
                     n_resamples: int = 1000, confidence: float = 0.95,
                     max_bootstrap: int = 50_000, seed: int = 0) -> pd.DataFrame:
    """Each model group against the human group, with cluster-bootstrap intervals (resampling
    scanpaths) and the closest group.

    Parameters
    ----------
    samples : dict
        ``{"fixation_duration": {group: values}, "saccade_distance": {group: values}}`` in the
        analysis units (physical or relative), including ``human_label``.
    comparison : pandas.DataFrame
        Pairwise comparisons of the same samples (:func:`gazekit.compare.compare_groups`): the
        point estimates are taken from there, so they agree with ``comparison.csv``.
    human_label : str
        The human group.
    units : {"physical", "relative"}
    scanpaths : dict
        The scanpath (``_scanpath``; a trial of the human recordings) of each value of
        ``samples``, in the same structure: the clusters that the intervals resample.
    bw_method, n_resamples, confidence, max_bootstrap, seed
        As in :func:`distance_bootstrap` (``max_bootstrap``: scanpaths per group).

    Returns
    -------
    pandas.DataFrame
        One row per quantity and model group: ``quantity``, ``group``, ``human``, ``unit``,
        ``n_group``, ``n_human``; for each metric ``ks``, ``wasserstein``, ``jsd`` its value
        (smaller is closer), ``_ci_low``, ``_ci_high`` and ``closest_<metric>`` (True for the
        group with the smallest value of that quantity; ties all True).
    """
    units_of = {"fixation_duration": _DURATION_UNIT[units],
                "saccade_distance": _DISTANCE_UNIT[units]}
    rows = []
    for quantity, per_group in samples.items():  # two quantities x a few groups
        human = per_group[human_label]
        pairs = comparison[comparison["quantity"] == quantity]
        for group, values in per_group.items():
            if group == human_label:
                continue
            pair = pairs[((pairs["group_a"].astype(str) == group)
                          & (pairs["group_b"].astype(str) == human_label))
                         | ((pairs["group_a"].astype(str) == human_label)
                            & (pairs["group_b"].astype(str) == group))].iloc[0]
            row = {"quantity": quantity, "group": group, "human": human_label,
                   "unit": units_of[quantity], "n_group": values.size, "n_human": human.size}
            cis = (distance_bootstrap(values, human, unit=units_of[quantity], bw_method=bw_method,
                                      clusters=(scanpaths[quantity][group],
                                                scanpaths[quantity][human_label]),
                                      n_resamples=n_resamples, confidence=confidence,
                                      max_bootstrap=max_bootstrap, seed=seed)
                   if values.size and human.size else dict.fromkeys(HUMAN_METRICS, (np.nan,) * 2))
            for metric, column in HUMAN_METRICS.items():
                row[metric] = pair[column]
                row[f"{metric}_ci_low"], row[f"{metric}_ci_high"] = cis[metric]
            rows.append(row)
    columns = ["quantity", "group", "human", "unit", "n_group", "n_human",
               *(f"{m}{s}" for m in HUMAN_METRICS for s in ("", "_ci_low", "_ci_high"))]
    table = pd.DataFrame(rows, columns=columns)
    for metric in HUMAN_METRICS:
        best = table.groupby("quantity")[metric].transform("min")
        table[f"closest_{metric}"] = table[metric] == best
    return table


def _human_summary(summary: pd.DataFrame, reference: pd.DataFrame,
                   human: HumanRecordings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fix the human group's rows of the summary and the reference comparison.

    Its rows are fixations, so step-based statistics do not apply (NaN); its mean saccade size
    in degrees is that of its exact visual angles, not ``px / px_per_degree``.
    """
    summary = summary.copy()
    rows = summary["group"].astype(str) == human.label
    steps = [c for c in summary.columns if c.startswith("fixation_steps")] + ["fixational_share"]
    summary.loc[rows, steps] = np.nan
    reference = reference.copy()
    rows = reference["group"].astype(str) == human.label
    deg = float(np.mean(human.saccade_deg)) if human.saccade_deg.size else np.nan
    reference.loc[rows, "model_saccade_deg"] = deg
    reference.loc[rows, "saccade_ratio"] = deg / reference.loc[rows, "reference_saccade_deg"]
    reference.loc[rows, "note"] = "human recordings: measured ms, exact degrees"
    return summary, reference


def figure_title(mode: str, threshold: float, human: HumanRecordings | None = None, *,
                 models: bool = True) -> str:
    """Title of the density figure, naming how each group's fixations were found.

    Model scanpaths are segmented by ``mode`` at ``threshold`` pixels; human recordings by
    their detector (:meth:`gazekit.human.HumanRecordings.detector`).

    Examples
    --------
    >>> figure_title("consecutive", 6.0)
    'Fixation durations and saccade distances (consecutive rule, 6 px)'
    """
    if human is None:
        return f"Fixation durations and saccade distances ({mode} rule, {threshold:g} px)"
    lines = [f"models: {mode} rule, {threshold:g} px"] if models else []
    return "\n".join(["Fixation durations and saccade distances", *lines,
                      f"{human.label}: {human.detector()}"])


def _load_human(human, human_format: str | None, geometry: ScreenGeometry | None,
                human_label: str, human_method: str | None, human_params: dict | None,
                sample_format: SampleFormat | None) -> HumanRecordings | None:
    if human is None or isinstance(human, HumanRecordings):
        return human
    return load_human(human, human_format, geometry=geometry, label=human_label,
                      method=human_method, params=human_params, sample_format=sample_format)


def analyze(paths: Paths | None, out_dir: str | Path, *, threshold: float = 6.0,
            mode: str = "consecutive", group_by: str | None = "model", units: str | None = None,
            ms_per_step: float | None = None, px_per_degree: float | None = None,
            bw_method: str | float = "scott", chunk_rows: int = 1_000_000,
            overwrite: bool = False, progress: bool = True, seed: int = 0,
            human: Paths | HumanRecordings | None = None, human_format: str | None = None,
            geometry: ScreenGeometry | None = None, human_label: str = "human",
            human_method: str | None = None,
            human_params: dict | None = None,
            human_sample_format: SampleFormat | None = None) -> AnalysisResult:
    """Segment scanpath files into fixations and saccades and describe them per group.

    Parameters
    ----------
    paths : path, sequence of paths or None
        Scanpath files (``.parquet``, ``.csv``, ``.tsv``) and/or directories of them, in the
        :mod:`gazekit.schema` format; None or empty with ``human`` analyses the human
        recordings alone.
    out_dir : path
        Output directory (see the module docstring for its files). Created atomically; it
        must not be, contain or lie inside an input path, human recordings included
        (:func:`gazekit.atomic.check_outputs`).
    threshold : float, default 6.0
        Fixation threshold in **pixels** (the paper's 6 px; see :func:`gazekit.segment.segment`),
        finite and >= 0 (:func:`check_threshold`).
    mode : {"consecutive", "centroid", "anchor"}, default "consecutive"
        Fixation rule (the paper's is ``"consecutive"``).
    group_by : str or None, default "model"
        Column whose values define the groups compared; None gives one group ``"all"``, as
        does the default ``"model"`` where the input lacks it (:data:`DEFAULT_GROUP`). Any
        other column must be in at least one input file (:func:`check_group_column`), and
        must be a per-scanpath column (key or :data:`gazekit.segment.SCANPATH_COLUMNS`);
        :func:`gazekit.schema.validate` rejects an input in which such a column changes
        value within a scanpath.
    units : {"native", "physical", "relative"}, optional
        Units of the comparisons and figures; default ``"physical"`` for human recordings
        alone, ``"native"`` otherwise: ``"native"`` glimpse steps and px;
        ``"physical"`` ms and degrees of visual angle (needs ``px_per_degree``, and
        ``ms_per_step`` unless the input has time columns); ``"relative"`` durations over the
        group median and distances over the image width (needs column ``image_width``).
        The summary always reports steps, ms (when known) and px. With ``human``, only
        ``"physical"`` and ``"relative"`` (module docstring).
    ms_per_step : float, optional
        Milliseconds per glimpse step, for ``"physical"`` units and the reference comparison.
    px_per_degree : float, optional
        Pixels per degree of visual angle of the **model image**, for ``"physical"`` units and
        the reference comparison.
    bw_method : {"scott", "silverman"} or float, default "scott"
        KDE bandwidth rule, or the bandwidth in the analysis units
        (see :mod:`gazekit.density`).
    chunk_rows : int, default 1_000_000
        Input rows read at a time; bounds the memory used (three chunks are in flight at
        most: being read, segmented and written).
    overwrite : bool, default False
        Replace a non-empty ``out_dir``.
    progress : bool, default True
        Show a progress bar over the input rows (on stderr).
    seed : int, default 0
        Seed of the bootstrap confidence intervals.
    human : path, sequence of paths or HumanRecordings, optional
        Human eye-tracking recordings (files or directories, read with
        :func:`gazekit.detection.load_human`), or recordings already loaded.
    human_format : str, optional
        Format of ``human`` files (:data:`gazekit.human.FORMATS`); None for one output
        directory of ``gazekit detect`` (:func:`gazekit.detection.read_detection`).
    geometry : ScreenGeometry, optional
        Screen of the human recordings, required for recording files (never guessed); a
        ``gazekit detect`` directory brings its own.
    human_label : str, default "human"
        Group label of the human recordings.
    human_method : str, optional
        Fixation detector for raw samples (:mod:`gazekit.detectors`); default
        :data:`gazekit.detectors.DEFAULT_DETECTOR`.
    human_params : dict, optional
        Detector parameters (degrees, deg/s, ms); the detector's defaults otherwise.
    human_sample_format : SampleFormat, optional
        Column mapping of ``"csv"`` samples (default :data:`gazekit.readers.CSV`).

    Returns
    -------
    AnalysisResult

    Raises
    ------
    ScanpathError
        For unreadable or invalid input (the message names the file).
    ValueError
        For bad arguments (a ``group_by`` column the input lacks, an ``out_dir`` that holds
        or lies in an input, ...), or units that the input cannot be converted to; nothing is
        written then.
    FileExistsError
        If ``out_dir`` exists and is not empty, unless ``overwrite``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import gazekit
    >>> table = gazekit.synthetic_scanpaths(n_per_policy=5, steps=8, seed=0)
    >>> with tempfile.TemporaryDirectory() as tmp:  # doctest: +NORMALIZE_WHITESPACE
    ...     path = gazekit.write_parquet_atomic(table, Path(tmp) / "scanpaths.parquet")
    ...     result = analyze(path, Path(tmp) / "results", threshold=6.0, progress=False)
    ...     print(*sorted(p.name for p in result.report_path.parent.iterdir()))
    comparison.csv densities.png densities.svg fixations.parquet reference_comparison.csv
    report.md saccades.parquet summary.csv
    >>> result.rows, result.scanpaths
    (120, 15)
    >>> columns = ["group", "scanpaths", "fixations_per_scanpath", "fixation_steps_mean"]
    >>> print(result.summary[columns].round(2).to_string(index=False))
                   group  scanpaths  fixations_per_scanpath  fixation_steps_mean
      synthetic-saccadic          5                     7.8                 1.03
    synthetic-fixational          5                     1.2                 6.67
         synthetic-mixed          5                     4.4                 1.82
    """
    model_paths = [] if paths is None else path_list(paths)
    if units is None:  # ms and degrees where the data have them: human recordings alone
        units = "native" if model_paths or human is None else "physical"
    _check_arguments(threshold, mode, units, ms_per_step, px_per_degree, chunk_rows,
                     with_human=human is not None, with_models=bool(model_paths))
    files = find_inputs(model_paths) if model_paths else []
    out_dir = Path(out_dir)
    # The paths as given cover the files found in them (human recordings: in subfolders too).
    human_paths = ([] if human is None else human.files if isinstance(human, HumanRecordings)
                   else path_list(human))
    check_outputs([*model_paths, *human_paths], dirs=[out_dir])
    recordings = _load_human(human, human_format, geometry, human_label, human_method,
                             human_params, human_sample_format)
    group_col = group_by or "_group"  # a name no input column has
    with atomic_output_dir(out_dir, overwrite=overwrite) as tmp:
        fixations, saccades, rows, scanpaths = _segment_all(
            files, tmp, threshold=threshold, mode=mode, group_by=group_by,
            group_col=group_col, keep_width=units == "relative", chunk_rows=chunk_rows,
            progress=progress, human=recordings)
        boot = {"confidence": CONFIDENCE, "n_resamples": N_RESAMPLES,
                "max_bootstrap": MAX_BOOTSTRAP, "seed": seed}
        summary = summarize(fixations, saccades, group_by=group_col, **boot)
        distances = _distances(saccades, units, px_per_degree)
        # compare_groups divides distance_px by px_per_degree; with human saccades the
        # distances are already in degrees (per-saccade conversions), hence the factor 1.
        converted = units == "physical" and recordings is not None
        comparison = compare_groups(
            fixations, saccades.assign(distance_px=distances) if converted else saccades,
            group_by=group_col, units=units, ms_per_step=ms_per_step,
            px_per_degree=1.0 if converted else px_per_degree, bw_method=bw_method, **boot)
        reference = compare_with_reference(summary, ms_per_step=ms_per_step,
                                           px_per_degree=px_per_degree)
        samples = _group_samples(fixations, saccades, group_col, units, ms_per_step, distances)
        scanpath_ids = (_group_scanpaths(fixations, saccades, group_col, units)
                        if recordings is not None and files else None)  # bootstrap clusters
        supports = _supports(fixations, group_col, units, mode, threshold,
                             None if recordings is None else recordings.label)
        del fixations, saccades, distances
        densities = _densities(samples, units, bw_method, supports)
        versus_human = None
        if recordings is not None:
            summary, reference = _human_summary(summary, reference, recordings)
        if recordings is not None and files:
            versus_human = human_comparison(samples, comparison, recordings.label, units,
                                            scanpaths=scanpath_ids, bw_method=bw_method, **boot)
            versus_human.to_csv(tmp / "human_comparison.csv", index=False)
        summary.to_csv(tmp / "summary.csv", index=False)
        comparison.to_csv(tmp / "comparison.csv", index=False)
        reference.to_csv(tmp / "reference_comparison.csv", index=False)
        figures = plot_densities(
            densities["fixation_duration"], densities["saccade_distance"], tmp / FIGURE_STEM,
            title=figure_title(mode, threshold, recordings, models=bool(files)),
            reference=None if recordings is None else recordings.label)
        report = analysis_report(
            files=[final_path(f) for f in files], rows=rows, scanpaths=scanpaths,
            group_by=group_by,
            group_col=group_col, threshold=threshold, mode=mode, units=units,
            ms_per_step=ms_per_step, px_per_degree=px_per_degree, bw_method=bw_method,
            bootstrap=boot, densities=densities, summary=summary, comparison=comparison,
            reference=reference, figures=[f.name for f in figures], human=recordings,
            versus_human=versus_human)
        (tmp / "report.md").write_text(report, encoding="utf-8")
    return AnalysisResult(
        fixations_path=out_dir / "fixations.parquet", saccades_path=out_dir / "saccades.parquet",
        summary=summary, comparison=comparison, reference_comparison=reference,
        densities=densities, figures=[out_dir / f.name for f in figures],
        report_path=out_dir / "report.md", rows=rows, scanpaths=scanpaths, human=recordings,
        human_comparison=versus_human)
