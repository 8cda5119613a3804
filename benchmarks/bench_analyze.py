"""Benchmark ``gazekit.analyze`` on a large synthetic input (default 1M scanpaths x 12 glimpses).

Usage::

    python benchmarks/bench_analyze.py [--rows 12000000] [--repeats 3] [--subsample 20000]

The input (``gazekit.demo.synthetic_scanpaths``, three models) is written to a temporary
Parquet file with row groups of 1M rows; generating it is not timed. Each repeat runs
``analyze`` (progress off) in a fresh subprocess, which reports its wall time and its peak
resident memory (``VmHWM``, or ``ru_maxrss``; tracemalloc would miss Arrow's allocations).
The script prints the median wall time, rows per second and the largest peak memory.

It also times a plain per-scanpath pandas ``groupby().apply`` implementation of the
consecutive 6 px rule against :func:`gazekit.segment.segment` on a subsample, after checking
that both give the same fixation durations and saccade distances.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

STEPS = 12
THRESHOLD_PX = 6.0


def make_input(rows: int, path: Path) -> int:
    """Write about ``rows`` synthetic glimpses (whole scanpaths of 12) to ``path``; return rows."""
    from gazekit.demo import POLICIES, synthetic_scanpaths

    per_policy = max(1, round(rows / STEPS / len(POLICIES)))
    df = synthetic_scanpaths(n_per_policy=per_policy, steps=STEPS, seed=0)
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path,
                   row_group_size=1_000_000)
    return len(df)


def child(path: str, out: str) -> None:
    """Run one analysis and print its wall time and peak memory as JSON (subprocess side)."""
    from gazekit.analyze import analyze

    start = time.perf_counter()
    analyze(path, out, progress=False, overwrite=True)
    wall = time.perf_counter() - start
    print(json.dumps({"wall_s": wall, "peak_mib": peak_mib()}))


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=12_000_000,
                        help="input rows (glimpses), in scanpaths of 12; default 12,000,000")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs (default 3)")
    parser.add_argument("--subsample", type=int, default=20_000,
                        help="scanpaths for the groupby().apply comparison (default 20,000)")
    parser.add_argument("--child", nargs=2, metavar=("INPUT", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}, numpy {np.__version__}, "
          f"pandas {pd.__version__}, pyarrow {pa.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scanpaths.parquet"
        start = time.perf_counter()
        rows = make_input(args.rows, path)
        print(f"input: {rows:,} rows, {rows // STEPS:,} scanpaths, "
              f"{pq.ParquetFile(path).num_row_groups} row groups, "
              f"{path.stat().st_size / 2**20:.0f} MiB (generated in "
              f"{time.perf_counter() - start:.1f} s, not timed)")
        runs = []
        for i in range(args.repeats):
            proc = subprocess.run(
                [sys.executable, __file__, "--child", str(path), str(Path(tmp) / "out")],
                capture_output=True, text=True, check=True)
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(f"run {i + 1}: {runs[-1]['wall_s']:.2f} s, peak {runs[-1]['peak_mib']:.0f} MiB")
        wall = statistics.median(r["wall_s"] for r in runs)
        print(f"analyze: median {wall:.2f} s over {len(runs)} runs = {rows / wall:,.0f} rows/s; "
              f"peak memory {max(r['peak_mib'] for r in runs):,.0f} MiB")

        cmp = compare_with_apply(path, args.subsample)
        print(f"segmentation of {cmp['rows']:,} rows ({args.subsample:,} scanpaths): "
              f"groupby().apply {cmp['apply_s']:.2f} s ({cmp['rows'] / cmp['apply_s']:,.0f} "
              f"rows/s), gazekit.segment {cmp['segment_s']:.4f} s "
              f"({cmp['rows'] / cmp['segment_s']:,.0f} rows/s): "
              f"{cmp['apply_s'] / cmp['segment_s']:,.0f}x faster; whole analyze pipeline "
              f"{rows / wall / (cmp['rows'] / cmp['apply_s']):,.0f}x the apply rate")


if __name__ == "__main__":
    main()
