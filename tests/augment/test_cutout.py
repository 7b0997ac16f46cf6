"""Cutout: finite differences, size 0 as the identity, and the reference code's rectangle."""
import numpy as np
from hypothesis import given, strategies as st

from minigan.augment.cutout import cutout, cutout_backward, cutout_mask, cutout_size, draw_cutout
from tests.augment.strategies import image_shapes
from tests.gradcheck import assert_close, numerical_gradient
from tests.strategies import seeds


@st.composite
def shapes_and_rectangles(draw):
    """A batch shape, per-image centres as the reference draws them, and any size 0..size + 1."""
    N, C, H, W = draw(image_shapes())
    size_h, size_w = draw(st.integers(0, H + 1)), draw(st.integers(0, W + 1))
    centre_h = np.array(draw(st.lists(st.integers(0, H), min_size=N, max_size=N)))
    centre_w = np.array(draw(st.lists(st.integers(0, W), min_size=N, max_size=N)))
    return (N, C, H, W), dict(centre_h=centre_h, centre_w=centre_w, size_h=size_h, size_w=size_w)


def reference_mask(N, H, W, centre_h, centre_w, size_h, size_w):
    """The reference code's construction, as loops: zero the pixels (centre - size // 2 + k) for k < size,
    each index clamped into the image."""
    mask = np.ones((N, 1, H, W))
    for n in range(N):
        for k in range(size_h):
            for l in range(size_w):
                i = min(max(centre_h[n] - size_h // 2 + k, 0), H - 1)
                j = min(max(centre_w[n] - size_w // 2 + l, 0), W - 1)
                mask[n, 0, i, j] = 0
    return mask


@given(case=shapes_and_rectangles(), seed=seeds)
def test_cutout_gradient_matches_finite_differences(case, seed):
    shape, p = case
    rng = np.random.default_rng(seed)
    x, dy = rng.standard_normal(shape), rng.standard_normal(shape)
    numeric = numerical_gradient(lambda: float(np.sum(cutout(x, **p) * dy)), x)
    assert_close(cutout_backward(dy, **p), numeric, "cutout dL/dx")


@given(shape=image_shapes(), seed=seeds, data=st.data())
def test_cutout_matches_the_reference_construction(shape, seed, data):
    """For the centres and sizes the reference draws (size >= 1, centre in 0 .. size - size % 2),
    clamping the cut rows into the image and cutting the rectangle at the border agree."""
    N, C, H, W = shape
    rng = np.random.default_rng(seed)
    ratio = data.draw(st.sampled_from([0.25, 0.5, 0.75, 1.0]))
    p = draw_cutout(rng, N, H, W, ratio)
    x = rng.standard_normal(shape)
    expected = x * reference_mask(N, H, W, **p)
    np.testing.assert_array_equal(cutout(x, **p), expected)


@given(shape=image_shapes(), seed=seeds)
def test_cutout_of_size_zero_is_the_identity(shape, seed):
    N = shape[0]
    x = np.random.default_rng(seed).standard_normal(shape)
    centre = np.zeros(N, dtype=np.int64)
    np.testing.assert_array_equal(cutout(x, centre, centre, 0, 0), x)
    np.testing.assert_array_equal(cutout(x, centre, centre, 0, 3), x)    # an empty rectangle, however wide
    np.testing.assert_array_equal(cutout_backward(x, centre, centre, 0, 0), x)


def test_cutout_by_hand():
    """A 2 x 2 square on a 4 x 4 image: centred on a corner it sticks out by half; inside it cuts 4 pixels."""
    x = np.arange(1.0, 17.0).reshape(1, 1, 4, 4)
    y = cutout(x, np.array([0]), np.array([3]), 2, 2)             # rows -1..0 -> 0, cols 2..3
    np.testing.assert_array_equal(y[0, 0], [[1, 2, 0, 0],
                                            [5, 6, 7, 8],
                                            [9, 10, 11, 12],
                                            [13, 14, 15, 16]])
    y = cutout(x, np.array([2]), np.array([2]), 2, 2)             # rows 1..2, cols 1..2
    np.testing.assert_array_equal(y[0, 0], [[1, 2, 3, 4],
                                            [5, 0, 0, 8],
                                            [9, 0, 0, 12],
                                            [13, 14, 15, 16]])
    x5 = np.ones((1, 2, 5, 5))
    y = cutout(x5, np.array([4]), np.array([1]), 3, 3)            # odd size 3: rows 3..5 -> 3..4, cols 0..2
    expected = np.ones((5, 5))
    expected[3:, :3] = 0
    np.testing.assert_array_equal(y[0, 0], expected)
    np.testing.assert_array_equal(y[0, 1], expected)              # every channel


def test_cutout_size_and_centres_follow_the_reference():
    assert [cutout_size(s) for s in (1, 2, 3, 5, 28, 32)] == [1, 1, 2, 3, 14, 16]
    p = draw_cutout(np.random.default_rng(0), 3000, 28, 5)        # sizes 14 (even) and 3 (odd)
    assert (p["size_h"], p["size_w"]) == (14, 3)
    assert set(p["centre_h"].tolist()) == set(range(0, 29))       # even: 0 .. H
    assert set(p["centre_w"].tolist()) == set(range(0, 5))        # odd:  0 .. W - 1


def test_mask_is_boolean_and_broadcasts_over_channels():
    keep = cutout_mask(np.array([1, 3]), np.array([2, 0]), 2, 3, 4, 5)
    assert keep.shape == (2, 1, 4, 5) and keep.dtype == bool
    assert (~keep).sum(axis=(1, 2, 3)).tolist() == [2 * 3, 2 * 2]  # the second sticks out on the left
    x = np.ones((2, 3, 4, 5), np.float32)
    assert cutout(x, np.array([1, 3]), np.array([2, 0]), 2, 3).dtype == np.float32
