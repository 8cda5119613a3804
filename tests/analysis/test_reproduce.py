"""The reproduction pipeline end to end on tiny fake runs (1 epoch on the synthetic data set):
run states, results table next to the paper, claims, figures, resumption, the synthetic FER
path, shipping weights and the demo. Checked against independent computations."""

from __future__ import annotations

import json
import math
import os
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.stats
import torch
from matplotlib.colors import to_hex
from PIL import Image

import zoo
from analysis import claims as claims_module
from analysis import demo_models, reproduce, ship_weights
from analysis.experiments import (
    experiments,
    figure_roles,
    paper_table,
    read_metrics,
    run_status,
    training_order,
    write_synthetic_fer2013,
)
from analysis.queues import running_queues
from gazekit.segment import segment
from zoo import data as zdata
from zoo.checkpoint import load_checkpoint
from zoo.plot import model_colors
from zoo.rundir import hold
from zoo.train import TrainConfig, train

LIMIT = 20  # test images exported
COLUMNS = [
    "run", "model", "arch", "glimpses", "scales", "variant", "paper_dataset", "dataset",
    "params_m_paper", "params_m_ours", "ms_per_image_paper", "ms_sd_paper", "ms_per_image_ours",
    "ms_sd_ours", "images_per_s_ours", "accuracy_pct_paper", "accuracy_pct_ours",
    "accuracy_diff_pct", "val_accuracy_pct_ours", "status", "state", "epochs_run",
    "max_epochs", "best_epoch", "evaluated_epoch", "exported_epoch", "wall_time_h",
    "train_hardware", "eval_hardware", "eval_load_1min", "paper_note",
]
TITLE_PX = 50  # height of a figure title line in the glimpse figures' PNGs (0.25 in, 200 dpi)


def tiny_run(runs: Path, name: str, model: str, kwargs: dict, **overrides) -> Path:
    settings = dict(model=model, model_kwargs=kwargs, dataset="synthetic",
                    out_dir=str(runs / name), epochs=1, batch_size=32, limit=64,
                    num_threads=1)
    train(TrainConfig(**{**settings, **overrides}))
    return runs / name


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    """Four table-2 runs in four states, then the whole pipeline (--stage all)."""
    root = tmp_path_factory.mktemp("reproduce")
    runs = root / "runs"
    tiny_run(runs, "mram-12", "mram", {"glimpses": 12})                       # finished
    tiny_run(runs, "cnn", "cnn", {})                                          # finished
    tiny_run(runs, "dram-12", "dram", {"glimpses": 12}, epochs=3, lr=0.0,     # stopped early
             patience=1)
    tiny_run(runs, "ram-12", "ram", {"glimpses": 12}, epochs=2)               # interrupted
    (runs / "ram-12" / "final.json").unlink()
    results = root / "results"
    argv = ["--table", "2", "--runs", str(runs), "--results", str(results), "--limit",
            str(LIMIT), "--repeats", "2", "--latency-images", "3", "--threads", "1",
            "--device", "cpu"]
    assert reproduce.main(argv) == 0
    table = pd.read_csv(results / "table2_fashion_mnist.csv", keep_default_na=False,
                        na_values=[""])
    return {"root": root, "runs": runs, "results": results, "argv": argv, "table": table}


def independent_accuracy_and_params(best: Path) -> tuple[float, int]:
    """Test accuracy (%) on the full synthetic test split and parameter count, from scratch."""
    state = load_checkpoint(best)
    model = zoo.create_model(state["model"], **state["model_kwargs"])
    model.load_state_dict(state["state_dict"])
    model.eval()
    images, labels = zdata.load_dataset(state["dataset"], "test")
    norm = state["normalization"]
    x = ((images.double() / 255 - norm["mean"]) / norm["std"]).float().unsqueeze(1)
    with torch.no_grad():
        logits = model(x, sample=False).logits if model.has_glimpses else model(x)
    accuracy = 100 * (logits.argmax(1) == labels).double().mean().item()
    return accuracy, sum(p.numel() for p in model.parameters())


def test_paper_tables_hold_the_papers_numbers():
    table = paper_table()
    assert table.groupby("table").size().to_dict() == {1: 11, 2: 9, 3: 9}
    mram = table[(table["table"] == 2) & (table["model"] == "mram") & (table["glimpses"] == 12)]
    assert mram[["params_m", "infer_ms_mean", "infer_ms_sd", "accuracy_pct"]].iloc[0].tolist() \
        == [1.163, 1.80, 0.02, 91.79]
    fer = table[(table["table"] == 3) & (table["model"] == "ram") & (table["scales"] == 2)]
    assert fer[["params_m", "infer_ms_mean", "infer_ms_sd", "accuracy_pct"]].iloc[0].tolist() \
        == [0.637, 5.50, 1.71, 46.27]
    assert table["source"].str.contains("Pan, Yonekura & Kuniyoshi").all()


