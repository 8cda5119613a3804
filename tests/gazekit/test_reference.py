"""The built-in human reference table keeps the values of Rayner (1998), Table 1."""

import pandas as pd

from gazekit import reference
from gazekit.reference import human_reference


def test_values_as_cited():
    ref = human_reference()
    assert list(ref.columns) == ["task", "mean_fixation_ms", "mean_saccade_deg", "source"]
    expected = pd.DataFrame({
        "task": ["silent reading", "oral reading", "scene perception", "visual search"],
        "mean_fixation_ms": [225.0, 275.0, 330.0, 275.0],
        "mean_saccade_deg": [2.0, 1.5, 4.0, 3.0],
    })
    pd.testing.assert_frame_equal(ref.drop(columns="source"), expected)
    assert ref["source"].str.contains("Rayner (1998)", regex=False).all()


def test_full_citation_in_module_docstring():
    doc = reference.__doc__
    for part in ("Rayner, K. (1998)", "Psychological Bulletin", "124(3), 372-422", "Table 1"):
        assert part in doc


def test_returns_a_fresh_table():
    first = human_reference()
    first.loc[0, "mean_fixation_ms"] = 0.0
    assert human_reference().loc[0, "mean_fixation_ms"] == 225.0
