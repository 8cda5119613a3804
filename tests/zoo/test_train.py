"""Tests of zoo.train on the synthetic dataset: learning, outputs, exact resume, early stopping,
the command line and a two-process DDP run."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import zoo
from zoo.checkpoint import load_checkpoint
from zoo.data import make_splits, normalize
from zoo.train import ConfigError, TrainConfig, main, train

REPO = Path(__file__).resolve().parents[2]
SMALL_MRAM = {"glimpses": 3, "hidden": 32}


def config(out: Path, **overrides) -> TrainConfig:
    """A small, fast run; one thread, as the tests may run beside each other on 2 cores."""
    settings = dict(model="mram", model_kwargs=SMALL_MRAM, dataset="synthetic",
                    out_dir=str(out), epochs=2, batch_size=64, limit=300, lr=1e-3,
                    num_threads=1)
    return TrainConfig(**{**settings, **overrides})


def read_metrics(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def independent_test_metrics(checkpoint: Path, limit: int = 300) -> tuple[float, float]:
    """Test accuracy and mean cross-entropy of a checkpoint, computed here from scratch."""
    state = load_checkpoint(checkpoint)
    model = zoo.create_model(state["model"], **state["model_kwargs"])
    model.load_state_dict(state["state_dict"])
    model.eval()
    images, labels = make_splits(state["dataset"], limit=limit).test
    norm = state["normalization"]
    with torch.no_grad():
        x = normalize(images, norm["mean"], norm["std"])
        logits = model(x, sample=False).logits if model.has_glimpses else model(x)
    return (logits.argmax(1) == labels).double().mean().item(), F.cross_entropy(
        logits.double(), labels).item()


@pytest.mark.parametrize("model, kwargs", [("mram", SMALL_MRAM), ("cnn", {})])
def test_learns_synthetic_well_above_chance(tmp_path, model, kwargs):
    final = train(config(tmp_path, model=model, model_kwargs=kwargs, epochs=3, limit=600))
    chance = 1 / 4
    assert final["best_val_acc"] > chance + 0.35
    assert final["test_acc"] > chance + 0.35
    assert final["epochs_run"] == 3 and not final["stopped_early"]


def test_outputs_checkpoints_and_test_accuracy(tmp_path):
    cfg = config(tmp_path, epochs=1, lr=3e-4)
    final = train(cfg)
    # Only the documented files: atomic writes leave no temporary files behind.
    assert sorted(os.listdir(tmp_path)) == ["best.pt", "config.json", "final.json", "last.pt",
                                            "metrics.jsonl"]
    for name in ("last.pt", "best.pt"):
        state = torch.load(tmp_path / name, weights_only=True)
        assert {"model", "model_kwargs", "state_dict", "dataset", "normalization", "image_size",
                "num_classes", "config", "seed", "epoch", "metrics", "history"} <= set(state)
        assert state["image_size"] == [28, 28] and state["num_classes"] == 4
    last = torch.load(tmp_path / "last.pt", weights_only=True)
    assert {"optimizer", "scheduler", "rng"} <= set(last)
    # Normalisation = statistics of the training split only.
    splits = make_splits("synthetic", limit=300)
    assert last["normalization"] == splits.normalization
    # The stored arguments are the model's full config, with the dataset's class count and a
    # padding value that is intensity 0 in normalised units.
    pad_value = -splits.mean / splits.std
    assert last["model_kwargs"] == zoo.create_model(
        "mram", num_classes=4, pad_value=pad_value, **SMALL_MRAM).config
    # The reported test metrics agree with an independent evaluation of best.pt.
    acc, loss = independent_test_metrics(tmp_path / "best.pt")
    assert final["test_acc"] == pytest.approx(acc, abs=1e-12)
    assert final["test_loss"] == pytest.approx(loss, rel=1e-5)
    best = load_checkpoint(tmp_path / "best.pt")
    assert best["metrics"]["test_acc"] == final["test_acc"]
    assert json.loads((tmp_path / "final.json").read_text()) == json.loads(json.dumps(final))
    assert final["split_sizes"] == {"train": 270, "val": 30, "test": 500}
    assert final["torch_version"] == torch.__version__ and final["device"] == "cpu"
    assert json.loads((tmp_path / "config.json").read_text()) == json.loads(
        json.dumps(dataclasses.asdict(cfg)))
    (record,) = read_metrics(tmp_path)
    assert record["epoch"] == 1 and record["val_acc"] == best["best_val_acc"]
    assert record["train_reward"] == pytest.approx(record["train_acc"])  # R = 1 iff correct


def test_resume_reaches_the_same_weights(tmp_path):
    straight, parted = tmp_path / "straight", tmp_path / "parted"
    train(config(straight, epochs=2))
    train(config(parted, epochs=1))
    assert main(["--out", str(parted), "--resume", "--epochs", "2"]) == 0
    a = torch.load(straight / "last.pt", weights_only=True)
    b = torch.load(parted / "last.pt", weights_only=True)
    assert a["epoch"] == b["epoch"] == 2
    assert a["state_dict"].keys() == b["state_dict"].keys()
    for key in a["state_dict"]:
        assert torch.equal(a["state_dict"][key], b["state_dict"][key]), key
    for pa, pb in zip(a["optimizer"]["state"].values(), b["optimizer"]["state"].values(),
                      strict=True):
        assert torch.equal(pa["exp_avg_sq"], pb["exp_avg_sq"])
    assert torch.equal(a["rng"]["torch"][0], b["rng"]["torch"][0])

    def without_time(records):
        return [{k: v for k, v in r.items() if k != "epoch_time_s"} for r in records]

    assert without_time(read_metrics(straight)) == without_time(read_metrics(parted))
    assert len(read_metrics(parted)) == 2


def interrupt_at(monkeypatch, *calls: int) -> None:
    """Send this process SIGINT during the given training forward passes (1-based, counted
    over the whole test), as a user's Ctrl-C in the middle of a batch."""
    import signal

    import zoo.train as ztrain

    count = {"n": 0}
    original = ztrain._forward

    def forward(*args):
        count["n"] += 1
        if count["n"] in calls:
            os.kill(os.getpid(), signal.SIGINT)
        return original(*args)

    monkeypatch.setattr(ztrain, "_forward", forward)


