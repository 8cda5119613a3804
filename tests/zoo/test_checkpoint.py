"""Tests of zoo.checkpoint: checksums, validation before a model is built, failed writes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from zoo.checkpoint import (
    SIZE_LIMITS,
    CheckpointError,
    content_sha256,
    load_checkpoint,
    load_model,
    save_checkpoint,
)
from zoo.cli import main as zoo_main


def test_checksum_is_recorded_and_a_flipped_byte_is_refused(tmp_path, make_checkpoint):
    path, model = make_checkpoint(tmp_path / "a.pt", "ram", glimpses=2, hidden=16)
    state = torch.load(path, weights_only=True)
    assert state["sha256"] == content_sha256(state)
    raw = bytearray(path.read_bytes())
    # Flip one byte inside the stored weights (located by their bytes), not the zip structure.
    weight = model.state_dict()["core.bias_ih"].numpy().tobytes()
    at = bytes(raw).index(weight) + 17
    raw[at] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match=r"a.pt: content differs from its SHA-256"):
        load_checkpoint(path)


def test_a_checkpoint_without_checksum_loads_as_written_before_checksums(tmp_path,
                                                                         make_checkpoint):
    path, model = make_checkpoint(tmp_path / "a.pt", "ram", glimpses=2, hidden=16)
    state = torch.load(path, weights_only=True)
    del state["sha256"]
    torch.save(state, path)  # what the code before checksums wrote
    loaded, _ = load_model(path)
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)


def test_content_digest_depends_on_every_value():
    base = {"w": torch.arange(4.0), "epoch": 3, "config": {"lr": 3e-4, "name": "m"}}
    digest = content_sha256(base)
    assert digest == content_sha256({**base, "sha256": "anything"})  # its own entry aside
    changed = [{**base, "w": torch.arange(4.0).flip(0)}, {**base, "epoch": 4},
               {**base, "config": {"lr": 3e-4, "name": "n"}}, {**base, "w": torch.arange(4)},
               {**base, "w": torch.arange(4.0).reshape(2, 2)}]
    assert len({content_sha256(c) for c in changed} | {digest}) == len(changed) + 1


def _damaged(tmp_path, make_checkpoint, change) -> str:
    path, _ = make_checkpoint(tmp_path / "bad.pt", "ram", glimpses=2, hidden=16)
    state = torch.load(path, weights_only=True)
    change(state)
    save_checkpoint(state, path)  # a valid checksum: the content itself is bad
    return str(path)


@pytest.mark.parametrize("change, message", [
    (lambda s: s["model_kwargs"].update(hidden=10**7),
     r"model_kwargs hidden=10000000 is out of bounds \(expected integers from 1 to 65,536\)"),
    (lambda s: s["model_kwargs"].update(image_size=[28, 0]), "image_size=.* is out of bounds"),
    (lambda s: s["normalization"].update(std=0.0), r"normalization .*positive, finite std"),
    (lambda s: s["state_dict"]["core.bias_ih"].view(-1).__setitem__(0, float("nan")),
     "weight 'core.bias_ih' holds NaN or infinite values"),
    (lambda s: s["state_dict"].update({"core.bias_ih": torch.zeros(3, 3)}),
     r"weights do not fit model 'ram': 'core.bias_ih' has shape \[3, 3\]"),
    (lambda s: s.update(model="dram"), "weights do not fit model 'dram': missing"),
])
def test_damaged_or_crafted_checkpoints_are_refused_in_one_line(tmp_path, make_checkpoint,
                                                                capsys, change, message):
    path = _damaged(tmp_path, make_checkpoint, change)
    with pytest.raises(CheckpointError, match=message):
        load_model(path)
    out = str(tmp_path / "x.parquet")
    assert zoo_main(["export", path, "--out", out]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"zoo: error: {path}: ")
    assert not os.path.exists(out)


def test_size_limits_cover_every_integer_size_argument():
    import zoo

    sizes = {k for name in zoo.list_models() for k, v in zoo.create_model(name).config.items()
             if isinstance(v, int) and not isinstance(v, bool) or k == "image_size"}
    assert sizes <= set(SIZE_LIMITS)


def test_a_failed_write_keeps_the_old_checkpoint_and_leaves_no_debris(tmp_path):
    """A full disk, made real with a file-size limit in a child process."""
    path = tmp_path / "last.pt"
    save_checkpoint({"model": "x", "model_kwargs": {}, "state_dict": {}}, path)
    before = path.read_bytes()
    code = (
        "import resource, signal, sys, torch\n"
        "from zoo.checkpoint import save_checkpoint\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 16, 1 << 16))\n"
        "try:\n"
        f"    save_checkpoint({{'model': 'x', 'model_kwargs': {{}}, 'state_dict': "
        f"{{'w': torch.zeros(100_000)}}}}, {str(path)!r})\n"
        "except OSError as exc:\n"
        "    print(exc)\n"
        "    sys.exit(2)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stdout.startswith(f"{path}: cannot write the checkpoint (") or \
        "File too large" in done.stdout
    assert done.stdout.count("\n") == 1
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["last.pt"]
