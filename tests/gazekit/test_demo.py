"""Tests of the synthetic demo data: determinism, labels, and the intended policy differences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gazekit.demo import demo_path, synthetic_scanpaths, write_demo_data
from gazekit.schema import validate


def test_shipped_file_equals_regenerated_data():
    path = demo_path()
    assert path.name == "demo_scanpaths.parquet" and path.stat().st_size < 500_000
    pd.testing.assert_frame_equal(pd.read_parquet(path), synthetic_scanpaths())


def test_write_demo_data_round_trips(tmp_path):
    path = write_demo_data(tmp_path / "demo.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(path), pd.read_parquet(demo_path()))


def test_shape_labels_and_bounds():
    df = synthetic_scanpaths(n_per_policy=20, steps=5, image_size=10, seed=3)
    assert len(df) == 3 * 20 * 5
    assert df["model"].unique().tolist() == [
        "synthetic-saccadic", "synthetic-fixational", "synthetic-mixed"]
    assert set(df["policy"]) == {"synthetic"} and set(df["dataset"]) == {"synthetic"}
    assert df[["x", "y"]].min().min() >= 0 and df[["x", "y"]].max().max() <= 10
    table = validate(df)  # a valid scanpath table, already in scanpath/step order
    assert table["_scanpath"].nunique() == 60
    np.testing.assert_array_equal(table["x"], df["x"])
    pd.testing.assert_frame_equal(synthetic_scanpaths(20, 5, 10, seed=3), df)
    assert not synthetic_scanpaths(20, 5, 10, seed=4).equals(df)


def test_policies_differ_in_the_intended_direction():
    # Independent of gazekit.segment: consecutive 6 px rule by hand, per scanpath row blocks.
    df = synthetic_scanpaths(n_per_policy=300, seed=1)
    steps = 12
    xy = df[["x", "y"]].to_numpy().reshape(-1, steps, 2)
    jumps = np.linalg.norm(np.diff(xy, axis=1), axis=2) >= 6.0  # (scanpaths, steps - 1)
    model = df["model"].to_numpy()[::steps]
    fixations = 1 + jumps.sum(axis=1)
    mean_duration = {m: steps * (model == m).sum() / fixations[model == m].sum()
                     for m in np.unique(model)}
    jump_share = {m: jumps[model == m].mean() for m in np.unique(model)}
    assert mean_duration["synthetic-saccadic"] < mean_duration["synthetic-mixed"] \
        < mean_duration["synthetic-fixational"]
    assert jump_share["synthetic-saccadic"] > 0.8 and jump_share["synthetic-fixational"] < 0.2
    assert 0.35 < jump_share["synthetic-mixed"] < 0.65


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_per_policy"):
        synthetic_scanpaths(n_per_policy=0)
