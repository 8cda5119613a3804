"""Run folders of :mod:`zoo.train`: one trainer at a time, no silent restart over a run.

- :func:`hold` locks the folder (``flock`` on the folder itself, so no lock file appears in
  it) for the whole session: a second ``zoo train`` on the same folder, e.g. a second
  ``--resume``, is refused in one line instead of appending duplicate epochs. Queues that hold
  their own lock elsewhere (``analysis/train_queue.sh``: ``RUNS_DIR/.NAME.lock``) are not
  affected. :func:`in_use` reads the lock without waiting: a run is training (or paused) exactly
  while its trainer holds it.
- :func:`check_fresh` refuses to start a new run in a folder that holds one (or other files),
  unless it is resumed or ``overwrite`` is given; then :func:`clear` removes the old run's
  files. A folder that is missing, empty, or holds only what a run writes before its first
  checkpoint (``config.json``, an empty ``metrics.jsonl``, ``snapshots/epoch-000.pt``: a run
  stopped before it saved anything to resume) starts without either.

>>> import tempfile
>>> folder = tempfile.mkdtemp()
>>> with hold(folder):
...     check_fresh(folder, overwrite=False)
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["RUN_FILES", "RunFolderError", "check_fresh", "clear", "hold", "in_use"]

#: Files and folders a run writes in its folder.
RUN_FILES: tuple[str, ...] = ("last.pt", "best.pt", "final.json", "config.json",
                              "metrics.jsonl", "snapshots")
#: What a run has written before its first checkpoint (nothing to resume, nothing lost).
_STARTUP = {"config.json", "metrics.jsonl", os.path.join("snapshots", "epoch-000.pt")}


#: Tries (50 ms apart) before :func:`hold` refuses a folder whose lock is taken.
_LOCK_ATTEMPTS = 5


class RunFolderError(ValueError):
    """A run folder is in use by another process, or holds a run that would be replaced."""


@contextmanager
def hold(folder: str | os.PathLike) -> Iterator[Path]:
    """Lock ``folder`` (created if missing) for this process while the body runs.

    Raises
    ------
    RunFolderError
        If another process holds the lock (another ``zoo train`` on this folder).
    NotADirectoryError
        If ``folder`` is a file.
    """
    folder = Path(folder)
    created = [f for f in (folder, *folder.parents) if not f.exists()]  # innermost first
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for attempt in range(_LOCK_ATTEMPTS):  # outlast an in_use() probe's momentary lock
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if attempt == _LOCK_ATTEMPTS - 1:
                    raise RunFolderError(f"{folder}: another zoo train is using this run "
                                         "folder; wait for it to end (or stop it) first") from None
                time.sleep(0.05)
        try:
            yield folder
        finally:
            for made in created:  # a run that failed before writing leaves no empty folder
                try:
                    made.rmdir()
                except OSError:  # not empty: leave it and its parents
                    break
    finally:
        os.close(fd)  # releases the lock


def in_use(folder: str | os.PathLike) -> bool:
    """Whether a process holds ``folder``'s lock (:func:`hold`): a ``zoo train`` runs on it.

    A paused trainer (``SIGSTOP``) still holds it; a stopped or killed one does not. The probe
    takes a shared lock for an instant, which :func:`hold` outlasts.

    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> with hold(folder):
    ...     in_use(folder)
    True
    >>> in_use(folder)
    False
    """
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except (FileNotFoundError, NotADirectoryError):
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _files(folder: Path) -> list[str]:
    """Files under ``folder`` (relative paths), hidden ones (atomic writes' debris) aside."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if not p.is_dir() and not any(part.startswith(".")
                                                for part in p.relative_to(folder).parts))


def check_fresh(folder: str | os.PathLike, overwrite: bool) -> None:
    """Refuse to start a new run in ``folder`` if that would replace a run or other files.

    Parameters
    ----------
    folder : path
        The run folder (see the module docstring for what counts as empty).
    overwrite : bool
        Allow replacing a run (:func:`clear` removes its files).

    Raises
    ------
    RunFolderError
        If ``folder`` holds a run (or files a run does not write) and ``overwrite`` is False;
        or files a run does not write, in any case (they are not ours to delete).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return
    files = _files(folder)
    foreign = [f for f in files if Path(f).parts[0] not in RUN_FILES]
    if foreign:
        raise RunFolderError(f"{folder}: holds {foreign[0]!r}, which zoo train did not write; "
                             "choose another output folder")
    metrics = folder / "metrics.jsonl"
    started = [f for f in files if f not in _STARTUP] or (
        ["metrics.jsonl"] if metrics.is_file() and metrics.stat().st_size else [])
    if started and not overwrite:
        raise RunFolderError(f"{folder}: already holds a run ({started[0]}); pass --resume to "
                             "continue it or --overwrite to start it over, or choose another "
                             "output folder")


def clear(folder: str | os.PathLike) -> None:
    """Remove the files of a run from ``folder`` (:data:`RUN_FILES`), to start it over."""
    folder = Path(folder)
    for name in RUN_FILES:
        path = folder / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
