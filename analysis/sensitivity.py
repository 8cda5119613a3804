"""Sensitivity of the paper's gaze claims to the knobs it leaves open (issue 14, part B).

::

    python analysis/sensitivity.py --runs runs/fashion-mnist-sensitivity [--queues 2]
        [--models ram mram dram] [--precision fp32|bf16]

The knob grid: RAM-7 and MRAM-7 (DRAM-7 last, where the budget allows), one knob changed at a
time from our defaults (:data:`SETTINGS`: policy std 0.05 and 0.2, a uniformly random first
location, REINFORCE detached from the core, LR x0.1 after 20 epochs), every run, the default
setting included, under one fixed reduced protocol (:func:`reduced_protocol`: at most
:data:`REDUCED_EPOCHS` epochs, the full protocol's early stopping, the training precision).
Its rows are never compared with full-protocol rows: the grid has its own default runs, in
their own runs folder, and every output says REDUCED PROTOCOL.

Precision: ``fp32`` (default) trains every run of the grid in float32; ``bf16`` trains them
with ``zoo train --precision bf16`` (bfloat16 autocast, float32 master weights, 1.3-1.95x
faster on a CPU with AMX, ``benchmarks/README.md``). Issue 16 allows ``bf16`` for this
reduced grid once ``analysis/results/precision_parity.md`` shows parity with float32, which it
does for RAM-7 (the full-protocol tables stay float32); nothing here reads that verdict.
Either way the exports are evaluated in float32 (the policy mean), as in the parity
comparison. A grid is trained in one precision: a bf16 grid has its own run folders
(suffix ``-bf16``; ``zoo train --resume`` refuses a precision change) and its own result
files (stem suffix ``_bf16``), so it never resumes, reuses or overwrites the float32 grid's.

One command, any time: it prints the ``analysis/train_queue.sh`` commands of the runs that
have not finished, exports the test-set scanpaths (policy mean) of every run with a ``best.pt``
and writes to ``RESULTS`` (default ``analysis/results``), stem ``sensitivity_fashion_mnist``
(``sensitivity_fashion_mnist_bf16`` for a bf16 grid):

``<stem>.csv``
    One row per model and setting: the run's state (``finished`` / ``epoch N (partial)``),
    its epochs (``epochs_run``), how many first epochs it trained exactly as the default run
    of its model (``epochs_as_default``, :func:`analysis.knob_effects.epochs_as_default`),
    ``knob_never_acted`` (a finished run that did so in all its epochs: its effects are 0 by
    construction), the epoch of the weights exported
    (``weights_epoch``), test accuracy (%, Wilson 95 %
    interval), fixational share, mean fixation (glimpse steps) and mean saccade (px) with
    cluster-bootstrap intervals over test images, the verdict of each of the paper's gaze
    claims (:mod:`analysis.claims`) at that setting, and the knob's effect: the paired
    difference from the default setting of the same model (``d_accuracy_pp``,
    ``d_fixational_share``, ``d_fixation_steps``, ``d_saccade_px``, each with
    ``_ci_low``/``_ci_high``), beside the full-protocol seed sd of that statistic
    (``<effect>_seed_sd``, from the seed table of :mod:`analysis.seeds`; ``seed_sd_source``
    says how many seeds), the seed band ``<effect>_seed_band`` (the 95 % range of the
    difference between two runs that differ only in seed,
    :func:`analysis.knob_effects.seed_band`) and ``<effect>_within_seed_noise``
    (|effect| <= seed band). Beside the gaze statistics and verdicts, the same without each
    scanpath's first glimpse (``fixational_share_after_first``,
    ``fixation_steps_mean_after_first``, ``saccade_px_mean_after_first``, each with
    ``_ci_low``/``_ci_high``, and ``verdict_<claim>_after_first``; see below).
``<stem>_claims.csv``
    The claims per setting with criterion and measurement. A setting's claims use that
    setting's RAM-7, MRAM-7 and DRAM-7; where the grid has no DRAM-7 run of the setting, the
    default-setting DRAM-7 of the grid (reduced protocol too), as ``dram_run`` says.
    ``provisional`` names the claim's runs that have not finished and the epoch of their
    weights ("" when every one has finished).
``<stem>_claims_after_first.csv``
    The same claims on the scanpaths without their first glimpse (``step`` > 0), as Table 1's
    ``claims_after_first`` (:mod:`analysis.reproduce`). The ``first-random`` knob draws the
    first location uniformly at random, so the first move (1 of the 6 moves at T = 7) is
    almost always a saccade whose length is chance, not the policy: its statistics and
    verdicts shift by construction. Without the first glimpse, the statistics and verdicts
    compare the learned policies only.
``<stem>.png`` / ``.svg``
    Knob setting against accuracy and the three gaze statistics, one series per model; below,
    each knob's effect with its interval over the model's seed band (± the 95 % range of the
    difference between two full-protocol runs that differ only in seed).
``<stem>.md``
    The table in words.

Run folders: ``RUNS/<model>-7-<setting>`` (e.g. ``ram-7-std0.05``; ``ram-7-std0.05-bf16`` in a
bf16 grid); DRAM runs use :data:`analysis.experiments.DRAM_REMEDY_ARGS`.

>>> sensitivity_runs(("ram",), precision="bf16")[1].run
'ram-7-std0.05-bf16'
"""

