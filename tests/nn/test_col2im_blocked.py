import numpy as np
from hypothesis import assume, example, given, strategies as st

from minigan.nn.col2im_blocked import blocked, group_weights, matmul_col2im
from minigan.nn.im2col import col2im, conv_output_size
from tests.strategies import seeds

pairs = lambda lo, hi: st.tuples(st.integers(lo, hi), st.integers(lo, hi))  # noqa: E731


@given(kernel=pairs(1, 4), stride=pairs(1, 3), padding=pairs(0, 4), size=pairs(1, 9), n=st.integers(1, 2),
       R=st.integers(1, 3), C=st.integers(1, 3), seed=seeds)
@example(kernel=(4, 4), stride=(2, 2), padding=(1, 1), size=(8, 8), n=2, R=3, C=2, seed=0)     # DCGAN's layers
@example(kernel=(2, 4), stride=(2, 2), padding=(0, 1), size=(5, 7), n=1, R=2, C=2, seed=1)     # last row/col unreached
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
