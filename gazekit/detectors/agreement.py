"""Agreement of detected fixations with hand labels: sample-level Cohen's kappa and event F1.

Both sides are given per sample, as boolean "fixation" masks over the same samples (one or
more recordings, contiguous blocks of ``recording`` codes). Events are the maximal runs of
fixation samples within a recording (:func:`mask_events`); a detector's event table converts to
a mask with :func:`events_mask`.

- **Sample kappa**: Cohen's kappa of fixation vs not, over the samples to score
  (:func:`sklearn.metrics.cohen_kappa_score`).
- **Event F1**: a detected and a reference fixation match when their intersection over union
  (IoU, in samples) is at least ``min_iou`` (default 0.5, as in Startsev & Zemblys 2022,
  Behav. Res. Methods, https://doi.org/10.3758/s13428-021-01763-7); each event matches at most
  one other. F1 = 2 TP / (2 TP + FP + FN) (:func:`sklearn.metrics.f1_score` over the matched,
  missed and extra events).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score, f1_score

from gazekit.detectors.common import runs_of

__all__ = ["event_f1", "events_mask", "mask_events", "match_events", "sample_kappa"]


def mask_events(mask, recording=None) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop (exclusive) sample indices of each run of ``True`` within a recording.

    Examples
    --------
    >>> mask_events([0, 1, 1, 0, 1, 1], recording=[0, 0, 0, 0, 0, 1])
    (array([1, 4, 5]), array([3, 5, 6]))
    """
    mask = np.asarray(mask, dtype=bool)
    codes = np.zeros(len(mask), np.int64) if recording is None else np.asarray(recording)
    return runs_of(mask, codes)


def events_mask(start, stop, n: int) -> np.ndarray:
    """Boolean mask of ``n`` samples, True inside the events ``start .. stop - 1``.

    Examples
    --------
    >>> events_mask([1, 4], [3, 5], 6).astype(int).tolist()
    [0, 1, 1, 0, 1, 0]
    """
    edges = np.zeros(n + 1, np.int64)
    np.add.at(edges, np.asarray(start, np.int64), 1)
    np.add.at(edges, np.asarray(stop, np.int64), -1)
    return np.cumsum(edges[:-1]) > 0


def match_events(ref_start, ref_stop, det_start, det_stop, *,
                 min_iou: float = 0.5) -> pd.DataFrame:
    """Pairs of reference and detected events whose IoU is at least ``min_iou``.

    Events of each side are sorted and do not overlap one another. For ``min_iou >= 0.5`` an
    event can reach that IoU with two events of the other side only in a tie (IoU exactly 0.5
    with two halves); ties go to the pair found first, so the matching is one-to-one.

    Parameters
    ----------
    ref_start, ref_stop, det_start, det_stop : array-like of int
        Sample indices of the reference and detected events (``stop`` exclusive).
    min_iou : float, default 0.5
        Smallest intersection over union (in samples) of a match, in [0.5, 1].

    Returns
    -------
    pandas.DataFrame
        One row per match: ``ref``, ``det`` (positions in the inputs), ``iou``.

    Examples
    --------
    >>> match_events([0, 20], [10, 30], [0, 18], [8, 24])
       ref  det  iou
    0    0    0  0.8
    """
    if not 0.5 <= min_iou <= 1:
        raise ValueError(f"min_iou must be in [0.5, 1] for a one-to-one matching, got {min_iou}")
    rs, re_, ds, de = (np.asarray(a, np.int64) for a in (ref_start, ref_stop, det_start,
                                                         det_stop))
    # Reference events overlapping detected event j: indices lo[j] .. hi[j] - 1.
    lo = np.searchsorted(re_, ds, side="right")
    hi = np.searchsorted(rs, de, side="left")
    count = np.maximum(hi - lo, 0)
    det = np.repeat(np.arange(len(ds)), count)
    ref = lo[det] + np.arange(len(det)) - np.repeat(np.cumsum(count) - count, count)
    inter = np.minimum(re_[ref], de[det]) - np.maximum(rs[ref], ds[det])
    iou = inter / ((re_[ref] - rs[ref]) + (de[det] - ds[det]) - inter)
    pairs = pd.DataFrame({"ref": ref, "det": det, "iou": iou})[iou >= min_iou]
    pairs = pairs.drop_duplicates("det").drop_duplicates("ref")
    return pairs.reset_index(drop=True)


def event_f1(ref_start, ref_stop, det_start, det_stop, *, min_iou: float = 0.5) -> dict:
    """Event-level agreement: matches (:func:`match_events`), F1, precision and recall.

    Returns
    -------
    dict
        ``tp``, ``fp``, ``fn`` (event counts), ``precision``, ``recall``, ``f1`` (0 where
        undefined), ``iou`` (mean IoU of the matches, NaN without matches).

    Examples
    --------
    >>> r = event_f1([0, 20, 40], [10, 30, 50], [0, 18, 40, 60], [8, 24, 50, 70])
    >>> r["tp"], r["fp"], r["fn"], round(r["f1"], 4)
    (2, 2, 1, 0.5714)
    """
    pairs = match_events(ref_start, ref_stop, det_start, det_stop, min_iou=min_iou)
    tp = len(pairs)
    fp = len(np.asarray(det_start)) - tp
    fn = len(np.asarray(ref_start)) - tp
    # Matched events are (1, 1), extra detections (0, 1), missed references (1, 0).
    truth = np.r_[np.ones(tp + fn, bool), np.zeros(fp, bool)]
    found = np.r_[np.ones(tp, bool), np.zeros(fn, bool), np.ones(fp, bool)]
    return {"tp": tp, "fp": fp, "fn": fn,
            "precision": tp / (tp + fp) if tp + fp else 0.0,
            "recall": tp / (tp + fn) if tp + fn else 0.0,
            "f1": float(f1_score(truth, found, zero_division=0.0)),
            "iou": float(pairs["iou"].mean()) if tp else float("nan")}


def sample_kappa(ref_mask, det_mask, scored=None) -> float:
    """Cohen's kappa of fixation vs not between two per-sample masks.

    Parameters
    ----------
    ref_mask, det_mask : array-like of bool
        Fixation samples of the reference and of the detector.
    scored : array-like of bool, optional
        Samples to score (e.g. those with valid gaze); default all.

    Examples
    --------
    >>> round(sample_kappa([1, 1, 1, 0, 0, 0, 1, 1], [1, 1, 0, 0, 0, 1, 1, 1]), 4)
    0.4667
    """
    ref = np.asarray(ref_mask, bool)
    det = np.asarray(det_mask, bool)
    if scored is not None:
        keep = np.asarray(scored, bool)
        ref, det = ref[keep], det[keep]
    return float(cohen_kappa_score(ref, det))
