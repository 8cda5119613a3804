"""Benchmark 2: the vectorised glimpse sensor against the per-image loop, forward and backward.

Usage::

    python benchmarks/bench_sensor.py [--batches 128 1024] [--scales 1] [--size 8]
        [--threads N] [--repeats 5] [--devices cpu cuda]

Cases, on random 28x28 float32 images and random locations in [-1, 1]:
``zoo.sensor.extract_glimpses`` (pad once, one gather per scale) and
``zoo.sensor.extract_glimpses_reference`` (a Python loop over images and scales, the test
reference), each forward only and forward + backward (gradient of the patches' sum with
respect to the images). Times are medians over interleaved rounds; the speed-up is the median
of the per-round ratios.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import torch
from common import Timer, add_common_args, header, interleave, ratios, setup, spread, table

from zoo.sensor import extract_glimpses, extract_glimpses_reference

SENSORS = {"vectorised": extract_glimpses, "per-image loop": extract_glimpses_reference}


def make_case(sensor: Callable, images: torch.Tensor, locations: torch.Tensor, size: int,
              scales: int, backward: bool) -> Callable[[], None]:
    """One call of ``sensor``; with ``backward``, also the gradient with respect to images."""
    if not backward:
        return lambda: sensor(images, locations, size, scales)
    leaf = images.clone().requires_grad_(True)

    def case() -> None:
        sensor(leaf, locations, size, scales).sum().backward()
        leaf.grad = None

    return case


def run_device(args: argparse.Namespace, device: torch.device) -> None:
    rows = []
    for batch in args.batches:
        g = torch.Generator().manual_seed(batch)
        images = torch.randn(batch, 1, 28, 28, generator=g).to(device)
        locations = (torch.rand(batch, 2, generator=g) * 2 - 1).to(device)
        cases = {
            (name, backward): Timer(make_case(sensor, images, locations, args.size, args.scales,
                                              backward), device, args.min_time)
            for backward in (False, True) for name, sensor in SENSORS.items()
        }
        results = interleave(cases, args.repeats)
        for backward in (False, True):
            fast, slow = results["vectorised", backward], results["per-image loop", backward]
            rows.append([batch, "forward + backward" if backward else "forward",
                         spread([t * 1e3 for t in fast], ".3f"),
                         spread([t * 1e3 for t in slow], ".2f"), spread(ratios(slow, fast), ".0f")])
    print(f"## {device}: glimpse {args.size} px, {args.scales} scale(s), "
          f"{args.repeats} interleaved rounds (medians, range in brackets)\n")
    print(table(["batch", "pass", "vectorised (ms)", "per-image loop (ms)", "speed-up (x)"], rows))
    print()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", nargs="+", type=int, default=[128, 1024],
                        help="batch sizes (default 128 1024)")
    parser.add_argument("--scales", type=int, default=1, help="glimpse scales (default 1)")
    parser.add_argument("--size", type=int, default=8, help="glimpse side in px (default 8)")
    add_common_args(parser)
    args = parser.parse_args(argv)
    devices = setup(args)
    header("Glimpse sensor (benchmarks/bench_sensor.py)", devices)
    for device in devices:
        run_device(args, device)


if __name__ == "__main__":
    main()
