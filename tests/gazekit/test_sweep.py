"""Tests of gazekit.sweep (threshold_sweep, sweep_files) and gazekit.plot.plot_threshold_sweep.

References: a plain-Python loop over scanpaths and glimpses (consecutive rule), and
``summarize(*segment(table, t, mode))`` at each threshold (every rule).
"""

from __future__ import annotations

import math
import os
import re
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

import gazekit.plot
from gazekit.atomic import write_atomically
from gazekit.io import read_scanpaths
from gazekit.plot import group_colors, plot_threshold_sweep
from gazekit.schema import ScanpathError, validate
from gazekit.segment import MODES, segment
from gazekit.stats import summarize
from gazekit.sweep import COLUMNS, DEFAULT_THRESHOLDS, sweep_files, threshold_sweep

# Statistics that threshold_sweep shares with summarize (same names, same definitions).
SHARED = COLUMNS[2:]


def random_paths(seed: int = 0) -> dict[tuple[str, int], list[tuple[float, float]]]:
    """(model, image_id) -> glimpses (x, y) in px, scanpaths in table order.

    Models "b" then "a" (first appearance is not sorted order) with 1-12 glimpses on a 0.5 px
    grid, so that many steps lie exactly on a threshold (e.g. (3, 4) -> 5 px); model "c" has
    one-glimpse scanpaths only (no transitions, no saccades).
    """
    rng = np.random.default_rng(seed)
    paths: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for i in range(40):
        model = "b" if i % 3 == 0 else "a"
        n = int(rng.integers(1, 13))
        # Small and large steps: both sides of every threshold swept.
        steps = rng.choice([0.0, 0.5, 1.0, 3.0, 4.0, 6.0, 8.0], size=(n, 2))
        xy = np.cumsum(steps * rng.choice([-1.0, 1.0], size=(n, 2)), axis=0)
        paths[(model, i)] = [(float(x), float(y)) for x, y in xy]
    for i in range(40, 43):
        paths[("c", i)] = [(float(i), 1.0)]
    return paths


def to_table(paths: dict[tuple[str, int], list[tuple[float, float]]]) -> pd.DataFrame:
    """Validated scanpath table (model, image_id, step, x, y), as in test_analyze."""
    rows = [{"model": m, "image_id": i, "step": k, "x": x, "y": y}
            for (m, i), points in paths.items() for k, (x, y) in enumerate(points)]
    return validate(pd.DataFrame(rows))


def naive_sweep(paths: dict[tuple[str, int], list[tuple[float, float]]],
                thresholds: list[float]) -> pd.DataFrame:
    """Consecutive rule by a plain loop: a step shorter than t stays in the fixation."""
    models = list(dict.fromkeys(m for m, _ in paths))
    rows = []
    for model in models:
        mine = [pts for (m, _), pts in paths.items() if m == model]
        for t in sorted(thresholds):
            lengths, jumps, transitions = [], [], 0
            for pts in mine:
                length = 1
                for a, b in zip(pts[:-1], pts[1:], strict=True):
                    transitions += 1
                    if math.dist(a, b) < t:
                        length += 1
                    else:
                        lengths.append(length)
                        jumps.append(math.dist(a, b))
                        length = 1
                lengths.append(length)
            rows.append({
                "group": model, "threshold_px": float(t), "scanpaths": len(mine),
                "glimpses": sum(map(len, mine)), "fixations": len(mine) + len(jumps),
                "saccades": len(jumps), "fixations_per_scanpath": len(lengths) / len(mine),
                "fixational_share": (transitions - len(jumps)) / transitions if transitions
                else math.nan,
                "fixation_steps_mean": statistics.mean(lengths),
                "fixation_steps_median": float(statistics.median(lengths)),
                "saccade_px_mean": statistics.mean(jumps) if jumps else math.nan,
                "saccade_px_median": statistics.median(jumps) if jumps else math.nan,
            })
    return pd.DataFrame(rows)


