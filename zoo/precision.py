"""Mixed precision for training and evaluation: ``fp32`` (default) or ``bf16`` autocast.

``bf16`` runs the forward pass under :func:`torch.autocast` with ``dtype=torch.bfloat16`` on
the model's device (the CPU's autocast, or CUDA's): matrix products and convolutions take
bfloat16 inputs (on CPUs with AVX512-BF16 / AMX and on recent GPUs these run several times
faster), while the weights, their gradients and the optimiser state stay float32 ("master
weights") and the losses are computed in float32 (autocast's float32 list). bfloat16 has the
range of float32, so no loss scaling is needed. Glimpse locations stay float32: the location
policy's last layer runs outside autocast (:class:`zoo.modules.LocationPolicy`), and the sensor
converts them to pixels in at least float32 (:func:`zoo.sensor.to_pixels`).

>>> import torch
>>> with autocast("bf16", torch.device("cpu")):
...     y = torch.nn.functional.linear(torch.ones(2, 3), torch.ones(4, 3))
>>> y.dtype
torch.bfloat16
>>> with autocast("fp32", "cpu"):
...     y = torch.nn.functional.linear(torch.ones(2, 3), torch.ones(4, 3))
>>> y.dtype
torch.float32
"""

from __future__ import annotations

import contextlib

import torch

__all__ = ["PRECISIONS", "autocast", "check_precision"]

#: Precision names and the autocast type of each (None: no autocast, plain float32).
PRECISIONS: dict[str, torch.dtype | None] = {"fp32": None, "bf16": torch.bfloat16}


def check_precision(precision: str) -> str:
    """Return ``precision`` if it is a :data:`PRECISIONS` name, else raise ``ValueError``."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision: expected one of {', '.join(PRECISIONS)}, "
                         f"got {precision!r}")
    return precision


def autocast(precision: str, device: torch.device | str) -> contextlib.AbstractContextManager:
    """The context to run a forward pass in at ``precision`` on ``device``.

    Parameters
    ----------
    precision : {"fp32", "bf16"}
        ``"fp32"``: a no-op context; ``"bf16"``: ``torch.autocast(device.type, torch.bfloat16)``.
    device : torch.device or str
        Where the model runs (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...).
    """
    dtype = PRECISIONS[check_precision(precision)]
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=torch.device(device).type, dtype=dtype)
