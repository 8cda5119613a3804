"""Building blocks shared by the glimpse models (RAM, DRAM, MRAM) and their common step loop.

Layer sizes follow the parameter arithmetic that reproduces the paper's counts (glimpse
network 74,752; location network 33,154; one-layer baseline 257 or 513 parameters).

Gradient routing (a choice; the paper does not spell it out): glimpse locations are sampled and
detached, so the classification loss never reaches the location policy; the REINFORCE term
reaches the policy through the Gaussian mean *and* the recurrent state(s) it reads (as in the
original RAM/DRAM, where the policy-gradient term is taken with respect to every parameter
upstream of the policy; DRAM's upper LSTM and context network learn from it alone); the
baseline reads a detached state, so its MSE trains the baseline layer only.

Two of these choices are open knobs of :class:`GlimpseModel` (the paper leaves them open; the
defaults keep the behaviour above, and a model built from ``model_kwargs`` without them, as in
older checkpoints, behaves exactly as before):

- ``detach_policy_state=True``: the location policy reads a *detached* state, so REINFORCE
  trains the location head only, never the LSTM core(s) (as in the most-used public PyTorch
  RAM). DRAM's upper LSTM and context network then get no gradient at all.
- ``first_location="random"``: the first glimpse is drawn uniformly in ``[-1, 1]^2`` instead of
  by the policy (:func:`random_first_locations`).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from zoo.base import GlimpseOutput
from zoo.sensor import pad_images, read_glimpses

State = tuple[torch.Tensor, ...]

#: How the first glimpse is placed (``GlimpseModel(first_location=...)``).
FIRST_LOCATIONS = ("learned", "random")
#: Seed of the per-pixel weights of the image hash behind evaluation's random first locations.
FIRST_LOCATION_SEED = 0
_PRIME = 2_147_483_647  # 2**31 - 1: products of two residues stay within int64


def _hash_weights(features: int, seed: int = FIRST_LOCATION_SEED) -> torch.Tensor:
    """Fixed weights (features, 2) in [1, 2**31 - 1) of :func:`image_uniforms`, on the CPU."""
    generator = torch.Generator(device="cpu").manual_seed(seed)
    return torch.randint(1, _PRIME, (features, 2), generator=generator, device="cpu")


def image_uniforms(images: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Two numbers in (0, 1) per image, a fixed function of the image's float32 values.

    A universal hash: the bits of each float32 pixel, reduced modulo the prime ``p = 2**31 -
    1``, are weighted by fixed random residues (``weights``, (C*H*W, 2) from
    :func:`_hash_weights`) and summed modulo ``p`` in exact integer arithmetic, so the result
    does not depend on the batch, the image's position in it or the order of summation. Over
    different images the numbers are uniform; equal images get equal numbers.

    Parameters
    ----------
    images : Tensor, shape (B, C, H, W)
    weights : Tensor of int64, shape (C*H*W, 2)

    Returns
    -------
    Tensor, shape (B, 2), float64
    """
    bits = images.detach().float().flatten(1).contiguous().view(torch.int32).to(torch.int64)
    residues = bits.remainder(_PRIME)  # (B, D) in [0, p)
    h = (residues[:, :, None] * weights.to(residues.device)).remainder(_PRIME).sum(1)
    return (h.remainder(_PRIME).double() + 0.5) / _PRIME


def random_first_locations(images: torch.Tensor, sample: bool) -> torch.Tensor:
    """First glimpse locations drawn uniformly in ``[-1, 1]^2``, shape (B, 2).

    With ``sample`` (training, sampled exports) they come from torch's global generator, which
    the training seed sets and a resumed run restores. Without it (validation, evaluation,
    policy-mean exports) each image's location is :func:`image_uniforms` of the image
    (``2 u - 1``): seeded per image by its content, so two evaluations give identical scanpaths
    and accuracy whatever the batch size or order, and the same test image gets the same first
    glimpse in every model. No random number is drawn then, so evaluation leaves the training
    run's generator untouched. The hash weights are made on each call (16 bytes per pixel,
    from :data:`FIRST_LOCATION_SEED`), not stored with the model.

    >>> x = torch.randn(5, 1, 28, 28)
    >>> torch.equal(random_first_locations(x, False)[2:3], random_first_locations(x[2:3], False))
    True
    """
    if sample:
        u = torch.rand(images.shape[0], 2, device=images.device, dtype=images.dtype)
    else:
        u = image_uniforms(images, _hash_weights(images[0].numel())).to(images.dtype)
    return 2 * u - 1


