"""Shipped weights standing in for lost run folders (analysis.standins): when a model card is
the experiment's run and when not, precedence over run folders, the state that names the
source, the queue, the results table and exports of the shipped weights; and the real cards of
zoo/weights against today's Table 2 experiments."""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch

import zoo
from analysis import reproduce
from analysis.experiments import experiments, run_status
from analysis.gaze_runs import export_run, run_state
from analysis.queues import queue_commands
from analysis.results_report import results_table
from analysis.settings import Settings
from analysis.standins import refusal, run_progress, standin, up_to_date
from zoo import data as zdata
from zoo.pretrained import save_pretrained, weights_dir
from zoo.rundir import hold

NORM = {"mean": 0.5, "std": 0.25}
ARGS = ("--model", "ram", "--dataset", "synthetic", "--glimpses", "3", "--hidden", "32")
# The training config of a card written before reinforce_lr_scale and precision existed,
# as the shipped cards are; the run resumed with compile and snapshots (free settings).
TRAINING = {"model": "ram", "model_kwargs": {"glimpses": 3, "hidden": 32},
            "dataset": "synthetic", "epochs": 300, "batch_size": 128, "lr": 0.0003,
            "alpha": 0.01, "seed": 1, "patience": 50, "lr_factor": 0.5, "lr_patience": 10,
            "val_fraction": 0.1, "device": "auto", "limit": None, "eval_sample": False,
            "num_threads": 1, "eval_batch_size": 1000, "download": False, "resume": True,
            "compile": True, "snapshot_every": 5}
STATE = "stopped early at epoch 215 (best 165, patience 50)"


def card(model: torch.nn.Module, dataset: str = "synthetic", **overrides) -> dict:
    return {"model": "ram", "model_kwargs": model.config, "dataset": dataset,
            "normalization": NORM, "image_size": [28, 28], "num_classes": 4, "seed": 1,
            "training_config": {**TRAINING, "dataset": dataset}, "epochs_run": 215,
            "max_epochs": 300, "best_epoch": 165, "finished": True, "status": "stopped early",
            "state": STATE, "val_acc": 0.914, "test_acc": 0.9076, "wall_time_s": 14193.0,
            "hardware": "AMD EPYC (cpu), 1 torch thread(s)", "date": "2026-11-25",
            "source_run": "ram-3", **overrides}


@pytest.fixture
def model() -> torch.nn.Module:
    torch.manual_seed(0)
    return zoo.create_model("ram", glimpses=3, hidden=32, num_classes=4).eval()


@pytest.fixture
def ship(tmp_path, monkeypatch, model):
    """``ship(**card overrides)`` writes the seeded RAM-3 with a card to a tmp ZOO_WEIGHTS and
    returns its .pt file."""
    monkeypatch.setenv("ZOO_WEIGHTS", str(tmp_path / "weights"))

    def write(dataset: str = "synthetic", **overrides) -> Path:
        return save_pretrained(model.state_dict(), card(model, dataset, **overrides))[0]

    return write


