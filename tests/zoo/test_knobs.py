"""The open knobs of the glimpse models (issue 14, part B): each reaches the run's config and the
model card, has its effect, and leaves today's behaviour unchanged when not set."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import scipy.stats
import torch

import zoo
from analysis import ship_weights
from zoo.checkpoint import build_model, load_checkpoint
from zoo.evaluate import evaluate
from zoo.export import export_scanpaths
from zoo.modules import _hash_weights, image_uniforms
from zoo.reinforce import hybrid_loss
from zoo.sensor import pad_images, read_glimpses
from zoo.train import main

SMALL = {"glimpses": 3, "hidden": 16}
NEW_KEYS = ("first_location", "detach_policy_state")


def images(n: int = 6, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


def reference_forward(model, x: torch.Tensor, sample: bool):
    """Today's step loop written out from the model's parts: the policy places every glimpse
    from the undetached state (the behaviour before the knobs existed)."""
    padded = pad_images(x, model.size, model.scales, model.pad_value)
    state = model.initial_state(x)
    locations, log_probs = [], []
    for _ in range(model.glimpses):
        location, _, log_prob = model.policy(model.policy_state(state), sample)
        model.baseline(model.baseline_state(state).detach())  # as forward: no random draw
        patch = read_glimpses(padded, location, 28, 28, model.size, model.scales)
        state = model.update(model.glimpse_net(patch, location), state)
        locations.append(location)
        log_probs.append(log_prob)
    return (model.action(model.action_state(state)), torch.stack(locations, 1),
            torch.stack(log_probs, 1))


@pytest.mark.parametrize("name", ["ram", "mram", "dram"])
@pytest.mark.parametrize("sample", [False, True])
def test_old_model_kwargs_keep_todays_behaviour(name, sample):
    torch.manual_seed(0)
    model = zoo.create_model(name, **SMALL)
    assert model.config["first_location"] == "learned"
    assert model.config["detach_policy_state"] is False
    # A checkpoint written before the knobs: model_kwargs without them.
    old = {k: v for k, v in model.config.items() if k not in NEW_KEYS}
    rebuilt = build_model({"model": name, "model_kwargs": old,
                           "state_dict": model.state_dict()}, "old.pt")
    assert rebuilt.config == model.config
    x = images()
    torch.manual_seed(5)
    out = rebuilt(x, sample=sample)
    after = torch.get_rng_state()
    torch.manual_seed(5)
    logits, locations, log_probs = reference_forward(model, x, sample)
    assert torch.equal(torch.get_rng_state(), after)  # the same random draws, no more
    assert torch.equal(out.logits, logits) and torch.equal(out.locations, locations)
    assert torch.equal(out.log_probs, log_probs)


def test_knob_values_are_checked():
    with pytest.raises(ValueError, match="first_location"):
        zoo.create_model("ram", first_location="centre")
    with pytest.raises(ValueError, match="detach_policy_state"):
        zoo.create_model("ram", detach_policy_state="yes")


# --- first location -----------------------------------------------------------------------

def test_image_hash_is_uniform_and_a_function_of_the_image():
    weights = _hash_weights(28 * 28)
    x = images(3000, seed=1)
    u = image_uniforms(x, weights).numpy()
    assert ((u > 0) & (u < 1)).all()
    for k in range(2):  # each coordinate uniform, the two independent
        assert scipy.stats.kstest(u[:, k], "uniform").pvalue > 1e-3
    assert abs(scipy.stats.pearsonr(u[:, 0], u[:, 1]).statistic) < 0.08
    # Per image: not the batch, not the position in it.
    assert torch.equal(image_uniforms(x[[7]], weights), image_uniforms(x, weights)[[7]])
    assert torch.equal(image_uniforms(x.flip(0), weights), image_uniforms(x, weights).flip(0))
    # A one-pixel change moves it.
    y = x[:1].clone()
    y[0, 0, 5, 5] += 0.01
    assert not torch.equal(image_uniforms(y, weights), image_uniforms(x[:1], weights))


@pytest.mark.parametrize("name", ["ram", "mram", "dram"])
def test_random_first_location_in_evaluation_is_seeded_per_image(name):
    torch.manual_seed(0)
    model = zoo.create_model(name, first_location="random", **SMALL).eval()
    x = images(40)
    state = torch.get_rng_state()
    with torch.no_grad():
        a, b = model(x, sample=False), model(x, sample=False)
        alone = model(x[[3]], sample=False)
    assert torch.equal(torch.get_rng_state(), state)  # evaluation draws no random number
    assert torch.equal(a.locations, b.locations) and torch.equal(a.logits, b.logits)
    assert torch.equal(alone.locations[0, 0], a.locations[3, 0])
    torch.testing.assert_close(alone.locations[0], a.locations[3])  # batch-size rounding
    expected = 2 * image_uniforms(x, _hash_weights(28 * 28)).float() - 1
    assert torch.equal(a.locations[:, 0], expected)
    assert torch.equal(a.means[:, 0], a.locations[:, 0])
    assert a.locations[:, 0].std(0).min() > 0.3  # spread over the image, not a constant
    # No log-probability term for the first glimpse; the later ones are the policy's.
    assert torch.equal(a.log_probs[:, 0], torch.zeros(40))
    assert (a.log_probs[:, 1:] != 0).all()


def test_random_first_location_in_training_is_uniform_and_seeded():
    model = zoo.create_model("ram", first_location="random", **SMALL)
    x = images(4000, seed=2)
    torch.manual_seed(3)
    first = model(x, sample=True).locations[:, 0]
    torch.manual_seed(3)
    again = model(x, sample=True).locations[:, 0]
    assert torch.equal(first, again)  # the training seed fixes it
    for k in range(2):
        values = (first[:, k].detach().numpy() + 1) / 2
        assert scipy.stats.kstest(values, "uniform").pvalue > 1e-3
    # The REINFORCE term carries no gradient through the first glimpse's draw.
    out = model(x[:8], sample=True)
    grads = torch.autograd.grad(out.log_probs[:, 0].sum(), list(model.parameters()),
                                allow_unused=True)
    assert all(g is None or not g.any() for g in grads)


def test_learned_first_location_is_a_constant():
    model = zoo.create_model("ram", **SMALL).eval()
    with torch.no_grad():
        out = model(images(10), sample=False)
    assert out.locations[:, 0].std(0).max() < 1e-6  # the same place for every image


def test_evaluate_and_export_repeat_exactly_with_a_random_first_location(tmp_path,
                                                                          make_checkpoint):
    path, _ = make_checkpoint(tmp_path / "r.pt", "ram", glimpses=4, first_location="random")
    runs = [evaluate(path, device="cpu", repeats=1, latency_images=1, batch_size=b)
            for b in (1000, 37)]
    assert runs[0]["correct"] == runs[1]["correct"]
    exports = [pd.read_parquet(export_scanpaths(path, out=tmp_path / f"e{b}.parquet",
                                                device="cpu", limit=120, batch_size=b))
               for b in (120, 50, 120)]
    for other in exports[1:]:  # another batch size, or the same again: identical scanpaths
        pd.testing.assert_frame_equal(exports[0], other)
    first = exports[0][exports[0]["step"] == 0]
    assert first["x"].std() > 3 and first["y"].std() > 3  # px: spread over the image


# --- REINFORCE detached from the core -----------------------------------------------------

CORES = {"ram": ["core"], "mram": ["lower", "upper"], "dram": ["lower", "upper", "context"]}


def reinforce_grads(name: str, detach: bool) -> dict[str, float]:
    """Largest |gradient| of the REINFORCE term alone, per top-level module."""
    torch.manual_seed(0)
    model = zoo.create_model(name, detach_policy_state=detach, **SMALL)
    x, y = images(16), torch.randint(0, 10, (16,), generator=torch.Generator().manual_seed(1))
    out = model(x, sample=True)
    hybrid_loss(out, y)["reinforce"].backward()
    grads: dict[str, float] = {}
    for n, p in model.named_parameters():
        top = n.split(".")[0]
        g = 0.0 if p.grad is None else p.grad.abs().max().item()
        grads[top] = max(grads.get(top, 0.0), g)
    return grads


@pytest.mark.parametrize("name", ["ram", "mram", "dram"])
def test_detached_core_gets_no_reinforce_gradient(name):
    attached, detached = reinforce_grads(name, False), reinforce_grads(name, True)
    for module in CORES[name] + ["glimpse_net"]:
        if name == "mram" and module == "upper":
            continue  # MRAM's policy reads the lower LSTM; the upper one is never upstream
        assert attached[module] > 0, module
        assert detached[module] == 0, module
    assert attached["policy"] > 0 and detached["policy"] > 0  # the location head learns
    assert attached["action"] == detached["action"] == 0  # REINFORCE never reaches it


def test_detach_leaves_the_forward_pass_unchanged():
    torch.manual_seed(0)
    model = zoo.create_model("mram", **SMALL)
    detached = zoo.create_model("mram", **{**model.config, "detach_policy_state": True})
    detached.load_state_dict(model.state_dict())
    x = images()
    torch.manual_seed(1)
    a = model(x)
    torch.manual_seed(1)
    b = detached(x)
    assert torch.equal(a.locations, b.locations) and torch.equal(a.logits, b.logits)


# --- zoo train options, config and model card ---------------------------------------------

def test_knobs_are_train_options_recorded_in_config_and_card(tmp_path):
    out = tmp_path / "run"
    argv = ["--model", "ram", "--dataset", "synthetic", "--out", str(out), "--glimpses", "3",
            "--hidden", "16", "--limit", "300", "--batch-size", "64", "--num-threads", "1",
            "--epochs", "12", "--patience", "2", "--lr", "3e-3", "--std", "0.05",
            "--first-location", "random", "--reinforce-detach-core", "--lr-factor", "0.1",
            "--lr-patience", "0"]
    assert main(argv) == 0
    config = json.loads((out / "config.json").read_text())
    knobs = {"std": 0.05, "first_location": "random", "detach_policy_state": True}
    assert {k: config["model_kwargs"][k] for k in knobs} == knobs
    assert config["lr_factor"] == 0.1 and config["lr_patience"] == 0
    best = load_checkpoint(out / "best.pt")
    assert {k: best["model_kwargs"][k] for k in knobs} == knobs
    # The LR schedule: ReduceLROnPlateau(max, factor 0.1, patience 0), re-implemented.
    history = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    lr, top = 3e-3, -np.inf
    for record in history:
        assert record["lr"] == pytest.approx(lr, rel=1e-12)
        if record["val_acc"] > top * (1 + 1e-4):
            top = record["val_acc"]
        else:
            lr *= 0.1
    assert len({r["lr"] for r in history}) > 1  # it did reduce
    # The model card carries the model's knobs and the training config's.
    pt, card_path = ship_weights.ship_run(out, tmp_path / "weights")
    card = json.loads(card_path.read_text())
    assert {k: card["model_kwargs"][k] for k in knobs} == knobs
    assert card["training_config"]["lr_factor"] == 0.1
    assert card["training_config"]["lr_patience"] == 0
    # Resuming keeps them (no model option given).
    assert main(["--out", str(out), "--resume", "--epochs", "13", "--patience", "50"]) == 0
    resumed = json.loads((out / "config.json").read_text())
    assert {k: resumed["model_kwargs"][k] for k in knobs} == knobs


def test_the_cnn_refuses_glimpse_knobs(tmp_path, capsys):
    argv = ["--model", "cnn", "--dataset", "synthetic", "--out", str(tmp_path / "c"),
            "--first-location", "random", "--limit", "64", "--epochs", "1"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("zoo train: error: cannot create model 'cnn'") and "\n" not in err[:-1]
