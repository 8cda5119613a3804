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


# --- issue 17: two writers, debris of killed writers, final names ----------------------------


def test_a_directory_that_appears_meanwhile_is_not_replaced(tmp_path):
    out = tmp_path / "res"
    with pytest.raises(FileExistsError, match="res: appeared while this run was writing"), \
            atomic_output_dir(out) as tmp:
        (tmp / "mine.txt").write_text("b")
        out.mkdir()  # the other run's result lands first
        (out / "theirs.txt").write_text("a")
    assert [p.name for p in tmp_path.iterdir()] == ["res"]  # ours discarded, no debris
    assert [p.name for p in out.iterdir()] == ["theirs.txt"]
    # Also with --overwrite when nothing was there to replace at the start ...
    with pytest.raises(FileExistsError, match="appeared"), \
            atomic_output_dir(tmp_path / "new", overwrite=True) as tmp:
        (tmp / "mine.txt").write_text("b")
        (tmp_path / "new").mkdir()
        (tmp_path / "new" / "theirs.txt").write_text("a")
    # ... while an empty folder there at the start or meanwhile is replaced, as before.
    (tmp_path / "empty").mkdir()
    with atomic_output_dir(tmp_path / "empty") as tmp:
        (tmp / "mine.txt").write_text("b")
    assert [p.name for p in (tmp_path / "empty").iterdir()] == ["mine.txt"]


def test_a_file_that_appears_meanwhile_is_not_replaced_without_overwrite(tmp_path):
    path = tmp_path / "f.parquet"
    with pytest.raises(FileExistsError, match="f.parquet: appeared while"), \
            atomic_file(path, overwrite=False) as tmp:
        tmp.write_text("mine")
        path.write_text("theirs")
    assert path.read_text() == "theirs" and [p.name for p in tmp_path.iterdir()] == [path.name]
    with atomic_file(path) as tmp:  # overwrite=True replaces, as asked
        tmp.write_text("mine")
    assert path.read_text() == "mine"


def test_the_existing_output_message_names_the_flag(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a").write_text("")
    with pytest.raises(FileExistsError, match=r"\(use --overwrite, or overwrite=True, to "), \
            atomic_output_dir(tmp_path / "out"):
        pass


def _dead_pid() -> int:
    """The id of a process that has ended."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_debris_removal(tmp_path):
    from gazekit.atomic import _HOST, remove_debris

    dead, alive = _dead_pid(), os.getpid()
    stale = tmp_path / f".res.{dead}-{_HOST}.0123456789ab.tmp"
    stale.mkdir()
    (stale / "fixations.parquet").write_text("partial")
    keep = [tmp_path / f".res.{alive}-{_HOST}.0123456789ab.tmp",  # a writer still at work
            tmp_path / f".res.{dead}-00000000.0123456789ab.tmp",  # another host's
            tmp_path / f".resx.{dead}-{_HOST}.0123456789ab.tmp",  # another output's
            tmp_path / ".res.0123456789ab.tmp"]  # an older naming: no process to judge by
    for path in keep:
        path.write_text("")
    old = tmp_path / f".res.{dead}-{_HOST}.ba9876543210.old"  # killed during --overwrite
    old.mkdir()
    (old / "report.md").write_text("previous")
    assert sorted(remove_debris(tmp_path / "res")) == sorted([stale, old])
    # The previous output is back where its replacement never arrived.
    assert (tmp_path / "res" / "report.md").read_text() == "previous"
    assert sorted(tmp_path.iterdir()) == sorted([tmp_path / "res", *keep])
    # Where the output exists, a stale old version is removed; a file's debris too.
    old.mkdir()
    stale_file = tmp_path / f".f.pt.{dead}-{_HOST}.0123456789ab.tmp"
    stale_file.write_text("partial")
    with atomic_file(tmp_path / "f.pt") as tmp:  # the next write cleans up
        tmp.write_text("new")
    assert not stale_file.exists()
    with pytest.raises(FileExistsError, match="not empty"), atomic_output_dir(tmp_path / "res"):
        pass
    assert not old.exists() and (tmp_path / "res" / "report.md").read_text() == "previous"


def test_final_path_names_outputs_inside_pending_directories(tmp_path):
    from gazekit.atomic import final_path

    outer = tmp_path / "demo"
    with atomic_output_dir(outer) as tmp:
        with atomic_output_dir(tmp / "analysis") as inner:
            assert final_path(inner / "report.md") == outer / "analysis" / "report.md"
        assert final_path(tmp / "exports" / "a.parquet") == outer / "exports" / "a.parquet"
        assert final_path(tmp_path / "elsewhere") == tmp_path / "elsewhere"
    assert final_path(tmp / "x") == tmp / "x"  # done: no longer pending
