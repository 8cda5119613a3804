"""Fault injection: kill the commands while they write, and run two writers at once.

Each case runs the real command line in child processes and checks an invariant after every
try; a try "held" when the invariant did. Cases:

- ``analyze-kill``: ``gazekit analyze --out res`` killed (SIGKILL) at a random moment, then
  run again: the rerun succeeds, ``res`` is complete, and no hidden ``.res.*`` debris is left.
- ``overwrite-kill``: the same with ``--overwrite`` over a previous result: before the rerun
  ``res`` is the old or the new complete result (never missing, never half-written); after
  it, no debris.
- ``train-kill``: ``zoo train`` killed (SIGKILL) at random moments (0.3-1.3x the wall time of
  an uninterrupted run on this machine), also during checkpoint writes, and resumed until
  done: the final weights equal those of an uninterrupted run and no ``.last.pt.*`` debris is
  left.
- ``train-interrupt``: ``zoo train`` sent SIGINT (Ctrl-C) at a random moment, also within the
  first epoch: it ends with one line and exit 130 (or finishes), and resuming gives the
  weights of an uninterrupted run.
- ``analyze-two-writers``: two ``gazekit analyze --out res`` at once on different inputs:
  exactly one succeeds; the other ends with one line, exit 2; ``res`` is the winner's.
- ``train-two-resumes``: two ``zoo train --resume --out R`` at once: one is refused in one
  line; ``metrics.jsonl`` has each epoch once.

Run from the repository root (about 5-10 minutes on two busy cores)::

    python benchmarks/fault_injection.py [--tries 5] [--seed 0] [--cases analyze-kill ...]

It prints one line per case, ``CASE  held H of T tries``, and the reason of every try that
did not hold; the exit status is 1 if any try failed.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
GAZEKIT = [sys.executable, "-m", "gazekit.cli"]
TRAIN = [sys.executable, "-m", "zoo.train"]
TRAIN_ARGS = ["--model", "mram", "--glimpses", "3", "--hidden", "32", "--dataset",
              "synthetic", "--limit", "600", "--batch-size", "64", "--epochs", "3",
              "--num-threads", "1", "--lr", "1e-3"]
#: What a finished analysis holds.
ANALYSIS_FILES = {"report.md", "summary.csv", "fixations.parquet", "saccades.parquet"}


def _run(cmd: list[str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=REPO, env=ENV, capture_output=True, text=True,
                          timeout=timeout)


def _start(cmd: list[str]) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=REPO, env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def _kill_after(cmd: list[str], delay: float, sig: int = signal.SIGKILL
                ) -> tuple[int, str]:
    """Start ``cmd``, send ``sig`` after ``delay`` s (unless it has ended); exit status, stderr."""
    child = _start(cmd)
    try:
        child.wait(delay)
    except subprocess.TimeoutExpired:
        child.send_signal(sig)
    _, err = child.communicate(timeout=300)
    return child.returncode, err


def _scanpaths(path: Path, model: str, n: int, seed: int) -> Path:
    """A scanpath file of ``n`` random-walk scanpaths of 12 glimpses (big enough to take a
    few seconds to analyse)."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0, 4, (n, 12, 2)).cumsum(1) + 14
    pd.DataFrame({"model": model, "image_id": np.repeat(np.arange(n), 12),
                  "step": np.tile(np.arange(12), n), "x": steps[..., 0].ravel(),
                  "y": steps[..., 1].ravel()}).to_parquet(path)
    return path


def _debris(folder: Path, name: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{name}."))


def _complete(res: Path) -> bool:
    return res.is_dir() and {p.name for p in res.iterdir()} >= ANALYSIS_FILES


def _one_line(err: str) -> bool:
    return err.count("\n") == 1


class Case:
    """Tries of one case: counts and the reasons of the failures."""

    def __init__(self, name: str) -> None:
        self.name, self.tried, self.held, self.failures = name, 0, 0, []

    def check(self, ok: bool, reason: str) -> None:
        self.tried += 1
        self.held += ok
        if not ok:
            self.failures.append(reason)

    def line(self) -> str:
        return f"{self.name:22s} held {self.held} of {self.tried} tries"


def analyze_kill(work: Path, tries: int, rng: random.Random, overwrite: bool) -> Case:
    case = Case("overwrite-kill" if overwrite else "analyze-kill")
    data = _scanpaths(work / "a.parquet", "A", 3000, 0)
    for i in range(tries):
        res = work / f"res{i}"
        cmd = [*GAZEKIT, "analyze", str(data), "--out", str(res), "--no-progress"]
        if overwrite:
            if _run(cmd).returncode != 0:
                case.check(False, f"try {i}: the first analysis failed")
                continue
            cmd.append("--overwrite")
        _kill_after(cmd, rng.uniform(0.5, 6.0))
        intact = _complete(res) or (not overwrite and not res.exists())
        again = _run(cmd if overwrite or not res.exists() else [*cmd, "--overwrite"])
        debris = _debris(work, res.name)
        ok = intact and again.returncode == 0 and _complete(res) and not debris
        case.check(ok, f"try {i}: intact before the rerun {intact}, rerun exit "
                       f"{again.returncode} {again.stderr.strip()[-200:]}, debris {debris}")
    return case


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, weights_only=True)["state_dict"]


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def train_faults(work: Path, tries: int, rng: random.Random, sig: int) -> Case:
    case = Case("train-kill" if sig == signal.SIGKILL else "train-interrupt")
    straight = work / "straight"
    wall = work / "straight-wall-s.txt"
    if not (straight / "final.json").exists():
        start = time.perf_counter()
        done = _run([*TRAIN, *TRAIN_ARGS, "--out", str(straight)])
        if done.returncode != 0:
            raise RuntimeError(f"the uninterrupted run failed: {done.stderr[-2000:]}")
        wall.write_text(f"{time.perf_counter() - start}")
    reference = _weights(straight / "last.pt")
    # Kill times scale with this machine's pace (start-up dominates and grows with the load):
    # 0.3-1.3x an uninterrupted run's wall time, so kills land in start-up, in the epochs and
    # in checkpoint writes, and some sessions finish.
    duration = float(wall.read_text())
    for i in range(tries):
        out = work / f"{case.name}-{i}"
        lines_ok, sessions = True, 0
        while not (out / "final.json").exists() and sessions < 20:
            cmd = ([*TRAIN, "--resume", "--out", str(out), "--num-threads", "1"]
                   if (out / "last.pt").exists() else [*TRAIN, *TRAIN_ARGS, "--out", str(out)])
            code, err = _kill_after(cmd, rng.uniform(0.3, 1.3) * duration, sig)
            sessions += 1
            if sig == signal.SIGINT and code == 130:
                lines_ok &= _one_line(err) and "resume with: python -m zoo.train --resume" in err \
                    or "nothing saved beyond the last checkpoint" in err
        if not (out / "final.json").exists():
            case.check(False, f"try {i}: not finished after {sessions} sessions")
            continue
        debris = _debris(out, "last.pt") + _debris(out, "best.pt")
        same = _same(reference, _weights(out / "last.pt"))
        case.check(same and lines_ok and not debris,
                   f"try {i}: same weights {same}, one-line interrupts {lines_ok}, "
                   f"debris {debris}, {sessions} sessions")
    return case


