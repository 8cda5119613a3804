"""Gaze of many training runs at once: their queue, exports, accuracy and gaze statistics.

Shared by the seed experiment (:mod:`analysis.seeds`) and the knob grid
(:mod:`analysis.sensitivity`), which both compare runs of one model trained under different
seeds or settings. A run is a :mod:`zoo.train` folder; its ``best.pt`` (whatever epoch it has
reached) is copied once to ``WORK/pinned/<run>/`` (:func:`analysis.pinning.pin`) and that copy
is exported on the test split with the policy mean (:func:`zoo.export.export_scanpaths`), again
whenever the trainer replaces ``best.pt``: an export records the weights it was made from, so
one made while ``best.pt`` was being replaced is redone (:func:`analysis.standins.made_from`).
Where the folder holds no finished run, the shipped weights of that run stand in for it when
their model card's training configuration matches (:mod:`analysis.standins`).

Units: accuracy in %, the fixational share a fraction of glimpse-to-glimpse transitions,
fixation durations in **glimpse steps**, saccade distances in **pixels** (consecutive rule at
:data:`analysis.claims.THRESHOLD_PX`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import queues as queues_module
from analysis.claims import (
    STATISTICS,
    THRESHOLD_PX,
    PairedBootstrap,
    image_correct,
    scanpath_sums,
)
from analysis.experiments import RunStatus
from analysis.standins import made_from, pinned_weights, run_progress
from gazekit.schema import validate
from gazekit.segment import Segmentation, segment
from zoo.export import export_scanpaths

__all__ = ["GazeRun", "accuracy", "export_run", "gaze_statistics", "mean_sd", "queue_commands",
           "read_runs", "run_state", "segment_runs"]



@dataclass(frozen=True)
class GazeRun:
    """One training run to analyse.

    Attributes
    ----------
    run : str
        Folder name under the runs folder.
    group : str
        Its label in the tables (e.g. ``"RAM-7 seed2"``); unique among the runs analysed.
    args : tuple of str
        ``zoo train`` arguments that start it (without ``--out``).
    """

    run: str
    group: str
    args: tuple[str, ...]


def queue_commands(runs: Path, todo: Sequence[GazeRun], queues: int = 2
                   ) -> tuple[list[list[str]], list[str]]:
    """``train_queue.sh`` command lines for the runs of ``todo`` that have not finished
    (:func:`analysis.queues.queue_commands` on their names and arguments)."""
    return queues_module.queue_commands(runs, [(r.run, r.args) for r in todo], queues)


def run_state(status: RunStatus) -> str:
    """``finished`` for a run whose training ended (``finished (shipped weights)`` where
    shipped weights stand in for its folder), else ``epoch N (partial)`` or ``not started``."""
    if status.finished:
        return "finished (shipped weights)" if status.shipped else "finished"
    if status.status == "not started":
        return "not started"
    return f"epoch {status.epochs_run} (partial)"


def export_run(runs: Path, work: Path, run: str, *, args: Sequence[str] = (),
               limit: int | None = None, device: str = "cpu", batch_size: int = 1000,
               force: bool = False) -> Path | None:
    """The policy-mean test-set export of the run's weights in ``work/exports``: its
    ``runs/<run>/best.pt``, or the shipped weights standing in for the run given its
    ``zoo train`` arguments ``args`` (:func:`analysis.standins.run_progress`; none without
    them); None for a run without weights.

    ``best.pt`` is exported from a copy pinned in ``work/pinned/<run>/``
    (:func:`analysis.standins.pinned_weights`), as a trainer may replace it meanwhile; the
    export is made again unless it was made from those weights
    (:func:`analysis.standins.made_from`), so one of older weights is redone even when it is
    newer than ``best.pt``. Shipped weights never change: their export is renewed when it is
    older than them or not made from them. ``force`` exports in any case.

    Raises
    ------
    zoo.checkpoint.CheckpointError
        If ``best.pt`` is not a valid checkpoint.
    """
    status = run_progress(runs / run, args)
    weights = pinned_weights(status, work)
    if weights is None:
        return None
    out = work / "exports" / (run + (f"-limit{limit}" if limit else "") + ".parquet")
    if force or not made_from(out, weights, status):
        export_scanpaths(weights, split="test", out=out, limit=limit, device=device,
                         batch_size=batch_size, data_dir=_data_dir(runs / run))
    return out


def _data_dir(run_dir: Path) -> str | None:
    """The data folder a run trained on (its ``config.json``), else None (the default)."""
    config = run_dir / "config.json"
    return json.loads(config.read_text())["data_dir"] if config.is_file() else None


def read_runs(exports: dict[str, Path]) -> pd.DataFrame:
    """The exports of several runs as one validated scanpath table whose ``model`` column is
    each run's group label (``exports``: group -> file), so that runs of one model differ."""
    tables = [pd.read_parquet(path).assign(model=group) for group, path in exports.items()]
    return validate(pd.concat(tables, ignore_index=True))


def accuracy(exports: dict[str, Path]) -> pd.DataFrame:
    """Test accuracy of each run from its export: ``group``, ``images``, ``correct``,
    ``accuracy_pct`` (%). The export's predictions are :func:`zoo.evaluate.evaluate`'s (the
    policy mean, or the CNN on the whole image)."""
    rows = []
    for group, path in exports.items():
        per_image = image_correct(path)
        rows.append({"group": group, "images": len(per_image),
                     "correct": int(per_image.sum()),
                     "accuracy_pct": 100 * float(per_image.mean())})
    return pd.DataFrame(rows)


def gaze_statistics(seg: Segmentation, groups: Iterable[str], *, n_resamples: int = 2000,
                    seed: int = 0) -> pd.DataFrame:
    """Each group's fixational share, mean fixation (glimpse steps) and mean saccade (px),
    ratios of sums over its scanpaths, with cluster-bootstrap intervals over test images
    (:class:`analysis.claims.PairedBootstrap`).

    Returns one row per group: ``group`` and, per statistic of
    :data:`analysis.claims.STATISTICS`, the value and ``<statistic>_ci_low``/``_ci_high``.
    """
    sums = scanpath_sums(seg.fixations, seg.saccades)
    boot = PairedBootstrap(sums, n_resamples=n_resamples, seed=seed)
    rows = []
    for group in groups:
        row: dict[str, object] = {"group": group}
        for statistic in STATISTICS:
            estimate = boot.estimate(group, statistic)
            row[statistic] = estimate.value
            row[f"{statistic}_ci_low"], row[f"{statistic}_ci_high"] = estimate.low, estimate.high
        rows.append(row)
    return pd.DataFrame(rows)


def segment_runs(scanpaths: pd.DataFrame) -> Segmentation:
    """The paper's segmentation (consecutive rule, :data:`THRESHOLD_PX`) of a run table."""
    return segment(scanpaths, THRESHOLD_PX, "consecutive")


def mean_sd(values: Sequence[float], digits: int = 2) -> str:
    """``mean ± sd`` over runs (sample sd, ddof 1); ``value (1 run)`` for one, ``-`` for none."""
    values = np.asarray([v for v in values if np.isfinite(v)], dtype=np.float64)
    if values.size == 0:
        return "-"
    if values.size == 1:
        return f"{values[0]:.{digits}f} (1 run)"
    return f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}"
