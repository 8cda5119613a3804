"""DRAM (Ba, Mnih & Kavukcuoglu 2015): the lower LSTM recognises, the upper LSTM looks.

The lower LSTM reads the glimpse and classifies; the upper LSTM reads the lower one's ``h`` and
drives the location policy and the baseline (256 -> 1 on ``h2``; ``baseline="hybrid"`` reads
``[h1 || h2]``, 512 -> 1). With ``context=True`` a small CNN on the image down-sampled by 2
sets the upper LSTM's initial ``h2`` (its ``c2`` starts at zero), so the first location
depends on the image.

Context network (the paper does not give its layers; sized to match its 1.985M total):

=====================================  ==========  ===========================
layer                                  output      parameters (channels=1)
=====================================  ==========  ===========================
AvgPool2d(2) (down-sample by 2)        C x 14x14   0
Conv2d(C, 32, 3, padding=1) + ReLU     32 x 14x14  320
Conv2d(32, 64, 3, padding=1) + ReLU    64 x 14x14  18,496
AdaptiveAvgPool2d(7)                   64 x 7x7    0
Linear(3136, 256) + output             256         803,072
=====================================  ==========  ===========================

Sizes are for 28x28 inputs; on 48x48 (FER2013) the down-sampled image is 24x24 and the adaptive
pooling still gives 7x7, so the count does not depend on the image size. Totals with the
defaults: 821,888 (context) + 1,163,405 = 1,985,293 parameters (paper: 1.985M); without context
1,163,405 (paper: 1.163M).

The context output (``context_output``) is ``"tanh"``, which keeps ``h2`` in the (-1, 1) range
of an LSTM output, or ``"layernorm"``, a parameter-free LayerNorm that cannot saturate. The
context network and the upper LSTM learn from ``alpha`` * REINFORCE alone; Adam rescales those
small gradients to full-size steps, and with ``tanh`` every context unit saturates within a few
epochs (Fashion-MNIST: pre-tanh median |z| about 9.5), after which no gradient flows and the
first glimpses are the same for every image (``analysis/dram_remedy.py`` measures it).
Checkpoints that predate the option were trained with ``tanh``
(:data:`zoo.registry.LEGACY_KWARGS`).
"""

from __future__ import annotations

import torch
from torch import nn

from zoo.modules import State, TwoLayerModel
from zoo.registry import fixed_variant, register_model


class DRAM(TwoLayerModel):
    """Deep recurrent attention model.

    Parameters
    ----------
    context : bool
        Initialise ``h2`` from the context CNN (default True); else zeros, so the first
        location is a learned constant.
    context_output : {"tanh", "layernorm"}
        Output of the context network (default ``"tanh"``); see the module docstring.
    baseline : {"single", "hybrid"}
        Baseline input ``h2`` (default) or ``[h1 || h2]``.
    **kwargs
        See :class:`zoo.modules.GlimpseModel`.
    """

    name = "dram"

    def __init__(self, context: bool = True, baseline: str = "single",
                 context_output: str = "tanh", **kwargs):
        super().__init__(baseline=baseline, **kwargs)
        outputs = {"tanh": nn.Tanh, "layernorm": lambda: nn.LayerNorm(self.hidden,
                                                                       elementwise_affine=False)}
        if context_output not in outputs:
            raise ValueError(f"DRAM: context_output must be 'tanh' or 'layernorm', "
                             f"got {context_output!r}")
        self.config.update(context=context, context_output=context_output)
        self.context = nn.Sequential(
            nn.AvgPool2d(2),
            nn.Conv2d(self.channels, 32, 3, padding=1), nn.ReLU(),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(7), nn.Flatten(),
            nn.Linear(64 * 7 * 7, self.hidden), outputs[context_output](),
        ) if context else None
        self.image_dependent_start = context


    def initial_state(self, images: torch.Tensor) -> State:
        h1, c1, h2, c2 = super().initial_state(images)
        return h1, c1, (h2 if self.context is None else self.context(images)), c2

    def policy_state(self, state: State) -> torch.Tensor:
        return state[2]  # h2

    def action_state(self, state: State) -> torch.Tensor:
        return state[0]  # h1


@register_model
def dram(**kwargs) -> DRAM:
    return DRAM(**kwargs)


@register_model
def dram_nocontext(**kwargs) -> DRAM:
    return fixed_variant(DRAM, "dram_nocontext", kwargs, context=False)


@register_model
def dram_hybrid(**kwargs) -> DRAM:
    return fixed_variant(DRAM, "dram_hybrid", kwargs, baseline="hybrid")
