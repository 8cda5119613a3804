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
    :func:`zoo.evaluate.evaluate` on each run's ``best.pt`` (whatever epoch it has reached),
    or on the shipped weights standing in for it (below): test accuracy, parameters,
    ms/image at batch 1, throughput. JSON in ``WORK/eval/``.
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

Lost run folders: run folders live outside the repository. Where a run's folder holds no
finished run, the shipped weights of that run (``zoo/weights/<dataset>/<run>.pt``) replace it
when their model card's training configuration matches the experiment's (finished, same
settings apart from those resuming may change; :mod:`analysis.standins`): the run is then not
queued, its state in the results names the shipped file, and it is evaluated and exported from
the shipped weights. A folder whose run finished always wins.

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
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from analysis.claims import THRESHOLD_PX, accuracy_claims, claims_by_glimpses, human_shape_claim
from analysis.experiments import (
    CLASS_NAMES,
    Experiment,
    figure_roles,
    roles_by_glimpses,
    training_order,
    write_synthetic_fer2013,
)
from analysis.queues import queue_commands
from analysis.results_report import plot_training, results_table, write_results
from analysis.settings import (
    FIGURE_NAMES,
    HUMAN_DEFAULT,
    HUMAN_GEOMETRY,
    HUMAN_LABEL,
    POLICIES,
    POLICY_SUFFIX,
    REPO,
    RESULTS_DIR,
    SAMPLING_SEED,
    STAGES,
    SWEEP_THRESHOLDS_PX,
    Settings,
    log,
    write_csv,
    write_text_atomic,
)
from analysis.standins import refusal, up_to_date
from gazekit.analyze import analyze
from gazekit.human import FORMATS
from gazekit.io import read_scanpaths
from gazekit.plot import plot_densities, plot_threshold_sweep
from gazekit.segment import segment
from gazekit.sweep import threshold_sweep
from zoo import data as zdata
from zoo.evaluate import evaluate
from zoo.export import export_scanpaths
from zoo.machine import cpu_name
from zoo.plot import model_colors, plot_exports

# Re-exported: the scripts and notebooks that use the pipeline's settings and results table.
__all__ = ["RESULTS_DIR", "STAGES", "SWEEP_THRESHOLDS_PX", "Settings", "first_glimpses", "main",
           "plot_training", "results_table", "run", "write_csv"]

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
    training queues of :func:`train_commands`, after the runs whose shipped weights stand in
    (not queued) and the shipped weights that do not, with why (:mod:`analysis.standins`)."""
    commands, skipped = train_commands(settings)
    for exp in settings.experiments:  # which shipped weights stand in for a run, which not
        status = settings.status(exp)
        note = status.state if status.shipped else refusal(settings.runs / exp.run,
                                                           exp.train_args(settings.data_dir))
        if note:
            log(f"[train] {exp.run}: {note}")
    for line in skipped:
        log(f"[train] not queued: {line}")
    if not commands:
        log("[train] nothing to queue")
    for i, argv in enumerate(commands):
        log(shlex.join(argv))
        if settings.launch:
            settings.runs.mkdir(parents=True, exist_ok=True)
            log_path = settings.runs / f"queue-{i}.log"
            with log_path.open("a") as f:
                proc = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, cwd=REPO,
                                        start_new_session=True)
            log(f"[train] started queue {i} (pid {proc.pid}), log {log_path}")


# --- evaluate, export ----------------------------------------------------------------------

def _stale(settings: Settings, stage: str, output: Callable[[Experiment], Path]
           ) -> Iterator[tuple[Experiment, str | Path, Path]]:
    """``(experiment, checkpoint, output)`` of the runs whose weights (``best.pt``, or the
    shipped weights standing in) are newer than their ``output(experiment)`` or not what it
    was made from (:func:`analysis.standins.up_to_date`; every run with weights under
    ``force``); logs the others."""
    for exp in settings.experiments:
        status, out = settings.status(exp), output(exp)
        if not status.weights.is_file():
            continue
        if up_to_date(out, status) and not settings.force:
            log(f"[{stage}] {exp.run}: up to date")
            continue
        yield exp, status.checkpoint, out


def stage_evaluate(settings: Settings) -> None:
    """Evaluate every run whose weights are newer than its evaluation (:func:`_stale`)."""
    for exp, checkpoint, out in _stale(settings, "evaluate", settings.eval_path):
        if settings.compile:
            # Every model's compiled pass is a version of one function for dynamo, which runs
            # eagerly past its recompile limit (8): start each model afresh.
            import torch

            torch._dynamo.reset()
        result = evaluate(checkpoint, split="test", data_dir=settings.run_data_dir(exp),
                          device=settings.device, batch_size=settings.batch_size,
                          repeats=settings.repeats, latency_images=settings.latency_images,
                          compile=settings.compile)
        result.update(cpu=cpu_name(), load_1min=os.getloadavg()[0],
                      evaluated_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
        write_text_atomic(out, json.dumps(result, indent=2) + "\n")
        log(f"[evaluate] {exp.run}: epoch {result['epoch']}, {result['accuracy_pct']:.2f} %, "
             f"{result['latency_ms_mean']:.2f} ms/image")


def stage_export(settings: Settings) -> None:
    """Export the test-set scanpaths of every run whose weights are newer than its export
    (:func:`_stale`): with the policy mean, and with locations sampled from the policy
    (glimpse models only; seed :data:`SAMPLING_SEED`)."""
    for policy in POLICIES:
        for exp, checkpoint, out in _stale(settings, f"export {policy}",
                                           lambda e, p=policy: settings.export_path(e, p)):
            if policy == "sampled" and exp.glimpses is None:
                continue  # the CNN's saliency scanpath has no policy to sample
            export_scanpaths(checkpoint, split="test", out=out, data_dir=settings.run_data_dir(exp),
                             stochastic=policy == "sampled", seed=SAMPLING_SEED,
                             limit=settings.limit, device=settings.device,
                             batch_size=settings.batch_size)
            log(f"[export {policy}] {exp.run}: {out}")


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
            log(f"[analyze] no {policy} exports yet (run the export stage)")
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
        log(f"[analyze] {paths[0]}")
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
        if not settings.status(exp).finished:
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
    log(f"[analyze {policy}] {result.rows:,} glimpses in {result.scanpaths:,} scanpaths "
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