from __future__ import annotations

import argparse
import shlex
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy.stats import binomtest

from analysis.claims import CLAIMS, N_RESAMPLES, STATISTICS, criteria, measure_claims
from analysis.experiments import Experiment, experiments
from analysis.gaze_runs import (
    GazeRun,
    accuracy,
    export_run,
    gaze_statistics,
    queue_commands,
    read_runs,
    run_state,
    segment_runs,
)
from analysis.knob_effects import (
    EFFECTS,
    SEED_TABLE,
    beside_seed_sd,
    epochs_as_default,
    knob_effects,
    seed_spread,
)
from analysis.pinning import recorded_epoch
from analysis.settings import RESULTS_DIR, write_csv, write_csv_or_remove
from analysis.standins import run_progress
from gazekit.atomic import atomic_file
from gazekit.plot import save_figure
from gazekit.report import markdown_table
from zoo.checkpoint import CheckpointError
from zoo.data import DatasetError
from zoo.plot import model_colors
from zoo.precision import PRECISIONS, check_precision

__all__ = ["REDUCED_EPOCHS", "SETTINGS", "Knob", "main", "reduced_protocol", "results_stem",
           "sensitivity_runs", "sensitivity_tables"]

#: The grid's fixed budget: at most this many epochs (the full protocol: 300).
REDUCED_EPOCHS = 100
REDUCED_ARGS = ("--epochs", str(REDUCED_EPOCHS))
#: How the grid's runs are trained and evaluated, per ``zoo train --precision``.
PRECISION_PROTOCOL = {
    "fp32": "trained and evaluated in float32",
    "bf16": "trained in bf16 mixed precision (autocast, float32 master weights; parity: "
            "analysis/results/precision_parity.md), evaluated in float32",
}
RESULTS_STEM = "sensitivity_fashion_mnist"
GLIMPSES = 7
GRID_MODELS = ("ram", "mram", "dram")  # DRAM-7 last: optional, where the budget allows
#: Suffix of the statistics and verdicts without each scanpath's first glimpse.
AFTER_FIRST = "_after_first"
#: Why they are there, in the Markdown and the figure.
AFTER_FIRST_NOTE = (
    "The first-random knob draws the first location uniformly at random, so the first move "
    f"(1 of the {GLIMPSES - 1} moves at T = {GLIMPSES}) is almost always a saccade whose length "
    "is chance, not the policy: its gaze statistics, their effects and its verdicts shift by "
    "construction. Those without each scanpath's first glimpse (after first) compare the "
    "learned policies only")


@dataclass(frozen=True)
class Knob:
    """One setting of the grid: its name (in run folders), what it changes, its arguments."""

    name: str
    description: str
    args: tuple[str, ...]


