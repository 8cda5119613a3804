"""Are the scanpaths reproducible across seeds, or only their statistics? (issue 14, part C)

On the same test images, the scanpaths of two seeds of one model are compared with each other
and with those of other models, by :mod:`gazekit.similarity` (MultiMatch's five dimensions, DTW
of the fixation positions in px, edit distance of 5 x 5 grid-cell strings). Glimpses are first
merged into fixations by the paper's rule (consecutive, :data:`analysis.claims.THRESHOLD_PX`).
Every pair of runs on one image is a pair of scanpaths; pairs are pooled by the models of the
two runs, so ``RAM-7 | RAM-7`` holds the pairs of different seeds of RAM-7 (across seeds) and
``RAM-7 | MRAM-7`` those of a RAM-7 run and an MRAM-7 run (every seed of each). Means come
with cluster-bootstrap intervals over test images (:func:`gazekit.similarity.summarize_pairs`),
since the pairs of one image share scanpaths.

If scanpaths were as reproducible as their statistics, the across-seed similarity of a model
would lie clearly above its between-model similarity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.claims import THRESHOLD_PX
from gazekit.similarity import compare_scanpaths, summarize_pairs

__all__ = ["AGREEMENT_IMAGES", "HEADLINE_MEASURES", "scanpath_agreement"]

#: Test images compared (the first of the split): 36 pairs per image for 3 models x 3 seeds.
AGREEMENT_IMAGES = 1000
#: Measures shown in Markdown (all are in the CSV).
HEADLINE_MEASURES = ("dtw_px", "mm_position", "mm_vector", "edit_similarity")


def scanpath_agreement(scanpaths: pd.DataFrame, models: dict[str, str], *,
                       images: int | None = AGREEMENT_IMAGES, n_resamples: int = 2000,
                       seed: int = 0) -> pd.DataFrame:
    """Similarity of scanpaths across seeds of one model and between models.

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
    n_resamples, seed
        Cluster bootstrap of :func:`gazekit.similarity.summarize_pairs`.

    Returns
    -------
    pandas.DataFrame
        One row per pair of models and measure: ``model_a``, ``model_b`` (``model_a <=
        model_b``), ``comparison`` (``"across seeds"`` when they are one model, else
        ``"between models"``), ``measure``, ``unit``, ``n_pairs``, ``n_stimuli``, ``mean``,
        ``median``, ``ci_low``, ``ci_high``, ``confidence``, ``n_resamples``,
        ``threshold_px``.
    """
    table = scanpaths[scanpaths["model"].astype(str).isin(models)]
    ids = np.sort(table["image_id"].unique())
    if images is not None:
        table = table[table["image_id"].isin(ids[:images])]
    table = table.drop(columns="_scanpath").assign(model=table["model"].astype(str))
    pairs = compare_scanpaths(table, group_by="model", threshold=THRESHOLD_PX)
    a, b = pairs["group_a"].map(models), pairs["group_b"].map(models)
    pairs["group_a"], pairs["group_b"] = a.where(a <= b, b), b.where(a <= b, a)
    summary = summarize_pairs(pairs, n_resamples=n_resamples, seed=seed)
    summary = summary.rename(columns={"group_a": "model_a", "group_b": "model_b"})
    summary.insert(2, "comparison", np.where(summary["model_a"] == summary["model_b"],
                                             "across seeds", "between models"))
    return summary.assign(threshold_px=THRESHOLD_PX)
