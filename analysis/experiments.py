"""The experiments behind the paper's Tables 1-3, and what a run folder says about its progress.

One :class:`Experiment` per row of ``analysis/paper_tables.csv`` (the paper's numbers as data):
which registry model, data set, glimpses and scales reproduce the row, and the name of its run
folder. The mapping from the paper's rows to our data sets is a choice recorded here:

* Table 1 (MNIST): only MNIST's 10,000 test images are on our machines, so the rows run on the
  REDUCED data set ``mnist-t10k`` (a seeded 8,000 / 2,000 split of those images, see
  :mod:`zoo.data`); ``full_mnist=True`` gives the full protocol (downloads MNIST).
* Table 2 (Fashion-MNIST): the full data set.
* Table 3 (FER2013): the real CSV where it exists; elsewhere the same code path runs on a
  SYNTHETIC CSV of the same format (:func:`write_synthetic_fer2013`), labelled as such.

:func:`run_status` reads a run folder written by :mod:`zoo.train` (``config.json``,
``metrics.jsonl``, ``final.json``, ``last.pt``) without loading any checkpoint, so it can be
called at any time on runs that are still training. Where a lost folder held a finished run,
:mod:`analysis.standins` puts the shipped weights of that run in its place.
"""

from __future__ import annotations

import io
import json
import os
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from zoo.evaluate import display_name
from zoo.machine import cpu_name
from zoo.pretrained import SPEC_PREFIX, weight_name
from zoo.rundir import in_use

__all__ = [
    "CLASS_NAMES",
    "CONTEXT_MODELS",
    "DRAM_REMEDY_ARGS",
    "NOCONTEXT_REMEDY_ARGS",
    "PAPER_TABLES",
    "Experiment",
    "RunStatus",
    "experiments",
    "figure_roles",
    "is_synthetic_fer",
    "paper_table",
    "roles_by_glimpses",
    "run_status",
    "training_order",
    "write_synthetic_fer2013",
]

PAPER_TABLES = Path(__file__).resolve().parent / "paper_tables.csv"
REPO = PAPER_TABLES.parents[1]

#: The paper's data set -> ours (see the module docstring).
OUR_DATASET = {"mnist": "mnist-t10k", "fashion-mnist": "fashion-mnist", "fer2013": "fer2013"}

#: (paper model, paper variant) -> registry name. The paper's "DRAM with hybrid baseline" is
#: compared in its text with DRAM *with* context, so it maps to ``dram_hybrid`` (context on),
#: although the paper lists it with the parameter count of DRAM without context.
REGISTRY_NAME = {
    ("cnn", "lenet5"): "cnn",
    ("ram", ""): "ram",
    ("dram", "context"): "dram",
    ("dram", "no-context"): "dram_nocontext",
    ("dram", "hybrid-baseline"): "dram_hybrid",
    ("mram", ""): "mram",
    ("mram", "single-baseline"): "mram_single",
}

#: Variants that are the paper's main models; the others are ablations (trained last).
MAIN_VARIANTS = ("", "lenet5", "context")

#: ``zoo train`` arguments of the DRAM remedy (issue 13; ``analysis/dram_remedy.py``): DRAM's
#: context network and upper LSTM learn from alpha * REINFORCE alone, Adam rescales those tiny
#: gradients to full steps, and the tanh context saturates within a few epochs, making the first
#: glimpses image-independent. The remedy, a documented deviation: a parameter-free LayerNorm
#: context output (it cannot saturate) and a 10x smaller learning rate for the parameters only
#: REINFORCE trains. Added to every run of a DRAM with a context network
#: (:data:`CONTEXT_MODELS`) that :meth:`Experiment.train_args` starts: Tables 1-3 and the seed
#: and sensitivity experiments. The one place to change the remedy; runs already started
#: resume with their stored arguments. ``zoo train``'s defaults keep the old behaviour.
DRAM_REMEDY_ARGS: tuple[str, ...] = ("--context-output", "layernorm", "--reinforce-lr-scale", "0.1")
#: The same learning rate for DRAM without context (it has no context output to change), so
#: that the ablation differs from DRAM by its context network alone.
NOCONTEXT_REMEDY_ARGS: tuple[str, ...] = ("--reinforce-lr-scale", "0.1")
#: Registry models with DRAM's context network.
CONTEXT_MODELS = ("dram", "dram_hybrid")

