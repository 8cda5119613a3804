"""Fig. 2: the glimpses of several models drawn on the same images.

Each panel shows a grey image with the glimpse windows as red squares: the pixels the sensor
actually read at the finest scale (side ``glimpse_size`` px, top-left pixel
``floor(c - glimpse_size / 2 + 0.5)`` as in :func:`zoo.sensor.patch_origin`). Step order is
shown by opacity, from faint (first glimpse) to opaque (last), and optionally by step numbers.
A model with several glimpse scales also gets its coarsest window (side
``glimpse_size * 2**(scales - 1)`` px, same centre and rounding), dashed. One row per model,
the same images in every row.

Figures are drawn with :class:`matplotlib.figure.Figure` (no pyplot, so no global backend
state is touched); PNG is rendered by Agg.

:func:`model_colors` gives each model label (:func:`zoo.evaluate.display_name`) a colour that
depends on the label alone, so a model looks the same in every figure of the analysis.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from functools import reduce
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from gazekit.plot import colorblind_palette, save_figure
from gazekit.schema import ScanpathError, validate

FIRST_ALPHA = 0.25  # opacity of the first glimpse; the last one is opaque
TITLE_LINE_INCHES = 0.25  # height a line of a figure title adds (inches; 8 pt text)

#: Slot in seaborn's "colorblind" palette of each architecture family (label without glimpse
#: count and scales): MRAM blue, DRAM orange, RAM green, CNN grey.
FAMILY_SLOTS = {"MRAM": 0, "DRAM": 1, "RAM": 2, "DRAM-nocontext": 3, "DRAM-hybrid": 5,
                "CNN": 7, "MRAM-single": 9}
_LABEL = re.compile(r"(?P<family>[A-Z0-9]+(?:-[a-z][a-z0-9]*)?)(?:-(?P<glimpses>\d+))?"
                    r"(?:-(?P<scales>\d+)scales)?")


def model_colors(names: object) -> dict[str, tuple[float, float, float]]:
    """A fixed colour per model label, for :func:`gazekit.plot.group_colors` (``fixed``).

    The hue is the family's (:data:`FAMILY_SLOTS`); fewer than 10 glimpses are drawn lighter
    (45 % white) and 2 or more scales darker (35 % black), so ``"RAM-7"`` is a pale
    ``"RAM-12"``. The colour depends on the label alone, never on the other labels of the
    figure. Labels of unknown families are left out (they get a free palette colour).
    """
    palette = colorblind_palette(10)
    colors = {}
    for name in {str(n) for n in names}:
        match = _LABEL.match(name)
        if match is None:
            continue
        # A tag that is no ablation of ours ("CNN-saliency-12") keeps its architecture's hue.
        family = match["family"]
        family = family if family in FAMILY_SLOTS else family.split("-")[0]
        if family not in FAMILY_SLOTS:
            continue
        rgb = np.array(palette[FAMILY_SLOTS[family]])
        if match["glimpses"] and int(match["glimpses"]) < 10:
            rgb = rgb + 0.45 * (1.0 - rgb)
        if match["scales"] and int(match["scales"]) > 1:
            rgb = 0.65 * rgb
        colors[name] = tuple(float(c) for c in rgb)
    return colors


def glimpse_squares(scanpath: np.ndarray, glimpse_size: int) -> np.ndarray:
    """Closed outlines (T, 5, 2) in px of the windows read at centres ``scanpath`` (T, 2) px."""
    origin = np.floor(np.asarray(scanpath, np.float64) - glimpse_size / 2 + 0.5)
    corners = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], np.float64) * glimpse_size
    return origin[:, None, :] + corners[None, :, :]


def plot_glimpses(
    images: np.ndarray, rows: Mapping[str, np.ndarray], path: str | os.PathLike,
    glimpse_size: int | Mapping[str, int] = 8, titles: Sequence[str] | None = None,
    numbers: bool = False, panel_inches: float = 1.4, dpi: int = 200,
    scales: int | Mapping[str, int] = 1, title: str | None = None,
) -> list[Path]:
    """Draw the glimpses of several models on the same images; write PNG and SVG.

    Parameters
    ----------
    images : array, shape (B, H, W)
        Grey images (any numeric range; each is shown from its min to its max).
    rows : mapping of str to array, shape (B, T, 2)
        One entry per model, in display order (e.g. MRAM, DRAM, RAM): glimpse centres
        ``(x, y)`` in **pixels**, origin top-left, for the same B images. T may differ between
        models.
    path : path-like
        Output path without suffix (a ``.png`` or ``.svg`` suffix is dropped): writes
        ``path.png`` and ``path.svg``, each atomically.
    glimpse_size : int or mapping of str to int, default 8
        Side of the drawn windows in pixels, for all rows or per row.
    titles : sequence of str, optional
        Column titles (e.g. class names), one per image.
    numbers : bool, default False
        Also write the step number (1-based) at each window's centre.
    panel_inches, dpi : float, int
        Size of one panel (inches) and PNG resolution (dots per inch).
    scales : int or mapping of str to int, default 1
        Glimpse scales, for all rows or per row; above 1 the coarsest window is drawn dashed.
    title : str, optional
        Figure title above the panels (lines split by ``"\\n"``); each line adds
        :data:`TITLE_LINE_INCHES` to the figure's height, so the panels keep their size.

    Returns
    -------
    list of pathlib.Path
        ``[png, svg]``.
    """
    images = np.asarray(images)
    if images.ndim != 3 or len(images) == 0:
        raise ValueError(f"images: expected shape (B, H, W) with B >= 1, got {images.shape}")
    if not rows:
        raise ValueError("rows: expected at least one model's scanpaths")
    b, h, w = images.shape
    for name, paths in rows.items():
        if np.shape(paths)[:1] != (b,) or np.ndim(paths) != 3 or np.shape(paths)[2] != 2:
            raise ValueError(f"rows[{name!r}]: expected shape ({b}, T, 2), got {np.shape(paths)}")
    if titles is not None and len(titles) != b:
        raise ValueError(f"titles: expected {b} column titles, got {len(titles)}")

    title_inches = TITLE_LINE_INCHES * (title.count("\n") + 1) if title else 0.0
    fig = Figure(figsize=(panel_inches * b, panel_inches * len(rows) + title_inches))
    axes = fig.subplots(len(rows), b, squeeze=False)
    if title:
        fig.suptitle(title, fontsize=8)
    for r, (name, paths) in enumerate(rows.items()):
        size = glimpse_size[name] if isinstance(glimpse_size, Mapping) else glimpse_size
        n_scales = scales[name] if isinstance(scales, Mapping) else scales
        t = np.shape(paths)[1]
        colours = np.zeros((t, 4))
        colours[:, 0] = 1.0
        colours[:, 3] = np.linspace(FIRST_ALPHA, 1.0, t)
        for col, ax in enumerate(axes[r]):
            ax.imshow(images[col], cmap="gray", extent=(0, w, h, 0), interpolation="nearest")
            ax.add_collection(LineCollection(glimpse_squares(paths[col], size), colors=colours,
                                             linewidths=1.0))
            if n_scales > 1:
                coarse = glimpse_squares(paths[col], size * 2 ** (n_scales - 1))
                ax.add_collection(LineCollection(coarse, colors=colours, linewidths=0.6,
                                                 linestyles="dashed"))
            if numbers:
                for step, (x, y) in enumerate(np.asarray(paths[col]), start=1):
                    ax.text(x, y, str(step), color="yellow", fontsize=5, ha="center",
                            va="center")
            ax.set(xlim=(0, w), ylim=(h, 0), xticks=[], yticks=[])
            if titles is not None and r == 0:
                ax.set_title(titles[col], fontsize=8)
        axes[r, 0].set_ylabel(_row_label(name), fontsize=9)
    fig.tight_layout()
    base = Path(path)
    if base.suffix in (".png", ".svg"):
        base = base.with_suffix("")
    return save_figure(fig, base, dpi)


def _row_label(name: str) -> str:
    """``"MRAM-12-2scales (untrained)"`` -> ``"MRAM-12\\n2 scales\\n(untrained)"``: fits a panel."""
    return re.sub(r"-(\d+)scales", r"\n\1 scales", name).replace(" (", "\n(")


def read_exports(paths: Sequence[str | os.PathLike]) -> pd.DataFrame:
    """Concatenate scanpath exports (see :mod:`zoo.export`), each validated.

    Adds the column ``row``, the figure row label of each scanpath: its ``model``, with
    ``" [file stem]"`` appended where the same model comes from several files.

    Raises
    ------
    gazekit.schema.ScanpathError
        If a file cannot be read or lacks a column needed here, naming the file.
    """
    needed = ["model", "image_id", "label", "step", "x", "y", "glimpse_size"]
    frames = []
    for i, path in enumerate(paths):
        try:
            df = pd.read_parquet(path)
        except (OSError, ValueError) as exc:
            raise ScanpathError(f"not a readable Parquet file ({exc})", str(path)) from exc
        missing = [c for c in needed if c not in df.columns]
        if missing:
            raise ScanpathError(f"missing column {missing[0]!r} (a zoo export has "
                                f"{', '.join(needed)})", str(path))
        df = validate(df, source=str(path)).drop(columns="_scanpath")
        df["row"] = df["model"].astype(str)
        df["_file"] = i
        frames.append(df)
    table = pd.concat(frames, ignore_index=True)
    clash = table.groupby("row")["_file"].transform("nunique").to_numpy() > 1
    stems = np.array([f" [{Path(p).stem}]" for p in paths], dtype=object)
    table.loc[clash, "row"] += stems[table.loc[clash, "_file"].to_numpy()]
    return table.drop(columns="_file")


def pick_images(table: pd.DataFrame, n_images: int = 10) -> np.ndarray:
    """Image ids present in every ``row``: the first image of each class, classes in order.

    At most ``n_images`` ids, as an int64 array.
    """
    per_row = table.groupby("row", sort=False)["image_id"].unique()
    common = reduce(np.intersect1d, per_row.to_list())
    if len(common) == 0:
        raise ScanpathError("the exports share no image_id (expected the same images)")
    labels = table.drop_duplicates("image_id").set_index("image_id")["label"]
    first = labels.loc[common].sort_index().reset_index().drop_duplicates("label")
    return first.sort_values("label")["image_id"].to_numpy(np.int64)[:n_images]


def scanpath_array(table: pd.DataFrame, row: str, image_ids: np.ndarray) -> np.ndarray:
    """Glimpse centres (B, T, 2) px of figure row ``row`` on ``image_ids``, in that order.

    Raises
    ------
    gazekit.schema.ScanpathError
        If an image is missing or the images have different numbers of glimpses.
    """
    rows = table[table["row"] == row]
    pos = pd.Index(image_ids).get_indexer(rows["image_id"])
    rows, pos = rows[pos >= 0], pos[pos >= 0]
    counts = np.bincount(pos, minlength=len(image_ids))
    if counts.min() == 0 or (counts != counts[0]).any():
        raise ScanpathError(f"{row!r}: expected the same number of glimpses (>= 1) on "
                            f"images {image_ids.tolist()}, got {counts.tolist()}")
    order = np.lexsort((rows["step"].to_numpy(), pos))
    xy = rows[["x", "y"]].to_numpy(np.float64)[order]
    return xy.reshape(len(image_ids), counts[0], 2)


def plot_exports(
    exports: Sequence[str | os.PathLike], images: np.ndarray, path: str | os.PathLike,
    image_ids: Sequence[int] | None = None, n_images: int = 10,
    class_names: Sequence[str] | None = None, numbers: bool = False, title: str | None = None,
) -> list[Path]:
    """Fig. 2 from scanpath exports: one row of panels per model (see :func:`read_exports`),
    in file order.

    Parameters
    ----------
    exports : sequence of path-like
        Parquet files written by :func:`zoo.export.export_scanpaths`.
    images : array, shape (N, H, W)
        The split's images, indexed by ``image_id``.
    path : path-like
        Output path without suffix (writes ``.png`` and ``.svg``).
    image_ids : sequence of int, optional
        Images to show; default :func:`pick_images` (one per class).
    n_images : int, default 10
        Number of images when ``image_ids`` is not given.
    class_names : sequence of str, optional
        Names of the classes, indexed by label, for the column titles (default: the labels).
    numbers : bool, default False
        Write step numbers in the windows.
    title : str, optional
        Figure title (see :func:`plot_glimpses`).

    Returns
    -------
    list of pathlib.Path
        ``[png, svg]``.
    """
    if image_ids is None and n_images < 1:
        raise ValueError(f"n_images: expected a positive integer, got {n_images}")
    if image_ids is not None and len(set(image_ids)) < len(image_ids):
        raise ValueError(f"image_ids: expected distinct ids, got {list(image_ids)}")
    table = read_exports(exports)
    images = np.asarray(images)
    ids = pick_images(table, n_images) if image_ids is None else np.asarray(image_ids, np.int64)
    if ((ids < 0) | (ids >= len(images))).any():
        raise ScanpathError(f"image_id {ids.tolist()}: expected ids below {len(images)}, the "
                            "number of images given")
    rows = {r: scanpath_array(table, r, ids) for r in table["row"].unique()}
    per_row = table.groupby("row", sort=False)
    sizes = per_row["glimpse_size"].first().astype(int).to_dict()
    scales = per_row["scales"].first().astype(int).to_dict() if "scales" in table else 1
    labels = table.drop_duplicates("image_id").set_index("image_id")["label"].loc[ids]
    if class_names is not None and labels.max() >= len(class_names):
        raise ValueError(f"class_names: {len(class_names)} names given, but label "
                         f"{labels.max()} needs at least {labels.max() + 1}")
    titles = [str(class_names[k]) if class_names is not None else str(k) for k in labels]
    return plot_glimpses(images[ids], rows, path, glimpse_size=sizes, titles=titles,
                         numbers=numbers, scales=scales, title=title)
