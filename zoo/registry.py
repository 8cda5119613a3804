"""Model registry (timm style): models are created by name.

Each model file decorates a factory function with :func:`register_model`; the function's name
is the registry name. Importing :mod:`zoo` imports :mod:`zoo.models`, which registers them all.

>>> import zoo
>>> model = zoo.create_model("mram", glimpses=7)
>>> same = zoo.create_model(model.name, **model.config)
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
    pretrained : None
        Reserved for shipped weights; anything but ``None`` raises ``ValueError`` for now.
    **kwargs
        Constructor arguments (``num_classes``, ``glimpses``, ``scales``, ...).

    Returns
    -------
    nn.Module
        With ``model.name == name`` and ``model.config`` holding the full constructor kwargs.
    """
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(list_models())}")
    if pretrained is not None:
        raise ValueError(f"no pretrained weights for {name!r} yet (pretrained={pretrained!r}); "
                         "use pretrained=None and train or load a checkpoint")
    model = _REGISTRY[name](**kwargs)
    model.name = name
    return model
