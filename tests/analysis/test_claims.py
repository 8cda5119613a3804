"""Tests of analysis.claims: per-scanpath sums, the paired cluster bootstrap against a float64
loop over explicit resamples, the verdict rules, and the claims on labelled synthetic gaze."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from analysis import claims
from analysis.claims import (
    Estimate,
    PairedBootstrap,
    bound_verdict,
    measure_claims,
    scanpath_sums,
    seed_verdict,
)
from gazekit import read_scanpaths
from gazekit.demo import demo_path
from gazekit.segment import segment
from gazekit.stats import cluster_weights


def scanpaths(model: str, paths: dict[int, list[float]]) -> pd.DataFrame:
    """Scanpaths along x (y = 0) of one model: image id -> glimpse x positions (px)."""
    rows = [{"model": model, "image_id": i, "step": s, "x": x, "y": 0.0}
            for i, xs in paths.items() for s, x in enumerate(xs)]
    return pd.DataFrame(rows)


def test_scanpath_sums_by_hand():
    table = pd.concat([scanpaths("A", {0: [0, 1, 10, 11], 1: [0, 20, 40]}),
                       scanpaths("B", {0: [0, 0, 0, 0], 1: [5, 5, 30]})], ignore_index=True)
    table["_scanpath"] = table.groupby(["model", "image_id"]).ngroup()
    seg = segment(table, 6.0, "consecutive")
    sums = scanpath_sums(seg.fixations, seg.saccades).set_index(["group", "image_id"])
    # A, image 0: fixations [0, 1] and [10, 11], one 9 px saccade; 3 transitions.
    assert sums.loc[("A", 0)].to_dict() == {"fixations": 2, "fixation_steps": 4, "saccades": 1,
                                            "saccade_px": 9.0, "transitions": 3}
    # A, image 1: three one-glimpse fixations, saccades of 20 and 20 px.
    assert sums.loc[("A", 1), "saccade_px"] == 40.0 and sums.loc[("A", 1), "saccades"] == 2
    # B, image 0: one fixation of four glimpses and no saccade (zero, not missing).
    assert sums.loc[("B", 0)].to_dict() == {"fixations": 1, "fixation_steps": 4, "saccades": 0,
                                            "saccade_px": 0.0, "transitions": 3}


def random_sums(rng: np.random.Generator, groups=("A", "B"), images: int = 12) -> pd.DataFrame:
    rows = []
    for g in groups:
        for i in range(images):
            fixations = int(rng.integers(1, 8))
            saccades = fixations - 1
            rows.append({"group": g, "image_id": 100 + i, "fixations": fixations,
                         "fixation_steps": 12, "saccades": saccades,
                         "saccade_px": float(rng.uniform(6, 20) * saccades),
                         "transitions": 11})
    return pd.DataFrame(rows)


def test_paired_bootstrap_against_explicit_resamples():
    rng = np.random.default_rng(4)
    sums = random_sums(rng)
    boot = PairedBootstrap(sums, n_resamples=300, confidence=0.9, seed=7)
    # The same weights, drawn again: each resample lists the drawn images explicitly.
    weights = cluster_weights(12, 300, np.random.default_rng(7))
    per = {g: rows.set_index("image_id").sort_index() for g, rows in sums.groupby("group")}
    share = {g: [] for g in per}
    for w in weights:
        drawn = np.repeat(np.arange(12), w)
        for g, rows in per.items():
            picked = rows.iloc[drawn]
            share[g].append(1 - picked["saccades"].sum() / picked["transitions"].sum())
    diff = np.array(share["A"]) - np.array(share["B"])
    expected = np.quantile(diff, [0.05, 0.95])
    got = boot.difference("A", "B", "fixational_share")
    assert (got.low, got.high) == pytest.approx(tuple(expected), abs=1e-12)
    whole = {g: 1 - rows["saccades"].sum() / rows["transitions"].sum() for g, rows in per.items()}
    assert got.value == pytest.approx(whole["A"] - whole["B"], abs=1e-15)
    mean_px = boot.estimate("A", "saccade_px_mean")
    assert mean_px.value == pytest.approx(per["A"]["saccade_px"].sum() / per["A"]["saccades"].sum())
    assert mean_px.low <= mean_px.value <= mean_px.high
    # A group against itself differs by exactly 0 in every resample: pairing is exact.
    same = boot.difference("A", "A", "fixation_steps_mean")
    assert (same.value, same.low, same.high) == (0.0, 0.0, 0.0)


def test_different_groups_give_different_statistics():
    rng = np.random.default_rng(0)
    a, b = random_sums(rng, ("A",)), random_sums(rng, ("B",))
    boot = PairedBootstrap(pd.concat([a, b]), n_resamples=100)
    assert boot.estimate("A", "saccade_px_mean") != boot.estimate("B", "saccade_px_mean")


@pytest.mark.parametrize("estimate, above, expected", [
    (Estimate(0.7, 0.6, 0.8), True, "reproduced"),
    (Estimate(0.3, 0.2, 0.4), True, "not reproduced"),
    (Estimate(0.52, 0.45, 0.58), True, "inconclusive"),
    (Estimate(0.3, 0.2, 0.4), False, "reproduced"),
    (Estimate(0.7, 0.6, 0.8), False, "not reproduced"),
    (Estimate(0.5, np.nan, np.nan), True, "cannot assess: no interval"),
])
def test_bound_verdict_rules(estimate, above, expected):
    assert bound_verdict(estimate, 0.5, above) == expected


def test_all_verdict():
    assert claims.all_verdict(["reproduced", "reproduced"]) == "reproduced"
    assert claims.all_verdict(["reproduced", "inconclusive"]) == "inconclusive"
    assert claims.all_verdict(["inconclusive", "not reproduced"]) == "not reproduced"


YES, NO, UNSURE = "reproduced", "not reproduced", "inconclusive"
CANNOT = "cannot assess: no interval"  # counts as inconclusive


@pytest.mark.parametrize("verdicts, expected", [
    ([], "cannot assess: no seed"),
    ([YES, YES, YES], "reproduced"),
    ([NO, NO, NO], "not reproduced"),
    ([UNSURE, UNSURE, UNSURE], "inconclusive"),
    ([CANNOT, CANNOT, CANNOT], "cannot assess: no interval"),
    ([YES, NO, YES], "mixed across seeds (2 reproduced, 1 not reproduced, 0 inconclusive)"),
    ([YES, UNSURE, NO], "mixed across seeds (1 reproduced, 1 not reproduced, 1 inconclusive)"),
    ([NO, CANNOT, YES], "mixed across seeds (1 reproduced, 1 not reproduced, 1 inconclusive)"),
    ([YES, UNSURE, YES], "inconclusive (2 of 3 seeds reproduced, 1 inconclusive)"),
    ([YES, CANNOT, CANNOT], "inconclusive (1 of 3 seeds reproduced, 2 inconclusive)"),
    # Not "mixed": no seed reproduces it.
    ([NO, UNSURE, NO], "not reproduced (2 of 3 seeds, 1 inconclusive)"),
    ([CANNOT, NO, UNSURE], "not reproduced (1 of 3 seeds, 2 inconclusive)"),
    ([UNSURE, CANNOT, UNSURE], "inconclusive (0 of 3 seeds reproduced, 3 inconclusive)"),
    # Fewer seeds assessed than the experiment has: never a bare verdict.
    ([YES], "only 1 of 3 seeds: reproduced"),
    ([NO, NO], "only 2 of 3 seeds: not reproduced"),
    ([YES, UNSURE], "only 2 of 3 seeds: inconclusive (1 of 2 seeds reproduced, "
                    "1 inconclusive)"),
    ([YES, NO], "only 2 of 3 seeds: mixed across seeds (1 reproduced, 1 not reproduced, "
                "0 inconclusive)"),
    ([UNSURE, NO], "only 2 of 3 seeds: not reproduced (1 of 2 seeds, 1 inconclusive)"),
])
def test_seed_verdict_rules(verdicts, expected):
    assert seed_verdict(verdicts, 3) == expected


def test_seed_verdict_refuses_more_verdicts_than_seeds():
    with pytest.raises(ValueError, match="4 seed verdicts, more than the 3 seeds"):
        seed_verdict(["reproduced"] * 4, 3)


def test_claims_on_labelled_synthetic_gaze():
    table = read_scanpaths(demo_path())
    seg = segment(table, claims.THRESHOLD_PX, "consecutive")
    labels = {"ram": "synthetic-saccadic", "dram": "synthetic-fixational",
              "mram": "synthetic-mixed"}
    out = measure_claims(seg.fixations, seg.saccades, labels, n_resamples=300).set_index("key")
    assert out.loc["ram_saccadic", "verdict"] == "reproduced"
    assert out.loc["dram_fixational", "verdict"] == "reproduced"
    assert out.loc["mram_between", "verdict"] == "reproduced"
    assert out.loc["mram_above_ram", "verdict"] == "reproduced"
    # The mixed and fixational walks take saccades of the same size: no direction.
    assert out.loc["mram_longer_saccades", "verdict"] == "inconclusive"
    assert (out["method"] == claims.criteria(300)).all() and (out["images"] > 0).all()
    # Roles swapped, the ordering claim is reversed with intervals apart.
    swapped = measure_claims(seg.fixations, seg.saccades,
                             {**labels, "ram": labels["dram"], "dram": labels["ram"]},
                             n_resamples=300).set_index("key")
    assert swapped.loc["mram_between", "verdict"] == "not reproduced"
    assert swapped.loc["dram_fixational", "verdict"] == "not reproduced"
    # The fixational walk as RAM: MRAM is less fixational than it, intervals apart.
    assert swapped.loc["mram_above_ram", "verdict"] == "not reproduced"
    missing = measure_claims(seg.fixations, seg.saccades, {"ram": labels["ram"]},
                             n_resamples=50).set_index("key")
    assert missing.loc["mram_between", "verdict"].startswith("cannot assess: no scanpaths of")
    # Without a DRAM (the RAM-7 + MRAM-7 knob grid) MRAM vs RAM is still judged.
    pair = measure_claims(seg.fixations, seg.saccades, {r: labels[r] for r in ("ram", "mram")},
                          n_resamples=300).set_index("key")
    assert pair.loc["mram_above_ram", "verdict"] == "reproduced"
    assert pair.loc["mram_above_ram", "measured"] == out.loc["mram_above_ram", "measured"]
    assert pair.loc["mram_between", "verdict"] == "cannot assess: no scanpaths of DRAM"
    assert list(out.index) == [c.key for c in claims.CLAIMS]


def test_the_printed_criterion_states_the_settings_used():
    seg = segment(read_scanpaths(demo_path()), claims.THRESHOLD_PX, "consecutive")
    out = measure_claims(seg.fixations, seg.saccades, {"ram": "synthetic-saccadic"},
                         n_resamples=120, confidence=0.9)
    assert (out["method"] == claims.criteria(120, 0.9)).all()
    assert "120 resamples" in out["method"].iloc[0] and "90%" in out["method"].iloc[0]


# --- the accuracy claim ----------------------------------------------------------------------

def correct_export(path, image_ids: np.ndarray, correct: np.ndarray):
    """A two-glimpse export whose image ``image_ids[i]`` is classified correctly iff
    ``correct[i]``."""
    pd.DataFrame({"image_id": np.repeat(image_ids, 2), "step": np.tile([0, 1], len(correct)),
                  "correct": np.repeat(correct, 2)}).to_parquet(path)
    return path


@pytest.mark.parametrize(("mram_only", "rival_only", "verdict"), [
    (30, 5, "reproduced"), (5, 30, "not reproduced"), (6, 4, "inconclusive"),
    (4, 6, "inconclusive"), (0, 0, "inconclusive")])
def test_mcnemar_verdict_rule(mram_only, rival_only, verdict):
    p, got = claims.mcnemar_verdict(mram_only, rival_only)
    n = mram_only + rival_only
    # Exact two-sided McNemar p: twice the smaller binomial tail at 1/2 (1 without discord).
    expected = min(1.0, 2 * scipy.stats.binom.cdf(min(mram_only, rival_only), n, 0.5))
    assert p == pytest.approx(expected) and got == verdict


def test_accuracy_claims_per_glimpse_count_with_a_paired_interval(tmp_path):
    rng = np.random.default_rng(3)
    n = 40
    ids = rng.permutation(np.arange(500, 500 + n))  # not in sorted order in the files
    right = {label: rng.random(n) < p for label, p in
             (("MRAM-7", 0.8), ("RAM-7", 0.6), ("MRAM-12", 0.7), ("DRAM-12", 0.7),
              ("RAM-12", 0.9), ("CNN", 0.75))}
    exports = {label: correct_export(tmp_path / f"{i}.parquet", ids, c)
               for i, (label, c) in enumerate(right.items())}
    out = claims.accuracy_claims(exports, n_resamples=400, confidence=0.9, seed=5)
    # Each T on its own: its MRAM against its DRAM and RAM, and the CNN; never across T.
    assert list(zip(out["glimpses"], out["mram"], out["rival"], strict=True)) == [
        (7, "MRAM-7", "RAM-7"), (7, "MRAM-7", "CNN"),
        (12, "MRAM-12", "DRAM-12"), (12, "MRAM-12", "RAM-12"), (12, "MRAM-12", "CNN")]
    assert (out["criterion"] == claims.accuracy_criterion(400, 0.9)).all()
    assert "90% percentile interval" in out["criterion"].iloc[0]
    # The interval by a float64 loop over the same resamples of sorted image ids.
    order = np.argsort(ids)
    weights = cluster_weights(n, 400, np.random.default_rng(5))
    for row in out.itertuples():
        m, r = right[row.mram][order], right[row.rival][order]
        draws = [100 * (m[np.repeat(np.arange(n), w)].mean()
                        - r[np.repeat(np.arange(n), w)].mean()) for w in weights]
        assert (row.difference_ci_low, row.difference_ci_high) == pytest.approx(
            tuple(np.quantile(draws, [0.05, 0.95])), abs=1e-9)
        assert row.difference_pct == pytest.approx(row.mram_acc_pct - row.rival_acc_pct)
        assert row.verdict == claims.mcnemar_verdict(row.mram_only, row.rival_only)[1]


def test_accuracy_interval_by_hand(tmp_path):
    ids = np.arange(6)
    # MRAM right and the rival wrong on every image: each image differs by +1, so every
    # resample's difference is exactly +100 points; McNemar p = 2 * 0.5 ** 6.
    exports = {"MRAM-7": correct_export(tmp_path / "m.parquet", ids, np.ones(6, bool)),
               "RAM-7": correct_export(tmp_path / "r.parquet", ids, np.zeros(6, bool))}
    row = claims.accuracy_claims(exports, n_resamples=50).iloc[0]
    assert (row.difference_pct, row.difference_ci_low, row.difference_ci_high) == (
        100.0, 100.0, 100.0)
    assert row.verdict == "reproduced" and row.p_value == pytest.approx(2 * 0.5 ** 6)


# --- human shape ----------------------------------------------------------------------------

def shape_folder(folder, durations: dict[str, list[list[float]]]):
    """An analysis folder whose group's fixations last the given glimpse counts (human: ms),
    one inner list per scanpath, and each scanpath with saccades of 6 + its index px."""
    fixations, saccades, scanpath = [], [], 0
    for group, paths in durations.items():
        for path in paths:
            for d in path:
                human = group == "human"
                fixations.append({"model": group, "_scanpath": scanpath,
                                  "n_glimpses": 1 if human else d,
                                  "duration_ms": d if human else np.nan})
            saccades += [{"model": group, "_scanpath": scanpath,
                          "distance_px": 6.0 + scanpath % 7 + k} for k in range(3)]
            scanpath += 1
    pd.DataFrame(fixations).to_parquet(folder / "fixations.parquet")
    pd.DataFrame(saccades).to_parquet(folder / "saccades.parquet")
    return folder


def test_shape_statistics_tell_apart_distributions_of_the_same_median(tmp_path):
    # Both models' fixations last 1 glimpse at the median; one has a short, the other a long
    # tail. Forty scanpaths each, so both get intervals; the human group has 2 recordings.
    short = [[1, 1, 1, 2]] * 40
    long = [[1, 1, 1, 1, 1, 1, 1, 9]] * 40
    human = [[150.0, 220.0, 180.0, 400.0, 260.0], [90.0, 310.0, 205.0]]
    folder = shape_folder(tmp_path, {"A-7": short, "B-7": long, "human": human})
    shape, rows = claims.human_shape_claim(folder, {7: {"ram": "A-7", "mram": "B-7"}}, "human",
                                           n_resamples=200)
    shape = shape.set_index(["group", "quantity"])
    a, b = shape.loc[("A-7", "fixation_duration")], shape.loc[("B-7", "fixation_duration")]
    for row, values in ((a, np.ravel(short)), (b, np.ravel(long))):
        assert np.median(values) == 1
        assert row["cv"] == pytest.approx(scipy.stats.variation(values))
        assert row["skewness"] == pytest.approx(scipy.stats.skew(values))
        assert row["n_scanpaths"] == 40 and row["note"] == ""
        assert row["cv_ci_low"] <= row["cv"] <= row["cv_ci_high"]
    assert abs(a["cv"] - b["cv"]) > 0.1 and abs(a["skewness"] - b["skewness"]) > 0.5
    # By hand: [1, 1, 1, 2] has mean 1.25, population sd 0.433, CV 0.3464, skewness 1.1547.
    assert (a["cv"], a["skewness"]) == pytest.approx((np.sqrt(3) / 5, 2 / np.sqrt(3)))
    # Two recordings: no interval, and the note says why.
    person = shape.loc[("human", "fixation_duration")]
    bounds = ["cv_ci_low", "cv_ci_high", "skewness_ci_low", "skewness_ci_high"]
    assert person["n_scanpaths"] == 2 and np.isnan(person[bounds].astype(float)).all()
    assert person["note"] == claims._shape_note(2)
    assert f"fewer than {claims.MIN_SHAPE_SCANPATHS}" in person["note"]
    assert person["cv"] == pytest.approx(scipy.stats.variation(np.ravel(sum(human, []))))
    assert rows["glimpses"].tolist() == [7]


def test_shape_interval_needs_the_minimum_of_scanpaths(tmp_path):
    paths = [[1, 2, 3], [1, 1, 4], [2, 5, 1]]
    k = claims.MIN_SHAPE_SCANPATHS
    folder = shape_folder(tmp_path, {"A-7": (paths * k)[:k - 1], "B-7": (paths * k)[:k],
                                     "human": [[100.0, 200.0, 300.0]] * k})
    shape = claims.human_shape_claim(folder, {7: {"ram": "A-7"}}, "human",
                                     n_resamples=100)[0].set_index(["group", "quantity"])
    below, at = shape.loc[("A-7", "fixation_duration")], shape.loc[("B-7", "fixation_duration")]
    assert below["n_scanpaths"] == k - 1 and np.isnan(below["skewness_ci_low"])
    assert at["n_scanpaths"] == k and np.isfinite(at["skewness_ci_low"]) and at["note"] == ""


# --- undefined resamples --------------------------------------------------------------------

def test_undefined_resamples_are_counted_and_above_the_limit_give_no_interval():
    draws = np.r_[np.arange(97.0), [np.nan] * 3]
    kept = claims.percentile_interval(1.0, draws, 0.9, "no saccades of A")
    assert kept.undefined_share == 0.03
    assert (kept.low, kept.high) == pytest.approx(tuple(np.quantile(np.arange(97.0),
                                                                    [0.05, 0.95])))
    assert kept.text(1) == (f"1.0 [{kept.low:.1f}, {kept.high:.1f}] (3.0% of resamples with "
                            "no saccades of A, left out)")
    dropped = claims.percentile_interval(1.0, np.r_[np.arange(90.0), [np.nan] * 10], 0.9,
                                         "no saccades of A")
    assert np.isnan([dropped.low, dropped.high]).all() and dropped.undefined_share == 0.1
    assert dropped.text(1) == "1.0 [no interval: 10.0% of resamples with no saccades of A]"
    assert bound_verdict(dropped, 0.0, above=True) == (
        "cannot assess: 10.0% of resamples with no saccades of A (more than 5%)")
    assert bound_verdict(kept, 0.0, above=True) == "reproduced"


def test_a_group_without_saccades_prints_no_nan():
    # B never saccades; C saccades in 1 of 20 images, so about (19/20)^20 = 36% of resamples
    # draw none of its saccades.
    still = {i: [0, 1, 2, 3] for i in range(20)}
    moving = {i: [0, 10, 20, 30] for i in range(20)}
    table = pd.concat([scanpaths("A", moving), scanpaths("B", still),
                       scanpaths("C", {**still, 0: [0, 10, 11, 12]})], ignore_index=True)
    table["_scanpath"] = table.groupby(["model", "image_id"]).ngroup()
    seg = segment(table, 6.0, "consecutive")
    boot = PairedBootstrap(scanpath_sums(seg.fixations, seg.saccades), n_resamples=500)
    none = boot.estimate("B", "saccade_px_mean")
    assert none.text(2, " px") == "undefined (no saccades of B)"
    assert bound_verdict(none, 0.0, above=True) == "cannot assess: no saccades of B"
    assert boot.difference("A", "B", "saccade_px_mean").text() == "undefined (no saccades of B)"
    rare = boot.difference("A", "C", "saccade_px_mean")
    assert rare.value == pytest.approx(10 - 10) and 0.25 < rare.undefined_share < 0.5
    assert bound_verdict(rare, 0.0, above=True).startswith("cannot assess: ")
    out = measure_claims(seg.fixations, seg.saccades, {"mram": "A", "dram": "B"},
                         n_resamples=200).set_index("key")
    assert out.loc["mram_longer_saccades", "verdict"] == "cannot assess: no saccades of B"
    assert "nan" not in " ".join(out["measured"])


# --- RAM "mostly saccadic" at fixed T -------------------------------------------------------

@pytest.mark.parametrize("glimpses, bound", [(7, 0.389), (12, 0.364)])
def test_mean_fixation_is_a_function_of_the_share_at_fixed_glimpses(glimpses, bound):
    rng = np.random.default_rng(glimpses)
    # Random walks: each step stays (< 6 px) or jumps, with a per-image chance.
    paths = {i: np.cumsum(np.where(rng.random(glimpses) < rng.random(), 2.0, 15.0)).tolist()
             for i in range(30)}
    table = scanpaths("RAM-x", paths).assign(model=f"RAM-{glimpses}")
    table["_scanpath"] = table.groupby(["model", "image_id"]).ngroup()
    seg = segment(table, 6.0, "consecutive")
    boot = PairedBootstrap(scanpath_sums(seg.fixations, seg.saccades), n_resamples=200)
    label = f"RAM-{glimpses}"
    assert boot.glimpses(label) == glimpses
    (share, shares), (fixation, fixations) = (boot._draws(label, s) for s in
                                              ("fixational_share", "fixation_steps_mean"))
    identity = glimpses / (1 + (1 - np.r_[share, shares]) * (glimpses - 1))
    assert np.r_[fixation, fixations] == pytest.approx(identity, rel=1e-12)
    assert claims.saccadic_share_bound(glimpses) == pytest.approx(bound, abs=5e-4)
    # At the share bound the mean fixation is exactly the fixation bound.
    s = claims.saccadic_share_bound(glimpses)
    assert glimpses / (1 + (1 - s) * (glimpses - 1)) == pytest.approx(
        claims.SACCADIC_MAX_FIXATION_STEPS)
    out = measure_claims(seg.fixations, seg.saccades, {"ram": label},
                         n_resamples=50).set_index("key")
    criterion = out.loc["ram_saccadic", "criterion"]
    assert f"fixational share < {bound:.3f}" in criterion and f"T = {glimpses}" in criterion
    assert "never decides" in criterion
