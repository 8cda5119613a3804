"""The figures of a paper table's gaze analysis (:mod:`analysis.reproduce`), with titles that
say what they show.

- Fig. 2 (Fig. 4-style for table 3): the glimpses of MRAM, DRAM and RAM on one test image per
  class, policy mean; once with the largest glimpse count T of each model, once at each T
  (:func:`plot_glimpse_figures`).
- Fig. 3: the densities of fixation durations (glimpse steps) and saccade distances (px) of
  every model, and of MRAM, DRAM and RAM at each T (:func:`plot_density_figures`).
- The models beside the human recordings (:func:`plot_human_densities`) and the gaze
  statistics against the fixation threshold (:func:`plot_sweep`).

The paper does not say at which T its figures are, so a title says when its figure mixes
models of different T (:func:`glimpse_counts_note`), and names the runs shown that are still
training, with the epoch of the weights their exports come from
(:func:`analysis.pinning.unfinished_runs`), never a run that the figure does not show.

>>> glimpse_counts_note([])
''
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.claims import THRESHOLD_PX
from analysis.experiments import CLASS_NAMES, Experiment, figure_roles, roles_by_glimpses
from analysis.pinning import unfinished_runs
from analysis.settings import FIGURE_NAMES, HUMAN_LABEL, POLICY_SUFFIX, Settings
from gazekit.plot import plot_densities, plot_threshold_sweep
from zoo import data as zdata
from zoo.plot import plot_exports

__all__ = ["figure_models", "glimpse_counts_note", "models_by_glimpses", "plot_density_figures",
           "plot_glimpse_figures", "plot_human_densities", "plot_sweep", "title_notes",
           "unfinished_note"]

#: Fig. 2's subtitle: what the windows are.
GLIMPSES_SHOWN = "policy mean; first glimpse faintest, last opaque"


def figure_models(exps: Iterable[Experiment], scales: int = 1) -> dict[str, Experiment]:
    """The Fig. 2-3 models among ``exps`` (:func:`figure_roles`: the largest T of each
    role), keyed by role."""
    by_label = {e.label: e for e in exps}
    return {role: by_label[label] for role, label in figure_roles(by_label, scales).items()}


def models_by_glimpses(exps: Iterable[Experiment]) -> dict[int, list[Experiment]]:
    """The Fig. 2-3 models (one scale) at each glimpse count, in Fig. 2's row order."""
    by_label = {e.label: e for e in exps}
    return {t: [by_label[label] for label in roles.values()]
            for t, roles in roles_by_glimpses(by_label).items()}


def glimpse_counts_note(exps: Iterable[Experiment], key: str = "legend gives T") -> str:
    """A title line saying that the figure mixes glimpse counts, e.g. ``"\\nT = 7 and 12
    mixed; legend gives T"`` (``key``: where a reader finds each model's T); ``""`` when the
    glimpse models among ``exps`` share one T (the CNN has none)."""
    counts = sorted({e.glimpses for e in exps if e.glimpses is not None})
    if len(counts) < 2:
        return ""
    listed = ", ".join(map(str, counts[:-1])) + f" and {counts[-1]}"
    return f"\nT = {listed} mixed; {key}"


def unfinished_note(settings: Settings, exps: Iterable[Experiment], policy: str = "mean") -> str:
    """A title line naming the runs among ``exps`` whose training has not ended, with the
    epoch of the weights their exports come from, so that a figure read on its own does not
    pass them off as trained models (``""`` if there are none)."""
    open_runs = unfinished_runs(settings, exps, policy)
    return ("\nstill training, shown at an earlier epoch: " + ", ".join(open_runs.values())
            if open_runs else "")


def title_notes(settings: Settings, exps: Sequence[Experiment], policy: str = "mean",
                key: str = "legend gives T") -> str:
    """:func:`glimpse_counts_note` and :func:`unfinished_note` of the models a figure shows."""
    return glimpse_counts_note(exps, key) + unfinished_note(settings, exps, policy)