def test_experiments_map_rows_to_models_and_runs():
    runs = [e.run for e in experiments(2)]
    assert runs == ["cnn", "ram-7", "ram-12", "dram-7", "dram-12", "dram_nocontext-7",
                    "dram_nocontext-12", "mram-7", "mram-12"]
    assert [e.run for e in training_order(experiments(2))][:4] == ["cnn", "ram-12", "dram-12",
                                                                   "mram-12"]
    table1 = experiments(1)
    assert {e.dataset for e in table1} == {"mnist-t10k"}
    assert {e.dataset for e in experiments(1, full_mnist=True)} == {"mnist"}
    assert {e.run for e in table1 if not e.main} == {"dram_nocontext-7", "dram_nocontext-10",
                                                     "dram_hybrid-10", "mram_single-10"}
    fer = [e for e in experiments(3) if e.scales == 2]
    assert [e.train_args() for e in fer][0] == ["--model", "ram", "--dataset", "fer2013",
                                               "--glimpses", "12", "--scales", "2"]
    assert figure_roles(["RAM-7", "RAM-12", "DRAM-nocontext-12", "MRAM-12-2scales",
                         "MRAM-10", "DRAM-12 (untrained)"]) == {
        "mram": "MRAM-10", "dram": "DRAM-12 (untrained)", "ram": "RAM-12"}


def test_run_status_reads_logs_of_running_jobs(tmp_path):
    run = tmp_path / "mram-12"
    run.mkdir()
    assert run_status(run).status == "not started"
    (run / "config.json").write_text(json.dumps({"epochs": 300, "patience": 50,
                                                 "device": "cpu", "num_threads": 1}))
    lines = [{"epoch": 1, "val_acc": 0.5, "epoch_time_s": 100.0},
             {"epoch": 2, "val_acc": 0.7, "epoch_time_s": 110.0},
             {"epoch": 3, "val_acc": 0.7, "epoch_time_s": 120.0}]
    # The last line is still being written: no newline yet, so it is not read.
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines)
                                       + '{"epoch": 4, "val')
    assert len(read_metrics(run / "metrics.jsonl")) == 3
    with hold(run):  # a trainer holds the folder, running or paused
        status = run_status(run)
    assert (status.status, status.epochs_run, status.best_epoch) == ("training", 3, 2)
    assert status.best_val_acc == 0.7 and status.wall_time_s == 330.0
    assert status.state == "still training: epoch 3 of 300 (best 2)"
    assert "assumed this host" in status.hardware
    assert run_status(run).state == \
        "interrupted at epoch 3 of 300 (best 2); resumable"


def test_results_table_columns_and_paper_numbers(pipeline):
    table = pipeline["table"]
    assert list(table.columns) == COLUMNS
    assert table["run"].tolist() == [e.run for e in experiments(2)]
    row = table.set_index("run").loc["mram-12"]
    assert [row["params_m_paper"], row["ms_per_image_paper"], row["ms_sd_paper"],
            row["accuracy_pct_paper"]] == [1.163, 1.80, 0.02, 91.79]
    cnn = table.set_index("run").loc["cnn"]
    assert [cnn["params_m_paper"], cnn["ms_per_image_paper"], cnn["accuracy_pct_paper"]] \
        == [0.061, 1.22, 89.02]
    main_table = (pipeline["results"] / "table2_fashion_mnist.md").read_text().split("\n## ")[0]
    assert main_table.count("| MRAM-12 |") == 1


def test_state_column(pipeline):
    table = pipeline["table"].set_index("run")
    expected = {
        "mram-12": ("finished", "finished after 1 epochs (best 1)", 1),
        "cnn": ("finished", "finished after 1 epochs (best 1)", 1),
        "dram-12": ("stopped early", "stopped early at epoch 2 (best 1, patience 1)", 2),
        "ram-12": ("interrupted", "interrupted at epoch 2 of 2 (best ", 2),
        "mram-7": ("not started", "not started", 0),
    }
    for run, (status, state, epochs) in expected.items():
        assert table.loc[run, "status"] == status
        assert table.loc[run, "state"].startswith(state)
        assert table.loc[run, "epochs_run"] == epochs
    for run in ("mram-12", "ram-12"):
        times = [json.loads(line)["epoch_time_s"] for line in
                 (pipeline["runs"] / run / "metrics.jsonl").read_text().splitlines()]
        assert table.loc[run, "wall_time_h"] == pytest.approx(sum(times) / 3600)
    assert table.loc["mram-12", "train_hardware"].endswith("torch " + torch.__version__)
    assert math.isnan(table.loc["mram-7", "accuracy_pct_ours"])


def test_our_numbers_match_an_independent_evaluation(pipeline):
    table = pipeline["table"].set_index("run")
    for run in ("mram-12", "ram-12", "dram-12", "cnn"):
        accuracy, params = independent_accuracy_and_params(pipeline["runs"] / run / "best.pt")
        assert table.loc[run, "accuracy_pct_ours"] == pytest.approx(accuracy, abs=1e-9)
        assert table.loc[run, "params_m_ours"] == pytest.approx(params / 1e6, abs=1e-12)
        assert table.loc[run, "accuracy_diff_pct"] == pytest.approx(
            accuracy - table.loc[run, "accuracy_pct_paper"])
        assert table.loc[run, "ms_per_image_ours"] > 0
        assert table.loc[run, "dataset"].startswith("synthetic")


