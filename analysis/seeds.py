"""Is the paper's gaze claim robust to the training seed? (issue 14, part A; part C's agreement)

::

    python analysis/seeds.py --runs runs/fashion-mnist [--queues 2] [--models cnn ram mram]

One command, any time: it prints the ``analysis/train_queue.sh`` commands of the seed runs that
have not finished, exports the test-set scanpaths of every run that has a ``best.pt`` (from a
copy pinned as it was read, renewed when ``best.pt`` changes; finished or not:
:func:`analysis.gaze_runs.export_run`) and writes to ``RESULTS`` (default
``analysis/results``), stem ``seeds_fashion_mnist``:

``<stem>_runs.csv``
    One row per run: its state (``finished`` or ``epoch N (partial)``, read as its export
    started), the epoch of the weights exported (``weights_epoch``), test accuracy (%, the
    policy mean on the whole test split), fixational share, mean fixation (glimpse steps) and
    mean saccade (px) with cluster-bootstrap intervals over test images.
``<stem>.csv``
    The seed table: per model, accuracy mean ± sd over seeds beside the paper's, and each gaze
    statistic's mean ± sd over seeds (sample sd); ``partial`` when a seed is missing or has not
    finished, ``runs`` says which.
``<stem>_claims.csv``
    Each gaze claim (:mod:`analysis.claims`) at each glimpse count ``T`` and seed, with its
    criterion, measurement and verdict; and per claim and ``T`` the overall verdict
    (:func:`analysis.claims.seed_verdict`, :data:`SEED_RULE`: it holds only if it holds for
    every seed) in rows with ``seed`` ``all``.
``<stem>_accuracy_claims.csv``
    MRAM against CNN, RAM and DRAM per seed (exact McNemar test on paired predictions) and over
    seeds (:data:`SEED_RULE`), with :data:`analysis.claims.MCNEMAR_NOTE` and the seed spread
    of both accuracies.
``<stem>_agreement.csv``
    Scanpath similarity across seeds of one model against between models
    (:func:`analysis.agreement.summarize_agreement`), with the pairs each row dropped
    (MultiMatch needs 3 fixations per scanpath).
``<stem>_agreement_contrast.csv``
    Per model and rival, across-seed minus between-model agreement image by image, with a
    cluster-bootstrap interval over the common images and a verdict
    (:func:`analysis.agreement.agreement_contrast`).
``<stem>.md``
    All of it in words and tables.

Every table but ``_runs`` has a ``partial`` column: True where a row uses a run that has not
finished, or (over seeds) a model lacks a seed.

The runs (``RUNS`` = ``--runs``): seed 1 is the Table 2 run of ``analysis/reproduce.py --table
2`` (``RUNS/<model>-<T>``, ``RUNS/cnn``); seeds 2 and 3 are ``RUNS/<model>-<T>-seed<k>``, with
the same arguments and ``--seed k``. The seed sets the initial weights, the validation split,
the batch order and the glimpse noise. DRAM runs use
:data:`analysis.experiments.DRAM_REMEDY_ARGS`. Lost run folders of finished runs are replaced
by the shipped weights of those runs (``zoo/weights/fashion-mnist/<run>.pt``) when their model
card's training configuration matches (:mod:`analysis.standins`): such a run is not queued, is
exported from the shipped weights, and its state says ``finished (shipped weights)``. Order
of the queue: seeds 1, 2, 3 of CNN, RAM-7, DRAM-7 and MRAM-7, then RAM-12, DRAM-12 and MRAM-12.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Collection, Iterable
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd

from analysis.agreement import (
    AGREEMENT_IMAGES,
    CONTRAST_CRITERION,
    HEADLINE_MEASURES,
    agreement_contrast,
    agreement_pairs,
    summarize_agreement,
)
from analysis.claims import (
    CLAIMS,
    MCNEMAR_NOTE,
    N_RESAMPLES,
    STATISTICS,
    accuracy_claims,
    measure_claims,
    seed_verdict,
)
from analysis.experiments import Experiment, experiments, paper_table
from analysis.gaze_runs import (
    GazeRun,
    accuracy,
    export_run,
    gaze_statistics,
    mean_sd,
    queue_commands,
    read_runs,
    run_state,
    segment_runs,
)
from analysis.pinning import recorded_epoch
from analysis.settings import RESULTS_DIR, write_csv_or_remove
from analysis.standins import run_progress
from gazekit.atomic import atomic_file
from gazekit.report import markdown_table
from zoo.checkpoint import CheckpointError
from zoo.data import DatasetError

__all__ = ["SEEDS", "SEED_GLIMPSES", "SEED_RULE", "main", "seed_runs", "seed_tables",
           "write_results"]

SEEDS = (1, 2, 3)
#: Glimpse counts of the seed experiment, in queue order (T = 7 is part A's first priority).
SEED_GLIMPSES = (7, 12)
SEED_MODELS = ("cnn", "ram", "dram", "mram")
TABLE = 2  # Fashion-MNIST
SEED_RULE = (
    "Overall verdict over seeds (analysis.claims.seed_verdict): a claim holds only if it holds "
    "for every seed. When every seed gives the same verdict, that verdict; when some seeds "
    "reproduce the claim and some do not, 'mixed across seeds (a reproduced, b not reproduced, "
    "c inconclusive)'; when some reproduce it and the others are inconclusive, 'inconclusive "
    "(a of k seeds reproduced, c inconclusive)'; when some do not reproduce it and the others "
    "are inconclusive, 'not reproduced (b of k seeds, c inconclusive)'. A seed that cannot "
    "assess the claim counts as inconclusive. A seed without the runs the claim needs is not "
    f"assessed: with k of the {len(SEEDS)} seeds assessed the verdict starts 'only k of "
    f"{len(SEEDS)} seeds: ', with none it is 'cannot assess: no seed'.")


def _experiments(models: tuple[str, ...] = SEED_MODELS) -> list[Experiment]:
    return [e for e in experiments(TABLE) if e.main and e.model in models]


def seed_runs(models: tuple[str, ...] = SEED_MODELS) -> list[GazeRun]:
    """The seed experiment's runs in queue order: for T = 7 (with the CNN) and then T = 12,
    seed 1, 2, 3 of each model in turn (so whole seed sets finish first)."""
    exps = _experiments(models)
    order = []
    for i, t in enumerate(SEED_GLIMPSES):
        group = [e for e in exps if e.glimpses == t or (i == 0 and e.glimpses is None)]
        for seed in SEEDS:
            for exp in sorted(group, key=lambda e: SEED_MODELS.index(e.model)):
                extra = ("--seed", str(seed)) if seed != 1 else ()
                order.append(GazeRun(exp.run if seed == 1 else f"{exp.run}-seed{seed}",
                                     f"{exp.label} seed{seed}",
                                     (*exp.train_args(), *extra)))
    return order


def _parse(run: GazeRun) -> tuple[str, int]:
    label, _, seed = run.group.rpartition(" seed")
    return label, int(seed)


def seed_tables(runs: Path, work: Path, *, models: tuple[str, ...] = SEED_MODELS,
                limit: int | None = None, device: str = "cpu",
                n_resamples: int = N_RESAMPLES, agreement_images: int | None = AGREEMENT_IMAGES
                ) -> dict[str, pd.DataFrame]:
    """Export the runs that have weights and build every table of the module docstring.

    Returns ``{"runs", "seeds", "claims", "accuracy_claims", "agreement",
    "agreement_contrast"}`` (empty tables where no run has weights yet).
    """
    todo = seed_runs(models)
    exports, status = {}, {}
    for run in todo:
        # Each run's state as its export starts: one read after every export could describe
        # a later epoch than the weights exported. Which weights they are, the export records.
        status[run.group] = run_progress(runs / run.run, run.args)
        path = export_run(runs, work, run.run, args=run.args, limit=limit, device=device)
        if path is not None:
            exports[run.group] = path
    meta = {run.group: (run, *_parse(run)) for run in todo}
    tables: dict[str, pd.DataFrame] = {}
    per_run = pd.DataFrame([{
        "run": run.run, "model": label, "seed": seed, "state": run_state(status[run.group]),
        "status": status[run.group].state, "epochs_run": status[run.group].epochs_run,
        "best_epoch": status[run.group].best_epoch,
        "weights_epoch": recorded_epoch(exports[run.group]) if run.group in exports else None}
        for run, label, seed in meta.values()]).astype({"weights_epoch": "Int64"})
    per_run.insert(0, "group", list(meta))
    if exports:
        per_run = per_run.merge(accuracy(exports), on="group", how="left")
        gaze = {g: p for g, p in exports.items() if not g.startswith("CNN")}
        if gaze:
            scanpaths = read_runs(gaze)
            seg = segment_runs(scanpaths)
            per_run = per_run.merge(gaze_statistics(seg, gaze, n_resamples=n_resamples),
                                    on="group", how="left")
            tables["claims"] = _claims(seg, meta, gaze, status, n_resamples)
            tables["agreement"], tables["agreement_contrast"] = _agreement(
                scanpaths, meta, gaze, status, agreement_images, n_resamples)
        tables["accuracy_claims"] = _accuracy_claims(exports, meta, per_run, status,
                                                     n_resamples)
    tables["runs"] = per_run
    tables["seeds"] = _seed_table(per_run, status)
    return tables


def _run_label(seed: int, state: str, weights_epoch: int | None) -> str:
    """A run in the seed table: an unfinished one names the epoch of the weights exported.

    >>> _run_label(2, "epoch 40 (partial)", 31), _run_label(1, "finished", 61)
    ('seed2 epoch 40 (partial), weights of epoch 31', 'seed1 finished')
    """
    label = f"seed{seed} {state}"
    if state.startswith("finished") or pd.isna(weights_epoch):
        return label
    return f"{label}, weights of epoch {weights_epoch}"


def _seed_table(per_run: pd.DataFrame, status: dict) -> pd.DataFrame:
    """Mean ± sd over seeds per model, beside the paper's accuracy; ``partial`` by
    :func:`seed_set_partial` over the runs with results."""
    # experiments() follows the paper table's rows.
    paper = dict(zip((e.label for e in experiments(TABLE)),
                     paper_table(TABLE)["accuracy_pct"], strict=True))
    rows = []
    for label, runs in per_run.groupby("model", sort=False):
        done = runs[runs["accuracy_pct"].notna()] if "accuracy_pct" in runs else runs.iloc[:0]
        row = {"model": label, "paper_accuracy_pct": float(paper[label]),
               "seeds_with_results": len(done),
               "partial": seed_set_partial(list(done["group"]), status),
               "runs": "; ".join(_run_label(r.seed, r.state, r.weights_epoch)
                                 for r in runs.itertuples())}
        for column in ("accuracy_pct", *STATISTICS):
            values = done[column].to_numpy(float) if column in done else []
            row[f"{column}_mean"] = float(pd.Series(values).mean()) if len(values) else None
            row[f"{column}_sd"] = float(pd.Series(values).std(ddof=1)) if len(values) > 1 \
                else None
            row[column] = mean_sd(values, 2 if column in ("accuracy_pct",
                                                          "saccade_px_mean") else 3)
        rows.append(row)
    return pd.DataFrame(rows)


def claim_roles() -> tuple[str, ...]:
    """Every role some claim of :data:`analysis.claims.CLAIMS` needs, in first-use order."""
    return tuple(dict.fromkeys(role for claim in CLAIMS for role in claim.roles))


def seed_partial(groups: dict[str, str], status: dict) -> bool:
    """Whether one seed's claims are partial: a role that a claim needs has no run with
    weights (:func:`claim_roles`), or a role's run has not finished training.

    Parameters
    ----------
    groups : dict
        Role (``"ram"``, ...) -> group label of that seed's run with weights.
    status : dict
        Group label -> :class:`analysis.experiments.RunStatus` of its run.

    >>> from types import SimpleNamespace as S
    >>> done = S(finished=True)
    >>> seed_partial({r: r for r in claim_roles()}, dict.fromkeys(claim_roles(), done))
    False
    >>> seed_partial({"ram": "ram"}, {"ram": done})  # DRAM and MRAM missing
    True
    """
    missing = any(role not in groups for role in claim_roles())
    return missing or unfinished(groups.values(), status)


def unfinished(groups: Iterable[str], status: dict) -> bool:
    """Whether a run of ``groups`` (group labels) has not finished training (``status``: group
    label -> :class:`analysis.experiments.RunStatus`)."""
    return not all(status[group].finished for group in groups)


def seed_set_partial(groups: Collection[str], status: dict) -> bool:
    """Whether a result over the seeds of one model is partial: fewer runs with weights than
    :data:`SEEDS` (``groups``, their group labels), or one of them has not finished."""
    return len(groups) < len(SEEDS) or unfinished(groups, status)


def _claims(seg, meta: dict, gaze: dict, status: dict, n_resamples: int) -> pd.DataFrame:
    """Each claim per T and seed, then per T over seeds (``seed`` = ``all``)."""
    parts = []
    for t in SEED_GLIMPSES:
        for seed in SEEDS:
            groups = {label.split("-")[0].lower(): group for group, (_, label, s) in meta.items()
                      if s == seed and group in gaze and label.endswith(f"-{t}")}
            if not groups:
                continue
            partial = seed_partial(groups, status)
            claims = measure_claims(seg.fixations, seg.saccades, groups,
                                    n_resamples=n_resamples)
            parts.append(claims.assign(glimpses=t, seed=str(seed), partial=partial,
                                       runs=", ".join(sorted(groups.values()))))
    if not parts:
        return pd.DataFrame()
    per_seed = pd.concat(parts, ignore_index=True)
    overall = []
    for (t, key), rows in per_seed.groupby(["glimpses", "key"], sort=False):
        # A seed lacking a run is left out; a seed whose runs cannot settle it is counted.
        assessed = rows[~rows["verdict"].str.startswith("cannot assess: no scanpaths")]
        overall.append({
            "key": key, "claim": rows["claim"].iloc[0], "criterion": rows["criterion"].iloc[0],
            "measured": "; ".join(f"seed {r.seed}: {r.verdict}" for r in rows.itertuples()),
            "verdict": seed_verdict(list(assessed["verdict"]), len(SEEDS)),
            "images": rows["images"].iloc[0], "method": SEED_RULE, "glimpses": t,
            "seed": "all", "partial": bool(rows["partial"].any()) or len(assessed) < len(SEEDS),
            "runs": f"{len(assessed)} of {len(SEEDS)} seeds assessed"})
    return pd.concat([per_seed, pd.DataFrame(overall)], ignore_index=True)


def _accuracy_claims(exports: dict, meta: dict, per_run: pd.DataFrame, status: dict,
                     n_resamples: int) -> pd.DataFrame:
    """MRAM against its rivals per T and seed (McNemar), then over seeds with the spread;
    ``partial`` where a run compared has not finished (or, over seeds, a seed is missing)."""
    parts = []
    for t in SEED_GLIMPSES:
        for seed in SEEDS:
            groups = {label: group
                      for group, (_, label, s) in meta.items() if s == seed and group in exports
                      and (label == "CNN" or label.endswith(f"-{t}"))}
            table = accuracy_claims({label: exports[g] for label, g in groups.items()},
                                    n_resamples=n_resamples)
            if len(table):
                partial = [unfinished((groups[m], groups[r]), status)
                           for m, r in zip(table["mram"], table["rival"], strict=True)]
                parts.append(table.assign(glimpses=t, seed=str(seed), partial=partial))
    if not parts:
        return pd.DataFrame()
    per_seed = pd.concat(parts, ignore_index=True)
    acc = per_run.set_index("group")["accuracy_pct"]
    overall = []
    for (t, rival), rows in per_seed.groupby(["glimpses", "rival"], sort=False):
        mram = [acc[f"{rows['mram'].iloc[0]} seed{s}"] for s in rows["seed"]]
        other = [acc[f"{rival} seed{s}"] for s in rows["seed"]]
        overall.append({
            "mram": rows["mram"].iloc[0], "rival": rival, "glimpses": t, "seed": "all",
            "images": rows["images"].iloc[0],
            "mram_acc_pct": sum(mram) / len(mram), "rival_acc_pct": sum(other) / len(other),
            "seed_spread": f"{rows['mram'].iloc[0]} {mean_sd(mram)} %, {rival} "
                           f"{mean_sd(other)} %, difference "
                           f"{mean_sd([m - o for m, o in zip(mram, other, strict=True)])} "
                           "points",
            "criterion": rows["criterion"].iloc[0],
            "verdict": seed_verdict(list(rows["verdict"]), len(SEEDS)),
            "seeds": len(rows),
            "partial": bool(rows["partial"].any()) or len(rows) < len(SEEDS)})
    return pd.concat([per_seed, pd.DataFrame(overall)], ignore_index=True).assign(
        note=MCNEMAR_NOTE)


def _agreement(scanpaths: pd.DataFrame, meta: dict, gaze: dict, status: dict,
               images: int | None, n_resamples: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per T, the scanpath agreement summary and its across-seed vs between-model contrast
    (:mod:`analysis.agreement`); empty tables where no T has two runs. A row is ``partial``
    when one of its two models lacks a seed or has a run that has not finished
    (:func:`seed_set_partial`)."""
    summaries, contrasts = [], []
    for t in SEED_GLIMPSES:
        models = {g: meta[g][1] for g in gaze if meta[g][1].endswith(f"-{t}")}
        if len(models) >= 2:
            partial = {label: seed_set_partial([g for g, m in models.items() if m == label],
                                               status) for label in set(models.values())}
            pairs = agreement_pairs(scanpaths, models, images=images)
            summary = summarize_agreement(pairs, n_resamples=n_resamples)
            summaries.append(summary.assign(glimpses=t, partial=_either(summary, "model_a",
                                                                        "model_b", partial)))
            contrast = agreement_contrast(pairs, n_resamples=n_resamples)
            if len(contrast):
                contrasts.append(contrast.assign(glimpses=t, partial=_either(
                    contrast, "model", "other", partial)))
    return tuple(pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
                 for parts in (summaries, contrasts))


