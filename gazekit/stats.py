"""Per-group summary statistics of fixations and saccades, with bootstrap confidence intervals.

Confidence intervals are percentile bootstrap intervals from :func:`scipy.stats.bootstrap`
(vectorised, seeded). Fixations (and saccades, and per-scanpath counts) are resampled as
independent observations, which ignores the dependence between fixations of one scanpath, so
the intervals describe sampling of fixations rather than of scanpaths. Samples larger than
``max_bootstrap`` are first reduced to a seeded random subsample of that size; the interval is
then wider than the full sample would give (conservative), while the point estimates always
use all values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

#: Resampled values held in memory at once by one bootstrap batch (about 40 MB of float64).
_BATCH_ELEMENTS = 5_000_000
#: Name given to the single group when there is no group column.
ALL = "all"


def _median(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.median(x, axis=axis)


def _mean(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x, axis=axis)


def bootstrap_ci(samples: Sequence[np.ndarray], statistic: Callable[..., np.ndarray], *,
                 confidence: float = 0.95, n_resamples: int = 1000,
                 max_bootstrap: int = 50_000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of ``statistic(*samples)``.

    Parameters
    ----------
    samples : sequence of 1-D arrays
        One or more independent samples, each resampled on its own.
    statistic : callable
        ``statistic(*samples, axis=-1)``, vectorised over the last axis.
    confidence : float, default 0.95
        Confidence level, in (0, 1).
    n_resamples : int, default 1000
        Number of bootstrap resamples.
    max_bootstrap : int, default 50_000
        Samples longer than this are replaced by a seeded random subsample (without
        replacement) of this size first; the interval is then conservative.
    seed : int, default 0
        Seed of the generator used for the subsample and the resamples; each call starts
        afresh, so an interval does not depend on what was computed before it.

    Returns
    -------
    (float, float)
        Lower and upper bound; ``(nan, nan)`` if a sample has fewer than 2 values.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if n_resamples < 1 or max_bootstrap < 2:
        raise ValueError(
            f"need n_resamples >= 1 and max_bootstrap >= 2, got {n_resamples} and "
            f"{max_bootstrap}")
    if min(len(s) for s in samples) < 2:
        return np.nan, np.nan
    rng = np.random.default_rng(seed)
    samples = tuple(s if len(s) <= max_bootstrap else rng.choice(s, max_bootstrap, replace=False)
                    for s in samples)
    batch = max(1, _BATCH_ELEMENTS // sum(len(s) for s in samples))
    ci = stats.bootstrap(samples, statistic, n_resamples=n_resamples, batch=batch,
                         vectorized=True, confidence_level=confidence, method="percentile",
                         rng=rng).confidence_interval
    return float(ci.low), float(ci.high)


def _describe(values: np.ndarray, prefix: str, boot: dict) -> dict[str, float]:
    """Mean, median (each with CI), sd (ddof=1) and quartiles of ``values``; NaN when empty."""
    out = dict.fromkeys(
        (f"{prefix}_{k}" for k in ("mean", "mean_ci_low", "mean_ci_high", "median",
                                   "median_ci_low", "median_ci_high", "sd", "q25", "q75")),
        np.nan)
    if values.size == 0:
        return out
    q25, median, q75 = np.percentile(values, [25, 50, 75])
    out.update({f"{prefix}_mean": float(values.mean()), f"{prefix}_median": float(median),
                f"{prefix}_sd": float(np.std(values, ddof=1)) if values.size > 1 else np.nan,
                f"{prefix}_q25": float(q25), f"{prefix}_q75": float(q75)})
    for stat, fn in (("mean", _mean), ("median", _median)):
        low, high = bootstrap_ci((values,), fn, **boot)
        out[f"{prefix}_{stat}_ci_low"], out[f"{prefix}_{stat}_ci_high"] = low, high
    return out


def group_indices(fixations: pd.DataFrame, saccades: pd.DataFrame,
                  group_by: str | None) -> tuple[list, list[np.ndarray], list[np.ndarray]]:
    """Row positions of each group in both tables, groups in order of first appearance.

    A group is a value of column ``group_by`` of ``fixations``; with ``group_by`` None or not
    a column of ``fixations`` there is one group, :data:`ALL`.

    Returns
    -------
    labels : list
        Group labels.
    fixation_rows, saccade_rows : list of numpy.ndarray
        Positions (``iloc``) of each group's rows in ``fixations`` and ``saccades``.

    Raises
    ------
    ValueError
        If the group column has missing values, is absent from ``saccades``, or ``saccades``
        holds a group that ``fixations`` lacks.
    """
    if group_by is None or group_by not in fixations.columns:
        return [ALL], [np.arange(len(fixations))], [np.arange(len(saccades))]
    if group_by not in saccades.columns:
        raise ValueError(f"saccades: missing group column {group_by!r} (present in fixations)")
    codes, labels = pd.factorize(fixations[group_by], sort=False)
    if (codes < 0).any():
        row = fixations.index[int(np.flatnonzero(codes < 0)[0])]
        raise ValueError(f"fixations: column {group_by!r} row {row}: missing group value")
    sac_codes = pd.Index(labels).get_indexer(saccades[group_by])
    if (sac_codes < 0).any():
        i = int(np.flatnonzero(sac_codes < 0)[0])
        raise ValueError(
            f"saccades: column {group_by!r} row {saccades.index[i]}: group "
            f"{saccades[group_by].iloc[i]!r} does not occur in the fixations table")
    k = len(labels)

    def split(c: np.ndarray) -> list[np.ndarray]:
        order = np.argsort(c, kind="stable")
        return np.split(order, np.cumsum(np.bincount(c, minlength=k))[:-1])

    return list(labels), split(codes), split(sac_codes)


def require_columns(table: pd.DataFrame, name: str, columns: Sequence[str]) -> None:
    """Raise ValueError naming the table and the first of ``columns`` that it lacks."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{name}: missing column {missing[0]!r} (required: {', '.join(columns)})")


