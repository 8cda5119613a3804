"""Figures: kernel density estimates of fixation durations and saccade distances (Fig. 3 style).

Figures are drawn on matplotlib's non-interactive Agg canvas, without pyplot, so they can be
written on machines without a display and importing gazekit leaves the user's pyplot backend
and open figures alone. matplotlib itself is imported on the first figure, not with gazekit
(it takes about a third of a second).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from gazekit.atomic import write_atomically
from gazekit.density import Density, describe_densities

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["COLORBLIND", "colorblind_palette", "density_caption", "density_figure",
           "figure_files", "figure_paths", "group_colors", "legend_name", "plot_densities",
           "plot_threshold_sweep", "save_figure", "threshold_sweep_figure"]

#: seaborn's "colorblind" palette (Waskom 2021, seaborn/palettes.py, BSD-3-Clause), its ten
#: colours as hex: the figures keep seaborn's colours without importing seaborn for them.
COLORBLIND: tuple[str, ...] = ("#0173B2", "#DE8F05", "#029E73", "#D55E00", "#CC78BC",
                               "#CA9161", "#FBAFE4", "#949494", "#ECE133", "#56B4E9")

#: Characters of a group name shown in a legend. matplotlib lays text out in time quadratic
#: in its length (FT2Font.set_text): a 100,000-character model name took a minute to draw.
LEGEND_CHARS = 40


def legend_name(name: object) -> str:
    """``name`` as a legend shows it: cut to :data:`LEGEND_CHARS` characters, with the
    length of a cut name (report.md and the CSV files keep the whole name).

    >>> legend_name("mram-12")
    'mram-12'
    >>> legend_name("x" * 100_000)
    'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx… (100000 characters)'
    """
    text = str(name)
    if len(text) <= LEGEND_CHARS:
        return text
    return f"{text[:LEGEND_CHARS - 1]}… ({len(text)} characters)"


# How each unit of a Density reads on an axis: (quantity suffix, unit for "1/unit").
_DURATION_UNITS = {
    "steps": ("glimpse steps", "step"),
    "ms": ("ms", "ms"),
    "relative": ("relative to the group median", None),
}
_DISTANCE_UNITS = {
    "px": ("px", "px"),
    "deg": ("degrees of visual angle", "deg"),
    "relative": ("fraction of image width", None),
}


def colorblind_palette(n: int) -> list[tuple[float, float, float]]:
    """``n`` RGB colours of :data:`COLORBLIND`, repeating it after ten (as seaborn does).

    Examples
    --------
    >>> palette = colorblind_palette(11)
    >>> palette[0], palette[10] == palette[0]
    ((0.00392156862745098, 0.45098039215686275, 0.6980392156862745), True)
    """
    return [tuple(int(h[i:i + 2], 16) / 255 for i in (1, 3, 5))
            for h in (COLORBLIND[k % len(COLORBLIND)] for k in range(n))]


def group_colors(groups: object, fixed: Mapping[str, object] | None = None,
                 ) -> dict[str, tuple[float, float, float]]:
    """Colour per group: the "colorblind" palette (:data:`COLORBLIND`) assigned in sorted
    order of the names.

    Sorting makes the colour of a group independent of the order in which groups appear, so
    it is the same in every panel and every figure that shows the same set of groups. Groups
    named in ``fixed`` (name -> any matplotlib colour) keep that colour instead, which keeps
    them alike across figures that show different sets (e.g. :func:`zoo.plot.model_colors`);
    the other groups get palette colours that no fixed group has.

    Examples
    --------
    >>> colors = group_colors(["RAM", "MRAM"], fixed={"human": "black"})
    >>> colors["MRAM"] == colorblind_palette(1)[0], colors["human"]
    (True, (0.0, 0.0, 0.0))
    """
    from matplotlib.colors import to_rgb

    fixed = {str(k): to_rgb(v) for k, v in (fixed or {}).items()}
    names = sorted({str(g) for g in groups} - fixed.keys())
    taken = set(fixed.values())
    free = [c for c in colorblind_palette(len(names) + len(fixed)) if c not in taken]
    return {**dict(zip(names, free, strict=False)), **fixed}


def _figure(width: float, height: float) -> Figure:
    """A figure (inches) on its own Agg canvas, without pyplot."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)  # attaches itself to fig
    return fig


