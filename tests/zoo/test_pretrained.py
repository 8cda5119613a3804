"""Tests of shipped weights: save_pretrained, create_model(pretrained=...), pretrained: specs in
load_model and the zoo CLI. Weights are fake (seeded random) and live in a tmp ZOO_WEIGHTS."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest
import torch

import zoo
from zoo import data as zdata
from zoo.checkpoint import CheckpointError, load_model, save_checkpoint
from zoo.cli import main as zoo_main
from zoo.export import export_scanpaths
from zoo.pretrained import (
    PretrainedError,
    available,
    load_spec,
    save_pretrained,
    weight_name,
)

NORM = {"mean": 0.5, "std": 0.25}
SMALL = {"glimpses": 3, "hidden": 32}


def card_for(model: torch.nn.Module, name: str, **extra) -> dict:
    return {"model": name, "model_kwargs": model.config, "dataset": "synthetic",
            "normalization": NORM, "image_size": [28, 28], "num_classes": 4, "seed": 0,
            "best_epoch": 3, **extra}


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """Seeded random MRAM (3 glimpses) and CNN for 'synthetic', in a tmp weights folder."""
    monkeypatch.setenv("ZOO_WEIGHTS", str(tmp_path / "weights"))
    torch.manual_seed(0)
    mram = zoo.create_model("mram", num_classes=4, **SMALL).eval()
    cnn = zoo.create_model("cnn", num_classes=4).eval()
    paths = {"mram": save_pretrained(mram.state_dict(), card_for(mram, "mram", test_acc=0.5)),
             "cnn": save_pretrained(cnn.state_dict(), card_for(cnn, "cnn"))}
    return {"mram": mram, "cnn": cnn, "paths": paths, "root": tmp_path / "weights"}


def inputs(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first n synthetic test images normalised by hand (float64 arithmetic)."""
    images, labels = zdata.load_dataset("synthetic", "test")
    x = (images[:n].double() / 255.0 - NORM["mean"]) / NORM["std"]
    return x.float().unsqueeze(1), labels[:n]


def test_weight_names():
    assert weight_name("mram", 12) == "mram-12"
    assert weight_name("dram_nocontext", 7) == "dram_nocontext-7"
    assert weight_name("ram", 12, 2) == "ram-12-2scales"
    assert weight_name("cnn") == "cnn"


def test_files_layout_dtype_and_checksum(shipped):
    pt, card_path = shipped["paths"]["mram"]
    assert pt == shipped["root"] / "synthetic" / "mram-3.pt"
    assert card_path == pt.with_suffix(".json")
    weights = torch.load(pt, weights_only=True)
    reference = shipped["mram"].state_dict()
    assert weights.keys() == reference.keys()
    for key, value in weights.items():
        assert value.dtype == torch.float32
        assert torch.equal(value, reference[key])
    card = json.loads(card_path.read_text())
    assert card["sha256"] == hashlib.sha256(pt.read_bytes()).hexdigest()
    assert card["name"] == "mram-3" and card["dtype"] == "float32"
    assert card["test_acc"] == 0.5 and card["normalization"] == NORM
    assert available() == ["synthetic/cnn", "synthetic/mram-3"]
    assert available("mnist") == []


def test_float64_weights_are_stored_as_float32(tmp_path):
    model = zoo.create_model("cnn", num_classes=4).double()
    pt, _ = save_pretrained(model.state_dict(), card_for(model, "cnn"), tmp_path)
    weights = torch.load(pt, weights_only=True)
    for key, value in model.state_dict().items():
        assert weights[key].dtype == torch.float32
        assert torch.equal(weights[key], value.float())


def test_shipping_the_same_weights_again_changes_no_file(tmp_path):
    model = zoo.create_model("cnn", num_classes=4)
    pt, card = save_pretrained(model.state_dict(), card_for(model, "cnn", date="monday"),
                               tmp_path)
    before = pt.read_bytes(), card.read_bytes()
    save_pretrained(model.state_dict(), card_for(model, "cnn", date="tuesday"), tmp_path)
    assert (pt.read_bytes(), card.read_bytes()) == before
    # Another card entry, same weights (a run that went on without a new best): the card is
    # written anew, the weights file is kept, and the card's checksum still matches it.
    save_pretrained(model.state_dict(), card_for(model, "cnn", date="tuesday", best_epoch=4),
                    tmp_path)
    assert json.loads(card.read_text())["best_epoch"] == 4
    assert pt.read_bytes() == before[0]
    assert json.loads(card.read_text())["sha256"] == hashlib.sha256(before[0]).hexdigest()
    # Other weights: the weights file is written anew.
    with torch.no_grad():
        next(model.parameters()).add_(1.0)
    save_pretrained(model.state_dict(), card_for(model, "cnn", best_epoch=4), tmp_path)
    assert torch.equal(torch.load(pt, weights_only=True)[next(iter(model.state_dict()))],
                       next(iter(model.state_dict().values())))
    assert json.loads(card.read_text())["sha256"] == hashlib.sha256(pt.read_bytes()).hexdigest()


