"""Tests of gazekit.compare against direct scipy calls and hand-worked numbers."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from gazekit.compare import (
    RESULT_KEYS,
    compare_groups,
    compare_samples,
    compare_with_reference,
    normalize,
)
from gazekit.density import fit_density
from gazekit.reference import human_reference

RNG = np.random.default_rng(11)
A = RNG.gamma(2.0, 5.0, 400)
B = RNG.gamma(3.0, 5.0, 300)


def test_metrics_equal_direct_scipy_calls():
    res = compare_samples(A, B, unit="px", n_resamples=20_000, seed=3)
    assert set(res) == set(RESULT_KEYS)
    assert (res["n_a"], res["n_b"]) == (400, 300)
    ks = stats.ks_2samp(A, B)
    assert res["ks_statistic"] == pytest.approx(ks.statistic)
    assert res["ks_pvalue"] == pytest.approx(ks.pvalue)
    assert res["wasserstein"] == pytest.approx(stats.wasserstein_distance(A, B))
    assert res["median_diff"] == pytest.approx(np.median(A) - np.median(B))
    assert res["median_diff_ci_low"] <= res["median_diff"] <= res["median_diff_ci_high"]
    ci = stats.bootstrap((A, B), lambda a, b, axis: np.median(a, axis) - np.median(b, axis),
                         vectorized=True, n_resamples=20_000, method="percentile",
                         rng=np.random.default_rng(3)).confidence_interval
    # Two Monte Carlo estimates of the same interval: equal within a few standard errors.
    width = ci.high - ci.low
    assert res["median_diff_ci_low"] == pytest.approx(ci.low, abs=0.05 * width)
    assert res["median_diff_ci_high"] == pytest.approx(ci.high, abs=0.05 * width)


@pytest.mark.parametrize("discrete", [False, True])
def test_large_samples_match_scipy(discrete):
    """Above 10,000 values (asymptotic KS p-value), continuous and tied whole-number data."""
    rng = np.random.default_rng(4)
    if discrete:
        a, b = rng.integers(1, 9, 20_000), rng.integers(1, 8, 12_001)
    else:
        a, b = rng.gamma(2.0, 5.0, 20_000), rng.gamma(2.05, 5.0, 15_000)
    res = compare_samples(a, b, unit="steps" if discrete else "px", discrete=discrete,
                          lower=0.5 if discrete else 0.0, n_resamples=10)
    ks = stats.ks_2samp(a, b)
    assert res["ks_statistic"] == pytest.approx(ks.statistic, rel=1e-12)
    assert res["ks_pvalue"] == pytest.approx(ks.pvalue, rel=1e-9)
    assert res["wasserstein"] == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-9)


def test_jsd_is_squared_jensen_shannon_distance_of_the_kdes():
    res = compare_samples(A, B, unit="px")
    # An independent fine grid: the value must not depend on the grid choice.
    grid = np.linspace(0, max(A.max(), B.max()) + 30, 20_001)
    p = fit_density(A, unit="px", grid=grid).density
    q = fit_density(B, unit="px", grid=grid).density
    expected = jensenshannon(p, q, base=2) ** 2
    assert res["jsd"] == pytest.approx(expected, rel=2e-4)
    assert 0 < res["jsd"] < 1


def test_identical_samples_have_zero_distance():
    res = compare_samples(A, A.copy(), unit="px", n_resamples=100)
    assert res["ks_statistic"] == 0 and res["wasserstein"] == 0
    assert res["jsd"] == pytest.approx(0, abs=1e-12)
    assert res["median_diff"] == 0


def test_disjoint_samples_have_jsd_near_one_bit():
    res = compare_samples([1.0, 1.1, 1.2], [500.0, 501.0, 502.0], unit="px", n_resamples=50)
    assert res["ks_statistic"] == 1
    assert res["jsd"] == pytest.approx(1.0, abs=1e-6)
    assert res["jsd"] <= 1


def test_median_difference_of_shifted_samples():
    res = compare_samples(A + 10, A, unit="px", n_resamples=200)
    assert res["median_diff"] == pytest.approx(10)
    assert res["wasserstein"] == pytest.approx(10)
    assert res["median_diff_ci_low"] < 10 < res["median_diff_ci_high"]


def test_discrete_steps():
    a, b = [1, 1, 2, 3, 5], [1, 2, 2, 2, 4, 6]
    res = compare_samples(a, b, unit="steps", lower=0.5, discrete=True, n_resamples=100)
    assert res["ks_statistic"] == pytest.approx(stats.ks_2samp(a, b).statistic)
    assert 0 < res["jsd"] < 1
    with pytest.raises(ValueError, match="whole number"):
        compare_samples([1.5, 2], b, lower=0.5, discrete=True)
    with pytest.raises(ValueError, match="no sample a"):
        compare_samples([], b)


def test_normalize():
    v = np.array([2.0, 4.0, 6.0])
    np.testing.assert_allclose(normalize(v, "physical", scale=25.0), [50.0, 100.0, 150.0])
    np.testing.assert_allclose(normalize(v, "median"), [0.5, 1.0, 1.5])
    np.testing.assert_allclose(normalize(v, "width", scale=28.0), v / 28)
    np.testing.assert_allclose(normalize(v, "width", scale=[2.0, 4.0, 6.0]), [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="needs scale"):
        normalize(v, "physical")
    with pytest.raises(ValueError, match="positive finite.*-1"):
        normalize(v, "width", scale=-1)
    with pytest.raises(ValueError, match="position 1"):
        normalize(v, "width", scale=[1.0, np.nan, 2.0])
    with pytest.raises(ValueError, match="takes no scale"):
        normalize(v, "median", scale=2.0)
    with pytest.raises(ValueError, match="median: it is 0"):
        normalize([0.0, 0.0, 1.0], "median")
    with pytest.raises(ValueError, match="unknown how"):
        normalize(v, "zscore")


def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Three groups; "human" has ms durations, "M2" has no saccades."""
    fixations = pd.DataFrame({
        "model": ["M1"] * 4 + ["human"] * 3 + ["M2"] * 2,
        "_scanpath": [0, 0, 0, 0, 1, 1, 1, 2, 3],
        "n_glimpses": [1, 2, 2, 3, 10, 20, 30, 7, 7],
        "duration_ms": [np.nan] * 4 + [200.0, 300.0, 250.0] + [np.nan] * 2,
    })
    saccades = pd.DataFrame({
        "model": ["M1"] * 3 + ["human"] * 2,
        "_scanpath": [0, 0, 0, 1, 1],
        "distance_px": [7.0, 14.0, 21.0, 56.0, 84.0],
        "image_width": [28.0, 28.0, 28.0, 280.0, 280.0],
    })
    return fixations, saccades


