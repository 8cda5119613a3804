"""Shipped weights standing in for lost run folders of finished runs.

Run folders live outside the repository and can be lost; the best weights of finished runs
ship with the package, each with a model card (``zoo/weights/<dataset>/<run>.pt`` and
``.json``, :mod:`analysis.ship_weights`). A card **stands in** for the run ``RUNS/<run>`` of an
experiment when it is that same run (:func:`mismatch`): same run name and data set, its run
finished, and its ``training_config`` equal to the configuration the experiment's ``zoo train``
arguments give in every setting that changes the trajectory
(:func:`zoo.resume.config_differences`, the comparison that resuming uses).

Precedence (:func:`run_progress`, the one place every script reads a run's progress from): a
run folder whose run finished; else a card that stands in (a partial retrain of a finished
run does not replace its result); else the run folder as it is. A stood-in run is finished,
its :class:`~analysis.experiments.RunStatus` is the card's with ``shipped`` set (its ``state``
names the shipped file), and its weights are the shipped ones (``RunStatus.checkpoint``, a
``pretrained:`` spec). :func:`up_to_date` says whether an evaluation or export was made from
those weights.

>>> from pathlib import Path
>>> status = run_progress(Path("/nonexistent/ram-7"),
...                       ["--model", "ram", "--dataset", "fashion-mnist", "--glimpses", "7"])
>>> status.finished, status.checkpoint
(True, 'pretrained:fashion-mnist/ram-7')
>>> status.state.split("; ")  # doctest: +NORMALIZE_WHITESPACE
['stopped early at epoch 215 (best 165, patience 50)',
 'shipped weights zoo/weights/fashion-mnist/ram-7.pt']
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from analysis.experiments import RunStatus, run_status, shown
from analysis.pinning import PINNED, is_current, pin, recorded
from zoo.pretrained import is_spec, weights_dir
from zoo.resume import config_differences
from zoo.train_cli import parse_options
from zoo.train_config import TrainConfig

__all__ = ["card_status", "experiment_config", "made_from", "mismatch", "pinned_weights",
           "refusal", "run_progress", "shipped_card", "standin", "up_to_date"]

#: Card entries a stand-in's status is read from.
STATUS_KEYS = ("status", "epochs_run", "max_epochs", "best_epoch", "val_acc", "test_acc",
               "wall_time_s", "hardware", "training_config")


def experiment_config(run_dir: str | os.PathLike, train_args: Sequence[str]
                      ) -> TrainConfig | None:
    """The :class:`zoo.train_config.TrainConfig` that ``zoo train <train_args> --out
    <run_dir>`` starts (parsed by ``zoo train``'s own parser); None for arguments without
    ``--model`` or ``--dataset`` (no model card can be that run)."""
    options, model_kwargs = parse_options([*train_args, "--out", str(run_dir)])
    if "model" not in options or "dataset" not in options:
        return None
    return TrainConfig(**options, model_kwargs=model_kwargs)


def shipped_card(run: str, dataset: str) -> tuple[Path, dict] | None:
    """The shipped weights file of ``run`` on ``dataset`` (under
    :func:`zoo.pretrained.weights_dir`) and its model card; None unless both exist."""
    pt = weights_dir() / dataset / f"{run}.pt"
    card = pt.with_suffix(".json")
    if not (pt.is_file() and card.is_file()):
        return None
    try:
        return pt, json.loads(card.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValueError(f"{card}: not valid JSON ({exc})") from exc


def mismatch(card: dict, run: str, config: TrainConfig) -> str:
    """Why a model card does not stand in for the run ``run`` that ``config`` trains, in a
    few words; ``""`` when it does (see the module docstring)."""
    name = card.get("source_run", card.get("name"))
    if name != run:
        return f"it is of run {name!r}"
    if card.get("dataset") != config.dataset:
        return f"it is on {card.get('dataset')!r}"
    if card.get("finished") is not True or card.get("status") not in ("finished",
                                                                      "stopped early"):
        return "its run had not finished"
    missing = [key for key in STATUS_KEYS if key not in card]
    if missing:
        return f"its card lacks {missing[0]!r}"
    differences = config_differences(card["training_config"], config)
    return "; ".join(f"trained with {key}={value!r}, the experiment has {key}={now!r}"
                     for key, (value, now) in differences.items())


def refusal(run_dir: str | os.PathLike, train_args: Sequence[str]) -> str:
    """One line on shipped weights of the run in ``run_dir`` that do not stand in for it, and
    why (:func:`mismatch`); ``""`` where none are shipped or they stand in."""
    run_dir = Path(run_dir)
    config = experiment_config(run_dir, train_args)
    found = shipped_card(run_dir.name, config.dataset) if config else None
    reason = mismatch(found[1], run_dir.name, config) if found else ""
    return f"shipped weights {shown(found[0])} do not stand in: {reason}" if reason else ""


def standin(run_dir: str | os.PathLike, train_args: Sequence[str]) -> RunStatus | None:
    """The status of the shipped weights that stand in for the run in ``run_dir`` (its
    experiment's ``zoo train`` arguments ``train_args``, without ``--out``), else None."""
    run_dir = Path(run_dir)
    config = experiment_config(run_dir, train_args)
    found = shipped_card(run_dir.name, config.dataset) if config else None
    if found is None or mismatch(found[1], run_dir.name, config):
        return None
    return card_status(run_dir, *found)


def card_status(run_dir: str | os.PathLike, pt: Path, card: dict) -> RunStatus:
    """The progress a model card records of its run (``shipped``: the weights file ``pt``;
    ``path``: ``run_dir``, the folder the run trained in or would).

    Raises
    ------
    ValueError
        If the card lacks an entry of :data:`STATUS_KEYS` (one line naming the card).
    """
    missing = [key for key in STATUS_KEYS if key not in card]
    if missing:
        raise ValueError(f"{pt.with_suffix('.json')}: no {missing[0]!r} (expected a model "
                         "card of analysis/ship_weights.py)")
    run_dir = Path(run_dir)
    return RunStatus(
        run=run_dir.name, path=run_dir, status=card["status"], epochs_run=card["epochs_run"],
        max_epochs=card["max_epochs"], best_epoch=card["best_epoch"],
        best_val_acc=card["val_acc"], patience=card["training_config"].get("patience"),
        wall_time_s=float(card["wall_time_s"]), test_acc=card["test_acc"],
        hardware=card["hardware"], shipped=pt)


def run_progress(run_dir: str | os.PathLike, train_args: Sequence[str]) -> RunStatus:
    """The progress of an experiment's run: its folder's if the run there finished, else the
    shipped weights' that stand in for it (:func:`standin`), else its folder's as it is.

    Parameters
    ----------
    run_dir : path-like
        The run folder ``RUNS/<run>``; need not exist.
    train_args : sequence of str
        The experiment's ``zoo train`` arguments, without ``--out``.
    """
    folder = run_status(run_dir)
    if folder.finished:
        return folder
    return standin(run_dir, train_args) or folder


def up_to_date(out: str | os.PathLike, status: RunStatus) -> bool:
    """Whether ``out`` (an evaluation JSON or a scanpath export) exists, is at least as new as
    the run's weights (``status.weights``) and was made from them: from the shipped weights
    where they stand in, else from a checkpoint file. An output of a partial retrain's
    ``best.pt`` is thus stale once the shipped weights stand in, and the reverse."""
    out = Path(out)
    if not (out.is_file() and status.weights.is_file()
            and out.stat().st_mtime >= status.weights.stat().st_mtime):
        return False
    made_from = recorded(out).get("checkpoint")
    if made_from is None:
        return False
    return made_from == status.checkpoint if status.shipped else not is_spec(made_from)


def pinned_weights(status: RunStatus, work: str | os.PathLike) -> str | Path | None:
    """The weights to read for a run in one invocation: its ``best.pt`` copied once to
    ``work/pinned/<run>/`` (:func:`analysis.pinning.pin`: a trainer may replace ``best.pt``
    meanwhile), or the ``pretrained:`` spec of the shipped weights standing in for it (they
    never change); None for a run without weights."""
    if status.shipped is not None:
        return status.checkpoint
    if not status.weights.is_file():
        return None
    return pin(status.weights, Path(work) / PINNED / status.run)


def made_from(out: str | os.PathLike, weights: str | Path, status: RunStatus) -> bool:
    """Whether ``out`` (an evaluation JSON or an export) was made from ``weights``, the run's
    :func:`pinned_weights`: from that pinned copy or its ``best.pt`` at the same epoch
    (:func:`analysis.pinning.is_current`), or from the shipped weights (:func:`up_to_date`)."""
    if isinstance(weights, Path):
        return is_current(out, weights, source=status.weights)
    return up_to_date(out, status)
