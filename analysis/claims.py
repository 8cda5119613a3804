"""The paper's gaze claims: for each, its statistic, its verdict rule and its wording, in one place.

The claims (Sec. 5 of the paper, Figs. 2-3) compare the gaze of RAM, DRAM and MRAM at one
glimpse count. Each is measured on the scanpaths of the same test images, segmented with the
paper's rule (a fixation continues while consecutive glimpses stay within
:data:`THRESHOLD_PX`). Units: fixation durations in **glimpse steps**, saccade distances in
**pixels**, the fixational share a fraction of glimpse-to-glimpse transitions.

Statistics and uncertainty
--------------------------
Every statistic is a ratio of sums over scanpaths, with a percentile interval of a paired
cluster bootstrap over test images (:mod:`analysis.paired_bootstrap`, whose names this module
re-exports for its callers): glimpses of one scanpath are never resampled apart, and one set
of resampling weights serves every model, so differences are paired by image.

Verdict rules (printed with every verdict, :data:`CRITERIA`)
------------------------------------------------------------
- A bound claim ("DRAM is mostly fixational": share > 0.5) is ``reproduced`` when the whole
  interval lies on the claimed side of the bound, ``not reproduced`` when it lies on the other
  side, and ``inconclusive`` when it contains the bound.
- An ordering claim ("MRAM between RAM and DRAM") is judged on the intervals of the paired
  differences: ``reproduced`` when every difference excludes 0 in the claimed direction,
  ``not reproduced`` when any excludes 0 in the other direction, ``inconclusive`` otherwise.
- A resample in which a statistic is undefined (e.g. no saccade among the drawn images) is left
  out of the interval and counted; above :data:`MAX_UNDEFINED_SHARE` of the resamples there is
  no interval and the verdict is ``cannot assess``.
- The accuracy claim (:func:`accuracy_claims`) is judged per glimpse count by McNemar's exact
  test (:func:`mcnemar_verdict`), beside a paired bootstrap interval of the accuracy difference.

>>> [claim.key for claim in CLAIMS]  # doctest: +NORMALIZE_WHITESPACE
['ram_saccadic', 'dram_fixational', 'mram_above_ram', 'mram_between',
 'mram_longer_saccades']
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from analysis.experiments import roles_by_glimpses
from analysis.paired_bootstrap import (
    CONFIDENCE,
    MAX_UNDEFINED_SHARE,
    N_RESAMPLES,
    SEED,
    STATISTICS,
    Estimate,
    PairedBootstrap,
    image_weights,
    percentile_interval,
    scanpath_sums,
)
from gazekit.report import markdown_table
from gazekit.segment import Segmentation
from gazekit.stats import bootstrap_ci, weighted_statistic

__all__ = [  # with the bootstrap names of analysis.paired_bootstrap, for the callers
    "CLAIMS",
    "CONFIDENCE",
    "CRITERIA",
    "MAX_UNDEFINED_SHARE",
    "MCNEMAR_NOTE",
    "MIN_SHAPE_SCANPATHS",
    "N_RESAMPLES",
    "SEED",
    "STATISTICS",
    "THRESHOLD_PX",
    "Estimate",
    "PairedBootstrap",
    "accuracy_claims",
    "accuracy_criterion",
    "claims_by_glimpses",
    "claims_markdown",
    "criteria",
    "human_shape_claim",
    "image_correct",
    "image_weights",
    "mcnemar_verdict",
    "measure_claims",
    "percentile_interval",
    "saccadic_share_bound",
    "scanpath_sums",
    "seed_verdict",
]

THRESHOLD_PX = 6.0  # the paper's fixation threshold between consecutive glimpses
SACCADIC_MAX_FIXATION_STEPS = 1.5  # "mostly saccadic": mean fixation lasts < 1.5 glimpses
FIXATIONAL_MIN_SHARE = 0.5  # "mostly fixational": most glimpse-to-glimpse steps stay < 6 px
#: Fewer scanpaths (recordings) than this give no shape interval: a cluster bootstrap over
#: K clusters has only C(2K - 1, K) distinct resamples (3 for K = 2).
MIN_SHAPE_SCANPATHS = 10
ALPHA = 0.05  # McNemar's significance level for the accuracy claim


def criteria(n_resamples: int = N_RESAMPLES, confidence: float = CONFIDENCE) -> str:
    """How every verdict is reached, in words (printed beside the verdicts)."""
    return (
        f"{confidence:.0%} percentile intervals of a paired cluster bootstrap over test images "
        f"({n_resamples} resamples; glimpses of one scanpath are never resampled apart). A "
        "bound claim is reproduced when its interval lies wholly on the claimed side of the "
        "bound, not reproduced when wholly on the other side, inconclusive when it contains the "
        "bound. An ordering claim is reproduced when every paired difference's interval "
        "excludes 0 in the claimed direction, not reproduced when one excludes 0 the other way, "
        "else inconclusive. Resamples in which a statistic is undefined (e.g. no saccade among "
        "the drawn images) are left out and counted; above "
        f"{MAX_UNDEFINED_SHARE:.0%} of them there is no interval (cannot assess).")


#: :func:`criteria` at the default settings.
CRITERIA = criteria()

MCNEMAR_NOTE = (
    "McNemar's exact test on one pair of trained networks measures test-set noise only: it "
    "says whether these two networks differ on these test images, not whether the "
    "architectures do; the spread over training seeds is the uncertainty that answers that.")

def bound_verdict(estimate: Estimate, bound: float, above: bool) -> str:
    """Verdict on "``estimate`` > ``bound``" (``above``) or "< ``bound``" (see the module)."""
    if not np.isfinite(estimate.value):
        return f"cannot assess: {estimate.reason}"
    if estimate.undefined_share > MAX_UNDEFINED_SHARE:
        return (f"cannot assess: {estimate.undefined_share:.1%} of resamples with "
                f"{estimate.reason} (more than {MAX_UNDEFINED_SHARE:.0%})")
    if not np.isfinite([estimate.low, estimate.high]).all():
        return "cannot assess: no interval"
    if estimate.low > bound if above else estimate.high < bound:
        return "reproduced"
    if estimate.high < bound if above else estimate.low > bound:
        return "not reproduced"
    return "inconclusive"


def all_verdict(verdicts: Sequence[str]) -> str:
    """Verdict on a conjunction of parts: reproduced if all are, not if any is not."""
    if any(v.startswith("cannot") for v in verdicts):
        return next(v for v in verdicts if v.startswith("cannot"))
    if all(v == "reproduced" for v in verdicts):
        return "reproduced"
    return "not reproduced" if "not reproduced" in verdicts else "inconclusive"


@dataclass(frozen=True)
class Claim:
    """One of the paper's gaze claims: its wording, our criterion, the roles it needs and the
    function that measures it (``measure(boot, labels) -> (measured text, verdict)``);
    ``at_glimpses(T)``, if given, adds what the criterion means at ``T`` glimpses per scanpath
    of its first role."""

    key: str
    claim: str
    criterion: str
    roles: tuple[str, ...]
    measure: Callable[[PairedBootstrap, dict[str, str]], tuple[str, str]]
    at_glimpses: Callable[[int], str] | None = None


def saccadic_share_bound(glimpses: int) -> float:
    """The fixational share below which the mean fixation is < :data:`SACCADIC_MAX_FIXATION_STEPS`
    glimpses, at ``glimpses`` (T) per scanpath.

    With T glimpses per scanpath, ``T - 1`` transitions of which a share ``s`` stay within the
    threshold, a scanpath has ``1 + (1 - s)(T - 1)`` fixations over T steps, so the mean
    fixation is exactly ``T / (1 + (1 - s)(T - 1))`` (pooled over scanpaths, and in every
    resample, as long as all have T glimpses); it is < m iff ``s < 1 - (T / m - 1) / (T - 1)``.

    >>> round(saccadic_share_bound(7), 3), round(saccadic_share_bound(12), 3)
    (0.389, 0.364)
    """
    return 1 - (glimpses / SACCADIC_MAX_FIXATION_STEPS - 1) / (glimpses - 1)


def _saccadic_at(glimpses: int) -> str:
    bound = saccadic_share_bound(glimpses)
    decides = (f"; the share bound < {FIXATIONAL_MIN_SHARE} never decides"
               if bound <= FIXATIONAL_MIN_SHARE else "")
    return (f"(at T = {glimpses} glimpses per scanpath the mean fixation is exactly "
            f"T / (1 + (1 - share)(T - 1)), so the fixation bound is equivalent to fixational "
            f"share < {bound:.3f}{decides})")


def _ram_saccadic(boot: PairedBootstrap, labels: dict[str, str]) -> tuple[str, str]:
    fixation = boot.estimate(labels["ram"], "fixation_steps_mean")
    share = boot.estimate(labels["ram"], "fixational_share")
    verdict = all_verdict([bound_verdict(fixation, SACCADIC_MAX_FIXATION_STEPS, above=False),
                           bound_verdict(share, FIXATIONAL_MIN_SHARE, above=False)])
    return (f"{labels['ram']} mean fixation {fixation.text(2, ' glimpses')}; fixational share "
            f"{share.text()}", verdict)


def _dram_fixational(boot: PairedBootstrap, labels: dict[str, str]) -> tuple[str, str]:
    share = boot.estimate(labels["dram"], "fixational_share")
    fixation = boot.estimate(labels["dram"], "fixation_steps_mean")
    return (f"{labels['dram']} fixational share {share.text()}; mean fixation "
            f"{fixation.text(2, ' glimpses')}",
            bound_verdict(share, FIXATIONAL_MIN_SHARE, above=True))


def _estimates(boot: PairedBootstrap, labels: dict[str, str], roles: tuple[str, ...],
               statistic: str, digits: int = 3, unit: str = "") -> str:
    """Each role's estimate of ``statistic`` with its interval, joined by ``"; "``."""
    return "; ".join(f"{labels[r]} {boot.estimate(labels[r], statistic).text(digits, unit)}"
                     for r in roles)