def _either(table: pd.DataFrame, a: str, b: str, partial: dict[str, bool]) -> pd.Series:
    """Per row, whether the model in column ``a`` or the one in ``b`` is partial."""
    return table[a].map(partial) | table[b].map(partial)


def _provenance(models: tuple[str, ...], command: str | None) -> list[str]:
    """Markdown lines naming the models analysed (and those left out) and the command."""
    left_out = [m.upper() for m in SEED_MODELS if m not in models]
    lines = [f"Models analysed: {', '.join(m.upper() for m in models)}."
             + (f" Not analysed (left out by `--models`): {', '.join(left_out)}; a claim that "
                "needs them says 'cannot assess: no scanpaths of ...' whether or not their "
                "runs exist." if left_out else "")]
    if command:
        lines += ["", f"Regenerate with `{command}`."]
    return [*lines, ""]


def _markdown(tables: dict[str, pd.DataFrame], runs: Path,
              models: tuple[str, ...] = SEED_MODELS, command: str | None = None) -> str:
    seeds = tables["seeds"]
    lines = ["# Seeds: is the paper's gaze claim robust?", "",
             f"Runs in `{runs}` (seed 1 = the Table 2 run, seeds 2 and 3 = `-seed2`, "
             "`-seed3`); test split of Fashion-MNIST, policy mean. Statistics: fixational "
             "share of glimpse-to-glimpse transitions, mean fixation in glimpse steps, mean "
             "saccade in px (consecutive rule, 6 px). Mean ± sample sd over seeds.", "",
             *_provenance(models, command)]
    if any(table["partial"].any() for table in tables.values() if "partial" in table):
        lines += ["**PARTIAL**: rows marked partial (column `partial`, in every table) lack a "
                  "seed or include a run that has not finished (its best weights so far); see "
                  "`runs` in the seed table.", ""]
    view = seeds[["model", "paper_accuracy_pct", "accuracy_pct", *STATISTICS,
                  "seeds_with_results", "partial", "runs"]]
    lines += ["## Seed table", "", markdown_table(view), ""]
    claims = tables.get("claims", pd.DataFrame())
    if len(claims):
        # The criteria of the per-seed rows name their resamples (--n-resamples).
        method = claims.loc[claims["seed"] != "all", "method"].iloc[0]
        lines += ["## Claims per seed and over seeds", "", f"Verdicts: {method}", "",
                  SEED_RULE, ""]
        for t, rows in claims.groupby("glimpses", sort=False):
            over = rows[rows["seed"] == "all"]
            lines += [f"**T = {t}, over seeds**", "",
                      markdown_table(over[["claim", "criterion", "measured", "verdict",
                                           "runs", "partial"]]), "",
                      f"**T = {t}, per seed**", "",
                      markdown_table(rows[rows["seed"] != "all"][
                          ["seed", "claim", "measured", "verdict", "partial"]]), ""]
    acc = tables.get("accuracy_claims", pd.DataFrame())
    if len(acc):
        lines += ["## MRAM's accuracy claim (McNemar) and the seed spread", "",
                  f"*{MCNEMAR_NOTE}*", ""]
        over = acc[acc["seed"] == "all"]
        per_seed = acc[acc["seed"] != "all"].assign(difference_pp=lambda d: [
            f"{m:+.2f} [{lo:+.2f}, {hi:+.2f}]" for m, lo, hi in
            zip(d["difference_pct"], d["difference_ci_low"], d["difference_ci_high"],
                strict=True)])
        lines += [f"Criterion: {over['criterion'].iloc[0]}", "",
                  markdown_table(over[["glimpses", "mram", "rival", "seeds", "seed_spread",
                                       "verdict", "partial"]]), "",
                  markdown_table(per_seed[
                      ["glimpses", "seed", "mram", "rival", "mram_acc_pct", "rival_acc_pct",
                       "difference_pp", "p_value", "verdict", "partial"]]), "",
                  "difference_pp: MRAM - rival in percentage points, 95 % bootstrap interval "
                  "over test images (test-set noise of that pair of networks).", "",
                  f"*{MCNEMAR_NOTE}*", ""]
    lines += _agreement_markdown(tables.get("agreement", pd.DataFrame()),
                                 tables.get("agreement_contrast", pd.DataFrame()))
    return "\n".join(lines)