def _labels(kind: str, unit: str, table: Mapping[str, tuple[str, str | None]]) -> tuple[str, str]:
    suffix, per = table.get(unit, (unit, unit))
    return f"{kind} ({suffix})", "density" if per is None else f"density (1/{per})"


def density_caption(duration_densities: Mapping[str, Density],
                    distance_densities: Mapping[str, Density]) -> str:
    """The density figure's caption: what its curves and dots are, read from the densities.

    The curves are Gaussian KDEs reflected at the bounds of their support, with the rule's
    bandwidth floor (:func:`gazekit.density.describe_densities`, per panel); the dots, drawn
    for discrete durations, are the exact share of fixations of each whole number of glimpse
    steps.

    Examples
    --------
    >>> from gazekit.density import distance_density, duration_density
    >>> print(density_caption({"RAM-7": duration_density([1, 1, 2, 7], max_steps=7)},
    ...                       {"RAM-7": distance_density([6.5, 9.0, 14.0], lower=6.0)})
    ... )  # doctest: +NORMALIZE_WHITESPACE
    Curves: Gaussian KDEs bounded by reflection. (a) reflected at 0.5 and 7.5 steps; bandwidth
    rule floored at 0.5 steps. (b) reflected at 6 px; bandwidth rule floored at 0.5 px. Dots:
    exact share of fixations of each duration (whole glimpse steps).
    """
    panels = [f"{panel} {describe_densities({legend_name(g): d for g, d in densities.items()})}."
              for panel, densities in (("(a)", duration_densities), ("(b)", distance_densities))
              if densities]
    text = "Curves: Gaussian KDEs bounded by reflection. " + " ".join(panels)
    if any(d.pmf is not None for d in duration_densities.values()):
        text += " Dots: exact share of fixations of each duration (whole glimpse steps)."
    return textwrap.fill(text, 150)  # small characters per line of the 10 in wide figure


def density_figure(duration_densities: Mapping[str, Density],
                   distance_densities: Mapping[str, Density], title: str | None = None,
                   reference: str | None = None,
                   colors: Mapping[str, object] | None = None) -> Figure:
    """The two-panel density figure (:func:`plot_densities`), not yet saved.

    Returns
    -------
    matplotlib.figure.Figure
        On an Agg canvas (no pyplot), with the caption (:func:`density_caption`) as its
        bottom label; save it with :func:`save_figure`.

    Examples
    --------
    >>> from gazekit.density import duration_density
    >>> fig = density_figure({"model": duration_density([1, 2, 2], max_steps=3)}, {})
    >>> "(a) reflected at 0.5 and 3.5 steps" in fig.get_supxlabel()
    True
    """
    colors = group_colors([g for g in (*duration_densities, *distance_densities)
                           if str(g) != reference], colors)
    colors[str(reference)] = (0.0, 0.0, 0.0)
    fig = _figure(10, 4.4)
    axes = fig.subplots(1, 2)
    panels = (
        (axes[0], duration_densities, "(a) fixation duration", "fixation duration",
         _DURATION_UNITS),
        (axes[1], distance_densities, "(b) saccade distance", "saccade distance", _DISTANCE_UNITS),
    )
    for ax, densities, panel_title, kind, units in panels:
        for name in sorted(densities, key=str):
            d = densities[name]
            color = colors[str(name)]
            style = "--" if str(name) == reference else "-"
            ax.plot(d.grid, d.density, style, color=color, label=f"{legend_name(name)} (n={d.n:,})",
                    zorder=3 if style == "--" else 2)
            if d.pmf is not None:
                ax.plot(d.pmf.index.to_numpy(float), d.pmf.to_numpy(float), "o", ms=4,
                        color=color)
        unit = next(iter(densities.values())).unit if densities else ""
        xlabel, ylabel = _labels(kind, unit, units)
        ax.set(title=panel_title, xlabel=xlabel, ylabel=ylabel)
        ax.set_xlim(left=min((d.lower for d in densities.values()), default=0.0))
        ax.set_ylim(bottom=0.0)
        if densities:
            ax.legend(frameon=False, fontsize="small")
    # The caption under the panels: constrained layout makes room for a figure's x label.
    fig.supxlabel(density_caption(duration_densities, distance_densities), fontsize="small",
                  ha="left", x=0.01, multialignment="left")
    if title:
        fig.suptitle(title)
    return fig


