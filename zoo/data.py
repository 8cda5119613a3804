"""Datasets for the zoo: readers, splits, normalisation and seeded data loaders.

Datasets (``load_dataset`` names):

``"mnist"``
    The original MNIST IDX files (60,000 train / 10,000 test, 28x28, 10 classes).
``"fashion-mnist"``
    Fashion-MNIST in the same IDX format (60,000 / 10,000, 28x28, 10 classes).
``"fer2013"``
    Kaggle's ``fer2013.csv`` (48x48, 7 emotions). Its ``Usage`` column gives the splits:
    ``Training`` -> ``"train"`` (28,709), ``PublicTest`` -> ``"val"`` (3,589) and
    ``PrivateTest`` -> ``"test"`` (3,589). The official public test set is used as the
    validation set (the common protocol for this dataset), so FER2013 is the one dataset whose
    validation split is not carved out of the training split.
``"mnist-t10k"``
    A REDUCED stand-in for MNIST for machines that only hold the 10,000-image MNIST *test* set:
    a fixed, seeded split of those images into 8,000 "train" and 2,000 "test" images. Results
    on it are not comparable with the paper's MNIST numbers.
``"synthetic"``
    A small generated set for tests and demos: 28x28 Gabor patches whose orientation (0, 45,
    90 or 135 degrees) is the class; 2,000 train / 500 test images, identical on every call.

Images are returned as ``uint8`` in ``[0, 255]``; :func:`normalize` turns a batch into the
model input ``(x / 255 - mean) / std`` with ``mean``/``std`` measured on the training split
(intensity units of ``[0, 1]``), as stored in checkpoints under ``normalization``.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import shutil
import struct
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import torch
from torch.utils.data import BatchSampler, DataLoader, DistributedSampler, TensorDataset

__all__ = [
    "DATASETS",
    "DatasetError",
    "DatasetInfo",
    "Splits",
    "default_data_dir",
    "download_idx",
    "load_dataset",
    "make_splits",
    "normalization_stats",
    "normalize",
    "read_fer2013",
    "read_idx",
    "synthetic_dataset",
    "train_loader",
]


class DatasetError(ValueError):
    """A dataset file is missing, malformed or fails its checksum."""


@dataclass(frozen=True)
class DatasetInfo:
    """Static facts about a dataset: class count, image size in pixels ``(H, W)``, splits."""

    num_classes: int
    image_size: tuple[int, int]
    splits: tuple[str, ...] = ("train", "test")


DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo(10, (28, 28)),
    "fashion-mnist": DatasetInfo(10, (28, 28)),
    "fer2013": DatasetInfo(7, (48, 48), ("train", "val", "test")),
    "mnist-t10k": DatasetInfo(10, (28, 28)),
    "synthetic": DatasetInfo(4, (28, 28)),
}

IDX_IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions (N, rows, cols)
IDX_LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension (N,)

# File stems of the official IDX distribution (the same names for MNIST and Fashion-MNIST).
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# Official mirrors and the MD5 of the official .gz files. Only downloads are checked against
# these: local copies may be re-compressed (the Fashion-MNIST copy under /usr/share/datasets is)
# and are validated by their IDX structure instead.
MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    "fashion-mnist": (
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    ),
}
MD5: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
}

T10K_TRAIN_SIZE = 8000  # "mnist-t10k": images of the 10,000 used for training (+ validation)
T10K_SPLIT_SEED = 0  # fixed, so the reduced test set does not move with the training seed
SYNTHETIC_SIZES = {"train": 2000, "test": 500}
SYNTHETIC_SEEDS = {"train": 0, "test": 1}

FER_SPLITS = {"train": "Training", "val": "PublicTest", "test": "PrivateTest"}
FER_SIDE = 48
# Space-separated integers of 1-3 digits (their count and range 0-255 are checked separately).
FER_PIXELS = r"\d{1,3}(?: \d{1,3})*"


def default_data_dir(name: str) -> Path:
    """Where ``name`` is looked for (and downloaded to) when no ``data_dir`` is given.

    Fashion-MNIST: ``/usr/share/datasets/fashion-mnist`` when it exists; the reduced
    ``mnist-t10k``: ``/work/shared/data/mnist``; otherwise ``$ZOO_DATA/<name>`` with
    ``ZOO_DATA`` defaulting to ``~/.cache/zoo``.
    """
    system_fmnist = Path("/usr/share/datasets/fashion-mnist")
    if name == "fashion-mnist" and system_fmnist.is_dir():
        return system_fmnist
    if name == "mnist-t10k":
        return Path("/work/shared/data/mnist")
    return Path(os.environ.get("ZOO_DATA", "~/.cache/zoo")).expanduser() / name


def _read_bytes(path: Path) -> bytes:
    """File content, decompressed when it starts with the gzip magic bytes."""
    try:
        with path.open("rb") as f:
            gzipped = f.read(2) == b"\x1f\x8b"
        if not gzipped:
            return path.read_bytes()
        with gzip.open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError) as exc:  # BadGzipFile is an OSError; a cut-off stream EOFError
        raise DatasetError(f"{path}: cannot be read ({type(exc).__name__}: {exc})") from exc


def read_idx(path: str | os.PathLike, magic: int) -> np.ndarray:
    """Read an IDX file of unsigned bytes (gzip-compressed or not) as a ``uint8`` array.

    Parameters
    ----------
    path : path-like
        The IDX file (``.gz`` or uncompressed; detected from the content).
    magic : int
        The expected magic number: 2051 (images, 3 dimensions) or 2049 (labels, 1 dimension).

    Returns
    -------
    ndarray of uint8
        Shape ``(N, rows, cols)`` for images, ``(N,)`` for labels.

    Raises
    ------
    DatasetError
        If the magic number differs, the header is incomplete, or the byte count does not
        equal header + product of the dimensions (a truncated or padded file).
    """
    path = Path(path)
    ndim = {IDX_IMAGES_MAGIC: 3, IDX_LABELS_MAGIC: 1}[magic]
    raw = _read_bytes(path)
    header = 4 * (1 + ndim)
    if len(raw) < header:
        raise DatasetError(
            f"{path}: truncated IDX header: expected {header} bytes, found {len(raw)}"
        )
    found, *dims = struct.unpack(f">{1 + ndim}i", raw[:header])
    if found != magic:
        raise DatasetError(f"{path}: IDX magic number {found}, expected {magic}")
    expected = header + int(np.prod(dims))
    if len(raw) != expected:
        raise DatasetError(
            f"{path}: {len(raw)} bytes, expected {expected} (header + {'x'.join(map(str, dims))}"
            f" values); the file is {'truncated' if len(raw) < expected else 'too long'}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims).copy()


def read_idx_pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read matching image and label IDX files; their counts must agree."""
    images = read_idx(images_path, IDX_IMAGES_MAGIC)
    labels = read_idx(labels_path, IDX_LABELS_MAGIC)
    if len(images) != len(labels):
        raise DatasetError(
            f"{labels_path}: {len(labels)} labels, expected {len(images)} to match {images_path}"
        )
    return images, labels


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)  # integrity against the published sums only
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_idx(name: str, filename: str, data_dir: str | os.PathLike) -> Path:
    """Fetch one official ``.gz`` IDX file of ``name`` into ``data_dir`` and verify its MD5.

    Mirrors (``MIRRORS[name]``) are tried in order while they fail to respond. The file is
    written to ``<filename>.part`` and renamed only after its checksum matched.

    Raises
    ------
    DatasetError
        If no mirror answers, or the download's MD5 differs from ``MD5[name][filename]`` (the
        bad file is removed).
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    dest = data_dir / filename
    part = dest.with_name(dest.name + ".part")
    expected = MD5[name][filename]
    failures = []
    for mirror in MIRRORS[name]:
        url = mirror + filename
        try:
            with urllib.request.urlopen(url, timeout=60) as response, part.open("wb") as f:
                shutil.copyfileobj(response, f)
        except (urllib.error.URLError, OSError) as exc:
            part.unlink(missing_ok=True)
            failures.append(f"{url} ({exc})")
            continue
        found = _md5(part)
        if found != expected:
            part.unlink()
            raise DatasetError(
                f"{url}: MD5 {found}, expected {expected}; the downloaded file was removed"
            )
        os.replace(part, dest)
        return dest
    raise DatasetError(f"cannot download {filename}: " + "; ".join(failures))


def _idx_path(name: str, stem: str, data_dir: Path, download: bool) -> Path:
    for candidate in (data_dir / f"{stem}.gz", data_dir / stem):
        if candidate.is_file():
            return candidate
    if not download:
        raise DatasetError(
            f"{data_dir}: missing {stem}.gz (or uncompressed {stem}) of {name}; "
            "point data_dir (--data-dir) at the files, or fetch them with download=True "
            "(zoo train --download)"
        )
    return download_idx(name, f"{stem}.gz", data_dir)


def read_fer2013(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read Kaggle's ``fer2013.csv`` (columns ``emotion``, ``pixels``, ``Usage``).

    Returns
    -------
    images : ndarray of uint8, shape (N, 48, 48)
    labels : ndarray of int64, shape (N,)
        Emotion 0-6 (angry, disgust, fear, happy, sad, surprise, neutral).
    usage : ndarray of str, shape (N,)
        ``Training``, ``PublicTest`` or ``PrivateTest``.

    Raises
    ------
    DatasetError
        Naming the file and the line number (1 = header) of the first bad row: an emotion that
        is not an integer 0-6, an unknown usage, or pixels that are not 2,304 space-separated
        integers 0-255.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: no such file (download fer2013.csv from Kaggle)")
    stat = path.stat()
    images, labels, usage = _read_fer2013_cached(str(path), stat.st_mtime_ns, stat.st_size)
    return images.copy(), labels.copy(), usage.copy()


@functools.lru_cache(maxsize=1)
def _read_fer2013_cached(
    path: str, mtime_ns: int, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # Cached on (path, mtime, size): the 300 MB CSV is parsed once for its three splits.
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False)
    except (OSError, ValueError) as exc:  # pandas' ParserError is a ValueError
        raise DatasetError(f"{path}: not a readable CSV ({exc})") from exc
    missing = {"emotion", "pixels", "Usage"} - set(df.columns)
    if missing:
        raise DatasetError(f"{path}: missing column(s) {sorted(missing)}; expected emotion,"
                           " pixels, Usage")
    if df.empty:
        raise DatasetError(f"{path}: no data rows below the header")

    def fail(bad: pd.Series | np.ndarray, what: str) -> None:
        rows = np.flatnonzero(np.asarray(bad, dtype=bool))
        if rows.size:
            raise DatasetError(f"{path}: line {rows[0] + 2}: {what}")  # +1 header, +1 one-based

    emotion = pd.to_numeric(df["emotion"], errors="coerce")
    fail(~emotion.isin(range(7)), "emotion must be an integer 0-6")
    usages = list(FER_SPLITS.values())
    fail(~df["Usage"].isin(usages), f"Usage must be one of {usages}")
    pixels = df["pixels"]
    # Arrow's plain substring count is ~10x faster than pandas' regex-based str.count here.
    tokens = pc.count_substring(pa.array(pixels), " ").to_numpy() + 1
    fail(~pixels.str.fullmatch(FER_PIXELS) | (tokens != FER_SIDE**2),
         f"pixels must be {FER_SIDE**2} space-separated integers 0-255")
    # Validated above, so numpy's C text parser can read all rows as one stream of integers.
    values = np.fromstring(" ".join(pixels), dtype=np.int16, sep=" ").reshape(len(df), -1)
    fail((values > 255).any(axis=1), "pixel values must be 0-255")
    images = values.astype(np.uint8).reshape(-1, FER_SIDE, FER_SIDE)
    return images, emotion.to_numpy(np.int64), df["Usage"].to_numpy(str)


def synthetic_dataset(n: int, seed: int, size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """Generate ``n`` Gabor-patch images whose orientation is the class (4 classes).

    Class ``k`` is a sinusoidal grating at ``45 * k`` degrees (period 5-7 px, random phase and
    contrast 0.6-1) under a Gaussian window (sd 6 px) centred at a random point within 5 px of
    the image centre, on a grey background with Gaussian noise (sd 0.08 of full range).

    Returns
    -------
    images : ndarray of uint8, shape (n, size, size)
    labels : ndarray of int64, shape (n,)
    """
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n)
    theta = labels * (np.pi / 4)
    period = rng.uniform(5.0, 7.0, n)
    phase = rng.uniform(0.0, 2 * np.pi, n)
    contrast = rng.uniform(0.6, 1.0, n)
    centre = size / 2 - 0.5 + rng.uniform(-5.0, 5.0, (n, 2))
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    dx = x[None] - centre[:, 0, None, None]
    dy = y[None] - centre[:, 1, None, None]
    along = dx * np.cos(theta)[:, None, None] + dy * np.sin(theta)[:, None, None]
    grating = np.cos(2 * np.pi * along / period[:, None, None] + phase[:, None, None])
    window = np.exp(-(dx**2 + dy**2) / (2 * 6.0**2))
    image = 0.5 + 0.5 * contrast[:, None, None] * grating * window
    image += rng.normal(0.0, 0.08, image.shape)
    return np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8), labels.astype(np.int64)


def load_dataset(
    name: str, split: str, data_dir: str | os.PathLike | None = None, download: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Load one split of a dataset.

    Parameters
    ----------
    name : str
        One of ``DATASETS`` (see the module docstring).
    split : str
        ``"train"`` or ``"test"``; ``"val"`` as well for ``"fer2013"``.
    data_dir : path-like, optional
        Folder holding the files; default :func:`default_data_dir`. Ignored for
        ``"synthetic"``.
    download : bool, default False
        Fetch missing MNIST / Fashion-MNIST files from the official mirrors (MD5-checked).

    Returns
    -------
    images : Tensor of uint8, shape (N, H, W)
        Pixel intensities 0-255.
    labels : Tensor of int64, shape (N,)
    """
    if name not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r}; expected one of {sorted(DATASETS)}")
    info = DATASETS[name]
    if split not in info.splits:
        raise DatasetError(f"{name} has no split {split!r}; expected one of {list(info.splits)}")
    root = Path(data_dir) if data_dir is not None else default_data_dir(name)
    if name == "synthetic":
        images, labels = synthetic_dataset(SYNTHETIC_SIZES[split], SYNTHETIC_SEEDS[split])
    elif name == "fer2013":
        images, labels, usage = read_fer2013(root / "fer2013.csv")
        keep = usage == FER_SPLITS[split]
        images, labels = images[keep], labels[keep]
    elif name == "mnist-t10k":
        stems = IDX_FILES["test"]
        images, labels = read_idx_pair(*(_idx_path(name, s, root, False) for s in stems))
        order = np.random.default_rng(T10K_SPLIT_SEED).permutation(len(images))
        part = order[:T10K_TRAIN_SIZE] if split == "train" else order[T10K_TRAIN_SIZE:]
        part = np.sort(part)
        images, labels = images[part], labels[part]
    else:
        paths = [_idx_path(name, stem, root, download) for stem in IDX_FILES[split]]
        images, labels = read_idx_pair(*paths)
    if len(labels) == 0:
        raise DatasetError(f"{root}: the {split} split of {name} is empty")
    if images.shape[1:] != info.image_size:
        raise DatasetError(f"{root}: {name} images are {images.shape[1:]}, expected "
                           f"{info.image_size}")
    if labels.max() >= info.num_classes:
        raise DatasetError(f"{root}: {name} label {int(labels.max())} outside 0-"
                           f"{info.num_classes - 1}")
    return torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))


