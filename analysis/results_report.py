"""A table's results next to the paper's: the results table (:func:`results_table`), its
Markdown page with the claims, figures and sensitivity tables (:func:`write_results`), and the
learning curves of its runs (:func:`plot_training`). Called by :mod:`analysis.reproduce` after
every stage but ``train``; reads only what the runs and the earlier stages wrote.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from analysis.claims import MCNEMAR_NOTE, THRESHOLD_PX, claims_markdown
from analysis.experiments import paper_table, read_metrics
from analysis.pinning import recorded_epoch
from analysis.settings import (
    DATASET_NOTES,
    FIGURE_NAMES,
    POLICIES,
    REPO,
    SAMPLING_SEED,
    SYNTHETIC_FER_NOTE,
    Settings,
    log,
    write_csv,
    write_text_atomic,
)
from gazekit.plot import group_colors, save_figure
from gazekit.report import markdown_table
from zoo.health import SPREAD_FLOOR_PX
from zoo.plot import model_colors

__all__ = ["plot_training", "results_table", "write_results"]

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
    points), ``val_accuracy_pct_ours`` (best validation accuracy), ``status``, ``state``
    (naming the shipped weights where they stand in for the run, :mod:`analysis.standins`),
    ``epochs_run``, ``max_epochs``, ``best_epoch`` (of the run now), ``evaluated_epoch``
    and ``exported_epoch`` (of the weights evaluated, and of those the policy-mean scanpaths,
    claims and figures come from: the same pinned copy when both stages ran in one
    invocation, :mod:`analysis.pinning`), ``wall_time_h`` (training, hours), ``train_hardware``,
    ``eval_hardware``, ``eval_load_1min`` (load average during evaluation), ``paper_note``.
    Values we do not have yet are empty.
    """
    paper = paper_table(settings.table)
    synthetic = settings.synthetic_fer
    rows = []
    for exp, ref in zip(settings.experiments, paper.itertuples(index=False), strict=True):
        status = settings.status(exp)
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
            "evaluated_epoch": ev.get("epoch"),
            "exported_epoch": recorded_epoch(settings.export_path(exp)),
            "wall_time_h": status.wall_time_s / 3600,
            "train_hardware": status.hardware,
            "eval_hardware": (f"{ev['cpu'] if ev['device'] == 'cpu' else ev['device_name']} "
                              f"({ev['device']}), {ev['torch_threads']} torch thread(s), batch 1"
                              + (", torch.compile" if ev.get("compiled") else "")
                              if ev else ""),
            "eval_load_1min": ev.get("load_1min", np.nan), "paper_note": ref.note,
        })
    table = pd.DataFrame(rows)
    for col in ("glimpses", "max_epochs", "best_epoch", "evaluated_epoch", "exported_epoch"):
        table[col] = table[col].astype("Int64")
    return table


MD_COLUMNS = {
    "model": "model", "params_m_paper": "params M (paper)", "params_m_ours": "params M (ours)",
    "ms_per_image_paper": "ms/image (paper)", "ms_per_image_ours": "ms/image (ours)",
    "accuracy_pct_paper": "acc % (paper)", "accuracy_pct_ours": "acc % (ours)",
    "accuracy_diff_pct": "diff", "epochs_run": "epochs", "state": "state",
    "wall_time_h": "train h",
}


def _load_note(table: pd.DataFrame) -> str:
    """The 1-minute load average during the evaluations, for the cores they had."""
    load = table["eval_load_1min"].dropna()
    if load.empty:
        return ""
    return (f" (1-minute load average {load.min():.1f}-{load.max():.1f} while measuring, "
            "`eval_load_1min` in the CSV; above the machine's core count the latencies measure "
            "the sharing, not the model: `benchmarks/README.md` has idle figures)")


