"""Shared parts of the zoo benchmarks: machine description, timing, FLOP counting, tables.

Timing protocol
---------------
Shared CPUs drift (other processes, frequency changes), so absolute times move from minute to
minute while ratios measured side by side hold. Every benchmark therefore runs its cases
*interleaved*: round ``r`` times each case once, in the same order, together with the
reference (a large float32 matrix product for the FLOP/s share), and reports the median over
rounds of each time and of each per-round ratio. A case's time is the mean over enough calls
to last at least ``min_time`` seconds (calibrated once during the warm-up); on CUDA the device
is synchronised before the clock is read.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from zoo.machine import cpu_name


def add_common_args(parser: argparse.ArgumentParser, repeats: int = 5) -> None:
    """Options every zoo benchmark takes: ``--threads``, ``--repeats``, ``--devices``,
    ``--min-time``."""
    parser.add_argument("--threads", type=int,
                        help="torch CPU threads (default: torch's choice, "
                             f"{torch.get_num_threads()} here)")
    parser.add_argument("--repeats", type=int, default=repeats,
                        help=f"interleaved timing rounds; medians are reported (default {repeats})")
    parser.add_argument("--devices", nargs="+", default=None,
                        help="devices to run on (default: cpu, and cuda when available)")
    parser.add_argument("--min-time", type=float, default=0.2,
                        help="seconds each timed case lasts at least, per round (default 0.2)")


def setup(args: argparse.Namespace) -> list[torch.device]:
    """Apply ``--threads`` and return the devices to benchmark (checked)."""
    if args.repeats < 1:
        raise SystemExit(f"--repeats must be >= 1, got {args.repeats}")
    if args.threads is not None:
        if args.threads < 1:
            raise SystemExit(f"--threads must be >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    names = args.devices or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    devices = [torch.device(name) for name in names]
    for device in devices:
        if device.type == "cuda" and not torch.cuda.is_available():
            raise SystemExit(f"--devices {device}: CUDA is not available here")
    return devices


def machine(devices: Sequence[torch.device] = ()) -> str:
    """Multi-line description: CPU, cores, load, torch threads and version, GPUs used."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    lines = [
        f"cpu: {cpu_name()} ({os.cpu_count()} logical CPUs, {usable} usable)",
        f"load average (1, 5, 15 min) at start: {load}",
        f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
        f"python {platform.python_version()}",
    ]
    lines += [f"gpu: {torch.cuda.get_device_name(d)} ({d})" for d in devices if d.type == "cuda"]
    return "\n".join(lines)


def command() -> str:
    """The command line that ran this benchmark, as it could be typed again."""
    return shlex.join([Path(sys.executable).name, *sys.argv])


def header(title: str, devices: Sequence[torch.device]) -> None:
    """Print the benchmark title, the exact command and the machine."""
    print(f"# {title}\n")
    print(f"command: {command()}")
    print(machine(devices))
    print()


def sync(device: torch.device) -> None:
    """Wait for queued CUDA work (a no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Timer:
    """Seconds per call of ``fn``, averaged over enough calls to last ``min_time`` seconds.

    The number of calls is calibrated on construction, which also warms ``fn`` up. After each
    timing, ``cpu`` holds the process's CPU seconds per call (all threads) over the same calls.

    Parameters
    ----------
    fn : callable
        The work to time (no arguments).
    device : torch.device
        Synchronised before each clock reading when it is a CUDA device.
    min_time : float
        Seconds one timing lasts at least (default 0.2).
    warmup : int
        Untimed calls before calibrating (default 2).
    """

    def __init__(self, fn: Callable[[], object], device: torch.device, min_time: float = 0.2,
                 warmup: int = 2):
        self.fn, self.device = fn, device
        for _ in range(warmup):
            fn()
        self.number = 1
        once = self._time(1)
        self.number = max(1, int(min_time / max(once, 1e-9)))

    def _time(self, number: int) -> float:
        sync(self.device)
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(number):
            self.fn()
        sync(self.device)
        self.cpu = (time.process_time() - cpu) / number
        return (time.perf_counter() - start) / number

    def __call__(self) -> float:
        """One timing: seconds per call."""
        return self._time(self.number)


class MatmulReference:
    """FLOP/s of a large matrix product ``(n x n) @ (n x n)`` in ``dtype`` on ``device``.

    ``n`` defaults to 2048 on the CPU (17.2 GFLOP per product) and 8192 on CUDA; ``dtype`` to
    float32. It runs with the current torch thread count, so its rate is the ceiling to
    compare a model against.
    """

    def __init__(self, device: torch.device, n: int | None = None, min_time: float = 0.2,
                 dtype: torch.dtype = torch.float32):
        self.n = n or (8192 if device.type == "cuda" else 2048)
        self.dtype_name = str(dtype).removeprefix("torch.")
        g = torch.Generator().manual_seed(0)
        a = torch.randn(self.n, self.n, generator=g).to(device, dtype)
        b = torch.randn(self.n, self.n, generator=g).to(device, dtype)
        self.timer = Timer(lambda: a @ b, device, min_time)

    def __call__(self) -> float:
        """One measurement in FLOP/s."""
        return 2 * self.n**3 / self.timer()


def interleave(cases: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Run every case once per round, in order, for ``rounds`` rounds; lists of results."""
    results: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, case in cases.items():
            results[name].append(case())
    return results


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def spread(values: Sequence[float], fmt: str) -> str:
    """``median (min-max)`` of per-round values, each formatted with ``fmt`` (e.g. ``".2f"``)."""
    return f"{median(values):{fmt}} ({min(values):{fmt}}-{max(values):{fmt}})"


def ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """Per-round ratios ``numerator / denominator`` (for :func:`spread`)."""
    return [a / b for a, b in zip(numerators, denominators, strict=True)]


def median_ratio(numerators: Sequence[float], denominators: Sequence[float]) -> float:
    """Median over rounds of the per-round ratio ``numerator / denominator``."""
    return statistics.median(a / b for a, b in zip(numerators, denominators, strict=True))


def count_flops(fn: Callable[[], object]) -> int:
    """Floating-point operations of one call of ``fn`` as counted by ``FlopCounterMode``.

    It counts matrix products (``mm``, ``addmm``, ``bmm``, ...) and convolutions, forward and
    backward, at ``2 * m * n * k`` per product; element-wise operations, reductions and the
    optimiser are not counted (they are a small share of the arithmetic here).
    """
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (cells formatted with ``str``)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
