"""Tests of zoo.data: IDX and FER2013 readers, downloads, splits, normalisation, loaders."""

from __future__ import annotations

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from zoo import data
from zoo.data import DatasetError

FMNIST = Path("/usr/share/datasets/fashion-mnist")
MNIST_T10K = Path("/work/shared/data/mnist")  # only on the project's machines, not for users


def row_set(images: torch.Tensor | np.ndarray, labels=None) -> set[bytes]:
    """Each image (with its label, if given) as bytes, to compare collections of rows."""
    images = np.asarray(images)
    labels = np.zeros(len(images), np.uint8) if labels is None else np.asarray(labels)
    return {x.tobytes() + bytes([int(y)]) for x, y in zip(images, labels, strict=True)}


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    """Hand-written IDX: big-endian magic, then each dimension, then the raw bytes."""
    return struct.pack(f">{1 + array.ndim}i", magic, *array.shape) + array.tobytes()


def write_idx_pair(folder: Path, split: str, images: np.ndarray, labels: np.ndarray,
                   compress: bool = True) -> tuple[Path, Path]:
    stems = data.IDX_FILES[split]
    paths = []
    for stem, array, magic in zip(stems, (images, labels), (2051, 2049), strict=True):
        raw = idx_bytes(array, magic)
        path = folder / (stem + ".gz" if compress else stem)
        path.write_bytes(gzip.compress(raw) if compress else raw)
        paths.append(path)
    return paths[0], paths[1]


@pytest.fixture
def tiny():
    rng = np.random.default_rng(7)
    return rng.integers(0, 256, (5, 28, 28), dtype=np.uint8), np.array([3, 1, 4, 1, 5], np.uint8)


# --- IDX ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("compress", [True, False])
def test_idx_round_trip(tmp_path, tiny, compress):
    images, labels = tiny
    img_path, lab_path = write_idx_pair(tmp_path, "train", images, labels, compress)
    np.testing.assert_array_equal(data.read_idx(img_path, 2051), images)
    np.testing.assert_array_equal(data.read_idx(lab_path, 2049), labels)
    x, y = data.load_dataset("mnist", "train", data_dir=tmp_path)
    assert x.dtype == torch.uint8 and y.dtype == torch.int64
    np.testing.assert_array_equal(x.numpy(), images)
    assert y.tolist() == [3, 1, 4, 1, 5]


def test_idx_wrong_magic(tmp_path, tiny):
    path = tmp_path / "x.idx"
    path.write_bytes(idx_bytes(tiny[0], 2049))  # an image array under the labels' magic
    with pytest.raises(DatasetError, match=r"x\.idx: IDX magic number 2049, expected 2051"):
        data.read_idx(path, 2051)


def test_idx_truncated(tmp_path, tiny):
    raw = idx_bytes(tiny[0], 2051)
    path = tmp_path / "cut.idx"
    path.write_bytes(raw[:-10])
    expected = 16 + 5 * 28 * 28
    with pytest.raises(DatasetError, match=rf"cut\.idx: {expected - 10} bytes, expected "
                                           rf"{expected} .*truncated"):
        data.read_idx(path, 2051)
    path.write_bytes(raw[:6])
    with pytest.raises(DatasetError, match="truncated IDX header"):
        data.read_idx(path, 2051)
    # A gzip stream cut short is reported as unreadable, not as an EOFError.
    gz = tmp_path / "cut.gz"
    gz.write_bytes(gzip.compress(raw)[:-20])
    with pytest.raises(DatasetError, match=r"cut\.gz: cannot be read"):
        data.read_idx(gz, 2051)


def test_idx_count_mismatch(tmp_path, tiny):
    images, labels = tiny
    write_idx_pair(tmp_path, "train", images, labels[:4])
    with pytest.raises(DatasetError, match=r"train-labels-idx1-ubyte\.gz: 4 labels, expected 5"):
        data.load_dataset("mnist", "train", data_dir=tmp_path)


def test_missing_files_name_the_folder(tmp_path):
    with pytest.raises(DatasetError, match=rf"{tmp_path}: missing t10k-images-idx3-ubyte\.gz"):
        data.load_dataset("fashion-mnist", "test", data_dir=tmp_path)


# --- downloads (no internet: file:// URLs) ------------------------------------------------------

def test_download_verifies_md5(tmp_path, tiny, monkeypatch):
    mirror, target = tmp_path / "mirror", tmp_path / "data"
    mirror.mkdir()
    paths = write_idx_pair(mirror, "test", *tiny)
    sums = {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in paths}
    # The first mirror does not exist; the loader falls back to the second.
    monkeypatch.setitem(data.MIRRORS, "mnist", ((tmp_path / "nowhere").as_uri() + "/",
                                                mirror.as_uri() + "/"))
    monkeypatch.setitem(data.MD5, "mnist", sums)
    x, y = data.load_dataset("mnist", "test", data_dir=target, download=True)
    np.testing.assert_array_equal(x.numpy(), tiny[0])
    assert sorted(p.name for p in target.iterdir()) == sorted(sums)  # no .part left