def test_an_interrupt_mid_epoch_resumes_to_the_same_weights(tmp_path, monkeypatch, capsys):
    """Ctrl-C in the first epoch saves a resumable state; so does one at an epoch's end; the
    run ends as an uninterrupted one (weights, optimiser, every RNG, metrics)."""
    straight, parted = tmp_path / "straight", tmp_path / "parted"
    train(config(straight, epochs=2))
    capsys.readouterr()
    batches = 5  # 270 training images, 64 per batch
    # Session 1: Ctrl-C during batch 3 of epoch 1: stops after it, with one line.
    interrupt_at(monkeypatch, 3, 3 + 2)  # session 2: during the last batch of epoch 1
    args = ["--model", "mram", "--glimpses", "3", "--hidden", "32", "--dataset", "synthetic",
            "--out", str(parted), "--epochs", "2", "--batch-size", "64", "--limit", "300",
            "--lr", "1e-3", "--num-threads", "1"]
    assert main(args) == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(
        f"zoo train: interrupted in epoch 1 after batch 3 of {batches}; state saved to "
        f"{parted / 'last.pt'}; resume with: python -m zoo.train --resume --out {parted}")
    state = load_checkpoint(parted / "last.pt")
    assert state["epoch"] == 0 and state["position"]["batch"] == 3
    assert main(["--out", str(parted), "--resume"]) == 130  # epoch 1 done, stopped before 2
    position = load_checkpoint(parted / "last.pt")["position"]
    assert (position["epoch"], position["batch"]) == (1, 0)
    capsys.readouterr()
    assert main(["--out", str(parted), "--resume"]) == 0
    a = torch.load(straight / "last.pt", weights_only=True)
    b = torch.load(parted / "last.pt", weights_only=True)
    assert a["epoch"] == b["epoch"] == 2 and "position" not in b
    for key in a["state_dict"]:
        assert torch.equal(a["state_dict"][key], b["state_dict"][key]), key
    for pa, pb in zip(a["optimizer"]["state"].values(), b["optimizer"]["state"].values(),
                      strict=True):
        assert torch.equal(pa["exp_avg"], pb["exp_avg"]) and pa["step"] == pb["step"]
    assert torch.equal(a["rng"]["torch"][0], b["rng"]["torch"][0])
    assert torch.equal(a["rng"]["loader"], b["rng"]["loader"])

    def without_time(records):
        return [{k: v for k, v in r.items() if k != "epoch_time_s"} for r in records]

    assert without_time(read_metrics(straight)) == without_time(read_metrics(parted))
    assert sorted(os.listdir(parted)) == sorted(os.listdir(straight))  # no debris