def fake_run(folder: Path, *, finished: bool, age_s: float = 0.0) -> Path:
    """A run folder of 3 logged epochs (best 2), with final.json if ``finished``."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({**TRAINING, "epochs": 3, "data_dir": None,
                                                    "out_dir": str(folder)}))
    (folder / "metrics.jsonl").write_text("".join(
        json.dumps({"epoch": e, "val_acc": v, "epoch_time_s": 10.0}) + "\n"
        for e, v in ((1, 0.5), (2, 0.7), (3, 0.6))))
    (folder / "best.pt").write_bytes(b"weights")
    if finished:
        (folder / "final.json").write_text(json.dumps({
            "wall_time_s": 30.0, "stopped_early": False, "test_acc": 0.66, "device_name": "cpu",
            "device": "cpu", "torch_threads": 1, "world_size": 1, "torch_version": "x"}))
    stamp = time.time() - age_s
    for f in folder.iterdir():
        os.utime(f, (stamp, stamp))
    return folder


def test_matching_finished_card_stands_in_for_a_lost_folder(ship, tmp_path):
    pt = ship()
    lost = tmp_path / "runs" / "ram-3"
    assert run_status(lost).status == "not started"
    status = run_progress(lost, ARGS)
    assert status.finished and status.shipped == pt == status.weights
    assert (status.status, status.epochs_run, status.max_epochs, status.best_epoch,
            status.best_val_acc, status.patience, status.wall_time_s, status.test_acc,
            status.hardware) == ("stopped early", 215, 300, 165, 0.914, 50, 14193.0, 0.9076,
                                 "AMD EPYC (cpu), 1 torch thread(s)")
    assert status.state == f"{STATE}; shipped weights {pt}"
    assert status.checkpoint == "pretrained:synthetic/ram-3"
    assert refusal(lost, ARGS) == ""
    # Settings that resuming may change do not keep it from standing in.
    assert standin(lost, (*ARGS, "--epochs", "100", "--num-threads", "2", "--no-compile"))
    assert run_state(status) == "finished (shipped weights)"


@pytest.mark.parametrize(("argv", "overrides", "reason"), [
    (("--lr", "0.001"), {}, "trained with lr=0.0003, the experiment has lr=0.001"),
    (("--seed", "2"), {}, "trained with seed=1, the experiment has seed=2"),
    # The pre-remedy dram-12's case: a card older than a setting means its default.
    (("--reinforce-lr-scale", "0.1"), {},
     "trained with reinforce_lr_scale=1.0, the experiment has reinforce_lr_scale=0.1"),
    (("--std", "0.05"), {}, "trained with model_kwargs={'glimpses': 3, 'hidden': 32}"),
    ((), {"finished": False, "status": "training"}, "its run had not finished"),
    ((), {"source_run": "ram-3-seed2"}, "it is of run 'ram-3-seed2'"),
])
def test_a_card_of_another_trajectory_or_unfinished_run_does_not(ship, tmp_path, argv,
                                                                 overrides, reason):
    ship(**overrides)
    lost = tmp_path / "runs" / "ram-3"
    assert standin(lost, (*ARGS, *argv)) is None
    status = run_progress(lost, (*ARGS, *argv))
    assert (status.status, status.shipped) == ("not started", None)
    assert reason in refusal(lost, (*ARGS, *argv))
    assert refusal(lost, (*ARGS, *argv)).startswith("shipped weights ")


def test_card_on_another_dataset_or_without_status_does_not(ship, tmp_path, model):
    lost = tmp_path / "runs" / "ram-3"
    pt = ship()
    path = pt.with_suffix(".json")
    entries = json.loads(path.read_text())
    path.write_text(json.dumps({k: v for k, v in entries.items() if k != "epochs_run"}))
    assert standin(lost, ARGS) is None
    assert "its card lacks 'epochs_run'" in refusal(lost, ARGS)
    # Cards are found by the experiment's data set: none for mnist.
    assert standin(tmp_path / "runs" / "ram-3", ("--model", "ram", "--dataset", "mnist",
                                                 "--glimpses", "3", "--hidden", "32")) is None
    # No card at all, or arguments naming no data set: no stand-in, nothing to say.
    assert refusal(tmp_path / "runs" / "mram-3", ARGS) == ""
    assert standin(lost, ("--model", "ram")) is None


def test_finished_folder_wins_over_a_card(ship, tmp_path):
    ship()
    folder = fake_run(tmp_path / "runs" / "ram-3", finished=True)
    status = run_progress(folder, ARGS)
    assert (status.status, status.epochs_run, status.shipped) == ("finished", 3, None)
    assert status.weights == folder / "best.pt" == status.checkpoint
    assert "shipped" not in status.state


@pytest.mark.parametrize("training", [False, True])
def test_partial_folder_loses_to_a_card(ship, tmp_path, training):
    pt = ship()
    folder = fake_run(tmp_path / "runs" / "ram-3", finished=False)
    with hold(folder) if training else contextlib.nullcontext():
        assert run_status(folder).status == ("training" if training else "interrupted")
        status = run_progress(folder, ARGS)
    assert status.shipped == pt and status.epochs_run == 215 and status.finished
    assert status.state == f"{STATE}; shipped weights {pt}"


def test_queue_leaves_out_a_stood_in_run(ship, tmp_path):
    ship()
    runs = tmp_path / "runs"
    fake_run(runs / "ram-3", finished=False)  # a partial retrain, interrupted
    commands, skipped = queue_commands(runs, [("ram-3", ARGS)], queues=1)
    assert (commands, skipped) == ([], [])
    # Another trajectory under the same name is queued: the card is not that run.
    commands, _ = queue_commands(runs, [("ram-3", (*ARGS, "--lr", "0.001"))], queues=1)
    assert commands[0][-1] == "ram-3:" + " ".join((*ARGS, "--lr", "0.001"))


def test_up_to_date_needs_the_weights_an_output_was_made_from(ship, tmp_path):
    pt = ship()
    old = time.time() - 3600
    os.utime(pt, (old, old))
    shipped = run_progress(tmp_path / "runs" / "ram-3", ARGS)
    folder = run_status(fake_run(tmp_path / "other" / "ram-3", finished=True, age_s=3600))
    out = tmp_path / "eval.json"
    assert not up_to_date(out, shipped)  # missing
    for source, from_shipped in (("pretrained:synthetic/ram-3", True),
                                 (str(tmp_path / "runs" / "ram-3" / "best.pt"), False),
                                 ("pretrained:synthetic/ram-7", False)):
        out.write_text(json.dumps({"checkpoint": source}))
        assert up_to_date(out, shipped) is from_shipped
        assert up_to_date(out, folder) is (not source.startswith("pretrained:"))
    out.write_text(json.dumps({"checkpoint": "pretrained:synthetic/ram-3"}))
    os.utime(out, (old - 60, old - 60))  # the shipped file is newer than the output
    assert not up_to_date(out, shipped)
    out.write_text("{}")  # no source recorded
    assert not up_to_date(out, shipped)


def test_export_run_exports_the_shipped_weights(ship, tmp_path, model):
    ship()
    fake_run(tmp_path / "runs" / "ram-3", finished=False)  # best.pt unreadable
    out = export_run(tmp_path / "runs", tmp_path / "work", "ram-3", args=ARGS, limit=6,
                     device="cpu")
    meta = json.loads(pq.read_schema(out).metadata[b"zoo"])
    assert meta["checkpoint"] == "pretrained:synthetic/ram-3" and meta["epoch"] == 165
    # Independent: the shipped model's own policy-mean locations, in pixels.
    images, _ = zdata.load_dataset("synthetic", "test")
    x = ((images[:6].double() / 255 - NORM["mean"]) / NORM["std"]).float().unsqueeze(1)
    with torch.no_grad():
        xy = ((model(x, sample=False).locations.double() + 1) / 2 * 28).reshape(-1, 2)
    torch.testing.assert_close(torch.tensor(pd.read_parquet(out)[["x", "y"]].to_numpy()), xy)
    stamp = out.stat().st_mtime_ns
    assert export_run(tmp_path / "runs", tmp_path / "work", "ram-3", args=ARGS, limit=6,
                      device="cpu") == out
    assert out.stat().st_mtime_ns == stamp  # up to date: not made again


def test_results_table_and_train_stage_name_the_source(tmp_path, monkeypatch, model, capsys):
    """Table 2 with fake fashion-mnist cards for ram-7 (stands in) and mram-12 (another lr):
    the table says where ram-7's state comes from; the train stage queues mram-12, not ram-7."""
    monkeypatch.setenv("ZOO_WEIGHTS", str(tmp_path / "weights"))
    exps = {e.run: e for e in experiments(2)}
    for run, training in (("ram-7", {}), ("mram-12", {"lr": 0.001})):
        exp = exps[run]
        fake = card(model, "fashion-mnist", source_run=run)
        fake["training_config"] = {**TRAINING, "model": exp.model, "dataset": "fashion-mnist",
                                   "model_kwargs": {"glimpses": exp.glimpses}, **training}
        folder = weights_dir() / "fashion-mnist"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{run}.pt").write_bytes(b"not read here")
        (folder / f"{run}.json").write_text(json.dumps(fake))
    settings = Settings(table=2, runs=tmp_path / "runs", work=tmp_path / "work",
                        results=tmp_path / "results")
    table = results_table(settings).set_index("run")
    shipped = weights_dir() / "fashion-mnist" / "ram-7.pt"
    assert table.loc["ram-7", "state"] == f"{STATE}; shipped weights {shipped}"
    assert (table.loc["ram-7", "status"], table.loc["ram-7", "epochs_run"],
            table.loc["ram-7", "wall_time_h"]) == ("stopped early", 215, 14193.0 / 3600)
    assert table.loc["mram-12", "state"] == "not started"
    reproduce.stage_train(settings)
    out = capsys.readouterr().out
    assert f"[train] ram-7: {STATE}; shipped weights {shipped}" in out
    assert "[train] mram-12: shipped weights " in out
    assert "trained with lr=0.001, the experiment has lr=0.0003" in out
    queued = " ".join(line for line in out.splitlines() if "train_queue.sh" in line)
    assert "'mram-12:" in queued and "'ram-7:" not in queued and "'ram-12:" in queued


REAL = Path(zoo.__file__).resolve().parent / "weights" / "fashion-mnist"


@pytest.mark.skipif(not REAL.is_dir(), reason="no shipped Fashion-MNIST weights")
def test_real_cards_stand_in_for_their_lost_folders(tmp_path, monkeypatch):
    monkeypatch.delenv("ZOO_WEIGHTS")  # the package's own zoo/weights
    lost = tmp_path / "runs"
    stood_in = {e.run for e in experiments(2) if standin(lost / e.run, e.train_args())}
    # Every finished Table 2 run is shipped (DRAM-12 with the remedy, as the experiment asks).
    assert stood_in == {"cnn", "ram-7", "ram-12", "mram-7", "mram-12", "dram-7", "dram-12",
                        "dram_nocontext-7", "dram_nocontext-12"}
    ram7 = run_progress(lost / "ram-7", next(e for e in experiments(2)
                                             if e.run == "ram-7").train_args())
    assert ram7.state == ("stopped early at epoch 215 (best 165, patience 50); shipped weights "
                          "zoo/weights/fashion-mnist/ram-7.pt")
    assert ram7.checkpoint == "pretrained:fashion-mnist/ram-7"
