"""Is a knob's effect larger than seed-to-seed variation? (issue 14, part B)

A knob setting of the grid (:mod:`analysis.sensitivity`) is compared with the default setting
of the same model on the same test images: the paired difference of test accuracy (percentage
points), fixational share, mean fixation (glimpse steps) and mean saccade (px), each with a
95 % interval that resamples test images (:func:`knob_effects`). That interval is test-set
noise only: another training seed gives another network. So each effect is put beside the sd
``s`` of the same statistic over ``n`` training seeds, measured under the full protocol by the
seed experiment (:mod:`analysis.seeds`; :func:`seed_spread`), and beside the **seed band**
``t(0.975, n - 1) * sqrt(2) * s`` (:func:`seed_band`): the half-width of the 95 % prediction
interval of the difference between two runs that differ only in their training seed (normal
seed noise, ``s`` estimated from ``n`` seeds). An effect inside the band is one that a change
of seed alone would give in 95 % of cases; it is flagged ``within_seed_noise``
(:func:`beside_seed_sd`). A seed table row that is partial (a seed missing or still training)
gives no band: the sd of a run stopped early is no estimate of seed noise.

>>> import pandas as pd
>>> table = pd.DataFrame({"model": ["RAM-7"], "d_fixational_share": [0.2]})
>>> spread = pd.DataFrame({"d_fixational_share_seed_sd": [0.041],
...                        "seed_n": [3], "seed_partial": [False],
...                        "seed_sd_source": ["full protocol, 3 seeds"]}, index=["RAM-7"])
>>> row = beside_seed_sd(table, spread).iloc[0]
>>> round(float(row["d_fixational_share_seed_band"]), 3), bool(row[
...     "d_fixational_share_within_seed_noise"])
(0.249, True)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import t as student_t

from analysis.claims import (
    N_RESAMPLES,
    STATISTICS,
    PairedBootstrap,
    image_correct,
    scanpath_sums,
)
from analysis.experiments import read_metrics
from gazekit.segment import Segmentation
from gazekit.stats import bootstrap_ci

__all__ = ["EFFECTS", "SEED_TABLE", "beside_seed_sd", "epochs_as_default", "knob_effects",
           "seed_band", "seed_spread"]

#: Each statistic of the grid's table -> the column of its paired difference from the
#: default setting, and that difference's unit.
EFFECTS = {"accuracy_pct": ("d_accuracy_pp", "pp"),
           "fixational_share": ("d_fixational_share", ""),
           "fixation_steps_mean": ("d_fixation_steps", "glimpse steps"),
           "saccade_px_mean": ("d_saccade_px", "px")}
#: The seed table of :mod:`analysis.seeds` (in the results folder).
SEED_TABLE = "seeds_fashion_mnist.csv"


def knob_effects(seg: Segmentation, exports: dict[str, Path], defaults: dict[str, str], *,
                 n_resamples: int = N_RESAMPLES, seed: int = 0) -> pd.DataFrame:
    """Each group's paired difference from its default group, on the same test images.

    Parameters
    ----------
    seg : gazekit.segment.Segmentation
        Segmentation of the exports' scanpaths (group label in ``model``,
        :func:`analysis.gaze_runs.segment_runs`).
    exports : dict
        Group label (``"RAM-7 std0.05"``) -> policy-mean export of the test images.
    defaults : dict
        Group -> the group it is compared with (``"RAM-7 default"``); groups without one, or
        whose default has no export, are left out.
    n_resamples, seed
        Bootstrap resamples and seed.

    Returns
    -------
    pandas.DataFrame
        One row per compared group: ``group`` and, per :data:`EFFECTS` column (group -
        default: accuracy in percentage points, fixational share, mean fixation in glimpse
        steps, mean saccade in px), the value and ``_ci_low``/``_ci_high``: 95 % percentile
        intervals resampling test images, the gaze ones by the claims' paired cluster
        bootstrap (:class:`analysis.claims.PairedBootstrap`), the accuracy one by
        :func:`gazekit.stats.bootstrap_ci` of the per-image difference (-100, 0 or +100; one
        value per image, so resampling values resamples images).

    Raises
    ------
    ValueError
        If a group's export holds other test images than its default's.
    """
    boot = PairedBootstrap(scanpath_sums(seg.fixations, seg.saccades), n_resamples=n_resamples,
                           seed=seed)
    rows = []
    for group, default in defaults.items():
        if group not in exports or default not in exports:
            continue
        mine, base = (image_correct(exports[g]).astype(np.int64) for g in (group, default))
        if not mine.index.equals(base.index):
            raise ValueError(f"{exports[group]}: not the test images of {exports[default]}")
        gain = 100.0 * (mine - base).to_numpy(np.float64)
        row = {"group": group, "d_accuracy_pp": gain.mean()}
        row["d_accuracy_pp_ci_low"], row["d_accuracy_pp_ci_high"] = bootstrap_ci(
            (gain,), "mean", n_resamples=n_resamples, seed=seed)
        for statistic in STATISTICS:
            column = EFFECTS[statistic][0]
            estimate = boot.difference(group, default, statistic)
            row[column] = estimate.value
            row[f"{column}_ci_low"], row[f"{column}_ci_high"] = estimate.low, estimate.high
        rows.append(row)
    return pd.DataFrame(rows)


def epochs_as_default(run: Path, default: Path) -> int | None:
    """How many first epochs run folder ``run`` trained exactly as ``default`` did.

    Both runs share the seed, so until a knob acts their training is the same: the count of
    leading epochs whose ``metrics.jsonl`` lines agree in every field but the timings
    (``*_time_s``): loss, accuracies, learning rate, health. 0 when they differ from epoch 1
    (a knob that acts at once: std, first location, detach). All of the run's epochs when it
    never left the default's path: e.g. an LR schedule knob in a run whose validation accuracy
    never stalled long enough for either schedule to lower the LR. Its effects are then 0 by
    construction; they say nothing about the knob.

    Returns None where either log is missing or empty.
    """
    mine, base = read_metrics(run / "metrics.jsonl"), read_metrics(default / "metrics.jsonl")
    if mine.empty or base.empty:
        return None
    fields = sorted({c for c in (*mine.columns, *base.columns) if not c.endswith("_time_s")})
    n = min(len(mine), len(base))
    a, b = (frame.reindex(columns=fields).iloc[:n].reset_index(drop=True)
            for frame in (mine, base))
    same = ((a == b) | (a.isna() & b.isna())).all(axis=1).to_numpy()
    return int(n if same.all() else np.argmin(same))


def seed_spread(path: Path) -> pd.DataFrame:
    """The full-protocol sd over training seeds of each statistic, per model, from the seed
    table of :mod:`analysis.seeds` (``<statistic>_sd``: sample sd; accuracy in %, so pp).

    Returns
    -------
    pandas.DataFrame
        Indexed by model label: per :data:`EFFECTS` column ``<column>_seed_sd`` (NaN with
        fewer than 2 seeds), ``seed_n`` (the seeds it is from), ``seed_partial`` (a seed
        missing or unfinished) and ``seed_sd_source`` (``"full protocol, N seeds"``, with
        ``partial`` where ``seed_partial``). Empty if ``path`` does not exist.

    Raises
    ------
    ValueError
        If ``path`` lacks a column of the seed table (one line naming the file and column).
    """
    if not path.is_file():
        return pd.DataFrame()
    table = pd.read_csv(path)
    needed = ["model", "seeds_with_results", "partial", *(f"{s}_sd" for s in EFFECTS)]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: no column {missing[0]!r} (expected the seed table of "
                         "analysis/seeds.py)")
    out = pd.DataFrame({f"{column}_seed_sd": table[f"{statistic}_sd"].to_numpy(np.float64)
                        for statistic, (column, _) in EFFECTS.items()},
                       index=table["model"].astype(str))
    n = table["seeds_with_results"].astype(int).tolist()
    out["seed_n"] = n
    partial = table["partial"].astype(str).str.lower().eq("true").tolist()
    out["seed_partial"] = partial
    out["seed_sd_source"] = [f"full protocol, {k} seed{'' if k == 1 else 's'}"
                             + (", partial" if p else "")
                             for k, p in zip(n, partial, strict=True)]
    return out


def seed_band(sd: np.ndarray | float, n: np.ndarray | int) -> np.ndarray:
    """Half-width of the 95 % prediction interval of the difference between two runs that
    differ only in their training seed: ``t(0.975, n - 1) * sqrt(2) * sd``.

    ``sd`` is the sample sd of a statistic over ``n`` seeds (its unit). Under normal seed
    noise the difference of two new runs has sd ``sqrt(2) * sigma``, and with ``sigma``
    estimated from ``n`` seeds it is ``t``-distributed with ``n - 1`` degrees of freedom.
    NaN where ``n < 2``.

    >>> round(float(seed_band(1.0, 3)), 3)  # t(0.975, 2) = 4.303
    6.085
    """
    sd, n = np.asarray(sd, dtype=np.float64), np.asarray(n, dtype=np.float64)
    dof = np.where(n >= 2, n - 1, np.nan)
    return student_t.ppf(0.975, dof) * np.sqrt(2.0) * sd


def beside_seed_sd(table: pd.DataFrame, spread: pd.DataFrame) -> pd.DataFrame:
    """``table`` (a ``model`` column and :data:`EFFECTS` columns) with each model's seed sd
    and seed band (:func:`seed_band`) beside each effect, ``<column>_seed_sd`` and
    ``<column>_seed_band`` (NaN where the seed table's row is partial), the flag
    ``<column>_within_seed_noise`` (|effect| <= seed band; missing where either is) and
    ``seed_sd_source``.

    ``spread`` is :func:`seed_spread`'s output (may be empty). ``table`` is changed in place
    and returned.
    """
    absent = "model not in the seed table" if len(spread) else "no seed table"
    columns = [f"{c}_seed_sd" for c, _ in EFFECTS.values()] + ["seed_n", "seed_partial",
                                                                "seed_sd_source"]
    spread = spread.reindex(index=table["model"].astype(str), columns=columns)
    # No band from a partial seed row (seed_partial missing: not in the seed table, no band).
    n = np.where(spread["seed_partial"].eq(False), spread["seed_n"].to_numpy(np.float64),
                 np.nan)
    for column, _ in EFFECTS.values():
        sd = spread[f"{column}_seed_sd"].to_numpy(np.float64)
        band = seed_band(sd, n)
        effect = table[column].to_numpy(np.float64) if column in table \
            else np.full(len(sd), np.nan)
        known = np.isfinite(band) & np.isfinite(effect)
        table[f"{column}_seed_sd"] = sd
        table[f"{column}_seed_band"] = band
        table[f"{column}_within_seed_noise"] = pd.array(
            np.where(known, np.abs(effect) <= band, None), dtype="boolean")
    table["seed_sd_source"] = spread["seed_sd_source"].astype(object).fillna(absent).to_numpy()
    return table
