"""Elementwise nonlinearities. Each backward is one product: ``dx = dy * f'(x)``.

Each layer caches the cheapest thing its derivative can be written in: ReLU
and LeakyReLU keep the sign mask, Tanh and Sigmoid keep their *output* (their
derivatives are functions of it). Elementwise ops keep the memory layout of
their input, so NHWC-ordered activations stay NHWC. ReLU and LeakyReLU, on
the large activations inside G and D, have a fast path
(``minigan/fast/activations.py``: the same numbers, every core filling its
share of the images) taken when :func:`minigan.fast.enabled`.

ReLU and LeakyReLU also have a ``tangent(x_dot)`` (the second-order pass of
``minigan/penalties.py``): the change of y along x_dot. Their Jacobian is
diagonal, so ``J x_dot`` is the same product as backward's ``J^T dy``: the
cached slope times x_dot. Tanh and Sigmoid have none: their slope changes
with x, so a gradient penalty through them would need their second derivative.
"""
from __future__ import annotations

from .. import fast
from ..backend import get_array_module
from ..fast import activations as fast_activations
from .module import Module


class ReLU(Module):
    """``(N, *) -> (N, *)``, the same shape: ``y = max(x, 0)``; ``dy/dx = 1 where x > 0 else 0``."""

    def forward(self, x):
        self.check_float(x)
        if fast.enabled():
            y, self.cache = fast_activations.relu_forward(x)       # the same numbers, on every core
            return y
        xp = get_array_module(x)
        self.cache = x > 0                          # 1 byte per value is all backward needs
        return xp.maximum(x, 0)

    def backward(self, dy):
        positive = self.check_backward(dy)
        if fast.enabled():
            return fast_activations.relu_backward(dy, positive)
        return dy * positive                        # the gradient passes only where the unit was on

    def tangent(self, x_dot):
        return self.backward(x_dot)                 # y_dot = mask * x_dot: diagonal J, so J x_dot = J^T x_dot


class LeakyReLU(Module):
    """``(N, *) -> (N, *)``, the same shape: ``y = x if x > 0 else slope * x``; ``dy/dx = 1 or slope``.

    DCGAN's D uses slope 0.2.
    """

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, x):
        self.check_float(x)
        if fast.enabled():
            y, self.cache = fast_activations.leaky_relu_forward(x, self.negative_slope)
            return y
        xp = get_array_module(x)
        self.cache = x > 0
        return xp.where(self.cache, x, self.negative_slope * x)

    def backward(self, dy):
        positive = self.check_backward(dy)
        if fast.enabled():
            return fast_activations.leaky_relu_backward(dy, positive, self.negative_slope)
        xp = get_array_module(dy)
        return xp.where(positive, dy, self.negative_slope * dy)   # dx = dy * slope: 1 where x > 0, else a

    def tangent(self, x_dot):
        return self.backward(x_dot)                 # y_dot = slope * x_dot: diagonal J, so J x_dot = J^T x_dot

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Tanh(Module):
    """``(N, *) -> (N, *)``, the same shape: ``y = tanh(x)`` in (-1, 1), the generator's output.

    ``dy/dx = 1 - y^2``.
    """

    def forward(self, x):
        self.check_float(x)
        y = get_array_module(x).tanh(x)
        self.cache = y
        return y

    def backward(self, dy):
        y = self.check_backward(dy)
        return dy * (1 - y * y)                     # d tanh(u)/du = 1 - tanh(u)^2, from the cached output


class Sigmoid(Module):
    """``(N, *) -> (N, *)``, the same shape: ``y = 1 / (1 + exp(-x))`` in (0, 1), the discriminator's
    probability. ``dy/dx = y (1 - y)``.

    Computed stably: ``exp`` only ever sees ``-|x|``, so it never overflows.
    (The textbook ``exp(x) / (1 + exp(x))`` gives inf/inf = NaN at x = 1000, and
    ``1 / (1 + exp(-x))`` an overflow warning at x = -1000.)
    """

    def forward(self, x):
        self.check_float(x)
        y = sigmoid(x)
        self.cache = y
        return y

    def backward(self, dy):
        y = self.check_backward(dy)
        return dy * y * (1 - y)                     # d sigma(u)/du = sigma(u) (1 - sigma(u))


def sigmoid(x):
    """Numerically stable logistic function: any shape -> the same shape."""
    xp = get_array_module(x)
    e = xp.exp(-xp.abs(x))                          # in (0, 1]: never overflows
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))
