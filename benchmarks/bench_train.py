"""Benchmark 1: training throughput of the zoo models against a peer RAM and the matmul rate.

Usage::

    python benchmarks/bench_train.py [--models cnn ram dram mram] [--batch 128] [--glimpses 12]
        [--precision fp32 bf16] [--threads N] [--repeats 5] [--devices cpu cuda] [--compile]
        [--profile]

One training step is exactly :mod:`zoo.train`'s: forward pass and loss
(:func:`zoo.train.step_forward` at each ``--precision``: the hybrid loss for glimpse models,
cross-entropy for the CNN), ``zero_grad``, backward, fused Adam step, on a fixed random batch
of 28x28 images already on the device (data loading is not timed). Models have their default
sizes (LSTM 256) and ``--glimpses`` glimpses.

The common baseline, timed in the same rounds: ``peer RAM``, a plain PyTorch RAM written as the
most-used public implementation is (:mod:`peer_ram`: per-image glimpse loop, ``LSTMCell(256,
256)``, unfused Adam), eager, float32. ``x peer`` is the median (and range) over rounds of
the per-round ratio peer step time / case step time: above 1 is faster than the peer;
``x fp32`` the same ratio against the float32 step of the same model and mode.

FLOPs per image are counted with ``torch.utils.flop_counter.FlopCounterMode`` over one
forward + backward pass at the benchmark batch, divided by the batch: matrix products and
convolutions at ``2 m n k``, element-wise work and the optimiser not counted. The achieved
FLOP/s is that count times images/s; its *share* is the median over rounds of the ratio to a
2048x2048 matmul in the case's precision (float32, or bfloat16 for ``bf16``) timed in the same
round with the same threads (see ``common``).

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
    spread,
    table,
)
from peer_ram import peer_step
from torch.profiler import ProfilerActivity, profile

import zoo
from zoo.precision import PRECISIONS
from zoo.train import _adam, step_forward

MODELS = ("cnn", "ram", "dram", "mram")
PRODUCTS = ("aten::mm", "aten::addmm", "aten::bmm", "aten::convolution_backward",
            "aten::mkldnn_convolution", "aten::_convolution", "aten::_addmm_activation")


def make_step(name: str, batch: int, glimpses: int, device: torch.device,
              compile: bool, precision: str = "fp32"
              ) -> tuple[Callable[[], None], Callable[[], None]]:
    """A training step of a fresh model on a fixed batch, and its forward + backward alone."""
    torch.manual_seed(0)
    kwargs = {} if name == "cnn" else {"glimpses": glimpses}
    model = zoo.create_model(name, **kwargs).to(device).train()
    optimizer = _adam(model, lr=3e-4)
    images = torch.randn(batch, 1, 28, 28, device=device)
    labels = torch.randint(0, 10, (batch,), device=device)
    forward = step_forward(compile, precision)

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
    references = {"fp32": MatmulReference(device, min_time=args.min_time)}
    if "bf16" in args.precision:
        references["bf16"] = MatmulReference(device, min_time=args.min_time,
                                             dtype=torch.bfloat16)
    cases: dict[str, Callable[[], float]] = {f"matmul {p}": r for p, r in references.items()}
    peer, peer_fb = peer_step(args.batch, args.glimpses, device)
    cases["peer"] = Timer(peer, device, args.min_time)
    flops: dict[str, float] = {"peer": count_flops(peer_fb) / args.batch}
    compile_s: dict[str, float] = {}
    setting: dict[str, tuple[str, str, str]] = {}  # case -> model, mode, precision
    for name in args.models:
        for compiled in variants:
            for precision in args.precision:
                mode = "torch.compile" if compiled else "eager"
                key = f"{name} {mode} {precision}"
                step, forward_backward = make_step(name, args.batch, args.glimpses, device,
                                                   compiled, precision)
                if name not in flops:
                    flops[name] = count_flops(forward_backward) / args.batch
                if compiled:
                    start = time.perf_counter()
                    step()
                    compile_s[key] = time.perf_counter() - start
                cases[key] = Timer(step, device, args.min_time)
                setting[key] = (name, mode, precision)
    results = interleave(cases, args.repeats)  # seconds per step; FLOP/s for the matmuls
    rows = []
    for key in ["peer", *setting]:
        name, mode, precision = setting.get(key, ("peer", "eager", "fp32"))
        times = results[key]
        rates = [flops[name] * args.batch / t for t in times]
        versus = [p / t for p, t in zip(results["peer"], times, strict=True)]
        fp32 = results.get(f"{name} {mode} fp32")
        speedup = ("-" if precision == "fp32" or fp32 is None else
                   spread([f / t for f, t in zip(fp32, times, strict=True)], ".2f"))
        rows.append([
            "peer RAM (baseline)" if name == "peer" else name.upper(), mode, precision,
            spread([t * 1e3 for t in times], ".1f"), f"{args.batch / median(times):.0f}",
            spread(versus, ".2f"), speedup, f"{flops[name] / 1e6:.2f}",
            f"{median(rates) / 1e9:.1f}",
            f"{100 * median_ratio(rates, results[f'matmul {precision}']):.0f} %",
        ])
    print(f"## {device}: batch {args.batch}, {args.glimpses} glimpses, "
          f"{args.repeats} interleaved rounds (medians, range in brackets)\n")
    for precision, reference in references.items():
        rates = results[f"matmul {precision}"]
        print(f"{reference.dtype_name} matmul {reference.n}x{reference.n}: "
              f"{spread([r / 1e9 for r in rates], '.1f')} GFLOP/s")
    print()
    print(table(["model", "mode", "precision", "ms/step", "images/s", "x peer", "x fp32",
                 "MFLOP/image (fwd+bwd)", "GFLOP/s", "share of matmul"], rows))
    if compile_s:
        print("\none-off compile time (s): "
              + ", ".join(f"{k.split()[0].upper()} {k.split()[-1]} {v:.0f}"
                          for k, v in compile_s.items()))
    print()
    if args.profile and device.type == "cpu":
        print("### where an eager training step spends its time (self CPU time)\n")
        prof_rows = []
        for name in (m for m in args.models if m in ("ram", "mram")):
            for precision in args.precision:
                step = make_step(name, args.batch, args.glimpses, device, False, precision)[0]
                shares, products_s = profile_shares(step)
                rate = flops[name] * args.batch / products_s
                prof_rows.append([name.upper(), precision,
                                  *(f"{100 * v:.1f} %" for v in shares.values()),
                                  f"{rate / 1e9:.1f}", f"{references[precision]() / 1e9:.1f}"])
        print(table(["model", "precision", "matrix products", "other ATen operators",
                     "autograd engine, Python, optimiser", "GFLOP/s inside the products",
                     "matmul GFLOP/s (just after)"], prof_rows))
        print()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--batch", type=int, default=128, help="images per step (default 128)")
    parser.add_argument("--glimpses", type=int, default=12, help="glimpses (default 12)")
    parser.add_argument("--precision", nargs="+", default=["fp32"], choices=list(PRECISIONS),
                        help="zoo.train --precision settings to time (default fp32)")
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