def assert_same(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(actual["group"]) == list(expected["group"])
    for column in COLUMNS[1:]:
        np.testing.assert_allclose(actual[column].to_numpy(float),
                                   expected[column].to_numpy(float), rtol=1e-12,
                                   err_msg=column)


# --- against independent computations ------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_consecutive_matches_plain_loop(seed):
    paths = random_paths(seed)
    thresholds = [12, 0.5, 5, 4.5, 6, 0, 1, 8]  # unsorted; 5, 6 and 8 hit exact steps
    out = threshold_sweep(to_table(paths), thresholds)
    assert list(out.columns) == list(COLUMNS)
    assert_same(out, naive_sweep(paths, thresholds))
    assert list(dict.fromkeys(out["group"])) == ["b", "a", "c"]
    # "c": one-glimpse scanpaths, so no transitions and no saccades.
    c = out[out["group"] == "c"]
    assert c["fixational_share"].isna().all() and c["saccade_px_mean"].isna().all()


@pytest.mark.parametrize("mode", MODES)
def test_every_row_equals_summarize_of_segment(mode):
    table = to_table(random_paths(2))
    thresholds = [1.5, 4, 6, 9]
    out = threshold_sweep(table, thresholds, mode=mode)
    for t in thresholds:
        seg = segment(table, t, mode)
        expected = summarize(seg.fixations, seg.saccades, "model", n_resamples=2)
        assert_same(out[out["threshold_px"] == t].reset_index(drop=True),
                    expected.assign(threshold_px=float(t)))


@pytest.mark.parametrize("group_by", [None, "model"])
def test_one_group_without_group_column(group_by):
    """None, or the default column where the table lacks it: one group "all"."""
    table = to_table(random_paths(3))
    if group_by == "model":
        table = table.drop(columns="model")  # image_id alone still tells the scanpaths apart
    out = threshold_sweep(table, [3, 6], group_by=group_by)
    seg = segment(table, 6.0)
    expected = summarize(seg.fixations, seg.saccades, None, n_resamples=2)
    assert list(out["group"]) == ["all", "all"]
    assert_same(out.iloc[[1]].reset_index(drop=True), expected.assign(threshold_px=6.0))


# --- properties ----------------------------------------------------------------------------


def largest_step(table: pd.DataFrame) -> float:
    """Largest distance (px) between consecutive glimpses of one scanpath."""
    same = table["_scanpath"].to_numpy()[1:] == table["_scanpath"].to_numpy()[:-1]
    return float(np.hypot(np.diff(table["x"]), np.diff(table["y"]))[same].max())


def test_consecutive_monotone_and_one_fixation_above_the_largest_step():
    table = to_table(random_paths(4))
    top = largest_step(table)
    above = float(np.nextafter(top, np.inf))
    out = threshold_sweep(table, [*np.linspace(0.25, top, 25), above])
    for _, rows in out.groupby("group", sort=False):
        share = rows["fixational_share"].dropna().to_numpy()
        assert np.all(np.diff(share) >= 0)
        assert np.all(np.diff(rows["saccades"]) <= 0)
    at_top = out[out["threshold_px"] == top]
    assert at_top["saccades"].sum() >= 1  # the largest step is not below itself
    last = out[out["threshold_px"] == above]
    assert (last["fixations"] == last["scanpaths"]).all() and (last["saccades"] == 0).all()
    np.testing.assert_array_equal(last["fixation_steps_mean"],
                                  last["glimpses"] / last["scanpaths"])
    assert (last["fixational_share"].dropna() == 1.0).all()
    assert last["saccade_px_mean"].isna().all()


def test_default_thresholds():
    out = threshold_sweep(to_table(random_paths(5)))
    assert DEFAULT_THRESHOLDS == (2, 3, 4, 5, 6, 7, 8, 10, 12)
    assert list(out["threshold_px"]) == [float(t) for t in DEFAULT_THRESHOLDS] * 3


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("thresholds, message", [
    ([2, 6, 2], "threshold 2 px is given twice"),
    ([0, 0.0], "threshold 0 px is given twice"),
    ([6, -1], "threshold -1: expected a finite distance >= 0 in pixels"),
    ([float("nan")], "threshold nan: expected a finite distance >= 0"),
    ([float("inf")], "threshold inf: expected a finite distance >= 0"),
    (["six"], "threshold 'six' is not a number"),
    ([], "no thresholds given"),
])
def test_bad_thresholds(thresholds, message):
    with pytest.raises(ValueError) as info:
        threshold_sweep(to_table(random_paths(6)), thresholds)
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("kw, message", [
    ({"mode": "nearest"}, "unknown mode 'nearest'"),
    ({"group_by": "step"}, "group_by column 'step' does not describe whole scanpaths"),
    # The review's case: a misspelt column gave one group "all" without a word.
    ({"group_by": "modle"}, r"^group_by column 'modle' is not in the input \(columns that can "
                            r"define groups: model, image_id\)$"),
])
def test_bad_arguments(kw, message):
    with pytest.raises(ValueError, match=message):
        threshold_sweep(to_table(random_paths(6)), [6], **kw)


def test_group_column_varying_within_a_scanpath():
    """The docstring's promise, for a table changed after validate (which checks it too)."""
    table = to_table(random_paths(6)).assign(scanpath_id=lambda d: d["_scanpath"])
    table.loc[1, "model"] = "z"  # row 1 belongs to the first scanpath, like row 0
    assert table.loc[0, "_scanpath"] == table.loc[1, "_scanpath"]
    with pytest.raises(ScanpathError, match=r"column 'model' row 1 \(index label\): value 'z' "
                                            "differs from 'b' earlier in the same scanpath"):
        threshold_sweep(table, [6])
    threshold_sweep(table, [6], group_by="image_id")  # other group columns are fine


# --- figure --------------------------------------------------------------------------------


@pytest.fixture
def drawn(monkeypatch):
    """Figures passed to save_figure by gazekit.plot (saved as usual)."""
    figures = []
    save = gazekit.plot.save_figure

    def keep(fig, path_stem):
        figures.append(fig)
        return save(fig, path_stem)

    monkeypatch.setattr(gazekit.plot, "save_figure", keep)
    return figures


def test_plot_threshold_sweep(tmp_path, drawn):
    sweep = threshold_sweep(to_table(random_paths(7)), [2, 4, 6, 8])
    paths = plot_threshold_sweep(sweep, tmp_path / "sub" / "sweep", title="t",
                                 colors={"a": "black"})
    assert paths == [tmp_path / "sub" / "sweep.png", tmp_path / "sub" / "sweep.svg"]
    assert paths[0].read_bytes().startswith(b"\x89PNG")
    assert "<svg" in paths[1].read_text()
    (fig,) = drawn
    assert len(fig.axes) == 3
    columns = ["fixational_share", "fixation_steps_mean", "saccade_px_mean"]
    colors = {}
    for ax, column in zip(fig.axes, columns, strict=True):
        assert "(px)" in ax.get_xlabel()
        lines = {line.get_label(): line for line in ax.get_lines()}
        mark = lines.pop("6 px (paper)")
        assert list(mark.get_xdata()) == [6, 6] and mark.get_linestyle() == "--"
        assert list(lines) == ["b", "a", "c"]
        for group, line in lines.items():
            rows = sweep[sweep["group"] == group]
            np.testing.assert_array_equal(line.get_xdata(), rows["threshold_px"])
            np.testing.assert_array_equal(line.get_ydata(), rows[column])
            colors.setdefault(group, set()).add(to_rgb(line.get_color()))
    # One colour per group in all panels: group_colors' with the fixed one.
    assert colors == {g: {c} for g, c in group_colors("abc", {"a": "black"}).items()}
    assert colors["a"] == {(0.0, 0.0, 0.0)}
    assert [ax.get_ylabel().split("(")[-1] for ax in fig.axes[1:]] == ["glimpse steps)", "px)"]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["b", "a", "c", "6 px (paper)"]


def tree(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root``, hidden ones included, with its content (None: a folder)."""
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() else None
            for p in sorted(root.rglob("*"))}


def fail_rename(monkeypatch, target: Path) -> None:
    """Make renaming a temporary file onto ``target`` fail (as on a full or read-only disk)."""
    replace = os.replace

    def fake(src, dst):
        if Path(dst) == target and str(src).endswith(".tmp"):
            raise OSError(f"cannot rename onto {target}")
        return replace(src, dst)

    monkeypatch.setattr(os, "replace", fake)


@pytest.mark.parametrize("previous", [False, True], ids=["new", "replacing"])
@pytest.mark.parametrize("failing", ["svg drawing", "svg rename", "png rename", "png folder",
                                     "png rename without hard links"])
def test_figure_failure_leaves_the_previous_state(tmp_path, monkeypatch, failing, previous):
    """save_figure writes both files or neither. The SVG is renamed into place first, so a
    failed PNG rename (the review's case: fige.svg was left behind) must undo it, restoring
    the previous version where there was one."""
    sweep = threshold_sweep(to_table(random_paths(7)), [2, 4])
    stem = tmp_path / "new" / "sub" / "sweep"
    png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
    if previous:
        stem.parent.mkdir(parents=True)
        png.write_text("old png")
        svg.write_text("old svg")
    if failing == "svg drawing":
        draw = Figure.savefig

        def savefig(self, fname, *args, **kw):
            if kw.get("format") == "svg":
                raise OSError("no space left on device")
            return draw(self, fname, *args, **kw)

        monkeypatch.setattr(Figure, "savefig", savefig)
    elif failing == "png folder":
        png.unlink(missing_ok=True)
        png.mkdir(parents=True)  # a folder no file can replace
    else:
        fail_rename(monkeypatch, svg if failing == "svg rename" else png)
    if failing.endswith("without hard links"):
        def no_link(*args, **kw):
            raise OSError("hard links not supported")

        monkeypatch.setattr(os, "link", no_link)  # the old versions are copied instead
    before = tree(tmp_path)
    with pytest.raises(OSError):
        plot_threshold_sweep(sweep, stem)
    assert tree(tmp_path) == before  # no new file, folder or temporary; old versions kept


def test_write_atomically_replaces_every_file(tmp_path):
    old = tmp_path / "old.txt"
    old.write_text("old")
    keep = tmp_path / "link.txt"
    os.link(old, keep)  # a second name of the old version, which a rename leaves alone
    paths = write_atomically({old: lambda tmp: tmp.write_text("new"),
                              tmp_path / "a" / "b.txt": lambda tmp: tmp.write_text("b")})
    assert paths == [old, tmp_path / "a" / "b.txt"]
    assert old.read_text() == "new" and keep.read_text() == "old"
    assert tree(tmp_path) == {"a": None, "a/b.txt": b"b", "link.txt": b"old", "old.txt": b"new"}


# --- sweep_files ---------------------------------------------------------------------------


@pytest.fixture
def scanpath_csv(tmp_path):
    path = tmp_path / "in" / "scanpaths.csv"
    path.parent.mkdir()
    to_table(random_paths(8)).drop(columns="_scanpath").to_csv(path, index=False)
    return path


def test_sweep_files_writes_the_sweep_and_figure(scanpath_csv, tmp_path):
    csv, stem = tmp_path / "out" / "sweep.csv", tmp_path / "out" / "fig"
    sweep, written = sweep_files(scanpath_csv, [6, 2], mode="anchor", csv=csv, figure=stem)
    pd.testing.assert_frame_equal(sweep, threshold_sweep(read_scanpaths(scanpath_csv), [2, 6],
                                                         mode="anchor"))
    assert written == [csv, stem.with_suffix(".png"), stem.with_suffix(".svg")]
    pd.testing.assert_frame_equal(pd.read_csv(csv, dtype={"group": str}), sweep)
    assert "(anchor rule)" in stem.with_suffix(".svg").read_text()
    assert sweep_files(scanpath_csv, [6])[1] == []  # nothing asked, nothing written


@pytest.mark.parametrize("previous", [False, True], ids=["new", "replacing"])
def test_sweep_files_all_or_nothing(scanpath_csv, tmp_path, monkeypatch, previous):
    """The CSV and the figure are one write: a failed figure rename leaves no CSV either."""
    csv, stem = tmp_path / "out" / "sweep.csv", tmp_path / "out" / "fig"
    if previous:
        sweep_files(scanpath_csv, [6], csv=csv, figure=stem)
    before = tree(tmp_path)
    fail_rename(monkeypatch, stem.with_suffix(".png"))  # renamed last
    with pytest.raises(OSError, match="cannot rename onto"):
        sweep_files(scanpath_csv, [2, 4], csv=csv, figure=stem)
    assert tree(tmp_path) == before


@pytest.mark.parametrize("out, figure, message", [
    ("in/scanpaths.csv", None, "output file in/scanpaths.csv is the input in/scanpaths.csv"),
    ("./in/../in/scanpaths.csv", None, "is the input in/scanpaths.csv"),
    ("link.csv", None, "output file link.csv is the input in/scanpaths.csv"),
    ("fig.png", "fig", "output file fig.png is also output fig.png"),
])
def test_sweep_files_never_replaces_an_input(scanpath_csv, tmp_path, monkeypatch, out, figure,
                                             message):
    """The review's case: ``gazekit sweep in.csv --out in.csv`` replaced the input."""
    monkeypatch.chdir(tmp_path)
    Path("link.csv").symlink_to(scanpath_csv)
    before = tree(tmp_path)
    with pytest.raises(ValueError, match=re.escape(message)):
        sweep_files(["in"], [6], csv=out, figure=figure)
    assert tree(tmp_path) == before


def test_sweep_files_checks_outputs_before_reading(tmp_path, monkeypatch):
    """A bad output path is reported before the input is read (here: an unreadable input)."""
    bad = tmp_path / "bad.csv"
    bad.write_text("not,a\nscanpath,table\n")
    monkeypatch.setattr("gazekit.sweep.read_scanpaths", lambda *a, **k: pytest.fail("read"))
    with pytest.raises(ValueError, match="is the input"):
        sweep_files(bad, [6], csv=bad)


def test_plot_mark_elsewhere_or_none(tmp_path, drawn):
    sweep = threshold_sweep(to_table(random_paths(7)), [2, 4])
    plot_threshold_sweep(sweep, tmp_path / "four", mark=4.0)
    plot_threshold_sweep(sweep, tmp_path / "none", mark=None)
    assert "4 px" in [line.get_label() for line in drawn[0].axes[0].get_lines()]
    assert [line.get_label() for line in drawn[1].axes[0].get_lines()] == ["b", "a", "c"]
