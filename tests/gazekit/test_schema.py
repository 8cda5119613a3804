import re

import numpy as np
import pandas as pd
import pytest

from gazekit.schema import (
    ScanpathError,
    TableParts,
    check_per_scanpath,
    key_columns,
    row_name,
    scanpath_codes,
    validate,
)


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
    ({"x": [1.0, np.nan, 3.0, 4.0]},
     r"f\.parquet: column 'x' row 1 \(index label\): expected a finite number"),
    ({"step": [0, -1, 0, 0]}, r"column 'step' row 1 \(index label\): expected a non-negative"),
    ({"step": [0, 0.5, 0, 0]}, r"column 'step' row 1 \(index label\): expected a non-negative"),
    ({"step": [0, 0, 0, 0]}, r"row 1 \(index label\): step 0 appears twice in one scanpath "
                             r"\(model='a', image_id=1\)"),
    ({"model": ["a", None, "b", "a"]}, r"column 'model' row 1 \(index label\): missing value"),
    ({"t": [0.0, "later", 1.0, 2.0]},
     r"column 't' row 1 \(index label\): expected a finite number \(milliseconds\), "
     "got 'later'"),
])
def test_validate_errors_name_file_column_and_row(change, message):
    with pytest.raises(ScanpathError, match=message):
        validate(table(**change), "f.parquet")


def test_row_names():
    assert row_name(3) == "row 3 (index label)"
    assert row_name(3, "row") == "row 3 (0-based)"
    assert row_name(3, lambda label: f"line {label + 2}") == "line 5"  # gazekit.io's CSV lines
    with pytest.raises(ValueError, match="rows must be one of label, row or a function"):
        validate(table(), rows="line")
    with pytest.raises(ScanpathError, match="column 'x' line 3: expected a finite number"):
        validate(table(x=[1.0, np.nan, 3.0, 4.0]), rows=lambda label: f"line {label + 2}")


def timed(t=None, duration=None, **columns):
    """Two scanpaths of ``scanpath_id`` a (steps 0-3, listed in order) and b (steps 0-1)."""
    df = pd.DataFrame({"scanpath_id": ["a"] * 4 + ["b"] * 2, "step": [0, 1, 2, 3, 0, 1],
                       "x": np.arange(6.0), "y": 0.0, **columns})
    if t is not None:
        df["t"] = t
    if duration is not None:
        df["duration"] = duration
    return df


@pytest.mark.parametrize("t, duration, message", [
    # The reviewer's case: time goes back within scanpath a (a -50 ms fixation before).
    ([0, 100, 50, 80, 0, 10], None,
     r"column 't' row 2 \(index label\): onset 50\.0 ms at step 2 is not after 100\.0 ms at "
     r"step 1 of the same scanpath \(expected times strictly increasing with step\)"),
    ([0, 100, 100, 180, 0, 10], None, "column 't' row 2 .*not after 100.0 ms"),  # equal onsets
    ([0, 10, 20, np.inf, 0, 10], None, r"column 't' row 3 .*expected a finite number"),
    ([0, 10, 20, np.nan, 0, 10], None, r"column 't' row 3 .*expected a finite number"),
    (None, [10, 10, -5, 10, 10, 10],
     r"column 'duration' row 2 \(index label\): expected a positive finite number "
     r"\(milliseconds\), got -5"),
    (None, [10, 10, 10, 10, 0, 10], "column 'duration' row 4 .*positive finite.*got 0"),
    (None, [10, 10, 10, 10, 10, np.nan], "column 'duration' row 5 .*positive finite.*got nan"),
    (None, [10, np.inf, 10, 10, 10, 10], "column 'duration' row 1 .*positive finite.*got inf"),
])
def test_times_must_be_finite_increasing_and_durations_positive(t, duration, message):
    with pytest.raises(ScanpathError, match=f"^f\\.csv: {message}"):
        validate(timed(t, duration), "f.csv")


def test_time_checks_follow_step_order_within_each_scanpath():
    # Rows out of step order, time going up with step; each scanpath starts its own clock.
    df = timed([0, 100, 50, 80, 5, 1]).iloc[[0, 2, 3, 1, 5, 4]]
    df["t"] = [0.0, 50.0, 80.0, 100.0, 1.0, 5.0]  # steps 0, 2, 3, 1, 1, 0 -> not increasing
    # In step order scanpath a has 0, 100, 50, 80 ms: the row labelled 2 (step 2) goes back.
    with pytest.raises(ScanpathError, match=r"column 't' row 2 \(index label\): onset 50\.0 ms "
                                            r"at step 2 is not after 100\.0 ms at step 1"):
        validate(df)
    df["t"] = [0.0, 50.0, 80.0, 20.0, 9.0, 5.0]  # increasing with step in both scanpaths
    out = validate(df)
    assert out["t"].tolist() == [0.0, 20.0, 50.0, 80.0, 5.0, 9.0]


