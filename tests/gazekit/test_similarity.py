"""Scanpath similarity: MultiMatch against multimatch-gaze, DTW and edit distance against
float64 loops, pairing, cluster-bootstrap summaries and the ``gazekit similarity`` command."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gazekit.cli import main
from gazekit.schema import ScanpathError
from gazekit.similarity import (
    Simplification,
    compare_scanpaths,
    dtw,
    edit_distance,
    grid_codes,
    multimatch,
    simplify,
    summarize_pairs,
)

mm = pytest.importorskip("multimatch_gaze.multimatch_gaze")

DATA = Path(__file__).parents[1] / "data" / "human" / "studyforrest-fixvectors"
TIES = Path(__file__).parents[1] / "data" / "similarity" / "studyforrest-fixvectors"
SHARED = Path(__file__).parents[3] / "shared" / "data" / "human" / "studyforrest-fixvectors"
SCREEN = (1280, 720)  # studyforrest stimulus, px
#: Simplification settings: none, multimatch-gaze's documented example, a stronger one.
RULES = [{}, {"TDir": 45.0, "TDur": 0.05, "TAmp": 150.0}, {"TDir": 30.0, "TDur": 0.3,
                                                             "TAmp": 100.0}]


def _fixvectors(folder: Path) -> list[np.ndarray]:
    return [np.loadtxt(f, skiprows=1) for f in sorted(folder.glob("*.tsv"))]


def _record(fix: np.ndarray) -> np.recarray:
    return np.rec.fromarrays(fix.T, names="start_x,start_y,duration")


def _reference(a: np.ndarray, b: np.ndarray, rule: dict, screen=SCREEN) -> np.ndarray:
    """multimatch-gaze's result; NaN where it fails (a simplified path of one saccade)."""
    try:
        return np.asarray(mm.docomparison(_record(a), _record(b), screensize=list(screen),
                                          grouping=bool(rule), **rule), dtype=float)
    except IndexError:
        return np.full(5, np.nan)


def _rule(rule: dict) -> Simplification:
    return Simplification(rule.get("TAmp", 0.0), rule.get("TDir", 0.0), rule.get("TDur", 0.0))


def _check_against_reference(paths: list[np.ndarray], rule: dict) -> None:
    pairs = list(itertools.product(range(len(paths)), repeat=2))
    ia, ib = (np.array(p) for p in zip(*pairs, strict=True))
    ours = multimatch(paths, paths, SCREEN, pairs=(ia, ib), simplification=_rule(rule))
    ref = np.array([_reference(paths[i], paths[j], rule) for i, j in pairs])
    failed = np.isnan(ref).all(axis=1)  # the reference raised; ours must still be finite
    assert np.isfinite(ours[failed]).all()
    np.testing.assert_allclose(ours[~failed], ref[~failed], rtol=0, atol=1e-6)
    assert (~failed).sum() >= len(pairs) // 2


@pytest.mark.parametrize("rule", RULES)
def test_multimatch_agrees_with_multimatch_gaze(rule):
    _check_against_reference(_fixvectors(DATA), rule)


@pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared (110 studyforrest files)")
def test_multimatch_agrees_with_multimatch_gaze_on_all_shared_files():
    paths = _fixvectors(SHARED)[:15]  # 225 ordered pairs per rule: about 3 s of reference
    for rule in RULES:
        _check_against_reference(paths, rule)


def test_multimatch_equal_cost_paths_resolve_as_the_reference():
    # These two scanpaths (0.1 px resolution) have alignments of exactly equal cost; taking
    # the other one changes the duration similarity by 0.016, so the pair must be resolved
    # as multimatch-gaze's Dijkstra search does.
    a, b = _fixvectors(TIES)
    ours = multimatch([a, b], [b, a], SCREEN)
    np.testing.assert_allclose(ours, [_reference(a, b, {}), _reference(b, a, {})],
                               rtol=0, atol=1e-12)


