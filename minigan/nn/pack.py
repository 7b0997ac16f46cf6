"""Packing (PacGAN; Lin, Khetan, Fanti & Oh 2018, https://arxiv.org/abs/1712.04086): D judges ``m``
samples at once, so a generator that collapses is seen doing it.

    (N, F)       -> (N/m, m*F)            row r = x[r*m], x[r*m+1], ..., x[r*m+m-1], side by side
    (N, C, H, W) -> (N/m, m*C, H, W)      the m pictures' channels stacked, consecutive samples together

It is one reshape of the row-major array (``x.reshape(N // m, m * C, H, W)``): no
number changes, so backward is the inverse reshape, and so is nothing else::

    dx = dy.reshape(N, C, H, W)           tangent: x_dot.reshape(N // m, m * C, H, W)

The trainer keeps reals with reals and fakes with fakes: each batch goes through
D on its own, and D's first layer reads ``m`` times the channels (or features).
"""
from __future__ import annotations

from .module import Module


class Pack(Module):
    """``(N, F) -> (N/m, m*F)`` and ``(N, C, H, W) -> (N/m, m*C, H, W)``, consecutive samples together."""

    passes_none = True                                      # backward(None) is None

    def __init__(self, m):
        super().__init__()
        if isinstance(m, bool) or not isinstance(m, int) or m < 1:
            raise ValueError(f"Pack: m, the number of samples D judges together, must be an int >= 1; got {m!r}")
        self.m = m

    def forward(self, x):
        self.check_float(x)
        self.cache = x.shape
        return self._packed(x)

    def backward(self, dy):
        shape = self.check_backward(dy)
        return None if dy is None else dy.reshape(shape)    # the inverse reshape (None: no dL/dx wanted)

    def tangent(self, x_dot):
        return self._packed(x_dot)                          # linear: J x_dot is forward of x_dot

    def _packed(self, x):
        if x.ndim < 2:
            raise ValueError(f"{self!r}: expected (N, F) or (N, C, H, W), got {tuple(x.shape)}")
        N, C = x.shape[:2]
        if N % self.m:
            raise ValueError(f"{self!r}: a batch of {N} cannot be packed in groups of {self.m}: "
                             f"use a batch size that {self.m} divides")
        return x.reshape(N // self.m, self.m * C, *x.shape[2:])   # (N/m, m*C, ...)

    def extra_repr(self):
        return f"m={self.m}"
