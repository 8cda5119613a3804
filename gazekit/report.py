"""The Markdown report of an analysis (``report.md`` of :func:`gazekit.analyze.analyze`).

:func:`analysis_report` writes the inputs, the parameters (with the detector and screen of any
human recordings), the summary, the comparisons and the figures on one page;
:func:`markdown_table` renders any table and :func:`closest_summary` says in words which model
group is closest to the human one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from gazekit import __version__
from gazekit.density import Density, describe_densities
from gazekit.distance_ci import HUMAN_METRICS
from gazekit.human import HumanRecordings
from gazekit.reference import human_reference

__all__ = ["analysis_report", "closest_summary", "markdown_table"]


def _cell(value: object) -> str:
    if isinstance(value, float | np.floating):
        return "" if np.isnan(value) else f"{value:.4g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(df: pd.DataFrame) -> str:
    """Render ``df`` as a GitHub-flavoured Markdown table (floats to 4 significant digits).

    NaN cells are left empty; ``|`` in cells is escaped.

    Examples
    --------
    >>> print(markdown_table(pd.DataFrame({"group": ["a|b"], "ms": [123.456789]})))
    | group | ms |
    |---|---|
    | a\\|b | 123.5 |
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


def _bridging(units: str, ms_per_step: float | None, px_per_degree: float | None,
              human: HumanRecordings) -> str:
    """How model and human units are made comparable, in words (for the report)."""
    if units == "physical":
        step = (f"glimpse steps x {ms_per_step:g} ms per step" if ms_per_step is not None
                else "measured ms (the scanpaths' time columns)")
        return (f"physical. Model fixation durations: {step} (measured ms where the input has "
                f"time columns); model saccade distances: px / {px_per_degree:g} px per degree "
                "of the model image. Human fixation durations: measured ms; human saccade "
                "distances: the exact (arctangent) visual angle between consecutive fixations "
                f"on the recorded screen, {human.geometry.describe()}.")
    return ("relative. Every group's fixation durations are divided by that group's median "
            "duration (model: glimpse steps, human: ms), and saccade distances by the width of "
            "the stimulus (model: the `image_width` of each scanpath's image; human: "
            f"{human.geometry.resolution_px[0]} px, the width of the recorded screen or "
            "stimulus), since amplitudes scale with the image size.")


def closest_summary(table: pd.DataFrame) -> list[str]:
    """One sentence per quantity naming the model group closest to the human distribution by
    each metric of a :func:`gazekit.analyze.human_comparison` table, with its bootstrap
    interval; notes when that interval overlaps the runner-up's (no clear winner).

    Examples
    --------
    >>> row = {"quantity": "saccade_distance", "group": "mram", "human": "human", "unit": "deg"}
    >>> for m in HUMAN_METRICS:
    ...     row |= {m: 0.1, f"{m}_ci_low": 0.05, f"{m}_ci_high": 0.2}
    >>> closest_summary(pd.DataFrame([row]))[0][:60]
    'Saccade distance (deg): closest to `human` by KS `mram` (0.1'
    """
    names = {"ks": "KS", "wasserstein": "W1", "jsd": "JSD"}
    out = []
    for quantity, rows in table.groupby("quantity", sort=False):
        rows = rows.dropna(subset=list(HUMAN_METRICS))
        if rows.empty:
            continue
        parts = []
        for metric in HUMAN_METRICS:
            ranked = rows.sort_values(metric, kind="stable")
            best = ranked.iloc[0]
            text = (f"by {names[metric]} `{best['group']}` ({_cell(best[metric])} "
                    f"[{_cell(best[f'{metric}_ci_low'])}, {_cell(best[f'{metric}_ci_high'])}])")
            if len(ranked) > 1 and ranked.iloc[1][f"{metric}_ci_low"] <= best[f"{metric}_ci_high"]:
                text += f", interval overlapping `{ranked.iloc[1]['group']}`'s"
            parts.append(text)
        human = rows["human"].iloc[0]
        out.append(f"{quantity.replace('_', ' ').capitalize()} ({rows['unit'].iloc[0]}): closest "
                   f"to `{human}` " + "; ".join(parts) + ".")
    return out


def _human_view(table: pd.DataFrame) -> pd.DataFrame:
    view = table[["quantity", "group", "unit", "n_group", "n_human"]].copy()
    for metric, name in (("ks", "KS"), ("wasserstein", "W1"), ("jsd", "JSD (bits)")):
        view[f"{name} [95% CI]"] = _with_ci(table, metric)
        view[f"closest by {name.split()[0]}"] = np.where(table[f"closest_{metric}"], "yes", "")
    return view


def _density_method(densities: dict[str, dict[str, Density]]) -> str:
    """What the density curves and the figure's dots are, in words, from the densities."""
    durations = densities["fixation_duration"].values()
    text = ("Gaussian KDEs bounded by reflection at each group's support. Fixation durations: "
            f"{describe_densities(densities['fixation_duration'])}. Saccade distances: "
            f"{describe_densities(densities['saccade_distance'])}.")
    if any(d.pmf is not None and np.isfinite(d.upper) for d in durations):
        text += (" Durations in glimpse steps are whole numbers 1..T (T: the group's longest "
                 "scanpath), reflected half a step outside, at 0.5 and T + 0.5 steps.")
    if any(d.pmf is not None for d in durations):
        text += (" The figure's dots are the exact share of fixations of each duration (whole "
                 "glimpse steps).")
    return text


