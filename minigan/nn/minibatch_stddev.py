"""Minibatch standard deviation (Karras, Aila, Laine & Lehtinen 2018, ProGAN,
https://arxiv.org/abs/1710.10196, section 3): one more feature telling D how varied its batch is.

A collapsed generator makes a batch of near-copies; real batches vary. ProGAN
lets D measure that: split the batch into groups of ``G``, take each feature's
standard deviation over the group, average it into one number per group, and
append that number to every sample of the group as one more channel (feature).
ProGAN's ``minibatch_stddev_layer`` (networks.py), with a = x.reshape(G, M, F)::

    x: (N, C, H, W) or (N, F); G = min(group_size, N) must divide N; M = N / G groups
    a[g, m, :]    = x[g*M + m] flattened to F = C*H*W values     sample n sits in group n mod M
    d = a - mean_g a                       (G, M, F)   centred over the group
    s = sqrt(mean_g d^2 + 1e-8)            (M, F)      each feature's std (biased), never 0
    t = mean_f s                           (M,)        one number per group
    y = concat(x, t[n mod M] broadcast)    (N, C+1, H, W) or (N, F+1)

Backward, with dt[m] = the sum of dy's extra channel over the group's samples and pixels::

    ds[m, f] = dt[m] / F                          t is a mean over F features
    dv       = ds / (2 s)                         s = sqrt(v + eps)
    da       = dv * 2 d / G  - mean_g(...)        v = mean_g d^2, d = a - mean_g a; the centring term
             = dt[m] d / (F G s)                  is 0, because sum_g d = 0
    dx       = dy[:, :C] + da (reshaped)          x also passes straight through to y

Tangent (the change of y along x_dot; the same chain forwards)::

    t_dot[m] = mean_f (sum_g d a_dot) / (G s)     y_dot = concat(x_dot, t_dot broadcast)

The gradient penalties cannot go through this layer: its Jacobian changes with x
(it is not piecewise linear), so their exact gradient would need its second
derivative; they refuse it with a clear message (minigan/penalties.py).
"""
from __future__ import annotations

from ..backend import get_array_module
from .module import Module

EPS = 1e-8                                         # ProGAN's: sqrt(var + 1e-8)


class MinibatchStdDev(Module):
    """``(N, C, H, W) -> (N, C+1, H, W)`` and ``(N, F) -> (N, F+1)``: the group's mean std appended."""

    def __init__(self, group_size=4):
        super().__init__()
        if isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 1:
            raise ValueError(f"MinibatchStdDev: group_size must be an int >= 1, got {group_size!r}")
        self.group_size = group_size

    def groups(self, N: int) -> int:
        """G, the samples per group for a batch of N: ``min(group_size, N)``, which must divide N."""
        G = min(self.group_size, N)
        if N % G:
            raise ValueError(f"{self!r}: a batch of {N} does not split into groups of {G}: use a batch "
                             f"(after packing) that {G} divides")
        return G

    def forward(self, x):
        self.check_float(x)
        if x.ndim not in (2, 4):
            raise ValueError(f"{self!r}: expected (N, F) or (N, C, H, W), got {tuple(x.shape)}")
        xp = get_array_module(x)
        N, C = x.shape[:2]
        G = self.groups(N)
        a = x.reshape(G, N // G, -1)                             # (G, M, F): a[g, m] = x[g*M + m]
        d = a - a.mean(axis=0)                                   # (G, M, F) centred over the group
        s = xp.sqrt((d * d).mean(axis=0) + EPS)                  # (M, F) each feature's std
        t = s.mean(axis=1)                                       # (M,) one number per group
        self.cache = x.shape, d, s
        return self._append(x, t, G)

    def backward(self, dy):
        shape, d, s = self.check_backward(dy)
        N, C = shape[:2]
        G, M, F = d.shape
        dt = dy[:, C:].reshape(G, M, -1).sum(axis=(0, 2))        # (M,): t[m] feeds every pixel of its G samples
        da = (dt[:, None] / (F * G)) * d / s                     # (G, M, F): dt/F * d / (G s), centring term 0
        return dy[:, :C] + da.reshape(shape)                     # x also goes straight through

    def tangent(self, x_dot):
        shape, d, s = self.cache
        G, M, F = d.shape
        a_dot = x_dot.reshape(G, M, F)
        t_dot = ((d * a_dot).sum(axis=0) / (G * s)).mean(axis=1)   # (M,): mean_f of s_dot = sum_g d a_dot / (G s)
        return self._append(x_dot, t_dot, G)

    @staticmethod
    def _append(x, t, G):
        """``x`` with ``t[n mod M]`` appended as one more channel (feature) of every sample n."""
        xp = get_array_module(x)
        N = x.shape[0]
        extra = xp.broadcast_to(xp.tile(t, G).reshape(N, 1, *([1] * (x.ndim - 2))),
                                (N, 1, *x.shape[2:]))            # (N, 1, H, W) or (N, 1)
        return xp.concatenate([x, extra.astype(x.dtype, copy=False)], axis=1)

    def extra_repr(self):
        return f"group_size={self.group_size}"