def test_compare_groups_native_pairs_and_values():
    out = compare_groups(*tables(), n_resamples=50)
    pairs = [("M1", "human"), ("M1", "M2"), ("human", "M2")]
    assert list(zip(out["group_a"], out["group_b"], strict=True)) == pairs * 2
    assert list(out["quantity"]) == ["fixation_duration"] * 3 + ["saccade_distance"] * 3
    assert list(out["unit"]) == ["steps"] * 3 + ["px"] * 3
    first = out.iloc[0]
    assert first["median_diff"] == 2 - 20
    assert first["wasserstein"] == pytest.approx(
        stats.wasserstein_distance([1, 2, 2, 3], [10, 20, 30]))
    dist = out.iloc[3]
    assert dist["median_diff"] == 14 - 70
    # M2 has no saccades: counts are kept, metrics are NaN.
    no_sacc = out.iloc[4]
    assert (no_sacc["n_a"], no_sacc["n_b"]) == (3, 0) and np.isnan(no_sacc["jsd"])


def test_compare_groups_physical_units():
    fixations, saccades = tables()
    out = compare_groups(fixations, saccades, units="physical", ms_per_step=25.0,
                         px_per_degree=7.0, n_resamples=50)
    assert list(out["unit"]) == ["ms"] * 3 + ["deg"] * 3
    # M1 in ms via the factor (median 2 steps = 50 ms), human from its duration_ms (250 ms).
    assert out.iloc[0]["median_diff"] == pytest.approx(50.0 - 250.0)
    assert out.iloc[0]["wasserstein"] == pytest.approx(
        stats.wasserstein_distance([25.0, 50.0, 50.0, 75.0], [200.0, 300.0, 250.0]))
    assert out.iloc[3]["median_diff"] == pytest.approx(2.0 - 10.0)
    with pytest.raises(ValueError, match="group 'M1' has no duration_ms.*ms_per_step"):
        compare_groups(fixations, saccades, units="physical", px_per_degree=7.0)
    with pytest.raises(ValueError, match="px_per_degree"):
        compare_groups(fixations, saccades, units="physical", ms_per_step=25.0)