def _above(boot: PairedBootstrap, labels: dict[str, str], roles: tuple[str, str],
           higher: str, lower: str, statistic: str, name: str, digits: int = 3,
           unit: str = "") -> tuple[str, str]:
    """The claim ``higher - lower > 0`` on ``statistic``: the estimates of ``roles`` (in
    that order), the paired difference and its verdict."""
    difference = boot.difference(labels[higher], labels[lower], statistic)
    return (f"{name} {_estimates(boot, labels, roles, statistic, digits, unit)}; "
            f"{higher.upper()} - {lower.upper()} {difference.text(digits, unit, signed=True)}",
            bound_verdict(difference, 0.0, above=True))


def _mram_between(boot: PairedBootstrap, labels: dict[str, str]) -> tuple[str, str]:
    shares = _estimates(boot, labels, ("ram", "mram", "dram"), "fixational_share")
    above_ram = boot.difference(labels["mram"], labels["ram"], "fixational_share")
    below_dram = boot.difference(labels["dram"], labels["mram"], "fixational_share")
    verdict = all_verdict([bound_verdict(d, 0.0, above=True) for d in (above_ram, below_dram)])
    return (f"fixational share {shares}; MRAM - RAM {above_ram.text(signed=True)}, "
            f"DRAM - MRAM {below_dram.text(signed=True)}", verdict)