def normalization_stats(images: torch.Tensor) -> tuple[float, float]:
    """Mean and (population) standard deviation of all pixels, in intensity units of [0, 1]."""
    x = images.double() / 255.0
    return float(x.mean()), float(x.std(correction=0))


def normalize(images: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    """Turn ``uint8`` images ``(B, H, W)`` into float32 model input ``(B, 1, H, W)``.

    Computes ``(images / 255 - mean) / std`` on the images' device; ``mean`` and ``std`` are in
    intensity units of [0, 1] (the checkpoint's ``normalization``).
    """
    scale = 1.0 / (255.0 * std)
    # copy=True: in-place maths on a fresh tensor, never on a float32 caller's images.
    return images.unsqueeze(1).to(torch.float32, copy=True).mul_(scale).sub_(mean / std)


@dataclass(frozen=True)
class Splits:
    """Train / validation / test tensors (``uint8`` images, ``int64`` labels) of one dataset.

    ``mean`` and ``std`` are the normalisation statistics of the training split only, in
    intensity units of [0, 1].
    """

    name: str
    train: tuple[torch.Tensor, torch.Tensor]
    val: tuple[torch.Tensor, torch.Tensor]
    test: tuple[torch.Tensor, torch.Tensor]
    mean: float
    std: float

    @property
    def num_classes(self) -> int:
        return DATASETS[self.name].num_classes

    @property
    def image_size(self) -> tuple[int, int]:
        return DATASETS[self.name].image_size

    @property
    def normalization(self) -> dict[str, float]:
        return {"mean": self.mean, "std": self.std}

    @property
    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train[1]), "val": len(self.val[1]), "test": len(self.test[1])}


