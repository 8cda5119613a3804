"""Scanpath similarity: MultiMatch, DTW and string edit distance between paired scanpaths.

Scanpaths of two tables (or within one) are paired when they show the same stimulus, and
each pair is compared on MultiMatch's five dimensions (:mod:`gazekit.similarity.multimatching`),
by DTW of the fixation positions and by the edit distance of grid-cell strings
(:mod:`gazekit.similarity.sequence`); :func:`summarize_pairs` gives group means with
cluster-bootstrap intervals over stimuli (:mod:`gazekit.similarity.compare`).

>>> import gazekit.similarity as sim
>>> sorted(sim.MEASURES)
['dtw', 'edit', 'multimatch']
"""

from gazekit.similarity.compare import (
    MEASURES,
    SimilarityResult,
    compare_scanpaths,
    similarity_files,
    summarize_pairs,
)
from gazekit.similarity.multimatching import DIMENSIONS, Simplification, multimatch, simplify
from gazekit.similarity.sequence import DEFAULT_GRID, dtw, edit_distance, grid_codes

__all__ = [
    "DEFAULT_GRID",
    "DIMENSIONS",
    "MEASURES",
    "SimilarityResult",
    "Simplification",
    "compare_scanpaths",
    "dtw",
    "edit_distance",
    "grid_codes",
    "multimatch",
    "similarity_files",
    "simplify",
    "summarize_pairs",
]
