"""Agreement of fixation detectors with expert coders on hand-labelled recordings.

    .venv/bin/python benchmarks/eval_detectors.py            # all detectors, both data sets
    .venv/bin/python benchmarks/eval_detectors.py --tune     # + the tuning grid (IRF only)

Data (``--data``, default ``../shared/data/human/labelled``; see each folder's README):

- ``irf``: lookAtPoint_EL (Zemblys et al. 2018), EyeLink 1000 Plus at 1000 Hz, dot task, one
  expert. Fixation = label 1; post-saccadic oscillations (3) are *not* fixation. S3 is left
  out (20 % blinks and no PSO labels, see its README). **The tuning set.**
- ``hooge``: Hooge et al. (2018) adult free viewing of images, Tobii TX300 at 300 Hz, 12
  coders. Reference = majority vote (at least 7 of 12 coders). **Never used for tuning.**

Scores (:mod:`gazekit.detectors.agreement`), per data set over all its recordings: sample-level
Cohen's kappa of fixation vs not over the samples with valid gaze; event F1 at IoU >= 0.5;
fixation count and median duration (ms) against the reference's. For Hooge, each coder is also
scored against the majority of the other 11, and so is every detector (mean over the 12
leave-one-out majorities), which places the detector within the coders' spread.

Anchors: pymovements' I-DT and I-VT with its defaults (1.0 deg, 100 ms; 20 deg/s, 100 ms,
velocity by its "smooth" 5-point method), I2MC (Hessels et al. 2017) and REMoDNaV (Dar et al.
2021) with their defaults; each runs if its package is installed (``pip install ".[bench]"``).
Writes a CSV (``--out``) and prints Markdown tables.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import logging
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gazekit import detectors
from gazekit.atomic import atomic_file
from gazekit.detectors.agreement import event_f1, events_mask, mask_events, sample_kappa
from gazekit.detectors.common import block_starts, runs_of
from gazekit.geometry import ScreenGeometry

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "human" / "labelled"
HOOGE_GEOMETRY = ScreenGeometry(resolution_px=(1920, 1080), size_cm=(50.9, 28.6),
                                distance_cm=65.0)
IRF_GEOMETRY = ScreenGeometry(resolution_px=(1920, 1080), size_cm=(53.3, 30.1),
                              distance_cm=56.5)
CODERS = ("DN", "IH", "JB", "JF", "JV", "KH", "MN", "MS", "PZ", "RA", "RH", "TC")


@dataclass
class Labelled:
    """Samples of one data set (all recordings concatenated) and their reference labels."""

    name: str
    t: np.ndarray  # ms
    x: np.ndarray  # deg
    y: np.ndarray  # deg
    recording: np.ndarray  # code per sample
    rate_hz: float
    x_px: np.ndarray
    y_px: np.ndarray
    geometry: ScreenGeometry
    reference: np.ndarray  # bool, fixation per sample
    coders: dict[str, np.ndarray] = field(default_factory=dict)  # bool per coder (Hooge)

    @property
    def valid(self) -> np.ndarray:
        return np.isfinite(self.x) & np.isfinite(self.y)

    @property
    def dt(self) -> float:
        return 1000.0 / self.rate_hz


def load_hooge(folder: Path) -> Labelled:
    files = sorted((folder / "per_sample").glob("*.tsv"))
    tables = [pd.read_csv(f, sep="\t").assign(rec=i) for i, f in enumerate(files)]
    df = pd.concat(tables, ignore_index=True)
    x, y = HOOGE_GEOMETRY.pix2deg(df["x"].to_numpy(), df["y"].to_numpy())
    return Labelled("hooge", df["time"].to_numpy(float), x, y, df["rec"].to_numpy(), 300.0,
                    df["x"].to_numpy(float), df["y"].to_numpy(float), HOOGE_GEOMETRY,
                    df["n_coders_fix"].to_numpy() >= 7,
                    {c: df[c].to_numpy() == 1 for c in CODERS})


def load_irf(folder: Path, leave_out: tuple[str, ...] = ("S3",)) -> Labelled:
    files = [f for f in sorted(folder.glob("lookAtPoint_EL_S*.csv"))
             if f.stem.rsplit("_", 1)[1] not in leave_out]
    df = pd.concat([pd.read_csv(f).assign(rec=i) for i, f in enumerate(files)],
                   ignore_index=True)
    x = df["x"].to_numpy(float)
    y = df["y"].to_numpy(float)
    # Pixels as the data set's own code maps them (linear, mean px per degree).
    k = px_per_deg(IRF_GEOMETRY)
    return Labelled("irf", df["t"].to_numpy(float) * 1000.0, x, y, df["rec"].to_numpy(), 1000.0,
                    x * k + 960, y * k + 540, IRF_GEOMETRY, df["evt"].to_numpy() == 1)


def px_per_deg(geometry: ScreenGeometry) -> float:
    """Mean over both axes of pixels per degree of the full screen (the IRF code's px2deg)."""
    res = np.asarray(geometry.resolution_px, float)
    angle = 2 * np.degrees(np.arctan2(np.asarray(geometry.size_cm) / 2, geometry.distance_cm))
    return float(np.mean(res / angle))


# --- anchors: other packages' detectors, as (start, stop) sample indices --------------------


def _valid_runs(data: Labelled, min_len: int) -> list[tuple[int, int]]:
    start, stop = runs_of(data.valid, data.recording)
    keep = stop - start >= min_len
    return list(zip(start[keep].tolist(), stop[keep].tolist(), strict=True))


def pm_idt(data: Labelled) -> tuple[np.ndarray, np.ndarray]:
    """pymovements' I-DT (1.0 deg, 100 ms), run on each run of valid samples."""
    from pymovements.events.detection import idt

    n = int(detectors.duration_samples(100.0, data.dt))
    starts, stops = [], []
    # A loop over runs of valid samples: pymovements takes one continuous signal at a time.
    for a, b in _valid_runs(data, n):
        frame = idt(np.column_stack([data.x[a:b], data.y[a:b]]), minimum_duration=n,
                    dispersion_threshold=1.0).frame
        starts.append(a + frame["onset"].to_numpy())
        stops.append(a + frame["offset"].to_numpy() + 1)  # offset: last sample, inclusive
    return np.concatenate(starts), np.concatenate(stops)


def pm_ivt(data: Labelled) -> tuple[np.ndarray, np.ndarray]:
    """pymovements' I-VT (20 deg/s, 100 ms; velocity by its 5-point "smooth" method)."""
    from pymovements.events.detection import ivt
    from pymovements.transforms.numpy import pos2vel

    n = int(detectors.duration_samples(100.0, data.dt))
    starts, stops = [], []
    for a, b in _valid_runs(data, max(n, 5)):
        velocity = pos2vel(np.column_stack([data.x[a:b], data.y[a:b]]),
                           sampling_rate=data.rate_hz, method="smooth")
        frame = ivt(velocity, minimum_duration=n, velocity_threshold=20.0).frame
        starts.append(a + frame["onset"].to_numpy())
        stops.append(a + frame["offset"].to_numpy() + 1)
    return np.concatenate(starts), np.concatenate(stops)


def i2mc(data: Labelled) -> tuple[np.ndarray, np.ndarray]:
    """I2MC with its defaults, per recording (pixels, screen geometry given; seeded)."""
    from I2MC import I2MC

    starts, stops = [], []
    first = np.flatnonzero(block_starts(data.recording))
    bounds = np.r_[first, len(data.t)]
    w_cm, h_cm = data.geometry.size_cm
    for a, b in itertools.pairwise(bounds):
        gaze = pd.DataFrame({"time": data.t[a:b] - data.t[a], "average_X": data.x_px[a:b],
                             "average_Y": data.y_px[a:b]})
        xres, yres = data.geometry.resolution_px
        options = {"xres": xres, "yres": yres, "freq": data.rate_hz, "missingx": np.nan,
                   "missingy": np.nan, "scrSz": [w_cm, h_cm],
                   "disttoscreen": data.geometry.distance_cm}
        # I2MC's k-means++ start draws from numpy's global generator: seeded per recording,
        # so that its scores repeat from run to run.
        np.random.seed(0)  # noqa: NPY002 (I2MC reads the legacy global generator)
        with contextlib.redirect_stdout(io.StringIO()):
            fix, _, _ = I2MC(gaze, options, logging=False)
        starts.append(a + np.asarray(fix["start"], int))
        stops.append(a + np.asarray(fix["end"], int) + 1)  # end inclusive
    return np.concatenate(starts), np.concatenate(stops)


def remodnav(data: Labelled) -> tuple[np.ndarray, np.ndarray]:
    """REMoDNaV with its defaults (FIXA events), per recording."""
    from remodnav.clf import EyegazeClassifier

    logging.getLogger("remodnav").setLevel(logging.ERROR)  # its filter-overshoot notes
    deg_per_px = 1 / px_per_deg(data.geometry)
    starts, stops = [], []
    first = np.flatnonzero(block_starts(data.recording))
    runs = np.array(_valid_runs(data, int(0.05 * data.rate_hz)))
    for a, b in itertools.pairwise(np.r_[first, len(data.t)]):
        # Start and end on 50 ms of valid data: its filters fit polynomials at the ends, and
        # fail on a missing sample there.
        inside = runs[(runs[:, 0] >= a) & (runs[:, 1] <= b)]
        a, b = inside[0, 0], inside[-1, 1]
        clf = EyegazeClassifier(px2deg=deg_per_px, sampling_rate=data.rate_hz)
        samples = np.rec.fromarrays([data.x_px[a:b], data.y_px[a:b]], names="x,y")
        events = pd.DataFrame(clf(clf.preproc(samples)))
        fix = events[events["label"] == "FIXA"]
        starts.append(a + np.round(fix["start_time"].to_numpy() * data.rate_hz).astype(int))
        stops.append(a + np.round(fix["end_time"].to_numpy() * data.rate_hz).astype(int))
    return np.concatenate(starts), np.concatenate(stops)


ANCHORS: dict[str, tuple[str, Callable[[Labelled], tuple[np.ndarray, np.ndarray]]]] = {
    "pymovements I-DT": ("pymovements", pm_idt),
    "pymovements I-VT": ("pymovements", pm_ivt),
    "I2MC": ("I2MC", i2mc),
    "REMoDNaV": ("remodnav", remodnav),
}


def ours(name: str, **params) -> Callable[[Labelled], tuple[np.ndarray, np.ndarray]]:
    def run(data: Labelled) -> tuple[np.ndarray, np.ndarray]:
        found = detectors.detect(data.t, data.x, data.y, recording=data.recording, method=name,
                                 **params)
        return found["start"].to_numpy(), found["stop"].to_numpy()
    return run


# --- scoring ------------------------------------------------------------------------------------


def score(data: Labelled, ref: np.ndarray, start: np.ndarray, stop: np.ndarray) -> dict:
    """Kappa, F1 and fixation statistics of events ``start .. stop - 1`` against ``ref``."""
    det = events_mask(start, stop, len(data.t))
    ref_start, ref_stop = mask_events(ref, data.recording)
    f1 = event_f1(ref_start, ref_stop, start, stop)
    return {"kappa": sample_kappa(ref, det, data.valid), "f1": f1["f1"],
            "precision": f1["precision"], "recall": f1["recall"],
            "n_fix": len(start), "n_ref": len(ref_start),
            "median_ms": float(np.median(stop - start)) * data.dt if len(start) else np.nan,
            "ref_median_ms": float(np.median(ref_stop - ref_start)) * data.dt}


def leave_one_out(data: Labelled) -> dict[str, np.ndarray]:
    """Per coder, the majority of the other 11 (at least 6 of them)."""
    votes = np.sum(list(data.coders.values()), axis=0)
    return {c: (votes - mask) >= 6 for c, mask in data.coders.items()}


def evaluate(sets: list[Labelled], runners: dict[str, Callable]) -> tuple[pd.DataFrame,
                                                                           pd.DataFrame]:
    rows, spread = [], []
    for data in sets:
        others = leave_one_out(data) if data.coders else {}
        for coder, ref in others.items():
            s, e = mask_events(data.coders[coder], data.recording)
            spread.append({"who": f"coder {coder}", **score(data, ref, s, e)})
        for name, run in runners.items():
            tic = time.perf_counter()
            start, stop = run(data)
            seconds = time.perf_counter() - tic
            rows.append({"data": data.name, "detector": name,
                         **score(data, data.reference, start, stop), "seconds": seconds})
            if others:
                loo = pd.DataFrame([score(data, ref, start, stop) for ref in others.values()])
                spread.append({"who": name, **loo.mean().to_dict()})
    return pd.DataFrame(rows), pd.DataFrame(spread)


def markdown(frame: pd.DataFrame, columns: dict[str, str], digits: dict[str, int]) -> str:
    head = "| " + " | ".join(columns.values()) + " |\n|" + "---|" * len(columns) + "\n"
    body = ""
    for _, row in frame.iterrows():
        cells = [f"{row[c]:.{digits[c]}f}" if c in digits else str(row[c]) for c in columns]
        body += "| " + " | ".join(cells) + " |\n"
    return head + body


def report(results: pd.DataFrame, spread: pd.DataFrame) -> str:
    cols = {"data": "data set", "detector": "detector", "kappa": "sample kappa",
            "f1": "event F1 (IoU>=0.5)", "n_fix": "fixations", "n_ref": "reference",
            "median_ms": "median ms", "ref_median_ms": "reference median ms",
            "seconds": "time s"}
    digits = {"kappa": 3, "f1": 3, "median_ms": 1, "ref_median_ms": 1, "seconds": 1}
    text = markdown(results, cols, digits)
    if not spread.empty:
        coders = spread[spread["who"].str.startswith("coder ")]
        text += ("\nHooge 2018, each against the majority of the other 11 coders (detectors: "
                 "mean over the 12 such majorities):\n\n")
        text += markdown(spread.sort_values("kappa", ascending=False),
                         {"who": "coder / detector", "kappa": "sample kappa", "f1": "event F1",
                          "n_fix": "fixations", "median_ms": "median ms"},
                         {"kappa": 3, "f1": 3, "n_fix": 0, "median_ms": 1})
        text += (f"\nCoders: kappa {coders['kappa'].min():.3f}-{coders['kappa'].max():.3f} "
                 f"(median {coders['kappa'].median():.3f}), F1 {coders['f1'].min():.3f}-"
                 f"{coders['f1'].max():.3f} (median {coders['f1'].median():.3f}).\n")
    return text


def tune(data: Labelled, name: str, grid: dict[str, list]) -> pd.DataFrame:
    """Every combination of ``grid`` for detector ``name`` on ``data``, best kappa + F1 first."""
    rows = []
    for values in itertools.product(*grid.values()):
        params = dict(zip(grid, values, strict=True))
        start, stop = ours(name, **params)(data)
        rows.append({**params, **score(data, data.reference, start, stop)})
    frame = pd.DataFrame(rows)
    return frame.assign(rank=frame["kappa"] + frame["f1"]).sort_values("rank", ascending=False)


#: The grids searched on the tuning set (irf) for ivt_adaptive's defaults: first with merging
#: off, then the merging rule on top of the best of the first.
TUNING_GRID: dict[str, list] = {
    "window_ms": [8.0, 10.0, 12.0], "noise_factor": [5.0, 6.0, 7.0],
    "min_velocity_deg_s": [5.0, 10.0, 20.0, 30.0], "min_duration_ms": [30.0, 40.0, 50.0],
    "pso_ms": [10.0, 20.0, 30.0], "pso_factor": [0.4, 0.5, 0.6],
}
MERGE_GRID: dict[str, list] = {"merge_gap_ms": [0.0, 20.0, 50.0, 100.0],
                               "merge_deg": [0.05, 0.1, 0.25, 0.5, 1.0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="folder holding irf-lookatpoint-el/ and hooge2018-free-viewing/")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results"
                        / "eval_detectors.csv", help="CSV of the scores")
    parser.add_argument("--no-anchors", action="store_true",
                        help="only gazekit's detectors (anchors take minutes)")
    parser.add_argument("--tune", action="store_true",
                        help="also print the tuning grid of the default detector on irf")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"eval_detectors: error: {args.data}: no such folder (the labelled data)",
              file=sys.stderr)
        return 2
    sets = [load_irf(args.data / "irf-lookatpoint-el"),
            load_hooge(args.data / "hooge2018-free-viewing")]
    runners: dict[str, Callable] = {f"gazekit {n}": ours(n) for n in detectors.list_detectors()}
    skipped = []
    if not args.no_anchors:
        for label, (package, run) in ANCHORS.items():
            try:
                __import__(package)
            except ImportError:
                skipped.append(f"{label} ({package} not installed)")
                continue
            runners[label] = run
    print(f"`{' '.join([Path(sys.executable).name, *sys.argv])}` on {platform.node() or 'host'}"
          f" ({platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load "
          f"{os.getloadavg()[0]:.1f}), default detector {detectors.DEFAULT_DETECTOR}\n")
    results, spread = evaluate(sets, runners)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(args.out) as tmp:
        results.to_csv(tmp, index=False, float_format="%.6g")
    print(report(results, spread))
    if skipped:
        print("Skipped: " + ", ".join(skipped))
    if args.tune:
        first = tune(sets[0], "ivt_adaptive", TUNING_GRID)
        best = first.iloc[0][list(TUNING_GRID)].to_dict()
        second = tune(sets[0], "ivt_adaptive", {**{k: [v] for k, v in best.items()},
                                                **MERGE_GRID})
        for title, frame in (("merging off", first), ("merging, on the best", second)):
            print(f"\nTuning ivt_adaptive on irf, {title} (top 10 of {len(frame)}, by kappa + "
                  "F1):\n")
            print(markdown(frame.head(10), {c: c for c in frame.columns
                                            if c not in ("precision", "recall", "n_ref",
                                                         "ref_median_ms", "rank")},
                           {"kappa": 3, "f1": 3, "median_ms": 1}))
    return 0

if __name__ == "__main__":
    sys.exit(main())