def test_download_checksum_mismatch_removes_file(tmp_path, tiny, monkeypatch):
    mirror, target = tmp_path / "mirror", tmp_path / "data"
    mirror.mkdir()
    paths = write_idx_pair(mirror, "test", *tiny)
    sums = {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in paths}
    sums["t10k-images-idx3-ubyte.gz"] = "0" * 32
    monkeypatch.setitem(data.MIRRORS, "fashion-mnist", (mirror.as_uri() + "/",))
    monkeypatch.setitem(data.MD5, "fashion-mnist", sums)
    with pytest.raises(DatasetError, match=r"t10k-images-idx3-ubyte\.gz: MD5 [0-9a-f]{32}, "
                                           r"expected 0{32}; the downloaded file was removed"):
        data.load_dataset("fashion-mnist", "test", data_dir=target, download=True)
    assert list(target.iterdir()) == []


def test_official_checksums_are_well_formed():
    for name in ("mnist", "fashion-mnist"):
        expected = {f"{stem}.gz" for pair in data.IDX_FILES.values() for stem in pair}
        assert set(data.MD5[name]) == expected
        assert all(len(s) == 32 and int(s, 16) >= 0 for s in data.MD5[name].values())


# --- real data (skipped where absent) -----------------------------------------------------------

@pytest.mark.skipif(not FMNIST.is_dir(), reason="Fashion-MNIST not installed")
def test_fashion_mnist_real_files():
    x, y = data.load_dataset("fashion-mnist", "train")
    assert x.shape == (60000, 28, 28) and y.shape == (60000,)
    # Fashion-MNIST is balanced: 6,000 training and 1,000 test images per class.
    assert torch.bincount(y).tolist() == [6000] * 10
    x, y = data.load_dataset("fashion-mnist", "test")
    assert x.shape == (10000, 28, 28) and torch.bincount(y).tolist() == [1000] * 10


@pytest.mark.skipif(not MNIST_T10K.is_dir(), reason="needs the project's copy of MNIST t10k")
def test_mnist_t10k_reduced_split():
    full_x, full_y = data.read_idx_pair(MNIST_T10K / "t10k-images-idx3-ubyte.gz",
                                        MNIST_T10K / "t10k-labels-idx1-ubyte.gz")
    tr_x, tr_y = data.load_dataset("mnist-t10k", "train")
    te_x, te_y = data.load_dataset("mnist-t10k", "test")
    assert len(tr_y) == 8000 and len(te_y) == 2000
    # Together they are exactly the 10,000 test images, each (image, label) row once.
    train_rows, test_rows = row_set(tr_x, tr_y), row_set(te_x, te_y)
    assert not train_rows & test_rows
    assert train_rows | test_rows == row_set(full_x, full_y)
    again = data.load_dataset("mnist-t10k", "train")
    assert torch.equal(again[0], tr_x) and torch.equal(again[1], tr_y)


# --- FER2013 ------------------------------------------------------------------------------------

def fer_row(emotion, pixels, usage):
    return f"{emotion},{' '.join(map(str, pixels))},{usage}"


def test_fer2013_tiny_csv(tmp_path):
    rng = np.random.default_rng(3)
    pix = rng.integers(0, 256, (4, 2304))
    usage = ["Training", "PublicTest", "PrivateTest", "Training"]
    rows = [fer_row(e, p, u) for e, p, u in zip([0, 6, 3, 2], pix, usage, strict=True)]
    (tmp_path / "fer2013.csv").write_text("emotion,pixels,Usage\n" + "\n".join(rows) + "\n")
    x, y = data.load_dataset("fer2013", "train", data_dir=tmp_path)
    assert x.shape == (2, 48, 48) and y.tolist() == [0, 2]
    np.testing.assert_array_equal(x.numpy().reshape(2, -1), pix[[0, 3]])
    assert data.load_dataset("fer2013", "val", data_dir=tmp_path)[1].tolist() == [6]
    assert data.load_dataset("fer2013", "test", data_dir=tmp_path)[1].tolist() == [3]


PIXELS_MSG = "pixels must be 2304 space-separated integers"


@pytest.mark.parametrize("bad_row, what", [
    (fer_row(1, range(2303), "Training"), PIXELS_MSG),  # one value short
    (fer_row(1, [*range(2303), "x"], "Training"), PIXELS_MSG),
    (fer_row(1, [256] * 2304, "Training"), "pixel values must be 0-255"),
    (fer_row(9, [0] * 2304, "Training"), "emotion must be an integer 0-6"),
    (fer_row(1, [0] * 2304, "Train"), "Usage must be one of"),
])
def test_fer2013_bad_row_names_line(tmp_path, bad_row, what):
    good = fer_row(0, [10] * 2304, "Training")
    path = tmp_path / "fer2013.csv"
    path.write_text("\n".join(["emotion,pixels,Usage", good, good, bad_row, good]) + "\n")
    with pytest.raises(DatasetError, match=rf"fer2013\.csv: line 4: {what}"):
        data.read_fer2013(path)


