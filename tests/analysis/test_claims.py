"""Tests of analysis.claims: per-scanpath sums, the paired cluster bootstrap against a float64
loop over explicit resamples, the verdict rules, and the claims on labelled synthetic gaze."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

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


def test_all_and_seed_verdicts():
    assert claims.all_verdict(["reproduced", "reproduced"]) == "reproduced"
    assert claims.all_verdict(["reproduced", "inconclusive"]) == "inconclusive"
    assert claims.all_verdict(["inconclusive", "not reproduced"]) == "not reproduced"
    assert seed_verdict(["reproduced"] * 3) == "reproduced"
    assert seed_verdict(["not reproduced"] * 3) == "not reproduced"
    assert seed_verdict(["reproduced", "inconclusive", "reproduced"]) == "mixed across seeds"


def test_claims_on_labelled_synthetic_gaze():
    table = read_scanpaths(demo_path())
    seg = segment(table, claims.THRESHOLD_PX, "consecutive")
    labels = {"ram": "synthetic-saccadic", "dram": "synthetic-fixational",
              "mram": "synthetic-mixed"}
    out = measure_claims(seg.fixations, seg.saccades, labels, n_resamples=300).set_index("key")
    assert out.loc["ram_saccadic", "verdict"] == "reproduced"
    assert out.loc["dram_fixational", "verdict"] == "reproduced"
    assert out.loc["mram_between", "verdict"] == "reproduced"
    # The mixed and fixational walks take saccades of the same size: no direction.
    assert out.loc["mram_longer_saccades", "verdict"] == "inconclusive"
    assert (out["method"] == claims.criteria(300)).all() and (out["images"] > 0).all()
    # Roles swapped, the ordering claim is reversed with intervals apart.
    swapped = measure_claims(seg.fixations, seg.saccades,
                             {**labels, "ram": labels["dram"], "dram": labels["ram"]},
                             n_resamples=300).set_index("key")
    assert swapped.loc["mram_between", "verdict"] == "not reproduced"
    assert swapped.loc["dram_fixational", "verdict"] == "not reproduced"
    missing = measure_claims(seg.fixations, seg.saccades, {"ram": labels["ram"]},
                             n_resamples=50).set_index("key")
    assert missing.loc["mram_between", "verdict"].startswith("cannot assess: no scanpaths of")


def test_the_printed_criterion_states_the_settings_used():
    seg = segment(read_scanpaths(demo_path()), claims.THRESHOLD_PX, "consecutive")
    out = measure_claims(seg.fixations, seg.saccades, {"ram": "synthetic-saccadic"},
                         n_resamples=120, confidence=0.9)
    assert (out["method"] == claims.criteria(120, 0.9)).all()
    assert "120 resamples" in out["method"].iloc[0] and "90%" in out["method"].iloc[0]
