"""Checkpoints: written atomically with a checksum, loaded with ``weights_only=True``.

A checkpoint is a plain dict of tensors and Python primitives, so that it loads without
unpickling arbitrary objects. Keys written by :mod:`zoo.train`:

``model`` (registry name), ``model_kwargs`` (dict), ``state_dict``, ``dataset`` (name),
``normalization`` (``{"mean": float, "std": float}`` of the training set), ``image_size``
(``[H, W]``), ``num_classes``, ``config`` (training config as a dict), ``seed``, ``epoch``
(epochs completed), ``metrics`` (dict of the latest/best metrics), and for resuming
``optimizer``, ``scheduler``, ``rng`` (RNG states), ``history`` and, for a run interrupted
within an epoch, ``position`` (see :mod:`zoo.train`).

:func:`save_checkpoint` adds ``sha256``: the SHA-256 of the content (:func:`content_sha256`),
which :func:`load_checkpoint` verifies, so a flipped byte in a tensor is refused rather than
loaded. A checkpoint without ``sha256`` was written before checksums existed and is accepted.

Before a model is built from a checkpoint, :func:`build_model` validates it
(:func:`check_checkpoint`): sizes within :data:`SIZE_LIMITS`, finite weights, a positive
normalisation std, and weights of the shapes the model has (checked on the ``meta`` device, so
that a crafted ``hidden = 10**7`` allocates nothing).
"""

from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

__all__ = ["SIZE_LIMITS", "CheckpointError", "build_model", "check_checkpoint", "check_weights",
           "content_sha256", "load_checkpoint", "load_model", "save_checkpoint"]

