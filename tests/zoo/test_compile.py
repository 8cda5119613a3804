"""The optional torch.compile paths give eager's numbers (training step, inference).

Each compiled test compiles a tiny model once (tens of seconds on two CPU cores)."""

from __future__ import annotations

import torch

import zoo
from zoo.evaluate import logits_fn
from zoo.train import build_parser, step_forward

TINY = {"glimpses": 2, "hidden": 16, "num_classes": 4}


def _train_pass(forward, model, images, labels):
    """Loss terms, gradients and the RNG state after one seeded training forward/backward."""
    torch.manual_seed(3)
    model.zero_grad(set_to_none=True)
    logits, loss, terms = forward(model, images, labels, True, 0.01)
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    return logits.detach(), {k: v.detach() for k, v in terms.items()}, grads, torch.rand(4)


def test_compiled_training_step_matches_eager():
    torch.manual_seed(0)
    model = zoo.create_model("mram", **TINY)
    images, labels = torch.randn(8, 1, 28, 28), torch.arange(8) % 4
    eager = _train_pass(step_forward(False), model, images, labels)
    compiled = _train_pass(step_forward(True), model, images, labels)
    torch.testing.assert_close(compiled[0], eager[0], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(compiled[1], eager[1], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(compiled[2], eager[2], rtol=1e-4, atol=1e-6)
    # same glimpse noise drawn, and the generator left where eager leaves it (exact resume)
    assert torch.equal(compiled[3], eager[3])


def test_compiled_inference_matches_eager():
    torch.manual_seed(0)
    model = zoo.create_model("ram", **TINY).eval()
    images = torch.randn(5, 1, 28, 28)
    with torch.inference_mode():
        expected = model(images, sample=False).logits
        torch.testing.assert_close(logits_fn(model, compile=True)(images), expected,
                                   rtol=1e-5, atol=1e-6)


def test_compile_flag_of_the_command_line():
    parser = build_parser()
    assert parser.parse_args([]).compile is None  # unset: TrainConfig default / stored value
    assert parser.parse_args(["--compile"]).compile is True
    assert parser.parse_args(["--no-compile"]).compile is False
