"""Tests of analysis/dram_remedy.py on hand-written run folders."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from analysis import dram_remedy


def fake_run(folder: Path, output: str, scale: float, spreads: list[list[float]]) -> None:
    folder.mkdir(parents=True)
    config = {"model_kwargs": {"glimpses": 3, **({"context_output": output}
                                                  if output != "tanh" else {})},
              **({"reinforce_lr_scale": scale} if scale != 1.0 else {})}
    (folder / "config.json").write_text(json.dumps(config))
    lines = [{"epoch": e + 1, "val_acc": 0.5 + e / 10,
              "health": {"spread_px": s, "policy_saturated": 0.0,
                         "context_saturated": None if output == "layernorm" else 0.1 * e,
                         "context_spread": 0.2}}
             for e, s in enumerate(spreads)]
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))


def test_health_table_figure_and_summary(tmp_path):
    runs = tmp_path / "runs"
    # A run from before the options existed: its config lacks both keys (tanh, scale 1).
    fake_run(runs / "tanh", "tanh", 1.0, [[2.0, 1.0, 0.5], [0.01, 0.02, 0.3]])
    fake_run(runs / "layernorm", "layernorm", 0.1, [[2.5, 1.5, 1.0]])
    (runs / "empty").mkdir()  # not started: skipped
    table = dram_remedy.health_table(runs).set_index(["run", "epoch"])
    assert table.loc[("tanh", 2), "glimpse1_spread_px"] == 0.01
    assert table.loc[("tanh", 2), "context_output"] == "tanh"
    assert table.loc[("tanh", 1), "reinforce_lr_scale"] == 1.0
    assert table.loc[("layernorm", 1), "reinforce_lr_scale"] == 0.1
    assert pd.isna(table.loc[("layernorm", 1), "context_saturated"])
    out = tmp_path / "res" / "dram_remedy"
    assert dram_remedy.main(["--runs", str(runs), "--out", str(out)]) == 0
    for suffix in (".csv", ".md", ".png", ".svg"):
        assert out.with_suffix(suffix).stat().st_size > 0
    assert "| tanh | tanh | 1 | 3 | 2 | 0.6 | 0.1 |" in out.with_suffix(".md").read_text()


def test_no_runs_is_one_line(tmp_path, capsys):
    (tmp_path / "runs").mkdir()
    assert dram_remedy.main(["--runs", str(tmp_path / "runs"), "--out",
                             str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no run folder with per-epoch health" in err
    assert not list(tmp_path.glob("x*"))


@pytest.mark.parametrize("name", sorted(dram_remedy.REMEDIES))
def test_remedy_options_are_zoo_train_options(name):
    from zoo.train import build_parser

    args = ["--model", "dram", "--dataset", "synthetic", "--out", "x",
            *dram_remedy.REMEDIES[name].split()]
    build_parser().parse_args(args)  # exits on an unknown option


def test_table2_dram_runs_carry_the_remedy():
    from analysis.experiments import DRAM_REMEDY_ARGS, NOCONTEXT_REMEDY_ARGS, experiments

    args = {e.run: e.train_args() for e in experiments(2)}
    assert args["dram-12"][-len(DRAM_REMEDY_ARGS):] == list(DRAM_REMEDY_ARGS)
    assert args["dram_nocontext-7"][-len(NOCONTEXT_REMEDY_ARGS):] == list(NOCONTEXT_REMEDY_ARGS)
    assert "--context-output" not in args["dram_nocontext-7"]
    assert "--reinforce-lr-scale" not in args["mram-7"] + args["ram-12"]
