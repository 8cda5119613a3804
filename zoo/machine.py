"""The host: its description (training records, evaluation results, benchmark headers) and the
compute device to use.

This module imports only the standard library at import time (importing it through the
:mod:`zoo` package still loads torch, which registers the models); :func:`resolve_device`
imports torch when called.
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def cpu_name() -> str:
    """CPU model, e.g. ``"AMD EPYC 7763 64-Core Processor"``.

    Returns
    -------
    str
        The first ``model name`` of ``/proc/cpuinfo`` (Linux); where there is none,
        :func:`platform.processor`, else :func:`platform.machine` (e.g. ``"x86_64"``).
    """
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """The torch device for ``device``: ``"auto"`` is CUDA when available, else the CPU.

    Parameters
    ----------
    device : str or torch.device, default "auto"
        ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Raises
    ------
    ValueError
        For another device type, or a CUDA device where CUDA is not available.
    """
    import torch  # here, not at import time: cpu_name() must not need torch

    name = str(device)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(name)
    except RuntimeError as exc:
        raise ValueError(f"device must be auto, cpu, cuda or cuda:N, got {name!r}") from exc
    if resolved.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu, cuda or cuda:N, got {name!r}")
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available")
    return resolved