def analyze_two_writers(work: Path, tries: int, rng: random.Random) -> Case:
    case = Case("analyze-two-writers")
    inputs = [_scanpaths(work / f"w{k}.parquet", f"writer{k}", 1500, k) for k in (0, 1)]
    for i in range(tries):
        res = work / f"shared{i}"
        children = []
        for k, data in enumerate(inputs):
            children.append(_start([*GAZEKIT, "analyze", str(data), "--out", str(res),
                                    "--no-progress"]))
            if k == 0:
                time.sleep(rng.uniform(0.0, 1.0))
        results = [(c.wait(300), c.stderr.read()) for c in children]
        codes = sorted(code for code, _ in results)
        winner = [k for k, (code, _) in enumerate(results) if code == 0]
        loser_err = next((err for code, err in results if code != 0), "")
        summary = res / "summary.csv"
        right = (len(winner) == 1 and summary.exists()
                 and f"writer{winner[0]}" in summary.read_text())
        ok = codes == [0, 2] and right and _one_line(loser_err) and not _debris(work, res.name)
        case.check(ok, f"try {i}: exit statuses {codes}, result of the winner {right}, "
                       f"loser said {loser_err.strip()[-200:]!r}")
    return case


def train_two_resumes(work: Path, tries: int, rng: random.Random) -> Case:
    case = Case("train-two-resumes")
    for i in range(tries):
        out = work / f"twice{i}"
        args = [a if a != "3" or j != TRAIN_ARGS.index("--epochs") + 1 else "1"
                for j, a in enumerate(TRAIN_ARGS)]
        if _run([*TRAIN, *args, "--out", str(out)]).returncode != 0:
            case.check(False, f"try {i}: the first epoch failed")
            continue
        resume = [*TRAIN, "--resume", "--out", str(out), "--epochs", "3", "--num-threads", "1"]
        children = [_start(resume)]
        time.sleep(rng.uniform(0.0, 1.0))
        children.append(_start(resume))
        results = [(c.wait(300), c.stderr.read()) for c in children]
        codes = sorted(code for code, _ in results)
        epochs = [int(line.split('"epoch": ')[1].split(",")[0])
                  for line in (out / "metrics.jsonl").read_text().splitlines()]
        refused = next((err for code, err in results if code == 2), "")
        ok = (codes == [0, 2] and epochs == [1, 2, 3] and _one_line(refused)
              and "another zoo train is using this run folder" in refused)
        case.check(ok, f"try {i}: exit statuses {codes}, epochs {epochs}, "
                       f"refusal {refused.strip()[-200:]!r}")
    return case


CASES: dict[str, Callable[[Path, int, random.Random], Case]] = {
    "analyze-kill": lambda w, n, r: analyze_kill(w, n, r, overwrite=False),
    "overwrite-kill": lambda w, n, r: analyze_kill(w, n, r, overwrite=True),
    "train-kill": lambda w, n, r: train_faults(w, n, r, signal.SIGKILL),
    "train-interrupt": lambda w, n, r: train_faults(w, n, r, signal.SIGINT),
    "analyze-two-writers": analyze_two_writers,
    "train-two-resumes": train_two_resumes,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tries", type=int, default=5, help="tries per case (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill times")
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="fault-injection-"))
    failed = 0
    try:
        for name in args.cases:
            case = CASES[name](work, args.tries, rng)
            print(case.line(), flush=True)
            for reason in case.failures:
                print(f"    {reason}", flush=True)
            failed += case.tried - case.held
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
