"""Tests of the gazekit command line: success, and one-line errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gazekit.cli import main


def table() -> pd.DataFrame:
    # Two models; model a: (0,0) (1,0) (10,0) -> fixations of 2 and 1 glimpses, one saccade.
    return pd.DataFrame({
        "model": ["a", "a", "a", "b", "b"],
        "image_id": [0, 0, 0, 0, 0],
        "step": [0, 1, 2, 0, 1],
        "x": [0.0, 1.0, 10.0, 5.0, 5.0],
        "y": [0.0, 0.0, 0.0, 5.0, 6.0],
    })


def test_main_end_to_end(tmp_path, capsys):
    table().to_parquet(tmp_path / "in.parquet", index=False)
    out = tmp_path / "out"
    assert main(["analyze", str(tmp_path / "in.parquet"), "--out", str(out), "--no-progress",
                 "--threshold", "6", "--mode", "anchor"]) == 0
    stdout = capsys.readouterr().out
    lines = stdout.splitlines()
    assert lines[0].split()[:4] == ["group", "scanpaths", "fixations", "saccades"]
    assert lines[1].split()[:4] == ["a", "1", "2", "1"]
    assert lines[2].split()[:4] == ["b", "1", "1", "0"]
    summary = pd.read_csv(out / "summary.csv")
    np.testing.assert_allclose(summary["fixation_steps_mean"], [1.5, 2.0])
    assert "rule `anchor`" in (out / "report.md").read_text()


def test_demo_command(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--no-progress"]) == 0
    stdout = capsys.readouterr().out
    for model in ("synthetic-saccadic", "synthetic-fixational", "synthetic-mixed"):
        assert model in stdout
    assert (out / "densities.png").exists()
    # A second run refuses to replace the results unless asked to.
    assert main(["demo", "--out", str(out), "--no-progress"]) == 2
    assert "not empty" in capsys.readouterr().err


def _write_bad(kind: str, path):
    df = table()
    if kind == "missing column":
        df.drop(columns="x").to_parquet(path, index=False)
    elif kind == "nan coordinate":
        df.assign(y=[0.0, np.nan, 0.0, 5.0, 6.0]).to_parquet(path, index=False)
    elif kind == "duplicate step":
        df.assign(step=[0, 1, 1, 0, 1]).to_parquet(path, index=False)
    elif kind == "empty file":
        path.touch()
    elif kind == "not parquet":
        df.to_csv(path, index=False)  # CSV text under a .parquet name
    elif kind == "empty directory":
        path.mkdir()
    return path


BAD = {
    "missing column": "missing column 'x'",
    "nan coordinate": "column 'y' row 1 (0-based): expected a finite number",
    "duplicate step": "step 1 appears twice",
    "empty file": "empty file",
    "not parquet": "cannot read as Parquet",
    "empty directory": "directory holds no scanpath file",
}


@pytest.mark.parametrize("kind", list(BAD))
def test_bad_input_subprocess(tmp_path, kind):
    path = _write_bad(kind, tmp_path / ("in" if kind == "empty directory" else "in.parquet"))
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "gazekit.cli", "analyze", str(path), "--out", str(out)],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    err_lines = proc.stderr.splitlines()
    assert len(err_lines) == 1, proc.stderr
    assert err_lines[0].startswith("gazekit: error: ")
    assert BAD[kind] in err_lines[0] and str(path) in err_lines[0]
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


@pytest.mark.parametrize("argv, message", [
    (["--threshold", "-2"], "threshold -2: expected a finite distance >= 0 in pixels"),
    (["--units", "physical"], "needs px_per_degree"),
    (["--bw-method", "widest"], "unknown bw_method 'widest'"),
    (["--group-by", "step"], "does not describe whole scanpaths"),
])
def test_bad_arguments_in_process(tmp_path, capsys, argv, message):
    table().to_parquet(tmp_path / "in.parquet", index=False)
    out = tmp_path / "out"
    assert main(["analyze", str(tmp_path / "in.parquet"), "--out", str(out), "--no-progress",
                 *argv]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and captured.err.startswith("gazekit: error: ")
    assert message in captured.err
    assert not out.exists()


def test_console_script_success(tmp_path):
    table().to_csv(tmp_path / "in.csv", index=False)
    proc = subprocess.run(
        [sys.executable, "-m", "gazekit.cli", "analyze", str(tmp_path / "in.csv"), "--out",
         str(tmp_path / "out"), "--no-progress"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1].split()[0] == "a"
    assert (tmp_path / "out" / "report.md").exists()


def test_default_output_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    table().to_csv("in.csv", index=False)
    assert main(["analyze", "in.csv", "--no-progress"]) == 0
    assert (tmp_path / "out" / "summary.csv").exists()
    assert "wrote out/" in capsys.readouterr().out


HUMAN = Path(__file__).resolve().parents[1] / "data" / "human"


STUDYFORREST_ARGS = ["--screen-px", "1280", "720", "--screen-cm", "26.5", "14.90625",
                     "--distance-cm", "63"]
TOBII_ARGS = ["--screen-px", "1920", "1080", "--screen-cm", "50.9", "28.6", "--distance-cm", "65"]


def test_human_recordings(tmp_path, capsys):
    table().to_parquet(tmp_path / "in.parquet", index=False)
    out = tmp_path / "out"
    assert main(["analyze", str(tmp_path / "in.parquet"), "--out", str(out), "--no-progress",
                 "--human", str(HUMAN / "studyforrest-events"), "--human-format", "bids-events",
                 *STUDYFORREST_ARGS, "--units", "physical", "--ms-per-step", "50",
                 "--px-per-degree", "10"]) == 0
    stdout = capsys.readouterr().out
    assert "human" in stdout.splitlines()[3].split()[0]  # summary row after a and b
    assert "Fixation duration (ms): closest to `human` by KS `" in stdout
    assert "human_comparison.csv" in stdout
    table_ = pd.read_csv(out / "human_comparison.csv")
    assert set(table_["group"]) == {"a", "b"}
    report = (out / "report.md").read_text()
    assert "1280 x 720 px, 26.5 x 14.9062 cm at 63 cm" in report  # the screen given


def _samples_csv(path, **columns):
    # 500 Hz: 200 ms at (100, 100) px, a jump, 200 ms at (400, 300) px.
    t = np.arange(200) * 2.0
    x = np.where(t < 200, 100.0, 400.0)
    y = np.where(t < 200, 100.0, 300.0)
    pd.DataFrame({"t": t, "x": x, "y": y}).rename(columns=columns).to_csv(path, index=False)
    return path


def test_human_csv_needs_a_geometry(tmp_path, capsys):
    table().to_parquet(tmp_path / "in.parquet", index=False)
    samples = _samples_csv(tmp_path / "rec.csv")
    base = ["analyze", str(tmp_path / "in.parquet"), "--no-progress", "--human", str(samples),
            "--human-format", "csv", "--units", "physical", "--ms-per-step", "50",
            "--px-per-degree", "10"]
    assert main([*base, "--out", str(tmp_path / "o1")]) == 2
    assert "need the screen geometry" in capsys.readouterr().err
    assert main([*base, "--out", str(tmp_path / "o2"), "--distance-cm", "60"]) == 2
    assert ("needs all of --screen-px, --screen-cm and --distance-cm (missing --screen-px, "
            "--screen-cm)") in capsys.readouterr().err
    assert main([*base, "--out", str(tmp_path / "o3"), "--screen-px", "800", "600",
                 "--screen-cm", "40", "30", "--distance-cm", "60",
                 "--human-detector", "ivt", "--velocity-deg-s", "45"]) == 0
    summary = pd.read_csv(tmp_path / "o3" / "summary.csv")
    human = summary[summary["group"] == "human"].iloc[0]
    assert human["fixations"] == 2 and human["saccades"] == 1
    report = (tmp_path / "o3" / "report.md").read_text()
    assert "800 x 600 px, 40 x 30 cm at 60 cm" in report
    assert "ivt (velocity_deg_s 45, min_duration_ms 60" in report


@pytest.mark.parametrize("argv, message", [
    (["--human-format", "tobii", *TOBII_ARGS], "needs units='physical'"),
    (["--units", "relative", "--human-format", "fixations", *TOBII_ARGS],
     "missing column 'start_x'"),
    (["--units", "relative", *TOBII_ARGS], "name the format of the human recordings"),
    (["--units", "relative", "--human-format", "tobii"], "human recordings (tobii) need the "
     "screen geometry"),
    (["--units", "relative", "--human-format", "tobii", *TOBII_ARGS, "--human-detector", "idt",
      "--window-ms", "5"], "--window-ms is no option of the idt detector"),
])
def test_human_errors(tmp_path, capsys, argv, message):
    table().to_parquet(tmp_path / "in.parquet", index=False)
    assert main(["analyze", str(tmp_path / "in.parquet"), "--out", str(tmp_path / "out"),
                 "--no-progress", "--human", str(HUMAN / "i2mc-tobii-tx300"), *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not (tmp_path / "out").exists()


# --- gazekit detect ------------------------------------------------------------------------

SCREEN = ["--screen-px", "800", "600", "--screen-cm", "40", "30", "--distance-cm", "60"]


def test_detect_then_analyze_the_human_recordings_alone(tmp_path, capsys):
    (tmp_path / "rec").mkdir()
    samples = _samples_csv(tmp_path / "rec" / "s1.csv", t="time")
    events = tmp_path / "events"
    assert main(["detect", str(samples), "--format", "csv", "--columns", "time", "x", "y",
                 *SCREEN, "--method", "ivt", "--velocity-deg-s", "40", "--out",
                 str(events)]) == 0
    assert "wrote" in capsys.readouterr().out
    fix = pd.read_parquet(events / "fixations.parquet")
    assert len(fix) == 2
    np.testing.assert_allclose(fix[["x", "y"]], [[100, 100], [400, 300]])
    sac = pd.read_parquet(events / "saccades.parquet")
    # The angle between the lines of sight to (100, 100) px and the centre (400, 300) px of a
    # 0.05 cm/px screen 60 cm away, from the dot product of the two (X, Y, D) vectors in cm.
    a = np.array([(100 - 400) * 0.05, (100 - 300) * 0.05, 60.0])
    b = np.array([0.0, 0.0, 60.0])
    want = np.degrees(np.arccos(a @ b / np.linalg.norm(a) / np.linalg.norm(b)))
    np.testing.assert_allclose(sac["amplitude_deg"], [want], rtol=1e-12)
    meta = json.loads((events / "detection.json").read_text())
    assert meta["method"] == "ivt" and meta["params"]["velocity_deg_s"] == 40.0
    assert meta["geometry"] == {"resolution_px": [800, 600], "size_cm": [40.0, 30.0],
                                "distance_cm": 60.0}
    summary = pd.read_csv(events / "summary.csv")
    assert summary["trial"].tolist() == ["s1", "all"]
    assert summary["fixations"].tolist() == [2, 2] and summary["saccades"].tolist() == [1, 1]

    out = tmp_path / "analysis"
    assert main(["analyze", "--human", str(events), "--out", str(out), "--no-progress"]) == 0
    result = pd.read_csv(out / "summary.csv")
    assert result["group"].tolist() == ["human"] and result["fixations"].iloc[0] == 2
    report = (out / "report.md").read_text()
    assert "No model scanpaths" in report and "`physical`" in report
    assert "ivt (velocity_deg_s 40" in report and not (out / "human_comparison.csv").exists()


@pytest.mark.parametrize("argv, message", [
    (["--format", "csv"], "the screen geometry is required"),
    (["--format", "csv", "--screen-px", "800", "600"], "(missing --screen-cm, --distance-cm)"),
    (["--format", "csv", *SCREEN, "--method", "idt", "--velocity-deg-s", "40"],
     "--velocity-deg-s is no option of the idt detector (--method idt; its options: "
     "--dispersion-deg, --min-duration-ms)"),
    (["--format", "csv", "--screen-px", "50", "50", "--screen-cm", "4", "3", "--distance-cm",
      "60"], "has no valid samples (200 rows, all lost, marked invalid or off the 50 x 50 px "
     "screen)"),
    (["--format", "tobii", *SCREEN, "--columns", "t", "x", "y"],
     "--columns, --time-unit and --coordinates describe --format csv files, not tobii"),
    ([*SCREEN], "--format is required"),
    (["--format", "eyelink", *SCREEN], "argument --format: invalid choice: 'eyelink'"),
    (["--format", "csv", *SCREEN, "--method", "ivt", "--window-ms", "0"],
     "window_ms must be a positive finite number, got 0.0"),
])
def test_detect_errors(tmp_path, capsys, argv, message):
    samples = _samples_csv(tmp_path / "rec.csv")
    out = tmp_path / "out"
    try:
        status = main(["detect", str(samples), *argv, "--out", str(out)])
    except SystemExit as exc:  # argparse's own errors
        status = exc.code
    assert status == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not out.exists()


# --- gazekit sweep -------------------------------------------------------------------------


def test_sweep_command(tmp_path, capsys):
    # table(), consecutive rule: model a steps 1 and 9 px, model b one step of 1 px.
    table().to_parquet(tmp_path / "in.parquet", index=False)
    csv, stem = tmp_path / "sweep.csv", tmp_path / "fig" / "sweep"
    assert main(["sweep", str(tmp_path / "in.parquet"), "--thresholds", "10", "2",
                 "--out", str(csv), "--figure", str(stem)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:5] == ["group", "threshold", "(px)", "fixations", "saccades"]
    assert [line.split()[:6] for line in lines[1:5]] == [
        ["a", "2.000", "2", "1", "2.000", "0.500"], ["a", "10.000", "1", "0", "1.000", "1.000"],
        ["b", "2.000", "1", "0", "1.000", "1.000"], ["b", "10.000", "1", "0", "1.000", "1.000"]]
    assert lines[-1] == f"wrote {csv}, {stem}.png, {stem}.svg"
    assert stem.with_suffix(".png").exists() and stem.with_suffix(".svg").exists()
    sweep = pd.read_csv(csv)
    assert list(sweep["group"]) == ["a", "a", "b", "b"]
    assert list(sweep["threshold_px"]) == [2, 10, 2, 10]
    assert list(sweep["glimpses"]) == [3, 3, 2, 2]
    np.testing.assert_array_equal(sweep["fixation_steps_mean"], [1.5, 3, 2, 2])
    np.testing.assert_array_equal(sweep["saccade_px_median"], [9, np.nan, np.nan, np.nan])


def test_sweep_writes_nothing_by_default(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    table().to_csv("in.csv", index=False)
    assert main(["sweep", "in.csv", "--mode", "anchor", "--group-by", "image_id"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines[1:]] == [
        ["0", f"{t:.3f}"] for t in (2, 3, 4, 5, 6, 7, 8, 10, 12)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


@pytest.mark.parametrize("argv, message", [
    (["--thresholds", "2", "6", "2"], "threshold 2 px is given twice"),
    (["--thresholds", "-1"], "threshold -1: expected a finite distance >= 0 in pixels"),
    (["--thresholds", "nan"], "threshold nan: expected a finite distance >= 0"),
    (["--out", "in.parquet"], "output file in.parquet is the input in.parquet"),
    (["--out", "fig.svg"], "output file fig.svg is also output fig.svg"),
    (["--group-by", "step"], "group_by column 'step' does not describe whole scanpaths"),
    (["--out", "."], "is a directory"),
    (["--figure", "in.parquet/fig"], "in.parquet"),  # the figure's folder is a file
    # The CSV's new folders go again when the figure fails.
    (["--out", "new/sub/sweep.csv", "--figure", "in.parquet/fig"], "in.parquet"),
    (["missing.parquet"], "missing.parquet: file not found"),
])
def test_sweep_errors_in_process(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    table().to_parquet("in.parquet", index=False)
    # Later options replace these; a further path is read after in.parquet.
    assert main(["sweep", "--out", "sweep.csv", "--figure", "fig", "in.parquet", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and captured.err.startswith("gazekit: error: ")
    assert message in captured.err and captured.out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet"]


#: The code review's reproductions (CSV text, message): each exited 0 or failed without naming
#: the file and line before.
REVIEW = {
    "time going back": ("scanpath_id,model,step,x,y,t\na,m,0,0,0,0\na,m,1,10,0,100\n"
                        "a,m,2,20,0,50\na,m,3,30,0,80\n",
                        "column 't' line 4: onset 50.0 ms at step 2 is not after 100.0 ms"),
    "group varies": ("scanpath_id,model,step,x,y,image_width\na,m,0,0,0,28\na,n,1,10,0,28\n"
                     "b,m,0,0,0,28\nb,m,1,1,0,28\n",
                     "column 'model' line 3: value 'n' differs from 'm' earlier in the same "
                     "scanpath (scanpath_id='a')"),
    "zero width": ("model,image_id,step,x,y,image_width\nm,1,0,0,0,0\nm,1,1,10,0,0\n",
                   "column 'image_width' line 2: expected a positive finite number (pixels), "
                   "got 0"),
}


@pytest.mark.parametrize("command", ["analyze", "sweep"])
@pytest.mark.parametrize("kind", list(REVIEW))
def test_review_cases_fail_with_one_line(tmp_path, monkeypatch, capsys, command, kind):
    monkeypatch.chdir(tmp_path)
    text, message = REVIEW[kind]
    Path("bad.csv").write_text(text)
    argv = (["analyze", "bad.csv", "--out", "new/out", "--no-progress", "--units", "relative"]
            if command == "analyze" else
            ["sweep", "bad.csv", "--out", "new/sweep.csv", "--figure", "new/fig"])
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"gazekit: error: bad.csv: {message}")
    assert captured.err.count("\n") == 1 and captured.out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_sweep_malformed_csv_subprocess(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("model,image_id,step,x,y\na,0,0,1.0,2.0\na,0,1,3.0,4.0,5.0\n")
    proc = subprocess.run(
        [sys.executable, "-m", "gazekit.cli", "sweep", str(path), "--out",
         str(tmp_path / "sweep.csv"), "--figure", str(tmp_path / "fig")],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("gazekit: error: ") and proc.stderr.count("\n") == 1
    assert f"{path}: cannot read as CSV" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


# --- the second review: outputs over inputs, pipes, and rules shared by both commands -------


def _snapshot(root: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() else None
            for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize("argv, message", [
    # The review's cases: the input directory deleted, the input CSV replaced, exit 0.
    (["analyze", "ex", "--out", "ex", "--overwrite"],
     "output directory ex is the input ex (replacing the directory would delete"),
    (["analyze", "ex/in.parquet", "--out", "ex", "--overwrite"],
     "output directory ex contains the input ex/in.parquet"),
    (["analyze", "ex", "--out", "ex/results"], "output directory ex/results lies inside the "
     "input ex"),
    (["sweep", "in.csv", "--thresholds", "6", "--out", "in.csv"],
     "output file in.csv is the input in.csv (writing it would replace the input)"),
    (["sweep", "ex", "--out", "ex/in.parquet", "--figure", "fig"],
     "output file ex/in.parquet is the input ex/in.parquet"),
])
def test_outputs_never_replace_inputs(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    Path("ex").mkdir()
    table().to_parquet("ex/in.parquet", index=False)
    table().to_csv("in.csv", index=False)
    before = _snapshot(tmp_path)
    assert main([*argv, *(["--no-progress"] if argv[0] == "analyze" else [])]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"gazekit: error: {message}" + captured.err[len(message) + 16:]
    assert captured.err.count("\n") == 1 and captured.out == ""
    assert _snapshot(tmp_path) == before


def test_sweep_figure_is_all_or_nothing(tmp_path, monkeypatch, capsys):
    """The review's case: with a folder fige.png in the way, fige.svg was left behind."""
    monkeypatch.chdir(tmp_path)
    table().to_csv("s.csv", index=False)
    Path("fige.png").mkdir()
    assert main(["sweep", "s.csv", "--out", "sw6.csv", "--figure", "fige"]) == 2
    assert capsys.readouterr().err == ("gazekit: error: fige.png: is a directory (expected the "
                                       "name of a file)\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fige.png", "s.csv"]


