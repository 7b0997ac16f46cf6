"""Batch normalization (Ioffe & Szegedy, 2015, https://arxiv.org/abs/1502.03167).

Each channel is normalized with the mean and variance of the current batch,
then scaled and shifted by learned ``weight`` (gamma) and ``bias`` (beta)::

    mu    = mean(x)                      over the M values of the channel in the batch
    var   = mean((x - mu)^2)             biased (divides by M), as used to normalize
    x_hat = (x - mu) / sqrt(var + eps)
    y     = gamma * x_hat + beta

BatchNorm1d normalizes ``(N, C)`` over N; BatchNorm2d normalizes
``(N, C, H, W)`` over N, H and W. Both reduce to the same 2-D problem on rows
``(M, C)``, which :func:`batchnorm_rows_forward`/``_backward`` solve once.

The backward pass is the classic trap: mu and var depend on every x in the
batch, so dx is NOT simply ``dy * gamma / sqrt(var + eps)``. Summing the three
paths by which x_i reaches the loss (through x_hat_i directly, through mu and
through var) gives::

    dx = (1 / sqrt(var + eps)) * (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat))

where ``dx_hat = dy * gamma`` and the means are over the M rows.

``batchnorm_rows_forward``/``_backward`` below are those lines; the fast path
(``minigan/fast/batchnorm.py``, when :func:`minigan.fast.enabled`) computes the
same numbers in place, each core on its share of the rows.

Running statistics, for eval mode, follow PyTorch exactly::

    running_mean = (1 - momentum) * running_mean + momentum * mu
    running_var  = (1 - momentum) * running_var  + momentum * var * M / (M - 1)   (unbiased)
"""
from __future__ import annotations

import numpy as np

from .. import backend as B
from .. import fast
from ..fast import batchnorm as fast_batchnorm
from .module import Module


def batchnorm_rows_forward(x, gamma, beta, eps):
    """x: (M, C) -> y (M, C), and what backward needs: each column normalized, then scaled and shifted."""
    xp = B.get_array_module(x)
    mu = x.mean(axis=0)                                      # (C,) the mean of each column
    xc = x - mu                                              # (M, C) centred
    var = (xc * xc).mean(axis=0)                             # (C,) biased variance
    inv_std = 1.0 / xp.sqrt(var + eps)                       # (C,)
    x_hat = xc * inv_std                                     # (M, C) normalized
    y = gamma * x_hat + beta
    return y, mu, var, (x_hat, inv_std)


def batchnorm_rows_backward(dy, gamma, cache):
    """dy: (M, C) -> (dx, dgamma, dbeta) for batch statistics (see the module docstring)."""
    x_hat, inv_std = cache
    dbeta = dy.sum(axis=0)                                   # beta is added to every row
    dgamma = (dy * x_hat).sum(axis=0)                        # gamma scales x_hat
    dx_hat = dy * gamma                                      # (M, C)
    dx = inv_std * (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0))  # via x_hat, mu and var
    return dx, dgamma, dbeta


class _BatchNorm(Module):
    """Shared by BatchNorm1d and BatchNorm2d: they differ only in how rows are made."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, *, dtype=None):
        super().__init__()
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), float(momentum)
        dt = B.resolve_dtype(dtype)
        self.add_param("weight", np.ones(self.num_features, dtype=dt))    # gamma
        self.add_param("bias", np.zeros(self.num_features, dtype=dt))     # beta
        self.buffers["running_mean"] = np.zeros(self.num_features, dtype=dt)
        self.buffers["running_var"] = np.ones(self.num_features, dtype=dt)

    # subclasses: (N, C, ...) <-> (M, C) rows
    def to_rows(self, x):
        raise NotImplementedError

    def from_rows(self, rows, shape):
        raise NotImplementedError

    def forward(self, x):
        self.check_input(x, self.expected_shape)
        rows = self.to_rows(x)                                     # (M, C)
        gamma, beta = self.params["weight"], self.params["bias"]
        if self.training:
            M = rows.shape[0]
            if M < 2:
                raise ValueError(f"{self!r}: training mode needs more than 1 value per channel "
                                 f"to estimate a variance, got input {tuple(x.shape)}; use a batch of 2 or more")
            rows_forward = fast_batchnorm.rows_forward if fast.enabled() else batchnorm_rows_forward
            y, mu, var, cache = rows_forward(rows, gamma, beta, self.eps)
            m = self.momentum                                       # new = (1 - m) * old + m * batch
            rm, rv = self.buffers["running_mean"], self.buffers["running_var"]
            rm *= 1 - m
            rm += m * mu
            rv *= 1 - m
            rv += m * var * (M / (M - 1))                           # unbiased variance in the running estimate
            self.cache = ("train", cache, x.shape)
        else:
            xp = B.get_array_module(rows)
            inv_std = 1.0 / xp.sqrt(self.buffers["running_var"] + self.eps)
            x_hat = (rows - self.buffers["running_mean"]) * inv_std
            y = x_hat * gamma + beta
            self.cache = ("eval", (x_hat, inv_std), x.shape)
        return self.from_rows(y, x.shape)

    def backward(self, dy):
        mode, cache, shape = self.check_backward(dy)
        dy_rows = self.to_rows(dy)
        gamma = self.params["weight"]
        if mode == "train":
            rows_backward = fast_batchnorm.rows_backward if fast.enabled() else batchnorm_rows_backward
            dx, dgamma, dbeta = rows_backward(dy_rows, gamma, cache)
        else:                                                        # fixed statistics: a plain affine map
            x_hat, inv_std = cache
            dx = dy_rows * (gamma * inv_std)
            dgamma, dbeta = (dy_rows * x_hat).sum(axis=0), dy_rows.sum(axis=0)
        if self.requires_grad:
            self.grads["weight"] += dgamma
            self.grads["bias"] += dbeta
        return self.from_rows(dx, shape)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """``(N, C) -> (N, C)``, normalizing each feature over the batch."""

    @property
    def expected_shape(self):
        return ("N", self.num_features)

    def to_rows(self, x):
        return x

    def from_rows(self, rows, shape):
        return rows


class BatchNorm2d(_BatchNorm):
    """``(N, C, H, W) -> (N, C, H, W)``, normalizing each channel over N, H and W."""

    @property
    def expected_shape(self):
        return ("N", self.num_features, "H", "W")

    def to_rows(self, x):
        N, C, H, W = x.shape
        return x.transpose(0, 2, 3, 1).reshape(N * H * W, C)      # free for NHWC memory

    def from_rows(self, rows, shape):
        N, C, H, W = shape
        return rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)
