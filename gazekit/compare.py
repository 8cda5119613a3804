"""Compare fixation-duration and saccade-distance distributions between groups and with humans.

:func:`compare_samples` measures how two samples differ: the two-sample Kolmogorov-Smirnov
statistic, the 1-Wasserstein distance, the Jensen-Shannon divergence of their reflected KDEs
(:mod:`gazekit.density`) and the difference of medians with a bootstrap interval.
:func:`compare_groups` applies it to every pair of groups of a segmentation, in native,
physical or relative units, and :func:`compare_with_reference` puts group means next to typical
human values (:func:`gazekit.reference.human_reference`). Intervals of the KS statistic,
Wasserstein distance and JSD are in :mod:`gazekit.distance_ci`.

Unit conversions are linear, so the KS statistic does not depend on the units, and the
Wasserstein distance and median difference scale with them; the JSD depends on them only
through the bandwidth floor (:data:`gazekit.density.MIN_BANDWIDTH`).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

from gazekit.checks import positive
from gazekit.density import check_values, fit_density, select_bandwidth
from gazekit.reference import human_reference
from gazekit.stats import bootstrap_ci, group_indices, ms_durations, require_columns

#: Keys of the dict returned by :func:`compare_samples`.
RESULT_KEYS: tuple[str, ...] = (
    "n_a", "n_b", "ks_statistic", "ks_pvalue", "wasserstein", "jsd", "median_diff",
    "median_diff_ci_low", "median_diff_ci_high",
)
UNITS: tuple[str, ...] = ("native", "physical", "relative")
#: Bounds on the size of the common grid used for the JSD.
_GRID_MIN, _GRID_MAX = 512, 65_536
#: Largest sample for which :func:`scipy.stats.ks_2samp` computes an exact p-value (its
#: ``method="auto"`` threshold); above it both use Smirnov's asymptotic distribution.
_KS_EXACT_MAX = 10_000


def _ks_wasserstein(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Two-sided KS statistic and p-value and 1-Wasserstein distance of two *sorted* samples.

    The same values as :func:`scipy.stats.ks_2samp` and
    :func:`scipy.stats.wasserstein_distance`, from a single merge of the two samples (a stable
    sort of two sorted runs is one linear merge) instead of the several sorts and binary
    searches of the two scipy calls; large samples take a fraction of the time.
    """
    both = np.concatenate([a, b])
    order = np.argsort(both, kind="stable")
    merged = both[order]
    from_a = np.cumsum(order < a.size)  # values of a among the first i + 1 merged
    # Both empirical CDFs at each distinct value: the last of each run of equal values.
    ends = np.flatnonzero(np.append(merged[1:] != merged[:-1], True))
    gap = from_a[ends] / a.size - (ends + 1 - from_a[ends]) / b.size
    # W1 = integral of |F_a - F_b|, which is constant between consecutive distinct values.
    wasserstein = float(np.abs(gap[:-1]) @ np.diff(merged[ends]))
    if max(a.size, b.size) <= _KS_EXACT_MAX:
        ks = stats.ks_2samp(a, b)
        return float(ks.statistic), float(ks.pvalue), wasserstein
    d = float(np.abs(gap).max())
    en = np.round(a.size * b.size / (a.size + b.size))
    return d, float(np.clip(stats.kstwo.sf(d, en), 0, 1)), wasserstein


def _jsd_grid(a: np.ndarray, b: np.ndarray, h_a: float, h_b: float,
              lower: float) -> tuple[float, int, np.ndarray]:
    """The grid on which the JSD is computed: ``(upper, points, weights)``, from ``lower`` to
    3 bandwidths past the largest value, 5 points per smaller bandwidth (clipped to
    ``_GRID_MIN``-``_GRID_MAX`` points).

    Trapezoid weights turn the grid values into probabilities that integrate the densities to
    second order.
    """
    upper = max(a.max() + 3 * h_a, b.max() + 3 * h_b)
    points = int(np.clip(np.ceil((upper - lower) / (min(h_a, h_b) / 5)) + 1, _GRID_MIN,
                         _GRID_MAX))
    weights = np.full(points, 1.0)
    weights[[0, -1]] = 0.5
    return upper, points, weights


