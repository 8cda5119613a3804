"""The benchmarks' common baseline: a plain PyTorch RAM, written as public implementations are.

It follows the most-used public PyTorch RAM (kevinzakka/recurrent-visual-attention, MIT;
re-written here, not copied) with its RNN core swapped for ``nn.LSTMCell(256, 256)``, so that
it is like for like with :class:`zoo.models.ram.RAM` (same layer sizes, 44.7 MFLOP per image
forward + backward at 12 glimpses):

- *retina*: the image batch is zero-padded by half a patch at every glimpse and each image's
  8x8 patch is sliced out in a Python loop over the batch (``extract_patch``), then stacked;
- *glimpse network*: patch -> 128 and location -> 128 (ReLU), each -> 256, summed, ReLU;
- *core* ``LSTMCell(256, 256)``; *location network* ``tanh(fc(relu(fc(h.detach()))))``, a
  Gaussian sample (``torch.distributions.Normal``) detached and clamped; *baseline*
  ``fc(h.detach())``; *classifier* ``log_softmax(fc(h))`` after the last glimpse;
- loss: NLL + MSE baseline + 0.01 x REINFORCE with the baseline as control variate;
  optimiser: ``torch.optim.Adam`` with its defaults (on the CPU the per-parameter loop: not
  fused, not foreach).

Differences kept on purpose: the first location is drawn uniformly in [-1, 1]^2 as in the
public code (zoo's RAM learns it), and the policy std is zoo's 0.1 (the public default 0.05;
the cost does not depend on it).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Normal


class PeerRAM(nn.Module):
    """Reference RAM for 28x28 single-channel images (see the module docstring)."""

    def __init__(self, glimpses: int = 12, num_classes: int = 10, patch: int = 8,
                 hidden: int = 256, std: float = 0.1):
        super().__init__()
        self.glimpses, self.patch, self.hidden, self.std = glimpses, patch, hidden, std
        self.fc1 = nn.Linear(patch * patch, 128)  # what
        self.fc2 = nn.Linear(2, 128)  # where
        self.fc3 = nn.Linear(128, hidden)
        self.fc4 = nn.Linear(128, hidden)
        self.core = nn.LSTMCell(hidden, hidden)
        self.loc_fc = nn.Linear(hidden, 128)
        self.loc_mean = nn.Linear(128, 2)
        self.baseline = nn.Linear(hidden, 1)
        self.classifier = nn.Linear(hidden, num_classes)

    def extract_patch(self, x: torch.Tensor, loc: torch.Tensor) -> torch.Tensor:
        """The public retina: pad, then slice each image's patch in a loop over the batch."""
        size = self.patch
        start = (0.5 * ((loc + 1.0) * x.shape[-1])).long()
        end = start + size
        x = F.pad(x, (size // 2, size // 2, size // 2, size // 2))
        patches = [x[i, :, start[i, 1]:end[i, 1], start[i, 0]:end[i, 0]]
                   for i in range(x.shape[0])]
        return torch.stack(patches).flatten(1)

    def locate(self, h: torch.Tensor, sample: bool) -> tuple[torch.Tensor, torch.Tensor]:
        mean = torch.tanh(self.loc_mean(F.relu(self.loc_fc(h.detach()))))
        loc = (Normal(mean, self.std).rsample() if sample else mean).detach()
        return Normal(mean, self.std).log_prob(loc).sum(1), loc.clamp(-1, 1)

    def forward(self, x: torch.Tensor, sample: bool = True
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Log-probabilities of the classes (B, classes), log pi and baselines (B, T)."""
        batch = x.shape[0]
        loc = torch.empty(batch, 2, device=x.device).uniform_(-1, 1)
        h = c = x.new_zeros(batch, self.hidden)
        log_pis, baselines = [], []
        for _ in range(self.glimpses):
            what = F.relu(self.fc1(self.extract_patch(x, loc)))
            where = F.relu(self.fc2(loc))
            g = F.relu(self.fc3(what) + self.fc4(where))
            h, c = self.core(g, (h, c))
            log_pi, loc = self.locate(h, sample)
            log_pis.append(log_pi)
            baselines.append(self.baseline(h.detach()).squeeze(1))
        log_probas = F.log_softmax(self.classifier(h), dim=1)
        return log_probas, torch.stack(log_pis, 1), torch.stack(baselines, 1)


def peer_loss(model: PeerRAM, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The public training loss: NLL + baseline MSE + 0.01 x REINFORCE."""
    log_probas, log_pi, baselines = model(x)
    reward = (log_probas.detach().argmax(1) == y).float()[:, None].expand_as(baselines)
    reinforce = (-log_pi * (reward - baselines.detach())).sum(1).mean()
    return (F.nll_loss(log_probas, y) + F.mse_loss(baselines, reward) + 0.01 * reinforce)


def peer_step(batch: int, glimpses: int, device: torch.device):
    """A training step of a fresh :class:`PeerRAM` on a fixed random batch (unfused Adam),
    and its forward + backward alone (for FLOP counting)."""
    torch.manual_seed(0)
    model = PeerRAM(glimpses).to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-4, foreach=False, fused=False)
    images = torch.randn(batch, 1, 28, 28, device=device)
    labels = torch.randint(0, 10, (batch,), device=device)

    def forward_backward() -> None:
        peer_loss(model, images, labels).backward()

    def step() -> None:
        loss = peer_loss(model, images, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step, forward_backward


def peer_logits(glimpses: int, device: torch.device):
    """The peer's inference pass (policy mean, eval mode), ``images -> log-probabilities``."""
    torch.manual_seed(0)
    model = PeerRAM(glimpses).to(device).eval()
    return lambda images: model(images, sample=False)[0]