@pytest.mark.parametrize("policy", ["mean", "sampled"])
def test_claims_match_a_naive_segmentation(pipeline, policy, naive_gaze):
    suffix = "" if policy == "mean" else "-sampled"
    summary = pd.read_csv(pipeline["results"] / "table2_fashion_mnist_gaze_summary.csv")
    summary = summary[summary["policy"] == policy].set_index("group")
    exports = pipeline["runs"] / "_reproduce" / "exports"
    for run, label in (("mram-12", "MRAM-12"), ("dram-12", "DRAM-12"), ("ram-12", "RAM-12")):
        export = pd.read_parquet(exports / f"{run}-limit{LIMIT}{suffix}.parquet")
        assert set(export["policy"]) == {policy}
        naive = naive_gaze(exports / f"{run}-limit{LIMIT}{suffix}.parquet")
        row = summary.loc[label + suffix]
        assert row["fixational_share"] == pytest.approx(naive["fixational_share"])
        assert row["fixation_steps_mean"] == pytest.approx(naive["fixation_steps_mean"])
        assert row["test_images"] == LIMIT
    claims = pd.read_csv(pipeline["results"] / "table2_fashion_mnist_claims.csv")
    claims = claims[(claims["policy"] == policy) & (claims["glimpses"] == 12)]
    ram = summary.loc["RAM-12" + suffix]
    row = claims.set_index("key").loc["ram_saccadic"]
    # The estimate is the summary's; the verdict follows from its interval and the criterion.
    assert f"fixational share {ram['fixational_share']:.3f} [" in row["measured"]
    low, high = (float(v) for v in row["measured"].split("fixational share ")[1].strip(
        "]").split(" [")[1].split(", "))
    steps_high = float(row["measured"].split("glimpses [")[1].split(", ")[1].split("]")[0])
    saccadic = high < 0.5 and steps_high < 1.5
    assert (row["verdict"] == "reproduced") == saccadic
    assert row["method"] == claims_module.CRITERIA


def test_sampled_exports_draw_around_the_policy_mean(pipeline):
    exports = pipeline["runs"] / "_reproduce" / "exports"
    assert not (exports / f"cnn-limit{LIMIT}-sampled.parquet").exists()  # no policy
    mean = pd.read_parquet(exports / f"mram-12-limit{LIMIT}.parquet")
    sampled = pd.read_parquet(exports / f"mram-12-limit{LIMIT}-sampled.parquet")
    assert len(mean) == len(sampled) == LIMIT * 12
    offset = (sampled[["x", "y"]] - mean[["x", "y"]]).to_numpy()
    assert np.abs(offset).max() > 0  # sampled, not the mean
    summary = pd.read_csv(pipeline["results"] / "table2_fashion_mnist_gaze_summary.csv")
    assert summary.groupby("policy")["group"].size().to_dict() == {
        "mean": 3, "sampled": 3, "saliency": 1}


def _correct_export(path: Path, correct: np.ndarray) -> Path:
    """A two-glimpse export whose image ``i`` is classified correctly iff ``correct[i]``."""
    n = len(correct)
    pd.DataFrame({"image_id": np.repeat(np.arange(n), 2), "step": np.tile([0, 1], n),
                  "correct": np.repeat(correct, 2)}).to_parquet(path)
    return path


@pytest.mark.parametrize(("mram_only", "rival_only", "verdict"), [
    (30, 5, "reproduced"), (6, 4, "inconclusive"), (3, 5, "inconclusive"),
    (5, 30, "not reproduced")])
def test_accuracy_claims_use_an_exact_mcnemar_test(tmp_path, mram_only, rival_only, verdict):
    both, neither = 50, 7
    mram = np.r_[np.ones(both + mram_only), np.zeros(rival_only + neither)].astype(bool)
    rival = np.r_[np.ones(both), np.zeros(mram_only), np.ones(rival_only),
                  np.zeros(neither)].astype(bool)
    exports = {"MRAM-12": _correct_export(tmp_path / "m.parquet", mram),
               "RAM-12": _correct_export(tmp_path / "r.parquet", rival),
               "CNN": _correct_export(tmp_path / "c.parquet", mram)}
    claims = claims_module.accuracy_claims(exports).set_index("rival")
    assert list(claims.index) == ["RAM-12", "CNN"]  # no DRAM export: no DRAM row
    row = claims.loc["RAM-12"]
    assert (row["mram_only"], row["rival_only"], row["images"]) == (
        mram_only, rival_only, len(mram))
    assert row["mram_acc_pct"] == pytest.approx(100 * mram.mean())
    assert row["rival_acc_pct"] == pytest.approx(100 * rival.mean())
    # Exact McNemar p by its closed form: twice the smaller binomial tail at 1/2.
    n = mram_only + rival_only
    expected = min(1.0, 2 * scipy.stats.binom.cdf(min(mram_only, rival_only), n, 0.5))
    assert row["p_value"] == pytest.approx(expected)
    assert row["verdict"] == verdict
    # Identical predictions: no discordant image, p = 1, no difference.
    assert claims.loc["CNN", "p_value"] == 1.0
    assert claims.loc["CNN", "verdict"] == "inconclusive"
    assert set(claims["glimpses"]) == {12}
    assert claims_module.accuracy_claims({"RAM-12": exports["RAM-12"]}).empty


