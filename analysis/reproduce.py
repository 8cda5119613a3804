"""Reproduce one of the paper's tables end to end: train, evaluate, export, analyse.

::

    python analysis/reproduce.py --table 2 --runs /work/runs/fashion-mnist [--stage all]
        [--limit N] [--launch]

Stages (``--stage``, default ``all``; each can be re-run at any time and skips work whose
output is newer than its input, so the whole pipeline is resumable):

``train``
    Print the ``analysis/train_queue.sh`` commands that train every run of the table that has
    not finished (``--queues`` queues side by side, the Fig. 2-3 models first; runs that are
    still being written are left out); ``--launch`` starts them in the background. Training
    itself resumes from ``last.pt``.
``evaluate``
    :func:`zoo.evaluate.evaluate` on each run's ``best.pt`` (whatever epoch it has reached):
    test accuracy, parameters, ms/image at batch 1, throughput. JSON in ``WORK/eval/``.
``export``
    :func:`zoo.export.export_scanpaths` of each run's test-set glimpses to ``WORK/exports/``,
    twice: with the location policy's mean, and with locations sampled from it (seeded; the
    paper does not say which its figures show); the CNN's gradient-saliency scanpath once.
    ``--limit N`` exports only the first N test images.
``analyze``
    :func:`gazekit.analyze` on each policy's exports (fixation threshold 6 px, consecutive
    rule: the paper's Fig. 3), the paper's qualitative claims measured for both policies
    (:func:`measure_claims`), and the figures: glimpses of MRAM, DRAM and RAM (Fig. 2;
    Fig. 4-style on FER data; policy mean) and the densities (Fig. 3; one per policy); how
    the verdicts move with the threshold (1-12 px) and without each scanpath's first glimpse
    (:func:`first_glimpses`); the human-likeness claim against real recordings
    (:func:`human_claim`); and the paper's accuracy claim (MRAM beats CNN, RAM and DRAM)
    tested on paired test-set predictions (:func:`accuracy_claims`).

Every stage but ``train`` ends by writing ``RESULTS/<stem>.csv`` and ``.md`` (stem e.g.
``table2_fashion_mnist``): our parameters, ms/image and accuracy next to the paper's, with
epochs run, the early-stopping state, wall time and hardware of each run, whatever state the
runs are in. ``WORK`` defaults to ``RUNS/_reproduce`` and ``RESULTS`` to ``analysis/results``.

Timing caveat: the paper's ms/image is from an RTX 3070; ours is measured on the device given
(CPU by default here), usually while training jobs share the machine; the load average at
evaluation time is recorded next to each figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from analysis.claims import (
    THRESHOLD_PX,
    accuracy_claims,
    claims_by_glimpses,
    claims_markdown,
    human_shape_claim,
)
from analysis.experiments import (
    CLASS_NAMES,
    Experiment,
    experiments,
    figure_roles,
    is_synthetic_fer,
    paper_table,
    read_metrics,
    roles_by_glimpses,
    run_status,
    training_order,
    write_synthetic_fer2013,
)
from analysis.queues import queue_commands
from gazekit.analyze import analyze
from gazekit.atomic import atomic_file
from gazekit.geometry import STUDYFORREST, TOBII_TX300
from gazekit.human import FORMATS
from gazekit.io import read_scanpaths
from gazekit.plot import group_colors, plot_densities, plot_threshold_sweep, save_figure
from gazekit.report import markdown_table
from gazekit.segment import segment
from gazekit.sweep import threshold_sweep
from zoo import data as zdata
from zoo.evaluate import evaluate
from zoo.export import export_scanpaths
from zoo.machine import cpu_name
from zoo.plot import model_colors, plot_exports

__all__ = ["STAGES", "Settings", "first_glimpses", "main", "plot_training", "results_table",
           "run", "write_csv"]

STAGES = ("train", "evaluate", "export", "analyze")
REPO = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO / "analysis" / "results"
#: Thresholds (px) of the sensitivity analysis: 1 px up to one and a half 8 px glimpses.
SWEEP_THRESHOLDS_PX = (1, 2, 3, 4, 5, 6, 7, 8, 10, 12)
#: (glimpse figure, density figure) file suffixes per table, named after the paper's figures.
FIGURE_NAMES = {1: ("glimpses", "densities"), 2: ("fig2_glimpses", "fig3_densities"),
                3: ("fig4_glimpses", "densities")}
DATASET_NOTES = {
    "mnist-t10k": "REDUCED: seeded 8,000/2,000 split of MNIST's 10,000 test images; not "
                  "comparable with the paper's MNIST numbers",
    "synthetic": "synthetic Gabor patches (tests and demos only)",
}
SYNTHETIC_FER_NOTE = "SYNTHETIC CSV in FER2013's format (cartoon faces), NOT FER2013"
#: The paper does not say whether its gaze figures use the location policy's mean or locations
#: sampled from it, so both are exported and analysed; "mean" gives the main figures.
POLICIES = ("mean", "sampled")
POLICY_SUFFIX = {"mean": "", "sampled": "-sampled"}
SAMPLING_SEED = 0  # seed of the sampled exports (zoo.export.export_scanpaths)
#: Human recordings of the human-likeness claim by default: the studyforrest excerpt shipped
#: with the tests (REMoDNaV events of movie viewing; tests/data/human/README.md).
HUMAN_DEFAULT = REPO / "tests" / "data" / "human" / "studyforrest-events"
HUMAN_LABEL = "human"
#: Screens of the example recordings shipped per human format (degrees depend on them).
HUMAN_GEOMETRY = {"bids-events": STUDYFORREST, "fixations": STUDYFORREST, "tobii": TOBII_TX300}


@dataclass
class Settings:
    """Where the runs are and how to evaluate them (see :func:`main` for the options)."""

    table: int
    runs: Path
    work: Path
    results: Path = RESULTS_DIR
    limit: int | None = None
    data_dir: Path | None = None
    full_mnist: bool = False
    device: str = "auto"
    repeats: int = 5
    latency_images: int = 200
    batch_size: int = 1000
    threads: int | None = None
    compile: bool = False
    force: bool = False
    queues: int = 2
    launch: bool = False
    human: Path | None = HUMAN_DEFAULT
    human_format: str = "bids-events"

    @property
    def experiments(self) -> list[Experiment]:
        return experiments(self.table, self.full_mnist)

    def best(self, exp: Experiment) -> Path:
        return self.runs / exp.run / "best.pt"

    def eval_path(self, exp: Experiment) -> Path:
        return self.work / "eval" / f"{exp.run}.json"

    def export_path(self, exp: Experiment, policy: str = "mean") -> Path:
        suffix = (f"-limit{self.limit}" if self.limit else "") + POLICY_SUFFIX[policy]
        return self.work / "exports" / f"{exp.run}{suffix}.parquet"

    def gaze_stem(self, policy: str) -> str:
        """Stem of the gaze results (claims, summary, density figure) of one policy."""
        return self.stem + POLICY_SUFFIX[policy].replace("-", "_")

    def run_data_dir(self, exp: Experiment) -> Path | None:
        """The data folder the run trained on (its config), else ``--data-dir``."""
        config = self.runs / exp.run / "config.json"
        stored = json.loads(config.read_text())["data_dir"] if config.is_file() else None
        return Path(stored) if stored else self.data_dir

    @property
    def synthetic_fer(self) -> bool:
        return self.table == 3 and (is_synthetic_fer(self.data_dir) or any(
            is_synthetic_fer(self.run_data_dir(e)) for e in self.experiments))

    @property
    def stem(self) -> str:
        """Results file stem, e.g. ``table2_fashion_mnist``, ``table1_mnist_t10k``."""
        dataset = self.experiments[0].dataset.replace("-", "_")
        return f"table{self.table}_{dataset}" + ("_synthetic" if self.synthetic_fer else "")


def _fresh(out: Path, source: Path) -> bool:
    """Whether ``out`` exists and is at least as new as ``source``."""
    return out.is_file() and out.stat().st_mtime >= source.stat().st_mtime


def _write_text_atomic(path: Path, text: str) -> None:
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_csv(table: pd.DataFrame, path: Path) -> Path:
    """Write ``table`` (without its index) to the CSV file ``path`` atomically; return it."""
    with atomic_file(path) as tmp:
        table.to_csv(tmp, index=False)
    return path


def _log(message: str) -> None:
    print(message, flush=True)


# --- train ---------------------------------------------------------------------------------

def train_commands(settings: Settings) -> tuple[list[list[str]], list[str]]:
    """The ``train_queue.sh`` command lines for the table's unfinished runs, in
    :func:`training_order` (:func:`analysis.queues.queue_commands`, ``settings.queues``
    queues).

    Returns
    -------
    commands : list of list of str
        One argv per non-empty queue.
    skipped : list of str
        Why each unfinished run was left out, one line per run.
    """
    data_dir = settings.data_dir
    if settings.table == 3 and data_dir is None:
        raise ValueError("table 3 needs --data-dir (the folder of fer2013.csv) or "
                         "--synthetic-fer")
    return queue_commands(settings.runs, [(e.run, e.train_args(data_dir))
                                          for e in training_order(settings.experiments)],
                          settings.queues)


def stage_train(settings: Settings) -> None:
    """Print (and with ``launch`` start, detached, logging to ``RUNS/queue-N.log``) the
    training queues of :func:`train_commands`."""
    commands, skipped = train_commands(settings)
    for line in skipped:
        _log(f"[train] not queued: {line}")
    if not commands:
        _log("[train] nothing to queue")
    for i, argv in enumerate(commands):
        _log(shlex.join(argv))
        if settings.launch:
            settings.runs.mkdir(parents=True, exist_ok=True)
            log = settings.runs / f"queue-{i}.log"
            with log.open("a") as f:
                proc = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, cwd=REPO,
                                        start_new_session=True)
            _log(f"[train] started queue {i} (pid {proc.pid}), log {log}")


# --- evaluate, export ----------------------------------------------------------------------

def _stale(settings: Settings, stage: str,
           output: Callable[[Experiment], Path]) -> Iterator[tuple[Experiment, Path, Path]]:
    """``(experiment, best.pt, output)`` of the runs whose ``best.pt`` is newer than their
    ``output(experiment)`` (every run with a ``best.pt`` under ``force``); logs the others."""
    for exp in settings.experiments:
        best, out = settings.best(exp), output(exp)
        if not best.is_file():
            continue
        if _fresh(out, best) and not settings.force:
            _log(f"[{stage}] {exp.run}: up to date")
            continue
        yield exp, best, out


def stage_evaluate(settings: Settings) -> None:
    """Evaluate every run that has a ``best.pt`` newer than its evaluation."""
    for exp, best, out in _stale(settings, "evaluate", settings.eval_path):
        if settings.compile:
            # Every model's compiled pass is a version of one function for dynamo, which runs
            # eagerly past its recompile limit (8): start each model afresh.
            import torch

            torch._dynamo.reset()
        result = evaluate(best, split="test", data_dir=settings.run_data_dir(exp),
                          device=settings.device, batch_size=settings.batch_size,
                          repeats=settings.repeats, latency_images=settings.latency_images,
                          compile=settings.compile)
        result.update(cpu=cpu_name(), load_1min=os.getloadavg()[0],
                      evaluated_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
        _write_text_atomic(out, json.dumps(result, indent=2) + "\n")
        _log(f"[evaluate] {exp.run}: epoch {result['epoch']}, {result['accuracy_pct']:.2f} %, "
             f"{result['latency_ms_mean']:.2f} ms/image")


def stage_export(settings: Settings) -> None:
    """Export the test-set scanpaths of every run whose ``best.pt`` is newer than its export:
    with the policy mean, and with locations sampled from the policy (glimpse models only;
    seed :data:`SAMPLING_SEED`)."""
    for policy in POLICIES:
        for exp, best, out in _stale(settings, f"export {policy}",
                                     lambda e, p=policy: settings.export_path(e, p)):
            if policy == "sampled" and exp.glimpses is None:
                continue  # the CNN's saliency scanpath has no policy to sample
            export_scanpaths(best, split="test", out=out, data_dir=settings.run_data_dir(exp),
                             stochastic=policy == "sampled", seed=SAMPLING_SEED,
                             limit=settings.limit, device=settings.device,
                             batch_size=settings.batch_size)
            _log(f"[export {policy}] {exp.run}: {out}")


# --- analyze -------------------------------------------------------------------------------

def _figure_models(exps: list[Experiment], scales: int = 1) -> dict[str, Experiment]:
    """The Fig. 2-3 models among ``exps`` (:func:`figure_roles`), keyed by role."""
    by_label = {e.label: e for e in exps}
    return {role: by_label[label] for role, label in figure_roles(by_label, scales).items()}


def _models_by_glimpses(exps: list[Experiment]) -> dict[int, list[Experiment]]:
    """The Fig. 2-3 models (one scale) at each glimpse count, in Fig. 2's row order."""
    by_label = {e.label: e for e in exps}
    return {t: [by_label[label] for label in roles.values()]
            for t, roles in roles_by_glimpses(by_label).items()}


