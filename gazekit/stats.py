"""Per-group summary statistics of fixations and saccades, with bootstrap confidence intervals.

Confidence intervals are percentile bootstrap intervals (:func:`bootstrap_ci`). Fixations and
saccades of one scanpath are dependent (a model that fixates long on one image fixates long on
its next glimpse too), so :func:`summarize` resamples **scanpaths**, the independent units, and
takes every fixation or saccade of each drawn scanpath: a *cluster bootstrap*
(:func:`cluster_weights`). An interval that resampled single fixations as if independent would
be too narrow. Groups with more than ``max_bootstrap`` clusters are first reduced to a seeded
random subsample of that many clusters; the interval is then wider than the full sample would
give (conservative), while the point estimates always use all values.

>>> import numpy as np
>>> values, scanpaths = np.array([1., 2, 3, 10, 4, 4]), np.array([0, 0, 0, 1, 2, 2])
>>> low, high = bootstrap_ci((values,), "mean", clusters=(scanpaths,), seed=0)
>>> bool(low < values.mean() < high)
True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import sparse

#: Resampled values held in memory at once by one batch of direct resampling (about 40 MB).
_BATCH_ELEMENTS = 5_000_000
#: A multinomial draw costs about this many direct draws per distinct value (numpy binomials
#: take ~150 ns, a drawn and gathered index ~4 ns), which decides how a mean is resampled.
_BINOMIAL_COST = 40
#: Statistics that :func:`bootstrap_ci` resamples.
STATISTICS: tuple[str, ...] = ("mean", "median")
#: Scale-free shape statistics (:func:`weighted_statistic`): the coefficient of variation
#: ``sd / mean`` and the moment skewness (both with population moments, as
#: ``scipy.stats.variation`` and ``scipy.stats.skew`` with their defaults).
SHAPE_STATISTICS: tuple[str, ...] = ("cv", "skewness")
#: Name given to the single group when there is no group column.
ALL = "all"


def _resampled_medians(sample: np.ndarray, n_resamples: int,
                       rng: np.random.Generator) -> np.ndarray:
    """Medians of ``n_resamples`` bootstrap resamples of ``sample``, in O(n log n + resamples).

    A resample draws ``sorted[floor(n * U_i)]`` for n independent uniforms ``U_i``; since that
    is non-decreasing in ``U_i``, its k-th smallest value is ``sorted[floor(n * U_(k))]``,
    where the k-th smallest of n uniforms ``U_(k)`` follows Beta(k, n + 1 - k). For even n the
    next order statistic is needed too: the n - k uniforms above ``U_(k)`` are uniform on
    ``(U_(k), 1)``, so their minimum is ``U_(k) + (1 - U_(k)) * Beta(1, n - k)``. This has
    exactly the distribution of the median of an explicit resample, without drawing one.
    """
    x = np.sort(sample)
    n = x.size
    k = (n + 1) // 2  # 1-based rank of the (lower) middle value

    def at(u: np.ndarray) -> np.ndarray:
        return x[np.minimum((u * n).astype(np.intp), n - 1)]  # u == 1.0 after rounding

    u = rng.beta(k, n + 1 - k, n_resamples)
    if n % 2:
        return at(u)
    return (at(u) + at(u + (1 - u) * rng.beta(1, n - k, n_resamples))) / 2


def _resampled_means(sample: np.ndarray, n_resamples: int,
                     rng: np.random.Generator) -> np.ndarray:
    """Means of ``n_resamples`` bootstrap resamples of ``sample``.

    With few distinct values (e.g. whole glimpse steps) the number of times each is drawn is
    multinomial, which is exact and costs one binomial per distinct value; otherwise the
    resamples are drawn explicitly, in batches of about :data:`_BATCH_ELEMENTS` values.
    """
    n = sample.size
    values, counts = np.unique(sample, return_counts=True)
    if values.size * _BINOMIAL_COST <= n:
        return rng.multinomial(n, counts / n, size=n_resamples) @ values / n
    out = np.empty(n_resamples)
    batch = max(1, _BATCH_ELEMENTS // n)
    for start in range(0, n_resamples, batch):
        rows = min(batch, n_resamples - start)
        out[start:start + rows] = sample.take(rng.integers(0, n, (rows, n))).mean(axis=1)
    return out


def cluster_weights(n_clusters: int, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """How often each of ``n_clusters`` clusters is drawn in each of ``n_resamples`` resamples.

    A cluster-bootstrap resample draws ``n_clusters`` clusters with replacement, so each row is
    Multinomial(``n_clusters``, uniform); drawn as indices and counted (a few ns per draw).

    Returns
    -------
    numpy.ndarray of int64, shape (n_resamples, n_clusters)
        Each row sums to ``n_clusters``.

    >>> w = cluster_weights(4, 3, np.random.default_rng(0))
    >>> w.shape, w.sum(axis=1).tolist()
    ((3, 4), [4, 4, 4])
    """
    draws = rng.integers(0, n_clusters, size=(n_resamples, n_clusters))
    draws += np.arange(n_resamples)[:, None] * n_clusters
    return np.bincount(draws.ravel(), minlength=n_resamples * n_clusters).reshape(
        n_resamples, n_clusters)


def weighted_statistic(values: np.ndarray, clusters: np.ndarray, weights: np.ndarray,
                       statistic: str = "mean") -> np.ndarray:
    """Mean, median, CV or skewness of each cluster-bootstrap resample given by ``weights``.

    A resample repeats every value of cluster ``c`` ``weights[r, c]`` times; its mean is
    ``sum(w v) / sum(w)``, its median the middle order statistic(s) of the repeated values
    (exactly as :func:`numpy.median` of the explicit resample), its CV and skewness those of
    its weighted central moments (:data:`SHAPE_STATISTICS`); the resample itself is never
    built: the values are reduced to their distinct values and, per cluster, how often each
    occurs.

    Parameters
    ----------
    values : numpy.ndarray, shape (n,)
        Finite values.
    clusters : numpy.ndarray of int, shape (n,)
        Cluster code ``0 .. K-1`` of each value.
    weights : numpy.ndarray, shape (R, K)
        Draw counts of each cluster per resample (:func:`cluster_weights`).
    statistic : {"mean", "median", "cv", "skewness"}, default "mean"

    Returns
    -------
    numpy.ndarray, shape (R,)
        NaN for a resample that drew no value (or, for the shape statistics, no spread).

    >>> v, c = np.array([1., 2, 3, 10]), np.array([0, 0, 0, 1])
    >>> weighted_statistic(v, c, np.array([[2, 0], [1, 1]]), "median").tolist()
    [2.0, 2.5]
    """
    distinct, position = np.unique(values, return_inverse=True)
    occurrences = sparse.csr_matrix(
        (np.ones(values.size), (clusters, position)), shape=(weights.shape[1], distinct.size))
    counts = np.asarray((occurrences.T @ weights.T).T, dtype=np.float64)  # (R, distinct)
    total = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if statistic == "mean":
            return counts @ distinct / total
        if statistic in SHAPE_STATISTICS:
            centre = values.mean()  # moments about a fixed centre, for numerical stability
            d = distinct - centre
            m1, m2, m3 = ((counts @ d ** k) / total for k in (1, 2, 3))
            var = m2 - m1 ** 2
            if statistic == "cv":
                return np.sqrt(var) / (centre + m1)
            return np.where(var > 0, (m3 - 3 * m1 * m2 + 2 * m1 ** 3) / var ** 1.5, np.nan)
        cumulative = np.cumsum(counts, axis=1)

        def order_statistic(k: np.ndarray) -> np.ndarray:  # k-th smallest, 1-based
            index = (cumulative < k[:, None]).sum(axis=1)
            return distinct[np.minimum(index, distinct.size - 1)]

        middle = (order_statistic((total + 1) // 2) + order_statistic(total // 2 + 1)) / 2
        return np.where(total > 0, middle, np.nan)


def _resampled_clusters(sample: np.ndarray, clusters: np.ndarray, statistic: str,
                        n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Statistic of ``n_resamples`` cluster-bootstrap resamples, in batches of about
    :data:`_BATCH_ELEMENTS` resampled counts."""
    labels, codes = np.unique(clusters, return_inverse=True)
    k = labels.size
    batch = max(1, _BATCH_ELEMENTS // max(k, np.unique(sample).size))
    return np.concatenate([
        weighted_statistic(sample, codes, cluster_weights(k, min(batch, n_resamples - start),
                                                          rng), statistic)
        for start in range(0, n_resamples, batch)])


def _subsample_clusters(sample: np.ndarray, clusters: np.ndarray, max_clusters: int,
                        rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The values of a seeded random subset of ``max_clusters`` clusters (all if fewer)."""
    labels = np.unique(clusters)
    if labels.size <= max_clusters:
        return sample, clusters
    keep = np.isin(clusters, rng.choice(labels, max_clusters, replace=False))
    return sample[keep], clusters[keep]


def bootstrap_ci(samples: Sequence[np.ndarray], statistic: str = "mean", *,
                 clusters: Sequence[np.ndarray] | None = None,
                 confidence: float = 0.95, n_resamples: int = 1000,
                 max_bootstrap: int = 50_000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of a mean or median, or of their difference.

    Each sample is resampled with replacement on its own: its values, or with ``clusters``
    its clusters (e.g. scanpaths), each drawn cluster bringing all its values
    (:func:`weighted_statistic`). Without clusters, medians are drawn from the exact
    distribution of a resample's middle order statistics, and means of samples with few
    distinct values from multinomial counts, so neither needs the resamples themselves; the
    result has the distribution of :func:`scipy.stats.bootstrap` with ``method="percentile"``
    (the bounds are the linearly interpolated quantiles of the resampled statistics).

    Parameters
    ----------
    samples : sequence of one or two 1-D arrays
        Independent samples (finite values, in any unit; the bounds are in that unit).
    statistic : {"mean", "median", "cv", "skewness"}, default "mean"
        Statistic of one sample (:data:`SHAPE_STATISTICS` for the last two); with two samples
        the interval is that of ``statistic(samples[0]) - statistic(samples[1])``.
    clusters : sequence of 1-D arrays, optional
        The cluster label of each value of each sample (same lengths as ``samples``): resample
        clusters instead of values. Default: every value is its own cluster.
    confidence : float, default 0.95
        Confidence level, in (0, 1).
    n_resamples : int, default 1000
        Number of bootstrap resamples.
    max_bootstrap : int, default 50_000
        Samples of more values (clusters, with ``clusters``) than this are replaced by a
        seeded random subsample (without replacement) of this many first; the interval is
        then conservative.
    seed : int, default 0
        Seed of the generator used for the subsample and the resamples; each call starts
        afresh, so an interval does not depend on what was computed before it.

    Returns
    -------
    (float, float)
        Lower and upper bound; ``(nan, nan)`` if a sample has fewer than 2 values (clusters).

    Raises
    ------
    ValueError
        On an unknown ``statistic``, not one or two samples, ``confidence`` outside (0, 1),
        ``n_resamples < 1`` or ``max_bootstrap < 2``.
    """
    if statistic not in STATISTICS + SHAPE_STATISTICS:
        raise ValueError(f"unknown statistic {statistic!r}; expected one of "
                         f"{', '.join(map(repr, STATISTICS + SHAPE_STATISTICS))}")
    if len(samples) not in (1, 2):
        raise ValueError(f"expected one or two samples, got {len(samples)}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if n_resamples < 1 or max_bootstrap < 2:
        raise ValueError(
            f"need n_resamples >= 1 and max_bootstrap >= 2, got {n_resamples} and "
            f"{max_bootstrap}")
    samples = [np.asarray(s, dtype=np.float64) for s in samples]
    rng = np.random.default_rng(seed)
    if clusters is None and statistic in SHAPE_STATISTICS:
        clusters = [np.arange(s.size) for s in samples]  # every value its own cluster
    if clusters is None:
        if min(s.size for s in samples) < 2:
            return np.nan, np.nan
        samples = [s if s.size <= max_bootstrap else rng.choice(s, max_bootstrap, replace=False)
                   for s in samples]
        resampled = _resampled_medians if statistic == "median" else _resampled_means
        draws = [resampled(s, n_resamples, rng) for s in samples]
    else:
        clusters = [np.asarray(c) for c in clusters]
        if len(clusters) != len(samples) or any(
                c.shape != s.shape for c, s in zip(clusters, samples, strict=False)):
            raise ValueError("clusters: expected one label array per sample, of its length")
        if min(np.unique(c).size for c in clusters) < 2:
            return np.nan, np.nan
        draws = [_resampled_clusters(*_subsample_clusters(s, c, max_bootstrap, rng), statistic,
                                     n_resamples, rng) for s, c in zip(samples, clusters,
                                                                       strict=True)]
    theta = draws[0] - draws[1] if len(draws) == 2 else draws[0]
    if np.isnan(theta).all():  # e.g. a shape statistic of values without spread
        return np.nan, np.nan
    alpha = (1 - confidence) / 2
    low, high = np.nanquantile(theta, [alpha, 1 - alpha])
    return float(low), float(high)


def _describe(values: np.ndarray, clusters: np.ndarray, prefix: str,
              boot: dict) -> dict[str, float]:
    """Mean, median (each with a CI resampling ``clusters``), sd (ddof=1) and quartiles of
    ``values``; NaN when empty."""
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
    for stat in STATISTICS if boot["n_resamples"] else ():
        low, high = bootstrap_ci((values,), stat, clusters=(clusters,), **boot)
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
        One row per saccade, with ``_scanpath``, ``distance_px`` (**pixels**) and the group
        column.
    group_by : str or None, default "model"
        Group column (categorical or any hashable values). None, or a column that
        ``fixations`` lacks, gives a single group named ``"all"``.
    confidence : float, default 0.95
        Level of the bootstrap confidence intervals.
    n_resamples : int, default 1000
        Bootstrap resamples per interval; 0 computes no intervals (their columns are NaN),
        for point estimates at a fraction of the cost (:func:`gazekit.sweep.threshold_sweep`).
    max_bootstrap : int, default 50_000
        Groups of more scanpaths are subsampled (seeded, whole scanpaths) before
        bootstrapping; the CI is then conservative.
    seed : int, default 0
        Seed of every bootstrap (each interval starts from it afresh).

    Returns
    -------
    pandas.DataFrame
        One row per group, in order of first appearance in ``fixations``, with columns

        - ``group``; counts ``scanpaths``, ``glimpses`` (sum of ``n_glimpses``),
          ``fixations``, ``saccades``;
        - ``fixations_per_scanpath`` (mean number of fixations per scanpath) with
          ``fixations_per_scanpath_ci_low``/``_ci_high``;
        - ``fixational_share``: the share of glimpse-to-glimpse transitions that stay within a
          fixation. A scanpath of ``g`` glimpses has ``g - 1`` transitions, each either inside
          a fixation or a saccade, so the share is
          ``1 - saccades / (glimpses - scanpaths)`` (NaN when no scanpath has two glimpses);
        - for each of ``fixation_steps`` (``n_glimpses``, steps), ``fixation_ms``
          (finite ``duration_ms`` values, ms; NaN when there are none) and ``saccade_px``
          (``distance_px``, px): ``_mean``, ``_median`` (each with ``_ci_low``/``_ci_high``),
          ``_sd`` (``ddof=1``), ``_q25`` and ``_q75``.

        Every interval resamples the group's scanpaths (a cluster bootstrap, see the module
        docstring): those with at least one value of the quantity. Statistics of an empty
        sample are NaN, as are sd of a one-value sample and CIs from a single scanpath.

    Raises
    ------
    ValueError
        If a required column is missing or the group column is inconsistent (see
        :func:`group_indices`).
    """
    require_columns(fixations, "fixations", ("_scanpath", "n_glimpses"))
    require_columns(saccades, "saccades", ("_scanpath", "distance_px"))
    boot = {"confidence": confidence, "n_resamples": n_resamples,
            "max_bootstrap": max_bootstrap, "seed": seed}
    labels, fix_rows, sac_rows = group_indices(fixations, saccades, group_by)
    scanpath = fixations["_scanpath"].to_numpy()
    saccade_scanpath = saccades["_scanpath"].to_numpy()
    steps = fixations["n_glimpses"].to_numpy(np.float64)
    ms = ms_durations(fixations)
    px = saccades["distance_px"].to_numpy(np.float64)

    rows = []
    for label, fi, si in zip(labels, fix_rows, sac_rows, strict=True):
        per_scanpath = np.unique(scanpath[fi], return_counts=True)[1].astype(np.float64)
        glimpses = int(steps[fi].sum())
        transitions = glimpses - per_scanpath.size
        low, high = (bootstrap_ci((per_scanpath,), "mean", **boot) if n_resamples
                     else (np.nan, np.nan))
        group_ms, timed = ms[fi], np.isfinite(ms[fi])
        rows.append({
            "group": label, "scanpaths": per_scanpath.size, "glimpses": glimpses,
            "fixations": fi.size, "saccades": si.size,
            "fixations_per_scanpath": float(per_scanpath.mean()) if fi.size else np.nan,
            "fixations_per_scanpath_ci_low": low, "fixations_per_scanpath_ci_high": high,
            "fixational_share": 1 - si.size / transitions if transitions > 0 else np.nan,
            **_describe(steps[fi], scanpath[fi], "fixation_steps", boot),
            **_describe(group_ms[timed], scanpath[fi][timed], "fixation_ms", boot),
            **_describe(px[si], saccade_scanpath[si], "saccade_px", boot),
        })
    return pd.DataFrame(rows)
