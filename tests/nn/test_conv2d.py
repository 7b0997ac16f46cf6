import numpy as np
import pytest
from hypothesis import given, strategies as st

from minigan import nn
from minigan.nn.conv2d import conv2d_backward_naive, conv2d_naive
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


@given(cfg=conv_configs(), channels_last=st.booleans(), seed=seeds)
def test_conv2d_backward_matches_naive_loops(cfg, channels_last, seed):
    rng = np.random.default_rng(seed)
    layer = make_conv(cfg, True, rng)
    x = make_input(rng, cfg, channels_last)
    dy = rng.standard_normal(layer(x).shape)
    layer.zero_grad()
    dx = layer.backward(dy)
    dx_loops, dW_loops, db_loops = conv2d_backward_naive(x, layer.params["weight"], dy, layer.stride, layer.padding)
    np.testing.assert_allclose(dx, dx_loops, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.grads["weight"], dW_loops, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.grads["bias"], db_loops, rtol=1e-12, atol=1e-12)


@given(cfg=conv_configs(), seed=seeds)
def test_im2col_and_col2im_are_adjoint(cfg, seed):
    # <im2col(x), c> == <x, col2im(c)> for every x and c: col2im is im2col's transpose.
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((cfg["N"], cfg["C_in"], cfg["H"], cfg["W"]))
    cols = im2col(x, cfg["kernel"], cfg["stride"], cfg["padding"])
    c = rng.standard_normal(cols.shape)
    lhs = np.sum(cols * c)
    rhs = np.sum(x * col2im(c, x.shape, cfg["kernel"], cfg["stride"], cfg["padding"]))
    assert np.isclose(lhs, rhs, rtol=1e-10, atol=1e-10)


@given(cfg=conv_configs(), seed=seeds)
def test_im2col_rows_are_the_windows_read_by_hand(cfg, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((cfg["N"], cfg["C_in"], cfg["H"], cfg["W"]))
    (kh, kw), (sh, sw), (ph, pw) = cfg["kernel"], cfg["stride"], cfg["padding"]
    cols = im2col(x, cfg["kernel"], cfg["stride"], cfg["padding"])
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    Ho, Wo = (x_pad.shape[2] - kh) // sh + 1, (x_pad.shape[3] - kw) // sw + 1
    rows = [x_pad[n, :, a * sh : a * sh + kh, b * sw : b * sw + kw].ravel()
            for n in range(x.shape[0]) for a in range(Ho) for b in range(Wo)]
    np.testing.assert_array_equal(cols, np.array(rows))


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