def first_glimpses(table: pd.DataFrame) -> pd.DataFrame:
    """Where each model's first glimpse lands, from a validated scanpath table.

    Returns one row per ``model``: ``x_mean``, ``y_mean``, ``x_sd``, ``y_sd`` of the glimpse
    centres at ``step`` 0 (**pixels**) and ``corner_share``, the share of them within half a
    glimpse (``glimpse_size / 2`` px) of an image corner in both x and y.
    """
    first = table[table["step"] == 0]
    x, y = first["x"], first["y"]
    half = first["glimpse_size"] / 2
    corner = ((np.minimum(x, first["image_width"] - x) < half)
              & (np.minimum(y, first["image_height"] - y) < half))
    grouped = first.assign(corner=corner).groupby("model", sort=False, observed=True)
    return pd.DataFrame({"x_mean": grouped["x"].mean(), "y_mean": grouped["y"].mean(),
                         "x_sd": grouped["x"].std(), "y_sd": grouped["y"].std(),
                         "corner_share": grouped["corner"].mean()}).reset_index()


def stage_analyze(settings: Settings) -> None:
    """gazekit on the exports of each policy, the claims, and the glimpse and density figures.

    Writes ``<stem>_gaze_summary.csv``, ``<stem>_claims.csv``, ``<stem>_threshold_sweep.csv``
    and ``<stem>_threshold_claims.csv`` (both policies, a ``policy`` column), the density and
    threshold-sweep figures of each policy (``_sampled`` for sampled locations) and the
    glimpse figure (policy mean).
    """
    tables: dict[str, list[pd.DataFrame]] = {}
    for policy in POLICIES:
        exps = [e for e in settings.experiments if settings.export_path(e, policy).is_file()]
        if not exps:
            _log(f"[analyze] no {policy} exports yet (run the export stage)")
            continue
        for name, table in _analyze_policy(settings, policy, exps).items():
            tables.setdefault(name, []).append(table)
    if not tables:
        return
    results = settings.results
    for name, parts in tables.items():
        write_csv(pd.concat(parts), results / f"{settings.stem}_{name}.csv")
    exps = [e for e in settings.experiments if settings.export_path(e).is_file()]
    accuracy = accuracy_claims({e.label: settings.export_path(e) for e in exps})
    if len(accuracy):
        write_csv(accuracy, results / f"{settings.stem}_accuracy_claims.csv")
    # The Fig. 4-style panel (table 3) shows both glimpse scales.
    rows = [e for n in ((1, 2) if settings.table == 3 else (1,))
            for e in _figure_models(exps, n).values()]
    if rows:
        first = rows[0]
        data = _load_test_images(settings, first)
        names = CLASS_NAMES.get(str(pd.read_parquet(settings.export_path(first),
                                                    columns=["dataset"])["dataset"].iloc[0]))
        paths = plot_exports([settings.export_path(e) for e in rows], data,
                             results / f"{settings.stem}_{FIGURE_NAMES[settings.table][0]}",
                             n_images=len(names) if names else 10, class_names=names)
        _log(f"[analyze] {paths[0]}")
        # Fig. 2 at each glimpse count too: the paper does not say which T it shows.
        for t, models in _models_by_glimpses(exps).items():
            plot_exports([settings.export_path(e) for e in models], data,
                         results / f"{settings.stem}_T{t}_{FIGURE_NAMES[settings.table][0]}",
                         n_images=len(names) if names else 10, class_names=names)


