"""Cluster-bootstrap intervals of the distances between two distributions (KS, W1, JSD).

:func:`distance_bootstrap` gives percentile intervals of the statistics that
:func:`gazekit.compare.compare_samples` computes once: the two-sample Kolmogorov-Smirnov
statistic, the Wasserstein-1 distance and the Jensen-Shannon divergence of the reflected KDEs
(the model-versus-human comparison of :func:`gazekit.analyze.human_comparison`). Fixations and
saccades of one scanpath are dependent, so it resamples scanpaths, not values (a cluster
bootstrap, as :mod:`gazekit.stats` does for means and medians).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.signal import fftconvolve
from scipy.spatial.distance import jensenshannon

from gazekit.compare import _jsd_grid
from gazekit.density import check_values, select_bandwidth
from gazekit.stats import cluster_weights

__all__ = ["HUMAN_METRICS", "distance_bootstrap"]

#: Metrics of the model-versus-human comparison, as named in ``comparison.csv``.
HUMAN_METRICS = {"ks": "ks_statistic", "wasserstein": "wasserstein", "jsd": "jsd"}
#: Array elements one bootstrap batch of :func:`distance_bootstrap` holds per array.
_BOOT_ELEMENTS = 2_000_000


def _binned_kde(counts: np.ndarray, binning: sparse.csr_matrix, bandwidth: float,
                spacing: float) -> np.ndarray:
    """Unnormalised Gaussian KDEs (one per row of ``counts``) on an even grid that starts at
    the reflection point, by linear binning and an FFT convolution, reflected there."""
    on_grid = (binning.T @ counts.T).T  # (rows, grid points)
    reach = int(np.ceil(5 * bandwidth / spacing))
    offsets = np.arange(-reach, reach + 1) * (spacing / bandwidth)
    full = fftconvolve(on_grid, np.exp(-0.5 * offsets ** 2)[None, :], axes=1)
    points = on_grid.shape[1]
    density = full[:, reach:reach + points].copy()
    # The kernel mass that falls below the first grid point, folded back (reflection).
    fold = min(reach, points - 1)
    density[:, :fold + 1] += full[:, reach - np.arange(fold + 1)]
    return np.maximum(density, 0.0)  # FFT round-off can dip below 0


def _subsample_clusters(values: np.ndarray, clusters: np.ndarray, max_clusters: int,
                        rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The values of at most ``max_clusters`` clusters (a seeded random subsample of them when
    there are more, as in :mod:`gazekit.stats`) and each kept value's cluster code
    ``0 .. K-1``."""
    labels, codes = np.unique(clusters, return_inverse=True)
    codes = codes.reshape(-1)
    if labels.size > max_clusters:
        chosen = np.zeros(labels.size, dtype=bool)
        chosen[rng.choice(labels.size, max_clusters, replace=False)] = True
        keep = chosen[codes]
        values, codes = values[keep], (np.cumsum(chosen) - 1)[codes[keep]]
    return values, codes


