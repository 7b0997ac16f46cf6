"""Two matrix products in the form BLAS runs fastest: ``a.T @ b`` and the outer product.

Every layer's weight gradient sums over the batch (and over pixels)::

    dW = dy^T @ cols        dy: (M, F), cols: (M, K), M = every output pixel of the batch

i.e. ``a.T @ b`` with a long shared axis M. The result is a small matrix, and
``(b.T @ a).T`` is the very same matrix -- but OpenBLAS runs the two forms at
very different speeds: measured on this project's 2-core machines, the form
whose output is *taller than wide* was 1.3x to 5x faster for every layer of
the DCGANs (and the other form up to 70x slower for a 64x48 output). So we
pick the tall one. On a GPU (cuBLAS) both are fast; the choice is harmless.

An outer product, ``a @ b`` with a shared axis of length 1, is no GEMM at all:
every output is one product, ``a[i, 0] * b[0, j]``. NumPy's ``matmul`` still
runs it as one (0.44 ms for D's last layer's input gradient, 64 x 6272, on the
machines above); broadcasting the multiply gives the same numbers, bit for
bit, in 0.04 ms.
"""
from __future__ import annotations

from ..backend import get_array_module


def matmul_tn(a, b):
    """``a.T @ b`` for ``a`` (M, P) and ``b`` (M, Q): returns (P, Q), computed tall-side first."""
    if a.shape[1] >= b.shape[1]:
        return a.T @ b               # (P, Q) with P >= Q: already tall
    return (b.T @ a).T               # (Q, P) tall, then a free transposed view


def matmul(a, b, out=None):
    """``a @ b`` for ``a`` (M, K) and ``b`` (K, N), into ``out`` (M, N) if given; K == 1: a broadcast multiply."""
    xp = get_array_module(a)
    if a.shape[1] == 1:
        return xp.multiply(a, b, out=out)   # (M, 1) * (1, N) -> (M, N): each entry one product, as in the GEMM
    return xp.matmul(a, b, out=out)
