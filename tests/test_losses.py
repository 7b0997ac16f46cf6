import numpy as np
import pytest
from hypothesis import given, strategies as st

from minigan import nn
from minigan.losses import bce, bce_with_logits
from tests.gradcheck import assert_close, numerical_gradient
from tests.strategies import seeds

shapes = st.sampled_from([(1,), (5,), (4, 1, 1, 1), (3, 2)])


@given(shape=shapes, seed=seeds, soft=st.booleans())
def test_bce_gradient(shape, seed, soft):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.05, 0.95, shape)
    y = rng.uniform(0, 1, shape) if soft else rng.integers(0, 2, shape).astype(float)
    _, dp = bce(p, y)
    assert_close(dp, numerical_gradient(lambda: bce(p, y)[0], p), "bce dp")


@given(shape=shapes, seed=seeds, target=st.sampled_from([0.0, 1.0, 0.9]))
def test_bce_with_logits_gradient_is_p_minus_y(shape, seed, target):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(shape) * 4
    loss, dz = bce_with_logits(z, target)
    assert_close(dz, numerical_gradient(lambda: bce_with_logits(z, target)[0], z), "bce_with_logits dz")
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(dz, (p - target) / z.size, rtol=1e-12)
    # the two-step route (bce on sigmoid's output, then Sigmoid.backward) gives the same numbers
    s = nn.Sigmoid()
    loss2, dp = bce(s(z), target)
    assert np.isclose(loss, loss2, rtol=1e-9)
    np.testing.assert_allclose(s.backward(dp), dz, rtol=1e-7, atol=1e-12)


def test_bce_values_and_python_float():
    loss, _ = bce(np.array([0.5, 0.5]), 1.0)
    assert type(loss) is float and np.isclose(loss, np.log(2))
    assert np.isclose(bce_with_logits(np.array([0.0]), 0.0)[0], np.log(2))


def test_bce_saturated_probabilities_stay_finite_like_pytorch():
    p = np.array([0.0, 1.0], dtype=np.float32)
    with np.errstate(all="raise"):                           # and no divide-by-zero warning
        loss, dp = bce(p, np.array([1.0, 0.0], dtype=np.float32))
    assert loss == pytest.approx(100.0)                     # log clamped at -100
    assert np.all(np.isfinite(dp)) and dp.dtype == np.float32
    loss, dz = bce_with_logits(np.array([-1000.0, 1000.0]), np.array([1.0, 0.0]))
    assert loss == pytest.approx(1000.0) and np.all(np.isfinite(dz))


def test_target_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match=r"target shape \(3,\) does not match prediction shape \(4, 1\)"):
        bce(np.full((4, 1), 0.5), np.ones(3))
