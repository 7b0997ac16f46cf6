"""Shape-only layers: they move no numbers, and their backward undoes the reshape.

Their ``tangent`` (the penalties' second-order pass) reshapes the direction as forward reshapes x.
"""
from __future__ import annotations

from .module import Module


class Flatten(Module):
    """``(N, d1, d2, ...) -> (N, d1*d2*...)``, like ``torch.nn.Flatten()``."""

    passes_none = True                            # backward(None) is None: no dL/dx wanted upstream

    def forward(self, x):
        if getattr(x, "ndim", 0) < 1:
            raise ValueError(f"{self!r}: expected an array with a batch axis, got {getattr(x, 'shape', type(x))}")
        self.cache = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy):
        shape = self.check_backward(dy)
        return None if dy is None else dy.reshape(shape)

    def tangent(self, x_dot):
        return x_dot.reshape(x_dot.shape[0], -1)


class Reshape(Module):
    """``(N, ...) -> (N, *shape)``: e.g. ``Reshape(C, H, W)`` turns features into an image."""

    passes_none = True

    def __init__(self, *shape):
        super().__init__()
        if not shape or not all(isinstance(s, int) and s > 0 for s in shape):
            raise ValueError(f"Reshape: give the per-sample shape as positive ints, e.g. Reshape(64, 7, 7); got {shape}")
        self.shape = tuple(shape)

    def forward(self, x):
        N = x.shape[0]
        per_sample = x.size // max(N, 1)
        want = 1
        for s in self.shape:
            want *= s
        if per_sample != want:
            raise ValueError(f"{self!r}: input {tuple(x.shape)} has {per_sample} values per sample, "
                             f"cannot reshape to (N, {', '.join(map(str, self.shape))}) = {want}")
        self.cache = x.shape
        return x.reshape(N, *self.shape)

    def backward(self, dy):
        shape = self.check_backward(dy)
        return None if dy is None else dy.reshape(shape)

    def tangent(self, x_dot):
        return x_dot.reshape(x_dot.shape[0], *self.shape)

    def extra_repr(self):
        return ", ".join(map(str, self.shape))
