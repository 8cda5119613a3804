"""Tests of gazekit.argparsing and of the commands' bad-input messages (issue 17)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gazekit.cli import main as gazekit_main
from zoo.cli import main as zoo_main


def scanpath_file(path, model="A"):
    pd.DataFrame({"model": model, "image_id": 0, "step": [0, 1, 2, 3],
                  "x": [1.0, 2.0, 30.0, 31.0], "y": [1.0, 1.0, 1.0, 1.0]}).to_parquet(path)
    return str(path)


@pytest.mark.parametrize("argv, message", [
    (["analyze", "s.parquet", "--threshold", "abc"],
     "gazekit analyze: error: argument --threshold: invalid float value: 'abc'"),
    (["analyze", "s.parquet", "--ms-per-step", "0"], "argument --ms-per-step:"),
    (["analyze", "s.parquet", "--screen-px", "-1920", "1080"], "argument --screen-px:"),
    ([], "gazekit: error: the following arguments are required: COMMAND"),
])
def test_argparse_rejections_are_one_line(capsys, argv, message):
    with pytest.raises(SystemExit) as info:
        gazekit_main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.count("\n") == 1 and message in err
    assert "usage:" not in err and err.rstrip().endswith("--help)")


def test_zoo_argparse_rejections_are_one_line(capsys):
    for argv in (["evaluate"], ["train", "--epochs", "x"], ["export", "a.pt"]):
        with pytest.raises(SystemExit) as info:
            zoo_main(argv)
        err = capsys.readouterr().err
        assert info.value.code == 2 and err.count("\n") == 1 and "usage:" not in err


def test_help_still_prints_the_usage(capsys):
    with pytest.raises(SystemExit) as info:
        gazekit_main(["analyze", "--help"])
    assert info.value.code == 0 and capsys.readouterr().out.startswith("usage: gazekit analyze")


def test_group_by_a_column_that_varies_within_scanpaths_names_the_column(tmp_path, capsys):
    data = scanpath_file(tmp_path / "s.parquet")
    assert gazekit_main(["analyze", data, "--group-by", "x", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "group_by column 'x' does not describe whole scanpaths" in err
    assert "'all'" not in err and not (tmp_path / "o").exists()


def test_the_report_names_inputs_by_their_final_path(tmp_path):
    from gazekit.analyze import analyze
    from gazekit.atomic import atomic_output_dir

    out = tmp_path / "demo"
    with atomic_output_dir(out) as tmp:
        (tmp / "exports").mkdir()
        data = scanpath_file(tmp / "exports" / "a.parquet")
        analyze(data, tmp / "analysis", progress=False)
    report = (out / "analysis" / "report.md").read_text()
    assert f"`{out / 'exports' / 'a.parquet'}`" in report and ".tmp" not in report


def test_legends_cut_long_group_names():
    from gazekit.plot import legend_name, threshold_sweep_figure

    long_name = "m" * 100_000
    sweep = pd.DataFrame({"group": [long_name, "short"], "threshold_px": [6.0, 6.0],
                          "fixational_share": [0.5, 0.4], "fixation_steps_mean": [2.0, 1.5],
                          "saccade_px_mean": [10.0, 12.0]})
    fig = threshold_sweep_figure(sweep)
    texts = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert max(map(len, texts)) < 80 and "(100000 characters)" in texts[0]
    assert legend_name("short") == "short"
    assert np.all([len(legend_name("x" * n)) <= 70 for n in (41, 1000, 10**6)])
