"""Spectral normalization (Miyato et al. 2018, https://arxiv.org/abs/1802.05957).

A layer's weight is divided by its largest singular value, so the layer can
stretch no input by more than a factor 1 (it is 1-Lipschitz): a critic built
from such layers and 1-Lipschitz activations cannot have steep gradients. The
singular value is estimated by one step of power iteration per training
forward pass, continuing from the vectors of the previous step::

    W_mat = W with axis `dim` first, as (rows, cols)     dim = 1 for ConvTranspose2d, else 0
    v     = normalize(W_mat^T u)                          (cols,)   normalize(a) = a / max(|a|, eps)
    u     = normalize(W_mat v)                            (rows,)
    sigma = u^T W_mat v                                   ~ the largest singular value of W_mat
    W_sn  = W / sigma                                     the weight the layer computes with

Backward treats u and v as constants (as PyTorch does): with
``sigma = u^T W v``, ``d sigma / dW = u v^T``, and for any upstream ``dW_sn``::

    dL/dW = dW_sn / sigma - <dW_sn, W> / sigma^2 * u v^T
          = (dW_sn - <dW_sn, W_sn> u v^T) / sigma

Same semantics and names as ``torch.nn.utils.spectral_norm``: ``params["weight"]``
is PyTorch's ``weight_orig``, ``buffers["u"]`` and ``buffers["v"]`` its
``weight_u`` and ``weight_v``. In eval mode u and v stay as they are.
"""
from __future__ import annotations

import numpy as np

from .. import backend as B
from ..backend import get_array_module
from .conv2d import Conv2d
from .conv_transpose2d import ConvTranspose2d
from .linear import Linear
from .maxout import Maxout
from .module import Module


def weight_matrix(W, dim):
    """``W`` with axis ``dim`` moved first, as a (rows, cols) matrix (a view where possible)."""
    if dim != 0:
        W = W.swapaxes(0, dim)
    return W.reshape(W.shape[0], -1)


def matrix_to_weight(M, shape, dim):
    """The inverse of :func:`weight_matrix`: a (rows, cols) matrix back to the weight's ``shape``."""
    moved = list(shape)
    moved[0], moved[dim] = moved[dim], moved[0]
    M = M.reshape(moved)
    return M.swapaxes(0, dim) if dim != 0 else M


def normalize(a, eps):
    """``a / max(||a||, eps)``, PyTorch's ``F.normalize(a, dim=0, eps=eps)`` for a vector."""
    xp = get_array_module(a)
    return a / xp.maximum(xp.sqrt((a * a).sum()), eps)


