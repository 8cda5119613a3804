"""Tests of gazekit.io and the modules it uses (paths, rawframes, assembly, parquet): reading whole
files, streaming chunks, errors, Parquet outputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gazekit.io import (
    expand_paths,
    find_inputs,
    iter_scanpath_chunks,
    read_scanpaths,
    write_parquet_atomic,
)
from gazekit.schema import ScanpathError, validate


def scanpaths(lengths: list[int], model: str = "m", seed: int = 0) -> pd.DataFrame:
    """Scanpaths of the given lengths, keyed by (model, image_id), steps in order."""
    rng = np.random.default_rng(seed)
    n = sum(lengths)
    return pd.DataFrame({
        "model": model,
        "image_id": np.repeat(np.arange(len(lengths)), lengths),
        "step": np.concatenate([np.arange(k) for k in lengths]),
        "x": rng.uniform(0, 28, n).round(3),
        "y": rng.uniform(0, 28, n).round(3),
    })


def write_parquet(df: pd.DataFrame, path, row_group_size: int | None = None):
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path,
                   row_group_size=row_group_size)
    return path


def expected(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Independent expectation: rows as written, with a scanpath number per (file, key) run."""
    parts, offset = [], 0
    for df in frames:
        codes = (df[["model", "image_id"]].ne(df[["model", "image_id"]].shift())).any(axis=1)
        out = df.reset_index(drop=True).copy()
        out["_scanpath"] = (codes.cumsum() - 1 + offset).to_numpy(np.int64)
        offset = int(out["_scanpath"].iloc[-1]) + 1
        parts.append(out)
    return pd.concat(parts, ignore_index=True)


def test_read_single_parquet(tmp_path):
    df = scanpaths([3, 1, 4])
    got = read_scanpaths(write_parquet(df, tmp_path / "a.parquet"))
    pd.testing.assert_frame_equal(got, expected([df]))
    assert got["_scanpath"].tolist() == [0, 0, 0, 1, 2, 2, 2, 2]


def test_read_several_files_and_directory(tmp_path):
    a, b = scanpaths([2, 3], model="a"), scanpaths([4], model="b", seed=1)
    write_parquet(a, tmp_path / "1.parquet")
    b.to_csv(tmp_path / "2.csv", index=False)
    (tmp_path / "notes.txt").write_text("ignored: not a scanpath file")
    want = expected([a, b.astype({"image_id": str})])  # CSV keys are read as text
    pd.testing.assert_frame_equal(
        read_scanpaths([tmp_path / "1.parquet", tmp_path / "2.csv"]), want)
    pd.testing.assert_frame_equal(read_scanpaths(tmp_path), want)
    assert find_inputs(tmp_path) == [tmp_path / "1.parquet", tmp_path / "2.csv"]


def test_read_csv_and_tsv_sort_steps(tmp_path):
    df = scanpaths([3, 2])
    shuffled = df.iloc[[2, 0, 1, 4, 3]]  # steps out of order inside contiguous scanpaths
    shuffled.to_csv(tmp_path / "s.csv", index=False)
    shuffled.to_csv(tmp_path / "s.tsv", index=False, sep="\t")
    want = expected([df.astype({"image_id": str})])  # CSV keys are read as text
    pd.testing.assert_frame_equal(read_scanpaths(tmp_path / "s.csv"), want)
    pd.testing.assert_frame_equal(read_scanpaths(tmp_path / "s.tsv"), want)


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 5, 7, 100])
def test_chunks_match_whole_read(tmp_path, chunk_rows):
    lengths = [5, 1, 7, 2, 6, 3]
    a, b = scanpaths(lengths, model="a"), scanpaths([4, 4], model="b", seed=2)
    write_parquet(a, tmp_path / "a.parquet", row_group_size=4)  # scanpaths span row groups
    b.to_csv(tmp_path / "b.csv", index=False)
    paths = [tmp_path / "a.parquet", tmp_path / "b.csv"]
    chunks = list(iter_scanpath_chunks(paths, chunk_rows=chunk_rows))
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), read_scanpaths(paths))
    for chunk in chunks:  # every chunk holds whole scanpaths
        sizes = chunk.groupby("_scanpath").size()
        whole = expected([a, b]).groupby("_scanpath").size()
        pd.testing.assert_series_equal(sizes, whole.loc[sizes.index])
    assert [c.attrs["source"] for c in chunks][-1] == str(tmp_path / "b.csv")