def test_accuracy_claims_of_the_pipeline(pipeline):
    results = pipeline["results"]
    claims = pd.read_csv(results / "table2_fashion_mnist_accuracy_claims.csv")
    assert claims["rival"].tolist() == ["DRAM-12", "RAM-12", "CNN"]
    for row in claims.itertuples():
        # The exports' accuracy (first LIMIT images) is that of the same predictions.
        export = pd.read_parquet(pipeline["runs"] / "_reproduce" / "exports" /
                                 f"{row.rival.lower()}-limit{LIMIT}.parquet")
        assert row.rival_acc_pct == pytest.approx(
            100 * export.groupby("image_id")["correct"].first().mean())
        assert row.images == LIMIT
    mram = pd.read_parquet(pipeline["runs"] / "_reproduce" / "exports" /
                           f"mram-12-limit{LIMIT}.parquet")
    assert claims["mram_acc_pct"].iloc[0] == pytest.approx(
        100 * mram.groupby("image_id")["correct"].first().mean())
    report = (results / "table2_fashion_mnist.md").read_text()
    assert "exact two-sided McNemar test" in report and "| MRAM-12 vs RAM-12 |" in report
    assert claims_module.MCNEMAR_NOTE in report  # test-set noise, not the seed spread


def test_human_likeness_of_the_pipeline(pipeline):
    results = pipeline["results"]
    shape = pd.read_csv(results / "table2_fashion_mnist_human_shape.csv")
    assert set(shape["policy"]) == {"mean", "sampled"}
    assert not shape["group"].str.startswith("CNN").any()  # saliency is no gaze
    claims = pd.read_csv(results / "table2_fashion_mnist_claims.csv")
    human = claims[claims["claim"] == claims_module.HUMAN_CLAIM]
    assert human["policy"].tolist() == ["mean", "sampled"]
    assert (human["verdict"] == claims_module.HUMAN_WITHDRAWN).all()
    # The shape statistics are those of the model's own fixation durations (steps).
    mean = shape[shape["policy"] == "mean"].set_index(["group", "quantity"])
    export = pd.read_parquet(pipeline["runs"] / "_reproduce" / "exports" /
                             f"mram-12-limit{LIMIT}.parquet")
    seg = segment(export.assign(_scanpath=export["image_id"]), 6.0, "consecutive")
    steps = seg.fixations["n_glimpses"].to_numpy(float)
    assert mean.loc[("MRAM-12", "fixation_duration"), "cv"] == pytest.approx(
        scipy.stats.variation(steps))
    # NaN when every fixation of the (barely trained) model lasts equally long.
    expected = scipy.stats.skew(steps) if steps.std() > 1e-9 else np.nan
    assert mean.loc[("MRAM-12", "fixation_duration"), "skewness"] == pytest.approx(
        expected, nan_ok=True)
    for suffix in ("", "_sampled"):
        assert (results / f"table2_fashion_mnist{suffix}_human_densities.png").stat().st_size
    report = (results / "table2_fashion_mnist.md").read_text()
    assert "tests/data/human/studyforrest-events" in report


def test_first_glimpses_on_a_hand_made_table():
    table = pd.DataFrame({
        "model": ["A", "A", "A", "A", "B", "B"], "image_id": [0, 0, 1, 1, 0, 0],
        "step": [0, 1, 0, 1, 0, 1], "x": [1.0, 14.0, 27.5, 14.0, 14.0, 3.0],
        "y": [2.0, 14.0, 27.0, 14.0, 1.0, 3.0], "image_width": 28.0, "image_height": 28.0,
        "glimpse_size": 8.0})
    where = reproduce.first_glimpses(table).set_index("model")
    assert where.loc["A", "x_mean"] == pytest.approx(14.25)
    assert where.loc["A", "y_sd"] == pytest.approx(np.std([2.0, 27.0], ddof=1))
    assert where.loc["A", "corner_share"] == 1.0  # (1, 2) and (27.5, 27): both corners
    assert where.loc["B", "corner_share"] == 0.0  # on the top edge, not in a corner


