"""Maxout, fast: the plain layer's max and winners (``minigan/nn/maxout.py``) without a reduction over the pieces.

The plain forward takes ``u.argmax(axis=2)`` over ``u`` (N, out, pieces), then a
one-hot mask and ``take_along_axis``. NumPy runs a reduction over a short last
axis (5 pieces) element by element: for D's ``Maxout(200, 200, 5)`` at N = 100
those three took 1.0 ms against 0.62 ms for the GEMM itself. Here each piece is
the strided view ``u[:, :, j]`` (N, out), and everything is a whole-array pass
over those ``pieces`` views:

    y      = max_j u[:, :, j]                    a running maximum
    winner = #{leading pieces all below y}       (N, out) int8: the first largest piece, argmax's choice on ties
    du[:, :, j] = dy * (winner == j)             backward: dy on the winner, 0 on the others

The cache is ``Cache((x, winner))``, not the plain one-hot ``win``: the layer's
backward, tangent and ``add_weight_grad`` read it through :func:`to_winners` and
:func:`at_winners` (``fast.made``). The same numbers as the plain path; only
where a piece is NaN (y is NaN on both paths) may another piece take the gradient.
docs/performance.md has the measurements.
"""
from __future__ import annotations

from ..backend import get_array_module
from . import Cache


def forward(layer, x):
    """``(N, in) -> (N, out)``: :meth:`Maxout.forward`, fast; keeps ``Cache((x, winner))``."""
    xp = get_array_module(x)
    N, out, pieces = x.shape[0], layer.out_features, layer.pieces
    u = x @ layer.params["weight"].T                      # (N, out*pieces), as the plain path
    u += layer.params["bias"]
    u = u.reshape(N, out, pieces)                         # piece j of every unit: the view u[:, :, j]
    y = u[:, :, 0].copy()
    for j in range(1, pieces):
        xp.maximum(y, u[:, :, j], out=y)                  # (N, out): y = max_j u[:, :, j]
    # The first largest piece's index is the number of pieces before it, all strictly below y.
    winner = xp.zeros((N, out), dtype=xp.int8 if pieces <= 127 else xp.int64)
    leading, below = xp.ones((N, out), dtype=bool), xp.empty((N, out), dtype=bool)
    for j in range(pieces - 1):
        xp.less(u[:, :, j], y, out=below)
        leading &= below                                  # pieces 0 .. j all below y
        winner += leading
    layer.cache = Cache((x, winner))
    return y


def to_winners(dy, winner, pieces):
    """``dy`` (N, out) -> ``du`` (N, out*pieces): each unit's gradient on its winning piece, 0 on the others."""
    xp = get_array_module(dy)
    N, out = dy.shape
    du = xp.empty((N, out, pieces), dtype=dy.dtype)
    for j in range(pieces):
        xp.multiply(dy, winner == j, out=du[:, :, j])     # dy where piece j won, else 0 (the plain win * dy)
    return du.reshape(N, out * pieces)


def at_winners(u, winner):
    """``u`` (N, out, pieces) -> (N, out): each unit's winning piece, ``u[n, o, winner[n, o]]``."""
    picked = u[:, :, 0] * (winner == 0)
    for j in range(1, u.shape[2]):
        picked += u[:, :, j] * (winner == j)              # exactly one term is kept, as the plain (u * win).sum
    return picked


__all__ = ["at_winners", "forward", "to_winners"]