#: One knob at a time from our defaults (zoo train options; see zoo.modules and zoo.train).
SETTINGS = (
    Knob("default", "our defaults: std 0.1, learned first location, REINFORCE reaches the "
         "core, LR x0.5 after 10 epochs", ()),
    Knob("std0.05", "policy std 0.05", ("--std", "0.05")),
    Knob("std0.2", "policy std 0.2", ("--std", "0.2")),
    Knob("first-random", "first location uniform random", ("--first-location", "random")),
    Knob("detach", "REINFORCE detached from the core", ("--reinforce-detach-core",)),
    Knob("lr0.1-p20", "LR x0.1 after 20 epochs without improvement",
         ("--lr-factor", "0.1", "--lr-patience", "20")),
)
_KNOBS = {k.name: k for k in SETTINGS}


def reduced_protocol(precision: str = "fp32") -> str:
    """The grid's protocol at ``precision`` (``"fp32"`` or ``"bf16"``), stated in every output
    of it (first line printed, ``protocol`` column, Markdown, figure title)."""
    return (f"REDUCED PROTOCOL (knob grid): at most {REDUCED_EPOCHS} epochs instead of 300, "
            "early stopping after 50 epochs without a better validation accuracy (as the full "
            f"protocol), seed 1, Fashion-MNIST, T = {GLIMPSES} glimpses, "
            f"{PRECISION_PROTOCOL[check_precision(precision)]}; not comparable with "
            "full-protocol results")


def _suffix(precision: str) -> str:
    """What a non-float32 grid appends to its run folders and result files."""
    return "" if check_precision(precision) == "fp32" else f"-{precision}"


def results_stem(precision: str = "fp32") -> str:
    """The grid's result files' stem: ``sensitivity_fashion_mnist[_bf16]``."""
    return RESULTS_STEM + _suffix(precision).replace("-", "_")


def _experiments(models: tuple[str, ...]) -> list[Experiment]:
    exps = {e.model: e for e in experiments(2) if e.main and e.glimpses == GLIMPSES}
    return [exps[m] for m in GRID_MODELS if m in models]


def sensitivity_runs(models: tuple[str, ...] = GRID_MODELS,
                     precision: str = "fp32") -> list[GazeRun]:
    """The grid's runs in queue order: RAM-7 and MRAM-7 setting by setting (defaults first),
    then DRAM-7's default, then DRAM-7's other settings; at ``precision`` (``"bf16"``: every
    run with ``--precision bf16`` and its folder suffixed ``-bf16``)."""
    exps = _experiments(models)
    main = [e for e in exps if e.model != "dram"]
    order = [(e, k) for k in SETTINGS for e in main] + [(e, k) for e in exps
                                                        if e.model == "dram" for k in SETTINGS]
    suffix = _suffix(precision)
    extra = ("--precision", precision) if suffix else ()
    return [GazeRun(f"{e.run}-{k.name}{suffix}", f"{e.label} {k.name}",
                    (*e.train_args(), *REDUCED_ARGS, *extra, *k.args)) for e, k in order]


def _split(group: str) -> tuple[str, str]:
    label, _, setting = group.partition(" ")
    return label, setting


