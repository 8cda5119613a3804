"""Synthetic demonstration scanpaths: three clearly artificial gaze policies on a small image.

The data let ``gazekit demo`` run the whole analysis without a trained model. They are random
walks, NOT the output of any model in the paper: every row is labelled ``policy="synthetic"``,
``dataset="synthetic"`` and a model name starting with ``synthetic-``.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd

from gazekit.io import write_parquet_atomic

__all__ = ["POLICIES", "demo_path", "synthetic_scanpaths", "write_demo_data"]

#: Model name -> probability that a step is a jump (long step) rather than a small drift.
POLICIES: dict[str, float] = {
    "synthetic-saccadic": 0.9,
    "synthetic-fixational": 0.1,
    "synthetic-mixed": 0.5,
}
_DRIFT_SD_PX = 1.5    # sd of each coordinate of a drift step (pixels): almost always < 6 px
_JUMP_PX = (7.0, 13.0)  # range of jump lengths (pixels), above the paper's 6 px threshold


def synthetic_scanpaths(n_per_policy: int = 500, steps: int = 12, image_size: int = 28,
                        seed: int = 0) -> pd.DataFrame:
    """Random-walk scanpaths of three synthetic policies, in the :mod:`gazekit.schema` format.

    Each scanpath starts uniformly in the image. Each later step is a *jump* with the
    policy's probability (:data:`POLICIES`: saccadic 0.9, fixational 0.1, mixed 0.5), else a
    *drift*. A jump has a length uniform in [7, 13] px and a uniform direction; a coordinate
    that would leave the image is mirrored (the jump goes the other way along that axis, which
    always lands inside for jumps up to ``image_size / 2``). A drift adds independent normal
    noise with sd 1.5 px to x and y. Positions are finally clipped to ``[0, image_size]``.

    Parameters
    ----------
    n_per_policy : int, default 500
        Scanpaths per policy.
    steps : int, default 12
        Glimpses per scanpath.
    image_size : int, default 28
        Width and height of the (square) image in **pixels**.
    seed : int, default 0
        Seed of the :class:`numpy.random.Generator`; equal arguments give identical tables.

    Returns
    -------
    pandas.DataFrame
        ``3 * n_per_policy * steps`` rows, scanpath after scanpath, with columns ``model``,
        ``dataset``, ``policy`` (categorical), ``image_id`` (0-based within the policy),
        ``step``, ``x``, ``y`` (**pixels**), ``image_width``, ``image_height`` (**pixels**).

    Examples
    --------
    >>> table = synthetic_scanpaths(n_per_policy=2, steps=3, seed=0)
    >>> table.shape
    (18, 9)
    >>> print(table[["model", "image_id", "step", "x", "y"]].head(3).round(1).to_string())
                    model  image_id  step     x     y
    0  synthetic-saccadic         0     0  17.8   7.6
    1  synthetic-saccadic         0     1  25.3  14.1
    2  synthetic-saccadic         0     2  16.1   5.9
    """
    if n_per_policy < 1 or steps < 1 or image_size <= 0:
        raise ValueError("n_per_policy and steps must be >= 1 and image_size > 0, got "
                         f"{n_per_policy}, {steps}, {image_size}")
    rng = np.random.default_rng(seed)
    jump_prob = np.repeat(np.fromiter(POLICIES.values(), float), n_per_policy)
    n = len(jump_prob)
    pos = np.empty((n, steps, 2))
    pos[:, 0] = rng.uniform(0.0, image_size, size=(n, 2))
    is_jump = rng.random((n, steps - 1)) < jump_prob[:, None]
    angle = rng.uniform(-np.pi, np.pi, size=(n, steps - 1))
    length = rng.uniform(*_JUMP_PX, size=(n, steps - 1))
    jump = length[..., None] * np.stack([np.cos(angle), np.sin(angle)], axis=-1)
    drift = rng.normal(0.0, _DRIFT_SD_PX, size=(n, steps - 1, 2))
    move = np.where(is_jump[..., None], jump, drift)
    # Each position depends on the previous one (mirroring at the border): loop over steps,
    # all scanpaths at once.
    for k in range(1, steps):
        target = pos[:, k - 1] + move[:, k - 1]
        outside = (target < 0) | (target > image_size)
        target = np.where(outside, pos[:, k - 1] - move[:, k - 1], target)
        pos[:, k] = np.clip(target, 0.0, image_size)
    # Categoricals: a few bytes per row even for millions of rows (see benchmarks/).
    models = pd.Categorical.from_codes(
        np.repeat(np.arange(len(POLICIES), dtype=np.int8), n_per_policy * steps),
        categories=list(POLICIES))
    synthetic = pd.Categorical.from_codes(np.zeros(n * steps, dtype=np.int8), ["synthetic"])
    return pd.DataFrame({
        "model": models,
        "dataset": synthetic,
        "policy": synthetic,
        "image_id": np.tile(np.repeat(np.arange(n_per_policy), steps), len(POLICIES)),
        "step": np.tile(np.arange(steps), n),
        "x": pos[..., 0].ravel(),
        "y": pos[..., 1].ravel(),
        "image_width": float(image_size),
        "image_height": float(image_size),
    })


def demo_path() -> Path:
    """Path of the shipped demo file ``gazekit/data/demo_scanpaths.parquet``.

    It holds ``synthetic_scanpaths()`` with its default arguments (see
    :func:`write_demo_data`).

    Examples
    --------
    >>> import pandas as pd
    >>> path = demo_path()
    >>> path.name, len(pd.read_parquet(path))
    ('demo_scanpaths.parquet', 18000)
    """
    return Path(str(files("gazekit").joinpath("data", "demo_scanpaths.parquet")))


def write_demo_data(path: str | Path | None = None) -> Path:
    """Regenerate the demo file with ``synthetic_scanpaths()`` defaults (replaces it).

    Parameters
    ----------
    path : path, optional
        Destination; default :func:`demo_path`.

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_demo_data(Path(tmp) / "demo.parquet")
    ...     print(pd.read_parquet(path).equals(pd.read_parquet(demo_path())))
    True
    """
    path = demo_path() if path is None else Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_parquet_atomic(synthetic_scanpaths(), path, overwrite=True)