def _distance_resamples(a, b, *, clusters: tuple, unit: str, bw_method: str | float = "scott",
                        n_resamples: int = 1000, max_bootstrap: int = 50_000,
                        seed: int = 0) -> dict[str, np.ndarray] | None:
    """KS, W1 and JSD of each cluster-bootstrap resample of ``(a, b)``
    (:func:`distance_bootstrap`); None if a sample has fewer than 2 clusters."""
    a = check_values(a, name="sample a", lower=0.0)
    b = check_values(b, name="sample b", lower=0.0)
    if len(clusters) != 2 or any(np.shape(c) != s.shape for c, s in zip(clusters, (a, b),
                                                                           strict=False)):
        raise ValueError("clusters: expected two label arrays, one per sample, of its length "
                         "(the scanpath of each value)")
    if min(np.unique(c).size for c in clusters) < 2:
        return None
    h_a, h_b = (select_bandwidth(s, bw_method, unit=unit) for s in (a, b))
    upper, points, weights = _jsd_grid(a, b, h_a, h_b, 0.0)  # that of compare_samples
    spacing = upper / (points - 1)
    rng = np.random.default_rng(seed)
    (a, code_a), (b, code_b) = (_subsample_clusters(s, np.asarray(c), max_bootstrap, rng)
                                for s, c in zip((a, b), clusters, strict=True))
    support = np.unique(np.concatenate([a, b]))
    m = support.size
    # Values of each cluster as counts over the support: a resample's counts are then
    # (draws of each cluster) @ members.
    members = [sparse.csr_matrix((np.ones(s.size), (c, np.searchsorted(support, s))),
                                 shape=(c.max() + 1, m)) for s, c in ((a, code_a), (b, code_b))]
    # Linear binning of the support onto the grid: each value splits between two grid points.
    position = support / spacing
    left = np.minimum(position.astype(np.int64), points - 2)
    right_share = position - left
    binning = sparse.csr_matrix(
        (np.concatenate([1 - right_share, right_share]),
         (np.tile(np.arange(m), 2), np.concatenate([left, left + 1]))), shape=(m, points))
    gaps = np.diff(support)
    tiny = np.finfo(np.float64).tiny
    out = {k: np.empty(n_resamples) for k in HUMAN_METRICS}
    widest = max(*(x.shape[0] for x in members), m, 2 * points)
    batch = max(1, _BOOT_ELEMENTS // widest)
    for first in range(0, n_resamples, batch):  # batches of resamples, each one array job
        rows = min(batch, n_resamples - first)
        count_a, count_b = (
            np.asarray(x.T @ cluster_weights(x.shape[0], rows, rng).T.astype(np.float64)).T
            for x in members)
        # Resamples differ in size (clusters differ in size): each ECDF over its own total.
        cdf_a, cdf_b = (np.cumsum(c, axis=1) for c in (count_a, count_b))
        gap = np.abs(cdf_a / cdf_a[:, -1:] - cdf_b / cdf_b[:, -1:])
        done = slice(first, first + rows)
        out["ks"][done] = gap.max(axis=1)
        out["wasserstein"][done] = gap[:, :-1] @ gaps
        p, q = (_binned_kde(c, binning, h, spacing) * weights
                for c, h in ((count_a, h_a), (count_b, h_b)))
        p, q = np.where(p < tiny, 0.0, p), np.where(q < tiny, 0.0, q)
        out["jsd"][done] = jensenshannon(p, q, base=2, axis=1) ** 2
    return out


def distance_bootstrap(a, b, *, clusters: tuple, unit: str, bw_method: str | float = "scott",
                       n_resamples: int = 1000, confidence: float = 0.95,
                       max_bootstrap: int = 50_000,
                       seed: int = 0) -> dict[str, tuple[float, float]]:
    """Cluster-bootstrap intervals of the KS statistic, Wasserstein-1 and JSD of two samples.

    Fixations and saccades of one scanpath are dependent, so each sample is resampled by its
    **clusters** (scanpaths, or trials of human recordings), with replacement and on its own:
    a resample draws as many clusters as the sample has, each drawn cluster bringing all its
    values (:func:`gazekit.stats.cluster_weights`), as the median interval of
    :func:`gazekit.compare.compare_groups` does. Resampling single values would treat them as
    independent and give intervals that are too narrow. A sample of more than
    ``max_bootstrap`` clusters is first replaced by a seeded random subsample of that many
    clusters (the interval is then conservative).

    All resamples are handled as arrays of counts over the merged sorted support
    ``u_1 < ... < u_m`` of both samples, so with the resamples' empirical distribution
    functions ``F`` and ``G`` (each over its own resample size):

    - KS ``= max_k |F(u_k) - G(u_k)|`` (:func:`scipy.stats.ks_2samp`'s statistic);
    - W1 ``= sum_k |F(u_k) - G(u_k)| (u_(k+1) - u_k)`` (:func:`scipy.stats.wasserstein_distance`);
    - JSD: as in :func:`gazekit.compare.compare_samples`: Gaussian KDEs reflected at 0 with each
      sample's bandwidth (from the full sample, kept fixed over resamples), on the same grid with
      trapezoid weights, squared :func:`scipy.spatial.distance.jensenshannon` in bits; each
      resample's KDE is computed by linear binning onto the grid (spacing at most a fifth of
      the smaller bandwidth) and an FFT convolution with the kernel cut at 5 bandwidths.

    Parameters
    ----------
    a, b : array-like
        1-D finite values >= 0 in ``unit`` (continuous: ms, degrees or relative units).
    clusters : (array-like, array-like)
        The cluster label (e.g. ``_scanpath``) of each value of ``a`` and of ``b``. Values
        known to be independent are each their own cluster (``np.arange(len(a))``), which
        gives the ordinary bootstrap of values.
    unit : str
        Unit of the values; sets the bandwidth floor (:data:`gazekit.density.MIN_BANDWIDTH`).
    bw_method : {"scott", "silverman"} or float, default "scott"
        KDE bandwidth rule of the JSD (see :mod:`gazekit.density`).
    n_resamples : int, default 1000
        Bootstrap resamples.
    confidence : float, default 0.95
        Level of the percentile intervals.
    max_bootstrap : int, default 50_000
        Most clusters per sample that are resampled (see above).
    seed : int, default 0
        Seed of the subsample and the resamples.

    Returns
    -------
    dict
        ``{"ks": (low, high), "wasserstein": (low, high), "jsd": (low, high)}``, W1 in
        ``unit``, JSD in bits; NaN bounds if a sample has fewer than 2 clusters.

    Raises
    ------
    ValueError
        On bad values (see :func:`gazekit.density.check_values`) or ``clusters`` that are not
        one label array per sample, of its length.

    Examples
    --------
    Three scanpaths of each group:

    >>> a, b = [1.0, 1.2, 3.0, 3.1, 2.0], [2.0, 2.5, 4.0, 4.2, 5.0, 5.5]
    >>> ci = distance_bootstrap(a, b, clusters=([0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2]),
    ...                         unit="relative", n_resamples=200)
    >>> sorted(ci), bool(ci["ks"][0] <= ci["ks"][1] <= 1)
    (['jsd', 'ks', 'wasserstein'], True)
    """
    draws = _distance_resamples(a, b, clusters=clusters, unit=unit, bw_method=bw_method,
                                n_resamples=n_resamples, max_bootstrap=max_bootstrap, seed=seed)
    if draws is None:
        return dict.fromkeys(HUMAN_METRICS, (np.nan, np.nan))
    tail = 100 * (1 - confidence) / 2
    return {k: tuple(float(v) for v in np.percentile(values, [tail, 100 - tail]))
            for k, values in draws.items()}
