"""Shared by the analysis tests: no shipped weights (fake runs only), and the gaze statistics
of a zoo export by a plain loop (the reference)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


def _naive_gaze(export: Path, threshold: float = 6.0) -> dict[str, float]:
    """Fixational share, mean fixation length (glimpses) and mean saccade distance (px) of an
    export, consecutive rule, by a plain loop over scanpaths and glimpses."""
    df = pd.read_parquet(export).sort_values(["image_id", "step"])
    short = transitions = 0
    lengths, jumps = [], []
    for _, path in df.groupby("image_id"):
        xy = path[["x", "y"]].to_numpy()
        length = 1
        for a, b in zip(xy[:-1], xy[1:], strict=True):
            transitions += 1
            if math.dist(a, b) < threshold:
                short, length = short + 1, length + 1
            else:
                lengths.append(length)
                jumps.append(math.dist(a, b))
                length = 1
        lengths.append(length)
    return {"fixational_share": short / transitions,
            "fixation_steps_mean": float(np.mean(lengths)),
            "saccade_px_mean": float(np.mean(jumps)) if jumps else math.nan}


@pytest.fixture(scope="session", autouse=True)
def no_shipped_weights(tmp_path_factory):
    """An empty ``ZOO_WEIGHTS``: the shipped weights of the real runs must not stand in for the
    tests' fake runs of the same names (:mod:`analysis.standins`). A test that wants shipped
    weights points ``ZOO_WEIGHTS`` elsewhere with ``monkeypatch``."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZOO_WEIGHTS", str(tmp_path_factory.mktemp("no-weights")))
        yield


@pytest.fixture
def naive_gaze() -> Callable[..., dict[str, float]]:
    """:func:`_naive_gaze`, the independent reference for gazekit's summary of an export."""
    return _naive_gaze
