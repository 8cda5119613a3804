"""The hybrid loss shared by every glimpse model (the paper's Eq. 9 and 10).

Reward ``R`` is 1 when the final prediction ``argmax y_T`` is right and 0 otherwise; it comes
once, after the last glimpse, and counts for every step ``t``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from zoo.base import GlimpseOutput


def hybrid_loss(out: GlimpseOutput, targets: torch.Tensor,
                alpha: float = 0.01) -> dict[str, torch.Tensor]:
    """Classification + baseline + ``alpha`` * REINFORCE (Eq. 10).

    Parameters
    ----------
    out : GlimpseOutput
        A glimpse model's forward pass over ``B`` images and ``T`` glimpses.
    targets : Tensor of int, shape (B,)
        Class labels.
    alpha : float
        Weight of the REINFORCE term (default 0.01, the paper's value).

    Returns
    -------
    dict of str to scalar Tensor
        ``classification``: cross-entropy of ``out.logits`` (``y_T``) against ``targets``
        (mean over the batch); trains the action head and, through the states, the cores and
        glimpse network.
        ``baseline``: mean over batch and steps of ``(b_t - R)^2``; fits ``b_t`` to the
        expected reward (Sec. 3.3).
        ``reinforce``: Eq. 9 averaged over the batch, ``-mean_B sum_t (R - b_t) log pi(l_t)``
        with ``b_t`` detached, so it trains only what ``log pi`` depends on.
        ``reward``: mean ``R`` (detached), i.e. the batch accuracy.
        ``total``: ``classification + baseline + alpha * reinforce``.
    """
    b, t = out.log_probs.shape
    if out.baselines.shape != (b, t) or out.logits.shape[0] != b or targets.shape != (b,):
        raise ValueError(
            f"hybrid_loss: expected logits (B, C), log_probs and baselines (B, T), targets (B,); "
            f"got logits {tuple(out.logits.shape)}, log_probs {tuple(out.log_probs.shape)}, "
            f"baselines {tuple(out.baselines.shape)}, targets {tuple(targets.shape)}")
    classification = F.cross_entropy(out.logits, targets)
    reward = (out.logits.detach().argmax(1) == targets).to(out.baselines.dtype)
    baseline = F.mse_loss(out.baselines, reward[:, None].expand(b, t))
    advantage = reward[:, None] - out.baselines.detach()
    reinforce = -(advantage * out.log_probs).sum(1).mean()
    return {
        "total": classification + baseline + alpha * reinforce,
        "classification": classification,
        "baseline": baseline,
        "reinforce": reinforce,
        "reward": reward.mean(),
    }
