"""Does bf16 training change the result more than the training seed does? (issue 16)

::

    python analysis/precision_parity.py [--runs runs/fashion-mnist]
        [--bf16 runs/precision/ram-7-bf16]

``zoo train --precision bf16`` is 1.3-1.95x faster than float32 on a CPU with AMX
(``benchmarks/README.md``); it may replace float32 only where it does not change what the
experiments measure. The comparison: RAM-7 trained with the full protocol in float32 for seeds
1, 2 and 3 (the seed experiment's runs, ``RUNS/ram-7``, ``RUNS/ram-7-seed2``, ``-seed3``; the
shipped RAM-7 weights stand in for seed 1's folder, :mod:`analysis.standins`) and in bf16 for
seed 1 (``--bf16``; shipped ``ram-7-bf16`` weights stand in for its folder in the same way).
All four are evaluated alike, in float32 with the policy mean on the whole Fashion-MNIST test
split (their exports), so the comparison isolates the training precision. For test accuracy
(%), fixational share, mean fixation (glimpse steps) and mean saccade (px):

- the **precision effect** is bf16 minus float32 at the same seed, with a 95 % paired cluster
  bootstrap interval over test images (:class:`analysis.claims.PairedBootstrap`; for accuracy
  the same resampling of images), which measures test-set noise only;
- the **seed spread** is the largest difference between two float32 seeds.

**Criterion** (:data:`CRITERION`): parity holds for a quantity when ``|precision effect| <=
seed spread``; overall when it holds for all four and every run has finished. Anything else
is reported as it is: ``differs`` (the precision effect exceeds the seed spread) or
``partial``. Written to ``RESULTS/precision_parity.csv`` and ``.md``.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd

from analysis.claims import N_RESAMPLES, STATISTICS, PairedBootstrap, scanpath_sums
from analysis.gaze_runs import export_run, read_runs, run_state, segment_runs
from analysis.settings import RESULTS_DIR, write_csv, write_text_atomic
from analysis.standins import run_progress
from gazekit.stats import bootstrap_ci

__all__ = ["CRITERION", "QUANTITIES", "main", "parity_table"]

#: fp32 runs (seed 1, 2, 3) of the seed experiment, and where the bf16 run lives by default.
FP32_RUNS = {1: "ram-7", 2: "ram-7-seed2", 3: "ram-7-seed3"}
#: ``zoo train`` arguments of RAM-7 (seed 1; the others add ``--seed``); they let the shipped
#: RAM-7 weights stand in for a lost seed-1 folder (:mod:`analysis.standins`).
RAM7_ARGS = ("--model", "ram", "--dataset", "fashion-mnist", "--glimpses", "7")
BF16_RUN = Path("runs/precision/ram-7-bf16")
#: Quantity -> (unit, digits).
QUANTITIES = {"accuracy_pct": ("%", 2), "fixational_share": ("", 3),
              "fixation_steps_mean": (" glimpse steps", 3), "saccade_px_mean": (" px", 2)}
CRITERION = ("parity when |bf16 - float32 at seed 1| <= the largest difference between two "
             "float32 seeds, for each quantity; overall when all hold and every run finished")


def parity_table(values: pd.DataFrame, effects: dict[str, tuple[float, float, float]],
                 finished: bool) -> pd.DataFrame:
    """One row per quantity: float32 seeds, bf16, precision effect, seed spread, verdict.

    Parameters
    ----------
    values : DataFrame
        Index: ``"fp32 seed1"``, ``"fp32 seed2"``, ... and ``"bf16 seed1"``; columns: the
        quantities of :data:`QUANTITIES` (missing seeds may be absent).
    effects : dict
        Quantity -> (bf16 - fp32 at seed 1, interval low, interval high).
    finished : bool
        Whether every run has finished (else the verdicts are ``partial``).

    >>> v = pd.DataFrame({"accuracy_pct": [90.0, 90.4, 89.8, 90.1]},
    ...                  index=["fp32 seed1", "fp32 seed2", "fp32 seed3", "bf16 seed1"])
    >>> t = parity_table(v, {"accuracy_pct": (0.1, -0.3, 0.5)}, True)
    >>> t.loc["accuracy_pct", "verdict"], round(float(t.loc["accuracy_pct", "seed_spread"]), 3)
    ('parity', 0.6)
    """
    seeds = [i for i in values.index if i.startswith("fp32")]
    rows = []
    for quantity in values.columns:
        fp32 = values.loc[seeds, quantity].dropna()
        spread = max((abs(a - b) for a, b in itertools.combinations(fp32, 2)), default=np.nan)
        effect, low, high = effects[quantity]
        if not finished or len(fp32) < 3 or not np.isfinite(effect):
            verdict = "partial"
        else:
            verdict = "parity" if abs(effect) <= spread else "differs"
        rows.append({"quantity": quantity, **{s: values.loc[s, quantity] for s in seeds},
                     "bf16 seed1": values.loc["bf16 seed1", quantity], "effect": effect,
                     "effect_ci_low": low, "effect_ci_high": high,
                     "seed_spread": float(round(spread, 12)), "verdict": verdict})
    return pd.DataFrame(rows).set_index("quantity")


def _measure(exports: dict[str, Path], n_resamples: int) -> tuple[pd.DataFrame, dict]:
    """Each run's quantities, and bf16 - fp32 at seed 1 with paired intervals."""
    scanpaths = read_runs(exports)
    seg = segment_runs(scanpaths)
    sums = scanpath_sums(seg.fixations, seg.saccades)
    correct = (scanpaths.groupby(["model", "image_id"], observed=True)["correct"].first()
               .unstack("model").astype(float))
    boot = PairedBootstrap(sums, n_resamples=n_resamples, seed=0)
    values = pd.DataFrame(index=list(exports), columns=list(QUANTITIES), dtype=float)
    effects = {}
    for statistic in STATISTICS:
        for group in exports:
            values.loc[group, statistic] = boot.estimate(group, statistic).value
        if {"bf16 seed1", "fp32 seed1"} <= set(exports):
            e = boot.difference("bf16 seed1", "fp32 seed1", statistic)
            effects[statistic] = (e.value, e.low, e.high)
    values["accuracy_pct"] = 100 * correct.mean()
    if {"bf16 seed1", "fp32 seed1"} <= set(exports):
        # Paired by image: the percentile interval of the per-image differences' mean.
        diff = 100 * (correct["bf16 seed1"] - correct["fp32 seed1"]).to_numpy()
        low, high = bootstrap_ci((diff,), "mean", n_resamples=n_resamples, seed=0)
        effects["accuracy_pct"] = (float(diff.mean()), low, high)
    return values, effects


