"""The seed experiment (issue 14, parts A and C) on tiny fake runs (1 epoch on the synthetic
data set): queue, seed table, verdicts per seed and over seeds, partial runs, McNemar's note and
scanpath agreement, each checked against an independent computation."""

from __future__ import annotations

import json
import math
import os
import shlex
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

import zoo
from analysis import seeds
from analysis.agreement import CONTRAST_CRITERION, agreement_contrast, summarize_agreement
from analysis.claims import (
    MCNEMAR_NOTE,
    accuracy_criterion,
    criteria,
    measure_claims,
    seed_verdict,
)
from analysis.experiments import DRAM_REMEDY_ARGS
from analysis.gaze_runs import GazeRun, export_run, mean_sd, queue_commands
from analysis.pinning import recorded, recorded_epoch
from analysis.queues import QUEUE_SCRIPT
from analysis.standins import run_progress, up_to_date
from gazekit.io import read_scanpaths
from gazekit.segment import segment
from zoo import data as zdata
from zoo.checkpoint import load_checkpoint, save_checkpoint
from zoo.export import export_scanpaths
from zoo.rundir import hold
from zoo.train import TrainConfig, train

LIMIT = 24  # test images exported
RESAMPLES = 200
MODELS = {"cnn": ("cnn", {}), "ram-7": ("ram", {"glimpses": 7}),
          "dram-7": ("dram", {"glimpses": 7, "context_output": "layernorm"}),
          "mram-7": ("mram", {"glimpses": 7})}


def tiny_run(runs: Path, name: str, model: str, kwargs: dict, seed: int, **overrides) -> Path:
    train(TrainConfig(**{**dict(model=model, model_kwargs=kwargs, dataset="synthetic",
                                out_dir=str(runs / name), epochs=1, batch_size=32, limit=64,
                                num_threads=1, seed=seed), **overrides}))
    return runs / name


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    """Seeds 1 and 2 of CNN, RAM-7, DRAM-7 and MRAM-7 (seed 3 missing); MRAM-7 seed 2 is
    interrupted after epoch 2 (partial)."""
    root = tmp_path_factory.mktemp("seeds")
    runs = root / "runs"
    for base, (model, kwargs) in MODELS.items():
        tiny_run(runs, base, model, kwargs, seed=1)
        if base != "mram-7":
            tiny_run(runs, f"{base}-seed2", model, kwargs, seed=2)
    tiny_run(runs, "mram-7-seed2", "mram", MODELS["mram-7"][1], seed=2, epochs=2)
    (runs / "mram-7-seed2" / "final.json").unlink()
    results = root / "results"
    argv = ["--runs", str(runs), "--results", str(results), "--limit", str(LIMIT),
            "--n-resamples", str(RESAMPLES), "--agreement-images", "10"]
    assert seeds.main(argv) == 0
    read = {name: pd.read_csv(results / f"seeds_fashion_mnist{suffix}.csv",
                              dtype={"seed": str})
            for name, suffix in (("seeds", ""), ("per_run", "_runs"), ("claims", "_claims"),
                                 ("accuracy", "_accuracy_claims"),
                                 ("agreement", "_agreement"),
                                 ("contrast", "_agreement_contrast"))}
    return {"folder": runs, "results": results, "argv": argv, **read}


def test_seed_runs_queue_order_and_arguments():
    runs = seeds.seed_runs()
    names = [r.run for r in runs]
    assert names[:12] == ["cnn", "ram-7", "dram-7", "mram-7",
                          "cnn-seed2", "ram-7-seed2", "dram-7-seed2", "mram-7-seed2",
                          "cnn-seed3", "ram-7-seed3", "dram-7-seed3", "mram-7-seed3"]
    assert names[12:] == ["ram-12", "dram-12", "mram-12", "ram-12-seed2", "dram-12-seed2",
                          "mram-12-seed2", "ram-12-seed3", "dram-12-seed3", "mram-12-seed3"]
    by_name = {r.run: r for r in runs}
    # Seed 1 is the Table 2 run: its arguments, no --seed (the default 1).
    assert by_name["ram-7"].args == ("--model", "ram", "--dataset", "fashion-mnist",
                                     "--glimpses", "7")
    assert by_name["ram-7-seed3"].args[-2:] == ("--seed", "3")
    dram = by_name["dram-12-seed2"].args
    assert dram[:-2][-len(DRAM_REMEDY_ARGS):] == DRAM_REMEDY_ARGS
    assert by_name["cnn-seed2"].group == "CNN seed2"