CLASS_NAMES = {
    "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                      "Sneaker", "Bag", "Ankle boot"],
    "fer2013": ["Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral"],
    "mnist": [str(k) for k in range(10)],
    "mnist-t10k": [str(k) for k in range(10)],
    "synthetic": ["0 deg", "45 deg", "90 deg", "135 deg"],
}

FIGURE_ORDER = ("mram", "dram", "ram")  # Fig. 2's rows, top to bottom

def paper_table(table: int | None = None) -> pd.DataFrame:
    """The paper's Tables 1-3 (``analysis/paper_tables.csv``), or one of them.

    Columns: ``table``, ``dataset``, ``model``, ``glimpses``, ``scales`` (Int64, missing for
    the CNN), ``variant`` (empty string for the plain model), ``params_m`` (millions),
    ``infer_ms_mean``, ``infer_ms_sd`` (ms/image on the paper's RTX 3070), ``accuracy_pct``
    (%), ``source``, ``note``.
    """
    df = pd.read_csv(PAPER_TABLES, dtype={"variant": str, "note": str},
                     keep_default_na=False, na_values={"glimpses": [""], "scales": [""]})
    for col in ("glimpses", "scales"):
        df[col] = df[col].astype("Int64")
    if table is not None:
        df = df[df["table"] == table].reset_index(drop=True)
        if df.empty:
            raise ValueError(f"{PAPER_TABLES}: no rows for table {table} (expected 1, 2 or 3)")
    return df


@dataclass(frozen=True)
class Experiment:
    """One row of a paper table and the run that reproduces it.

    Attributes
    ----------
    table : int
        The paper's table (1 MNIST, 2 Fashion-MNIST, 3 FER2013).
    paper_dataset, dataset : str
        The paper's data set and the :data:`zoo.data.DATASETS` name we train on.
    model : str
        Registry name (``zoo.list_models()``).
    glimpses : int or None
        Glimpses per image; None for the CNN.
    scales : int
        Glimpse scales (1 for the CNN).
    variant : str
        The paper's variant label (``""`` for the plain model).
    """

    table: int
    paper_dataset: str
    dataset: str
    model: str
    glimpses: int | None
    scales: int
    variant: str

    @property
    def run(self) -> str:
        """Run folder name, as the shipped weights' (:func:`zoo.pretrained.weight_name`):
        ``mram-12``, ``dram_nocontext-7``, ``ram-12-2scales``, ``cnn``."""
        return weight_name(self.model, self.glimpses, self.scales)

    @property
    def label(self) -> str:
        """Display name, as in evaluations and scanpath exports (e.g. ``MRAM-12``)."""
        return display_name(self.model, self.glimpses, self.scales)

    @property
    def main(self) -> bool:
        """Whether this is one of the paper's main models rather than an ablation."""
        return self.variant in MAIN_VARIANTS

    def train_args(self, data_dir: str | os.PathLike | None = None) -> list[str]:
        """``zoo train`` arguments (without ``--out``); the protocol's defaults otherwise, and
        :data:`DRAM_REMEDY_ARGS` for a DRAM with a context network (and
        :data:`NOCONTEXT_REMEDY_ARGS` for one without)."""
        args = ["--model", self.model, "--dataset", self.dataset]
        if self.glimpses is not None:
            args += ["--glimpses", str(self.glimpses)]
        if self.scales > 1:
            args += ["--scales", str(self.scales)]
        if self.model in CONTEXT_MODELS:
            args += DRAM_REMEDY_ARGS
        elif self.model == "dram_nocontext":
            args += NOCONTEXT_REMEDY_ARGS
        if self.dataset == "mnist":
            args.append("--download")
        if data_dir is not None:
            args += ["--data-dir", str(data_dir)]
        return args


