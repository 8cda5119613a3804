"""LeNet-5 (LeCun et al. 1998), the whole-image CNN baseline. It has no glimpses.

conv 5x5 (C -> 6, padding 2) + ReLU, pool 2, conv 5x5 (6 -> 16) + ReLU, pool 2, then
``16*h*w -> 120 -> 84 -> num_classes`` with ReLU between. On 28x28 the flattened features are
16x5x5 = 400 and the model has 61,706 parameters for 10 classes (paper: 0.061M).

On 48x48 (FER2013, 7 classes) the features are 16x10x10 = 1,600, so the first linear layer
grows to 192,120 and the model has 205,451 parameters. The paper reports 0.158M there without
giving its layers; no standard LeNet-5 variant we checked gives it (without the first layer's
padding: 168,971), so its FER network differs in a way the text does not say.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from zoo.modules import check_images
from zoo.registry import register_model


class LeNet5(nn.Module):
    """LeNet-5 classifier.

    Parameters
    ----------
    num_classes : int
        Number of classes (default 10).
    channels : int
        Image channels (default 1).
    image_size : (int, int)
        ``(H, W)`` in pixels, at least 12 each (default (28, 28)).
    pool : {"avg", "max"}
        Sub-sampling layers: average pooling as in the original (default) or max pooling.
    """

    has_glimpses = False
    name = "cnn"

    def __init__(self, num_classes: int = 10, channels: int = 1,
                 image_size: Sequence[int] = (28, 28), pool: str = "avg"):
        super().__init__()
        image_size = [int(v) for v in image_size]
        if len(image_size) != 2 or min(image_size) < 12:
            raise ValueError(f"LeNet5: image_size must be (H, W) with both >= 12 px, "
                             f"got {image_size}")
        pools = {"avg": nn.AvgPool2d, "max": nn.MaxPool2d}
        if pool not in pools:
            raise ValueError(f"LeNet5: pool must be 'avg' or 'max', got {pool!r}")
        self.channels, self.image_size = channels, image_size
        self.config = dict(num_classes=num_classes, channels=channels, image_size=image_size,
                           pool=pool)
        fh, fw = ((v // 2 - 4) // 2 for v in image_size)  # after conv-pool-conv-pool
        self.features = nn.Sequential(
            nn.Conv2d(channels, 6, 5, padding=2), nn.ReLU(), pools[pool](2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), pools[pool](2), nn.Flatten(),
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * fh * fw, 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, num_classes),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits (B, num_classes) of normalised images (B, channels, H, W)."""
        check_images(images, self.channels, self.image_size, "LeNet5")
        return self.classifier(self.features(images))


@register_model
def cnn(**kwargs) -> LeNet5:
    return LeNet5(**kwargs)