def _test_images(settings: Settings, exp: Experiment) -> tuple[np.ndarray, list[str] | None]:
    """The test images (N, H, W) that the exports' ``image_id`` index, and the class names."""
    dataset = str(pd.read_parquet(settings.export_path(exp), columns=["dataset"])["dataset"]
                  .iloc[0])
    images, _ = zdata.load_dataset(dataset, "test", data_dir=settings.run_data_dir(exp))
    return images.numpy(), CLASS_NAMES.get(dataset)


def plot_glimpse_figures(settings: Settings, exps: Sequence[Experiment]) -> list[Path]:
    """Fig. 2 (policy mean) of the models with the largest T of each role (both glimpse scales
    for table 3), then of MRAM, DRAM and RAM at each T; returns the PNG files written."""
    rows = [e for n in ((1, 2) if settings.table == 3 else (1,))
            for e in figure_models(exps, n).values()]
    if not rows:
        return []
    images, names = _test_images(settings, rows[0])
    stem = f"{settings.stem}_{FIGURE_NAMES[settings.table][0]}"

    def draw(models: list[Experiment], name: str, title: str) -> Path:
        return plot_exports([settings.export_path(e) for e in models], images,
                            settings.results / name, n_images=len(names) if names else 10,
                            class_names=names, title=title)[0]

    pngs = [draw(rows, stem, f"Glimpses ({GLIMPSES_SHOWN})"
                 + title_notes(settings, rows, key="row labels give T"))]
    # At each glimpse count too: the paper does not say which T it shows.
    for t, models in models_by_glimpses(exps).items():
        pngs.append(draw(models, f"{settings.stem}_T{t}_{FIGURE_NAMES[settings.table][0]}",
                         f"Glimpses at T = {t} ({GLIMPSES_SHOWN})"
                         + unfinished_note(settings, models)))
    return pngs


def plot_density_figures(settings: Settings, policy: str, densities: Mapping[str, Mapping],
                         exps: Sequence[Experiment], colors: Mapping) -> None:
    """Fig. 3 of one policy: the densities of every model of ``exps``, then those of MRAM,
    DRAM and RAM at each T (``densities``: :func:`gazekit.analyze`'s, by quantity and group;
    ``colors``: by group)."""
    rule = f"policy {policy}, consecutive rule, {THRESHOLD_PX:g} px"
    name = FIGURE_NAMES[settings.table][1]
    plot_densities(densities["fixation_duration"], densities["saccade_distance"],
                   settings.results / f"{settings.gaze_stem(policy)}_{name}",
                   title=f"Fixation durations and saccade distances ({rule})"
                         + title_notes(settings, exps, policy),
                   colors=colors)
    for t, models in models_by_glimpses(exps).items():
        keep = {e.label + POLICY_SUFFIX[policy] for e in models}  # the groups' labels
        plot_densities(*({g: d for g, d in densities[q].items() if g in keep}
                         for q in ("fixation_duration", "saccade_distance")),
                       settings.results / f"{settings.gaze_stem(policy)}_T{t}_{name}",
                       title=f"Fixation durations and saccade distances at T = {t} glimpses "
                             f"({rule})" + unfinished_note(settings, models, policy),
                       colors=colors)


def plot_human_densities(settings: Settings, policy: str, densities: Mapping[str, Mapping],
                         exps: Sequence[Experiment], colors: Mapping) -> None:
    """The glimpse models of ``exps`` beside the human recordings, in relative units."""
    plot_densities(densities["fixation_duration"], densities["saccade_distance"],
                   settings.results / f"{settings.gaze_stem(policy)}_human_densities",
                   title=f"Models (policy {policy}) and human fixations, relative units"
                         + title_notes(settings, exps, policy),
                   reference=HUMAN_LABEL, colors=colors)


def plot_sweep(settings: Settings, policy: str, sweep: pd.DataFrame,
               exps: Sequence[Experiment], colors: Mapping) -> None:
    """The gaze statistics of ``exps`` against the fixation threshold
    (:func:`gazekit.sweep.threshold_sweep`), the paper's threshold marked."""
    plot_threshold_sweep(sweep, settings.results / f"{settings.gaze_stem(policy)}_threshold_sweep",
                         mark=THRESHOLD_PX, colors=colors,
                         title=f"Gaze statistics against the fixation threshold (policy "
                               f"{policy}, consecutive rule)" + title_notes(settings, exps, policy))
