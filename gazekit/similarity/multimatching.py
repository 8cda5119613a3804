"""MultiMatch: scanpath similarity on five dimensions (Jarodzka et al. 2010; Dewhurst et al. 2012).

A scanpath of n fixations (``x``, ``y`` in **px**, a duration) is turned into n - 1 saccade
vectors, each starting at a fixation and carrying that fixation's duration. Optionally the
scanpaths are simplified first (consecutive short or collinear saccades around short
fixations are merged, :func:`simplify`). The saccades of two scanpaths are aligned by the
path through their matrix of vector differences (``|u_i - v_j|``, px) that has the lowest
summed difference, moving right, down or diagonally, as in the original MultiMatch toolbox.
Along that alignment, five medians are taken and normalised to similarities in [0, 1]
(1 = identical):

vector
    ``1 - median |u_i - v_j| / (2 * diagonal)``: shape;
direction
    ``1 - median angle(u_i, v_j) / pi``;
length
    ``1 - median | |u_i| - |v_j| | / diagonal``;
position
    ``1 - median distance between the saccades' start points / diagonal``;
duration
    ``1 - median |d_i - e_j| / max(d_i, e_j)``: unit-free, so durations may be in ms or in
    glimpse steps, but both scanpaths of a pair must use the same unit.

``diagonal`` is the screen (or image) diagonal in px. A pair in which either scanpath has
fewer than 3 fixations gets NaN on all five.

This follows the reference implementation multimatch-gaze 0.1.3 (Wagner et al. 2019) to the
letter, including its quirks: the duration of the last fixation is never compared, and when
the length rule merges the last saccade, it replaces the previous (possibly merged) vector by
the sum of the last two original saccades. The tests check agreement to 1e-6 on the
studyforrest fixation vectors.

What runs per pair and what across pairs: simplification is sequential (each merge decides
the next) and runs once per *scanpath*, not per pair. The alignment, a shortest path that
multimatch-gaze finds with one Dijkstra search per pair, is here a dynamic programme over
the anti-diagonals of the difference matrices of many pairs at once (the graph is acyclic,
so the two give the same path, apart from the choice between exactly equal paths, where this
one prefers the diagonal step, then the step down, then right). Difference matrices, the
backtracking of the paths and the five medians are computed for all pairs with array
operations; the only Python loops run over anti-diagonals and path positions.

>>> import numpy as np
>>> a = np.array([[100., 100., 250.], [300., 120., 200.], [320., 400., 300.]])
>>> b = np.array([[110., 90., 240.], [310., 130., 220.], [300., 380., 260.]])
>>> multimatch([a], [b], screen_px=(1280, 720)).round(3)
array([[0.989, 0.967, 0.989, 0.99 , 0.935]])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

__all__ = ["DIMENSIONS", "Simplification", "multimatch", "simplify"]

#: The five MultiMatch similarities, in the order of :func:`multimatch`'s columns.
DIMENSIONS: tuple[str, ...] = ("vector", "direction", "length", "position", "duration")
#: Fewest fixations a scanpath needs (multimatch-gaze's rule); shorter ones give NaN.
MIN_FIXATIONS = 3
#: Cells of the padded difference matrices held at once (about 8 bytes each, several arrays).
_BATCH_CELLS = 2_000_000
#: Relative difference below which two path costs count as equal (:func:`_align`); the sums
#: are formed as in multimatch-gaze, so equal costs are equal there too, but a few ulps of
#: slack cost nothing (such a pair is just aligned the reference's way).
_TIE = 1e-12
# Step codes of the alignment's backtracking.
_DIAGONAL, _UP, _LEFT = 0, 1, 2


@dataclass(frozen=True)
class Simplification:
    """Thresholds of MultiMatch's scanpath simplification (multimatch-gaze's grouping).

    Two consecutive saccades are merged into one when the fixation between them (or, for the
    length rule, next to them) is shorter than ``duration`` and either the angle between them
    is below ``direction_deg`` or the first is shorter than ``amplitude_px``. A threshold of 0
    disables its rule; with ``duration`` 0 nothing is merged. multimatch-gaze's command line
    applies grouping only when both ``amplitude_px`` and ``direction_deg`` are non-zero; its
    Python function ``docomparison(..., grouping=True)``, which this matches, applies
    whichever rules have a non-zero threshold.

    Parameters
    ----------
    amplitude_px : float, default 0
        TAmp, saccade length in **px**.
    direction_deg : float, default 0
        TDir, angle between consecutive saccades in **degrees**.
    duration : float, default 0
        TDur, fixation duration in the unit of the durations (ms for human data, glimpse
        steps for model scanpaths; multimatch-gaze's examples use seconds).

    Examples
    --------
    >>> Simplification(amplitude_px=150.0, direction_deg=45.0, duration=50.0).active
    True
    """

    amplitude_px: float = 0.0
    direction_deg: float = 0.0
    duration: float = 0.0

    def __post_init__(self) -> None:
        for name in ("amplitude_px", "direction_deg", "duration"):
            value = getattr(self, name)
            if not 0 <= value < np.inf:
                raise ValueError(f"simplification {name} must be finite and >= 0, got {value}")

    @property
    def active(self) -> bool:
        """Whether any merge is possible (a duration and an amplitude or direction threshold)."""
        return self.duration > 0 and (self.amplitude_px > 0 or self.direction_deg > 0)


@dataclass
class _Vectors:
    """Saccade vectors of one scanpath: start ``x``, ``y`` and extent ``dx``, ``dy`` (px),
    and the fixation durations ``dur`` (a list, as long as multimatch-gaze's)."""

    x: list[float]
    y: list[float]
    dx: list[float]
    dy: list[float]
    dur: list[float]

    @classmethod
    def of(cls, fixations: np.ndarray) -> _Vectors:
        x, y, dur = (fixations[:, k].tolist() for k in range(3))
        return cls(x[:-1], y[:-1], np.diff(fixations[:, 0]).tolist(),
                   np.diff(fixations[:, 1]).tolist(), dur)

    def keep(self, out: _Vectors, i: int) -> None:
        out.x.append(self.x[i])
        out.y.append(self.y[i])
        out.dx.append(self.dx[i])
        out.dy.append(self.dy[i])
        out.dur.append(self.dur[i])

    def merge(self, out: _Vectors, i: int) -> None:
        """Saccades i and i + 1 as one, starting at i with the duration of fixation i."""
        out.x.append(self.x[i])
        out.y.append(self.y[i])
        out.dx.append(self.dx[i] + self.dx[i + 1])
        out.dy.append(self.dy[i] + self.dy[i + 1])
        out.dur.append(self.dur[i])


def _by_direction(path: _Vectors, rule: Simplification) -> _Vectors:
    """One pass of multimatch-gaze's ``simdir``."""
    n = len(path.dx)
    if n < 1:
        return path
    dx, dy = np.asarray(path.dx), np.asarray(path.dy)
    norm = np.sqrt(dx * dx + dy * dy)
    with np.errstate(invalid="ignore", divide="ignore"):  # zero-length saccades: NaN, no merge
        cos = (dx[:-1] * dx[1:] + dy[:-1] * dy[1:]) / (norm[:-1] * norm[1:])
        angle = np.degrees(np.arccos(cos))
    out = _Vectors([], [], [], [], [])
    i = 0
    while i < n:
        if i < n - 1 and angle[i] < rule.direction_deg and path.dur[i + 1] < rule.duration:
            path.merge(out, i)
            i += 2
        else:
            path.keep(out, i)
            i += 1
    out.dur.append(path.dur[-1])
    return out


def _by_length(path: _Vectors, rule: Simplification) -> _Vectors:
    """One pass of multimatch-gaze's ``simlen``."""
    n = len(path.dx)
    if n < 1:
        return path
    rho = np.hypot(np.asarray(path.dx), np.asarray(path.dy))
    dur = path.dur
    out = _Vectors([], [], [], [], [])
    i = 0
    while i < n:
        short = rho[i] < rule.amplitude_px
        if i == n - 1:
            # A single saccade has nothing to merge with (multimatch-gaze raises IndexError).
            if short and n > 1 and (dur[-1] < rule.duration or dur[-2] < rule.duration):
                # multimatch-gaze's rule for the last saccade: the previous output vector
                # becomes the sum of the last two *input* saccades, and a duration is added.
                out.dx[-1] = path.dx[-2] + path.dx[-1]
                out.dy[-1] = path.dy[-2] + path.dy[-1]
                out.dur.append(dur[i - 1])
            else:
                path.keep(out, i)
            i += 1
        elif short and (dur[i + 1] < rule.duration or dur[i] < rule.duration):
            path.merge(out, i)
            i += 2
        else:
            path.keep(out, i)
            i += 1
    out.dur.append(dur[-1])
    return out


def simplify(fixations: np.ndarray, rule: Simplification) -> np.ndarray:
    """Simplify one scanpath as multimatch-gaze's ``simplify_scanpath`` does.

    Direction and length passes alternate until the number of durations stops changing.

    Parameters
    ----------
    fixations : ndarray, shape (n, 3)
        ``x``, ``y`` (**px**) and duration of each fixation, n >= 2.
    rule : Simplification
        Thresholds.

    Returns
    -------
    ndarray, shape (k, 5)
        One row per remaining saccade: start ``x``, ``y``, extent ``dx``, ``dy`` (**px**) and
        the duration of the fixation it leaves.

    Examples
    --------
    >>> fix = np.array([[0., 0., 300.], [10., 0., 20.], [20., 0., 300.], [20., 50., 300.]])
    >>> simplify(fix, Simplification(direction_deg=30.0, duration=50.0))
    array([[  0.,   0.,  20.,   0., 300.],
           [ 20.,   0.,   0.,  50., 300.]])
    """
    path = _Vectors.of(np.asarray(fixations, dtype=np.float64))
    if rule.active:
        previous = len(path.dur)
        while True:
            path = _by_length(_by_direction(path, rule), rule)
            if len(path.dur) == previous:
                break
            previous = len(path.dur)
    k = len(path.dx)
    return np.column_stack([path.x, path.y, path.dx, path.dy, path.dur[:k]])


def _stack(vectors: list[np.ndarray | None]) -> tuple[np.ndarray, np.ndarray]:
    """Saccade arrays stacked into (S, L, 5), zero-padded, and their lengths (0 for None)."""
    lengths = np.array([0 if v is None else len(v) for v in vectors], dtype=np.intp)
    out = np.zeros((len(vectors), max(1, lengths.max(initial=0)), 5))
    for k, v in enumerate(vectors):  # one copy per scanpath, not per pair
        if v is not None:
            out[k, :len(v)] = v
    return out, lengths


def _align(diff: np.ndarray, n: np.ndarray,
           m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lowest-cost monotone paths through the difference matrices of P pairs at once.

    ``diff`` (P, N, M) holds each pair's matrix in its top-left ``n[p] x m[p]`` corner. The
    cost of a path from (0, 0) to (n - 1, m - 1) is the sum of the cells it enters, as in
    multimatch-gaze's graph, summed in the same order as its Dijkstra search. Returns the
    cells of each path from (0, 0) on, ``rows`` and ``cols`` (P, N + M - 1), padded with -1,
    and ``tied`` (P,): whether the path passes a cell whose cheapest predecessors cost the
    same (then Dijkstra's choice depends on its heap, see :func:`_dijkstra_path`).
    """
    p, big_n, big_m = diff.shape
    cost = np.full((p, big_n + 1, big_m + 1), np.inf)  # a border of inf above and left
    cost[:, 1, 1] = 0.0
    step = np.zeros((p, big_n, big_m), dtype=np.int8)
    tie = np.zeros((p, big_n, big_m), dtype=bool)
    for s in range(1, big_n + big_m - 1):  # cells with i + j == s depend on s - 1 and s - 2
        i = np.arange(max(0, s - big_m + 1), min(s, big_n - 1) + 1)
        j = s - i
        before = np.stack([cost[:, i, j], cost[:, i, j + 1], cost[:, i + 1, j]])
        choice = np.argmin(before, axis=0)  # first minimum: diagonal, then up, then left
        best = np.take_along_axis(before, choice[None], 0)[0]
        cost[:, i + 1, j + 1] = diff[:, i, j] + best
        step[:, i, j] = choice
        tie[:, i, j] = (before <= best + _TIE * np.abs(best)).sum(axis=0) > 1
    length = big_n + big_m - 1
    rows = np.full((p, length), -1)
    cols = np.full((p, length), -1)
    tied = np.zeros(p, dtype=bool)
    i, j = n - 1, m - 1
    done = np.zeros(p, dtype=bool)
    pairs = np.arange(p)
    for k in range(length):  # backwards from the end to (0, 0)
        rows[~done, k], cols[~done, k] = i[~done], j[~done]
        done |= (i == 0) & (j == 0)
        if done.all():
            break
        tied |= ~done & tie[pairs, i, j]
        move = step[pairs, i, j]
        i = np.where(~done & (move != _LEFT), i - 1, i)
        j = np.where(~done & (move != _UP), j - 1, j)
    ends = (rows >= 0).sum(axis=1)
    order = ends[:, None] - 1 - np.arange(length)[None]  # reversed, padding after the end
    valid = order >= 0
    take = np.where(valid, order, 0)
    return (np.where(valid, np.take_along_axis(rows, take, 1), -1),
            np.where(valid, np.take_along_axis(cols, take, 1), -1), tied)


def _dijkstra_path(diff: np.ndarray) -> np.ndarray:
    """multimatch-gaze's alignment of one pair: its graph, in its edge order, searched by
    :func:`scipy.sparse.csgraph.dijkstra`, so that equal-cost paths resolve as there.

    Returns the cells of the path, shape (L, 2), from (0, 0) on.
    """
    n, m = diff.shape
    node = np.arange(n * m).reshape(n, m)
    inner = node[:-1, :-1].ravel()
    # Per node: right, down, diagonal; the last row only right, the last column only down,
    # the last node a loop to itself (multimatch-gaze's createdirectedgraph).
    src = np.concatenate([np.repeat(inner, 3), node[-1, :-1], node[:-1, -1], [n * m - 1]])
    dst = np.concatenate([(inner[:, None] + [1, m, m + 1]).ravel(), node[-1, 1:],
                          node[1:, -1], [n * m - 1]])
    weight = np.append(diff.ravel()[dst[:-1]], 0.0)
    order = np.argsort(src, kind="stable")  # node by node, as multimatch-gaze appends them
    graph = sparse.coo_matrix((weight[order], (src[order], dst[order])),
                              shape=(n * m, n * m)).tocsr()
    _, predecessors = csgraph.dijkstra(graph, directed=True, indices=0,
                                       return_predecessors=True)
    path = [n * m - 1]
    while path[-1] != 0:
        path.append(predecessors[path[-1]])
    return np.column_stack(np.divmod(np.array(path[::-1]), m))


def _medians(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Median of each row over its ``valid`` entries (NaN if one of them is NaN)."""
    count = valid.sum(axis=1)
    has_nan = (np.isnan(values) & valid).any(axis=1)
    ordered = np.sort(np.where(valid, values, np.inf), axis=1)
    rows = np.arange(len(values))
    low, high = ordered[rows, (count - 1) // 2], ordered[rows, count // 2]
    return np.where(has_nan, np.nan, (low + high) / 2)


def _angle(theta: np.ndarray) -> np.ndarray:
    """An angle from arctan2, (-pi, pi], mapped to [0, 2 pi) as multimatch-gaze does."""
    return np.where(theta < 0, np.pi + (np.pi + theta), theta)


def _batch(va: np.ndarray, na: np.ndarray, vb: np.ndarray, nb: np.ndarray) -> np.ndarray:
    """The five unnormalised medians of P pairs of padded saccade arrays."""
    diff = np.sqrt((va[:, :, None, 2] - vb[:, None, :, 2]) ** 2
                   + (va[:, :, None, 3] - vb[:, None, :, 3]) ** 2)
    rows, cols, tied = _align(diff, na, nb)
    for k in np.flatnonzero(tied):  # rare: equal-cost paths; take multimatch-gaze's
        cells = _dijkstra_path(diff[k, :na[k], :nb[k]])
        rows[k], cols[k] = -1, -1
        rows[k, :len(cells)], cols[k, :len(cells)] = cells[:, 0], cells[:, 1]
    valid = rows >= 0
    r, c = np.where(valid, rows, 0), np.where(valid, cols, 0)
    a = np.take_along_axis(va, r[:, :, None], 1)  # (P, L, 5): saccade of A at each path cell
    b = np.take_along_axis(vb, c[:, :, None], 1)
    vector = np.sqrt((a[..., 2] - b[..., 2]) ** 2 + (a[..., 3] - b[..., 3]) ** 2)
    turn = np.abs(_angle(np.arctan2(a[..., 3], a[..., 2]))
                  - _angle(np.arctan2(b[..., 3], b[..., 2])))
    direction = np.where(turn > np.pi, 2 * np.pi - turn, turn)
    length = np.abs(np.sqrt(a[..., 2] ** 2 + a[..., 3] ** 2)
                    - np.sqrt(b[..., 2] ** 2 + b[..., 3] ** 2))
    position = np.sqrt((a[..., 0] - b[..., 0]) ** 2 + (a[..., 1] - b[..., 1]) ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):  # two zero durations: NaN
        duration = np.abs(a[..., 4] - b[..., 4]) / np.abs(np.maximum(a[..., 4], b[..., 4]))
    return np.stack([_medians(v, valid)
                     for v in (vector, direction, length, position, duration)], axis=1)


def multimatch(a: Sequence[np.ndarray], b: Sequence[np.ndarray], screen_px,
               pairs: tuple[np.ndarray, np.ndarray] | None = None,
               simplification: Simplification | None = None) -> np.ndarray:
    """MultiMatch similarities of pairs of scanpaths (module docstring).

    Parameters
    ----------
    a, b : sequence of ndarray, each of shape (n, 3)
        Scanpaths as fixation lists: ``x``, ``y`` (**px**) and duration (any unit, the same
        within a pair) per fixation, in order.
    screen_px : (float, float) or ndarray of shape (P, 2)
        Width and height (**px**) of the screen or image the positions refer to, for all
        pairs or per pair: its diagonal normalises vector, length and position.
    pairs : (ndarray, ndarray), optional
        Indices into ``a`` and ``b`` of the pairs to compare; default ``a[k]`` with ``b[k]``.
        A scanpath that occurs in several pairs is simplified once.
    simplification : Simplification, optional
        Merge short or collinear saccades first (default: none, multimatch-gaze's default).

    Returns
    -------
    ndarray, shape (P, 5)
        Vector, direction, length, position and duration similarity per pair, each in
        [0, 1]; NaN for a pair with a scanpath of fewer than 3 fixations.

    Examples
    --------
    >>> fix = np.array([[0., 0., 1.], [100., 0., 2.], [100., 100., 1.], [0., 100., 3.]])
    >>> multimatch([fix], [fix], screen_px=(640, 480))
    array([[1., 1., 1., 1., 1.]])
    """
    rule = simplification or Simplification()
    if pairs is None:
        if len(a) != len(b):
            raise ValueError(f"a and b pair element by element and need the same length, got "
                             f"{len(a)} and {len(b)}")
        pairs = (np.arange(len(a)), np.arange(len(b)))
    ia, ib = (np.asarray(p, dtype=np.intp) for p in pairs)
    screen = np.broadcast_to(np.asarray(screen_px, dtype=np.float64), (len(ia), 2))
    if not (np.isfinite(screen) & (screen > 0)).all():
        raise ValueError("screen_px must be positive and finite (width, height in px)")

    def vectors(paths: Sequence[np.ndarray], used: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out: list[np.ndarray | None] = [None] * len(paths)
        for k in np.unique(used):
            fix = np.asarray(paths[k], dtype=np.float64)
            if fix.ndim != 2 or fix.shape[1] != 3:
                raise ValueError(f"scanpath {k} has shape {fix.shape}; expected (n, 3): x, y "
                                 "(px) and duration per fixation")
            if len(fix) >= MIN_FIXATIONS:
                out[k] = simplify(fix, rule)
        return _stack(out)

    if b is a:  # pairs within one set: simplify each scanpath once
        stack_a, len_a = stack_b, len_b = vectors(a, np.concatenate([ia, ib]))
    else:
        (stack_a, len_a), (stack_b, len_b) = vectors(a, ia), vectors(b, ib)
    n, m = len_a[ia], len_b[ib]
    result = np.full((len(ia), 5), np.nan)
    # Pairs of similar size share a batch, so that little of a padded matrix is wasted.
    ok = np.flatnonzero((n > 0) & (m > 0))
    size = np.maximum(n, m)[ok]
    order = np.argsort(size, kind="stable")
    ok, size = ok[order], size[order]
    start = 0
    while start < len(ok):
        # Sizes ascend, so the pairs that fit in one batch are a prefix of the rest.
        fits = np.arange(1, len(ok) - start + 1) * size[start:] ** 2 <= _BATCH_CELLS
        stop = start + max(1, int(fits.sum()))
        chunk = ok[start:stop]
        big_n, big_m = n[chunk].max(), m[chunk].max()
        result[chunk] = _batch(stack_a[ia[chunk], :big_n], n[chunk],
                               stack_b[ib[chunk], :big_m], m[chunk])
        start = stop
    diagonal = np.sqrt(screen[:, 0] ** 2 + screen[:, 1] ** 2)
    return np.column_stack([1 - result[:, 0] / (2 * diagonal), 1 - result[:, 1] / np.pi,
                            1 - result[:, 2] / diagonal, 1 - result[:, 3] / diagonal,
                            1 - result[:, 4]])
