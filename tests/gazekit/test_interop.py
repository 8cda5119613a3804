"""pymovements <-> gazekit tables on pymovements' own EyeLink example files, and BIDS events."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gazekit.interop import (
    events_from_fixations,
    from_pymovements,
    to_pymovements,
    write_bids_events,
)
from gazekit.readers import read_bids_events

pm = pytest.importorskip("pymovements")
pl = pytest.importorskip("polars")

DATA = Path(__file__).parents[1] / "data" / "pymovements"
MONOCULAR = ["eyelink_monocular_example.asc", "raccoons.asc"]


def _read(name: str):
    return pm.gaze.from_asc(DATA / name, events=True)


def _pixels(gaze) -> np.ndarray:
    return gaze.samples.get_column("pixel").list.to_array(2).to_numpy().astype(float)


@pytest.mark.parametrize("name", MONOCULAR)
def test_from_pymovements_reads_the_asc_samples_and_events(name):
    gaze = _read(name)
    data = from_pymovements(gaze, subject="s1")
    samples, events = data.samples, data.events
    assert list(samples.columns) == ["subject", "trial", "t", "x", "y"]
    np.testing.assert_array_equal(samples["t"], gaze.samples.get_column("time").to_numpy())
    np.testing.assert_array_equal(samples[["x", "y"]].to_numpy(), _pixels(gaze))
    frame = gaze.events.frame
    assert events["label"].tolist() == frame.get_column("name").to_list()
    np.testing.assert_array_equal(events["duration_ms"], frame.get_column("duration").to_numpy())
    assert data.screen_px == tuple(gaze.experiment.screen.resolution)
    # Start and end positions are the samples at onset and offset, found here by a loop.
    t = samples["t"].to_numpy()
    for row in events.itertuples():
        for when, x, y in ((row.onset_ms, row.start_x, row.start_y),
                           (row.onset_ms + row.duration_ms, row.end_x, row.end_y)):
            hit = np.flatnonzero(t == when)
            if len(hit):
                np.testing.assert_array_equal([x, y], samples.loc[hit[0], ["x", "y"]])
            else:
                assert np.isnan(x) and np.isnan(y)


def test_monocular_example_hand_checked():
    # The file's EFIX lines: 2154563-2154695 and 2339246-2339290; ESACC 2339227-2339245,
    # which starts at sample 673.2, 523.8 and ends at 629.0, 531.4 (its ESACC line).
    events = from_pymovements(_read("eyelink_monocular_example.asc")).events
    saccade = events[events["label"] == "saccade_eyelink"].iloc[0]
    assert (saccade["onset_ms"], saccade["duration_ms"]) == (2339227, 18)
    assert (saccade["start_x"], saccade["start_y"]) == (673.2, 523.8)
    assert (saccade["end_x"], saccade["end_y"]) == (629.0, 531.4)


@pytest.mark.parametrize("name", MONOCULAR)
def test_round_trip_through_gazekit_keeps_pymovements_data(name):
    gaze = _read(name)
    data = from_pymovements(gaze)
    back = to_pymovements(data.samples, data.events, screen_px=data.screen_px)
    np.testing.assert_array_equal(back.samples.get_column("time").to_numpy(),
                                  gaze.samples.get_column("time").to_numpy())
    np.testing.assert_array_equal(_pixels(back), _pixels(gaze))
    for column in ("name", "eye", "onset", "offset", "duration"):
        assert (back.events.frame.get_column(column).to_list()
                == gaze.events.frame.get_column(column).to_list()), column
    assert back.experiment.screen.resolution == gaze.experiment.screen.resolution
    again = from_pymovements(back)
    pd.testing.assert_frame_equal(again.samples, data.samples)
    pd.testing.assert_frame_equal(again.events.drop(columns="trial"),
                                  data.events.drop(columns="trial"))


def test_binocular_eyes():
    gaze = _read("eyelink_binocular_example.asc")
    pixel = gaze.samples.get_column("pixel").list.to_array(4).to_numpy().astype(float)
    left = from_pymovements(gaze, eye="left").samples
    right = from_pymovements(gaze, eye="right").samples
    mean = from_pymovements(gaze).samples
    np.testing.assert_array_equal(left[["x", "y"]].to_numpy(), pixel[:, :2])
    np.testing.assert_array_equal(right[["x", "y"]].to_numpy(), pixel[:, 2:])
    # The mean of the valid eyes: one eye where the other is lost (the left eye's blink).
    both = np.isfinite(pixel).all(axis=1)
    only_right = ~np.isfinite(pixel[:, 0]) & np.isfinite(pixel[:, 2])
    assert both.any() and only_right.any()
    np.testing.assert_allclose(mean["x"][both], (pixel[both, 0] + pixel[both, 2]) / 2)
    np.testing.assert_array_equal(mean["x"][only_right], pixel[only_right, 2])
    # Each eye's events are placed by that eye's samples (a left blink has no left gaze).
    events = from_pymovements(gaze).events
    t = gaze.samples.get_column("time").to_numpy()
    for row in events.itertuples():
        k = np.flatnonzero(t == row.onset_ms)[0]
        eye_x = pixel[k, 0 if row.eye == "left" else 2]
        np.testing.assert_array_equal(row.start_x, eye_x)
    assert np.isnan(events.loc[events["label"].eq("blink_eyelink")
                               & events["eye"].eq("left"), "start_x"]).all()
    with pytest.raises(ValueError, match="binocular"):
        from_pymovements(_read("raccoons.asc"), eye="left")
    with pytest.raises(ValueError, match="eye must be one of"):
        from_pymovements(gaze, eye="both")


def test_events_only_and_bad_input():
    events = pm.Events(name="saccade", onsets=[5], offsets=[30])
    data = from_pymovements(events)
    assert data.samples is None and np.isnan(data.events["start_x"]).all()
    with pytest.raises(TypeError, match="Gaze or Events"):
        from_pymovements(pd.DataFrame())
    with pytest.raises(ValueError, match="no column 'duration_ms'"):
        to_pymovements(events=pd.DataFrame({"label": ["x"], "onset_ms": [1.0]}))


def test_bids_events_round_trip(tmp_path):
    events = from_pymovements(_read("eyelink_binocular_example.asc")).events
    # Blinks have no gaze position: BIDS's n/a, which gazekit's reader refuses; the rest
    # reads back.
    path = write_bids_events(events, tmp_path / "all_events.tsv")
    lines = path.read_text().splitlines()
    blinks = [k for k, v in enumerate(events["label"]) if v.startswith("blink")]
    assert blinks and all("BLINK" in lines[k + 1] and "n/a" in lines[k + 1] for k in blinks)
    events = events[events[["start_x", "start_y", "end_x", "end_y"]].notna().all(axis=1)]
    path = write_bids_events(events, tmp_path / "sub-01_events.tsv")
    back = read_bids_events(path, subject="pymovements", trial="1")
    expected = {"fixation_eyelink": "FIXA", "saccade_eyelink": "SACC"}
    assert back["label"].tolist() == [expected[v] for v in events["label"]]
    np.testing.assert_allclose(back["onset_ms"], events["onset_ms"], rtol=1e-12)
    np.testing.assert_allclose(back["duration_ms"], events["duration_ms"], rtol=1e-12)
    np.testing.assert_array_equal(back[["start_x", "end_y"]].to_numpy(),
                                  events[["start_x", "end_y"]].to_numpy())
    # Never over an existing file unless asked; the old file is left as it was.
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        write_bids_events(events.iloc[:1], path)
    assert path.read_bytes() == before


def test_fixation_list_to_pymovements_events():
    fixations = pd.DataFrame({"subject": "s", "trial": "t1", "t": [0.0, 320.0],
                              "duration": [300.0, 180.0], "x": [10.0, 40.0], "y": [5.0, 6.0]})
    events = to_pymovements(events=events_from_fixations(fixations))
    assert events.frame.select("name", "onset", "offset", "trial").rows() == [
        ("fixation", 0, 300, "t1"), ("fixation", 320, 500, "t1")]