def _interval(table: pd.DataFrame, digits: int = 3) -> pd.Series:
    return (table["ci_low"].round(digits).astype(str) + " .. "
            + table["ci_high"].round(digits).astype(str))


def _dropped(head: pd.DataFrame) -> list[str]:
    """One line per agreement row that dropped pairs, with the count and the reason."""
    rows = head[head["pairs_dropped"] > 0]
    if rows.empty:
        return ["No row dropped a pair.", ""]
    return ["Pairs dropped (MultiMatch is undefined when either scanpath has fewer than 3 "
            "fixations, so its rows cover only the pairs of longer scanpaths, a subset that "
            "depends on the models; DTW and edit similarity keep every pair):", "",
            *[f"- T = {r.glimpses}, {r.measure}, {r.model_a} | {r.model_b}: "
              f"{r.pairs_dropped:,} of {r.pairs_total:,} pairs dropped"
              for r in rows.itertuples()], ""]


DTW_NOTE = (
    "DTW (px) is the square root of a sum of squared distances along the warping path, so it "
    "grows with the number of fixations: models that differ in fixation count differ in DTW for "
    "that reason too; MultiMatch and edit similarity are normalised (in [0, 1]; edit similarity "
    "divides by the longer string's length).")
CONTRAST_NOTE = (
    "`across_seeds` and `between_models` are means of per-image means over the images both "
    "comparisons have (`n_images`), each image weighted equally, so they can differ from the "
    "means over pairs in the summary table above.")


