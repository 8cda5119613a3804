"""Sequence distances between scanpaths: dynamic time warping and string edit distance.

:func:`dtw` warps the fixation positions (**px**) of two scanpaths onto each other with
`dtaidistance <https://dtaidistance.readthedocs.io>`_: the distance is the square root of
the smallest sum, over a monotone alignment of the two position sequences, of squared
Euclidean distances between aligned fixations (px). Durations play no part.

:func:`edit_distance` is the string-edit comparison of scanpaths (Brandt & Stark 1997;
Foulsham & Underwood 2008; the letter coding that ScanMatch, Cristino et al. 2010, builds on):
the image is cut into a grid of equal cells (default 5 x 5), each fixation becomes the letter
of its cell, and two scanpaths are compared by the Levenshtein distance of their letter
strings (insertions, deletions and substitutions cost 1; computed with
`rapidfuzz <https://rapidfuzz.github.io/RapidFuzz/>`_). Repeated letters are kept (no
collapsing of refixations within a cell) and durations are ignored, unlike ScanMatch's
temporal binning. The similarity is ``1 - distance / max(len_a, len_b)``.

Both compute all pairs of one stimulus in one call of the library's compiled code.

>>> import numpy as np
>>> a = np.array([[10., 10.], [50., 10.], [90., 90.]])
>>> b = np.array([[10., 12.], [90., 90.]])
>>> round(float(dtw([a], [b])[0, 0]), 3)
40.1
>>> grid_codes(a, (100, 100), (2, 2)).tolist()
[0, 1, 3]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["DEFAULT_GRID", "dtw", "edit_distance", "grid_codes"]

#: Cells (columns, rows) of the grid of :func:`edit_distance`.
DEFAULT_GRID: tuple[int, int] = (5, 5)


def dtw(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> np.ndarray:
    """DTW distances (**px**) between every scanpath of ``a`` and every one of ``b``.

    Parameters
    ----------
    a, b : sequence of ndarray, each of shape (n, 2)
        Fixation positions ``x``, ``y`` in **px**, in order (n >= 1).

    Returns
    -------
    ndarray, shape (len(a), len(b))
        ``sqrt(min sum of squared distances along a warping path)``, px (dtaidistance's
        ``dtw_ndim`` with its default squared Euclidean inner distance).

    Examples
    --------
    >>> path = np.array([[0., 0.], [3., 4.]])
    >>> dtw([path], [path, path + [3., 4.]]).tolist()
    [[0.0, 7.0710678118654755]]
    """
    from dtaidistance import dtw_ndim

    series = [np.ascontiguousarray(s, dtype=np.float64) for s in (*a, *b)]
    for s in series:
        if s.ndim != 2 or s.shape[1] != 2 or len(s) == 0:
            raise ValueError(f"a scanpath has shape {s.shape}; expected (n >= 1, 2): x, y in px")
    n_a = len(a)
    if n_a == 0 or len(b) == 0:
        return np.zeros((n_a, len(b)))
    full = dtw_ndim.distance_matrix(series, ndim=2, block=((0, n_a), (n_a, len(series))),
                                    use_c=True, compact=False, parallel=False)
    return np.asarray(full)[:n_a, n_a:]


def grid_codes(xy: np.ndarray, screen_px, grid: tuple[int, int] = DEFAULT_GRID) -> np.ndarray:
    """The grid cell of each fixation, numbered row by row from the top-left (0-based).

    Parameters
    ----------
    xy : ndarray, shape (n, 2)
        Positions in **px** (origin top-left, y downwards); positions off the image count
        into the nearest edge cell.
    screen_px : (float, float)
        Width and height of the image or screen, **px**.
    grid : (int, int), default (5, 5)
        Number of columns and rows.

    Returns
    -------
    ndarray of int, shape (n,)

    Examples
    --------
    >>> grid_codes(np.array([[0., 0.], [99., 0.], [0., 99.], [150., -5.]]), (100, 100), (2, 2))
    array([0, 1, 2, 1])
    """
    cols, rows = grid
    if cols < 1 or rows < 1:
        raise ValueError(f"grid must have at least 1 column and 1 row, got {grid}")
    xy = np.asarray(xy, dtype=np.float64)
    col = np.clip(np.floor(xy[:, 0] / screen_px[0] * cols), 0, cols - 1).astype(np.int64)
    row = np.clip(np.floor(xy[:, 1] / screen_px[1] * rows), 0, rows - 1).astype(np.int64)
    return row * cols + col


def edit_distance(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> np.ndarray:
    """Levenshtein distances between grid-cell sequences, every ``a`` against every ``b``.

    Parameters
    ----------
    a, b : sequence of ndarray of int
        Cell codes (:func:`grid_codes`), one array per scanpath.

    Returns
    -------
    ndarray of int, shape (len(a), len(b))
        Fewest insertions, deletions and substitutions that turn one sequence into the
        other.

    Examples
    --------
    >>> edit_distance([np.array([0, 1, 3])], [np.array([0, 3]), np.array([2, 1, 3, 3])])
    array([[1, 2]])
    """
    from rapidfuzz.distance import Levenshtein
    from rapidfuzz.process import cdist

    # One character per cell; private-use code points keep any grid size printable-safe.
    def text(codes: np.ndarray) -> str:
        return "".join(map(chr, (np.asarray(codes, dtype=np.int64) + 0xE000).tolist()))

    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), dtype=np.int64)
    out = cdist([text(s) for s in a], [text(s) for s in b], scorer=Levenshtein.distance,
                dtype=np.int64, workers=1)
    return np.asarray(out, dtype=np.int64)
