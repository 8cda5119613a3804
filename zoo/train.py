"""Train a zoo model: Adam, LR reduction and early stopping on validation accuracy, exact resume.

Protocol (the paper's Section 4 where it says so, our choice where it is silent):

- Loss: :func:`zoo.reinforce.hybrid_loss` (classification + baseline + ``alpha`` * REINFORCE,
  ``alpha`` = 0.01) for glimpse models, cross-entropy for the CNN. Adam, lr 3e-4, batch 128,
  seed 1, at most 300 epochs, early stopping after 50 epochs without a new best validation
  accuracy; no augmentation, inputs normalised with the training split's mean/std.
- LR reduction: the paper only says the rate is reduced when validation accuracy stops
  improving. We use ``ReduceLROnPlateau(mode="max", factor=0.5, patience=10)`` on validation
  accuracy (``lr_factor``, ``lr_patience``).
- Open knobs of the glimpse models (model options, stored in ``model_kwargs``): the policy std
  (``--std``, 0.1), the first location (``--first-location``, learned) and whether REINFORCE
  reaches the LSTM cores (``--reinforce-detach-core``, it does); see :mod:`zoo.modules`.
- Validation: 10% of the training split, seeded (:func:`zoo.data.make_splits`); FER2013 uses its
  official PublicTest rows. Validation and test use the policy mean (``eval_sample=False``).
- Accuracies are fractions in [0, 1]; times are seconds.

Outputs in ``out_dir`` (written by rank 0 only): ``config.json``; ``metrics.jsonl`` (one JSON
line per epoch); ``last.pt`` every epoch and ``best.pt`` on a new best validation accuracy
(atomic writes, loadable with ``weights_only=True``; keys in :mod:`zoo.checkpoint`);
``final.json`` with the test accuracy of ``best.pt`` (also stored in ``best.pt``'s metrics);
with ``snapshot_every=N``, ``snapshots/epoch-NNN.pt`` every N epochs (weights and metrics, as
``best.pt``; a fresh run also keeps its untrained weights as ``epoch-000.pt``, with validation
metrics only), to study how the gaze policy emerges during training.

Resuming (``resume=True`` / ``--resume``) restores model, optimiser, scheduler, every RNG and
the counters from ``last.pt`` (validated first, :func:`zoo.checkpoint.check_checkpoint`).
Batch order depends only on ``(seed, epoch)``, so on the CPU a
resumed run ends with exactly the weights of an uninterrupted one (on CUDA up to the
non-determinism of some kernels). ``epochs``, ``patience``, ``device``, ``num_threads``,
``data_dir``, ``eval_batch_size``, ``download``, ``compile`` and ``snapshot_every`` may change
on resume; other
settings may not (switching ``compile`` changes the weights at float-rounding level only); a
setting that a run's stored config lacks counts as its value from before it existed
(:data:`zoo.resume.ABSENT_MEANS`: ``precision="fp32"``).

Interrupts: Ctrl-C (SIGINT) or SIGTERM stops a single-process run after the batch in progress,
writes ``last.pt`` with the position within the epoch (``position``: epoch, batches done, the
epoch's running sums and time) and every RNG as they were, and ends with one line naming the
resume command (exit status 130). Resuming skips the batches done, so the run still ends with
the weights of an uninterrupted one. A second Ctrl-C while the state is written stops at once.

Run folders (:mod:`zoo.rundir`): one ``zoo train`` at a time per folder (a lock on the folder);
a new run refuses a folder that holds one unless ``overwrite`` (``--overwrite``) is given.

Distributed data parallel: under ``torchrun`` (``WORLD_SIZE > 1``) each process trains on its
shard with ``batch_size`` images per step (global batch ``batch_size * WORLD_SIZE``), gloo on
the CPU and NCCL on CUDA; metrics are summed over ranks. A run resumes with the world size it
was started with.

Command line: ``python -m zoo.train --model mram --glimpses 12 --dataset fashion-mnist --out
runs/x`` (see ``--help``).

This module holds the training loop; the settings are :mod:`zoo.train_config`, interrupts and
resuming :mod:`zoo.resume`, the processes :mod:`zoo.distributed` and the command line
:mod:`zoo.train_cli` (all re-exported here as before).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from gazekit.atomic import atomic_file
from zoo import rundir
from zoo.checkpoint import check_checkpoint, check_weights, load_checkpoint, save_checkpoint
from zoo.data import Splits, make_splits, normalize, train_loader
from zoo.distributed import Context, init_context
from zoo.health import collapse_warning, policy_health
from zoo.machine import cpu_name
from zoo.precision import autocast
from zoo.registry import create_model
from zoo.reinforce import hybrid_loss
from zoo.resume import (
    EpochStopped,
    StopRequest,
    TrainingInterrupted,
    check_resume,
    restore_rng,
    rng_state,
)
from zoo.train_cli import build_parser, main
from zoo.train_config import ConfigError, TrainConfig, check_config

__all__ = ["ConfigError", "TrainConfig", "TrainingInterrupted", "build_parser", "main",
           "reinforce_only_parameters", "step_forward", "train"]


def _write_atomic(path: Path, text: str) -> None:
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def reinforce_only_parameters(model: nn.Module) -> list[str]:
    """Names of the parameters of a glimpse model that only the REINFORCE term trains.

    Found from the autograd graph, not from a list per model: the parameters that receive no
    gradient from the classification and baseline losses of a forward pass with the policy
    mean (which draws no random numbers).

    >>> import zoo
    >>> sorted({n.split(".")[0] for n in reinforce_only_parameters(zoo.create_model("dram"))})
    ['context', 'policy', 'upper']
    """
    height, width = model.image_size
    param = next(model.parameters())
    images = torch.linspace(-1, 1, 2 * model.channels * height * width, device=param.device,
                            dtype=param.dtype).reshape(2, model.channels, height, width)
    out = model(images, sample=False)
    loss = out.logits.logsumexp(1).sum() + out.baselines.sum()
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss, [p for _, p in named], allow_unused=True)
    return [n for (n, _), g in zip(named, grads, strict=True) if g is None]


def _adam(model: nn.Module, lr: float, reinforce_lr_scale: float = 1.0) -> torch.optim.Adam:
    """Adam with the fused kernel (about 8x faster steps on the CPU) where torch supports it;
    the REINFORCE-only parameters in a second group at ``lr * reinforce_lr_scale``."""
    params: list = list(model.parameters())
    if reinforce_lr_scale != 1.0 and getattr(model, "has_glimpses", False):
        names = set(reinforce_only_parameters(model))
        named = list(model.named_parameters())
        params = [{"params": [p for n, p in named if n not in names]},
                  {"params": [p for n, p in named if n in names],
                   "lr": lr * reinforce_lr_scale}]
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except RuntimeError:  # torch < 2.4 has no fused Adam on the CPU
        return torch.optim.Adam(params, lr=lr)


def _forward(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, glimpses: bool,
             alpha: float) -> tuple[torch.Tensor, torch.Tensor, dict[str, Any]]:
    """Training logits, the loss to optimise and its terms, for a glimpse model or the CNN."""
    if glimpses:
        out = model(images, sample=True)
        terms = hybrid_loss(out, labels, alpha)
        return out.logits, terms["total"], terms
    logits = model(images)
    loss = F.cross_entropy(logits, labels)
    return logits, loss, {"classification": loss}


def step_forward(compile: bool = False, precision: str = "fp32") -> Callable[..., tuple]:
    """The training forward pass and loss, ``(model, images, labels, glimpses, alpha) ->
    (logits, loss, terms)``, eager or under ``torch.compile``, at ``precision``
    (:func:`zoo.precision.autocast` on the images' device; the backward pass runs outside it).

    Compiling (inductor) fuses the many small element-wise operations of each glimpse step
    into a few kernels, forward and backward; the matrix products stay library calls. Random
    draws keep eager's generator (inductor's ``fallback_random``), so a compiled run samples
    the same glimpse noise as an eager one and consumes the RNG state identically (results
    agree to float rounding, not bit for bit).
    """
    forward = torch.compile(_forward, options={"fallback_random": True}) if compile else _forward
    if precision == "fp32":
        return forward

    def mixed(model: nn.Module, images: torch.Tensor, *args: Any) -> tuple:
        with autocast(precision, images.device):
            return forward(model, images, *args)

    return mixed



def _train_epoch(model: nn.Module, loader, optimizer: torch.optim.Optimizer, splits: Splits,
                 config: TrainConfig, glimpses: bool, ctx: Context, epoch: int,
                 forward: Callable[..., tuple] = _forward, stop: object = False,
                 start: dict | None = None) -> dict:
    """One pass over the training shard; returns the mean loss, accuracy and reward.

    ``start`` (a ``position`` of an interrupted epoch) skips the batches it has done and
    continues its sums. While ``stop`` is true at a batch boundary, raises
    :class:`EpochStopped` with the position: epoch, batches done, sums and count so far, and
    the state of the loader's generator before this epoch's iterator drew from it.
    """
    model.train()
    # Sums of loss, cross-entropy, reward (per image) and correct predictions, kept on the
    # device so that a batch needs no host synchronisation.
    sums = torch.zeros(4, device=ctx.device, dtype=torch.float64)
    count, done = 0, 0
    if start is not None:
        done, count = start["batch"], start["count"]
        sums = start["sums"].to(ctx.device)
        loader.generator.set_state(start["loader"])
    loader_state = loader.generator.get_state()  # iter() below draws from it
    batches = iter(loader)
    for _ in range(done):  # the batch order depends only on (seed, epoch): skip those done
        next(batches)
    bar = tqdm(batches, desc=f"epoch {epoch + 1}/{config.epochs}", unit="batch", leave=False,
               initial=done, total=len(loader), disable=not ctx.main or not sys.stderr.isatty())
    for step, (images, labels) in enumerate(bar, start=done):
        if stop:
            raise EpochStopped({"epoch": epoch, "batch": step, "count": count,
                                 "sums": sums.cpu(), "loader": loader_state})
        images = normalize(images.to(ctx.device, non_blocking=True), splits.mean, splits.std)
        labels = labels.to(ctx.device, non_blocking=True)
        logits, loss, terms = forward(model, images, labels, glimpses, config.alpha)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        n = labels.shape[0]
        reward = terms.get("reward", loss.new_zeros(()))
        sums += torch.stack((loss.detach() * n, terms["classification"].detach() * n,
                             reward * n, (logits.detach().argmax(1) == labels).sum())).double()
        count += n
        if not bar.disable and step % 20 == 0:
            bar.set_postfix(loss=f"{sums[0].item() / count:.4f}",
                            acc=f"{sums[3].item() / count:.4f}")
    totals = ctx.all_reduce(torch.cat((sums, sums.new_tensor([count])))).tolist()
    n = totals[4]
    return {"train_loss": totals[0] / n, "train_ce": totals[1] / n,
            "train_reward": totals[2] / n if glimpses else None, "train_acc": totals[3] / n}


def _evaluate(model: nn.Module, data: tuple[torch.Tensor, torch.Tensor], splits: Splits,
              config: TrainConfig, glimpses: bool, ctx: Context) -> dict:
    """Cross-entropy and accuracy over ``data``, every rank taking every world_size-th image.

    ``model`` must be the bare module (not the DDP wrapper): evaluation needs no gradient sync.
    """
    model.eval()
    images, labels = data[0][ctx.rank::ctx.world_size], data[1][ctx.rank::ctx.world_size]
    sums = torch.zeros(3, device=ctx.device, dtype=torch.float64)  # loss, correct, count
    with torch.inference_mode():
        for start in range(0, len(labels), config.eval_batch_size):
            x = images[start:start + config.eval_batch_size].to(ctx.device, non_blocking=True)
            y = labels[start:start + config.eval_batch_size].to(ctx.device, non_blocking=True)
            x = normalize(x, splits.mean, splits.std)
            with autocast(config.precision, ctx.device):
                logits = model(x, sample=config.eval_sample).logits if glimpses else model(x)
            logits = logits.float()  # bfloat16 under bf16 autocast; the sums stay accurate
            sums += torch.stack((F.cross_entropy(logits, y, reduction="sum"),
                                 (logits.argmax(1) == y).sum(), logits.new_tensor(len(y)))
                                ).double()
    loss, correct, n = ctx.all_reduce(sums).tolist()
    return {"loss": loss / n, "acc": correct / n}


def _health(model: nn.Module, splits: Splits, ctx: Context, epoch: int,
            history: list[dict], n_images: int = 1000) -> dict:
    """:func:`zoo.health.policy_health` on the first validation images; warns on a collapse
    (judged against the health of the earlier epochs in ``history``)."""
    images = normalize(splits.val[0][:n_images].to(ctx.device), splits.mean, splits.std)
    health = policy_health(model, images)
    warning = collapse_warning(health, epoch, [r["health"] for r in history if "health" in r])
    if warning:
        tqdm.write(f"zoo train: {warning}", file=sys.stderr)
    return health


def _weights(model: nn.Module) -> dict[str, torch.Tensor]:
    """The model's state dict on the CPU, for checkpoints."""
    return {k: v.detach().cpu() for k, v in model.state_dict().items()}



