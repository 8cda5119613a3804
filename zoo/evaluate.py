"""Test accuracy, parameter count, latency and throughput of a trained checkpoint.

Timing protocol (the paper reports "ms/image" without stating the batch size):

* **latency** — batch size 1: after a warm-up, each of ``repeats`` runs times
  ``latency_images`` single-image forward passes; the result is the mean and the sample
  standard deviation over runs of the per-image time in **milliseconds**;
* **throughput** — the accuracy pass itself, at ``batch_size`` images per forward pass, in
  **images per second** of forward time (input preparation and host-to-device copies are not
  timed).

All passes run under :func:`torch.inference_mode` with the location policy's mean
(``sample=False``); on CUDA the device is synchronised before the clock is read. With
``compile=True`` the forward pass runs under ``torch.compile`` (compiled during the warm-up,
not timed): at batch 1 a glimpse step is dozens of tiny operations whose dispatch costs more
than their arithmetic, and compiling fuses them. On the CPU it compiles with
:data:`CPU_INFERENCE_OPTIONS`: matrix products with one row (batch 1) become generated
reductions fused with the element-wise work around them, so a whole glimpse model's forward is
one C++ function called from C++ (no Python wrapper, no BLAS call per product), and the
outputs the logits do not need (baseline, log-probabilities) are dropped as dead code.

``dtype`` runs the model in another floating-point type (``"bfloat16"``: half the weight
bytes; results differ from float32 by bfloat16 rounding, see ``tests/zoo/test_evaluate.py``).
``precision="bf16"`` instead keeps the float32 weights and runs the pass under bfloat16
autocast (:mod:`zoo.precision`), as ``zoo train --precision bf16`` validates and tests; the
weights are cast on every pass, which costs more than it saves at batch 1.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from zoo import data as zdata
from zoo.checkpoint import CheckpointError, load_model
from zoo.machine import resolve_device
from zoo.precision import autocast, check_precision

WARMUP_FORWARDS = 10  # single-image passes before timing (lazy initialisation, caches)
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}  # what evaluate(dtype=) takes
# Inductor settings for compiled inference on the CPU: matrix products with one row and both
# weight dimensions <= 2048 are decomposed into multiply + sum, which inductor fuses with their
# neighbours (its decompose_mm_pass; off by default because it targets batch 1), and the
# graph's wrapper is generated as C++ instead of Python (cpp_wrapper), saving a Python-level
# call per remaining kernel. Both change only the order of float additions.
CPU_INFERENCE_OPTIONS = {"cpp_wrapper": True,
                         "post_grad_fusion_options": {"decompose_mm_pass": {}}}


def display_name(name: str, glimpses: int | None = None, scales: int = 1) -> str:
    """Model label for tables and figures: registry name, variant, glimpses, scales.

    ``("mram", 12)`` -> ``"MRAM-12"``, ``("dram_nocontext", 7)`` -> ``"DRAM-nocontext-7"``,
    ``("ram", 12, 2)`` -> ``"RAM-12-2scales"``, ``("cnn",)`` -> ``"CNN"``.
    """
    base, _, variant = name.partition("_")
    label = base.upper() + (f"-{variant}" if variant else "")
    if glimpses:
        label += f"-{glimpses}"
    if scales > 1:
        label += f"-{scales}scales"
    return label


def checkpoint_label(state: dict) -> str:
    """:func:`display_name` of a checkpoint's model (``MRAM-12``), from its ``model_kwargs``."""
    kwargs = state["model_kwargs"]
    return display_name(state["model"], kwargs.get("glimpses"), kwargs.get("scales", 1))


def model_label(model: nn.Module) -> str:
    """:func:`display_name` of a registry model, from its ``config``."""
    if model.has_glimpses:
        return display_name(model.name, model.config["glimpses"], model.config["scales"])
    return display_name(model.name)


def prepare(images: torch.Tensor, state: dict, device: torch.device) -> torch.Tensor:
    """uint8 images (N, H, W) -> normalised float32 model inputs (N, 1, H, W) on ``device``.

    Uses :func:`zoo.data.normalize` with the checkpoint's training-set ``normalization``.
    """
    norm = state["normalization"]
    return zdata.normalize(images.to(device), norm["mean"], norm["std"])