def test_create_model_pretrained_gives_the_shipped_model(shipped):
    model = zoo.create_model("mram", glimpses=3, pretrained="synthetic").eval()
    assert model.card["dataset"] == "synthetic" and model.card["normalization"] == NORM
    assert model.config == shipped["mram"].config
    x, _ = inputs(8)
    with torch.no_grad():
        got, want = model(x, sample=False), shipped["mram"](x, sample=False)
    torch.testing.assert_close(got.logits, want.logits, rtol=0, atol=0)
    torch.testing.assert_close(got.locations, want.locations, rtol=0, atol=0)
    # Arguments that agree with the card are accepted.
    zoo.create_model("mram", glimpses=3, hidden=32, num_classes=4, pretrained="synthetic")


def test_missing_combination_lists_what_is_available(shipped):
    with pytest.raises(PretrainedError) as err:
        zoo.create_model("mram", glimpses=7, pretrained="synthetic")
    assert "synthetic/mram-7" in str(err.value)
    assert "available: synthetic/cnn, synthetic/mram-3" in str(err.value)
    with pytest.raises(ValueError, match="synthetic/mram-12"):  # default glimpses: 12
        zoo.create_model("mram", pretrained="synthetic")
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        zoo.create_model("nope", pretrained="synthetic")


def test_no_weights_at_all_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_WEIGHTS", str(tmp_path / "empty"))
    with pytest.raises(PretrainedError, match="available: none"):
        zoo.create_model("mram", glimpses=12, pretrained="fashion-mnist")


def test_argument_differing_from_the_card_is_refused(shipped):
    with pytest.raises(PretrainedError, match="trained with hidden=32; got hidden=64"):
        zoo.create_model("mram", glimpses=3, hidden=64, pretrained="synthetic")
    with pytest.raises(PretrainedError, match="num_classes=4; got num_classes=10"):
        zoo.create_model("cnn", num_classes=10, pretrained="synthetic")


def test_card_older_than_an_argument_accepts_its_default_and_refuses_others(tmp_path,
                                                                            monkeypatch):
    """A card written before first_location / detach_policy_state existed implies their
    defaults ("learned", False): giving those is accepted, another value is refused."""
    monkeypatch.setenv("ZOO_WEIGHTS", str(tmp_path / "weights"))
    torch.manual_seed(0)
    mram = zoo.create_model("mram", num_classes=4, **SMALL).eval()
    newer = ("first_location", "detach_policy_state")
    old_kwargs = {k: v for k, v in mram.config.items() if k not in newer}
    save_pretrained(mram.state_dict(), {**card_for(mram, "mram"), "model_kwargs": old_kwargs})
    loaded = zoo.create_model("mram", glimpses=3, first_location="learned",
                              detach_policy_state=False, pretrained="synthetic")
    assert "first_location" not in loaded.card["model_kwargs"]
    assert loaded.config["first_location"] == "learned"
    for key, value in mram.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)
    with pytest.raises(PretrainedError) as refused:
        zoo.create_model("mram", glimpses=3, first_location="random", pretrained="synthetic")
    assert str(refused.value) == ("pretrained synthetic/mram-3 was trained with "
                                  "first_location='learned'; got first_location='random'")
    with pytest.raises(PretrainedError, match="trained with detach_policy_state=False; got "
                                              "detach_policy_state=True"):
        zoo.create_model("mram", glimpses=3, detach_policy_state=True, pretrained="synthetic")
    with pytest.raises(PretrainedError, match="colour='\\(not an argument\\)'; got colour=1"):
        zoo.create_model("mram", glimpses=3, colour=1, pretrained="synthetic")


def test_corrupt_weights_fail_their_checksum(shipped):
    pt, _ = shipped["paths"]["mram"]
    raw = bytearray(pt.read_bytes())
    raw[-20] ^= 0xFF
    pt.write_bytes(bytes(raw))
    with pytest.raises(PretrainedError, match="SHA-256 differs"):
        zoo.create_model("mram", glimpses=3, pretrained="synthetic")


def test_card_without_required_entries_is_refused(tmp_path):
    model = zoo.create_model("cnn", num_classes=4)
    card = card_for(model, "cnn")
    del card["normalization"]
    with pytest.raises(ValueError, match="missing entry 'normalization'"):
        save_pretrained(model.state_dict(), card, tmp_path)
    assert not any(tmp_path.rglob("*.pt"))


def test_specs_in_load_model(shipped):
    model, state = load_model("pretrained:synthetic/mram-3")
    assert not model.training
    assert state["dataset"] == "synthetic" and state["normalization"] == NORM
    assert state["epoch"] == 3
    for bad in ("pretrained:synthetic", "pretrained:/mram-3", "pretrained:a/b/c"):
        with pytest.raises(PretrainedError, match="expected pretrained:<dataset>/<name>"):
            load_spec(bad)
    with pytest.raises(CheckpointError, match="no shipped weights synthetic/ram-3"):
        load_model("pretrained:synthetic/ram-3")


