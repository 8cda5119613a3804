"""zoo.plot: the coarse window of multi-scale models and the row labels (the Fig. 2 basics are
tested with the `zoo plot` command in test_cli.py)."""

from __future__ import annotations

import numpy as np
import torch

from zoo.plot import _row_label, glimpse_squares, plot_glimpses
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