def train(config: TrainConfig) -> dict:
    """Train ``config.model`` on ``config.dataset``; see the module docstring.

    Returns
    -------
    dict
        The content of ``final.json``: epochs run, whether training stopped early, best epoch
        and validation accuracy, test loss/accuracy of ``best.pt``, wall time (s, summed over
        resumed sessions) and the machine (device, torch version, host, CPU).

    Raises
    ------
    ConfigError, zoo.data.DatasetError, zoo.checkpoint.CheckpointError
        On invalid settings, unreadable data, or a run that cannot be resumed.
    """
    check_config(config)
    if config.num_threads is not None:
        torch.set_num_threads(config.num_threads)
    ctx = init_context(config.device)
    try:
        result = _run(config, ctx)
        if ctx.world_size > 1:
            # Leave together: a rank that tears down while its peer still writes files can
            # abort the peer's gloo connections (std::terminate under load).
            dist.barrier()
        return result
    finally:
        if ctx.world_size > 1:
            dist.destroy_process_group()


def _run(config: TrainConfig, ctx: Context) -> dict:
    """Hold the run folder (rank 0; the others follow rank 0's files) and train."""
    if not ctx.main:
        return _train(config, ctx)
    out = Path(config.out_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out}: exists and is not a folder (expected a run folder for --out)")
    with rundir.hold(out):
        if not config.resume:
            rundir.check_fresh(out, config.overwrite)
        return _train(config, ctx)


