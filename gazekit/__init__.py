"""gazekit: segment scanpaths into fixations and saccades and compare their statistics.

The input is a table of gaze positions, one row per glimpse (model) or sample/fixation
(human); see :mod:`gazekit.schema`. Typical use::

    import gazekit
    result = gazekit.analyze(["scanpaths.parquet"], "results/")   # files -> tables, figures
    table = gazekit.read_scanpaths("scanpaths.parquet")            # or step by step:
    seg = gazekit.segment(table, threshold=6.0)                    # pixels
    summary = gazekit.summarize(seg.fixations, seg.saccades, group_by="model")
    sweep = gazekit.threshold_sweep(table, [2, 4, 6, 8])           # statistics vs threshold

A new public name is added to ``_EXPORTS`` below: the names are imported on first use.
"""

import importlib
import sys
import types

__version__ = "0.1.0"

#: Public names and the module of each. They are imported on first use (PEP 562), so that
#: ``import gazekit`` stays fast: the analysis pulls in scipy.stats and the figures
#: matplotlib, which a script that only reads tables or detects fixations never needs.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "gazekit.analyze": ("AnalysisResult", "analyze"),
    "gazekit.atomic": ("atomic_output_dir",),
    "gazekit.compare": ("compare_groups", "compare_samples", "compare_with_reference",
                        "normalize"),
    "gazekit.demo": ("demo_path", "synthetic_scanpaths"),
    "gazekit.density": ("Density", "distance_density", "duration_density", "fit_density"),
    "gazekit.detectors": ("idt", "ivt"),
    "gazekit.geometry": ("ScreenGeometry",),
    "gazekit.human": ("load_recordings",),
    "gazekit.interop": ("from_pymovements", "to_pymovements", "write_bids_events"),
    "gazekit.io": ("iter_scanpath_chunks", "read_scanpaths", "write_parquet_atomic"),
    "gazekit.plot": ("plot_densities",),
    "gazekit.readers": ("read_bids_events", "read_fixation_list", "read_samples"),
    "gazekit.reference": ("human_reference",),
    "gazekit.schema": ("ScanpathError", "validate"),
    "gazekit.segment": ("MODES", "Segmentation", "segment"),
    "gazekit.similarity": ("compare_scanpaths", "multimatch", "similarity_files"),
    "gazekit.stats": ("summarize",),
    "gazekit.sweep": ("sweep_files", "threshold_sweep"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str):
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'gazekit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULE_OF})


class _Package(types.ModuleType):
    """Keeps ``gazekit.analyze`` and ``gazekit.segment`` the functions.

    Importing a submodule sets it as an attribute of the package; where a public function
    has the submodule's name (``gazekit.analyze.analyze``), the function is bound instead,
    as an eager ``from gazekit.analyze import analyze`` in this file would do.
    """

    def __setattr__(self, name: str, value: object) -> None:
        if isinstance(value, types.ModuleType) and _MODULE_OF.get(name) == value.__name__:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


__all__ = ["__version__", *sorted(_MODULE_OF)]