def sensitivity_tables(runs: Path, work: Path, *, models: tuple[str, ...] = GRID_MODELS,
                       precision: str = "fp32", limit: int | None = None, device: str = "cpu",
                       n_resamples: int = N_RESAMPLES,
                       seed_table: Path | None = None) -> dict[str, pd.DataFrame]:
    """Export the grid's runs (at ``precision``) that have weights; return ``{"table",
    "claims", "claims_after_first"}``, each with the ``protocol`` column
    :func:`reduced_protocol`; ``claims_after_first`` and the table's ``*_after_first``
    columns are measured without each scanpath's first glimpse (``step`` > 0).

    The table has, per run, its epochs so far (``epochs_run``), how many first epochs it
    trained exactly as its default run (``epochs_as_default``,
    :func:`analysis.knob_effects.epochs_as_default`), ``knob_never_acted`` (a finished run
    that did so in all its epochs), the epoch of the weights exported (``weights_epoch``), the knob
    effects (:func:`analysis.knob_effects.knob_effects`) and beside them the full-protocol
    seed sd of the seed table ``seed_table`` (:func:`analysis.knob_effects.seed_spread`; none
    if None or missing), the seed band and the flag ``<effect>_within_seed_noise``. The
    claims have
    ``provisional``: the runs they use that have not finished, with their state and the epoch
    of their weights ("" when all finished).
    """
    todo = sensitivity_runs(models, precision)
    protocol = reduced_protocol(precision)
    exports = {}
    for run in todo:
        path = export_run(runs, work, run.run, args=run.args, limit=limit, device=device)
        if path is not None:
            exports[run.group] = path
    default_run = {_split(r.group)[0]: r.run for r in todo if _split(r.group)[1] == "default"}
    rows = []
    for run in todo:
        label, setting = _split(run.group)
        progress = run_progress(runs / run.run, run.args)
        rows.append({"model": label, "setting": setting,
                     "knob": _KNOBS[setting].description, "run": run.run,
                     "state": run_state(progress), "epochs_run": progress.epochs_run,
                     "epochs_as_default": None if setting == "default" else
                     epochs_as_default(runs / run.run, runs / default_run[label]),
                     "weights_epoch": recorded_epoch(exports[run.group])
                     if run.group in exports else None, "group": run.group})
    table = pd.DataFrame(rows).astype({"weights_epoch": "Int64", "epochs_run": "Int64",
                                       "epochs_as_default": "Int64"})
    table["knob_never_acted"] = (table["state"].str.startswith("finished")
                                 & (table["epochs_as_default"] >= table["epochs_run"])
                                 ).fillna(False).astype(bool)
    claims = claims_after = pd.DataFrame()
    if exports:
        acc = accuracy(exports)
        low, high = zip(*(binomtest(r.correct, r.images).proportion_ci(method="wilson")
                          for r in acc.itertuples()), strict=True)
        acc = acc.assign(accuracy_ci_low=100 * np.array(low), accuracy_ci_high=100 * np.array(high))
        table = table.merge(acc.drop(columns="correct"), on="group", how="left")
        scanpaths = read_runs(exports)
        seg = segment_runs(scanpaths)
        # As Table 1's claims_after_first (analysis.reproduce): a random first location makes
        # the first move a saccade of chance length, which says nothing about the policy.
        after = segment_runs(scanpaths[scanpaths["step"] > 0])
        table = table.merge(gaze_statistics(seg, exports, n_resamples=n_resamples), on="group",
                            how="left")
        names = {f"{s}{end}": f"{s}{AFTER_FIRST}{end}" for s in STATISTICS
                 for end in ("", "_ci_low", "_ci_high")}
        table = table.merge(gaze_statistics(after, exports, n_resamples=n_resamples).rename(
            columns=names), on="group", how="left")
        defaults = {g: f"{_split(g)[0]} default" for g in exports
                    if _split(g)[1] != "default"}
        effects = knob_effects(seg, exports, defaults, n_resamples=n_resamples)
        if len(effects):
            table = table.merge(effects, on="group", how="left")
        open_runs = _open_runs(table)
        claims = _claims(seg, exports, n_resamples, protocol, open_runs)
        claims_after = _claims(after, exports, n_resamples, protocol, open_runs)
        for found, suffix in ((claims, ""), (claims_after, AFTER_FIRST)):
            if len(found):  # none where only DRAM-7 runs have weights
                verdicts = found.pivot(index="setting", columns="key", values="verdict")
                table = table.merge(verdicts.add_prefix("verdict_").add_suffix(suffix),
                                    left_on="setting", right_index=True, how="left")
    spread = seed_spread(seed_table) if seed_table is not None else pd.DataFrame()
    table = beside_seed_sd(table, spread)
    return {"table": table.drop(columns="group").assign(protocol=protocol), "claims": claims,
            "claims_after_first": claims_after}


def _open_runs(table: pd.DataFrame) -> dict[str, str]:
    """Group -> "<group> (<run>): <state>, weights of epoch N" for each unfinished run."""
    rows = table[~table["state"].str.startswith("finished")]
    return {r.group: f"{r.group} ({r.run}): {r.state}, weights of epoch {r.weights_epoch}"
            for r in rows.itertuples()}