def _sorted_median(x: np.ndarray) -> float:
    """Median of a sorted, non-empty sample (as :func:`numpy.median`)."""
    return float((x[(x.size - 1) // 2] + x[x.size // 2]) / 2)


def compare_samples(a, b, *, unit: str = "relative", lower: float = 0.0, discrete: bool = False,
                    bw_method: str | float = "scott", n_resamples: int = 1000,
                    confidence: float = 0.95, max_bootstrap: int = 50_000,
                    seed: int = 0, clusters: tuple | None = None) -> dict[str, float]:
    """Distances between the distributions of two samples of the same quantity.

    Parameters
    ----------
    a, b : array-like
        1-D finite values >= ``lower``, both in ``unit``.
    unit : str, default "relative"
        Unit of the values (``"steps"``, ``"ms"``, ``"px"``, ``"deg"``, ``"relative"``); sets
        the KDE bandwidth floor.
    lower : float, default 0.0
        Lower bound of the support (KDE reflection point), in ``unit``.
    discrete : bool, default False
        Whole-number values (glimpse steps; use ``lower=0.5``).
    bw_method : {"scott", "silverman"} or float, default "scott"
        KDE bandwidth rule, applied to each sample separately (see :mod:`gazekit.density`).
    n_resamples, confidence, max_bootstrap, seed
        Bootstrap settings of the median-difference interval (see
        :func:`gazekit.stats.bootstrap_ci`); the samples are resampled independently.
    clusters : (array-like, array-like), optional
        Scanpath (or other cluster) label of each value of ``a`` and of ``b``: the interval
        resamples clusters, not values (default: values, as if independent).

    Returns
    -------
    dict
        ``n_a``, ``n_b``: sample sizes; ``ks_statistic``, ``ks_pvalue``:
        :func:`scipy.stats.ks_2samp`; ``wasserstein``: :func:`scipy.stats.wasserstein_distance`
        (in ``unit``); ``jsd``: Jensen-Shannon divergence in **bits** (in [0, 1]) between the
        two reflected KDEs: the square of :func:`scipy.spatial.distance.jensenshannon` with
        ``base=2`` of the two densities on a common evenly spaced grid from ``lower`` to 3
        bandwidths past the larger maximum (spacing at most a fifth of the smaller bandwidth,
        512 to 65,536 points), each times trapezoid weights; ``median_diff``:
        ``median(a) - median(b)`` (in ``unit``) with ``median_diff_ci_low``/``_high``
        (percentile bootstrap; NaN if a sample has fewer than 2 values).

    Raises
    ------
    ValueError
        On an empty sample, NaN or infinite values, values below ``lower``, or non-integers
        when ``discrete``.

    Examples
    --------
    Fixation durations in glimpse steps (whole numbers, reflected at 0.5):

    >>> r = compare_samples([1, 2, 2, 3, 4], [2, 3, 3, 5, 6, 7], unit="steps", lower=0.5,
    ...                     discrete=True, n_resamples=200)
    >>> r["n_a"], r["n_b"], r["ks_statistic"], r["median_diff"]
    (5, 6, 0.5, -2.0)
    >>> round(r["wasserstein"], 3), round(r["jsd"], 3)
    (1.933, 0.217)
    """
    a = check_values(a, name="sample a", lower=lower, discrete=discrete)
    b = check_values(b, name="sample b", lower=lower, discrete=discrete)
    # Sorted once: for the KS and Wasserstein merge and the medians.
    a_sorted, b_sorted = np.sort(a), np.sort(b)
    ks_statistic, ks_pvalue, wasserstein = _ks_wasserstein(a_sorted, b_sorted)
    h_a, h_b = (select_bandwidth(s, bw_method, unit=unit, discrete=discrete) for s in (a, b))
    upper, points, weights = _jsd_grid(a, b, h_a, h_b, lower)
    grid = np.linspace(lower, upper, points)
    p, q = (fit_density(s, unit=unit, lower=lower, discrete=discrete, bw_method=h, grid=grid
                        ).density * weights for s, h in ((a, h_a), (b, h_b)))
    # Values below the smallest normal float are flushed to 0: halving a subnormal can
    # underflow to 0 and make jensenshannon return inf.
    tiny = np.finfo(np.float64).tiny
    p, q = np.where(p < tiny, 0.0, p), np.where(q < tiny, 0.0, q)
    low, high = bootstrap_ci((a, b), "median", clusters=clusters, confidence=confidence,
                             n_resamples=n_resamples, max_bootstrap=max_bootstrap, seed=seed)
    return {
        "n_a": int(a.size), "n_b": int(b.size),
        "ks_statistic": ks_statistic, "ks_pvalue": ks_pvalue, "wasserstein": wasserstein,
        "jsd": float(jensenshannon(p, q, base=2) ** 2),
        "median_diff": _sorted_median(a_sorted) - _sorted_median(b_sorted),
        "median_diff_ci_low": low, "median_diff_ci_high": high,
    }


def normalize(values, how: str, *, scale: float | np.ndarray | None = None) -> np.ndarray:
    """Rescale durations or distances.

    Parameters
    ----------
    values : array-like
        1-D finite values (e.g. durations in glimpse steps, distances in pixels).
    how : {"physical", "median", "width"}
        ``"physical"``: ``values * scale``, a conversion factor such as ms per glimpse step or
        degrees per pixel. ``"median"``: ``values / median(values)`` (no ``scale``; the median
        must be > 0). ``"width"``: ``values / scale``, the image width in pixels.
    scale : float or array of float, optional
        Positive factor (``"physical"``) or image width(s) in pixels (``"width"``); an array
        gives one value per element of ``values``.

    Returns
    -------
    numpy.ndarray
        The rescaled values (float64).

    Raises
    ------
    ValueError
        On an unknown ``how``, a missing, non-positive or non-finite ``scale``, a ``scale``
        given with ``how="median"``, or bad ``values``.

    Examples
    --------
    >>> normalize([2, 4, 6], "median")
    array([0.5, 1. , 1.5])
    >>> normalize([2, 4, 6], "physical", scale=50.0)  # glimpse steps -> ms at 50 ms per step
    array([100., 200., 300.])
    >>> normalize([14, 7], "width", scale=28.0)  # px -> fraction of a 28 px wide image
    array([0.5 , 0.25])
    """
    v = check_values(values)
    if how == "median":
        if scale is not None:
            raise ValueError("normalize(how='median') takes no scale; it divides by the median")
        median = np.median(v)
        if not median > 0:
            raise ValueError(f"cannot normalise by the median: it is {median} (expected > 0)")
        return v / median
    if how not in ("physical", "width"):
        raise ValueError(f"unknown how {how!r}; expected 'physical', 'median' or 'width'")
    if scale is None:
        what = "a conversion factor" if how == "physical" else "the image width in pixels"
        raise ValueError(f"normalize(how={how!r}) needs scale ({what})")
    s = positive(f"scale for how={how!r}", scale)
    return v * s if how == "physical" else v / s


def timed_durations(ms: np.ndarray, units: str) -> np.ndarray:
    """Which of a group's fixations :func:`group_durations` keeps (a boolean mask): all in
    native units or when the group has no finite ``duration_ms`` (**ms**), else those with one.

    >>> timed_durations(np.array([np.nan, 200.0]), "physical").tolist()
    [False, True]
    """
    timed = np.isfinite(ms)
    return timed if units != "native" and timed.any() else np.ones(ms.size, dtype=bool)


def group_durations(steps: np.ndarray, ms: np.ndarray, units: str, ms_per_step: float | None,
                    label) -> np.ndarray:
    """Fixation durations of one group in ``units`` (ms data take precedence over steps)."""
    ms = ms[np.isfinite(ms)]
    if units == "native":
        return steps
    if units == "relative":
        return normalize(ms if ms.size else steps, "median")
    if ms.size:
        return ms
    if ms_per_step is None:
        raise ValueError(
            f"group {label!r} has no duration_ms values; pass ms_per_step to express its "
            "fixation durations in ms")
    return normalize(steps, "physical", scale=ms_per_step)


def compare_groups(fixations: pd.DataFrame, saccades: pd.DataFrame, group_by: str | None = "model",
                   *, units: str = "native", ms_per_step: float | None = None,
                   px_per_degree: float | None = None, image_width: float | None = None,
                   **kw) -> pd.DataFrame:
    """Compare the fixation-duration and saccade-distance distributions of every pair of groups.

    Parameters
    ----------
    fixations, saccades : pandas.DataFrame
        Tables from :func:`gazekit.segment.segment`: ``n_glimpses`` (steps) and optionally
        ``duration_ms`` (ms) in ``fixations``; ``distance_px`` (px) and optionally
        ``image_width`` (px) in ``saccades``; both with the group column.
    group_by : str or None, default "model"
        Group column; None or a column that ``fixations`` lacks gives one group (no pairs).
    units : {"native", "physical", "relative"}, default "native"
        ``"native"``: durations in glimpse **steps** (discrete, reflected at 0.5) and distances
        in **px**. ``"physical"``: durations in **ms** (a group's finite ``duration_ms`` values
        when it has any, else ``n_glimpses * ms_per_step``) and distances in **degrees**
        (``distance_px / px_per_degree``). ``"relative"``: durations (ms when present, else
        steps) divided by the group's median duration, distances divided by the image width
        (``image_width``, else the ``image_width`` column of ``saccades``). Physical and
        relative values are treated as continuous and reflected at 0.
    ms_per_step : float, optional
        Milliseconds per glimpse step (``units="physical"``, groups without ms data).
    px_per_degree : float, optional
        Pixels per degree of visual angle (``units="physical"``).
    image_width : float, optional
        Image width in pixels (``units="relative"``).
    **kw
        Passed to :func:`compare_samples` (``bw_method``, ``n_resamples``, ``confidence``,
        ``max_bootstrap``, ``seed``). When both tables have ``_scanpath``, the median-difference
        intervals resample scanpaths (a cluster bootstrap, :mod:`gazekit.stats`).

    Returns
    -------
    pandas.DataFrame
        One row per quantity (``"fixation_duration"``, then ``"saccade_distance"``) and pair of
        groups (each unordered pair once, groups in order of first appearance), with columns
        ``quantity``, ``group_a``, ``group_b``, ``unit`` and :data:`RESULT_KEYS`. Metrics are
        NaN when a group has no values of the quantity (e.g. no saccades).

    Raises
    ------
    ValueError
        On an unknown ``units``, a missing column, or a conversion that lacks its factor.

    Examples
    --------
    >>> import gazekit
    >>> table = gazekit.validate(gazekit.synthetic_scanpaths(n_per_policy=20, seed=0))
    >>> seg = gazekit.segment(table, threshold=6.0)
    >>> result = compare_groups(seg.fixations, seg.saccades, group_by="model", n_resamples=200)
    >>> columns = ["quantity", "group_a", "group_b", "unit", "ks_statistic", "median_diff"]
    >>> print(result[columns].head(3).round(2).to_string(index=False))
             quantity              group_a              group_b  unit  ks_statistic  median_diff
    fixation_duration   synthetic-saccadic synthetic-fixational steps          0.82         -5.0
    fixation_duration   synthetic-saccadic      synthetic-mixed steps          0.35          0.0
    fixation_duration synthetic-fixational      synthetic-mixed steps          0.65          5.0
    """
    if units not in UNITS:
        raise ValueError(f"unknown units {units!r}; expected one of {', '.join(UNITS)}")
    require_columns(fixations, "fixations", ("n_glimpses",))
    require_columns(saccades, "saccades", ("distance_px",))
    labels, fix_rows, sac_rows = group_indices(fixations, saccades, group_by)
    steps = fixations["n_glimpses"].to_numpy(np.float64)
    ms = ms_durations(fixations)
    px = saccades["distance_px"].to_numpy(np.float64)
    if units == "physical":
        if px_per_degree is None:
            raise ValueError("units='physical' needs px_per_degree (pixels per degree)")
        distance = normalize(px, "physical", scale=1 / positive("px_per_degree", px_per_degree))
    elif units == "relative":
        if image_width is None and "image_width" not in saccades.columns:
            raise ValueError(
                "units='relative' needs image_width (pixels) or an 'image_width' column in "
                "saccades")
        width = (image_width if image_width is not None
                 else saccades["image_width"].to_numpy(np.float64, na_value=np.nan))
        distance = normalize(px, "width", scale=width)
    else:
        distance = px

    scanpaths = ({"fixation_duration": fixations["_scanpath"].to_numpy(),
                  "saccade_distance": saccades["_scanpath"].to_numpy()}
                 if "_scanpath" in fixations.columns and "_scanpath" in saccades.columns
                 else None)

    duration_unit = {"native": "steps", "physical": "ms", "relative": "relative"}[units]
    distance_unit = {"native": "px", "physical": "deg", "relative": "relative"}[units]
    quantities = (
        ("fixation_duration", duration_unit, 0.5 if units == "native" else 0.0,
         units == "native",
         [group_durations(steps[fi], ms[fi], units, ms_per_step, g)
          for g, fi in zip(labels, fix_rows, strict=True)],
         [fi[timed_durations(ms[fi], units)] for fi in fix_rows]),
        ("saccade_distance", distance_unit, 0.0, False, [distance[si] for si in sac_rows],
         sac_rows),
    )
    rows = []
    for quantity, unit, lower, discrete, samples, sample_rows in quantities:
        for i, j in combinations(range(len(labels)), 2):
            a, b = samples[i], samples[j]
            if a.size and b.size:
                clusters = None if scanpaths is None else tuple(
                    scanpaths[quantity][sample_rows[k]] for k in (i, j))
                result = compare_samples(a, b, unit=unit, lower=lower, discrete=discrete,
                                         clusters=clusters, **kw)
            else:
                result = {**dict.fromkeys(RESULT_KEYS, np.nan), "n_a": a.size, "n_b": b.size}
            rows.append({"quantity": quantity, "group_a": labels[i], "group_b": labels[j],
                         "unit": unit, **result})
    return pd.DataFrame(rows, columns=["quantity", "group_a", "group_b", "unit", *RESULT_KEYS])


def compare_with_reference(summary: pd.DataFrame, *, ms_per_step: float | None = None,
                           px_per_degree: float | None = None,
                           reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """Put each group's mean fixation duration and saccade size next to human reference values.

    Parameters
    ----------
    summary : pandas.DataFrame
        Output of :func:`gazekit.stats.summarize`: ``group``, ``fixation_steps_mean``
        (steps), ``saccade_px_mean`` (px) and optionally ``fixation_ms_mean`` (ms).
    ms_per_step : float, optional
        Milliseconds per glimpse step. A group's mean duration in ms is its
        ``fixation_ms_mean`` when finite (measured), else ``fixation_steps_mean * ms_per_step``.
    px_per_degree : float, optional
        Pixels per degree of visual angle; mean saccade size in degrees is
        ``saccade_px_mean / px_per_degree``.
    reference : pandas.DataFrame, optional
        Columns ``task``, ``mean_fixation_ms``, ``mean_saccade_deg`` (and optionally
        ``source``); default :func:`gazekit.reference.human_reference`.

    Returns
    -------
    pandas.DataFrame
        One row per group and reference task (groups outer, tasks inner) with ``group``,
        ``task``, ``model_fixation_ms``, ``reference_fixation_ms``, ``fixation_ratio``
        (model / reference), ``model_saccade_deg``, ``reference_saccade_deg``,
        ``saccade_ratio``, ``source`` and ``note``: empty, or which conversion factor was
        missing where a value is NaN for that reason.

    Raises
    ------
    ValueError
        On a missing column or a non-positive conversion factor.

    Examples
    --------
    >>> import pandas as pd
    >>> summary = pd.DataFrame({"group": ["model"], "fixation_steps_mean": [3.0],
    ...                         "saccade_px_mean": [60.0]})
    >>> table = compare_with_reference(summary, ms_per_step=100.0, px_per_degree=30.0)
    >>> columns = ["task", "model_fixation_ms", "fixation_ratio", "model_saccade_deg",
    ...            "saccade_ratio"]
    >>> print(table[columns].round(2).to_string(index=False))
                task  model_fixation_ms  fixation_ratio  model_saccade_deg  saccade_ratio
      silent reading              300.0            1.33                2.0           1.00
        oral reading              300.0            1.09                2.0           1.33
    scene perception              300.0            0.91                2.0           0.50
       visual search              300.0            1.09                2.0           0.67
    """
    require_columns(summary, "summary", ("group", "fixation_steps_mean", "saccade_px_mean"))
    reference = human_reference() if reference is None else reference
    require_columns(reference, "reference", ("task", "mean_fixation_ms", "mean_saccade_deg"))
    n = len(summary)
    steps = summary["fixation_steps_mean"].to_numpy(np.float64)
    measured = (summary["fixation_ms_mean"].to_numpy(np.float64, na_value=np.nan)
                if "fixation_ms_mean" in summary.columns else np.full(n, np.nan))
    has_ms = np.isfinite(measured)
    converted = (steps * positive("ms_per_step", ms_per_step) if ms_per_step is not None
                 else np.full(n, np.nan))
    px = summary["saccade_px_mean"].to_numpy(np.float64)
    degrees = (px / positive("px_per_degree", px_per_degree) if px_per_degree is not None
               else np.full(n, np.nan))
    ms_note = np.where(~has_ms & (ms_per_step is None),
                       "ms_per_step not given (no duration_ms data)", "")
    deg_note = "px_per_degree not given" if px_per_degree is None else ""
    notes = ["; ".join(m for m in (ms, deg_note) if m) for ms in ms_note]
    groups = pd.DataFrame({
        "group": summary["group"].to_numpy(),
        "model_fixation_ms": np.where(has_ms, measured, converted),
        "model_saccade_deg": degrees, "note": notes,
    })
    ref = reference.rename(columns={"mean_fixation_ms": "reference_fixation_ms",
                                    "mean_saccade_deg": "reference_saccade_deg"})
    if "source" not in ref.columns:
        ref = ref.assign(source="")
    out = groups.merge(ref[["task", "reference_fixation_ms", "reference_saccade_deg", "source"]],
                       how="cross")
    out["fixation_ratio"] = out["model_fixation_ms"] / out["reference_fixation_ms"]
    out["saccade_ratio"] = out["model_saccade_deg"] / out["reference_saccade_deg"]
    return out[["group", "task", "model_fixation_ms", "reference_fixation_ms", "fixation_ratio",
                "model_saccade_deg", "reference_saccade_deg", "saccade_ratio", "source", "note"]]
