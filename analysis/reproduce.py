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
    :func:`zoo.evaluate.evaluate` on each run's ``best.pt`` (whatever epoch it has reached;
    the copy pinned for this invocation, below), or on the shipped weights standing in for it
    (below): test accuracy, parameters,
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

Pinned weights: a run still training replaces its ``best.pt`` whenever it improves, so each
invocation copies every run's ``best.pt`` once (:func:`pin_weights`, :mod:`analysis.pinning`)
and evaluates and exports that copy: the table's accuracy, the scanpaths, the claims and every
epoch named in a table, title or note come from the same weights.

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
import torch

from analysis.claims import (
    CLAIMS,
    THRESHOLD_PX,
    accuracy_claims,
    claims_by_glimpses,
    human_shape_claim,
)
from analysis.experiments import (
    Experiment,
    roles_by_glimpses,
    training_order,
    write_synthetic_fer2013,
)
from analysis.pinning import unfinished_runs
from analysis.queues import queue_commands
from analysis.results_report import plot_training, results_table, write_results
from analysis.settings import (
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
    write_csv_or_remove,
    write_text_atomic,
)
from analysis.standins import made_from, pinned_weights, refusal
from analysis.table_figures import (
    plot_density_figures,
    plot_glimpse_figures,
    plot_human_densities,
    plot_sweep,
)
from gazekit.analyze import analyze
from gazekit.human import FORMATS
from gazekit.io import read_scanpaths
from gazekit.segment import segment
from gazekit.sweep import threshold_sweep
from zoo.evaluate import evaluate
from zoo.export import export_scanpaths
from zoo.health import SPREAD_FLOOR_PX, location_spread
from zoo.machine import cpu_name
from zoo.plot import model_colors

# Re-exported: the scripts and notebooks that use the pipeline's settings and results table.
__all__ = ["RESULTS_DIR", "STAGES", "SWEEP_THRESHOLDS_PX", "Settings", "first_glimpses", "main",
           "pin_weights", "plot_training", "results_table", "run", "write_csv"]

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

#: Weights of each run in one invocation: a pinned copy of its ``best.pt``, or the
#: ``pretrained:`` spec of the shipped weights standing in for it.
Pins = dict[str, str | Path]


def pin_weights(settings: Settings) -> Pins:
    """The weights each run is evaluated and exported with in this invocation, by run name:
    its ``best.pt`` copied once to ``WORK/pinned/<run>/`` (:func:`analysis.pinning.pin`), or
    the spec of the shipped weights standing in for it; runs without weights are left out."""
    pins = {exp.run: pinned_weights(settings.status(exp), settings.work)
            for exp in settings.experiments}
    return {run: weights for run, weights in pins.items() if weights is not None}


def _stale(settings: Settings, stage: str, output: Callable[[Experiment], Path], pins: Pins
           ) -> Iterator[tuple[Experiment, str | Path, Path]]:
    """``(experiment, weights, output)`` of the runs whose ``output(experiment)`` was not made
    from their weights in ``pins`` (:func:`analysis.standins.made_from`; every run with
    weights under ``force``); logs the others."""
    for exp in settings.experiments:
        weights, out = pins.get(exp.run), output(exp)
        if weights is None:
            continue
        if made_from(out, weights, settings.status(exp)) and not settings.force:
            log(f"[{stage}] {exp.run}: up to date")
            continue
        yield exp, weights, out


def stage_evaluate(settings: Settings, pins: Pins | None = None) -> None:
    """Evaluate every run whose evaluation was not made from its pinned weights
    (:func:`_stale`; ``pins`` default :func:`pin_weights`)."""
    pins = pin_weights(settings) if pins is None else pins
    for exp, checkpoint, out in _stale(settings, "evaluate", settings.eval_path, pins):
        if settings.compile:
            # Every model's compiled pass is a version of one function for dynamo, which runs
            # eagerly past its recompile limit (8): start each model afresh.
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


def stage_export(settings: Settings, pins: Pins | None = None) -> None:
    """Export the test-set scanpaths of every run whose export was not made from its pinned
    weights (:func:`_stale`; ``pins`` default :func:`pin_weights`): with the policy mean, and
    with locations sampled from the policy (glimpse models only; seed :data:`SAMPLING_SEED`)."""
    pins = pin_weights(settings) if pins is None else pins
    for policy in POLICIES:
        for exp, checkpoint, out in _stale(settings, f"export {policy}",
                                           lambda e, p=policy: settings.export_path(e, p), pins):
            if policy == "sampled" and exp.glimpses is None:
                continue  # the CNN's saliency scanpath has no policy to sample
            export_scanpaths(checkpoint, split="test", out=out, data_dir=settings.run_data_dir(exp),
                             stochastic=policy == "sampled", seed=SAMPLING_SEED,
                             limit=settings.limit, device=settings.device,
                             batch_size=settings.batch_size)
            log(f"[export {policy}] {exp.run}: {out}")


