"""The settings of a reproduction run (:class:`Settings`: where its runs, work files and
results live) and the constants of the pipeline that :mod:`analysis.reproduce` and
:mod:`analysis.results_report` share, with the small file helpers they use.

>>> from pathlib import Path
>>> Settings(table=2, runs=Path("runs"), work=Path("work")).stem
'table2_fashion_mnist'
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.experiments import Experiment, RunStatus, experiments, is_synthetic_fer
from analysis.standins import run_progress
from gazekit.atomic import atomic_file, remove_debris
from gazekit.geometry import STUDYFORREST, TOBII_TX300

__all__ = ["POLICIES", "RESULTS_DIR", "STAGES", "SWEEP_THRESHOLDS_PX", "Settings", "log",
           "write_csv", "write_csv_or_remove", "write_text_atomic"]

STAGES = ("train", "evaluate", "export", "analyze")
REPO = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO / "analysis" / "results"
#: Thresholds (px) of the sensitivity analysis: 1 px up to one and a half 8 px glimpses.
SWEEP_THRESHOLDS_PX = (1, 2, 3, 4, 5, 6, 7, 8, 10, 12)
#: (glimpse figure, density figure) file suffixes per table, named after the paper's figures.
FIGURE_NAMES = {1: ("glimpses", "densities"), 2: ("fig2_glimpses", "fig3_densities"),
                3: ("fig4_glimpses", "densities")}
DATASET_NOTES = {
    "mnist-t10k": "REDUCED: seeded 8,000/2,000 split of MNIST's 10,000 test images; not "
                  "comparable with the paper's MNIST numbers",
    "synthetic": "synthetic Gabor patches (tests and demos only)",
}
SYNTHETIC_FER_NOTE = "SYNTHETIC CSV in FER2013's format (cartoon faces), NOT FER2013"
#: The paper does not say whether its gaze figures use the location policy's mean or locations
#: sampled from it, so both are exported and analysed; "mean" gives the main figures.
POLICIES = ("mean", "sampled")
POLICY_SUFFIX = {"mean": "", "sampled": "-sampled"}
SAMPLING_SEED = 0  # seed of the sampled exports (zoo.export.export_scanpaths)
#: Human recordings of the human-likeness claim by default: the studyforrest excerpt shipped
#: with the tests (REMoDNaV events of movie viewing; tests/data/human/README.md).
HUMAN_DEFAULT = REPO / "tests" / "data" / "human" / "studyforrest-events"
HUMAN_LABEL = "human"
#: Screens of the example recordings shipped per human format (degrees depend on them).
HUMAN_GEOMETRY = {"bids-events": STUDYFORREST, "fixations": STUDYFORREST, "tobii": TOBII_TX300}


@dataclass
class Settings:
    """Where the runs are and how to evaluate them (see :func:`main` for the options)."""

    table: int
    runs: Path
    work: Path
    results: Path = RESULTS_DIR
    limit: int | None = None
    data_dir: Path | None = None
    full_mnist: bool = False
    device: str = "auto"
    repeats: int = 5
    latency_images: int = 200
    batch_size: int = 1000
    threads: int | None = None
    compile: bool = False
    force: bool = False
    queues: int = 2
    launch: bool = False
    human: Path | None = HUMAN_DEFAULT
    human_format: str = "bids-events"

    @property
    def experiments(self) -> list[Experiment]:
        return experiments(self.table, self.full_mnist)

    def status(self, exp: Experiment) -> RunStatus:
        """The progress of the experiment's run; shipped weights stand in for a lost folder
        of a finished run (:func:`analysis.standins.run_progress`)."""
        return run_progress(self.runs / exp.run, exp.train_args(self.data_dir))

    def eval_path(self, exp: Experiment) -> Path:
        return self.work / "eval" / f"{exp.run}.json"

    def export_path(self, exp: Experiment, policy: str = "mean") -> Path:
        suffix = (f"-limit{self.limit}" if self.limit else "") + POLICY_SUFFIX[policy]
        return self.work / "exports" / f"{exp.run}{suffix}.parquet"

    def gaze_stem(self, policy: str) -> str:
        """Stem of the gaze results (claims, summary, density figure) of one policy."""
        return self.stem + POLICY_SUFFIX[policy].replace("-", "_")

    def run_data_dir(self, exp: Experiment) -> Path | None:
        """The data folder the run trained on (its config), else ``--data-dir``."""
        config = self.runs / exp.run / "config.json"
        stored = json.loads(config.read_text())["data_dir"] if config.is_file() else None
        return Path(stored) if stored else self.data_dir

    @property
    def synthetic_fer(self) -> bool:
        return self.table == 3 and (is_synthetic_fer(self.data_dir) or any(
            is_synthetic_fer(self.run_data_dir(e)) for e in self.experiments))

    @property
    def stem(self) -> str:
        """Results file stem, e.g. ``table2_fashion_mnist``, ``table1_mnist_t10k``."""
        dataset = self.experiments[0].dataset.replace("-", "_")
        return f"table{self.table}_{dataset}" + ("_synthetic" if self.synthetic_fer else "")


def write_text_atomic(path: Path, text: str) -> None:
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_csv(table: pd.DataFrame, path: Path) -> Path:
    """Write ``table`` (without its index) to the CSV file ``path`` atomically; return it."""
    with atomic_file(path) as tmp:
        table.to_csv(tmp, index=False)
    return path


def write_csv_or_remove(table: pd.DataFrame, path: Path) -> Path | None:
    """Write ``table`` to ``path`` (:func:`write_csv`) and return it; an empty ``table``
    removes an older ``path`` instead (and the debris of killed writers), so a rerun never
    leaves a file that contradicts its new report; returns None then.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = write_csv_or_remove(pd.DataFrame({"a": [1]}), folder / "t.csv")
    >>> write_csv_or_remove(pd.DataFrame(), folder / "t.csv"), list(folder.iterdir())
    (None, [])
    """
    if len(table):
        return write_csv(table, path)
    remove_debris(path)
    path.unlink(missing_ok=True)  # one unlink: the name is gone at once, nothing half-removed
    return None


def log(message: str) -> None:
    print(message, flush=True)
