"""Description of the host, for training records, evaluation results and benchmark headers.

This module itself uses only the standard library (importing it through the :mod:`zoo`
package still loads torch, which registers the models).
"""

from __future__ import annotations

import platform
from pathlib import Path


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
