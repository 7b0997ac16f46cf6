import numpy as np
import pytest
from hypothesis import given, strategies as st

from minigan.losses import softmax_cross_entropy
from tests.gradcheck import assert_close, numerical_gradient
from tests.strategies import seeds


@given(N=st.integers(1, 5), K=st.integers(2, 6), scale=st.sampled_from([0.1, 1.0, 5.0]), seed=seeds)
def test_softmax_cross_entropy_gradient(N, K, scale, seed):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((N, K)) * scale
    y = rng.integers(0, K, N)
    c = rng.standard_normal()                  # a random upstream gradient: d(c * loss)/dz = c * dz
    _, dz = softmax_cross_entropy(z, y)
    assert_close(c * dz, numerical_gradient(lambda: c * softmax_cross_entropy(z, y)[0], z), "softmax CE dz")


@given(N=st.integers(1, 5), K=st.integers(2, 6), seed=seeds)
def test_gradient_is_softmax_minus_onehot_over_n(N, K, seed):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((N, K))
    y = rng.integers(0, K, N)
    loss, dz = softmax_cross_entropy(z, y)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(dz, (p - np.eye(K)[y]) / N, rtol=1e-12, atol=1e-15)
    assert np.isclose(loss, -np.mean(np.log(p[np.arange(N), y])), rtol=1e-12)
    np.testing.assert_allclose(dz.sum(axis=1), 0, atol=1e-15)   # each row of p - onehot sums to 0


def test_values_and_python_float():
    loss, _ = softmax_cross_entropy(np.zeros((3, 4)), np.array([0, 1, 3]))
    assert type(loss) is float and np.isclose(loss, np.log(4))            # uniform guess: log K
    loss, dz = softmax_cross_entropy(np.array([[0.0, 100.0]]), np.array([1]))
    assert loss == pytest.approx(0.0, abs=1e-30) and np.abs(dz).max() < 1e-30


def test_extreme_logits_stay_finite_and_keep_dtype():
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0]], dtype=np.float32)
    loss, dz = softmax_cross_entropy(z, np.array([1, 0]))
    assert loss == pytest.approx(2000 + np.log(2) / 2) and np.all(np.isfinite(dz)) and dz.dtype == np.float32
    loss, _ = softmax_cross_entropy(z, np.array([0, 2]))
    assert loss == pytest.approx(np.log(2) / 2, rel=1e-5)


@pytest.mark.parametrize("z, y, needle", [
    (np.zeros(3), np.array([0]), "logits must be (N, K)"),
    (np.zeros((2, 3)), np.array([0, 1, 2]), "labels must be (2,) integer"),
    (np.zeros((2, 3)), np.array([0.0, 1.0]), "labels must be (2,) integer"),
    (np.zeros((2, 3)), np.array([0, 3]), "labels must be in [0, 3)"),
])
def test_bad_arguments_are_clear_errors(z, y, needle):
    with pytest.raises(ValueError) as e:
        softmax_cross_entropy(z, y)
    assert needle in str(e.value)
