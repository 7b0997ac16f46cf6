import numpy as np
import pytest
from hypothesis import assume, example, given, strategies as st

from minigan.fast.col2im_blocked import blocked, group_weights, matmul_col2im
from minigan.fast.im2col import col2im
from minigan.nn.im2col import conv_output_size
from tests.strategies import seeds

pairs = lambda lo, hi: st.tuples(st.integers(lo, hi), st.integers(lo, hi))  # noqa: E731


@given(kernel=pairs(1, 4), stride=pairs(1, 3), padding=pairs(0, 4), size=pairs(1, 9), n=st.integers(1, 2),
       R=st.integers(1, 3), C=st.integers(1, 3), seed=seeds)
@example(kernel=(4, 4), stride=(2, 2), padding=(1, 1), size=(8, 8), n=2, R=3, C=2, seed=0)     # DCGAN's layers
@example(kernel=(2, 4), stride=(2, 2), padding=(0, 1), size=(5, 7), n=1, R=2, C=2, seed=1)     # last row/col unreached
@example(kernel=(3, 2), stride=(1, 1), padding=(0, 0), size=(3, 2), n=2, R=2, C=3, seed=2)     # one window, the image
@example(kernel=(3, 2), stride=(1, 1), padding=(0, 0), size=(3, 2), n=2, R=1, C=3, seed=3)     # ... from an outer product
@example(kernel=(4, 4), stride=(2, 2), padding=(1, 1), size=(4, 4), n=2, R=1, C=2, seed=4)     # blocked, outer products
def test_matmul_col2im_is_col2im_of_the_product(kernel, stride, padding, size, n, R, C, seed):
    # Blocked or not, the result is the plain GEMM + col2im. Image sizes whose last rows no window
    # reaches (a transposed conv's output_padding) included; written into a strided slice.
    Ho, Wo = (conv_output_size(s, k, st_, p) for s, k, st_, p in zip(size, kernel, stride, padding))
    assume(Ho >= 1 and Wo >= 1)
    rng = np.random.default_rng(seed)
    kh, kw = kernel
    a = rng.standard_normal((n * Ho * Wo, R))
    Wm = rng.standard_normal((R, kh * kw * C))
    expected = col2im((a @ Wm).reshape(n, Ho, Wo, kh, kw, C), size, kernel, stride, padding)
    big = np.full((2 * n, *size, C), np.nan)
    grouped = group_weights(Wm, kernel, stride)
    assert (grouped is None) == (not blocked(kernel, stride))
    matmul_col2im(a, Wm, grouped, kernel, stride, padding, out=big[::2])
    np.testing.assert_allclose(big[::2], expected, rtol=1e-12, atol=1e-12)
    assert np.isnan(big[1::2]).all()


def test_blocked_path_is_taken_for_dcgan_layers_only_when_the_kernel_is_a_multiple_of_the_stride():
    assert blocked((4, 4), (2, 2)) and blocked((2, 4), (2, 2)) and blocked((3, 3), (3, 1))
    assert not blocked((3, 3), (2, 2)) and not blocked((4, 4), (1, 1)) and not blocked((4, 3), (2, 2))


def test_group_weights_puts_each_offset_in_its_block():
    # Column (i, j, c) of Wm goes to group (i // sh, j // sw), block position (i % sh, j % sw, c).
    kh, kw, sh, sw, R, C = 4, 6, 2, 3, 2, 5
    Wm = np.arange(R * kh * kw * C, dtype=float).reshape(R, kh * kw * C)
    g = group_weights(Wm, (kh, kw), (sh, sw)).reshape(kh // sh, kw // sw, R, sh, sw, C)
    W4 = Wm.reshape(R, kh, kw, C)
    for i in range(kh):
        for j in range(kw):
            np.testing.assert_array_equal(g[i // sh, j // sw, :, i % sh, j % sw, :], W4[:, i, j, :])


@pytest.mark.parametrize("R", [1, 3])
def test_one_window_product_lands_in_a_contiguous_out_and_is_the_plain_result(R):
    # D's last layer's input gradient (R = 1: an outer product) and G's first layer's forward:
    # the product is written straight into the image; a strided out takes the plain way.
    rng = np.random.default_rng(R)
    a, Wm = rng.standard_normal((4, R)), rng.standard_normal((R, 7 * 7 * 2))
    expected = col2im((a @ Wm).reshape(4, 1, 1, 7, 7, 2), (7, 7), (7, 7), (1, 1), (0, 0))
    out = np.full((4, 7, 7, 2), np.nan)
    assert matmul_col2im(a, Wm, None, (7, 7), (1, 1), (0, 0), out=out) is out
    np.testing.assert_array_equal(out, expected)
    big = np.full((8, 7, 7, 2), np.nan)
    matmul_col2im(a, Wm, None, (7, 7), (1, 1), (0, 0), out=big[::2])
    np.testing.assert_array_equal(big[::2], expected)
    assert np.isnan(big[1::2]).all()