# --- analyze -------------------------------------------------------------------------------

#: The tables of the analyze stage (``RESULTS/<stem>_<name>.csv``). One that a rerun leaves
#: empty (no exports, no human data, no MRAM) has its older file removed, never kept stale.
ANALYZE_TABLES = ("gaze_summary", "claims", "claims_after_first", "first_glimpses",
                  "threshold_sweep", "threshold_claims", "human_shape", "accuracy_claims")


def _spread(glimpses: pd.DataFrame) -> pd.DataFrame:
    """Per model, how far one glimpse's centres spread over the test images: ``x_sd``,
    ``y_sd`` (sample sd, ddof 1, px), ``spread_px`` (RMS distance from their mean, px, as
    training measures it: :func:`zoo.health.location_spread`) and ``spread_above_floor``
    (``spread_px >= zoo.health.SPREAD_FLOOR_PX``: the glimpse depends on the image)."""
    grouped = glimpses.groupby("model", sort=False, observed=True)
    spread = pd.Series({model: float(location_spread(torch.tensor(
        g[["x", "y"]].to_numpy(np.float64))[:, None, :])[0]) for model, g in grouped},
        dtype=np.float64)
    return pd.DataFrame({"x_sd": grouped["x"].std(), "y_sd": grouped["y"].std(),
                         "spread_px": spread,
                         "spread_above_floor": spread >= SPREAD_FLOOR_PX})


def first_glimpses(table: pd.DataFrame) -> pd.DataFrame:
    """Where each model's first two glimpses land, from a validated scanpath table.

    Returns one row per ``model``: ``x_mean``, ``y_mean`` of the glimpse centres at ``step`` 0
    (**pixels**), their spread (:func:`_spread`: ``x_sd``, ``y_sd``, ``spread_px``,
    ``spread_above_floor``), ``corner_share``, the share of them within half a glimpse
    (``glimpse_size / 2`` px) of an image corner in both x and y, and the spread of the second
    glimpse (``step`` 1) as ``glimpse2_x_sd``, ``glimpse2_y_sd``, ``glimpse2_spread_px``,
    ``glimpse2_spread_above_floor`` (empty for a model with one glimpse). A first glimpse that
    does not depend on the image parks the model; a second one that does not either means its
    policy ignores what the first glimpse saw.
    """
    first = table[table["step"] == 0]
    x, y = first["x"], first["y"]
    half = first["glimpse_size"] / 2
    corner = ((np.minimum(x, first["image_width"] - x) < half)
              & (np.minimum(y, first["image_height"] - y) < half))
    grouped = first.assign(corner=corner).groupby("model", sort=False, observed=True)
    where = pd.DataFrame({"x_mean": grouped["x"].mean(), "y_mean": grouped["y"].mean()})
    second = _spread(table[table["step"] == 1]).reindex(where.index)
    second["spread_above_floor"] = second["spread_above_floor"].astype("boolean").where(
        second["spread_px"].notna())
    return where.join(_spread(first)).assign(corner_share=grouped["corner"].mean()).join(
        second.add_prefix("glimpse2_")).rename_axis("model").reset_index()


def _with_provisional(claims: pd.DataFrame, open_runs: dict[str, str],
                      labels: dict[int, dict[str, str]]) -> pd.DataFrame:
    """``claims`` with a ``provisional`` column: the runs still training among the models of
    each row's claim at its T (``open_runs``: :func:`analysis.pinning.unfinished_runs`;
    ``labels``: role -> model label per T; a claim outside :data:`CLAIMS` involves every role
    at its T), with the epoch of their weights; ``""`` when all of them finished."""
    roles = {claim.key: claim.roles for claim in CLAIMS}

    def note(key: str, t: int) -> str:
        at_t = labels.get(t, {})
        used = [at_t[role] for role in roles.get(key, at_t) if role in at_t]
        return ", ".join(open_runs[label] for label in used if label in open_runs)

    return claims.assign(provisional=[note(key, int(t)) for key, t in
                                      zip(claims["key"], claims["glimpses"], strict=True)])


def _accuracy_provisional(accuracy: pd.DataFrame, open_runs: dict[str, str]) -> pd.DataFrame:
    """The accuracy claims with a ``provisional`` column (runs still training among each row's
    MRAM and rival, with the epoch of their weights; ``""`` when both finished)."""
    if accuracy.empty:
        return accuracy
    return accuracy.assign(provisional=[
        ", ".join(open_runs[m] for m in pair if m in open_runs)
        for pair in zip(accuracy["mram"], accuracy["rival"], strict=True)])


