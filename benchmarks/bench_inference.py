"""Benchmark 3: inference latency at batch 1 and throughput at batch 1,000 of every model.

Usage::

    python benchmarks/bench_inference.py [--models cnn ram dram mram] [--glimpses 12]
        [--dtypes float32 bfloat16] [--batch 1000] [--latency-images 200] [--threads N]
        [--repeats 5] [--devices cpu cuda] [--compile] [--profile]

The protocol is :mod:`zoo.evaluate`'s: :func:`torch.inference_mode`, the policy mean
(``sample=False``), models with default sizes and random weights (the cost does not depend
on the weights) on random 28x28 float32 images, run through
:func:`zoo.evaluate.logits_fn` in each ``--dtypes`` type (inputs cast inside the timed pass).
*Latency*: each round times ``--latency-images`` single-image forward passes, wall and CPU
time (the process's, all threads); the table gives medians over rounds in ms/image and the sd
of the wall time. *Throughput*: images/s of one forward pass of ``--batch`` images (median).

Modes: ``eager``; with ``--compile`` also ``compile (defaults)``, plain ``torch.compile``
with inductor's defaults, and ``compile``, :func:`zoo.evaluate.compile_inference` (on the CPU
with :data:`zoo.evaluate.CPU_INFERENCE_OPTIONS`), compiled during the warm-up.

At batch 1 every weight matrix is read once per glimpse for a single matrix-vector product,
so the arithmetic is tiny and the time goes to reading weights and to the overhead of many
small operators. The *GEMV floor* shows the first: the matrix-vector products alone
(``F.linear`` of a 1-row input with every weight matrix a glimpse step needs for the logits,
``T`` times, different vectors each time), in the same dtype and rounds; eager (ATen's BLAS
/ oneDNN kernels) for the eager and default-compiled modes, compiled like ``compile`` for it.
``--profile`` adds a ``torch.profiler`` breakdown of 100 batch-1 passes of every case.

The common baseline, timed in the same rounds: ``peer RAM``, a plain PyTorch RAM written as the
most-used public implementation is (:mod:`peer_ram`: per-image glimpse loop, ``LSTMCell(256,
256)``), eager, float32, policy mean, the same glimpses. ``x peer`` columns are medians (and
ranges) over rounds of the per-round ratio peer time / case time (above 1: faster).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from common import (
    Timer,
    add_common_args,
    header,
    interleave,
    median,
    median_ratio,
    ratios,
    setup,
    spread,
    sync,
    table,
)
from peer_ram import peer_logits
from torch import nn
from torch._dynamo.utils import counters
from torch.profiler import ProfilerActivity, profile

import zoo
from zoo.evaluate import DTYPES, WARMUP_FORWARDS, compile_inference, logits_fn

MODELS = ("cnn", "ram", "dram", "mram")
# Weights not read once per glimpse for the logits: used once per image, or by the baseline
# (which the logits do not need; compiled inference drops it).
NOT_PER_GLIMPSE = ("action.", "context.", "baseline.")
EAGER, DEFAULT, COMPILED = "eager", "compile (defaults)", "compile"
PEER = ("peer", "float32", EAGER)  # the baseline's case key
# Profiler rows summed into one column each; the rest is "other". Products are counted by
# their kernel calls; linear/matmul are their dispatch wrappers (time only).
PRODUCTS = ("aten::addmm", "aten::mm", "aten::mv", "aten::bmm")
PRODUCT_WRAPPERS = ("aten::linear", "aten::matmul")
ENTRY = ("TorchDynamo Cache Lookup", "AOTDispatcher Runtime Wrapper Prologue",
         "Pregraph bytecode", "Torch-Compiled Region")


def label(name: str, glimpses: int) -> str:
    if name == "peer":
        return f"peer RAM-{glimpses} (baseline)"
    return name.upper() + (f"-{glimpses}" if name != "cnn" else "")


def gemv_floor(model: nn.Module, device: torch.device, compiled: bool) -> Callable[[], object]:
    """Matrix-vector products of one image's pass: every per-glimpse weight, ``T`` times."""
    weights = [p.detach() for n, p in model.named_parameters()
               if p.dim() == 2 and not n.startswith(NOT_PER_GLIMPSE)]
    vectors = [[torch.randn(1, w.shape[1], device=device, dtype=w.dtype) for w in weights]
               for _ in range(model.glimpses)]  # distinct per glimpse: nothing to merge

    def products() -> list[torch.Tensor]:
        return [F.linear(v, w) for row in vectors for w, v in zip(weights, row, strict=True)]

    return compile_inference(products, device) if compiled else products