def test_first_glimpses_spread_by_hand():
    """The RMS spread of glimpses 1 and 2 over images (zoo.health's measure) and the 0.5 px
    floor, against a hand computation: two images put a glimpse d px apart have spread d / 2."""
    table = pd.DataFrame({
        "model": ["A"] * 4 + ["C"] * 4 + ["D"] * 2,
        "image_id": [0, 0, 1, 1, 0, 0, 1, 1, 0, 1], "step": [0, 1, 0, 1, 0, 1, 0, 1, 0, 0],
        "x": [1.0, 14.0, 27.5, 14.0, 10.0, 10.0, 10.0, 10.0, 5.0, 5.0],
        "y": [2.0, 14.0, 27.0, 14.0, 10.0, 10.0, 11.2, 10.8, 5.0, 5.0],
        "image_width": 28.0, "image_height": 28.0, "glimpse_size": 8.0})
    where = reproduce.first_glimpses(table).set_index("model")
    assert where.loc["A", "spread_px"] == pytest.approx(math.hypot(26.5, 25.0) / 2)
    assert where.loc["A", "glimpse2_spread_px"] == 0.0  # the same place on both images
    assert where.loc["A", "glimpse2_x_sd"] == 0.0
    assert where.loc["C", "spread_px"] == pytest.approx(0.6)  # 1.2 px apart
    assert where.loc["C", "glimpse2_spread_px"] == pytest.approx(0.4)  # 0.8 px apart
    assert where.loc["C", "glimpse2_y_sd"] == pytest.approx(np.std([10.0, 10.8], ddof=1))
    assert reproduce.SPREAD_FLOOR_PX == 0.5
    assert where["spread_above_floor"].tolist() == [True, True, False]
    assert where.loc[["A", "C"], "glimpse2_spread_above_floor"].tolist() == [False, False]
    # D has one glimpse: no second-glimpse spread, rather than a made-up 0.
    assert where.loc["D", "spread_px"] == 0.0
    assert pd.isna(where.loc["D", "glimpse2_spread_px"])
    assert pd.isna(where.loc["D", "glimpse2_spread_above_floor"])


def test_claims_without_the_first_glimpse(pipeline, naive_gaze, tmp_path):
    results = pipeline["results"]
    claims = pd.read_csv(results / "table2_fashion_mnist_claims_after_first.csv")
    assert set(claims["policy"]) == {"mean", "sampled"}
    export = pd.read_parquet(pipeline["runs"] / "_reproduce" / "exports" /
                             f"ram-12-limit{LIMIT}.parquet")
    later = export[export["step"] > 0]
    later.to_parquet(tmp_path / "later.parquet")
    naive = naive_gaze(tmp_path / "later.parquet")
    between = claims[(claims["policy"] == "mean") & (claims["key"] == "mram_between")].iloc[0]
    assert f"RAM-12 {naive['fixational_share']:.3f} [" in between["measured"]
    first = pd.read_csv(results / "table2_fashion_mnist_first_glimpses.csv")
    row = first[(first["policy"] == "mean") & (first["model"] == "RAM-12")].iloc[0]
    start = export[export["step"] == 0]
    assert row["x_mean"] == pytest.approx(start["x"].mean())
    report = (results / "table2_fashion_mnist.md").read_text()
    assert "## Without the first glimpse" in report


def test_threshold_sensitivity(pipeline, naive_gaze):
    results = pipeline["results"]
    exports = pipeline["runs"] / "_reproduce" / "exports"
    sweep = pd.read_csv(results / "table2_fashion_mnist_threshold_sweep.csv")
    assert sorted(set(sweep["threshold_px"])) == list(reproduce.SWEEP_THRESHOLDS_PX)
    for policy, suffix in (("mean", ""), ("sampled", "-sampled")):
        for threshold in (3.0, 6.0, 10.0):
            naive = naive_gaze(exports / f"mram-12-limit{LIMIT}{suffix}.parquet", threshold)
            row = sweep[(sweep["group"] == "MRAM-12" + suffix)
                        & (sweep["threshold_px"] == threshold)].iloc[0]
            assert row["policy"] == policy
            assert row["fixational_share"] == pytest.approx(naive["fixational_share"])
            assert row["fixation_steps_mean"] == pytest.approx(naive["fixation_steps_mean"])
        assert (results / f"table2_fashion_mnist{suffix.replace('-', '_')}_threshold_sweep.png"
                ).stat().st_size > 0
    # At the paper's 6 px the re-judged verdicts are those of the claims table.
    verdicts = pd.read_csv(results / "table2_fashion_mnist_threshold_claims.csv")
    claims = pd.read_csv(results / "table2_fashion_mnist_claims.csv")
    for policy in ("mean", "sampled"):
        at6 = verdicts[(verdicts["policy"] == policy) & (verdicts["threshold_px"] == 6.0)]
        expected = claims[(claims["policy"] == policy) & (claims["key"] != "mram_human_like")]
        assert at6["verdict"].tolist() == expected["verdict"].tolist()
    report = (results / "table2_fashion_mnist.md").read_text()
    assert "## Sensitivity to the fixation threshold" in report
    assert "| claim | 1 px | 2 px |" in report


