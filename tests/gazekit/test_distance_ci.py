"""Tests of gazekit.distance_ci: exact enumeration of scanpath resamples, a hand-worked case,
scipy's bootstrap of independent values and the binned KDE against fit_density."""

from itertools import product

import numpy as np
import pandas as pd
import pytest
from scipy import sparse, stats
from scipy.spatial.distance import jensenshannon

from gazekit.density import fit_density, select_bandwidth
from gazekit.distance_ci import _binned_kde, distance_bootstrap
from gazekit.distance_ci import _distance_resamples as distance_resamples


def frequencies(values: np.ndarray) -> pd.Series:
    return pd.Series(np.round(values, 9)).value_counts(normalize=True)


def test_distance_bootstrap_resamples_scanpaths_by_hand():
    """a: scanpaths [1, 1] and [3]; b: two scanpaths [2]. Drawing 2 of a's scanpaths gives
    [1, 1, 1, 1], [3, 3] (KS 1, p = 1/4 each) or [1, 1, 3] (KS 2/3, p = 1/2); b's resample
    is always [2, 2], and W1 = mean |x - 2| = 1 in every case. Resampling single values
    instead would give KS 1 with p = (2/3)**3 + (1/3)**3 = 1/3."""
    a, b = [1.0, 1.0, 3.0], [2.0, 2.0]
    # A fixed bandwidth: the floor (0.01) would make the JSD grid needlessly fine here.
    draws = distance_resamples(a, b, clusters=([0, 0, 1], [0, 1]), unit="relative",
                               bw_method=0.5, n_resamples=10_000, seed=0)
    got = frequencies(draws["ks"])
    assert sorted(got.index) == pytest.approx([2 / 3, 1.0])
    assert got[1.0] == pytest.approx(0.5, abs=5 * np.sqrt(0.25 / 10_000))
    np.testing.assert_allclose(draws["wasserstein"], 1.0)
    values = distance_resamples(a, b, clusters=([0, 1, 2], [0, 1]), unit="relative",
                                bw_method=0.5, n_resamples=10_000, seed=0)
    assert frequencies(values["ks"])[1.0] == pytest.approx(1 / 3, abs=5 * np.sqrt(2 / 9 / 10_000))


def test_distance_bootstrap_against_exact_enumeration_of_scanpaths():
    """Three scanpaths in a, two in b: all 3**3 * 2**2 = 108 equally likely resamples, built
    explicitly and measured by scipy (KS, W1) and by fit_density on the same grid (JSD, with
    the full samples' bandwidths)."""
    a_paths = [[0.2, 0.3], [1.0, 1.1, 1.4], [2.5]]
    b_paths = [[0.5, 0.6, 0.9], [1.8, 2.0]]
    a, b = np.concatenate(a_paths), np.concatenate(b_paths)
    clusters = (np.repeat([0, 1, 2], [2, 3, 1]), np.repeat([0, 1], [3, 2]))
    h_a, h_b = (select_bandwidth(s, unit="relative") for s in (a, b))
    top = max(a.max() + 3 * h_a, b.max() + 3 * h_b)  # the grid of compare_samples' JSD
    grid = np.linspace(0, top, int(np.clip(np.ceil(top / (min(h_a, h_b) / 5)) + 1, 512, None)))
    trapezoid = np.r_[0.5, np.ones(grid.size - 2), 0.5]
    exact = {"ks": [], "wasserstein": [], "jsd": []}
    for ia, ib in product(product(range(3), repeat=3), product(range(2), repeat=2)):
        x = np.concatenate([a_paths[i] for i in ia])
        y = np.concatenate([b_paths[i] for i in ib])
        exact["ks"].append(stats.ks_2samp(x, y).statistic)
        exact["wasserstein"].append(stats.wasserstein_distance(x, y))
        p, q = (fit_density(v, unit="relative", bw_method=h, grid=grid).density * trapezoid
                for v, h in ((x, h_a), (y, h_b)))
        exact["jsd"].append(jensenshannon(p, q, base=2) ** 2)
    n = 20_000
    draws = distance_resamples(a, b, clusters=clusters, unit="relative", n_resamples=n, seed=3)
    for metric in ("ks", "wasserstein"):  # the whole resampling distribution
        want = frequencies(np.array(exact[metric]))
        got = frequencies(draws[metric]).reindex(want.index, fill_value=0.0)
        assert got.sum() == pytest.approx(1.0), metric  # no value outside the exact support
        assert (np.abs(got - want) <= 5 * np.sqrt(want * (1 - want) / n)).all(), metric
    # The JSD's binned KDE is an approximation: each draw lies next to an exact value.
    atoms = np.unique(exact["jsd"])
    assert np.abs(draws["jsd"][:, None] - atoms).min(axis=1).max() < 1e-4
    # The interval: quantiles of the exact distribution (50 % interval, between its atoms).
    ci = distance_bootstrap(a, b, clusters=clusters, unit="relative", n_resamples=n,
                            confidence=0.5, seed=3)
    for metric, values in exact.items():
        atoms = np.unique(values)
        for bound, target in zip(ci[metric], np.quantile(values, [0.25, 0.75]), strict=True):
            below = atoms[atoms <= target + 1e-12].max()
            above = atoms[atoms >= target - 1e-12].min()
            assert below - 1e-4 <= bound <= above + 1e-4, metric


