"""Tests of gazekit.stats on hand-built fixation and saccade tables."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from gazekit.stats import (
    _resampled_means,
    _resampled_medians,
    bootstrap_ci,
    cluster_weights,
    summarize,
    weighted_statistic,
)


def tables(categorical: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Group "A": scanpath 0 with fixations of 2, 1, 3 glimpses and scanpath 1 with one of 4
    (no time data). Group "B": scanpath 2 with five one-glimpse fixations of 100..500 ms."""
    fixations = pd.DataFrame({
        "model": ["A", "A", "A", "A", "B", "B", "B", "B", "B"],
        "_scanpath": [0, 0, 0, 1, 2, 2, 2, 2, 2],
        "n_glimpses": [2, 1, 3, 4, 1, 1, 1, 1, 1],
        "duration_ms": [np.nan] * 4 + [100.0, 200.0, 300.0, 400.0, 500.0],
    })
    saccades = pd.DataFrame({
        "model": ["A", "A", "B", "B", "B", "B"],
        "_scanpath": [0, 0, 2, 2, 2, 2],
        "distance_px": [10.0, 20.0, 7.0, 8.0, 9.0, 30.0],
    })
    if categorical:
        kind = pd.CategoricalDtype(["B", "A", "unused"])
        fixations["model"] = fixations["model"].astype(kind)
        saccades["model"] = saccades["model"].astype(kind)
    return fixations, saccades


@pytest.mark.parametrize("categorical", [False, True])
def test_counts_and_point_estimates_by_hand(categorical):
    out = summarize(*tables(categorical), n_resamples=200)
    assert list(out["group"]) == ["A", "B"]
    a, b = out.iloc[0], out.iloc[1]
    assert (a["scanpaths"], a["glimpses"], a["fixations"], a["saccades"]) == (2, 10, 4, 2)
    assert (b["scanpaths"], b["glimpses"], b["fixations"], b["saccades"]) == (1, 5, 5, 4)
    assert a["fixations_per_scanpath"] == 2.0 and b["fixations_per_scanpath"] == 5.0
    # 8 transitions in A, 2 of them saccades; every transition of B is a saccade.
    assert a["fixational_share"] == pytest.approx(0.75)
    assert b["fixational_share"] == pytest.approx(0.0)
    assert a["fixation_steps_mean"] == 2.5 and a["fixation_steps_median"] == 2.5
    assert a["fixation_steps_sd"] == pytest.approx(np.sqrt(5 / 3))
    assert (a["fixation_steps_q25"], a["fixation_steps_q75"]) == (1.75, 3.25)
    assert np.isnan(a["fixation_ms_mean"]) and np.isnan(a["fixation_ms_median_ci_low"])
    assert b["fixation_ms_mean"] == 300.0 and b["fixation_ms_median"] == 300.0
    assert b["fixation_ms_sd"] == pytest.approx(np.std([100, 200, 300, 400, 500], ddof=1))
    assert a["saccade_px_mean"] == 15.0 and b["saccade_px_median"] == 8.5
    assert (b["saccade_px_q25"], b["saccade_px_q75"]) == (7.75, 14.25)
    # One scanpath in B: no interval for its per-scanpath mean.
    assert np.isnan(b["fixations_per_scanpath_ci_low"])


def test_no_resamples_gives_the_same_point_estimates_and_no_intervals():
    with_ci, without = summarize(*tables(), n_resamples=200), summarize(*tables(), n_resamples=0)
    intervals = [c for c in with_ci.columns if c.endswith(("_ci_low", "_ci_high"))]
    assert without[intervals].isna().all().all()
    assert with_ci["fixation_steps_mean_ci_low"].notna().tolist() == [True, False]
    pd.testing.assert_frame_equal(without.drop(columns=intervals),
                                  with_ci.drop(columns=intervals))