def _mram_above_ram(boot: PairedBootstrap, labels: dict[str, str]) -> tuple[str, str]:
    return _above(boot, labels, ("ram", "mram"), "mram", "ram", "fixational_share",
                  "fixational share")


def _mram_longer_saccades(boot: PairedBootstrap, labels: dict[str, str]) -> tuple[str, str]:
    return _above(boot, labels, ("mram", "dram"), "mram", "dram", "saccade_px_mean",
                  "mean saccade", 2, " px")


CLAIMS: tuple[Claim, ...] = (
    Claim("ram_saccadic", "RAM is mostly saccadic (fixations last about one glimpse)",
          f"RAM mean fixation < {SACCADIC_MAX_FIXATION_STEPS} glimpses and fixational share "
          f"< {FIXATIONAL_MIN_SHARE}", ("ram",), _ram_saccadic, _saccadic_at),
    Claim("dram_fixational", "DRAM is mostly fixational",
          f"DRAM fixational share > {FIXATIONAL_MIN_SHARE}", ("dram",), _dram_fixational),
    # The half of "MRAM mixes" that needs no DRAM (e.g. the RAM-7 + MRAM-7 knob grid).
    Claim("mram_above_ram", "MRAM is more fixational than RAM",
          "fixational share MRAM - RAM > 0 (paired difference)", ("ram", "mram"),
          _mram_above_ram),
    Claim("mram_between", "MRAM mixes fixations and saccades",
          "fixational share RAM < MRAM < DRAM (paired differences MRAM - RAM > 0 and "
          "DRAM - MRAM > 0)", ("ram", "mram", "dram"), _mram_between),
    Claim("mram_longer_saccades", "MRAM's saccades are longer than DRAM's",
          "mean saccade distance MRAM - DRAM > 0 px (paired difference)", ("mram", "dram"),
          _mram_longer_saccades),
)


