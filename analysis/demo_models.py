"""Real model behaviour in about a minute on a CPU: shipped weights -> scanpaths -> gazekit.

::

    python analysis/demo_models.py --out DIR [--data auto|examples|full] [--limit 1000]

Exports the test-set scanpaths (policy mean; the CNN's gradient-saliency path) of every model
shipped for Fashion-MNIST (``zoo list --pretrained``), on the full test set where Fashion-MNIST
is installed (first ``--limit`` images) or else on the example images shipped with the
weights; analyses them with :func:`gazekit.analyze` (6 px fixation threshold, the paper's
Fig. 3); draws the glimpses of MRAM, DRAM and RAM (Fig. 2); prints the summary and the paper's
qualitative claims as measured, each with its criterion, the estimates with their 95 %
intervals and its verdict. ``DIR`` then holds ``exports/``, ``analysis/`` (gazekit's tables,
densities figure and report), ``claims.csv`` (the claims at each glimpse count T: ``claim``,
``criterion``, ``measured`` (estimates with intervals), ``verdict``, ``method``) and
``fig2_glimpses.png``/``.svg``.

Without shipped weights it stops with a message saying how to make them.

:func:`notebook_exports` is the small-data source of the figure notebooks: the shipped models
on a few example images, or, before any are shipped, UNTRAINED models on synthetic images.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd
import torch

import zoo
from analysis.claims import CRITERIA, THRESHOLD_PX, claims_by_glimpses
from analysis.experiments import (
    CLASS_NAMES,
    figure_roles,
    roles_by_glimpses,
    write_synthetic_fer2013,
)
from analysis.settings import write_csv
from gazekit.analyze import analyze
from gazekit.atomic import atomic_output_dir
from gazekit.cli import summary_table
from gazekit.io import read_scanpaths, write_parquet_atomic
from gazekit.segment import segment
from zoo import data as zdata
from zoo.checkpoint import save_checkpoint
from zoo.export import export_scanpaths
from zoo.plot import plot_exports
from zoo.pretrained import SPEC_PREFIX, available, describe, examples_dir, weights_dir

__all__ = ["DemoError", "export_models", "fer_notebook_exports", "figure_rows", "main",
           "notebook_exports",
           "image_source", "label_untrained", "run_demo", "untrained_checkpoints"]

class DemoError(RuntimeError):
    """The demo cannot run (no shipped weights, no images); the message says what to do."""


def image_source(dataset: str, data: str = "auto") -> tuple[Path | None, str]:
    """Where the demo's test images come from.

    Parameters
    ----------
    dataset : str
        Data set name.
    data : {"auto", "examples", "full"}
        ``"full"``: the installed data set; ``"examples"``: the shipped example images;
        ``"auto"``: the full data set where it can be read, else the examples.

    Returns
    -------
    data_dir : pathlib.Path or None
        ``data_dir`` for :func:`zoo.data.load_dataset` (None: the data set's default folder).
    description : str
        Human-readable source, for printing.
    """
    if data in ("auto", "full"):
        try:
            zdata.load_dataset(dataset, "test")
            return None, f"{dataset} test set ({zdata.default_data_dir(dataset)})"
        except zdata.DatasetError:
            if data == "full":
                raise
    folder = examples_dir(dataset)
    if not folder.is_dir():
        raise DemoError(f"{dataset} is not installed and no example images are shipped in "
                        f"{folder} (python analysis/ship_weights.py writes them)")
    return folder, f"shipped example images ({folder})"


def export_models(checkpoints: list[str], out_dir: Path, data_dir: Path | None,
                  limit: int | None) -> list[Path]:
    """Export the test-set scanpaths of each checkpoint or ``pretrained:`` spec on the CPU.

    Files are ``out_dir/<name>.parquet``, ``<name>`` the spec's or file's stem.
    """
    out = []
    for ckpt in checkpoints:
        name = Path(str(ckpt).removeprefix(SPEC_PREFIX)).stem
        out.append(export_scanpaths(ckpt, split="test", out=out_dir / f"{name}.parquet",
                                    data_dir=data_dir, limit=limit, device="cpu"))
    return out


def figure_rows(exports: list[Path], scales: tuple[int, ...] = (1,)) -> list[Path]:
    """The exports of :func:`figure_roles` (MRAM, DRAM, RAM), in Fig. 2's row order, for each
    number of glimpse ``scales`` in turn (``(1, 2)`` for the Fig. 4-style panel)."""
    models = {str(pd.read_parquet(p, columns=["model"])["model"].iloc[0]): p for p in exports}
    return [models[label] for n in scales for label in figure_roles(models, n).values()]


def _images(dataset: str, data_dir: Path | None) -> np.ndarray:
    return zdata.load_dataset(dataset, "test", data_dir=data_dir)[0].numpy()


def run_demo(out: str | Path, dataset: str = "fashion-mnist", data: str = "auto",
             limit: int | None = 1000, overwrite: bool = False) -> pd.DataFrame:
    """Export, analyse and draw the shipped models of ``dataset``; print and return the summary.

    Also prints the paper's claims at each glimpse count (criterion, estimates with 95 %
    intervals, verdict) and writes them to ``out/claims.csv``.

    Raises
    ------
    DemoError
        If no weights are shipped for ``dataset`` or no test images can be found.
    FileExistsError
        If ``out`` is a non-empty folder and ``overwrite`` is False.
    """
    names = available(dataset, other_runs=False)
    if not names:
        raise DemoError(
            f"no trained weights are shipped for {dataset} yet (looked in "
            f"{weights_dir() / dataset}). Train the models (python analysis/reproduce.py "
            "--table 2 --runs RUNS --stage train --launch), then ship them (python "
            "analysis/ship_weights.py --runs RUNS); 'gazekit demo' analyses synthetic "
            "scanpaths meanwhile.")
    data_dir, source = image_source(dataset, data)
    out = Path(out)
    print("models (shipped weights; each card says how far its training got):\n  "
          + "\n  ".join(map(describe, names)) + f"\nimages: {source}"
          + (f", at most the first {limit}" if limit else ""), flush=True)
    with atomic_output_dir(out, overwrite=overwrite) as tmp:
        exports = export_models([SPEC_PREFIX + n for n in names], tmp / "exports", data_dir,
                                limit)
        result = analyze(exports, tmp / "analysis", threshold=THRESHOLD_PX, progress=False)
        rows = figure_rows(exports)
        if rows:
            plot_exports(rows, _images(dataset, data_dir), tmp / "fig2_glimpses",
                         class_names=CLASS_NAMES.get(dataset))
        claims = claims_by_glimpses(
            segment(read_scanpaths(exports), THRESHOLD_PX, "consecutive"),
            roles_by_glimpses(result.summary["group"].astype(str)))
        write_csv(claims, tmp / "claims.csv")
    print("\n" + summary_table(result.summary))
    print(f"\nThe paper's claims, measured on these scanpaths at each glimpse count T.\n"
          f"Criterion of every verdict: {CRITERIA}")
    for t, rows in claims.groupby("glimpses"):  # a few claims per T
        print(f"\nT = {t} glimpses:")
        for claim in rows.itertuples(index=False):
            print(f"- {claim.claim} [{claim.criterion}]: {claim.verdict}"
                  + (f"\n    {claim.measured}" if claim.measured else ""))
    print(f"\nwrote {out}/ (exports/, analysis/report.md and densities, claims.csv, "
          "fig2_glimpses.png)")
    return result.summary


def untrained_checkpoints(folder: str | Path, glimpses: int = 12, seed: int = 0,
                          dataset: str = "synthetic", data_dir: Path | None = None,
                          scales: tuple[int, ...] = (1,)) -> list[Path]:
    """Checkpoints of UNTRAINED MRAM, DRAM and RAM (each at every number of ``scales``).

    For figures and tests before any model is trained: random weights (``torch`` seeded with
    ``seed``), the class count and image size of ``dataset``, the normalisation of its training
    split (read from ``data_dir``). Files are ``folder/<model>-<glimpses>[-<s>scales]-untrained.pt``
    in the order MRAM, DRAM, RAM for each number of scales.
    """
    folder = Path(folder)
    info = zdata.DATASETS[dataset]
    images, _ = zdata.load_dataset(dataset, "train", data_dir=data_dir)
    mean, std = zdata.normalization_stats(images)
    paths = []
    torch.manual_seed(seed)
    for n_scales in scales:
        for name in ("mram", "dram", "ram"):
            model = zoo.create_model(name, glimpses=glimpses, scales=n_scales,
                                     num_classes=info.num_classes,
                                     image_size=list(info.image_size), pad_value=-mean / std)
            stem = f"{name}-{glimpses}" + (f"-{n_scales}scales" if n_scales > 1 else "")
            paths.append(save_checkpoint({
                "model": name, "model_kwargs": model.config, "state_dict": model.state_dict(),
                "dataset": dataset, "normalization": {"mean": mean, "std": std},
                "image_size": list(info.image_size), "num_classes": info.num_classes,
                "config": {}, "seed": seed, "epoch": 0, "metrics": {}},
                folder / f"{stem}-untrained.pt"))
    return paths


def label_untrained(exports: list[Path]) -> None:
    """Append `` (untrained)`` to the ``model`` of each export, so that no figure passes them
    off as trained models."""
    for path in exports:
        df = pd.read_parquet(path)
        df["model"] = df["model"] + " (untrained)"
        write_parquet_atomic(df, path, overwrite=True)


def notebook_exports(out_dir: str | Path, limit: int = 10,
                     dataset: str = "fashion-mnist") -> tuple[list[Path], np.ndarray, str]:
    """Small exports for the figure notebooks: MRAM, DRAM, RAM on ``limit`` test images.

    Uses the weights shipped for ``dataset`` (on the installed data set or the shipped
    examples) when MRAM, DRAM and RAM are among them; otherwise UNTRAINED models on the
    synthetic data set, whose ``model`` values end in ``(untrained)``.

    Returns
    -------
    exports : list of pathlib.Path
        Parquet files in Fig. 2's row order.
    images : ndarray, shape (N, H, W)
        The test images the exports' ``image_id`` index.
    description : str
        What the exports are, for the notebook's text.
    """
    out_dir = Path(out_dir)
    shipped = [n for n in available(dataset, other_runs=False) if n.split("/")[1].split("-")[0] in
               ("mram", "dram", "ram")]
    if shipped:
        data_dir, source = image_source(dataset)
        exports = figure_rows(export_models([SPEC_PREFIX + n for n in shipped], out_dir,
                                            data_dir, limit))
        return exports, _images(dataset, data_dir), f"shipped {dataset} weights on {source}"
    exports = export_models(untrained_checkpoints(out_dir / "checkpoints"), out_dir, None, limit)
    label_untrained(exports)
    return exports, _images("synthetic", None), "UNTRAINED models on synthetic images"


def fer_notebook_exports(out_dir: str | Path,
                         limit: int = 7) -> tuple[list[Path], np.ndarray, str]:
    """Small exports for the Fig. 4-style notebook when no FER2013 runs are at hand: UNTRAINED
    MRAM, DRAM and RAM at 1 and 2 glimpse scales on a small SYNTHETIC FER2013-format CSV
    (:func:`analysis.experiments.write_synthetic_fer2013`, written to ``out_dir``).

    Returns ``(exports, images, description)`` as :func:`notebook_exports` does; the exports
    are in the panel's row order (MRAM, DRAM, RAM at 1 scale, then at 2) and their ``model``
    values end in ``(untrained)``.
    """
    out_dir = Path(out_dir)
    data_dir = out_dir / "synthetic-fer2013"
    write_synthetic_fer2013(data_dir, n_train=200, n_val=20, n_test=max(limit, 20))
    checkpoints = untrained_checkpoints(out_dir / "checkpoints", dataset="fer2013",
                                        data_dir=data_dir, scales=(1, 2))
    exports = export_models(checkpoints, out_dir, data_dir, limit)
    label_untrained(exports)
    return (figure_rows(exports, scales=(1, 2)), _images("fer2013", data_dir),
            "UNTRAINED models on SYNTHETIC FER2013-format faces (not FER2013)")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 with a message when it cannot run)."""
    p = argparse.ArgumentParser(prog="python analysis/demo_models.py",
                                description="Shipped models -> scanpaths -> gazekit analysis.")
    p.add_argument("--out", type=Path, default=Path("zoo-demo"), help="output folder "
                   "(default zoo-demo; must not exist or be empty unless --overwrite)")
    p.add_argument("--dataset", default="fashion-mnist", help="data set of the shipped weights")
    p.add_argument("--data", choices=("auto", "examples", "full"), default="auto",
                   help="test images: the installed data set (full), the shipped examples, "
                   "or full where installed (auto, default)")
    p.add_argument("--limit", type=int, default=1000,
                   help="first N test images (default 1000; 0: all)")
    p.add_argument("--overwrite", action="store_true", help="replace a non-empty --out")
    args = p.parse_args(argv)
    try:
        run_demo(args.out, args.dataset, args.data, args.limit or None, args.overwrite)
    except (DemoError, zdata.DatasetError, OSError, ValueError) as exc:
        print(f"demo_models: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
