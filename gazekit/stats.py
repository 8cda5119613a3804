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

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

#: Resampled values held in memory at once by one batch of direct resampling (about 40 MB).
_BATCH_ELEMENTS = 5_000_000
#: Cluster draw counts of one batch of cluster-bootstrap resamples (2 MB: counting the draws
#: into a cache-sized array is about twice as fast as into a large one).
_WEIGHT_ELEMENTS = 250_000
#: Half-width of the first window of sorted values searched for a resampled median, in units
#: of ``sqrt(values * values per cluster)`` (:func:`_cluster_statistic`; any value > 0 gives
#: the same medians, a small one more retries).
_MEDIAN_WINDOW = 3.0
#: Recently resampled cluster statistics (and the generator state after them), least recent
#: first, of at most this many floats in all (16 MB; :func:`_resampled_clusters`).
_RESAMPLED_FLOATS = 2_000_000
_RESAMPLED: OrderedDict[tuple, Any] = OrderedDict()
_RESAMPLED_LOCK = threading.Lock()
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


def _cluster_statistic(values: np.ndarray, clusters: np.ndarray, n_clusters: int,
                       statistic: str) -> Callable[[np.ndarray], np.ndarray]:
    """:func:`weighted_statistic` of ``values`` for any ``weights``, prepared once.

    Means and the shape statistics need only per-cluster sums (``weights @ sums``). A median
    needs the middle order statistics of each resample: the values are sorted once, and a
    resample's cumulative counts are built only over a window of sorted positions around the
    full sample's middle; ``weights @ (values of each cluster below the window)`` says whether
    the resample's middle lies inside it, and the window widens (up to all values) for the
    resamples where it does not. Counts are whole numbers, exact in float64, so the order
    statistics are exactly those of the explicit resample.
    """
    sizes = np.bincount(clusters, minlength=n_clusters).astype(np.float64)
    if statistic == "mean":
        sums = np.bincount(clusters, weights=values, minlength=n_clusters)
        return lambda weights: (weights @ sums) / (weights @ sizes)
    if statistic in SHAPE_STATISTICS:
        centre = values.mean()  # moments about a fixed centre, for numerical stability
        d = values - centre
        moments = [np.bincount(clusters, weights=d ** k, minlength=n_clusters) for k in (1, 2, 3)]

        def shape(weights: np.ndarray) -> np.ndarray:
            total = weights @ sizes
            m1, m2, m3 = ((weights @ m) / total for m in moments)
            var = m2 - m1 ** 2
            if statistic == "cv":
                return np.sqrt(var) / (centre + m1)
            return np.where(var > 0, (m3 - 3 * m1 * m2 + 2 * m1 ** 3) / var ** 1.5, np.nan)

        return shape
    order = np.argsort(values, kind="stable")
    ranked_values, ranked_clusters = values[order], clusters[order]
    n = values.size
    # Half-width (in sorted positions) of the first window: about 6 standard deviations of the
    # resampled middle's position even if every cluster's values were equal (design effect
    # = mean cluster size).
    first = int(_MEDIAN_WINDOW * np.sqrt(n * max(n / n_clusters, 1.0))) + 16
    below_first = np.bincount(ranked_clusters[:max(0, n // 2 - first)], minlength=n_clusters)

    def median(weights: np.ndarray) -> np.ndarray:
        total = weights @ sizes
        ranks = np.stack([(total + 1) // 2, total // 2 + 1], axis=1)  # 1-based, (R, 2)
        out = np.full(total.shape, np.nan)
        rows, half = np.flatnonzero(total > 0), first
        while rows.size:
            lo, hi = max(0, n // 2 - half), min(n, n // 2 + half + 1)
            below_counts = (below_first if half == first
                            else np.bincount(ranked_clusters[:lo], minlength=n_clusters))
            outside = []
            chunk = max(1, _BATCH_ELEMENTS // (hi - lo))  # rows of cumulative counts at once
            for part in np.array_split(rows, range(chunk, rows.size, chunk)):
                w, k = weights[part], ranks[part]
                below = w @ below_counts
                cumulative = np.cumsum(w[:, ranked_clusters[lo:hi]], axis=1)
                cumulative += below[:, None]
                inside = (below < k[:, 0]) & (cumulative[:, -1] >= k[:, 1])
                # One binary search for all rows: row r's counts shifted by r * (largest + 1)
                # make the rows one increasing sequence (whole numbers, exact in float64).
                cumulative, k = cumulative[inside], k[inside]
                shift = (cumulative[:, -1].max(initial=0) + 1) * np.arange(k.shape[0])
                cumulative += shift[:, None]
                position = np.searchsorted(cumulative.ravel(), k + shift[:, None])
                position -= (np.arange(k.shape[0]) * cumulative.shape[1])[:, None]
                out[part[inside]] = ranked_values[lo + position].mean(axis=1)
                outside.append(part[~inside])
            rows, half = np.concatenate(outside), 4 * half
        return out

    return median


def weighted_statistic(values: np.ndarray, clusters: np.ndarray, weights: np.ndarray,
                       statistic: str = "mean") -> np.ndarray:
    """Mean, median, CV or skewness of each cluster-bootstrap resample given by ``weights``.

    A resample repeats every value of cluster ``c`` ``weights[r, c]`` times; its mean is
    ``sum(w v) / sum(w)`` (from per-cluster sums), its median the middle order statistic(s) of
    the repeated values (exactly as :func:`numpy.median` of the explicit resample), its CV and
    skewness those of its weighted central moments (:data:`SHAPE_STATISTICS`); the resample
    itself is never built.

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
    values = np.asarray(values, dtype=np.float64)
    evaluate = _cluster_statistic(values, np.asarray(clusters), weights.shape[1], statistic)
    with np.errstate(invalid="ignore", divide="ignore"):
        return evaluate(np.asarray(weights, dtype=np.float64))


def _cluster_codes(clusters: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct labels and each value's code (index into them), as
    ``np.unique(clusters, return_inverse=True)``; linear for labels already in order (scanpath
    numbers of a segmentation)."""
    if clusters.size and clusters.dtype.kind in "iu" and (clusters[1:] >= clusters[:-1]).all():
        starts = np.flatnonzero(np.r_[True, clusters[1:] != clusters[:-1]])
        codes = np.zeros(clusters.size, dtype=np.intp)
        codes[starts[1:]] = 1
        return clusters[starts], np.cumsum(codes, out=codes)
    labels, codes = np.unique(clusters, return_inverse=True)
    return labels, codes.reshape(-1)


def _resampled_clusters(sample: np.ndarray, labels: np.ndarray, codes: np.ndarray,
                        statistics: Sequence[str], n_resamples: int, max_clusters: int,
                        rng: np.random.Generator) -> list[np.ndarray]:
    """Each statistic of the same ``n_resamples`` cluster-bootstrap resamples of ``sample``
    (clusters given by :func:`_cluster_codes`), after a seeded random subsample of
    ``max_clusters`` clusters when it has more.

    The weights are drawn in batches of about :data:`_WEIGHT_ELEMENTS` counts (any batching
    draws the same numbers from ``rng``: :meth:`numpy.random.Generator.integers` fills
    arrays element by element).
    """
    if labels.size > max_clusters:
        chosen = np.zeros(labels.size, dtype=bool)
        chosen[np.searchsorted(labels, rng.choice(labels, max_clusters, replace=False))] = True
        keep = chosen[codes]
        sample, codes = sample[keep], (np.cumsum(chosen) - 1)[codes[keep]]
    k = min(labels.size, max_clusters)
    # The resamples depend only on the (sub)sample, its clusters, the generator's state and
    # n_resamples: analyze asks for the same ones again (a group's durations in summarize and
    # in each comparison it comes first in), and gets them from _RESAMPLED.
    digest = hashlib.blake2b(digest_size=16)
    for array in (sample, codes):
        digest.update(np.ascontiguousarray(array).view(np.uint8))
    key = (digest.digest(), sample.size, k, n_resamples, repr(rng.bit_generator.state))
    with _RESAMPLED_LOCK:
        stored = [_RESAMPLED.get((*key, s)) for s in statistics]
        after = _RESAMPLED.get((*key, None))
    if after is not None and all(x is not None for x in stored):
        rng.bit_generator.state = after
        return [x.copy() for x in stored]
    evaluate = [_cluster_statistic(sample, codes, k, s) for s in statistics]
    out = [np.empty(n_resamples) for _ in statistics]
    batch = max(1, _WEIGHT_ELEMENTS // k)
    with np.errstate(invalid="ignore", divide="ignore"):
        for start in range(0, n_resamples, batch):
            rows = min(batch, n_resamples - start)
            weights = cluster_weights(k, rows, rng).astype(np.float64)  # whole numbers: exact
            for fn, o in zip(evaluate, out, strict=True):
                o[start:start + rows] = fn(weights)
    with _RESAMPLED_LOCK:
        for name, value in ((None, rng.bit_generator.state), *zip(statistics, out, strict=True)):
            _RESAMPLED[(*key, name)] = value.copy()
            _RESAMPLED.move_to_end((*key, name))
        held = sum(v.size for entry, v in _RESAMPLED.items() if entry[-1] is not None)
        while held > _RESAMPLED_FLOATS:
            entry, v = _RESAMPLED.popitem(last=False)
            held -= v.size if entry[-1] is not None else 0
    return out


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
    return _bootstrap_intervals(samples, (statistic,), clusters=clusters, confidence=confidence,
                                n_resamples=n_resamples, max_bootstrap=max_bootstrap,
                                seed=seed)[0]


def _bootstrap_intervals(samples: Sequence[np.ndarray], statistics: Sequence[str], *,
                         clusters: Sequence[np.ndarray] | None = None,
                         confidence: float = 0.95, n_resamples: int = 1000,
                         max_bootstrap: int = 50_000,
                         seed: int = 0) -> list[tuple[float, float]]:
    """:func:`bootstrap_ci` of each of ``statistics``, equal to one call per statistic; with
    ``clusters`` they share the resamples that those calls would each draw alike."""
    for statistic in statistics:
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
    if clusters is None and any(s in SHAPE_STATISTICS for s in statistics):
        clusters = [np.arange(s.size) for s in samples]  # every value its own cluster
    if clusters is None:
        if min(s.size for s in samples) < 2:
            return [(np.nan, np.nan)] * len(statistics)
        draws = []
        for statistic in statistics:  # each from a fresh generator, as one call each
            rng = np.random.default_rng(seed)
            subsamples = [s if s.size <= max_bootstrap
                          else rng.choice(s, max_bootstrap, replace=False) for s in samples]
            resampled = _resampled_medians if statistic == "median" else _resampled_means
            draws.append([resampled(s, n_resamples, rng) for s in subsamples])
    else:
        clusters = [np.asarray(c) for c in clusters]
        if len(clusters) != len(samples) or any(
                c.shape != s.shape for c, s in zip(clusters, samples, strict=False)):
            raise ValueError("clusters: expected one label array per sample, of its length")
        coded = [_cluster_codes(c) for c in clusters]
        if min(labels.size for labels, _ in coded) < 2:
            return [(np.nan, np.nan)] * len(statistics)
        rng = np.random.default_rng(seed)
        per_sample = [_resampled_clusters(s, labels, codes, statistics, n_resamples,
                                          max_bootstrap, rng)
                      for s, (labels, codes) in zip(samples, coded, strict=True)]
        draws = [list(d) for d in zip(*per_sample, strict=True)]
    alpha = (1 - confidence) / 2
    intervals = []
    for d in draws:
        theta = d[0] - d[1] if len(d) == 2 else d[0]
        if np.isnan(theta).all():  # e.g. a shape statistic of values without spread
            intervals.append((np.nan, np.nan))
            continue
        low, high = np.nanquantile(theta, [alpha, 1 - alpha])
        intervals.append((float(low), float(high)))
    return intervals


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
    if boot["n_resamples"]:
        intervals = _bootstrap_intervals((values,), STATISTICS, clusters=(clusters,), **boot)
        for stat, (low, high) in zip(STATISTICS, intervals, strict=True):
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

    Examples
    --------
    >>> import gazekit
    >>> table = gazekit.validate(gazekit.synthetic_scanpaths(n_per_policy=20, seed=0))
    >>> seg = gazekit.segment(table, threshold=6.0)
    >>> summary = summarize(seg.fixations, seg.saccades, group_by="model", n_resamples=200)
    >>> columns = ["group", "fixations_per_scanpath", "fixation_steps_mean", "saccade_px_mean"]
    >>> print(summary[columns].round(2).to_string(index=False))
                   group  fixations_per_scanpath  fixation_steps_mean  saccade_px_mean
      synthetic-saccadic                   10.75                 1.12             9.98
    synthetic-fixational                    1.75                 6.86            10.14
         synthetic-mixed                    6.90                 1.74             9.73
    >>> low, high = summary.loc[0, ["fixation_steps_mean_ci_low", "fixation_steps_mean_ci_high"]]
    >>> bool(low < 1.12 < high)
    True
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