def test_cli_export_and_evaluate_accept_specs(shipped, tmp_path, capsys):
    spec = "pretrained:synthetic/mram-3"
    out = tmp_path / "spec.parquet"
    assert zoo_main(["export", spec, "--out", str(out), "--limit", "6", "--device", "cpu"]) == 0
    df = pd.read_parquet(out)
    # Independent: the shipped model's own policy-mean locations, in pixels.
    x, labels = inputs(6)
    with torch.no_grad():
        result = shipped["mram"](x, sample=False)
    xy = ((result.locations.double() + 1) / 2 * 28).reshape(-1, 2)
    assert df["model"].unique().tolist() == ["MRAM-3"]
    torch.testing.assert_close(torch.tensor(df[["x", "y"]].to_numpy()), xy)
    # Same file as an export of a checkpoint holding the same weights.
    ckpt = save_checkpoint({"model": "mram", "model_kwargs": shipped["mram"].config,
                            "state_dict": shipped["mram"].state_dict(), "dataset": "synthetic",
                            "normalization": NORM, "image_size": [28, 28]}, tmp_path / "m.pt")
    same = pd.read_parquet(export_scanpaths(ckpt, out=tmp_path / "ckpt.parquet", limit=6,
                                            device="cpu"))
    pd.testing.assert_frame_equal(df, same)

    report = tmp_path / "eval.json"
    assert zoo_main(["evaluate", spec, "--repeats", "1", "--latency-images", "2",
                     "--device", "cpu", "--json", str(report)]) == 0
    x, labels = inputs(500)
    with torch.no_grad():
        correct = int((shipped["mram"](x, sample=False).logits.argmax(1) == labels).sum())
    result = json.loads(report.read_text())
    assert (result["correct"], result["images"]) == (correct, 500)
    assert result["checkpoint"] == spec

    capsys.readouterr()
    assert zoo_main(["list", "--pretrained"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["synthetic/cnn", "synthetic/mram-3"]
    assert all("  test " in line for line in lines)  # accuracy from the card (or "?")
    assert zoo_main(["export", "pretrained:synthetic/x-1", "--out",
                     str(tmp_path / "x.parquet")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("zoo: error: no shipped weights synthetic/x-1; available:")


def test_another_run_ships_under_its_own_name_and_never_replaces_a_run(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_WEIGHTS", str(tmp_path))
    torch.manual_seed(0)
    seed1, seed2 = (zoo.create_model("ram", num_classes=4, **SMALL) for _ in range(2))
    pt, card = save_pretrained(seed1.state_dict(), card_for(seed1, "ram", source_run="ram-3"))
    assert pt.name == "ram-3.pt"
    before = pt.read_bytes(), card.read_bytes()
    # Another run of the same model, under the default (canonical) name: refused, nothing moves.
    with pytest.raises(ValueError, match=r"ram-3.json: holds the weights of run 'ram-3', not "
                                         r"of 'ram-3-seed2'"):
        save_pretrained(seed2.state_dict(), card_for(seed2, "ram", source_run="ram-3-seed2"))
    assert (pt.read_bytes(), card.read_bytes()) == before
    # Under its run's name it sits beside the first; load_spec reads it, create_model the first.
    other, _ = save_pretrained(seed2.state_dict(), card_for(seed2, "ram", source_run="ram-3-seed2"),
                               name="ram-3-seed2")
    assert other.name == "ram-3-seed2.pt" and available() == ["synthetic/ram-3",
                                                                "synthetic/ram-3-seed2"]
    assert available(other_runs=False) == ["synthetic/ram-3"]  # what the demo shows
    loaded, state = load_spec("pretrained:synthetic/ram-3-seed2")
    assert state["card"]["name"] == "ram-3-seed2"
    for key, value in seed2.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)
    canonical = zoo.create_model("ram", num_classes=4, pretrained="synthetic", **SMALL)
    for key, value in seed1.state_dict().items():
        assert torch.equal(canonical.state_dict()[key], value)
    with pytest.raises(ValueError, match="plain file stem"):
        save_pretrained(seed2.state_dict(), card_for(seed2, "ram"), name="../x")


def test_a_cards_note_is_listed(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ZOO_WEIGHTS", str(tmp_path))
    model = zoo.create_model("cnn", num_classes=4)
    save_pretrained(model.state_dict(), card_for(model, "cnn", test_acc=0.5,
                                                 note="context saturated"))
    save_pretrained(model.state_dict(), card_for(model, "cnn", test_acc=0.5), name="cnn-b")
    assert zoo_main(["list", "--pretrained"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "synthetic/cnn  test 50.00 %  (no training state)  NOTE: context saturated",
        "synthetic/cnn-b  test 50.00 %  (no training state)"]