def _unfinished_note(settings: Settings, exps: list[Experiment], policy: str) -> str:
    """A second title line naming the runs whose training has not ended, with the epoch of
    the weights their exports come from, so a figure read on its own does not pass them off
    as trained models ("" if there are none)."""
    open_runs = []
    for exp in exps:
        if not run_status(settings.runs / exp.run).finished:
            meta = pq.read_schema(settings.export_path(exp, policy)).metadata or {}
            epoch = json.loads(meta.get(b"zoo", b"{}")).get("epoch")
            open_runs.append(f"{exp.label} (epoch {epoch})")
    return "\nstill training, shown at an earlier epoch: " + ", ".join(open_runs) \
        if open_runs else ""


def _analyze_policy(settings: Settings, policy: str,
                    exps: list[Experiment]) -> dict[str, pd.DataFrame]:
    """gazekit on one policy's exports and its density, human and threshold-sweep figures;
    the tables ``gaze_summary``, ``claims``, ``claims_after_first``, ``first_glimpses``,
    ``threshold_sweep``, ``threshold_claims`` and (with human data) ``human_comparison``."""
    paths = [settings.export_path(e, policy) for e in exps]
    suffix = (f"-limit{settings.limit}" if settings.limit else "") + POLICY_SUFFIX[policy]
    out = settings.work / f"analysis{suffix}"
    result = analyze(paths, out, threshold=THRESHOLD_PX, mode="consecutive", group_by="model",
                     overwrite=True, progress=False)
    results = settings.results
    results.mkdir(parents=True, exist_ok=True)
    scanpaths = read_scanpaths(paths)  # in memory for the analyses that analyze does not do
    images = int(scanpaths["image_id"].nunique())
    groups = result.summary["group"].astype(str)
    note = _unfinished_note(settings, exps, policy)
    plot_densities(result.densities["fixation_duration"], result.densities["saccade_distance"],
                   results / f"{settings.gaze_stem(policy)}_{FIGURE_NAMES[settings.table][1]}",
                   title=f"Fixation durations and saccade distances (policy {policy}, "
                         f"consecutive rule, {THRESHOLD_PX:g} px){note}",
                   colors=model_colors(groups))
    # The paper does not say at which T its Figs. 2-3 are: the claims at each T.
    labels = {t: {role: label + POLICY_SUFFIX[policy] for role, label in roles.items()}
              for t, roles in roles_by_glimpses(e.label for e in exps).items()}
    claims = claims_by_glimpses(segment(scanpaths, THRESHOLD_PX, "consecutive"), labels)
    for t, roles in labels.items():  # Fig. 3 at each T: never models of several T unsaid
        keep = set(roles.values())
        plot_densities(*({g: d for g, d in result.densities[q].items() if g in keep}
                         for q in ("fixation_duration", "saccade_distance")),
                       results / f"{settings.gaze_stem(policy)}_T{t}_"
                                 f"{FIGURE_NAMES[settings.table][1]}",
                       title=f"Fixation durations and saccade distances at T = {t} glimpses "
                             f"(policy {policy}, consecutive rule, {THRESHOLD_PX:g} px){note}",
                       colors=model_colors(groups))
    tables = {}
    if settings.human is not None:
        # Human-likeness of the glimpse models (the CNN's saliency path is no gaze), judged
        # on scale-free shapes of the distributions (no glimpse duration or size in degrees).
        glimpse_exps = [e for e in exps if e.glimpses is not None]
        gaze = [settings.export_path(e, policy) for e in glimpse_exps]
        versus = analyze(gaze, settings.work / f"analysis-human{suffix}", threshold=THRESHOLD_PX,
                         mode="consecutive", group_by="model", units="relative",
                         human=settings.human, human_format=settings.human_format,
                         geometry=HUMAN_GEOMETRY.get(settings.human_format),
                         human_label=HUMAN_LABEL, overwrite=True, progress=False)
        shape, human_rows = human_shape_claim(versus.fixations_path.parent, labels,
                                               HUMAN_LABEL)
        claims = pd.concat([claims, human_rows], ignore_index=True)
        tables["human_shape"] = shape.assign(policy=policy)
        plot_densities(versus.densities["fixation_duration"],
                       versus.densities["saccade_distance"],
                       results / f"{settings.gaze_stem(policy)}_human_densities",
                       title=f"Models (policy {policy}) and human fixations, relative "
                             f"units{_unfinished_note(settings, glimpse_exps, policy)}",
                       reference=HUMAN_LABEL, colors=model_colors(groups))
    # The claims without each scanpath's first glimpse, which a model may park anywhere (our
    # DRAMs learn to put it in an image corner): the jump from there is no choice of gaze.
    tables["claims_after_first"] = claims_by_glimpses(
        segment(scanpaths[scanpaths["step"] > 0], THRESHOLD_PX, "consecutive"), labels).assign(
            policy=policy)
    tables["first_glimpses"] = first_glimpses(scanpaths).assign(policy=policy)
    # How the statistics and verdicts move with the paper's 6 px threshold.
    sweep = threshold_sweep(scanpaths, SWEEP_THRESHOLDS_PX, group_by="model")
    plot_threshold_sweep(sweep, results / f"{settings.gaze_stem(policy)}_threshold_sweep",
                         mark=THRESHOLD_PX, colors=model_colors(groups),
                         title=f"Gaze statistics against the fixation threshold (policy "
                               f"{policy}, consecutive rule){note}")
    _log(f"[analyze {policy}] {result.rows:,} glimpses in {result.scanpaths:,} scanpaths "
         f"-> {out}")
    # The policy of each group as its export records it ("saliency" for the CNN).
    policies = scanpaths.groupby(scanpaths["model"].astype(str))["policy"].first().astype(str)
    summary = result.summary.assign(
        policy=result.summary["group"].astype(str).map(policies), test_images=images)
    return {"gaze_summary": summary, **tables,
            "claims": claims.assign(policy=policy, test_images=images),
            "threshold_sweep": sweep.assign(policy=sweep["group"].astype(str).map(policies)),
            "threshold_claims": pd.concat([
                claims_by_glimpses(segment(scanpaths, threshold, "consecutive"), labels
                                   ).assign(threshold_px=threshold)
                for threshold in SWEEP_THRESHOLDS_PX], ignore_index=True).assign(policy=policy)}


