"""The paper's gaze claims: for each, its statistic, its verdict rule and its wording, in one place.

The claims (Sec. 5 of the paper, Figs. 2-3) compare the gaze of RAM, DRAM and MRAM at one
glimpse count. Each is measured on the scanpaths of the same test images, segmented with the
paper's rule (a fixation continues while consecutive glimpses stay within
:data:`THRESHOLD_PX`). Units: fixation durations in **glimpse steps**, saccade distances in
**pixels**, the fixational share a fraction of glimpse-to-glimpse transitions.

Statistics and uncertainty
--------------------------
Every statistic is a ratio of sums over scanpaths (:func:`scanpath_sums`): the fixational
share ``1 - saccades / transitions``, the mean fixation ``steps / fixations``, the mean saccade
``pixels / saccades``. Glimpses of one scanpath are dependent, so intervals resample **test
images** (clusters), never glimpses or saccades: a cluster bootstrap
(:func:`gazekit.stats.cluster_weights`). All models saw the same images, so one set of
resampling weights serves every model (:class:`PairedBootstrap`): a difference between two
models is paired by image, as the models are. Intervals are percentile intervals at
:data:`CONFIDENCE` from :data:`N_RESAMPLES` resamples, seeded.

Verdict rules (printed with every verdict, :data:`CRITERIA`)
------------------------------------------------------------
- A bound claim ("DRAM is mostly fixational": share > 0.5) is ``reproduced`` when the whole
  interval lies on the claimed side of the bound, ``not reproduced`` when it lies on the other
  side, and ``inconclusive`` when it contains the bound.
- An ordering claim ("MRAM between RAM and DRAM") is judged on the intervals of the paired
  differences: ``reproduced`` when every difference excludes 0 in the claimed direction,
  ``not reproduced`` when any excludes 0 in the other direction, ``inconclusive`` otherwise.

>>> import pandas as pd
>>> sums = pd.DataFrame({"group": ["A"] * 3, "image_id": [0, 1, 2], "fixations": [2, 3, 1],
...                      "fixation_steps": [6, 6, 6], "saccades": [1, 2, 0],
...                      "saccade_px": [7.0, 20.0, 0.0], "transitions": [5, 5, 5]})
>>> boot = PairedBootstrap(sums, n_resamples=200)
>>> round(boot.estimate("A", "fixational_share").value, 3)
0.8
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gazekit.segment import segment
from gazekit.stats import cluster_weights

__all__ = [
    "CONFIDENCE",
    "CRITERIA",
    "N_RESAMPLES",
    "STATISTICS",
    "THRESHOLD_PX",
    "Estimate",
    "PairedBootstrap",
    "measure_claims",
    "scanpath_sums",
    "seed_verdict",
]

THRESHOLD_PX = 6.0  # the paper's fixation threshold between consecutive glimpses
SACCADIC_MAX_FIXATION_STEPS = 1.5  # "mostly saccadic": mean fixation lasts < 1.5 glimpses
FIXATIONAL_MIN_SHARE = 0.5  # "mostly fixational": most glimpse-to-glimpse steps stay < 6 px
CONFIDENCE = 0.95
N_RESAMPLES = 2000
SEED = 0

#: How every verdict is reached (printed beside the verdicts).
CRITERIA = (
    f"{CONFIDENCE:.0%} percentile intervals of a paired cluster bootstrap over test images "
    f"({N_RESAMPLES} resamples; glimpses of one scanpath are never resampled apart). A bound "
    "claim is reproduced when its interval lies wholly on the claimed side of the bound, not "
    "reproduced when wholly on the other side, inconclusive when it contains the bound. An "
    "ordering claim is reproduced when every paired difference's interval excludes 0 in the "
    "claimed direction, not reproduced when one excludes 0 the other way, else inconclusive.")

#: Ratio statistics of :func:`scanpath_sums`: name -> (numerator, denominator, complement).
STATISTICS = {
    "fixational_share": ("saccades", "transitions", True),
    "fixation_steps_mean": ("fixation_steps", "fixations", False),
    "saccade_px_mean": ("saccade_px", "saccades", False),
}
UNITS = {"fixational_share": "", "fixation_steps_mean": " glimpses", "saccade_px_mean": " px"}


def scanpath_sums(fixations: pd.DataFrame, saccades: pd.DataFrame, group_by: str = "model",
                  cluster: str = "image_id") -> pd.DataFrame:
    """Per group and test image, the sums that every claim statistic is a ratio of.

    Parameters
    ----------
    fixations, saccades : pandas.DataFrame
        :func:`gazekit.segment.segment` tables with ``group_by`` and ``cluster`` columns;
        ``n_glimpses`` (steps) in ``fixations``, ``distance_px`` (px) in ``saccades``.
    group_by, cluster : str
        Group (model) and cluster (test image) columns.

    Returns
    -------
    pandas.DataFrame
        One row per (``group``, ``cluster``): ``fixations``, ``fixation_steps`` (glimpses),
        ``saccades``, ``saccade_px`` (px) and ``transitions`` (glimpses - 1 per scanpath).
    """
    keys = [fixations[group_by].astype(str).rename("group"), fixations[cluster]]
    fix = fixations.groupby(keys, observed=True, sort=True).agg(
        fixations=("n_glimpses", "size"), fixation_steps=("n_glimpses", "sum"),
        scanpaths=("_scanpath", "nunique"))
    sac = saccades.groupby([saccades[group_by].astype(str).rename("group"), saccades[cluster]],
                           observed=True, sort=True).agg(
        saccades=("distance_px", "size"), saccade_px=("distance_px", "sum"))
    out = fix.join(sac, how="left").fillna({"saccades": 0, "saccade_px": 0.0})
    out["transitions"] = out["fixation_steps"] - out.pop("scanpaths")
    return out.reset_index().rename(columns={cluster: "image_id"})


@dataclass(frozen=True)
class Estimate:
    """A point estimate and its interval, in the statistic's unit."""

    value: float
    low: float
    high: float

    def text(self, digits: int = 3, unit: str = "", signed: bool = False) -> str:
        sign = "+" if signed else ""
        return (f"{self.value:{sign}.{digits}f}{unit} [{self.low:{sign}.{digits}f}, "
                f"{self.high:{sign}.{digits}f}]")


