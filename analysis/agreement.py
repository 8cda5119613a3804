"""Are the scanpaths reproducible across seeds, or only their statistics? (issue 14, part C)

On the same test images, the scanpaths of two seeds of one model are compared with each other
and with those of other models, by :mod:`gazekit.similarity` (MultiMatch's five dimensions, DTW
of the fixation positions in px, edit distance of 5 x 5 grid-cell strings). Glimpses are first
merged into fixations by the paper's rule (consecutive, :data:`analysis.claims.THRESHOLD_PX`).
Every pair of runs on one image is a pair of scanpaths; pairs are pooled by the models of the
two runs, so ``RAM-7 | RAM-7`` holds the pairs of different seeds of RAM-7 (across seeds) and
``RAM-7 | MRAM-7`` those of a RAM-7 run and an MRAM-7 run (every seed of each). Means come
with cluster-bootstrap intervals over test images (:func:`gazekit.similarity.summarize_pairs`),
since the pairs of one image share scanpaths. MultiMatch is undefined for a scanpath of fewer
than 3 fixations: such pairs are dropped from its rows (``pairs_dropped``), so its rows cover a
model-dependent subset of the images.

If scanpaths were as reproducible as their statistics, the across-seed similarity of a model
would lie clearly above its between-model similarity. :func:`agreement_contrast` tests that
image by image (:data:`CONTRAST_CRITERION`).

>>> import pandas as pd
>>> pairs = pd.DataFrame({"stimulus": ["0", "0", "1", "1"], "model_a": ["A", "A", "A", "A"],
...                       "model_b": ["A", "B", "A", "B"], "dtw_px": [2.0, 6.0, 4.0, 10.0]})
>>> agreement_contrast(pairs, ("dtw_px",), n_resamples=100)[["model", "other", "difference",
...                                                         "n_images"]].values.tolist()
[['A', 'B', -5.0, 2]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.claims import CONFIDENCE, THRESHOLD_PX
from gazekit.similarity import compare_scanpaths, summarize_pairs
from gazekit.similarity.compare import UNITS
from gazekit.stats import bootstrap_ci

__all__ = ["AGREEMENT_IMAGES", "CONTRAST_CRITERION", "HEADLINE_MEASURES", "agreement_contrast",
           "agreement_pairs", "scanpath_agreement", "summarize_agreement"]

#: Test images compared (the first of the split): 36 pairs per image for 3 models x 3 seeds.
AGREEMENT_IMAGES = 1000
#: Measures shown in Markdown (all are in the CSV).
HEADLINE_MEASURES = ("dtw_px", "mm_position", "mm_vector", "edit_similarity")
#: How :func:`agreement_contrast` reaches its verdict, in words.
CONTRAST_CRITERION = (
    "scanpaths reproducible beyond the model: per test image, the mean across-seed value of "
    "the model minus its mean between-model value (pairs with the other model); the mean of "
    "these differences over the images both have, with a 95 % cluster-bootstrap interval over "
    "those images. 'across seeds more alike' when the interval excludes 0 on the more-alike "
    "side (DTW and edit distance lower, similarities higher), 'between models more alike' when "
    "it excludes 0 on the other side, else 'inconclusive'.")


def agreement_pairs(scanpaths: pd.DataFrame, models: dict[str, str], *,
                    images: int | None = AGREEMENT_IMAGES) -> pd.DataFrame:
    """Every pair of runs' scanpaths on the same test image, labelled by the runs' models.

    Parameters
    ----------
    scanpaths : pandas.DataFrame
        Validated glimpse table of several runs on the same test images (``model`` = the
        run's group label, e.g. ``"RAM-7 seed2"``; :func:`analysis.gaze_runs.read_runs`).
    models : dict
        Group label of each run to compare -> its model label (``"RAM-7"``); others are left
        out.
    images : int, optional
        Compare only the first ``images`` test images (smallest ``image_id``); None: all.

    Returns
    -------
    pandas.DataFrame
        :func:`gazekit.similarity.compare_scanpaths` rows (one per pair; positions in px,
        fixations at :data:`analysis.claims.THRESHOLD_PX`) with ``model_a`` <= ``model_b``,
        the two runs' models, in place of ``group_a`` and ``group_b`` (the runs).
    """
    table = scanpaths[scanpaths["model"].astype(str).isin(models)]
    ids = np.sort(table["image_id"].unique())
    if images is not None:
        table = table[table["image_id"].isin(ids[:images])]
    table = table.drop(columns="_scanpath").assign(model=table["model"].astype(str))
    pairs = compare_scanpaths(table, group_by="model", threshold=THRESHOLD_PX)
    a, b = pairs["group_a"].map(models), pairs["group_b"].map(models)
    return pairs.assign(model_a=a.where(a <= b, b), model_b=b.where(a <= b, a))


def summarize_agreement(pairs: pd.DataFrame, *, n_resamples: int = 2000,
                        seed: int = 0) -> pd.DataFrame:
    """Mean of each measure per pair of models (:func:`gazekit.similarity.summarize_pairs`).

    Parameters
    ----------
    pairs : pandas.DataFrame
        :func:`agreement_pairs` output.
    n_resamples, seed
        Cluster bootstrap over test images.

    Returns
    -------
    pandas.DataFrame
        One row per pair of models and measure: ``model_a``, ``model_b``, ``comparison``
        (``"across seeds"`` when they are one model, else ``"between models"``), ``measure``,
        ``unit``, ``n_pairs`` (pairs with a value), ``pairs_total`` (all pairs),
        ``pairs_dropped`` (``pairs_total - n_pairs``: for MultiMatch, pairs with a scanpath of
        fewer than 3 fixations), ``n_stimuli``, ``mean``, ``median``, ``ci_low``, ``ci_high``,
        ``confidence``, ``n_resamples``, ``threshold_px``.
    """
    models = pairs.drop(columns=["group_a", "group_b"]).rename(
        columns={"model_a": "group_a", "model_b": "group_b"})
    summary = summarize_pairs(models, n_resamples=n_resamples, seed=seed).rename(
        columns={"group_a": "model_a", "group_b": "model_b"})
    summary.insert(2, "comparison", np.where(summary["model_a"] == summary["model_b"],
                                             "across seeds", "between models"))
    total = pairs.groupby(["model_a", "model_b"]).size().rename("pairs_total")
    summary = summary.join(total, on=["model_a", "model_b"])
    position = summary.columns.get_loc("n_pairs") + 1
    summary.insert(position, "pairs_total", summary.pop("pairs_total"))
    summary.insert(position + 1, "pairs_dropped", summary["pairs_total"] - summary["n_pairs"])
    return summary.assign(threshold_px=THRESHOLD_PX)


def scanpath_agreement(scanpaths: pd.DataFrame, models: dict[str, str], *,
                       images: int | None = AGREEMENT_IMAGES, n_resamples: int = 2000,
                       seed: int = 0) -> pd.DataFrame:
    """Similarity of scanpaths across seeds of one model and between models:
    :func:`summarize_agreement` of :func:`agreement_pairs` (see both for the arguments)."""
    return summarize_agreement(agreement_pairs(scanpaths, models, images=images),
                               n_resamples=n_resamples, seed=seed)


def _contrast_verdict(low: float, high: float, higher_is_alike: bool) -> str:
    """The verdict of :data:`CONTRAST_CRITERION` on the interval ``[low, high]``."""
    if not np.isfinite([low, high]).all():
        return "cannot assess: fewer than 2 images"
    alike, unlike = (low > 0, high < 0) if higher_is_alike else (high < 0, low > 0)
    return ("across seeds more alike" if alike else "between models more alike" if unlike
            else "inconclusive")


def agreement_contrast(pairs: pd.DataFrame, measures: Sequence[str] = HEADLINE_MEASURES, *,
                       n_resamples: int = 2000, confidence: float = CONFIDENCE,
                       seed: int = 0) -> pd.DataFrame:
    """Across-seed minus between-model agreement, image by image (:data:`CONTRAST_CRITERION`).

    For a model ``M`` with across-seed pairs and another model ``N``, on each test image the
    mean of a measure over the pairs of two seeds of ``M`` minus its mean over the pairs of a
    run of ``M`` and a run of ``N``; images where either mean is undefined (MultiMatch: every
    pair has a scanpath of fewer than 3 fixations) are left out. The differences are averaged
    over the remaining images with equal weight, and their interval resamples the images
    (:func:`gazekit.stats.bootstrap_ci`, each image a cluster).

    Parameters
    ----------
    pairs : pandas.DataFrame
        :func:`agreement_pairs` output (``stimulus``, ``model_a``, ``model_b`` and the
        measures).
    measures : sequence of str, default :data:`HEADLINE_MEASURES`
        Measure columns (those absent from ``pairs`` are skipped).
    n_resamples, confidence, seed
        Percentile bootstrap settings.

    Returns
    -------
    pandas.DataFrame
        One row per (model, other model, measure): ``model``, ``other``, ``measure``, ``unit``
        (px, edits or similarity), ``across_seeds`` and ``between_models`` (their means over
        the common images), ``difference`` (across - between), ``ci_low``, ``ci_high``,
        ``n_images``, ``confidence``, ``n_resamples``, ``criterion`` and ``verdict``.
    """
    measures = [m for m in measures if m in pairs.columns]
    per_image = pairs.groupby(["model_a", "model_b", "stimulus"], sort=True)[measures].mean()
    rows = []
    for model in sorted(pairs.loc[pairs["model_a"] == pairs["model_b"], "model_a"].unique()):
        across = per_image.loc[(model, model)]
        for a, b in per_image.index.droplevel("stimulus").unique():
            if a == b or model not in (a, b):
                continue
            between = per_image.loc[(a, b)]
            for measure in measures:
                both = pd.concat([across[measure], between[measure]], axis=1, join="inner",
                                 keys=["across", "between"]).dropna()
                diff = (both["across"] - both["between"]).to_numpy(np.float64)
                low, high = bootstrap_ci((diff,), "mean", clusters=(np.arange(diff.size),),
                                         confidence=confidence, n_resamples=n_resamples,
                                         seed=seed) if diff.size else (np.nan, np.nan)
                rows.append({
                    "model": model, "other": b if a == model else a, "measure": measure,
                    "unit": UNITS.get(measure, ""),
                    "across_seeds": both["across"].mean(), "between_models": both["between"].mean(),
                    "difference": diff.mean() if diff.size else np.nan,
                    "ci_low": low, "ci_high": high, "n_images": diff.size,
                    "confidence": confidence, "n_resamples": n_resamples,
                    "criterion": CONTRAST_CRITERION,
                    "verdict": _contrast_verdict(low, high, UNITS.get(measure) == "similarity")})
    return pd.DataFrame(rows)