def experiments(table: int, full_mnist: bool = False) -> list[Experiment]:
    """The experiments of one paper table, in the table's row order.

    Parameters
    ----------
    table : int
        1, 2 or 3.
    full_mnist : bool, default False
        Table 1 on the full MNIST (downloaded) instead of the reduced ``mnist-t10k``.
    """
    rows = paper_table(table)
    datasets = {**OUR_DATASET, **({"mnist": "mnist"} if full_mnist else {})}
    out = []
    for row in rows.itertuples(index=False):  # a few rows of metadata, not data
        key = (row.model, row.variant)
        if key not in REGISTRY_NAME:
            raise ValueError(f"{PAPER_TABLES}: table {table}: no registry model for model "
                             f"{row.model!r} variant {row.variant!r}")
        glimpses = None if pd.isna(row.glimpses) else int(row.glimpses)
        scales = 1 if pd.isna(row.scales) else int(row.scales)
        out.append(Experiment(table, row.dataset, datasets[row.dataset], REGISTRY_NAME[key],
                              glimpses, scales, row.variant))
    return out


def figure_roles(models: Iterable[str], scales: int = 1) -> dict[str, str]:
    """Model labels of Fig. 2-3's roles among ``models`` (display names, e.g. ``MRAM-12``).

    Returns ``{"mram": ..., "dram": ..., "ram": ...}`` (in Fig. 2's row order, roles without a
    model left out): for each the plain model (not an ablation) with ``scales`` glimpse scales
    (``MRAM-12-2scales`` for 2) and the most glimpses. A trailing `` (untrained)`` is allowed.
    """
    suffix = f"-{scales}scales" if scales > 1 else ""
    found: dict[str, tuple[int, str]] = {}
    for label in models:
        match = re.fullmatch(rf"(MRAM|DRAM|RAM)-(\d+){suffix}( \(untrained\))?", str(label))
        if match:
            role, glimpses = match[1].lower(), int(match[2])
            found[role] = max(found.get(role, (0, "")), (glimpses, str(label)))
    return {role: found[role][1] for role in FIGURE_ORDER if role in found}


def roles_by_glimpses(models: Iterable[str], scales: int = 1) -> dict[int, dict[str, str]]:
    """Fig. 2-3's roles at each glimpse count: ``{T: {"mram": "MRAM-T", ...}}``, for every
    ``T`` at which at least one plain MRAM, DRAM or RAM with ``scales`` scales is among
    ``models`` (the paper does not say which ``T`` its figures use, so claims are made at each).
    """
    suffix = f"-{scales}scales" if scales > 1 else ""
    out: dict[int, dict[str, str]] = {}
    for label in models:
        match = re.fullmatch(rf"(MRAM|DRAM|RAM)-(\d+){suffix}( \(untrained\))?", str(label))
        if match:
            out.setdefault(int(match[2]), {})[match[1].lower()] = str(label)
    return {t: {role: roles[role] for role in FIGURE_ORDER if role in roles}
            for t, roles in sorted(out.items())}


def training_order(exps: list[Experiment]) -> list[Experiment]:
    """Main models at the table's longest glimpse count first (the Fig. 2-3 models), then the
    other main models, then the ablations; one scale before two; stable otherwise."""
    longest = max((e.glimpses for e in exps if e.glimpses is not None), default=None)
    return sorted(exps, key=lambda e: (not e.main, e.glimpses not in (None, longest),
                                       e.scales > 1))


