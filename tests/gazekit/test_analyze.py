"""End-to-end tests of gazekit.analyze on tiny hand-made scanpaths."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import stats

from gazekit.analyze import analyze
from gazekit.density import distance_density, duration_density
from gazekit.distance_ci import distance_bootstrap
from gazekit.geometry import STUDYFORREST
from gazekit.human import load_recordings
from gazekit.io import read_scanpaths
from gazekit.schema import ScanpathError
from gazekit.segment import segment

# Hand-worked scanpaths (x, y in px) and their consecutive-rule segmentation at 6 px:
#   a/0: (0,0) (1,0) (10,0) (11,0)      -> fixations of 2, 2 glimpses; saccade 9 px
#   a/1: (5,5) (5,20) (5,21)            -> fixations of 1, 2;          saccade 15 px
#   a/2: (3,3)                          -> one fixation of 1
#   b/0: (0,0) (3,4) (6,8) (9,12)       -> steps of exactly 5 px: one fixation of 4
#   b/1: (0,0) (6,0) (6,6) (0,6) (0,0)  -> steps of exactly 6 px: 5 fixations of 1; 4 x 6 px
PATHS = {
    ("a", 0): [(0, 0), (1, 0), (10, 0), (11, 0)],
    ("a", 1): [(5, 5), (5, 20), (5, 21)],
    ("a", 2): [(3, 3)],
    ("b", 0): [(0, 0), (3, 4), (6, 8), (9, 12)],
    ("b", 1): [(0, 0), (6, 0), (6, 6), (0, 6), (0, 0)],
}


def hand_table() -> pd.DataFrame:
    rows = [{"model": m, "image_id": i, "step": k, "x": float(x), "y": float(y),
             "image_width": 28.0}
            for (m, i), points in PATHS.items() for k, (x, y) in enumerate(points)]
    return pd.DataFrame(rows)


@pytest.fixture
def hand_file(tmp_path):
    path = tmp_path / "in" / "scanpaths.parquet"
    path.parent.mkdir()
    pq.write_table(pa.Table.from_pandas(hand_table(), preserve_index=False), path,
                   row_group_size=5)  # scanpaths straddle row groups
    return path


def run(paths, out, **kw):
    return analyze(paths, out, progress=False, **{"chunk_rows": 1_000_000, **kw})


def test_end_to_end_matches_segment_and_hand_counts(hand_file, tmp_path):
    out = tmp_path / "out"
    result = run(hand_file, out)
    seg = segment(read_scanpaths(hand_file))
    pd.testing.assert_frame_equal(pd.read_parquet(result.fixations_path), seg.fixations)
    pd.testing.assert_frame_equal(pd.read_parquet(result.saccades_path), seg.saccades)

    summary = pd.read_csv(out / "summary.csv")
    assert summary["group"].tolist() == ["a", "b"]
    assert summary["scanpaths"].tolist() == [3, 2]
    assert summary["glimpses"].tolist() == [8, 9]
    assert summary["fixations"].tolist() == [5, 6]
    assert summary["saccades"].tolist() == [2, 4]
    np.testing.assert_allclose(summary["fixation_steps_mean"], [8 / 5, 9 / 6])
    np.testing.assert_allclose(summary["saccade_px_mean"], [(9 + 15) / 2, 6.0])
    # transitions within fixations / all transitions: a 3/5, b 3/7
    np.testing.assert_allclose(summary["fixational_share"], [1 - 2 / 5, 1 - 4 / 7])
    pd.testing.assert_frame_equal(summary, result.summary.astype({"group": summary["group"].dtype}),
                                  check_dtype=False)

    comparison = pd.read_csv(out / "comparison.csv")
    assert comparison[["quantity", "group_a", "group_b"]].values.tolist() == [
        ["fixation_duration", "a", "b"], ["saccade_distance", "a", "b"]]
    assert len(pd.read_csv(out / "reference_comparison.csv")) == 2 * 4  # groups x tasks

    assert [p.name for p in result.figures] == ["densities.png", "densities.svg"]
    assert all(p.stat().st_size > 1000 for p in result.figures)
    assert result.figures[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = result.report_path.read_text()
    assert "Fixation threshold: 6 px" in report and "densities.png" in report
    assert result.rows == 17 and result.scanpaths == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]  # no temporaries


def test_densities_are_those_of_the_group_samples(hand_file, tmp_path):
    result = run(hand_file, tmp_path / "out", bw_method=0.8)
    table = read_scanpaths(hand_file)
    # Native units: each density keeps to its support. A fixation lasts 1..T steps, T the
    # longest scanpath of the group; a consecutive-rule saccade is at least 6 px long.
    longest = table[table["model"] == "a"].groupby("_scanpath").size().max()
    got = result.densities["fixation_duration"]["a"]
    want = duration_density([2, 2, 1, 2, 1], unit="steps", bw_method=0.8, upper=longest + 0.5)
    assert got.upper == longest + 0.5 and got.grid.max() <= longest + 0.5
    np.testing.assert_allclose(got.density, want.density)
    got = result.densities["saccade_distance"]["b"]
    assert got.lower == 6.0
    np.testing.assert_allclose(got.density, distance_density([6.0] * 4, bw_method=0.8,
                                                             lower=6.0).density)


def test_small_chunks_give_identical_outputs(hand_file, tmp_path):
    big = run(hand_file, tmp_path / "big")
    small = run(hand_file, tmp_path / "small", chunk_rows=7)
    for name in ("fixations.parquet", "saccades.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "big" / name),
                                      pd.read_parquet(tmp_path / "small" / name))
    for name in ("summary.csv", "comparison.csv", "reference_comparison.csv"):
        assert (tmp_path / "big" / name).read_text() == (tmp_path / "small" / name).read_text()
    assert big.report_path.read_text() == small.report_path.read_text()


def test_physical_and_relative_units(hand_file, tmp_path):
    physical = run(hand_file, tmp_path / "p", units="physical", ms_per_step=25.0,
                   px_per_degree=3.0)
    d = physical.densities["fixation_duration"]["b"]
    assert d.unit == "ms"
    np.testing.assert_allclose(d.density, duration_density(
        np.array([4, 1, 1, 1, 1, 1]) * 25.0, unit="ms").density)
    d = physical.densities["saccade_distance"]["a"]
    assert d.unit == "deg"
    np.testing.assert_allclose(d.density, distance_density(
        np.array([9.0, 15.0]) / 3.0, unit="deg").density)
    ref = physical.reference_comparison
    np.testing.assert_allclose(ref["model_fixation_ms"], np.repeat([8 / 5 * 25, 9 / 6 * 25], 4))

    relative = run(hand_file, tmp_path / "r", units="relative")
    d = relative.densities["saccade_distance"]["a"]
    np.testing.assert_allclose(d.density, distance_density(
        np.array([9.0, 15.0]) / 28.0, unit="relative").density)
    assert set(relative.comparison["unit"]) == {"relative"}


@pytest.mark.parametrize("group_by", ["model", None])
def test_without_group_column_one_group(tmp_path, group_by):
    """The default column may be absent (one group "all"), as may None."""
    path = tmp_path / "nomodel.csv"
    table = hand_table()
    table["image_id"] += np.where(table["model"] == "b", 10, 0)  # the same five scanpaths
    table.drop(columns="model").to_csv(path, index=False)
    result = run(path, tmp_path / "out", group_by=group_by)
    assert result.summary["group"].tolist() == ["all"]
    assert result.summary["fixations"].tolist() == [11]
    assert result.comparison.empty
    assert "single group `all`" in result.report_path.read_text()


def test_named_group_column_must_exist(hand_file, tmp_path):
    """The review's case: a misspelt column pooled everything into "all" without a word."""
    with pytest.raises(ValueError) as info:
        run(hand_file, tmp_path / "out", group_by="modle")
    assert str(info.value) == ("group_by column 'modle' is not in the input (columns that can "
                               "define groups: model, image_id, image_width)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]
    # A column in one of several files is enough (the others are one group "all").
    other = hand_table().assign(model=lambda d: "c" + d["model"], subject="s1")
    other.to_csv(tmp_path / "in" / "subject.csv", index=False)
    result = run([tmp_path / "in" / "subject.csv", hand_file], tmp_path / "out",
                 group_by="subject")
    assert result.summary["group"].tolist() == ["s1", "all"]


def test_missing_group_label(tmp_path):
    table = hand_table().assign(label=lambda d: np.where(d["model"] == "a", 1.0, np.nan))
    table.to_csv(tmp_path / "labels.csv", index=False)
    with pytest.raises(ScanpathError, match=r"labels\.csv: group_by column 'label': missing"):
        run(tmp_path / "labels.csv", tmp_path / "out", group_by="label")
    result = run(tmp_path / "labels.csv", tmp_path / "out", group_by="model")
    assert result.summary["group"].tolist() == ["a", "b"]


def test_files_with_different_optional_columns(hand_file, tmp_path):
    extra = hand_table().drop(columns="image_width")
    extra["model"] = "c" + extra["model"]
    extra.to_csv(tmp_path / "extra.csv", index=False)
    result = run([hand_file, tmp_path / "extra.csv"], tmp_path / "out")
    fixations = pd.read_parquet(result.fixations_path)
    assert fixations["image_width"].isna().sum() == 11  # filled for the second file
    assert result.summary["group"].tolist() == ["a", "b", "ca", "cb"]

    keyed = hand_table().assign(subject="s1")  # a key column the first file lacks
    keyed.to_csv(tmp_path / "keyed.csv", index=False)
    with pytest.raises(ScanpathError, match=r"keyed\.csv: column 'subject' is not in the first"):
        run([hand_file, tmp_path / "keyed.csv"], tmp_path / "out2")
    assert not (tmp_path / "out2").exists()


def test_chunked_csv_keys_agree_with_whole_read(hand_file, tmp_path):
    """The review's case: image_id is text in the first chunk of 3 rows, integers after it."""
    path = tmp_path / "mixed.csv"
    path.write_text("model,image_id,step,x,y\nm,a,0,0,0\nm,a,1,1,0\nm,5,0,1,1\n"
                    "m,5,1,2,2\nm,6,0,3,3\n")
    chunked = run(path, tmp_path / "chunked", chunk_rows=3)
    whole = run(path, tmp_path / "whole")
    assert chunked.scanpaths == whole.scanpaths == 3
    for name in ("fixations.parquet", "saccades.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "chunked" / name),
                                      pd.read_parquet(tmp_path / "whole" / name))
    pd.testing.assert_frame_equal(chunked.summary, whole.summary)
    fixations = pd.read_parquet(chunked.fixations_path)
    assert fixations["image_id"].tolist() == ["a", "5", "6"]  # as segment says of the table
    assert fixations["n_glimpses"].tolist() == segment(read_scanpaths(path)).fixations[
        "n_glimpses"].tolist() == [2, 2, 1]
    # Parquet inputs keep the types of their schema.
    from_parquet = pd.read_parquet(run(hand_file, tmp_path / "parquet").fixations_path)
    assert from_parquet["image_id"].dtype == np.int64


def _later_nan(tmp_path):
    """A second file whose last row has no x: the reader thread fails after chunks went by."""
    table = hand_table().assign(model=lambda d: "c" + d["model"])
    table.loc[len(table) - 1, "x"] = np.nan
    table.to_csv(tmp_path / "second.csv", index=False)
    return [tmp_path / "in" / "scanpaths.parquet", tmp_path / "second.csv"], {}


def _later_key_column(tmp_path):
    """A second file with a key column the first lacks: the writer thread fails."""
    table = hand_table().assign(model=lambda d: "c" + d["model"], subject="s1")
    table.to_csv(tmp_path / "second.csv", index=False)
    return [tmp_path / "in" / "scanpaths.parquet", tmp_path / "second.csv"], {}


def _later_missing_group(tmp_path):
    """Group labels missing in the last scanpaths: the main thread fails after chunks went by."""
    table = hand_table().assign(label=lambda d: np.where(d["model"] == "a", 1.0, np.nan))
    table.to_csv(tmp_path / "second.csv", index=False)
    return [tmp_path / "second.csv"], {"group_by": "label"}


@pytest.mark.parametrize("make_input, message", [
    (_later_nan, r"second\.csv: column 'x' line 18: expected a finite number"),
    (_later_key_column, r"second\.csv: column 'subject' is not in the first input file"),
    (_later_missing_group, r"second\.csv: group_by column 'label': missing value"),
])
def test_errors_in_each_pipeline_thread_leave_nothing(hand_file, tmp_path, make_input,
                                                      message):
    paths, kw = make_input(tmp_path)
    before = set(tmp_path.iterdir())
    threads = threading.active_count()
    with pytest.raises(ScanpathError, match=message):
        run(paths, tmp_path / "out", chunk_rows=4, **kw)
    assert set(tmp_path.iterdir()) == before  # no output directory, no temporary one
    assert threading.active_count() == threads  # reader and writer threads have ended


def test_threshold_zero_makes_every_glimpse_a_fixation(hand_file, tmp_path):
    """0 px is a valid threshold (the human segmentation's): by hand, 17 fixations of one
    glimpse, and a saccade between every two consecutive glimpses."""
    summary = run(hand_file, tmp_path / "out", threshold=0).summary
    assert summary["fixations"].tolist() == [8, 9]
    assert summary["saccades"].tolist() == [5, 7]
    np.testing.assert_allclose(summary["saccade_px_mean"], [(1 + 9 + 1 + 15 + 1) / 5,
                                                           (3 * 5 + 4 * 6) / 7])
    np.testing.assert_array_equal(summary["fixational_share"], [0.0, 0.0])


@pytest.mark.parametrize("kw, message", [
    ({"threshold": -1.0}, r"^threshold -1: expected a finite distance >= 0 in pixels$"),
    ({"threshold": float("inf")}, r"^threshold inf: expected a finite distance >= 0"),
    ({"threshold": float("nan")}, r"^threshold nan: expected a finite distance >= 0"),
    ({"threshold": "six"}, r"^threshold 'six' is not a number"),
    ({"mode": "fast"}, "unknown mode"),
    ({"units": "imperial"}, "unknown units"),
    ({"units": "physical"}, "px_per_degree"),
    ({"units": "physical", "px_per_degree": 30.0}, "ms_per_step"),
    ({"ms_per_step": 0.0}, "ms_per_step"),
    ({"chunk_rows": 0}, "chunk_rows"),
    ({"group_by": "step"}, "does not describe whole scanpaths"),
])
def test_bad_arguments_leave_nothing(hand_file, tmp_path, kw, message):
    with pytest.raises(ValueError, match=message):
        run(hand_file, tmp_path / "out", **kw)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def tree(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its content (None for a directory or link)."""
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() and not p.is_symlink()
            else None for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize("paths, out, relation", [
    ("in", "in", "is"),  # the review's case: with overwrite it deleted the input
    ("in/scanpaths.parquet", "in", "contains"),
    ("in/scanpaths.parquet", ".", "contains"),
    ("in", "in/results", "lies inside"),
    ("in/scanpaths.parquet", "in/scanpaths.parquet/results", "lies inside"),
    ("link/scanpaths.parquet", "in", "contains"),  # through a symbolic link
    ("in", "./link", "is"),
])
def test_output_directory_apart_from_the_inputs(hand_file, tmp_path, monkeypatch, paths, out,
                                                relation):
    monkeypatch.chdir(tmp_path)
    Path("link").symlink_to("in")
    before = tree(tmp_path)
    with pytest.raises(ValueError) as info:
        run(paths, out, overwrite=True)
    assert str(info.value).startswith(f"output directory {Path(out)} {relation} the input "
                                      f"{paths} (")
    assert tree(tmp_path) == before


def test_existing_output_directory(hand_file, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    with pytest.raises(FileExistsError):
        run(hand_file, out)
    assert (out / "keep.txt").read_text() == "precious"
    run(hand_file, out, overwrite=True)
    assert not (out / "keep.txt").exists() and (out / "report.md").exists()


# --- human recordings ---------------------------------------------------------------------------

HUMAN = Path(__file__).resolve().parents[1] / "data" / "human"


def test_human_group_in_every_table(hand_file, tmp_path):
    result = run(hand_file, tmp_path / "out", units="relative",
                 human=HUMAN / "studyforrest-fixvectors", human_format="fixations",
                 geometry=STUDYFORREST)
    rec = result.human
    fixations = pd.read_parquet(result.fixations_path)
    saccades = pd.read_parquet(result.saccades_path)
    seg = segment(read_scanpaths(hand_file))
    model = fixations["model"] != "human"
    pd.testing.assert_frame_equal(
        fixations.loc[model, seg.fixations.columns].reset_index(drop=True), seg.fixations,
        check_dtype=False)
    human_fix = fixations.loc[~model].reset_index(drop=True)
    assert len(human_fix) == len(rec.segmentation.fixations)
    np.testing.assert_array_equal(human_fix["_scanpath"],
                                  rec.segmentation.fixations["_scanpath"] + 5)  # after the model's
    assert human_fix["subject"].notna().all() and fixations.loc[model, "subject"].isna().all()
    assert (saccades["model"] == "human").sum() == len(rec.segmentation.saccades)

    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert summary["group"].tolist() == ["a", "b", "human"]
    human_row = summary.iloc[2]
    assert np.isnan(human_row["fixation_steps_mean"]) and np.isnan(human_row["fixational_share"])
    assert human_row["fixation_ms_mean"] == pytest.approx(
        rec.segmentation.fixations["duration_ms"].mean())
    assert human_row["fixations"] == len(rec.segmentation.fixations)

    # Relative units, computed here independently: durations over each group's median (model:
    # steps, human: ms), distances over the stimulus width (28 px images, 1280 px screen).
    human_ms = rec.segmentation.fixations["duration_ms"].to_numpy()
    human_dist = rec.segmentation.saccades["distance_px"].to_numpy() / 1280
    a_steps = np.array([2, 2, 1, 2, 1.0])
    table = pd.read_csv(tmp_path / "out" / "human_comparison.csv")
    assert table[["quantity", "group"]].values.tolist() == [
        ["fixation_duration", "a"], ["fixation_duration", "b"],
        ["saccade_distance", "a"], ["saccade_distance", "b"]]
    row = table.iloc[0]
    want = stats.ks_2samp(a_steps / np.median(a_steps), human_ms / np.median(human_ms))
    assert row["ks"] == pytest.approx(want.statistic)
    # Its intervals resample scanpaths: a's three (fixations 2, 2 | 1, 2 | 1) and the human's.
    want = distance_bootstrap(a_steps / np.median(a_steps), human_ms / np.median(human_ms),
                              clusters=([0, 0, 1, 1, 2], rec.segmentation.fixations["_scanpath"]),
                              unit="relative")
    for metric, ci in want.items():
        assert (row[f"{metric}_ci_low"], row[f"{metric}_ci_high"]) == pytest.approx(ci)
    row = table.iloc[2]
    assert row["wasserstein"] == pytest.approx(stats.wasserstein_distance(
        np.array([9.0, 15.0]) / 28, human_dist))
    assert row["ks_ci_low"] <= row["ks_ci_high"]
    for metric in ("ks", "wasserstein", "jsd"):
        for _, rows in table.groupby("quantity"):
            closest = rows.loc[rows[f"closest_{metric}"], "group"].tolist()
            assert closest == rows.loc[rows[metric] == rows[metric].min(), "group"].tolist()
    np.testing.assert_allclose(result.densities["saccade_distance"]["human"].density,
                               distance_density(human_dist, unit="relative").density)

    report = result.report_path.read_text()
    assert "Unit bridging between model and human: relative" in report
    assert "1280 px, the width of the recorded screen" in report
    assert "closest to `human` by KS" in report
    assert "## Model vs human (`human_comparison.csv`)" in report
    assert "cluster bootstrap: 1000 resamples of each group's scanpaths" in report
    assert "percentile cluster bootstrap over scanpaths" in report


def test_human_in_physical_units(hand_file, tmp_path):
    result = run(hand_file, tmp_path / "out", units="physical", ms_per_step=25.0,
                 px_per_degree=3.0, human=HUMAN / "studyforrest-events",
                 human_format="bids-events", geometry=STUDYFORREST)
    deg = result.human.saccade_deg
    # Human distances are the exact visual angles; model distances px / px_per_degree.
    np.testing.assert_allclose(result.densities["saccade_distance"]["human"].density,
                               distance_density(deg, unit="deg").density)
    np.testing.assert_allclose(result.densities["saccade_distance"]["a"].density,
                               distance_density(np.array([9.0, 15.0]) / 3, unit="deg").density)
    comparison = result.comparison
    pair = comparison[(comparison["quantity"] == "saccade_distance")
                      & (comparison["group_a"] == "a") & (comparison["group_b"] == "human")]
    assert pair["ks_statistic"].item() == pytest.approx(
        stats.ks_2samp([3.0, 5.0], deg).statistic)
    assert pair["unit"].item() == "deg"
    durations = result.human.segmentation.fixations["duration_ms"].to_numpy()
    pair = comparison[(comparison["quantity"] == "fixation_duration")
                      & (comparison["group_a"] == "b") & (comparison["group_b"] == "human")]
    assert pair["wasserstein"].item() == pytest.approx(
        stats.wasserstein_distance(np.array([4, 1, 1, 1, 1, 1]) * 25.0, durations))
    ref = result.reference_comparison
    human_ref = ref[ref["group"] == "human"]
    np.testing.assert_allclose(human_ref["model_saccade_deg"], deg.mean())
    np.testing.assert_allclose(human_ref["model_fixation_ms"], durations.mean())
    assert "px / 3 px per degree of the model image" in result.report_path.read_text()


def test_output_directory_apart_from_human_recordings(hand_file, tmp_path):
    recordings = tmp_path / "rec" / "events"
    shutil.copytree(HUMAN / "studyforrest-events", recordings)
    before = tree(tmp_path)
    human = {"units": "relative", "human_format": "bids-events", "geometry": STUDYFORREST,
             "overwrite": True}
    with pytest.raises(ValueError, match=f"^output directory {tmp_path / 'rec'} contains the "
                                         f"input {recordings} "):
        run(hand_file, tmp_path / "rec", human=recordings, **human)
    # Known by its files only.
    loaded = load_recordings(recordings, "bids-events", geometry=STUDYFORREST)
    with pytest.raises(ValueError, match=f"^output directory {recordings} contains the input "
                                         f"{loaded.files[0]} "):
        run(hand_file, recordings, human=loaded, **human)
    assert tree(tmp_path) == before


def test_human_needs_bridged_units(hand_file, tmp_path):
    with pytest.raises(ValueError, match="needs units='physical'"):
        run(hand_file, tmp_path / "out", human=HUMAN / "studyforrest-events",
            human_format="bids-events", geometry=STUDYFORREST)
    with pytest.raises(ValueError, match="human group label 'a' is also a model group"):
        run(hand_file, tmp_path / "out", units="relative", human_label="a",
            human=HUMAN / "studyforrest-fixvectors", human_format="fixations",
            geometry=STUDYFORREST)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_human_columns_must_fit_the_scanpaths(tmp_path):
    path = tmp_path / "subjects.parquet"
    # Integer subjects (Parquet: CSV keys are read as text, which would fit the human ones).
    hand_table().assign(subject=7).to_parquet(path, index=False)
    with pytest.raises(ScanpathError, match="human recordings: column 'subject': cannot store"):
        run(path, tmp_path / "out", units="relative", human=HUMAN / "studyforrest-fixvectors",
            human_format="fixations", geometry=STUDYFORREST)
    assert not (tmp_path / "out").exists()