def measure_claims(fixations: pd.DataFrame, saccades: pd.DataFrame, labels: dict[str, str], *,
                   group_by: str = "model", n_resamples: int = N_RESAMPLES,
                   confidence: float = CONFIDENCE, seed: int = SEED) -> pd.DataFrame:
    """The paper's gaze claims (:data:`CLAIMS`) measured on segmented scanpaths.

    Parameters
    ----------
    fixations, saccades : pandas.DataFrame
        :func:`gazekit.segment.segment` tables of the models' scanpaths (at
        :data:`THRESHOLD_PX`, consecutive rule), with ``group_by`` and ``image_id``.
    labels : dict
        Group label of each role at one glimpse count, e.g. ``{"ram": "RAM-7", "dram":
        "DRAM-7", "mram": "MRAM-7"}``; a claim whose roles are missing is "cannot assess".
    group_by : str, default "model"
    n_resamples, confidence, seed
        Bootstrap settings (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        One row per claim: ``key``, ``claim``, ``criterion`` (our reading of the paper's
        words), ``measured`` (estimates with intervals), ``verdict`` (``reproduced``, ``not
        reproduced``, ``inconclusive`` or ``cannot assess: ...``), ``images`` and ``method``
        (how intervals and verdicts are made, :func:`criteria`).
    """
    sums = scanpath_sums(fixations, saccades, group_by)
    boot = PairedBootstrap(sums, n_resamples=n_resamples, confidence=confidence, seed=seed)
    rows = []
    for claim in CLAIMS:
        absent = [labels.get(r, r.upper()) for r in claim.roles
                  if labels.get(r) not in boot.groups]
        measured, verdict = ("", f"cannot assess: no scanpaths of {', '.join(absent)}") \
            if absent else claim.measure(boot, labels)
        rows.append({"key": claim.key, "claim": claim.claim,
                     "criterion": _criterion(claim, boot, labels, absent),
                     "measured": measured, "verdict": verdict, "images": boot.images.size,
                     "method": criteria(n_resamples, confidence)})
    return pd.DataFrame(rows)


def _criterion(claim: Claim, boot: PairedBootstrap, labels: dict[str, str],
               absent: list[str]) -> str:
    """The claim's criterion, with what it means at the glimpses per scanpath of its first
    role's group (where the claim has such a note and all scanpaths have equal length)."""
    if claim.at_glimpses is None or absent:
        return claim.criterion
    glimpses = boot.glimpses(labels[claim.roles[0]])
    if not (glimpses > 1 and float(glimpses).is_integer()):
        return claim.criterion
    return f"{claim.criterion} {claim.at_glimpses(int(glimpses))}"