def _load_test_images(settings: Settings, exp: Experiment) -> np.ndarray:
    dataset = pd.read_parquet(settings.export_path(exp), columns=["dataset"])["dataset"].iloc[0]
    images, _ = zdata.load_dataset(str(dataset), "test", data_dir=settings.run_data_dir(exp))
    return images.numpy()


# --- results table -------------------------------------------------------------------------

def _dataset_label(dataset: str, synthetic_fer: bool) -> str:
    if dataset == "fer2013" and synthetic_fer:
        return f"fer2013 ({SYNTHETIC_FER_NOTE})"
    note = DATASET_NOTES.get(dataset)
    return f"{dataset} ({note})" if note else dataset


def results_table(settings: Settings) -> pd.DataFrame:
    """Ours next to the paper's, one row per experiment of the table (see :func:`main`).

    Columns: ``run``, ``model`` (display name), ``arch`` (registry name), ``glimpses``,
    ``scales``, ``variant``, ``paper_dataset``, ``dataset`` (ours, with a note where reduced
    or synthetic), ``params_m_paper``, ``params_m_ours`` (millions), ``ms_per_image_paper``,
    ``ms_sd_paper``, ``ms_per_image_ours``, ``ms_sd_ours`` (ms/image; ours at batch 1 on
    ``eval_hardware``), ``images_per_s_ours`` (batch ``settings.batch_size``),
    ``accuracy_pct_paper``, ``accuracy_pct_ours``, ``accuracy_diff_pct`` (ours - paper, %
    points), ``val_accuracy_pct_ours`` (best validation accuracy), ``status``, ``state``,
    ``epochs_run``, ``max_epochs``, ``best_epoch``, ``evaluated_epoch`` (epoch of the
    evaluated ``best.pt``), ``wall_time_h`` (training, hours), ``train_hardware``,
    ``eval_hardware``, ``eval_load_1min`` (load average during evaluation), ``paper_note``.
    Values we do not have yet are empty.
    """
    paper = paper_table(settings.table)
    synthetic = settings.synthetic_fer
    rows = []
    for exp, ref in zip(settings.experiments, paper.itertuples(index=False), strict=True):
        status = run_status(settings.runs / exp.run)
        path = settings.eval_path(exp)
        ev = json.loads(path.read_text()) if path.is_file() else {}
        acc = ev.get("accuracy_pct", np.nan)
        rows.append({
            "run": exp.run, "model": exp.label, "arch": exp.model, "glimpses": exp.glimpses,
            "scales": exp.scales, "variant": exp.variant or "", "paper_dataset": exp.paper_dataset,
            "dataset": _dataset_label(ev.get("dataset", exp.dataset), synthetic),
            "params_m_paper": ref.params_m, "params_m_ours": ev.get("params_m", np.nan),
            "ms_per_image_paper": ref.infer_ms_mean, "ms_sd_paper": ref.infer_ms_sd,
            "ms_per_image_ours": ev.get("latency_ms_mean", np.nan),
            "ms_sd_ours": ev.get("latency_ms_sd", np.nan),
            "images_per_s_ours": ev.get("throughput_ips", np.nan),
            "accuracy_pct_paper": ref.accuracy_pct, "accuracy_pct_ours": acc,
            "accuracy_diff_pct": acc - ref.accuracy_pct,
            "val_accuracy_pct_ours": (100 * status.best_val_acc
                                      if status.best_val_acc is not None else np.nan),
            "status": status.status, "state": status.state, "epochs_run": status.epochs_run,
            "max_epochs": status.max_epochs, "best_epoch": status.best_epoch,
            "evaluated_epoch": ev.get("epoch"), "wall_time_h": status.wall_time_s / 3600,
            "train_hardware": status.hardware,
            "eval_hardware": (f"{ev['cpu'] if ev['device'] == 'cpu' else ev['device_name']} "
                              f"({ev['device']}), {ev['torch_threads']} torch thread(s), batch 1"
                              + (", torch.compile" if ev.get("compiled") else "")
                              if ev else ""),
            "eval_load_1min": ev.get("load_1min", np.nan), "paper_note": ref.note,
        })
    table = pd.DataFrame(rows)
    for col in ("glimpses", "max_epochs", "best_epoch", "evaluated_epoch"):
        table[col] = table[col].astype("Int64")
    return table


