"""zoo: hard-attention vision models (CNN, RAM, DRAM, MRAM) whose glimpses are gaze."""

try:
    import torch  # noqa: F401  (checked first: the zoo is PyTorch throughout)
except ModuleNotFoundError as exc:
    if exc.name != "torch":
        raise
    raise ModuleNotFoundError(
        "zoo needs PyTorch, an optional extra of gazekit: pip install 'gazekit[zoo]' (or "
        "install your CUDA build of torch); gazekit itself works without it",
        name="torch") from None

from zoo import models  # noqa: E402, F401  (registers the models)
from zoo.base import GlimpseOutput  # noqa: E402
from zoo.registry import create_model, list_models  # noqa: E402

__all__ = ["GlimpseOutput", "create_model", "list_models"]
