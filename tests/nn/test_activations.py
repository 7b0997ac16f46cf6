import numpy as np
import pytest
from hypothesis import given, strategies as st

from minigan import nn
from tests.gradcheck import check_layer_gradients
from tests.strategies import seeds

shapes = st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple)
layers = st.sampled_from([nn.ReLU(), nn.LeakyReLU(0.2), nn.LeakyReLU(), nn.LeakyReLU(1.5), nn.Tanh(), nn.Sigmoid()])


@given(layer=layers, shape=shapes, seed=seeds)
def test_activation_gradients(layer, shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 3
    x = np.where(np.abs(x) < 0.01, 0.5, x)           # keep away from ReLU's kink at 0
    check_layer_gradients(layer, x, rng)


def test_values():
    x = np.array([-2.0, -0.5, 0.5, 3.0])
    np.testing.assert_allclose(nn.ReLU()(x), [0, 0, 0.5, 3])
    np.testing.assert_allclose(nn.LeakyReLU(0.2)(x), [-0.4, -0.1, 0.5, 3])
    np.testing.assert_allclose(nn.Tanh()(x), np.tanh(x))
    np.testing.assert_allclose(nn.Sigmoid()(x), 1 / (1 + np.exp(-x)))


def test_sigmoid_extreme_inputs_are_exact_and_silent():
    x = np.array([-1000.0, -300.0, 0.0, 300.0, 1000.0], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):   # no overflow, no NaN
        y = nn.Sigmoid()(x)
    np.testing.assert_array_equal(y, [0.0, 0.0, 0.5, 1.0, 1.0])
    assert np.isfinite(nn.Sigmoid().forward(np.array([-30.0]))[0]) and nn.Sigmoid()(np.array([-30.0]))[0] > 0


def test_activations_keep_memory_layout_and_dtype():
    x = np.random.default_rng(0).standard_normal((2, 4, 4, 3)).astype(np.float32).transpose(0, 3, 1, 2)
    for layer in [nn.ReLU(), nn.LeakyReLU(0.2), nn.LeakyReLU(1.5), nn.Tanh(), nn.Sigmoid()]:
        y = layer(x)
        assert y.dtype == np.float32 and y.strides == x.strides, layer
        dx = layer.backward(y)
        assert dx.dtype == np.float32 and dx.strides == x.strides, layer     # no float64 creeping in


def test_non_float_input_is_a_clear_error():
    with pytest.raises(ValueError, match="expected a float32 or float64 array, got int64"):
        nn.ReLU()(np.arange(3))