def test_multimatch_hand_worked():
    fix = np.array([[100., 100., 200.], [300., 100., 300.], [300., 400., 100.]])
    shifted = fix + [30., 40., 0.]  # every saccade start moves by 50 px
    longer = fix * [1., 1., 2.]  # every duration doubled
    got = multimatch([fix, fix, fix], [fix, shifted, longer], screen_px=(600, 800))
    np.testing.assert_allclose(got[0], 1.0)
    np.testing.assert_allclose(got[1], [1, 1, 1, 1 - 50 / 1000, 1])  # diagonal 1000 px
    np.testing.assert_allclose(got[2], [1, 1, 1, 1, 0.5])  # |d - 2d| / 2d
    # Too short: NaN, as multimatch-gaze.
    assert np.isnan(multimatch([fix[:2]], [fix], (600, 800))).all()


def test_simplify_matches_the_reference_including_the_last_saccade_rule():
    rng = np.random.default_rng(1)
    checked = 0
    for _ in range(30):
        n = int(rng.integers(4, 14))
        fix = np.column_stack([np.cumsum(rng.normal(0, 60, n)), np.cumsum(rng.normal(0, 60, n)),
                               rng.uniform(0.02, 0.4, n)])
        try:
            ref = mm.simplify_scanpath(mm.gen_scanpath_structure(_record(fix)), 80.0, 40.0,
                                       0.2)
        except IndexError:  # reduced to one saccade: multimatch-gaze fails, gazekit keeps it
            continue
        checked += 1
        ours = simplify(fix, Simplification(80.0, 40.0, 0.2))
        k = len(ref["sac"]["lenx"])
        np.testing.assert_allclose(ours, np.column_stack(
            [ref["sac"][c] for c in ("x", "y", "lenx", "leny")] + [ref["fix"]["dur"][:k]]))
    assert checked >= 20


def test_simplification_rejects_negative_thresholds():
    with pytest.raises(ValueError, match="amplitude_px"):
        Simplification(amplitude_px=-1.0)


def _dtw_loop(a: np.ndarray, b: np.ndarray) -> float:
    cost = np.full((len(a) + 1, len(b) + 1), np.inf)
    cost[0, 0] = 0.0
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d = float(((a[i - 1] - b[j - 1]) ** 2).sum())
            cost[i, j] = d + min(cost[i - 1, j], cost[i, j - 1], cost[i - 1, j - 1])
    return float(np.sqrt(cost[-1, -1]))


def _levenshtein_loop(a, b) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def test_dtw_and_edit_distance_match_float64_loops():
    rng = np.random.default_rng(2)
    a = [rng.uniform(0, 100, (int(rng.integers(1, 9)), 2)) for _ in range(4)]
    b = [rng.uniform(0, 100, (int(rng.integers(1, 9)), 2)) for _ in range(3)]
    np.testing.assert_allclose(dtw(a, b), [[_dtw_loop(x, y) for y in b] for x in a],
                               rtol=1e-12)
    ca = [grid_codes(x, (100, 100), (3, 3)) for x in a]
    cb = [grid_codes(y, (100, 100), (3, 3)) for y in b]
    assert edit_distance(ca, cb).tolist() == [[_levenshtein_loop(x, y) for y in cb] for x in ca]


def test_grid_codes_hand_worked():
    xy = np.array([[0., 0.], [99.9, 0.], [50., 50.], [0., 100.], [-3., 250.]])
    assert grid_codes(xy, (100, 100), (2, 2)).tolist() == [0, 1, 3, 2, 2]
    with pytest.raises(ValueError, match="grid"):
        grid_codes(xy, (100, 100), (0, 2))


def _table(subjects: dict[str, dict[int, np.ndarray]], **extra) -> pd.DataFrame:
    rows = []
    for subject, trials in subjects.items():
        for image, fix in trials.items():
            rows.append(pd.DataFrame({"subject": subject, "image_id": image,
                                      "step": np.arange(len(fix)), "x": fix[:, 0],
                                      "y": fix[:, 1], **extra}))
    return pd.concat(rows, ignore_index=True)