def test_queue_commands_leave_out_finished_and_busy_runs(experiment, tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    for name in ("ram-7", "mram-7-seed2"):
        (runs / name).symlink_to(experiment["folder"] / name)
    busy = runs / "dram-7"  # a job is training it right now (it holds the folder)
    busy.mkdir()
    (busy / "config.json").write_text(json.dumps({"epochs": 300, "patience": 50}))
    (busy / "metrics.jsonl").write_text(json.dumps({"epoch": 3, "val_acc": 0.1,
                                                    "epoch_time_s": 5.0}) + "\n")
    todo = [GazeRun(n, n, ("--model", "x")) for n in
            ("ram-7", "dram-7", "mram-7-seed2", "cnn-seed3", "ram-7-seed3")]
    with hold(busy):
        commands, skipped = queue_commands(runs, todo, queues=2)
    assert skipped == ["dram-7: still training: epoch 3 of 300 (best 3); a job is writing it"]
    assert [c[3:] for c in commands] == [["mram-7-seed2:--model x", "ram-7-seed3:--model x"],
                                         ["cnn-seed3:--model x"]]
    assert commands[0][:3] == ["bash", str(QUEUE_SCRIPT), str(runs)]


def test_main_prints_the_queue_of_missing_runs(experiment, capsys, tmp_path):
    assert seeds.main(["--runs", str(experiment["folder"]), "--results", str(tmp_path),
                       "--limit", str(LIMIT), "--n-resamples", "50", "--agreement-images",
                       "4", "--models", "ram"]) == 0
    out = capsys.readouterr().out.splitlines()
    queue = [line for line in out if "train_queue.sh" in line]
    assert len(queue) == 2
    specs = " ".join(queue)
    assert "'ram-7-seed3:--model ram --dataset fashion-mnist --glimpses 7 --seed 3'" in specs
    assert "ram-12:" in specs and "ram-7:" not in specs and "ram-7-seed2:" not in specs


def independent_accuracy(best: Path) -> float:
    """Test accuracy (%) of the first LIMIT synthetic test images, from scratch."""
    state = load_checkpoint(best)
    model = zoo.create_model(state["model"], **state["model_kwargs"])
    model.load_state_dict(state["state_dict"])
    model.eval()
    images, labels = zdata.load_dataset(state["dataset"], "test")
    norm = state["normalization"]
    x = ((images[:LIMIT].double() / 255 - norm["mean"]) / norm["std"]).float().unsqueeze(1)
    with torch.no_grad():
        logits = model(x, sample=False).logits if model.has_glimpses else model(x)
    return 100 * (logits.argmax(1) == labels[:LIMIT]).double().mean().item()


def test_per_run_accuracy_and_gaze_match_independent_computations(experiment, naive_gaze):
    folder = experiment["folder"]
    for row in experiment["per_run"].dropna(subset=["accuracy_pct"]).itertuples():
        assert row.accuracy_pct == pytest.approx(independent_accuracy(folder / row.run /
                                                                      "best.pt"), abs=1e-9)
        if row.run.startswith("cnn"):
            assert math.isnan(row.fixational_share)  # a saliency path is no gaze
            continue
        naive = naive_gaze(folder / "_seeds" / "exports" / f"{row.run}-limit{LIMIT}.parquet")
        for statistic, value in naive.items():
            got = getattr(row, statistic)
            assert got == pytest.approx(value, rel=1e-9, nan_ok=True)
            if np.isfinite(value):
                low = getattr(row, f"{statistic}_ci_low")
                high = getattr(row, f"{statistic}_ci_high")
                assert low - 1e-12 <= value <= high + 1e-12


def test_runs_state_marks_partial_runs(experiment):
    per_run = experiment["per_run"].set_index("run")
    assert per_run.loc["mram-7-seed2", "state"] == "epoch 2 (partial)"
    assert per_run.loc["mram-7", "state"] == "finished"
    assert per_run.loc["ram-7-seed3", "state"] == "not started"
    assert np.isnan(per_run.loc["ram-7-seed3", "accuracy_pct"])
    table = experiment["seeds"].set_index("model")
    assert bool(table.loc["MRAM-7", "partial"])  # a run unfinished, a seed missing
    assert "seed2 epoch 2 (partial)" in table.loc["MRAM-7", "runs"]
    assert "seed3 not started" in table.loc["RAM-7", "runs"]
    md = (experiment["results"] / "seeds_fashion_mnist.md").read_text()
    assert "PARTIAL" in md
    # The epoch of the weights exported, read from each run's best.pt; none without weights.
    done = per_run["accuracy_pct"].notna()
    assert done.sum() == 8
    for run in per_run.index[done]:
        epoch = load_checkpoint(experiment["folder"] / run / "best.pt")["epoch"]
        assert per_run.loc[run, "weights_epoch"] == epoch
    assert per_run["weights_epoch"][~done].isna().all()
    epoch = int(per_run.loc["mram-7-seed2", "weights_epoch"])  # float in the CSV (NaN)
    assert f"seed2 epoch 2 (partial), weights of epoch {epoch}" in table.loc["MRAM-7", "runs"]
    assert f"seed2 epoch 2 (partial), weights of epoch {epoch}" in md


def test_export_run_redoes_an_export_of_weights_replaced_meanwhile(tmp_path):
    """A trainer replaces best.pt (by a rename) while its export runs: the finished export is
    newer than best.pt but of the older weights. It is made again, from a pinned copy of the
    new weights; an export of unchanged weights is not."""
    runs, work = tmp_path / "runs", tmp_path / "work"
    best = tiny_run(runs, "ram-7", "ram", MODELS["ram-7"][1], seed=1) / "best.pt"
    first = load_checkpoint(best)
    out = export_run(runs, work, "ram-7", limit=LIMIT)
    pinned = work / "pinned" / "ram-7" / f"epoch{first['epoch']}.pt"
    assert recorded(out)["checkpoint"] == str(pinned)
    assert recorded_epoch(out) == first["epoch"]
    stamp = out.stat().st_mtime_ns
    assert export_run(runs, work, "ram-7", limit=LIMIT) == out
    assert out.stat().st_mtime_ns == stamp  # the same weights: not exported again
    # The race: epoch 5's weights land in best.pt with a time stamp older than the export.
    later = {**first, "epoch": 5, "state_dict": {
        k: -v if v.is_floating_point() else v for k, v in first["state_dict"].items()}}
    incoming = save_checkpoint(later, tmp_path / "incoming.pt")
    os.utime(incoming, ns=(stamp - 60 * 10**9, stamp - 60 * 10**9))
    os.replace(incoming, best)
    assert up_to_date(out, run_progress(runs / "ram-7", ()))  # what fooled the old check
    before = pd.read_parquet(out)
    assert export_run(runs, work, "ram-7", limit=LIMIT) == out
    assert recorded_epoch(out) == 5
    assert [p.name for p in pinned.parent.iterdir()] == ["epoch5.pt"]
    # Independent: the new best.pt exported straight, which differs from the old export.
    reference = export_scanpaths(best, split="test", out=tmp_path / "reference.parquet",
                                 limit=LIMIT)
    after = pd.read_parquet(out)
    pd.testing.assert_frame_equal(after, pd.read_parquet(reference))
    assert not np.allclose(before[["x", "y"]], after[["x", "y"]])
    # An export made straight from best.pt of the pinned epoch (before pinning existed) is of
    # the same weights: kept.
    export_scanpaths(best, split="test", out=out, limit=LIMIT)
    stamp = out.stat().st_mtime_ns
    export_run(runs, work, "ram-7", limit=LIMIT)
    assert out.stat().st_mtime_ns == stamp


def test_state_is_read_as_the_export_starts(experiment, tmp_path, monkeypatch):
    """Training moves on while the runs are exported: the state of a run describes the
    weights exported, not the epochs logged after its export."""
    runs = tmp_path / "runs"
    shutil.copytree(experiment["folder"] / "cnn-seed2", runs / "cnn-seed2")
    (runs / "cnn-seed2" / "final.json").unlink()  # still training

    def export_then_train(runs, work, run, **kwargs):
        path = export_run(runs, work, run, **kwargs)
        if path is not None:  # one more epoch logged, no better: best.pt stays
            with (runs / run / "metrics.jsonl").open("a") as log:
                log.write(json.dumps({"epoch": 2, "val_acc": 0.0, "epoch_time_s": 1.0}) + "\n")
        return path

    monkeypatch.setattr(seeds, "export_run", export_then_train)
    per_run = seeds.seed_tables(runs, tmp_path / "work", models=("cnn",), limit=LIMIT,
                                n_resamples=50)["runs"].set_index("run")
    assert per_run.loc["cnn-seed2", "state"] == "epoch 1 (partial)"
    assert per_run.loc["cnn-seed2", "weights_epoch"] == 1
    assert run_progress(runs / "cnn-seed2", ()).epochs_run == 2  # read afterwards: moved on


def test_seed_table_is_mean_and_sd_over_seeds(experiment):
    per_run = experiment["per_run"]
    table = experiment["seeds"].set_index("model")
    assert table.loc["MRAM-7", "paper_accuracy_pct"] == 91.68
    assert table.loc["CNN", "paper_accuracy_pct"] == 89.02
    for label in ("CNN", "RAM-7", "DRAM-7", "MRAM-7"):
        runs = per_run[per_run["model"] == label].dropna(subset=["accuracy_pct"])
        assert len(runs) == table.loc[label, "seeds_with_results"] == 2
        for column in ("accuracy_pct", "fixational_share", "fixation_steps_mean",
                       "saccade_px_mean"):
            values = runs[column].to_list()
            if label == "CNN" and column != "accuracy_pct":
                continue
            mean = (values[0] + values[1]) / 2
            sd = abs(values[0] - values[1]) / math.sqrt(2)  # sample sd of two values
            if not all(np.isfinite(values)):
                continue
            assert table.loc[label, f"{column}_mean"] == pytest.approx(mean, rel=1e-12)
            assert table.loc[label, f"{column}_sd"] == pytest.approx(sd, rel=1e-9, abs=1e-12)
    assert mean_sd([1.0, 2.0, 4.0]) == "2.33 ± 1.53"
    assert mean_sd([1.0]) == "1.00 (1 run)" and mean_sd([]) == "-"


def test_claims_per_seed_and_over_seeds(experiment):
    claims = experiment["claims"]
    folder = experiment["folder"] / "_seeds" / "exports"
    for seed in ("1", "2"):
        # Each seed's claims again, from that seed's exports alone.
        suffix = "" if seed == "1" else f"-seed{seed}"
        paths = {role: folder / f"{role}-7{suffix}-limit{LIMIT}.parquet"
                 for role in ("ram", "dram", "mram")}
        table = pd.concat([pd.read_parquet(p).assign(model=f"{role.upper()}-7 seed{seed}")
                           for role, p in paths.items()], ignore_index=True)
        from gazekit.schema import validate

        seg = segment(validate(table), 6.0, "consecutive")
        expected = measure_claims(seg.fixations, seg.saccades,
                                  {r: f"{r.upper()}-7 seed{seed}" for r in paths},
                                  n_resamples=RESAMPLES)
        got = claims[(claims["seed"] == seed) & (claims["glimpses"] == 7)]
        assert list(got["verdict"]) == list(expected["verdict"])
        assert list(got["measured"]) == list(expected["measured"])
    assert set(claims.loc[claims["seed"] == "2", "partial"]) == {True}  # MRAM-7 seed 2
    over = claims[claims["seed"] == "all"].set_index("key")
    per_seed = claims[claims["seed"] != "all"]
    for key, row in over.iterrows():
        verdicts = list(per_seed.loc[per_seed["key"] == key, "verdict"])
        # Seed 3 has no runs: never a bare verdict (the rule, case by case: test_claims.py).
        assert row["verdict"] == seed_verdict(verdicts, 3)
        assert row["verdict"].startswith("only 2 of 3 seeds: ")
        assert row["runs"] == "2 of 3 seeds assessed" and bool(row["partial"])
    md = (experiment["results"] / "seeds_fashion_mnist.md").read_text()
    assert seeds.SEED_RULE in md and "'only k of 3 seeds: '" in seeds.SEED_RULE


def test_mcnemar_is_shown_with_its_note_and_the_seed_spread(experiment):
    acc = experiment["accuracy"]
    assert set(acc["note"]) == {MCNEMAR_NOTE}
    per_seed = acc[acc["seed"] != "all"]
    assert set(per_seed["rival"]) == {"DRAM-7", "RAM-7", "CNN"}
    assert sorted(per_seed["seed"].unique()) == ["1", "2"]
    per_run = experiment["per_run"].set_index("group")
    over = acc[acc["seed"] == "all"].set_index("rival")
    mram = [per_run.loc[f"MRAM-7 seed{s}", "accuracy_pct"] for s in (1, 2)]
    cnn = [per_run.loc[f"CNN seed{s}", "accuracy_pct"] for s in (1, 2)]
    assert over.loc["CNN", "seed_spread"] == (f"MRAM-7 {mean_sd(mram)} %, CNN {mean_sd(cnn)} %, "
                                              f"difference {mean_sd(np.subtract(mram, cnn))} "
                                              "points")
    assert set(over["criterion"]) == set(per_seed["criterion"]) and len(set(over["criterion"])) == 1
    md = (experiment["results"] / "seeds_fashion_mnist.md").read_text()
    assert md.count(MCNEMAR_NOTE) >= 2
    assert f"Criterion: {over['criterion'].iloc[0]}" in md
    first = per_seed.iloc[0]  # each pair's difference with its interval, in points
    assert (f"{first.difference_pct:+.2f} [{first.difference_ci_low:+.2f}, "
            f"{first.difference_ci_high:+.2f}]") in md


ACCURACY_HEADERS = (
    "| glimpses | mram | rival | seeds | seed_spread | verdict | partial |",
    "| glimpses | seed | mram | rival | mram_acc_pct | rival_acc_pct | difference_pp | p_value | "
    "verdict | partial |")
AGREEMENT_HEADERS = (
    "| glimpses | measure | comparison | model_a | model_b | n_pairs | pairs_total | n_stimuli | "
    "mean | interval | partial |",
    "| glimpses | model | other | measure | across_seeds | between_models | difference | "
    "interval | n_images | verdict | partial |")


def test_accuracy_and_agreement_rows_mark_partial_runs(experiment):
    acc = experiment["accuracy"]
    per_seed = acc[acc["seed"] != "all"]
    # Seed 1's runs all finished; MRAM-7 seed 2 stopped after epoch 2 (every seed-2 row uses it).
    assert set(per_seed.loc[per_seed["seed"] == "1", "partial"]) == {False}
    assert set(per_seed.loc[per_seed["seed"] == "2", "partial"]) == {True}
    over = acc[acc["seed"] == "all"]
    assert set(over["partial"]) == {True}
    assert all(v.startswith("only 2 of 3 seeds: ") for v in over["verdict"])
    # Seed 3 is missing for every model: every agreement row is partial.
    assert set(experiment["agreement"]["partial"]) == {True}
    assert set(experiment["contrast"]["partial"]) == {True}
    md = (experiment["results"] / "seeds_fashion_mnist.md").read_text()
    for header in (*ACCURACY_HEADERS, *AGREEMENT_HEADERS):
        assert header in md
    assert seeds.DTW_NOTE in md and seeds.CONTRAST_NOTE in md


@pytest.fixture(scope="module")
def three_seeds(experiment, tmp_path_factory):
    """RAM-7 and DRAM-7 with seeds 1-3 finished, MRAM-7 with seed 1 finished, seed 2 stopped
    after epoch 2 and seed 3 missing; analysed with 50 resamples."""
    root = tmp_path_factory.mktemp("three_seeds")
    runs = root / "runs"
    runs.mkdir()
    for name in ("ram-7", "ram-7-seed2", "dram-7", "dram-7-seed2", "mram-7", "mram-7-seed2"):
        (runs / name).symlink_to(experiment["folder"] / name)
    for base in ("ram-7", "dram-7"):
        tiny_run(runs, f"{base}-seed3", *MODELS[base], seed=3)
    results = root / "results"
    assert seeds.main(["--runs", str(runs), "--results", str(results), "--limit", str(LIMIT),
                       "--n-resamples", "50", "--agreement-images", "4",
                       "--models", "ram", "dram", "mram"]) == 0
    read = {name: pd.read_csv(results / f"seeds_fashion_mnist{suffix}.csv", dtype={"seed": str})
            for name, suffix in (("claims", "_claims"), ("accuracy", "_accuracy_claims"),
                                 ("agreement", "_agreement"),
                                 ("contrast", "_agreement_contrast"))}
    return {**read, "md": (results / "seeds_fashion_mnist.md").read_text()}


def test_partial_marks_the_rows_of_a_missing_seed_or_an_unfinished_run(three_seeds):
    agreement = three_seeds["agreement"]
    with_mram = (agreement["model_a"] == "MRAM-7") | (agreement["model_b"] == "MRAM-7")
    assert with_mram.any() and (~with_mram).any()
    assert set(agreement.loc[with_mram, "partial"]) == {True}
    assert set(agreement.loc[~with_mram, "partial"]) == {False}  # RAM-7, DRAM-7: 3 finished
    contrast = three_seeds["contrast"]
    with_mram = (contrast["model"] == "MRAM-7") | (contrast["other"] == "MRAM-7")
    assert with_mram.any() and (~with_mram).any()
    assert set(contrast.loc[with_mram, "partial"]) == {True}
    assert set(contrast.loc[~with_mram, "partial"]) == {False}
    acc = three_seeds["accuracy"].set_index(["seed", "rival"])
    assert set(acc["mram"]) == {"MRAM-7"} and set(acc.index) == {
        (s, r) for s in ("1", "2", "all") for r in ("RAM-7", "DRAM-7")}
    assert [bool(acc.loc[(s, "RAM-7"), "partial"]) for s in ("1", "2", "all")] == \
        [False, True, True]
    assert acc.loc[("all", "RAM-7"), "seeds"] == 2


def test_overall_verdicts_count_the_seeds_assessed(three_seeds):
    claims = three_seeds["claims"]
    over = claims[claims["seed"] == "all"].set_index("key")
    per_seed = claims[claims["seed"] != "all"]
    for key, row in over.iterrows():
        rows = per_seed[per_seed["key"] == key]
        verdicts = list(rows["verdict"])
        if key in ("ram_saccadic", "dram_fixational"):  # RAM and DRAM have seeds 1-3
            assert row["runs"] == "3 of 3 seeds assessed"
            assert row["verdict"] == seed_verdict(verdicts, 3)
            assert not row["verdict"].startswith("only")
        else:  # MRAM has no seed 3: that seed cannot assess it and is not counted
            assert rows.loc[rows["seed"] == "3", "verdict"].str.startswith(
                "cannot assess: no scanpaths of MRAM").all()
            assert row["runs"] == "2 of 3 seeds assessed"
            assert row["verdict"] == seed_verdict(verdicts[:2], 3)
            assert row["verdict"].startswith("only 2 of 3 seeds: ")


def test_markdown_prints_the_criteria_of_the_resamples_used(three_seeds):
    md = three_seeds["md"]
    assert f"Verdicts: {criteria(50)}" in md
    assert f"Criterion: {accuracy_criterion(50)}" in md
    assert set(three_seeds["accuracy"]["criterion"]) == {accuracy_criterion(50)}
    assert "(50 resamples)" in md and "2000 resamples" not in md
    for header in (*ACCURACY_HEADERS, *AGREEMENT_HEADERS):
        assert header in md


def naive_dtw(a: np.ndarray, b: np.ndarray) -> float:
    """sqrt of the least sum of squared distances along a warping path, by a plain loop."""
    cost = np.full((len(a) + 1, len(b) + 1), np.inf)
    cost[0, 0] = 0.0
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d = float(np.sum((a[i - 1] - b[j - 1]) ** 2))
            cost[i, j] = d + min(cost[i - 1, j], cost[i, j - 1], cost[i - 1, j - 1])
    return math.sqrt(cost[-1, -1])


def naive_fixations(path: pd.DataFrame) -> np.ndarray:
    """Centroids of the consecutive-rule fixations (6 px) of one scanpath."""
    xy = path.sort_values("step")[["x", "y"]].to_numpy()
    groups, current = [], [xy[0]]
    for a, b in zip(xy[:-1], xy[1:], strict=True):
        if math.dist(a, b) < 6.0:
            current.append(b)
        else:
            groups.append(current)
            current = [b]
    groups.append(current)
    return np.array([np.mean(g, axis=0) for g in groups])


def test_scanpath_agreement_across_seeds_and_between_models(experiment):
    agreement = experiment["agreement"]
    dtw = agreement[agreement["measure"] == "dtw_px"].set_index(["model_a", "model_b"])
    assert dtw.loc[("RAM-7", "RAM-7"), "comparison"] == "across seeds"
    assert dtw.loc[("MRAM-7", "RAM-7"), "comparison"] == "between models"
    assert dtw.loc[("RAM-7", "RAM-7"), "n_pairs"] == 10  # seeds 1 and 2 on 10 images
    assert dtw.loc[("MRAM-7", "RAM-7"), "n_pairs"] == 40  # 2 x 2 runs on 10 images
    assert "CNN" not in set(agreement["model_a"]) | set(agreement["model_b"])
    folder = experiment["folder"] / "_seeds" / "exports"
    one = read_scanpaths(folder / f"ram-7-limit{LIMIT}.parquet")
    two = read_scanpaths(folder / f"ram-7-seed2-limit{LIMIT}.parquet")
    values = [naive_dtw(naive_fixations(one[one["image_id"] == i]),
                        naive_fixations(two[two["image_id"] == i])) for i in range(10)]
    row = dtw.loc[("RAM-7", "RAM-7")]
    assert row["mean"] == pytest.approx(np.mean(values), rel=1e-9)
    assert row["ci_low"] <= row["mean"] <= row["ci_high"]


def test_seed_partial_when_a_role_is_missing_or_unfinished():
    done, open_ = SimpleNamespace(finished=True), SimpleNamespace(finished=False)
    roles = seeds.claim_roles()
    assert set(roles) == {"ram", "dram", "mram"}
    every = {r: r for r in roles}
    assert not seeds.seed_partial(every, dict.fromkeys(roles, done))
    assert seeds.seed_partial(every, {**dict.fromkeys(roles, done), "mram": open_})
    # DRAM has no run: partial although every run that exists has finished.
    assert seeds.seed_partial({"ram": "ram", "mram": "mram"}, dict.fromkeys(roles, done))


def test_per_seed_rows_are_partial_when_a_role_is_not_analysed(experiment, tmp_path):
    assert seeds.main(["--runs", str(experiment["folder"]), "--results", str(tmp_path),
                       "--limit", str(LIMIT), "--n-resamples", "50", "--agreement-images",
                       "4", "--models", "ram", "mram"]) == 0
    claims = pd.read_csv(tmp_path / "seeds_fashion_mnist_claims.csv", dtype={"seed": str})
    seed1 = claims[(claims["seed"] == "1") & (claims["glimpses"] == 7)]
    assert set(seed1["partial"]) == {True}  # every run of seed 1 finished, DRAM-7 left out
    # With every role present, a seed whose runs all finished is not partial.
    full = experiment["claims"]
    assert set(full.loc[(full["seed"] == "1") & (full["glimpses"] == 7), "partial"]) == {False}
    md = (tmp_path / "seeds_fashion_mnist.md").read_text()
    assert "Models analysed: RAM, MRAM. Not analysed (left out by `--models`): CNN, DRAM" in md


def test_markdown_names_the_models_and_the_command(experiment):
    md = (experiment["results"] / "seeds_fashion_mnist.md").read_text()
    assert "Models analysed: CNN, RAM, DRAM, MRAM." in md and "Not analysed" not in md
    assert f"Regenerate with `{shlex.join(['python', 'analysis/seeds.py', *experiment['argv']])}`" \
        in md


def test_a_table_that_becomes_empty_removes_its_older_file(experiment, tmp_path):
    argv = ["--runs", str(experiment["folder"]), "--results", str(tmp_path), "--limit",
            str(LIMIT), "--n-resamples", "50", "--agreement-images", "4"]
    assert seeds.main([*argv, "--models", "ram", "mram"]) == 0
    stem = "seeds_fashion_mnist"
    gaze_files = {f"{stem}_claims.csv", f"{stem}_agreement.csv",
                  f"{stem}_agreement_contrast.csv"}
    assert gaze_files <= {p.name for p in tmp_path.iterdir()}
    assert seeds.main([*argv, "--models", "cnn"]) == 0  # no gaze model: those tables are empty
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {f"{stem}.csv", f"{stem}_runs.csv", f"{stem}.md"}  # no debris either
    md = (tmp_path / f"{stem}.md").read_text()
    assert "Scanpath agreement" not in md


def test_dropped_pairs_are_the_pairs_of_short_scanpaths(experiment):
    agreement = experiment["agreement"].set_index(["measure", "model_a", "model_b"])
    folder = experiment["folder"] / "_seeds" / "exports"
    one = read_scanpaths(folder / f"ram-7-limit{LIMIT}.parquet")
    two = read_scanpaths(folder / f"ram-7-seed2-limit{LIMIT}.parquet")
    short = sum(min(len(naive_fixations(one[one["image_id"] == i])),
                    len(naive_fixations(two[two["image_id"] == i]))) < 3 for i in range(10))
    for measure in ("mm_position", "mm_vector"):
        row = agreement.loc[(measure, "RAM-7", "RAM-7")]
        assert row["pairs_total"] == 10 and row["pairs_dropped"] == short
        assert row["n_pairs"] == 10 - short
    assert agreement.loc[("dtw_px", "RAM-7", "RAM-7"), "pairs_dropped"] == 0
    md = (experiment["results"] / "seeds_fashion_mnist.md").read_text()
    if short:
        assert f"mm_position, RAM-7 | RAM-7: {short:,} of 10 pairs dropped" in md
    assert "fewer than 3 fixations" in md


def test_contrast_of_the_runs_against_dtw_by_hand(experiment):
    folder = experiment["folder"] / "_seeds" / "exports"
    paths = {(m, s): read_scanpaths(folder / f"{m}-7{'' if s == 1 else f'-seed{s}'}"
                                             f"-limit{LIMIT}.parquet")
             for m in ("ram", "mram") for s in (1, 2)}

    def fixations(model, seed, image):
        path = paths[(model, seed)]
        return naive_fixations(path[path["image_id"] == image])

    diffs = []
    for i in range(10):
        across = naive_dtw(fixations("ram", 1, i), fixations("ram", 2, i))
        between = np.mean([naive_dtw(fixations("ram", a, i), fixations("mram", b, i))
                           for a in (1, 2) for b in (1, 2)])
        diffs.append(across - between)
    contrast = experiment["contrast"].set_index(["model", "other", "measure"])
    row = contrast.loc[("RAM-7", "MRAM-7", "dtw_px")]
    assert row["difference"] == pytest.approx(np.mean(diffs), rel=1e-9)
    assert row["n_images"] == 10
    assert row["ci_low"] <= row["difference"] <= row["ci_high"]
    md = (experiment["results"] / "seeds_fashion_mnist.md").read_text()
    assert CONTRAST_CRITERION in md


def test_contrast_on_a_hand_worked_case():
    # Model A (two seeds) against B on three images; DTW lower = more alike.
    pairs = pd.DataFrame({
        "stimulus": ["0", "0", "0", "1", "1", "2", "2", "2"],
        "model_a": ["A", "A", "A", "A", "A", "A", "A", "A"],
        "model_b": ["A", "B", "B", "A", "B", "A", "B", "B"],
        "dtw_px": [1.0, 5.0, 7.0, 2.0, 4.0, 3.0, 9.0, 13.0],
        "mm_vector": [0.9, 0.5, np.nan, np.nan, 0.4, 0.8, 0.6, 0.6]})
    out = agreement_contrast(pairs, ("dtw_px", "mm_vector"), n_resamples=4000)
    dtw = out[out["measure"] == "dtw_px"].iloc[0]
    # Per image: 1 - 6 = -5, 2 - 4 = -2, 3 - 11 = -8; mean -5.
    assert (dtw["model"], dtw["other"], dtw["n_images"]) == ("A", "B", 3)
    assert dtw["difference"] == pytest.approx(-5.0)
    assert (dtw["across_seeds"], dtw["between_models"]) == pytest.approx((2.0, 7.0))
    # Every resample of 3 images has a mean in [-8, -2], all below 0.
    assert -8 <= dtw["ci_low"] < dtw["ci_high"] <= -2
    assert dtw["verdict"] == "across seeds more alike"
    # MultiMatch: image 1 has no across-seed value (NaN) and leaves; 0.9 - 0.5, 0.8 - 0.6.
    mm = out[out["measure"] == "mm_vector"].iloc[0]
    assert mm["n_images"] == 2 and mm["difference"] == pytest.approx(0.3)
    # Two images: the resampled means are 0.4, 0.3 or 0.2 (1/4, 1/2, 1/4): the 95 %
    # percentile interval is [0.2, 0.4].
    assert (mm["ci_low"], mm["ci_high"]) == pytest.approx((0.2, 0.4))
    assert mm["verdict"] == "across seeds more alike"
    # Reversed and straddling cases.
    flipped = pairs.assign(dtw_px=[9.0, 1.0, 1.0, 8.0, 2.0, 7.0, 3.0, 3.0])
    assert agreement_contrast(flipped, ("dtw_px",), n_resamples=500)["verdict"].iloc[0] \
        == "between models more alike"
    mixed = pairs.assign(dtw_px=[1.0, 5.0, 5.0, 6.0, 2.0, 3.0, 3.0, 3.0])  # -4, +4, 0
    assert agreement_contrast(mixed, ("dtw_px",), n_resamples=500)["verdict"].iloc[0] \
        == "inconclusive"


def test_summary_counts_the_pairs_each_measure_dropped():
    pairs = pd.DataFrame({
        "stimulus": ["0", "1", "2", "0", "1"], "group_a": ["r1", "r1", "r1", "r1", "r1"],
        "group_b": ["r2", "r2", "r2", "m1", "m1"], "model_a": ["A", "A", "A", "A", "A"],
        "model_b": ["A", "A", "A", "B", "B"], "dtw_px": [1.0, 2.0, 3.0, 4.0, 5.0],
        "mm_vector": [0.9, np.nan, 0.7, np.nan, np.nan]})
    summary = summarize_agreement(pairs, n_resamples=50).set_index(["model_b", "measure"])
    assert summary.loc[("A", "mm_vector"), ["n_pairs", "pairs_total", "pairs_dropped"]] \
        .tolist() == [2, 3, 1]
    assert summary.loc[("A", "mm_vector"), "mean"] == pytest.approx(0.8)
    assert summary.loc[("B", "mm_vector"), ["n_pairs", "pairs_dropped"]].tolist() == [0, 2]
    assert summary.loc[("A", "dtw_px"), "pairs_dropped"] == 0
    assert summary.loc[("A", "dtw_px"), "comparison"] == "across seeds"
    assert summary.loc[("B", "dtw_px"), "comparison"] == "between models"
