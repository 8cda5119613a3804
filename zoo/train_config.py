"""The settings of a :mod:`zoo.train` run (:class:`TrainConfig`) and their checks.

The defaults are the paper's training protocol; :mod:`zoo.train` says where it is silent and
what we chose. :func:`check_config` refuses an invalid setting with a :class:`ConfigError` of
one line.

>>> from zoo.train_config import TrainConfig, check_config
>>> check_config(TrainConfig(model="mram", dataset="synthetic", out_dir="runs/x"))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zoo.data import DATASETS
from zoo.precision import PRECISIONS
from zoo.registry import list_models

__all__ = ["DATA_MODEL_KWARGS", "ConfigError", "TrainConfig", "check_config"]

# Model arguments taken from the dataset rather than from the user.
DATA_MODEL_KWARGS = ("num_classes", "image_size", "pad_value")


class ConfigError(ValueError):
    """A training setting is invalid or conflicts with the run being resumed."""


@dataclass(kw_only=True)
class TrainConfig:
    """Training settings; defaults are the paper's protocol (see :mod:`zoo.train`).

    Parameters
    ----------
    model : str
        Registry name (``zoo.list_models()``).
    model_kwargs : dict
        Constructor arguments (``glimpses``, ``scales``, ``std``, ...); ``num_classes`` and
        ``image_size`` come from the dataset.
    dataset : str
        A :data:`zoo.data.DATASETS` name.
    data_dir : str, optional
        Dataset folder (default :func:`zoo.data.default_data_dir`).
    out_dir : str
        Run folder for checkpoints and logs.
    epochs : int
        Maximum number of epochs (default 300).
    batch_size : int
        Images per optimisation step and process (default 128).
    lr : float
        Initial Adam learning rate (default 3e-4).
    alpha : float
        Weight of the REINFORCE term (default 0.01).
    seed : int
        Seed of weights, validation split, batch order and glimpse sampling (default 1).
    patience : int
        Early stopping after this many epochs without a better validation accuracy (default 50).
    lr_factor, lr_patience : float, int
        ``ReduceLROnPlateau`` factor and patience in epochs (defaults 0.5, 10; our choice).
    val_fraction : float
        Share of the training split held out for validation (default 0.1).
    device : str
        ``"auto"`` (CUDA if available, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    limit : int, optional
        Use only the first ``limit`` training images (for tests and smoke runs).
    eval_sample : bool
        Validate and test with sampled locations instead of the policy mean (default False).
    num_threads : int, optional
        ``torch.set_num_threads`` for CPU work (default: torch's choice).
    eval_batch_size : int
        Images per forward pass in validation and test (default 1000).
    download : bool
        Download missing MNIST / Fashion-MNIST files (default False).
    resume : bool
        Continue the run in ``out_dir`` from ``last.pt`` (default False).
    compile : bool
        Run the training forward pass and loss under ``torch.compile`` (default False); see
        :func:`zoo.train.step_forward`. Costs a one-off compilation (about a minute for MRAM-12
        on two CPU cores) in every process.
    snapshot_every : int, optional
        Also keep the weights every this many epochs in ``snapshots/epoch-NNN.pt``, and the
        untrained ones in ``epoch-000.pt`` when the run starts (default: none kept); a few MB
        each. Keeping them does not change the training run.
    reinforce_lr_scale : float
        Learning-rate multiplier for the parameters that only the REINFORCE term trains (the
        location head; DRAM's upper LSTM and context network too), found by
        :func:`zoo.train.reinforce_only_parameters` (default 1.0: one rate for all).
    overwrite : bool
        Start a new run in ``out_dir`` even if it holds one, whose files are removed (default
        False: such a folder is refused unless ``resume``).
    precision : {"fp32", "bf16"}
        ``"bf16"``: forward passes (training, validation, test) under bfloat16 autocast with
        float32 weights, gradients and optimiser state (:mod:`zoo.precision`); default
        ``"fp32"``. Fixed for a run (a config without it was ``"fp32"``).
    """

    model: str
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    dataset: str
    data_dir: str | None = None
    out_dir: str
    epochs: int = 300
    batch_size: int = 128
    lr: float = 3e-4
    alpha: float = 0.01
    seed: int = 1
    patience: int = 50
    lr_factor: float = 0.5
    lr_patience: int = 10
    val_fraction: float = 0.1
    device: str = "auto"
    limit: int | None = None
    eval_sample: bool = False
    num_threads: int | None = None
    eval_batch_size: int = 1000
    download: bool = False
    resume: bool = False
    compile: bool = False
    snapshot_every: int | None = None
    reinforce_lr_scale: float = 1.0
    overwrite: bool = False
    precision: str = "fp32"


def check_config(config: TrainConfig) -> None:
    """Raise :class:`ConfigError` (one line) on the first invalid setting of ``config``."""
    checks = [
        (config.model in list_models(), f"unknown model {config.model!r}; known: "
                                          f"{', '.join(list_models())}"),
        (config.dataset in DATASETS, f"unknown dataset {config.dataset!r}; known: "
                                     f"{', '.join(DATASETS)}"),
        (config.epochs >= 1, f"epochs must be >= 1, got {config.epochs}"),
        (config.batch_size >= 1, f"batch_size must be >= 1, got {config.batch_size}"),
        (config.eval_batch_size >= 1, f"eval_batch_size must be >= 1, got "
                                      f"{config.eval_batch_size}"),
        (config.lr >= 0, f"lr must be >= 0, got {config.lr}"),
        (config.patience >= 1, f"patience must be >= 1, got {config.patience}"),
        (0 < config.lr_factor < 1, f"lr_factor must be in (0, 1), got {config.lr_factor}"),
        (config.lr_patience >= 0, f"lr_patience must be >= 0, got {config.lr_patience}"),
        (config.limit is None or config.limit >= 2, f"limit must be >= 2, got {config.limit}"),
        (config.num_threads is None or config.num_threads >= 1,
         f"num_threads must be >= 1, got {config.num_threads}"),
        (config.snapshot_every is None or config.snapshot_every >= 1,
         f"snapshot_every must be >= 1, got {config.snapshot_every}"),
        (config.reinforce_lr_scale > 0,
         f"reinforce_lr_scale must be > 0, got {config.reinforce_lr_scale}"),
        (config.precision in PRECISIONS,
         f"precision must be one of {', '.join(PRECISIONS)}, got {config.precision!r}"),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)
    clash = [k for k in DATA_MODEL_KWARGS if k in config.model_kwargs]
    if clash:
        raise ConfigError(f"model_kwargs {clash} are set from the dataset; leave them out")
