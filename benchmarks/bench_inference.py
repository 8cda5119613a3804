"""Benchmark 3: inference latency at batch 1 and throughput at batch 1,000 of every model.

Usage::

    python benchmarks/bench_inference.py [--models cnn ram dram mram] [--glimpses 12]
        [--batch 1000] [--latency-images 200] [--threads N] [--repeats 5]
        [--devices cpu cuda] [--compile]

The protocol is :mod:`zoo.evaluate`'s: :func:`torch.inference_mode`, the policy mean
(``sample=False``), models with default sizes and random weights (the cost does not depend
on the weights) on random 28x28 images. *Latency*: each round times ``--latency-images``
single-image forward passes; the table gives the mean +- sd over rounds of ms/image.
*Throughput*: images/s of one forward pass of ``--batch`` images (median over rounds).

At batch 1 every weight matrix is read once per glimpse for a single matrix-vector product,
so the arithmetic is tiny and the time goes to reading weights and to the overhead of many
small operators. The *GEMV floor* shows the first: the time of the matrix-vector products
alone (``torch.mv`` with every weight matrix a glimpse step uses, times the number of
glimpses), measured in the same rounds. ``--compile`` adds the ``torch.compile`` variant
(``zoo.evaluate.logits_fn(model, compile=True)``), compiled during the warm-up.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable

import torch
from common import Timer, add_common_args, header, interleave, median, setup, table
from torch import nn

import zoo
from zoo.evaluate import _latency_ms, logits_fn

MODELS = ("cnn", "ram", "dram", "mram")
ONCE_PER_IMAGE = ("action.", "context.")  # weights used once per image, not per glimpse


def gemv_floor(model: nn.Module, device: torch.device) -> Callable[[], None]:
    """Matrix-vector products of one image's pass: every per-glimpse weight, ``T`` times."""
    weights = [p.detach() for n, p in model.named_parameters()
               if p.dim() == 2 and not n.startswith(ONCE_PER_IMAGE)]
    vectors = [torch.randn(w.shape[1], device=device) for w in weights]

    def run() -> None:
        for _ in range(model.glimpses):
            for w, v in zip(weights, vectors, strict=True):
                torch.mv(w, v)

    return run


def run_device(args: argparse.Namespace, device: torch.device) -> None:
    g = torch.Generator().manual_seed(0)
    images = torch.randn(max(args.batch, args.latency_images), 1, 28, 28, generator=g).to(device)
    singles = images[:args.latency_images]
    batch = images[:args.batch]
    variants = [False, True] if args.compile else [False]
    cases: dict[tuple[str, str], Callable[[], object]] = {}
    for name in args.models:
        torch.manual_seed(0)
        kwargs = {} if name == "cnn" else {"glimpses": args.glimpses}
        model = zoo.create_model(name, **kwargs).to(device).eval()
        for compiled in variants:
            key = (name, "torch.compile" if compiled else "eager")
            forward = logits_fn(model, compiled)
            with torch.inference_mode():
                forward(batch)  # compiles this shape when compiled; _latency_ms warms batch 1
            cases[key + ("latency",)] = (
                lambda f=forward: _latency_ms(f, singles, 1, device)[0] / 1e3)
            cases[key + ("throughput",)] = Timer(lambda f=forward: f(batch), device,
                                                 args.min_time)
        if model.has_glimpses:
            cases[(name, "gemv floor", "latency")] = Timer(gemv_floor(model, device), device,
                                                          args.min_time)
    with torch.inference_mode():
        results = interleave(cases, args.repeats)  # seconds per image / per batch
    rows = []
    for name in args.models:
        floor = results.get((name, "gemv floor", "latency"))
        for compiled in variants:
            mode = "torch.compile" if compiled else "eager"
            latency = [1e3 * s for s in results[(name, mode, "latency")]]
            sd = statistics.stdev(latency) if len(latency) > 1 else 0.0
            rows.append([
                name.upper() + (f"-{args.glimpses}" if name != "cnn" else ""), mode,
                f"{statistics.fmean(latency):.3f} +- {sd:.3f}",
                f"{median(floor) * 1e3:.3f}" if floor else "-",
                f"{args.batch / median(results[(name, mode, 'throughput')]):.0f}",
            ])
    print(f"## {device}: {args.repeats} interleaved rounds; latency over "
          f"{args.latency_images} single images per round\n")
    print(table(["model", "mode", "latency, batch 1 (ms/image)", "GEMV floor (ms/image)",
                 f"throughput, batch {args.batch} (images/s)"], rows))
    print()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--glimpses", type=int, default=12, help="glimpses (default 12)")
    parser.add_argument("--batch", type=int, default=1000,
                        help="throughput batch (default 1000)")
    parser.add_argument("--latency-images", type=int, default=200,
                        help="single-image passes per latency round (default 200)")
    parser.add_argument("--compile", action="store_true",
                        help="also time the torch.compile variant")
    add_common_args(parser)
    args = parser.parse_args(argv)
    devices = setup(args)
    header("Inference latency and throughput (benchmarks/bench_inference.py)", devices)
    for device in devices:
        run_device(args, device)


if __name__ == "__main__":
    main()
