"""Health of a glimpse policy during training: does it still look at the image?

A hard-attention policy can die in training: its tanh units saturate, no gradient flows, and
the glimpses land on the same pixels whatever the image (DRAM's context network did, see
:mod:`zoo.models.dram`). :func:`policy_health` measures it on a batch of images with the
policy mean (no sampling, so it draws no random numbers and leaves training unchanged):

``spread_px``
    Per glimpse, the RMS distance in pixels of the location from its mean over the images.
    Zero means the glimpse is the same for every image. The first glimpse of a model whose
    start does not depend on the image (RAM, MRAM, DRAM without context) is zero by design.
``policy_saturated``
    Share of policy-mean coordinates with ``|mean| >= 0.99`` (tanh saturated: the glimpse is
    pinned to an image border and the mean gets almost no gradient).
``context_saturated``, ``context_spread``
    DRAM with context only: share of context outputs with ``|value| >= 0.99`` (tanh output
    only; ``None`` for an output that cannot saturate), and the mean over units of their
    standard deviation across images (zero: the context no longer depends on the image).
    ``None`` for models without a context network.
``collapsed``
    The glimpses (1-based) that should depend on the image but have ``spread_px`` below
    :data:`SPREAD_FLOOR_PX`.

An untrained policy also lands almost everywhere in the same place (its outputs barely depend
on the input), so :func:`collapse_warning` only speaks of a collapse that training caused: a
glimpse that had spread at least :data:`SPREAD_FLOOR_PX` at an earlier epoch, or one that is
image-independent while the tanh units behind it are saturated.

>>> import torch, zoo
>>> health = policy_health(zoo.create_model("dram", glimpses=3), torch.randn(16, 1, 28, 28))
>>> len(health["spread_px"]), health["context_saturated"] is not None
(3, True)
"""

from __future__ import annotations

import torch
from torch import nn

from zoo.sensor import to_pixels

__all__ = ["SATURATION", "SPREAD_FLOOR_PX", "collapse_warning", "location_spread",
           "policy_health"]

#: A glimpse whose locations spread less than this across images (px) is image-independent.
SPREAD_FLOOR_PX = 0.5
#: A tanh output at least this large in magnitude counts as saturated.
SATURATION = 0.99


def location_spread(px: torch.Tensor) -> torch.Tensor:
    """Per glimpse, the RMS distance (px) of the locations ``px`` from their mean over images.

    Parameters
    ----------
    px : Tensor, shape (B, T, 2)
        Glimpse centres in pixels of B images (``B >= 1``), T glimpses each.

    Returns
    -------
    Tensor, shape (T,)
        ``sqrt(mean_b |px[b, t] - mean_b px[b, t]|^2)`` (population moments, px); 0 for a
        glimpse that lands on the same place for every image.

    >>> location_spread(torch.tensor([[[0.0, 0.0]], [[6.0, 8.0]]])).tolist()
    [5.0]
    """
    return (px - px.mean(0)).pow(2).sum(-1).mean(0).sqrt()


@torch.inference_mode()
def policy_health(model: nn.Module, images: torch.Tensor) -> dict:
    """Spread of each glimpse across ``images`` and saturation of the policy; see the module.

    Parameters
    ----------
    model : nn.Module
        A glimpse model (``model.has_glimpses``); left in eval mode.
    images : Tensor, shape (B, C, H, W)
        Normalised images on the model's device, ``B >= 2``.

    Returns
    -------
    dict
        ``spread_px`` (list of T floats, px), ``policy_saturated`` (fraction),
        ``context_saturated`` and ``context_spread`` (float or None), ``collapsed`` (list of
        1-based glimpse numbers).
    """
    model.eval()
    out = model(images, sample=False)
    height, width = model.image_size
    px = to_pixels(out.locations.double(), height, width)  # (B, T, 2)
    spread = location_spread(px)  # (T,)
    first = 0 if model.image_dependent_start else 1
    context = getattr(model, "context", None)
    health = {
        "spread_px": [round(v, 4) for v in spread.tolist()],
        "policy_saturated": (out.means.abs() >= SATURATION).double().mean().item(),
        "context_saturated": None,
        "context_spread": None,
        "collapsed": [t + 1 for t in range(first, len(spread)) if spread[t] < SPREAD_FLOOR_PX],
    }
    if context is not None:
        c = context(images).double()
        if isinstance(context[-1], nn.Tanh):
            health["context_saturated"] = (c.abs() >= SATURATION).double().mean().item()
        health["context_spread"] = c.std(0).mean().item()
    return health


def collapse_warning(health: dict, epoch: int,
                     earlier: list[dict] | tuple[dict, ...] = ()) -> str | None:
    """One line saying which glimpses have collapsed to image-independent places, or None.

    ``earlier`` holds the health of the run's previous epochs: a glimpse counts as collapsed
    when it had spread at an earlier epoch and has none now, or when it has none while the
    policy's or the context's tanh units are mostly (>= 50 %) saturated. An untrained policy
    that has not spread yet is no collapse.

    >>> now = {"collapsed": [2], "spread_px": [0.0, 0.1], "policy_saturated": 0.0,
    ...        "context_saturated": None}
    >>> collapse_warning(now, 1) is None
    True
    >>> collapse_warning(now, 2, [{"spread_px": [0.0, 3.2]}]).startswith("warning: epoch 2")
    True
    """
    saturated = max(health["policy_saturated"], health.get("context_saturated") or 0.0) >= 0.5
    spread_before = [max((h["spread_px"][t - 1] for h in earlier), default=0.0)
                     for t in health["collapsed"]]
    collapsed = [t for t, before in zip(health["collapsed"], spread_before, strict=True)
                 if saturated or before >= SPREAD_FLOOR_PX]
    if not collapsed:
        return None
    context = ("" if health.get("context_saturated") is None else
               f"; context units saturated: {health['context_saturated']:.0%}")
    return (f"warning: epoch {epoch}: glimpse(s) {', '.join(map(str, collapsed))} land on the "
            f"same place for every validation image (spread < {SPREAD_FLOOR_PX} px): the policy "
            f"has collapsed to image-independent locations (policy tanh saturated: "
            f"{health['policy_saturated']:.0%}{context}); a remedy that kept DRAM's context "
            f"alive: --reinforce-lr-scale 0.1 --context-output layernorm")
