"""Kernel density estimates of fixation durations and saccade distances on a bounded support.

Durations and distances cannot be negative, and a plain Gaussian KDE would put part of its mass
below zero and underestimate the density near the boundary. Every estimate here is therefore
*reflected* at a lower bound ``L``::

    f(x) = k(x) + k(2 L - x)   for x >= L,        f(x) = 0   for x < L,

where ``k`` is the ordinary Gaussian KDE: the mean of one normal density of standard deviation
``h`` per observation (summed directly, in blocks of evaluation points). The reflected term
adds back exactly the mass that ``k`` puts below ``L``, so ``f`` integrates to 1 over
``[L, inf)``.

Where the data have a known upper bound ``U`` too (a fixation of a T-glimpse scanpath lasts at
most T steps), the kernel is reflected there as well, ``f(x) = k(x) + k(2 L - x) + k(2 U - x)``
on ``[L, U]`` and 0 outside, which integrates to 1 up to the kernel mass beyond ``2 U - L``
or below ``2 L - U`` (negligible unless ``h`` is comparable to ``U - L``). Saccades of the
consecutive rule are at least the fixation threshold long by definition, so their support
starts there, not at 0 (:func:`distance_density`'s ``lower``).

Durations in glimpse steps are whole numbers >= 1. They are treated as *discrete*: the
boundary is placed half a step below the smallest possible value (``L = 0.5``, a continuity
correction) and the exact probability mass function is returned next to the smooth density.

Bandwidth
---------
``h`` is the standard deviation of the Gaussian kernel, in the unit of the data, computed from
the full data (``n`` values, sample standard deviation ``sd`` with ``ddof=1``):

- ``"scott"``: ``h = sd * n ** (-1/5)`` (the same as scipy's default for 1-D data);
- ``"silverman"``: ``h = 0.9 * min(sd, IQR / 1.34) * n ** (-1/5)`` (Silverman's rule of thumb;
  ``sd`` alone when the interquartile range is 0). This is *not* scipy's ``"silverman"``,
  which uses ``sd * (3 n / 4) ** (-1/5)``;
- a float: ``h`` itself, used as given.

The two rules are floored at :data:`MIN_BANDWIDTH` of the unit (0.5 for discrete data, half the
spacing of whole numbers), so that data with (almost) no spread, such as a single repeated
value, still give a narrow but valid density. Each :class:`Density` records the floor that
applied, and :func:`describe_densities` says in words where a set of densities is reflected
and how it is floored (the caption of :func:`gazekit.plot.plot_densities`, ``report.md``).

Large samples
-------------
Above :data:`BIN_THRESHOLD` continuous values, the data are binned into bins of width
``h / 20`` and the kernels sit at the occupied bin centres, weighted by their counts, with the
same width ``h``. Each value moves by at most ``h / 40``, so the change is a small fraction
(about 1/70) of the estimate's own sampling noise; on 50,000 values it is below 1e-3 of the
peak density. Discrete data are always reduced to their distinct values and counts, which is
exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Smallest bandwidth the rules may return, per unit (the unit of the data).
MIN_BANDWIDTH: dict[str, float] = {
    "steps": 0.5, "ms": 1.0, "px": 0.5, "deg": 0.01, "relative": 0.01,
}
#: Smallest bandwidth for discrete (whole-number) data: half the spacing between values.
MIN_BANDWIDTH_DISCRETE = 0.5
#: Above this many continuous values the data are binned before the kernel sum.
BIN_THRESHOLD = 20_000
#: Bins per bandwidth when binning (bin width = bandwidth / BINS_PER_BANDWIDTH).
BINS_PER_BANDWIDTH = 20
#: Kernel values computed at once when evaluating a density (about 16 MB of float64).
_KERNEL_ELEMENTS = 2_000_000


@dataclass
class Density:
    """A reflected kernel density estimate evaluated on a grid.

    Attributes
    ----------
    grid : numpy.ndarray
        Evaluation points, in ``unit``.
    density : numpy.ndarray
        Probability density at ``grid`` (per ``unit``); 0 below ``lower``. Integrates to about
        1 over ``[lower, inf)``.
    bandwidth : float
        Standard deviation of the Gaussian kernel, in ``unit``.
    lower : float
        Lower bound of the support, where the kernel is reflected, in ``unit``.
    n : int
        Number of observations.
    unit : str
        ``"steps"``, ``"ms"``, ``"px"``, ``"deg"`` or ``"relative"``.
    pmf : pandas.Series or None
        Discrete data only: relative frequency of each distinct value (index: the value, in
        ``unit``; sums to 1). None for continuous data.
    upper : float
        Upper bound of the support (second reflection point), in ``unit``; ``inf`` if none.
    floor : float or None
        Smallest bandwidth the rule could give (:data:`MIN_BANDWIDTH` of ``unit``, or
        :data:`MIN_BANDWIDTH_DISCRETE`), in ``unit``; None when the bandwidth was given as a
        number (not floored).

    Examples
    --------
    Durations in glimpse steps, reflected at 0.5 (:func:`duration_density`):

    >>> import numpy as np
    >>> d = duration_density([1, 1, 2, 3, 2, 1])
    >>> d.unit, d.lower, d.n, d.pmf.round(3).to_dict()
    ('steps', 0.5, 6, {1: 0.5, 2: 0.333, 3: 0.167})
    >>> round(float(np.trapezoid(d.density, d.grid)), 3)  # integrates to 1
    1.0
    """

    grid: np.ndarray
    density: np.ndarray
    bandwidth: float
    lower: float
    n: int
    unit: str
    pmf: pd.Series | None
    upper: float = np.inf
    floor: float | None = None


def check_values(values, *, name: str = "values", lower: float = -np.inf,
                 discrete: bool = False) -> np.ndarray:
    """Return ``values`` as a 1-D float64 array after checking it.

    Parameters
    ----------
    values : array-like
        1-D numbers (a list, array or pandas Series).
    name : str, default "values"
        What the values are (e.g. ``"fixation durations"``), used in error messages.
    lower : float, default -inf
        Smallest allowed value.
    discrete : bool, default False
        Require whole numbers.

    Raises
    ------
    ValueError
        If ``values`` is not numeric or not 1-D, is empty, holds NaN or infinite values,
        values below ``lower``, or (``discrete``) non-integers. The message names ``name`` and
        the first offending position.
    """
    try:
        if isinstance(values, (pd.Series, pd.Index)):
            v = values.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            v = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name}: expected numbers ({err})") from err
    if v.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array, got shape {v.shape}")
    if v.size == 0:
        raise ValueError(f"no {name} given (got an empty array); need at least one value")
    low, high = v.min(), v.max()  # NaN if any value is NaN
    if low >= lower and np.isfinite(low) and np.isfinite(high) and (
            not discrete or np.array_equal(v, np.round(v))):
        return v  # the common case, without the element-wise masks below
    problems = (
        (~np.isfinite(v), "is NaN or infinite; drop or fill such values first"),
        (v < lower, f"is below the lower bound {lower}"),
        (discrete & (v != np.round(v)), "is not a whole number (discrete data expected)"),
    )
    for bad, what in problems:
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{name}: {int(bad.sum())} value(s) rejected; the first, {float(v[i])} at position "
                f"{i}, {what}")
    return v


def _floor(unit: str, discrete: bool) -> float:
    """Smallest rule bandwidth for ``unit`` (checked) and ``discrete``."""
    if unit not in MIN_BANDWIDTH:
        raise ValueError(f"unknown unit {unit!r}; expected one of {', '.join(MIN_BANDWIDTH)}")
    return MIN_BANDWIDTH_DISCRETE if discrete else MIN_BANDWIDTH[unit]


def _rule_bandwidth(v: np.ndarray, bw_method: str | float, floor: float) -> float:
    """Bandwidth of checked values ``v`` by ``bw_method`` (see the module docstring)."""
    if not isinstance(bw_method, str):
        h = float(bw_method)
        if not (np.isfinite(h) and h > 0):
            raise ValueError(f"bandwidth must be a positive finite number, got {bw_method!r}")
        return h
    if bw_method not in ("scott", "silverman"):
        raise ValueError(
            f"unknown bw_method {bw_method!r}; expected 'scott', 'silverman' or a number")
    n = v.size
    sd = float(np.std(v, ddof=1)) if n > 1 else 0.0
    spread = sd
    if bw_method == "silverman":
        q25, q75 = np.percentile(v, [25, 75])
        if q75 > q25:
            spread = min(sd, (q75 - q25) / 1.34)
        spread *= 0.9
    return max(spread * n ** -0.2, floor)


def select_bandwidth(values, bw_method: str | float = "scott", *, unit: str,
                     discrete: bool = False, name: str = "values") -> float:
    """Kernel standard deviation for ``values``, in ``unit``.

    Parameters
    ----------
    values : array-like
        1-D finite numbers, in ``unit``.
    bw_method : {"scott", "silverman"} or float, default "scott"
        Rule (see the module docstring) or the bandwidth itself, in ``unit``.
    unit : str
        One of :data:`MIN_BANDWIDTH`; sets the floor of the rules.
    discrete : bool, default False
        Whole-number data: floor :data:`MIN_BANDWIDTH_DISCRETE` instead of the unit's.
    name : str, default "values"
        What the values are, for error messages.

    Returns
    -------
    float
        Bandwidth, in ``unit``.
    """
    floor = _floor(unit, discrete)
    return _rule_bandwidth(check_values(values, name=name, discrete=discrete), bw_method, floor)


def _kernel_sum(points: np.ndarray, weights: np.ndarray | None, h: float):
    """Weighted mean of normal densities of standard deviation ``h`` centred at ``points``.

    Returns a function of the evaluation points ``x``; it sums the kernels directly, in
    blocks of ``x`` that hold about :data:`_KERNEL_ELEMENTS` kernel values at a time.
    """
    w = np.ones(points.size) if weights is None else np.asarray(weights, dtype=np.float64)
    w = w / (w.sum() * h * np.sqrt(2 * np.pi))

    def density(x: np.ndarray) -> np.ndarray:
        out = np.empty(x.size)
        block = max(1, _KERNEL_ELEMENTS // points.size)
        for start in range(0, x.size, block):
            z = (x[start:start + block, None] - points) / h
            out[start:start + block] = np.exp(-0.5 * z * z) @ w
        return out

    return density


def fit_density(values, *, unit: str, lower: float = 0.0, upper: float = np.inf,
                discrete: bool = False, bw_method: str | float = "scott",
                grid: np.ndarray | None = None, grid_points: int = 512,
                name: str = "values") -> Density:
    """Reflected Gaussian KDE of ``values`` on ``[lower, upper]``.

    Parameters
    ----------
    values : array-like
        1-D finite numbers >= ``lower``, in ``unit``; whole numbers if ``discrete``.
    unit : str
        ``"steps"``, ``"ms"``, ``"px"``, ``"deg"`` or ``"relative"``.
    lower : float, default 0.0
        Lower bound of the support (reflection point), in ``unit``.
    upper : float, default inf
        Upper bound of the support (second reflection point), in ``unit``; values above it
        are an error. Default: none.
    discrete : bool, default False
        Whole-number data: also return the exact pmf; bandwidth floor 0.5.
    bw_method : {"scott", "silverman"} or float, default "scott"
        Bandwidth rule or the bandwidth itself, in ``unit`` (see the module docstring).
    grid : array-like, optional
        Evaluation points, in ``unit``. Default: ``grid_points`` evenly spaced points from
        ``lower`` to ``max(values) + 3 * bandwidth``, or to ``upper`` if that is smaller.
    grid_points : int, default 512
        Size of the default grid.
    name : str, default "values"
        What the values are (e.g. ``"saccade distances"``), for error messages.

    Returns
    -------
    Density

    Raises
    ------
    ValueError
        On empty input, NaN or infinite values, values outside ``[lower, upper]``,
        non-integers when ``discrete``, an unknown ``unit`` or ``bw_method``, ``upper <=
        lower``, or a bad grid.

    Examples
    --------
    Fixations of 12-glimpse scanpaths last 1..12 steps: no density leaks past 12.5.

    >>> d = fit_density([1, 1, 2, 12, 12], unit="steps", lower=0.5, upper=12.5, discrete=True)
    >>> float(d.grid.max()), bool(d.density[d.grid > 12.5].sum() == 0)
    (12.5, True)
    """
    floor = _floor(unit, discrete)
    lower, upper = float(lower), float(upper)
    if not upper > lower:
        raise ValueError(f"upper bound {upper} must be above the lower bound {lower}")
    v = check_values(values, name=name, lower=lower, discrete=discrete)
    if v.max() > upper:
        i = int(np.argmax(v))
        raise ValueError(f"{name}: value {v[i]} at position {i} is above the upper bound "
                         f"{upper}")
    h = _rule_bandwidth(v, bw_method, floor)

    pmf = None
    weights = None
    if discrete:
        points, counts = np.unique(v, return_counts=True)
        weights = counts
        pmf = pd.Series(counts / v.size, index=pd.Index(points.astype(np.int64), name="value"),
                        name="pmf")
    elif v.size > BIN_THRESHOLD:
        width = h / BINS_PER_BANDWIDTH
        lo = v.min()
        bins, weights = np.unique(np.floor((v - lo) / width).astype(np.int64),
                                  return_counts=True)
        points = lo + (bins + 0.5) * width
    else:
        points = v

    if grid is None:
        if grid_points < 2:
            raise ValueError(f"grid_points must be at least 2, got {grid_points}")
        x = np.linspace(lower, min(v.max() + 3 * h, upper), int(grid_points))
    else:
        x = check_values(grid, name="grid")
    kernel = _kernel_sum(points, weights, h)
    inside = (x >= lower) & (x <= upper)
    density = np.zeros_like(x)
    density[inside] = kernel(x[inside]) + kernel(2 * lower - x[inside])
    if np.isfinite(upper):
        density[inside] += kernel(2 * upper - x[inside])
    return Density(grid=x, density=density, bandwidth=h, lower=lower, n=int(v.size), unit=unit,
                   pmf=pmf, upper=upper, floor=floor if isinstance(bw_method, str) else None)


def duration_density(durations, unit: str = "steps", *, max_steps: int | None = None,
                     **kw) -> Density:
    """Density of fixation durations.

    Parameters
    ----------
    durations : array-like
        Fixation durations: whole numbers of **glimpse steps** (>= 1) when ``unit="steps"``,
        otherwise continuous (e.g. **milliseconds**, ``unit="ms"``).
    unit : str, default "steps"
        ``"steps"``: discrete, reflected at 0.5 step, with the exact pmf. Any other unit:
        continuous, reflected at 0.
    max_steps : int, optional
        Glimpses per scanpath ``T`` (``unit="steps"``): a fixation lasts 1..T steps, so the
        density is also reflected at ``T + 0.5`` and is 0 beyond. Default: no upper bound.
    **kw
        Passed to :func:`fit_density` (may override ``lower``, ``upper`` and ``discrete``).

    >>> d = duration_density([1, 2, 2, 3, 7], max_steps=7)
    >>> (d.lower, d.upper)
    (0.5, 7.5)
    """
    steps = unit == "steps"
    options = {"lower": 0.5 if steps else 0.0, "discrete": steps,
               "name": "fixation durations", **kw}
    if max_steps is not None:
        options.setdefault("upper", max_steps + 0.5)
    return fit_density(durations, unit=unit, **options)


def distance_density(distances, unit: str = "px", **kw) -> Density:
    """Density of saccade distances (continuous, reflected at 0 or at ``lower``).

    Parameters
    ----------
    distances : array-like
        Saccade distances >= 0, in ``unit`` (default **pixels**).
    unit : str, default "px"
        ``"px"``, ``"deg"`` or ``"relative"``.
    **kw
        Passed to :func:`fit_density`: ``lower`` the smallest possible distance, e.g. the
        fixation threshold for saccades of the consecutive rule (default 0).

    >>> distance_density([6.0, 7.5, 9.0, 15.0], lower=6.0).lower
    6.0
    """
    options = {"lower": 0.0, "name": "saccade distances", **kw}
    return fit_density(distances, unit=unit, **options)


def _amount(value: float, unit: str) -> str:
    return f"{value:g} (relative units)" if unit == "relative" else f"{value:g} {unit}"


def describe_densities(densities: Mapping[str, Density]) -> str:
    """Where a set of densities is reflected and how its bandwidths are floored, in words
    (for figure captions and reports; read from the densities, so always what was done).

    Groups that share bounds are listed together, in sorted order of their names; the
    bandwidth floor is that of the rule (:data:`MIN_BANDWIDTH`), or "given" when the
    bandwidths were numbers.

    Examples
    --------
    >>> durations = {"RAM-7": duration_density([1, 2, 7], max_steps=7),
    ...              "RAM-12": duration_density([1, 12], max_steps=12)}
    >>> describe_densities(durations).split("; ")  # doctest: +NORMALIZE_WHITESPACE
    ['reflected at 0.5 and 12.5 steps (RAM-12), at 0.5 and 7.5 steps (RAM-7)',
     'bandwidth rule floored at 0.5 steps']
    >>> describe_densities({"RAM-7": distance_density([6.5, 9.0], lower=6.0)})
    'reflected at 6 px; bandwidth rule floored at 0.5 px'
    """
    if not densities:
        return "none"
    bounds: dict[tuple[float, float, str], list[str]] = {}
    for name in sorted(densities, key=str):
        d = densities[name]
        bounds.setdefault((d.lower, d.upper, d.unit), []).append(str(name))
    parts = [f"at {_amount(lower, unit)}" if not np.isfinite(upper) else
             f"at {lower:g} and {_amount(upper, unit)}" for lower, upper, unit in bounds]
    if len(parts) > 1:
        parts = [f"{p} ({', '.join(names)})" for p, names in zip(parts, bounds.values(),
                                                                 strict=True)]
    floors = sorted({(d.floor, d.unit) for d in densities.values() if d.floor is not None})
    given = any(d.floor is None for d in densities.values())
    floor = (f"bandwidth rule floored at {', '.join(_amount(f, u) for f, u in floors)}"
             + (" (none where the bandwidth was given)" if given else "") if floors
             else "bandwidth given (no floor)")
    return f"reflected {', '.join(parts)}; {floor}"
