"""Where a :mod:`zoo.train` process runs: its device, rank and the number of processes.

Under ``torchrun`` (``WORLD_SIZE > 1``) :func:`init_context` joins the process group (gloo on
the CPU, NCCL on CUDA); a single process needs none.

>>> from zoo.distributed import init_context
>>> init_context("cpu")
Context(device=device(type='cpu'), rank=0, world_size=1)
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from zoo.machine import resolve_device
from zoo.train_config import ConfigError

__all__ = ["Context", "init_context"]


@dataclass(frozen=True)
class Context:
    """Where this process runs: its device, rank and the number of processes."""

    device: torch.device
    rank: int = 0
    world_size: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def all_reduce(self, tensor: torch.Tensor) -> torch.Tensor:
        """Sum ``tensor`` over all processes in place (a no-op for one process)."""
        if self.world_size > 1:
            dist.all_reduce(tensor)
        return tensor


def _resolve_device(name: str) -> torch.device:
    """:func:`zoo.machine.resolve_device`, its error a :class:`ConfigError`."""
    try:
        return resolve_device(name)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def init_context(device_name: str) -> Context:
    """Set up the process group when launched by ``torchrun`` with more than one process."""
    device = _resolve_device(device_name)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return Context(device)
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Context(device, dist.get_rank(), world_size)
