"""Random translation: shift each image by a few whole pixels, filling the uncovered border with 0.

DiffAugment's ``translation`` policy (Zhao et al. 2020, https://arxiv.org/abs/2006.10738).
For image n with drawn integer shifts ``(a, b) = (shift_h[n], shift_w[n])``::

    y[n, c, i, j] = x[n, c, i + a, j + b]    where 0 <= i + a < H and 0 <= j + b < W
                  = 0                         elsewhere (zero fill)

so a positive ``a`` moves the picture *up* by ``a`` rows (the reference code's convention:
it reads ``x_pad[i + a + 1]`` from an image padded with one row of zeros). Each shift is
drawn uniformly from the integers in ``[-s, s]``, ``s = int(size * ratio + 0.5)``: the
reference rounds ``size * ratio`` half up (``ratio = 0.125``: 28 -> 4, 32 -> 4, 64 -> 8).

The map is linear, and its adjoint is the opposite shift with zero fill::

    <T_a x, y> = sum_{i: 0 <= i+a < H} x[i + a] y[i] = sum_{k: 0 <= k-a < H} x[k] y[k - a] = <x, T_-a y>

so :func:`translate_backward` is :func:`translate` run with ``-a, -b`` (as a transposed
convolution is a convolution run backwards). It needs no cached input, only the shifts.
"""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module


def max_shift(size: int, ratio: float = 0.125) -> int:
    """The largest shift along an axis of ``size`` pixels: ``size * ratio`` rounded half up."""
    return int(size * ratio + 0.5)


def draw_translation(rng: np.random.Generator, N: int, H: int, W: int, ratio: float = 0.125) -> dict:
    """Per-image shifts, drawn on the host: ``{"shift_h": (N,) int64, "shift_w": (N,) int64}``."""
    sh, sw = max_shift(H, ratio), max_shift(W, ratio)
    return {"shift_h": rng.integers(-sh, sh + 1, size=N), "shift_w": rng.integers(-sw, sw + 1, size=N)}


def translate(x, shift_h, shift_w):
    """``(N, C, H, W) -> (N, C, H, W)``: ``y[n, :, i, j] = x[n, :, i + shift_h[n], j + shift_w[n]]``, 0 outside.

    ``shift_h``, ``shift_w``: ``(N,)`` integer arrays on ``x``'s device. Any shift is allowed,
    also ``|shift| >= size`` (the image is then all zeros). One gather, no loop over the batch.
    """
    xp = get_array_module(x)
    N, C, H, W = x.shape
    rows = xp.arange(H)[None, :] + shift_h[:, None]              # (N, H): the source row of each output row
    cols = xp.arange(W)[None, :] + shift_w[:, None]              # (N, W): the source column
    inside = (((rows >= 0) & (rows < H))[:, None, :, None]       # (N, 1, H, W): the source pixel exists
              & ((cols >= 0) & (cols < W))[:, None, None, :])
    n = xp.arange(N)[:, None, None, None]
    c = xp.arange(C)[None, :, None, None]
    gathered = x[n, c, xp.clip(rows, 0, H - 1)[:, None, :, None],   # (N, C, H, W); clipped indices only
                 xp.clip(cols, 0, W - 1)[:, None, None, :]]          # read *something*: masked next
    return xp.where(inside, gathered, 0)                         # zero fill


def translate_backward(dy, shift_h, shift_w):
    """dL/dx of :func:`translate`: the opposite shift with zero fill (the adjoint, see the module doc)."""
    return translate(dy, -shift_h, -shift_w)                     # dx[k] = dy[k - a] where 0 <= k - a < H


def translate_naive(x, shift_h, shift_w):
    """:func:`translate` as a loop over the images with plain slices: the oracle for the fast version.

    NumPy only. For image n with shifts ``(a, b)`` the output rows ``i`` whose source ``i + a``
    exists are ``max(0, -a) <= i < min(H, H - a)``; likewise the columns.
    """
    N, C, H, W = x.shape
    y = np.zeros_like(x)
    for n in range(N):
        a, b = int(shift_h[n]), int(shift_w[n])
        i0, j0 = max(0, -a), max(0, -b)
        i1, j1 = max(i0, min(H, H - a)), max(j0, min(W, W - b))   # empty when |shift| >= size
        y[n, :, i0:i1, j0:j1] = x[n, :, i0 + a:i1 + a, j0 + b:j1 + b]
    return y