def _train(config: TrainConfig, ctx: Context) -> dict:
    out = Path(config.out_dir)
    last_path, best_path = out / "last.pt", out / "best.pt"
    resumed = None
    if config.resume:
        resumed = load_checkpoint(last_path)
        check_resume(resumed["config"], config, last_path)
        check_checkpoint(resumed, str(last_path))
    splits = make_splits(config.dataset, config.data_dir, config.val_fraction, config.seed,
                         config.limit, config.download)

    torch.manual_seed(config.seed)
    kwargs = {**config.model_kwargs, "num_classes": splits.num_classes,
              "image_size": list(splits.image_size)}
    try:
        model = create_model(config.model, **kwargs).to(ctx.device)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"cannot create model {config.model!r} with {kwargs}: {exc}") from exc
    glimpses = model.has_glimpses
    if glimpses:  # glimpses beyond the border see black (intensity 0), not the mean
        model.pad_value = model.config["pad_value"] = float(-splits.mean / splits.std)
    optimizer = _adam(model, config.lr, config.reinforce_lr_scale)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="max", factor=config.lr_factor, patience=config.lr_patience)
    net = model
    if ctx.world_size > 1:
        net = DistributedDataParallel(model, device_ids=[ctx.device] if ctx.device.type == "cuda"
                                      else None)
        torch.manual_seed(config.seed + ctx.rank)  # each rank samples its own glimpse noise
    loader, sampler = train_loader(*splits.train, config.batch_size, config.seed, ctx.rank,
                                   ctx.world_size, pin_memory=ctx.device.type == "cuda")

    progress = {"epoch": 0, "history": [], "best_val_acc": -math.inf, "best_epoch": None,
                "epochs_without_improvement": 0, "stopped_early": False, "wall_time_s": 0.0}
    position = None  # where an interrupted epoch stopped
    if resumed is not None:
        check_weights(model, resumed["state_dict"], str(last_path), config.model)
        model.load_state_dict(resumed["state_dict"])
        optimizer.load_state_dict(resumed["optimizer"])
        scheduler.load_state_dict(resumed["scheduler"])
        restore_rng(resumed["rng"], ctx, loader, last_path)
        progress = {key: resumed[key] for key in progress}
        position = resumed.get("position")
        # patience may change on resume: a stopped run goes on under a larger one.
        progress["stopped_early"] = progress["epochs_without_improvement"] >= config.patience

    config_dict = dataclasses.asdict(config)
    forward = step_forward(config.compile, config.precision)
    if ctx.main:
        if config.overwrite and not config.resume:
            rundir.clear(out)  # the old run's files, now that the new one is set up
        out.mkdir(parents=True, exist_ok=True)
        _write_atomic(out / "config.json", json.dumps(config_dict, indent=2) + "\n")
        # Rewritten from the checkpoint, so a session killed between the two writes of an
        # epoch leaves no line that last.pt does not know about.
        _write_atomic(out / "metrics.jsonl",
                      "".join(json.dumps(r) + "\n" for r in progress["history"]))

    common = {
        "model": config.model, "model_kwargs": model.config, "dataset": config.dataset,
        "normalization": splits.normalization, "image_size": list(splits.image_size),
        "num_classes": splits.num_classes, "config": config_dict, "seed": config.seed,
    }
    if config.snapshot_every and progress["epoch"] == 0 and position is None:
        # The untrained policy starts the emergence curves; a forked RNG keeps the training
        # run the same with or without snapshots.
        with torch.random.fork_rng(devices=[ctx.device] if ctx.device.type == "cuda" else []):
            val = _evaluate(model, splits.val, splits, config, glimpses, ctx)
        if ctx.main:
            save_checkpoint({**common, "state_dict": _weights(model), **progress,
                             "metrics": {"epoch": 0, "val_loss": val["loss"],
                                         "val_acc": val["acc"]}},
                            out / "snapshots" / "epoch-000.pt")
    stop = StopRequest()
    with stop.installed(ctx.world_size == 1):
        for epoch in range(progress["epoch"], config.epochs):
            if progress["stopped_early"]:
                break
            start = time.perf_counter()
            resume_at = position if position is not None and position["epoch"] == epoch else None
            before = resume_at["time_s"] if resume_at else 0.0  # of the interrupted session
            sampler.set_epoch(epoch)
            lr = optimizer.param_groups[0]["lr"]
            try:
                trained = _train_epoch(net, loader, optimizer, splits, config, glimpses, ctx,
                                       epoch, forward, stop, resume_at)
            except EpochStopped as stopped:
                where = {**stopped.position, "time_s": before + time.perf_counter() - start}
                save_checkpoint({**common, "state_dict": _weights(model), **progress,
                                 "metrics": (progress["history"] or [{}])[-1],
                                 "optimizer": optimizer.state_dict(),
                                 "scheduler": scheduler.state_dict(),
                                 "rng": rng_state(ctx, loader), "position": where}, last_path)
                raise TrainingInterrupted(
                    f"interrupted in epoch {epoch + 1} after batch {where['batch']} of "
                    f"{len(loader)}; state saved to {last_path}; resume with: python -m "
                    f"zoo.train --resume --out {out}") from None
            record = {"epoch": epoch + 1, **trained}
            val = _evaluate(model, splits.val, splits, config, glimpses, ctx)
            scheduler.step(val["acc"])
            improved = val["acc"] > progress["best_val_acc"]
            if improved:
                progress.update(best_val_acc=val["acc"], best_epoch=epoch + 1,
                                epochs_without_improvement=0)
            else:
                progress["epochs_without_improvement"] += 1
            record.update(val_loss=val["loss"], val_acc=val["acc"], lr=lr,
                          epoch_time_s=before + time.perf_counter() - start)
            if glimpses and ctx.main:
                record["health"] = _health(model, splits, ctx, epoch + 1, progress["history"])
            progress["history"].append(record)
            progress.update(epoch=epoch + 1, wall_time_s=progress["wall_time_s"] +
                            record["epoch_time_s"],
                            stopped_early=progress["epochs_without_improvement"] >= config.patience)
            rng = rng_state(ctx, loader)  # collective under DDP: every rank takes part
            if ctx.main:
                state = {**common, "state_dict": _weights(model), "metrics": record, **progress}
                if improved:
                    save_checkpoint(state, best_path)
                if config.snapshot_every and (epoch + 1) % config.snapshot_every == 0:
                    save_checkpoint(state, out / "snapshots" / f"epoch-{epoch + 1:03d}.pt")
                save_checkpoint({**state, "optimizer": optimizer.state_dict(),
                                 "scheduler": scheduler.state_dict(), "rng": rng}, last_path)
                with (out / "metrics.jsonl").open("a") as f:
                    f.write(json.dumps(record) + "\n")
                tqdm.write(f"epoch {epoch + 1}/{config.epochs}  loss {record['train_loss']:.4f}  "
                           f"train acc {record['train_acc']:.4f}  val acc {val['acc']:.4f}  "
                           f"lr {lr:.2e}  {record['epoch_time_s']:.1f} s")
    return _finish(config, ctx, model, splits, glimpses, progress)


