"""analysis/glimpse_budget.py on two tiny runs trained with T = 3: accuracy at the trained T
against zoo.evaluate, at other T (and the logits of every step) against a fresh model built
with that T (and a per-image loop), the model's step count restored, Wilson intervals against
the formula, the run state and provisional marks, the default run list, the outputs, the
figure, and one-line errors that write nothing."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
import torch
from PIL import Image

import zoo
from analysis import glimpse_budget as gb
from zoo.checkpoint import load_model
from zoo.evaluate import evaluate, load_split, prepare
from zoo.registry import create_model
from zoo.train import TrainConfig, train

TRAINED = 3
BUDGETS = [1, TRAINED, 5]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("budget")
    for name, model, kwargs in (("mram-3", "mram", {"glimpses": TRAINED, "hidden": 32}),
                                ("ram-3", "ram", {"glimpses": TRAINED, "hidden": 32}),
                                ("cnn", "cnn", {})):
        train(TrainConfig(model=model, model_kwargs=kwargs, dataset="synthetic",
                          out_dir=str(root / name), epochs=1 if model == "cnn" else 3,
                          batch_size=32, limit=120, lr=3e-3, num_threads=1))
    return root


@pytest.fixture(scope="module")
def sweep(runs):
    return gb.glimpse_budget([gb.budget_run(runs, "mram-3"), gb.budget_run(runs, "ram-3")],
                             [5, 1, TRAINED, 1], device="cpu", batch_size=64, progress=False)


@pytest.fixture(scope="module")
def table(sweep):
    return gb.curve_table(sweep)


def _fresh_logits(path, glimpses: int, limit: int | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Test logits of a model built afresh with ``glimpses`` steps (one batch), and labels."""
    _, state = load_model(path)  # a checkpoint file or shipped weights
    model = create_model(state["model"], **{**state["model_kwargs"], "glimpses": glimpses})
    model.load_state_dict(state["state_dict"])
    images, labels = load_split(state, "test", limit=limit)
    with torch.inference_mode():
        logits = model.eval()(prepare(images, state, torch.device("cpu")), sample=False).logits
    return logits, labels


def _hand_correct(path, glimpses: int, limit: int | None = None) -> int:
    """Correct test predictions of a model built afresh with ``glimpses`` steps, in one batch."""
    logits, labels = _fresh_logits(path, glimpses, limit)
    return int((logits.argmax(1) == labels).sum())


def test_trained_glimpses_match_evaluate(runs, table):
    assert table[["model", "glimpses"]].values.tolist() == [
        [m, t] for m in ("MRAM-3", "RAM-3") for t in BUDGETS]  # sorted, repeat dropped
    assert (table["trained_glimpses"] == TRAINED).all() and (table["images"] == 500).all()
    for label, run in (("MRAM-3", "mram-3"), ("RAM-3", "ram-3")):
        result = evaluate(runs / run / "best.pt", device="cpu", repeats=1, latency_images=1)
        row = table[(table["model"] == label) & (table["glimpses"] == TRAINED)].iloc[0]
        assert row["correct"] == result["correct"]
        assert row["accuracy_pct"] == pytest.approx(result["accuracy_pct"])


def test_other_glimpses_match_a_fresh_model(runs, sweep, table):
    for label, run in (("MRAM-3", "mram-3"), ("RAM-3", "ram-3")):
        rows = table[table["model"] == label].set_index("glimpses")
        for i, glimpses in enumerate(BUDGETS):
            logits, labels = _fresh_logits(runs / run / "best.pt", glimpses)
            per_image = (logits.argmax(1) == labels).numpy()
            assert (sweep.curve(label).correct[i] == per_image).all()  # image by image
            assert rows.loc[glimpses, "correct"] == per_image.sum()
    # The steps matter: the synthetic task is not solved equally well with 1 and 5 glimpses.
    assert table.groupby("model")["correct"].nunique().gt(1).any()


def test_logits_of_each_step_are_those_of_a_model_with_that_many_glimpses(runs):
    for run in ("mram-3", "ram-3"):
        model, state = load_model(runs / run / "best.pt")
        images, _ = load_split(state, "test", limit=50)
        with gb.glimpses_set(model, 5), torch.inference_mode(), \
                gb.logits_each_step(model) as record:
            last = model(prepare(images, state, torch.device("cpu")), sample=False).logits
        assert len(record) == 5 and "update" not in vars(model)  # the method is back
        torch.testing.assert_close(record[-1], last, rtol=0, atol=0)
        for glimpses in range(1, 6):
            fresh, _ = _fresh_logits(runs / run / "best.pt", glimpses, limit=50)
            torch.testing.assert_close(record[glimpses - 1], fresh, rtol=1e-6, atol=1e-6)