def latency(forward: Callable, singles: torch.Tensor, device: torch.device
            ) -> Callable[[], tuple[float, float]]:
    """One round of single-image passes -> (wall, CPU) seconds per image."""
    images = list(singles.split(1))
    for x in images[:WARMUP_FORWARDS]:
        forward(x)

    def run() -> tuple[float, float]:
        sync(device)
        wall, cpu = time.perf_counter(), time.process_time()
        for x in images:
            forward(x)
        sync(device)
        return ((time.perf_counter() - wall) / len(images),
                (time.process_time() - cpu) / len(images))

    return run


def profile_case(forward: Callable, singles: torch.Tensor) -> list[str]:
    """Self CPU time per image (ms) of 100 single-image passes, grouped."""
    images = list(singles[:100].split(1))
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for x in images:
            forward(x)
    groups = {"products": 0.0, "entry": 0.0, "graph": 0.0, "other": 0.0}
    calls = 0
    for event in prof.key_averages():
        if event.key in PRODUCTS + PRODUCT_WRAPPERS:
            groups["products"] += event.self_cpu_time_total
            calls += event.count if event.key in PRODUCTS else 0
        elif event.key.startswith(ENTRY):
            groups["entry"] += event.self_cpu_time_total
        elif "CompiledFxGraph" in event.key:
            groups["graph"] += event.self_cpu_time_total
        else:
            groups["other"] += event.self_cpu_time_total
    total = sum(groups.values())
    return ([f"{calls / len(images):.0f}", f"{total / 1e3 / len(images):.3f}"]
            + [f"{100 * groups[k] / total:.0f} %" for k in groups])


def build_cases(args: argparse.Namespace, device: torch.device, singles: torch.Tensor,
                batch: torch.Tensor, modes: list[str]) -> tuple[dict, dict]:
    """Timed cases ``(name, dtype, mode, "latency"|"throughput")`` and
    ``(name, dtype, "floor", compiled)``, each returning (wall, CPU) seconds; and the forward
    passes by ``(name, dtype, mode)``. Call under inference mode (what is compiled for)."""
    cases: dict[tuple[str, ...], Callable[[], tuple[float, float]]] = {}
    forwards: dict[tuple[str, ...], Callable] = {PEER: peer_logits(args.glimpses, device)}
    cases[PEER + ("latency",)] = latency(forwards[PEER], singles, device)
    timer = Timer(lambda: forwards[PEER](batch), device, args.min_time)
    cases[PEER + ("throughput",)] = lambda t=timer: (t(), t.cpu)
    for name in args.models:
        for dtype in args.dtypes:
            torch.manual_seed(0)  # the same weights in every dtype
            kwargs = {} if name == "cnn" else {"glimpses": args.glimpses}
            model = zoo.create_model(name, **kwargs).to(device).eval()
            for mode in modes:
                forward = logits_fn(model, mode == COMPILED, dtype)
                if mode == DEFAULT:
                    forward = torch.compile(forward)
                forward(batch)  # compiles this shape when compiled; latency() warms batch 1
                key = (name, dtype, mode)
                forwards[key] = forward
                cases[key + ("latency",)] = latency(forward, singles, device)
                timer = Timer(lambda f=forward: f(batch), device, args.min_time)
                cases[key + ("throughput",)] = lambda t=timer: (t(), t.cpu)
            if model.has_glimpses:
                for compiled in ([False, True] if args.compile else [False]):
                    timer = Timer(gemv_floor(model, device, compiled), device, args.min_time)
                    cases[(name, dtype, "floor", compiled)] = lambda t=timer: (t(), t.cpu)
    return cases, forwards


