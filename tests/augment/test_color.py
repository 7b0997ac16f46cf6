"""Colour: finite differences through the means, the invariants each map keeps, and a hand-checked example."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from minigan.augment.color import (adjust_brightness, adjust_brightness_backward, adjust_contrast,
                                   adjust_contrast_backward, adjust_saturation, adjust_saturation_backward,
                                   color, color_backward, draw_color)
from tests.augment.strategies import image_shapes
from tests.gradcheck import assert_close, numerical_gradient
from tests.strategies import seeds

MAPS = {
    "brightness": (adjust_brightness, adjust_brightness_backward),
    "saturation": (adjust_saturation, adjust_saturation_backward),
    "contrast": (adjust_contrast, adjust_contrast_backward),
}


@pytest.mark.parametrize("name", MAPS)
@given(shape=image_shapes(), seed=seeds)
def test_each_map_gradient_matches_finite_differences(name, shape, seed):
    forward, backward = MAPS[name]
    rng = np.random.default_rng(seed)
    x, dy = rng.standard_normal(shape), rng.standard_normal(shape)
    factor = draw_color(rng, shape[0])[name]
    numeric = numerical_gradient(lambda: float(np.sum(forward(x, factor) * dy)), x)
    assert_close(backward(dy, factor), numeric, f"{name} dL/dx")


@given(shape=image_shapes(), seed=seeds)
def test_color_gradient_matches_finite_differences(shape, seed):
    rng = np.random.default_rng(seed)
    x, dy = rng.standard_normal(shape), rng.standard_normal(shape)
    p = draw_color(rng, shape[0])
    numeric = numerical_gradient(lambda: float(np.sum(color(x, **p) * dy)), x)
    assert_close(color_backward(dy, **p), numeric, "color dL/dx")


@given(shape=image_shapes(), seed=seeds)
def test_neutral_factors_are_the_identity(shape, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    N = shape[0]
    p = {"brightness": np.zeros(N), "saturation": np.ones(N), "contrast": np.ones(N)}
    np.testing.assert_allclose(color(x, **p), x, rtol=0, atol=1e-12)
    np.testing.assert_allclose(color_backward(x, **p), x, rtol=0, atol=1e-12)


@given(shape=image_shapes(), seed=seeds)
def test_saturation_keeps_each_pixels_grey_value_and_contrast_each_images_mean(shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    p = draw_color(rng, shape[0])
    np.testing.assert_allclose(adjust_saturation(x, p["saturation"]).mean(axis=1), x.mean(axis=1), atol=1e-12)
    np.testing.assert_allclose(adjust_contrast(x, p["contrast"]).mean(axis=(1, 2, 3)), x.mean(axis=(1, 2, 3)),
                               atol=1e-12)


@given(N=st.integers(1, 3), H=st.integers(1, 5), W=st.integers(1, 5), seed=seeds)
def test_saturation_of_one_channel_is_the_identity(N, H, W, seed):
    """With C = 1 the channel mean is the pixel itself: (x - x) s + x = x."""
    rng = np.random.default_rng(seed)
    x, dy = rng.standard_normal((N, 1, H, W)), rng.standard_normal((N, 1, H, W))
    s = draw_color(rng, N)["saturation"]
    np.testing.assert_array_equal(adjust_saturation(x, s), x)
    np.testing.assert_allclose(adjust_saturation_backward(dy, s), dy, rtol=1e-12, atol=1e-12)


def test_color_by_hand():
    """One 3-channel image of 2 pixels, b = 0.25, s = 0.5, k = 2, worked out on paper.

    x (channels x pixels)     = [[0, 1], [1, 0], [2, 2]]
    + b                       = [[.25, 1.25], [1.25, .25], [2.25, 2.25]];  per-pixel means m_c = [1.25, 1.25]
    saturation (x - m_c)/2 + m_c = [[.75, 1.25], [1.25, .75], [1.75, 1.75]]; image mean m = 1.25
    contrast (x - m) 2 + m    = [[.25, 1.25], [1.25, .25], [2.25, 2.25]]
    """
    x = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]]).reshape(1, 3, 1, 2)
    p = {"brightness": np.array([0.25]), "saturation": np.array([0.5]), "contrast": np.array([2.0])}
    expected = np.array([[0.25, 1.25], [1.25, 0.25], [2.25, 2.25]]).reshape(1, 3, 1, 2)
    np.testing.assert_allclose(color(x, **p), expected, rtol=0, atol=1e-15)
    # backward of a one-hot dy at channel 0, pixel 0, in reverse order:
    # contrast (k = 2, M = 6 values):  v = k dy + (1 - k) mean(dy) = 2 dy - 1/6
    #   -> channels x pixels [[11/6, -1/6], [-1/6, -1/6], [-1/6, -1/6]]
    # saturation (s = 1/2): v/2 + mean_c(v)/2, channel means [1/2, -1/6]
    #   -> [[7/6, -1/6], [1/6, -1/6], [1/6, -1/6]];  brightness passes it on.
    dy = np.zeros_like(x)
    dy[0, 0, 0, 0] = 1.0
    dx = np.array([[7 / 6, -1 / 6], [1 / 6, -1 / 6], [1 / 6, -1 / 6]]).reshape(1, 3, 1, 2)
    np.testing.assert_allclose(color_backward(dy, **p), dx, rtol=0, atol=1e-15)
    assert np.isclose(dx.sum(), 1.0)    # color(x + c) = color(x) + c, so the gradients sum to sum(dy)


def test_drawn_factors_have_the_reference_ranges():
    p = draw_color(np.random.default_rng(0), 5000)
    for name, (lo, hi) in {"brightness": (-0.5, 0.5), "saturation": (0.0, 2.0), "contrast": (0.5, 1.5)}.items():
        v = p[name]
        assert v.shape == (5000,) and lo <= v.min() and v.max() < hi, name
        assert v.min() < lo + 0.01 and v.max() > hi - 0.01, name   # the whole range is used


def test_color_keeps_dtype():
    x = np.ones((2, 3, 4, 4), np.float32)
    p = {k: v.astype(np.float32) for k, v in draw_color(np.random.default_rng(0), 2).items()}
    assert color(x, **p).dtype == np.float32 and color_backward(x, **p).dtype == np.float32