def categorical(df: pd.DataFrame, categories: list[str]) -> pd.DataFrame:
    return df.assign(model=pd.Categorical(df["model"], categories=categories))


@pytest.mark.parametrize("chunk_rows", [2, 3, 100])
def test_dictionary_columns_become_categoricals_with_all_values(tmp_path, chunk_rows):
    """Categorical columns written by pandas: one dtype in every chunk, categories of all files."""
    a = categorical(scanpaths([3, 2, 4], model="b"), ["b", "unused"])
    b = categorical(scanpaths([2, 3], model="a", seed=1), ["a"])
    write_parquet(a, tmp_path / "1.parquet", row_group_size=2)  # a dictionary per row group
    write_parquet(b, tmp_path / "2.parquet")
    chunks = list(iter_scanpath_chunks(tmp_path, chunk_rows=chunk_rows))
    kind = pd.CategoricalDtype(["b", "unused", "a"])
    assert all(chunk["model"].dtype == kind for chunk in chunks)
    got = read_scanpaths(tmp_path)
    assert got["model"].dtype == kind
    want = expected([a, b])
    pd.testing.assert_frame_equal(got.astype({"model": str}), want.astype({"model": str}))
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), got)


def test_dictionary_column_plain_in_another_file_is_decoded(tmp_path):
    a = categorical(scanpaths([2, 1], model="b"), ["b"])
    b = scanpaths([2], model="a", seed=1)
    write_parquet(a, tmp_path / "1.parquet")
    write_parquet(b, tmp_path / "2.parquet")
    got = read_scanpaths(tmp_path)
    assert got["model"].dtype == b["model"].dtype  # plain strings, as in the second file
    pd.testing.assert_frame_equal(got, expected([a.astype({"model": str}), b]))


def test_same_categorical_scanpath_in_two_files(tmp_path):
    df = categorical(scanpaths([2, 2]), ["m"])
    write_parquet(df, tmp_path / "a.parquet")
    write_parquet(df.iloc[2:], tmp_path / "b.parquet")
    with pytest.raises(ScanpathError, match=r"b\.parquet: .*image_id=1\) also appears in .*"
                                            r"a\.parquet"):
        read_scanpaths(tmp_path)


def test_progress_bar_counts_rows(tmp_path, capsys):
    df = scanpaths([3, 3, 3])
    write_parquet(df, tmp_path / "a.parquet")
    assert sum(len(c) for c in iter_scanpath_chunks(tmp_path, chunk_rows=2, progress=True)) == 9
    assert "/9.00 " in capsys.readouterr().err  # total rows from the Parquet metadata


@pytest.mark.parametrize("chunk_rows", [2, 100])
def test_non_contiguous_scanpath(tmp_path, chunk_rows):
    df = scanpaths([3, 3])
    broken = pd.concat([df.iloc[:2], df.iloc[3:], df.iloc[2:3]])  # scanpath 0 comes back
    path = write_parquet(broken, tmp_path / "broken.parquet")
    with pytest.raises(ScanpathError, match=r"broken\.parquet: row 5 \(0-based\): scanpath "
                                            r"\(model='m', image_id=0\) appears again"):
        list(iter_scanpath_chunks(path, chunk_rows=chunk_rows))


def test_same_scanpath_in_two_files(tmp_path):
    df = scanpaths([2, 2])
    write_parquet(df, tmp_path / "a.parquet")
    write_parquet(df.iloc[2:], tmp_path / "b.parquet")
    with pytest.raises(ScanpathError, match=r"b\.parquet: .*image_id=1\) also appears in .*"
                                            r"a\.parquet"):
        read_scanpaths(tmp_path)


def test_bad_chunk_rows(tmp_path):
    with pytest.raises(ValueError, match="chunk_rows"):
        next(iter_scanpath_chunks(tmp_path, chunk_rows=0))


def _missing_column(df):
    return df.drop(columns="y")


def _nan_coordinate(df):
    return df.assign(x=df["x"].where(df.index != 4))


def _duplicate_step(df):
    return df.assign(step=df["step"].where(df.index != 2, 1))