def _claims(seg, exports: dict, n_resamples: int, protocol: str,
            open_runs: dict[str, str]) -> pd.DataFrame:
    """The claims at each setting with a RAM-7 or MRAM-7 run (DRAM-7: see the docstring);
    ``provisional`` names the runs of a claim's roles that are in ``open_runs`` (unfinished)."""
    parts = []
    for knob in SETTINGS:
        labels = {e: f"{e.upper()}-{GLIMPSES} {knob.name}" for e in ("ram", "mram", "dram")}
        if not any(labels[r] in exports for r in ("ram", "mram")):
            continue
        if labels["dram"] not in exports:
            labels["dram"] = f"DRAM-{GLIMPSES} default"
        claims = measure_claims(seg.fixations, seg.saccades, labels, n_resamples=n_resamples)
        roles = {claim.key: claim.roles for claim in CLAIMS}
        provisional = ["; ".join(open_runs[labels[r]] for r in roles[key]
                                 if labels[r] in exports and labels[r] in open_runs)
                       for key in claims["key"]]
        parts.append(claims.assign(
            setting=knob.name, knob=knob.description,
            dram_run=labels["dram"] if labels["dram"] in exports else "none",
            provisional=provisional, protocol=protocol))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


PANELS = (("accuracy_pct", "(a) test accuracy", "accuracy (%)", "accuracy_ci"),
          ("fixational_share", "(b) fixational share", "fixational share", None),
          ("fixation_steps_mean", "(c) fixation duration", "mean fixation (glimpse steps)", None),
          ("saccade_px_mean", "(d) saccade distance", "mean saccade (px)", None))


def _series(ax, table: pd.DataFrame, column: str, prefix: str, names: list[str],
            colors: dict) -> None:
    """One series per model of ``column`` against the settings ``names``, with the interval
    ``<prefix>_low``/``_high`` (filled marker: finished run, hollow: partial, x: a run that
    trained as its default run in every epoch, the knob never acted)."""
    models = list(dict.fromkeys(table["model"]))
    width = 0.6 / max(len(models), 1)
    for i, model in enumerate(models):
        rows = table[(table["model"] == model) & table[column].notna()
                     & table["setting"].isin(names)] if column in table else table.iloc[:0]
        if rows.empty:
            continue
        x = np.array([names.index(v) for v in rows["setting"]], dtype=float) \
            + (i - (len(models) - 1) / 2) * width
        y = rows[column].to_numpy(float)
        err = np.abs(rows[[f"{prefix}_low", f"{prefix}_high"]].to_numpy(float).T - y)
        done = rows["state"].str.startswith("finished").to_numpy()
        inert = rows["knob_never_acted"].to_numpy(bool)
        color = colors.get(model)
        ax.errorbar(x, y, yerr=err, fmt="none", ecolor=color, capsize=3, label=model)
        ax.plot(x[done & ~inert], y[done & ~inert], "o", color=color)
        ax.plot(x[~done & ~inert], y[~done & ~inert], "o", color=color, mfc="white")
        ax.plot(x[inert], y[inert], "x", color=color, markersize=8)
    ax.set_xticks(range(len(names)), names, rotation=35, ha="right")


def _seed_bands(ax, table: pd.DataFrame, column: str, colors: dict) -> None:
    """The seed band (:func:`analysis.knob_effects.seed_band`) around 0 per model that has a
    knob effect to set against it, where the seed table has the band."""
    ax.axhline(0.0, color="0.5", linewidth=0.8)
    band = f"{column}_seed_band"
    for model, rows in table.groupby("model", sort=False):
        if column not in rows or rows[column].isna().all():
            continue  # no knob run of this model: a band would only squeeze the others
        value = rows[band].dropna() if band in rows else rows.iloc[:0]
        if len(value):
            ax.axhspan(-value.iloc[0], value.iloc[0], color=colors.get(model), alpha=0.12,
                       linewidth=0)


