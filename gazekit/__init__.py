"""gazekit: segment scanpaths into fixations and saccades and compare their statistics.

The input is a table of gaze positions, one row per glimpse (model) or sample/fixation
(human); see :mod:`gazekit.schema`. Typical use::

    import gazekit
    result = gazekit.analyze(["scanpaths.parquet"], "results/")   # files -> tables, figures
    table = gazekit.read_scanpaths("scanpaths.parquet")            # or step by step:
    seg = gazekit.segment(table, threshold=6.0)                    # pixels
    summary = gazekit.summarize(seg.fixations, seg.saccades, group_by="model")
    sweep = gazekit.threshold_sweep(table, [2, 4, 6, 8])           # statistics vs threshold
"""

from gazekit.analyze import AnalysisResult, analyze
from gazekit.atomic import atomic_output_dir
from gazekit.compare import compare_groups, compare_samples, compare_with_reference, normalize
from gazekit.demo import demo_path, synthetic_scanpaths
from gazekit.density import Density, distance_density, duration_density, fit_density
from gazekit.detectors import idt, ivt
from gazekit.geometry import ScreenGeometry
from gazekit.human import load_recordings, read_bids_events, read_fixation_list, read_samples
from gazekit.io import (
    iter_scanpath_chunks,
    read_scanpaths,
    write_parquet_atomic,
)
from gazekit.plot import plot_densities
from gazekit.reference import human_reference
from gazekit.schema import ScanpathError, validate
from gazekit.segment import MODES, Segmentation, segment
from gazekit.stats import summarize
from gazekit.sweep import sweep_files, threshold_sweep

__version__ = "0.1.0"

__all__ = [
    "MODES",
    "AnalysisResult",
    "Density",
    "ScanpathError",
    "ScreenGeometry",
    "Segmentation",
    "__version__",
    "analyze",
    "atomic_output_dir",
    "compare_groups",
    "compare_samples",
    "compare_with_reference",
    "demo_path",
    "distance_density",
    "duration_density",
    "fit_density",
    "human_reference",
    "idt",
    "ivt",
    "load_recordings",
    "iter_scanpath_chunks",
    "normalize",
    "plot_densities",
    "read_bids_events",
    "read_fixation_list",
    "read_samples",
    "read_scanpaths",
    "segment",
    "summarize",
    "synthetic_scanpaths",
    "sweep_files",
    "threshold_sweep",
    "validate",
    "write_parquet_atomic",
]