def load_split(
    state: dict, split: str, data_dir: str | os.PathLike | None = None, limit: int | None = None,
    source: str = "checkpoint",
) -> tuple[torch.Tensor, torch.Tensor]:
    """The checkpoint's dataset split (uint8 images (N, H, W), int64 labels), optionally cut.

    Raises
    ------
    CheckpointError
        If the checkpoint lacks ``dataset``/``normalization`` or its ``image_size`` differs from
        the images'.
    zoo.data.DatasetError
        If the data cannot be read.
    ValueError
        If ``limit`` is not a positive integer.
    """
    for key in ("dataset", "normalization"):
        if key not in state:
            raise CheckpointError(f"{source}: checkpoint lacks the entry {key!r}")
    if limit is not None and (isinstance(limit, bool) or int(limit) != limit or limit < 1):
        raise ValueError(f"limit: expected a positive number of images, got {limit!r}")
    images, labels = zdata.load_dataset(state["dataset"], split, data_dir=data_dir)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    expected = state.get("image_size")
    if expected is not None and list(images.shape[1:]) != list(expected):
        raise CheckpointError(
            f"{source}: model expects {tuple(expected)} px images, dataset "
            f"{state['dataset']!r} ({split}) has {tuple(images.shape[1:])}")
    return images, labels


def resolve_dtype(dtype: str | torch.dtype) -> torch.dtype:
    """``"float32"``/``"bfloat16"`` (or the torch dtype itself) -> the torch dtype.

    Raises ``ValueError`` for any other type.
    """
    for name, value in DTYPES.items():
        if dtype in (name, value):
            return value
    raise ValueError(f"dtype: expected one of {', '.join(DTYPES)}, got {dtype!r}")


def compile_inference(fn: Callable, device: torch.device) -> Callable:
    """``torch.compile(fn)`` for inference on ``device``: with :data:`CPU_INFERENCE_OPTIONS`
    on the CPU, inductor's defaults elsewhere."""
    return torch.compile(fn, options=CPU_INFERENCE_OPTIONS if device.type == "cpu" else None)


def logits_fn(model: nn.Module, compile: bool = False, dtype: str | torch.dtype | None = None,
              precision: str = "fp32") -> Callable[[torch.Tensor], torch.Tensor]:
    """Forward pass returning logits; glimpse models follow the policy mean.

    Parameters
    ----------
    model : nn.Module
        A registry model (glimpse model or CNN) in eval mode.
    compile : bool, default False
        Wrap the pass in :func:`compile_inference` (compiled on first call per input shape).
    dtype : {"float32", "bfloat16"} or torch.dtype, optional
        Convert the model to this type **in place** (``model.to(dtype)``); default: keep it.
    precision : {"fp32", "bf16"}, default "fp32"
        Run the pass under :func:`zoo.precision.autocast` (``"bf16"``: bfloat16 autocast).

    Returns
    -------
    callable
        ``images (B, C, H, W) -> logits (B, classes)``; images are cast to the model's type,
        logits come in that type (bfloat16 under ``precision="bf16"``).

    Notes
    -----
    Compiled passes of every model in a process are versions of one function for dynamo,
    one per model class, dtype, grad mode and input shape; past
    ``torch._dynamo.config.recompile_limit`` of them (8 by default) dynamo runs it eagerly.
    """
    check_precision(precision)
    if dtype is not None:
        model.to(resolve_dtype(dtype))
    weight = next(model.parameters())

    def forward(images: torch.Tensor) -> torch.Tensor:
        x = images.to(weight.dtype)  # the same tensor when the types already agree
        with autocast(precision, weight.device):
            return model(x, sample=False).logits if model.has_glimpses else model(x)

    return compile_inference(forward, weight.device) if compile else forward


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _latency_ms(forward, inputs: torch.Tensor, repeats: int, device: torch.device) -> list[float]:
    """Per-image forward time (ms) at batch 1, one value per run."""
    singles = list(inputs.split(1))
    for x in singles[:WARMUP_FORWARDS]:
        forward(x)
    runs = []
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        for x in singles:
            forward(x)
        _sync(device)
        runs.append((time.perf_counter() - start) * 1e3 / len(singles))
    return runs


