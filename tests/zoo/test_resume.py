"""zoo.resume.config_differences: which stored settings would change a run's trajectory (the
comparison behind resuming and behind shipped weights standing in for a lost run), and
zoo.train_cli.parse_options, which turns ``zoo train`` arguments into those settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from zoo.resume import RESUME_FREE, check_resume, config_differences
from zoo.train_cli import parse_options
from zoo.train_config import ConfigError, TrainConfig

# A config written before reinforce_lr_scale and precision existed (as the oldest model cards).
OLD = {"model": "dram", "model_kwargs": {"glimpses": 12}, "dataset": "fashion-mnist",
       "epochs": 300, "batch_size": 128, "lr": 0.0003, "alpha": 0.01, "seed": 1,
       "patience": 50, "lr_factor": 0.5, "lr_patience": 10, "val_fraction": 0.1,
       "device": "auto", "limit": None, "eval_sample": False, "num_threads": 1,
       "eval_batch_size": 1000, "download": False, "resume": True, "compile": True,
       "snapshot_every": 5}


def from_args(*argv: str) -> TrainConfig:
    options, model_kwargs = parse_options([*argv, "--out", "runs/x"])
    return TrainConfig(**options, model_kwargs=model_kwargs)


def test_parse_options_splits_model_arguments():
    options, model_kwargs = parse_options(["--model", "dram", "--dataset", "fashion-mnist",
                                           "--glimpses", "12", "--context-output", "layernorm",
                                           "--reinforce-lr-scale", "0.1", "--seed", "2"])
    assert options == {"model": "dram", "dataset": "fashion-mnist", "reinforce_lr_scale": 0.1,
                       "seed": 2}
    assert model_kwargs == {"glimpses": 12, "context_output": "layernorm"}


def test_same_trajectory_whatever_the_free_settings():
    # The old config and today's plain arguments train alike: absent settings are defaults,
    # and epochs, threads, compile, snapshots, resume are free.
    assert config_differences(OLD, from_args("--model", "dram", "--dataset", "fashion-mnist",
                                             "--glimpses", "12", "--epochs", "7")) == {}
    assert {"epochs", "num_threads", "compile", "snapshot_every", "resume"} <= RESUME_FREE


@pytest.mark.parametrize(("argv", "expected"), [
    (("--lr", "0.001"), {"lr": (0.0003, 0.001)}),
    (("--seed", "2"), {"seed": (1, 2)}),
    (("--reinforce-lr-scale", "0.1"), {"reinforce_lr_scale": (1.0, 0.1)}),  # absent: default
    (("--precision", "bf16"), {"precision": ("fp32", "bf16")}),  # absent: ABSENT_MEANS
    (("--context-output", "layernorm"),
     {"model_kwargs": ({"glimpses": 12}, {"glimpses": 12, "context_output": "layernorm"})}),
])
def test_a_trajectory_setting_differs(argv, expected):
    config = from_args("--model", "dram", "--dataset", "fashion-mnist", "--glimpses", "12",
                       *argv)
    assert config_differences(OLD, config) == expected
    key = next(iter(expected))
    with pytest.raises(ConfigError, match=f"started with {key}=.*cannot resume it with {key}="):
        check_resume(OLD, config, Path("runs/x/last.pt"))
