"""Registry of event detectors, by name (as pymovements' ``EventDetectionLibrary``).

A detector is a function ``(t_ms, x_deg, y_deg, *, recording=None, **params) -> DataFrame``
returning the table of :func:`gazekit.detectors.common.event_table`. Its parameters after
``recording`` are keyword-only, have defaults and carry their unit in their name (``_deg``,
``_ms``, ``_deg_s``) or docstring, so that :func:`detector_parameters` can list them and the CLI
can offer them as options. Adding a detector is one file with a function decorated by
:func:`register_detector`, imported in ``gazekit/detectors/__init__.py``.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable

import pandas as pd

__all__ = [
    "DEFAULT_DETECTOR",
    "Detector",
    "detect",
    "detector_parameters",
    "get_detector",
    "list_detectors",
    "parameter_help",
    "register_detector",
    "resolve_parameters",
]

Detector = Callable[..., pd.DataFrame]
#: Name of the detector used when none is named: the one that agrees best with expert coders
#: (``benchmarks/README.md``, "Detectors against expert coders").
DEFAULT_DETECTOR = "ivt_adaptive"
_DETECTORS: dict[str, Detector] = {}
_POSITIONAL = ("t_ms", "x_deg", "y_deg")


def register_detector(detector: Detector | None = None, *, name: str | None = None):
    """Add a detector to the registry under ``name`` (default: the function's name).

    Use as a decorator, ``@register_detector`` or ``@register_detector(name="...")``.

    Raises
    ------
    ValueError
        If the name is taken, or the signature is not ``(t_ms, x_deg, y_deg, *,
        recording=None, **params)`` with a default for every parameter.

    Examples
    --------
    >>> @register_detector(name="doc-example")
    ... def nothing(t_ms, x_deg, y_deg, *, recording=None, gap_ms: float = 1.0):
    ...     ...
    >>> detector_parameters("doc-example")
    {'gap_ms': 1.0}
    >>> _ = _DETECTORS.pop("doc-example")  # keep the registry clean
    """
    def add(func: Detector) -> Detector:
        key = name or func.__name__
        if key in _DETECTORS:
            raise ValueError(f"a detector named {key!r} is already registered")
        params = list(inspect.signature(func).parameters.values())
        names = tuple(p.name for p in params[:3])
        rest = params[3:]
        if names != _POSITIONAL or not rest or rest[0].name != "recording" or any(
                p.kind is not p.KEYWORD_ONLY or p.default is p.empty for p in rest):
            raise ValueError(f"detector {key!r} must have the signature (t_ms, x_deg, y_deg, *, "
                             "recording=None, <keyword parameters with defaults>)")
        _DETECTORS[key] = func
        return func

    return add if detector is None else add(detector)


def list_detectors() -> tuple[str, ...]:
    """Names of the registered detectors, sorted.

    Examples
    --------
    >>> {"idt", "ivt"} <= set(list_detectors())
    True
    """
    return tuple(sorted(_DETECTORS))


def get_detector(name: str) -> Detector:
    """The detector registered as ``name``.

    Raises
    ------
    ValueError
        One line naming the unknown detector and the known ones.

    Examples
    --------
    >>> get_detector("ivt").__name__
    'ivt'
    """
    try:
        return _DETECTORS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown detector {name!r}; expected one of "
                         f"{', '.join(list_detectors())}") from None


def detector_parameters(name: str) -> dict[str, object]:
    """The tunable parameters of detector ``name`` and their defaults (units in the names).

    Examples
    --------
    >>> detector_parameters("idt")
    {'dispersion_deg': 1.0, 'min_duration_ms': 100.0}
    """
    params = list(inspect.signature(get_detector(name)).parameters.values())[4:]
    return {p.name: p.default for p in params}


def parameter_help(name: str) -> dict[str, str]:
    """First sentence of each parameter's description in detector ``name``'s docstring.

    Examples
    --------
    >>> parameter_help("idt")["dispersion_deg"]
    'Dispersion threshold in **degrees** (Salvucci & Goldberg 2000).'
    """
    doc = inspect.getdoc(get_detector(name)) or ""
    section = re.search(r"Parameters\n-+\n(.*?)(?:\n\n[A-Z]\w+\n-+\n|\Z)", doc, re.S)
    entries = re.findall(r"^(\w+) :[^\n]*\n((?:    [^\n]*\n?)+)", section.group(1) if section
                         else "", re.M)
    found = {key: " ".join(text.split()) for key, text in entries}
    return {key: re.split(r"(?<=\.)\s", found.get(key, ""), maxsplit=1)[0]
            for key in detector_parameters(name)}


def resolve_parameters(name: str, params: dict) -> dict[str, object]:
    """Detector ``name``'s parameters: its defaults updated with ``params``.

    Raises
    ------
    ValueError
        One line, for an unknown detector or a parameter it does not have.

    Examples
    --------
    >>> resolve_parameters("idt", {"dispersion_deg": 1.5})
    {'dispersion_deg': 1.5, 'min_duration_ms': 100.0}
    """
    defaults = detector_parameters(name)
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ValueError(f"unknown parameter {unknown[0]!r} for {name}; expected any of "
                         f"{', '.join(defaults)}")
    return {**defaults, **params}


def detect(t_ms, x_deg, y_deg, *, recording=None, method: str | None = None,
           **params) -> pd.DataFrame:
    """Run the detector named ``method`` (default :data:`DEFAULT_DETECTOR`) with ``params``.

    Raises
    ------
    ValueError
        One line, for an unknown detector or parameter (and the detector's own checks).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(300) * 2.0                          # 500 Hz, 600 ms
    >>> x = np.where(t < 300, 0.0, 5.0)                   # one jump of 5 degrees
    >>> detect(t, x, np.zeros(300), method="ivt")[["onset_ms", "duration_ms"]].values.tolist()
    [[0.0, 290.0], [310.0, 290.0]]
    """
    method = DEFAULT_DETECTOR if method is None else method
    params = resolve_parameters(method, params)
    return get_detector(method)(t_ms, x_deg, y_deg, recording=recording, **params)
