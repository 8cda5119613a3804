"""Fixtures shared by the zoo tests."""

from pathlib import Path

import pytest
import torch
from torch import nn

import zoo
from zoo.checkpoint import save_checkpoint


def _make_checkpoint(path: Path, name: str, *, dataset: str = "synthetic",
                     normalization: dict | None = None, epoch: int = 0,
                     **model_kwargs) -> tuple[Path, nn.Module]:
    """Save an untrained 4-class model (weights from seed 0) as a 28x28-image checkpoint.

    ``normalization`` defaults to mean 0.5, std 0.25; returns the path and the model in eval
    mode.
    """
    torch.manual_seed(0)
    model = zoo.create_model(name, num_classes=4, **model_kwargs)
    save_checkpoint({
        "model": name, "model_kwargs": model.config, "state_dict": model.state_dict(),
        "dataset": dataset, "normalization": normalization or {"mean": 0.5, "std": 0.25},
        "image_size": [28, 28], "num_classes": 4, "config": {}, "seed": 0, "epoch": epoch,
        "metrics": {},
    }, path)
    return path, model.eval()


@pytest.fixture(scope="session")
def make_checkpoint():
    """The checkpoint factory ``make_checkpoint(path, name, *, dataset="synthetic",
    normalization=None, epoch=0, **model_kwargs) -> (path, model)``."""
    return _make_checkpoint
