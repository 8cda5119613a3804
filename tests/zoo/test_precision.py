"""bf16 mixed precision (zoo.precision): float32 master weights, float32 locations, results close
to float32, the setting stored and kept through resume, and evaluation under autocast."""

from __future__ import annotations

import json

import pytest
import torch

import zoo
from zoo.checkpoint import load_checkpoint, save_checkpoint
from zoo.evaluate import evaluate
from zoo.precision import autocast, check_precision
from zoo.train import TrainConfig, _adam, main, step_forward, train


def config(out, **overrides) -> TrainConfig:
    """A small, fast run on the synthetic data; one thread."""
    settings = dict(model="mram", model_kwargs={"glimpses": 3, "hidden": 32},
                    dataset="synthetic", out_dir=str(out), epochs=2, batch_size=64, limit=300,
                    lr=1e-3, num_threads=1)
    return TrainConfig(**{**settings, **overrides})


def one_line_error(capsys, code: int, fragment: str) -> None:
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("zoo train: error: ") and fragment in err


def tiny(name: str = "mram") -> torch.nn.Module:
    torch.manual_seed(0)
    return zoo.create_model(name, glimpses=3, hidden=32, num_classes=4).train()


def batch(n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.randn(n, 1, 28, 28, generator=g), torch.randint(0, 4, (n,), generator=g)


def test_autocast_names():
    assert check_precision("bf16") == "bf16"
    with pytest.raises(ValueError, match="precision: expected one of fp32, bf16, got 'fp16'"):
        autocast("fp16", "cpu")


@pytest.mark.parametrize("name", ["ram", "dram", "mram"])
def test_locations_stay_float32_under_bf16_autocast(name):
    model = tiny(name)
    images, _ = batch(8)
    with autocast("bf16", "cpu"):
        out = model(images, sample=True)
    assert out.logits.dtype == torch.bfloat16  # the products ran in bfloat16
    assert out.locations.dtype == out.means.dtype == out.log_probs.dtype == torch.float32


@pytest.mark.parametrize("compile", [False, True])
def test_a_bf16_step_keeps_float32_weights_and_is_close_to_float32(compile):
    # One training step from the same weights and RNG state in both precisions. Stated
    # tolerances for bfloat16 (8 significant bits, relative rounding 2**-8 = 0.4 %): the loss
    # within 2 %, every weight gradient at cosine similarity >= 0.98 with float32's (the glimpse
    # noise is drawn from the same generator state in float32 in both, so the patches differ
    # only where a policy mean moved across a pixel boundary).
    if compile and not hasattr(torch, "compile"):
        pytest.skip("torch.compile unavailable")
    images, labels = batch()
    results = {}
    for precision in ("fp32", "bf16"):
        model = tiny()
        optimizer = _adam(model, lr=1e-3)
        torch.manual_seed(5)
        forward = step_forward(compile, precision)
        logits, loss, _ = forward(model, images, labels, True, 0.01)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
        optimizer.step()
        results[precision] = loss.detach(), grads, logits.dtype
        assert all(p.dtype == torch.float32 for p in model.parameters())  # master weights
        assert all(g.dtype == torch.float32 for g in grads.values())
        for state in optimizer.state.values():
            assert state["exp_avg"].dtype == torch.float32
    (loss32, grads32, dtype32), (loss16, grads16, dtype16) = results["fp32"], results["bf16"]
    assert dtype32 == torch.float32 and dtype16 == torch.bfloat16
    assert loss16.dtype == torch.float32
    assert loss16.item() == pytest.approx(loss32.item(), rel=0.02)
    assert grads16.keys() == grads32.keys()
    for n in grads32:
        a, b = grads32[n].flatten().double(), grads16[n].flatten().double()
        if a.norm() > 0:
            cos = (a @ b / (a.norm() * b.norm())).item()
            assert cos >= 0.98, (n, cos)


def test_bf16_training_learns_records_its_precision_and_resumes_exactly(tmp_path):
    straight, parted = tmp_path / "straight", tmp_path / "parted"
    final = train(config(straight, epochs=2, precision="bf16"))
    assert final["precision"] == "bf16" and final["test_acc"] > 0.25 + 0.2  # 4 classes
    assert json.loads((straight / "config.json").read_text())["precision"] == "bf16"
    assert json.loads((straight / "final.json").read_text())["precision"] == "bf16"
    best = load_checkpoint(straight / "best.pt")
    assert all(v.dtype == torch.float32 for v in best["state_dict"].values()
               if v.is_floating_point())
    # Resumed without --precision: the stored bf16 goes on, to the same weights.
    train(config(parted, epochs=1, precision="bf16"))
    assert main(["--out", str(parted), "--resume", "--epochs", "2"]) == 0
    assert json.loads((parted / "config.json").read_text())["precision"] == "bf16"
    a = torch.load(straight / "last.pt", weights_only=True)["state_dict"]
    b = torch.load(parted / "last.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_run_without_the_setting_resumes_as_fp32_only(tmp_path, capsys):
    out = tmp_path / "old"
    train(config(out, model="cnn", model_kwargs={}, epochs=1, limit=100))
    state = load_checkpoint(out / "last.pt")
    del state["config"]["precision"]  # as written before the setting existed
    save_checkpoint(state, out / "last.pt")
    one_line_error(capsys, main(["--out", str(out), "--resume", "--epochs", "2",
                                 "--precision", "bf16"]),
                   "started with precision='fp32'; cannot resume it with precision='bf16'")
    assert main(["--out", str(out), "--resume", "--epochs", "2"]) == 0
    assert json.loads((out / "final.json").read_text())["precision"] == "fp32"
    with pytest.raises(SystemExit) as exit_:
        main(["--model", "cnn", "--dataset", "synthetic", "--out", str(tmp_path / "x"),
              "--precision", "fp16"])
    assert exit_.value.code == 2
    assert "argument --precision: invalid choice: 'fp16'" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["ram", "cnn"])
def test_evaluate_under_bf16_autocast(make_checkpoint, tmp_path, name):
    kwargs = {"glimpses": 2} if name == "ram" else {}
    path, _ = make_checkpoint(tmp_path / "m.pt", name, **kwargs)
    runs = {p: evaluate(path, device="cpu", batch_size=128, repeats=1, latency_images=2,
                        precision=p) for p in ("fp32", "bf16")}
    assert runs["fp32"]["precision"] == "fp32" and runs["bf16"]["precision"] == "bf16"
    assert runs["bf16"]["dtype"] == "float32"
    # Random 4-class models: bfloat16 rounding flips at most a few near-tied predictions.
    assert runs["bf16"]["accuracy_pct"] == pytest.approx(runs["fp32"]["accuracy_pct"], abs=2.0)
    with pytest.raises(ValueError, match="cannot be combined with dtype='bfloat16'"):
        evaluate(path, device="cpu", dtype="bfloat16", precision="bf16")
