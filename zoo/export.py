"""Export a checkpoint's glimpses on a dataset split as a gazekit scanpath table (Parquet).

One row per glimpse, in the schema of :mod:`gazekit.schema`:

``model`` (display name, e.g. ``"MRAM-12"``; ``"MRAM-12-sampled"`` for sampled locations and
``"CNN-saliency-12"`` for the CNN, so that exports of one model under different policies are
distinct scanpaths for gazekit), ``dataset``, ``image_id`` (index in the split),
``label``, ``pred``, ``correct``, ``step`` (0-based glimpse step), ``x``, ``y`` (continuous
glimpse centre in **pixels**, origin at the top-left corner, from :func:`zoo.sensor.to_pixels`),
``image_width``, ``image_height``, ``glimpse_size`` (side of the finest glimpse in **pixels**),
``scales``, ``policy``.

``policy`` is ``"mean"`` (the location policy's mean, the default), ``"sampled"`` (locations
drawn from the Gaussian policy, reproducible from ``seed``) or, for the CNN, which has no
glimpses, ``"saliency"`` (a gradient-saliency scanpath from :mod:`zoo.saliency`; not a learned
gaze policy).

The file is written batch by batch (one Parquet row group per batch) to a temporary file in the
target folder and renamed into place only when complete. Its key-value metadata entry ``zoo``
holds a JSON record of the checkpoint, split, seed and settings (see :func:`export_source`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from gazekit.atomic import atomic_file
from gazekit.schema import ScanpathError
from zoo import sensor
from zoo.checkpoint import load_model
from zoo.evaluate import load_split, model_label, prepare
from zoo.machine import resolve_device
from zoo.saliency import saliency_scanpaths

SALIENCY_GLIMPSE = 8  # px: the paper's glimpse side, used as the CNN's inhibition diameter

SCHEMA = pa.schema([
    ("model", pa.string()), ("dataset", pa.string()), ("image_id", pa.int64()),
    ("label", pa.int64()), ("pred", pa.int64()), ("correct", pa.bool_()),
    ("step", pa.int64()), ("x", pa.float64()), ("y", pa.float64()),
    ("image_width", pa.int64()), ("image_height", pa.int64()), ("glimpse_size", pa.int64()),
    ("scales", pa.int64()), ("policy", pa.string()),
])


def _constant(value: str | int, n: int, dtype: pa.DataType) -> pa.Array:
    """A column holding ``value`` n times, without a Python-level list."""
    return pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(n, np.int32)), pa.array([value], dtype)).cast(dtype)


def _batch_table(
    xy: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor, first_id: int,
    constants: dict[str, str | int],
) -> pa.Table:
    """Rows of one batch: xy (B, T, 2) px, logits (B, C), labels (B,), image ids from first_id."""
    b, t = xy.shape[:2]
    pred = logits.argmax(1).cpu().numpy()
    label = labels.numpy()
    xy = xy.detach().cpu().to(torch.float64).numpy()
    columns = {
        "image_id": np.repeat(np.arange(first_id, first_id + b, dtype=np.int64), t),
        "label": np.repeat(label, t),
        "pred": np.repeat(pred, t),
        "correct": np.repeat(pred == label, t),
        "step": np.tile(np.arange(t, dtype=np.int64), b),
        "x": xy[..., 0].reshape(-1),
        "y": xy[..., 1].reshape(-1),
    }
    arrays = [
        pa.array(columns[f.name], f.type) if f.name in columns
        else _constant(constants[f.name], b * t, f.type)
        for f in SCHEMA
    ]
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


def export_scanpaths(
    checkpoint: str | os.PathLike, split: str = "test",
    out: str | os.PathLike = "scanpaths.parquet", data_dir: str | os.PathLike | None = None,
    stochastic: bool = False, seed: int = 0, limit: int | None = None,
    device: str | torch.device = "auto", batch_size: int = 1000, saliency_steps: int = 12,
) -> Path:
    """Run a checkpoint over a split and write one row per glimpse to Parquet.

    Parameters
    ----------
    checkpoint : path-like
        Checkpoint written by :mod:`zoo.train`.
    split : str, default "test"
        Split of the checkpoint's dataset.
    out : path-like, default "scanpaths.parquet"
        Output file; its folder is created if needed. Replaced atomically.
    data_dir : path-like, optional
        Where the dataset lives; default: the dataset's default folder.
    stochastic : bool, default False
        Sample glimpse locations from the Gaussian policy (``policy="sampled"``) instead of
        taking its mean (``policy="mean"``). Ignored for models without glimpses.
    seed : int, default 0
        Seed of the sampling noise; the same seed, batch size and device give the same file.
        The export draws from a forked RNG, so the caller's global RNG state is unchanged.
    limit : int, optional
        Export only the split's first ``limit`` images.
    device : str, default "auto"
        ``"auto"`` (CUDA if available), ``"cpu"``, ``"cuda"``, ...
    batch_size : int, default 1000
        Images per forward pass and per Parquet row group.
    saliency_steps : int, default 12
        Glimpse steps of the saliency scanpath of a model without glimpses (CNN); its
        inhibition radius is half of the paper's 8 px glimpse.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size: expected a positive integer, got {batch_size}")
    if Path(out).suffix.lower() != ".parquet":
        raise ValueError(f"out: expected a .parquet file name, got {str(out)!r}")
    dev = resolve_device(device)
    cuda = [dev.index if dev.index is not None else torch.cuda.current_device()] \
        if dev.type == "cuda" else []
    # Model creation and sampling draw from a forked RNG: the caller's RNG state is kept.
    with torch.random.fork_rng(devices=cuda):
        model, state = load_model(checkpoint, dev)
        images, labels = load_split(state, split, data_dir, limit, source=str(checkpoint))
        n, height, width = images.shape
        if model.has_glimpses:
            policy = "sampled" if stochastic else "mean"
            glimpse, scales = model.config["size"], model.config["scales"]
            name = model_label(model) + ("-sampled" if stochastic else "")
        else:
            policy, glimpse, scales = "saliency", SALIENCY_GLIMPSE, 1
            name = f"{model_label(model)}-saliency-{saliency_steps}"
        constants = {"model": name, "dataset": state["dataset"], "image_width": width,
                     "image_height": height, "glimpse_size": glimpse, "scales": scales,
                     "policy": policy}
        meta = {"checkpoint": str(checkpoint), "split": split, "policy": policy,
                "seed": seed if policy == "sampled" else None, "epoch": state.get("epoch"),
                "torch_version": torch.__version__, "device": str(dev)}
        schema = SCHEMA.with_metadata({"zoo": json.dumps(meta)})

        with atomic_file(out) as tmp:
            torch.manual_seed(seed)
            with pq.ParquetWriter(tmp, schema) as writer:
                for start in range(0, n, batch_size):
                    stop = start + batch_size
                    x = prepare(images[start:stop], state, dev)
                    if model.has_glimpses:
                        with torch.inference_mode():
                            result = model(x, sample=policy == "sampled")
                        logits = result.logits
                        xy = sensor.to_pixels(result.locations.to(torch.float64), height, width)
                    else:
                        xy, logits = saliency_scanpaths(
                            model, x, steps=saliency_steps, radius=SALIENCY_GLIMPSE / 2)
                    writer.write_table(_batch_table(xy, logits, labels[start:stop], start,
                                                    constants))
    return Path(out)


def export_source(path: str | os.PathLike) -> tuple[str, str]:
    """Dataset name and split of an exported file (split ``"test"`` if not recorded).

    Raises
    ------
    gazekit.schema.ScanpathError
        If the file is missing, not Parquet, or has no ``dataset`` value.
    """
    try:
        file = pq.ParquetFile(path)
        dataset = file.read_row_group(0, columns=["dataset"]).column(0) \
            if file.num_row_groups else pa.array([], pa.string())
    except (OSError, ValueError, KeyError) as exc:
        raise ScanpathError(f"not a readable zoo export ({exc})", str(path)) from exc
    if len(dataset) == 0 or not dataset[0].is_valid:
        raise ScanpathError("no 'dataset' value in the first row (expected a zoo export)",
                            str(path))
    meta = file.schema_arrow.metadata or {}
    split = json.loads(meta[b"zoo"]).get("split", "test") if b"zoo" in meta else "test"
    return str(dataset[0]), split
