"""Model registry (timm style): models are created by name.

Each model file decorates a factory function with :func:`register_model`; the function's name
is the registry name. Importing :mod:`zoo` imports :mod:`zoo.models`, which registers them all.

>>> import zoo
>>> model = zoo.create_model("mram", glimpses=7)
>>> same = zoo.create_model(model.name, **model.config)
>>> trained = zoo.create_model("mram", glimpses=12, pretrained="fashion-mnist")  # doctest: +SKIP
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any

from torch import nn

_REGISTRY: dict[str, Callable[..., nn.Module]] = {}


def register_model(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
    """Register a factory ``fn(**kwargs) -> nn.Module`` under ``fn.__name__``."""
    if fn.__name__ in _REGISTRY:
        raise ValueError(f"model {fn.__name__!r} is already registered")
    _REGISTRY[fn.__name__] = fn
    return fn


def fixed_variant(cls: type[nn.Module], name: str, kwargs: dict[str, Any],
                  **fixed: Any) -> nn.Module:
    """Build ``cls(**kwargs, **fixed)`` for a named ablation whose ``fixed`` kwargs are set.

    Passing one of the fixed keywords with the same value is allowed (so that
    ``create_model(m.name, **m.config)`` works); a different value raises ``ValueError``.
    """
    for key, value in fixed.items():
        if key in kwargs and kwargs[key] != value:
            raise ValueError(f"model {name!r} fixes {key}={value!r}; got {key}={kwargs[key]!r}")
    return cls(**{**kwargs, **fixed})


def list_models(pattern: str = "*") -> list[str]:
    """Sorted registry names, optionally filtered by a shell-style ``pattern`` (e.g. "dram*")."""
    return sorted(fnmatch.filter(_REGISTRY, pattern))


def create_model(name: str, pretrained: str | None = None, **kwargs: Any) -> nn.Module:
    """Create a registered model.

    Parameters
    ----------
    name : str
        Registry name, see :func:`list_models`.
    pretrained : str, optional
        Dataset whose shipped weights to load (e.g. ``"fashion-mnist"``); see
        :func:`zoo.pretrained.load_pretrained`. The weights are chosen by ``glimpses`` and
        ``scales``; other arguments come from the model card (``model.card``), and any given
        must match it. Default: random initialisation.
    **kwargs
        Constructor arguments (``num_classes``, ``glimpses``, ``scales``, ...).

    Returns
    -------
    nn.Module
        With ``model.name == name`` and ``model.config`` holding the full constructor kwargs.

    Raises
    ------
    ValueError
        For an unknown name; :class:`zoo.pretrained.PretrainedError` (a ``ValueError``) when
        the requested weights are not shipped (the message lists those that are).
    """
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(list_models())}")
    if pretrained is not None:
        from zoo.pretrained import load_pretrained  # local: it builds models through here

        return load_pretrained(name, pretrained, **kwargs)[0]
    model = _REGISTRY[name](**kwargs)
    model.name = name
    return model
