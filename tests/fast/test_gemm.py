"""minigan/fast/gemm.py: the products in the form BLAS runs fastest give the plain products' numbers."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from minigan.fast.gemm import matmul
from tests.strategies import seeds


@given(M=st.integers(1, 9), K=st.integers(1, 3), N=st.integers(1, 9), seed=seeds)
def test_matmul_is_the_product_and_an_outer_product_is_bitwise_numpys(M, K, N, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((M, K)).astype(np.float32), rng.standard_normal((K, N)).astype(np.float32)
    np.testing.assert_array_equal(matmul(a, b), a @ b)      # K == 1: one product per entry, the same bits
    out = np.empty((M, N), np.float32)
    assert matmul(a, b, out=out) is out
    np.testing.assert_array_equal(out, matmul(a, b))


@pytest.mark.parametrize("P, Q", [(3, 5), (5, 3), (8, 64), (64, 8)])
def test_matmul_tn_is_a_transposed_product_in_row_order_when_large(monkeypatch, P, Q):
    # matmul_tn picks the faster form; either way the numbers are a.T @ b. An output of
    # LARGE_OUTPUT entries or more comes in row order, so adding it into a gradient is contiguous.
    import minigan.fast.gemm as gemm
    rng = np.random.default_rng(P * Q)
    a, b = rng.standard_normal((7, P)), rng.standard_normal((7, Q))
    np.testing.assert_allclose(gemm.matmul_tn(a, b), a.T @ b, rtol=1e-12, atol=1e-12)
    assert gemm.matmul_tn(a, b).flags.c_contiguous == (P >= Q)        # small and wide: the tall one, transposed
    monkeypatch.setattr(gemm, "LARGE_OUTPUT", P * Q)
    out = gemm.matmul_tn(a, b)
    assert out.flags.c_contiguous
    np.testing.assert_allclose(out, a.T @ b, rtol=1e-12, atol=1e-12)