def _finish(config: TrainConfig, ctx: Context, model: nn.Module, splits: Splits, glimpses: bool,
            progress: dict) -> dict:
    """Test ``best.pt``, store the result in it and write ``final.json`` (rank 0)."""
    out = Path(config.out_dir)
    if ctx.world_size > 1:
        dist.barrier()  # rank 0 has written best.pt
    best = load_checkpoint(out / "best.pt")
    model.load_state_dict(best["state_dict"])
    test = _evaluate(model, splits.test, splits, config, glimpses, ctx)
    final = {
        "model": config.model, "model_kwargs": model.config, "dataset": config.dataset,
        "epochs_run": progress["epoch"], "max_epochs": config.epochs,
        "stopped_early": progress["stopped_early"], "best_epoch": progress["best_epoch"],
        "best_val_acc": progress["best_val_acc"], "test_acc": test["acc"],
        "precision": config.precision,
        "test_loss": test["loss"], "split_sizes": splits.sizes,
        "normalization": splits.normalization, "wall_time_s": progress["wall_time_s"],
        "device": str(ctx.device),
        "device_name": (torch.cuda.get_device_name(ctx.device) if ctx.device.type == "cuda"
                        else cpu_name()),
        "world_size": ctx.world_size, "torch_threads": torch.get_num_threads(),
        "torch_version": torch.__version__, "python_version": platform.python_version(),
        "hostname": socket.gethostname(), "cpu": cpu_name(), "cpu_count": os.cpu_count(),
        "config": dataclasses.asdict(config),
    }
    if ctx.main:
        best["metrics"] = {**best["metrics"], "test_acc": test["acc"], "test_loss": test["loss"]}
        save_checkpoint(best, out / "best.pt")
        _write_atomic(out / "final.json", json.dumps(final, indent=2) + "\n")
    return final



if __name__ == "__main__":
    sys.exit(main())
