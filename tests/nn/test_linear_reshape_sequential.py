import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

from minigan import nn
from tests.gradcheck import batchnorm_margin, check_layer_gradients, kink_margin
from tests.strategies import seeds


@given(N=st.integers(1, 4), i=st.integers(1, 6), o=st.integers(1, 6), bias=st.booleans(), seed=seeds)
def test_linear_gradients(N, i, o, bias, seed):
    rng = np.random.default_rng(seed)
    check_layer_gradients(nn.Linear(i, o, bias=bias, dtype="float64", rng=rng), rng.standard_normal((N, i)), rng)


@given(seed=seeds)
def test_small_network_gradients_through_every_layer_kind(seed):
    rng = np.random.default_rng(seed)
    net = nn.Sequential(
        nn.Linear(3, 8, dtype="float64", rng=rng), nn.BatchNorm1d(8, dtype="float64"), nn.ReLU(),
        nn.Reshape(2, 2, 2), nn.ConvTranspose2d(2, 3, 3, 2, 1, 1, dtype="float64", rng=rng),
        nn.BatchNorm2d(3, dtype="float64"), nn.LeakyReLU(0.2),
        nn.Conv2d(3, 2, 3, 2, 1, dtype="float64", rng=rng), nn.Tanh(), nn.Flatten(),
        nn.Linear(8, 1, dtype="float64", rng=rng), nn.Sigmoid(),
    )
    x = rng.standard_normal((4, 3))
    assume(kink_margin(net, x) > 1e-4)          # finite differences must not straddle a ReLU kink,
    assume(batchnorm_margin(net, x) > 1e-5)     # nor a BatchNorm over values that (nearly) coincide
    check_layer_gradients(net, x, rng)


def test_sequential_names_params_grads_and_buffers():
    net = nn.Sequential(nn.Conv2d(1, 2, 3, bias=False), nn.BatchNorm2d(2), nn.ReLU())
    assert list(net.params) == ["0.weight", "1.weight", "1.bias"]
    assert list(net.grads) == list(net.params)
    assert list(net.buffers) == ["1.running_mean", "1.running_var"]
    assert net.grads["0.weight"] is net.layers[0].grads["weight"]
    assert [n for n, _, _ in net.parameters()] == list(net.params)
    assert net.num_parameters() == 2 * 9 + 2 + 2
    net.eval()
    assert not any(m.training for _, m in net.named_modules())


def test_reshape_and_flatten_round_trip():
    x = np.arange(24, dtype=np.float64).reshape(2, 12)
    r = nn.Reshape(3, 2, 2)
    y = r(x)
    assert y.shape == (2, 3, 2, 2)
    assert r.backward(y).shape == (2, 12)
    f = nn.Flatten()
    assert f(y).shape == (2, 12) and f.backward(f(y)).shape == (2, 3, 2, 2)
    with pytest.raises(ValueError, match=r"12 values per sample, cannot reshape to \(N, 5, 2\)"):
        nn.Reshape(5, 2)(x)


def test_linear_wrong_features_is_a_clear_error():
    with pytest.raises(ValueError, match=r"Linear\(in_features=4.*expected input of shape \(N, 4\), got \(2, 5\)"):
        nn.Linear(4, 3)(np.zeros((2, 5), np.float32))


def test_sequential_rejects_non_modules():
    with pytest.raises(TypeError, match="argument 1 is a ufunc, not a minigan Module"):
        nn.Sequential(nn.ReLU(), np.tanh)