#: Largest value of each size argument of a model a checkpoint may ask for; far above any
#: zoo model, far below what would exhaust memory (``image_size``: each side, px).
SIZE_LIMITS: dict[str, int] = {"glimpses": 1_000, "size": 1_024, "scales": 16,
                               "hidden": 65_536, "channels": 64, "num_classes": 100_000,
                               "image_size": 16_384}


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable, corrupt or lacks a required entry."""


def _feed(digest: Any, value: Any) -> None:
    """Feed ``value`` to ``digest`` unambiguously (type tags and lengths)."""
    if isinstance(value, torch.Tensor):
        data = value.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy()
        digest.update(f"T{value.dtype}{tuple(value.shape)}:".encode())
        digest.update(data.tobytes())
    elif isinstance(value, dict):
        digest.update(f"d{len(value)}:".encode())
        for key, item in value.items():
            _feed(digest, key)
            _feed(digest, item)
    elif isinstance(value, list | tuple):
        digest.update(f"{type(value).__name__[0]}{len(value)}:".encode())
        for item in value:
            _feed(digest, item)
    elif isinstance(value, str):
        data = value.encode("utf-8", "surrogatepass")
        digest.update(f"s{len(data)}:".encode() + data)
    elif isinstance(value, bytes):
        digest.update(f"b{len(value)}:".encode() + value)
    else:  # None, bool, int, float (repr round-trips exactly), torch.dtype, ...
        text = f"{type(value).__name__}:{value!r}".encode()
        digest.update(f"o{len(text)}:".encode() + text)


def content_sha256(state: dict[str, Any]) -> str:
    """SHA-256 of a checkpoint's content (its entries but ``sha256``), as hex.

    The content, not the file: ``torch.save`` output is not byte-reproducible, while this
    digest is the same for the same tensors and values however often they are saved.

    >>> content_sha256({"w": torch.zeros(2)}) == content_sha256({"w": torch.zeros(2)})
    True
    >>> content_sha256({"w": torch.zeros(2)}) == content_sha256({"w": torch.ones(2)})
    False
    """
    digest = hashlib.sha256()
    _feed(digest, {k: v for k, v in state.items() if k != "sha256"})
    return digest.hexdigest()


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write ``state`` with its ``sha256`` (:func:`content_sha256`) to ``path`` atomically
    (:func:`gazekit.atomic.atomic_file`), creating folders.

    Raises
    ------
    OSError
        If the file cannot be written (e.g. a full disk; ``path`` keeps its old version).
    """
    from gazekit.atomic import atomic_file  # local: gazekit's imports are not needed to load models

    content = {k: v for k, v in state.items() if k != "sha256"}
    content["sha256"] = content_sha256(content)
    with atomic_file(path) as tmp:
        try:
            torch.save(content, tmp)
        except RuntimeError as exc:  # how torch reports a failed write (ENOSPC, EFBIG)
            detail = " ".join(str(exc).split())[:200]
            raise OSError(f"{path}: cannot write the checkpoint ({detail})") from exc
    return Path(path)


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict:
    """Load a checkpoint dict with ``weights_only=True`` and verify its checksum.

    Raises
    ------
    CheckpointError
        If the file does not exist, is not a readable checkpoint, lacks ``model``,
        ``model_kwargs`` or ``state_dict``, or its content differs from its ``sha256``.
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
    if "sha256" in state and content_sha256(state) != state["sha256"]:
        raise CheckpointError(f"{path}: content differs from its SHA-256 (corrupt file); "
                              "restore it from a copy or start the run again")
    return state


def check_checkpoint(state: dict[str, Any], source: str) -> None:
    """Validate a checkpoint (or model card) before a model is built from it.

    Parameters
    ----------
    state : dict
        ``model_kwargs`` (dict), ``state_dict`` (dict of tensors) and, if present,
        ``normalization`` (``{"mean", "std"}``).
    source : str
        The file or spec, for messages.

    Raises
    ------
    CheckpointError
        In one line naming ``source``: a size argument that is not an integer within
        :data:`SIZE_LIMITS`, a normalisation mean that is not finite or a std that is not
        positive and finite, or a floating-point weight that is NaN or infinite.
    """
    kwargs, weights = state.get("model_kwargs"), state.get("state_dict")
    if not isinstance(kwargs, dict) or not isinstance(weights, dict):
        raise CheckpointError(f"{source}: model_kwargs and state_dict must be dicts")
    for key, limit in SIZE_LIMITS.items():
        if key not in kwargs:
            continue
        values = kwargs[key] if key == "image_size" else [kwargs[key]]
        if not isinstance(values, list | tuple) or not all(
                isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= limit
                for v in values):
            raise CheckpointError(f"{source}: model_kwargs {key}={kwargs[key]!r} is out of "
                                  f"bounds (expected integers from 1 to {limit:,})")
    norm = state.get("normalization")
    if norm is not None:
        mean, std = (norm.get("mean"), norm.get("std")) if isinstance(norm, dict) else (None,) * 2
        if not (_finite_number(mean) and _finite_number(std) and std > 0):
            raise CheckpointError(f"{source}: normalization {norm!r}: expected a finite mean "
                                  "and a positive, finite std")
    for name, tensor in weights.items():
        if not isinstance(tensor, torch.Tensor):
            raise CheckpointError(f"{source}: state_dict entry {name!r} is not a tensor")
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(f"{source}: weight {name!r} holds NaN or infinite values "
                                  "(a diverged or damaged run)")


def _finite_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_weights(model: nn.Module, weights: dict[str, torch.Tensor], source: str,
                  name: str) -> None:
    """Raise :class:`CheckpointError` unless ``weights`` have exactly the names and shapes of
    the state dict of ``model`` (registry name ``name``; it may live on the ``meta`` device)."""
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    missing = [k for k in expected if k not in weights]
    unexpected = [k for k in weights if k not in expected]
    wrong = [k for k in expected if k in weights and tuple(weights[k].shape) != expected[k]]
    if missing or unexpected or wrong:
        detail = (f"missing {missing[0]!r}" if missing else f"unexpected {unexpected[0]!r}"
                  if unexpected else f"{wrong[0]!r} has shape {list(weights[wrong[0]].shape)}, "
                  f"the model's is {list(expected[wrong[0]])}")
        raise CheckpointError(f"{source}: weights do not fit model {name!r}: {detail}")


def build_model(state: dict[str, Any], source: str) -> nn.Module:
    """The model of a validated checkpoint (:func:`check_checkpoint`) with its weights.

    The model is first built on the ``meta`` device (no memory) to check the weights' names
    and shapes (:func:`check_weights`), then for real on the CPU, in train mode.

    Raises
    ------
    CheckpointError
        If the checkpoint fails validation, names an unknown model or arguments it does not
        accept, or holds weights that do not fit that model.
    """
    from zoo.registry import create_model  # local: the registry imports zoo.pretrained

    check_checkpoint(state, source)
    name, kwargs = state["model"], state["model_kwargs"]
    try:
        with torch.device("meta"):
            shell = create_model(name, **kwargs)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{source}: cannot recreate model {name!r}: {exc}") from exc
    check_weights(shell, state["state_dict"], source, name)
    model = create_model(name, **kwargs)
    try:
        model.load_state_dict(state["state_dict"])
    except (RuntimeError, TypeError, AttributeError) as exc:  # e.g. a dtype torch cannot cast
        detail = " ".join(str(exc).split())[:300] or type(exc).__name__  # one line, bounded
        raise CheckpointError(f"{source}: weights do not fit model {name!r}: {detail}") from exc
    return model


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
        If the file is missing, unreadable or corrupt, fails validation
        (:func:`build_model`), names an unknown model or arguments it does not accept, or
        holds weights that do not fit that model; for a spec, if those weights are not
        shipped (:class:`zoo.pretrained.PretrainedError`).
    """
    from zoo.pretrained import is_spec, load_spec  # local: they need the model code

    if is_spec(path):
        model, state = load_spec(str(path))
        return model.to(device).eval(), state
    state = load_checkpoint(path)
    return build_model(state, str(path)).to(device).eval(), state