def run_device(args: argparse.Namespace, device: torch.device) -> None:
    # Every case compiles logits_fn's one inner function (per model class, dtype, mode and
    # shape): more than dynamo's default of 8 versions, past which it would silently run eager.
    torch._dynamo.config.recompile_limit = 64
    g = torch.Generator().manual_seed(0)
    images = torch.randn(max(args.batch, args.latency_images), 1, 28, 28, generator=g).to(device)
    singles = images[:args.latency_images]
    modes = [EAGER, DEFAULT, COMPILED] if args.compile else [EAGER]
    decomposed = sum(counters["inductor"][k] for k in ("decompose_addmm", "decompose_mm"))
    with torch.inference_mode():
        cases, forwards = build_cases(args, device, singles, images[:args.batch], modes)
        decomposed = sum(counters["inductor"][k]
                         for k in ("decompose_addmm", "decompose_mm")) - decomposed
        results = interleave(cases, args.repeats)  # (wall, CPU) seconds per image / per batch
    ms = {key: ([1e3 * w for w, _ in runs], [1e3 * c for _, c in runs])
          for key, runs in results.items()}  # wall, CPU lists
    rows = []
    peer_wall, peer_batch = ms[PEER + ("latency",)][0], ms[PEER + ("throughput",)][0]
    for name, dtype, mode in forwards:
        wall, cpu = ms[(name, dtype, mode, "latency")]
        floor = ms.get((name, dtype, "floor", mode == COMPILED))
        batch_ms = ms[(name, dtype, mode, "throughput")][0]
        rows.append([
            label(name, args.glimpses), dtype, mode,
            f"{median(wall):.3f} ({min(wall):.3f}-{max(wall):.3f})",
            f"{statistics.stdev(wall):.3f}" if len(wall) > 1 else "-", f"{median(cpu):.3f}",
            f"{median(floor[0]):.3f} / {median(floor[1]):.3f}" if floor else "-",
            f"{median_ratio(cpu, floor[1]):.2f}" if floor else "-",
            spread(ratios(peer_wall, wall), ".2f"),
            f"{args.batch / (median(batch_ms) / 1e3):.0f}",
            spread(ratios(peer_batch, batch_ms), ".2f"),
        ])
    print(f"## {device}: {args.repeats} interleaved rounds; latency over "
          f"{args.latency_images} single images per round\n")
    print(table(["model", "dtype", "mode", "latency, batch 1 (ms/image, median (range))", "sd",
                 "CPU (ms/image)", "GEMV floor, wall / CPU (ms/image)", "CPU / floor CPU",
                 "x peer, latency", f"throughput, batch {args.batch} (images/s)",
                 "x peer, throughput"], rows))
    if args.compile:
        print(f"\ninductor turned {decomposed} batch-1 matrix products into fused reductions "
              "(`compile` mode and its GEMV floor).")
    print()
    if args.profile:
        with torch.inference_mode():
            rows = [[label(name, args.glimpses), dtype, mode, *profile_case(forward, singles)]
                    for (name, dtype, mode), forward in forwards.items()]
        print("### torch.profiler, self CPU time of 100 single-image passes\n")
        print(table(["model", "dtype", "mode", "BLAS/oneDNN products per image (calls)",
                     "profiled ms/image", "products", "compiled-code entry (guards, wrappers)",
                     "compiled graph (its kernels and wrapper)", "other"], rows))
        print()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--glimpses", type=int, default=12, help="glimpses (default 12)")
    parser.add_argument("--dtypes", nargs="+", default=list(DTYPES), choices=list(DTYPES),
                        help="floating-point types to run the models in (default: all)")
    parser.add_argument("--batch", type=int, default=1000,
                        help="throughput batch (default 1000)")
    parser.add_argument("--latency-images", type=int, default=200,
                        help="single-image passes per latency round (default 200)")
    parser.add_argument("--compile", action="store_true",
                        help="also time the torch.compile variants")
    parser.add_argument("--profile", action="store_true",
                        help="also print a torch.profiler breakdown of the batch-1 passes")
    add_common_args(parser)
    args = parser.parse_args(argv)
    devices = setup(args)
    header("Inference latency and throughput (benchmarks/bench_inference.py)", devices)
    for device in devices:
        run_device(args, device)


if __name__ == "__main__":
    main()