def plot_sensitivity(table: pd.DataFrame, path_stem: Path, precision: str = "fp32"
                     ) -> list[Path]:
    """Top row: setting against accuracy and the three gaze statistics, one series per model,
    with the intervals of the table (filled: finished run, hollow: partial, x: the knob never
    acted). Bottom row: each
    setting's paired difference from the default (:mod:`analysis.knob_effects`) with its
    interval, over the model's seed band (:func:`analysis.knob_effects.seed_band`). Titled
    with :func:`reduced_protocol` at ``precision`` and :data:`AFTER_FIRST_NOTE` (the figure
    shows the statistics with the first glimpse)."""
    fig = Figure(figsize=(13, 8), layout="constrained")
    axes = fig.subplots(2, 4)
    names = [k.name for k in SETTINGS]
    colors = model_colors(list(dict.fromkeys(table["model"])))
    for top, bottom, (column, title, ylabel, interval) in zip(*axes, PANELS, strict=True):
        _series(top, table, column, interval or f"{column}_ci", names, colors)
        top.set_title(title)
        top.set_ylabel(ylabel)
        effect, unit = EFFECTS[column]
        _seed_bands(bottom, table, effect, colors)
        _series(bottom, table, effect, f"{effect}_ci", names[1:], colors)
        bottom.set_title(f"{title[:4]}effect vs default")
        bottom.set_ylabel(f"setting - default{f' ({unit})' if unit else ''}")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if handles:  # below the panels, where it hides no point
        sources = table.drop_duplicates("model")
        fig.legend(handles, labels, loc="outside lower center", ncols=len(handles),
                   fontsize="small", title_fontsize="small", title=textwrap.fill(
                       "filled: finished run, hollow: partial, x: the knob never acted (the "
                       "run trained as the default run in every epoch). Bottom row, shaded: "
                       "95 % range of two seeds' difference (" + "; ".join(
                           f"{r.model}: {r.seed_sd_source}" for r in sources.itertuples())
                       + ")", 160))
    fig.suptitle(f"Open knobs, one at a time, T = {GLIMPSES} (all models). Bottom: paired "
                 "difference from the default setting (95 % interval over test images: "
                 "test-set noise only) against the range a change of seed alone gives "
                 "(full protocol).\n"
                 + textwrap.fill(reduced_protocol(precision), 140) + "\n"
                 + textwrap.fill(f"{AFTER_FIRST_NOTE}: in the table (*{AFTER_FIRST}), not "
                                 "in this figure.", 140), fontsize="small")
    return save_figure(fig, path_stem)


def _markdown(tables: dict[str, pd.DataFrame], runs: Path, precision: str,
              n_resamples: int = N_RESAMPLES) -> str:
    table = tables["table"]
    protocol = reduced_protocol(precision)
    lines = ["# Sensitivity of the gaze claims to the open knobs", "",
             f"**{protocol}.**", "",
             f"Runs in `{runs}`, one knob changed at a time from our defaults. Accuracy on the "
             "test split (policy mean) with a Wilson 95 % interval; gaze statistics "
             "(consecutive rule, 6 px) with cluster-bootstrap intervals over test images. "
             "Partial rows are runs still training or interrupted (their best weights so far).",
             "", f"Verdicts: {criteria(n_resamples)}", ""]
    view = table.copy()
    gaze = (("fixational_share", 3), ("fixation_steps_mean", 2), ("saccade_px_mean", 2))
    for column, digits in (("accuracy_pct", 2), *gaze,
                           *((f"{c}{AFTER_FIRST}", d) for c, d in gaze)):
        if column not in view:
            continue
        low, high = (("accuracy_ci_low", "accuracy_ci_high") if column == "accuracy_pct"
                     else (f"{column}_ci_low", f"{column}_ci_high"))
        view[column] = [f"{v:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"
                        if np.isfinite(v) else "-"
                        for v, lo, hi in zip(view[column], view[low], view[high], strict=True)]
    columns = ["model", "setting", "knob", "state",
               *[c for c in ("accuracy_pct", "fixational_share", "fixation_steps_mean",
                             "saccade_px_mean") if c in view],
               *[f"verdict_{c.key}" for c in CLAIMS if f"verdict_{c.key}" in view]]
    lines += [markdown_table(view[columns]), "", *_effects_markdown(table),
              *_claims_markdown(tables["claims"], "Claims per setting")]
    after = [f"{c}{AFTER_FIRST}" for c, _ in gaze if f"{c}{AFTER_FIRST}" in view]
    if after:
        lines += [f"**After the first glimpse.** {AFTER_FIRST_NOTE}. The same statistics and "
                  f"verdicts on the scanpaths without their first glimpse ({GLIMPSES - 1} "
                  "glimpses, as Table 1's claims after the first glimpse):", "",
                  markdown_table(view[["model", "setting", "state", *after, *[
                      f"verdict_{c.key}{AFTER_FIRST}" for c in CLAIMS
                      if f"verdict_{c.key}{AFTER_FIRST}" in view]]]), "",
                  *_claims_markdown(tables["claims_after_first"],
                                    "Claims per setting after the first glimpse")]
    lines += [f"*{protocol}.*"]
    return "\n".join(lines)


