"""Benchmark ``gazekit.analyze`` on a large synthetic input (default 1M scanpaths x 12 glimpses).

Usage::

    python benchmarks/bench_analyze.py [--rows 12000000] [--repeats 3] [--subsample 20000]
    python benchmarks/bench_analyze.py --quick    # 1.2M rows, a smoke run of about a minute
    python benchmarks/bench_analyze.py --baseline DIR   # also DIR's gazekit, interleaved

The input (``gazekit.demo.synthetic_scanpaths``, three models; ``model``, ``dataset`` and
``policy`` categorical) is written to a temporary Parquet file with row groups of 1M rows;
generating it is not timed. Each repeat runs ``analyze`` (progress off) in a fresh subprocess,
which reports its wall and CPU time, its peak resident memory (``VmHWM``, or ``ru_maxrss``;
tracemalloc would miss Arrow's allocations) and the time spent in each phase (measured by
wrapping the functions that :mod:`gazekit.analyze` calls; what no wrapper covers is "other").
The script prints the median over repeats of each figure and the largest peak memory.

The streaming stage (``_segment_all``) runs three threads at once: reading and validating the
next chunk, segmenting this one (main thread) and writing the previous one's Parquet tables.
Its wall and CPU time (all threads of the process) are reported as a whole; its three parts
by the wall time of their calls and the CPU time of the thread that ran them
(``time.thread_time``), which leaves out Arrow's own Parquet-decoding threads and the main
loop between the calls: the stage's "rest". On a loaded machine the threads wait for cores,
so the stage's wall gain over a sequential loop shows only where cores are free.

It also times a plain per-scanpath pandas ``groupby().apply`` implementation of the
consecutive 6 px rule against :func:`gazekit.segment.segment` on a subsample, after checking
that both give the same fixation durations and saccade distances, and reports the ratio of the
whole ``analyze`` pipeline's rate to that of ``groupby().apply``.

Shared CPUs drift: rows per CPU-second (user + system time of the analysis process, all its
threads) moves less with the machine's load than rows per wall-clock second.

``--baseline DIR`` times another version of gazekit too (a folder holding its ``gazekit``
package, e.g. ``git archive COMMIT gazekit | tar -x -C DIR``), put first on the child's
``PYTHONPATH``: each round runs the baseline and then this version, and the per-round ratios
of CPU and wall time are reported (medians and ranges), as are the baseline's own figures.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

STEPS = 12
THRESHOLD_PX = 6.0
#: The streaming stage of an analysis, whose parts run on three threads at once.
STREAM = ("streaming stage, 3 threads (wall; CPU of all threads)", "_segment_all")
#: Its parts: label -> functions of :mod:`gazekit.analyze` (or ``Class.method``).
STREAM_PARTS: dict[str, tuple[str, ...]] = {
    "- read + validate (reader thread)": ("iter_scanpath_chunks",),
    "- segment (main thread)": ("segment",),
    "- write fixations/saccades Parquet (writer thread)": ("_ParquetAppender.append",
                                                          "_ParquetAppender.close"),
}
STREAM_REST = "- rest (main loop, Arrow's decoding threads; CPU only)"
#: The phases after it, run one after the other on the main thread.
PHASES: dict[str, tuple[str, ...]] = {
    "summarize (bootstrap CIs)": ("summarize",),
    "compare groups": ("compare_groups",),
    "densities": ("_densities",),
    "figure": ("plot_densities",),
}


def make_input(rows: int, path: Path) -> int:
    """Write about ``rows`` synthetic glimpses (whole scanpaths of 12) to ``path``; return rows."""
    from gazekit.demo import POLICIES, synthetic_scanpaths

    per_policy = max(1, round(rows / STEPS / len(POLICIES)))
    df = synthetic_scanpaths(n_per_policy=per_policy, steps=STEPS, seed=0)
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path,
                   row_group_size=1_000_000)
    return len(df)


def cpu_seconds() -> float:
    """User + system CPU time of this process so far (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(fn: Callable, totals: list[float], clock: Callable[[], float]) -> Callable:
    """``fn`` adding its wall and CPU seconds (read from ``clock``) to ``totals``; for a
    generator function, those spent in producing its items (not in the caller's work between
    them)."""
    def measure(work: Callable, *args, **kwargs):
        wall, cpu = time.perf_counter(), clock()
        try:
            return work(*args, **kwargs)
        finally:
            totals[0] += time.perf_counter() - wall
            totals[1] += clock() - cpu

    def call(*args, **kwargs):
        return measure(fn, *args, **kwargs)

    def generate(*args, **kwargs) -> Iterator:
        items = measure(fn, *args, **kwargs)
        while True:
            try:
                item = measure(next, items)
            except StopIteration:
                return
            yield item

    return generate if inspect.isgeneratorfunction(fn) else call


def instrument(modules: list) -> dict[str, list[float]]:
    """Wrap the functions of :data:`STREAM`, :data:`STREAM_PARTS` (CPU time of the calling
    thread) and :data:`PHASES` where ``modules`` look them up (``gazekit.analyze``, and
    ``gazekit.streaming`` where the streaming stage lives since it was split out; a method is
    wrapped once); return the running totals."""
    totals: dict[str, list[float]] = {}
    done: set[tuple[int, str]] = set()
    for phases, clock in (({STREAM[0]: STREAM[1:]}, cpu_seconds),
                          (STREAM_PARTS, time.thread_time), (PHASES, cpu_seconds)):
        for label, names in phases.items():
            for module in modules:
                for name in names:
                    owner_name, _, attr = name.rpartition(".")
                    owner = getattr(module, owner_name, None) if owner_name else module
                    if owner is None or not hasattr(owner, attr) or (id(owner), attr) in done:
                        continue
                    done.add((id(owner), attr))
                    setattr(owner, attr, _timed(getattr(owner, attr),
                                                totals.setdefault(label, [0, 0]), clock))
    return totals


def child(path: str, out: str) -> None:
    """Run one analysis and print its times and peak memory as JSON (subprocess side)."""
    module = importlib.import_module("gazekit.analyze")  # the module, not gazekit.analyze()
    try:
        streaming = [importlib.import_module("gazekit.streaming")]
    except ImportError:  # a version from before the split
        streaming = []
    phases = instrument([module, *streaming])
    wall, cpu = time.perf_counter(), cpu_seconds()
    module.analyze(path, out, progress=False, overwrite=True)
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    phases[STREAM_REST] = [math.nan,
                           phases[STREAM[0]][1] - sum(phases[p][1] for p in STREAM_PARTS)]
    outer = [phases[STREAM[0]], *(phases[p] for p in PHASES)]
    phases["other"] = [wall - sum(w for w, _ in outer), cpu - sum(c for _, c in outer)]
    print(json.dumps({"wall_s": wall, "cpu_s": cpu, "peak_mib": peak_mib(), "phases": phases}))


def peak_mib() -> float:
    """Peak resident memory of this process in MiB.

    Linux: ``VmHWM`` of /proc/self/status, the high-water mark of this program's own address
    space (``ru_maxrss`` would also count the parent's memory from before the exec).
    Elsewhere ``ru_maxrss`` (KiB on Linux/BSD, bytes on macOS).
    """
    status = Path("/proc/self/status")
    if status.exists():
        line = next(x for x in status.read_text().splitlines() if x.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024
    scale = 2**20 if sys.platform == "darwin" else 2**10
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def naive_segment(scanpath: pd.DataFrame) -> pd.Series:
    """Consecutive rule for one scanpath, the plain way: fixation lengths, saccade distances."""
    xy = scanpath[["x", "y"]].to_numpy()
    distances = np.hypot(*np.diff(xy, axis=0).T)
    jump = distances >= THRESHOLD_PX
    boundaries = np.flatnonzero(jump) + 1
    lengths = np.diff(np.concatenate([[0], boundaries, [len(xy)]]))
    return pd.Series({"n_glimpses": lengths.tolist(), "distance_px": distances[jump].tolist()})


def compare_with_apply(path: Path, scanpaths: int) -> dict[str, float]:
    """Time groupby().apply and gazekit.segment on the first ``scanpaths`` scanpaths."""
    from gazekit.schema import validate
    from gazekit.segment import segment

    table = validate(pq.read_table(path).slice(0, scanpaths * STEPS).to_pandas())
    start = time.perf_counter()
    naive = table.groupby("_scanpath", sort=False).apply(naive_segment)
    naive_s = time.perf_counter() - start
    start = time.perf_counter()
    seg = segment(table, threshold=THRESHOLD_PX)
    fast_s = time.perf_counter() - start
    np.testing.assert_array_equal(np.concatenate(naive["n_glimpses"].to_numpy()),
                                  seg.fixations["n_glimpses"].to_numpy())
    np.testing.assert_allclose(np.concatenate(naive["distance_px"].to_numpy()),
                               seg.saccades["distance_px"].to_numpy())
    return {"rows": len(table), "apply_s": naive_s, "segment_s": fast_s}


def run_child(path: Path, out: Path, baseline: str | None = None) -> dict:
    """One analysis in a fresh process (of the gazekit in ``baseline`` if given)."""
    env = dict(os.environ)
    if baseline:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [baseline, env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, __file__, "--child", str(path), str(out)],
                          capture_output=True, text=True, check=True, env=env)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def report_run(name: str, r: dict) -> None:
    print(f"{name}: {r['wall_s']:.2f} s wall, {r['cpu_s']:.2f} s CPU, "
          f"peak {r['peak_mib']:.0f} MiB")


def summary(runs: list[dict], rows: int) -> str:
    """Medians (and ranges) of wall and CPU time, rows/s, and the largest peak memory."""
    wall = [r["wall_s"] for r in runs]
    cpu = [r["cpu_s"] for r in runs]
    w, c = statistics.median(wall), statistics.median(cpu)
    return (f"median {w:.2f} s wall ({min(wall):.2f}-{max(wall):.2f}) over {len(runs)} runs = "
            f"{rows / w:,.0f} rows/s; {c:.2f} s CPU ({min(cpu):.2f}-{max(cpu):.2f}) = "
            f"{rows / c:,.0f} rows per CPU-second; peak memory "
            f"{max(r['peak_mib'] for r in runs):,.0f} MiB")


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=12_000_000,
                        help="input rows (glimpses), in scanpaths of 12; default 12,000,000")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs (default 3)")
    parser.add_argument("--subsample", type=int, default=20_000,
                        help="scanpaths for the groupby().apply comparison (default 20,000)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 1.2M rows, 5,000 scanpaths for groupby().apply")
    parser.add_argument("--baseline", metavar="DIR",
                        help="also time the gazekit package in DIR, interleaved round by round")
    parser.add_argument("--child", nargs=2, metavar=("INPUT", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.quick:
        args.rows, args.subsample = 1_200_000, 5_000
    if args.repeats < 1:
        raise SystemExit(f"--repeats must be >= 1, got {args.repeats}")

    from common import command, cpu_name  # here: it imports torch, which the child must not

    print("# gazekit analyze\n")
    print(f"command: {command()}")
    print(f"cpu: {cpu_name()} ({os.cpu_count()} logical CPUs); load average (1, 5, 15 min) "
          f"at start: {load()}")
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, pandas {pd.__version__}, "
          f"pyarrow {pa.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scanpaths.parquet"
        start = time.perf_counter()
        rows = make_input(args.rows, path)
        print(f"input: {rows:,} rows, {rows // STEPS:,} scanpaths, "
              f"{pq.ParquetFile(path).num_row_groups} row groups, "
              f"{path.stat().st_size / 2**20:.0f} MiB (generated in "
              f"{time.perf_counter() - start:.1f} s, not timed)\n")
        runs, baseline = [], []
        for i in range(args.repeats):
            if args.baseline:
                baseline.append(run_child(path, Path(tmp) / "out", args.baseline))
                report_run(f"baseline run {i + 1}", baseline[-1])
            runs.append(run_child(path, Path(tmp) / "out"))
            report_run(f"run {i + 1}", runs[-1])
        if baseline:
            print(f"\nbaseline ({args.baseline}): {summary(baseline, rows)}")
            for key, what in (("cpu_s", "CPU"), ("wall_s", "wall")):
                ratios = [b[key] / r[key] for b, r in zip(baseline, runs, strict=True)]
                print(f"- baseline / this version, {what} time per round: "
                      f"{', '.join(f'{x:.2f}' for x in ratios)} (median "
                      f"{statistics.median(ratios):.2f})")
        wall = statistics.median(r["wall_s"] for r in runs)
        print(f"\nanalyze: {summary(runs, rows)} (load average at end: {load()})\n")
        print("| phase | wall s (median) | share of wall | CPU s (median) |")
        print("|---|---|---|---|")
        for label in (STREAM[0], *STREAM_PARTS, STREAM_REST, *PHASES, "other"):
            w = statistics.median(r["phases"][label][0] for r in runs)
            c = statistics.median(r["phases"][label][1] for r in runs)
            share = "" if label in STREAM_PARTS or math.isnan(w) else f"{w / wall:.0%}"
            print(f"| {label} | {'-' if math.isnan(w) else f'{w:.2f}'} | {share} | {c:.2f} |")

        cmp = compare_with_apply(path, args.subsample)
        apply_rate = cmp["rows"] / cmp["apply_s"]
        print(f"\nsegmentation of {cmp['rows']:,} rows ({args.subsample:,} scanpaths): "
              f"groupby().apply {cmp['apply_s']:.2f} s ({apply_rate:,.0f} rows/s), "
              f"gazekit.segment {cmp['segment_s']:.4f} s "
              f"({cmp['rows'] / cmp['segment_s']:,.0f} rows/s): "
              f"{cmp['apply_s'] / cmp['segment_s']:,.0f}x faster; whole analyze pipeline "
              f"{rows / wall / apply_rate:,.0f}x the groupby().apply rate")


if __name__ == "__main__":
    main()