def _agreement_markdown(agreement: pd.DataFrame, contrast: pd.DataFrame) -> list[str]:
    """Part C in words: the agreement table, its dropped pairs and the contrast."""
    if agreement.empty:
        return []
    head = agreement[agreement["measure"].isin(HEADLINE_MEASURES)]
    lines = ["## Scanpath agreement across seeds (part C)", "",
             "Similarity of the scanpaths of two runs on the same test image "
             "(gazekit.similarity; glimpses merged into fixations at 6 px), pooled by the "
             "models of the two runs: `across seeds` pairs two seeds of one model, "
             "`between models` two models. Mean over pairs with a 95 % cluster-bootstrap "
             f"interval over test images ({head['n_resamples'].iloc[0]} resamples). DTW in px "
             "(lower = more alike); MultiMatch and edit similarities in [0, 1] (higher = more "
             "alike).", "",
             markdown_table(head.assign(interval=_interval(head))[
                 ["glimpses", "measure", "comparison", "model_a", "model_b", "n_pairs",
                  "pairs_total", "n_stimuli", "mean", "interval", "partial"]]), "",
             DTW_NOTE, "", *_dropped(head)]
    if contrast.empty:
        return [*lines, "No model has two seeds and a rival yet: no across-seed vs "
                "between-model contrast.", ""]
    return [*lines, "**Across seeds vs between models.** Criterion: " + CONTRAST_CRITERION
            + f" ({contrast['n_resamples'].iloc[0]} resamples)", "",
            markdown_table(contrast.assign(interval=_interval(contrast))[
                ["glimpses", "model", "other", "measure", "across_seeds", "between_models",
                 "difference", "interval", "n_images", "verdict", "partial"]]), "",
            CONTRAST_NOTE, ""]


