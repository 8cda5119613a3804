"""Tests of the detector registry: listing, lookup, parameters, errors."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

from gazekit import detectors
from gazekit.detectors import registry


def test_listing_and_lookup():
    names = detectors.list_detectors()
    assert names == tuple(sorted(names))
    assert {"idt", "ivt"} <= set(names)
    assert detectors.DEFAULT_DETECTOR in names
    assert detectors.get_detector("idt") is detectors.idt


def test_every_detector_has_introspectable_parameters():
    for name in detectors.list_detectors():
        params = detectors.detector_parameters(name)
        signature = inspect.signature(detectors.get_detector(name))
        assert list(signature.parameters)[:4] == ["t_ms", "x_deg", "y_deg", "recording"]
        assert params == {k: p.default for k, p in signature.parameters.items()
                          if k not in ("t_ms", "x_deg", "y_deg", "recording")}
        docs = detectors.parameter_help(name)
        assert set(docs) == set(params)
        assert all(docs.values()), f"{name}: a parameter has no description"
    assert detectors.detector_parameters("ivt") == {
        "velocity_deg_s": 30.0, "min_duration_ms": 60.0, "window_ms": 20.0, "polyorder": 2}


@pytest.mark.parametrize("call, message", [
    (lambda: detectors.get_detector("hmm"), "unknown detector 'hmm'; expected one of idt, ivt"),
    (lambda: detectors.detector_parameters("hmm"), "unknown detector 'hmm'"),
    (lambda: detectors.resolve_parameters("idt", {"velocity_deg_s": 30.0}),
     "unknown parameter 'velocity_deg_s' for idt; expected any of dispersion_deg, "
     "min_duration_ms"),
])
def test_errors_are_one_line(call, message):
    with pytest.raises(ValueError, match=message) as error:
        call()
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("kw, message", [
    ({"method": "hmm"}, "unknown detector 'hmm'"),
    ({"method": "idt", "velocity_deg_s": 30.0}, "unknown parameter 'velocity_deg_s' for idt"),
    ({"method": "idt", "dispersion_deg": 0.0}, "dispersion_deg must be a positive"),
    ({"method": "ivt", "min_duration_ms": -1.0}, "min_duration_ms must be a positive"),
    ({"method": "ivt", "polyorder": 1.5}, "polyorder must be a positive whole number"),
])
def test_detect_rejects_bad_parameters(kw, message, stream):
    with pytest.raises(ValueError, match=message):
        detectors.detect(*stream(300.0), **kw)


def test_detect_uses_the_defaults(stream):
    t, x, y = stream(1000.0)
    for name in detectors.list_detectors():
        pd.testing.assert_frame_equal(
            detectors.detect(t, x, y, method=name),
            detectors.get_detector(name)(t, x, y, **detectors.detector_parameters(name)))
    pd.testing.assert_frame_equal(
        detectors.detect(t, x, y), detectors.detect(t, x, y, method=detectors.DEFAULT_DETECTOR))


def test_register_checks_name_and_signature(monkeypatch):
    monkeypatch.setattr(registry, "_DETECTORS", dict(registry._DETECTORS))

    @detectors.register_detector(name="still")
    def still(t_ms, x_deg, y_deg, *, recording=None, gap_ms: float = 5.0):
        return pd.DataFrame(columns=list(detectors.COLUMNS))

    assert "still" in detectors.list_detectors()
    assert detectors.detector_parameters("still") == {"gap_ms": 5.0}
    assert detectors.detect(np.arange(3.0), np.zeros(3), np.zeros(3), method="still").empty
    with pytest.raises(ValueError, match="a detector named 'still' is already registered"):
        detectors.register_detector(still, name="still")

    def no_default(t_ms, x_deg, y_deg, *, recording=None, gap_ms):
        ...

    def positional(t_ms, x_deg, y_deg, recording=None, gap_ms=1.0):
        ...

    for func in (no_default, positional):
        with pytest.raises(ValueError, match="must have the signature"):
            detectors.register_detector(func)