def _provisional(table: pd.DataFrame) -> list[str]:
    """A warning naming the runs whose training has not ended, with the epoch of the weights
    the claims below it use (those of the exports), for those claims (none if every run with
    results has finished)."""
    open_runs = [f"{row.model} (weights of epoch {row.exported_epoch}; {row.state.split(';')[0]})"
                 for row in table.itertuples()
                 if row.state.startswith(("still training", "interrupted"))
                 and pd.notna(row.exported_epoch)]  # no export: in no claim
    if not open_runs:
        return []
    return [f"**Provisional**: the claims that involve {', '.join(open_runs)} use the best "
            "weights of a run that has not finished; they may change when it does.", ""]


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
        + ", measured while other jobs may share the machine" + _load_note(table) + ".",
        "- State: `finished` ran all epochs; `stopped early` met the 50-epoch patience; "
        "`still training` and `interrupted` runs are reported at their current best epoch, "
        "not at the end of the paper's protocol; `shipped weights zoo/weights/...`: the run's "
        "folder was lost and the shipped weights of that run (model card with the same "
        "training configuration) stand in for it, with the card's epochs and wall time.", "",
        markdown_table(view), "",
    ]
    lines += _accuracy_markdown(settings, table)
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
            *_provisional(table),
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
        "corner share: within half a glimpse of an image corner; `spread_px`: RMS distance of "
        "the glimpse centres from their mean over the test images, as training's health check "
        f"measures it, `zoo.health`; `spread_above_floor`: at least {SPREAD_FLOOR_PX:g} px, "
        "else the glimpse lands on the same place for every image; `glimpse2_`: the same for "
        "the second glimpse):", "",
        markdown_table(where.round(3)), "",
        "The claims measured on glimpses 2 to T only (same threshold and rules):", "",
        *claims_markdown(df)]


def _accuracy_markdown(settings: Settings, table: pd.DataFrame) -> list[str]:
    """The accuracy claim (:func:`analysis.claims.accuracy_claims`) per glimpse count T, with
    its criterion, the paired accuracy difference's interval (percentage points) and the
    runs still training among its models (``table``: :func:`results_table`); nothing before
    analyze."""
    path = settings.results / f"{settings.stem}_accuracy_claims.csv"
    if not path.is_file():
        return []
    df = pd.read_csv(path)
    if not {"glimpses", "criterion", "difference_ci_low"} <= set(df.columns):
        return [f"`{path.name}` predates the per-T accuracy rule: re-run the analyze stage.", ""]
    view = pd.DataFrame({
        "T": df["glimpses"], "comparison": df["mram"] + " vs " + df["rival"],
        "acc % (ours)": [f"{m:.2f} vs {r:.2f}" for m, r in
                         zip(df["mram_acc_pct"], df["rival_acc_pct"], strict=True)],
        "only MRAM right / only rival right": [
            f"{m} / {r}" for m, r in zip(df["mram_only"], df["rival_only"], strict=True)],
        "MRAM - rival, points [interval]": [
            f"{d:+.2f} [{lo:+.2f}, {hi:+.2f}]" for d, lo, hi in
            zip(df["difference_pct"], df["difference_ci_low"], df["difference_ci_high"],
                strict=True)],
        "McNemar p": [f"{p:.2g}" for p in df["p_value"]],
        "verdict": df["verdict"]})
    involved = table[table["model"].isin(set(df["mram"]) | set(df["rival"]))]
    seeds = [f"[`{p.name}`]({p.name})" for p in sorted(settings.results.glob("seeds_*.md"))]
    spread = (f" Accuracy over training seeds (mean ± sd): {', '.join(seeds)}." if seeds else
              " The seed experiment (`python analysis/seeds.py`) gives that spread.")
    return ["The paper's accuracy claim, MRAM outperforms CNN, RAM and DRAM, on our paired "
            f"test-set predictions at each glimpse count T ({df['images'].iloc[0]:,} images, "
            "policy mean; models of different T are never compared, the CNN is the rival at "
            "every T).", "", f"Criterion: {df['criterion'].iloc[0]}.", "",
            *_provisional(involved), markdown_table(view), "", f"*{MCNEMAR_NOTE}*{spread}", ""]


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
    Returns the files written, or ``[]`` when no run has logged an epoch yet. Runs whose
    shipped weights stand in for a lost folder have no log (their folder, if any, holds
    another, unfinished run) and are left out.
    """
    paper = paper_table(settings.table)
    logs = {}
    for exp, ref in zip(settings.experiments, paper.itertuples(index=False), strict=True):
        if settings.status(exp).shipped is not None:
            continue
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
    write_text_atomic(csv.with_suffix(".md"), _markdown(settings, table))
    log(f"[results] {csv} and {csv.with_suffix('.md').name}")
    return table