def claims_by_glimpses(seg: Segmentation, labels_by_glimpses: dict[int, dict[str, str]],
                       **kw) -> pd.DataFrame:
    """:func:`measure_claims` at each glimpse count ``T`` (the paper does not say which ``T``
    its Figs. 2-3 use), from one segmentation of all models' scanpaths.

    ``labels_by_glimpses`` maps ``T`` to the role labels of the models with ``T`` glimpses
    (:func:`analysis.experiments.roles_by_glimpses`); ``kw`` goes to :func:`measure_claims`.
    The result has a ``glimpses`` column, the rows of each ``T`` in turn.
    """
    return pd.concat([measure_claims(seg.fixations, seg.saccades, labels, **kw).assign(
        glimpses=t) for t, labels in sorted(labels_by_glimpses.items())], ignore_index=True)


def accuracy_criterion(n_resamples: int = N_RESAMPLES, confidence: float = CONFIDENCE) -> str:
    """How the accuracy claim's verdict is reached, in words (the ``criterion`` column)."""
    return (f"exact two-sided McNemar test on paired test-set predictions at one glimpse count: "
            f"reproduced when MRAM is more accurate with p < {ALPHA:g}, not reproduced when the "
            f"rival is more accurate with p < {ALPHA:g}, else inconclusive; interval: "
            f"{confidence:.0%} percentile interval of the accuracy difference MRAM - rival "
            f"(percentage points) from a bootstrap over test images ({n_resamples} resamples)")


def mcnemar_verdict(mram_only: int, rival_only: int, alpha: float = ALPHA
                    ) -> tuple[float, str]:
    """McNemar's exact two-sided p and the accuracy claim's verdict (:func:`accuracy_criterion`).

    Parameters
    ----------
    mram_only, rival_only : int
        Test images that only MRAM, or only its rival, classifies correctly.
    alpha : float, default 0.05

    Returns
    -------
    (float, str)
        The binomial test of ``mram_only`` out of the discordant images at 1/2 (1 without
        any), and ``reproduced``, ``not reproduced`` or ``inconclusive``.

    >>> mcnemar_verdict(30, 5)[1], mcnemar_verdict(6, 4)[1], mcnemar_verdict(5, 30)[1]
    ('reproduced', 'inconclusive', 'not reproduced')
    """
    discordant = mram_only + rival_only
    p = float(binomtest(mram_only, discordant, 0.5).pvalue) if discordant else 1.0
    if p < alpha:
        return p, "reproduced" if mram_only > rival_only else "not reproduced"
    return p, "inconclusive"


def image_correct(export: str | os.PathLike) -> pd.Series:
    """Whether a scanpath export's model classified each test image correctly (bool, indexed
    by sorted ``image_id``; :func:`zoo.export.export_scanpaths`' ``correct`` column)."""
    df = pd.read_parquet(export, columns=["image_id", "correct"])
    return df.groupby("image_id", sort=True)["correct"].first().astype(bool)


