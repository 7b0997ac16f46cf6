import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

from minigan import nn
from minigan.nn.conv2d import conv2d_naive
from minigan.nn.im2col import col2im, im2col
from tests.gradcheck import check_layer_gradients
from tests.strategies import conv_configs, seeds


def make_input(rng, cfg, channels_last):
    """An NCHW-shaped input, stored NCHW or (as between minigan layers) NHWC in memory."""
    N, C, H, W = cfg["N"], cfg["C_in"], cfg["H"], cfg["W"]
    if channels_last:
        return rng.standard_normal((N, H, W, C)).transpose(0, 3, 1, 2)
    return rng.standard_normal((N, C, H, W))


def make_conv(cfg, bias, rng):
    return nn.Conv2d(cfg["C_in"], cfg["C_out"], cfg["kernel"], cfg["stride"], cfg["padding"],
                     bias=bias, dtype="float64", rng=rng)


@given(cfg=conv_configs(), bias=st.booleans(), channels_last=st.booleans(), seed=seeds)
def test_conv2d_gradients_match_finite_differences(cfg, bias, channels_last, seed):
    rng = np.random.default_rng(seed)
    layer = make_conv(cfg, bias, rng)
    check_layer_gradients(layer, make_input(rng, cfg, channels_last), rng)


@given(cfg=conv_configs(), bias=st.booleans(), channels_last=st.booleans(), seed=seeds)
def test_conv2d_fast_matches_naive_loops(cfg, bias, channels_last, seed):
    rng = np.random.default_rng(seed)
    layer = make_conv(cfg, bias, rng)
    x = make_input(rng, cfg, channels_last)
    expected = conv2d_naive(x, layer.params["weight"], layer.params.get("bias"), layer.stride, layer.padding)
    np.testing.assert_allclose(layer(x), expected, rtol=1e-12, atol=1e-12)


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
    (lambda rng: nn.Conv2d(2, 3, (3, 2), dtype="float64", rng=rng), (2, 2, 3, 2)),              # D's last layer's kind
    (lambda rng: nn.ConvTranspose2d(2, 3, (3, 2), dtype="float64", rng=rng), (2, 2, 1, 1)),     # G's first layer's kind
    (lambda rng: nn.Conv2d(2, 1, (3, 2), dtype="float64", rng=rng), (2, 2, 3, 2)),              # 1 output: dx an outer product
])
def test_whole_image_window_layers_gradients_match_finite_differences(make, shape):
    # The one-window paths (im2col a view, the GEMM straight into dx, the outer product) in a
    # layer's forward and backward: float64, random upstream gradient, every parameter and dx.
    rng = np.random.default_rng(5)
    check_layer_gradients(make(rng), rng.standard_normal(shape), rng)


def test_output_size_follows_pytorch_formula():
    layer = nn.Conv2d(3, 8, kernel_size=4, stride=2, padding=1)
    assert layer(np.zeros((2, 3, 64, 64), np.float32)).shape == (2, 8, 32, 32)
    layer = nn.Conv2d(1, 1, kernel_size=(3, 2), stride=(1, 2), padding=(0, 1))
    assert layer(np.zeros((1, 1, 5, 5), np.float32)).shape == (1, 1, 3, 3)


def test_weight_layout_and_backward_accumulates():
    layer = nn.Conv2d(3, 5, 3, bias=True, dtype="float64", rng=np.random.default_rng(0))
    assert layer.params["weight"].shape == (5, 3, 3, 3) and layer.grads["weight"].shape == (5, 3, 3, 3)
    x = np.random.default_rng(1).standard_normal((2, 3, 6, 6))
    dy = np.random.default_rng(2).standard_normal((2, 5, 4, 4))
    layer(x)
    layer.backward(dy)
    once = layer.grads["weight"].copy()
    layer(x)
    layer.backward(dy)
    np.testing.assert_allclose(layer.grads["weight"], 2 * once)
    layer.zero_grad()
    assert not layer.grads["weight"].any()


def test_requires_grad_false_skips_parameter_gradients_but_not_dx():
    rng = np.random.default_rng(0)
    layer = nn.Conv2d(2, 3, 3, dtype="float64", rng=rng).requires_grad_(False)
    x = rng.standard_normal((1, 2, 5, 5))
    layer(x)
    dx = layer.backward(rng.standard_normal((1, 3, 3, 3)))
    assert dx.shape == x.shape and np.abs(dx).sum() > 0
    assert not layer.grads["weight"].any() and not layer.grads["bias"].any()


