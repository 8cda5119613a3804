"""Copy trained runs into the package's shipped weights (``zoo/weights``), with model cards.

::

    python analysis/ship_weights.py --runs /work/runs/fashion-mnist [--names mram-12 ram-12]
        [--dest zoo/weights] [--examples 100]

For each run folder with a ``best.pt`` (all of them, or ``--names``): the weights of
``best.pt`` (state_dict only, float32) go to ``DEST/<dataset>/<run>.pt`` and a model card to
``<run>.json``, under the run folder's name (``ram-7``, which ``create_model("ram", glimpses=7,
pretrained=...)`` loads; ``ram-7-seed2``, ``ram-7-bf16``; files of another run are never
replaced) (:func:`zoo.pretrained.save_pretrained`): model and training configuration,
data set and normalisation, seed, epochs run, whether training finished (and how), best
validation accuracy, test accuracy (measured here on the full test split with the policy
mean), parameter count, training wall time, hardware and date. Runs still training are
shipped as they stand, and their cards say so.

``--examples N`` (default 100) also writes the first N test images of each shipped data set
to ``DEST/examples/<dataset>/`` in the data set's IDX format (gzip), so that
``zoo export ... --data-dir zoo/weights/examples/fashion-mnist`` and the demo run without the
data set installed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import os
import struct
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch

from analysis.experiments import run_status
from zoo import data as zdata
from zoo.checkpoint import CheckpointError, load_checkpoint
from zoo.evaluate import evaluate
from zoo.pretrained import refuse_other_run, save_pretrained, weights_dir

__all__ = ["main", "model_card", "ship_run", "write_examples", "write_idx"]


def write_idx(array: np.ndarray, path: str | os.PathLike) -> Path:
    """Write a uint8 array as a gzip-compressed IDX file (images (N, H, W) or labels (N,)).

    The gzip header carries no timestamp, so equal arrays give identical files.
    """
    array = np.ascontiguousarray(array, dtype=np.uint8)
    magic = {3: zdata.IDX_IMAGES_MAGIC, 1: zdata.IDX_LABELS_MAGIC}.get(array.ndim)
    if magic is None:
        raise ValueError(f"{path}: expected images (N, H, W) or labels (N,), got shape "
                         f"{array.shape}")
    header = struct.pack(f">{1 + array.ndim}i", magic, *array.shape)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(header + array.tobytes(), mtime=0))
    return path


def write_examples(dataset: str, n: int, dest: str | os.PathLike | None = None,
                   data_dir: str | os.PathLike | None = None) -> Path:
    """Write the first ``n`` test images and labels of ``dataset`` as IDX files.

    Returns the folder ``DEST/examples/<dataset>``, readable with
    ``zoo.data.load_dataset(dataset, "test", data_dir=folder)``: image ``i`` there is test
    image ``i`` of the full data set.
    """
    images, labels = zdata.load_dataset(dataset, "test", data_dir=data_dir)
    folder = Path(dest if dest is not None else weights_dir()) / "examples" / dataset
    stems = zdata.IDX_FILES["test"]
    write_idx(images[:n].numpy(), folder / f"{stems[0]}.gz")
    write_idx(labels[:n].numpy(), folder / f"{stems[1]}.gz")
    return folder


def model_card(run_dir: str | os.PathLike, state: dict, test: dict) -> dict:
    """The model card of a run's ``best.pt`` (see :func:`zoo.pretrained.save_pretrained`).

    Parameters
    ----------
    run_dir : path-like
        The run folder (read with :func:`analysis.experiments.run_status`).
    state : dict
        The loaded ``best.pt``.
    test : dict
        :func:`zoo.evaluate.evaluate` of ``best.pt`` on the test split.
    """
    status = run_status(run_dir)
    return {
        "model": state["model"], "display_name": test["model"],
        "model_kwargs": state["model_kwargs"], "dataset": state["dataset"],
        "normalization": state["normalization"], "image_size": state["image_size"],
        "num_classes": state["num_classes"], "seed": state["seed"],
        "training_config": {k: v for k, v in state["config"].items()
                            if k not in ("out_dir", "data_dir")},
        "epochs_run": status.epochs_run, "max_epochs": status.max_epochs,
        "best_epoch": state["epoch"], "finished": status.finished, "status": status.status,
        "state": status.state, "val_acc": state["metrics"]["val_acc"],
        "test_acc": test["correct"] / test["images"], "test_images": test["images"],
        "test_policy": "location-policy mean" if test["arch"] != "cnn" else "whole image",
        "params": test["params"], "wall_time_s": status.wall_time_s,
        "hardware": status.hardware, "torch_version": torch.__version__,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "source_run": Path(run_dir).name,
    }


def ship_run(run_dir: str | os.PathLike, dest: str | os.PathLike | None = None,
             data_dir: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """Ship one run's ``best.pt``: evaluate it, write weights and card; return their paths.

    Files that hold another run's weights are refused (``ValueError``) before the evaluation.
    """
    best = Path(run_dir) / "best.pt"
    state = load_checkpoint(best)
    name = Path(run_dir).name
    folder = Path(dest if dest is not None else weights_dir()) / state["dataset"]
    refuse_other_run(folder / f"{name}.json", name)
    stored = state["config"].get("data_dir")
    test = evaluate(best, split="test", data_dir=data_dir or stored, device="cpu",
                    repeats=1, latency_images=1)
    return save_pretrained(state["state_dict"], model_card(run_dir, state, test), dest,
                           name=name)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 with one line on bad input)."""
    p = argparse.ArgumentParser(prog="python analysis/ship_weights.py",
                                description="Ship runs' best.pt as zoo weights with cards.")
    p.add_argument("--runs", type=Path, required=True, help="folder of the run folders")
    p.add_argument("--names", nargs="+", help="run names (default: every run with best.pt)")
    p.add_argument("--dest", type=Path, help="weights folder (default: zoo/weights)")
    p.add_argument("--data-dir", type=Path, help="data folder (default: the run's own)")
    p.add_argument("--examples", type=int, default=100,
                   help="first N test images to ship per data set (default 100; 0: none)")
    args = p.parse_args(argv)
    names = args.names or sorted(d.name for d in args.runs.iterdir()
                                 if (d / "best.pt").is_file())
    try:
        datasets = set()
        for name in names:
            pt, card = ship_run(args.runs / name, args.dest, args.data_dir)
            datasets.add(pt.parent.name)
            print(f"{name}: {pt} ({pt.stat().st_size / 1e6:.1f} MB), {card.name}")
        for dataset in sorted(datasets) if args.examples > 0 else ():
            folder = write_examples(dataset, args.examples, args.dest, args.data_dir)
            print(f"examples: {folder}")
    except (CheckpointError, zdata.DatasetError, OSError, ValueError) as exc:
        print(f"ship_weights: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