def test_model_keeps_its_glimpses(runs):
    model, state = load_model(runs / "ram-3" / "best.pt")
    images, _ = load_split(state, "test", limit=4)
    x = prepare(images, state, torch.device("cpu"))
    before = model(x, sample=False)
    with gb.glimpses_set(model, 7):
        assert model(x, sample=False).locations.shape == (4, 7, 2)
    with pytest.raises(RuntimeError), gb.glimpses_set(model, 2):
        raise RuntimeError
    assert model.glimpses == model.config["glimpses"] == TRAINED
    after = model(x, sample=False)
    torch.testing.assert_close(after.logits, before.logits, rtol=0, atol=0)
    assert after.locations.shape == (4, TRAINED, 2)


def test_wilson_interval(table):
    z = 1.959963984540054  # two-sided 95% normal quantile
    for k, n in ((8, 10), (0, 7), (500, 500)):
        centre = (k + z * z / 2) / (n + z * z)
        half = z / (n + z * z) * math.sqrt(k * (n - k) / n + z * z / 4)
        assert gb.wilson_ci(k, n) == pytest.approx((100 * (centre - half), 100 * (centre + half)))
    assert gb.wilson_ci(8, 10) == pytest.approx((49.016, 94.331), abs=1e-3)  # textbook values
    assert (table["ci_low_pct"] <= table["accuracy_pct"]).all()
    assert (table["accuracy_pct"] <= table["ci_high_pct"]).all()


def test_cli_writes_table_claims_and_figure(runs, tmp_path, capsys):
    out = tmp_path / "res" / "glimpse_budget_synthetic"
    argv = ["--runs", str(runs), "--run", "ram-3", "mram-3", "--budgets", "2", "3", "6",
            "--limit", "40", "--out", str(out), "--device", "cpu"]
    assert gb.main(argv) == 0
    assert capsys.readouterr().out.endswith(f"{out}.svg\n")
    assert sorted(p.name for p in out.parent.iterdir()) == [
        f"{out.name}{end}" for end in (".csv", ".md", ".png", ".svg", "_changes.csv",
                                       "_claims.csv")]
    written = pd.read_csv(out.with_suffix(".csv"))
    assert written[["model", "glimpses"]].values.tolist() == [
        [m, t] for m in ("RAM-3", "MRAM-3") for t in (2, 3, 6)]
    assert (written["images"] == 40).all()
    assert written["state"].str.startswith("finished after 3 epochs").all()
    assert not written["provisional"].any()
    claims = pd.read_csv(out.with_name(f"{out.name}_claims.csv"), keep_default_na=False)
    assert claims[["trained_glimpses", "compared_glimpses"]].drop_duplicates().values.tolist() \
        == [[3, 6]]
    assert claims["criterion"].str.len().gt(50).all()
    assert set(claims["verdict"]) <= {"reproduced", "not reproduced", "inconclusive"}
    changes = pd.read_csv(out.with_name(f"{out.name}_changes.csv"))
    assert changes["model"].tolist() == ["RAM-3", "MRAM-3"]
    md = out.with_suffix(".md").read_text()
    assert "python analysis/glimpse_budget.py --runs" in md and "--limit 40" in md
    for row in claims.itertuples():
        assert f"| {row.criterion} | {row.measured} | {row.verdict} |" in md
    # A per-image loop over the first 40 images, at the trained T.
    model, state = load_model(runs / "ram-3" / "best.pt")
    images, labels = load_split(state, "test", limit=40)
    with torch.inference_mode():
        hand = sum(int(model(prepare(image[None], state, torch.device("cpu")),
                             sample=False).logits.argmax(1)) == int(label)
                   for image, label in zip(images, labels, strict=True))
    assert written.loc[1, "correct"] == hand
    assert written.loc[0, "correct"] == _hand_correct(runs / "ram-3" / "best.pt", 2, limit=40)
    with Image.open(out.with_suffix(".png")) as png:
        assert png.size == (960, 630)  # 6.4 x 4.2 in at 150 dpi
    svg = out.with_suffix(".svg").read_text()
    for text in ("trained with T = 3 glimpses", "glimpses taken at test time (steps)",
                 "test accuracy (%)", "compared T = 6"):
        assert text in svg