def ms_durations(fixations: pd.DataFrame) -> np.ndarray:
    """``duration_ms`` as float64 (**milliseconds**), all NaN when the column is absent."""
    if "duration_ms" not in fixations.columns:
        return np.full(len(fixations), np.nan)
    return fixations["duration_ms"].to_numpy(np.float64, na_value=np.nan)


def summarize(fixations: pd.DataFrame, saccades: pd.DataFrame, group_by: str | None = "model",
              *, confidence: float = 0.95, n_resamples: int = 1000, max_bootstrap: int = 50_000,
              seed: int = 0) -> pd.DataFrame:
    """One row of fixation and saccade statistics per group.

    Parameters
    ----------
    fixations : pandas.DataFrame
        One row per fixation (:func:`gazekit.segment.segment`), with ``_scanpath`` (int),
        ``n_glimpses`` (duration in **glimpse steps**) and optionally ``duration_ms``
        (**milliseconds**, NaN without time data) and the group column.
    saccades : pandas.DataFrame
        One row per saccade, with ``distance_px`` (**pixels**) and the group column.
    group_by : str or None, default "model"
        Group column (categorical or any hashable values). None, or a column that
        ``fixations`` lacks, gives a single group named ``"all"``.
    confidence : float, default 0.95
        Level of the bootstrap confidence intervals.
    n_resamples : int, default 1000
        Bootstrap resamples per interval.
    max_bootstrap : int, default 50_000
        Larger samples are subsampled (seeded) before bootstrapping; the CI is then
        conservative.
    seed : int, default 0
        Seed of every bootstrap (each interval starts from it afresh).

    Returns
    -------
    pandas.DataFrame
        One row per group, in order of first appearance in ``fixations``, with columns

        - ``group``; counts ``scanpaths``, ``glimpses`` (sum of ``n_glimpses``),
          ``fixations``, ``saccades``;
        - ``fixations_per_scanpath`` (mean number of fixations per scanpath) with
          ``fixations_per_scanpath_ci_low``/``_ci_high`` (scanpaths resampled);
        - ``fixational_share``: the share of glimpse-to-glimpse transitions that stay within a
          fixation. A scanpath of ``g`` glimpses has ``g - 1`` transitions, each either inside
          a fixation or a saccade, so the share is
          ``1 - saccades / (glimpses - scanpaths)`` (NaN when no scanpath has two glimpses);
        - for each of ``fixation_steps`` (``n_glimpses``, steps), ``fixation_ms``
          (finite ``duration_ms`` values, ms; NaN when there are none) and ``saccade_px``
          (``distance_px``, px): ``_mean``, ``_median`` (each with ``_ci_low``/``_ci_high``),
          ``_sd`` (``ddof=1``), ``_q25`` and ``_q75``.

        Statistics of an empty sample are NaN, as are CIs and sd of a one-value sample.

    Raises
    ------
    ValueError
        If a required column is missing or the group column is inconsistent (see
        :func:`group_indices`).
    """
    require_columns(fixations, "fixations", ("_scanpath", "n_glimpses"))
    require_columns(saccades, "saccades", ("distance_px",))
    boot = {"confidence": confidence, "n_resamples": n_resamples,
            "max_bootstrap": max_bootstrap, "seed": seed}
    labels, fix_rows, sac_rows = group_indices(fixations, saccades, group_by)
    scanpath = fixations["_scanpath"].to_numpy()
    steps = fixations["n_glimpses"].to_numpy(np.float64)
    ms = ms_durations(fixations)
    px = saccades["distance_px"].to_numpy(np.float64)

    rows = []
    for label, fi, si in zip(labels, fix_rows, sac_rows, strict=True):
        per_scanpath = np.unique(scanpath[fi], return_counts=True)[1].astype(np.float64)
        glimpses = int(steps[fi].sum())
        transitions = glimpses - per_scanpath.size
        low, high = bootstrap_ci((per_scanpath,), _mean, **boot)
        group_ms = ms[fi]
        rows.append({
            "group": label, "scanpaths": per_scanpath.size, "glimpses": glimpses,
            "fixations": fi.size, "saccades": si.size,
            "fixations_per_scanpath": float(per_scanpath.mean()) if fi.size else np.nan,
            "fixations_per_scanpath_ci_low": low, "fixations_per_scanpath_ci_high": high,
            "fixational_share": 1 - si.size / transitions if transitions > 0 else np.nan,
            **_describe(steps[fi], "fixation_steps", boot),
            **_describe(group_ms[np.isfinite(group_ms)], "fixation_ms", boot),
            **_describe(px[si], "saccade_px", boot),
        })
    return pd.DataFrame(rows)
