import pytest
import torch

from zoo.sensor import (
    extract_glimpses,
    extract_glimpses_reference,
    pad_images,
    patch_origin,
    read_glimpses,
    to_pixels,
)

EDGE_LOCATIONS = torch.tensor([[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [1.0, -1.0], [0.0, 0.0],
                               [1.0, 0.3], [-0.7, -1.0], [1.5, -2.0]], dtype=torch.float64)


def _images(b, c, h, w, seed=0):
    # Integer-valued float64 pixels: every average of 2**k pixels is exact, so results must
    # agree bit for bit whatever the summation order.
    g = torch.Generator().manual_seed(seed)
    return torch.randint(-128, 128, (b, c, h, w), generator=g).double()


@pytest.mark.parametrize("h, w", [(28, 28), (27, 31), (48, 48), (9, 10)])
@pytest.mark.parametrize("c", [1, 3])
@pytest.mark.parametrize("size, scales", [(8, 1), (8, 2), (5, 2), (4, 3), (7, 1), (1, 1)])
def test_matches_reference_loop(h, w, c, size, scales):
    g = torch.Generator().manual_seed(h * w + c)
    random = torch.rand(24, 2, generator=g, dtype=torch.float64) * 2 - 1
    locations = torch.cat([EDGE_LOCATIONS, random])
    images = _images(len(locations), c, h, w)
    got = extract_glimpses(images, locations, size, scales)
    assert got.shape == (len(locations), scales * c, size, size)
    assert got.dtype == torch.float64
    assert torch.equal(got, extract_glimpses_reference(images, locations, size, scales))


def test_real_valued_images_match_reference_closely():
    g = torch.Generator().manual_seed(3)
    images = torch.randn(16, 2, 28, 28, generator=g, dtype=torch.float64)
    locations = torch.rand(16, 2, generator=g, dtype=torch.float64) * 2 - 1
    torch.testing.assert_close(extract_glimpses(images, locations, 8, 2),
                               extract_glimpses_reference(images, locations, 8, 2),
                               rtol=1e-14, atol=1e-14)


def test_hand_sliced_patches():
    image = torch.arange(28 * 28, dtype=torch.float64).view(1, 1, 28, 28) + 1
    images = image.expand(3, 1, 28, 28)
    # centres: (14, 14) px -> top-left 10; (21, 7) px -> x0 17, y0 3; (0, 0) px -> -4.
    locations = torch.tensor([[0.0, 0.0], [0.5, -0.5], [-1.0, -1.0]], dtype=torch.float64)
    got = extract_glimpses(images, locations, size=8, scales=2)
    img = image[0, 0]
    assert torch.equal(got[0, 0], img[10:18, 10:18])
    assert torch.equal(got[1, 0], img[3:11, 17:25])
    corner = torch.zeros(8, 8, dtype=torch.float64)
    corner[4:, 4:] = img[:4, :4]
    assert torch.equal(got[2, 0], corner)
    # scale 1 at the centre: the 16x16 square from 6 to 22, each 2x2 block averaged.
    block = img[6:22, 6:22]
    expected = (block[0::2, 0::2] + block[1::2, 0::2] + block[0::2, 1::2] + block[1::2, 1::2]) / 4
    assert torch.equal(got[0, 1], expected)


def test_odd_image_rounds_half_up():
    # 27 px wide: l = 0 puts the centre at 13.5 px; 13.5 - 4 + 0.5 = 10 -> columns 10..17.
    image = torch.arange(27 * 27, dtype=torch.float64).view(1, 1, 27, 27)
    got = extract_glimpses(image, torch.zeros(1, 2, dtype=torch.float64), size=8)
    assert torch.equal(got[0, 0], image[0, 0, 10:18, 10:18])
    assert patch_origin(torch.zeros(1, 2), 27, 27, 8).tolist() == [[10, 10]]


def test_to_pixels():
    locations = torch.tensor([[[-1.0, -1.0], [1.0, 1.0], [0.0, 0.5]]])
    expected = torch.tensor([[[0.0, 0.0], [40.0, 30.0], [20.0, 22.5]]])  # (x, y) for W=40, H=30
    assert torch.equal(to_pixels(locations, height=30, width=40), expected)


def test_gradient_reaches_the_glimpsed_pixels_only():
    images = torch.zeros(2, 1, 28, 28, dtype=torch.float64, requires_grad=True)
    locations = torch.tensor([[0.0, 0.0], [0.5, -0.5]], dtype=torch.float64)
    extract_glimpses(images, locations, size=8, scales=2).sum().backward()
    expected = torch.zeros(2, 28, 28, dtype=torch.float64)
    expected[0, 6:22, 6:22] = 0.25  # scale 1: each pixel weighs 1/4
    expected[0, 10:18, 10:18] += 1.0  # scale 0
    # scale 1 at (21, 7) px: top-left (13, -1), clipped to rows 0..14 and columns 13..27.
    expected[1, 0:15, 13:28] = 0.25
    expected[1, 3:11, 17:25] += 1.0
    assert torch.equal(images.grad[:, 0], expected)


def test_float32_and_batch_independence():
    images = _images(5, 1, 28, 28).float()
    locations = torch.rand(5, 2) * 2 - 1
    full = extract_glimpses(images, locations, 8, 2)
    assert full.dtype == torch.float32
    for n in range(5):
        assert torch.equal(full[n:n + 1], extract_glimpses(images[n:n + 1], locations[n:n + 1],
                                                           8, 2))


def test_bad_input_raises():
    with pytest.raises(ValueError, match="locations"):
        extract_glimpses(torch.zeros(2, 1, 28, 28), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="images"):
        extract_glimpses(torch.zeros(28, 28), torch.zeros(1, 2))
    with pytest.raises(ValueError, match="scales"):
        extract_glimpses(torch.zeros(1, 1, 28, 28), torch.zeros(1, 2), scales=0)


def test_pad_value_fills_outside_the_image():
    images = torch.arange(16.0).view(1, 1, 4, 4)
    corner = torch.tensor([[-1.0, -1.0]])  # glimpse centred on the top-left corner
    padded = pad_images(images, size=4, scales=1, value=-7.0)
    patch = read_glimpses(padded, corner, 4, 4, size=4, scales=1)[0, 0]
    expected = torch.full((4, 4), -7.0)
    expected[2:, 2:] = images[0, 0, :2, :2]
    assert torch.equal(patch, expected)