def make_splits(
    name: str,
    data_dir: str | os.PathLike | None = None,
    val_fraction: float = 0.1,
    seed: int = 1,
    limit: int | None = None,
    download: bool = False,
) -> Splits:
    """Load a dataset and split off a seeded validation set from its training split.

    Parameters
    ----------
    name, data_dir, download
        As for :func:`load_dataset`.
    val_fraction : float, default 0.1
        Share of the training images held out for validation, ``round(N * val_fraction)``
        images chosen by a permutation seeded with ``seed``: 6,000 of Fashion-MNIST's / MNIST's
        60,000 (54,000 left to train), 800 of mnist-t10k's 8,000, 200 of the synthetic 2,000.
        FER2013 ignores it and validates on its official ``PublicTest`` rows.
    seed : int, default 1
        Seed of the validation split (the paper's seed 1).
    limit : int, optional
        Keep only the first ``limit`` official training images before splitting (for tests).

    Returns
    -------
    Splits
        With normalisation statistics measured on the remaining training images only.
    """
    if not 0.0 < val_fraction < 1.0:
        raise DatasetError(f"val_fraction must be in (0, 1), got {val_fraction}")
    images, labels = load_dataset(name, "train", data_dir, download)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    if "val" in DATASETS[name].splits:
        train, val = (images, labels), load_dataset(name, "val", data_dir, download)
    else:
        n_val = round(len(labels) * val_fraction)
        if not 0 < n_val < len(labels):
            raise DatasetError(f"{name}: {len(labels)} training images cannot give a "
                               f"validation split of {val_fraction:.0%}")
        order = np.random.default_rng(seed).permutation(len(labels))
        val_idx = torch.from_numpy(np.sort(order[:n_val]))
        train_idx = torch.from_numpy(np.sort(order[n_val:]))
        train, val = (images[train_idx], labels[train_idx]), (images[val_idx], labels[val_idx])
    mean, std = normalization_stats(train[0])
    test = load_dataset(name, "test", data_dir, download)
    return Splits(name, train, val, test, mean, std)


