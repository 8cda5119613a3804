"""One checkpoint per run per pipeline invocation, so that every stage uses the same weights.

A run that is still training replaces its ``best.pt`` whenever its validation accuracy
improves, possibly between the ``evaluate`` and the ``export`` stage of one invocation of
:mod:`analysis.reproduce`; the accuracy in the table and the exported scanpaths (and with them
the claims and the figures) would then come from different epochs. So each invocation copies
each run's ``best.pt`` once (:func:`pin`, called by :func:`analysis.reproduce.pin_weights`)
to ``WORK/pinned/<run>/epoch<E>.pt``, and both stages read that copy. The copy keeps the time
stamp of the ``best.pt`` it was read from: an output made from it stays up to date
(:func:`is_current`) until a newer ``best.pt`` arrives, and a later invocation reuses the copy
instead of copying the same weights again.

Shipped weights standing in for a run (:mod:`analysis.standins`) never change; their
``pretrained:`` spec is used as it is.

Every output records the checkpoint it was made from and its epoch (:func:`recorded`), and
every label that names an epoch reads it from there (:func:`recorded_epoch`), never from the
run folder, whose ``best.pt`` may have moved on meanwhile.

>>> import tempfile
>>> recorded(Path(tempfile.mkdtemp()) / "missing.json")
{}
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

from gazekit.atomic import atomic_file
from zoo.checkpoint import load_checkpoint

if TYPE_CHECKING:
    from analysis.experiments import Experiment
    from analysis.settings import Settings

__all__ = ["is_current", "pin", "recorded", "recorded_epoch", "unfinished_runs"]

PINNED = "pinned"  # folder of the pinned copies under the pipeline's work folder
_INCOMING = "incoming.pt"


def pin(best: str | os.PathLike, folder: str | os.PathLike) -> Path:
    """Copy the checkpoint ``best`` to ``folder/epoch<E>.pt`` (``E`` its epoch); return it.

    The file is read through one open handle, so a ``best.pt`` that a trainer replaces
    meanwhile (atomically, by a rename) is read whole, old or new, never mixed; the copy is
    verified (:func:`zoo.checkpoint.load_checkpoint`, checksum included) and gets the time
    stamp of what was read. A copy of the same file (same size and modification time in ns)
    is reused; older copies in ``folder`` are removed.

    Raises
    ------
    zoo.checkpoint.CheckpointError
        If the copy is not a valid checkpoint (a ``ValueError``).
    """
    folder = Path(folder)
    with Path(best).open("rb") as src:
        stamp = os.fstat(src.fileno())
        for old in folder.glob("epoch*.pt"):
            info = old.stat()
            if (info.st_size, info.st_mtime_ns) == (stamp.st_size, stamp.st_mtime_ns):
                return old
        incoming = folder / _INCOMING
        with atomic_file(incoming) as tmp, tmp.open("wb") as dst:
            shutil.copyfileobj(src, dst)
    try:
        epoch = load_checkpoint(incoming).get("epoch")
    except ValueError:
        incoming.unlink()  # no debris of a copy that is no checkpoint
        raise
    os.utime(incoming, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    pinned = folder / f"epoch{epoch}.pt"
    os.replace(incoming, pinned)
    for old in folder.glob("epoch*.pt"):
        if old != pinned:
            old.unlink(missing_ok=True)
    return pinned


def recorded(out: str | os.PathLike) -> dict:
    """The record an evaluation JSON (:func:`zoo.evaluate.evaluate`) or a scanpath export's
    Parquet metadata (:func:`zoo.export.export_scanpaths`) keeps of how it was made, with
    ``checkpoint`` and ``epoch``; ``{}`` for a missing or unreadable file."""
    out = Path(out)
    try:
        if out.suffix == ".parquet":
            meta = pq.read_schema(out).metadata or {}
            record = json.loads(meta.get(b"zoo", b"{}"))
        else:
            record = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # missing or unreadable: nothing recorded
        return {}
    return record if isinstance(record, dict) else {}


def recorded_epoch(out: str | os.PathLike) -> int | None:
    """The epoch of the weights an evaluation or export was made from (None if unrecorded)."""
    return recorded(out).get("epoch")


def is_current(out: str | os.PathLike, pinned: Path, source: Path | None = None) -> bool:
    """Whether ``out`` (an evaluation JSON or an export) exists, is at least as new as the
    pinned copy ``pinned`` and was made from it, or from its ``source`` (the run's
    ``best.pt``) at the same epoch: an output made straight from ``best.pt`` after those weights
    were written is of the same weights, so it is not made again."""
    out = Path(out)
    record = recorded(out)
    made_from = record.get("checkpoint")
    if made_from is None or out.stat().st_mtime_ns < pinned.stat().st_mtime_ns:
        return False
    made_from = Path(made_from).resolve()
    if made_from == pinned.resolve():
        return True
    return (source is not None and made_from == Path(source).resolve()
            and f"epoch{record.get('epoch')}" == pinned.stem)


def unfinished_runs(settings: Settings, exps: Iterable[Experiment], policy: str = "mean"
                    ) -> dict[str, str]:
    """The runs among ``exps`` whose training has not ended, each as ``"RAM-12 (epoch 40)"``
    with the epoch of the weights its ``policy`` export was made from (:func:`recorded_epoch`),
    keyed by model label; for the notes of figures and claims that use them."""
    return {e.label: f"{e.label} (epoch {recorded_epoch(settings.export_path(e, policy))})"
            for e in exps if not settings.status(e).finished}
