"""Maxout: ``k`` linear pieces per unit, and the unit outputs the largest (Goodfellow et al. 2013).

Goodfellow, Warde-Farley, Mirza, Courville & Bengio, "Maxout Networks", ICML 2013,
https://arxiv.org/abs/1302.4389; the original GAN's discriminator is built of them.

    x: (N, in_features)
    W: (out_features * pieces, in_features)      b: (out_features * pieces,)
    u = x W^T + b                                (N, out * pieces): every piece, a Linear layer
    u = u.reshape(N, out_features, pieces)       unit o's pieces are rows o*pieces ... o*pieces + pieces - 1 of W
    y = u.max(axis=2)                            (N, out_features)

Backward: the max passes the gradient to its winning piece only (a piece that
lost does not move y). With ``win`` the one-hot mask of the winners::

    du = win * dy[:, :, None]                    (N, out, pieces): dy on the winner, 0 elsewhere
    dx = du W,  dW = du^T x,  db = sum_n du      as a Linear layer with upstream gradient du

Ties: ``argmax`` picks the first winning piece, and it alone gets the gradient
(PyTorch's ``max`` may pick another; a tie has probability 0 with real-valued inputs).

The code below is exactly those lines; ``minigan/fast/maxout.py`` computes the same
numbers without NumPy's slow reductions over the short pieces axis, when
:func:`minigan.fast.enabled`, and keeps the winners as an index instead of ``win``.

Second-order pass (``minigan/penalties.py``): almost everywhere the winners do not
change when x moves a little, so Maxout is piecewise linear like ReLU::

    tangent:  y_dot = (x_dot W^T).reshape(N, out, pieces)[winner]    the winning piece's linear tangent
    add_weight_grad(dy, x_dot):  dW += du^T x_dot                    du as in backward
"""
from __future__ import annotations

from ..backend import get_array_module
from .. import fast
from ..fast import maxout as fast_maxout
from ..fast.gemm import matmul_tn
from .module import Module, init_uniform


class Maxout(Module):
    """``(N, in_features) -> (N, out_features)``: each output the max of ``pieces`` linear pieces.

    Initialized like a ``torch.nn.Linear(in_features, out_features * pieces)`` (PyTorch has no Maxout).
    """

    def __init__(self, in_features, out_features, pieces, *, dtype=None, rng=None):
        super().__init__()
        self.in_features, self.out_features, self.pieces = int(in_features), int(out_features), int(pieces)
        if min(self.in_features, self.out_features, self.pieces) < 1:
            raise ValueError(f"Maxout: in_features, out_features and pieces must be >= 1, got "
                             f"{in_features}, {out_features}, {pieces}")
        rows = self.out_features * self.pieces
        self.add_param("weight", init_uniform(rng, (rows, self.in_features), self.in_features, dtype))
        self.add_param("bias", init_uniform(rng, (rows,), self.in_features, dtype))

    def forward(self, x):
        self.check_input(x, ("N", self.in_features))
        if fast.enabled():
            return fast_maxout.forward(self, x)                      # the same numbers, no short-axis argmax
        xp = get_array_module(x)
        N = x.shape[0]
        u = (x @ self.params["weight"].T + self.params["bias"]).reshape(N, self.out_features, self.pieces)
        winner = u.argmax(axis=2)[:, :, None]                        # (N, out, 1): the first largest piece
        win = xp.arange(self.pieces) == winner                       # (N, out, pieces) bool, one True per unit
        self.cache = x, win
        return xp.take_along_axis(u, winner, axis=2)[:, :, 0]        # (N, out): y = max_j u[:, :, j]

    def backward(self, dy):
        x, _ = self.check_backward(dy)
        du = self._to_winners(dy)                                    # (N, out*pieces): dy on each winner
        if self.requires_grad:
            self._add_weight_product(du, x)                          # dL/dW = du^T x
            self.grads["bias"] += du.sum(axis=0)                     # dL/db = sum over the batch of du
        if not self.input_grad:
            return None
        return du @ self.params["weight"]                            # dL/dx = du W

    def tangent(self, x_dot):
        """``(N, in) -> (N, out)``: the winning piece's ``x_dot W^T`` (the bias does not move with x)."""
        _, win = self.check_backward(x_dot)
        N = x_dot.shape[0]
        u_dot = (x_dot @ self.params["weight"].T).reshape(N, self.out_features, self.pieces)  # every piece's change
        if fast.made(self.cache):                                    # the fast forward kept (N, out) winner indices
            return fast_maxout.at_winners(u_dot, win)
        return (u_dot * win).sum(axis=2)                             # the winner's (exactly one term is kept)

    def add_weight_grad(self, dy, x):
        """``grads["weight"] += du^T x``, du = ``dy`` (N, out) placed on the latest forward's winners."""
        self._add_weight_product(self._to_winners(dy), x)

    def _add_weight_product(self, du, x):
        """``grads["weight"] += du^T x`` for ``du`` (N, out*pieces) and ``x`` (N, in)."""
        if fast.enabled():
            self.grads["weight"] += matmul_tn(du, x)                 # the same product, as BLAS runs it fastest
        else:
            self.grads["weight"] += du.T @ x                         # summed over the batch

    def _to_winners(self, dy):
        """``dy`` (N, out) -> (N, out*pieces): each unit's gradient on its winning piece, 0 on the others."""
        _, win = self.check_backward(dy)
        if fast.made(self.cache):                                    # the fast forward kept winner indices
            return fast_maxout.to_winners(dy, win, self.pieces)
        N = dy.shape[0]
        return (win * dy[:, :, None]).reshape(N, -1).astype(dy.dtype, copy=False)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, pieces={self.pieces}"