def test_closed_stdout_ends_quietly(tmp_path):
    """The review's case: ``gazekit sweep s.parquet | head -2`` ended in a traceback."""
    table().to_parquet(tmp_path / "in.parquet", index=False)
    proc = subprocess.Popen([sys.executable, "-m", "gazekit.cli", "sweep",
                             str(tmp_path / "in.parquet")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before anything is printed
    _, stderr = proc.communicate(timeout=120)
    assert stderr == b"" and proc.returncode == 1


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "-1"])
def test_one_threshold_rule_in_both_commands(tmp_path, capsys, value):
    """The review's case: analyze took --threshold inf (and 0) while sweep refused both."""
    table().to_parquet(tmp_path / "in.parquet", index=False)
    errors = []
    for argv in (["analyze", f"--threshold={value}", "--out", str(tmp_path / "out"),
                  "--no-progress"], ["sweep", f"--thresholds={value}"]):
        assert main([argv[0], str(tmp_path / "in.parquet"), *argv[1:]]) == 2
        errors.append(capsys.readouterr().err)
    shown = f"{float(value):g}"
    assert errors == [f"gazekit: error: threshold {shown}: expected a finite distance >= 0 in "
                      "pixels\n"] * 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet"]


def test_threshold_zero_in_both_commands(tmp_path, capsys):
    """0 px: every glimpse its own fixation (model a: 3 glimpses, b: 2), in both commands."""
    table().to_parquet(tmp_path / "in.parquet", index=False)
    assert main(["analyze", str(tmp_path / "in.parquet"), "--threshold", "0", "--out",
                 str(tmp_path / "out"), "--no-progress"]) == 0
    assert pd.read_csv(tmp_path / "out" / "summary.csv")["fixations"].tolist() == [3, 2]
    assert main(["sweep", str(tmp_path / "in.parquet"), "--thresholds", "0", "--out",
                 str(tmp_path / "sweep.csv")]) == 0
    assert pd.read_csv(tmp_path / "sweep.csv")["fixations"].tolist() == [3, 2]
    capsys.readouterr()


