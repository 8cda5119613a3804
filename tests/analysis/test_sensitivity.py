"""The knob grid (issue 14, part B) on tiny fake runs trained with the grid's own zoo train
arguments (on the synthetic data set, 1-2 epochs): queue, table, verdicts per setting, partial
runs and the reduced-protocol labels, checked against independent computations; a bf16 grid
beside it in its own run folders and result files."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy.stats import binomtest, bootstrap
from scipy.stats import t as student_t

from analysis import sensitivity
from analysis.claims import STATISTICS, criteria, measure_claims
from analysis.experiments import DRAM_REMEDY_ARGS
from analysis.knob_effects import EFFECTS
from gazekit.schema import validate
from gazekit.segment import segment
from zoo.checkpoint import load_checkpoint
from zoo.train import main as train_main

LIMIT = 24
RESAMPLES = 200
TRAINED = ("ram-7-default", "mram-7-default", "ram-7-std0.05", "ram-7-first-random",
           "mram-7-detach", "dram-7-default")


def train_like_the_grid(runs: Path, name: str, epochs: int = 1, precision: str = "fp32"
                        ) -> None:
    """Train run ``name`` with the grid's arguments, on the synthetic data in a few seconds."""
    grid_runs = sensitivity.sensitivity_runs(precision=precision)
    args = list(next(r for r in grid_runs if r.run == name).args)
    args[args.index("--dataset") + 1] = "synthetic"
    args[args.index("--epochs") + 1] = str(epochs)
    assert train_main([*args, "--out", str(runs / name), "--limit", "64", "--batch-size",
                       "32", "--num-threads", "1", "--hidden", "32"]) == 0


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    root = tmp_path_factory.mktemp("sensitivity")
    runs = root / "runs"
    for name in TRAINED:
        train_like_the_grid(runs, name, epochs=2 if name == "mram-7-detach" else 1)
    partial = runs / "mram-7-detach"  # interrupted after epoch 2
    (partial / "final.json").unlink()
    stamp = time.time() - 7200
    for f in partial.iterdir():
        os.utime(f, (stamp, stamp))
    results = root / "results"
    assert sensitivity.main(["--runs", str(runs), "--results", str(results), "--limit",
                             str(LIMIT), "--n-resamples", str(RESAMPLES)]) == 0
    table = pd.read_csv(results / "sensitivity_fashion_mnist.csv")
    claims, after_first = (pd.read_csv(results / f"sensitivity_fashion_mnist_{name}.csv",
                                       keep_default_na=False)
                           for name in ("claims", "claims_after_first"))
    return {"runs": runs, "results": results, "table": table, "claims": claims,
            "claims_after_first": after_first}


def test_grid_runs_order_and_arguments():
    runs = sensitivity.sensitivity_runs()
    names = [r.run for r in runs]
    assert names[:4] == ["ram-7-default", "mram-7-default", "ram-7-std0.05", "mram-7-std0.05"]
    assert len(names) == 3 * len(sensitivity.SETTINGS)
    assert all(n.startswith("dram-7-") for n in names[-len(sensitivity.SETTINGS):])
    by = {r.run: r.args for r in runs}
    for args in by.values():
        assert args[args.index("--epochs") + 1] == str(sensitivity.REDUCED_EPOCHS)
        assert "--seed" not in args and "--patience" not in args  # seed 1, same stopping
    assert by["ram-7-default"] == ("--model", "ram", "--dataset", "fashion-mnist",
                                   "--glimpses", "7", "--epochs", "100")
    assert by["mram-7-std0.2"][-2:] == ("--std", "0.2")
    assert by["ram-7-first-random"][-2:] == ("--first-location", "random")
    assert by["mram-7-detach"][-1] == "--reinforce-detach-core"
    assert by["ram-7-lr0.1-p20"][-4:] == ("--lr-factor", "0.1", "--lr-patience", "20")
    assert set(DRAM_REMEDY_ARGS) <= set(by["dram-7-std0.05"])


def test_knob_arguments_reach_the_runs_config(grid):
    def kwargs(run: str) -> dict:
        return json.loads((grid["runs"] / run / "config.json").read_text())["model_kwargs"]

    assert kwargs("ram-7-std0.05")["std"] == 0.05
    assert kwargs("ram-7-first-random")["first_location"] == "random"
    assert kwargs("mram-7-detach")["detach_policy_state"] is True
    assert "std" not in kwargs("ram-7-default")