class PairedBootstrap:
    """Ratio statistics of several groups on shared clusters, resampled with one set of
    cluster-bootstrap weights, so that differences between groups are paired by cluster.

    Parameters
    ----------
    sums : pandas.DataFrame
        :func:`scanpath_sums` output (``group``, ``image_id`` and the sums).
    n_resamples, confidence, seed
        Bootstrap settings (defaults :data:`N_RESAMPLES`, :data:`CONFIDENCE`, :data:`SEED`).
    """

    def __init__(self, sums: pd.DataFrame, *, n_resamples: int = N_RESAMPLES,
                 confidence: float = CONFIDENCE, seed: int = SEED):
        self.images = np.unique(sums["image_id"].to_numpy())
        self.confidence = confidence
        weights = cluster_weights(self.images.size, n_resamples, np.random.default_rng(seed))
        self._weights = weights.astype(np.float64)
        self._sums: dict[str, pd.DataFrame] = {}
        for group, rows in sums.groupby("group", sort=False):  # a few models
            position = np.searchsorted(self.images, rows["image_id"].to_numpy())
            aligned = np.zeros((self.images.size, 5))
            aligned[position] = rows[["fixations", "fixation_steps", "saccades", "saccade_px",
                                      "transitions"]].to_numpy(np.float64)
            self._sums[str(group)] = pd.DataFrame(
                aligned, columns=["fixations", "fixation_steps", "saccades", "saccade_px",
                                  "transitions"])

    @property
    def groups(self) -> list[str]:
        return list(self._sums)

    def _draws(self, group: str, statistic: str) -> tuple[float, np.ndarray]:
        numerator, denominator, complement = STATISTICS[statistic]
        sums = self._sums[group]
        num, den = sums[numerator].to_numpy(), sums[denominator].to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            value = num.sum() / den.sum()
            resampled = (self._weights @ num) / (self._weights @ den)
        if complement:
            value, resampled = 1 - value, 1 - resampled
        return float(value), resampled

    def _interval(self, value: float, resampled: np.ndarray) -> Estimate:
        tail = (1 - self.confidence) / 2
        if not np.isfinite(value) or np.isnan(resampled).all():
            return Estimate(value, np.nan, np.nan)
        low, high = np.nanquantile(resampled, [tail, 1 - tail])
        return Estimate(value, float(low), float(high))

    def estimate(self, group: str, statistic: str) -> Estimate:
        """``statistic`` (a :data:`STATISTICS` name) of ``group`` with its interval."""
        return self._interval(*self._draws(group, statistic))

    def difference(self, group: str, other: str, statistic: str) -> Estimate:
        """``statistic(group) - statistic(other)``, paired by image, with its interval."""
        (a, draws_a), (b, draws_b) = self._draws(group, statistic), self._draws(other, statistic)
        return self._interval(a - b, draws_a - draws_b)