MD_COLUMNS = {
    "model": "model", "params_m_paper": "params M (paper)", "params_m_ours": "params M (ours)",
    "ms_per_image_paper": "ms/image (paper)", "ms_per_image_ours": "ms/image (ours)",
    "accuracy_pct_paper": "acc % (paper)", "accuracy_pct_ours": "acc % (ours)",
    "accuracy_diff_pct": "diff", "epochs_run": "epochs", "state": "state",
    "wall_time_h": "train h",
}


def _markdown(settings: Settings, table: pd.DataFrame) -> str:
    stem = settings.stem
    view = table[list(MD_COLUMNS)].rename(columns=MD_COLUMNS)
    for col in ("ms/image (paper)", "ms/image (ours)"):
        sd = table["ms_sd_paper" if "paper" in col else "ms_sd_ours"]
        view[col] = [f"{m:.2f} ± {s:.2f}" if np.isfinite(m) else ""
                     for m, s in zip(view[col], sd, strict=True)]
    datasets = sorted(set(table["dataset"]))
    hardware = sorted(set(table["eval_hardware"]) - {""})
    lines = [
        f"# Table {settings.table}: ours next to the paper's", "",
        f"Generated {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC by "
        f"`python analysis/reproduce.py --table {settings.table} --runs {settings.runs}` from "
        "whatever the runs held then; re-run it to update. All columns are in "
        f"[`{stem}.csv`]({stem}.csv).", "",
        "- Data: " + "; ".join(datasets) + ".",
        "- Paper: Pan, Yonekura & Kuniyoshi, Table " + str(settings.table)
        + " (`analysis/paper_tables.csv`); its ms/image was measured on an RTX 3070 GPU.",
        "- Ours: test accuracy of each run's `best.pt` (highest validation accuracy so far) "
        "with the policy mean; ms/image at batch 1 (mean ± sd over runs) on "
        + ("; ".join(hardware) if hardware else "(nothing evaluated yet)")
        + ", measured while other jobs may share the machine (load average in the CSV).",
        "- State: `finished` ran all epochs; `stopped early` met the 50-epoch patience; "
        "`still training` and `interrupted` runs are reported at their current best epoch, "
        "not at the end of the paper's protocol.", "",
        markdown_table(view), "",
    ]
    lines += _accuracy_markdown(settings)
    if (settings.results / f"{stem}_training.png").is_file():
        lines += [f"Learning curves: ![training]({stem}_training.png)", ""]
    claims = settings.results / f"{stem}_claims.csv"
    if claims.is_file():
        df = pd.read_csv(claims, keep_default_na=False)
        glimpse_name, density_name = FIGURE_NAMES[settings.table]
        lines += [
            "## Gaze: the paper's qualitative claims, measured", "",
            f"gazekit on the exported test-set scanpaths ({df['test_images'].iloc[0]} images "
            f"per model), fixation threshold {THRESHOLD_PX:g} px between consecutive glimpses; "
            "durations in glimpse steps, distances in pixels. The paper does not say at how "
            "many glimpses its Figs. 2-3 are, so each claim is judged at every glimpse count "
            "T separately. `policy`: glimpses at the location policy's mean, or sampled from "
            f"it (Gaussian, seed {SAMPLING_SEED}); the paper does not say which its figures "
            f"show. Per-model statistics: [`{stem}_gaze_summary.csv`]({stem}_gaze_summary.csv).",
            "",
            *claims_markdown(df.drop(columns="test_images")),
            f"Glimpses (policy mean): ![glimpses]({stem}_{glimpse_name}.png)", "",
        ]
        lines += [f"Densities ({policy}): ![densities {policy}]"
                  f"({settings.gaze_stem(policy)}_{density_name}.png)\n"
                  for policy in POLICIES if policy in set(df["policy"])]
        per_t = sorted(int(t) for t in pd.to_numeric(df["glimpses"], errors="coerce").dropna()
                       .unique())
        lines += [f"At T = {t}: ![glimpses T = {t}]({stem}_T{t}_{glimpse_name}.png) "
                  f"![densities T = {t}]({settings.gaze_stem('mean')}_T{t}_{density_name}.png)\n"
                  for t in per_t
                  if (settings.results / f"{stem}_T{t}_{glimpse_name}.png").is_file()]
        shape = settings.results / f"{stem}_human_shape.csv"
        if shape.is_file() and settings.human is not None:
            human = (settings.human.relative_to(REPO) if settings.human.is_relative_to(REPO)
                     else settings.human)
            view = pd.read_csv(shape)
            view = view[view["policy"] == "mean"].drop(columns="policy")
            lines += [
                f"Human-likeness: the human group is `{human}` ({settings.human_format}). The "
                "earlier verdict is withdrawn (see the table above). Instead, the scale-free "
                "shapes of each distribution, which need no glimpse duration in ms and no "
                "degrees per pixel: coefficient of variation and skewness with 95% intervals "
                "that resample scanpaths, and their gap to the human value (policy mean; all "
                f"columns in [`{stem}_human_shape.csv`]({stem}_human_shape.csv)). Caveat: a "
                f"model saccade is at least {THRESHOLD_PX:g} px long by definition, which "
                "truncates the models' saccade distributions.", "",
                markdown_table(view.round(3)), ""]
            lines += [f"Models and human ({policy}): ![human {policy}]"
                      f"({settings.gaze_stem(policy)}_human_densities.png)\n"
                      for policy in POLICIES if policy in set(df["policy"])]
    lines += _after_first_markdown(settings)
    lines += _sensitivity_markdown(settings)
    return "\n".join(lines)


