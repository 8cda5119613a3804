"""The ``zoo`` command: list, train, evaluate, export and plot hard-attention models.

::

    zoo list [--pretrained]
    zoo train --model mram --glimpses 12 --dataset fashion-mnist --out runs/mram12
    zoo evaluate runs/mram12/best.pt [--split test] [--repeats 5] [--compile]
        [--dtype float32|bfloat16 | --precision fp32|bf16] [--json eval.json]
    zoo export runs/mram12/best.pt --out mram12.parquet [--stochastic --seed 0] [--limit N]
    zoo export pretrained:fashion-mnist/mram-12 --out mram12.parquet   (shipped weights)
    zoo plot mram12.parquet dram12.parquet ram12.parquet --out fig2

Bad input (a missing or corrupt checkpoint, missing data, an unreadable export) ends with one
line ``zoo: error: ...`` on stderr and exit status 2, leaving no output file behind.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from gazekit.argparsing import OneLineParser
from gazekit.atomic import atomic_file
from gazekit.schema import ScanpathError
from zoo import data as zdata
from zoo.checkpoint import CheckpointError
from zoo.evaluate import DTYPES, evaluate, format_result
from zoo.export import export_scanpaths, export_source
from zoo.plot import plot_exports
from zoo.precision import PRECISIONS
from zoo.pretrained import available, describe
from zoo.registry import list_models

# Errors that mean bad input rather than a bug: reported in one line, exit status 2.
INPUT_ERRORS = (CheckpointError, zdata.DatasetError, ScanpathError, OSError, ValueError)
CHECKPOINT_HELP = "checkpoint file (.pt), or pretrained:DATASET/NAME for shipped weights"


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="zoo", description="List, train, evaluate, export and plot hard-attention models.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    ls = sub.add_parser("list", help="print the registered model names")
    ls.add_argument("--pretrained", action="store_true",
                    help="print the shipped weights instead (DATASET/NAME, test accuracy, "
                    "how far training got)")
    sub.add_parser("train", add_help=False,
                   help="train a model (all arguments go to python -m zoo.train; see --help)")

    ev = sub.add_parser("evaluate", help="accuracy, parameters, latency and throughput")
    ev.add_argument("checkpoint", help=CHECKPOINT_HELP)
    ev.add_argument("--split", default="test", help="dataset split (default: test)")
    ev.add_argument("--data-dir", help="dataset folder (default: the dataset's own)")
    ev.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N")
    ev.add_argument("--repeats", type=int, default=5,
                    help="timed latency runs for mean +- sd (default: 5)")
    ev.add_argument("--latency-images", type=int, default=200,
                    help="single-image forward passes per timed run (default: 200)")
    ev.add_argument("--batch-size", type=int, default=1000,
                    help="images per forward pass for accuracy/throughput (default: 1000)")
    ev.add_argument("--compile", action="store_true",
                    help="run the forward pass under torch.compile (compiled before timing)")
    ev.add_argument("--dtype", default="float32", choices=list(DTYPES),
                    help="floating-point type the model runs in (default: float32)")
    ev.add_argument("--precision", default="fp32", choices=list(PRECISIONS),
                    help="bf16: float32 weights under bfloat16 autocast, as zoo train "
                         "--precision bf16 (default: fp32)")
    ev.add_argument("--json", metavar="OUT", help="also write the result as JSON to OUT")

    ex = sub.add_parser("export", help="write one row per glimpse (gazekit scanpath schema)")
    ex.add_argument("checkpoint", help=CHECKPOINT_HELP)
    ex.add_argument("--out", required=True, help="output Parquet file")
    ex.add_argument("--split", default="test", help="dataset split (default: test)")
    ex.add_argument("--data-dir", help="dataset folder (default: the dataset's own)")
    ex.add_argument("--stochastic", action="store_true",
                    help="sample locations from the policy instead of taking its mean")
    ex.add_argument("--seed", type=int, default=0, help="seed for --stochastic (default: 0)")
    ex.add_argument("--limit", type=int, help="export only the first N images")
    ex.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N")
    ex.add_argument("--batch-size", type=int, default=1000,
                    help="images per forward pass and Parquet row group (default: 1000)")

    pl = sub.add_parser("plot", help="Fig. 2: glimpses of several models on the same images")
    pl.add_argument("exports", nargs="+", help="Parquet exports, one row of panels per model")
    pl.add_argument("--out", required=True, help="output path without suffix (.png and .svg)")
    pl.add_argument("--data-dir", help="dataset folder (default: the dataset's own)")
    pl.add_argument("--images", type=int, default=10,
                    help="number of images, one per class (default: 10)")
    pl.add_argument("--image-ids", type=int, nargs="+", help="show these image ids instead")
    pl.add_argument("--numbers", action="store_true", help="write step numbers in the windows")
    pl.add_argument("--class-names", nargs="+", metavar="NAME",
                    help="column titles, one name per class label (default: the labels)")
    return parser


def _plot(args: argparse.Namespace) -> None:
    # The images come from the dataset and split recorded in the (first) export.
    dataset, split = export_source(args.exports[0])
    images, _ = zdata.load_dataset(dataset, split, data_dir=args.data_dir)
    paths = plot_exports(args.exports, images.numpy(), args.out, image_ids=args.image_ids,
                         n_images=args.images, class_names=args.class_names,
                         numbers=args.numbers)
    print("\n".join(str(p) for p in paths))


def _run(args: argparse.Namespace) -> int:
    if args.command == "list":
        print("\n".join(map(describe, available()) if args.pretrained else list_models()))
    elif args.command == "evaluate":
        result = evaluate(args.checkpoint, split=args.split, data_dir=args.data_dir,
                          device=args.device, batch_size=args.batch_size, repeats=args.repeats,
                          latency_images=args.latency_images, compile=args.compile,
                          dtype=args.dtype, precision=args.precision)
        print(format_result(result))
        if args.json:
            with atomic_file(args.json) as tmp:
                tmp.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    elif args.command == "export":
        out = export_scanpaths(args.checkpoint, split=args.split, out=args.out,
                               data_dir=args.data_dir, stochastic=args.stochastic,
                               seed=args.seed, limit=args.limit, device=args.device,
                               batch_size=args.batch_size)
        print(out)
    else:
        _plot(args)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The ``zoo`` command (the console script reaches it through :mod:`gazekit.zoo_command`,
    which first checks that torch is installed); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["train"]:  # everything after "train" belongs to zoo.train's own parser
        from zoo import train  # only here: the training stack is not needed by other commands

        return train.main(argv[1:])
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except INPUT_ERRORS as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"zoo: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
