import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

from minigan import nn
from tests.gradcheck import batchnorm_margin, check_layer_gradients
from tests.strategies import seeds


def randomized_bn(layer, rng):
    """gamma and beta away from (1, 0), so a backward that ignores them fails."""
    layer.params["weight"][...] = rng.uniform(0.5, 2.0, layer.params["weight"].shape)
    layer.params["bias"][...] = rng.standard_normal(layer.params["bias"].shape)
    return layer


@given(N=st.integers(1, 3), C=st.integers(1, 4), H=st.integers(1, 4), W=st.integers(1, 4),
       channels_last=st.booleans(), train=st.booleans(), seed=seeds)
def test_batchnorm2d_gradients_through_batch_statistics(N, C, H, W, channels_last, train, seed):
    if train and N * H * W < 2:
        N = 2                                   # a variance needs two values per channel
    rng = np.random.default_rng(seed)
    layer = randomized_bn(nn.BatchNorm2d(C, dtype="float64"), rng)
    if not train:
        layer.buffers["running_mean"][...] = rng.standard_normal(C)
        layer.buffers["running_var"][...] = rng.uniform(0.5, 2.0, C)
        layer.eval()
    x = rng.standard_normal((N, H, W, C)).transpose(0, 3, 1, 2) if channels_last else rng.standard_normal((N, C, H, W))
    x = 3.0 * x + 1.5                            # mean and scale away from 0 and 1
    assume(not train or batchnorm_margin(nn.Sequential(layer), x) > 1e-3)   # no (nearly) coinciding values
    check_layer_gradients(layer, x, rng)


@given(N=st.integers(2, 6), C=st.integers(1, 5), train=st.booleans(), seed=seeds)
def test_batchnorm1d_gradients(N, C, train, seed):
    rng = np.random.default_rng(seed)
    layer = randomized_bn(nn.BatchNorm1d(C, dtype="float64"), rng).train(train)
    x = rng.standard_normal((N, C)) * 2 - 1
    assume(not train or batchnorm_margin(nn.Sequential(layer), x) > 1e-3)   # no (nearly) coinciding values
    check_layer_gradients(layer, x, rng)


def test_train_mode_normalizes_with_batch_statistics():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 3, 5, 5)) * 4 + 2
    y = nn.BatchNorm2d(3, dtype="float64")(x)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, atol=1e-3)   # eps keeps it just under 1


def test_running_stats_follow_pytorch_formulas():
    rng = np.random.default_rng(0)
    layer = nn.BatchNorm2d(3, momentum=0.3, dtype="float64")
    rm, rv = np.zeros(3), np.ones(3)
    for _ in range(3):
        x = rng.standard_normal((4, 3, 2, 5)) * 2 + 1
        layer(x)
        M = 4 * 2 * 5
        rm = 0.7 * rm + 0.3 * x.mean(axis=(0, 2, 3))
        rv = 0.7 * rv + 0.3 * x.var(axis=(0, 2, 3)) * M / (M - 1)    # unbiased in the running estimate
    np.testing.assert_allclose(layer.buffers["running_mean"], rm, rtol=1e-12)
    np.testing.assert_allclose(layer.buffers["running_var"], rv, rtol=1e-12)


def test_eval_mode_uses_running_stats_and_leaves_them_alone():
    rng = np.random.default_rng(1)
    layer = randomized_bn(nn.BatchNorm2d(2, dtype="float64"), rng)
    layer.buffers["running_mean"][...] = [1.0, -2.0]
    layer.buffers["running_var"][...] = [4.0, 0.25]
    layer.eval()
    x = rng.standard_normal((3, 2, 4, 4))
    y = layer(x)
    g, b = layer.params["weight"], layer.params["bias"]
    expected = (x - np.array([1.0, -2.0])[:, None, None]) / np.sqrt(np.array([4.0, 0.25]) + 1e-5)[:, None, None]
    expected = expected * g[:, None, None] + b[:, None, None]
    np.testing.assert_allclose(y, expected, rtol=1e-12)
    np.testing.assert_array_equal(layer.buffers["running_mean"], [1.0, -2.0])


def test_single_value_per_channel_in_training_is_a_clear_error():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(np.zeros((1, 3), np.float32))


def test_wrong_channel_count_is_a_clear_error():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(8.*expected input of shape \(N, 8, H, W\), got \(2, 4, 3, 3\)"):
        nn.BatchNorm2d(8)(np.zeros((2, 4, 3, 3), np.float32))