def _after_first_markdown(settings: Settings) -> list[str]:
    """The claims without the first glimpse, and where the first glimpses land."""
    stem = settings.stem
    claims = settings.results / f"{stem}_claims_after_first.csv"
    first = settings.results / f"{stem}_first_glimpses.csv"
    if not (claims.is_file() and first.is_file()):
        return []
    df = pd.read_csv(claims, keep_default_na=False)
    where = pd.read_csv(first)
    where = where[where["policy"] == "mean"].drop(columns="policy")
    return [
        "## Without the first glimpse", "",
        "A model chooses its first glimpse before it has seen anything of the image, so that "
        "glimpse can be parked anywhere, and the jump from there to the object is not a "
        "choice of gaze. Where the first glimpses land (policy mean; px, origin top-left; "
        "corner share: within half a glimpse of an image corner):", "",
        markdown_table(where.round(3)), "",
        "The claims measured on glimpses 2 to T only (same threshold and rules):", "",
        *claims_markdown(df)]


def _accuracy_markdown(settings: Settings) -> list[str]:
    """The accuracy claim (:func:`accuracy_claims`) as a table; nothing before analyze."""
    path = settings.results / f"{settings.stem}_accuracy_claims.csv"
    if not path.is_file():
        return []
    df = pd.read_csv(path)
    view = pd.DataFrame({
        "comparison": df["mram"] + " vs " + df["rival"],
        "acc % (ours)": [f"{m:.2f} vs {r:.2f}" for m, r in
                         zip(df["mram_acc_pct"], df["rival_acc_pct"], strict=True)],
        "only MRAM right / only rival right": [
            f"{m} / {r}" for m, r in zip(df["mram_only"], df["rival_only"], strict=True)],
        "McNemar p": [f"{p:.2g}" for p in df["p_value"]],
        "verdict": df["verdict"]})
    return ["The paper's accuracy claim, MRAM outperforms CNN, RAM and DRAM, on our paired "
            f"test-set predictions ({df['images'].iloc[0]:,} images, policy mean; exact "
            "two-sided McNemar test; 'reproduced' needs p < 0.05):", "",
            markdown_table(view), ""]