def evaluate(
    checkpoint: str | os.PathLike, split: str = "test", data_dir: str | os.PathLike | None = None,
    device: str | torch.device = "auto", batch_size: int = 1000, repeats: int = 5,
    latency_images: int = 200, compile: bool = False, dtype: str | torch.dtype = "float32",
    precision: str = "fp32",
) -> dict[str, Any]:
    """Evaluate a checkpoint on a split of its dataset.

    Parameters
    ----------
    checkpoint : path-like
        Checkpoint written by :mod:`zoo.train`.
    split : str, default "test"
        Split of the checkpoint's dataset (see :func:`zoo.data.load_dataset`).
    data_dir : path-like, optional
        Where the dataset lives; default: the dataset's default folder.
    device : str, default "auto"
        ``"auto"`` (CUDA if available), ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...
    batch_size : int, default 1000
        Images per forward pass for accuracy and throughput.
    repeats : int, default 5
        Timed runs for the latency mean and standard deviation.
    latency_images : int, default 200
        Single-image forward passes per timed run (the split's first images).
    compile : bool, default False
        Time the forward pass under ``torch.compile`` (see the module docstring).
    dtype : {"float32", "bfloat16"}, default "float32"
        Floating-point type the model runs in (accuracy and timings); see :func:`logits_fn`.
    precision : {"fp32", "bf16"}, default "fp32"
        ``"bf16"``: float32 weights, the pass under bfloat16 autocast (:mod:`zoo.precision`).
        Only with ``dtype="float32"``.

    Returns
    -------
    dict
        ``checkpoint``, ``model`` (display name), ``arch`` (registry name), ``dataset``,
        ``split``, ``images``, ``correct``, ``accuracy_pct`` (%), ``params`` and
        ``params_m`` (trainable parameters, count and millions), ``latency_ms_mean``,
        ``latency_ms_sd`` (ms/image at batch 1; sd 0 for one run), ``latency_repeats``,
        ``latency_images``, ``throughput_ips`` (images/s), ``batch_size``, ``device``,
        ``device_name``, ``torch_threads``, ``torch_version``, ``compiled``, ``dtype`` (its
        name), ``precision``, ``epoch`` (of the checkpoint).
    """
    for arg, value in (("batch_size", batch_size), ("repeats", repeats),
                       ("latency_images", latency_images)):
        if value < 1:
            raise ValueError(f"{arg}: expected a positive integer, got {value}")
    dtype = resolve_dtype(dtype)
    check_precision(precision)
    if precision != "fp32" and dtype != torch.float32:
        raise ValueError(f"precision={precision!r} autocasts float32 weights; it cannot be "
                         f"combined with dtype={str(dtype).removeprefix('torch.')!r}")
    dev = resolve_device(device)
    model, state = load_model(checkpoint, dev)
    images, labels = load_split(state, split, data_dir, source=str(checkpoint))
    forward = logits_fn(model, compile, dtype, precision)
    n = len(labels)
    with torch.inference_mode():
        for size in {min(batch_size, n), n % batch_size} - {0}:  # every shape timed below
            forward(prepare(images[:size], state, dev))  # warm-up (and compilation)
        correct = 0
        forward_s = 0.0
        for start in range(0, n, batch_size):
            x = prepare(images[start : start + batch_size], state, dev)
            _sync(dev)
            tic = time.perf_counter()
            logits = forward(x)
            _sync(dev)
            forward_s += time.perf_counter() - tic
            correct += int((logits.argmax(1).cpu() == labels[start : start + batch_size]).sum())
        idx = torch.arange(latency_images) % n  # cycle through a split smaller than requested
        latency = _latency_ms(forward, prepare(images[idx], state, dev), repeats, dev)
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {
        "checkpoint": str(Path(checkpoint)),
        "model": model_label(model),
        "arch": state["model"],
        "dataset": state["dataset"],
        "split": split,
        "images": n,
        "correct": correct,
        "accuracy_pct": 100.0 * correct / n,
        "params": params,
        "params_m": params / 1e6,
        "latency_ms_mean": statistics.fmean(latency),
        "latency_ms_sd": statistics.stdev(latency) if repeats > 1 else 0.0,
        "latency_repeats": repeats,
        "latency_images": latency_images,
        "throughput_ips": n / forward_s if forward_s > 0 else float("inf"),
        "batch_size": batch_size,
        "device": str(dev),
        "device_name": (torch.cuda.get_device_name(dev) if dev.type == "cuda"
                        else platform.processor() or platform.machine()),
        "torch_threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
        "compiled": compile,
        "dtype": str(dtype).removeprefix("torch."),
        "precision": precision,
        "epoch": state.get("epoch"),
    }


def format_result(result: dict[str, Any]) -> str:
    """The result of :func:`evaluate` as an aligned two-column text table with units."""
    rows = [
        ("checkpoint", result["checkpoint"]),
        ("model", f"{result['model']} ({result['arch']}, epoch {result['epoch']})"),
        ("data", f"{result['dataset']} / {result['split']}, {result['images']} images"),
        ("accuracy", f"{result['accuracy_pct']:.2f} % ({result['correct']}/{result['images']})"),
        ("parameters", f"{result['params_m']:.4f} M ({result['params']:,} trainable)"),
        ("latency", f"{result['latency_ms_mean']:.3f} +- {result['latency_ms_sd']:.3f} ms/image "
                    f"(batch 1, {result['latency_repeats']} runs x "
                    f"{result['latency_images']} images)"),
        ("throughput", f"{result['throughput_ips']:.0f} images/s (batch {result['batch_size']})"
                       + (", torch.compile" if result.get("compiled") else "")),
        ("precision", result.get("dtype", "float32")
                      + (", bf16 autocast" if result.get("precision") == "bf16" else "")),
        ("device", f"{result['device']} ({result['device_name']}), "
                   f"{result['torch_threads']} torch threads, torch {result['torch_version']}"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
