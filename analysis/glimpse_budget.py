"""Test accuracy against the number of glimpses taken at test time.

::

    python analysis/glimpse_budget.py --runs /work/runs/fashion-mnist --run ram-12 mram-12 dram-12
        [--budgets 1 2 ... 24] [--limit N] [--out analysis/results/glimpse_budget_fashion_mnist]
        [--device auto]

The paper (Sec. 4.3) says that RAM peaks at some number of glimpses and may degrade beyond it,
while MRAM sustains or improves its accuracy as the glimpses increase. A recurrent glimpse
model's parameters do not depend on its number of glimpses ``T`` (the step loop of
:class:`zoo.modules.GlimpseModel` reads ``model.glimpses``), so the ``best.pt`` of each run,
trained with one ``T``, is run here with every ``T`` of ``--budgets`` (default 1-24) on the
first ``--limit`` images of its test split (default: all), following the policy mean. It writes

* ``OUT.csv``: one row per (model, T): ``model`` (display name), ``checkpoint``, ``epoch``,
  ``dataset``, ``glimpses`` (T taken, steps), ``trained_glimpses`` (steps), ``images``,
  ``correct``, ``accuracy_pct`` (%) and its 95% Wilson interval ``ci_low_pct``,
  ``ci_high_pct`` (%);
* ``OUT.png`` / ``OUT.svg``: accuracy against the glimpses taken, one line per model with its
  interval as a band, a star at the trained ``T``.

Cost: a run with ``T`` glimpses computes the logits only after its last glimpse, so each ``T``
is a forward pass of its own: a sweep costs ``sum(budgets)`` glimpse steps per image (300 for
1-24, i.e. 25 test-set evaluations of a 12-glimpse model).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from scipy.stats import binomtest
from torch import nn

from analysis.settings import RESULTS_DIR, write_csv
from gazekit.plot import group_colors, save_figure
from zoo.checkpoint import CheckpointError, load_model
from zoo.data import DatasetError
from zoo.evaluate import checkpoint_label, load_split, prepare
from zoo.machine import resolve_device
from zoo.plot import model_colors

__all__ = ["glimpse_budget", "glimpses_set", "main", "plot_glimpse_budget", "wilson_ci"]

DEFAULT_BUDGETS = tuple(range(1, 25))
CONFIDENCE = 0.95


def wilson_ci(correct: int, images: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of an accuracy of ``correct`` out of ``images``, in percent."""
    ci = binomtest(correct, images).proportion_ci(confidence, method="wilson")
    return 100.0 * ci.low, 100.0 * ci.high


@contextmanager
def glimpses_set(model: nn.Module, glimpses: int) -> Iterator[nn.Module]:
    """Let a glimpse model take ``glimpses`` steps within the block, then restore its own.

    Only the step count changes: ``model.config`` keeps describing the trained model.
    """
    trained = model.glimpses
    model.glimpses = glimpses
    try:
        yield model
    finally:
        model.glimpses = trained


def _check_budgets(budgets: Sequence[int]) -> list[int]:
    """The budgets sorted and without repeats; ``ValueError`` unless all are integers >= 1."""
    if not budgets or any(isinstance(t, bool) or int(t) != t or t < 1 for t in budgets):
        raise ValueError(f"budgets: expected positive numbers of glimpses, got {list(budgets)}")
    return sorted({int(t) for t in budgets})


def glimpse_budget(checkpoints: Mapping[str, str | Path], budgets: Sequence[int],
                   limit: int | None = None, device: str | torch.device = "auto",
                   batch_size: int = 1000, progress: bool = True) -> pd.DataFrame:
    """Test accuracy of glimpse-model checkpoints for each number of glimpses in ``budgets``.

    Parameters
    ----------
    checkpoints : mapping of str to path
        Display label (:func:`zoo.evaluate.checkpoint_label`) -> checkpoint written by
        :mod:`zoo.train`.
    budgets : sequence of int
        Numbers of glimpses ``T`` to take at test time (steps, >= 1; sorted, repeats dropped).
    limit : int, optional
        Use the first ``limit`` images of each checkpoint's test split (default: all).
    device : str or torch.device, default "auto"
        ``"auto"`` (CUDA if available), ``"cpu"``, ``"cuda"``, ``"cuda:N"``.
    batch_size : int, default 1000
        Images per forward pass.
    progress : bool, default True
        Print one line per (model, T).

    Returns
    -------
    pandas.DataFrame
        One row per (label, T), in the order of ``checkpoints`` and then ``T``; the columns of
        the module docstring. Locations follow the policy mean (``sample=False``).

    Raises
    ------
    ValueError
        For a checkpoint without glimpses (CNN), a budget or ``batch_size`` below 1, or a bad
        ``limit`` or device; checked for every checkpoint before any is evaluated.
    zoo.checkpoint.CheckpointError, zoo.data.DatasetError
        If a checkpoint or its data cannot be read.
    """
    budgets = _check_budgets(budgets)
    if batch_size < 1:
        raise ValueError(f"batch_size: expected a positive integer, got {batch_size}")
    dev = resolve_device(device)
    models = {}
    for label, path in checkpoints.items():
        model, state = load_model(path, dev)
        if not model.has_glimpses:
            raise ValueError(f"{path}: {state['model']!r} takes no glimpses (a CNN sees the "
                             "whole image); give recurrent glimpse models only")
        models[label] = (model, state, path)
    rows = []
    for label, (model, state, path) in models.items():
        data_dir = state.get("config", {}).get("data_dir")  # where the run's data was
        images, labels = load_split(state, "test", data_dir, limit, source=str(path))
        n, trained = len(labels), model.glimpses
        for glimpses in budgets:
            correct = 0
            with glimpses_set(model, glimpses), torch.inference_mode():
                for start in range(0, n, batch_size):
                    x = prepare(images[start:start + batch_size], state, dev)
                    pred = model(x, sample=False).logits.argmax(1).cpu()
                    correct += int((pred == labels[start:start + batch_size]).sum())
            low, high = wilson_ci(correct, n)
            rows.append({"model": label, "checkpoint": str(path), "epoch": state.get("epoch"),
                         "dataset": state["dataset"], "glimpses": glimpses,
                         "trained_glimpses": trained, "images": n, "correct": correct,
                         "accuracy_pct": 100.0 * correct / n, "ci_low_pct": low,
                         "ci_high_pct": high})
            if progress:
                print(f"[glimpse_budget] {label} T={glimpses}: {100.0 * correct / n:.2f} %",
                      flush=True)
    return pd.DataFrame(rows)


