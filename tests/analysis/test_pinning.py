"""analysis.pinning: one verified copy of a run's best.pt per invocation, reused while the
weights do not change, and which outputs were made from it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from analysis.pinning import is_current, pin, recorded, recorded_epoch
from zoo.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


def _checkpoint(path: Path, epoch: int, value: float = 0.0) -> Path:
    """A minimal valid checkpoint of ``epoch`` (with checksum)."""
    return save_checkpoint({"model": "ram", "model_kwargs": {}, "epoch": epoch,
                            "state_dict": {"w": torch.full((3,), value)}}, path)


def _output(path: Path, checkpoint: Path, epoch: int) -> Path:
    """An evaluation JSON recording what it was made from, as zoo.evaluate writes it."""
    path.write_text(json.dumps({"checkpoint": str(checkpoint), "epoch": epoch}))
    return path


def test_pin_copies_verifies_and_keeps_the_time_stamp(tmp_path):
    best = _checkpoint(tmp_path / "run" / "best.pt", epoch=4, value=1.0)
    os.utime(best, ns=(1_000_000_000, 1_700_000_000_123_456_789))
    pinned = pin(best, tmp_path / "pinned")
    assert pinned == tmp_path / "pinned" / "epoch4.pt"
    assert pinned.read_bytes() == best.read_bytes()
    assert pinned.stat().st_mtime_ns == best.stat().st_mtime_ns
    # Training moves on: best.pt is replaced, the pinned copy is not.
    _checkpoint(best, epoch=9, value=2.0)
    assert torch.equal(load_checkpoint(pinned)["state_dict"]["w"], torch.full((3,), 1.0))
    # The next pin copies the new weights and removes the older copy; pinning again reuses it.
    newer = pin(best, tmp_path / "pinned")
    assert newer.name == "epoch9.pt" and sorted(p.name for p in newer.parent.iterdir()) == [
        "epoch9.pt"]
    before = newer.stat().st_ino
    assert pin(best, tmp_path / "pinned").stat().st_ino == before  # not copied again


def test_pin_refuses_a_corrupt_checkpoint(tmp_path):
    best = tmp_path / "best.pt"
    torch.save({"model": "ram", "model_kwargs": {}, "epoch": 1, "state_dict": {},
                "sha256": "0" * 64}, best)  # content that differs from its checksum
    with pytest.raises(CheckpointError):
        pin(best, tmp_path / "pinned")
    assert not list((tmp_path / "pinned").iterdir())  # no copy, no debris


def test_is_current_reads_what_an_output_was_made_from(tmp_path):
    best = _checkpoint(tmp_path / "run" / "best.pt", epoch=4)
    os.utime(best, ns=(0, 1_000_000_000_000_000_000))
    pinned = pin(best, tmp_path / "pinned")
    made = _output(tmp_path / "eval.json", pinned, 4)
    assert is_current(made, pinned)
    assert (recorded(made)["checkpoint"], recorded_epoch(made)) == (str(pinned), 4)
    # Older than the weights: made from an earlier file of that name.
    os.utime(made, ns=(0, 999_999_999_999_999_999))
    assert not is_current(made, pinned)
    os.utime(made, None)
    # Straight from the run's best.pt at the pinned epoch (an output of before pinning): the
    # same weights; at another epoch, or from another file: not.
    assert is_current(_output(tmp_path / "a.json", best, 4), pinned, best)
    assert not is_current(_output(tmp_path / "b.json", best, 3), pinned, best)
    assert not is_current(_output(tmp_path / "c.json", best, 4), pinned)
    assert not is_current(tmp_path / "missing.json", pinned)
    (tmp_path / "broken.json").write_text("{")
    assert recorded(tmp_path / "broken.json") == {}
    assert not is_current(tmp_path / "broken.json", pinned)
