"""Tests of gazekit.io: reading whole files, streaming chunks, errors, atomic outputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gazekit.io import (
    atomic_file,
    atomic_output_dir,
    expand_paths,
    find_inputs,
    iter_scanpath_chunks,
    read_scanpaths,
    write_parquet_atomic,
)
from gazekit.schema import ScanpathError


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


def test_atomic_file_success_failure_and_overwrite(tmp_path):
    path = tmp_path / "new" / "sub" / "f.txt"
    with atomic_file(path) as tmp:
        assert tmp.parent == path.parent and tmp.name.startswith(".f.txt.")
        tmp.write_text("one")
        assert not path.exists()  # only renamed at the end
    assert path.read_text() == "one"
    assert [p.name for p in path.parent.iterdir()] == ["f.txt"]  # no temporary left
    (tmp_path / "plain").write_text("")  # made with the umask, as the output should be
    assert path.stat().st_mode == (tmp_path / "plain").stat().st_mode

    with pytest.raises(RuntimeError, match="failed"), atomic_file(path) as tmp:
        tmp.write_text("partial")
        raise RuntimeError("failed")
    assert path.read_text() == "one" and [p.name for p in path.parent.iterdir()] == ["f.txt"]

    with pytest.raises(FileExistsError, match="f.txt"), atomic_file(path, overwrite=False):
        raise AssertionError("the body must not run")
    with atomic_file(path) as tmp:
        tmp.write_text("two")
    assert path.read_text() == "two"

    with pytest.raises(FileNotFoundError), atomic_file(tmp_path / "never.txt"):
        pass  # the body wrote nothing
    assert not (tmp_path / "never.txt").exists()


def test_atomic_file_failure_removes_the_folders_it_made(tmp_path):
    (tmp_path / "old").mkdir()
    for path in (tmp_path / "new" / "sub" / "f.txt", tmp_path / "old" / "new" / "f.txt"):
        with pytest.raises(RuntimeError), atomic_file(path) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("failed")
    assert [p.name for p in tmp_path.iterdir()] == ["old"]  # an existing folder stays
    assert list((tmp_path / "old").iterdir()) == []
    with pytest.raises(FileNotFoundError), atomic_file(tmp_path / "new" / "f.txt"):
        pass  # the body wrote nothing
    assert [p.name for p in tmp_path.iterdir()] == ["old"]
    # A file that another writer put into a new folder meanwhile keeps that folder.
    with pytest.raises(RuntimeError), atomic_file(tmp_path / "new" / "sub" / "f.txt"):
        (tmp_path / "new" / "other.txt").write_text("not ours")
        raise RuntimeError("failed")
    assert [p.name for p in (tmp_path / "new").iterdir()] == ["other.txt"]


def test_atomic_output_dir_success_and_failure(tmp_path):
    out = tmp_path / "deep" / "out"
    with pytest.raises(RuntimeError), atomic_output_dir(out) as tmp:
        (tmp / "partial.txt").write_text("x")
        raise RuntimeError("analysis failed")
    assert list(tmp_path.iterdir()) == []  # neither the directory nor its new parent remain

    with atomic_output_dir(out) as tmp:
        (tmp / "result.txt").write_text("1")
        assert not out.exists()  # only renamed at the end
    assert [p.name for p in out.iterdir()] == ["result.txt"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["out"]  # no temporary left

    with pytest.raises(FileExistsError, match="not empty"), atomic_output_dir(out):
        pass
    with atomic_output_dir(out, overwrite=True) as tmp:
        (tmp / "new.txt").write_text("2")
    assert [p.name for p in out.iterdir()] == ["new.txt"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["out"]
    (tmp_path / "plain").mkdir()  # made with the umask, as the output should be
    assert out.stat().st_mode == (tmp_path / "plain").stat().st_mode


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
    from gazekit.io import _HashSet

    rng = np.random.default_rng(0)
    hashes, reference = _HashSet(), set()
    for size in [0, 5, 1, 17, 3, 64, 2, 0, 40]:
        batch = rng.integers(0, 300, size, dtype=np.uint64)
        probe = rng.integers(0, 300, 50, dtype=np.uint64)
        np.testing.assert_array_equal(hashes.contains(probe), [p in reference for p in probe])
        hashes.add(batch)
        reference.update(batch.tolist())
    assert len(hashes._levels) <= 8  # merged: about log2(n) sorted arrays