def _markdown(table: pd.DataFrame, states: dict[str, str], overall: str) -> str:
    run_columns = [c for c in table.columns if c.startswith(("fp32", "bf16"))]
    lines = ["# bf16 training against float32: parity (issue 16)", "",
             "RAM-7, Fashion-MNIST, full protocol; every run evaluated in float32 with the "
             "policy mean on the 10,000 test images (`python analysis/precision_parity.py`).",
             "", f"**Criterion**: {CRITERION}. The effect's 95 % interval is a paired "
             "bootstrap over test images: test-set noise only, not the seed's.", "",
             f"**Overall: {overall}.**", "",
             "Runs: " + "; ".join(f"{k}: {v}" for k, v in states.items()), "",
             "| quantity | " + " | ".join(run_columns)
             + " | bf16 - fp32 (seed 1) [95 %] | seed spread | verdict |",
             "|---" * (len(run_columns) + 4) + "|"]
    for quantity, row in table.iterrows():
        unit, digits = QUANTITIES[quantity]
        runs = [f"{row[c]:.{digits}f}" if np.isfinite(row[c]) else "-" for c in run_columns]
        effect = (f"{row['effect']:+.{digits}f} [{row['effect_ci_low']:+.{digits}f}, "
                  f"{row['effect_ci_high']:+.{digits}f}]{unit}" if np.isfinite(row["effect"])
                  else "-")
        spread = f"{row['seed_spread']:.{digits}f}{unit}" if np.isfinite(row["seed_spread"]) \
            else "-"
        lines.append(f"| {quantity} | " + " | ".join(runs) + f" | {effect} | {spread} | "
                     f"{row['verdict']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=Path, default=Path("runs/fashion-mnist"),
                   help="folder of the float32 seed runs (default runs/fashion-mnist)")
    p.add_argument("--bf16", type=Path, default=BF16_RUN,
                   help=f"the bf16 run folder (default {BF16_RUN})")
    p.add_argument("--work", type=Path, help="exports folder (default RUNS/_precision)")
    p.add_argument("--results", type=Path, default=RESULTS_DIR)
    p.add_argument("--n-resamples", type=int, default=N_RESAMPLES)
    args = p.parse_args(argv)
    work = args.work or args.runs / "_precision"
    folders = {f"fp32 seed{seed}": (args.runs, run, (*RAM7_ARGS, "--seed", str(seed)))
               for seed, run in FP32_RUNS.items()}
    folders["bf16 seed1"] = (args.bf16.parent, args.bf16.name, (*RAM7_ARGS, "--precision", "bf16"))
    exports, states = {}, {}
    for label, (runs, run, train_args) in folders.items():
        status = run_progress(runs / run, train_args)
        states[label] = f"{runs / run}: {run_state(status)}"
        path = export_run(runs, work, run, args=train_args)
        if path is not None:
            exports[label] = path
    if not exports:
        print("precision_parity: no run has weights yet: " + "; ".join(states.values()))
        return 1
    values, effects = _measure(exports, args.n_resamples)
    effects = {q: effects.get(q, (np.nan, np.nan, np.nan)) for q in QUANTITIES}
    finished = all(" finished" in s for s in states.values())
    table = parity_table(values.reindex(list(folders)), effects, finished)
    verdicts = set(table["verdict"])
    overall = ("parity" if verdicts == {"parity"} else "differs" if "differs" in verdicts
               else "partial: " + ", ".join(s for s in states.values() if " finished" not in s))
    write_csv(table.reset_index().assign(criterion=CRITERION, overall=overall),
              args.results / "precision_parity.csv")
    write_text_atomic(args.results / "precision_parity.md", _markdown(table, states, overall))
    print(_markdown(table, states, overall))
    return 0


if __name__ == "__main__":
    sys.exit(main())
