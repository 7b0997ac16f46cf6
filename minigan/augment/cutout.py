"""Random cutout: zero one rectangle of each image (DeVries & Taylor 2017), placed at random.

DiffAugment's ``cutout`` policy (Zhao et al. 2020, https://arxiv.org/abs/2006.10738).
The rectangle is ``size_h x size_w`` pixels, ``size = int(H * ratio + 0.5)`` (``ratio = 0.5``:
half the image, 28 -> 14, 5 -> 3), the same for every image of the batch. Image n's rectangle
covers the rows ``top <= i < top + size_h``, ``top = centre_h[n] - size_h // 2``, cut at the
border; likewise the columns. The centre is drawn as the reference code draws it: uniform on
``0 .. H - (size_h % 2)`` (an even size may stick out by half at either border, an odd one
stays centred on a pixel of the image). The reference clamps each cut row into ``[0, H - 1]``;
since every rectangle overlaps the image, that is the same set of pixels as cutting it at the border.

With the 0/1 mask ``m[n, 0, i, j]`` (0 inside the rectangle)::

    y = x * m            dL/dx = dL/dy * m

a diagonal linear map is its own adjoint, so backward multiplies by the same mask. It needs
no cached input, only the rectangles (the mask is rebuilt from them: a few comparisons).
"""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module


def cutout_size(size: int, ratio: float = 0.5) -> int:
    """The rectangle's extent along an axis of ``size`` pixels: ``size * ratio`` rounded half up."""
    return int(size * ratio + 0.5)


def draw_cutout(rng: np.random.Generator, N: int, H: int, W: int, ratio: float = 0.5) -> dict:
    """Per-image rectangle centres, drawn on the host, and the shared size.

    ``{"centre_h": (N,) int64, "centre_w": (N,) int64, "size_h": int, "size_w": int}``.
    """
    size_h, size_w = cutout_size(H, ratio), cutout_size(W, ratio)
    return {"centre_h": rng.integers(0, H + 1 - size_h % 2, size=N),
            "centre_w": rng.integers(0, W + 1 - size_w % 2, size=N),
            "size_h": size_h, "size_w": size_w}


def cutout_mask(centre_h, centre_w, size_h: int, size_w: int, H: int, W: int):
    """``(N, 1, H, W)`` boolean mask, False inside image n's rectangle, True where the image is kept.

    ``centre_h``, ``centre_w``: ``(N,)`` integer arrays; the mask lives on their device.
    """
    xp = get_array_module(centre_h)
    top = (centre_h - size_h // 2)[:, None]                      # (N, 1): first cut row (may be < 0)
    left = (centre_w - size_w // 2)[:, None]
    rows, cols = xp.arange(H)[None, :], xp.arange(W)[None, :]
    cut_rows = (rows >= top) & (rows < top + size_h)             # (N, H)
    cut_cols = (cols >= left) & (cols < left + size_w)           # (N, W)
    cut = cut_rows[:, :, None] & cut_cols[:, None, :]            # (N, H, W): inside the rectangle
    return ~cut[:, None]                                         # (N, 1, H, W), broadcast over channels


def cutout(x, centre_h, centre_w, size_h: int, size_w: int):
    """``(N, C, H, W) -> (N, C, H, W)``: ``x`` with each image's rectangle set to 0 (all channels)."""
    N, C, H, W = x.shape
    keep = cutout_mask(centre_h, centre_w, size_h, size_w, H, W)
    return x * keep                                              # y = x * m


def cutout_backward(dy, centre_h, centre_w, size_h: int, size_w: int):
    """dL/dx of :func:`cutout`: ``dy * m``, the same mask (a diagonal map is its own adjoint)."""
    N, C, H, W = dy.shape
    keep = cutout_mask(centre_h, centre_w, size_h, size_w, H, W)
    return dy * keep                                             # dy_ij/dx_ij = m_ij, nothing else
