"""Two matrix products in the form BLAS runs fastest: ``a.T @ b`` and the outer product.

Every layer's weight gradient sums over the batch (and over pixels)::

    dW = dy^T @ cols        dy: (M, F), cols: (M, K), M = every output pixel of the batch

i.e. ``a.T @ b`` with a long shared axis M. ``(b.T @ a).T`` is the very same
matrix, computed as its transpose. Which form is faster depends on the output:

- A **small** output runs faster *taller than wide* (the weight gradient of a
  1-channel first layer, 16 x 64).
- A **large** output runs about as fast either way, but where it goes next
  decides: the gradient is stored in row order, so a transposed result is
  added into it column by column, across the cache lines (dcgan64's 512 x
  4096 weight: the add took half as long as the product itself).

So an output with :data:`LARGE_OUTPUT` entries or more comes in row order, and
a smaller one tall side first. On a GPU the two forms have not been measured;
the fast path applies the same rule there.

An outer product, ``a @ b`` with a shared axis of length 1, is no GEMM at all:
every output is one product, ``a[i, 0] * b[0, j]``. NumPy's ``matmul`` still
runs it as one (D's last layer's input gradient); broadcasting the multiply
gives the same numbers, bit for bit, ten times faster.

docs/performance.md ("What made it faster") has the measurements.
"""
from __future__ import annotations

from ..backend import get_array_module


#: An output of ``matmul_tn`` with this many entries (1 MB of float32) or more comes in row order.
LARGE_OUTPUT = 2**18


def matmul_tn(a, b):
    """``a.T @ b`` for ``a`` (M, P) and ``b`` (M, Q): returns (P, Q), a small one computed tall side first."""
    P, Q = a.shape[1], b.shape[1]
    if P >= Q or P * Q >= LARGE_OUTPUT:
        return a.T @ b               # (P, Q) in row order: already tall, or large
    return (b.T @ a).T               # (Q, P) tall, then a free transposed view


def matmul(a, b, out=None):
    """``a @ b`` for ``a`` (M, K) and ``b`` (K, N), into ``out`` (M, N) if given; K == 1: a broadcast multiply."""
    xp = get_array_module(a)
    if a.shape[1] == 1:
        return xp.multiply(a, b, out=out)   # (M, 1) * (1, N) -> (M, N): each entry one product, as in the GEMM
    return xp.matmul(a, b, out=out)