def test_compare_groups_relative_units():
    fixations, saccades = tables()
    out = compare_groups(fixations, saccades, units="relative", n_resamples=50)
    assert set(out["unit"]) == {"relative"}
    # Both groups' durations over their own medians have median 1.
    assert out.iloc[0]["median_diff"] == pytest.approx(0.0)
    # Distances over each row's image width: M1 median 14/28, human median 70/280.
    assert out.iloc[3]["median_diff"] == pytest.approx(0.5 - 0.25)
    with_arg = compare_groups(fixations, saccades, units="relative", image_width=28.0,
                              n_resamples=50)
    assert with_arg.iloc[3]["median_diff"] == pytest.approx(0.5 - 70 / 28)
    with pytest.raises(ValueError, match="image_width"):
        compare_groups(fixations, saccades.drop(columns="image_width"), units="relative")
    with pytest.raises(ValueError, match="unknown units"):
        compare_groups(fixations, saccades, units="imperial")


def test_compare_groups_single_group_has_no_pairs():
    out = compare_groups(*tables(), group_by=None)
    assert len(out) == 0 and "jsd" in out.columns


def summary() -> pd.DataFrame:
    return pd.DataFrame({
        "group": ["MRAM", "human"],
        "fixation_steps_mean": [2.0, 8.0],
        "fixation_ms_mean": [np.nan, 240.0],
        "saccade_px_mean": [12.0, 60.0],
    })


def test_compare_with_reference_by_hand():
    out = compare_with_reference(summary(), ms_per_step=100.0, px_per_degree=6.0)
    ref = human_reference()
    assert len(out) == 2 * len(ref)
    assert list(out["task"]) == list(ref["task"]) * 2
    scene = out[(out["group"] == "MRAM") & (out["task"] == "scene perception")].iloc[0]
    assert scene["model_fixation_ms"] == 200.0  # 2 steps x 100 ms
    assert scene["fixation_ratio"] == pytest.approx(200 / 330)
    assert scene["model_saccade_deg"] == 2.0  # 12 px / 6 px per degree
    assert scene["saccade_ratio"] == pytest.approx(2.0 / 4.0)
    assert scene["note"] == ""
    human = out[(out["group"] == "human") & (out["task"] == "silent reading")].iloc[0]
    assert human["model_fixation_ms"] == 240.0  # measured ms take precedence
    assert human["fixation_ratio"] == pytest.approx(240 / 225)


def test_compare_with_reference_missing_factors():
    out = compare_with_reference(summary())
    mram = out[out["group"] == "MRAM"].iloc[0]
    assert np.isnan(mram["model_fixation_ms"]) and np.isnan(mram["fixation_ratio"])
    assert np.isnan(mram["model_saccade_deg"])
    assert "ms_per_step" in mram["note"] and "px_per_degree" in mram["note"]
    human = out[out["group"] == "human"].iloc[0]
    assert human["model_fixation_ms"] == 240.0
    assert "ms_per_step" not in human["note"] and "px_per_degree" in human["note"]
    with pytest.raises(ValueError, match="ms_per_step"):
        compare_with_reference(summary(), ms_per_step=0.0)
    with pytest.raises(ValueError, match="summary: missing column 'saccade_px_mean'"):
        compare_with_reference(summary().drop(columns="saccade_px_mean"))


def test_compare_with_custom_reference():
    ref = pd.DataFrame({"task": ["toy"], "mean_fixation_ms": [100.0], "mean_saccade_deg": [1.0]})
    out = compare_with_reference(summary(), ms_per_step=10.0, px_per_degree=12.0, reference=ref)
    assert list(out["fixation_ratio"]) == pytest.approx([0.2, 2.4])
    assert list(out["saccade_ratio"]) == pytest.approx([1.0, 5.0])


def test_median_difference_interval_resamples_scanpaths_when_they_are_known():
    """40 scanpaths per group whose 10 fixations share one duration: the values are not
    independent, so the cluster interval is about sqrt(10) times the naive one."""
    rng = np.random.default_rng(0)
    per = np.concatenate([rng.integers(1, 8, 40), rng.integers(2, 9, 40)])
    fixations = pd.DataFrame({"model": np.repeat(["A", "B"], 400),
                              "_scanpath": np.repeat(np.arange(80), 10),
                              "n_glimpses": np.repeat(per, 10)})
    saccades = pd.DataFrame({"model": ["A", "B"], "_scanpath": [0, 40],
                             "distance_px": [7.0, 9.0]})
    clustered = compare_groups(fixations, saccades, n_resamples=2000)
    naive = compare_groups(fixations, saccades.drop(columns="_scanpath"), n_resamples=2000)

    def width(table):
        row = table[table["quantity"] == "fixation_duration"].iloc[0]
        return row["median_diff_ci_high"] - row["median_diff_ci_low"]

    assert width(clustered) > 1.8 * width(naive)
    # The point estimates do not depend on how the interval resamples.
    assert clustered["ks_statistic"].equals(naive["ks_statistic"])