@pytest.mark.parametrize("dependent, ratio", [(True, (2.0, 4.0)), (False, (0.75, 1.33))])
def test_distance_interval_widens_when_a_scanpaths_values_are_alike(dependent, ratio):
    """30 scanpaths of 8 values per sample. When a scanpath's 8 values are nearly equal the
    sample holds about 30 independent values, not 240: the cluster interval is about
    sqrt(8) = 2.8 times as wide as the interval that resamples values (the old one); with
    independent values both are alike."""
    rng = np.random.default_rng(2)
    k, m = 30, 8
    if dependent:
        a = np.repeat(rng.gamma(2.0, 1.0, k), m) + rng.uniform(0, 0.05, k * m)
        b = np.repeat(rng.gamma(3.0, 1.0, k), m) + rng.uniform(0, 0.05, k * m)
    else:
        a, b = rng.gamma(2.0, 1.0, k * m), rng.gamma(3.0, 1.0, k * m)
    scanpaths = np.repeat(np.arange(k), m)
    cluster = distance_bootstrap(a, b, clusters=(scanpaths, scanpaths), unit="relative")
    value = distance_bootstrap(a, b, clusters=(np.arange(k * m),) * 2, unit="relative")
    for metric in cluster:
        widths = [ci[metric][1] - ci[metric][0] for ci in (cluster, value)]
        assert ratio[0] < widths[0] / widths[1] < ratio[1], metric


def test_distance_bootstrap_needs_two_scanpaths_and_matching_labels():
    a, b = [1.0, 2.0, 3.0], [2.0, 4.0]
    one = distance_bootstrap(a, b, clusters=([0, 0, 0], [0, 1]), unit="relative")
    assert all(np.isnan(bound) for ci in one.values() for bound in ci)
    with pytest.raises(ValueError, match="^clusters: expected two label arrays"):
        distance_bootstrap(a, b, clusters=([0, 1], [0, 1]), unit="relative")
    # More scanpaths than max_bootstrap: a seeded subsample of scanpaths, a wider interval.
    rng = np.random.default_rng(4)
    x, y = rng.gamma(2.0, 1.0, 200), rng.gamma(2.5, 1.0, 200)
    paths = np.repeat(np.arange(50), 4)
    full, sub = (distance_bootstrap(x, y, clusters=(paths, paths), unit="relative",
                                    max_bootstrap=cap) for cap in (50, 10))
    assert sub == distance_bootstrap(x, y, clusters=(paths, paths), unit="relative",
                                     max_bootstrap=10)  # seeded
    assert sub["ks"][1] - sub["ks"][0] > 1.5 * (full["ks"][1] - full["ks"][0])


def test_distance_bootstrap_matches_scipy_bootstrap():
    rng = np.random.default_rng(5)
    a, b = rng.gamma(2.0, 1.0, 40), rng.gamma(3.0, 1.0, 30)
    ours = distance_bootstrap(a, b, clusters=(np.arange(40), np.arange(30)), unit="relative",
                              n_resamples=4000, seed=1)
    for metric, statistic, tol in (
            ("ks", lambda x, y: stats.ks_2samp(x, y).statistic, 0.04),
            ("wasserstein", stats.wasserstein_distance, 0.1)):
        ref = stats.bootstrap((a, b), statistic, vectorized=False, n_resamples=4000,
                              method="percentile", rng=np.random.default_rng(2))
        want = (ref.confidence_interval.low, ref.confidence_interval.high)
        np.testing.assert_allclose(ours[metric], want, atol=tol * max(abs(want[1]), 1e-9),
                                   err_msg=metric)
    assert ours["jsd"][0] < ours["jsd"][1]


def test_binned_kde_matches_fit_density():
    rng = np.random.default_rng(6)
    values = rng.gamma(2.0, 1.0, 300)
    h = select_bandwidth(values, "scott", unit="relative")
    grid = np.linspace(0, values.max() + 3 * h, 2000)
    support, counts = np.unique(values, return_counts=True)
    spacing = grid[1] - grid[0]
    left = np.minimum((support / spacing).astype(np.int64), len(grid) - 2)
    share = support / spacing - left
    binning = sparse.csr_matrix((np.r_[1 - share, share], (np.tile(np.arange(support.size), 2),
                                                          np.r_[left, left + 1])),
                                shape=(support.size, len(grid)))
    got = _binned_kde(counts[None, :].astype(float), binning, h, spacing)[0]
    want = fit_density(values, unit="relative", bw_method=h, grid=grid).density
    got *= want.sum() / got.sum()
    assert np.abs(got - want).max() < 2e-3 * want.max()
