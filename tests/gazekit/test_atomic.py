"""Tests of gazekit.atomic: files and directories written whole or not at all, errors naming
the user's path."""

from __future__ import annotations

import errno
import os

import pandas as pd
import pytest

from gazekit.atomic import atomic_file, atomic_output_dir
from gazekit.io import write_parquet_atomic


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


# --- errors of outputs name the user's path --------------------------------------------------


def test_atomic_file_errors_name_the_destination(tmp_path):
    """Errors about the hidden temporary file are about the path asked for; errno and reason
    stay, and errors about other files pass unchanged."""
    path = tmp_path / "out.csv"
    (path / "sub").mkdir(parents=True)  # a directory where the file should go
    with pytest.raises(IsADirectoryError) as info, atomic_file(path) as tmp:
        tmp.write_text("data")  # the rename fails
    assert str(info.value) == f"[Errno {errno.EISDIR}] {os.strerror(errno.EISDIR)}: '{path}'"
    assert tmp.name not in str(info.value) and not tmp.exists()

    path = tmp_path / "f.parquet"
    with pytest.raises(OSError) as info, atomic_file(path) as tmp:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp))
    assert (type(info.value), info.value.errno) == (OSError, errno.ENOSPC)
    assert str(info.value) == f"[Errno {errno.ENOSPC}] No space left on device: '{path}'"
    # pyarrow's way: the path inside the reason.
    with pytest.raises(FileNotFoundError) as info, atomic_file(path) as tmp:
        raise FileNotFoundError(errno.ENOENT, f"Failed to open local file '{tmp}'. Detail: x")
    assert str(info.value) == f"[Errno 2] Failed to open local file '{path}'. Detail: x"
    other = PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "input.csv"))
    with pytest.raises(PermissionError) as info, atomic_file(path):
        raise other
    assert info.value is other
    assert list(tmp_path.iterdir()) == [tmp_path / "out.csv"]  # no temporary left


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_unwritable_output_names_the_destination():
    """The reviewer's case: nothing can be created in /proc (not even by root)."""
    df = pd.DataFrame({"model": "m", "image_id": 0, "step": [0, 1], "x": [1.0, 2.0],
                       "y": [1.0, 2.0]})
    with pytest.raises(FileNotFoundError, match=r"^\[Errno 2\] Failed to open local file "
                                                r"'/proc/gazekit-test\.parquet'"):
        write_parquet_atomic(df, "/proc/gazekit-test.parquet")
    with pytest.raises(FileNotFoundError, match=r"^\[Errno 2\] No such file or directory: "
                                                r"'/proc/gazekit-test'$"), \
            atomic_output_dir("/proc/gazekit-test"):
        pass


def test_atomic_output_dir_errors_name_the_destination(tmp_path):
    out = tmp_path / "results"
    with pytest.raises(FileNotFoundError) as info, atomic_output_dir(out) as tmp:
        (tmp / "figures" / "a.png").write_text("x")  # its folder was not made
    assert str(info.value) == (f"[Errno {errno.ENOENT}] {os.strerror(errno.ENOENT)}: "
                               f"'{out / 'figures' / 'a.png'}'")
    assert list(tmp_path.iterdir()) == []