def test_confidence_intervals_contain_the_estimates_and_need_two_scanpaths():
    out = summarize(*tables(), n_resamples=300)
    a, b = out.iloc[0], out.iloc[1]
    for stat in ("mean", "median"):
        est, low, high = (a[f"fixation_steps_{stat}{s}"] for s in ("", "_ci_low", "_ci_high"))
        assert low <= est <= high
    assert a["fixations_per_scanpath_ci_low"] <= 2.0 <= a["fixations_per_scanpath_ci_high"]
    # Group B is one scanpath: the cluster bootstrap has nothing to resample.
    assert np.isnan(b["fixation_ms_mean_ci_low"]) and np.isnan(b["saccade_px_median_ci_high"])
    # Group A's saccades all come from scanpath 0: one cluster, no interval either.
    assert np.isnan(a["saccade_px_mean_ci_low"])


def test_interval_matches_direct_scipy_call_when_each_scanpath_has_one_saccade():
    fixations, saccades = tables()
    saccades["_scanpath"] = [0, 1, 2, 3, 4, 5]
    fixations["_scanpath"] = [0, 0, 0, 1, 2, 3, 4, 5, 5]
    out = summarize(fixations, saccades, n_resamples=20_000, seed=7, confidence=0.9)
    expected = stats.bootstrap((np.array([7.0, 8.0, 9.0, 30.0]),), np.mean, vectorized=True,
                               n_resamples=20_000, confidence_level=0.9, method="percentile",
                               rng=np.random.default_rng(7)).confidence_interval
    # Independent Monte Carlo estimates of the same quantiles: within a few standard errors.
    width = expected.high - expected.low
    assert out.iloc[1]["saccade_px_mean_ci_low"] == pytest.approx(expected.low, abs=0.04 * width)
    assert out.iloc[1]["saccade_px_mean_ci_high"] == pytest.approx(expected.high,
                                                                   abs=0.04 * width)


def exact_bootstrap_pmf(x: np.ndarray, fn) -> pd.Series:
    """Probability of each value of fn over all n**n equally likely resamples (enumerated)."""
    n = x.size
    idx = np.stack(np.meshgrid(*[np.arange(n)] * n, indexing="ij"), -1).reshape(-1, n)
    return pd.Series(fn(x[idx], axis=1).round(9)).value_counts(normalize=True)


@pytest.mark.parametrize("statistic", ["mean", "median"])
@pytest.mark.parametrize("x", [[3.0, 1.0, 7.0, 2.0, 11.0, 4.0],  # even n, continuous
                               [1.0, 1.0, 2.0, 5.0, 2.0, 1.0, 3.0],  # odd n, few values
                               [2.0, 2.0, 2.0, 2.0, 2.0]])  # no spread
def test_resampled_statistics_have_the_exact_bootstrap_distribution(statistic, x):
    """Order statistics / multinomial counts vs. all n**n resamples, enumerated."""
    x = np.array(x)
    exact = exact_bootstrap_pmf(x, getattr(np, statistic))
    draws = 200_000
    resample = _resampled_medians if statistic == "median" else _resampled_means
    got = pd.Series(resample(x, draws, np.random.default_rng(1)).round(9)).value_counts(
        normalize=True).reindex(exact.index, fill_value=0.0)
    assert got.sum() == pytest.approx(1.0)  # no value outside the exact support
    # Each frequency within 5 binomial standard errors of its exact probability.
    tolerance = 5 * np.sqrt(exact * (1 - exact) / draws) + 1e-12
    assert (np.abs(got - exact) <= tolerance).all()


