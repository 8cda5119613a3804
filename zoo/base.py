"""What every glimpse model returns, so that training, evaluation and export share one code path."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class GlimpseOutput:
    """Result of one forward pass of a hard-attention model over ``T`` glimpses.

    Locations are normalised image coordinates in ``[-1, 1]``: ``(x, y)`` with x to the right
    and y downwards, ``-1`` the left/top image edge and ``+1`` the right/bottom edge. Pixel
    coordinates are ``(l + 1) / 2 * size`` (see :func:`zoo.sensor.to_pixels`).

    Attributes
    ----------
    logits : Tensor, shape (B, C)
        Class scores after the last glimpse (the paper's ``y_T``).
    locations : Tensor, shape (B, T, 2)
        Centres of the glimpses actually taken (sampled in training, the policy mean when
        ``sample=False``), clamped to ``[-1, 1]``; detached from the graph.
    means : Tensor, shape (B, T, 2)
        Mean of the Gaussian location policy for each glimpse.
    log_probs : Tensor, shape (B, T)
        ``log pi(l_t | h_{t-1})`` of each taken location under the policy; its gradient reaches
        the location head and every parameter upstream of the state it reads (see
        :mod:`zoo.modules`).
    baselines : Tensor, shape (B, T)
        Reward baseline ``b_t`` for each glimpse, from the same state that chose ``l_t``.
    """

    logits: torch.Tensor
    locations: torch.Tensor
    means: torch.Tensor
    log_probs: torch.Tensor
    baselines: torch.Tensor
