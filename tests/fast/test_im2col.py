"""The fast path's window copies (minigan/fast/im2col.py) and batch chunks, against the loop forms."""
import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

from minigan import nn
from minigan.fast.im2col import col2im, im2col
from tests.gradcheck import check_layer_gradients
from tests.strategies import conv_configs, seeds


@given(cfg=conv_configs(), seed=seeds)
def test_im2col_and_col2im_are_adjoint(cfg, seed):
    # <im2col(x), c> == <x, col2im(c)> for every x and c: col2im is im2col's transpose.
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((cfg["N"], cfg["H"], cfg["W"], cfg["C_in"]))
    cols = im2col(x, cfg["kernel"], cfg["stride"], cfg["padding"])
    c = rng.standard_normal(cols.shape)
    lhs = np.sum(cols * c)
    rhs = np.sum(x * col2im(c, (cfg["H"], cfg["W"]), cfg["kernel"], cfg["stride"], cfg["padding"]))
    assert np.isclose(lhs, rhs, rtol=1e-10, atol=1e-10)


def col2im_padded(cols, size, kernel, stride, padding):
    """The loop form from col2im's docstring: add into a zero-padded image, then cut the padding off."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    N, Ho, Wo, _, _, C = cols.shape
    x_pad = np.zeros((N, size[0] + 2 * ph, size[1] + 2 * pw, C))
    for i in range(kh):
        for j in range(kw):
            x_pad[:, i : i + sh * Ho : sh, j : j + sw * Wo : sw, :] += cols[:, :, :, i, j, :]
    return x_pad[:, ph : ph + size[0], pw : pw + size[1], :]


@given(kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)), stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       padding=st.tuples(st.integers(0, 5), st.integers(0, 5)), size=st.tuples(st.integers(1, 7), st.integers(1, 7)),
       seed=seeds)
def test_col2im_skips_exactly_the_padding(kernel, stride, padding, size, seed):
    # col2im adds straight into the unpadded image; padding may exceed the kernel, so that some
    # kernel offsets never land inside. Written into a strided slice of a bigger array, too.
    from minigan.nn.im2col import conv_output_size
    Ho, Wo = (conv_output_size(n, k, s, p) for n, k, s, p in zip(size, kernel, stride, padding))
    assume(Ho >= 1 and Wo >= 1)
    rng = np.random.default_rng(seed)
    cols = rng.standard_normal((2, Ho, Wo, *kernel, 3))
    expected = col2im_padded(cols, size, kernel, stride, padding)
    np.testing.assert_allclose(col2im(cols, size, kernel, stride, padding), expected, rtol=1e-12, atol=1e-12)
    big = np.full((4, *size, 3), np.nan)
    col2im(cols, size, kernel, stride, padding, out=big[1:4:2])
    np.testing.assert_allclose(big[1:4:2], expected, rtol=1e-12, atol=1e-12)
    assert np.isnan(big[0::2]).all()


@pytest.mark.parametrize("kernel, stride", [((1, 1), (1, 1)), ((7, 7), (1, 1)), ((4, 3), (2, 5)), ((4, 4), (2, 2))])
def test_col2im_of_one_window_covering_the_image_is_a_copy(kernel, stride):
    # G's first layer (1x1 noise, 7x7 kernel) and D's last (7x7 image, 7x7 kernel) take this path
    rng = np.random.default_rng(0)
    cols = rng.standard_normal((3, 1, 1, *kernel, 2))
    expected = col2im_padded(cols, kernel, kernel, stride, (0, 0))
    np.testing.assert_array_equal(col2im(cols, kernel, kernel, stride, (0, 0)), expected)
    big = np.full((6, *kernel, 2), np.nan)
    col2im(cols, kernel, kernel, stride, (0, 0), out=big[1:6:2])
    np.testing.assert_array_equal(big[1:6:2], expected)
    assert np.isnan(big[0::2]).all()


@pytest.mark.parametrize("kernel, stride", [((1, 1), (1, 1)), ((7, 7), (1, 1)), ((4, 3), (2, 5))])
def test_im2col_of_one_window_covering_the_image_is_the_image_itself(kernel, stride):
    # D's last layer and G's first layer's backward: the window matrix is the image, row for row
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, *kernel, 2))
    cols = im2col(x, kernel, stride, (0, 0))
    np.testing.assert_array_equal(cols, x.reshape(3, 1, 1, *kernel, 2))
    np.testing.assert_array_equal(cols[:, 0, 0], [[[x[n, i, j] for j in range(kernel[1])] for i in range(kernel[0])]
                                                  for n in range(3)])   # window (0, 0), offset (i, j), read by hand
    assert np.shares_memory(cols, x)                                     # a view: no copy made
    xs = rng.standard_normal((3, 2, *kernel)).transpose(0, 2, 3, 1)      # not contiguous: a copy, same numbers
    np.testing.assert_array_equal(im2col(xs, kernel, stride, (0, 0)), xs.reshape(3, 1, 1, *kernel, 2))
    padded = im2col(x, kernel, stride, (1, 1))                          # padding: more windows, the copy path
    assert padded.shape[1:3] != (1, 1) and not np.shares_memory(padded, x)


@pytest.mark.parametrize("make, shape", [
    (lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1, dtype="float64", rng=np.random.default_rng(0)), (5, 3, 7, 7)),
    (lambda: nn.ConvTranspose2d(3, 4, 4, stride=2, padding=1, dtype="float64", rng=np.random.default_rng(0)), (5, 3, 4, 4)),
])
@pytest.mark.parametrize("keep", [True, False], ids=["windows kept", "windows rebuilt"])
def test_working_in_batch_chunks_gives_the_same_numbers(monkeypatch, make, shape, keep):
    """Small test shapes fit in one chunk; force one image per chunk and compare with the whole batch.

    A convolution keeps its chunks' windows for the weight product when the batch's come to at
    most KEEP_BYTES, else rebuilds them: both ways give the same numbers."""
    import minigan.fast.conv2d as conv2d_module
    import minigan.fast.im2col as im2col_module

    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    whole, chunked = make(), make()
    y = whole(x)
    dy = rng.standard_normal(y.shape)
    dx = whole.backward(dy)
    monkeypatch.setattr(im2col_module, "CHUNK_BYTES", 1)        # one image per chunk
    monkeypatch.setattr(conv2d_module, "KEEP_BYTES", 2**30 if keep else 0)
    assert len(im2col_module.batch_chunks(x, 8)) == shape[0]
    np.testing.assert_allclose(chunked(x), y, rtol=1e-12, atol=1e-12)
    if isinstance(chunked, nn.Conv2d):
        windows = chunked.cache[2]
        assert (len(windows) == shape[0]) if keep else windows is None   # one window matrix per chunk, or none
    np.testing.assert_allclose(chunked.backward(dy), dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(chunked.grads["weight"], whole.grads["weight"], rtol=1e-12, atol=1e-12)
    check_layer_gradients(chunked, x, rng)


@given(N=st.integers(1, 300), per_chunk=st.integers(1, 80))
def test_batch_chunks_are_as_few_as_fit_and_about_equal(N, per_chunk):
    from minigan.fast.im2col import CHUNK_BYTES, batch_chunks
    chunks = batch_chunks(np.zeros((N, 1)), CHUNK_BYTES // per_chunk)      # room for per_chunk images
    sizes = [s.stop - s.start for s in chunks]
    assert [i for s in chunks for i in range(N)[s]] == list(range(N))
    assert len(chunks) == -(-N // per_chunk) and max(sizes) <= per_chunk and max(sizes) - min(sizes) <= 1