@pytest.mark.parametrize("command", ["analyze", "sweep"])
def test_misspelt_group_column(tmp_path, capsys, command):
    """The review's case: --group-by modle pooled everything into one group "all"."""
    table().to_parquet(tmp_path / "in.parquet", index=False)
    extra = ["--out", str(tmp_path / "out"), "--no-progress"] if command == "analyze" else []
    assert main([command, str(tmp_path / "in.parquet"), "--group-by", "modle", *extra]) == 2
    assert capsys.readouterr().err == (
        "gazekit: error: group_by column 'modle' is not in the input (columns that can define "
        "groups: model, image_id)\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet"]


def test_scale_options_serve_the_reference_comparison_in_native_units(tmp_path, capsys):
    """--ms-per-step and --px-per-degree are not ignored without --units physical: they put
    the model's means in ms and degrees next to the human reference values."""
    table().to_parquet(tmp_path / "in.parquet", index=False)
    assert main(["analyze", str(tmp_path / "in.parquet"), "--out", str(tmp_path / "out"),
                 "--no-progress", "--ms-per-step", "50", "--px-per-degree", "3"]) == 0
    capsys.readouterr()
    reference = pd.read_csv(tmp_path / "out" / "reference_comparison.csv")
    a = reference[reference["group"] == "a"]
    np.testing.assert_allclose(a["model_fixation_ms"], 1.5 * 50)  # (2 + 1) / 2 steps
    np.testing.assert_allclose(a["model_saccade_deg"], 9 / 3)  # one saccade of 9 px
