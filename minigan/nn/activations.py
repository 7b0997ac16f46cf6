"""Elementwise nonlinearities. Each backward is one product: ``dx = dy * f'(x)``.

Each layer caches the cheapest thing its derivative can be written in: ReLU
and LeakyReLU keep the sign mask, Tanh and Sigmoid keep their *output* (their
derivatives are functions of it). Elementwise ops keep the memory layout of
their input, so NHWC-ordered activations stay NHWC. ReLU and LeakyReLU write
into arrays made beforehand (``out=``), so that each core can fill its share of
the images (``minigan/fast/cores.py``); Tanh and Sigmoid, on G's and D's small
outputs, run in one piece.

ReLU and LeakyReLU also have a ``tangent(x_dot)`` (the second-order pass of
``minigan/penalties.py``): the change of y along x_dot. Their Jacobian is
diagonal, so ``J x_dot`` is the same product as backward's ``J^T dy``: the
cached slope times x_dot. Tanh and Sigmoid have none: their slope changes
with x, so a gradient penalty through them would need their second derivative.
"""
from __future__ import annotations

from ..backend import get_array_module
from ..fast.cores import on_cores
from .module import Module


class ReLU(Module):
    """``(N, *) -> (N, *)``, the same shape: ``y = max(x, 0)``; ``dy/dx = 1 where x > 0 else 0``."""

    def forward(self, x):
        self.check_float(x)
        xp = get_array_module(x)
        y, positive = xp.empty_like(x), xp.empty_like(x, dtype=bool)   # x's memory order (NHWC stays NHWC)

        def relu(x, y, positive):                   # each core, its images (minigan/fast/cores.py)
            xp.greater(x, 0, out=positive)          # 1 byte per value is all backward needs
            xp.maximum(x, 0, out=y)
        on_cores(relu, x, y, positive)
        self.cache = positive
        return y

    def backward(self, dy):
        positive = self.check_backward(dy)
        xp = get_array_module(dy)
        dx = xp.empty_like(dy)
        on_cores(lambda dy, positive, dx: xp.multiply(dy, positive, out=dx), dy, positive, dx)
        return dx                                   # dy * positive: the gradient passes only where the unit was on

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
        xp, a = get_array_module(x), self.negative_slope
        y, positive = xp.empty_like(x), xp.empty_like(x, dtype=bool)   # x's memory order

        def leaky_relu(x, y, positive):             # each core, its images (minigan/fast/cores.py)
            xp.greater(x, 0, out=positive)
            # max(x, a*x) is x where x > 0 and a*x elsewhere, for 0 <= a <= 1 (min for a > 1);
            # no branch per element (xp.where is ~3x slower here), and written into the a*x
            # array itself instead of a third one (1.6x faster on a 16 MB activation).
            xp.multiply(x, a, out=y)
            if a <= 1:
                xp.maximum(y, x, out=y)
            else:
                xp.minimum(y, x, out=y)
        on_cores(leaky_relu, x, y, positive)
        self.cache = positive
        return y

    def backward(self, dy):
        positive = self.check_backward(dy)
        xp, a = get_array_module(dy), self.negative_slope

        def leaky_relu_grad(dy, positive, dx):
            slope = positive.astype(dy.dtype)       # the local slope: 1 where x > 0, else a
            slope *= 1 - a
            slope += a
            xp.multiply(dy, slope, out=dx)          # dx = dy * slope
        dx = xp.empty_like(dy)
        on_cores(leaky_relu_grad, dy, positive, dx)
        return dx

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
