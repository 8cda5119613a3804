"""MRAM (Pan, Yonekura & Kuniyoshi): the lower LSTM looks, the upper LSTM recognises.

The lower LSTM reads the glimpse and drives the location policy (the paper's Eq. 5, 7); the
upper LSTM reads the lower one's ``h`` and classifies (Eq. 6). The baseline is hybrid by default,
``b_t = f_b([h1 || h2])`` (Eq. 8, 512 -> 1); ``baseline="single"`` reads ``h1`` only.
1,163,661 parameters with the defaults (paper: 1.163M); 1,163,405 with the single baseline.
"""

from __future__ import annotations

import torch

from zoo.modules import State, TwoLayerModel
from zoo.registry import fixed_variant, register_model


class MRAM(TwoLayerModel):
    """Multi-level recurrent attention model.

    Parameters
    ----------
    baseline : {"hybrid", "single"}
        Baseline input ``[h1 || h2]`` (default) or ``h1``.
    **kwargs
        See :class:`zoo.modules.GlimpseModel`. The initial state is zero, so the first location
        is a learned constant.
    """

    name = "mram"

    def policy_state(self, state: State) -> torch.Tensor:
        return state[0]  # h1

    def action_state(self, state: State) -> torch.Tensor:
        return state[2]  # h2


@register_model
def mram(**kwargs) -> MRAM:
    return MRAM(**kwargs)


@register_model
def mram_single(**kwargs) -> MRAM:
    return fixed_variant(MRAM, "mram_single", kwargs, baseline="single")
