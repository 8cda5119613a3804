import numpy as np
import pytest
import torch
from torch import nn

from zoo.saliency import gradient_saliency, saliency_scanpaths, wta_scanpath

# Hand-made map: 9 is the global maximum; 8 is its neighbour and must be skipped by inhibition
# of return with radius 1.5 px (the 3x3 neighbourhood, diagonals included: 2 <= 1.5**2).
HAND_MAP = [
    [9, 8, 0, 0, 0],
    [0, 0, 0, 0, 7],
    [0, 0, 6, 0, 0],
    [0, 0, 0, 0, 0],
    [5, 0, 0, 0, 4],
]
# Worked by hand: (row, col) of each winner, then the pixel centre (col + 0.5, row + 0.5).
# Step 5: all non-zero pixels are used; the first uninhibited zero in row-major order is
# (0, 2): distance^2 to (0, 0) is 4 and to (1, 4) is 5, both above 2.25.
HAND_ORDER = [(0, 0), (1, 4), (2, 2), (4, 0), (4, 4), (0, 2)]


def test_wta_order_on_hand_made_map():
    sal = torch.tensor([HAND_MAP], dtype=torch.float32)
    got = wta_scanpath(sal, steps=6, radius=1.5)
    expected = [[c + 0.5, r + 0.5] for r, c in HAND_ORDER]
    assert got.shape == (1, 6, 2)
    np.testing.assert_array_equal(got[0].numpy(), expected)


def test_wta_without_inhibition_radius_zero_visits_in_value_order():
    sal = torch.tensor([HAND_MAP], dtype=torch.float32)
    got = wta_scanpath(sal, steps=7, radius=0.0)
    # Radius 0 inhibits only the winner itself, so the non-zero values come in value order.
    expected = [(0, 0), (0, 1), (1, 4), (2, 2), (4, 0), (4, 4), (0, 2)]
    np.testing.assert_array_equal(got[0].numpy(), [[c + 0.5, r + 0.5] for r, c in expected])


def test_wta_releases_inhibition_when_map_is_exhausted():
    sal = torch.tensor([[[1.0, 3.0], [2.0, 0.0]]])
    got = wta_scanpath(sal, steps=3, radius=10.0)  # every step inhibits the whole 2x2 map
    np.testing.assert_array_equal(got[0].numpy(), [[1.5, 0.5]] * 3)


def test_wta_batch_equals_one_map_at_a_time():
    gen = torch.Generator().manual_seed(0)
    maps = torch.rand(4, 9, 7, generator=gen)
    batch = wta_scanpath(maps, steps=5, radius=2.0)
    for i in range(4):
        torch.testing.assert_close(batch[i], wta_scanpath(maps[i : i + 1], 5, 2.0)[0])
    # the points lie on pixel centres inside the image
    assert ((batch[..., 0] > 0) & (batch[..., 0] < 7)).all()
    assert ((batch[..., 1] > 0) & (batch[..., 1] < 9)).all()


@pytest.mark.parametrize("kwargs", [{"steps": 0}, {"radius": -1.0}, {"radius": float("nan")}])
def test_wta_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        wta_scanpath(torch.zeros(1, 3, 3), **kwargs)


def test_gradient_saliency_of_linear_model_is_abs_weight_row():
    torch.manual_seed(0)
    b, c, h, w, k = 3, 2, 4, 5, 6
    model = nn.Sequential(nn.Flatten(), nn.Linear(c * h * w, k))
    images = torch.randn(b, c, h, w)
    sal, logits = gradient_saliency(model, images)
    pred = logits.argmax(1)
    # d logit_k / d x = W[k]: closed form, maximised over channels.
    weight = model[1].weight.detach().view(k, c, h, w)
    expected = weight[pred].abs().amax(dim=1)
    torch.testing.assert_close(sal, expected)
    torch.testing.assert_close(logits, model(images).detach())
    assert not images.requires_grad


def test_gradient_saliency_matches_finite_differences():
    torch.manual_seed(1)
    model = nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1), nn.Tanh(), nn.Flatten(), nn.Linear(3 * 4 * 4, 3),
    ).double()
    images = torch.randn(2, 1, 4, 4, dtype=torch.float64)
    target = torch.tensor([2, 0])
    sal, _ = gradient_saliency(model, images, target)
    eps = 1e-6
    fd = torch.empty(2, 4, 4, dtype=torch.float64)
    for n in range(2):
        for i in range(4):
            for j in range(4):
                up, down = images[n : n + 1].clone(), images[n : n + 1].clone()
                up[0, 0, i, j] += eps
                down[0, 0, i, j] -= eps
                diff = model(up)[0, target[n]] - model(down)[0, target[n]]
                fd[n, i, j] = (diff / (2 * eps)).abs()
    torch.testing.assert_close(sal, fd, rtol=1e-6, atol=1e-8)


def test_saliency_scanpaths_starts_at_the_saliency_maximum():
    torch.manual_seed(2)
    model = nn.Sequential(nn.Flatten(), nn.Linear(36, 4))
    images = torch.randn(5, 1, 6, 6)
    paths, logits = saliency_scanpaths(model, images, steps=3, radius=1.0)
    sal, _ = gradient_saliency(model, images)
    first = sal.view(5, -1).argmax(1)
    np.testing.assert_array_equal(paths[:, 0, 0].numpy(), (first % 6).numpy() + 0.5)
    np.testing.assert_array_equal(paths[:, 0, 1].numpy(), (first // 6).numpy() + 0.5)
    assert paths.shape == (5, 3, 2) and logits.shape == (5, 4)
