"""The CUDA path end to end: train, evaluate, export and compiled inference on a GPU, checked
against the same checkpoint on the CPU. Skipped where no CUDA device is present (as on CI)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from zoo.checkpoint import load_checkpoint, load_model
from zoo.evaluate import evaluate, logits_fn
from zoo.export import export_scanpaths
from zoo.train import TrainConfig, train

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cuda") / "mram-3"
    train(TrainConfig(model="mram", model_kwargs={"glimpses": 3, "hidden": 32},
                      dataset="synthetic", out_dir=str(out), epochs=2, batch_size=32, limit=200,
                      lr=3e-3, num_threads=1, device="cuda", snapshot_every=1))
    return out


def test_training_on_cuda_writes_cpu_checkpoints(run):
    state = load_checkpoint(run / "best.pt")  # loads on the CPU, weights_only
    assert all(t.device.type == "cpu" for t in state["state_dict"].values())
    assert sorted(p.name for p in (run / "snapshots").iterdir()) == [
        "epoch-000.pt", "epoch-001.pt", "epoch-002.pt"]


def test_cuda_and_cpu_agree(run):
    cpu, _ = load_model(run / "best.pt", "cpu")
    gpu, _ = load_model(run / "best.pt", "cuda")
    x = torch.randn(16, 1, 28, 28)
    expected = cpu(x, sample=False).logits
    torch.testing.assert_close(gpu(x.cuda(), sample=False).logits.cpu(), expected,
                               rtol=1e-3, atol=1e-3)
    compiled = logits_fn(gpu, compile=True)
    torch.testing.assert_close(compiled(x.cuda()).cpu(), expected, rtol=1e-3, atol=1e-3)
    on_gpu, on_cpu = (evaluate(run / "best.pt", device=d, repeats=1, latency_images=4)
                      for d in ("cuda", "cpu"))
    assert abs(on_gpu["accuracy_pct"] - on_cpu["accuracy_pct"]) <= 1.0


def test_export_on_cuda_matches_the_cpu(run, tmp_path):
    paths = {d: export_scanpaths(run / "best.pt", out=tmp_path / f"{d}.parquet", limit=50,
                                 device=d) for d in ("cuda", "cpu")}
    gpu, cpu = (pd.read_parquet(p) for p in paths.values())
    np.testing.assert_allclose(gpu[["x", "y"]], cpu[["x", "y"]], atol=1e-2)
