"""Saliency scanpaths for models without glimpses (the CNN baseline).

A CNN sees the whole image at once and has no gaze. To put it beside the glimpse models in the
same scanpath table we derive a *pseudo*-scanpath from its gradient saliency map:

1. gradient saliency (Simonyan, Vedaldi & Zisserman 2014): the absolute gradient of the
   predicted class score with respect to the input pixels, maximised over channels;
2. winner-take-all with inhibition of return (Itti & Koch 1998): pick the most salient pixel,
   suppress a disc around it, pick the next most salient pixel, and so on.

This is **not a learned gaze policy**: the CNN never chooses where to look and nothing it does
depends on these points. The scanpath only shows where the classifier's output is most
sensitive, in a descending order fixed by the suppression rule.

Coordinates are continuous **pixels** with the origin at the top-left image corner, as in
:mod:`gazekit.schema`: pixel ``(row i, column j)`` covers ``[j, j+1) x [i, i+1)`` so its centre
is ``(x, y) = (j + 0.5, i + 0.5)``.
"""

from __future__ import annotations

import torch
from torch import nn


def gradient_saliency(
    model: nn.Module, images: torch.Tensor, target: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Absolute input gradient of one class score per image.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``images`` (B, C, H, W) to logits (B, K). It must treat the images of a batch
        independently (true for the CNN in eval mode), so that the gradient of the *sum* of the
        chosen scores gives every image's own gradient in one backward pass.
    images : Tensor, shape (B, C, H, W)
        Model inputs (already normalised).
    target : Tensor of int, shape (B,), optional
        Class whose score is differentiated; default: the predicted class (argmax of the
        logits).

    Returns
    -------
    saliency : Tensor, shape (B, H, W)
        ``max_c |d logit_target / d image[c]|`` per pixel (units of logit per input unit).
    logits : Tensor, shape (B, K)
        The model's outputs, detached.
    """
    x = images.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        logits = model(x)
        if target is None:
            target = logits.argmax(dim=1)
        chosen = logits.gather(1, target.view(-1, 1).to(logits.device))
        (grad,) = torch.autograd.grad(chosen.sum(), x)
    return grad.abs().amax(dim=1), logits.detach()


def wta_scanpath(saliency: torch.Tensor, steps: int = 12, radius: float = 4.0) -> torch.Tensor:
    """Scanpath by winner-take-all with inhibition of return, for a batch of saliency maps.

    At each step the most salient pixel not yet inhibited is chosen (ties: the first in
    row-major order); then every pixel whose centre lies within ``radius`` px of the chosen
    pixel's centre (Euclidean distance ``<= radius``) is inhibited. If an image has no
    uninhibited pixel left, its inhibition is released and the search starts over on the full
    map (inhibition of return is transient).

    Parameters
    ----------
    saliency : Tensor, shape (B, H, W)
        Saliency maps (any real values; larger = more salient).
    steps : int, default 12
        Number of points (glimpse steps) per scanpath.
    radius : float, default 4.0
        Inhibition radius in pixels (half the paper's 8 px glimpse).

    Returns
    -------
    Tensor, shape (B, steps, 2), float64
        Pixel centres ``(x, y)`` of the chosen pixels, in order (see the module docstring).
    """
    if saliency.dim() != 3:
        raise ValueError(f"saliency: expected shape (B, H, W), got {tuple(saliency.shape)}")
    if steps < 1:
        raise ValueError(f"steps: expected a positive number of glimpse steps, got {steps}")
    if not radius >= 0:
        raise ValueError(f"radius: expected a non-negative number of pixels, got {radius}")
    b, h, w = saliency.shape
    device = saliency.device
    flat = saliency.detach().reshape(b, h * w).to(torch.float64)
    rows = torch.arange(h, device=device, dtype=torch.float64).repeat_interleave(w)
    cols = torch.arange(w, device=device, dtype=torch.float64).repeat(h)
    inhibited = torch.zeros(b, h * w, dtype=torch.bool, device=device)
    points = torch.empty(b, steps, 2, dtype=torch.float64, device=device)
    for t in range(steps):
        inhibited &= ~inhibited.all(dim=1, keepdim=True)  # release exhausted maps
        winner = flat.masked_fill(inhibited, -torch.inf).argmax(dim=1)
        # argmax of a map holding -inf only would be ambiguous; the release above prevents it.
        wy, wx = rows[winner], cols[winner]
        points[:, t, 0] = wx + 0.5
        points[:, t, 1] = wy + 0.5
        dist2 = (rows[None, :] - wy[:, None]) ** 2 + (cols[None, :] - wx[:, None]) ** 2
        inhibited |= dist2 <= radius**2
    return points


def saliency_scanpaths(
    model: nn.Module, images: torch.Tensor, steps: int = 12, radius: float = 4.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradient saliency followed by winner-take-all with inhibition of return.

    Parameters
    ----------
    model, images
        As in :func:`gradient_saliency` (images (B, C, H, W), normalised).
    steps : int, default 12
        Points per scanpath (glimpse steps).
    radius : float, default 4.0
        Inhibition radius in pixels.

    Returns
    -------
    scanpaths : Tensor, shape (B, steps, 2), float64
        Pixel centres ``(x, y)``, origin top-left.
    logits : Tensor, shape (B, K)
        The model's outputs, detached (the saliency is taken for their argmax).
    """
    saliency, logits = gradient_saliency(model, images)
    return wta_scanpath(saliency, steps=steps, radius=radius), logits