def _claims_markdown(claims: pd.DataFrame, title: str) -> list[str]:
    """The claims of each setting under ``title``, as a table; none without claims."""
    if not len(claims):
        return []
    return [f"{title} (DRAM-7 of the setting where the grid has it, else the grid's default "
            "DRAM-7; `dram_run` none: no DRAM-7 in the grid yet; `provisional`: the claim's "
            "runs that have not finished, with the epoch of the weights used):", "",
            markdown_table(claims[["setting", "claim", "measured", "verdict", "dram_run",
                                   "provisional"]]), ""]


def _effect_text(value: float, low: float, high: float, sd: float, band: float, within,
                 digits: int) -> str:
    """``+d [low, high]; seed sd s, band ±b (within|beyond)`` of one effect, ``-`` without
    one."""
    if not np.isfinite(value):
        return "-"
    text = f"{value:+.{digits}f} [{low:+.{digits}f}, {high:+.{digits}f}]"
    if not np.isfinite(band):
        return text + "; no seed band"
    return text + (f"; seed sd {sd:.{digits}f}, band ±{band:.{digits}f} "
                   f"({'within' if within else 'beyond'})")


def _as_default_text(same, epochs, never_acted: bool) -> str:
    """``k of N epochs`` trained as the default run, with the consequence when ``k = N``."""
    if pd.isna(same) or pd.isna(epochs):
        return "-"
    if never_acted:
        return (f"all {epochs} epoch{'' if epochs == 1 else 's'}: the knob never acted, "
                "effects 0 by construction")
    if same >= epochs:
        return f"all {epochs} epochs so far: the knob has not acted yet"
    return f"{same} of {epochs} epochs"


def _effects_markdown(table: pd.DataFrame) -> list[str]:
    """The knob effects beside the full-protocol seed sd, in words and a table."""
    if EFFECTS["accuracy_pct"][0] not in table:
        return []
    rows = table[table["setting"] != "default"].dropna(subset=[EFFECTS["accuracy_pct"][0]])
    view = rows[["model", "setting", "state", "seed_sd_source"]].copy()
    view["as default"] = [_as_default_text(same, epochs, never)
                          for same, epochs, never in zip(rows["epochs_as_default"],
                                                         rows["epochs_run"],
                                                         rows["knob_never_acted"], strict=True)]
    for (column, unit), digits in zip(EFFECTS.values(), (2, 3, 2, 2), strict=True):
        view[f"{column} ({unit or 'share'})"] = [
            _effect_text(r[column], r[f"{column}_ci_low"], r[f"{column}_ci_high"],
                         r[f"{column}_seed_sd"], r[f"{column}_seed_band"],
                         r[f"{column}_within_seed_noise"], digits)
            for _, r in rows.iterrows()]
    return ["**Knob effects against seed-to-seed variation.** Each setting minus the default "
            "setting of the same model on the same test images (reduced protocol, seed 1), "
            "with a 95 % paired bootstrap interval over test images: that interval is "
            "test-set noise only. Beside it, the sd of the statistic over training seeds of "
            "the full protocol (`seed_sd_source`: the seed table of analysis/seeds.py, "
            "full protocol, not the reduced one), and the seed band t(0.975, n - 1) x "
            "sqrt(2) x seed sd over n seeds: the 95 % range of the difference between two "
            "runs that differ only in their seed. 'within' when |effect| <= band: a change "
            "of seed alone would give such an effect; 'beyond' when the knob's effect is "
            "larger than that. `as default`: how many first epochs the run trained exactly "
            "as its default run (same seed; every logged loss, accuracy, LR and health value "
            "equal); a run that did so in all its epochs is the default run, and its effects "
            "are 0 by construction: the knob never acted within the reduced protocol, and "
            "the grid says nothing about it.", "",
            markdown_table(view), ""]