def bound_verdict(estimate: Estimate, bound: float, above: bool) -> str:
    """Verdict on "``estimate`` > ``bound``" (``above``) or "< ``bound``" (see the module)."""
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
    function that measures it (``measure(boot, labels) -> (measured text, verdict)``)."""

    key: str
    claim: str
    criterion: str
    roles: tuple[str, ...]
    measure: Callable[[PairedBootstrap, dict[str, str]], tuple[str, str]]


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


def _mram_between(boot: PairedBootstrap, labels: dict[str, str]) -> tuple[str, str]:
    shares = "; ".join(f"{labels[r]} {boot.estimate(labels[r], 'fixational_share').text()}"
                       for r in ("ram", "mram", "dram"))
    above_ram = boot.difference(labels["mram"], labels["ram"], "fixational_share")
    below_dram = boot.difference(labels["dram"], labels["mram"], "fixational_share")
    verdict = all_verdict([bound_verdict(d, 0.0, above=True) for d in (above_ram, below_dram)])
    return (f"fixational share {shares}; MRAM - RAM {above_ram.text(signed=True)}, "
            f"DRAM - MRAM {below_dram.text(signed=True)}", verdict)


def _mram_longer_saccades(boot: PairedBootstrap, labels: dict[str, str]) -> tuple[str, str]:
    means = "; ".join(f"{labels[r]} {boot.estimate(labels[r], 'saccade_px_mean').text(2, ' px')}"
                      for r in ("mram", "dram"))
    difference = boot.difference(labels["mram"], labels["dram"], "saccade_px_mean")
    return (f"mean saccade {means}; MRAM - DRAM {difference.text(2, ' px', signed=True)}",
            bound_verdict(difference, 0.0, above=True))


CLAIMS: tuple[Claim, ...] = (
    Claim("ram_saccadic", "RAM is mostly saccadic (fixations last about one glimpse)",
          f"RAM mean fixation < {SACCADIC_MAX_FIXATION_STEPS} glimpses and fixational share "
          f"< {FIXATIONAL_MIN_SHARE}", ("ram",), _ram_saccadic),
    Claim("dram_fixational", "DRAM is mostly fixational",
          f"DRAM fixational share > {FIXATIONAL_MIN_SHARE}", ("dram",), _dram_fixational),
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
        (how intervals and verdicts are made, :data:`CRITERIA`).
    """
    sums = scanpath_sums(fixations, saccades, group_by)
    boot = PairedBootstrap(sums, n_resamples=n_resamples, confidence=confidence, seed=seed)
    rows = []
    for claim in CLAIMS:
        absent = [labels.get(r, r.upper()) for r in claim.roles
                  if labels.get(r) not in boot.groups]
        measured, verdict = ("", f"cannot assess: no scanpaths of {', '.join(absent)}") \
            if absent else claim.measure(boot, labels)
        rows.append({"key": claim.key, "claim": claim.claim, "criterion": claim.criterion,
                     "measured": measured, "verdict": verdict, "images": boot.images.size,
                     "method": CRITERIA})
    return pd.DataFrame(rows)


def claims_of_table(scanpaths: pd.DataFrame, labels_by_glimpses: dict[int, dict[str, str]], *,
                    threshold: float = THRESHOLD_PX, **kw) -> pd.DataFrame:
    """:func:`measure_claims` at each glimpse count, from a validated scanpath table.

    ``labels_by_glimpses`` maps ``T`` to the role labels of the models with ``T`` glimpses;
    the result has a ``glimpses`` column and the rows of each ``T`` in turn.
    """
    seg = segment(scanpaths, threshold, "consecutive")
    return pd.concat([measure_claims(seg.fixations, seg.saccades, labels, **kw).assign(
        glimpses=t) for t, labels in sorted(labels_by_glimpses.items())], ignore_index=True)


def seed_verdict(verdicts: Sequence[str]) -> str:
    """A claim's verdict over seeds: it holds only if it holds for every seed.

    ``reproduced`` when every seed's verdict is; ``not reproduced`` when every seed's is;
    otherwise ``mixed across seeds`` (the claim depends on the seed).
    """
    if not verdicts:
        return "cannot assess: no seed"
    if all(v == "reproduced" for v in verdicts):
        return "reproduced"
    if all(v == "not reproduced" for v in verdicts):
        return "not reproduced"
    return "mixed across seeds"