def write_results(tables: dict[str, pd.DataFrame], results: Path, runs: Path,
                  stem: str = "seeds_fashion_mnist", *, models: tuple[str, ...] = SEED_MODELS,
                  command: str | None = None) -> list[Path]:
    """Write the tables (CSV) and the Markdown report, which names ``models`` (those analysed)
    and ``command`` (the command line that regenerates it); return the files written. A table
    that is empty or absent removes the older CSV of its name."""
    results.mkdir(parents=True, exist_ok=True)
    names = {"seeds": "", "runs": "_runs", "claims": "_claims",
             "accuracy_claims": "_accuracy_claims", "agreement": "_agreement",
             "agreement_contrast": "_agreement_contrast"}
    # A table that is empty now removes its older file (it would contradict the new report).
    written = [path for key, suffix in names.items()
               if (path := write_csv_or_remove(tables.get(key, pd.DataFrame()),
                                               results / f"{stem}{suffix}.csv")) is not None]
    md = results / f"{stem}.md"
    with atomic_file(md) as tmp:
        tmp.write_text(_markdown(tables, runs, models, command) + "\n", encoding="utf-8")
    return [*written, md]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 with one line on bad input)."""
    p = argparse.ArgumentParser(prog="python analysis/seeds.py", description=__doc__.split(
        "\n")[0])
    p.add_argument("--runs", type=Path, default=Path("runs/fashion-mnist"),
                   help="folder of the run folders (default runs/fashion-mnist)")
    p.add_argument("--work", type=Path, help="exports folder (default RUNS/_seeds)")
    p.add_argument("--results", type=Path, default=RESULTS_DIR,
                   help="output folder (default analysis/results)")
    p.add_argument("--models", nargs="+", choices=SEED_MODELS, default=list(SEED_MODELS),
                   help="models to queue and analyse (default all)")
    p.add_argument("--queues", type=int, default=2, help="queues side by side (default 2)")
    p.add_argument("--limit", type=int, help="export only the first N test images")
    p.add_argument("--device", default="cpu", help="device of the exports (default cpu)")
    p.add_argument("--n-resamples", type=int, default=N_RESAMPLES,
                   help=f"bootstrap resamples (default {N_RESAMPLES})")
    p.add_argument("--agreement-images", type=int, default=AGREEMENT_IMAGES,
                   help=f"test images of the scanpath agreement (default {AGREEMENT_IMAGES})")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = p.parse_args(argv)
    models = tuple(args.models)
    try:
        commands, skipped = queue_commands(args.runs, seed_runs(models), args.queues)
        for line in skipped:
            print(f"[seeds] not queued: {line}")
        print("\n".join(map(shlex.join, commands)) or "[seeds] nothing to queue")
        tables = seed_tables(args.runs, args.work or args.runs / "_seeds", models=models,
                             limit=args.limit, device=args.device,
                             n_resamples=args.n_resamples,
                             agreement_images=args.agreement_images)
        for path in write_results(tables, args.results, args.runs, models=models,
                                  command=shlex.join(["python", "analysis/seeds.py", *argv])):
            print(path)
    except (CheckpointError, DatasetError, OSError, ValueError) as exc:
        print(f"seeds: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