def train_loader(
    images: torch.Tensor,
    labels: torch.Tensor,
    batch_size: int,
    seed: int,
    rank: int = 0,
    world_size: int = 1,
    pin_memory: bool = False,
) -> tuple[DataLoader, DistributedSampler]:
    """Shuffled mini-batches whose order depends only on ``(seed, epoch)`` and the rank.

    A :class:`~torch.utils.data.DistributedSampler` (also for a single process) shuffles with
    ``seed + epoch`` after ``sampler.set_epoch(epoch)``, so epoch ``e`` sees the same order
    whether or not the run was resumed; with ``world_size > 1`` each rank gets every
    ``world_size``-th index of that order (padded to equal length). Whole batches are indexed
    at once from the tensors (no per-sample collation). The loader's own generator (seeded
    with ``seed``) only draws worker seeds; its state goes into checkpoints with the others.

    Returns
    -------
    loader : DataLoader
        Yields ``(uint8 images (B, H, W), int64 labels (B,))``.
    sampler : DistributedSampler
        Call ``sampler.set_epoch(epoch)`` before iterating each epoch.
    """
    dataset = TensorDataset(images, labels)
    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True,
                                 seed=seed)
    loader = DataLoader(
        dataset,
        sampler=BatchSampler(sampler, batch_size, drop_last=False),
        batch_size=None,  # the batch sampler yields index lists; TensorDataset indexes them
        pin_memory=pin_memory,
        generator=torch.Generator().manual_seed(seed),
    )
    return loader, sampler