class SpectralNorm(Module):
    """``SpectralNorm(layer)``: ``layer`` (Conv2d, ConvTranspose2d, Linear or Maxout) computing with ``W / sigma(W)``.

    A Maxout's weight stacks all its pieces' rows, and the layer stays 1-Lipschitz under ``W / sigma``:
    each unit's change is at most its largest piece's, so ``|y(x) - y(x')|^2 <= |W_sn (x - x')|^2``.

    Shapes are the wrapped layer's. The wrapper is one leaf module: its
    ``params`` are ``weight`` (unnormalized, PyTorch's ``weight_orig``) and the
    layer's ``bias`` if it has one, its ``buffers`` are ``u`` (rows,) and ``v``
    (cols,). For each pass it lends ``W_sn`` to the wrapped layer, which does
    the convolution or product; this class adds only the normalization.
    """

    def __init__(self, layer, n_power_iterations=1, eps=1e-12, *, rng=None):
        super().__init__()
        if not isinstance(layer, (Conv2d, ConvTranspose2d, Linear, Maxout)):   # Maxout: its stacked pieces' matrix
            raise TypeError(f"SpectralNorm wraps a Conv2d, ConvTranspose2d, Linear or Maxout layer, "
                            f"not {type(layer).__name__}; e.g. SpectralNorm(nn.Conv2d(3, 64, 4, 2, 1))")
        if not isinstance(n_power_iterations, (int, np.integer)) or n_power_iterations < 1:
            raise ValueError(f"SpectralNorm: n_power_iterations must be a positive int, got {n_power_iterations!r}")
        self.layer = layer
        self.n_power_iterations, self.eps = int(n_power_iterations), float(eps)
        self.dim = 1 if isinstance(layer, ConvTranspose2d) else 0     # the output axis, as in PyTorch
        W = layer.params["weight"]
        self.params["weight"], self.grads["weight"] = W, get_array_module(W).zeros_like(W)
        if "bias" in layer.params:
            self.params["bias"], self.grads["bias"] = layer.params["bias"], layer.grads["bias"]
        rows, cols = weight_matrix(W, self.dim).shape
        rng = np.random.default_rng() if rng is None else rng
        for name, size in (("u", rows), ("v", cols)):                 # normalize(normal), as PyTorch starts
            start = normalize(rng.standard_normal(size), self.eps)
            self.buffers[name] = B.asarray(start, B.backend_name(W), W.dtype)

    def normalized_weight(self):
        """``W_sn, sigma``; in training mode after ``n_power_iterations`` steps that update u and v in place."""
        W, u, v = self.params["weight"], self.buffers["u"], self.buffers["v"]
        W_mat = weight_matrix(W, self.dim)                            # (rows, cols)
        if self.training:
            for _ in range(self.n_power_iterations):
                v[...] = normalize(W_mat.T @ u, self.eps)             # v <- W^T u / |W^T u|
                u[...] = normalize(W_mat @ v, self.eps)               # u <- W v / |W v|
        sigma = u @ (W_mat @ v)                                       # 0-d array: u^T W v
        return W / sigma, sigma

    def forward(self, x):
        W_sn, sigma = self.normalized_weight()
        self.lend(W_sn)
        y = self.layer.forward(x)
        u, v = self.buffers["u"].copy(), self.buffers["v"].copy()     # this pass's u, v (a later forward moves them)
        self.cache = (self.layer.cache, W_sn, sigma, u, v)            # the layer's own cache travels with ours
        return y

    def backward(self, dy):
        inner_cache, W_sn, *_ = self.check_backward(dy)
        self.lend(W_sn, inner_cache)
        dx = self.layer.backward(dy)                                  # adds dL/dW_sn into the scratch grad, dL/db
        if self.requires_grad:
            self.grads["weight"] += self.through_sigma(self.layer.grads["weight"])
        return dx

    def through_sigma(self, dW_sn):
        """dL/dW from dL/dW_sn, with the latest forward's u and v held constant (see the module docstring)::

            W_sn = W / sigma,  sigma = u^T W_mat v  =>  d sigma / dW_mat = u v^T
            dL/dW = dW_sn / sigma - <dW_sn, W> / sigma^2 * u v^T = (dW_sn - <dW_sn, W_sn> u v^T) / sigma
        """
        xp = get_array_module(dW_sn)
        _, W_sn, sigma, u, v = self.cache
        uvT = matrix_to_weight(xp.outer(u, v), W_sn.shape, self.dim)  # d sigma / dW, in the weight's layout
        return (dW_sn - (dW_sn * W_sn).sum() * uvT) / sigma

    def lend(self, W_sn, inner_cache=None):
        """Hand the wrapped layer ``W_sn``, our bias, a zeroed scratch weight grad, our flags
        and (for a pass after forward) its own cache of the latest forward."""
        xp = get_array_module(W_sn)
        layer = self.layer
        layer.params = {"weight": W_sn, **({"bias": self.params["bias"]} if "bias" in self.params else {})}
        layer.grads = {"weight": xp.zeros_like(W_sn), **({"bias": self.grads["bias"]} if "bias" in self.grads else {})}
        layer.requires_grad, layer.input_grad = self.requires_grad, self.input_grad
        if inner_cache is not None:
            layer.cache = inner_cache

    # -- the second-order pass (minigan.penalties) -------------------------------
    def tangent(self, x_dot):
        """The wrapped layer's tangent with ``W_sn`` (linear in x, so the same map without bias)."""
        inner_cache, W_sn, *_ = self.check_backward(x_dot)
        self.lend(W_sn, inner_cache)
        return self.layer.tangent(x_dot)

    def add_weight_grad(self, dy, x):
        """``grads["weight"] +=`` the wrapped layer's weight product at (dy, x), chained through ``W / sigma``."""
        inner_cache, W_sn, *_ = self.check_backward(dy)
        self.lend(W_sn, inner_cache)
        self.layer.add_weight_grad(dy, x)                             # d/dW_sn, into the scratch grad
        self.grads["weight"] += self.through_sigma(self.layer.grads["weight"])

    def __getattr__(self, name):
        """The wrapped layer's geometry (``in_channels``, ``kernel_size``, ...) reads through the wrapper."""
        layer = self.__dict__.get("layer")
        if layer is None or name.startswith("__"):
            raise AttributeError(name)
        return getattr(layer, name)

    def extra_repr(self):
        return f"{self.layer!r}, n_power_iterations={self.n_power_iterations}, eps={self.eps:g}"


__all__ = ["SpectralNorm"]