def test_empty_time_columns_count_as_absent():
    """The documented convention (human fixation lists without onsets): all-NaN t/duration."""
    out = validate(timed([np.nan] * 6, [np.nan] * 6))
    assert out["t"].isna().all() and out["duration"].isna().all()
    out = validate(timed([0.0, 1.0, 2.0, 3.0, 0.0, 0.5], [1.0, 1.0, 1.0, 1.0, 0.5, 0.5]))
    assert out["duration"].tolist() == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5]


@pytest.mark.parametrize("column", ["image_width", "image_height", "glimpse_size"])
@pytest.mark.parametrize("bad", [0.0, -28.0, np.nan, np.inf, "wide"])
def test_sizes_must_be_positive_and_finite(column, bad):
    values = [28.0] * 6
    values[4] = bad
    with pytest.raises(ScanpathError, match=f"^f\\.csv: column '{column}' row 4 \\(index "
                                            r"label\): expected a positive finite number "
                                            r"\(pixels\), got "):
        validate(timed(**{column: values}), "f.csv")
    with pytest.raises(ScanpathError, match=f"column '{column}' row 0"):  # all of them
        validate(timed(**{column: [bad] * 6}), "f.csv")
    assert validate(timed(**{column: [28, 28, 28, 28, 32, 32]}))[column].dtype == np.float64


@pytest.mark.parametrize("column, values", [
    ("model", ["m", "n", "m", "m", "m", "m"]),  # the reviewer's case
    ("policy", pd.Categorical(["mean", "mean", "mean", "mean", "mean", "sampled"])),
    ("label", [1, 1, 1, 1, 2, 3]),
    ("image_width", [28.0, 28.0, 28.0, 32.0, 28.0, 28.0]),
    ("correct", [True, True, True, True, False, True]),
    ("dataset", ["d", "d", "d", None, "d", "d"]),  # a missing value differs from a value
])
def test_per_scanpath_columns_must_not_vary_within_a_scanpath(column, values):
    df = timed(**{column: values})
    with pytest.raises(ScanpathError, match=f"^f\\.csv: column '{column}' row \\d+ \\(index "
                                            r"label\): value .* differs from .* earlier in the "
                                            r"same scanpath \(scanpath_id='[ab]'\); expected "
                                            "one value per scanpath"):
        validate(df, "f.csv")
    # In step order: row 1 of scanpath a comes first here, its step-0 row last.
    shuffled = df.iloc[[1, 2, 3, 0, 4, 5]]
    with pytest.raises(ScanpathError, match=f"column '{column}'"):
        validate(shuffled)


def test_per_scanpath_columns_may_differ_between_scanpaths():
    df = timed(model=["m"] * 4 + ["n"] * 2, label=[np.nan] * 4 + [2.0, 2.0],
               policy=pd.Categorical([None] * 4 + ["mean"] * 2))
    out = validate(df)
    assert out["model"].tolist() == ["m"] * 4 + ["n"] * 2
    # A key column defines the scanpaths, so it cannot vary within one.
    keyed = timed().drop(columns="scanpath_id").assign(model=["m"] * 3 + ["n"] * 3,
                                                       image_id=[0] * 4 + [1] * 2)
    assert validate(keyed)["_scanpath"].tolist() == [0, 0, 0, 1, 2, 2]


def test_check_per_scanpath_on_a_validated_table():
    out = validate(timed(model=["m"] * 4 + ["n"] * 2))
    check_per_scanpath(out, ["model"])
    out.loc[3, "model"] = "n"
    with pytest.raises(ScanpathError, match=r"column 'model' row 3 \(index label\): value 'n' "
                                            r"differs from 'm'"):
        check_per_scanpath(out, ["model"])
    with pytest.raises(ScanpathError, match="missing column '_scanpath'"):
        check_per_scanpath(out.drop(columns="_scanpath"), ["model"])