def plot_densities(duration_densities: Mapping[str, Density],
                   distance_densities: Mapping[str, Density], path_stem: str | Path,
                   title: str | None = None, reference: str | None = None,
                   colors: Mapping[str, object] | None = None) -> list[Path]:
    """Draw the two-panel density figure and save it as PNG (150 dpi) and SVG.

    Panel (a) shows the fixation-duration density and panel (b) the saccade-distance
    density, one curve per group, each group with the same colour in both panels (see
    :func:`group_colors`). For discrete durations (a :class:`~gazekit.density.Density` with a
    ``pmf``) the exact relative frequency of each value is drawn as dots on top of the
    smoothed curve. Axis labels state the units taken from the densities (e.g. glimpse steps,
    ms, px, degrees); a caption under the panels says what the curves and dots are, with
    each panel's reflection bounds and bandwidth floor in those units
    (:func:`density_caption`).

    Parameters
    ----------
    duration_densities, distance_densities : mapping of str to Density
        Group name -> density of that group's fixation durations / saccade distances. A group
        may be missing from one mapping (e.g. a group without saccades).
    path_stem : path
        Output path without suffix; ``.png`` and ``.svg`` are appended.
    title : str, optional
        Figure title.
    reference : str, optional
        A group drawn as the reference distribution (e.g. human data): a dashed black curve
        overlaid on the others and left out of the colour assignment.
    colors : mapping of str to colour, optional
        Fixed colours of some groups (``fixed`` of :func:`group_colors`).

    Returns
    -------
    list of pathlib.Path
        The PNG and SVG files written.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from gazekit.density import distance_density, duration_density
    >>> durations = {"model": duration_density([1, 1, 2, 3, 2, 1]),
    ...              "human": duration_density([2, 3, 3, 4, 2, 5])}
    >>> distances = {"model": distance_density([8.0, 10.5, 12.0, 9.0]),
    ...              "human": distance_density([3.0, 7.5, 6.0, 11.0])}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     written = plot_densities(durations, distances, Path(tmp) / "densities",
    ...                              title="demo", reference="human")
    ...     print([path.name for path in written])
    ['densities.png', 'densities.svg']
    """
    return save_figure(density_figure(duration_densities, distance_densities, title=title,
                                      reference=reference, colors=colors), path_stem)


def figure_paths(path_stem: str | Path) -> list[Path]:
    """``[path_stem.png, path_stem.svg]``: the files a figure is saved to.

    >>> [path.as_posix() for path in figure_paths("out/densities")]
    ['out/densities.png', 'out/densities.svg']
    """
    stem = Path(path_stem)
    return [stem.with_name(f"{stem.name}.{ext}") for ext in ("png", "svg")]


def figure_files(fig: Figure, path_stem: str | Path, dpi: int = 150,
                 ) -> dict[Path, Callable[[Path], None]]:
    """Writers of ``fig`` as ``path_stem.png`` (``dpi`` dots per inch) and ``path_stem.svg``,
    for :func:`gazekit.atomic.write_atomically` (with further files to write all or nothing).

    Examples
    --------
    A figure and a table written all or nothing:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from matplotlib.figure import Figure
    >>> from gazekit.atomic import write_atomically
    >>> fig = Figure()
    >>> _ = fig.subplots().plot([0, 1], [1, 0])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     writers = figure_files(fig, Path(tmp) / "line")
    ...     writers[Path(tmp) / "line.csv"] = lambda path: path.write_text("x,y\\n0,1\\n1,0\\n")
    ...     print([path.name for path in write_atomically(writers)])
    ['line.png', 'line.svg', 'line.csv']
    """
    return {path: lambda tmp, ext=path.suffix[1:]: fig.savefig(tmp, format=ext, dpi=dpi)
            for path in figure_paths(path_stem)}


def save_figure(fig: Figure, path_stem: str | Path, dpi: int = 150) -> list[Path]:
    """Write ``fig`` to ``path_stem.png`` (``dpi`` dots per inch) and ``path_stem.svg``, both
    or neither (:func:`gazekit.atomic.write_atomically`); return ``[png, svg]``.

    A failure while drawing or renaming either leaves the previous versions of both (or no
    file, and no parent directory this call created).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from matplotlib.figure import Figure
    >>> fig = Figure()
    >>> _ = fig.subplots().plot([0, 1], [1, 0])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     print([path.name for path in save_figure(fig, Path(tmp) / "figures" / "line")])
    ['line.png', 'line.svg']
    """
    return write_atomically(figure_files(fig, path_stem, dpi))