@pytest.mark.parametrize("n", [60, 100])  # explicit resamples / multinomial counts
def test_resampled_means_of_zeros_and_ones_are_binomial(n):
    """n * (resample mean) of a 0/1 sample with m ones is Binomial(n, m / n) (closed form)."""
    x = np.zeros(n)
    x[: n // 4] = 1.0
    draws = 100_000
    ones = np.rint(_resampled_means(x, draws, np.random.default_rng(2)) * n).astype(int)
    got = np.bincount(ones, minlength=n + 1) / draws
    exact = stats.binom.pmf(np.arange(n + 1), n, 0.25)
    tolerance = 5 * np.sqrt(exact * (1 - exact) / draws) + 1e-12
    assert np.all(np.abs(got - exact) <= tolerance)


def test_resampled_median_difference_matches_explicit_resamples():
    """Order statistics vs. drawing every resample (scipy), two samples of even/odd size."""
    rng = np.random.default_rng(5)
    a, b = rng.gamma(2.0, 5.0, 30), rng.normal(10.0, 3.0, 25)
    low, high = bootstrap_ci((a, b), "median", n_resamples=20_000, seed=2)
    ci = stats.bootstrap((a, b), lambda u, v, axis: np.median(u, axis) - np.median(v, axis),
                         vectorized=True, n_resamples=20_000, method="percentile",
                         rng=np.random.default_rng(3)).confidence_interval
    width = ci.high - ci.low
    assert low == pytest.approx(ci.low, abs=0.05 * width)
    assert high == pytest.approx(ci.high, abs=0.05 * width)


def test_bootstrap_is_seeded_and_rejects_bad_arguments():
    x = np.random.default_rng(0).normal(size=50)
    assert bootstrap_ci((x,), "mean", seed=4) == bootstrap_ci((x,), "mean", seed=4)
    assert bootstrap_ci((x,), "mean", seed=4) != bootstrap_ci((x,), "mean", seed=5)
    assert np.isnan(bootstrap_ci((x, x[:1]), "median")).all()
    with pytest.raises(ValueError, match="unknown statistic 'mode'"):
        bootstrap_ci((x,), "mode")
    with pytest.raises(ValueError, match="one or two samples, got 3"):
        bootstrap_ci((x, x, x), "mean")
    with pytest.raises(ValueError, match="n_resamples >= 1"):
        bootstrap_ci((x,), "mean", n_resamples=0)


def test_single_group_when_no_group_column():
    fixations, saccades = tables()
    for out in (summarize(fixations, saccades, group_by=None, n_resamples=50),
                summarize(fixations.drop(columns="model"), saccades.drop(columns="model"),
                          n_resamples=50)):
        assert len(out) == 1 and out["group"].iloc[0] == "all"
        row = out.iloc[0]
        assert (row["scanpaths"], row["glimpses"], row["fixations"], row["saccades"]) == (
            3, 15, 9, 6)
        assert row["fixational_share"] == pytest.approx(1 - 6 / 12)
        assert row["fixation_ms_mean"] == 300.0  # only the finite durations count


def test_subsampling_widens_the_interval():
    x = np.random.default_rng(0).normal(size=20_000)
    full = np.subtract(*bootstrap_ci((x,), "mean", n_resamples=300)[::-1])
    sub = np.subtract(*bootstrap_ci((x,), "mean", n_resamples=300,
                                         max_bootstrap=500)[::-1])
    # Width scales as 1 / sqrt(sample size): about sqrt(40) = 6.3 times wider.
    assert 4 < sub / full < 9


def test_bad_input_raises():
    fixations, saccades = tables()
    with pytest.raises(ValueError, match="fixations: missing column 'n_glimpses'"):
        summarize(fixations.drop(columns="n_glimpses"), saccades)
    with pytest.raises(ValueError, match="saccades: missing group column 'model'"):
        summarize(fixations, saccades.drop(columns="model"))
    bad = saccades.assign(model=["A", "A", "B", "B", "C", "B"])
    with pytest.raises(ValueError, match="saccades: column 'model' row 4: group 'C'"):
        summarize(fixations, bad)
    with pytest.raises(ValueError, match="confidence"):
        summarize(fixations, saccades, confidence=1.5)


def test_weighted_statistic_is_the_statistic_of_the_explicit_resample():
    rng = np.random.default_rng(3)
    values = rng.integers(0, 6, 40).astype(float) + rng.choice([0, 0.5], 40)  # ties and not
    clusters = rng.integers(0, 9, 40)
    clusters[:9] = np.arange(9)  # every cluster has a value
    weights = cluster_weights(9, 200, rng)
    for statistic, fn in (("mean", np.mean), ("median", np.median)):
        got = weighted_statistic(values, clusters, weights, statistic)
        for r in range(200):  # explicit resample: cluster c's values repeated w[r, c] times
            explicit = np.concatenate([np.repeat(values[clusters == c], w)
                                       for c, w in enumerate(weights[r])])
            assert got[r] == pytest.approx(fn(explicit), abs=1e-12)


def test_cluster_weights_are_multinomial():
    w = cluster_weights(5, 40_000, np.random.default_rng(0))
    assert (w.sum(axis=1) == 5).all()
    # Multinomial(5, 1/5): each count is Binomial(5, 0.2), mean 1 and variance 0.8.
    assert w.mean() == pytest.approx(1.0, abs=0.01)
    assert w.var() == pytest.approx(0.8, abs=0.02)


def test_cluster_interval_against_exact_enumeration_of_three_scanpaths():
    """Three scanpaths: all 27 equally likely resamples enumerated by hand."""
    values = np.array([1.0, 2.0, 3.0, 10.0, 4.0, 4.0])
    clusters = np.array([0, 0, 0, 1, 2, 2])
    sums, counts = np.array([6.0, 10.0, 8.0]), np.array([3.0, 1.0, 2.0])
    idx = np.stack(np.meshgrid(*[np.arange(3)] * 3, indexing="ij"), -1).reshape(-1, 3)
    exact = np.sort(sums[idx].sum(1) / counts[idx].sum(1))
    low, high = bootstrap_ci((values,), "mean", clusters=(clusters,), n_resamples=200_000,
                             confidence=0.5, seed=1)
    # The 25 % and 75 % quantiles of the exact distribution (27 atoms): the Monte Carlo bounds
    # fall between the neighbouring atoms of the exact quantiles.
    q = np.quantile(exact, [0.25, 0.75])
    atoms = np.unique(exact)
    for bound, target in ((low, q[0]), (high, q[1])):
        below = atoms[atoms <= target + 1e-12].max()
        above = atoms[atoms >= target - 1e-12].min()
        assert below - 1e-9 <= bound <= above + 1e-9


def test_cluster_interval_is_wider_than_the_naive_one_for_dependent_values():
    rng = np.random.default_rng(5)
    per = rng.normal(size=30)  # 30 scanpaths of 12 glimpses that all share one value
    values, clusters = np.repeat(per, 12), np.repeat(np.arange(30), 12)
    naive = np.subtract(*bootstrap_ci((values,), "mean", seed=0)[::-1])
    cluster = np.subtract(*bootstrap_ci((values,), "mean", clusters=(clusters,), seed=0)[::-1])
    assert 2.5 < cluster / naive < 4.5  # sqrt(12) = 3.5 times wider
    with pytest.raises(ValueError, match="clusters"):
        bootstrap_ci((values,), "mean", clusters=(clusters[:5],))


@pytest.mark.parametrize("statistic, fn", [
    ("cv", lambda x: stats.variation(x)), ("skewness", lambda x: stats.skew(x))])
def test_shape_statistics_of_explicit_resamples_match_scipy(statistic, fn):
    rng = np.random.default_rng(8)
    values = rng.gamma(2.0, 3.0, 60).round(1) + 50.0  # ties, and a mean far from 0
    clusters = np.repeat(np.arange(12), 5)
    weights = cluster_weights(12, 100, rng)
    got = weighted_statistic(values, clusters, weights, statistic)
    for r in range(100):
        explicit = np.repeat(values, weights[r][clusters])
        assert got[r] == pytest.approx(fn(explicit), rel=1e-9, abs=1e-12)


def test_shape_statistics_differ_for_different_distributions():
    """What the human-likeness comparison needs: a different shape gives a different value,
    also for whole glimpse counts whose median is 1 (where median-relative KS was constant)."""
    short = np.array([1] * 70 + [2] * 20 + [3] * 10, dtype=float)
    longer_tail = np.array([1] * 70 + [2] * 10 + [6] * 20, dtype=float)
    for statistic in ("cv", "skewness"):
        a = bootstrap_ci((short,), statistic, n_resamples=500)
        b = bootstrap_ci((longer_tail,), statistic, n_resamples=500)
        assert a != b
    assert stats.variation(short) != stats.variation(longer_tail)


def explicit_cluster_medians(values, codes, weights):
    """Medians of the explicit cluster resamples (each cluster's values repeated)."""
    return np.array([np.median(np.repeat(values, w[codes])) for w in weights])


@pytest.mark.parametrize("window", [3.0, 0.001])  # the default, and one that always retries
def test_cluster_medians_are_exact_whatever_the_search_window(monkeypatch, window):
    import gazekit.stats as gstats

    monkeypatch.setattr(gstats, "_MEDIAN_WINDOW", window)
    rng = np.random.default_rng(11)
    clusters = np.repeat(np.arange(60), rng.integers(1, 9, 60))  # uneven cluster sizes
    per_cluster = rng.normal(size=60)[clusters]  # dependent values within a cluster
    for values in (per_cluster + 0.3 * rng.normal(size=clusters.size),  # continuous
                   np.round(per_cluster * 2) + 5):  # many ties
        weights = cluster_weights(60, 300, rng)
        got = weighted_statistic(values, clusters, weights, "median")
        np.testing.assert_array_equal(got, explicit_cluster_medians(values, clusters, weights))


def test_cluster_means_agree_with_explicit_resamples_to_rounding():
    # Means come from per-cluster sums: they differ from the mean of the explicit resample by
    # float rounding only. Stated bound: relative 1e-13 (about 450 ulps) for 3,000 values.
    rng = np.random.default_rng(12)
    clusters = np.repeat(np.arange(500), 6)
    values = rng.gamma(2.0, 40.0, clusters.size) + 1e3
    weights = cluster_weights(500, 50, rng)
    got = weighted_statistic(values, clusters, weights, "mean")
    explicit = np.array([np.repeat(values, w[clusters]).mean() for w in weights])
    np.testing.assert_allclose(got, explicit, rtol=1e-13, atol=0)


def test_subsampled_cluster_interval_is_that_of_the_explicit_procedure():
    # bootstrap_ci with more clusters than max_bootstrap: a seeded subsample of clusters, then
    # resamples of it; written out here with numpy's own unique/isin and explicit resamples.
    rng = np.random.default_rng(13)
    labels = rng.permutation(np.arange(1000, 1400))  # unsorted, not 0-based
    clusters = np.repeat(labels, rng.integers(1, 6, labels.size))
    values = rng.normal(size=clusters.size).round(1)
    got = bootstrap_ci((values,), "median", clusters=(clusters,), n_resamples=400,
                       max_bootstrap=150, seed=3)
    ref = np.random.default_rng(3)
    chosen = ref.choice(np.unique(clusters), 150, replace=False)
    keep = np.isin(clusters, chosen)
    codes = np.unique(clusters[keep], return_inverse=True)[1]
    medians = explicit_cluster_medians(values[keep], codes, cluster_weights(150, 400, ref))
    assert got == tuple(np.quantile(medians, [0.025, 0.975]))


def test_several_statistics_share_the_resamples_of_separate_calls():
    from gazekit.stats import _bootstrap_intervals

    rng = np.random.default_rng(14)
    clusters = np.sort(rng.integers(0, 80, 400))  # in order: the linear coding path
    a, b = rng.gamma(2.0, 1.0, 400), rng.gamma(2.5, 1.0, 300)
    for samples, groups in (((a,), (clusters,)), ((a, b), (clusters, clusters[:300])),
                            ((a,), None)):
        together = _bootstrap_intervals(samples, ("mean", "median"), clusters=groups,
                                        n_resamples=300, max_bootstrap=50, seed=2)
        apart = [bootstrap_ci(samples, s, clusters=groups, n_resamples=300, max_bootstrap=50,
                              seed=2) for s in ("mean", "median")]
        assert together == apart


def test_repeated_cluster_resamples_come_from_memory_unchanged(monkeypatch):
    import gazekit.stats as gstats

    rng = np.random.default_rng(15)
    clusters = np.sort(rng.integers(0, 200, 1500))
    a, b = rng.gamma(2.0, 1.0, 1500), rng.gamma(2.5, 1.0, 1500)
    kw = dict(clusters=(clusters, clusters), n_resamples=200, max_bootstrap=120, seed=4)
    first = bootstrap_ci((a, b), "median", **kw)
    monkeypatch.setattr(gstats, "cluster_weights", None)  # nothing may be drawn again
    assert bootstrap_ci((a, b), "median", **kw) == first
    monkeypatch.undo()
    gstats._RESAMPLED.clear()
    assert bootstrap_ci((a, b), "median", **kw) == first  # drawn afresh: the same
    # A different second sample after the same first one is drawn, not taken from memory.
    assert bootstrap_ci((a, b[::-1]), "median", **kw) != first
