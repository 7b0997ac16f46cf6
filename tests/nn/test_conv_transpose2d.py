import numpy as np
import pytest
from hypothesis import given, strategies as st

from minigan import nn
from minigan.nn.conv_transpose2d import conv_transpose2d_backward_naive, conv_transpose2d_naive
from minigan.nn.im2col import conv_output_size
from tests.gradcheck import check_layer_gradients
from tests.strategies import conv_configs, conv_transpose_configs, seeds


def make_layer(cfg, bias, rng):
    return nn.ConvTranspose2d(cfg["C_in"], cfg["C_out"], cfg["kernel"], cfg["stride"], cfg["padding"],
                              cfg["output_padding"], bias=bias, dtype="float64", rng=rng)


def make_input(rng, cfg, channels_last):
    N, C, H, W = cfg["N"], cfg["C_in"], cfg["H"], cfg["W"]
    if channels_last:
        return rng.standard_normal((N, H, W, C)).transpose(0, 3, 1, 2)
    return rng.standard_normal((N, C, H, W))


@given(cfg=conv_transpose_configs(), bias=st.booleans(), channels_last=st.booleans(), seed=seeds)
def test_conv_transpose2d_gradients_match_finite_differences(cfg, bias, channels_last, seed):
    rng = np.random.default_rng(seed)
    layer = make_layer(cfg, bias, rng)
    check_layer_gradients(layer, make_input(rng, cfg, channels_last), rng)


@given(cfg=conv_transpose_configs(), bias=st.booleans(), seed=seeds)
def test_conv_transpose2d_fast_matches_naive_loops(cfg, bias, seed):
    rng = np.random.default_rng(seed)
    layer = make_layer(cfg, bias, rng)
    x = make_input(rng, cfg, channels_last=False)
    expected = conv_transpose2d_naive(x, layer.params["weight"], layer.params.get("bias"),
                                      layer.stride, layer.padding, layer.output_padding)
    np.testing.assert_allclose(layer(x), expected, rtol=1e-12, atol=1e-12)


@given(cfg=conv_transpose_configs(), seed=seeds)
def test_conv_transpose2d_backward_matches_naive_loops(cfg, seed):
    rng = np.random.default_rng(seed)
    layer = make_layer(cfg, True, rng)
    x = make_input(rng, cfg, channels_last=False)
    dy = rng.standard_normal(layer(x).shape)
    layer.zero_grad()
    dx = layer.backward(dy)
    dx_loops, dW_loops, db_loops = conv_transpose2d_backward_naive(x, layer.params["weight"], dy,
                                                                   layer.stride, layer.padding)
    np.testing.assert_allclose(dx, dx_loops, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.grads["weight"], dW_loops, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.grads["bias"], db_loops, rtol=1e-12, atol=1e-12)


@given(cfg=conv_configs(), seed=seeds)
def test_transposed_convolution_is_the_adjoint_of_convolution(cfg, seed):
    # <conv(x), y> == <x, conv_transpose(y)> when both use the same weight array.
    rng = np.random.default_rng(seed)
    (kh, kw), (sh, sw), (ph, pw) = cfg["kernel"], cfg["stride"], cfg["padding"]
    conv = nn.Conv2d(cfg["C_in"], cfg["C_out"], cfg["kernel"], cfg["stride"], cfg["padding"], bias=False,
                     dtype="float64", rng=rng)
    # output_padding picks the transposed output size that lands back on H x W
    op = ((cfg["H"] + 2 * ph - kh) % sh, (cfg["W"] + 2 * pw - kw) % sw)
    convT = nn.ConvTranspose2d(cfg["C_out"], cfg["C_in"], cfg["kernel"], cfg["stride"], cfg["padding"], op,
                               bias=False, dtype="float64")
    convT.params["weight"] = conv.params["weight"]          # (C_out, C_in, kH, kW) serves both
    x = rng.standard_normal((cfg["N"], cfg["C_in"], cfg["H"], cfg["W"]))
    Ho, Wo = conv_output_size(cfg["H"], kh, sh, ph), conv_output_size(cfg["W"], kw, sw, pw)
    y = rng.standard_normal((cfg["N"], cfg["C_out"], Ho, Wo))
    assert np.isclose(np.sum(conv(x) * y), np.sum(x * convT(y)), rtol=1e-10, atol=1e-10)


def test_dcgan_shapes():
    first = nn.ConvTranspose2d(100, 512, 4, 1, 0, bias=False)
    up = nn.ConvTranspose2d(512, 256, 4, 2, 1, bias=False)
    h = first(np.zeros((2, 100, 1, 1), np.float32))
    assert h.shape == (2, 512, 4, 4)
    assert up(h).shape == (2, 256, 8, 8)
    assert first.params["weight"].shape == (100, 512, 4, 4)      # (C_in, C_out, kH, kW) like PyTorch
    assert nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)(
        np.zeros((1, 4, 7, 7), np.float32)).shape == (1, 2, 14, 14)


def test_bad_arguments_and_inputs_are_clear_errors():
    with pytest.raises(ValueError, match="output_padding must be >= 0 and smaller than stride"):
        nn.ConvTranspose2d(1, 1, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 4, H, W\), got \(1, 3, 5, 5\)"):
        nn.ConvTranspose2d(4, 2, 3)(np.zeros((1, 3, 5, 5), np.float32))
    with pytest.raises(ValueError, match="empty output"):
        nn.ConvTranspose2d(1, 1, 1, padding=1)(np.zeros((1, 1, 1, 1), np.float32))
