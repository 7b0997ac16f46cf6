"""Translation: finite differences, the loop oracle, the adjoint identity, and the reference code's semantics."""
import numpy as np
from hypothesis import given, strategies as st

from minigan.augment.translation import draw_translation, max_shift, translate, translate_backward, translate_naive
from tests.augment.strategies import image_shapes
from tests.gradcheck import assert_close, numerical_gradient
from tests.strategies import seeds


@st.composite
def shapes_and_shifts(draw):
    """A batch shape and per-image shifts, also past the border (|shift| up to size + 1)."""
    N, C, H, W = draw(image_shapes())
    shift_h = np.array(draw(st.lists(st.integers(-H - 1, H + 1), min_size=N, max_size=N)))
    shift_w = np.array(draw(st.lists(st.integers(-W - 1, W + 1), min_size=N, max_size=N)))
    return (N, C, H, W), shift_h, shift_w


@given(case=shapes_and_shifts(), seed=seeds)
def test_translate_gradient_matches_finite_differences(case, seed):
    shape, shift_h, shift_w = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    dy = rng.standard_normal(shape)                               # a random upstream gradient
    numeric = numerical_gradient(lambda: float(np.sum(translate(x, shift_h, shift_w) * dy)), x)
    assert_close(translate_backward(dy, shift_h, shift_w), numeric, "translate dL/dx")


@given(case=shapes_and_shifts(), seed=seeds)
def test_translate_matches_the_loop_oracle(case, seed):
    shape, shift_h, shift_w = case
    x = np.random.default_rng(seed).standard_normal(shape)
    np.testing.assert_array_equal(translate(x, shift_h, shift_w), translate_naive(x, shift_h, shift_w))


@given(case=shapes_and_shifts(), seed=seeds)
def test_translate_backward_is_the_adjoint(case, seed):
    """<T x, y> = <x, T^T y>: the opposite shift with zero fill is the transpose."""
    shape, shift_h, shift_w = case
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal(shape), rng.standard_normal(shape)
    lhs = np.sum(translate(x, shift_h, shift_w) * y)
    rhs = np.sum(x * translate_backward(y, shift_h, shift_w))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12, atol=1e-12)


@given(shape=image_shapes(), seed=seeds)
def test_translation_by_zero_is_the_identity(shape, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    zero = np.zeros(shape[0], dtype=np.int64)
    np.testing.assert_array_equal(translate(x, zero, zero), x)
    np.testing.assert_array_equal(translate_backward(x, zero, zero), x)


def test_translate_by_hand():
    """y[i, j] = x[i + a, j + b] with zero fill: (a, b) = (1, -1) moves the picture up a row and right a column."""
    x = np.arange(1.0, 17.0).reshape(1, 1, 4, 4)                  # 1..16, row by row
    y = translate(x, np.array([1]), np.array([-1]))
    np.testing.assert_array_equal(y[0, 0], [[0, 5, 6, 7],
                                            [0, 9, 10, 11],
                                            [0, 13, 14, 15],
                                            [0, 0, 0, 0]])
    dx = translate_backward(y, np.array([1]), np.array([-1]))     # back down and left: the part that survived
    np.testing.assert_array_equal(dx[0, 0], [[0, 0, 0, 0],
                                             [5, 6, 7, 0],
                                             [9, 10, 11, 0],
                                             [13, 14, 15, 0]])


def test_each_image_gets_its_own_shift_and_all_channels_move_together():
    x = np.random.default_rng(0).standard_normal((3, 3, 5, 6))
    y = translate(x, np.array([0, 2, -1]), np.array([1, 0, -3]))
    np.testing.assert_array_equal(y[0, :, :, :5], x[0, :, :, 1:])
    np.testing.assert_array_equal(y[1, :, :3], x[1, :, 2:])
    np.testing.assert_array_equal(y[2, :, 1:, 3:], x[2, :, :4, :3])


def test_max_shift_rounds_half_up_like_the_reference():
    """int(size * 0.125 + 0.5): 28 -> 3.5 -> 4, 4 -> 0.5 -> 1, 3 -> 0.375 -> 0."""
    assert [max_shift(s) for s in (1, 3, 4, 8, 12, 20, 28, 32, 64)] == [0, 0, 1, 1, 2, 3, 4, 4, 8]
    assert max_shift(28, 0.0) == 0 and max_shift(28, 1.0) == 28


def test_drawn_shifts_cover_exactly_the_allowed_range():
    p = draw_translation(np.random.default_rng(0), 4000, 28, 12)  # max shifts 4 and 2 (12 * 0.125 = 1.5 -> 2)
    assert set(p["shift_h"].tolist()) == set(range(-4, 5))
    assert set(p["shift_w"].tolist()) == set(range(-2, 3))
    assert p["shift_h"].shape == (4000,) and p["shift_h"].dtype.kind == "i"


def test_translate_keeps_dtype():
    x = np.ones((2, 3, 4, 5), np.float32)
    y = translate(x, np.array([1, -2]), np.array([0, 3]))
    assert y.dtype == np.float32 and y.shape == x.shape
    assert translate_backward(y, np.array([1, -2]), np.array([0, 3])).dtype == np.float32
