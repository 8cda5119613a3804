import numpy as np
import pandas as pd
import pytest

from gazekit.schema import ScanpathError, key_columns, scanpath_codes, validate


def table(**columns):
    base = {"model": ["a", "a", "b", "a"], "image_id": [1, 1, 1, 2], "step": [1, 0, 0, 0],
            "x": [1.0, 2.0, 3.0, 4.0], "y": [0.0, 0.0, 0.0, 0.0]}
    return pd.DataFrame({**base, **columns})


def test_validate_sorts_by_scanpath_then_step_and_numbers_scanpaths():
    out = validate(table())
    # Scanpaths in order of first appearance: (a, 1), (b, 1), (a, 2); steps ascending inside.
    assert out["_scanpath"].tolist() == [0, 0, 1, 2]
    assert out["step"].tolist() == [0, 1, 0, 0]
    assert out["x"].tolist() == [2.0, 1.0, 3.0, 4.0]
    assert out["step"].dtype == np.int64 and out["x"].dtype == np.float64


def test_scanpath_codes_match_groupby_on_random_keys():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"model": rng.choice(["ram", "mram", "dram"], 500),
                       "dataset": rng.choice(["mnist", "fmnist"], 500),
                       "image_id": rng.integers(0, 40, 500)})
    keys = ["model", "dataset", "image_id"]
    expected = df.groupby(keys, sort=False).ngroup().to_numpy()
    assert np.array_equal(scanpath_codes(df, keys), expected)


def test_scanpath_starts_give_the_same_table():
    """Numbering by known runs (as gazekit.io does) equals numbering by the key values."""
    rng = np.random.default_rng(2)
    lengths = rng.integers(1, 6, 40)
    df = pd.DataFrame({
        "model": np.repeat(rng.choice(["ram", "mram"], 40), lengths),
        "image_id": np.repeat(np.arange(40), lengths),
        "step": np.concatenate([rng.permutation(k) for k in lengths]),  # unsorted within runs
        "x": rng.integers(0, 28, lengths.sum()),  # integers, converted to float64
        "y": rng.uniform(0, 28, lengths.sum()),
    })
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    want = validate(df)
    pd.testing.assert_frame_equal(validate(df, scanpath_starts=starts), want)
    assert want["_scanpath"].tolist() == np.repeat(np.arange(40), lengths).tolist()


def test_validate_leaves_its_input_alone():
    df = table()
    before = df.copy()
    out = validate(df)
    out["y"] += 1.0
    out.loc[0, "model"] = "z"
    pd.testing.assert_frame_equal(df, before)


def test_float_and_integer_steps_agree():
    pd.testing.assert_frame_equal(validate(table(step=[1.0, 0.0, 0.0, 0.0])), validate(table()))


def test_key_columns():
    assert key_columns(["scanpath_id", "model", "step"]) == ["scanpath_id"]
    assert key_columns(["model", "image_id", "x"]) == ["model", "image_id"]
    with pytest.raises(ScanpathError, match="missing column 'scanpath_id'"):
        key_columns(["step", "x", "y"], "f.csv")


@pytest.mark.parametrize("change, message", [
    ({"x": [1.0, np.nan, 3.0, 4.0]}, r"f\.parquet: column 'x' row 1: expected a finite number"),
    ({"step": [0, -1, 0, 0]}, "column 'step' row 1: expected a non-negative integer"),
    ({"step": [0, 0.5, 0, 0]}, "column 'step' row 1: expected a non-negative integer"),
    ({"step": [0, 0, 0, 0]}, "step 0 appears twice in one scanpath"),
    ({"model": ["a", None, "b", "a"]}, "column 'model' row 1: missing value"),
    ({"t": [0.0, "later", 1.0, 2.0]}, "column 't' row 1: expected a finite number"),
])
def test_validate_errors_name_file_column_and_row(change, message):
    with pytest.raises(ScanpathError, match=message):
        validate(table(**change), "f.parquet")


def test_validate_rejects_empty_and_missing_columns():
    with pytest.raises(ScanpathError, match="no rows"):
        validate(table().iloc[:0], "f.csv")
    with pytest.raises(ScanpathError, match="missing column 'y'"):
        validate(table().drop(columns="y"), "f.csv")
