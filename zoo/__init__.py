"""zoo: hard-attention vision models (CNN, RAM, DRAM, MRAM) whose glimpses are gaze."""

from zoo import models  # noqa: F401  (registers the models)
from zoo.base import GlimpseOutput
from zoo.registry import create_model, list_models

__all__ = ["GlimpseOutput", "create_model", "list_models"]