def test_figures_are_written(pipeline):
    results = pipeline["results"]
    # Fig. 2: rows MRAM, DRAM, RAM; one column per class among the 20 images (4 classes);
    # each panel 1.4 in at 200 dpi, below a title of two lines (what it shows; RAM-12 still
    # training).
    labels = pd.read_parquet(pipeline["runs"] / "_reproduce" / "exports" /
                             f"mram-12-limit{LIMIT}.parquet")["label"].nunique()
    with Image.open(results / "table2_fashion_mnist_fig2_glimpses.png") as png:
        assert png.size == (280 * labels, 280 * 3 + 2 * TITLE_PX)
    for name in ("fig2_glimpses.svg", "fig3_densities.png", "fig3_densities.svg"):
        assert (results / f"table2_fashion_mnist_{name}").stat().st_size > 0
    for name in ("fig3_densities.png", "fig3_densities.svg"):
        assert (results / f"table2_fashion_mnist_sampled_{name}").stat().st_size > 0
    # Each model's curve has its fixed colour (zoo.plot.model_colors), as in the other figures.
    svg = (results / "table2_fashion_mnist_fig3_densities.svg").read_text()
    models = pd.read_csv(results / "table2_fashion_mnist_gaze_summary.csv")["group"]
    for rgb in model_colors(models).values():
        assert to_hex(rgb) in svg
    # The interrupted RAM-12 is named in the title with the epoch of its exported weights; no
    # other run is.
    note = re.search(r"still training, shown at an earlier epoch: (.*?)(?: -->|<)", svg).group(1)
    epoch = torch.load(pipeline["runs"] / "ram-12" / "best.pt", weights_only=True)["epoch"]
    assert note == f"RAM-12 (epoch {epoch})"
    report = (results / "table2_fashion_mnist.md").read_text()
    # The claims say so too: only RAM-12 is named as unfinished.
    provisional = re.search(r"\*\*Provisional\*\*: the claims that involve (.*?) use", report)
    assert re.fullmatch(rf"RAM-12 \(weights of epoch {epoch}; interrupted at epoch \d+ of \d+ "
                        r"\(best \d+\)\)", provisional.group(1))
    assert "![densities mean](table2_fashion_mnist_fig3_densities.png)" in report
    assert "![densities sampled](table2_fashion_mnist_sampled_fig3_densities.png)" in report
    # The same figures at each glimpse count (here only T = 12 was trained), named by T.
    with Image.open(results / "table2_fashion_mnist_T12_fig2_glimpses.png") as png:
        assert png.size == (280 * labels, 280 * 3 + 2 * TITLE_PX)
    for name in ("fig2_glimpses", "T12_fig2_glimpses"):
        glimpses = (results / f"table2_fashion_mnist_{name}.svg").read_text()
        assert f"RAM-12 (epoch {epoch})" in glimpses and " mixed; " not in glimpses
    assert "Glimpses at T = 12 (policy mean" in glimpses
    for stem in ("table2_fashion_mnist_T12_fig3_densities",
                 "table2_fashion_mnist_sampled_T12_fig3_densities"):
        assert "at T = 12 glimpses" in (results / f"{stem}.svg").read_text()
    assert "![glimpses T = 12](table2_fashion_mnist_T12_fig2_glimpses.png)" in report


def test_stages_resume_without_redoing_work(pipeline, capsys):
    evaluation = pipeline["runs"] / "_reproduce" / "eval" / "mram-12.json"
    before = evaluation.stat().st_mtime_ns
    capsys.readouterr()
    assert reproduce.main([*pipeline["argv"], "--stage", "evaluate"]) == 0
    out = capsys.readouterr().out
    assert "[evaluate] mram-12: up to date" in out
    assert evaluation.stat().st_mtime_ns == before
    best = pipeline["runs"] / "mram-12" / "best.pt"
    os.utime(best, (time.time() + 5, time.time() + 5))  # a newer best epoch arrived
    assert reproduce.main([*pipeline["argv"], "--stage", "evaluate"]) == 0
    assert "[evaluate] mram-12: epoch 1" in capsys.readouterr().out