def test_compare_scanpaths_pairs_on_the_same_stimulus():
    rng = np.random.default_rng(3)
    path = {k: rng.uniform(0, 100, (5, 2)) for k in range(4)}
    a = _table({"s1": {0: path[0], 1: path[1]}, "s2": {0: path[2]}})
    b = _table({"m": {0: path[3], 1: path[0], 7: path[2]}})
    pairs = compare_scanpaths(a, b, screen_px=(100, 100))
    assert sorted(zip(pairs["scanpath_a"], pairs["scanpath_b"], strict=True)) == [
        ("s1/0", "m/0"), ("s1/1", "m/1"), ("s2/0", "m/0")]
    assert (pairs["duration_unit"] == "steps").all()  # no time: each row lasts one step
    row = pairs.set_index("scanpath_a").loc["s1/0"]
    assert row["dtw_px"] == pytest.approx(_dtw_loop(path[0], path[3]))
    ref = _reference(np.column_stack([path[0], np.ones(5)]),
                     np.column_stack([path[3], np.ones(5)]), {}, screen=(100, 100))
    assert row[["mm_vector", "mm_direction", "mm_length", "mm_position",
                "mm_duration"]].to_numpy(float) == pytest.approx(ref.tolist(), abs=1e-9)
    # Within one table: each unordered pair once.
    within = compare_scanpaths(a, screen_px=(100, 100), measures=["dtw"])
    assert list(zip(within["scanpath_a"], within["scanpath_b"], strict=True)) == [("s1/0", "s2/0")]


def test_compare_scanpaths_units_and_threshold():
    timed = _table({"h": {0: np.array([[0, 0], [50, 0], [50, 50.]])}}, duration=200.0,
                   image_width=100.0, image_height=100.0)
    model = _table({"m": {0: np.array([[0, 0], [1, 0], [50, 1], [51, 1], [50, 50.]])}},
                   image_width=100.0, image_height=100.0)
    mixed = compare_scanpaths(timed, model)
    assert mixed["duration_unit"].iloc[0] == "mixed" and np.isnan(mixed["mm_duration"].iloc[0])
    # A 5 px threshold merges the glimpses into 3 fixations of 2, 2 and 1 steps.
    merged = compare_scanpaths(model, model.assign(subject="n"), threshold=5.0)
    assert merged["n_fixations_a"].iloc[0] == 3 and merged["duration_unit"].iloc[0] == "steps"
    assert merged["mm_duration"].iloc[0] == 1.0


def test_compare_scanpaths_bad_input():
    a = _table({"s": {0: np.zeros((3, 2)) + [[1, 2]] * np.arange(3)[:, None]}})
    b = _table({"t": {1: np.zeros((3, 2)) + [[1, 2]] * np.arange(3)[:, None]}})
    with pytest.raises(ValueError, match="no stimulus has a scanpath in both"):
        compare_scanpaths(a, b, screen_px=(10, 10))
    with pytest.raises(ScanpathError, match="missing column 'trial'"):
        compare_scanpaths(a, b, by="trial", screen_px=(10, 10))
    with pytest.raises(ValueError, match="unknown measure 'foo'"):
        compare_scanpaths(a, a, measures=["foo"], screen_px=(10, 10))
    with pytest.raises(ValueError, match="image size is unknown"):
        compare_scanpaths(a, a.assign(subject="u"))


