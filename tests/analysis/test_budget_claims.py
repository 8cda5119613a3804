"""analysis/budget_claims.py on constructed correctness vectors: the paired change against a
float64 loop, McNemar's p against the exact binomial sum, the bootstrap interval against
scipy.stats.bootstrap, and each verdict rule's outcomes (reproduced, not reproduced,
inconclusive, cannot assess) with its criterion beside it."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import bootstrap

from analysis import budget_claims as bc

N = 400


def _vector(correct: int, n: int = N, start: int = 0) -> np.ndarray:
    """``n`` images of which ``correct`` (from ``start``, wrapping) are classified correctly."""
    out = np.zeros(n, bool)
    out[(start + np.arange(correct)) % n] = True
    return out


def _curve(label: str, at_t: np.ndarray, at_2t: np.ndarray, finished: bool = True) -> bc.Curve:
    trained = int(label.split("-")[1])
    return bc.Curve(label, trained, np.stack([at_t, at_2t]), "synthetic", f"{label}.pt", 9,
                    "finished" if finished else "still training: epoch 9 of 300 (best 9)",
                    finished)


def _sweep(*curves: bc.Curve) -> bc.Sweep:
    return bc.Sweep([3, 6], list(curves))


def _exact_two_sided_p(gained: int, lost: int) -> float:
    """McNemar's exact two-sided p: twice the smaller binomial tail at 1/2, at most 1."""
    n = gained + lost
    tail = sum(math.comb(n, i) for i in range(min(gained, lost) + 1)) / 2.0 ** n
    return min(1.0, 2.0 * tail)


def test_paired_change_against_a_loop_and_the_exact_binomial():
    rng = np.random.default_rng(3)
    before = rng.random(N) < 0.8
    after = before.copy()
    flip = rng.random(N) < 0.15
    after[flip] = ~after[flip]
    change = bc.paired_change(before, after)
    gained = lost = 0
    total = 0.0
    for b, a in zip(before.tolist(), after.tolist(), strict=True):  # the reference loop
        gained += a and not b
        lost += b and not a
        total += 100.0 * (float(a) - float(b))
    assert (change.gained, change.lost, change.images) == (gained, lost, N)
    assert change.change.value == pytest.approx(total / N, abs=1e-12)
    assert change.before_pct == pytest.approx(100 * before.sum() / N)
    assert change.after_pct - change.before_pct == pytest.approx(change.change.value)
    assert change.p_value == pytest.approx(_exact_two_sided_p(gained, lost), rel=1e-9)
    reference = bootstrap((100.0 * (after.astype(float) - before),), np.mean, n_resamples=20000,
                          method="percentile", random_state=0).confidence_interval
    assert change.change.low == pytest.approx(reference.low, abs=0.4)  # pts; Monte Carlo error
    assert change.change.high == pytest.approx(reference.high, abs=0.4)


def test_paired_change_without_discordant_images():
    same = _vector(300)
    change = bc.paired_change(same, same, n_resamples=200)
    assert (change.gained, change.lost, change.p_value) == (0, 0, 1.0)
    assert (change.change.value, change.change.low, change.change.high) == (0.0, 0.0, 0.0)
    assert bc.change_verdict(change, gain_claimed=True) == "inconclusive"


@pytest.mark.parametrize(("after", "gain_claimed", "verdict"), [
    (_vector(300) & ~_vector(40), False, "reproduced"),  # 40 lost: p ~ 1e-12
    (_vector(300) & ~_vector(40), True, "not reproduced"),
    (_vector(300) | _vector(360), True, "reproduced"),  # 60 gained
    (_vector(300) | _vector(360), False, "not reproduced"),
    (_vector(300) & ~_vector(3), False, "inconclusive"),  # 3 lost: p = 0.25
])
def test_change_verdict(after, gain_claimed, verdict):
    change = bc.paired_change(_vector(300), after, n_resamples=200)
    assert bc.change_verdict(change, gain_claimed) == verdict


def test_compared_glimpses():
    assert bc.compared_glimpses(7, range(1, 25)) == 14
    assert bc.compared_glimpses(12, range(1, 25)) == 24
    assert bc.compared_glimpses(12, [1, 12, 16, 20]) == 20  # 2T not swept: the largest above
    assert bc.compared_glimpses(12, [1, 12]) is None


def _claims(ram_after: np.ndarray, mram_after: np.ndarray, **kw) -> pd.DataFrame:
    ram = _curve("RAM-3", _vector(300), ram_after, **kw)
    mram = _curve("MRAM-3", _vector(300, start=50), mram_after)
    return bc.budget_claims(_sweep(mram, ram)).set_index("key")