def _missing_key(df):
    return df.assign(model=df["model"].where(df.index != 3))


def _time_back(df):
    return df.assign(t=[0.0, 10.0, 20.0, 0.0, 10.0, 5.0, 30.0])  # row 5: back in scanpath 1


def _varying_policy(df):
    return df.assign(policy=["mean"] * 6 + ["sampled"])


def _zero_width(df):
    return df.assign(image_width=[28.0] * 4 + [0.0] * 3)


@pytest.mark.parametrize("break_it, row, message", [
    (_missing_column, None, "missing column 'y'"),
    (_nan_coordinate, 4, r"column 'x' {row}: expected a finite number \(pixels\), got nan"),
    (_duplicate_step, 2, "{row}: step 1 appears twice in one scanpath"),
    (_missing_key, 3, "column 'model' {row}: missing value"),
    (_time_back, 5, "column 't' {row}: onset 5.0 ms at step 2 is not after 10.0 ms"),
    (_varying_policy, 6, "column 'policy' {row}: value 'sampled' differs from 'mean'"),
    (_zero_width, 4, r"column 'image_width' {row}: expected a positive finite number"),
])
@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_schema_errors_name_the_file(tmp_path, break_it, row, message, suffix):
    """Parquet rows are named by their 0-based number, CSV rows by their line in the file."""
    df = break_it(scanpaths([3, 4]))
    path = tmp_path / f"bad{suffix}"
    if suffix == ".csv":
        df.to_csv(path, index=False)
        where = f"line {row + 2}" if row is not None else ""  # line 1 is the header
    else:
        write_parquet(df, path)
        where = fr"row {row} \(0-based\)"
    for read in (read_scanpaths, lambda p: list(iter_scanpath_chunks(p, chunk_rows=2))):
        with pytest.raises(ScanpathError, match=f"^{path}: .*{message.format(row=where)}"):
            read(path)


def test_csv_line_numbers_count_the_header(tmp_path):
    """Hand-checked: the bad value sits on line 4 of the file (the header is line 1)."""
    path = tmp_path / "bad.csv"
    path.write_text("model,image_id,step,x,y\nm,0,0,1,1\nm,0,1,2,2\nm,0,2,oops,3\n")
    with pytest.raises(ScanpathError, match=r"bad\.csv: column 'x' line 4: .* got 'oops'"):
        read_scanpaths(path)


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 4, 100])
def test_csv_keys_are_text_in_every_chunk(tmp_path, chunk_rows):
    """The reviewer's case: image_id text ("a") in the first chunk, integers in the next one."""
    path = tmp_path / "mixed.csv"
    path.write_text("model,image_id,step,x,y\n"
                    "m,a,0,0,0\nm,a,1,1,0\nm,5,0,1,1\n"  # first chunk of 3 rows
                    "m,5,1,2,2\nm,6,0,3,3\n")
    whole = read_scanpaths(path)
    assert whole["image_id"].tolist() == ["a", "a", "5", "5", "6"]
    assert whole["_scanpath"].tolist() == [0, 0, 1, 1, 2]
    chunks = pd.concat(list(iter_scanpath_chunks(path, chunk_rows=chunk_rows)),
                       ignore_index=True)
    pd.testing.assert_frame_equal(chunks, whole)


def test_csv_keys_read_as_text_parquet_keeps_its_types(tmp_path):
    df = scanpaths([2, 3]).assign(scanpath_id=lambda d: d["image_id"] + 10, trial=1,
                                  label=7)
    df.to_csv(tmp_path / "a.csv", index=False)
    write_parquet(df, tmp_path / "a.parquet")
    from_csv = read_scanpaths(tmp_path / "a.csv")
    for key in ("scanpath_id", "model", "image_id", "trial"):
        assert from_csv[key].tolist() == df[key].astype(str).tolist()
    assert from_csv["label"].dtype == np.int64  # not a key: inferred as before
    from_parquet = read_scanpaths(tmp_path / "a.parquet")
    assert from_parquet["image_id"].dtype == np.int64
    assert from_parquet["scanpath_id"].dtype == np.int64