def write_results(tables: dict[str, pd.DataFrame], results: Path, runs: Path,
                  precision: str = "fp32", n_resamples: int = N_RESAMPLES) -> list[Path]:
    """Write the table, the claims (with and without the first glimpse), the figure and the
    Markdown (verdict criteria at ``n_resamples`` bootstrap resamples) of the grid at
    ``precision`` (stem :func:`results_stem`); return the files. Without claims, older claims
    files are removed."""
    stem = results_stem(precision)
    results.mkdir(parents=True, exist_ok=True)
    written = [write_csv(tables["table"], results / f"{stem}.csv")]
    # No claims now (only DRAM-7 has weights): remove an older claims file, not keep it.
    for name in ("claims", "claims_after_first"):
        claims = write_csv_or_remove(tables[name], results / f"{stem}_{name}.csv")
        written += [claims] if claims else []
    written += plot_sensitivity(tables["table"], results / stem, precision)
    md = results / f"{stem}.md"
    with atomic_file(md) as tmp:
        tmp.write_text(_markdown(tables, runs, precision, n_resamples) + "\n",
                       encoding="utf-8")
    return [*written, md]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 with one line on bad input)."""
    p = argparse.ArgumentParser(prog="python analysis/sensitivity.py",
                                description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=Path, default=Path("runs/fashion-mnist-sensitivity"),
                   help="folder of the grid's run folders (default "
                        "runs/fashion-mnist-sensitivity)")
    p.add_argument("--work", type=Path, help="exports folder (default RUNS/_sensitivity)")
    p.add_argument("--results", type=Path, default=RESULTS_DIR,
                   help="output folder (default analysis/results)")
    p.add_argument("--models", nargs="+", choices=GRID_MODELS, default=list(GRID_MODELS),
                   help="models of the grid (default ram mram dram; DRAM-7 is queued last)")
    p.add_argument("--queues", type=int, default=2, help="queues side by side (default 2)")
    p.add_argument("--limit", type=int, help="export only the first N test images")
    p.add_argument("--precision", choices=list(PRECISIONS), default="fp32",
                   help="training precision of the grid's runs (default fp32; bf16 only once "
                        "analysis/results/precision_parity.md says parity): own run folders "
                        "(-bf16) and result files (_bf16)")
    p.add_argument("--device", default="cpu", help="device of the exports (default cpu)")
    p.add_argument("--n-resamples", type=int, default=N_RESAMPLES,
                   help=f"bootstrap resamples (default {N_RESAMPLES})")
    p.add_argument("--seed-table", type=Path,
                   help=f"seed table of analysis/seeds.py whose full-protocol seed sd goes "
                        f"beside the knob effects (default RESULTS/{SEED_TABLE}; none if "
                        "missing)")
    args = p.parse_args(argv)
    models = tuple(args.models)
    try:
        print(reduced_protocol(args.precision))
        commands, skipped = queue_commands(args.runs, sensitivity_runs(models, args.precision),
                                           args.queues)
        for line in skipped:
            print(f"[sensitivity] not queued: {line}")
        print("\n".join(map(shlex.join, commands)) or "[sensitivity] nothing to queue")
        tables = sensitivity_tables(args.runs, args.work or args.runs / "_sensitivity",
                                    models=models, precision=args.precision,
                                    limit=args.limit, device=args.device,
                                    n_resamples=args.n_resamples,
                                    seed_table=args.seed_table or args.results / SEED_TABLE)
        table = tables["table"]
        if "accuracy_pct" not in table or table["accuracy_pct"].isna().all():
            print(f"[sensitivity] no run in {args.runs} has weights yet; nothing written")
            return 0
        for path in write_results(tables, args.results, args.runs, args.precision,
                                  args.n_resamples):
            print(path)
    except (CheckpointError, DatasetError, OSError, ValueError) as exc:
        print(f"sensitivity: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
