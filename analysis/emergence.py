"""How the gaze emerges during training: the gaze statistics of every snapshot of some runs.

::

    python analysis/emergence.py --runs /work/runs/fashion-mnist --run mram-7 dram-7 ram-7
        [--limit 1000] [--out analysis/results/emergence_fashion_mnist] [--force]

The paper compares the gaze of trained models only. A run trained with ``--snapshot-every N``
(``ZOO_SNAPSHOT_EVERY=N`` for ``analysis/train_queue.sh``) keeps its weights every N epochs in
``RUN/snapshots/epoch-NNN.pt`` (``epoch-000.pt``: the untrained weights, when the snapshots
were on from the start); this script exports the scanpaths of each snapshot on the first
``--limit`` test images (policy mean, :func:`zoo.export.export_scanpaths`), segments them with
gazekit (6 px between consecutive glimpses, as for Fig. 3) and summarises them
(:func:`gazekit.stats.summarize`). It writes

* ``OUT.csv``: one row per (run, epoch): ``run``, ``model`` (display name), ``epoch``,
  ``val_acc_pct`` (validation accuracy of that epoch, %), ``test_images``, and gazekit's
  summary columns (``fixational_share``; ``fixation_steps_mean`` in glimpse steps and
  ``saccade_px_mean`` in pixels, each with its 95% bootstrap interval; ...);
* ``OUT.png`` / ``OUT.svg``: those four quantities against the epoch, one line per run.

Re-running reuses the rows of snapshots already in ``OUT.csv`` (same run, epoch and number
of images) unless ``--force``.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from analysis.claims import THRESHOLD_PX
from analysis.settings import RESULTS_DIR, write_csv
from gazekit.io import read_scanpaths
from gazekit.plot import group_colors, save_figure
from gazekit.schema import ScanpathError
from gazekit.segment import segment
from gazekit.stats import summarize
from zoo.checkpoint import CheckpointError, load_checkpoint
from zoo.data import DatasetError
from zoo.evaluate import checkpoint_label
from zoo.export import export_scanpaths
from zoo.plot import model_colors

__all__ = ["emergence", "main", "plot_emergence", "snapshots"]

SNAPSHOT = re.compile(r"epoch-(\d+)\.pt")
#: (column, axis label) of the figure's panels.
PANELS = (
    ("val_acc_pct", "validation accuracy (%)"),
    ("fixational_share", "fixational share (transitions < 6 px)"),
    ("fixation_steps_mean", "mean fixation duration (glimpse steps)"),
    ("saccade_px_mean", "mean saccade distance (px)"),
)


def snapshots(run: str | Path) -> dict[int, Path]:
    """``{epoch: path}`` of the snapshots of a run folder, in epoch order (may be empty)."""
    found = {}
    for path in (Path(run) / "snapshots").glob("epoch-*.pt"):
        match = SNAPSHOT.fullmatch(path.name)
        if match:
            found[int(match[1])] = path
    return dict(sorted(found.items()))


def _summary(checkpoint: Path, data_dir: str | None, limit: int, device: str) -> pd.DataFrame:
    """gazekit's one-row summary of a checkpoint's scanpaths on the first ``limit`` test images."""
    with tempfile.TemporaryDirectory() as tmp:
        export = export_scanpaths(checkpoint, split="test", out=Path(tmp) / "x.parquet",
                                  data_dir=data_dir, limit=limit, device=device)
        seg = segment(read_scanpaths(export), threshold=THRESHOLD_PX, mode="consecutive")
    return summarize(seg.fixations, seg.saccades, group_by=None)


def emergence(runs: Path, names: list[str], limit: int = 1000, device: str = "auto",
              previous: pd.DataFrame | None = None, progress: bool = True) -> pd.DataFrame:
    """The gaze statistics of every snapshot of the runs ``names`` in ``runs`` (see the module
    docstring for the columns); rows of ``previous`` with the same run, epoch and number of
    test images are reused instead of recomputed.

    Raises
    ------
    ValueError
        If a run has no snapshots.
    """
    done = {} if previous is None else {
        (r.run, int(r.epoch), int(r.test_images)): r for r in previous.itertuples(index=False)}
    rows = []
    for name in names:
        found = snapshots(runs / name)
        if not found:
            raise ValueError(f"{runs / name}: no snapshots (train it with --snapshot-every N, "
                             "or ZOO_SNAPSHOT_EVERY=N for analysis/train_queue.sh)")
        for epoch, path in found.items():
            kept = done.get((name, epoch, limit))
            if kept is not None:
                rows.append(pd.DataFrame([kept._asdict()]))
                continue
            state = load_checkpoint(path)
            data_dir = state.get("config", {}).get("data_dir")  # where the run's data was
            summary = _summary(path, data_dir, limit, device).drop(columns="group")
            info = {"run": name, "epoch": epoch,
                    "model": checkpoint_label(state),
                    "val_acc_pct": 100 * state["metrics"]["val_acc"],
                    "test_images": limit}
            rows.append(pd.concat([pd.DataFrame([info]), summary], axis=1))
            if progress:
                print(f"[emergence] {name} epoch {epoch}: fixational share "
                      f"{summary['fixational_share'].iloc[0]:.3f}", flush=True)
    return pd.concat(rows, ignore_index=True)


def plot_emergence(table: pd.DataFrame, stem: Path) -> list[Path]:
    """The four :data:`PANELS` against the epoch, one line per run (95% bootstrap bands on the
    means); writes ``stem.png`` and ``stem.svg`` atomically and returns them."""
    labels = {run: str(model) for run, model in zip(table["run"], table["model"], strict=True)}
    colors = group_colors(labels.values(), model_colors(labels.values()))
    fig = Figure(figsize=(12, 3.4), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(PANELS))
    for ax, (column, ylabel) in zip(axes, PANELS, strict=True):
        for run, rows in table.groupby("run", sort=False):
            rows = rows.sort_values("epoch")
            color = colors[labels[run]]
            ax.plot(rows["epoch"], rows[column], "o-", ms=2.5, lw=1, color=color,
                    label=labels[run])
            low, high = f"{column}_ci_low", f"{column}_ci_high"
            if low in rows and np.isfinite(rows[low]).any():
                ax.fill_between(rows["epoch"], rows[low], rows[high], color=color, alpha=0.2,
                                lw=0)
        ax.set(xlabel="epoch", ylabel=ylabel)
    axes[1].set_ylim(-0.02, 1.02)  # a share: tiny changes must not fill the panel
    axes[0].legend(frameon=False, fontsize="small")
    fig.suptitle(f"Gaze during training (first {int(table['test_images'].iloc[0]):,} test "
                 "images, policy mean, 6 px consecutive rule)")
    return save_figure(fig, stem)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 with one line on bad input)."""
    p = argparse.ArgumentParser(prog="python analysis/emergence.py",
                                description="Gaze statistics of every snapshot of some runs.")
    p.add_argument("--runs", type=Path, required=True, help="folder of the run folders")
    p.add_argument("--run", nargs="+", required=True, help="run folder names (e.g. mram-7)")
    p.add_argument("--limit", type=int, default=1000, help="first N test images (default 1000)")
    p.add_argument("--out", type=Path, help="output stem (default analysis/results/"
                   "emergence_<dataset of the first run>)")
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N")
    p.add_argument("--force", action="store_true", help="recompute every snapshot")
    args = p.parse_args(argv)
    try:
        if args.limit < 1:
            raise ValueError(f"--limit: expected a positive integer, got {args.limit}")
        out = args.out
        if out is None:
            first = next(iter(snapshots(args.runs / args.run[0]).values()), None)
            dataset = load_checkpoint(first)["dataset"] if first else "runs"
            out = RESULTS_DIR / f"emergence_{dataset.replace('-', '_')}"
        csv = out.with_name(f"{out.name}.csv")
        previous = None if args.force or not csv.is_file() else pd.read_csv(csv)
        table = emergence(args.runs, args.run, args.limit, args.device, previous)
        write_csv(table, csv)
        paths = plot_emergence(table, out)
    except (ValueError, OSError, CheckpointError, DatasetError, ScanpathError) as exc:
        print(f"emergence: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    print(f"wrote {csv}, {paths[0]}, {paths[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
