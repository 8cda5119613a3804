"""The reproduction pipeline while runs are still training, on tiny fake runs of two glimpse
counts: one checkpoint pinned per run and invocation although ``best.pt`` moves between the
stages, every label naming the epoch of the weights used, figure notes naming only the runs
shown, titles of figures that mix glimpse counts, the claims CSVs' ``provisional`` column, and
tables that a rerun leaves empty removed."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch

from analysis import claims as claims_module
from analysis import reproduce, table_figures
from analysis.experiments import experiments
from zoo.checkpoint import load_checkpoint, save_checkpoint
from zoo.train import TrainConfig, train

LIMIT = 16  # test images exported
STEM = "table2_fashion_mnist"
MOVED_EPOCH = 77  # epoch of the best.pt that replaces RAM-12's while the pipeline runs


def _train(runs: Path, name: str, model: str, glimpses: int, epochs: int = 1) -> Path:
    """A tiny run of ``zoo train`` on the synthetic data set (finished after ``epochs``)."""
    train(TrainConfig(model=model, model_kwargs={"glimpses": glimpses}, dataset="synthetic",
                      out_dir=str(runs / name), epochs=epochs, batch_size=32, limit=48,
                      num_threads=1))
    return runs / name


def _metadata(export: Path) -> dict:
    return json.loads(pq.read_schema(export).metadata[b"zoo"])


def _svg_titles(path: Path) -> str:
    """The texts of an SVG figure (matplotlib writes each before its glyphs as a comment)."""
    return " | ".join(re.findall(r"<!-- (.*?) -->", path.read_text()))


@pytest.fixture(scope="module")
def in_progress(tmp_path_factory):
    """MRAM, DRAM and RAM at T = 7 and MRAM and RAM at T = 12 (no DRAM-12: Fig. 2 mixes T);
    RAM-7 and RAM-12 interrupted; RAM-12's best.pt replaced by an epoch-77 checkpoint with
    other weights right after its evaluation, before its export."""
    root = tmp_path_factory.mktemp("in-progress")
    runs = root / "runs"
    for name, model, glimpses in (("mram-7", "mram", 7), ("dram-7", "dram", 7),
                                  ("mram-12", "mram", 12)):
        _train(runs, name, model, glimpses)
    for name, glimpses in (("ram-7", 7), ("ram-12", 12)):
        (_train(runs, name, "ram", glimpses, epochs=2) / "final.json").unlink()  # interrupted
    best = runs / "ram-12" / "best.pt"
    original = load_checkpoint(best)
    moved = {**original, "epoch": MOVED_EPOCH,
             "state_dict": {k: v + 0.5 if v.is_floating_point() else v
                            for k, v in original["state_dict"].items()}}
    real = reproduce.evaluate

    def evaluate_then_train_on(checkpoint, **kwargs):
        result = real(checkpoint, **kwargs)
        if Path(str(checkpoint)).parent.name == "ram-12":  # training writes a new best.pt
            save_checkpoint(moved, best)
        return result

    results = root / "results"
    argv = ["--table", "2", "--runs", str(runs), "--results", str(results), "--limit",
            str(LIMIT), "--repeats", "1", "--latency-images", "2", "--threads", "1",
            "--device", "cpu"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reproduce, "evaluate", evaluate_then_train_on)
        assert reproduce.main(argv) == 0
    assert load_checkpoint(best)["epoch"] == MOVED_EPOCH  # best.pt did move meanwhile
    epochs = {label: load_checkpoint(runs / name / "best.pt")["epoch"]
              for label, name in (("RAM-7", "ram-7"), ("MRAM-12", "mram-12"))}
    settings = reproduce.Settings(table=2, runs=runs, work=runs / "_reproduce", results=results,
                                  limit=LIMIT)
    return {"runs": runs, "results": results, "argv": argv, "original": original,
            "epochs": {**epochs, "RAM-12": original["epoch"]}, "settings": settings}


def test_evaluate_and_export_use_the_same_pinned_weights(in_progress, tmp_path, capsys):
    work, epoch = in_progress["runs"] / "_reproduce", in_progress["original"]["epoch"]
    assert epoch != MOVED_EPOCH
    evaluation = json.loads((work / "eval" / "ram-12.json").read_text())
    pinned = work / "pinned" / "ram-12" / f"epoch{epoch}.pt"
    assert evaluation["checkpoint"] == str(pinned) and evaluation["epoch"] == epoch
    for suffix in ("", "-sampled"):
        meta = _metadata(work / "exports" / f"ram-12-limit{LIMIT}{suffix}.parquet")
        assert (meta["checkpoint"], meta["epoch"]) == (str(pinned), epoch)
    # The pinned copy holds the weights that were best when the invocation began.
    state = load_checkpoint(pinned)
    for key, value in in_progress["original"]["state_dict"].items():
        assert torch.equal(state["state_dict"][key], value)
    table = pd.read_csv(in_progress["results"] / f"{STEM}.csv").set_index("run")
    assert table.loc["ram-12", "evaluated_epoch"] == table.loc["ram-12", "exported_epoch"] \
        == epoch
    report = (in_progress["results"] / f"{STEM}.md").read_text()
    assert f"RAM-12 (weights of epoch {epoch}; interrupted" in report
    assert f"epoch {MOVED_EPOCH}" not in report
    assert f"RAM-12 (epoch {epoch})" in _svg_titles(
        in_progress["results"] / f"{STEM}_T12_fig3_densities.svg")

    # The next invocation, same work folder, sees the moved best.pt: evaluation and export are
    # both redone from a new pinned copy (the old one removed); finished runs' are kept.
    argv = [*in_progress["argv"], "--results", str(tmp_path / "results")]
    capsys.readouterr()
    for stage in ("evaluate", "export"):
        assert reproduce.main([*argv, "--stage", stage]) == 0
    out = capsys.readouterr().out
    assert f"[evaluate] ram-12: epoch {MOVED_EPOCH}" in out
    assert "[evaluate] mram-12: up to date" in out and "[export mean] mram-12: up to date" in out
    assert [p.name for p in (work / "pinned" / "ram-12").iterdir()] == [f"epoch{MOVED_EPOCH}.pt"]
    assert json.loads((work / "eval" / "ram-12.json").read_text())["epoch"] == MOVED_EPOCH
    assert _metadata(work / "exports" / f"ram-12-limit{LIMIT}.parquet")["epoch"] == MOVED_EPOCH
    table = pd.read_csv(tmp_path / "results" / f"{STEM}.csv").set_index("run")
    assert table.loc["ram-12", "evaluated_epoch"] == table.loc["ram-12", "exported_epoch"] \
        == MOVED_EPOCH


def test_per_t_figures_name_only_their_own_unfinished_runs(in_progress):
    results, epochs = in_progress["results"], in_progress["epochs"]
    for t, shown, other in ((7, "RAM-7", "RAM-12"), (12, "RAM-12", "RAM-7")):
        for name in (f"{STEM}_T{t}_fig3_densities", f"{STEM}_sampled_T{t}_fig3_densities",
                     f"{STEM}_T{t}_fig2_glimpses"):
            titles = _svg_titles(results / f"{name}.svg")
            note = re.search(r"still training, shown at an earlier epoch: (.*?)(?: \||$)", titles)
            assert note.group(1) == f"{shown} (epoch {epochs[shown]})", name
            assert f"{other} (" not in titles and " mixed; " not in titles
        assert f"Glimpses at T = {t} (policy mean" in _svg_titles(
            results / f"{STEM}_T{t}_fig2_glimpses.svg")


def test_figures_that_mix_glimpse_counts_say_so(in_progress):
    results, epochs = in_progress["results"], in_progress["epochs"]
    note = f"RAM-7 (epoch {epochs['RAM-7']}), RAM-12 (epoch {epochs['RAM-12']})"
    for name, key in (("fig3_densities", "legend gives T"),
                      ("sampled_fig3_densities", "legend gives T"),
                      ("threshold_sweep", "legend gives T"), ("human_densities", "legend gives T"),
                      ("fig2_glimpses", "row labels give T")):
        titles = _svg_titles(results / f"{STEM}_{name}.svg")
        assert f"T = 7 and 12 mixed; {key}" in titles, name
    # Fig. 2 shows the largest T of each role: MRAM-12, DRAM-7 and RAM-12.
    glimpses = _svg_titles(results / f"{STEM}_fig2_glimpses.svg")
    assert f"RAM-12 (epoch {epochs['RAM-12']})" in glimpses and "RAM-7 (" not in glimpses
    assert note in _svg_titles(results / f"{STEM}_fig3_densities.svg")
    # The notes as the figures' functions give them.
    settings = in_progress["settings"]
    shown = [e for e in experiments(2) if e.run in ("dram-7", "ram-7", "mram-12")]
    assert table_figures.title_notes(settings, shown) == (
        f"\nT = 7 and 12 mixed; legend gives T\nstill training, shown at an earlier epoch: "
        f"RAM-7 (epoch {epochs['RAM-7']})")
    by_t = {e.glimpses: e for e in experiments(2) if e.model == "ram"}
    assert table_figures.glimpse_counts_note([by_t[7], by_t[12], by_t[7]]) == \
        "\nT = 7 and 12 mixed; legend gives T"
    cnn = next(e for e in experiments(2) if e.glimpses is None)
    assert table_figures.glimpse_counts_note([by_t[12], cnn]) == ""  # the CNN has no T
    table1 = [e for e in experiments(1) if e.glimpses in (7, 10)]  # MNIST: T = 7 and 10
    assert table_figures.glimpse_counts_note([*table1, by_t[12]], "row labels give T") == \
        "\nT = 7, 10 and 12 mixed; row labels give T"


@pytest.mark.parametrize("name", ["claims", "claims_after_first", "threshold_claims"])
def test_claims_csvs_name_the_unfinished_runs_they_use(in_progress, name):
    """Each row's ``provisional``: the unfinished runs among the models its claim needs at
    its T (every role for a claim outside claims.CLAIMS), with the epoch of their weights."""
    epochs = in_progress["epochs"]
    unfinished = {7: f"RAM-7 (epoch {epochs['RAM-7']})", 12: f"RAM-12 (epoch {epochs['RAM-12']})"}
    roles = {claim.key: claim.roles for claim in claims_module.CLAIMS}
    df = pd.read_csv(in_progress["results"] / f"{STEM}_{name}.csv", keep_default_na=False)
    assert len(df) and set(df["glimpses"]) == {7, 12}
    for row in df.itertuples():
        uses_ram = "ram" in roles.get(row.key, ("ram",))
        assert row.provisional == (unfinished[row.glimpses] if uses_ram else ""), row
    assert (df["provisional"] == "").any() and (df["provisional"] != "").any()


def test_accuracy_claims_name_the_unfinished_runs_they_use(in_progress):
    epochs = in_progress["epochs"]
    df = pd.read_csv(in_progress["results"] / f"{STEM}_accuracy_claims.csv",
                     keep_default_na=False)
    expected = {"RAM-7": f"RAM-7 (epoch {epochs['RAM-7']})",
                "RAM-12": f"RAM-12 (epoch {epochs['RAM-12']})"}
    assert set(df["rival"]) >= {"RAM-7", "RAM-12", "DRAM-7"}
    for row in df.itertuples():
        assert row.provisional == expected.get(row.rival, ""), row


def test_a_rerun_removes_tables_that_became_empty(in_progress, tmp_path, capsys):
    """Without human data the human-shape table is empty: its older CSV goes, and the report
    no longer shows it; the other tables are rewritten."""
    results = tmp_path / "results"
    shutil.copytree(in_progress["results"], results)
    assert (results / f"{STEM}_human_shape.csv").is_file()
    capsys.readouterr()
    assert reproduce.main([*in_progress["argv"], "--results", str(results), "--stage",
                           "analyze", "--human", "none"]) == 0
    assert f"[analyze] removed {results / f'{STEM}_human_shape.csv'}" in capsys.readouterr().out
    assert not (results / f"{STEM}_human_shape.csv").exists()
    assert not list(results.glob(f".{STEM}_human_shape.csv*"))  # no debris either
    assert "Human-likeness" not in (results / f"{STEM}.md").read_text()
    claims = pd.read_csv(results / f"{STEM}_claims.csv")
    assert claims_module.HUMAN_CLAIM not in set(claims["claim"])
