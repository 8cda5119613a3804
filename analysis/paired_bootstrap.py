"""A paired cluster bootstrap over test images: ratio statistics of gaze, and their intervals.

Every gaze statistic of the claims (:mod:`analysis.claims`) is a ratio of sums over
scanpaths (:func:`scanpath_sums`): the fixational share ``1 - saccades / transitions``, the
mean fixation ``steps / fixations`` (glimpse steps), the mean saccade ``pixels / saccades``
(px). Glimpses of one scanpath are dependent, so intervals resample **test images**
(clusters), never glimpses or saccades (:func:`gazekit.stats.cluster_weights`). All models saw
the same images, so one set of resampling weights (:func:`image_weights`) serves every model
(:class:`PairedBootstrap`) and the accuracy claim: a difference between two models is paired
by image, as the models are. Intervals are percentile intervals (:func:`percentile_interval`)
at :data:`CONFIDENCE` from :data:`N_RESAMPLES` resamples, seeded; resamples in which a
statistic is undefined (e.g. no saccade among the drawn images) are left out and counted, and
above :data:`MAX_UNDEFINED_SHARE` of them there is no interval.

>>> import pandas as pd
>>> sums = pd.DataFrame({"group": ["A"] * 3, "image_id": [0, 1, 2], "fixations": [2, 3, 1],
...                      "fixation_steps": [6, 6, 6], "saccades": [1, 2, 0],
...                      "saccade_px": [7.0, 20.0, 0.0], "transitions": [5, 5, 5]})
>>> boot = PairedBootstrap(sums, n_resamples=200)
>>> round(boot.estimate("A", "fixational_share").value, 3)
0.8
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gazekit.stats import cluster_weights

__all__ = [
    "CONFIDENCE",
    "MAX_UNDEFINED_SHARE",
    "N_RESAMPLES",
    "SEED",
    "STATISTICS",
    "Estimate",
    "PairedBootstrap",
    "image_weights",
    "percentile_interval",
    "scanpath_sums",
]

CONFIDENCE = 0.95
N_RESAMPLES = 2000
SEED = 0
#: Above this share of resamples in which a statistic is undefined (e.g. no saccade among the
#: drawn images) there is no interval: leaving them out would condition on the statistic
#: existing and bias the interval towards the groups' frequent cases.
MAX_UNDEFINED_SHARE = 0.05

#: Ratio statistics of :func:`scanpath_sums`: name -> (numerator, denominator, complement).
STATISTICS = {
    "fixational_share": ("saccades", "transitions", True),
    "fixation_steps_mean": ("fixation_steps", "fixations", False),
    "saccade_px_mean": ("saccade_px", "saccades", False),
}


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
    """A point estimate and its interval, in the statistic's unit.

    ``undefined_share`` is the share of bootstrap resamples in which the statistic was
    undefined (left out of the interval; above :data:`MAX_UNDEFINED_SHARE` the interval is
    NaN) and ``reason`` says what makes it undefined, e.g. ``"no saccades of DRAM-12"``.
    """

    value: float
    low: float
    high: float
    undefined_share: float = 0.0
    reason: str = "undefined"

    def text(self, digits: int = 3, unit: str = "", signed: bool = False) -> str:
        """``value unit [low, high]``; ``undefined (reason)`` without a value, and the share
        of undefined resamples where there are any.

        >>> Estimate(0.5, 0.4, 0.6).text(2)
        '0.50 [0.40, 0.60]'
        >>> Estimate(np.nan, np.nan, np.nan, 1.0, "no saccades of A").text()
        'undefined (no saccades of A)'
        """
        if not np.isfinite(self.value):
            return f"undefined ({self.reason})"
        sign = "+" if signed else ""
        value = f"{self.value:{sign}.{digits}f}{unit}"
        share = f"{self.undefined_share:.1%} of resamples with {self.reason}"
        if not np.isfinite([self.low, self.high]).all():
            return f"{value} [no interval: {share}]"
        interval = f"[{self.low:{sign}.{digits}f}, {self.high:{sign}.{digits}f}]"
        return f"{value} {interval}" + (f" ({share}, left out)" if self.undefined_share else "")


def image_weights(n_images: int, n_resamples: int = N_RESAMPLES, seed: int = SEED
                  ) -> np.ndarray:
    """How often each test image (in sorted ``image_id`` order) is drawn in each resample:
    the cluster-bootstrap weights shared by every interval of this module.

    Returns
    -------
    numpy.ndarray of int64, shape (n_resamples, n_images)
        :func:`gazekit.stats.cluster_weights` from ``numpy.random.default_rng(seed)``.
    """
    return cluster_weights(n_images, n_resamples, np.random.default_rng(seed))


def percentile_interval(value: float, resampled: np.ndarray, confidence: float = CONFIDENCE,
                        reason: str = "undefined") -> Estimate:
    """The percentile interval of ``resampled`` around ``value``, by the module's rule on
    undefined (NaN) resamples: they are left out and counted, and above
    :data:`MAX_UNDEFINED_SHARE` of them (or without a finite ``value``) the interval is NaN.

    >>> percentile_interval(1.0, np.r_[np.arange(99.0), np.nan], 0.9).undefined_share
    0.01
    """
    share = float(np.isnan(resampled).mean()) if resampled.size else 1.0
    if not np.isfinite(value) or share > MAX_UNDEFINED_SHARE:
        return Estimate(value, np.nan, np.nan, share, reason)
    tail = (1 - confidence) / 2
    low, high = np.nanquantile(resampled, [tail, 1 - tail])
    return Estimate(value, float(low), float(high), share, reason)


class PairedBootstrap:
    """Ratio statistics of several groups on shared clusters, resampled with one set of
    cluster-bootstrap weights, so that differences between groups are paired by cluster.

    Parameters
    ----------
    sums : pandas.DataFrame
        :func:`scanpath_sums` output (``group``, ``image_id`` and the sums).
    n_resamples, confidence, seed
        Bootstrap settings (defaults :data:`N_RESAMPLES`, :data:`CONFIDENCE`, :data:`SEED`);
        the weights are :func:`image_weights`.
    """

    def __init__(self, sums: pd.DataFrame, *, n_resamples: int = N_RESAMPLES,
                 confidence: float = CONFIDENCE, seed: int = SEED):
        self.images = np.unique(sums["image_id"].to_numpy())
        self.confidence = confidence
        self._weights = image_weights(self.images.size, n_resamples, seed).astype(np.float64)
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

    def glimpses(self, group: str) -> float:
        """Glimpses per scanpath of ``group`` (steps / scanpaths, ``T``), NaN unless every
        image's scanpaths have that many on average (one scanpath per image: all equal)."""
        steps = self._sums[group]["fixation_steps"].to_numpy()
        paths = steps - self._sums[group]["transitions"].to_numpy()
        glimpses = steps.sum() / paths.sum()
        return float(glimpses) if np.allclose(steps, glimpses * paths) else np.nan

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

    def estimate(self, group: str, statistic: str) -> Estimate:
        """``statistic`` (a :data:`STATISTICS` name) of ``group`` with its interval."""
        value, draws = self._draws(group, statistic)
        return percentile_interval(value, draws, self.confidence,
                                   f"no {STATISTICS[statistic][1]} of {group}")

    def difference(self, group: str, other: str, statistic: str) -> Estimate:
        """``statistic(group) - statistic(other)``, paired by image, with its interval."""
        (a, draws_a), (b, draws_b) = self._draws(group, statistic), self._draws(other, statistic)
        undefined = [g for g, v in ((group, a), (other, b)) if not np.isfinite(v)]
        reason = f"no {STATISTICS[statistic][1]} of {' or '.join(undefined or [group, other])}"
        return percentile_interval(a - b, draws_a - draws_b, self.confidence, reason)
