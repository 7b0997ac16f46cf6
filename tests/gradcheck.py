"""Central finite differences, the oracle every backward pass is checked against.

For a layer with output y and a RANDOM upstream gradient dy, the scalar
``L = sum(y * dy)`` has dL/dx equal to what ``layer.backward(dy)`` must return
(and dL/dW what it must add into ``layer.grads``). A random dy matters: with
dy = ones, some wrong backward passes (BatchNorm's, famously) still pass.

    dL/dx[i] ~= (L(x + h e_i) - L(x - h e_i)) / (2h)      error O(h^2)
"""
from __future__ import annotations

import numpy as np


def numerical_gradient(f, x, h=1e-6):
    """d f() / d x by central differences; ``x`` is perturbed in place and restored."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        f_plus = f()
        x[idx] = old - h
        f_minus = f()
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


def assert_close(actual, expected, what, rtol=1e-6):
    """Max error relative to the gradient's scale (so tiny and huge gradients are judged alike)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = max(1.0, float(np.abs(expected).max(initial=0)))
    err = float(np.abs(actual - expected).max(initial=0)) / scale
    assert err < rtol, f"{what}: analytic and numerical gradients differ (relative error {err:.2e})"


def check_layer_gradients(layer, x, rng, rtol=1e-6):
    """Check ``layer.backward`` against finite differences for the input and every parameter."""
    y = layer.forward(x)
    dy = rng.standard_normal(y.shape)

    def loss():
        return float(np.sum(layer.forward(x) * dy))

    layer.zero_grad()
    layer.forward(x)
    dx = layer.backward(dy)
    assert_close(dx, numerical_gradient(loss, x), f"{layer!r} dL/dx", rtol)
    for name, p, g in list(layer.parameters()):
        analytic = g.copy()
        assert_close(analytic, numerical_gradient(loss, p), f"{layer!r} dL/d{name}", rtol)


def kink_margin(net, x):
    """Smallest |input| of any ReLU/LeakyReLU in a Sequential on ``x``.

    Finite differences are only valid where the function is smooth: if a
    pre-activation sits within ~h of 0, the +h/-h evaluations straddle the
    kink and the 'numerical gradient' is wrong, not the code. Tests that push
    random inputs through whole networks skip such draws (hypothesis.assume).
    """
    from minigan.nn import LeakyReLU, ReLU

    margin = float("inf")
    for layer in net.layers:
        if isinstance(layer, (ReLU, LeakyReLU)):
            margin = min(margin, float(np.abs(x).min()))
        x = layer.forward(x)
    return margin


def batchnorm_margin(net, x):
    """Smallest batch variance of any channel going into a BatchNorm of a Sequential on ``x``.

    A channel whose values in the batch (nearly) coincide -- two images at a
    1x1 map, say -- has a variance far below BatchNorm's ``eps``; the map
    x -> x_hat is then so curved that a central difference with h = 1e-6 no
    longer approximates its derivative. Tests of whole networks skip such
    draws (hypothesis.assume), as they skip ReLU kinks.
    """
    from minigan.nn.batchnorm import _BatchNorm

    margin = float("inf")
    for layer in net.layers:
        if isinstance(layer, _BatchNorm):
            margin = min(margin, float(layer.to_rows(x).var(axis=0).min()))
        x = layer.forward(x)
    return margin