@dataclass(frozen=True)
class RunStatus:
    """Progress of one training run, read from its folder.

    Attributes
    ----------
    status : str
        ``"not started"``, ``"training"`` (log updated recently), ``"interrupted"`` (resumable
        from ``last.pt``), ``"stopped early"`` or ``"finished"`` (all epochs run).
    epochs_run, max_epochs : int
        Epochs completed and the protocol's maximum (0 and None when not started).
    best_epoch : int or None
        Epoch of ``best.pt`` (highest validation accuracy, the first of equal ones).
    best_val_acc, test_acc : float or None
        Fractions in [0, 1]; ``test_acc`` only once ``final.json`` exists.
    patience : int or None
        Early-stopping patience in epochs.
    wall_time_s : float
        Training time in seconds, summed over resumed sessions.
    hardware : str
        Where it trained: from ``final.json``; for an unfinished run this host, marked as an
        assumption.
    shipped : Path or None
        Shipped weights (``zoo/weights/<dataset>/<run>.pt``) whose model card stands in for
        a run folder that holds no finished run (:mod:`analysis.standins`); the other
        attributes are then the card's. None: all of it comes from the run folder.
    """

    run: str
    path: Path
    status: str
    epochs_run: int = 0
    max_epochs: int | None = None
    best_epoch: int | None = None
    best_val_acc: float | None = None
    patience: int | None = None
    wall_time_s: float = 0.0
    test_acc: float | None = None
    hardware: str = ""
    shipped: Path | None = None

    @property
    def weights(self) -> Path:
        """The file of the run's best weights: the shipped ``.pt`` standing in, else the
        folder's ``best.pt`` (which need not exist yet); its time stamp dates the weights."""
        return self.shipped if self.shipped is not None else self.path / "best.pt"

    @property
    def checkpoint(self) -> str | Path:
        """What :func:`zoo.checkpoint.load_model` loads for the run: the spec
        ``pretrained:<dataset>/<run>`` of the shipped weights standing in, else ``best.pt``."""
        if self.shipped is None:
            return self.weights
        return f"{SPEC_PREFIX}{self.shipped.parent.name}/{self.shipped.stem}"

    @property
    def finished(self) -> bool:
        """Whether training ended (all epochs run, or early stopping)."""
        return self.status in ("finished", "stopped early")

    @property
    def state(self) -> str:
        """One line for tables: ``finished after 300 epochs``, ``stopped early at epoch 120
        (best 70)``, ``still training: epoch 40 of 300 (best 35)``, ...; with ``; shipped
        weights zoo/weights/...`` where shipped weights stand in for the run folder."""
        best = f"best {self.best_epoch}" if self.best_epoch else "no best yet"
        source = f"; shipped weights {shown(self.shipped)}" if self.shipped else ""
        if self.status == "finished":
            return f"finished after {self.epochs_run} epochs ({best}){source}"
        if self.status == "stopped early":
            return (f"stopped early at epoch {self.epochs_run} ({best}, patience "
                    f"{self.patience}){source}")
        if self.status == "training":
            return f"still training: epoch {self.epochs_run} of {self.max_epochs} ({best})"
        if self.status == "interrupted":
            return (f"interrupted at epoch {self.epochs_run} of {self.max_epochs} ({best}); "
                    "resumable")
        return "not started"


def shown(path: Path) -> Path:
    """``path`` relative to the repository if it lies inside it (for tables), else as is."""
    path = Path(path).resolve()
    return path.relative_to(REPO) if path.is_relative_to(REPO) else path


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from exc