def check_images(images: torch.Tensor, channels: int, image_size: Sequence[int], who: str) -> None:
    """Raise ``ValueError`` unless ``images`` is a float batch of shape (B, channels, H, W)."""
    expected = (channels, *image_size)
    if images.dim() != 4 or tuple(images.shape[1:]) != expected or not images.is_floating_point():
        shape = ", ".join(map(str, expected))
        raise ValueError(f"{who}: expected float images of shape (B, {shape}), "
                         f"got {images.dtype} {tuple(images.shape)}")


class GlimpseNetwork(nn.Module):
    """Glimpse feature ``g_t`` from a patch and its location (the paper's Eq. 1).

    ``g = relu(W_what relu(W_p patch) + W_where relu(W_l l))``: patch -> ``hidden`` and
    location (2) -> ``hidden``, each with ReLU, then each linearly to ``out`` and summed.

    Parameters
    ----------
    size : int
        Glimpse side in pixels (default 8).
    scales : int
        Number of scales stacked in the patch (default 1).
    channels : int
        Image channels (default 1).
    hidden : int
        Width of the "what" and "where" layers (default 128).
    out : int
        Output features (default 256).
    """

    def __init__(self, size: int = 8, scales: int = 1, channels: int = 1, hidden: int = 128,
                 out: int = 256):
        super().__init__()
        self.fc_patch = nn.Linear(scales * channels * size * size, hidden)
        self.fc_loc = nn.Linear(2, hidden)
        self.fc_what = nn.Linear(hidden, out)
        self.fc_where = nn.Linear(hidden, out)

    def forward(self, patch: torch.Tensor, location: torch.Tensor) -> torch.Tensor:
        """Map patches (B, scales*C, size, size) and locations (B, 2) to features (B, out)."""
        what = F.relu(self.fc_patch(patch.flatten(1)))
        where = F.relu(self.fc_loc(location))
        return F.relu(self.fc_what(what) + self.fc_where(where))


