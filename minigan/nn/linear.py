"""Fully connected layer: ``y = x W^T + b``.

    x: (N, in_features)   W: (out_features, in_features)   b: (out_features,)
    y: (N, out_features)

Backward (one matrix product each)::

    dx = dy @ W          (N, in)      each input feeds every output through W
    dW = dy^T @ x        (out, in)    summed over the batch
    db = sum_n dy        (out,)

Second-order pass (used by the gradient penalties, ``minigan/penalties.py``)::

    tangent:  x_dot -> x_dot @ W^T              the forward's change along x_dot (b does not move with x)
    add_weight_grad(dy, x_dot):  dW += dy^T @ x_dot   backward's weight product, at another input
"""
from __future__ import annotations

from .. import fast
from ..fast.gemm import matmul_tn
from .module import Module, init_uniform


class Linear(Module):
    """``(N, in_features) -> (N, out_features)``, same signature as ``torch.nn.Linear``."""

    def __init__(self, in_features, out_features, bias=True, *, dtype=None, rng=None):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.add_param("weight", init_uniform(rng, (self.out_features, self.in_features), self.in_features, dtype))
        if bias:
            self.add_param("bias", init_uniform(rng, (self.out_features,), self.in_features, dtype))

    def forward(self, x):
        self.check_input(x, ("N", self.in_features))
        self.cache = x
        y = x @ self.params["weight"].T                 # (N, out)
        if "bias" in self.params:
            y += self.params["bias"]
        return y

    def backward(self, dy):
        x = self.check_backward(dy)
        W = self.params["weight"]
        if self.requires_grad:
            self.add_weight_grad(dy, x)                 # dL/dW = dy^T x
            if "bias" in self.params:
                self.grads["bias"] += dy.sum(axis=0)    # dL/db = sum over the batch
        if not self.input_grad:
            return None                                                              # nobody needs dL/dx
        return dy @ W                                   # dL/dx = dy W

    # -- the second-order pass (minigan.penalties) -------------------------------
    def tangent(self, x_dot):
        """``(N, in) -> (N, out)``: ``y_dot = x_dot W^T``, how the output moves when x moves along x_dot.

        The bias is absent: it shifts y but does not change with x.
        """
        return x_dot @ self.params["weight"].T

    def add_weight_grad(self, dy, x):
        """``grads["weight"] += dy^T x`` for ``dy`` (N, out) and ``x`` (N, in): backward's weight product.

        ``backward`` calls it with the cached input; the penalty with a tangent ``x_dot``.
        """
        if fast.enabled():
            self.grads["weight"] += matmul_tn(dy, x)    # the same product in the order BLAS runs fastest
        else:
            self.grads["weight"] += dy.T @ x            # (out, in): summed over the batch

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={'bias' in self.params}"
