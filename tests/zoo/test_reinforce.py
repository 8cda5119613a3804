import math

import pytest
import torch

from zoo.base import GlimpseOutput
from zoo.reinforce import hybrid_loss


def _tiny_output():
    # B = 2 images, C = 3 classes, T = 2 glimpses.
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 3.0]], dtype=torch.float64,
                          requires_grad=True)
    baselines = torch.tensor([[0.5, 0.25], [0.5, -0.5]], dtype=torch.float64,
                             requires_grad=True)
    log_probs = torch.tensor([[-1.0, -2.0], [-0.5, 1.0]], dtype=torch.float64,
                             requires_grad=True)
    locations = torch.zeros(2, 2, 2, dtype=torch.float64)
    return GlimpseOutput(logits, locations, locations.clone(), log_probs, baselines)


def test_against_hand_computation():
    out = _tiny_output()
    targets = torch.tensor([0, 1])  # image 0 right (R=1), image 1 wrong (argmax 2, R=0)
    ce = ((math.log(math.exp(2) + 2) - 2) + (math.log(1 + math.e + math.exp(3)) - 1)) / 2
    mse = ((0.5 - 1) ** 2 + (0.25 - 1) ** 2 + 0.5**2 + 0.5**2) / 4  # = 0.328125
    # sum_t (R - b_t) log pi_t: image 0: 0.5*-1 + 0.75*-2 = -2; image 1: -0.5*-0.5 + 0.5*1 = 0.75
    reinforce = -(-2 + 0.75) / 2  # = 0.625
    for alpha in (0.01, 0.5):
        loss = hybrid_loss(out, targets, alpha=alpha)
        assert set(loss) == {"total", "classification", "baseline", "reinforce", "reward"}
        assert loss["classification"].item() == pytest.approx(ce, rel=1e-12)
        assert loss["baseline"].item() == pytest.approx(0.328125, rel=1e-12)
        assert loss["reinforce"].item() == pytest.approx(0.625, rel=1e-12)
        assert loss["reward"].item() == 0.5 and not loss["reward"].requires_grad
        assert loss["total"].item() == pytest.approx(ce + mse + alpha * reinforce, rel=1e-12)


def test_gradients_of_each_term():
    out = _tiny_output()
    targets = torch.tensor([0, 1])
    loss = hybrid_loss(out, targets)
    # REINFORCE: d/d log_pi = -(R - b) / B, and nothing reaches the baselines (b detached)
    g_logp, g_b = torch.autograd.grad(loss["reinforce"], [out.log_probs, out.baselines],
                                      allow_unused=True, retain_graph=True)
    torch.testing.assert_close(g_logp, torch.tensor([[-0.25, -0.375], [0.25, -0.25]],
                                                    dtype=torch.float64))
    assert g_b is None
    # baseline MSE: d/db = 2 (b - R) / (B T), nothing to the policy
    g_b, g_logp = torch.autograd.grad(loss["baseline"], [out.baselines, out.log_probs],
                                      allow_unused=True, retain_graph=True)
    torch.testing.assert_close(g_b, torch.tensor([[-0.25, -0.375], [0.25, -0.25]],
                                                 dtype=torch.float64))
    assert g_logp is None
    # classification reaches the logits only
    g_logits, g_b, g_logp = torch.autograd.grad(
        loss["classification"], [out.logits, out.baselines, out.log_probs], allow_unused=True)
    assert g_b is None and g_logp is None and g_logits.abs().sum() > 0


def test_shape_mismatch_raises():
    out = _tiny_output()
    with pytest.raises(ValueError, match="targets"):
        hybrid_loss(out, torch.tensor([0, 1, 2]))