def test_queue_and_protocol_are_printed(grid, capsys, tmp_path):
    assert sensitivity.main(["--runs", str(grid["runs"]), "--results", str(tmp_path),
                             "--limit", str(LIMIT), "--n-resamples", "50",
                             "--models", "ram", "mram"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == sensitivity.reduced_protocol()
    queued = " ".join(line for line in out.splitlines() if "train_queue.sh" in line)
    assert "'ram-7-std0.2:--model ram --dataset fashion-mnist --glimpses 7 --epochs 100 " \
           "--std 0.2'" in queued
    assert "mram-7-detach:" in queued  # interrupted: queued to resume
    assert "ram-7-default:" not in queued and "dram-7" not in queued
    # The RAM-7 + MRAM-7 grid, without any DRAM-7: "MRAM more fixational than RAM" is judged.
    claims = pd.read_csv(tmp_path / "sensitivity_fashion_mnist_claims.csv",
                         keep_default_na=False).set_index(["setting", "key"])
    assert not claims.loc[("default", "mram_above_ram"), "verdict"].startswith("cannot")
    assert claims.loc[("default", "mram_between"), "verdict"] == \
        "cannot assess: no scanpaths of DRAM-7 default"


def test_table_against_independent_computations(grid, naive_gaze):
    table = grid["table"].set_index("run")
    exports = grid["runs"] / "_sensitivity" / "exports"
    for run in TRAINED:
        row = table.loc[run]
        export = pd.read_parquet(exports / f"{run}-limit{LIMIT}.parquet")
        correct = export.groupby("image_id")["correct"].first()
        assert row["accuracy_pct"] == pytest.approx(100 * correct.mean(), abs=1e-9)
        ci = binomtest(int(correct.sum()), len(correct)).proportion_ci(method="wilson")
        assert row["accuracy_ci_low"] == pytest.approx(100 * ci.low)
        naive = naive_gaze(exports / f"{run}-limit{LIMIT}.parquet")
        for statistic, value in naive.items():
            assert row[statistic] == pytest.approx(value, rel=1e-9, nan_ok=True)
    assert table.loc["mram-7-detach", "state"] == "epoch 2 (partial)"
    assert table.loc["ram-7-default", "state"] == "finished"
    assert table.loc["ram-7-std0.2", "state"] == "not started"
    assert np.isnan(table.loc["ram-7-std0.2", "accuracy_pct"])
    # Knobs that act from the first step part from the default run at epoch 1.
    assert table.loc["mram-7-detach", "epochs_run"] == 2
    for run in ("ram-7-std0.05", "ram-7-first-random", "mram-7-detach"):
        assert table.loc[run, "epochs_as_default"] == 0
    assert np.isnan(table.loc["ram-7-default", "epochs_as_default"])
    assert np.isnan(table.loc["ram-7-std0.2", "epochs_as_default"])  # no log yet
    assert not table["knob_never_acted"].any()


def test_an_lr_knob_that_never_acted_is_flagged(tmp_path, monkeypatch):
    """One epoch is too short for either LR schedule to act: the lr0.1-p20 run trains as
    the default run, its effects are 0, and the table, Markdown and figure say why."""
    figures = []
    save_figure = sensitivity.save_figure
    monkeypatch.setattr(sensitivity, "save_figure", lambda fig, stem: (
        figures.append(fig), save_figure(fig, stem))[1])
    runs = tmp_path / "runs"
    for name in ("ram-7-default", "ram-7-lr0.1-p20"):
        train_like_the_grid(runs, name)
    assert sensitivity.main(["--runs", str(runs), "--results", str(tmp_path / "out"),
                             "--limit", str(LIMIT), "--n-resamples", str(RESAMPLES),
                             "--models", "ram"]) == 0
    row = pd.read_csv(tmp_path / "out" / "sensitivity_fashion_mnist.csv").set_index(
        "run").loc["ram-7-lr0.1-p20"]
    assert row["epochs_as_default"] == row["epochs_run"] == 1
    assert bool(row["knob_never_acted"])
    assert row["d_accuracy_pp"] == row["d_fixational_share"] == 0
    md = (tmp_path / "out" / "sensitivity_fashion_mnist.md").read_text()
    assert "all 1 epoch: the knob never acted, effects 0 by construction" in md
    # In the accuracy and share panels (defined for any scanpaths; a 1-epoch model may make
    # no saccade), the lr0.1-p20 point is an x at its position (5 on top, 4 in the effect
    # row, which has no default), and no other point is.
    axes = figures[-1].axes
    for ax, position in ((axes[0], 5), (axes[1], 5), (axes[4], 4), (axes[5], 4)):
        crosses = [line for line in ax.get_lines() if line.get_marker() == "x"]
        assert [line.get_xdata().tolist() for line in crosses] == [[position]]
        assert [line.get_xdata().tolist() for line in ax.get_lines()
                if line.get_marker() == "o"] in ([[0.0], []], [[], []])


def test_after_first_statistics_against_independent_computations(grid, naive_gaze, tmp_path):
    table = grid["table"].set_index("run")
    exports = grid["runs"] / "_sensitivity" / "exports"
    for run in TRAINED:
        export = pd.read_parquet(exports / f"{run}-limit{LIMIT}.parquet")
        assert set(export["step"]) == set(range(7))
        export[export["step"] > 0].to_parquet(tmp_path / f"{run}.parquet")
        naive = naive_gaze(tmp_path / f"{run}.parquet")  # 6 glimpses, 5 moves per scanpath
        row = table.loc[run]
        for statistic in STATISTICS:
            value = row[f"{statistic}_after_first"]
            assert value == pytest.approx(naive[statistic], rel=1e-9, nan_ok=True)
            if np.isfinite(value):
                assert row[f"{statistic}_after_first_ci_low"] <= value \
                    <= row[f"{statistic}_after_first_ci_high"]
    assert np.isnan(table.loc["ram-7-std0.2", "fixational_share_after_first"])  # no weights


def test_after_first_statistics_on_moving_scanpaths(grid, naive_gaze, tmp_path, monkeypatch):
    """The fake runs stay put after their first glimpse: the same, on their scanpaths jittered
    (3 px sd) so that fixations and saccades mix at every step."""
    jittered = []

    def read_jittered(exports):
        df = read_runs(exports)
        xy = np.random.default_rng(0).normal(100.0, 3.0, (len(df), 2))
        jittered.append(df.assign(x=xy[:, 0], y=xy[:, 1]))
        return jittered[-1]

    read_runs = sensitivity.read_runs
    monkeypatch.setattr(sensitivity, "read_runs", read_jittered)
    table = sensitivity.sensitivity_tables(
        grid["runs"], grid["runs"] / "_sensitivity", models=("ram",), limit=LIMIT,
        n_resamples=50)["table"].set_index("run")
    for run in ("ram-7-default", "ram-7-first-random"):
        rows = jittered[0][jittered[0]["model"] == table.loc[run, "model"] + " "
                           + table.loc[run, "setting"]]
        for name, part in (("all", rows), ("after", rows[rows["step"] > 0])):
            part.to_parquet(tmp_path / f"{run}-{name}.parquet")
        naive, after = (naive_gaze(tmp_path / f"{run}-{name}.parquet")
                        for name in ("all", "after"))
        assert 0.2 < after["fixational_share"] < 0.8  # both kinds of move
        for statistic in STATISTICS:
            assert table.loc[run, statistic] == pytest.approx(naive[statistic], rel=1e-9)
            assert table.loc[run, f"{statistic}_after_first"] == pytest.approx(
                after[statistic], rel=1e-9)
            assert after[statistic] != pytest.approx(naive[statistic], rel=1e-6)


def test_after_first_verdicts_per_setting(grid):
    claims, table = grid["claims_after_first"], grid["table"]
    assert set(claims["setting"]) == {"default", "std0.05", "first-random", "detach"}
    assert set(claims["protocol"]) == {sensitivity.reduced_protocol()}
    for setting in ("default", "std0.05", "first-random", "detach"):
        expected = setting_claims(grid, setting, "default", after_first=True)
        got = claims[claims["setting"] == setting]
        assert list(got["verdict"]) == list(expected["verdict"])
        assert list(got["measured"]) == list(expected["measured"])
        assert list(got["provisional"]) == list(
            grid["claims"][grid["claims"]["setting"] == setting]["provisional"])
        row = table[(table["setting"] == setting) & (table["model"] == "RAM-7")].iloc[0]
        for claim in expected.itertuples():
            assert row[f"verdict_{claim.key}_after_first"] == claim.verdict
    md = (grid["results"] / "sensitivity_fashion_mnist.md").read_text()
    assert sensitivity.AFTER_FIRST_NOTE in md
    assert "Claims per setting after the first glimpse" in md
    # The criteria of the resamples asked for, not of the default 2000.
    assert f"Verdicts: {criteria(RESAMPLES)}" in md and "2000 resamples" not in md


def setting_claims(grid, setting: str, dram_setting: str,
                   after_first: bool = False) -> pd.DataFrame:
    """The claims of ``setting`` measured on the exports (without each scanpath's first
    glimpse if ``after_first``)."""
    exports = grid["runs"] / "_sensitivity" / "exports"
    labels = {"ram": f"RAM-7 {setting}", "mram": f"MRAM-7 {setting}",
              "dram": f"DRAM-7 {dram_setting}"}
    parts = [pd.read_parquet(exports / f"{label.split()[0].lower()}-{label.split()[1]}"
                                       f"-limit{LIMIT}.parquet").assign(model=label)
             for label in labels.values()
             if (exports / f"{label.split()[0].lower()}-{label.split()[1]}-limit{LIMIT}"
                           ".parquet").is_file()]
    scanpaths = validate(pd.concat(parts, ignore_index=True))
    if after_first:
        scanpaths = scanpaths[scanpaths["step"] > 0]
    seg = segment(scanpaths, 6.0, "consecutive")
    return measure_claims(seg.fixations, seg.saccades, labels, n_resamples=RESAMPLES)


def test_verdicts_per_setting(grid):
    claims, table = grid["claims"], grid["table"]
    assert set(claims["setting"]) == {"default", "std0.05", "first-random", "detach"}
    for setting in ("default", "std0.05", "first-random", "detach"):
        expected = setting_claims(grid, setting, "default")  # no DRAM-7 of these knobs
        got = claims[claims["setting"] == setting]
        assert list(got["verdict"]) == list(expected["verdict"])
        assert list(got["measured"]) == list(expected["measured"])
        assert set(got["dram_run"]) == {"DRAM-7 default"}
        row = table[(table["setting"] == setting) & (table["model"] == "RAM-7")].iloc[0]
        for claim in expected.itertuples():
            assert row[f"verdict_{claim.key}"] == claim.verdict
    # Only RAM in the std0.05 setting: the MRAM claims cannot be assessed there.
    std = claims[claims["setting"] == "std0.05"].set_index("key")
    assert std.loc["mram_between", "verdict"].startswith("cannot assess: no scanpaths of MRAM")


def test_every_output_is_labelled_reduced_protocol(grid):
    protocol = sensitivity.reduced_protocol()
    assert set(grid["table"]["protocol"]) == {protocol}
    assert set(grid["claims"]["protocol"]) == {protocol}
    assert protocol.startswith("REDUCED PROTOCOL")
    md = (grid["results"] / "sensitivity_fashion_mnist.md").read_text()
    assert md.count(protocol) == 2  # at the top and at the end
    with Image.open(grid["results"] / "sensitivity_fashion_mnist.png") as png:
        assert png.size[0] > 1000
    assert (grid["results"] / "sensitivity_fashion_mnist.svg").stat().st_size > 10_000


BF16_TRAINED = ("ram-7-default-bf16", "mram-7-default-bf16")


def test_protocol_states_the_precision_and_nothing_else_differs():
    fp32, bf16 = sensitivity.reduced_protocol("fp32"), sensitivity.reduced_protocol("bf16")
    assert fp32 == sensitivity.reduced_protocol()
    assert "trained and evaluated in float32" in fp32 and "bf16" not in fp32
    phrase = ("trained in bf16 mixed precision (autocast, float32 master weights; parity: "
              "analysis/results/precision_parity.md), evaluated in float32")
    assert phrase in bf16
    assert bf16.replace(phrase, "trained and evaluated in float32") == fp32
    with pytest.raises(ValueError, match="precision: expected one of fp32, bf16, got 'fp16'"):
        sensitivity.reduced_protocol("fp16")
    assert sensitivity.results_stem("bf16") == "sensitivity_fashion_mnist_bf16"
    assert sensitivity.results_stem() == "sensitivity_fashion_mnist"


def test_bf16_grid_runs_are_the_fp32_grid_with_precision_bf16():
    fp32 = sensitivity.sensitivity_runs()
    bf16 = sensitivity.sensitivity_runs(precision="bf16")
    assert [r.run for r in bf16] == [f"{r.run}-bf16" for r in fp32]
    assert [r.group for r in bf16] == [r.group for r in fp32]
    for a, b in zip(fp32, bf16, strict=True):
        i = a.args.index("--epochs") + 2  # the precision follows the budget, the knob stays last
        assert b.args == (*a.args[:i], "--precision", "bf16", *a.args[i:])
    with pytest.raises(ValueError, match="precision"):
        sensitivity.sensitivity_runs(precision="float16")


@pytest.fixture(scope="module")
def bf16_runs(grid):
    """bf16 runs trained into the fp32 grid's runs folder, beside its runs of the same knobs."""
    for name in BF16_TRAINED:
        train_like_the_grid(grid["runs"], name, precision="bf16")
    return grid["runs"]


def test_bf16_grid_end_to_end(grid, bf16_runs, capsys, monkeypatch):
    results = grid["results"]
    fp32_files = {p.name: p.read_bytes() for p in results.iterdir()}
    titles = []
    save_figure = sensitivity.save_figure
    monkeypatch.setattr(sensitivity, "save_figure", lambda fig, stem: (
        titles.append(fig.get_suptitle()), save_figure(fig, stem))[1])
    assert sensitivity.main(["--runs", str(bf16_runs), "--results", str(results), "--limit",
                             str(LIMIT), "--n-resamples", "50", "--models", "ram", "mram",
                             "--precision", "bf16"]) == 0
    out = capsys.readouterr().out
    protocol = sensitivity.reduced_protocol("bf16")
    assert out.splitlines()[0] == protocol
    for name in BF16_TRAINED:
        config = json.loads((bf16_runs / name / "config.json").read_text())
        assert config["precision"] == "bf16"
    # The fp32 grid's finished runs neither count nor stop the bf16 runs of the same knobs.
    queued = " ".join(line for line in out.splitlines() if "train_queue.sh" in line)
    assert "'ram-7-std0.05-bf16:--model ram --dataset fashion-mnist --glimpses 7 --epochs 100 " \
           "--precision bf16 --std 0.05'" in queued
    assert "mram-7-detach-bf16:" in queued and "'mram-7-detach:" not in queued
    assert "ram-7-default-bf16:" not in queued
    # Its own result files; the fp32 grid's are untouched.
    assert {p.name: p.read_bytes() for p in results.iterdir() if p.name in fp32_files} \
        == fp32_files
    stem = "sensitivity_fashion_mnist_bf16"
    assert {f"{stem}{ext}" for ext in (".csv", "_claims.csv", "_claims_after_first.csv",
                                       ".md", ".png", ".svg")} \
        == {p.name for p in results.iterdir()} - set(fp32_files)
    table = pd.read_csv(results / f"{stem}.csv").set_index("run")
    claims = pd.read_csv(results / f"{stem}_claims.csv", keep_default_na=False)
    assert set(table["protocol"]) == {protocol} and set(claims["protocol"]) == {protocol}
    assert set(claims["setting"]) == {"default"}
    assert table.loc["ram-7-default-bf16", "state"] == "finished"
    assert table.loc["ram-7-std0.05-bf16", "state"] == "not started"  # fp32 one is finished
    exports = bf16_runs / "_sensitivity" / "exports"
    for name in BF16_TRAINED:
        correct = pd.read_parquet(exports / f"{name}-limit{LIMIT}.parquet").groupby(
            "image_id")["correct"].first()
        assert table.loc[name, "accuracy_pct"] == pytest.approx(100 * correct.mean())
    md = (results / f"{stem}.md").read_text()
    assert md.count(protocol) == 2
    # The title wraps the protocol and the after-first note (textwrap may break after a
    # hyphen): compare without spaces.
    note = f"{sensitivity.AFTER_FIRST_NOTE}: in the table (*_after_first), not in this figure."
    assert ["".join(t.split("\n", 1)[1].split()) for t in titles] == [
        "".join(protocol.split()) + "".join(note.split())]


def test_a_grid_without_weights_prints_its_queue_and_writes_nothing(tmp_path, capsys):
    results = tmp_path / "results"
    assert sensitivity.main(["--runs", str(tmp_path / "runs"), "--results", str(results),
                             "--models", "ram"]) == 0
    out = capsys.readouterr().out
    assert "ram-7-default:" in out and "has weights yet; nothing written" in out
    assert not results.exists()


def per_image_correct(export: Path) -> pd.Series:
    return pd.read_parquet(export).groupby("image_id")["correct"].first().astype(int)


def test_knob_effects_against_independent_computations(grid, naive_gaze):
    table = grid["table"].set_index("run")
    exports = grid["runs"] / "_sensitivity" / "exports"
    for run, default in (("ram-7-std0.05", "ram-7-default"), ("ram-7-first-random",
                                                               "ram-7-default"),
                         ("mram-7-detach", "mram-7-default")):
        row = table.loc[run]
        mine, base = (exports / f"{r}-limit{LIMIT}.parquet" for r in (run, default))
        gain = 100.0 * (per_image_correct(mine) - per_image_correct(base)).to_numpy(float)
        assert row["d_accuracy_pp"] == pytest.approx(gain.mean(), abs=1e-9)
        if gain.std() > 0:  # the paired bootstrap of the per-image difference, by scipy
            ref = bootstrap((gain,), np.mean, method="percentile", n_resamples=20_000,
                            random_state=1).confidence_interval
            step = 100.0 / LIMIT  # one image more or less in a resample
            assert row["d_accuracy_pp_ci_low"] == pytest.approx(ref.low, abs=step)
            assert row["d_accuracy_pp_ci_high"] == pytest.approx(ref.high, abs=step)
        naive, naive_base = naive_gaze(mine), naive_gaze(base)
        for statistic, (column, _) in EFFECTS.items():
            if statistic == "accuracy_pct":
                continue
            expected = naive[statistic] - naive_base[statistic]
            assert row[column] == pytest.approx(expected, rel=1e-9, abs=1e-12, nan_ok=True)
            if np.isfinite(expected):
                assert row[f"{column}_ci_low"] - 1e-12 <= expected \
                    <= row[f"{column}_ci_high"] + 1e-12
    # The default is the reference: no effect of its own; a setting without a run has none.
    for run in ("ram-7-default", "mram-7-default", "ram-7-std0.2"):
        assert np.isnan(table.loc[run, "d_accuracy_pp"])
    # Without a seed table (none in this results folder), no seed sd and no flag.
    assert set(grid["table"]["seed_sd_source"]) == {"no seed table"}
    assert grid["table"]["d_fixational_share_within_seed_noise"].isna().all()


def seed_table(path: Path, sd_share: float) -> Path:
    """A seed table of analysis/seeds.py with RAM-7 only (3 seeds)."""
    pd.DataFrame([{"model": "RAM-7", "seeds_with_results": 3, "partial": False,
                   "accuracy_pct_sd": 0.26, "fixational_share_sd": sd_share,
                   "fixation_steps_mean_sd": 0.135, "saccade_px_mean_sd": 1.57}]).to_csv(
        path, index=False)
    return path


def test_effects_beside_the_full_protocol_seed_sd(grid, tmp_path, monkeypatch):
    effects = grid["table"].set_index("run")
    share = abs(effects.loc["ram-7-first-random", "d_fixational_share"])
    assert share > 1e-3  # a knob that moved the share
    figures = []
    save_figure = sensitivity.save_figure
    monkeypatch.setattr(sensitivity, "save_figure", lambda fig, stem: (
        figures.append(fig), save_figure(fig, stem))[1])
    # A seed band (t(0.975, 2) x sqrt(2) x sd) just above this effect: "within"; accuracy
    # sd 0.26 pp.
    t_sqrt2 = student_t.ppf(0.975, 2) * np.sqrt(2.0)
    path = seed_table(tmp_path / "seeds.csv", sd_share=share / t_sqrt2 + 1e-6)
    assert sensitivity.main(["--runs", str(grid["runs"]), "--results", str(tmp_path / "out"),
                             "--limit", str(LIMIT), "--n-resamples", str(RESAMPLES),
                             "--seed-table", str(path)]) == 0
    table = pd.read_csv(tmp_path / "out" / "sensitivity_fashion_mnist.csv").set_index("run")
    row = table.loc["ram-7-first-random"]
    assert row["seed_sd_source"] == "full protocol, 3 seeds"
    assert row["d_fixational_share_seed_sd"] == pytest.approx(share / t_sqrt2 + 1e-6)
    assert row["d_fixational_share_seed_band"] == pytest.approx(share + t_sqrt2 * 1e-6)
    assert bool(row["d_fixational_share_within_seed_noise"])
    assert bool(row["d_accuracy_pp_within_seed_noise"]) == (
        abs(row["d_accuracy_pp"]) <= 0.26 * t_sqrt2)
    assert row["d_saccade_px_seed_sd"] == 1.57
    assert table.loc["ram-7-default", "d_fixation_steps_seed_sd"] == 0.135  # shown, no flag
    assert np.isnan(table.loc["ram-7-default", "d_fixation_steps_within_seed_noise"])
    mram = table.loc["mram-7-detach"]
    assert mram["seed_sd_source"] == "model not in the seed table"
    assert np.isnan(mram["d_fixational_share_seed_sd"])
    # Just below the effect: "beyond".
    path = seed_table(tmp_path / "seeds.csv", sd_share=share / t_sqrt2 - 1e-6)
    assert sensitivity.main(["--runs", str(grid["runs"]), "--results", str(tmp_path / "out"),
                             "--limit", str(LIMIT), "--n-resamples", str(RESAMPLES),
                             "--seed-table", str(path), "--models", "ram"]) == 0
    table = pd.read_csv(tmp_path / "out" / "sensitivity_fashion_mnist.csv").set_index("run")
    assert not bool(table.loc["ram-7-first-random", "d_fixational_share_within_seed_noise"])
    md = (tmp_path / "out" / "sensitivity_fashion_mnist.md").read_text()
    assert "Knob effects against seed-to-seed variation" in md
    assert f"seed sd {share / t_sqrt2 - 1e-6:.3f}, band ±{share - t_sqrt2 * 1e-6:.3f} " \
        "(beyond)" in md
    # One figure: levels on top, effects below with a band of +- the seed sd (RAM-7 only).
    fig = figures[-1]
    assert len(fig.axes) == 8
    band = fig.axes[5].patches  # (b) fixational share, effect row
    assert len(band) == 1
    assert band[0].get_extents().height > 0


def test_a_bad_seed_table_is_refused_in_one_line(grid, tmp_path, capsys):
    bad = tmp_path / "seeds.csv"
    pd.DataFrame({"model": ["RAM-7"]}).to_csv(bad, index=False)
    assert sensitivity.main(["--runs", str(grid["runs"]), "--results", str(tmp_path / "out"),
                             "--limit", str(LIMIT), "--n-resamples", "50", "--models", "ram",
                             "--seed-table", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"sensitivity: error: {bad}: no column 'seeds_with_results' (expected the "
                   "seed table of analysis/seeds.py)")
    assert not (tmp_path / "out").exists()


def test_claims_name_their_unfinished_runs_and_epochs(grid):
    claims = grid["claims"].set_index(["setting", "key"])
    epoch = load_checkpoint(grid["runs"] / "mram-7-detach" / "best.pt")["epoch"]
    detach = ("MRAM-7 detach (mram-7-detach): epoch 2 (partial), weights of epoch "
              f"{epoch}")
    for key in ("mram_between", "mram_longer_saccades"):
        assert claims.loc[("detach", key), "provisional"] == detach
    assert claims.loc[("detach", "ram_saccadic"), "provisional"] == ""  # no RAM-7 detach run
    assert set(claims.loc["default", "provisional"]) == {""}  # every run used has finished
    table = grid["table"].set_index("run")
    assert table.loc["mram-7-detach", "weights_epoch"] == epoch
    md = (grid["results"] / "sensitivity_fashion_mnist.md").read_text()
    assert detach in md


def test_claims_file_removed_when_no_claim_can_be_measured(grid, tmp_path):
    results = tmp_path / "results"
    work = ["--work", str(grid["runs"] / "_sensitivity"), "--limit", str(LIMIT),
            "--n-resamples", "50"]
    assert sensitivity.main(["--runs", str(grid["runs"]), "--results", str(results),
                             "--models", "ram", *work]) == 0
    assert (results / "sensitivity_fashion_mnist_claims.csv").is_file()
    assert (results / "sensitivity_fashion_mnist_claims_after_first.csv").is_file()
    only_dram = tmp_path / "runs"  # a grid whose only run with weights is DRAM-7's
    only_dram.mkdir()
    (only_dram / "dram-7-default").symlink_to(grid["runs"] / "dram-7-default")
    assert sensitivity.main(["--runs", str(only_dram), "--results", str(results),
                             "--models", "dram", *work]) == 0
    stem = "sensitivity_fashion_mnist"
    assert {p.name for p in results.iterdir()} == {f"{stem}{e}" for e in
                                                  (".csv", ".md", ".png", ".svg")}