def test_claims_reproduced_when_ram_loses_and_mram_gains():
    claims = _claims(_vector(300) & ~_vector(40), _vector(340, start=50))
    assert claims["verdict"].to_dict() == {"ram_peaks": "reproduced",
                                           "mram_sustains": "reproduced",
                                           "mram_more_robust": "reproduced"}
    assert (claims["trained_glimpses"] == 3).all() and (claims["compared_glimpses"] == 6).all()
    assert "RAM-3 75.00 % at T = 3, 65.00 % at T = 6: -10.00 pts" in \
        claims.loc["ram_peaks", "measured"]
    assert "MRAM - RAM +20.00 pts" in claims.loc["mram_more_robust", "measured"]
    for key, words in (("ram_peaks", "McNemar"), ("mram_sustains", "no margin"),
                       ("mram_more_robust", "bootstrap over test images")):
        assert words in claims.loc[key, "criterion"]
    assert (claims["provisional"] == "").all() and (claims["images"] == N).all()


def test_claims_not_reproduced_when_ram_gains_and_mram_loses():
    claims = _claims(_vector(340), _vector(300, start=50) & ~_vector(40, start=50))
    assert set(claims["verdict"]) == {"not reproduced"}


def test_claims_inconclusive_on_small_changes():
    # RAM loses 2 images, MRAM loses 1 (and gains 1): nothing is significant.
    mram_after = _vector(300, start=50)
    mram_after[[50, 0]] = [False, True]
    claims = _claims(_vector(300) & ~_vector(2), mram_after)
    assert set(claims["verdict"]) == {"inconclusive"}


def test_difference_of_changes_against_a_loop():
    rng = np.random.default_rng(5)
    vectors = [rng.random(N) < p for p in (0.8, 0.7, 0.75, 0.9)]
    sweep = _sweep(_curve("MRAM-3", *vectors[:2]), _curve("RAM-3", *vectors[2:]))
    measured = bc.budget_claims(sweep).set_index("key").loc["mram_more_robust", "measured"]
    m0, m1, r0, r1 = (v.tolist() for v in vectors)
    total = sum((float(b) - float(a)) - (float(d) - float(c))
                for a, b, c, d in zip(m0, m1, r0, r1, strict=True))
    assert f"MRAM - RAM {100 * total / N:+.2f} pts" in measured


def test_claims_that_cannot_be_assessed():
    ram = _curve("RAM-3", _vector(300), _vector(290))
    claims = bc.budget_claims(_sweep(ram)).set_index("key")
    assert claims.loc["ram_peaks", "verdict"] == "reproduced"  # 10 lost, none gained: p = 0.002
    for key in ("mram_sustains", "mram_more_robust"):
        assert claims.loc[key, "verdict"] == "cannot assess: no MRAM trained with T = 3"
    only_t = bc.Sweep([3], [bc.Curve("RAM-3", 3, _vector(300)[None], "synthetic")])
    verdict = bc.budget_claims(only_t).set_index("key").loc["ram_peaks", "verdict"]
    assert verdict == "cannot assess: T = 3 and a larger T not both swept"


def test_claims_name_unfinished_runs():
    claims = _claims(_vector(300), _vector(300, start=50), finished=False)
    expected = "RAM-3 (still training: epoch 9 of 300 (best 9); weights of epoch 9)"
    assert claims["provisional"].to_dict() == {"ram_peaks": expected, "mram_sustains": "",
                                               "mram_more_robust": expected}


def test_models_on_other_images_are_refused():
    ram = _curve("RAM-3", _vector(300), _vector(300))
    mram = bc.Curve("MRAM-3", 3, np.ones((2, N - 1), bool), "synthetic")
    with pytest.raises(ValueError, match="different test images"):
        bc.budget_claims(_sweep(mram, ram))


def test_markdown_prints_the_criterion_beside_each_verdict():
    sweep = _sweep(_curve("MRAM-3", _vector(300), _vector(320)),
                   _curve("RAM-3", _vector(300), _vector(280), finished=False))
    claims, changes = bc.budget_claims(sweep), bc.changes_table(sweep)
    md = bc.budget_markdown(sweep, changes, claims, "python analysis/glimpse_budget.py --x")
    assert "Made by `python analysis/glimpse_budget.py --x` on the first 400 test images" in md
    assert "glimpses 3 and 6 at test time" in md
    assert "**Provisional**: rows of runs that have not finished: RAM-3 (still training" in md
    for row in claims.itertuples():
        assert f"| {row.criterion} | {row.measured} | {row.verdict} |" in md
    assert changes["model"].tolist() == ["MRAM-3", "RAM-3"]
    assert changes["provisional"].tolist() == [False, True]
    assert changes.loc[1, "change_pts"] == pytest.approx(-5.0)
    assert changes.loc[1, ["gained", "lost"]].tolist() == [0, 20]
