import numpy as np
import pytest
from scipy import stats

from gazekit.density import distance_density, duration_density
from gazekit.plot import (
    COLORBLIND,
    colorblind_palette,
    density_caption,
    density_figure,
    group_colors,
)


def test_palette_is_seaborns_colorblind():
    sns = pytest.importorskip("seaborn")  # no dependency of gazekit: compared where present
    assert colorblind_palette(23) == list(sns.color_palette("colorblind", 23))


def test_palette_cycles_after_ten_and_fixed_colours_are_skipped():
    palette = colorblind_palette(12)
    assert len(COLORBLIND) == 10 and palette[10:] == palette[:2]
    colors = group_colors(["b", "a"], fixed={"x": COLORBLIND[0]})
    assert colors["x"] == palette[0]
    assert [colors["a"], colors["b"]] == palette[1:3]


def reflection_points(d) -> tuple[float, float]:
    """The ends of the support of ``d`` as density.py computed it: where its density is > 0
    (:func:`assert_reflected` checks that it is reflected there)."""
    inside = d.grid[d.density > 0]
    return inside.min(), inside.max()


def assert_reflected(d, values, lower, upper):
    """Inside ``[lower, upper]`` the density is the Gaussian KDE of ``values`` (``d.bandwidth``)
    plus its mirror images at both bounds: a sum of normal densities computed here."""
    x = d.grid[(d.grid >= lower) & (d.grid <= upper)]
    want = sum(stats.norm.pdf(c, values, d.bandwidth).mean(axis=1)
               for c in (x[:, None], 2 * lower - x[:, None], 2 * upper - x[:, None]))
    np.testing.assert_allclose(d.density[(d.grid >= lower) & (d.grid <= upper)], want,
                               rtol=1e-9, atol=1e-12)


def test_density_caption_states_the_bounds_and_floors_used():
    # Fixations of 7- and 12-glimpse scanpaths, saccades of the consecutive rule at 6 px.
    short, long = np.array([1, 1, 2, 3, 7]), np.array([1, 4, 12, 12, 11])
    durations = {"RAM-7": duration_density(short, max_steps=7),
                 "RAM-12": duration_density(long, max_steps=12)}
    distances = {"RAM-7": distance_density([6.0, 8.5, 20.0], lower=6.0),
                 "RAM-12": distance_density([7.0, 9.0], lower=6.0)}
    caption = density_caption(durations, distances).replace("\n", " ")
    for name, values in (("RAM-7", short), ("RAM-12", long)):
        d = durations[name]
        lower, upper = reflection_points(d)
        assert_reflected(d, values, lower, upper)  # the curve drawn is reflected there
        assert (lower, upper) == (0.5, values.max() + 0.5)  # half a step outside 1..T
        assert f"at {lower:g} and {upper:g} steps ({name})" in caption
    # Distances: one lower bound; the density is 0 below it and has no upper bound.
    d = distances["RAM-7"]
    assert d.density[d.grid < 6.0].sum() == 0 and np.isinf(d.upper)
    assert f"(b) reflected at {reflection_points(d)[0]:g} px;" in caption
    # The floors: the bandwidth of values without spread.
    step_floor = duration_density([3, 3, 3]).bandwidth
    px_floor = distance_density([7.0, 7.0]).bandwidth
    assert f"floored at {step_floor:g} steps" in caption
    assert f"floored at {px_floor:g} px" in caption
    assert "Dots: exact share of fixations of each duration (whole glimpse steps)" in caption
    # The figure shows the caption; continuous durations have no dots, hence no "Dots".
    assert density_figure(durations, distances).get_supxlabel() == density_caption(
        durations, distances)
    ms = {"human": duration_density([180.0, 250.0, 400.0], unit="ms")}
    text = density_caption(ms, {})
    assert "(a) reflected at 0 ms; bandwidth rule floored at 1 ms." in text
    assert "Dots" not in text and "(b)" not in text
    given = density_caption({"a": duration_density(short, bw_method=0.8)}, {})
    assert "bandwidth given (no floor)" in given
