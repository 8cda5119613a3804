import numpy as np
import pandas as pd

import gazekit
from gazekit.analyze import analyze
from gazekit.density import distance_density, duration_density
from gazekit.report import markdown_table


def test_markdown_table():
    df = pd.DataFrame({"a": ["x|y", "z"], "b": [1.234567, np.nan], "c": [3, 4]})
    assert markdown_table(df) == (
        "| a | b | c |\n|---|---|---|\n| x\\|y | 1.235 | 3 |\n| z |  | 4 |")


def test_report_states_the_density_bounds_and_floors_used(tmp_path):
    """Scanpaths of 7 and of 12 glimpses: report.md names each group's reflection bounds as
    the densities drawn have them, 0.5 and T + 0.5 steps and the 6 px threshold for saccades
    (that density.py reflects there: tests/gazekit/test_plot.py), and the bandwidth floors
    (the bandwidth of values without spread)."""
    table = pd.concat([
        gazekit.synthetic_scanpaths(n_per_policy=4, steps=t, seed=t).assign(
            model=lambda df, t=t: df["model"].astype(str) + f"-{t}")
        for t in (7, 12)], ignore_index=True)
    path = gazekit.write_parquet_atomic(table, tmp_path / "scanpaths.parquet")
    result = analyze(path, tmp_path / "out", threshold=6.0, progress=False)
    line = next(x for x in result.report_path.read_text().splitlines()
                if x.startswith("- Densities:"))
    assert "lower bound" not in line
    glimpses = table.groupby(["model", "image_id"]).size().groupby("model").max()
    for group, d in result.densities["fixation_duration"].items():  # drawn within the bounds
        assert d.grid.min() == d.lower == 0.5 and d.grid.max() <= d.upper == glimpses[group] + 0.5
    for t in (7, 12):
        groups = sorted(g for g in result.densities["fixation_duration"] if g.endswith(f"-{t}"))
        assert f"at 0.5 and {t + 0.5:g} steps ({', '.join(groups)})" in line
    assert all(d.density[d.grid < 6.0].sum() == 0 and np.isinf(d.upper)
               for d in result.densities["saccade_distance"].values())
    assert "Saccade distances: reflected at 6 px;" in line
    assert f"floored at {duration_density([2, 2]).bandwidth:g} steps" in line
    assert f"floored at {distance_density([7.0, 7.0]).bandwidth:g} px" in line
    assert "at 0.5 and T + 0.5 steps" in line and "dots are the exact share" in line
