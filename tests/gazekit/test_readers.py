"""Tests of gazekit.readers: importers on real excerpts, bad recordings."""

from __future__ import annotations

import csv
import math
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gazekit.geometry import STUDYFORREST, TOBII_TX300, ScreenGeometry
from gazekit.human import human_segmentation
from gazekit.readers import (
    CSV,
    TOBII,
    SampleFormat,
    bids_fixations,
    detect_fixations,
    read_bids_events,
    read_fixation_list,
    read_samples,
    recording_names,
)
from gazekit.schema import ScanpathError

DATA = Path(__file__).resolve().parents[1] / "data" / "human"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "human"
TOBII_DIR = DATA / "i2mc-tobii-tx300"
EVENTS_DIR = DATA / "studyforrest-events"
FIXVECTORS_DIR = DATA / "studyforrest-fixvectors"


def rows_of(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


# --- raw samples ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["participant1/1.tsv", "participant2/3.tsv"])
def test_tobii_samples_match_a_plain_reading(name):
    path = TOBII_DIR / name
    samples = read_samples(path, TOBII, geometry=TOBII_TX300)
    rows = rows_of(path)
    assert len(samples) == len(rows)
    want_x, want_y = [], []
    for row in rows:  # average of the eyes with validity code 0 that look at the screen
        eyes = [(float(row[f"{e}GazePos2dx"]), float(row[f"{e}GazePos2dy"]))
                for e in "LR" if row[f"{e}Validity"] == "0"]
        eyes = [(x, y) for x, y in eyes if 0 <= x <= 1 and 0 <= y <= 1]
        want_x.append(sum(p[0] for p in eyes) / len(eyes) * 1920 if eyes else math.nan)
        want_y.append(sum(p[1] for p in eyes) / len(eyes) * 1080 if eyes else math.nan)
    np.testing.assert_allclose(samples["x"], want_x, rtol=1e-12)
    np.testing.assert_allclose(samples["y"], want_y, rtol=1e-12)
    np.testing.assert_allclose(samples["t"], [int(r["Time"]) / 1000 for r in rows], rtol=1e-15)
    subject, trial = name.split("/")
    assert set(samples["subject"]) == {subject} and set(samples["trial"]) == {trial[:-4]}


def test_tobii_uncertain_eye_codes_are_lost():
    samples = read_samples(TOBII_DIR / "participant2" / "3.tsv", TOBII, geometry=TOBII_TX300)
    rows = rows_of(TOBII_DIR / "participant2" / "3.tsv")
    uncertain = [i for i, r in enumerate(rows) if {r["LValidity"], r["RValidity"]} == {"1", "3"}]
    assert uncertain  # the excerpt has such samples; their gaze is off the screen
    assert samples["x"].iloc[uncertain].isna().all()
    lost = samples["x"].isna().sum()

    def seen(r, e):  # valid and on the screen
        return r[f"{e}Validity"] == "0" and all(
            0 <= float(r[f"{e}GazePos2d{a}"]) <= 1 for a in "xy")

    assert lost == sum(not seen(r, "L") and not seen(r, "R") for r in rows)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def samples_csv(times, xs=None, extra: str = "") -> str:
    xs = xs if xs is not None else [100.0] * len(times)
    return "t,x,y\n" + "".join(f"{t},{x},50\n" for t, x in zip(times, xs, strict=True)) + extra


REGULAR = [i * 2.0 for i in range(12)]


@pytest.mark.parametrize("text, message", [
    (samples_csv([0, 2, 4, 3, 8, 10]),
     r"column 't': the timestamp on line 5 is earlier than the one before it; expected "
     r"strictly increasing times \(1 such row\(s\), lines 5\)"),
    (samples_csv([0, 2, 4, 4, 6, 6, 8]),
     r"line 5 repeats the one before it \(duplicated timestamp\).*2 such row\(s\), lines 5, 7"),
    (samples_csv([0, 2, 4, 6, 8, 13, 15, 17, 19]),
     r"irregular sampling: 1 of 8 intervals differ from the median 2 ms \(500 Hz\) by more than "
     r"20%, first the 5 ms before line 7"),
    (samples_csv(REGULAR, ["a", 1, 2, "", 4, "x", 6, 7, 8, 9, "??", 11]),
     r"3 unparseable row\(s\) \(lines 2, 7, 12\): column 'x' holds 'a' on line 2; expected "
     "numbers"),
    (samples_csv(REGULAR[:3]) + ",5,5\n",
     r"1 unparseable row\(s\) \(lines 5\): column 't' is empty on line 5"),
    (samples_csv(REGULAR, [""] * 12),
     r"trial 'rec' has no valid samples \(12 rows, all lost, marked invalid or off the 1920 x "
     r"1080 px screen\)"),
    ("t,x\n0,1\n", r"missing column 'y' \(expected 't', 'x', 'y'; the file has 't', 'x'\)"),
    ("t,x,y\n0,1,2\n2,1,2,9,9\n", r"cannot read \(.*Expected 3 fields in line 3, saw 5"),
    ("t,x,y\n", "no data rows"),
    ("", "empty file"),
    (samples_csv([0]), "trial 'rec' has a single sample"),
])
def test_bad_recordings_are_rejected(tmp_path, text, message):
    path = write(tmp_path / "rec.csv", text)
    with pytest.raises(ScanpathError, match=message) as info:
        read_samples(path, CSV, geometry=TOBII_TX300)
    assert str(info.value).startswith(str(path))


def test_tobii_trial_without_valid_samples(tmp_path):
    lines = (TOBII_DIR / "participant2" / "3.tsv").read_text().splitlines()
    header, body = lines[0], lines[1:40]
    lost = ["\t".join([row.split("\t")[0], "-1.0000", "-1.0000", "4", "-1.0000", "-1.0000", "4"])
            for row in body]
    path = write(tmp_path / "lost.tsv", "\n".join([header, *lost]) + "\n")
    with pytest.raises(ScanpathError, match=r"lost\.tsv: trial 'lost' has no valid samples "
                                            r"\(39 rows"):
        read_samples(path, TOBII, geometry=TOBII_TX300)


def test_trials_in_a_column(tmp_path):
    fmt = SampleFormat(time="time", x=("gx",), y=("gy",), time_unit="s", trial="trial")
    text = "trial,time,gx,gy\n" + "".join(
        f"{k},{i * 0.004:.3f},{10 * k + i},5\n" for k in (1, 2) for i in range(5))
    samples = read_samples(write(tmp_path / "two.csv", text), fmt, geometry=TOBII_TX300)
    assert samples["trial"].tolist() == ["1"] * 5 + ["2"] * 5
    np.testing.assert_allclose(samples["t"], [i * 4.0 for i in range(5)] * 2)
    # Times restart per trial; a trial's rows must stay together.
    text = "trial,time,gx,gy\n1,0,1,1\n1,0.004,1,1\n2,0,1,1\n2,0.004,1,1\n1,0.008,1,1\n"
    with pytest.raises(ScanpathError, match="line 6: trial '1' appears again"):
        read_samples(write(tmp_path / "mixed.csv", text), fmt, geometry=TOBII_TX300)


def test_bad_sample_formats():
    with pytest.raises(ValueError, match="time_unit"):
        SampleFormat(time="t", x=("x",), y=("y",), time_unit="min")
    with pytest.raises(ValueError, match="same number of eyes"):
        SampleFormat(time="t", x=("x", "x2"), y=("y",))
    with pytest.raises(ValueError, match="one column per eye"):
        SampleFormat(time="t", x=("x",), y=("y",), validity=("v1", "v2"))


def test_detect_fixations_positions_and_gaps():
    # 300 Hz: still at (100, 100) px for 150 ms, lost for 20 ms, still again for 150 ms at
    # (300, 100), then at (300, 400) for 150 ms after a jump.
    geometry = ScreenGeometry((1000, 500), (40.0, 20.0), 50.0)
    dt = 1000 / 300
    n = 45 + 6 + 45 + 45
    t = np.arange(n) * dt
    x = np.r_[np.full(45, 100.0), np.full(6, np.nan), np.full(90, 300.0)]
    y = np.r_[np.full(96, 100.0), np.full(45, 400.0)]
    x[:45] += np.linspace(-2, 2, 45)  # a little spread: the centroid is still 100
    samples = pd.DataFrame({"subject": "s", "trial": "1", "t": t, "x": x, "y": y})
    fix = detect_fixations(samples, geometry, "idt")
    np.testing.assert_allclose(fix[["x", "y"]], [[100, 100], [300, 100], [300, 400]])
    assert fix["after_gap"].tolist() == [False, True, False]
    assert fix["step"].tolist() == [0, 1, 2]
    np.testing.assert_allclose(fix["t"], [0, 51 * dt, 97 * dt])  # one sample late after a jump
    np.testing.assert_allclose(fix["duration"], [45 * dt, 45 * dt, 44 * dt])
    assert (fix["image_width"] == 1000).all() and (fix["image_height"] == 500).all()


# --- event files --------------------------------------------------------------------------------


def event_files() -> list[Path]:
    files = sorted(EVENTS_DIR.glob("*.tsv"))
    if SHARED.is_dir():
        files += sorted((SHARED / "studyforrest-events").glob("*.tsv"))
    return files


@pytest.mark.parametrize("path", event_files(), ids=lambda p: "/".join(p.parts[-2:]))
def test_remodnav_fixation_statistics_are_reproduced(path):
    fixa = [r for r in rows_of(path) if r["label"] == "FIXA"]
    table = read_bids_events(path)
    fix = table[table["label"] == "FIXA"]
    assert len(fix) == len(fixa)
    durations = [float(r["duration"]) * 1000 for r in fixa]
    assert fix["duration_ms"].mean() == pytest.approx(statistics.fmean(durations), rel=1e-12)
    assert fix["duration_ms"].median() == pytest.approx(statistics.median(durations), rel=1e-12)
    assert fix["amplitude_deg"].mean() == pytest.approx(
        statistics.fmean(float(r["amp"]) for r in fixa), rel=1e-12)
    # ... and the fixation list carries the same count and durations.
    listed = bids_fixations(table, STUDYFORREST)
    assert len(listed) == len(fixa)
    np.testing.assert_allclose(listed["duration"], durations)
    np.testing.assert_allclose(listed["x"], [(float(r["start_x"]) + float(r["end_x"])) / 2
                                             for r in fixa])


def test_event_gaps_mark_lost_data(tmp_path):
    # FIXA, SACC, FIXA contiguous; then 40 ms uncovered (lost signal) before the last FIXA.
    text = ("onset\tduration\tlabel\tstart_x\tstart_y\tend_x\tend_y\tamp\n"
            "0.000\t0.200\tFIXA\t10\t10\t12\t10\t0.1\n"
            "0.200\t0.030\tSACC\t12\t10\t200\t10\t3.5\n"
            "0.230\t0.300\tFIXA\t200\t10\t200\t14\t0.1\n"
            "0.570\t0.250\tFIXA\t400\t10\t400\t10\t0.0\n")
    events_table = read_bids_events(write(tmp_path / "sub-07_run-2_events.tsv", text))
    assert events_table[["subject", "trial"]].iloc[0].tolist() == ["sub-07", "run-2"]
    listed = bids_fixations(events_table, STUDYFORREST)
    assert listed["after_gap"].tolist() == [False, False, True]
    np.testing.assert_allclose(listed[["x", "y"]], [[11, 10], [200, 12], [400, 10]])
    np.testing.assert_allclose(listed["t"], [0, 230, 570])
    seg = human_segmentation(listed.assign(model="human"))
    assert len(seg.saccades) == 1  # none across the lost data
    assert seg.saccades["distance_px"].iloc[0] == pytest.approx(math.hypot(189, 2))


@pytest.mark.parametrize("text, message", [
    ("onset\tduration\tlabel\tstart_x\tstart_y\tend_x\n", "missing column 'end_y'"),
    ("onset\tduration\tlabel\tstart_x\tstart_y\tend_x\tend_y\n0\t0.1\tFIXA\t1\t1\t1\t1\n"
     "0.1\tabc\tSACC\t1\t1\t1\t1\n", r"1 unparseable row\(s\) \(lines 3\): column 'duration'"),
    ("onset\tduration\tlabel\tstart_x\tstart_y\tend_x\tend_y\n0.5\t0.1\tFIXA\t1\t1\t1\t1\n"
     "0.1\t0.1\tSACC\t1\t1\t1\t1\n", "the event on line 3 starts before the event above it"),
    ("onset\tduration\tlabel\tstart_x\tstart_y\tend_x\tend_y\n0\t-0.1\tFIXA\t1\t1\t1\t1\n",
     "the event on line 2 has a negative duration"),
    ("onset\tduration\tlabel\tstart_x\tstart_y\tend_x\tend_y\n0\t0.1\t\t1\t1\t1\t1\n",
     "the event on line 2 has no label"),
])
def test_bad_event_files(tmp_path, text, message):
    path = write(tmp_path / "sub-01_events.tsv", text)
    with pytest.raises(ScanpathError, match=message):
        read_bids_events(path)


# --- fixation lists -------------------------------------------------------------------------------


def test_fixation_list_excerpt():
    path = FIXVECTORS_DIR / "segment_0_sub-01.tsv"
    listed = read_fixation_list(path, STUDYFORREST)
    rows = rows_of(path)
    np.testing.assert_allclose(listed["duration"], [float(r["duration"]) * 1000 for r in rows])
    np.testing.assert_allclose(listed[["x", "y"]], [[float(r["start_x"]), float(r["start_y"])]
                                                    for r in rows])
    assert listed[["subject", "trial"]].iloc[0].tolist() == ["sub-01", "segment_0"]
    assert "t" not in listed.columns and not listed["after_gap"].any()


def test_bad_fixation_list(tmp_path):
    path = write(tmp_path / "f.tsv", "start_x\tstart_y\tduration\n1\t2\t0.2\n3\t4\t0\n5\t6\t-1\n")
    with pytest.raises(ScanpathError, match=r"the duration on line 3 is not positive \(2 such"):
        read_fixation_list(path, STUDYFORREST)



def test_recording_names():
    assert recording_names("a/sub-10_task-movie_run-1_events.tsv") == ("sub-10", "task-movie_run-1")
    assert recording_names("x/segment_3_sub-19.tsv") == ("sub-19", "segment_3")
    assert recording_names("participant1/3.tsv") == ("participant1", "3")


def test_samples_off_the_screen_are_lost(tmp_path):
    # 1920 x 1080 px screen: x = -1 and 1921, y = 1081 lie off it; the edges are on it.
    text = "t,x,y\n0,0,0\n2,-1,500\n4,1921,500\n6,500,1081\n8,1920,1080\n10,960,540\n"
    samples = read_samples(write(tmp_path / "rec.csv", text), CSV, geometry=TOBII_TX300)
    np.testing.assert_array_equal(samples["x"], [0, np.nan, np.nan, np.nan, 1920, 960])
    np.testing.assert_array_equal(samples["y"], [0, np.nan, np.nan, np.nan, 1080, 540])
    # Degrees from the screen centre become pixels exactly (the inverse of pix2deg).
    deg = SampleFormat(time="t", x=("x",), y=("y",), coordinates="deg")
    x_deg, y_deg = TOBII_TX300.pix2deg([100.0, 1800.0], [50.0, 1000.0])
    text = f"t,x,y\n0,{x_deg[0]:.17g},{y_deg[0]:.17g}\n2,{x_deg[1]:.17g},{y_deg[1]:.17g}\n"
    samples = read_samples(write(tmp_path / "deg.csv", text), deg, geometry=TOBII_TX300)
    np.testing.assert_allclose(samples[["x", "y"]], [[100, 50], [1800, 1000]], rtol=1e-12)