def accuracy_claims(exports: dict[str, Path], *, n_resamples: int = N_RESAMPLES,
                    confidence: float = CONFIDENCE, seed: int = SEED) -> pd.DataFrame:
    """The paper's claim that MRAM outperforms the CNN, RAM and DRAM, on paired predictions,
    at each glimpse count ``T`` (never comparing models of different ``T``).

    Parameters
    ----------
    exports : dict
        Model label -> policy-mean export (:func:`zoo.export.export_scanpaths`, with
        ``image_id`` and ``correct``) of the same test images. The MRAM, DRAM and RAM of each
        ``T`` (:func:`analysis.experiments.roles_by_glimpses`) and ``"CNN"`` are used.
    n_resamples, confidence, seed
        Bootstrap settings; the resampling weights are those of :class:`PairedBootstrap`
        (:func:`image_weights`).

    Returns
    -------
    pandas.DataFrame
        One row per ``T`` with an MRAM and rival of MRAM: ``glimpses``, ``mram``, ``rival``
        (labels), ``images``, ``mram_acc_pct``, ``rival_acc_pct``, ``mram_only`` and
        ``rival_only`` (images only that model classifies correctly), ``p_value`` (exact
        two-sided McNemar test), ``difference_pct`` (accuracy MRAM - rival, percentage points)
        with ``difference_ci_low``/``_high``, ``criterion`` (:func:`accuracy_criterion`) and
        ``verdict`` (:func:`mcnemar_verdict`). Empty without an MRAM export.

    Notes
    -----
    McNemar's test on one pair of trained networks measures test-set noise only: it says
    whether *these two networks* differ on this test set, not whether the architectures do
    (another seed gives other networks; see the seed experiment, :data:`MCNEMAR_NOTE`).
    """
    criterion = accuracy_criterion(n_resamples, confidence)
    rows = []
    for t, roles in roles_by_glimpses(exports).items():
        if "mram" not in roles:
            continue
        mram = image_correct(exports[roles["mram"]])
        weights = image_weights(len(mram), n_resamples, seed)
        for rival in [roles.get("dram"), roles.get("ram"), "CNN" if "CNN" in exports else None]:
            if rival is None:
                continue
            other = image_correct(exports[rival])
            if not mram.index.equals(other.index):
                raise ValueError(f"{exports[rival]}: not the test images of "
                                 f"{exports[roles['mram']]}")
            only_mram, only_rival = int((mram & ~other).sum()), int((other & ~mram).sum())
            p, verdict = mcnemar_verdict(only_mram, only_rival)
            gain = mram.to_numpy(np.int64) - other.to_numpy(np.int64)  # per image: -1, 0, 1
            difference = percentile_interval(100 * gain.mean(),
                                             100 * (weights @ gain) / gain.size, confidence)
            rows.append({
                "glimpses": t, "mram": roles["mram"], "rival": rival, "images": len(mram),
                "mram_acc_pct": 100 * mram.mean(), "rival_acc_pct": 100 * other.mean(),
                "mram_only": only_mram, "rival_only": only_rival, "p_value": p,
                "difference_pct": difference.value, "difference_ci_low": difference.low,
                "difference_ci_high": difference.high, "criterion": criterion,
                "verdict": verdict})
    return pd.DataFrame(rows)


HUMAN_CLAIM = "MRAM's gaze is the most human-like of RAM, DRAM and MRAM"
#: Why the earlier human-likeness verdict is withdrawn.
HUMAN_WITHDRAWN = (
    "withdrawn: it rested on KS distances in median-relative units, where every model whose "
    "median fixation is 1 glimpse gets the same value whatever its shape, and the saccade "
    "distances all start at the 6 px floor; no verdict is drawn from the shape comparison "
    "below, whose criterion the paper does not give")


