"""DRAM's dying context network, and the remedies compared in short runs.

::

    python analysis/dram_remedy.py --runs RUNS/dram-remedy [--out analysis/results/dram_remedy]

Reads the short DRAM training runs in ``RUNS`` (one folder per remedy, written by
``zoo train``, each logging the policy's health every epoch, :mod:`zoo.health`) and writes

- ``<out>.csv``: per run and epoch the remedy (``context_output``, ``reinforce_lr_scale``),
  validation accuracy, the share of saturated context units (tanh output only), the spread of
  the context output across images, the spread (px, RMS distance from the mean location over
  1,000 validation images, policy mean) of glimpses 1 and 2, and the share of saturated
  policy-mean coordinates;
- ``<out>.png`` / ``.svg``: those curves against the epoch, one line per remedy;
- ``<out>.md``: the last epoch of each run as a table.

The runs are started with ``analysis/train_queue.sh`` (see :data:`REMEDIES` for the options),
e.g. ``bash analysis/train_queue.sh RUNS/dram-remedy "layernorm:--model dram --dataset
fashion-mnist --glimpses 12 --epochs 6 --context-output layernorm"``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from analysis.settings import RESULTS_DIR, write_csv
from gazekit.atomic import atomic_file
from gazekit.plot import save_figure
from gazekit.report import markdown_table

__all__ = ["REMEDIES", "health_table", "main", "plot_health"]

#: The remedies compared (run folder name -> extra ``zoo train`` options), besides ``tanh``,
#: the old behaviour.
REMEDIES = {
    "tanh": "",
    "layernorm": "--context-output layernorm",
    "lr0.1": "--reinforce-lr-scale 0.1",
    "layernorm-lr0.1": "--context-output layernorm --reinforce-lr-scale 0.1",
}
PANELS = (
    ("context_saturated", "context units saturated (share, tanh only)"),
    ("glimpse1_spread_px", "glimpse 1 spread across images (px)"),
    ("glimpse2_spread_px", "glimpse 2 spread across images (px)"),
    ("val_acc", "validation accuracy"),
)


def health_table(runs: Path) -> pd.DataFrame:
    """One row per run and epoch from each ``RUNS/<name>/metrics.jsonl`` with health data."""
    rows = []
    for folder in sorted(p for p in runs.iterdir() if (p / "metrics.jsonl").is_file()):
        config = json.loads((folder / "config.json").read_text())
        output = config["model_kwargs"].get("context_output", "tanh")
        for line in (folder / "metrics.jsonl").read_text().splitlines():
            record = json.loads(line)
            health = record.get("health")
            if health is None:
                continue
            rows.append({
                "run": folder.name, "context_output": output,
                "reinforce_lr_scale": config.get("reinforce_lr_scale", 1.0),
                "glimpses": config["model_kwargs"].get("glimpses"),
                "epoch": record["epoch"], "val_acc": record["val_acc"],
                "context_saturated": health["context_saturated"],
                "context_spread": health["context_spread"],
                "glimpse1_spread_px": health["spread_px"][0],
                "glimpse2_spread_px": health["spread_px"][1],
                "policy_saturated": health["policy_saturated"],
            })
    if not rows:
        raise ValueError(f"{runs}: no run folder with per-epoch health in its metrics.jsonl")
    return pd.DataFrame(rows)


def plot_health(table: pd.DataFrame, stem: Path) -> list[Path]:
    """The health curves of each run against the epoch (PNG and SVG at ``stem``)."""
    fig = Figure(figsize=(10, 6.5))
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 2, sharex=True).ravel()
    for ax, (column, label) in zip(axes, PANELS, strict=True):
        for run, rows in table.groupby("run", sort=False):
            ax.plot(rows["epoch"], rows[column], marker="o", ms=3, label=run)
        ax.set(title=label, xlabel="epoch")
        ax.grid(alpha=0.3)
    axes[0].legend(title="remedy (run)", fontsize=8)
    glimpses = ", ".join(sorted({f"DRAM-{g}" for g in table["glimpses"]}))
    fig.suptitle(f"{glimpses} on Fashion-MNIST: does the context network stay alive? "
                 "(policy mean, 1,000 validation images; spread = RMS distance from the mean "
                 "location)", fontsize=9)
    fig.tight_layout()
    return save_figure(fig, stem)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, required=True, help="folder of the remedy runs")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "dram_remedy",
                        help="output stem (default analysis/results/dram_remedy)")
    args = parser.parse_args(argv)
    try:
        table = health_table(args.runs)
        write_csv(table, args.out.with_suffix(".csv"))
        plot_health(table, args.out)
        last = table.groupby("run", sort=False).tail(1).round(4)
        with atomic_file(args.out.with_suffix(".md")) as tmp:
            tmp.write_text("# DRAM's context network: remedies after the last epoch run\n\n"
                           + markdown_table(last) + "\n", encoding="utf-8")
    except (OSError, ValueError, KeyError) as exc:
        print(f"dram_remedy: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}.csv, .md, .png, .svg")
    return 0


if __name__ == "__main__":
    sys.exit(main())
