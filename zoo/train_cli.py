"""The ``python -m zoo.train`` / ``zoo train`` command line: a thin layer over
:func:`zoo.train.train`.

Unset options are left to :class:`zoo.train_config.TrainConfig`'s defaults or, with
``--resume``, to the run's stored config. Bad input ends with one line ``zoo train: error: ...``
and exit status 2; an interrupt with one line naming the resume command and exit status 130.

>>> from zoo.train_cli import build_parser
>>> build_parser().parse_args(["--model", "mram", "--glimpses", "12"]).glimpses
12
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gazekit.argparsing import OneLineParser
from zoo import rundir
from zoo.checkpoint import CheckpointError, load_checkpoint
from zoo.data import DATASETS, DatasetError
from zoo.precision import PRECISIONS
from zoo.registry import list_models
from zoo.resume import TrainingInterrupted
from zoo.train_config import ConfigError, TrainConfig

__all__ = ["MODEL_OPTIONS", "build_parser", "main", "parse_options"]


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m zoo.train`` / ``zoo train`` argument parser (unset options are None)."""
    p = OneLineParser(
        prog="zoo train", description="Train a zoo model (see zoo.train for the protocol).")
    p.add_argument("--model", help=f"model name ({', '.join(list_models())})")
    p.add_argument("--dataset", help=f"dataset ({', '.join(DATASETS)})")
    p.add_argument("--out", dest="out_dir", help="run folder (checkpoints, logs)")
    p.add_argument("--data-dir", help="dataset folder (default: the dataset's standard place)")
    p.add_argument("--resume", action="store_true", default=None,
                   help="continue the run in --out from last.pt (other options as stored)")
    p.add_argument("--overwrite", action="store_true", default=None,
                   help="start a new run in --out even if it holds one (its files are removed)")
    model = p.add_argument_group("model")
    model.add_argument("--glimpses", type=int, help="glimpses per image (default 12)")
    model.add_argument("--scales", type=int, help="glimpse scales (default 1)")
    model.add_argument("--size", type=int, help="glimpse side in px (default 8)")
    model.add_argument("--hidden", type=int, help="LSTM units (default 256)")
    model.add_argument("--std", type=float,
                       help="location-policy std in normalised units (default 0.1)")
    model.add_argument("--context-output", choices=("tanh", "layernorm"),
                       help="DRAM's context-network output (default tanh)")
    model.add_argument("--first-location", choices=("learned", "random"),
                       help="first glimpse placed by the policy (default learned) or drawn "
                            "uniformly (random: seeded in training, per image in evaluation)")
    model.add_argument("--reinforce-detach-core", dest="detach_policy_state",
                       action="store_true", default=None,
                       help="the location policy reads a detached state: REINFORCE trains "
                            "the location head only, not the LSTM core(s)")
    opt = p.add_argument_group("training")
    opt.add_argument("--epochs", type=int, help="maximum epochs (default 300)")
    opt.add_argument("--batch-size", type=int, help="batch per process (default 128)")
    opt.add_argument("--lr", type=float, help="initial Adam learning rate (default 3e-4)")
    opt.add_argument("--alpha", type=float, help="REINFORCE weight (default 0.01)")
    opt.add_argument("--seed", type=int, help="random seed (default 1)")
    opt.add_argument("--patience", type=int, help="early-stopping patience, epochs (default 50)")
    opt.add_argument("--lr-factor", type=float, help="LR reduction factor (default 0.5)")
    opt.add_argument("--lr-patience", type=int, help="LR reduction patience, epochs (default 10)")
    opt.add_argument("--val-fraction", type=float, help="validation share (default 0.1)")
    opt.add_argument("--limit", type=int, help="use only the first N training images")
    opt.add_argument("--reinforce-lr-scale", type=float, metavar="F",
                     help="LR multiplier for the parameters only REINFORCE trains (default 1)")
    opt.add_argument("--eval-sample", action="store_true", default=None,
                     help="validate/test with sampled locations instead of the policy mean")
    run = p.add_argument_group("machine")
    run.add_argument("--device", help="auto, cpu, cuda or cuda:N (default auto)")
    run.add_argument("--num-threads", type=int, help="torch CPU threads")
    run.add_argument("--eval-batch-size", type=int, help="evaluation batch (default 1000)")
    run.add_argument("--download", action="store_true", default=None,
                     help="download missing MNIST/Fashion-MNIST files")
    run.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None,
                     help="torch.compile the training forward pass (one-off compile time; "
                          "default off)")
    run.add_argument("--precision", choices=list(PRECISIONS),
                     help="fp32, or bf16: bfloat16 autocast with float32 weights (default fp32; "
                          "fixed for a run)")
    run.add_argument("--snapshot-every", type=int, metavar="N",
                     help="also keep the weights every N epochs in OUT/snapshots/ (default: "
                          "none)")
    return p


# The options that go to the model (TrainConfig.model_kwargs).
MODEL_OPTIONS = ("glimpses", "scales", "size", "hidden", "std", "context_output",
                 "first_location", "detach_policy_state")


def parse_options(argv: list[str] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The :class:`TrainConfig` settings that ``argv`` sets (unset options left out) and,
    apart, the model's (:data:`MODEL_OPTIONS`, for ``model_kwargs``).

    >>> parse_options(["--model", "ram", "--glimpses", "7", "--lr", "1e-3"])
    ({'model': 'ram', 'lr': 0.001}, {'glimpses': 7})
    """
    args = {k: v for k, v in vars(build_parser().parse_args(argv)).items() if v is not None}
    model_kwargs = {k: args.pop(k) for k in MODEL_OPTIONS if k in args}
    return args, model_kwargs


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 with one line on bad input)."""
    # Imported on call: zoo.train imports this module to re-export main and build_parser.
    from zoo.train import train

    args, model_kwargs = parse_options(argv)
    try:
        if args.get("resume"):
            if "out_dir" not in args:
                raise ConfigError("--resume needs --out")
            last = Path(args["out_dir"]) / "last.pt"
            stored = load_checkpoint(last).get("config")
            if not isinstance(stored, dict) or "model_kwargs" not in stored:
                raise CheckpointError(f"{last}: no training config (not written by zoo train)")
            args = {**stored, **args, "model_kwargs": {**stored["model_kwargs"], **model_kwargs}}
        else:
            flags = {"model": "--model", "dataset": "--dataset", "out_dir": "--out"}
            missing = [flag for key, flag in flags.items() if key not in args]
            if missing:
                raise ConfigError(f"missing {', '.join(missing)} (or pass --resume)")
            args["model_kwargs"] = model_kwargs
        try:
            config = TrainConfig(**args)
        except TypeError as exc:  # e.g. a stored config of another version
            raise ConfigError(f"bad training settings: {exc}") from exc
        train(config)
    except (ConfigError, DatasetError, CheckpointError, rundir.RunFolderError,
            OSError) as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"zoo train: error: {message}", file=sys.stderr)
        return 2
    except TrainingInterrupted as exc:
        print(f"zoo train: {exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:  # before the first batch, or a second Ctrl-C while saving
        print("zoo train: interrupted; nothing saved beyond the last checkpoint "
              f"({Path(args.get('out_dir', '.')) / 'last.pt'}, if any)", file=sys.stderr)
        return 130
    return 0