def _sensitivity_markdown(settings: Settings) -> list[str]:
    """The claims' verdicts at each fixation threshold, one table per policy, and the sweep
    figures; nothing before the analyze stage has written them."""
    stem = settings.stem
    path = settings.results / f"{stem}_threshold_claims.csv"
    if not path.is_file():
        return []
    verdicts = pd.read_csv(path, keep_default_na=False)
    lines = [
        "## Sensitivity to the fixation threshold", "",
        f"The paper's {THRESHOLD_PX:g} px threshold sits just below its 8 px glimpse width. Each "
        "claim re-judged on the same scanpaths at other thresholds between consecutive glimpses, "
        "by the same rules (yes = reproduced, no = not reproduced, ? = inconclusive). "
        "Statistics per model and threshold: "
        f"[`{stem}_threshold_sweep.csv`]({stem}_threshold_sweep.csv).", "",
    ]
    for policy, rows in verdicts.groupby("policy", sort=False):
        named = rows.assign(claim=rows["claim"] + " (T = " + rows["glimpses"].astype(str) + ")")
        table = named.pivot(index="claim", columns="threshold_px", values="verdict").loc[
            pd.unique(named["claim"])]
        table = table.apply(lambda col: col.map(_short_verdict))
        table.columns = [f"{t:g} px" for t in table.columns]
        lines += [f"Policy {policy}:", "", markdown_table(table.reset_index()), "",
                  f"![threshold sweep {policy}]({settings.gaze_stem(policy)}_threshold_sweep.png)",
                  ""]
    return lines


def _short_verdict(verdict: str) -> str:
    return {"reproduced": "yes", "not reproduced": "no", "inconclusive": "?"}.get(verdict, "n/a")


def plot_training(settings: Settings) -> list[Path]:
    """Learning curves of the table's runs: ``RESULTS/<stem>_training.{png,svg}``.

    (a) validation accuracy (%) per epoch, the best epoch marked, and the paper's test
    accuracy of the same row as a dashed line of the same colour (a reference level, not a
    curve: the paper gives no learning curves); (b) the training loss per epoch (the hybrid
    loss of Eq. 10; cross-entropy for the CNN). Colours: :func:`zoo.plot.model_colors`.
    Returns the files written, or ``[]`` when no run has logged an epoch yet.
    """
    paper = paper_table(settings.table)
    logs = {}
    for exp, ref in zip(settings.experiments, paper.itertuples(index=False), strict=True):
        metrics = read_metrics(settings.runs / exp.run / "metrics.jsonl")
        if len(metrics):
            logs[exp.label] = (metrics, ref.accuracy_pct)
    if not logs:
        return []
    colors = group_colors(logs, model_colors(logs))
    fig = Figure(figsize=(10, 4), layout="constrained")
    FigureCanvasAgg(fig)
    acc_ax, loss_ax = fig.subplots(1, 2)
    for label, (metrics, paper_acc) in logs.items():
        color = colors[label]
        epoch, val = metrics["epoch"].to_numpy(), 100 * metrics["val_acc"].to_numpy(float)
        best = int(np.nanargmax(val))
        acc_ax.plot(epoch, val, color=color, lw=1, label=label)
        acc_ax.plot(epoch[best], val[best], "o", ms=4, color=color)
        if np.isfinite(paper_acc):
            acc_ax.axhline(paper_acc, color=color, ls="--", lw=0.8, alpha=0.7)
        loss_ax.plot(epoch, metrics["train_loss"], color=color, lw=1, label=label)
    acc_ax.set(title="(a) validation accuracy (dashed: paper's test accuracy)",
               xlabel="epoch", ylabel="accuracy (%)")
    loss_ax.set(title="(b) training loss", xlabel="epoch", ylabel="loss (nats)")
    loss_ax.set_yscale("log")
    acc_ax.legend(frameon=False, fontsize="small")
    return save_figure(fig, settings.results / f"{settings.stem}_training")