def test_validate_rejects_empty_and_missing_columns():
    with pytest.raises(ScanpathError, match="no rows"):
        validate(table().iloc[:0], "f.csv")
    with pytest.raises(ScanpathError, match="missing column 'y'"):
        validate(table().drop(columns="y"), "f.csv")


def in_parts(df: pd.DataFrame, cuts: list[int]) -> pd.DataFrame:
    """validate ``df`` in parts (cut before the row positions ``cuts``), as gazekit.io does."""
    parts = TableParts()
    bounds = [0, *cuts, len(df)]
    out = [validate(df.iloc[a:b], "f.csv", parts=parts)
           for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    parts.finish("f.csv")
    return pd.concat(out)


def test_time_column_empty_in_the_last_part_only():
    """The reviewer's case: every scanpath has onsets but the last, read as a part of its own."""
    df = timed([0.0, 10.0, 20.0, 30.0, np.nan, np.nan])
    message = r"^f\.csv: column 't' row 4 \(index label\): expected a finite number .*got nan"
    with pytest.raises(ScanpathError, match=message):
        validate(df, "f.csv")
    with pytest.raises(ScanpathError, match=message):
        in_parts(df, [4])
    # Empty in the first part only: the first row of the table is the first wrong one.
    with pytest.raises(ScanpathError, match=r"column 't' row 0 \(index label\)"):
        in_parts(timed([np.nan] * 4 + [0.0, 1.0]), [4])
    # Empty in every part: absent, as for the whole table.
    out = in_parts(timed([np.nan] * 6, [np.nan] * 6), [4])
    assert out["t"].isna().all() and out["duration"].isna().all()


def reference_error(df: pd.DataFrame, time: str) -> str | None:
    """The rules on whole tables, by hand: the first wrong row of the time column (unless it
    is all NaN), else whether the coordinates look normalised."""
    values = df[time].to_numpy(float)
    bad = ~np.isfinite(values) | (values <= 0 if time == "duration" else False)
    if bad.any() and not np.isnan(values).all():
        return f"column '{time}' row {df.index[np.argmax(bad)]} (index label)"
    xy = df[["x", "y"]].to_numpy()
    sizes = df.filter(["image_width", "image_height"]).to_numpy()
    if (np.abs(xy) <= 1).all() and (xy < 0).any() and (sizes > 2).all():
        return "columns 'x' and 'y': every value lies within [-1, 1], some negative"
    return None


@pytest.mark.parametrize("seed", range(300))
def test_parts_give_the_verdict_of_the_whole_table(seed):
    """Random tables cut into parts at random scanpath boundaries: validating the parts with
    one TableParts raises what validating the whole table raises, and the reference says."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 4, rng.integers(1, 7))
    n = int(lengths.sum())
    time = str(rng.choice(["t", "duration"]))
    # Per scanpath: times all finite (mostly), all missing, or partly missing.
    state = np.repeat(rng.choice(3, len(lengths), p=[0.6, 0.3, 0.1]), lengths)
    values = np.concatenate([np.arange(k) * 10.0 + 5.0 for k in lengths])
    values[(state == 1) | ((state == 2) & (rng.random(n) < 0.5))] = np.nan
    # Per scanpath: pixels or [-1, 1]; image sizes absent, large or tiny.
    scale = np.repeat(rng.choice([28.0, 1.0], len(lengths), p=[0.3, 0.7]), lengths)
    df = pd.DataFrame({"scanpath_id": np.repeat(np.arange(len(lengths)), lengths),
                       "step": np.concatenate([np.arange(k) for k in lengths]),
                       "x": rng.uniform(-1, 1, n) * scale, "y": rng.uniform(-1, 1, n) * scale,
                       time: values})
    if rng.random() < 0.7:
        df["image_width"] = np.repeat(rng.choice([28.0, 2.0], len(lengths), p=[0.8, 0.2]),
                                      lengths)
    boundaries = np.cumsum(lengths)[:-1]
    cuts = sorted(rng.choice(boundaries, rng.integers(0, len(boundaries) + 1), replace=False))
    want = reference_error(df, time)
    for check in (lambda: validate(df, "f.csv"), lambda: in_parts(df, cuts)):
        if want is None:
            check()
        else:
            with pytest.raises(ScanpathError, match="^f\\.csv: " + re.escape(want)):
                check()


@pytest.mark.parametrize("x, y, sizes", [
    ([0.5, -0.25, 1.0, -1.0, 0.0, 0.75], [0.0] * 6, {"image_width": 28.0, "image_height": 28.0}),
    ([0.5, 0.25, 1.0, 0.0, 0.0, 0.75], [0.0, 0.0, 0.0, -0.5, 0.0, 0.0], {}),  # sizes unknown
])
def test_normalised_coordinates_are_rejected(x, y, sizes):
    message = (r"^f\.csv: columns 'x' and 'y': every value lies within \[-1, 1\], some "
               r"negative.*look normalised to \[-1, 1\], not in pixels; expected pixels from "
               r"the image's top-left corner \(x from 0 to image_width")
    with pytest.raises(ScanpathError, match=message):
        validate(timed(**sizes).assign(x=x, y=y), "f.csv")
    if sizes:
        with pytest.raises(ScanpathError, match=r"\(with image_width >= 28 px and "
                                                r"image_height >= 28 px\)"):
            validate(timed(**sizes).assign(x=x, y=y))


@pytest.mark.parametrize("change", [
    {"x": [0.5, 0.25, 1.0, 1.0, 0.0, 0.75]},  # no negative value: pixels near the corner
    {"x": [0.5, -0.25, 1.0, 1.5, 0.0, 0.75]},  # one value beyond 1
    {"y": [0.0, 0.0, 0.0, 0.0, 0.0, -1.01]},
    {"image_width": [28.0] * 4 + [2.0] * 2},  # an image of 2 px: pixels within [-1, 1] are real
    {"image_height": [2.0] * 6},
])
def test_pixels_near_the_corner_are_accepted(change):
    df = timed(image_width=28.0, image_height=28.0).assign(
        x=[0.5, -0.25, 1.0, -1.0, 0.0, 0.75], y=0.0).assign(**change)
    pd.testing.assert_frame_equal(validate(df).drop(columns="_scanpath"),
                                  df.reset_index(drop=True), check_dtype=False)


# --- issue 17: values that wrapped around, overflowed or flooded the message -----------------


@pytest.mark.parametrize("step", [
    pd.Series([0.0, 1.0, 1e20, 3.0]),  # float beyond int64
    pd.Series([0.0, 1.0, 2.0**63, 3.0]),  # the first float past int64's range
    pd.Series([0, 1, 2**63 + 5, 3], dtype=np.uint64),
    pd.Series(["0", "1", "9223372036854775808", "3"]),  # text, as a CSV reader may give it
])
def test_steps_beyond_int64_are_an_error_not_a_wrap_around(step):
    df = table(step=step)
    with pytest.raises(ScanpathError, match=r"^f.csv: column 'step' row 2 \(index label\): "
                                            r"expected a non-negative integer below 2\*\*63"):
        validate(df, "f.csv")


def test_the_largest_steps_are_kept_exactly():
    big = np.iinfo(np.int64).max
    out = validate(table(step=pd.Series([1, 0, big, 2**62], dtype=np.uint64)))
    assert out["step"].dtype == np.int64 and out["step"].tolist() == [0, 1, big, 2**62]
    out = validate(table(step=["1", "0", str(big), "0"]))
    assert out["step"].tolist() == [0, 1, big, 0]


@pytest.mark.parametrize("value", [1e300, -1.7e308, 1e7 + 1])
@pytest.mark.parametrize("column", ["x", "y", "image_width"])
def test_coordinates_and_sizes_beyond_the_pixel_range_are_rejected(column, value):
    # A size is one value per scanpath: all rows; a coordinate: row 1.
    values, row = ([abs(value)] * 4, 0) if column == "image_width" else ([1, value, 3, 4], 1)
    with pytest.raises(ScanpathError, match=rf"column '{column}' row {row} \(index label\): "
                       r"expected a (positive )?finite number \(pixels\) of magnitude at most "
                       "10000000, got"):
        validate(table(**{column: values}))
    validate(table(**{column: [1e7] * 4}))  # the bound itself is allowed


def test_repeated_column_names_are_an_error():
    df = pd.concat([table(), table()[["x"]]], axis=1)
    with pytest.raises(ScanpathError, match=r"^f: column 'x' appears more than once"):
        validate(df, "f")


def test_messages_cut_long_values():
    long_id = "m" * 1_000_000
    df = table(model=[long_id] * 4, step=[0, 1, 1, 2], image_id=[1] * 4)
    with pytest.raises(ScanpathError, match="appears twice") as info:
        validate(df)
    message = str(info.value)
    assert len(message) < 400 and "(1000002 characters)" in message
