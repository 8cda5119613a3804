"""RAM (Mnih et al. 2014): one LSTM reads the glimpses, chooses locations and classifies.

Glimpse network -> ``LSTMCell(256, 256)``; location policy, baseline (256 -> 1) and action
head all read its ``h``. 637,069 parameters with the defaults (paper: 0.637M).
"""

from __future__ import annotations

import torch
from torch import nn

from zoo.modules import Baseline, GlimpseModel, State
from zoo.registry import register_model


class RAM(GlimpseModel):
    """Recurrent attention model; arguments as in :class:`zoo.modules.GlimpseModel`.

    The initial state is zero, so the first location is a learned constant.
    """

    name = "ram"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.core = nn.LSTMCell(self.hidden, self.hidden)
        self.baseline = Baseline(self.hidden)

    def initial_state(self, images: torch.Tensor) -> State:
        zeros = images.new_zeros(images.shape[0], self.hidden)
        return zeros, zeros  # h, c

    def update(self, g: torch.Tensor, state: State) -> State:
        return self.core(g, state)

    def policy_state(self, state: State) -> torch.Tensor:
        return state[0]

    def action_state(self, state: State) -> torch.Tensor:
        return state[0]


@register_model
def ram(**kwargs) -> RAM:
    return RAM(**kwargs)
