import pytest

from gazekit.plot import COLORBLIND, colorblind_palette, group_colors


def test_palette_is_seaborns_colorblind():
    sns = pytest.importorskip("seaborn")  # no dependency of gazekit: compared where present
    assert colorblind_palette(23) == list(sns.color_palette("colorblind", 23))


def test_palette_cycles_after_ten_and_fixed_colours_are_skipped():
    palette = colorblind_palette(12)
    assert len(COLORBLIND) == 10 and palette[10:] == palette[:2]
    colors = group_colors(["b", "a"], fixed={"x": COLORBLIND[0]})
    assert colors["x"] == palette[0]
    assert [colors["a"], colors["b"]] == palette[1:3]
