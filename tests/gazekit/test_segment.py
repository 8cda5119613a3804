"""Tests for gazekit.segment: hand-worked cases, a naive per-scanpath loop, and properties."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gazekit.schema import ScanpathError, validate
from gazekit.segment import MODES, _within, segment

# --- helpers -------------------------------------------------------------------------------


def make_table(paths: list[list[tuple[float, float]]],
               **columns: list[list[float]]) -> pd.DataFrame:
    """Validated table with one scanpath per entry of ``paths`` (scanpath_id = its position).

    ``columns`` maps a column name (e.g. ``t``, ``duration``, ``step``) to per-scanpath lists.
    """
    rows = {"scanpath_id": [], "step": [], "x": [], "y": []}
    for i, pts in enumerate(paths):
        rows["scanpath_id"] += [i] * len(pts)
        rows["step"] += list(range(len(pts)))
        rows["x"] += [p[0] for p in pts]
        rows["y"] += [p[1] for p in pts]
    for name, values in columns.items():
        rows[name] = [v for per_path in values for v in per_path]
    return validate(pd.DataFrame(rows))


def naive_groups(pts: list[tuple[float, float]], threshold: float, mode: str) -> list[list[int]]:
    """Fixations of one scanpath as lists of glimpse indices, by a plain loop over glimpses."""
    groups = [[0]]
    for i in range(1, len(pts)):
        group = groups[-1]
        if mode == "consecutive":
            ref = pts[i - 1]
        elif mode == "anchor":
            ref = pts[group[0]]
        else:  # centroid of the glimpses already in the fixation
            ref = (sum(pts[j][0] for j in group) / len(group),
                   sum(pts[j][1] for j in group) / len(group))
        if math.hypot(pts[i][0] - ref[0], pts[i][1] - ref[1]) < threshold:
            group.append(i)
        else:
            groups.append([i])
    return groups


def naive_row_durations(t: list[float]) -> list[float]:
    """Row durations in ms from onsets; the last row lasts the median interval."""
    intervals = [b - a for a, b in zip(t[:-1], t[1:], strict=True)]
    return intervals + [statistics.median(intervals) if intervals else math.nan]


def per_scanpath(frame: pd.DataFrame, column: str) -> dict[object, list]:
    """``column`` values grouped into lists per scanpath_id, in row order."""
    return {k: list(g[column]) for k, g in frame.groupby("scanpath_id", sort=True)}


coordinate = st.integers(0, 24).map(lambda v: v / 2)  # 0.5 px grid: many exact ties
point = st.tuples(coordinate, coordinate)
paths_strategy = st.lists(st.lists(point, min_size=1, max_size=10), min_size=1, max_size=6)
thresholds = st.sampled_from([0.5, 1.0, 2.5, 5.0, 6.0, 7.3])
settings_ = settings(max_examples=50, deadline=None)

# Drift along x (A), a short run (B) and a zigzag in 2-D (C) on which the rules disagree.
HAND_PATHS = [
    [(0, 0), (4, 0), (8, 0), (12, 0), (16, 0)],
    [(0, 0), (5, 0), (6, 0)],
    [(10, 10), (13, 14), (7, 6)],
]
# mode -> (n_glimpses, fixation x, fixation y, saccade distances), threshold 6 px.
HAND_EXPECTED = {
    "consecutive": ([5, 3, 2, 1], [8, 11 / 3, 11.5, 7], [0, 0, 12, 6], [10]),
    # A: 8 is 8 px from the anchor 0; B: 6 is 6 px (not < 6) from 0; C: (7, 6) is 5 px from
    # (10, 10).
    "anchor": ([2, 2, 1, 2, 1, 3], [2, 10, 16, 2.5, 6, 10], [0, 0, 0, 0, 0, 10], [4, 4, 1]),
    # A: 8 is 6 px (not < 6) from the centroid 2; B: 6 is 3.5 px from 2.5; C: (7, 6) is 7.5 px
    # from (11.5, 12).
    "centroid": ([2, 2, 1, 3, 2, 1], [2, 10, 16, 11 / 3, 11.5, 7], [0, 0, 0, 0, 12, 6],
                 [4, 4, 10]),
}


# --- hand-worked cases ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_hand_worked_modes(mode):
    seg = segment(make_table(HAND_PATHS), threshold=6.0, mode=mode)
    n_glimpses, fx, fy, distances = HAND_EXPECTED[mode]
    fix = seg.fixations
    assert fix["n_glimpses"].tolist() == n_glimpses
    np.testing.assert_allclose(fix["x"], fx)
    np.testing.assert_allclose(fix["y"], fy)
    np.testing.assert_array_equal(seg.saccades["distance_px"], distances)
    # first/last steps follow from the glimpse counts within each scanpath
    assert (fix["last_step"] - fix["first_step"] + 1).tolist() == n_glimpses
    assert fix.groupby("_scanpath")["fixation"].apply(list).tolist() == [
        list(range(c)) for c in fix.groupby("_scanpath").size()]


def test_hand_worked_saccade_geometry():
    sac = segment(make_table(HAND_PATHS), threshold=6.0).saccades
    assert len(sac) == 1
    row = sac.iloc[0]
    assert (row["scanpath_id"], row["saccade"], row["from_fixation"], row["to_fixation"]) == (
        2, 0, 0, 1)
    assert (row["from_x"], row["from_y"], row["to_x"], row["to_y"]) == (13, 14, 7, 6)
    # moves 6 px left and 8 px up on the screen
    assert row["direction_deg"] == pytest.approx(180 - math.degrees(math.atan2(8, 6)))


def test_directions():
    # right, up (y decreases), left, down, diagonally down-right, up, and left with a downward
    # component too small to move atan2 off -180 (reported as +180)
    pts = [(0, 0), (10, 0), (10, -10), (0, -10), (0, 0), (10, 10), (10, 0), (0, 1e-300)]
    sac = segment(make_table([pts]), threshold=1.0).saccades
    np.testing.assert_allclose(sac["direction_deg"], [0, 90, 180, -90, -45, 90, 180])
    np.testing.assert_allclose(sac["distance_px"], [10, 10, 10, 10, math.hypot(10, 10), 10, 10])


def test_time_from_onsets():
    # drift A in anchor mode: fixations {0, 1}, {2, 3}, {4}; plus a one-row scanpath
    t = [[0, 100, 250, 300, 420], [1000]]
    seg = segment(make_table([HAND_PATHS[0], [(0, 0)]], t=t), mode="anchor")
    # rows last 100, 150, 50, 120 and (median of those) 110 ms; one row alone: unknown
    np.testing.assert_array_equal(seg.fixations["duration_ms"], [250, 170, 110, np.nan])
    np.testing.assert_array_equal(seg.fixations["onset_ms"], [0, 250, 420, 1000])


def test_time_from_durations_takes_precedence_over_onsets():
    paths = [HAND_PATHS[0]]
    duration = [[200, 180, 220, 90, 300]]
    only = segment(make_table(paths, duration=duration), mode="anchor").fixations
    np.testing.assert_array_equal(only["duration_ms"], [380, 310, 300])
    assert only["onset_ms"].isna().all()
    both = segment(make_table(paths, duration=duration, t=[[0, 1, 2, 3, 4]]), mode="anchor")
    np.testing.assert_array_equal(both.fixations["duration_ms"], [380, 310, 300])
    np.testing.assert_array_equal(both.fixations["onset_ms"], [0, 2, 4])


def test_no_time_gives_nan():
    fix = segment(make_table(HAND_PATHS)).fixations
    assert fix["duration_ms"].isna().all()
    assert fix["onset_ms"].isna().all()


def test_steps_and_per_scanpath_columns():
    table = validate(pd.DataFrame({
        "image_id": [7, 7, 7, 3, 3], "model": ["mram"] * 3 + ["ram"] * 2,
        "label": [1, 1, 1, 4, 4], "step": [2, 5, 9, 0, 1],
        "x": [0.0, 1.0, 20.0, 5.0, 5.0], "y": [0.0] * 5, "extra": range(5)}))
    seg = segment(table)
    fix = seg.fixations
    assert list(fix.columns) == [
        "model", "image_id", "label", "_scanpath", "fixation", "first_step", "last_step",
        "n_glimpses", "duration_ms", "onset_ms", "x", "y"]
    assert fix[["model", "image_id", "label"]].values.tolist() == [
        ["mram", 7, 1], ["mram", 7, 1], ["ram", 3, 4]]
    assert fix[["first_step", "last_step"]].values.tolist() == [[2, 5], [9, 9], [0, 1]]
    assert list(seg.saccades.columns[:4]) == ["model", "image_id", "label", "_scanpath"]
    assert seg.saccades[["image_id", "from_x", "to_x"]].values.tolist() == [[7, 1, 20]]


# --- comparison with the naive loop --------------------------------------------------------


@settings_
@given(paths=paths_strategy, threshold=thresholds, mode=st.sampled_from(MODES),
       data=st.data())
def test_matches_naive_loop(paths, threshold, mode, data):
    onsets = [sorted(data.draw(st.lists(st.integers(0, 10_000), min_size=len(p),
                                        max_size=len(p), unique=True))) for p in paths]
    seg = segment(make_table(paths, t=onsets), threshold=threshold, mode=mode)
    fixations = per_scanpath(seg.fixations, "n_glimpses")
    for i, pts in enumerate(paths):
        groups = naive_groups(pts, threshold, mode)
        fix = seg.fixations[seg.fixations["scanpath_id"] == i]
        sac = seg.saccades[seg.saccades["scanpath_id"] == i]
        assert fixations[i] == [len(g) for g in groups]
        assert fix["first_step"].tolist() == [g[0] for g in groups]
        assert fix["last_step"].tolist() == [g[-1] for g in groups]
        np.testing.assert_allclose(fix["x"], [np.mean([pts[j][0] for j in g]) for g in groups])
        np.testing.assert_allclose(fix["y"], [np.mean([pts[j][1] for j in g]) for g in groups])
        durations = naive_row_durations(onsets[i])
        np.testing.assert_allclose(
            fix["duration_ms"], [sum(durations[j] for j in g) for g in groups])
        np.testing.assert_array_equal(fix["onset_ms"], [onsets[i][g[0]] for g in groups])
        jumps = [(pts[a[-1]], pts[b[0]]) for a, b in zip(groups[:-1], groups[1:], strict=True)]
        np.testing.assert_allclose(
            sac["distance_px"], [math.dist(p, q) for p, q in jumps])
        assert sac[["from_x", "from_y", "to_x", "to_y"]].values.tolist() == [
            [*p, *q] for p, q in jumps]


# --- properties ----------------------------------------------------------------------------


@settings_
@given(paths=paths_strategy, threshold=thresholds, mode=st.sampled_from(MODES))
def test_counts(paths, threshold, mode):
    seg = segment(make_table(paths), threshold=threshold, mode=mode)
    lengths = [len(p) for p in paths]
    assert seg.fixations.groupby("scanpath_id")["n_glimpses"].sum().tolist() == lengths
    n_fix = seg.fixations.groupby("scanpath_id").size()
    n_sac = seg.saccades.groupby("scanpath_id").size().reindex(n_fix.index, fill_value=0)
    assert (n_sac == n_fix - 1).all()
    assert seg.saccades.groupby("scanpath_id")["saccade"].apply(list).tolist() == [
        list(range(k)) for k in n_sac[n_sac > 0]]


@settings_
@given(paths=paths_strategy, threshold=thresholds)
def test_consecutive_distances_respect_threshold(paths, threshold):
    table = make_table(paths)
    seg = segment(table, threshold=threshold)
    assert (seg.saccades["distance_px"] >= threshold).all()
    # every consecutive pair inside one fixation is closer than the threshold
    fixation_of_row = np.repeat(np.arange(len(seg.fixations)), seg.fixations["n_glimpses"])
    same = (fixation_of_row[1:] == fixation_of_row[:-1])
    dist = np.hypot(np.diff(table["x"]), np.diff(table["y"]))
    assert (dist[same] < threshold).all()


@settings_
@given(paths=paths_strategy, threshold=thresholds, mode=st.sampled_from(MODES),
       shift=st.tuples(st.integers(-500, 500), st.integers(-500, 500)))
def test_translation_invariance(paths, threshold, mode, shift):
    moved = [[(x + shift[0], y + shift[1]) for x, y in pts] for pts in paths]
    a = segment(make_table(paths), threshold=threshold, mode=mode)
    b = segment(make_table(moved), threshold=threshold, mode=mode)
    cols = ["fixation", "first_step", "last_step", "n_glimpses"]
    pd.testing.assert_frame_equal(a.fixations[cols], b.fixations[cols])
    np.testing.assert_allclose(b.fixations["x"] - shift[0], a.fixations["x"])
    np.testing.assert_allclose(b.fixations["y"] - shift[1], a.fixations["y"])
    np.testing.assert_allclose(b.saccades["distance_px"], a.saccades["distance_px"])
    np.testing.assert_allclose(b.saccades["direction_deg"], a.saccades["direction_deg"])


@settings_
@given(paths=paths_strategy, threshold=thresholds, mode=st.sampled_from(MODES),
       data=st.data())
def test_scanpath_order_invariance(paths, threshold, mode, data):
    order = data.draw(st.permutations(range(len(paths))))
    a = segment(make_table(paths), threshold=threshold, mode=mode)
    # shuffle whole scanpaths but keep their identities
    frames = [make_table([paths[i]]).assign(scanpath_id=i) for i in order]
    shuffled = validate(pd.concat(frames).drop(columns="_scanpath"))
    b = segment(shuffled, threshold=threshold, mode=mode)
    for name in ("fixations", "saccades"):
        index = "fixation" if name == "fixations" else "saccade"
        left, right = (
            getattr(s, name).drop(columns="_scanpath").sort_values(["scanpath_id", index])
            .reset_index(drop=True) for s in (a, b))
        pd.testing.assert_frame_equal(left, right)


@settings_
@given(paths=paths_strategy, mode=st.sampled_from(MODES))
def test_extreme_thresholds(paths, mode):
    table = make_table(paths)
    zero = segment(table, threshold=0.0, mode=mode)
    assert (zero.fixations["n_glimpses"] == 1).all()
    assert len(zero.saccades) == len(table) - len(paths)
    whole = segment(table, threshold=math.inf, mode=mode)
    assert whole.fixations["n_glimpses"].tolist() == [len(p) for p in paths]
    assert whole.saccades.empty


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize("threshold", [-1.0, math.nan])
def test_bad_threshold(threshold):
    with pytest.raises(ValueError, match="threshold"):
        segment(make_table(HAND_PATHS), threshold=threshold)


def test_unknown_mode():
    with pytest.raises(ValueError, match="unknown mode 'idt'"):
        segment(make_table(HAND_PATHS), mode="idt")


def test_unvalidated_table():
    table = make_table(HAND_PATHS)
    with pytest.raises(ScanpathError, match="'_scanpath'.*validate"):
        segment(table.drop(columns="_scanpath"))
    with pytest.raises(ScanpathError, match=r"'_scanpath' row 3 \(index label\)"):
        segment(table.iloc[::-1].reset_index(drop=True))


def _steps(value: float, towards: float, k: int) -> list[float]:
    """The ``k`` floats next to ``value`` in the direction of ``towards``."""
    out = [value]
    for _ in range(k):
        out.append(float(np.nextafter(out[-1], towards)))
    return out[1:]


@pytest.mark.parametrize("threshold", [6.0, 0.5, 7.3, 1e150, 1e-150, 1e-160, 1e-170, 0.0, 5e-324,
                                       1e155, math.inf])
def test_within_equals_hypot_comparison(threshold):
    """The squared-distance shortcut decides exactly as ``np.hypot(dx, dy) < threshold``."""
    rng = np.random.default_rng(1)
    t = threshold if 0 < threshold < math.inf else 6.0
    # Points on the circle of radius t and up to 6 ulps either side of it.
    r = np.repeat([t, *_steps(t, math.inf, 6), *_steps(t, 0.0, 6)], 200)
    angle = rng.uniform(0, 2 * np.pi, r.size)
    # Pythagorean triples and axis-aligned steps of length t.
    exact = np.array([[3, 4], [5, 12], [8, 15], [1, 0], [0, 1]], dtype=float)
    exact = exact / np.hypot(exact[:, 0], exact[:, 1])[:, None] * t
    # Magnitudes over the whole float range, overflowing and infinite steps included.
    wide = rng.choice([-1, 1], (4000, 2)) * 10.0 ** rng.uniform(-320, 308, (4000, 2))
    extreme = np.array([[1e200, 1e200], [1.7e308, 1.7e308], [-np.inf, 0], [0, 5e-324],
                        [1e-200, 0], [0, 0]])
    dx = np.concatenate([r * np.cos(angle), exact[:, 0], -exact[:, 1], wide[:, 0],
                         extreme[:, 0]])
    dy = np.concatenate([r * np.sin(angle), exact[:, 1], exact[:, 0], wide[:, 1],
                         extreme[:, 1]])
    with np.errstate(over="ignore"):  # hypot of (1.7e308, 1.7e308)
        expected = np.hypot(dx, dy) < threshold
        got = _within(dx, dy, threshold)
    assert (expected.any() or threshold == 0) and not expected.all()
    np.testing.assert_array_equal(got, expected)