#: Panels of :func:`plot_threshold_sweep`: (column of the sweep, panel title, y-axis label).
_SWEEP_PANELS = (
    ("fixational_share", "(a) fixational share", "fixational share (of glimpse transitions)"),
    ("fixation_steps_mean", "(b) fixation duration", "mean fixation duration (glimpse steps)"),
    ("saccade_px_mean", "(c) saccade distance", "mean saccade distance (px)"),
)
#: The paper's fixation threshold in **pixels**; a ``mark`` there is labelled as such.
PAPER_THRESHOLD_PX = 6.0


def plot_threshold_sweep(sweep: pd.DataFrame, path_stem: str | Path, *,
                         mark: float | None = PAPER_THRESHOLD_PX,
                         colors: Mapping[str, object] | None = None,
                         title: str | None = None) -> list[Path]:
    """Draw gaze statistics against the fixation threshold (:func:`threshold_sweep_figure`)
    and save them as ``path_stem.png`` (150 dpi) and ``path_stem.svg`` (:func:`save_figure`).

    Returns
    -------
    list of pathlib.Path
        The PNG and SVG files written.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import gazekit
    >>> table = gazekit.validate(gazekit.synthetic_scanpaths(n_per_policy=5, seed=0))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     written = plot_threshold_sweep(gazekit.threshold_sweep(table, [4, 6, 8]),
    ...                                    Path(tmp) / "sweep", title="synthetic policies")
    ...     print([path.name for path in written])
    ['sweep.png', 'sweep.svg']
    """
    return save_figure(threshold_sweep_figure(sweep, mark=mark, colors=colors, title=title),
                       path_stem)


def threshold_sweep_figure(sweep: pd.DataFrame, *, mark: float | None = PAPER_THRESHOLD_PX,
                           colors: Mapping[str, object] | None = None,
                           title: str | None = None) -> Figure:
    """Gaze statistics against the fixation threshold, as a figure not yet saved.

    Three panels against the threshold in **pixels**: (a) fixational share, (b) mean fixation
    duration in **glimpse steps**, (c) mean saccade distance in **pixels**. Each group is one
    line with markers, in the same colour in every panel (:func:`group_colors`); a dashed
    vertical line marks the threshold ``mark``. A group without saccades at some threshold
    has no point there in panel (c).

    Parameters
    ----------
    sweep : pandas.DataFrame
        Result of :func:`gazekit.sweep.threshold_sweep` (columns ``group``, ``threshold_px``,
        ``fixational_share``, ``fixation_steps_mean``, ``saccade_px_mean``).
    mark : float or None, default 6.0
        Threshold in **pixels** marked by the dashed line, labelled "6 px (paper)" at the
        paper's 6 px; None draws no line.
    colors : mapping of str to colour, optional
        Fixed colours of some groups (``fixed`` of :func:`group_colors`).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        On an Agg canvas (no pyplot); save it with :func:`save_figure`.

    Examples
    --------
    >>> import gazekit
    >>> table = gazekit.validate(gazekit.synthetic_scanpaths(n_per_policy=5, seed=0))
    >>> fig = threshold_sweep_figure(gazekit.threshold_sweep(table, [4, 6, 8]))
    >>> [ax.get_title() for ax in fig.axes]
    ['(a) fixational share', '(b) fixation duration', '(c) saccade distance']
    """
    groups = list(sweep.groupby("group", sort=False))  # first-appearance order
    palette = group_colors([g for g, _ in groups], colors)
    fig = _figure(13, 4)
    axes = fig.subplots(1, 3)
    for ax, (column, panel_title, ylabel) in zip(axes, _SWEEP_PANELS, strict=True):
        for group, rows in groups:
            ax.plot(rows["threshold_px"].to_numpy(float), rows[column].to_numpy(float), "o-",
                    ms=4, color=palette[str(group)], label=legend_name(group))
        if mark is not None:
            paper = " (paper)" if mark == PAPER_THRESHOLD_PX else ""
            ax.axvline(mark, ls="--", lw=1, color="0.4", label=f"{mark:g} px{paper}")
        ax.set(title=panel_title, xlabel="fixation threshold (px)", ylabel=ylabel)
    axes[0].set_ylim(-0.02, 1.02)  # a share: the same scale in every figure
    # One legend beside the panels: inside one it would hide some of the lines.
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside right center",
               frameon=False, fontsize="small")
    if title:
        fig.suptitle(title)
    return fig
