"""Training queues: which runs a live ``train_queue.sh`` holds, and the queue command lines
for the runs that still need training, dealt over queues side by side.

>>> import tempfile
>>> from pathlib import Path
>>> with tempfile.TemporaryDirectory() as runs:
...     todo = [("ram-3", ["--model", "ram", "--dataset", "synthetic", "--glimpses", "3"])]
...     commands, skipped = queue_commands(Path(runs), todo, 2)
>>> commands[0][-1], skipped
('ram-3:--model ram --dataset synthetic --glimpses 3', [])
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path

from analysis.standins import run_progress

__all__ = ["QUEUE_SCRIPT", "queue_commands", "running_queues"]

#: The queue script every command line runs.
QUEUE_SCRIPT = Path(__file__).resolve().parent / "train_queue.sh"


def running_queues(runs: Path, proc: Path = Path("/proc")) -> dict[str, int]:
    """Runs of ``runs`` that a live ``train_queue.sh`` process has in its list, with its pid.

    Reads ``/proc/<pid>/cmdline`` (Linux; elsewhere nothing is found). A relative runs folder
    is resolved against the process's working directory, as the script does.
    """
    found: dict[str, int] = {}
    target = runs.resolve()
    for cmdline in proc.glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().decode(errors="replace").split("\0")
            cwd = (cmdline.parent / "cwd").resolve()
        except OSError:  # the process ended, or is not ours to read
            continue
        script = [i for i, a in enumerate(args) if a.endswith("train_queue.sh")]
        if not script or len(args) < script[0] + 2:
            continue
        i = script[0]
        if (cwd / args[i + 1]).resolve() == target:
            for spec in args[i + 2:]:
                if spec:
                    found.setdefault(spec.split(":", 1)[0], int(cmdline.parent.name))
    return found


def queue_commands(runs: Path, todo: Sequence[tuple[str, Sequence[str]]], queues: int = 2
                   ) -> tuple[list[list[str]], list[str]]:
    """``train_queue.sh`` command lines for the runs of ``todo`` that have not finished.

    Parameters
    ----------
    runs : Path
        The runs folder.
    todo : sequence of (run name, ``zoo train`` arguments without ``--out``)
        In the order they should train.
    queues : int, default 2
        Queues side by side; runs are dealt round-robin over them.

    Returns
    -------
    commands : list of list of str
        One argv per non-empty queue.
    skipped : list of str
        Why each unfinished run was left out, one line each: runs a job is writing (status
        ``"training"``) and runs a running queue will reach (:func:`running_queues`), so that
        no two jobs write one run. Finished runs are left out silently, and so are runs
        whose shipped weights stand in for a lost folder: they are finished
        (:func:`analysis.standins.run_progress`).
    """
    if queues < 1:
        raise ValueError(f"queues must be >= 1, got {queues}")
    running = running_queues(runs)
    lanes: list[list[str]] = [[] for _ in range(queues)]
    skipped, waiting = [], []
    for run, args in todo:
        status = run_progress(runs / run, args)
        if status.finished:
            continue
        if run in running:
            skipped.append(f"{run}: {status.state}; in the running queue of pid {running[run]}")
        elif status.status == "training":
            skipped.append(f"{run}: {status.state}; a job is writing it")
        else:
            waiting.append(f"{run}:{shlex.join(args)}")
    for i, spec in enumerate(waiting):
        lanes[i % queues].append(spec)
    return [["bash", str(QUEUE_SCRIPT), str(runs), *lane] for lane in lanes if lane], skipped