def test_fer2013_missing_column(tmp_path):
    path = tmp_path / "fer2013.csv"
    path.write_text("emotion,pixels\n0,1 2\n")
    with pytest.raises(DatasetError, match=r"missing column\(s\) \['Usage'\]"):
        data.read_fer2013(path)


# --- synthetic, splits, normalisation, loaders --------------------------------------------------

def test_synthetic_is_deterministic_and_balanced():
    x1, y1 = data.load_dataset("synthetic", "train")
    x2, y2 = data.load_dataset("synthetic", "train")
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert x1.shape == (2000, 28, 28) and set(y1.tolist()) == {0, 1, 2, 3}
    assert torch.bincount(y1).min() > 400  # roughly 500 per class
    assert not torch.equal(data.load_dataset("synthetic", "test")[0][:10], x1[:10])


def test_make_splits_seeded_disjoint_and_train_stats():
    s = data.make_splits("synthetic", val_fraction=0.1, seed=1, limit=600)
    full_x, full_y = data.load_dataset("synthetic", "train")
    assert s.sizes == {"train": 540, "val": 60, "test": 500}
    train_rows, val_rows = row_set(*s.train), row_set(*s.val)
    assert not train_rows & val_rows
    assert train_rows | val_rows == row_set(full_x[:600], full_y[:600])  # limit: the first 600
    # Normalisation statistics come from the training images only (float64 numpy reference).
    ref = s.train[0].numpy().astype(np.float64) / 255
    assert s.mean == pytest.approx(ref.mean(), abs=1e-12)
    assert s.std == pytest.approx(ref.std(), abs=1e-12)
    both = np.concatenate([ref, s.val[0].numpy() / 255])
    assert s.mean != pytest.approx(both.mean(), abs=1e-9)
    assert s.normalization == {"mean": s.mean, "std": s.std}
    same = data.make_splits("synthetic", seed=1, limit=600)
    other = data.make_splits("synthetic", seed=2, limit=600)
    assert torch.equal(same.val[0], s.val[0]) and torch.equal(same.val[1], s.val[1])
    assert not torch.equal(other.val[0], s.val[0])


def test_make_splits_rejects_empty_validation():
    with pytest.raises(DatasetError, match="cannot give a validation split"):
        data.make_splits("synthetic", val_fraction=0.1, limit=4)
    with pytest.raises(DatasetError, match=r"val_fraction must be in \(0, 1\)"):
        data.make_splits("synthetic", val_fraction=0.0)


def test_normalize_matches_float64():
    x = torch.randint(0, 256, (3, 5, 7), dtype=torch.uint8)
    out = data.normalize(x, 0.3, 0.2)
    ref = (x.numpy().astype(np.float64) / 255 - 0.3) / 0.2
    assert out.shape == (3, 1, 5, 7) and out.dtype == torch.float32
    np.testing.assert_allclose(out[:, 0].numpy(), ref, rtol=0, atol=1e-5)
    # Float32 input gives the same result and is left as it was.
    as_float = x.to(torch.float32)
    torch.testing.assert_close(data.normalize(as_float, 0.3, 0.2), out, rtol=0, atol=0)
    assert torch.equal(as_float, x.to(torch.float32))


def test_train_loader_order_depends_only_on_seed_and_epoch():
    images = torch.arange(50, dtype=torch.uint8).repeat_interleave(4).view(50, 2, 2)
    labels = torch.arange(50)

    def epoch_labels(loader, sampler, epoch):
        sampler.set_epoch(epoch)
        return torch.cat([y for _, y in loader])

    loader, sampler = data.train_loader(images, labels, 8, seed=1)
    history = [epoch_labels(loader, sampler, e) for e in range(3)]
    fresh_loader, fresh_sampler = data.train_loader(images, labels, 8, seed=1)
    assert torch.equal(epoch_labels(fresh_loader, fresh_sampler, 2), history[2])
    assert sorted(history[0].tolist()) == list(range(50))  # each image once per epoch
    assert not torch.equal(history[0], history[1])
    x, y = next(iter(loader))
    assert x.shape == (8, 2, 2) and torch.equal(x[:, 0, 0], y.to(torch.uint8))
    # Two ranks split the same permutation between them (padded to equal length).
    shards = [epoch_labels(*data.train_loader(images, labels, 8, 1, rank, 2), 2)
              for rank in (0, 1)]
    assert len(shards[0]) == len(shards[1]) == 25
    assert set(torch.cat(shards).tolist()) == set(range(50))