@pytest.mark.parametrize("make", [lambda: nn.Conv2d(2, 3, 3), lambda: nn.ConvTranspose2d(2, 3, 3), lambda: nn.Linear(2, 3)])
def test_input_grad_false_skips_dx_but_keeps_weight_gradients(make):
    rng = np.random.default_rng(0)
    layer, twin = make(), make()
    twin.params["weight"][...] = layer.params["weight"]
    x = rng.standard_normal((2, 2, 5, 5) if not isinstance(layer, nn.Linear) else (2, 2)).astype(np.float32)
    dy = rng.standard_normal(layer(x).shape).astype(np.float32)
    layer.input_grad = False
    assert layer.backward(dy) is None
    twin(x)
    assert twin.backward(dy).shape == x.shape
    np.testing.assert_array_equal(layer.grads["weight"], twin.grads["weight"])


@pytest.mark.parametrize("shape, needle", [
    ((2, 4, 8, 8), "expected input of shape (N, 3, H, W), got (2, 4, 8, 8)"),
    ((3, 8, 8), "expected input of shape (N, 3, H, W), got (3, 8, 8)"),
])
def test_wrong_shape_is_a_clear_error(shape, needle):
    layer = nn.Conv2d(3, 4, 3)
    with pytest.raises(ValueError) as e:
        layer(np.zeros(shape, np.float32))
    assert needle in str(e.value) and "Conv2d(3, 4" in str(e.value)


def test_wrong_dtype_is_a_clear_error():
    with pytest.raises(ValueError, match=r"input dtype is float64 but the parameters are float32"):
        nn.Conv2d(3, 4, 3)(np.zeros((1, 3, 8, 8)))
    with pytest.raises(ValueError, match=r"input dtype is int64"):
        nn.Conv2d(3, 4, 3)(np.zeros((1, 3, 8, 8), dtype=np.int64))


def test_too_small_input_and_bad_arguments():
    with pytest.raises(ValueError, match="smaller than the kernel"):
        nn.Conv2d(1, 1, 5)(np.zeros((1, 1, 3, 3), np.float32))
    with pytest.raises(ValueError, match="kernel_size must be an int or a pair"):
        nn.Conv2d(1, 1, (3, 3, 3))
    with pytest.raises(ValueError, match="stride >= 1"):
        nn.Conv2d(1, 1, 3, stride=0)


def test_backward_before_forward_is_a_clear_error():
    with pytest.raises(RuntimeError, match="backward\\(\\) called before forward\\(\\)"):
        nn.Conv2d(1, 1, 3).backward(np.zeros((1, 1, 1, 1), np.float32))


@pytest.mark.parametrize("make, shape", [
    (lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1, dtype="float64", rng=np.random.default_rng(0)), (5, 3, 7, 7)),
    (lambda: nn.ConvTranspose2d(3, 4, 4, stride=2, padding=1, dtype="float64", rng=np.random.default_rng(0)), (5, 3, 4, 4)),
])
@pytest.mark.parametrize("keep", [True, False], ids=["windows kept", "windows rebuilt"])
def test_working_in_batch_chunks_gives_the_same_numbers(monkeypatch, make, shape, keep):
    """Small test shapes fit in one chunk; force one image per chunk and compare with the whole batch.

    A convolution keeps its chunks' windows for the weight product when the batch's come to at
    most KEEP_BYTES, else rebuilds them: both ways give the same numbers."""
    import minigan.nn.conv2d as conv2d_module
    import minigan.nn.im2col as im2col_module

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
    from minigan.nn.im2col import CHUNK_BYTES, batch_chunks
    chunks = batch_chunks(np.zeros((N, 1)), CHUNK_BYTES // per_chunk)      # room for per_chunk images
    sizes = [s.stop - s.start for s in chunks]
    assert [i for s in chunks for i in range(N)[s]] == list(range(N))
    assert len(chunks) == -(-N // per_chunk) and max(sizes) <= per_chunk and max(sizes) - min(sizes) <= 1
