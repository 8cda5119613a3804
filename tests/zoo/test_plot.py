"""zoo.plot: window outlines, image choice, shapes, the coarse window of multi-scale models and
the row labels (the `zoo plot` command end to end is in test_cli.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from gazekit.plot import group_colors
from zoo.plot import (
    _row_label,
    glimpse_squares,
    model_colors,
    pick_images,
    plot_glimpses,
    scanpath_array,
)
from zoo.sensor import patch_origin, to_pixels


def test_coarse_window_is_the_patch_the_sensor_reads():
    # The 2-scale sensor reads a 16 px patch around the same centre as the 8 px one.
    torch.manual_seed(0)
    locations = torch.rand(50, 2) * 2.2 - 1.1  # some past the border: clamped
    height, width = 48, 40
    centres = to_pixels(locations.clamp(-1, 1), height, width).double().numpy()
    for side in (8, 16):
        origin = patch_origin(locations, height, width, side).numpy()
        squares = glimpse_squares(centres, side)
        np.testing.assert_array_equal(squares[:, 0], origin)
        np.testing.assert_array_equal(squares[:, 2], origin + side)


def test_multi_scale_rows_get_one_dashed_square_per_glimpse(tmp_path):
    rng = np.random.default_rng(0)
    images, paths = rng.random((2, 28, 28)), rng.random((2, 3, 2)) * 28
    rows = {"RAM-3": paths, "RAM-3-2scales": paths, "RAM-3-3scales": paths}
    svg = plot_glimpses(images, rows, tmp_path / "f",
                        scales={"RAM-3": 1, "RAM-3-2scales": 2, "RAM-3-3scales": 3})[1]
    assert svg.read_text().count("stroke-dasharray") == 2 * 2 * 3  # 2 rows x 2 images x 3
    svg = plot_glimpses(images, {"RAM-3": paths}, tmp_path / "g")[1]
    assert "stroke-dasharray" not in svg.read_text()


def test_row_labels_break_before_scales_and_notes():
    assert _row_label("MRAM-12") == "MRAM-12"
    assert _row_label("MRAM-12-2scales (untrained)") == "MRAM-12\n2 scales\n(untrained)"
    assert _row_label("DRAM-7 (untrained)") == "DRAM-7\n(untrained)"


def test_glimpse_squares_follow_the_sensor_rounding_rule():
    # centre 10.5 px, side 8: top-left floor(10.5 - 4 + 0.5) = 7; centre 3.2: floor(-0.3) = -1
    squares = glimpse_squares(np.array([[10.5, 3.2]]), 8)
    np.testing.assert_array_equal(
        squares[0], [[7, -1], [15, -1], [15, 7], [7, 7], [7, -1]])


def test_scanpath_array_and_pick_images():
    # two models, three images (labels 1, 0, 1), steps stored out of order
    table = pd.DataFrame({
        "row": ["A"] * 6 + ["B"] * 3,
        "image_id": [0, 0, 1, 1, 2, 2, 2, 1, 0],
        "label": [1, 1, 0, 0, 1, 1, 1, 0, 1],
        "step": [1, 0, 0, 1, 0, 1, 0, 0, 0],
        "x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
        "y": [0.0] * 9,
    })
    ids = pick_images(table)  # first image of each class, classes in order
    np.testing.assert_array_equal(ids, [1, 0])
    a = scanpath_array(table, "A", ids)
    np.testing.assert_array_equal(a[..., 0], [[3.0, 4.0], [2.0, 1.0]])
    np.testing.assert_array_equal(scanpath_array(table, "B", np.array([2, 0]))[..., 0],
                                  [[7.0], [9.0]])
    with pytest.raises(ValueError, match="'A'"):
        scanpath_array(table, "A", np.array([0, 7]))


def test_plot_glimpses_checks_shapes(tmp_path):
    images = np.zeros((2, 28, 28))
    with pytest.raises(ValueError, match="rows\\['MRAM'\\]"):
        plot_glimpses(images, {"MRAM": np.zeros((3, 4, 2))}, tmp_path / "f")
    paths = plot_glimpses(images, {"MRAM": np.full((2, 4, 2), 14.0)}, tmp_path / "f.png",
                          titles=["a", "b"], numbers=True)
    assert [p.name for p in paths] == ["f.png", "f.svg"]


def _luminance(rgb) -> float:
    return float(np.dot(rgb, [0.2126, 0.7152, 0.0722]))


def test_model_colors_depend_on_the_label_alone():
    alone = model_colors(["RAM-12"])
    crowd = model_colors(["CNN", "RAM-7", "RAM-12", "MRAM-12", "DRAM-nocontext-12-2scales",
                          "human"])
    assert alone["RAM-12"] == crowd["RAM-12"]
    assert "human" not in crowd  # unknown family: left to group_colors
    assert len(set(crowd.values())) == len(crowd)
    # Same hue per family: RAM-7 is RAM-12 mixed with 45 % white; 2 scales 35 % darker.
    ram12, ram7 = np.array(crowd["RAM-12"]), np.array(crowd["RAM-7"])
    np.testing.assert_allclose(ram7, ram12 + 0.45 * (1 - ram12))
    assert _luminance(ram7) > _luminance(ram12)
    dram = np.array(model_colors(["DRAM-nocontext-12"])["DRAM-nocontext-12"])
    np.testing.assert_allclose(crowd["DRAM-nocontext-12-2scales"], 0.65 * dram)
    assert model_colors(["MRAM-12 (untrained)"])["MRAM-12 (untrained)"] == \
        model_colors(["MRAM-12"])["MRAM-12"]
    # The CNN's saliency scanpaths ("CNN-saliency-12") keep the CNN's grey.
    assert model_colors(["CNN-saliency-12"])["CNN-saliency-12"] == model_colors(["CNN"])["CNN"]
    assert model_colors(["XYZ-12"]) == {}


def test_group_colors_keep_fixed_colours_and_avoid_them_for_the_rest():
    fixed = model_colors(["MRAM-12", "DRAM-12"])
    colors = group_colors(["MRAM-12", "DRAM-12", "human", "other"], fixed)
    assert colors["MRAM-12"] == fixed["MRAM-12"] and colors["DRAM-12"] == fixed["DRAM-12"]
    assert len(set(colors.values())) == 4  # the free groups take no fixed colour
    # Without fixed colours: sorted-name assignment as before.
    assert group_colors(["b", "a"]) == group_colors(["a", "b", "a"])
