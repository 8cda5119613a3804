"""Tests of gazekit.human: the shared tables and loading sets of recordings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gazekit import detectors
from gazekit.geometry import STUDYFORREST, TOBII_TX300
from gazekit.human import find_recordings, human_segmentation, load_recordings
from gazekit.readers import TOBII, read_samples
from gazekit.schema import ScanpathError

DATA = Path(__file__).resolve().parents[1] / "data" / "human"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "human"
TOBII_DIR = DATA / "i2mc-tobii-tx300"
EVENTS_DIR = DATA / "studyforrest-events"
FIXVECTORS_DIR = DATA / "studyforrest-fixvectors"


# --- shared tables ------------------------------------------------------------------------------


def test_human_segmentation_by_hand():
    # Trial a: (0,0) 200 ms, (30,40) 100 ms, lost data, (30,0) 300 ms; trial b: (5,5) 150 ms.
    listed = pd.DataFrame({
        "model": "human", "subject": "s", "trial": ["a", "a", "a", "b"], "step": [0, 1, 2, 0],
        "x": [0.0, 30.0, 30.0, 5.0], "y": [0.0, 40.0, 0.0, 5.0],
        "duration": [200.0, 100.0, 300.0, 150.0], "after_gap": [False, False, True, False]})
    seg = human_segmentation(listed)
    fix = seg.fixations
    assert fix["n_glimpses"].tolist() == [1, 1, 1, 1]
    np.testing.assert_allclose(fix["duration_ms"], [200, 100, 300, 150])
    sac = seg.saccades
    assert len(sac) == 1 and sac["saccade"].tolist() == [0]
    assert sac[["from_fixation", "to_fixation"]].iloc[0].tolist() == [0, 1]
    assert sac["distance_px"].iloc[0] == 50.0
    # Without gap information every consecutive pair is a saccade.
    assert len(human_segmentation(listed.drop(columns="after_gap")).saccades) == 2


@pytest.mark.parametrize("fmt, directory, geometry", [
    ("tobii", TOBII_DIR, TOBII_TX300), ("bids-events", EVENTS_DIR, STUDYFORREST),
    ("fixations", FIXVECTORS_DIR, STUDYFORREST)])
def test_load_recordings_formats(fmt, directory, geometry):
    rec = load_recordings(directory, fmt, geometry=geometry, label="people")
    files = sorted(directory.rglob("*.tsv"))
    assert rec.files == files
    fix, sac = rec.segmentation.fixations, rec.segmentation.saccades
    assert set(fix["model"]) == {"people"} and set(fix["policy"]) == {"human"}
    assert fix["_scanpath"].nunique() == len(files)
    # Saccade sizes: the angle between the two lines of sight, here from unit vectors.
    g = rec.geometry
    (w, h), (sx, sy) = g.resolution_px, g.cm_per_px

    def unit(x, y):
        v = np.stack([(x - w / 2) * sx, (y - h / 2) * sy, np.full(len(x), g.distance_cm)])
        return v / np.linalg.norm(v, axis=0)

    cosine = np.sum(unit(sac["from_x"].to_numpy(), sac["from_y"].to_numpy())
                    * unit(sac["to_x"].to_numpy(), sac["to_y"].to_numpy()), axis=0)
    want = np.degrees(np.arccos(np.clip(cosine, -1, 1)))
    big = want > 0.5
    np.testing.assert_allclose(rec.saccade_deg[big], want[big], rtol=1e-9)
    assert len(fix) >= 10 and big.sum() >= 5
    assert f"format `{fmt}`" in rec.describe()


def test_load_tobii_detects_with_the_chosen_method():
    for method in ("idt", "ivt"):
        rec = load_recordings(TOBII_DIR / "participant1" / "1.tsv", "tobii",
                              geometry=TOBII_TX300, method=method)
        samples = read_samples(TOBII_DIR / "participant1" / "1.tsv", TOBII, geometry=TOBII_TX300)
        x, y = TOBII_TX300.pix2deg(samples["x"], samples["y"])
        found = detectors.detect(samples["t"], x, y, method=method)
        np.testing.assert_allclose(rec.segmentation.fixations["duration_ms"],
                                   found["duration_ms"])
        assert rec.params == detectors.detector_parameters(method)


def test_load_recordings_errors(tmp_path):
    for sub in ("a", "b"):  # two files with the same subject and trial names
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "sub-01_events.tsv").write_text(
            (EVENTS_DIR / "sub-10_task-movie_run-1_events.tsv").read_text())
    with pytest.raises(ScanpathError, match="two recording files have subject 'sub-01'"):
        load_recordings(tmp_path, "bids-events", geometry=STUDYFORREST)
    for fmt in ("csv", "tobii", "bids-events", "fixations"):  # never guessed
        with pytest.raises(ValueError, match=rf"human recordings \({fmt}\) need the screen "
                           "geometry"):
            load_recordings(TOBII_DIR, fmt)
    with pytest.raises(ValueError, match="unknown parameter 'velocity_deg_s' for idt"):
        load_recordings(TOBII_DIR, "tobii", geometry=TOBII_TX300, method="idt",
                        velocity_deg_s=20.0)
    with pytest.raises(ValueError, match="takes no detector parameters"):
        load_recordings(EVENTS_DIR, "bids-events", geometry=STUDYFORREST, dispersion_deg=2.0)
    with pytest.raises(ValueError, match="unknown human format"):
        load_recordings(EVENTS_DIR, "eyelink", geometry=STUDYFORREST)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ScanpathError, match="directory holds no recording"):
        load_recordings(tmp_path / "empty", "tobii", geometry=TOBII_TX300)


def test_find_recordings(tmp_path):
    """Directories searched recursively for .tsv/.csv in any case; files taken as given."""
    (tmp_path / "run").mkdir()
    for name in ("b.csv", "run/a.TSV", "notes.txt"):
        (tmp_path / name).write_text("x")
    assert find_recordings(tmp_path) == [tmp_path / "b.csv", tmp_path / "run" / "a.TSV"]
    assert find_recordings([tmp_path / "notes.txt"]) == [tmp_path / "notes.txt"]
    with pytest.raises(ScanpathError, match="^no human recording given"):
        find_recordings([])
    with pytest.raises(ScanpathError, match="missing.tsv: file not found"):
        find_recordings(tmp_path / "missing.tsv")
