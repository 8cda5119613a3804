"""Checkpoints: written atomically, loaded with ``torch.load(..., weights_only=True)``.

A checkpoint is a plain dict of tensors and Python primitives, so that it loads without
unpickling arbitrary objects. Keys written by :mod:`zoo.train`:

``model`` (registry name), ``model_kwargs`` (dict), ``state_dict``, ``dataset`` (name),
``normalization`` (``{"mean": float, "std": float}`` of the training set), ``image_size``
(``[H, W]``), ``num_classes``, ``config`` (training config as a dict), ``seed``, ``epoch``
(epochs completed), ``metrics`` (dict of the latest/best metrics), and for resuming
``optimizer``, ``scheduler``, ``rng`` (RNG states) and ``history``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable or lacks a required entry."""


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write ``state`` to ``path`` atomically (:func:`gazekit.atomic.atomic_file`), creating
    folders."""
    from gazekit.atomic import atomic_file  # local: gazekit's imports are not needed to load models

    with atomic_file(path) as tmp:
        torch.save(state, tmp)
    return Path(path)


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict:
    """Load a checkpoint dict with ``weights_only=True``.

    Raises
    ------
    CheckpointError
        If the file does not exist or is not a readable checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt files
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(exc).__name__})") from exc
    for key in ("model", "model_kwargs", "state_dict"):
        if not isinstance(state, dict) or key not in state:
            raise CheckpointError(f"{path}: checkpoint lacks the entry {key!r}")
    return state


def load_model(
    path: str | os.PathLike, device: str | torch.device = "cpu",
) -> tuple[torch.nn.Module, dict]:
    """Recreate a checkpoint's model through the registry, in eval mode on ``device``.

    Parameters
    ----------
    path : path-like
        Checkpoint written by :func:`save_checkpoint` (keys ``model``, ``model_kwargs``,
        ``state_dict`` at least), or a spec ``pretrained:<dataset>/<name>`` of shipped weights
        (:func:`zoo.pretrained.load_spec`).
    device : str or torch.device, default "cpu"
        Where the model's parameters are placed.

    Returns
    -------
    model : torch.nn.Module
        The model with the stored weights, in eval mode.
    state : dict
        The whole checkpoint dict (tensors on the CPU).

    Raises
    ------
    CheckpointError
        If the file is missing or unreadable, names an unknown model or arguments it does not
        accept, or holds weights that do not fit that model; for a spec, if those weights are
        not shipped (:class:`zoo.pretrained.PretrainedError`).
    """
    from zoo.pretrained import is_spec, load_spec  # local: they need the model code
    from zoo.registry import create_model

    if is_spec(path):
        model, state = load_spec(str(path))
        return model.to(device).eval(), state
    state = load_checkpoint(path)
    name, kwargs = state["model"], state["model_kwargs"]
    try:
        model = create_model(name, **kwargs)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: cannot recreate model {name!r}: {exc}") from exc
    try:
        model.load_state_dict(state["state_dict"])
    except (RuntimeError, TypeError, AttributeError) as exc:
        detail = " ".join(str(exc).split())[:300] or type(exc).__name__  # one line, bounded
        raise CheckpointError(f"{path}: weights do not fit model {name!r}: {detail}") from exc
    return model.to(device).eval(), state
