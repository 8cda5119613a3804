"""The paper's glimpse-budget claim: each model's paired accuracy change from its trained number
of glimpses ``T`` to more glimpses, the verdict rules, their criteria and their Markdown.

**The claim** (Sec. 4.3 of the paper, in our words; it shows no figure or number for it): RAM
reaches its best accuracy at some number of glimpses, beyond which more glimpses bring little
or even cost accuracy, so that it has to be stopped by hand; MRAM keeps or improves its
accuracy as the number of glimpses grows (the conclusion calls this its robustness to more
glimpses).

**Verdicts** (per trained ``T``, :func:`budget_claims`), from paired data: each model's
accuracy at its trained ``T`` against its accuracy at :func:`compared_glimpses` (``2T``, the
same relative extension for T = 7 and 12) on the same test images (:class:`Sweep`, made by
:func:`analysis.glimpse_budget.glimpse_budget`):

- "RAM peaks at its trained T": RAM at ``2T`` less accurate than at ``T``;
- "MRAM sustains or improves": MRAM at ``2T`` more accurate than at ``T``;
- "MRAM keeps its accuracy better than RAM": MRAM's change from ``T`` to ``2T`` minus RAM's
  > 0 pts.

The first two are judged by McNemar's exact two-sided test, as the accuracy claim is
(:func:`analysis.claims.mcnemar_verdict`: a binomial test of the images gained out of the
discordant ones, at 1/2; ``p <`` :data:`ALPHA`), the third by the
:data:`analysis.claims.CONFIDENCE` percentile interval of the per-image difference of
differences over a bootstrap of test images, on the image weights every interval of
:mod:`analysis.paired_bootstrap` uses (:func:`analysis.claims.image_weights`). As for every
ordering claim (:mod:`analysis.claims`): ``reproduced`` when the test or interval goes the
claimed way, ``not reproduced`` when it goes the other way, else ``inconclusive``.
"Sustains" alone (no significant change) stays inconclusive: a test of a difference cannot
show equal accuracy and the paper gives no margin. Accuracies are in %, changes in percentage
points (pts), glimpse counts in steps.

>>> import numpy as np
>>> before = np.r_[np.ones(60), np.zeros(40)].astype(bool)  # 60 % at T
>>> after = np.r_[np.ones(30), np.zeros(70)].astype(bool)   # 30 % at 2T: 30 images lost
>>> change = paired_change(before, after, n_resamples=200)
>>> change.lost, change.gained, round(change.change.value, 1)
(30, 0, -30.0)
>>> change_verdict(change, gain_claimed=False)  # "accuracy falls": a significant loss
'reproduced'
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.claims import (
    ALPHA,
    CONFIDENCE,
    MCNEMAR_NOTE,
    N_RESAMPLES,
    SEED,
    Estimate,
    bound_verdict,
    image_weights,
    mcnemar_verdict,
    percentile_interval,
)
from analysis.experiments import roles_by_glimpses
from gazekit.report import markdown_table

__all__ = ["ALPHA", "CLAIMS", "COMPARE_FACTOR", "Curve", "PairedChange", "Sweep",
           "budget_claims", "budget_markdown", "change_verdict", "changes_table",
           "compared_glimpses", "paired_change"]

COMPARE_FACTOR = 2  # compare the trained T with 2T

@dataclass(frozen=True)
class Curve:
    """One run's correctness on each test image at each glimpse count of a sweep.

    Attributes
    ----------
    label : str
        Display name (``MRAM-7``), unique in a sweep.
    trained : int
        Glimpses it was trained with (steps).
    correct : numpy.ndarray of bool, shape (budgets, images)
        Whether image ``j`` is classified correctly with ``budgets[i]`` glimpses.
    dataset : str
        Data set of the test images.
    checkpoint : str
        The weights used (a path or a ``pretrained:`` spec).
    epoch : int or None
        Epoch of those weights.
    state : str
        The run's state (:attr:`analysis.experiments.RunStatus.state`).
    finished : bool
        Whether the run's training ended; if not, its rows are provisional.
    """

    label: str
    trained: int
    correct: np.ndarray
    dataset: str
    checkpoint: str = ""
    epoch: int | None = None
    state: str = ""
    finished: bool = True

    @property
    def provisional(self) -> str:
        """``""`` for a finished run, else ``LABEL (state; weights of epoch E)``."""
        if self.finished:
            return ""
        return f"{self.label} ({self.state}; weights of epoch {self.epoch})"


@dataclass(frozen=True)
class Sweep:
    """Curves of several runs on the same test images at the glimpse counts ``budgets``
    (sorted, steps)."""

    budgets: list[int]
    curves: list[Curve]

    def curve(self, label: str) -> Curve:
        return next(c for c in self.curves if c.label == label)


def compared_glimpses(trained: int, budgets: Sequence[int]) -> int | None:
    """The glimpse count a model trained with ``trained`` is compared at: ``2 * trained`` if
    among ``budgets``, else the largest budget above ``trained``; None if there is none.

    >>> compared_glimpses(7, range(1, 25)), compared_glimpses(12, range(1, 20))
    (14, 19)
    """
    if COMPARE_FACTOR * trained in budgets:
        return COMPARE_FACTOR * trained
    return max((t for t in budgets if t > trained), default=None)


@dataclass(frozen=True)
class PairedChange:
    """Accuracy change of one model from one glimpse count to another on the same images.

    Attributes
    ----------
    gained, lost : int
        Images correct only after, only before.
    images : int
    before_pct, after_pct : float
        Accuracies (%).
    change : analysis.claims.Estimate
        ``after - before`` in percentage points with its bootstrap interval.
    p_value : float
        McNemar's exact two-sided test (1 without discordant images).
    """

    gained: int
    lost: int
    images: int
    before_pct: float
    after_pct: float
    change: Estimate
    p_value: float


def paired_change(before: np.ndarray, after: np.ndarray, *, weights: np.ndarray | None = None,
                  n_resamples: int = N_RESAMPLES, confidence: float = CONFIDENCE,
                  seed: int = SEED) -> PairedChange:
    """The paired change in accuracy between two correctness vectors of the same images.

    Parameters
    ----------
    before, after : numpy.ndarray of bool, shape (N,)
        Correctness of each image before and after (e.g. at ``T`` and ``2T`` glimpses).
    weights : numpy.ndarray of int, shape (n_resamples, N), optional
        Bootstrap draw counts of each image (default
        ``analysis.claims.image_weights(N, n_resamples, seed)``); pass one array to pair
        several changes by image.
    n_resamples, confidence, seed
        Bootstrap settings (defaults those of :mod:`analysis.claims`).

    Returns
    -------
    PairedChange
        McNemar's p as :func:`analysis.claims.mcnemar_verdict` gives it (the binomial test of
        ``gained`` out of ``gained + lost`` at 1/2); the percentile interval of the mean
        per-image difference (pts) over the resamples.

    >>> c = paired_change(np.array([1, 1, 0, 0], bool), np.array([1, 0, 0, 1], bool),
    ...                   n_resamples=100)
    >>> c.gained, c.lost, c.change.value, c.p_value
    (1, 1, 0.0, 1.0)
    """
    before, after = np.asarray(before, bool), np.asarray(after, bool)
    gained, lost = int((after & ~before).sum()), int((before & ~after).sum())
    p, _ = mcnemar_verdict(gained, lost)
    diff = after.astype(np.int64) - before  # per image: -1, 0 or 1
    return PairedChange(gained, lost, before.size, 100.0 * before.mean(), 100.0 * after.mean(),
                        _mean_interval(diff, weights, n_resamples, confidence, seed), p)


def _mean_interval(values: np.ndarray, weights: np.ndarray | None, n_resamples: int,
                   confidence: float, seed: int) -> Estimate:
    """``100 * mean(values)`` (pts) with its percentile interval over the image resamples
    ``weights`` (:func:`analysis.claims.image_weights` if None)."""
    if weights is None:
        weights = image_weights(values.size, n_resamples, seed)
    return percentile_interval(float(100.0 * values.mean()),
                               100.0 * (weights @ values) / values.size, confidence)


def change_verdict(change: PairedChange, gain_claimed: bool, alpha: float = ALPHA) -> str:
    """Verdict on "accuracy rises" (``gain_claimed``) or "accuracy falls": ``reproduced`` when
    McNemar's ``p < alpha`` and the change goes the claimed way, ``not reproduced`` when
    ``p < alpha`` the other way, else ``inconclusive`` (:func:`analysis.claims.mcnemar_verdict`
    with the claimed side first)."""
    claimed, other = (change.gained, change.lost) if gain_claimed else (change.lost,
                                                                        change.gained)
    return mcnemar_verdict(claimed, other, alpha)[1]


def _change_text(label: str, t: int, t2: int, change: PairedChange) -> str:
    return (f"{label} {change.before_pct:.2f} % at T = {t}, {change.after_pct:.2f} % at "
            f"T = {t2}: {change.change.text(2, ' pts', signed=True)}; {change.gained} images "
            f"gained, {change.lost} lost, McNemar p = {change.p_value:.2g}")


def changes_table(sweep: Sweep) -> pd.DataFrame:
    """Each model's paired change from its trained ``T`` to :func:`compared_glimpses`.

    Returns
    -------
    pandas.DataFrame
        One row per curve: ``model``, ``trained_glimpses``, ``compared_glimpses`` (steps),
        ``images``, ``accuracy_trained_pct``, ``accuracy_compared_pct`` (%), ``change_pts``
        with ``change_ci_low_pts``/``change_ci_high_pts`` (percentage points, 95% bootstrap),
        ``gained``, ``lost``, ``p_value`` (McNemar), ``peak_glimpses`` (the budget of highest
        accuracy, the first of equal ones; steps), ``peak_accuracy_pct``, ``epoch``,
        ``state``, ``provisional``. A model without a larger budget has NaN changes.
    """
    rows = []
    for c in sweep.curves:
        t2 = compared_glimpses(c.trained, sweep.budgets)
        accuracy = 100.0 * c.correct.mean(axis=1)
        row = {"model": c.label, "trained_glimpses": c.trained, "compared_glimpses": t2,
               "images": c.correct.shape[1]}
        if t2 is not None and c.trained in sweep.budgets:
            ch = paired_change(c.correct[sweep.budgets.index(c.trained)],
                               c.correct[sweep.budgets.index(t2)],
                               weights=_weights(c.correct.shape[1]))
            row |= {"accuracy_trained_pct": ch.before_pct, "accuracy_compared_pct": ch.after_pct,
                    "change_pts": ch.change.value, "change_ci_low_pts": ch.change.low,
                    "change_ci_high_pts": ch.change.high, "gained": ch.gained, "lost": ch.lost,
                    "p_value": ch.p_value}
        peak = int(np.argmax(accuracy))
        rows.append(row | {"peak_glimpses": sweep.budgets[peak],
                           "peak_accuracy_pct": accuracy[peak], "epoch": c.epoch,
                           "state": c.state, "provisional": not c.finished})
    return pd.DataFrame(rows)


def _criteria(t: int, t2: int, labels: dict[str, str], images: int) -> dict[str, str]:
    """The criterion of each claim at trained ``t`` compared at ``t2``, in words."""
    test = (f"exact two-sided McNemar test on the same {images:,} test images, p < {ALPHA}")
    return {
        "ram_peaks": (f"{labels.get('ram', 'RAM')} accuracy at T = {t2} minus at T = {t} < 0 "
                      f"pts ({test}): reproduced on a significant loss, not reproduced on a "
                      "significant gain, else inconclusive"),
        "mram_sustains": (
            f"{labels.get('mram', 'MRAM')} accuracy at T = {t2} minus at T = {t} >= 0 pts "
            f"({test}): reproduced on a significant gain, not reproduced on a significant "
            "loss; no significant change is inconclusive (a test of a difference cannot show "
            "equal accuracy, and the paper gives no margin)"),
        "mram_more_robust": (
            f"(MRAM at T = {t2} - at T = {t}) - (RAM at T = {t2} - at T = {t}) > 0 pts: the "
            f"{CONFIDENCE:.0%} percentile interval of a bootstrap over test images "
            f"({N_RESAMPLES} resamples, paired by image) excludes 0 above (reproduced) or "
            "below (not reproduced), else inconclusive"),
    }


CLAIMS = {
    "ram_peaks": "RAM peaks at its trained T: more glimpses bring no gain or cost accuracy",
    "mram_sustains": "MRAM sustains or improves its accuracy as the glimpses increase",
    "mram_more_robust": "MRAM keeps its accuracy with more glimpses better than RAM",
}
ROLES = {"ram_peaks": ("ram",), "mram_sustains": ("mram",), "mram_more_robust": ("mram", "ram")}


@functools.lru_cache(maxsize=1)
def _weights(images: int) -> np.ndarray:
    """:func:`analysis.claims.image_weights` of ``images`` test images, drawn once for both
    tables of a sweep (read-only), so that all their intervals resample the same images."""
    weights = image_weights(images, N_RESAMPLES, SEED)
    weights.flags.writeable = False
    return weights


def _measure(key: str, sweep: Sweep, labels: dict[str, str], t: int, t2: int,
             weights: np.ndarray) -> tuple[str, str]:
    """(measured text, verdict) of claim ``key`` (its roles present, ``t`` and ``t2`` swept),
    with the bootstrap draw counts ``weights`` of the test images."""
    at = {role: sweep.curve(label) for role, label in labels.items()}
    i, j = sweep.budgets.index(t), sweep.budgets.index(t2)
    if key in ("ram_peaks", "mram_sustains"):
        role = ROLES[key][0]
        change = paired_change(at[role].correct[i], at[role].correct[j], weights=weights)
        return (_change_text(labels[role], t, t2, change),
                change_verdict(change, gain_claimed=key == "mram_sustains"))
    mram, ram = (at[r].correct.astype(np.int64) for r in ("mram", "ram"))
    contrast = _mean_interval((mram[j] - mram[i]) - (ram[j] - ram[i]), weights, N_RESAMPLES,
                              CONFIDENCE, SEED)
    changes = "; ".join(
        f"{labels[r]} {100 * (at[r].correct[j].mean() - at[r].correct[i].mean()):+.2f} pts"
        for r in ("mram", "ram"))
    return (f"change from T = {t} to T = {t2}: {changes}; MRAM - RAM "
            f"{contrast.text(2, ' pts', signed=True)}", bound_verdict(contrast, 0.0, above=True))


def budget_claims(sweep: Sweep) -> pd.DataFrame:
    """The paper's glimpse-budget claims at each trained ``T`` (:data:`CLAIMS`).

    Returns
    -------
    pandas.DataFrame
        One row per (trained ``T``, claim): ``trained_glimpses``, ``compared_glimpses``
        (steps), ``key``, ``claim``, ``criterion``, ``measured``, ``verdict`` (``reproduced``,
        ``not reproduced``, ``inconclusive`` or ``cannot assess: ...``), ``images`` and
        ``provisional`` (the unfinished runs it uses, with their state and weights' epoch;
        ``""`` if none).

    Raises
    ------
    ValueError
        If the MRAM and RAM of one ``T`` were not swept on the same test images.
    """
    rows = []
    for t, labels in roles_by_glimpses(c.label for c in sweep.curves).items():
        t2 = compared_glimpses(t, sweep.budgets)
        images = sweep.curve(next(iter(labels.values()))).correct.shape[1]
        criteria = _criteria(t, t2 or COMPARE_FACTOR * t, labels, images)
        _check_paired(sweep, labels)
        for key, claim in CLAIMS.items():
            absent = [r.upper() for r in ROLES[key] if r not in labels]
            used = [sweep.curve(labels[r]) for r in ROLES[key] if r in labels]
            if absent:
                measured = ""
                verdict = f"cannot assess: no {' or '.join(absent)} trained with T = {t}"
            elif t2 is None or t not in sweep.budgets:
                measured, verdict = "", f"cannot assess: T = {t} and a larger T not both swept"
            else:
                measured, verdict = _measure(key, sweep, labels, t, t2, _weights(images))
            rows.append({"trained_glimpses": t, "compared_glimpses": t2, "key": key,
                         "claim": claim, "criterion": criteria[key], "measured": measured,
                         "verdict": verdict, "images": images,
                         "provisional": "; ".join(c.provisional for c in used if c.provisional)})
    return pd.DataFrame(rows)


def _check_paired(sweep: Sweep, labels: dict[str, str]) -> None:
    """``ValueError`` unless the curves of ``labels`` are on the same data set and images."""
    curves = [sweep.curve(label) for label in labels.values()]
    shapes = {(c.dataset, c.correct.shape[1]) for c in curves}
    if len(shapes) > 1:
        raise ValueError("models of one T were swept on different test images: " + ", ".join(
            f"{c.label} on {c.correct.shape[1]} images of {c.dataset}" for c in curves))


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------


def budget_markdown(sweep: Sweep, changes: pd.DataFrame, claims: pd.DataFrame,
                    command: str) -> str:
    """``OUT.md``: the command, the runs and their states, the claims with their criteria, and
    each model's paired change (pts)."""
    images = sweep.curves[0].correct.shape[1]
    provisional = [c.provisional for c in sweep.curves if c.provisional]
    lines = [
        f"# Accuracy against the glimpses taken at test time ({sweep.curves[0].dataset})", "",
        f"Made by `{command}` on the first {images:,} test images (policy mean), glimpses "
        f"{_listed(sweep.budgets)} at test time.", "",
        "The paper's claim (Sec. 4.3, our words): RAM reaches its best accuracy at some number "
        "of glimpses and gains nothing or loses accuracy beyond it, so it has to be stopped by "
        "hand; MRAM keeps or improves its accuracy as the glimpses increase. Each model is "
        f"judged on its trained T against {COMPARE_FACTOR}T, on the same test images.", "",
        MCNEMAR_NOTE, ""]
    if provisional:
        lines += ["**Provisional**: rows of runs that have not finished: "
                  + "; ".join(provisional) + ".", ""]
    lines += ["## Claims", ""]
    for t, rows in claims.groupby("trained_glimpses", sort=True):
        lines += [f"**Trained with T = {t} glimpses, compared at T = "
                  f"{rows['compared_glimpses'].iloc[0]}**", "",
                  markdown_table(rows[["claim", "criterion", "measured", "verdict",
                                       "provisional"]]), ""]
    shown_changes = changes.assign(
        change=[f"{v:+.2f} [{lo:+.2f}, {hi:+.2f}]" if np.isfinite(v) else ""
                for v, lo, hi in changes.reindex(columns=["change_pts", "change_ci_low_pts",
                                                          "change_ci_high_pts"]).to_numpy(float)])
    columns = {"model": "model", "state": "state", "epoch": "weights' epoch",
               "trained_glimpses": "trained T", "compared_glimpses": "compared T",
               "accuracy_trained_pct": "accuracy at trained T (%)",
               "accuracy_compared_pct": "accuracy at compared T (%)",
               "change": "change (pts, 95% CI)", "gained": "gained", "lost": "lost",
               "p_value": "McNemar p", "peak_glimpses": "peak T",
               "peak_accuracy_pct": "peak accuracy (%)"}
    shown_changes = shown_changes.reindex(columns=list(columns)).rename(columns=columns)
    lines += ["## Paired change per model (trained T to compared T)", "",
              markdown_table(shown_changes), "",
              "Glimpses T in steps; accuracy in %; changes in percentage points (pts). The "
              "curve of every model and T with Wilson intervals is in the CSV and figure.", ""]
    return "\n".join(lines)


def _listed(budgets: Sequence[int]) -> str:
    """``1-24`` for a run of consecutive glimpse counts, else ``3, 6 and 9``."""
    if len(budgets) > 2 and list(budgets) == list(range(budgets[0], budgets[-1] + 1)):
        return f"{budgets[0]}-{budgets[-1]}"
    words = [str(t) for t in budgets]
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else words[0]
