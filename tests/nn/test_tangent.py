"""The second-order pass of each layer (used by minigan/penalties.py), against finite differences.

- ``tangent(x_dot)`` is the directional derivative of forward at the cached input:
  ``(f(x + h x_dot) - f(x - h x_dot)) / 2h``.
- ``add_weight_grad(dy, x_dot)`` is d/dW of ``<dy, tangent(x_dot)>``, the product
  the penalty needs (for a weight layer the tangent is ``W x_dot``, so this is
  the weight gradient of backward at input x_dot).
"""
import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

from minigan import nn
from tests.gradcheck import assert_close, numerical_gradient
from tests.strategies import conv_configs, seeds


@st.composite
def layers_and_inputs(draw):
    """``(layer, x)``: a float64 layer that has a tangent pass, and an input for it."""
    kind = draw(st.sampled_from(["Conv2d", "Linear", "ReLU", "LeakyReLU", "Flatten", "Reshape",
                                 "SN-Conv2d", "SN-Linear", "Sequential"]))
    rng = np.random.default_rng(draw(seeds))
    bias = draw(st.booleans())
    N = draw(st.integers(1, 3))
    if kind.endswith("Conv2d"):
        cfg = draw(conv_configs(max_size=5))
        layer = nn.Conv2d(cfg["C_in"], cfg["C_out"], cfg["kernel"], cfg["stride"], cfg["padding"],
                          bias=bias, dtype="float64", rng=rng)
        x = rng.standard_normal((cfg["N"], cfg["C_in"], cfg["H"], cfg["W"]))
    elif kind.endswith("Linear"):
        n_in = draw(st.integers(1, 5))
        layer, x = nn.Linear(n_in, draw(st.integers(1, 4)), bias=bias, dtype="float64", rng=rng), rng.standard_normal((N, n_in))
    elif kind == "Sequential":
        layer = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, bias=bias, dtype="float64", rng=rng), nn.LeakyReLU(0.2),
                              nn.Flatten(), nn.Linear(27, 2, dtype="float64", rng=rng), nn.ReLU())
        x = rng.standard_normal((N, 2, 3, 3))
    else:
        layer = {"ReLU": nn.ReLU(), "LeakyReLU": nn.LeakyReLU(draw(st.sampled_from([0.0, 0.2, 1.5]))),
                 "Flatten": nn.Flatten(), "Reshape": nn.Reshape(3, 2, 2)}[kind]
        x = rng.standard_normal((N, 12) if kind == "Reshape" else (N, 3, 2, 2))
    if kind.startswith("SN-"):
        layer = nn.SpectralNorm(layer, rng=rng)
        for _ in range(10):                     # power iterations, as training runs them: from a random start
            layer.forward(x)                    # u^T W v can be ~0, and W / sigma so steep that finite
        layer.eval()                            # differences miss (seen: gradients of 1e9); eval: u, v fixed
    return layer, x, rng


def kink_free(layer, x, margin=1e-4):
    """No ReLU input within ``margin`` of 0 (finite differences straddle a kink there)."""
    layers = layer.layers if isinstance(layer, nn.Sequential) else [layer]
    for m in layers:
        if isinstance(m, (nn.ReLU, nn.LeakyReLU)) and np.abs(x).min() < margin:
            return False
        x = m.forward(x)
    return True


@given(drawn=layers_and_inputs())
def test_tangent_is_the_directional_derivative_of_forward(drawn):
    layer, x, rng = drawn
    assume(kink_free(layer, x))
    x_dot = rng.standard_normal(x.shape)
    layer.forward(x)
    y_dot = layer.tangent(x_dot)
    h = 1e-6
    expected = (layer.forward(x + h * x_dot) - layer.forward(x - h * x_dot)) / (2 * h)
    assert_close(y_dot, expected, f"{layer!r} tangent")


@given(drawn=layers_and_inputs())
def test_add_weight_grad_is_the_gradient_of_the_tangent_product(drawn):
    layer, x, rng = drawn
    assume("weight" in layer.params)
    x_dot = rng.standard_normal(x.shape)
    assert_weight_grad_of_tangent_product(layer, x, x_dot, rng.standard_normal(layer.forward(x).shape))


def assert_weight_grad_of_tangent_product(layer, x, x_dot, dy):
    """``layer.add_weight_grad(dy, x_dot)`` == d<dy, J(W) x_dot>/dW by central differences, every parameter."""
    def tangent_product():                                               # <dy, J(W) x_dot>
        layer.forward(x)
        return float(np.sum(dy * layer.tangent(x_dot)))

    layer.zero_grad()
    layer.forward(x)
    layer.add_weight_grad(dy, x_dot)
    for name, p, g in list(layer.parameters()):
        expected = numerical_gradient(tangent_product, p)                  # the bias: 0
        assert_close(g.copy(), expected, f"{layer!r} d<dy, tangent>/d{name}")


@given(cfg=conv_configs(max_size=5), seed=seeds)
def test_conv2d_backward_is_add_weight_grad_plus_bias_plus_input_product(cfg, seed):
    # backward's weight gradient is exactly add_weight_grad at the cached input (bit for bit)
    rng = np.random.default_rng(seed)
    a = nn.Conv2d(cfg["C_in"], cfg["C_out"], cfg["kernel"], cfg["stride"], cfg["padding"], dtype="float64", rng=rng)
    x = rng.standard_normal((cfg["N"], cfg["C_in"], cfg["H"], cfg["W"]))
    dy = rng.standard_normal(a(x).shape)
    a.backward(dy)
    g = a.grads["weight"].copy()
    a.zero_grad()
    a.add_weight_grad(dy, x)
    np.testing.assert_array_equal(a.grads["weight"], g)


@pytest.mark.parametrize("layer", [nn.BatchNorm2d(2), nn.Tanh(), nn.Sigmoid(), nn.ConvTranspose2d(2, 2, 3)], ids=repr)
def test_layers_without_a_tangent_say_so(layer):
    layer.forward(np.ones((1, 2, 3, 3), np.float32))
    with pytest.raises(NotImplementedError, match="has no tangent pass"):
        layer.tangent(np.ones((1, 2, 3, 3), np.float32))
