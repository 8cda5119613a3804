"""Tests of gazekit.density against closed forms and direct kernel sums."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from gazekit import density as dm
from gazekit.density import (
    distance_density,
    duration_density,
    fit_density,
    select_bandwidth,
)


def reflected_kde(data: np.ndarray, h: float, lower: float, x: np.ndarray) -> np.ndarray:
    """Naive reflected Gaussian KDE, float64, one kernel per observation."""
    k = (stats.norm.pdf(x[:, None], data[None, :], h) +
         stats.norm.pdf(2 * lower - x[:, None], data[None, :], h)).mean(axis=1)
    return np.where(x >= lower, k, 0.0)


def test_three_point_sample_matches_hand_formula():
    data = np.array([1.0, 2.0, 4.0])
    h = np.std(data, ddof=1) * 3 ** -0.2
    x = np.array([-1.0, 0.0, 0.5, 2.0, 5.0])
    d = fit_density(data, unit="px", grid=x)
    by_hand = []
    for xi in x:
        if xi < 0:
            by_hand.append(0.0)
            continue
        terms = [np.exp(-0.5 * ((xi - m) / h) ** 2) + np.exp(-0.5 * ((-xi - m) / h) ** 2)
                 for m in data]
        by_hand.append(sum(terms) / (3 * h * np.sqrt(2 * np.pi)))
    assert d.bandwidth == pytest.approx(h, rel=1e-12)
    np.testing.assert_allclose(d.density, by_hand, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize(("values", "kw"), [
    (np.random.default_rng(1).gamma(2.0, 5.0, 300), {"unit": "px"}),
    (np.random.default_rng(2).geometric(0.5, 300), {"unit": "steps", "lower": 0.5,
                                                    "discrete": True}),
    ([7.0], {"unit": "ms"}),
])
def test_integrates_to_one_and_no_mass_below_lower(values, kw):
    values = np.asarray(values, float)
    lower = kw.get("lower", 0.0)
    h = fit_density(values, **kw).bandwidth
    grid = np.linspace(lower - 5, values.max() + 10 * h, 200_001)
    d = fit_density(values, grid=grid, **kw)
    inside = grid >= lower
    assert np.trapezoid(d.density[inside], grid[inside]) == pytest.approx(1.0, abs=1e-4)
    assert np.all(d.density[~inside] == 0)
    assert np.all(d.density >= 0)


def test_default_grid_spans_lower_to_max_plus_three_bandwidths():
    values = np.array([1.0, 3.0, 9.0])
    d = fit_density(values, unit="px", grid_points=100)
    assert d.grid.size == 100
    assert d.grid[0] == 0.0
    assert d.grid[-1] == pytest.approx(9.0 + 3 * d.bandwidth)


def test_bandwidth_rules_equal_closed_forms():
    v = np.random.default_rng(3).normal(50.0, 10.0, 1000)
    n = v.size
    sd = np.std(v, ddof=1)
    iqr = np.subtract(*np.percentile(v, [75, 25]))
    assert select_bandwidth(v, "scott", unit="px") == pytest.approx(sd * n ** -0.2, rel=1e-12)
    assert select_bandwidth(v, "silverman", unit="px") == pytest.approx(
        0.9 * min(sd, iqr / 1.34) * n ** -0.2, rel=1e-12)
    assert select_bandwidth(v, 2.5, unit="px") == 2.5
    # Scott agrees with scipy's own rule in 1-D.
    assert select_bandwidth(v, unit="px") == pytest.approx(
        np.sqrt(stats.gaussian_kde(v).covariance[0, 0]), rel=1e-12)


def test_silverman_uses_sd_when_iqr_is_zero():
    v = np.array([5.0] * 10 + [20.0])
    expected = 0.9 * np.std(v, ddof=1) * v.size ** -0.2
    assert select_bandwidth(v, "silverman", unit="px") == pytest.approx(expected)


def test_single_value_gets_the_minimum_bandwidth():
    d = duration_density([3, 3, 3, 3])
    assert d.bandwidth == dm.MIN_BANDWIDTH_DISCRETE
    x = np.array([0.4, 1.0, 3.0, 4.5])
    np.testing.assert_allclose(
        fit_density([3, 3, 3, 3], unit="steps", lower=0.5, discrete=True, grid=x).density,
        reflected_kde(np.array([3.0]), 0.5, 0.5, x), rtol=1e-12)
    assert fit_density([10.0], unit="ms").bandwidth == dm.MIN_BANDWIDTH["ms"]


def test_binned_kde_matches_exact_kde():
    values = np.random.default_rng(4).gamma(2.0, 8.0, 50_000)
    assert values.size > dm.BIN_THRESHOLD
    x = np.linspace(0, values.max() + 5, 150)
    d = fit_density(values, unit="px", grid=x)
    exact = reflected_kde(values, d.bandwidth, 0.0, x)
    # Binning moves each value by at most bandwidth / 40: an error far below the KDE's own
    # sampling noise (about 2% here).
    np.testing.assert_allclose(d.density, exact, rtol=0, atol=1e-3 * exact.max())
    assert d.n == values.size


def test_discrete_pmf_and_density_match_value_counts():
    steps = np.random.default_rng(5).geometric(0.3, 30_000)
    d = duration_density(steps)
    counts = pd.Series(steps).value_counts(normalize=True).sort_index()
    np.testing.assert_allclose(d.pmf.to_numpy(), counts.to_numpy())
    np.testing.assert_array_equal(d.pmf.index.to_numpy(), counts.index.to_numpy())
    assert d.lower == 0.5 and d.unit == "steps"
    x = np.linspace(0.5, 10, 40)
    np.testing.assert_allclose(duration_density(steps, grid=x).density,
                               reflected_kde(steps.astype(float), d.bandwidth, 0.5, x),
                               rtol=1e-9)


def test_duration_and_distance_defaults():
    ms = duration_density([120.0, 250.0, 300.0], unit="ms")
    assert ms.lower == 0.0 and ms.pmf is None and ms.unit == "ms"
    px = distance_density([7.0, 12.0, 30.0])
    assert px.lower == 0.0 and px.pmf is None and px.unit == "px"


@pytest.mark.parametrize(("call", "message"), [
    (lambda: duration_density([]), "no fixation durations"),
    (lambda: distance_density([3.0, np.nan]), "saccade distances.*NaN"),
    (lambda: distance_density([3.0, -1.0]), "below the lower bound"),
    (lambda: duration_density([1, 2.5]), "whole number"),
    (lambda: fit_density([1.0, 2.0], unit="furlongs"), "unknown unit"),
    (lambda: fit_density([1.0, 2.0], unit="px", bw_method="magic"), "bw_method"),
    (lambda: fit_density([1.0, 2.0], unit="px", bw_method=0.0), "positive"),
])
def test_bad_input_raises(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_upper_bound_keeps_the_duration_density_on_its_support():
    """12-glimpse scanpaths: fixations last 1..12 steps, so nothing leaks past 12.5."""
    rng = np.random.default_rng(0)
    steps = np.minimum(rng.geometric(0.15, 2000), 12)  # 17 % last the whole scanpath
    bounded = duration_density(steps, max_steps=12)
    free = duration_density(steps)
    assert bounded.upper == 12.5 and np.isinf(free.upper)
    assert bounded.grid.max() == 12.5 and free.grid.max() > 13
    assert (bounded.density[bounded.grid > 12.5] == 0).all()
    # The reflection keeps the mass that the free estimate spills past 12.5.
    grid = np.linspace(0.5, 12.5, 4001)
    mass = np.trapezoid(duration_density(steps, max_steps=12, grid=grid).density, grid)
    assert mass == pytest.approx(1.0, abs=2e-3)
    free_mass = np.trapezoid(duration_density(steps, grid=grid).density, grid)
    assert free_mass < mass - 0.01
    # Independent float64 sum of the three reflected kernels at one point.
    h, x = bounded.bandwidth, 12.0
    k = lambda t: np.mean(np.exp(-0.5 * ((t - steps) / h) ** 2)) / (h * np.sqrt(2 * np.pi))  # noqa: E731
    one = duration_density(steps, max_steps=12, grid=np.array([x]))
    assert one.density[0] == pytest.approx(k(x) + k(1.0 - x) + k(25.0 - x), rel=1e-12)
    with pytest.raises(ValueError, match="above the upper bound"):
        duration_density([1, 13], max_steps=12)


def test_saccade_density_starts_at_the_threshold():
    d = distance_density([6.0, 6.5, 7.0, 9.0, 14.0], lower=6.0)
    assert d.grid.min() == 6.0 and (d.density[d.grid < 6.0] == 0).all()
    grid = np.linspace(6.0, 40.0, 4001)
    mass = np.trapezoid(distance_density([6.0, 6.5, 7.0, 9.0, 14.0], lower=6.0,
                                         grid=grid).density, grid)
    assert mass == pytest.approx(1.0, abs=1e-3)


def test_floor_is_recorded_and_described():
    """A density records the rule's floor (the bandwidth of values without spread), none for
    a given bandwidth; describe_densities says so, with each distinct bound once."""
    for unit, discrete in (("steps", True), ("ms", False), ("px", False), ("relative", False)):
        d = fit_density([3.0, 3.0, 3.0], unit=unit, lower=0.5 if discrete else 0.0,
                        discrete=discrete)
        assert d.floor == d.bandwidth == (dm.MIN_BANDWIDTH_DISCRETE if discrete
                                          else dm.MIN_BANDWIDTH[unit])
    assert duration_density([1, 2, 3], bw_method=0.8).floor is None
    text = dm.describe_densities({"b": distance_density([6.5, 8.0], lower=6.0),
                                  "a": distance_density([7.0, 9.0], lower=6.0, bw_method=2.0)})
    assert text == ("reflected at 6 px; bandwidth rule floored at 0.5 px (none where the "
                    "bandwidth was given)")
    text = dm.describe_densities({"x": distance_density([0.1, 0.3], unit="relative")})
    assert text == ("reflected at 0 (relative units); bandwidth rule floored at 0.01 "
                    "(relative units)")
