"""Test accuracy against the number of glimpses taken at test time, and the paper's claim on it.

::

    python analysis/glimpse_budget.py --runs runs/fashion-mnist [--run ram-7 mram-7 ...]
        [--table 2] [--budgets 1 2 ... 24] [--limit N] [--device auto]
        [--out analysis/results/glimpse_budget_fashion_mnist]

The paper (Sec. 4.3) says that RAM peaks at some number of glimpses while MRAM sustains or
improves its accuracy as the glimpses increase; :mod:`analysis.budget_claims` states that claim,
its criteria and verdict rules (per trained ``T``, on paired data: each model at its trained
``T`` against ``2T`` on the same test images).

**The curve.** A recurrent glimpse model's parameters do not depend on its number of glimpses
``T`` (the step loop of :class:`zoo.modules.GlimpseModel` reads ``model.glimpses``), so each
run's weights, trained with one ``T``, are run with every ``T`` of ``--budgets`` (default 1-24)
on the first ``--limit`` images of its test split (default: all), following the policy mean.
Each checkpoint is loaded once, so every ``T`` of a run uses the same weights. Default runs:
the Fig. 2-3 models (RAM, DRAM, MRAM) at each glimpse count of the paper's table ``--table``
(Table 2: Fashion-MNIST, T = 7 and 12), read through :func:`analysis.standins.run_progress`
(shipped weights stand in for the lost folder of a finished run).

Outputs (all or nothing, :func:`gazekit.atomic.write_atomically`):

* ``OUT.csv``: one row per (model, T): ``model``, ``checkpoint``, ``epoch`` (of the weights),
  ``dataset``, ``glimpses`` (T taken, steps), ``trained_glimpses`` (steps), ``images``,
  ``correct``, ``accuracy_pct`` (%) with its 95% Wilson interval ``ci_low_pct``,
  ``ci_high_pct`` (%), ``state`` (the run's state) and ``provisional`` (its run unfinished);
* ``OUT_changes.csv``: one row per model, its paired change from ``T`` to ``2T``
  (:func:`analysis.budget_claims.changes_table`);
* ``OUT_claims.csv``: one row per trained ``T`` and claim, with ``criterion`` beside
  ``verdict`` (:func:`analysis.budget_claims.budget_claims`);
* ``OUT.md``: the command, the runs' states, the claims and the changes;
* ``OUT.png`` / ``OUT.svg``: accuracy (%) against the glimpses taken at test time, one panel
  per trained ``T``.

Cost: one forward pass of ``max(budgets)`` glimpses per image, the logits of every smaller ``T``
read after its step (:func:`logits_each_step`): two test-set evaluations of a 12-glimpse model
for 1-24.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from scipy.stats import binomtest
from torch import nn

from analysis.budget_claims import (
    Curve,
    Sweep,
    budget_claims,
    budget_markdown,
    changes_table,
    compared_glimpses,
)
from analysis.claims import CONFIDENCE
from analysis.experiments import experiments, roles_by_glimpses, run_status, shown
from analysis.settings import RESULTS_DIR
from analysis.standins import card_status, run_progress, shipped_card
from gazekit.atomic import write_atomically
from gazekit.plot import figure_files, group_colors, save_figure
from zoo.checkpoint import CheckpointError, load_model
from zoo.data import DatasetError
from zoo.evaluate import checkpoint_label, load_split, prepare
from zoo.machine import resolve_device
from zoo.plot import model_colors
from zoo.pretrained import SPEC_PREFIX, is_spec

__all__ = ["BudgetRun", "budget_figure", "budget_run", "correct_by_glimpses", "curve_table",
           "default_runs", "glimpse_budget", "glimpses_set", "logits_each_step", "main",
           "plot_glimpse_budget", "wilson_ci", "write_outputs"]

DEFAULT_BUDGETS = tuple(range(1, 25))


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


# ---------------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BudgetRun:
    """One run to sweep.

    Attributes
    ----------
    run : str
        Run folder name (``ram-7``) or shipped-weights spec (``pretrained:<dataset>/<name>``).
    checkpoint : str or Path
        What :func:`zoo.checkpoint.load_model` loads (``best.pt`` or a spec).
    state : str
        The run's state for tables (:attr:`analysis.experiments.RunStatus.state`, e.g.
        ``still training: epoch 147 of 300 (best 136)``).
    finished : bool
        Whether its training ended; rows of unfinished runs are provisional.
    """

    run: str
    checkpoint: str | Path
    state: str
    finished: bool


def default_runs(table: int = 2) -> list[str]:
    """Run names of the Fig. 2-3 models (MRAM, DRAM, RAM; one scale) of the paper's ``table``,
    at each of its glimpse counts in turn (:func:`analysis.experiments.roles_by_glimpses`).

    >>> default_runs(2)
    ['mram-7', 'dram-7', 'ram-7', 'mram-12', 'dram-12', 'ram-12']
    """
    runs = {e.label: e.run for e in experiments(table) if e.main}
    return [runs[label] for roles in roles_by_glimpses(runs).values()
            for label in roles.values()]


def budget_run(runs: Path, run: str, table: int = 2) -> BudgetRun:
    """The weights and state of ``run``: a run folder under ``runs`` (an experiment of the
    paper's ``table`` through :func:`analysis.standins.run_progress`, so that shipped weights
    stand in for a lost folder of a finished run; any other folder as it is), or a
    ``pretrained:<dataset>/<name>`` spec (its model card's state,
    :func:`analysis.standins.card_status`)."""
    if is_spec(run):
        dataset, _, name = run.removeprefix(SPEC_PREFIX).partition("/")
        found = shipped_card(name, dataset)
        if found is None:
            return BudgetRun(run, run, f"no model card; {run}", False)
        status = card_status(runs / name, *found)
        return BudgetRun(run, run, status.state, status.finished)
    exps = {e.run: e for e in experiments(table)}
    status = (run_progress(runs / run, exps[run].train_args()) if run in exps
              else run_status(runs / run))
    return BudgetRun(run, status.checkpoint, status.state, status.finished)


# ---------------------------------------------------------------------------------------------
# The sweep
# ---------------------------------------------------------------------------------------------

@contextmanager
def logits_each_step(model: nn.Module) -> Iterator[list[torch.Tensor]]:
    """Record, within the block, the logits a glimpse model would give if it stopped after
    each glimpse: the action head on the state after every step of its forward pass.

    With the policy mean (``sample=False``) nothing in a step depends on the number of
    glimpses ``T`` still to come, so entry ``t - 1`` of one pass with ``T`` glimpses holds the
    logits of the same model run with ``t`` glimpses (:class:`zoo.modules.GlimpseModel`'s
    forward ends with ``action(action_state(state))``): one pass of ``max(T)`` steps replaces
    a pass per ``T``. The model's own ``update`` is restored on leaving.
    """
    record: list[torch.Tensor] = []
    update = model.update

    def recording(g: torch.Tensor, state: tuple) -> tuple:
        state = update(g, state)
        record.append(model.action(model.action_state(state)))
        return state

    model.update = recording  # an instance attribute shadows the class's method
    try:
        yield record
    finally:
        del model.update


def correct_by_glimpses(model: nn.Module, state: dict, budgets: Sequence[int],
                        images: torch.Tensor, labels: torch.Tensor, device: torch.device,
                        batch_size: int = 1000) -> np.ndarray:
    """Whether each image is classified correctly with each number of glimpses.

    One forward pass of ``max(budgets)`` glimpses per batch, the logits of every ``T`` read
    after its step (:func:`logits_each_step`); locations follow the policy mean.

    Parameters
    ----------
    model, state : torch.nn.Module, dict
        A glimpse model and its checkpoint (:func:`zoo.checkpoint.load_model`).
    budgets : sequence of int
        Glimpses to take (steps, >= 1).
    images, labels : torch.Tensor
        uint8 images (N, H, W) and int64 labels (N,) (:func:`zoo.evaluate.load_split`).
    device : torch.device
    batch_size : int, default 1000

    Returns
    -------
    numpy.ndarray of bool, shape (len(budgets), N)
    """
    steps = torch.as_tensor(list(budgets)) - 1
    out = np.zeros((len(steps), len(labels)), dtype=bool)
    with glimpses_set(model, max(budgets)), torch.inference_mode():
        for start in range(0, len(labels), batch_size):  # batches, not images
            x = prepare(images[start:start + batch_size], state, device)
            with logits_each_step(model) as record:
                model(x, sample=False)
            pred = torch.stack(record)[steps.to(device)].argmax(2).cpu()  # (budgets, batch)
            out[:, start:start + batch_size] = (pred == labels[start:start + batch_size]).numpy()
    return out


def glimpse_budget(runs: Sequence[BudgetRun], budgets: Sequence[int], limit: int | None = None,
                   device: str | torch.device = "auto", batch_size: int = 1000,
                   progress: bool = True) -> Sweep:
    """Run each run's weights with every number of glimpses of ``budgets``.

    Parameters
    ----------
    runs : sequence of BudgetRun
        The runs (:func:`budget_run`); each checkpoint is loaded once, before any is swept.
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
    Sweep

    Raises
    ------
    ValueError
        For a checkpoint without glimpses (CNN), two runs of the same model, a budget or
        ``batch_size`` below 1, or a bad ``limit`` or device; checked for every run before
        any is swept.
    zoo.checkpoint.CheckpointError, zoo.data.DatasetError
        If a checkpoint or its data cannot be read.
    """
    budgets = _check_budgets(budgets)
    if batch_size < 1:
        raise ValueError(f"batch_size: expected a positive integer, got {batch_size}")
    dev = resolve_device(device)
    loaded: dict[str, tuple] = {}
    for run in runs:
        model, state = load_model(run.checkpoint, dev)
        if not model.has_glimpses:
            raise ValueError(f"{run.checkpoint}: {state['model']!r} takes no glimpses (a CNN "
                             "sees the whole image); give recurrent glimpse models only")
        label = checkpoint_label(state)
        if label in loaded:
            raise ValueError(f"{run.checkpoint}: same model as {loaded[label][2].checkpoint} "
                             f"({label})")
        loaded[label] = (model, state, run)
    curves = []
    for label, (model, state, run) in loaded.items():
        data_dir = state.get("config", {}).get("data_dir")  # where the run's data was
        images, labels = load_split(state, "test", data_dir, limit, source=str(run.checkpoint))
        correct = correct_by_glimpses(model, state, budgets, images, labels, dev, batch_size)
        if progress:
            for glimpses, row in zip(budgets, correct, strict=True):
                print(f"[glimpse_budget] {label} T={glimpses}: {100 * row.mean():.2f} %",
                      flush=True)
        curves.append(Curve(label, model.glimpses, correct, state["dataset"],
                            str(_shown(run.checkpoint)), state.get("epoch"), run.state,
                            run.finished))
    return Sweep(budgets, curves)


def curve_table(sweep: Sweep) -> pd.DataFrame:
    """One row per (model, T) of the sweep, in the order of its curves and then ``T``; the
    columns of ``OUT.csv`` (module docstring)."""
    rows = []
    for c in sweep.curves:
        for glimpses, correct in zip(sweep.budgets, c.correct.sum(axis=1).tolist(), strict=True):
            n = c.correct.shape[1]
            low, high = wilson_ci(correct, n)
            rows.append({"model": c.label, "checkpoint": c.checkpoint,
                         "epoch": c.epoch, "dataset": c.dataset, "glimpses": glimpses,
                         "trained_glimpses": c.trained, "images": n, "correct": correct,
                         "accuracy_pct": 100.0 * correct / n, "ci_low_pct": low,
                         "ci_high_pct": high, "state": c.state,
                         "provisional": not c.finished})
    return pd.DataFrame(rows)


def _shown(checkpoint: str | Path) -> str | Path:
    """A checkpoint path relative to the repository where it lies inside; a spec as is."""
    return checkpoint if is_spec(checkpoint) else shown(Path(checkpoint))


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------

def budget_figure(table: pd.DataFrame) -> Figure:
    """Accuracy (%) against the glimpses taken at test time (steps), one panel per trained
    ``T`` (so that models trained with different ``T`` are never mixed unsaid), one line per
    model with its 95% Wilson band, a star at its trained ``T`` and a dotted line at the
    compared ``T`` (:func:`compared_glimpses`); unfinished runs are marked provisional."""
    labels = list(dict.fromkeys(table["model"].astype(str)))
    colors = group_colors(labels, model_colors(labels))
    budgets = sorted(table["glimpses"].unique())
    trained_t = sorted(table["trained_glimpses"].unique())
    fig = Figure(figsize=(4.6 * len(trained_t) + 1.8, 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(trained_t), sharey=True, squeeze=False)[0]
    for ax, t in zip(axes, trained_t, strict=True):
        panel = table[table["trained_glimpses"] == t]
        for label, rows in panel.groupby(panel["model"].astype(str), sort=False):
            rows = rows.sort_values("glimpses")
            color = colors[label]
            provisional = "provisional" in rows and bool(rows["provisional"].any())
            ax.plot(rows["glimpses"], rows["accuracy_pct"], "o-", ms=3, lw=1.2, color=color,
                    label=label + (" (provisional: run unfinished)" if provisional else ""))
            ax.fill_between(rows["glimpses"], rows["ci_low_pct"], rows["ci_high_pct"],
                            color=color, alpha=0.2, lw=0)
            trained = rows[rows["glimpses"] == rows["trained_glimpses"]]
            ax.plot(trained["glimpses"], trained["accuracy_pct"], "*", ms=13, color=color,
                    mec="black", mew=0.6, zorder=3)
        ax.plot([], [], "*", ms=11, color="lightgrey", mec="black", mew=0.6,
                label="trained T")  # legend entry only
        compared = compared_glimpses(int(t), budgets)
        if compared is not None:
            ax.axvline(compared, color="grey", ls=":", lw=1, label=f"compared T = {compared}")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set(title=f"trained with T = {t} glimpses",
               xlabel="glimpses taken at test time (steps)")
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, fontsize="small")
    axes[0].set_ylabel("test accuracy (%)")
    fig.suptitle(f"Accuracy against glimpses (first {int(table['images'].iloc[0]):,} test "
                 "images, policy mean, 95% Wilson bands)", fontsize="medium")
    return fig


def plot_glimpse_budget(table: pd.DataFrame, stem: str | Path) -> list[Path]:
    """:func:`budget_figure` written to ``stem.png`` and ``stem.svg`` (both or neither);
    returns them."""
    return save_figure(budget_figure(table), stem)


def write_outputs(out: Path, sweep: Sweep, command: str) -> list[Path]:
    """Write ``OUT.csv``, ``OUT_changes.csv``, ``OUT_claims.csv``, ``OUT.md``, ``OUT.png`` and
    ``OUT.svg`` all or nothing; return their paths."""
    table, changes, claims = curve_table(sweep), changes_table(sweep), budget_claims(sweep)
    markdown = budget_markdown(sweep, changes, claims, command)
    writers = {
        out.with_name(f"{out.name}.csv"): lambda p: table.to_csv(p, index=False),
        out.with_name(f"{out.name}_changes.csv"): lambda p: changes.to_csv(p, index=False),
        out.with_name(f"{out.name}_claims.csv"): lambda p: claims.to_csv(p, index=False),
        out.with_name(f"{out.name}.md"): lambda p: p.write_text(markdown, encoding="utf-8"),
        **figure_files(budget_figure(table), out)}
    return write_atomically(writers)


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python analysis/glimpse_budget.py",
                                description="Test accuracy against the glimpses taken, and the "
                                            "paper's claim on it.")
    p.add_argument("--runs", type=Path, required=True, help="folder of the run folders")
    p.add_argument("--run", nargs="+",
                   help="run folder names (each one's best weights are used) or shipped "
                        "weights (pretrained:fashion-mnist/ram-12); default: the Fig. 2-3 "
                        "models of --table at each glimpse count (Table 2: RAM, DRAM, MRAM "
                        "at T = 7 and 12)")
    p.add_argument("--table", type=int, default=2, choices=(1, 2, 3),
                   help="the paper's table whose runs these are (default 2, Fashion-MNIST)")
    p.add_argument("--budgets", nargs="+", type=int, default=list(DEFAULT_BUDGETS),
                   help="numbers of glimpses to take (default 1-24)")
    p.add_argument("--limit", type=int, help="first N test images (default: all)")
    p.add_argument("--out", type=Path, help="output stem (default analysis/results/"
                   "glimpse_budget_<dataset of the first run>)")
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N")
    return p


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 with one line on bad input)."""
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    try:
        if args.limit is not None and args.limit < 1:
            raise ValueError(f"--limit: expected a positive integer, got {args.limit}")
        _check_budgets(args.budgets)
        runs = [budget_run(args.runs, run, args.table)
                for run in (args.run or default_runs(args.table))]
        sweep = glimpse_budget(runs, args.budgets, args.limit, args.device)
        dataset = sweep.curves[0].dataset.replace("-", "_")
        out = args.out or RESULTS_DIR / f"glimpse_budget_{dataset}"
        paths = write_outputs(out, sweep, shlex.join(["python", "analysis/glimpse_budget.py",
                                                       *argv]))
    except (ValueError, OSError, CheckpointError, DatasetError) as exc:
        print(f"glimpse_budget: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    print("wrote " + ", ".join(map(str, paths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
