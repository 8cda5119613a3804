"""Argument checks shared by gazekit's functions and its command line.

One rule for every quantity that must be a positive, finite number (a conversion factor, a
screen size, a detector threshold): the value is checked in one place and the error reads the
same everywhere, ``<name> must be a positive finite number, got <value>``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["check_positive", "positive"]


def positive(name: str, value, *, integer: bool = False):
    """``value`` checked to be finite and > 0 (a scalar, or every element of an array).

    Parameters
    ----------
    name : str
        What the value is, for the error message (e.g. ``"px_per_degree"``).
    value : real number or array-like of real numbers
        Booleans and text are refused (``True`` is no distance, and ``"6"`` is no number).
    integer : bool, default False
        Also require whole numbers (e.g. a resolution in pixels: 1920.5 is refused rather than
        truncated).

    Returns
    -------
    float, int or numpy.ndarray
        A scalar as ``float`` (``int`` if ``integer``); an array-like as a float64 array.

    Raises
    ------
    ValueError
        One line naming ``name``, the bad value and, for an array, its position.

    Examples
    --------
    >>> positive("ms_per_step", 25)
    25.0
    >>> positive("scale", [1.0, 2.5])
    array([1. , 2.5])
    >>> positive("distance_cm", -65)
    Traceback (most recent call last):
    ...
    ValueError: distance_cm must be a positive finite number, got -65
    """
    kind = "whole number" if integer else "finite number"
    if isinstance(value, np.ndarray | list | tuple):
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be positive {kind}s, got {value!r}") from None
        if arr.size == 0:
            raise ValueError(f"{name} must be a positive {kind}, got an empty array")
        bad = ~(np.isfinite(arr) & (arr > 0))
        if integer:
            bad |= np.isfinite(arr) & (arr != np.round(arr))
        if bad.any():
            i = int(np.flatnonzero(bad.ravel())[0])
            raise ValueError(f"{name} must be a positive {kind}, got {float(arr.flat[i]):g} "
                             f"at position {i}")
        return arr
    ok = (not isinstance(value, bool) and isinstance(value, numbers.Real)
          and math.isfinite(value) and value > 0)
    if ok and integer:
        ok = float(value).is_integer()
    if not ok:
        raise ValueError(f"{name} must be a positive {kind}, got {value!r}")
    return int(value) if integer else float(value)


def check_positive(**values) -> None:
    """Check keyword values with :func:`positive`; the first bad one raises.

    Examples
    --------
    >>> check_positive(window_ms=20.0, velocity_deg_s=30)
    >>> check_positive(window_ms=0)
    Traceback (most recent call last):
    ...
    ValueError: window_ms must be a positive finite number, got 0
    """
    for name, value in values.items():
        positive(name, value)
