"""Speed of gazekit's MultiMatch against multimatch-gaze on the studyforrest fixation vectors.

Needs ../shared/data/human/studyforrest-fixvectors/ (110 files) and multimatch-gaze. Every
pair of files (5,995 pairs, 10-40 fixations each) without simplification and with
multimatch-gaze's example thresholds; the reference runs on the first ``--reference-pairs``
pairs only (it takes milliseconds per pair). Prints the median over ``--rounds`` of the time
per pair, and the largest absolute difference between the two.

    python benchmarks/bench_similarity.py --rounds 5
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
from multimatch_gaze import multimatch_gaze as mm

from gazekit.similarity import Simplification, multimatch

DATA = Path(__file__).parents[2] / "shared" / "data" / "human" / "studyforrest-fixvectors"
SCREEN = (1280, 720)
RULES = {"none": {}, "TDir 45, TDur 0.05 s, TAmp 150 px": {"TDir": 45.0, "TDur": 0.05,
                                                           "TAmp": 150.0}}


def _reference(a, b, rule):
    rec = [np.rec.fromarrays(f.T, names="start_x,start_y,duration") for f in (a, b)]
    try:
        return mm.docomparison(*rec, screensize=list(SCREEN), grouping=bool(rule), **rule)
    except IndexError:  # simplified to one saccade: multimatch-gaze fails
        return [np.nan] * 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reference-pairs", type=int, default=1000)
    args = parser.parse_args()
    paths = [np.loadtxt(f, skiprows=1) for f in sorted(DATA.glob("*.tsv"))]
    pairs = np.array(list(itertools.combinations(range(len(paths)), 2)))
    ref_pairs = pairs[:args.reference_pairs]
    from common import command, cpu_name, ratios, spread, table  # imports torch: only here

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"# MultiMatch against multimatch-gaze (benchmarks/bench_similarity.py)\n\n"
          f"command: {command()}\ncpu: {cpu_name()} ({os.cpu_count()} logical CPUs); load "
          f"average (1, 5, 15 min) at start: {load}\npython {platform.python_version()}, "
          f"multimatch-gaze {version('multimatch-gaze')}\n\n{len(paths)} files, gazekit on all "
          f"{len(pairs)} pairs, multimatch-gaze on the first {len(ref_pairs)}; {args.rounds} "
          "interleaved rounds, median (range)\n")
    rows = []
    for name, rule in RULES.items():
        simplification = Simplification(rule.get("TAmp", 0.0), rule.get("TDir", 0.0),
                                        rule.get("TDur", 0.0))
        ours_s, ref_s = [], []
        for _ in range(args.rounds):
            start = time.perf_counter()
            ours = multimatch(paths, paths, SCREEN, pairs=(pairs[:, 0], pairs[:, 1]),
                              simplification=simplification)
            ours_s.append((time.perf_counter() - start) / len(pairs) * 1e3)
            start = time.perf_counter()
            ref = np.array([_reference(paths[i], paths[j], rule) for i, j in ref_pairs])
            ref_s.append((time.perf_counter() - start) / len(ref_pairs) * 1e3)
        both = ~np.isnan(ref).any(axis=1)
        diff = np.abs(ours[:len(ref_pairs)][both] - ref[both]).max()
        rows.append([name, spread(ours_s, ".3f"), spread(ref_s, ".3f"),
                     spread(ratios(ref_s, ours_s), ".1f"),
                     f"{diff:.1e} ({both.sum()} pairs; multimatch-gaze fails on {(~both).sum()})"])
    print(table(["simplification", "gazekit (ms/pair)", "multimatch-gaze (ms/pair)",
                 "speed-up (x)", "max abs difference"], rows))

if __name__ == "__main__":
    main()