def read_metrics(path: str | os.PathLike) -> pd.DataFrame:
    """The complete lines of a ``metrics.jsonl`` (one row per epoch; a line still being
    written by a running job is left out). Empty if the file does not exist."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return pd.DataFrame()
    lines = text.split("\n")[:-1]  # the part after the last newline is not complete yet
    try:
        return pd.DataFrame([json.loads(line) for line in lines if line.strip()])
    except ValueError as exc:
        raise ValueError(f"{path}: a line is not valid JSON ({exc})") from exc


def _hardware(final: dict | None, config: dict) -> str:
    if final is not None:
        return (f"{final['device_name']} ({final['device']}), {final['torch_threads']} torch "
                f"thread(s), {final['world_size']} process(es), torch {final['torch_version']}")
    return (f"assumed this host ({socket.gethostname()}: {cpu_name()}; recorded only when the "
            f"run finishes), device {config.get('device')}, "
            f"{config.get('num_threads') or 'default'} torch thread(s)")


def run_status(path: str | os.PathLike) -> RunStatus:
    """Read the progress of the run in folder ``path`` (see :class:`RunStatus`).

    Parameters
    ----------
    path : path-like
        A :mod:`zoo.train` output folder; need not exist. A run without ``final.json`` is
        ``"training"`` while a ``zoo train`` holds the folder's lock (:func:`zoo.rundir.in_use`;
        also when paused), else ``"interrupted"``.
    """
    path = Path(path)
    config = _read_json(path / "config.json")
    metrics = read_metrics(path / "metrics.jsonl")
    if config is None or metrics.empty:
        return RunStatus(path.name, path, "not started")
    final = _read_json(path / "final.json")
    val = metrics["val_acc"].to_numpy(np.float64)
    best = int(np.argmax(val))  # the first of equal maxima, as training keeps it
    wall = final["wall_time_s"] if final else float(metrics["epoch_time_s"].sum())
    if final is not None:
        status = "stopped early" if final["stopped_early"] else "finished"
    else:
        status = "training" if in_use(path) else "interrupted"
    return RunStatus(
        run=path.name, path=path, status=status, epochs_run=int(metrics["epoch"].iloc[-1]),
        max_epochs=config["epochs"], best_epoch=int(metrics["epoch"].iloc[best]),
        best_val_acc=float(val[best]), patience=config["patience"], wall_time_s=float(wall),
        test_acc=final["test_acc"] if final else None, hardware=_hardware(final, config))


SYNTHETIC_MARKER = "SYNTHETIC.txt"
FER_USAGE = {"train": "Training", "val": "PublicTest", "test": "PrivateTest"}


def write_synthetic_fer2013(folder: str | os.PathLike, n_train: int = 2000, n_val: int = 300,
                            n_test: int = 300, seed: int = 0) -> Path:
    """Write a SYNTHETIC ``fer2013.csv`` in Kaggle's format (NOT facial-expression data).

    Each 48x48 image is a cartoon face: a bright ellipse (centre jittered by up to 2 px) with
    two dark Gaussian eyes and a dark parabolic mouth. The class (0-6, named like FER2013's
    emotions only for the format's sake) sets the mouth's curvature (from a smile for class 0
    to a frown for class 6) and the eyes' size; pixel noise has sd 10 grey levels. A file
    ``SYNTHETIC.txt`` next to it marks the folder (:func:`is_synthetic_fer`).

    Parameters
    ----------
    folder : path-like
        Output folder (created); the CSV is ``folder/fer2013.csv``.
    n_train, n_val, n_test : int
        Rows with ``Usage`` ``Training``, ``PublicTest`` and ``PrivateTest``.
    seed : int, default 0
        Seed of the generator; equal arguments give identical files.

    Returns
    -------
    pathlib.Path
        The CSV written.
    """
    if min(n_train, n_val, n_test) < 1:
        raise ValueError(f"n_train, n_val, n_test must be >= 1, got {n_train}, {n_val}, {n_test}")
    side = 48
    rng = np.random.default_rng(seed)
    n = n_train + n_val + n_test
    labels = rng.integers(0, 7, n)
    cx, cy = (side / 2 + rng.uniform(-2, 2, (2, n)))[:, :, None, None]
    y, x = np.mgrid[0:side, 0:side].astype(np.float64)
    dx, dy = x[None] - cx, y[None] - cy
    face = ((dx / 16) ** 2 + (dy / 20) ** 2 <= 1).astype(np.float64)
    eye_sd = (1.2 + 0.25 * labels)[:, None, None]
    eyes = sum(np.exp(-((dx - ex) ** 2 + (dy + 5) ** 2) / (2 * eye_sd**2)) for ex in (-7, 7))
    curve = np.linspace(-0.12, 0.12, 7)[labels][:, None, None]  # 1/px: frown ... smile
    mouth = (np.abs(dy - 9 - curve * dx**2 + curve * 36) < 1.2) & (np.abs(dx) < 7)
    image = 60 + 140 * face - 120 * np.clip(eyes, 0, 1) * face - 120 * mouth * face
    image = np.clip(np.round(image + rng.normal(0, 10, image.shape)), 0, 255).astype(np.uint8)
    # numpy's writer formats all rows at once; each line is one image's 2,304 pixels.
    lines = _format_rows(image.reshape(n, -1))
    usage = np.repeat(list(FER_USAGE.values()), [n_train, n_val, n_test])
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "fer2013.csv"
    pd.DataFrame({"emotion": labels, "pixels": lines, "Usage": usage}).to_csv(out, index=False)
    (folder / SYNTHETIC_MARKER).write_text(
        "fer2013.csv in this folder is SYNTHETIC (cartoon faces whose class sets mouth "
        "curvature and eye size), written by analysis/experiments.py:write_synthetic_fer2013 "
        f"with seed {seed}. It is not FER2013 and results on it say nothing about FER2013.\n",
        encoding="utf-8")
    return out


def _format_rows(values: np.ndarray) -> list[str]:
    """Rows of an integer array as space-separated text lines (numpy's C writer)."""
    buffer = io.StringIO()
    np.savetxt(buffer, values, fmt="%d", delimiter=" ")
    return buffer.getvalue().splitlines()


def is_synthetic_fer(folder: str | os.PathLike | None) -> bool:
    """Whether ``folder`` holds a synthetic FER2013 CSV (:func:`write_synthetic_fer2013`)."""
    return folder is not None and (Path(folder) / SYNTHETIC_MARKER).is_file()