def test_snapshots_hold_each_epochs_weights_and_may_start_on_resume(tmp_path):
    out = tmp_path / "run"
    train(config(out, epochs=1))  # no snapshots asked for
    assert not (out / "snapshots").exists()
    assert main(["--out", str(out), "--resume", "--epochs", "4", "--snapshot-every", "2"]) == 0
    assert sorted(p.name for p in (out / "snapshots").iterdir()) == ["epoch-002.pt",
                                                                       "epoch-004.pt"]
    last = load_checkpoint(out / "last.pt")
    snap = load_checkpoint(out / "snapshots" / "epoch-004.pt")
    assert snap["epoch"] == 4 and "optimizer" not in snap
    assert snap["metrics"] == read_metrics(out)[3]
    for key, value in last["state_dict"].items():
        assert torch.equal(snap["state_dict"][key], value), key
    assert load_checkpoint(out / "snapshots" / "epoch-002.pt")["metrics"]["epoch"] == 2
    with pytest.raises(ConfigError, match="snapshot_every must be >= 1"):
        train(config(tmp_path / "bad", snapshot_every=0))


def test_a_fresh_run_keeps_its_untrained_weights_without_changing_the_run(tmp_path):
    plain, kept = tmp_path / "plain", tmp_path / "kept"
    train(config(plain, epochs=2))
    train(config(kept, epochs=2, snapshot_every=2))
    assert sorted(p.name for p in (kept / "snapshots").iterdir()) == ["epoch-000.pt",
                                                                        "epoch-002.pt"]
    a = load_checkpoint(plain / "last.pt")
    b = load_checkpoint(kept / "last.pt")
    for key, value in a["state_dict"].items():
        assert torch.equal(b["state_dict"][key], value), key
    assert torch.equal(a["rng"]["torch"][0], b["rng"]["torch"][0])
    untrained = load_checkpoint(kept / "snapshots" / "epoch-000.pt")
    assert untrained["epoch"] == 0 and untrained["metrics"]["epoch"] == 0
    assert 0.0 <= untrained["metrics"]["val_acc"] <= 1.0
    assert any(not torch.equal(untrained["state_dict"][k], v)
               for k, v in b["state_dict"].items())


def test_early_stopping_and_lr_reduction(tmp_path):
    # The tiny validation set (30 images) saturates quickly, so training must stop on its own.
    final = train(config(tmp_path, epochs=40, patience=3, lr_patience=0, lr=3e-3))
    history = read_metrics(tmp_path)
    assert final["stopped_early"] and final["epochs_run"] == len(history) < 40
    accs = [r["val_acc"] for r in history]
    best_epoch = accs.index(max(accs)) + 1  # the first epoch reaching the maximum
    assert final["best_epoch"] == best_epoch and len(history) == best_epoch + 3
    # Naive re-implementation of ReduceLROnPlateau(mode="max", factor 0.5, patience 0) with
    # torch's default relative threshold 1e-4.
    lr, best = 3e-3, -float("inf")
    for record in history:
        assert record["lr"] == pytest.approx(lr, rel=1e-12)
        if record["val_acc"] > best * (1 + 1e-4):
            best = record["val_acc"]
        else:
            lr *= 0.5


