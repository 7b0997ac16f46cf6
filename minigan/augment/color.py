"""Random colour: brightness, then saturation, then contrast, each with its own factor per image.

DiffAugment's ``color`` policy (Zhao et al. 2020, https://arxiv.org/abs/2006.10738). With
``r ~ U(0, 1)`` drawn afresh for each image and each of the three maps::

    brightness:  y = x + b                  b = r - 0.5   in [-0.5, 0.5)
    saturation:  y = (x - m_c) * s + m_c    s = 2 r       in [0, 2)       m_c: mean over C    (N, 1, H, W)
    contrast:    y = (x - m)   * k + m      k = r + 0.5   in [0.5, 1.5)   m: mean over C, H, W (N, 1, 1, 1)

Saturation pulls each pixel's channels towards (s < 1) or away from (s > 1) their grey
value m_c; contrast pulls every value towards (k < 1) or away from (k > 1) the image's mean.
With one channel m_c = x, so saturation is the identity there.

The backward passes. Brightness adds a constant: ``dx = dy``. Saturation and contrast have the
form ``y = k x + (1 - k) mean(x)``, where the mean, taken over a set S of M entries, depends on
x too: d mean/dx_j = 1/M for each j in S. So for j in S::

    dL/dx_j = sum_i dL/dy_i dy_i/dx_j = k dy_j + (1 - k) sum_{i in S} dy_i / M = k dy_j + (1 - k) mean_S(dy)

the same map applied to dy (it is symmetric: ``k I + (1 - k) 11^T / M``). None of the three
backward passes needs the input x, only the factors.
"""
from __future__ import annotations

import numpy as np


def draw_color(rng: np.random.Generator, N: int) -> dict:
    """Per-image factors, drawn on the host in this order: ``{"brightness", "saturation", "contrast"}``, each (N,)."""
    return {"brightness": rng.random(N) - 0.5,     # b = r - 0.5
            "saturation": rng.random(N) * 2,       # s = 2 r
            "contrast": rng.random(N) + 0.5}       # k = r + 0.5


def adjust_brightness(x, b):
    """``(N, C, H, W)``: ``y = x + b[n]``."""
    return x + b[:, None, None, None]


def adjust_brightness_backward(dy, b):
    return dy                                                    # dy/dx = 1


def adjust_saturation(x, s):
    """``(N, C, H, W)``: ``y = (x - m_c) s[n] + m_c``, ``m_c`` the mean over channels of each pixel."""
    m = x.mean(axis=1, keepdims=True)                            # (N, 1, H, W)
    return (x - m) * s[:, None, None, None] + m


def adjust_saturation_backward(dy, s):
    s = s[:, None, None, None]
    return dy * s + dy.mean(axis=1, keepdims=True) * (1 - s)     # dx = s dy + (1 - s) mean_c(dy): the mean's share


def adjust_contrast(x, k):
    """``(N, C, H, W)``: ``y = (x - m) k[n] + m``, ``m`` the mean of image n over C, H, W."""
    m = x.mean(axis=(1, 2, 3), keepdims=True)                    # (N, 1, 1, 1)
    return (x - m) * k[:, None, None, None] + m


def adjust_contrast_backward(dy, k):
    k = k[:, None, None, None]
    return dy * k + dy.mean(axis=(1, 2, 3), keepdims=True) * (1 - k)   # dx = k dy + (1 - k) mean_chw(dy)


def color(x, brightness, saturation, contrast):
    """``(N, C, H, W) -> (N, C, H, W)``: the three maps in the reference code's order. Factors ``(N,)``."""
    x = adjust_brightness(x, brightness)
    x = adjust_saturation(x, saturation)
    return adjust_contrast(x, contrast)


def color_backward(dy, brightness, saturation, contrast):
    """dL/dx of :func:`color`: the three backward passes in reverse order (the chain rule)."""
    dy = adjust_contrast_backward(dy, contrast)
    dy = adjust_saturation_backward(dy, saturation)
    return adjust_brightness_backward(dy, brightness)