def human_shape_claim(analysis_dir: str | Path, labels_by_glimpses: dict[int, dict[str, str]],
                      human_label: str, *, n_resamples: int = N_RESAMPLES,
                      seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scale-free shapes of each group's fixation durations and saccade distances, beside the
    human ones, and the withdrawn human-likeness claim.

    Model fixations last whole glimpse steps and human ones milliseconds, and no mapping
    between the two is given by the paper; the coefficient of variation and the skewness do
    not depend on that mapping (nor on pixels vs degrees), and change whenever the shape of a
    distribution does. Intervals resample scanpaths (:func:`gazekit.stats.bootstrap_ci`),
    and only where there are at least :data:`MIN_SHAPE_SCANPATHS` of them (the human excerpt
    has 2 recordings: a bootstrap over 2 clusters has 3 distinct resamples).

    Parameters
    ----------
    analysis_dir : path-like
        A :func:`gazekit.analyze` output with the models and the human group
        (``fixations.parquet``, ``saccades.parquet``; group column ``model``).
    labels_by_glimpses, human_label
        Role labels per ``T`` and the human group's label.

    Returns
    -------
    shape : pandas.DataFrame
        One row per group and quantity (``fixation_duration`` in steps or ms,
        ``saccade_distance`` in px): ``group``, ``quantity``, ``n`` (values),
        ``n_scanpaths`` (clusters), ``note`` (why there is no interval, else empty), ``cv``
        and ``skewness``, each with ``_ci_low``/``_ci_high`` (NaN below
        :data:`MIN_SHAPE_SCANPATHS` scanpaths), and ``cv_gap``/``skewness_gap``, the absolute
        difference from the human value.
    claims : pandas.DataFrame
        One row per ``T`` for :data:`HUMAN_CLAIM`: the gaps of MRAM, DRAM and RAM in
        ``measured``, verdict :data:`HUMAN_WITHDRAWN`.
    """
    folder = Path(analysis_dir)
    fixations = pd.read_parquet(folder / "fixations.parquet")
    saccades = pd.read_parquet(folder / "saccades.parquet")
    rows = []
    for group, fix in fixations.groupby(fixations["model"].astype(str), sort=False):
        ms = fix["duration_ms"].to_numpy(np.float64) if "duration_ms" in fix else None
        timed = ms is not None and np.isfinite(ms).any()
        durations = ms[np.isfinite(ms)] if timed else fix["n_glimpses"].to_numpy(np.float64)
        duration_scanpaths = fix["_scanpath"].to_numpy()[np.isfinite(ms)] if timed \
            else fix["_scanpath"].to_numpy()
        sac = saccades[saccades["model"].astype(str) == group]
        for quantity, values, clusters in (
                ("fixation_duration", durations, duration_scanpaths),
                ("saccade_distance", sac["distance_px"].to_numpy(np.float64),
                 sac["_scanpath"].to_numpy())):
            scanpaths = np.unique(clusters).size
            row = {"group": group, "quantity": quantity, "n": values.size,
                   "n_scanpaths": scanpaths, "note": _shape_note(scanpaths)}
            for statistic in ("cv", "skewness"):
                interval = bootstrap_ci((values,), statistic, clusters=(clusters,),
                                        n_resamples=n_resamples, seed=seed) \
                    if values.size > 2 and not row["note"] else (np.nan, np.nan)
                row[statistic] = _shape(values, statistic)
                row[f"{statistic}_ci_low"], row[f"{statistic}_ci_high"] = interval
            rows.append(row)
    shape = pd.DataFrame(rows)
    human = shape[shape["group"] == human_label].set_index("quantity")
    for statistic in ("cv", "skewness"):
        shape[f"{statistic}_gap"] = (shape[statistic]
                                     - shape["quantity"].map(human[statistic])).abs()
    indexed = shape.set_index(["group", "quantity"])
    claims = []
    for t, labels in sorted(labels_by_glimpses.items()):
        measured = []
        for role in ("mram", "dram", "ram"):
            label = labels.get(role)
            if label is None or (label, "fixation_duration") not in indexed.index:
                continue
            gaps = [f"{q.split('_')[0]} CV gap {indexed.loc[(label, q), 'cv_gap']:.3f}"
                    for q in ("fixation_duration", "saccade_distance")
                    if (label, q) in indexed.index]
            measured.append(f"{label}: " + ", ".join(gaps))
        claims.append({"key": "mram_human_like", "claim": HUMAN_CLAIM,
                       "criterion": "none (the earlier KS criterion is withdrawn)",
                       "measured": "; ".join(measured), "verdict": HUMAN_WITHDRAWN,
                       "glimpses": t})
    return shape, pd.DataFrame(claims)


def _shape_note(scanpaths: int) -> str:
    """Why a shape statistic has no interval ("" when it has one): fewer scanpaths than
    :data:`MIN_SHAPE_SCANPATHS`."""
    if scanpaths >= MIN_SHAPE_SCANPATHS:
        return ""
    return (f"no interval: {scanpaths} scanpath(s), fewer than {MIN_SHAPE_SCANPATHS} (a "
            "bootstrap over so few clusters has too few distinct resamples)")


def _shape(values: np.ndarray, statistic: str) -> float:
    """CV (sd / mean) or moment skewness of ``values`` (population moments), by the same
    :func:`gazekit.stats.weighted_statistic` that resamples them (each value drawn once);
    NaN for fewer than 3 values or no spread."""
    if values.size < 3:
        return np.nan
    return float(weighted_statistic(values, np.arange(values.size), np.ones((1, values.size)),
                                    statistic)[0])


def claims_markdown(claims: pd.DataFrame) -> list[str]:
    """The claims as Markdown: the criterion of the verdicts first, then one table per glimpse
    count (and policy, where the table has one) with claim, criterion, measured and verdict."""
    method = claims["method"].dropna() if "method" in claims.columns else pd.Series([], dtype=str)
    lines = [f"Verdicts: {method.iloc[0] if len(method) else CRITERIA}", ""]
    keys = [c for c in ("policy", "glimpses") if c in claims.columns]
    for key, rows in (claims.groupby(keys, sort=False) if keys else [((), claims)]):
        key = key if isinstance(key, tuple) else (key,)
        title = ", ".join(f"{k} {v}" for k, v in zip(keys, key, strict=True))
        images = pd.to_numeric(rows["images"], errors="coerce").dropna()
        if title:
            lines += [f"**{title}**" + (f" ({images.iloc[0]:,.0f} test images)"
                                        if images.size else ""), ""]
        lines += [markdown_table(rows[["claim", "criterion", "measured", "verdict"]]), ""]
    return lines


def seed_verdict(verdicts: Sequence[str], expected: int) -> str:
    """A claim's verdict over seeds: it holds only if it holds for every seed.

    Parameters
    ----------
    verdicts : sequence of str
        The verdict of each seed that could be assessed (``reproduced``, ``not reproduced``,
        ``inconclusive`` or ``cannot assess: ...``; the last counts as inconclusive).
    expected : int
        Seeds of the experiment; with fewer verdicts than that, the verdict over the assessed
        seeds is prefixed ``only k of N seeds: `` (so it never reads as a plain verdict).

    Returns
    -------
    str
        ``cannot assess: no seed`` without verdicts; the common verdict when every seed gives
        the same one; ``mixed across seeds (a reproduced, b not reproduced, c inconclusive)``
        when some seeds reproduce the claim and some do not; ``inconclusive (a of k seeds
        reproduced, c inconclusive)`` when some reproduce it and none refutes it; ``not
        reproduced (b of k seeds, c inconclusive)`` when some refute it and none reproduces it.

    >>> seed_verdict(["reproduced"] * 3, 3), seed_verdict(["reproduced"], 3)
    ('reproduced', 'only 1 of 3 seeds: reproduced')
    >>> seed_verdict(["reproduced", "inconclusive", "not reproduced"], 3)
    'mixed across seeds (1 reproduced, 1 not reproduced, 1 inconclusive)'
    >>> seed_verdict(["not reproduced", "cannot assess: no interval", "not reproduced"], 3)
    'not reproduced (2 of 3 seeds, 1 inconclusive)'
    """
    if not verdicts:
        return "cannot assess: no seed"
    if len(verdicts) > expected:
        raise ValueError(f"{len(verdicts)} seed verdicts, more than the {expected} seeds")
    k = len(verdicts)
    yes, no = verdicts.count("reproduced"), verdicts.count("not reproduced")
    rest = k - yes - no  # inconclusive or cannot assess
    if len(set(verdicts)) == 1:
        verdict = verdicts[0]
    elif yes and no:
        verdict = (f"mixed across seeds ({yes} reproduced, {no} not reproduced, "
                   f"{rest} inconclusive)")
    elif no:
        verdict = f"not reproduced ({no} of {k} seeds, {rest} inconclusive)"
    else:  # some reproduced, or none decided (inconclusive and cannot assess)
        verdict = f"inconclusive ({yes} of {k} seeds reproduced, {rest} inconclusive)"
    return verdict if k == expected else f"only {k} of {expected} seeds: {verdict}"
