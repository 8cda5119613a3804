"""Glimpse sensor: square retina-like patches cut from images at normalised locations.

Coordinates
-----------
A location is ``(x, y)`` in ``[-1, 1]``, x to the right and y downwards (see
:class:`zoo.base.GlimpseOutput`). Pixel ``(row i, column j)`` covers ``[j, j+1) x [i, i+1)``
in continuous pixel coordinates, so the image spans ``[0, W] x [0, H]`` and the continuous
centre of a glimpse is ``c = ((l_x + 1) / 2 * W, (l_y + 1) / 2 * H)`` pixels
(:func:`to_pixels`). Locations outside ``[-1, 1]`` are clamped to it first.

Patch placement (the one rounding rule)
---------------------------------------
Scale ``i`` (0-based) reads a square of side ``s = size * 2**i`` pixels whose integer top-left
pixel is ``floor(c - s / 2 + 0.5)`` in each axis, i.e. the square ``[c - s/2, c + s/2)``
shifted to the nearest pixel grid (halves round up). With an even ``s`` and an integer centre
the patch is exactly centred; otherwise it is off by at most half a pixel. Pixels outside the
image read as zero. Scale ``i`` is then average-pooled by ``2**i`` down to ``size x size``.

The output stacks the scales along the channel axis, finest first:
``(B, scales * C, size, size)`` with channels ``[scale 0: C channels, scale 1: C channels, ...]``.

Models pad each batch once with :func:`pad_images` and then read one glimpse per step with
:func:`read_glimpses`; :func:`extract_glimpses` does both. :func:`extract_glimpses_reference`
is a plain per-image loop kept as the test reference and benchmark baseline.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def to_pixels(locations: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Continuous pixel centre of normalised locations.

    Parameters
    ----------
    locations : Tensor, shape (..., 2)
        ``(x, y)`` in ``[-1, 1]`` (not clamped here).
    height, width : int
        Image size in pixels.

    Returns
    -------
    Tensor, shape (..., 2)
        ``(x, y)`` in pixels, origin at the top-left image corner: ``-1`` maps to 0 and ``+1``
        to ``width`` (resp. ``height``); computed in at least float32 (bfloat16 arithmetic,
        3 significant digits, would move 8 % of the patches of bfloat16 locations by a pixel).
    """
    if locations.shape[-1] != 2:
        raise ValueError(f"locations: expected shape (..., 2), got {tuple(locations.shape)}")
    locations = locations.to(torch.promote_types(locations.dtype, torch.float32))
    x = (locations[..., 0] + 1) / 2 * width
    y = (locations[..., 1] + 1) / 2 * height
    return torch.stack((x, y), dim=-1)


def patch_origin(locations: torch.Tensor, height: int, width: int, side: int) -> torch.Tensor:
    """Integer top-left pixel ``(x0, y0)`` of the ``side x side`` patch at each location.

    Locations are clamped to ``[-1, 1]``; the rule is ``floor(c - side / 2 + 0.5)`` with ``c``
    from :func:`to_pixels`. Returns an int64 tensor of shape ``(..., 2)`` (may be negative or
    reach past the image: those pixels read as zero).
    """
    centre = to_pixels(locations.clamp(-1, 1), height, width)
    return torch.floor(centre - side / 2 + 0.5).long()


def _margin(size: int, scales: int) -> int:
    # Largest overhang of the biggest patch past an image edge (see patch_origin), in pixels:
    # side / 2 rounded up, as an odd side reaches one pixel further past the far edge.
    return (size * 2 ** (scales - 1) + 1) // 2


def _check_sensor(size: int, scales: int) -> None:
    if size < 1 or scales < 1:
        raise ValueError(f"glimpse size and scales must be >= 1, got size={size}, scales={scales}")


def pad_images(images: torch.Tensor, size: int = 8, scales: int = 1,
               value: float = 0.0) -> torch.Tensor:
    """Pad a batch once so that every glimpse of :func:`read_glimpses` is a plain gather.

    Parameters
    ----------
    images : Tensor, shape (B, C, H, W)
    size : int
        Glimpse side in pixels at the finest scale (default 8).
    scales : int
        Number of scales (default 1).
    value : float
        What pixels outside the image read as (default 0).

    Returns
    -------
    Tensor, shape (B, C, H + 2m, W + 2m)
        With the margin ``m = ceil(size * 2**(scales - 1) / 2)`` pixels on every side.
    """
    _check_sensor(size, scales)
    if images.dim() != 4:
        raise ValueError(f"images: expected shape (B, C, H, W), got {tuple(images.shape)}")
    m = _margin(size, scales)
    return F.pad(images, (m, m, m, m), value=value)