def test_file_errors(tmp_path):
    (tmp_path / "empty.parquet").touch()
    (tmp_path / "text.parquet").write_text("model,step,x,y\nm,0,1,2\n")
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00\x81garbage\n\x00\x9f")
    (tmp_path / "header.csv").write_text("model,step,x,y\n")
    (tmp_path / "data.json").write_text("{}")
    (tmp_path / "nothing").mkdir()
    write_parquet(scanpaths([1]).iloc[:0], tmp_path / "norows.parquet")
    cases = {
        "missing.parquet": "file not found",
        "empty.parquet": r"empty file \(0 bytes\)",
        "text.parquet": r"cannot read as Parquet \(.*\)",
        "binary.csv": r"cannot read as CSV \(.*\)",
        "header.csv": r"no rows \(expected at least one glimpse\)",
        "norows.parquet": r"no rows",
        "data.json": r"unsupported file type '\.json'",
        "nothing": r"directory holds no scanpath file",
    }
    for name, message in cases.items():
        path = tmp_path / name
        with pytest.raises(ScanpathError, match=f"^{path}: {message}") as info:
            read_scanpaths(path)
        assert "\n" not in str(info.value)
    with pytest.raises(ScanpathError, match="no input path"):
        read_scanpaths([])


def test_expand_paths_options(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("b.CSV", "a.tsv", "sub/c.csv", "notes.txt"):
        (tmp_path / name).write_text("x")
    kw = {"given": "thing", "empty": "no things here"}
    a, b, c = tmp_path / "a.tsv", tmp_path / "b.CSV", tmp_path / "sub" / "c.csv"
    suffixes = (".csv", ".tsv")
    assert expand_paths(tmp_path, suffixes, **kw) == [a]
    assert expand_paths(tmp_path, suffixes, ignore_case=True, **kw) == [a, b]
    assert expand_paths([c, tmp_path], suffixes, recursive=True, ignore_case=True,
                        **kw) == [c, a, b, c]
    with pytest.raises(ScanpathError, match=r"notes\.txt: unsupported file type '\.txt' "
                                            r"\(expected one of \.csv, \.tsv\)"):
        expand_paths(tmp_path / "notes.txt", suffixes, **kw)
    assert expand_paths(tmp_path / "notes.txt", suffixes, check_files=False,
                        **kw) == [tmp_path / "notes.txt"]
    with pytest.raises(ScanpathError, match="^no thing given"):
        expand_paths([], suffixes, **kw)
    with pytest.raises(ScanpathError, match="sub: no things here$"):
        expand_paths(tmp_path / "sub", (".tsv",), **kw)


def test_write_parquet_atomic(tmp_path):
    df = scanpaths([2])
    path = write_parquet_atomic(df, tmp_path / "f.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(path), df)
    with pytest.raises(FileExistsError):
        write_parquet_atomic(df, path)
    write_parquet_atomic(df.iloc[:1], path, overwrite=True)
    assert len(pd.read_parquet(path)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["f.parquet"]
    df.to_parquet(tmp_path / "plain.parquet")
    assert path.stat().st_mode == (tmp_path / "plain.parquet").stat().st_mode


def test_parquet_options_encode_by_column_type(tmp_path):
    df = categorical(scanpaths([40, 30]), ["m"])
    df["label"] = (df["image_id"] % 3).astype(np.uint8)
    df["correct"] = df["label"] == 1
    path = write_parquet_atomic(df, tmp_path / "f.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(path), df)
    meta = pq.ParquetFile(path).metadata.row_group(0)
    encodings = {meta.column(i).path_in_schema: meta.column(i).encodings
                 for i in range(meta.num_columns)}
    assert "RLE_DICTIONARY" in encodings["model"]  # (booleans are bit-packed in any case)
    for name in ("image_id", "step", "label"):
        assert "DELTA_BINARY_PACKED" in encodings[name]
        assert "RLE_DICTIONARY" not in encodings[name]
    for name in ("x", "y"):
        assert "RLE_DICTIONARY" not in encodings[name]
        assert "DELTA_BINARY_PACKED" not in encodings[name]


def test_hash_set_matches_python_set():
    from gazekit.assembly import _HashSet

    rng = np.random.default_rng(0)
    hashes, reference = _HashSet(), set()
    for size in [0, 5, 1, 17, 3, 64, 2, 0, 40]:
        batch = rng.integers(0, 300, size, dtype=np.uint64)
        probe = rng.integers(0, 300, 50, dtype=np.uint64)
        np.testing.assert_array_equal(hashes.contains(probe), [p in reference for p in probe])
        hashes.add(batch)
        reference.update(batch.tolist())
    assert len(hashes._levels) <= 8  # merged: about log2(n) sorted arrays


# --- whole-file verdicts ---------------------------------------------------------------------


def timed_scanpaths(lengths: list[int]) -> pd.DataFrame:
    df = scanpaths(lengths)
    return df.assign(t=df["step"] * 40.0, image_width=28.0, image_height=28.0)


def write(df: pd.DataFrame, path):
    """Write ``df`` as the suffix of ``path`` says (Parquet or CSV)."""
    if path.suffix == ".parquet":
        write_parquet(df, path)
    else:
        df.to_csv(path, index=False)


def read_all_ways(path):
    """Read ``path`` whole and in chunks of every size; return the set of error messages
    (None for a file read without error)."""
    verdicts = set()
    for read in [read_scanpaths] + [lambda p, k=k: list(iter_scanpath_chunks(p, chunk_rows=k))
                                    for k in (1, 2, 3, 5, 7, 100)]:
        try:
            read(path)
            verdicts.add(None)
        except ScanpathError as exc:
            verdicts.add(str(exc))
    return verdicts


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_time_column_empty_in_some_scanpaths_only(tmp_path, suffix):
    """The reviewer's case: onsets in every scanpath but the last one, which chunked reading
    validated on its own. Whole and in chunks, the file gets the verdict of validate."""
    lengths = [3, 2, 4]
    df = timed_scanpaths(lengths)
    for missing, row in [(df.index >= 5, 5), (df.index < 3, 0)]:  # last scanpath, first one
        path = tmp_path / f"{row}{suffix}"
        broken = df.assign(t=df["t"].mask(missing))
        write(broken, path)
        with pytest.raises(ScanpathError, match=fr"column 't' row {row} \(index label\): "
                                                "expected a finite number"):
            validate(broken)
        where = f"line {row + 2}" if suffix == ".csv" else f"row {row} (0-based)"
        assert read_all_ways(path) == {
            f"{path}: column 't' {where}: expected a finite number (milliseconds), got nan"}
    # Empty in every scanpath: absent, whole and in chunks.
    path = tmp_path / f"none{suffix}"
    write(df.assign(t=np.nan), path)
    assert read_all_ways(path) == {None}


def test_normalised_coordinates_are_judged_on_the_whole_file(tmp_path):
    """Coordinates in [-1, 1] are rejected whole and in chunks with validate's message; a
    pixel file whose first scanpaths lie within 1 px of the corner (so that its first chunks
    alone look normalised) is read."""
    df = timed_scanpaths([3, 2, 4])
    rng = np.random.default_rng(3)
    normalised = df.assign(x=rng.uniform(-1, 1, len(df)), y=rng.uniform(-1, 1, len(df)))
    path = write_parquet(normalised, tmp_path / "normalised.parquet")
    with pytest.raises(ScanpathError, match="look normalised") as whole:
        validate(normalised, str(path))
    assert read_all_ways(path) == {str(whole.value)}
    corner = normalised.assign(x=normalised["x"].where(df["image_id"] < 2, 20.0))
    assert read_all_ways(write_parquet(corner, tmp_path / "pixels.parquet")) == {None}


# --- scanpath identity across formats --------------------------------------------------------


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "Int64", "str", "category",
                                   "float64", "bool"])
def test_same_scanpath_in_parquet_and_csv(tmp_path, dtype):
    """The reviewer's case (int keys in Parquet, text in CSV), for keys of every type: the
    scanpath (m, 1) written by pandas to both formats is one scanpath, found in both files."""
    df = scanpaths([2, 2]).astype({"image_id": dtype})
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    write_parquet(df, a / "1.parquet")
    df.iloc[2:].to_csv(a / "2.csv", index=False)
    df.to_csv(b / "1.csv", index=False)
    write_parquet(df.iloc[2:], b / "2.parquet")
    with pytest.raises(ScanpathError, match=r"2\.csv: line 2: scanpath \(model='m', image_id="
                                            r"'(1|1\.0|True)'\) also appears in .*1\.parquet"):
        read_scanpaths(a)
    with pytest.raises(ScanpathError, match=r"2\.parquet: row 0 \(0-based\): scanpath "
                                            r"\(model='m', .*\) also appears in .*1\.csv"):
        list(iter_scanpath_chunks(b, chunk_rows=1))


def test_keys_of_different_text_are_different_scanpaths(tmp_path):
    one = scanpaths([2]).assign(image_id=5)
    write_parquet(one, tmp_path / "1.parquet")
    write_parquet(one.assign(image_id=5.0), tmp_path / "2.parquet")  # text "5.0"
    (tmp_path / "3.csv").write_text("model,image_id,step,x,y\nm,05,0,1,1\nm, 5,0,2,2\n")
    assert read_scanpaths(tmp_path)["_scanpath"].tolist() == [0, 0, 1, 1, 2, 3]


def test_key_hashes_are_equal_exactly_for_equal_text():
    """Against str() of each value: integers, their text and everything else hash alike
    exactly when their text is the same."""
    from gazekit.assembly import _key_hashes

    big = 10**18
    columns = [
        pd.Series([0, 5, -5, big - 1, -big + 1, big, -big, 2**63 - 1, -2**63]),
        pd.Series([0, 5, big - 1, big, 2**64 - 1], dtype=np.uint64),
        pd.Series([5, -5, 0], dtype=np.int8),
        pd.Series([5, 7], dtype="Int64"),
        pd.Series([5, -7], dtype="int64[pyarrow]"),
        pd.Series([5.0, -0.0, 0.0, 1e20, 0.1, 1e18]),
        pd.Series([True, False]),
        pd.Series(["5", "-5", "05", "+5", "-0", "0", "5.0", "-0.0", "1e+20", "True", "", " 5",
                   str(big - 1), str(-big + 1), str(big), str(-big), str(2**64 - 1), "a"]),
        pd.Series(["5", 5, 5.0, None], dtype=object).iloc[:3],
        pd.Series(pd.Categorical([5, 7, 5])),
        pd.Series(pd.Categorical(["5", "x", "x"])),
    ]
    hashes = np.concatenate([_key_hashes(column.to_frame()) for column in columns])
    text = np.array([str(value) for column in columns for value in column.tolist()])
    same_text = text[:, None] == text[None, :]
    np.testing.assert_array_equal(hashes[:, None] == hashes[None, :], same_text)
    assert same_text.sum() > 2 * len(text)  # many values share their text with others


# --- CSV lines -------------------------------------------------------------------------------


def test_csv_lines_count_blank_lines_and_quoted_line_breaks(tmp_path):
    """Hand-checked: the bad value is on line 9, after blank lines (which pandas skips) and a
    row whose quoted model name spans two lines."""
    text = ("\n"                          # 1: blank, before the header
            "model,image_id,step,x,y\n"   # 2: header
            "m,0,0,1,1\n"                 # 3
            "\n"                          # 4: blank
            " \t \n"                      # 5: spaces and a tab: blank to pandas
            '"m\nx",1,0,1,1\r\n'          # 6-7 (a CRLF line end)
            "\r\n"                        # 8: blank
            '"m\nx",1,1,oops,1\n'          # 9-10: the bad row starts on line 9
            "m,2,0,1,1\n")                # 11
    path = tmp_path / "bad.csv"
    path.write_bytes(text.encode())
    for read in (read_scanpaths, lambda p: list(iter_scanpath_chunks(p, chunk_rows=1))):
        with pytest.raises(ScanpathError, match=r"bad\.csv: column 'x' line 9: .* got 'oops'"):
            read(path)
    # In a TSV file a line holding only tabs is a row (of empty fields), not a blank line.
    path = tmp_path / "bad.tsv"
    path.write_text("model\timage_id\tstep\tx\ty\n\nm\t0\t0\t1\t1\n  \n\t\t\t\t\n")
    with pytest.raises(ScanpathError, match=r"bad\.tsv: column 'x' line 5: .* got nan"):
        read_scanpaths(path)


@pytest.mark.parametrize("seed", range(25))
def test_row_lines_follow_the_rows_pandas_reads(tmp_path, seed):
    """Random CSV/TSV files with blank lines, CRLF line ends and quoted line breaks, built
    line by line: the line on which each row starts is known by construction, and the rows
    are the ones pandas reads (told apart by their x)."""
    from gazekit.rawframes import _line_name, _row_lines

    rng = np.random.default_rng(seed)
    sep = str(rng.choice([",", "\t"]))
    lines: list[str] = []  # physical lines, without their ends
    starts: list[int] = []

    def blank_lines():
        for _ in range(int(rng.integers(0, 3)) if rng.random() < 0.4 else 0):
            lines.append(str(rng.choice(["", "  ", " \t" if sep == "," else "   "])))

    blank_lines()
    lines.append(sep.join(["model", "image_id", "step", "x", "y"]))
    n = int(rng.integers(1, 12))
    for i in range(n):
        blank_lines()
        model = str(rng.choice(["m", "a\nb", 'say ""hi""', "a\n\n b", "t\tu"]))
        field = f'"{model}"' if rng.random() < 0.5 or model != "m" else model
        starts.append(len(lines) + 1)
        lines.extend(sep.join([field, str(i), "0", str(i), "0"]).split("\n"))
    blank_lines()
    path = tmp_path / ("f.tsv" if sep == "\t" else "f.csv")
    path.write_bytes(str(rng.choice(["\n", "\r\n"])).join(lines).encode())

    assert pd.read_csv(path, sep=sep)["x"].tolist() == list(range(n))
    assert list(_row_lines(path, sep)) == starts
    k = int(rng.integers(0, n))
    assert _line_name(path, sep, k) == f"line {starts[k]}"
    path.write_bytes(path.read_bytes().replace(f"{sep}{k}{sep}0{sep}{k}{sep}".encode(),
                                               f"{sep}{k}{sep}0{sep}oops{sep}".encode()))
    with pytest.raises(ScanpathError, match=f"column 'x' line {starts[k]}: .* got 'oops'"):
        read_scanpaths(path)


def test_line_name_without_the_file_names_the_data_row(tmp_path):
    from gazekit.rawframes import _line_name

    assert _line_name(tmp_path / "gone.csv", ",", 3) == "data row 4"


# --- issue 17 ---------------------------------------------------------------------------------


def test_repeated_column_names_in_a_file_are_an_error(tmp_path):
    table = pa.Table.from_pandas(scanpaths([3]), preserve_index=False)
    pq.write_table(table.append_column("x", pa.array([5.0, 6.0, 7.0])), tmp_path / "a.parquet")
    pq.write_table(table.append_column("model", pa.array(["b"] * 3)), tmp_path / "b.parquet")
    (tmp_path / "c.csv").write_text("\nmodel,image_id,step,x,y,x\nm,0,0,1,1,5\nm,0,1,2,1,6\n")
    for name, column in (("a.parquet", "x"), ("b.parquet", "model"), ("c.csv", "x")):
        with pytest.raises(ScanpathError, match=rf"{name}: column '{column}' appears more than "
                                                "once"):
            read_scanpaths(tmp_path / name)


def test_huge_steps_in_files_name_the_row(tmp_path):
    df = scanpaths([4]).astype({"step": float})
    df.loc[3, "step"] = 1e20
    write_parquet(df, tmp_path / "s.parquet")
    with pytest.raises(ScanpathError, match=r"s.parquet: column 'step' row 3 \(0-based\)"):
        read_scanpaths(tmp_path / "s.parquet")
    (tmp_path / "s.csv").write_text("model,image_id,step,x,y\nA,0,0,1,1\nA,0,1,2,1\n"
                                    "A,0,9223372036854775808,30,1\n")
    with pytest.raises(ScanpathError, match=r"s.csv: column 'step' line 4: .* got "
                                            "9223372036854775808"):
        read_scanpaths(tmp_path / "s.csv")


def test_missing_inputs_say_why(tmp_path):
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(ScanpathError, match=r"loop: cannot open \(Too many levels of symbolic"):
        find_inputs(tmp_path / "loop")
    with pytest.raises(ScanpathError, match="dangling: symbolic link to a missing file$"):
        find_inputs(tmp_path / "dangling")
    with pytest.raises(ScanpathError, match="absent: file not found$"):
        find_inputs(tmp_path / "absent")