def analysis_report(*, files: Sequence[Path], rows: int, scanpaths: int, group_by: str | None,
                    group_col: str, threshold: float, mode: str, units: str,
                    ms_per_step: float | None, px_per_degree: float | None,
                    bw_method: str | float, bootstrap: dict,
                    densities: dict[str, dict[str, Density]], summary: pd.DataFrame,
                    comparison: pd.DataFrame, reference: pd.DataFrame, figures: list[str],
                    human: HumanRecordings | None = None,
                    versus_human: pd.DataFrame | None = None) -> str:
    """The Markdown report of one analysis.

    The arguments are the inputs, parameters and results of :func:`gazekit.analyze.analyze`
    (``bootstrap``: its ``confidence``, ``n_resamples``, ``max_bootstrap`` and ``seed``;
    ``figures``: file names in the report's directory). Without model ``files`` the report
    describes the human recordings alone; ``versus_human`` is None then.
    """
    confidence, n_resamples = bootstrap["confidence"], bootstrap["n_resamples"]
    unit_names = {"native": "glimpse steps and pixels", "physical": "milliseconds and degrees",
                  "relative": "durations over the group median, distances over image width"}
    model_groups = (summary["group"] if human is None
                    else summary["group"][summary["group"].astype(str) != human.label])
    grouping = (f"column `{group_col}`" if len(model_groups) > 1 or (
        len(model_groups) and model_groups.iloc[0] != "all")
                else f"a single group `all` (no column `{group_by}` in the input)"
                if group_by else "a single group `all`")
    bandwidths = ", ".join(f"{kind.replace('_', ' ')} `{g}` {d.bandwidth:.4g} {d.unit}"
                           for kind, per_group in densities.items()
                           for g, d in per_group.items())
    no_saccades = [g for g in densities["fixation_duration"]
                   if g not in densities["saccade_distance"]]
    human_inputs, human_parameters, human_notes, human_section = [], [], [], []
    if human is not None:
        shown = human.files[:10]
        human_inputs = [
            f"Human recordings (group `{human.label}`): {human.describe()}", "",
            *[f"- `{f}`" for f in shown],
            *([f"- ... and {len(human.files) - len(shown)} more"]
              if len(human.files) > len(shown) else []), ""]
        human_parameters = ([f"- Unit bridging between model and human: "
                             f"{_bridging(units, ms_per_step, px_per_degree, human)}"]
                            if files else [])
        human_notes = [f"The rows of `{human.label}` are fixations, not glimpses: its step "
                       "statistics and fixational share do not apply (empty), its glimpse count "
                       "is its number of fixations, and its saccade distances in px are on "
                       "its own screen.", ""]
    if versus_human is not None:
        human_section = [
            "## Model vs human (`human_comparison.csv`)", "",
            *closest_summary(versus_human), "",
            markdown_table(_human_view(versus_human)), "",
            "Smaller is closer for every metric. KS: two-sample Kolmogorov-Smirnov statistic; "
            "W1: Wasserstein-1 distance (in the unit shown); JSD: Jensen-Shannon divergence of "
            f"the reflected KDEs in bits. {confidence:.0%} percentile intervals of a cluster "
            f"bootstrap: {n_resamples} resamples of each group's scanpaths (the human group's "
            "trials), each drawn scanpath with all its fixations or saccades (KDE bandwidths "
            "fixed at the full samples').", ""]
    lines = [
        "# gazekit analysis", "",
        f"gazekit {__version__}.", "",
        "## Inputs", "",
        *([*[f"- `{f}`" for f in files], "",
           f"{rows:,} rows (glimpses) in {scanpaths:,} scanpaths; groups by {grouping}."]
          if files else ["No model scanpaths: the human recordings alone."]), "",
        *human_inputs,
        "## Parameters", "",
        *([f"- Fixation threshold: {threshold:g} px, rule `{mode}` (a "
           "glimpse joins the current fixation when its distance to the "
           + {"consecutive": "previous glimpse", "centroid": "fixation's centroid",
              "anchor": "fixation's first glimpse"}[mode]
           + " is below the threshold; the paper's rule is `consecutive` with 6 px)."]
          if files else []),
        f"- Units of comparisons and figures: `{units}` ({unit_names[units]}); "
        f"ms per glimpse step: {ms_per_step if ms_per_step is not None else 'not given'}; "
        f"px per degree: {px_per_degree if px_per_degree is not None else 'not given'}.",
        *human_parameters,
        f"- Densities: {_density_method(densities)} Bandwidth rule `{bw_method}` "
        f"({bandwidths}).",
        f"- Confidence intervals: {confidence:.0%} percentile cluster bootstrap over scanpaths "
        f"(a scanpath's fixations and saccades are dependent, so each resample draws whole "
        f"scanpaths), {n_resamples} resamples, at most {bootstrap['max_bootstrap']:,} "
        "scanpaths per group (a seeded random subsample of scanpaths above that, which makes "
        f"the interval conservative), seed {bootstrap['seed']}.",
        "",
        "## Summary (`summary.csv`)", "",
        markdown_table(_summary_view(summary)), "",
        "Fixational share: the fraction of glimpse-to-glimpse transitions that stay within a "
        "fixation.", "",
        *human_notes,
        "## Group comparison (`comparison.csv`)", "",
        markdown_table(comparison) if len(comparison) else "Only one group: nothing to compare.",
        "",
        *human_section,
        "## Human reference (`reference_comparison.csv`)", "",
        markdown_table(reference), "",
        "Reference values: " + "; ".join(human_reference()["source"].unique()) + ".", "",
        "## Figures", "",
        f"![Fixation-duration and saccade-distance densities]({figures[0]})", "",
        "Files: " + ", ".join(f"[{name}]({name})" for name in figures) + ".",
    ]
    if human is not None:
        lines += ["", f"The human recordings are the curve `{human.label}` in both panels."]
    if no_saccades:
        lines += ["", "No saccades (so no distance density) in: "
                  + ", ".join(f"`{g}`" for g in no_saccades) + "."]
    return "\n".join(lines) + "\n"