def test_unfinished_runs_are_provisional(runs, tmp_path):
    """A run folder without ``final.json`` (and no trainer holding it) is interrupted: its
    state says so and every row, change and claim that uses it is provisional."""
    folder = tmp_path / "runs"
    shutil.copytree(runs / "ram-3", folder / "ram-3")
    shutil.copytree(runs / "mram-3", folder / "mram-3")
    (folder / "ram-3" / "final.json").unlink()
    sweep = gb.glimpse_budget([gb.budget_run(folder, "mram-3"), gb.budget_run(folder, "ram-3")],
                              [TRAINED, 6], limit=30, device="cpu", progress=False)
    table = gb.curve_table(sweep)
    ram = table[table["model"] == "RAM-3"]
    assert ram["state"].str.startswith("interrupted at epoch 3 of 3").all()
    assert ram["provisional"].all() and not table[table["model"] == "MRAM-3"]["provisional"].any()
    claims = gb.budget_claims(sweep).set_index("key")
    assert claims.loc["mram_sustains", "provisional"] == ""
    for key in ("ram_peaks", "mram_more_robust"):
        assert claims.loc[key, "provisional"].startswith("RAM-3 (interrupted at epoch 3")
    assert "weights of epoch" in claims.loc["ram_peaks", "provisional"]


def test_default_runs_are_the_fig2_3_models_at_7_and_12(tmp_path, monkeypatch, capsys):
    assert gb.default_runs() == ["mram-7", "dram-7", "ram-7", "mram-12", "dram-12", "ram-12"]
    seen = []

    def stop(runs, *args, **kwargs):  # record the runs, then stop as a bad input would
        seen.extend(runs)
        raise ValueError("stop")

    monkeypatch.setattr(gb, "glimpse_budget", stop)
    assert gb.main(["--runs", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert [r.run for r in seen] == gb.default_runs()
    assert [Path(r.checkpoint) for r in seen] == [tmp_path / r / "best.pt"
                                                  for r in gb.default_runs()]
    assert {r.state for r in seen} == {"not started"} and not any(r.finished for r in seen)
    assert capsys.readouterr().err == "glimpse_budget: error: stop\n"


def test_models_trained_with_different_t_get_panels_of_their_own(tmp_path):
    rows = [{"model": m, "glimpses": g, "trained_glimpses": t, "images": 10,
             "accuracy_pct": 50.0 + g, "ci_low_pct": 40.0, "ci_high_pct": 70.0}
            for m, t in (("RAM-7", 7), ("MRAM-7", 7), ("RAM-12", 12)) for g in (6, 7, 12)]
    png, svg = gb.plot_glimpse_budget(pd.DataFrame(rows), tmp_path / "budget")
    with Image.open(png) as image:
        assert image.size == (1650, 630)  # two panels: 2 x 4.6 + 1.8 in at 150 dpi
    text = svg.read_text()
    assert "trained with T = 7 glimpses" in text and "trained with T = 12 glimpses" in text


def test_errors_are_one_line(runs, tmp_path, capsys):
    for argv, fragment in (
            (["--run", "ram-3", "missing"], "no such checkpoint"),
            (["--run", "ram-3", "cnn"], "takes no glimpses"),
            (["--run", "ram-3", "--budgets", "3", "0"], "budgets"),
            (["--run", "ram-3", "--limit", "0"], "--limit"),
            (["--run", "ram-3", "ram-3"], "same model"),
            ([], "mram-7/best.pt"),  # the default runs, none of which is in this folder
    ):
        assert gb.main(["--runs", str(runs), *argv, "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("glimpse_budget: error: ") and err.count("\n") == 1
        assert fragment in err
    assert not list(tmp_path.iterdir())


def test_cli_takes_shipped_weights(monkeypatch, tmp_path, capsys):
    """A lost run folder's stand-in: ``pretrained:<dataset>/<name>`` instead of a run name."""
    monkeypatch.setenv("ZOO_WEIGHTS", str(Path(zoo.__file__).parent / "weights"))
    out = tmp_path / "budget"
    # without the installed data set, its first 100 test images shipped with the weights
    monkeypatch.setenv("ZOO_DATA", str(Path(zoo.__file__).parent / "weights" / "examples"))
    code = gb.main(["--runs", str(tmp_path), "--run", "pretrained:fashion-mnist/ram-7",
                    "--budgets", "7", "--limit", "20", "--out", str(out), "--device", "cpu"])
    assert code == 0, capsys.readouterr().err
    written = pd.read_csv(out.with_suffix(".csv"))
    assert written[["model", "glimpses", "images"]].values.tolist() == [["RAM-7", 7, 20]]
    assert written.loc[0, "correct"] == _hand_correct("pretrained:fashion-mnist/ram-7", 7,
                                                      limit=20)
    # The card's state, worded as every table words a stand-in's (RunStatus.state).
    assert written.loc[0, "state"] == ("stopped early at epoch 215 (best 165, patience 50); "
                                       "shipped weights zoo/weights/fashion-mnist/ram-7.pt")
    assert not written.loc[0, "provisional"]