def stage_analyze(settings: Settings) -> None:
    """gazekit on the exports of each policy, the claims, and the glimpse and density figures.

    Writes the tables of :data:`ANALYZE_TABLES` (``RESULTS/<stem>_<name>.csv``; both policies,
    a ``policy`` column; the claims with a ``provisional`` column), the density and
    threshold-sweep figures of each policy (``_sampled`` for sampled locations) and the
    glimpse figures (policy mean; :mod:`analysis.table_figures`).
    """
    tables: dict[str, list[pd.DataFrame]] = {}
    for policy in POLICIES:
        exps = [e for e in settings.experiments if settings.export_path(e, policy).is_file()]
        if not exps:
            log(f"[analyze] no {policy} exports yet (run the export stage)")
            continue
        for name, table in _analyze_policy(settings, policy, exps).items():
            tables.setdefault(name, []).append(table)
    exps = [e for e in settings.experiments if settings.export_path(e).is_file()]
    accuracy = accuracy_claims({e.label: settings.export_path(e) for e in exps})
    tables["accuracy_claims"] = [_accuracy_provisional(accuracy, unfinished_runs(settings, exps))]
    for name in ANALYZE_TABLES:
        path = settings.results / f"{settings.stem}_{name}.csv"
        existed = path.is_file()
        if write_csv_or_remove(pd.concat(tables.get(name, [pd.DataFrame()])), path) is None \
                and existed:
            log(f"[analyze] removed {path}: its table is empty now")
    for png in plot_glimpse_figures(settings, exps):
        log(f"[analyze] {png}")


def _analyze_policy(settings: Settings, policy: str,
                    exps: list[Experiment]) -> dict[str, pd.DataFrame]:
    """gazekit on one policy's exports and its density, human and threshold-sweep figures;
    the tables ``gaze_summary``, ``claims``, ``claims_after_first``, ``first_glimpses``,
    ``threshold_sweep``, ``threshold_claims`` and (with human data) ``human_shape``."""
    paths = [settings.export_path(e, policy) for e in exps]
    suffix = (f"-limit{settings.limit}" if settings.limit else "") + POLICY_SUFFIX[policy]
    out = settings.work / f"analysis{suffix}"
    result = analyze(paths, out, threshold=THRESHOLD_PX, mode="consecutive", group_by="model",
                     overwrite=True, progress=False)
    settings.results.mkdir(parents=True, exist_ok=True)
    scanpaths = read_scanpaths(paths)  # in memory for the analyses that analyze does not do
    images = int(scanpaths["image_id"].nunique())
    colors = model_colors(result.summary["group"].astype(str))
    plot_density_figures(settings, policy, result.densities, exps, colors)
    # The paper does not say at which T its Figs. 2-3 are: the claims at each T, each row
    # naming the runs it uses that are still training.
    plain = roles_by_glimpses(e.label for e in exps)
    labels = {t: {role: label + POLICY_SUFFIX[policy] for role, label in roles.items()}
              for t, roles in plain.items()}
    open_runs = unfinished_runs(settings, exps, policy)

    def claims_of(scanpaths: pd.DataFrame, threshold: float = THRESHOLD_PX) -> pd.DataFrame:
        return _with_provisional(claims_by_glimpses(
            segment(scanpaths, threshold, "consecutive"), labels), open_runs, plain)

    claims = claims_of(scanpaths)
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
        claims = pd.concat([claims, _with_provisional(human_rows, open_runs, plain)],
                           ignore_index=True)
        tables["human_shape"] = shape.assign(policy=policy)
        plot_human_densities(settings, policy, versus.densities, glimpse_exps, colors)
    # The claims without each scanpath's first glimpse, which a model may park anywhere (our
    # DRAMs learn to put it in an image corner): the jump from there is no choice of gaze.
    tables["claims_after_first"] = claims_of(scanpaths[scanpaths["step"] > 0]).assign(
        policy=policy)
    tables["first_glimpses"] = first_glimpses(scanpaths).assign(policy=policy)
    # How the statistics and verdicts move with the paper's 6 px threshold.
    sweep = threshold_sweep(scanpaths, SWEEP_THRESHOLDS_PX, group_by="model")
    plot_sweep(settings, policy, sweep, exps, colors)
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
                claims_of(scanpaths, threshold).assign(threshold_px=threshold)
                for threshold in SWEEP_THRESHOLDS_PX], ignore_index=True).assign(policy=policy)}


def run(settings: Settings, stages: tuple[str, ...] = STAGES) -> pd.DataFrame | None:
    """Run ``stages`` in order; then write the results table unless only training was asked.

    Returns the results table, or None for ``("train",)``.
    """
    if settings.threads is not None:
        torch.set_num_threads(settings.threads)
    # Evaluate and export one copy of each run's weights, whatever training writes meanwhile.
    pins = pin_weights(settings) if {"evaluate", "export"} & set(stages) else {}
    steps = {"train": stage_train, "evaluate": lambda s: stage_evaluate(s, pins),
             "export": lambda s: stage_export(s, pins), "analyze": stage_analyze}
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
