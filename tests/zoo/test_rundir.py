"""Tests of zoo.rundir and its use by zoo train: one trainer per folder, no silent restart."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from zoo import rundir
from zoo.train import main

REPO = Path(__file__).resolve().parents[2]
RUN = ["--model", "cnn", "--dataset", "synthetic", "--limit", "100", "--epochs", "1",
       "--num-threads", "1"]


def one_line_error(capsys, code: int, fragment: str) -> None:
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("zoo train: error: ") and fragment in err


def test_a_second_trainer_on_the_same_folder_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    assert main([*RUN, "--out", str(out)]) == 0
    before = (out / "metrics.jsonl").read_text()
    # Another process holds the folder (as a running `zoo train --resume` does).
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from zoo.rundir import hold\n"
         f"with hold({str(out)!r}):\n    print('held', flush=True); time.sleep(60)"],
        cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        assert rundir.in_use(out)
        one_line_error(capsys, main(["--out", str(out), "--resume", "--epochs", "2"]),
                       "another zoo train is using this run folder")
        one_line_error(capsys, main([*RUN, "--out", str(out), "--overwrite"]),
                       "another zoo train is using this run folder")
    finally:
        holder.kill()
        holder.wait()
    assert not rundir.in_use(out)  # a killed trainer holds nothing
    assert (out / "metrics.jsonl").read_text() == before  # no duplicated epochs
    assert main(["--out", str(out), "--resume", "--epochs", "2"]) == 0  # free again


def test_hold_outlasts_a_momentary_probe_but_not_a_holder(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    probe = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(probe, fcntl.LOCK_SH)  # what in_use() takes for an instant
    threading.Timer(0.08, os.close, (probe,)).start()
    with rundir.hold(folder):
        assert rundir.in_use(folder)
    assert not rundir.in_use(folder) and not rundir.in_use(tmp_path / "missing")
    with (rundir.hold(folder), pytest.raises(rundir.RunFolderError, match="another zoo train"),
          rundir.hold(folder)):
        pass


def test_a_new_run_refuses_a_folder_that_holds_one(tmp_path, capsys):
    out = tmp_path / "run"
    assert main([*RUN, "--out", str(out)]) == 0
    best = (out / "best.pt").read_bytes()
    one_line_error(capsys, main([*RUN, "--out", str(out)]), "already holds a run")
    assert (out / "best.pt").read_bytes() == best
    # --overwrite starts it over: the old files are replaced.
    (out / "snapshots").mkdir()
    (out / "snapshots" / "epoch-007.pt").write_text("old")
    assert main([*RUN, "--out", str(out), "--overwrite", "--seed", "2"]) == 0
    assert not (out / "snapshots").exists()
    assert (out / "best.pt").read_bytes() != best
    # Files zoo train did not write are not ours to delete, even with --overwrite.
    (out / "notes.txt").write_text("mine")
    one_line_error(capsys, main([*RUN, "--out", str(out), "--overwrite"]), "'notes.txt'")


@pytest.mark.parametrize("contents", [
    None,  # missing: train_queue.sh's first start
    {},  # empty
    {"config.json": "{}", "metrics.jsonl": "", "snapshots/epoch-000.pt": "x"},  # no checkpoint
])
def test_a_fresh_run_starts_where_nothing_can_be_lost(tmp_path, contents):
    out = tmp_path / "run"
    if contents is not None:
        out.mkdir()
        for name, text in contents.items():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            (out / name).write_text(text)
    rundir.check_fresh(out, overwrite=False)
    assert main([*RUN, "--out", str(out)]) == 0


def test_a_failed_start_leaves_no_folder_behind(tmp_path, capsys):
    out = tmp_path / "new" / "run"
    one_line_error(capsys, main(["--model", "cnn", "--dataset", "mnist", "--data-dir",
                                 str(tmp_path), "--out", str(out)]), "missing")
    assert list(tmp_path.iterdir()) == []


def test_debris_of_a_killed_writer_is_removed_by_the_next_save(tmp_path):
    from gazekit.atomic import _HOST
    from zoo.checkpoint import save_checkpoint

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    stale = tmp_path / f".last.pt.{child.pid}-{_HOST}.0123456789ab.tmp"
    stale.write_bytes(b"partial checkpoint")
    save_checkpoint({"model": "x", "model_kwargs": {}, "state_dict": {}}, tmp_path / "last.pt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]