def test_resume_applies_a_new_patience(tmp_path):
    final = train(config(tmp_path, epochs=40, patience=1, lr_patience=0, lr=3e-3))
    assert final["stopped_early"]
    stalled = final["epochs_run"] - final["best_epoch"]
    assert stalled == 1
    # A larger patience lets the stopped run go on; it stops again under the new rule.
    assert main(["--out", str(tmp_path), "--resume", "--patience", "4", "--epochs", "40"]) == 0
    more = json.loads((tmp_path / "final.json").read_text())
    assert more["epochs_run"] > final["epochs_run"]
    assert more["stopped_early"] and more["epochs_run"] - more["best_epoch"] == 4
    assert len(read_metrics(tmp_path)) == more["epochs_run"]
    # A patience already exhausted stops at once: no further epoch.
    assert main(["--out", str(tmp_path), "--resume", "--patience", "2", "--epochs", "40"]) == 0
    assert json.loads((tmp_path / "final.json").read_text())["epochs_run"] == more["epochs_run"]


def one_line_error(capsys, code: int, fragment: str) -> None:
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("zoo train: error: ") and fragment in err


def test_cli_errors(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    base = ["--out", str(tmp_path / "run"), "--num-threads", "1"]
    one_line_error(capsys, main(["--model", "cnn", "--dataset", "mnist", "--data-dir", str(empty),
                                 *base]), "missing train-images-idx3-ubyte.gz")
    one_line_error(capsys, main(["--model", "nope", "--dataset", "synthetic", *base]),
                   "unknown model 'nope'")
    one_line_error(capsys, main(["--dataset", "synthetic", *base]), "missing --model")
    one_line_error(capsys, main(["--model", "cnn", "--dataset", "synthetic", "--glimpses", "3",
                                 *base]), "cannot create model 'cnn'")
    one_line_error(capsys, main(["--resume", *base]), "no such checkpoint file")
    run = ["--model", "cnn", "--dataset", "synthetic", "--limit", "100", "--epochs", "1", *base]
    assert main(run) == 0
    capsys.readouterr()
    one_line_error(capsys, main(run), "already holds a run")
    one_line_error(capsys, main(["--resume", "--seed", "2", *base]),
                   "started with seed=1; cannot resume it with seed=2")
    # --out is a file; a last.pt without a training config; a config of another version.
    afile = tmp_path / "afile.csv"
    afile.write_text("x\n")
    one_line_error(capsys, main(["--model", "ram", "--dataset", "synthetic", "--out",
                                 str(afile), "--num-threads", "1"]), str(afile))
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    state = torch.load(tmp_path / "run" / "last.pt", weights_only=True)
    del state["sha256"]  # edited as a checkpoint of before checksums
    torch.save({k: v for k, v in state.items() if k != "config"}, foreign / "last.pt")
    one_line_error(capsys, main(["--resume", "--out", str(foreign)]), "no training config")
    state["config"]["from_the_future"] = 1
    torch.save(state, foreign / "last.pt")
    one_line_error(capsys, main(["--resume", "--out", str(foreign)]), "bad training settings")


def test_ddp_two_processes(tmp_path):
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
           "2", "-m", "zoo.train", "--model", "mram", "--glimpses", "2", "--hidden", "16",
           "--dataset", "synthetic", "--limit", "300", "--epochs", "1", "--batch-size", "64",
           "--out", str(out), "--num-threads", "1", "--device", "cpu"]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(os.listdir(out)) == ["best.pt", "config.json", "final.json", "last.pt",
                                       "metrics.jsonl"]
    final = json.loads((out / "final.json").read_text())
    assert final["world_size"] == 2 and len(read_metrics(out)) == 1
    last = torch.load(out / "last.pt", weights_only=True)
    assert len(last["rng"]["torch"]) == 2  # one RNG state per rank
    assert not any(k.startswith("module.") for k in last["state_dict"])
    # Sharded evaluation summed over both ranks equals a single-process evaluation.
    acc, loss = independent_test_metrics(out / "best.pt")
    assert final["test_acc"] == pytest.approx(acc, abs=1e-12)
    assert final["test_loss"] == pytest.approx(loss, rel=1e-5)