def test_train_stage_queues_unfinished_runs(pipeline, tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    for run in ("mram-12", "dram-12", "cnn", "ram-12"):
        (runs / run).symlink_to(pipeline["runs"] / run)
    busy = runs / "mram-7"  # a job is writing this one right now
    busy.mkdir()
    (busy / "config.json").write_text(json.dumps({"epochs": 300, "patience": 50}))
    (busy / "metrics.jsonl").write_text(json.dumps({"epoch": 1, "val_acc": 0.1,
                                                    "epoch_time_s": 5.0}) + "\n")
    settings = reproduce.Settings(table=2, runs=runs, work=tmp_path / "work")
    with hold(busy):
        commands, skipped = reproduce.train_commands(settings)
    assert len(skipped) == 1 and skipped[0].startswith("mram-7: still training: epoch 1 of")
    queued = [[spec.split(":")[0] for spec in argv[3:]] for argv in commands]
    assert queued == [["ram-12", "dram-7", "dram_nocontext-7"],
                      ["ram-7", "dram_nocontext-12"]]
    assert commands[0][:3] == ["bash", str(reproduce.REPO / "analysis" / "train_queue.sh"),
                               str(runs)]
    assert commands[1][3] == "ram-7:--model ram --dataset fashion-mnist --glimpses 7"


def test_running_queues_are_found_in_proc(tmp_path):
    runs = tmp_path / "work" / "runs"
    runs.mkdir(parents=True)
    proc = tmp_path / "proc"
    for pid, cwd, argv in [
        ("41", tmp_path / "work", ["bash", "analysis/train_queue.sh", "runs", "ram-7:--model ram",
                                   "cnn:--model cnn"]),
        ("42", tmp_path, ["bash", "train_queue.sh", str(tmp_path / "other"), "mram-7:x"]),
        ("43", tmp_path, ["python", "-m", "zoo.train", "--out", str(runs / "dram-7")]),
    ]:
        (proc / pid).mkdir(parents=True)
        (proc / pid / "cmdline").write_bytes("\0".join(argv).encode() + b"\0")
        (proc / pid / "cwd").symlink_to(cwd)
    assert running_queues(runs, proc) == {"ram-7": 41, "cnn": 41}


def test_synthetic_fer_csv(tmp_path):
    path = write_synthetic_fer2013(tmp_path / "a", 30, 10, 12, seed=3)
    again = write_synthetic_fer2013(tmp_path / "b", 30, 10, 12, seed=3)
    assert path.read_bytes() == again.read_bytes()
    images, labels, usage = zdata.read_fer2013(path)
    assert images.shape == (52, 48, 48) and images.dtype == np.uint8
    assert (pd.Series(usage).value_counts().to_dict()
            == {"Training": 30, "PrivateTest": 12, "PublicTest": 10})
    assert labels.min() >= 0 and labels.max() <= 6
    raw = pd.read_csv(path)
    first = np.array(raw["pixels"].iloc[0].split(), dtype=np.uint8).reshape(48, 48)
    assert np.array_equal(first, images[0])
    # Smiles (class 0) and frowns (class 6) differ where the mouth bends: below the mouth's
    # ends at the centre for a smile, above for a frown.
    smile, frown = images[labels == 0].mean(0), images[labels == 6].mean(0)
    assert smile[36, 24] < frown[36, 24] and smile[31, 24] > frown[31, 24]


def test_table3_runs_on_a_synthetic_fer_csv(tmp_path):
    data = tmp_path / "fer"
    write_synthetic_fer2013(data, 60, 20, 20)
    runs = tmp_path / "runs"
    tiny_run(runs, "mram-12", "mram", {"glimpses": 12}, dataset="fer2013",
             data_dir=str(data), limit=40)
    results = tmp_path / "results"
    assert reproduce.main(["--table", "3", "--runs", str(runs), "--results", str(results),
                           "--data-dir", str(data), "--repeats", "1", "--latency-images",
                           "2", "--threads", "1", "--device", "cpu", "--stage", "evaluate"]) == 0
    assert reproduce.main(["--table", "3", "--runs", str(runs), "--results", str(results),
                           "--data-dir", str(data), "--device", "cpu", "--stage", "export"]) == 0
    assert reproduce.main(["--table", "3", "--runs", str(runs), "--results", str(results),
                           "--data-dir", str(data), "--stage", "analyze"]) == 0
    table = pd.read_csv(results / "table3_fer2013_synthetic.csv").set_index("run")
    assert "SYNTHETIC" in table.loc["mram-12", "dataset"]
    assert table.loc["mram-12", "accuracy_pct_paper"] == 48.73
    with Image.open(results / "table3_fer2013_synthetic_fig4_glimpses.png") as png:
        assert png.size[1] == 280 + TITLE_PX  # one row: MRAM-12, below a one-line title
    assert "SYNTHETIC" in (results / "table3_fer2013_synthetic.md").read_text()


def test_ship_weights_then_demo(pipeline, tmp_path, monkeypatch, capsys):
    dest = tmp_path / "weights"
    assert ship_weights.main(["--runs", str(pipeline["runs"]), "--dest", str(dest),
                              "--examples", "12"]) == 0
    monkeypatch.setenv("ZOO_WEIGHTS", str(dest))
    best = load_checkpoint(pipeline["runs"] / "mram-12" / "best.pt")
    model = zoo.create_model("mram", glimpses=12, pretrained="synthetic").eval()
    for key, value in best["state_dict"].items():
        assert torch.equal(model.state_dict()[key], value)
    accuracy, params = independent_accuracy_and_params(pipeline["runs"] / "mram-12" / "best.pt")
    card = model.card
    assert card["test_acc"] == pytest.approx(accuracy / 100) and card["params"] == params
    assert (card["status"], card["finished"], card["epochs_run"]) == ("finished", True, 1)
    ram = json.loads((dest / "synthetic" / "ram-12.json").read_text())
    assert (ram["status"], ram["finished"]) == ("interrupted", False)
    examples, _ = zdata.load_dataset("synthetic", "test")
    stored = zdata.read_idx(dest / "examples" / "synthetic" / "t10k-images-idx3-ubyte.gz",
                            zdata.IDX_IMAGES_MAGIC)
    assert np.array_equal(stored, examples[:12].numpy())

    capsys.readouterr()
    out = tmp_path / "demo"
    summary = demo_models.run_demo(out, dataset="synthetic", limit=10)
    printed = capsys.readouterr().out
    assert set(summary["group"].astype(str)) == {"MRAM-12", "DRAM-12", "RAM-12",
                                                 "CNN-saliency-12"}
    assert "MRAM-12" in printed and "The paper's claims" in printed
    # Every verdict comes with its criterion and the estimates' intervals, as in claims.csv.
    claims = pd.read_csv(out / "claims.csv", keep_default_na=False)
    assert {"claim", "criterion", "measured", "verdict", "glimpses"} <= set(claims.columns)
    assert claims_module.CRITERIA in printed and set(claims["glimpses"]) == {12}
    for row in claims.itertuples():
        assert f"- {row.claim} [{row.criterion}]: {row.verdict}" in printed
        if row.measured:
            assert row.measured in printed
    interval = r"\[[-+]?\d+\.\d+(?: \w+)?, [-+]?\d+\.\d+(?: \w+)?\]"
    assert re.search(rf"fixational share \d\.\d+ {interval}", printed)
    assert (out / "analysis" / "report.md").is_file() and (out / "fig2_glimpses.png").is_file()
    assert len(list((out / "exports").glob("*.parquet"))) == 4


def test_ship_run_refuses_another_runs_files_before_evaluating(pipeline, tmp_path, monkeypatch):
    dest = tmp_path / "weights"
    card = dest / "synthetic" / "mram-12.json"
    card.parent.mkdir(parents=True)
    card.write_text(json.dumps({"source_run": "mram-12-seed2"}))

    def no_evaluation(*args, **kwargs):
        raise AssertionError("evaluated before refusing")

    monkeypatch.setattr(ship_weights, "evaluate", no_evaluation)
    with pytest.raises(ValueError, match="holds the weights of run 'mram-12-seed2'"):
        ship_weights.ship_run(pipeline["runs"] / "mram-12", dest)
    assert sorted(p.name for p in card.parent.iterdir()) == ["mram-12.json"]


def test_demo_without_weights_explains_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ZOO_WEIGHTS", str(tmp_path / "none"))
    assert demo_models.main(["--out", str(tmp_path / "demo")]) == 2
    err = capsys.readouterr().err
    assert "no trained weights are shipped for fashion-mnist" in err
    assert "analysis/ship_weights.py" in err
    assert not (tmp_path / "demo").exists()


def test_demo_into_an_unwritable_place_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("ZOO_WEIGHTS")  # the package's shipped weights (conftest hides them)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert demo_models.main(["--out", str(blocker / "demo"), "--data", "examples",
                             "--limit", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("demo_models: error: ") and err.count("\n") == 1
    assert str(blocker) in err and blocker.read_text() == ""


def test_compile_option_reaches_evaluate_and_the_table(pipeline, tmp_path, monkeypatch):
    calls = []

    def spy(*args, **kwargs):
        calls.append(kwargs["compile"])
        result = real(*args, **{**kwargs, "compile": False})  # compiling is tested in zoo
        return {**result, "compiled": kwargs["compile"]}

    real = reproduce.evaluate
    monkeypatch.setattr(reproduce, "evaluate", spy)
    argv = [*pipeline["argv"], "--work", str(tmp_path / "work"), "--results",
            str(tmp_path / "results"), "--stage", "evaluate", "--compile"]
    assert reproduce.main(argv) == 0
    assert calls == [True] * 4
    table = pd.read_csv(tmp_path / "results" / "table2_fashion_mnist.csv",
                        keep_default_na=False)
    evaluated = table[table["eval_hardware"] != ""]
    assert len(evaluated) == 4
    assert evaluated["eval_hardware"].str.endswith("batch 1, torch.compile").all()


def test_learning_curves(pipeline, tmp_path):
    results = pipeline["results"]
    with Image.open(results / "table2_fashion_mnist_training.png") as png:
        assert png.size == (1500, 600)  # 10 x 4 in at 150 dpi
    svg = (results / "table2_fashion_mnist_training.svg").read_text()
    for label in ("MRAM-12", "DRAM-12", "RAM-12", "CNN"):  # the legend names every logged run
        assert f"<!-- {label} -->" in svg  # matplotlib's comment before each text's glyphs
    assert "![training](table2_fashion_mnist_training.png)" in \
        (results / "table2_fashion_mnist.md").read_text()
    empty = reproduce.Settings(table=2, runs=tmp_path / "none", work=tmp_path / "w",
                               results=tmp_path / "r")
    assert reproduce.plot_training(empty) == []
    assert not (tmp_path / "r").exists()
