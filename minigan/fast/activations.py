"""ReLU and LeakyReLU, fast: the same numbers as ``minigan/nn/activations.py``, on every core.

The plain layers write ``y = max(x, 0)`` and ``dx = dy * slope`` as one line
each. Here every output is an array made beforehand and written with
``out=``, so that each core can fill its share of the images
(``minigan/fast/cores.py``), and LeakyReLU is computed without a branch per
element: ``max(x, a*x)`` is ``x`` where ``x > 0`` and ``a*x`` elsewhere, for
``0 <= a <= 1`` (``min`` for ``a > 1``), written into the ``a*x`` array itself
(``xp.where`` and a third array were both slower: docs/performance.md).
Both keep the input's memory order, so NHWC-ordered activations stay NHWC.
"""
from __future__ import annotations

from ..backend import get_array_module
from .cores import on_cores


def relu_forward(x):
    """``x`` -> ``(y, positive)``: ``y = max(x, 0)`` and the mask ``x > 0`` backward needs."""
    xp = get_array_module(x)
    y, positive = xp.empty_like(x), xp.empty_like(x, dtype=bool)

    def relu(x, y, positive):                    # each core, its images
        xp.greater(x, 0, out=positive)
        xp.maximum(x, 0, out=y)
    on_cores(relu, x, y, positive)
    return y, positive


def relu_backward(dy, positive):
    """``dx = dy * positive``, each core its images."""
    xp = get_array_module(dy)
    dx = xp.empty_like(dy)
    on_cores(lambda dy, positive, dx: xp.multiply(dy, positive, out=dx), dy, positive, dx)
    return dx


def leaky_relu_forward(x, a):
    """``x`` -> ``(y, positive)``: ``y = x where x > 0 else a*x``, and the mask ``x > 0``."""
    xp = get_array_module(x)
    y, positive = xp.empty_like(x), xp.empty_like(x, dtype=bool)

    def leaky_relu(x, y, positive):              # each core, its images
        xp.greater(x, 0, out=positive)
        xp.multiply(x, a, out=y)
        if a <= 1:
            xp.maximum(y, x, out=y)              # max(a*x, x): x where x > 0, a*x elsewhere
        else:
            xp.minimum(y, x, out=y)
    on_cores(leaky_relu, x, y, positive)
    return y, positive


def leaky_relu_backward(dy, positive, a):
    """``dx = dy * slope``, the slope 1 where ``x > 0`` and ``a`` elsewhere, each core its images."""
    xp = get_array_module(dy)

    def leaky_relu_grad(dy, positive, dx):
        slope = positive.astype(dy.dtype)        # 1 where x > 0, else 0 ...
        slope *= 1 - a
        slope += a                               # ... then 1 or a
        xp.multiply(dy, slope, out=dx)
    dx = xp.empty_like(dy)
    on_cores(leaky_relu_grad, dy, positive, dx)
    return dx


__all__ = ["leaky_relu_backward", "leaky_relu_forward", "relu_backward", "relu_forward"]