class LocationPolicy(nn.Module):
    """Gaussian glimpse-location policy with a fixed standard deviation.

    Mean ``tanh(W_2 relu(W_1 h))`` (``hidden -> 128 -> 2``). The std is a constant, not learned;
    the paper leaves it open. The default 0.1 normalised units is 5% of the image side, i.e.
    1.4 px on a 28-px image (sigma in pixels = ``std * W / 2``).

    Parameters
    ----------
    hidden : int
        Features of the state the policy reads (default 256).
    std : float
        Standard deviation in normalised ``[-1, 1]`` units (default 0.1).
    """

    def __init__(self, hidden: int = 256, std: float = 0.1):
        super().__init__()
        if not std > 0:
            raise ValueError(f"LocationPolicy: std must be > 0, got {std}")
        self.std = float(std)
        self._log_norm = math.log(self.std) + 0.5 * math.log(2 * math.pi)
        self.fc = nn.Linear(hidden, 128)
        self.fc_mean = nn.Linear(128, 2)

    def forward(self, h: torch.Tensor, sample: bool = True
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Choose a location from state ``h`` (B, hidden).

        Returns
        -------
        location : Tensor, shape (B, 2)
            Detached; ``mean + std * eps`` when ``sample`` else the mean, clamped to [-1, 1].
        mean : Tensor, shape (B, 2)
            Policy mean in (-1, 1).
        log_prob : Tensor, shape (B,)
            ``log N(x | mean, std^2)`` of the unclamped choice ``x``, summed over x and y. The
            choice is detached (no reparameterisation), so gradients reach the policy only
            through ``mean``: the score-function (REINFORCE) estimator.
        """
        hidden = F.relu(self.fc(h))
        if torch.is_autocast_enabled(h.device.type):  # mixed precision: locations in float32
            with torch.autocast(h.device.type, enabled=False):
                mean = torch.tanh(self.fc_mean(hidden.float()))
        else:
            mean = torch.tanh(self.fc_mean(hidden))
        x = (mean + self.std * torch.randn_like(mean)).detach() if sample else mean.detach()
        log_prob = ((x - mean) ** 2 / (-2 * self.std**2) - self._log_norm).sum(-1)
        return x.clamp(-1, 1), mean, log_prob


class Baseline(nn.Module):
    """Reward baseline ``b_t``: a single linear layer to a scalar.

    The paper calls ``f_b`` a small MLP, but its parameter counts (0.637M RAM, 1.163M MRAM) only
    add up with one linear layer (257 parameters for 256 inputs, 513 for the hybrid 512); a
    512->128->1 MLP would make MRAM 1.229M. We follow the counts.
    """

    def __init__(self, in_features: int):
        super().__init__()
        self.fc = nn.Linear(in_features, 1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """Map states (B, in_features) to baselines (B,)."""
        return self.fc(h).squeeze(-1)


class GlimpseModel(nn.Module, ABC):
    """Common parts and step loop of the recurrent glimpse models.

    Per step ``t = 0..T-1``: the policy reads the state *before* glimpse ``t`` and gives
    ``l_t``; the baseline ``b_t`` reads the same moment's (detached) state; the glimpse at
    ``l_t`` then updates the recurrent core. Logits come from the final state (``y_T``).

    Subclasses add ``self.baseline`` and their core(s), and define :meth:`initial_state`,
    :meth:`update` and which state feeds the policy, baseline and action head.

    Parameters
    ----------
    num_classes : int
        Number of classes (default 10).
    glimpses : int
        Glimpses per image, ``T`` (default 12).
    size : int
        Glimpse side in pixels at the finest scale (default 8).
    scales : int
        Glimpse scales; scale ``i`` covers ``size * 2**i`` px (default 1).
    channels : int
        Image channels (default 1).
    image_size : (int, int)
        ``(H, W)`` in pixels of the images the model accepts (default (28, 28)).
    hidden : int
        LSTM units and glimpse-feature size (default 256).
    std : float
        Location-policy standard deviation, normalised units (default 0.1).
    pad_value : float
        What pixels outside the image read as, in the units of the model's input (default 0).
        :mod:`zoo.train` sets it to ``-mean / std`` of the training set, so that the glimpse
        sees black (intensity 0) beyond the border of a normalised image.
    first_location : {"learned", "random"}
        ``"learned"`` (default): the policy places the first glimpse too (from the initial
        state: a learned constant unless that state depends on the image, as DRAM's context
        makes it). ``"random"``: it is drawn uniformly in ``[-1, 1]^2``
        (:func:`random_first_locations`: from the seeded global generator when sampling,
        seeded per image otherwise). A random first glimpse is no choice of the policy: it has
        no log-probability term (``log_probs[:, 0]`` is 0, so REINFORCE ignores it) and its
        ``means[:, 0]`` is the drawn location itself.
    detach_policy_state : bool
        Let the location policy read a detached state, so that REINFORCE trains the location
        head only and no policy gradient reaches the LSTM core(s) (default False: it reaches
        them; see the module docstring).

    Examples
    --------
    >>> import zoo
    >>> model = zoo.create_model("ram", glimpses=3, first_location="random")
    >>> out = model(torch.randn(4, 1, 28, 28), sample=False)
    >>> out.log_probs[:, 0].abs().sum().item()
    0.0
    """

    has_glimpses = True
    name = "glimpse"
    #: Whether the state before the first glimpse depends on the image (DRAM's context
    #: network); if not, the first location is a learned constant by design.
    image_dependent_start = False

    def __init__(self, num_classes: int = 10, glimpses: int = 12, size: int = 8, scales: int = 1,
                 channels: int = 1, image_size: Sequence[int] = (28, 28), hidden: int = 256,
                 std: float = 0.1, pad_value: float = 0.0, first_location: str = "learned",
                 detach_policy_state: bool = False):
        super().__init__()
        if first_location not in FIRST_LOCATIONS:
            raise ValueError(f"{type(self).__name__}: first_location must be one of "
                             f"{', '.join(FIRST_LOCATIONS)}, got {first_location!r}")
        if not isinstance(detach_policy_state, bool):
            raise ValueError(f"{type(self).__name__}: detach_policy_state must be True or "
                             f"False, got {detach_policy_state!r}")
        image_size = [int(v) for v in image_size]
        if len(image_size) != 2 or min(image_size) < 1:
            raise ValueError(f"{type(self).__name__}: image_size must be (H, W) > 0, "
                             f"got {image_size}")
        if min(num_classes, glimpses, size, scales, channels, hidden) < 1:
            raise ValueError(f"{type(self).__name__}: num_classes, glimpses, size, scales, "
                             "channels and hidden must be >= 1")
        self.glimpses, self.size, self.scales = glimpses, size, scales
        self.channels, self.image_size, self.hidden = channels, image_size, hidden
        self.pad_value = float(pad_value)
        self.config = dict(num_classes=num_classes, glimpses=glimpses, size=size, scales=scales,
                           channels=channels, image_size=image_size, hidden=hidden, std=std,
                           pad_value=self.pad_value, first_location=first_location,
                           detach_policy_state=detach_policy_state)
        self.random_first = first_location == "random"
        self.detach_policy_state = detach_policy_state
        self.glimpse_net = GlimpseNetwork(size, scales, channels, hidden=128, out=hidden)
        self.policy = LocationPolicy(hidden, std)
        self.action = nn.Linear(hidden, num_classes)

    @abstractmethod
    def initial_state(self, images: torch.Tensor) -> State:
        """Recurrent state before the first glimpse."""

    @abstractmethod
    def update(self, g: torch.Tensor, state: State) -> State:
        """Next state after the glimpse features ``g`` (B, hidden)."""

    @abstractmethod
    def policy_state(self, state: State) -> torch.Tensor:
        """The (B, hidden) state the location policy reads."""

    @abstractmethod
    def action_state(self, state: State) -> torch.Tensor:
        """The (B, hidden) state the action head reads after the last glimpse."""

    def baseline_state(self, state: State) -> torch.Tensor:
        """The state the baseline reads; by default the policy's."""
        return self.policy_state(state)

    def _locate(self, images: torch.Tensor, state: State, step: int, sample: bool
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Location, policy mean and log-probability of glimpse ``step`` (see the knobs)."""
        if step == 0 and self.random_first:
            location = random_first_locations(images, sample)
            return location, location, images.new_zeros(images.shape[0])
        h = self.policy_state(state)
        return self.policy(h.detach() if self.detach_policy_state else h, sample)

    def forward(self, images: torch.Tensor, sample: bool = True) -> GlimpseOutput:
        """Take ``T`` glimpses of each image and classify it.

        Parameters
        ----------
        images : Tensor, shape (B, channels, H, W)
            Normalised images; pixels outside the image read as ``pad_value``.
        sample : bool
            Sample locations from the policy (training) or use its mean (default True).
        """
        check_images(images, self.channels, self.image_size, type(self).__name__)
        height, width = self.image_size
        padded = pad_images(images, self.size, self.scales, self.pad_value)
        state = self.initial_state(images)
        locations, means, log_probs, baselines = [], [], [], []
        for step in range(self.glimpses):
            location, mean, log_prob = self._locate(images, state, step, sample)
            baselines.append(self.baseline(self.baseline_state(state).detach()))
            patch = read_glimpses(padded, location, height, width, self.size, self.scales)
            state = self.update(self.glimpse_net(patch, location), state)
            locations.append(location)
            means.append(mean)
            log_probs.append(log_prob)
        return GlimpseOutput(
            logits=self.action(self.action_state(state)),
            locations=torch.stack(locations, 1),
            means=torch.stack(means, 1),
            log_probs=torch.stack(log_probs, 1),
            baselines=torch.stack(baselines, 1),
        )


class TwoLayerModel(GlimpseModel):
    """Two stacked LSTM cells: the lower one reads the glimpse, the upper one the lower's ``h``.

    Parameters
    ----------
    baseline : {"single", "hybrid"}
        ``"single"``: ``b_t`` from the state the policy reads (256 -> 1); ``"hybrid"``: from
        ``[h1 || h2]`` (512 -> 1), the paper's Eq. 8.
    **kwargs
        See :class:`GlimpseModel`.
    """

    def __init__(self, baseline: str = "hybrid", **kwargs):
        super().__init__(**kwargs)
        if baseline not in ("single", "hybrid"):
            raise ValueError(f"{type(self).__name__}: baseline must be 'single' or 'hybrid', "
                             f"got {baseline!r}")
        self.config["baseline"] = baseline
        self.hybrid = baseline == "hybrid"
        self.lower = nn.LSTMCell(self.hidden, self.hidden)
        self.upper = nn.LSTMCell(self.hidden, self.hidden)
        self.baseline = Baseline(2 * self.hidden if self.hybrid else self.hidden)

    def initial_state(self, images: torch.Tensor) -> State:
        zeros = images.new_zeros(images.shape[0], self.hidden)
        return zeros, zeros, zeros, zeros  # h1, c1, h2, c2

    def update(self, g: torch.Tensor, state: State) -> State:
        h1, c1 = self.lower(g, state[:2])
        return (h1, c1, *self.upper(h1, state[2:]))

    def baseline_state(self, state: State) -> torch.Tensor:
        return torch.cat((state[0], state[2]), 1) if self.hybrid else self.policy_state(state)