def write_results(settings: Settings) -> pd.DataFrame:
    """Write ``RESULTS/<stem>.csv`` and ``.md`` (see :func:`results_table`) and the learning
    curves (:func:`plot_training`); return the table."""
    table = results_table(settings)
    plot_training(settings)
    csv = write_csv(table, settings.results / f"{settings.stem}.csv")
    _write_text_atomic(csv.with_suffix(".md"), _markdown(settings, table))
    _log(f"[results] {csv} and {csv.with_suffix('.md').name}")
    return table


def run(settings: Settings, stages: tuple[str, ...] = STAGES) -> pd.DataFrame | None:
    """Run ``stages`` in order; then write the results table unless only training was asked.

    Returns the results table, or None for ``("train",)``.
    """
    if settings.threads is not None:
        import torch

        torch.set_num_threads(settings.threads)
    steps = {"train": stage_train, "evaluate": stage_evaluate, "export": stage_export,
             "analyze": stage_analyze}
    for stage in stages:
        steps[stage](settings)
    return None if stages == ("train",) else write_results(settings)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python analysis/reproduce.py",
        description="Reproduce a paper table: train, evaluate, export, analyse (resumable).")
    p.add_argument("--table", type=int, choices=(1, 2, 3), required=True)
    p.add_argument("--runs", type=Path, required=True,
                   help="folder of the run folders (e.g. /work/runs/fashion-mnist)")
    p.add_argument("--stage", choices=(*STAGES, "all"), default="all")
    p.add_argument("--limit", type=int, help="export and analyse only the first N test images")
    p.add_argument("--work", type=Path, help="evaluations, exports, analysis (default "
                   "RUNS/_reproduce)")
    p.add_argument("--results", type=Path, default=RESULTS_DIR,
                   help="tables and figures (default analysis/results)")
    p.add_argument("--data-dir", type=Path, help="data folder for runs that did not record one")
    p.add_argument("--synthetic-fer", action="store_true",
                   help="table 3 on a synthetic FER2013-format CSV (RUNS/synthetic-fer2013, "
                   "written if missing)")
    p.add_argument("--full-mnist", action="store_true",
                   help="table 1 on the full MNIST (downloaded) instead of mnist-t10k")
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N")
    p.add_argument("--repeats", type=int, default=5, help="timed latency runs (default 5)")
    p.add_argument("--latency-images", type=int, default=200,
                   help="single-image passes per timed run (default 200)")
    p.add_argument("--batch-size", type=int, default=1000, help="evaluation/export batch")
    p.add_argument("--threads", type=int, help="torch CPU threads for evaluation and export")
    p.add_argument("--compile", action="store_true",
                   help="time batch-1 inference under torch.compile (zoo.evaluate's CPU "
                   "inference options; about a minute of compiling per model)")
    p.add_argument("--force", action="store_true", help="redo evaluations and exports")
    p.add_argument("--queues", type=int, default=2, help="training queues (default 2)")
    p.add_argument("--launch", action="store_true",
                   help="start the training queues in the background (train stage)")
    p.add_argument("--human", default=str(HUMAN_DEFAULT),
                   help="human eye-tracking recordings (file or folder) for the human-likeness "
                   "claim; default: the studyforrest excerpt in tests/data/human; 'none' skips "
                   "the claim")
    p.add_argument("--human-format", default="bids-events", choices=FORMATS,
                   help="format of --human (default bids-events: REMoDNaV event files)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 with one line on bad input)."""
    args = _parser().parse_args(argv)
    data_dir = args.data_dir
    if args.synthetic_fer:
        if args.table != 3:
            print("reproduce: error: --synthetic-fer is for table 3", file=sys.stderr)
            return 2
        data_dir = args.runs / "synthetic-fer2013"
        if not (data_dir / "fer2013.csv").is_file():
            write_synthetic_fer2013(data_dir)
    settings = Settings(
        table=args.table, runs=args.runs, work=args.work or args.runs / "_reproduce",
        results=args.results, limit=args.limit, data_dir=data_dir, full_mnist=args.full_mnist,
        device=args.device, repeats=args.repeats, latency_images=args.latency_images,
        batch_size=args.batch_size, threads=args.threads, compile=args.compile,
        force=args.force, queues=args.queues, launch=args.launch,
        human=None if args.human.lower() == "none" else Path(args.human),
        human_format=args.human_format)
    try:
        run(settings, STAGES if args.stage == "all" else (args.stage,))
    except (ValueError, OSError) as exc:  # bad input: data, checkpoints, exports, options
        print(f"reproduce: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