def read_glimpses(
    padded: torch.Tensor, locations: torch.Tensor, height: int, width: int,
    size: int = 8, scales: int = 1,
) -> torch.Tensor:
    """Glimpses from images padded by :func:`pad_images` with the same ``size`` and ``scales``.

    Parameters
    ----------
    padded : Tensor, shape (B, C, H + 2m, W + 2m)
    locations : Tensor, shape (B, 2)
        ``(x, y)`` in ``[-1, 1]``; clamped to it.
    height, width : int
        Size in pixels of the images *before* padding.
    size, scales : int
        As given to :func:`pad_images`.

    Returns
    -------
    Tensor, shape (B, scales * C, size, size)
        Differentiable with respect to ``padded`` (not to ``locations``).
    """
    b, c, hp, wp = padded.shape
    m = _margin(size, scales)
    if (hp, wp) != (height + 2 * m, width + 2 * m):
        raise ValueError(f"padded images: expected spatial size {(height + 2 * m, width + 2 * m)} "
                         f"for {height}x{width} images, got {(hp, wp)}")
    if locations.shape != (b, 2):
        raise ValueError(f"locations: expected shape ({b}, 2), got {tuple(locations.shape)}")
    flat = padded.flatten(2)
    out = []
    for i in range(scales):
        side = size * 2**i
        origin = patch_origin(locations, height, width, side) + m  # in padded pixels
        offsets = torch.arange(side, device=padded.device)
        rows = origin[:, 1:2] + offsets  # (B, side)
        cols = origin[:, 0:1] + offsets
        index = (rows[:, :, None] * wp + cols[:, None, :]).view(b, 1, side * side)
        patch = flat.gather(2, index.expand(b, c, side * side)).view(b, c, side, side)
        out.append(F.avg_pool2d(patch, 2**i) if i else patch)
    return torch.cat(out, dim=1) if scales > 1 else out[0]


def extract_glimpses(
    images: torch.Tensor, locations: torch.Tensor, size: int = 8, scales: int = 1,
) -> torch.Tensor:
    """Cut one multi-scale glimpse per image (vectorised over the batch).

    Parameters
    ----------
    images : Tensor, shape (B, C, H, W)
        Float images (any device and dtype).
    locations : Tensor, shape (B, 2)
        Glimpse centres ``(x, y)`` in ``[-1, 1]``; clamped to it.
    size : int
        Glimpse side in pixels at the finest scale (default 8).
    scales : int
        Number of scales (default 1); scale ``i`` covers ``size * 2**i`` pixels.

    Returns
    -------
    Tensor, shape (B, scales * C, size, size)
        See the module docstring for the placement rule and channel order.
    """
    padded = pad_images(images, size, scales)
    return read_glimpses(padded, locations, images.shape[2], images.shape[3], size, scales)


def extract_glimpses_reference(
    images: torch.Tensor, locations: torch.Tensor, size: int = 8, scales: int = 1,
) -> torch.Tensor:
    """Same result as :func:`extract_glimpses`, by an explicit loop over images and scales.

    Slow; kept as an independent reference for tests and as the benchmark baseline.
    """
    _check_sensor(size, scales)
    b, c, h, w = images.shape
    out = images.new_zeros(b, scales * c, size, size)
    for n in range(b):
        lx, ly = (min(max(v, -1.0), 1.0) for v in locations[n].tolist())
        for i in range(scales):
            side, k = size * 2**i, 2**i
            x0 = math.floor((lx + 1) / 2 * w - side / 2 + 0.5)
            y0 = math.floor((ly + 1) / 2 * h - side / 2 + 0.5)
            patch = images.new_zeros(c, side, side)
            xa, xb = max(x0, 0), min(x0 + side, w)
            ya, yb = max(y0, 0), min(y0 + side, h)
            if xa < xb and ya < yb:
                patch[:, ya - y0:yb - y0, xa - x0:xb - x0] = images[n, :, ya:yb, xa:xb]
            out[n, i * c:(i + 1) * c] = patch.view(c, size, k, size, k).mean(dim=(2, 4))
    return out
