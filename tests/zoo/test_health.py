"""Tests of zoo.health (policy spread and saturation) and of the REINFORCE-only learning rate."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import zoo
from zoo.health import SPREAD_FLOOR_PX, collapse_warning, policy_health
from zoo.reinforce import hybrid_loss
from zoo.train import TrainConfig, reinforce_only_parameters, train


def images(n: int = 32, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


def test_spread_is_the_rms_distance_from_the_mean_location_in_pixels():
    torch.manual_seed(0)
    model = zoo.create_model("dram", glimpses=4).eval()
    x = images()
    health = policy_health(model, x)
    with torch.no_grad():
        loc = model(x, sample=False).locations.double().numpy()
    px = (loc + 1) / 2 * 28  # independent pixel mapping, float64 loop over glimpses
    for t in range(4):
        d = px[:, t] - px[:, t].mean(0)
        expected = np.sqrt(np.mean([dx * dx + dy * dy for dx, dy in d]))
        assert health["spread_px"][t] == pytest.approx(expected, abs=1e-4)
    assert 0 <= health["policy_saturated"] <= 1


def test_a_dead_tanh_context_is_saturated_image_independent_and_collapsed():
    torch.manual_seed(0)
    model = zoo.create_model("dram", glimpses=3).eval()
    healthy = policy_health(model, images())
    assert healthy["context_saturated"] < 0.5 and healthy["context_spread"] > 0
    assert healthy["spread_px"][0] > 0
    last = model.context[-2]  # Linear before the tanh: every unit pinned to +-1
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(torch.where(torch.arange(last.bias.numel()) % 2 == 0, 10.0, -10.0))
    dead = policy_health(model, images())
    assert dead["context_saturated"] == 1.0 and dead["context_spread"] == 0.0
    assert dead["spread_px"][0] < SPREAD_FLOOR_PX and 1 in dead["collapsed"]
    line = collapse_warning(dead, epoch=5)
    assert "\n" not in line and "epoch 5" in line and "context units saturated: 100%" in line
    assert collapse_warning({**dead, "collapsed": []}, epoch=5) is None


def test_layernorm_context_has_no_saturation_share_and_first_glimpse_judged_only_with_context():
    ln = policy_health(zoo.create_model("dram", glimpses=2, context_output="layernorm"),
                       images())
    assert ln["context_saturated"] is None and ln["context_spread"] > 0
    ram = policy_health(zoo.create_model("ram", glimpses=2), images())
    assert ram["spread_px"][0] == 0.0  # a learned constant by design, never "collapsed"
    assert 1 not in ram["collapsed"] and ram["context_spread"] is None


def test_context_output_changes_the_model_but_not_its_parameters():
    tanh = zoo.create_model("dram")
    ln = zoo.create_model("dram", context_output="layernorm")
    assert sum(p.numel() for p in tanh.parameters()) == sum(
        p.numel() for p in ln.parameters()) == 1_985_293
    assert zoo.create_model("dram", **ln.config).config["context_output"] == "layernorm"
    with pytest.raises(ValueError, match="context_output"):
        zoo.create_model("dram", context_output="relu")


@pytest.mark.parametrize("name, expected", [
    ("ram", {"policy"}), ("mram", {"policy"}), ("dram", {"context", "upper", "policy"}),
    ("dram_nocontext", {"upper", "policy"}),
])
def test_reinforce_only_parameters_are_those_without_a_classification_gradient(name, expected):
    model = zoo.create_model(name, glimpses=2, hidden=16)
    names = reinforce_only_parameters(model)
    assert {n.split(".")[0] for n in names} == expected
    # Independent check: the classification and baseline terms of the training loss, on
    # sampled glimpses, reach every parameter except those named.
    terms = hybrid_loss(model(images(4), sample=True), torch.zeros(4, dtype=torch.long))
    (terms["classification"] + terms["baseline"]).backward()
    for n, p in model.named_parameters():
        assert (p.grad is None) == (n in names), n


def test_reinforce_lr_scale_trains_those_parameters_at_a_smaller_rate(tmp_path):
    base = dict(model="dram", model_kwargs={"glimpses": 2, "hidden": 16}, dataset="synthetic",
                epochs=1, batch_size=64, limit=200, lr=1e-3, num_threads=1)
    train(TrainConfig(**base, out_dir=str(tmp_path / "a"), reinforce_lr_scale=0.1))
    last = torch.load(tmp_path / "a" / "last.pt", weights_only=True)
    groups = last["optimizer"]["param_groups"]
    assert [g["lr"] for g in groups] == pytest.approx([1e-3, 1e-4])
    assert json.loads((tmp_path / "a" / "config.json").read_text())["reinforce_lr_scale"] == 0.1
    record = json.loads((tmp_path / "a" / "metrics.jsonl").read_text().splitlines()[0])
    assert len(record["health"]["spread_px"]) == 2
    with pytest.raises(ValueError, match="reinforce_lr_scale"):
        train(TrainConfig(**base, out_dir=str(tmp_path / "b"), reinforce_lr_scale=0))


def test_an_untrained_policy_that_never_spread_is_no_collapse():
    flat = {"collapsed": [2, 3], "spread_px": [0.0, 0.1, 0.2], "policy_saturated": 0.0,
            "context_saturated": None}
    assert collapse_warning(flat, 1) is None
    assert collapse_warning(flat, 4, [{"spread_px": [0.0, 0.2, 0.3]}]) is None
    # Glimpse 3 had spread at epoch 2 and lost it: that is a collapse, glimpse 2 is not named.
    line = collapse_warning(flat, 4, [{"spread_px": [0.0, 0.2, 2.5]}])
    assert "glimpse(s) 3 land" in line
    # Saturated tanh units behind image-independent glimpses: a collapse from the start.
    assert "glimpse(s) 2, 3" in collapse_warning({**flat, "policy_saturated": 0.6}, 1)
