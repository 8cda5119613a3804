"""Event detectors in a registry: find fixations in raw gaze samples, parameters in physical
units.

Each detector is a function ``(t_ms, x_deg, y_deg, *, recording=None, **params)`` returning one
row per fixation (:func:`~gazekit.detectors.common.event_table`); conventions shared by all
(sampling interval, durations in samples, missing data) are in :mod:`gazekit.detectors.common`.
Detectors are looked up by name::

    from gazekit import detectors
    detectors.list_detectors()                       # ('idt', 'ivt', ...)
    detectors.detector_parameters("ivt")             # {'velocity_deg_s': 30.0, ...}
    found = detectors.detect(t_ms, x_deg, y_deg, method="ivt", velocity_deg_s=40.0)

Adding a detector is one file: a function decorated with :func:`register_detector`, imported
below.
"""

from gazekit.detectors.common import (
    COLUMNS,
    duration_samples,
    sampling_intervals,
    savgol_speed,
)
from gazekit.detectors.idt import idt
from gazekit.detectors.ivt import ivt
from gazekit.detectors.ivt_adaptive import ivt_adaptive
from gazekit.detectors.registry import (
    DEFAULT_DETECTOR,
    Detector,
    detect,
    detector_parameters,
    get_detector,
    list_detectors,
    parameter_help,
    register_detector,
    resolve_parameters,
)

__all__ = [
    "COLUMNS",
    "DEFAULT_DETECTOR",
    "Detector",
    "detect",
    "detector_parameters",
    "duration_samples",
    "get_detector",
    "idt",
    "ivt",
    "ivt_adaptive",
    "list_detectors",
    "parameter_help",
    "register_detector",
    "resolve_parameters",
    "sampling_intervals",
    "savgol_speed",
]
