"""Interrupt and exact resume of :mod:`zoo.train` runs.

A run resumes from its ``last.pt`` with the settings it was started with, except those in
:data:`RESUME_FREE` (:func:`check_resume`); a setting that a stored config lacks counts as its
value from before it existed (:data:`ABSENT_MEANS`). Every RNG is saved and restored
(:func:`rng_state`, :func:`restore_rng`), so a resumed run draws the same numbers as an
uninterrupted one. SIGINT/SIGTERM set a :class:`StopRequest`; the epoch then stops at the next
batch boundary (:class:`EpochStopped`, carrying the position within the epoch) and the run ends
with :class:`TrainingInterrupted` once ``last.pt`` is written.

>>> from zoo.resume import RESUME_FREE
>>> "epochs" in RESUME_FREE, "lr" in RESUME_FREE
(True, False)
"""

from __future__ import annotations

import dataclasses
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from zoo.distributed import Context
from zoo.train_config import ConfigError, TrainConfig

__all__ = ["ABSENT_MEANS", "RESUME_FREE", "EpochStopped", "StopRequest", "TrainingInterrupted",
           "check_resume", "config_differences", "restore_rng", "rng_state"]

# Settings that may differ between a run and its resumption (they do not change the trajectory).
RESUME_FREE = frozenset(
    {"epochs", "patience", "device", "num_threads", "data_dir", "out_dir", "eval_batch_size",
     "download", "resume", "compile", "snapshot_every", "overwrite"}
)
# Settings that configs written before them lack, and the value such a run had.
ABSENT_MEANS = {"precision": "fp32"}


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on SIGINT/SIGTERM after saving a resumable ``last.pt``; the message
    says where and how to resume."""


class StopRequest:
    """Set by SIGINT/SIGTERM; the training loop stops at the next batch boundary.

    The first signal only sets the flag; the handlers are then the defaults again, so a
    second Ctrl-C (or SIGTERM) while the state is being written stops at once.
    """

    def __init__(self) -> None:
        self.signal: int | None = None

    def __bool__(self) -> bool:
        return self.signal is not None

    def _handle(self, signum: int, frame: object) -> None:
        self.signal = signum
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    @contextmanager
    def installed(self, active: bool) -> Iterator[StopRequest]:
        """Catch the signals while the body runs (``active``, in the main thread only)."""
        if not active or threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        for s in previous:
            signal.signal(s, self._handle)
        try:
            yield self
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)


class EpochStopped(Exception):
    """:func:`zoo.train._train_epoch` stopped at a batch boundary; ``position`` resumes it."""

    def __init__(self, position: dict) -> None:
        super().__init__(position)
        self.position = position


def rng_state(ctx: Context, loader) -> dict:
    """RNG states of every rank (torch CPU, CUDA device if used) and of the loader generator."""
    local = {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state(ctx.device) if ctx.device.type == "cuda" else None,
    }
    ranks = [local]
    if ctx.world_size > 1:
        ranks = [None] * ctx.world_size
        dist.all_gather_object(ranks, local)
    return {"torch": [r["torch"] for r in ranks], "cuda": [r["cuda"] for r in ranks],
            "loader": loader.generator.get_state()}


def restore_rng(rng: dict, ctx: Context, loader, path: Path) -> None:
    """Set this rank's RNGs and the loader generator to :func:`rng_state`'s ``rng``, saved in
    ``path`` by the same number of processes (else :class:`ConfigError`)."""
    if len(rng["torch"]) != ctx.world_size:
        raise ConfigError(f"{path}: written by {len(rng['torch'])} process(es); resume it with "
                          f"the same number, not {ctx.world_size}")
    torch.set_rng_state(rng["torch"][ctx.rank])
    if ctx.device.type == "cuda" and rng["cuda"][ctx.rank] is not None:
        torch.cuda.set_rng_state(rng["cuda"][ctx.rank], ctx.device)
    loader.generator.set_state(rng["loader"])


def config_differences(stored: dict, config: TrainConfig) -> dict[str, tuple[Any, Any]]:
    """The settings outside :data:`RESUME_FREE` in which a stored config (a run's
    ``config.json``, a model card's ``training_config``) differs from ``config``.

    A setting the stored config lacks counts as :data:`ABSENT_MEANS` says, else as the
    :class:`TrainConfig` default (what a run from before the setting existed had).

    Returns
    -------
    dict
        ``{setting: (stored value, value in config)}``; empty when both train the same
        trajectory.

    >>> config = TrainConfig(model="ram", dataset="synthetic", out_dir="runs/x")
    >>> config_differences({"model": "ram", "lr": 1e-3, "epochs": 5}, config)
    {'lr': (0.001, 0.0003)}
    """
    current = dataclasses.asdict(config)
    missing = dataclasses.MISSING
    defaults = {f.name: f.default if f.default_factory is missing else f.default_factory()
                for f in dataclasses.fields(TrainConfig)
                if f.default is not missing or f.default_factory is not missing}
    before = {**defaults, **ABSENT_MEANS, **stored}
    return {key: (value, current.get(key)) for key, value in before.items()
            if key not in RESUME_FREE and current.get(key) != value}


def check_resume(stored: dict, config: TrainConfig, path: Path) -> None:
    """Refuse (:class:`ConfigError`) to resume the run stored in ``path`` (its config
    ``stored``) with a ``config`` that differs outside :data:`RESUME_FREE`
    (:func:`config_differences`)."""
    differences = config_differences(stored, config)
    if differences:
        key, (value, now) = next(iter(differences.items()))
        raise ConfigError(f"{path}: the run was started with {key}={value!r}; cannot resume "
                          f"it with {key}={now!r}")
