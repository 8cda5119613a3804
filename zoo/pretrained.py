"""Shipped weights: trained models that load in one line, each with a model card.

Layout (under :func:`weights_dir`, by default the package folder ``zoo/weights``)::

    <dataset>/<name>.pt     state_dict only (float32 tensors), read with weights_only=True
    <dataset>/<name>.json   the model card (see :func:`save_pretrained`)
    examples/<dataset>/     a few test images in the dataset's own file format

``<name>`` is :func:`weight_name` for the weights ``create_model(..., pretrained=...)`` loads:
the registry name and the number of glimpses, e.g. ``mram-12``, ``dram_nocontext-7``,
``ram-12-2scales``, or ``cnn`` for the whole-image CNN. Other runs of a model (another seed,
bf16 training) are shipped under their run's name, e.g. ``ram-7-seed2``, and load by spec.

>>> import zoo
>>> model = zoo.create_model("mram", glimpses=12, pretrained="fashion-mnist")  # doctest: +SKIP
>>> model.card["normalization"]   # inputs: (pixels / 255 - mean) / std     # doctest: +SKIP

The command line takes ``pretrained:<dataset>/<name>`` wherever it takes a checkpoint path::

    zoo evaluate pretrained:fashion-mnist/mram-12
    zoo export pretrained:fashion-mnist/mram-12 --out mram12.parquet

``ZOO_WEIGHTS`` (environment variable) points the loader at another weights folder.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from zoo.checkpoint import CheckpointError, build_model

__all__ = [
    "SPEC_PREFIX",
    "PretrainedError",
    "available",
    "describe",
    "examples_dir",
    "is_spec",
    "load_pretrained",
    "load_spec",
    "save_pretrained",
    "weight_name",
    "weights_dir",
]

SPEC_PREFIX = "pretrained:"
CARD_VERSION = 1
# Card entries that the loader needs; save_pretrained refuses a card without them.
REQUIRED_CARD_KEYS = ("model", "model_kwargs", "dataset", "normalization", "image_size",
                      "num_classes", "sha256")


class PretrainedError(CheckpointError):
    """Shipped weights are missing, do not match the requested model, or fail their checksum."""


def weights_dir() -> Path:
    """The weights folder: ``$ZOO_WEIGHTS`` if set, else ``zoo/weights`` in the package."""
    env = os.environ.get("ZOO_WEIGHTS")
    return Path(env).expanduser() if env else Path(__file__).resolve().parent / "weights"


def examples_dir(dataset: str) -> Path:
    """Folder of the shipped example images of ``dataset`` (in that dataset's file format)."""
    return weights_dir() / "examples" / dataset


def weight_name(model: str, glimpses: int | None = None, scales: int = 1) -> str:
    """File stem of shipped weights: ``mram-12``, ``ram-12-2scales``, ``cnn`` (no glimpses)."""
    name = model if glimpses is None else f"{model}-{glimpses}"
    return name + (f"-{scales}scales" if scales > 1 else "")


def available(dataset: str | None = None, *, other_runs: bool = True) -> list[str]:
    """Shipped weights as sorted ``"<dataset>/<name>"`` strings (both .pt and .json present).

    ``other_runs=False`` keeps only the weights :func:`load_pretrained` loads, those named
    :func:`weight_name` of their card (not ``ram-7-seed2`` or ``ram-7-bf16``).
    """
    root = weights_dir()
    pattern = f"{dataset}/*.json" if dataset else "*/*.json"
    cards = [card for card in root.glob(pattern) if card.with_suffix(".pt").is_file()]
    if not other_runs:
        cards = [card for card in cards if card.stem == _card_weight_name(card)]
    return sorted(f"{card.parent.name}/{card.stem}" for card in cards)


def _model_weight_name(card: dict[str, Any]) -> str:
    """:func:`weight_name` of the model a card describes (what :func:`load_pretrained` loads)."""
    kwargs = card["model_kwargs"]
    return weight_name(card["model"], kwargs.get("glimpses"), kwargs.get("scales", 1))


def _card_weight_name(card_path: Path) -> str | None:
    """:func:`_model_weight_name` of a card file; None for an unreadable card."""
    try:
        return _model_weight_name(json.loads(card_path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def describe(spec: str) -> str:
    """One line on shipped weights ``"<dataset>/<name>"``: test accuracy and training state.

    Read from the model card alone (the weights are not loaded); ``"(no card)"`` parts where
    the card lacks them; the card's ``note`` (a known limitation of the weights), if any.
    """
    card_path = weights_dir() / f"{spec}.json"
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"{spec}  (unreadable model card)"
    acc = card.get("test_acc")
    accuracy = f"test {100 * acc:.2f} %" if isinstance(acc, (int, float)) else "test ?"
    note = f"  NOTE: {card['note']}" if card.get("note") else ""
    return f"{spec}  {accuracy}  {card.get('state', '(no training state)')}{note}"


def _missing(dataset: str, name: str) -> PretrainedError:
    found = available()
    listing = ", ".join(found) if found else f"none (no weights in {weights_dir()})"
    return PretrainedError(f"no shipped weights {dataset}/{name}; available: {listing}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read(dataset: str, name: str) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The card and state_dict of ``dataset/name``, checksum verified."""
    card_path = weights_dir() / dataset / f"{name}.json"
    pt_path = card_path.with_suffix(".pt")
    if not (card_path.is_file() and pt_path.is_file()):
        raise _missing(dataset, name)
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PretrainedError(f"{card_path}: not a readable model card ({exc})") from exc
    missing = [k for k in REQUIRED_CARD_KEYS if k not in card]
    if missing:
        raise PretrainedError(f"{card_path}: model card lacks {missing[0]!r}")
    if _sha256(pt_path) != card["sha256"]:
        raise PretrainedError(f"{pt_path}: SHA-256 differs from its model card {card_path.name}"
                              " (corrupt or replaced file)")
    try:
        state_dict = torch.load(pt_path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt files
        raise PretrainedError(f"{pt_path}: not a readable state_dict ({type(exc).__name__})"
                              ) from exc
    return card, state_dict


def _build(card: dict[str, Any], state_dict: dict[str, torch.Tensor], source: str) -> nn.Module:
    try:  # validated as any checkpoint (zoo.checkpoint.build_model)
        model = build_model({**card, "state_dict": state_dict}, source)
    except CheckpointError as exc:
        raise PretrainedError(str(exc)) from exc
    model.card = card
    return model


def _state(card: dict[str, Any], state_dict: dict[str, torch.Tensor]) -> dict[str, Any]:
    """A checkpoint-like dict (see :mod:`zoo.checkpoint`) for evaluation and export."""
    return {"model": card["model"], "model_kwargs": card["model_kwargs"],
            "state_dict": state_dict, "dataset": card["dataset"],
            "normalization": card["normalization"], "image_size": card["image_size"],
            "num_classes": card["num_classes"], "seed": card.get("seed"),
            "config": card.get("training_config", {}), "epoch": card.get("best_epoch"),
            "card": card}


def _same(a: Any, b: Any) -> bool:
    """Equality after a JSON round trip (tuples and lists compare equal, as in a card)."""
    return json.loads(json.dumps(a)) == json.loads(json.dumps(b))


def load_pretrained(model: str, dataset: str, **kwargs: Any) -> tuple[nn.Module, dict]:
    """Create registry model ``model`` with the weights shipped for ``dataset``.

    Parameters
    ----------
    model : str
        Registry name (``zoo.list_models()``).
    dataset : str
        Dataset the weights were trained on, e.g. ``"fashion-mnist"``.
    **kwargs
        Constructor arguments. ``glimpses`` and ``scales`` (default: the model's defaults)
        select the weights (:func:`weight_name`); every argument given must equal the value
        the weights were trained with: the card's, or for an argument newer than the card its
        default (as the card's model is built). The others come from the model card.

    Returns
    -------
    model : torch.nn.Module
        The model with the shipped weights (train mode, like any new module), its card in
        ``model.card``: inputs are ``(pixels / 255 - mean) / std`` with
        ``model.card["normalization"]``.
    state : dict
        Checkpoint-like dict (``model``, ``model_kwargs``, ``state_dict``, ``dataset``,
        ``normalization``, ``image_size``, ``num_classes``, ``epoch``, ``card``, ...).

    Raises
    ------
    PretrainedError
        If no weights are shipped for this combination (the message lists those that are), an
        argument differs from the card, or the files are corrupt.
    """
    from zoo.registry import create_model

    defaults = create_model(model).config  # also rejects an unknown model name
    glimpses = kwargs.get("glimpses", defaults.get("glimpses"))
    name = weight_name(model, glimpses, kwargs.get("scales", defaults.get("scales", 1)))
    card, state_dict = _read(dataset, name)
    if card["model"] != model:
        raise PretrainedError(f"{dataset}/{name}: the card names model {card['model']!r}, "
                              f"expected {model!r}")
    built = _build(card, state_dict, f"{dataset}/{name}")
    # Compared with the built model's full arguments, not the card's: a card written before an
    # argument existed (e.g. first_location) implies its default, what those weights had.
    trained = built.config
    for key, value in kwargs.items():
        if key not in trained or not _same(trained[key], value):
            raise PretrainedError(
                f"pretrained {dataset}/{name} was trained with {key}="
                f"{trained.get(key, '(not an argument)')!r}; got {key}={value!r}")
    return built, _state(card, state_dict)


def is_spec(text: str | os.PathLike) -> bool:
    """Whether ``text`` is a ``pretrained:<dataset>/<name>`` spec rather than a file path."""
    return str(text).startswith(SPEC_PREFIX)


def load_spec(spec: str) -> tuple[nn.Module, dict]:
    """Load ``pretrained:<dataset>/<name>`` (e.g. ``pretrained:fashion-mnist/mram-12``).

    Returns the model (train mode) and a checkpoint-like dict, as :func:`load_pretrained`.

    Raises
    ------
    PretrainedError
        If the spec is malformed or names weights that are not shipped.
    """
    dataset, slash, name = str(spec).removeprefix(SPEC_PREFIX).partition("/")
    if not is_spec(spec) or not slash or not dataset or not name or "/" in name:
        raise PretrainedError(f"{spec!r}: expected {SPEC_PREFIX}<dataset>/<name>, e.g. "
                              f"{SPEC_PREFIX}fashion-mnist/mram-12")
    card, state_dict = _read(dataset, name)
    return _build(card, state_dict, spec), _state(card, state_dict)


def _write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp)`` and move ``tmp`` to ``path`` atomically, readable by everyone."""
    from gazekit.atomic import atomic_file  # local: gazekit's imports are not needed to load models

    with atomic_file(path) as tmp:
        write(tmp)
        tmp.chmod(0o644)  # shipped files are read by everyone, whatever the umask


def _holds_weights(pt_path: Path, weights: dict[str, torch.Tensor]) -> bool:
    """Whether ``pt_path`` already holds exactly ``weights``."""
    try:
        old = torch.load(pt_path, map_location="cpu", weights_only=True)
    except Exception:  # missing or unreadable: rewrite it
        return False
    return old.keys() == weights.keys() and all(torch.equal(old[k], v)
                                                for k, v in weights.items())


def _holds_card(card_path: Path, card: dict[str, Any]) -> bool:
    """Whether ``card_path`` already holds ``card`` (the entries filled in on saving aside)."""
    try:
        old_card = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    ignored = {"date", "sha256", "name", "dtype", "card_version"}
    return ({k: v for k, v in old_card.items() if k not in ignored}
            == {k: v for k, v in json.loads(json.dumps(card)).items() if k not in ignored})


def refuse_other_run(card_path: Path, run: str | None) -> None:
    """Raise ValueError if ``card_path`` is the card of a run other than ``run``."""
    try:
        old = json.loads(card_path.read_text(encoding="utf-8")).get("source_run")
    except (OSError, ValueError, AttributeError):  # none yet, or unreadable: nothing to keep
        return
    if old is not None and old != run:
        raise ValueError(f"{card_path}: holds the weights of run {old!r}, not of {run!r}; "
                         "ship that run under its own name, or remove these files first")


def save_pretrained(state_dict: dict[str, torch.Tensor], card: dict[str, Any],
                    dest: str | os.PathLike | None = None, *,
                    name: str | None = None) -> tuple[Path, Path]:
    """Write shipped weights ``<dest>/<dataset>/<name>.pt`` and their card ``.json``.

    Parameters
    ----------
    state_dict : dict of str to Tensor
        The model's weights; floating-point tensors are stored as contiguous float32 copies.
    card : dict
        The model card: at least ``model``, ``model_kwargs`` (the full constructor arguments,
        ``model.config``), ``dataset``, ``normalization`` (``{"mean", "std"}`` in intensity
        units of [0, 1]), ``image_size`` ([H, W] px) and ``num_classes``; by convention also
        ``seed``, ``training_config``, ``epochs_run``, ``max_epochs``, ``best_epoch``,
        ``finished``, ``status``, ``val_acc``, ``test_acc`` (fractions), ``hardware`` and
        ``date`` and ``source_run`` (the run's name). ``name``, ``sha256``, ``dtype`` and
        ``card_version`` are filled in here.
    dest : path-like, optional
        Weights folder; default :func:`weights_dir`.
    name : str, optional
        File stem; default :func:`weight_name` of the card's model (what
        :func:`load_pretrained` loads). Give the run's name for another run of that model.

    Returns
    -------
    (pathlib.Path, pathlib.Path)
        The ``.pt`` and ``.json`` files, each written atomically (the card last). A file that
        already holds these weights, or this card (its ``date`` aside), is left as it is, so
        shipping a run again changes only what changed (``torch.save`` files differ from save
        to save even for equal tensors).

    Raises
    ------
    ValueError
        If the card lacks a required entry, ``name`` is not a plain file stem, or the files
        hold the weights of another run (the old card's ``source_run`` differs): weights are
        never replaced by those of another run.
    """
    missing = [k for k in REQUIRED_CARD_KEYS if k != "sha256" and k not in card]
    if missing:
        raise ValueError(f"card: missing entry {missing[0]!r} (required: "
                         f"{', '.join(REQUIRED_CARD_KEYS[:-1])})")
    if name is None:
        name = _model_weight_name(card)
    elif not name or Path(name).name != name or name.startswith("."):
        raise ValueError(f"name: expected a plain file stem such as 'ram-7-seed2', got {name!r}")
    folder = Path(dest if dest is not None else weights_dir()) / card["dataset"]
    refuse_other_run(folder / f"{name}.json", card.get("source_run"))
    folder.mkdir(parents=True, exist_ok=True)
    weights = {k: (v.detach().to("cpu", torch.float32) if v.is_floating_point()
                   else v.detach().cpu()).contiguous().clone() for k, v in state_dict.items()}
    pt_path, card_path = folder / f"{name}.pt", folder / f"{name}.json"
    same_weights = _holds_weights(pt_path, weights)
    if same_weights and _holds_card(card_path, card):
        return pt_path, card_path
    if not same_weights:
        _write_atomic(pt_path, lambda tmp: torch.save(weights, tmp))
    full = {"card_version": CARD_VERSION, "name": name, **card, "dtype": "float32",
            "sha256": _sha256(pt_path)}
    _write_atomic(card_path, lambda tmp: tmp.write_text(
        json.dumps(full, indent=2) + "\n", encoding="utf-8"))
    return pt_path, card_path