def test_cluster_bootstrap_matches_the_exact_resampling_distribution():
    # Three stimuli with 1, 2 and 3 pairs: the 10 multisets of three draws are enumerable.
    pairs = pd.DataFrame({"stimulus": list("abbccc"), "group_a": "A", "group_b": "B",
                          "dtw_px": [1.0, 2.0, 4.0, 8.0, 9.0, 10.0]})
    values = {"a": [1.0], "b": [2.0, 4.0], "c": [8.0, 9.0, 10.0]}
    outcomes, weights = [], []
    for draw in itertools.product("abc", repeat=3):  # 27 equally likely ordered draws
        chosen = [v for s in draw for v in values[s]]
        outcomes.append(np.mean(chosen))
        weights.append(1 / 27)
    order = np.argsort(outcomes)
    cdf = np.cumsum(np.array(weights)[order])
    exact_low = np.array(outcomes)[order][np.searchsorted(cdf, 0.025)]
    exact_high = np.array(outcomes)[order][np.searchsorted(cdf, 0.975)]
    row = summarize_pairs(pairs, n_resamples=20000, seed=1).iloc[0]
    assert row["mean"] == pytest.approx(34 / 6) and row["n_stimuli"] == 3
    assert row["ci_low"] == pytest.approx(exact_low, abs=0.5)
    assert row["ci_high"] == pytest.approx(exact_high, abs=0.5)
    # Equal stimulus means give an interval of zero width; one stimulus gives none.
    flat = pairs.assign(dtw_px=5.0)
    row = summarize_pairs(flat, n_resamples=100).iloc[0]
    assert row["ci_low"] == row["ci_high"] == 5.0
    assert np.isnan(summarize_pairs(pairs.assign(stimulus="x")).iloc[0]["ci_low"])


def _write(table: pd.DataFrame, path: Path) -> Path:
    table.to_parquet(path)
    return path


def test_cli_similarity_writes_pairs_and_summary(tmp_path, capsys):
    rng = np.random.default_rng(4)
    paths = {k: rng.uniform(0, 100, (6, 2)) for k in range(4)}
    a = _write(_table({"s": {0: paths[0], 1: paths[1]}}, image_width=100.0,
                      image_height=100.0), tmp_path / "ram.parquet")
    b = _write(_table({"t": {0: paths[2], 1: paths[3]}}, image_width=100.0,
                      image_height=100.0), tmp_path / "mram.parquet")
    out = tmp_path / "sim"
    assert main(["similarity", str(a), str(b), "--by", "image_id", "--out", str(out),
                 "--resamples", "50"]) == 0
    printed = capsys.readouterr().out
    assert "2 pairs on 2 stimuli" in printed and "mm_vector" in printed
    pairs = pd.read_csv(out / "pairs.csv")
    summary = pd.read_csv(out / "summary.csv")
    assert len(pairs) == 2 and set(summary["group_a"]) == {"ram"}
    assert set(summary["measure"]) >= {"mm_duration", "dtw_px", "edit_similarity"}
    # The output exists: refused without --overwrite, and left as it was.
    before = (out / "pairs.csv").read_bytes()
    assert main(["similarity", str(a), str(b), "--out", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (out / "pairs.csv").read_bytes() == before


@pytest.mark.parametrize("extra, message", [
    (["--by", "trial"], "missing column 'trial'"),
    (["--group-by", "model"], "missing column 'model'"),
    (["--screen-px", "0", "10"], "positive number"),
])
def test_cli_similarity_bad_input_one_line_exit_2(tmp_path, capsys, extra, message):
    table = _table({"s": {0: np.array([[1., 2.], [30., 40.], [5., 6.]])}})
    a = _write(table, tmp_path / "a.parquet")
    b = _write(table.assign(subject="t"), tmp_path / "b.parquet")
    out = tmp_path / "out"
    try:
        status = main(["similarity", str(a), str(b), "--screen-px", "100", "100", *extra,
                       "--out", str(out)])
    except SystemExit as exc:  # argparse's own errors
        status = exc.code
    assert status == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == [
        "a.parquet", "b.parquet"]


def test_cli_similarity_no_common_stimulus(tmp_path, capsys):
    table = _table({"s": {0: np.array([[1., 2.], [30., 40.], [5., 6.]])}})
    a = _write(table, tmp_path / "a.parquet")
    b = _write(table.assign(image_id=9), tmp_path / "b.parquet")
    assert main(["similarity", str(a), str(b), "--screen-px", "100", "100"]) == 2
    assert "no stimulus has a scanpath in both" in capsys.readouterr().err
