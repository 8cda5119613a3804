"""Benchmark 1: training throughput of the zoo models against the machine's matmul rate.

Usage::

    python benchmarks/bench_train.py [--models cnn ram dram mram] [--batch 128] [--glimpses 12]
        [--threads N] [--repeats 5] [--devices cpu cuda] [--compile] [--profile]

One training step is exactly :mod:`zoo.train`'s: forward pass and loss
(:func:`zoo.train.step_forward`: the hybrid loss for glimpse models, cross-entropy for the
CNN), ``zero_grad``, backward, fused Adam step, on a fixed random batch of 28x28 images
already on the device (data loading is not timed). Models have their default sizes (LSTM
256) and ``--glimpses`` glimpses.

FLOPs per image are counted with ``torch.utils.flop_counter.FlopCounterMode`` over one
forward + backward pass at the benchmark batch, divided by the batch: matrix products and
convolutions at ``2 m n k``, element-wise work and the optimiser not counted. The achieved
FLOP/s is that count times images/s; its *share* is the median over rounds of the ratio to a
2048x2048 float32 matmul timed in the same round with the same threads (see ``common``).

``--compile`` adds the ``torch.compile`` variant (``zoo.train --compile``), whose one-off
compile time is reported. ``--profile`` prints where an eager step of RAM and MRAM spends its
time (torch.profiler, self CPU time grouped into matrix products, other ATen operators and
the rest: autograd engine, Python, optimiser).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch
from common import (
    MatmulReference,
    Timer,
    add_common_args,
    count_flops,
    header,
    interleave,
    median,
    median_ratio,
    setup,
    table,
)
from torch.profiler import ProfilerActivity, profile

import zoo
from zoo.train import _adam, step_forward

MODELS = ("cnn", "ram", "dram", "mram")
PRODUCTS = ("aten::mm", "aten::addmm", "aten::bmm", "aten::convolution_backward",
            "aten::mkldnn_convolution", "aten::_convolution")


def make_step(name: str, batch: int, glimpses: int, device: torch.device,
              compile: bool) -> tuple[Callable[[], None], Callable[[], None]]:
    """A training step of a fresh model on a fixed batch, and its forward + backward alone."""
    torch.manual_seed(0)
    kwargs = {} if name == "cnn" else {"glimpses": glimpses}
    model = zoo.create_model(name, **kwargs).to(device).train()
    optimizer = _adam(list(model.parameters()), lr=3e-4)
    images = torch.randn(batch, 1, 28, 28, device=device)
    labels = torch.randint(0, 10, (batch,), device=device)
    forward = step_forward(compile)

    def forward_backward() -> None:
        forward(model, images, labels, model.has_glimpses, 0.01)[1].backward()

    def step() -> None:
        loss = forward(model, images, labels, model.has_glimpses, 0.01)[1]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step, forward_backward


def profile_shares(step: Callable[[], None], steps: int = 5) -> tuple[dict[str, float], float]:
    """Share of self CPU time of a training step by kind of work, and the seconds per step
    spent in matrix products (profiled, ``steps`` steps)."""
    step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    groups = {"matrix products": 0.0, "other ATen operators": 0.0,
              "autograd engine, Python, optimiser": 0.0}
    for event in prof.key_averages():
        if event.key in PRODUCTS:
            kind = "matrix products"
        elif event.key.startswith("aten::"):
            kind = "other ATen operators"
        else:
            kind = "autograd engine, Python, optimiser"
        groups[kind] += event.self_cpu_time_total
    total = sum(groups.values())
    products_s = groups["matrix products"] / 1e6 / steps  # profiler times are microseconds
    return {kind: value / total for kind, value in groups.items()}, products_s


def run_device(args: argparse.Namespace, device: torch.device) -> None:
    variants = [False, True] if args.compile else [False]
    reference = MatmulReference(device, min_time=args.min_time)
    cases: dict[str, Callable[[], float]] = {"matmul": reference}
    flops: dict[str, float] = {}
    compile_s: dict[str, float] = {}
    for name in args.models:
        for compiled in variants:
            key = f"{name}{' compiled' if compiled else ''}"
            step, forward_backward = make_step(name, args.batch, args.glimpses, device, compiled)
            if not compiled:
                flops[name] = count_flops(forward_backward) / args.batch
            else:
                start = time.perf_counter()
                step()
                compile_s[key] = time.perf_counter() - start
            cases[key] = Timer(step, device, args.min_time)
    results = interleave(cases, args.repeats)  # seconds per step; FLOP/s for "matmul"
    rows = []
    for key in cases:
        if key == "matmul":
            continue
        name = key.split()[0]
        rates = [flops[name] * args.batch / t for t in results[key]]
        rows.append([
            name.upper(), "torch.compile" if key in compile_s else "eager",
            f"{median(results[key]) * 1e3:.1f}", f"{args.batch / median(results[key]):.0f}",
            f"{flops[name] / 1e6:.2f}", f"{median(rates) / 1e9:.1f}",
            f"{100 * median_ratio(rates, results['matmul']):.0f} %",
        ])
    print(f"## {device}: batch {args.batch}, {args.glimpses} glimpses, "
          f"{args.repeats} interleaved rounds (medians)\n")
    print(f"float32 matmul {reference.n}x{reference.n}: "
          f"{median(results['matmul']) / 1e9:.1f} GFLOP/s (median; "
          f"range {min(results['matmul']) / 1e9:.1f}-{max(results['matmul']) / 1e9:.1f})\n")
    print(table(["model", "mode", "ms/step", "images/s", "MFLOP/image (fwd+bwd)", "GFLOP/s",
                 "share of matmul"], rows))
    if compile_s:
        print("\none-off compile time (s): "
              + ", ".join(f"{k.split()[0].upper()} {v:.0f}" for k, v in compile_s.items()))
    print()
    if args.profile and device.type == "cpu":
        print("### where an eager training step spends its time (self CPU time)\n")
        prof_rows = []
        for name in (m for m in args.models if m in ("ram", "mram")):
            step = make_step(name, args.batch, args.glimpses, device, False)[0]
            shares, products_s = profile_shares(step)
            rate = flops[name] * args.batch / products_s
            prof_rows.append([name.upper(), *(f"{100 * v:.1f} %" for v in shares.values()),
                              f"{rate / 1e9:.1f}", f"{reference() / 1e9:.1f}"])
        print(table(["model", "matrix products", "other ATen operators",
                     "autograd engine, Python, optimiser", "GFLOP/s inside the products",
                     "matmul GFLOP/s (just after)"], prof_rows))
        print()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--batch", type=int, default=128, help="images per step (default 128)")
    parser.add_argument("--glimpses", type=int, default=12, help="glimpses (default 12)")
    parser.add_argument("--compile", action="store_true",
                        help="also time the torch.compile variant")
    parser.add_argument("--profile", action="store_true",
                        help="profile eager RAM/MRAM steps on the CPU")
    add_common_args(parser)
    args = parser.parse_args(argv)
    devices = setup(args)
    header("Training throughput (benchmarks/bench_train.py)", devices)
    for device in devices:
        run_device(args, device)


if __name__ == "__main__":
    main()