def plot_glimpse_budget(table: pd.DataFrame, stem: str | Path) -> list[Path]:
    """Accuracy (%) against the glimpses taken (steps), one panel per trained ``T`` (so that
    models trained with different ``T`` are never mixed unsaid), one line per model with its
    95% Wilson band and a star at its trained ``T`` (where measured); writes ``stem.png`` and
    ``stem.svg`` atomically and returns them."""
    labels = list(dict.fromkeys(table["model"].astype(str)))
    colors = group_colors(labels, model_colors(labels))
    trained_t = sorted(table["trained_glimpses"].unique())
    fig = Figure(figsize=(4.6 * len(trained_t) + 1.8, 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(trained_t), sharey=True, squeeze=False)[0]
    for ax, t in zip(axes, trained_t, strict=True):
        panel = table[table["trained_glimpses"] == t]
        for label, rows in panel.groupby(panel["model"].astype(str), sort=False):
            rows = rows.sort_values("glimpses")
            color = colors[label]
            ax.plot(rows["glimpses"], rows["accuracy_pct"], "o-", ms=3, lw=1.2, color=color,
                    label=label)
            ax.fill_between(rows["glimpses"], rows["ci_low_pct"], rows["ci_high_pct"],
                            color=color, alpha=0.2, lw=0)
            trained = rows[rows["glimpses"] == rows["trained_glimpses"]]
            ax.plot(trained["glimpses"], trained["accuracy_pct"], "*", ms=13, color=color,
                    mec="black", mew=0.6, zorder=3)
        ax.plot([], [], "*", ms=11, color="lightgrey", mec="black", mew=0.6,
                label="trained T")  # legend entry only
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set(title=f"trained with T = {t} glimpses",
               xlabel="glimpses taken at test time (steps)")
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, fontsize="small")
    axes[0].set_ylabel("test accuracy (%)")
    fig.suptitle(f"Accuracy against glimpses (first {int(table['images'].iloc[0]):,} test "
                 "images, policy mean, 95% Wilson bands)", fontsize="medium")
    return save_figure(fig, stem)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 with one line on bad input)."""
    p = argparse.ArgumentParser(prog="python analysis/glimpse_budget.py",
                                description="Test accuracy against the glimpses taken.")
    p.add_argument("--runs", type=Path, required=True, help="folder of the run folders")
    p.add_argument("--run", nargs="+", required=True,
                   help="run folder names (e.g. ram-12; each one's best.pt is used) or "
                        "shipped weights (pretrained:fashion-mnist/ram-12, e.g. standing in "
                        "for a lost run folder)")
    p.add_argument("--budgets", nargs="+", type=int, default=list(DEFAULT_BUDGETS),
                   help="numbers of glimpses to take (default 1-24)")
    p.add_argument("--limit", type=int, help="first N test images (default: all)")
    p.add_argument("--out", type=Path, help="output stem (default analysis/results/"
                   "glimpse_budget_<dataset of the first run>)")
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N")
    args = p.parse_args(argv)
    try:
        if args.limit is not None and args.limit < 1:
            raise ValueError(f"--limit: expected a positive integer, got {args.limit}")
        _check_budgets(args.budgets)
        checkpoints, first = {}, None
        for run in args.run:
            path = run if run.startswith("pretrained:") else args.runs / run / "best.pt"
            _, state = load_model(path)
            first = first or state
            label = checkpoint_label(state)
            if label in checkpoints:
                raise ValueError(f"{path}: same model as {checkpoints[label]} ({label})")
            checkpoints[label] = path
        out = args.out or RESULTS_DIR / f"glimpse_budget_{first['dataset'].replace('-', '_')}"
        table = glimpse_budget(checkpoints, args.budgets, args.limit, args.device)
        csv = out.with_name(f"{out.name}.csv")
        write_csv(table, csv)
        paths = plot_glimpse_budget(table, out)
    except (ValueError, OSError, CheckpointError, DatasetError) as exc:
        print(f"glimpse_budget: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    print(f"wrote {csv}, {paths[0]}, {paths[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
