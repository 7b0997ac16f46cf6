"""batches: one shuffled epoch, scaled to [-1, 1], NCHW float32, optional bilinear resize."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigan.job.data import batches


def scaled(value):
    """What batches makes of a uint8 value, computed in float32 as it does."""
    return np.float32(value) / np.float32(127.5) - np.float32(1)


def numbered(N, H=4, W=4, C=None):
    """N uint8 images, image i filled with the value i (so a batch says which images it holds)."""
    shape = (N, H, W) if C is None else (N, H, W, C)
    return np.broadcast_to(np.arange(N, dtype=np.uint8).reshape((N,) + (1,) * (len(shape) - 1)), shape).copy()


def ids(x):
    """Recover the image numbers from a batch: undo the [-1, 1] scaling of pixel (0, 0)."""
    return np.rint((x[:, 0, 0, 0] + 1) * 127.5).astype(int).tolist()


def test_layout_dtype_and_scale():
    images = np.zeros((4, 3, 5, 2), np.uint8)  # (N, H, W, C)
    images[..., 0] = 0
    images[..., 1] = 255
    images[1, 2, 4, 0] = 51  # one marked pixel: image 1, row 2, column 4, channel 0
    x = next(batches(images, 4, np.random.default_rng(0)))
    assert x.shape == (4, 2, 3, 5) and x.dtype == np.float32 and x.flags.c_contiguous  # (B, C, H, W)
    assert x.min() == -1.0 and x.max() == 1.0  # 0 -> -1, 255 -> +1 exactly
    assert np.all(x[:, 1] == 1.0)
    marked = np.argwhere(x > -1.0)
    marked = marked[marked[:, 1] == 0]  # channel 0
    assert marked[:, 1:].tolist() == [[0, 2, 4]] and x[tuple(marked[0])] == scaled(51)


def test_grayscale_gets_one_channel():
    x = next(batches(np.zeros((3, 28, 28), np.uint8), 2, np.random.default_rng(0)))
    assert x.shape == (2, 1, 28, 28)


@given(N=st.integers(1, 40), data=st.data(), drop_last=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_an_epoch_visits_each_image_once(N, data, drop_last, seed):
    batch_size = data.draw(st.integers(1, N))
    seen = [ids(x) for x in batches(numbered(N), batch_size, np.random.default_rng(seed), drop_last)]
    sizes = [len(batch) for batch in seen]
    full, rest = divmod(N, batch_size)
    assert sizes == [batch_size] * full + ([rest] if rest and not drop_last else [])
    flat = sum(seen, [])
    assert len(set(flat)) == len(flat)  # no image twice
    if not drop_last:
        assert sorted(flat) == list(range(N))


def test_same_seed_same_order_and_each_epoch_reshuffles():
    images = numbered(50)
    first = [ids(x) for x in batches(images, 10, np.random.default_rng(7))]
    again = [ids(x) for x in batches(images, 10, np.random.default_rng(7))]
    assert first == again
    rng = np.random.default_rng(7)
    epoch1 = [ids(x) for x in batches(images, 10, rng)]
    epoch2 = [ids(x) for x in batches(images, 10, rng)]
    assert epoch1 == first and epoch2 != epoch1
    assert sum(first, []) != list(range(50))  # actually shuffled


def test_accepts_an_image_folder_like_object():
    class Folder:
        images = numbered(6, C=3)
    x = next(batches(Folder(), 6, np.random.default_rng(0)))
    assert x.shape == (6, 3, 4, 4) and sorted(ids(x)) == list(range(6))


# --------------------------------------------------------------------------- resizing
@pytest.mark.parametrize("size", [32, 64])
def test_resize_28_to_size(size):
    images = numbered(3, 28, 28)
    x = next(batches(images, 3, np.random.default_rng(0), size=size))
    assert x.shape == (3, 1, size, size)
    for image in x:  # a constant picture stays constant: the same value all over
        assert np.all(image == image[0, 0, 0])


def test_resize_is_bilinear():
    # A horizontal ramp, value 9 * column. Bilinear resizing by 2 samples output column j
    # at input position (j + 0.5) / 2 - 0.5 (pixel centres), and a ramp interpolates exactly.
    ramp = np.tile((9 * np.arange(28)).astype(np.uint8), (28, 1))  # (28, 28), 0..243
    x = next(batches(ramp[None], 1, np.random.default_rng(0), size=56))[0, 0]  # (56, 56)
    got = (x + 1) * 127.5
    j = np.arange(2, 54)  # away from the borders, where the filter is clipped
    np.testing.assert_allclose(got[:, j], np.broadcast_to(9 * ((j + 0.5) / 2 - 0.5), (56, 52)), atol=1.0)


def test_resize_keeps_channels_apart():
    images = np.zeros((2, 28, 28, 3), np.uint8)
    images[..., 0], images[..., 1], images[..., 2] = 0, 100, 255
    x = next(batches(images, 2, np.random.default_rng(0), size=64))
    assert x.shape == (2, 3, 64, 64)
    for c, value in enumerate((0, 100, 255)):
        assert np.all(x[:, c] == scaled(value))


# --------------------------------------------------------------------------- errors, raised at the call
@pytest.mark.parametrize("batch_size, error, message", [
    (0, ValueError, r"batch_size must be between 1 and the number of images \(5\), got 0"),
    (-3, ValueError, r"between 1 and the number of images \(5\), got -3"),
    (6, ValueError, r"between 1 and the number of images \(5\), got 6"),
    (2.0, TypeError, "batch_size must be an int, got 2.0"),
    (True, TypeError, "batch_size must be an int, got True"),
])
def test_bad_batch_size(batch_size, error, message):
    with pytest.raises(error, match=message):
        batches(numbered(5), batch_size, np.random.default_rng(0))


@pytest.mark.parametrize("images, message", [
    (np.zeros((5, 4, 4), np.float32), r"uint8 array \(N, H, W\) or \(N, H, W, C\), got float32 \(5, 4, 4\)"),
    (np.zeros((4, 4), np.uint8), r"got uint8 \(4, 4\)"),
    ([[0, 1]], "got list"),
])
def test_bad_images(images, message):
    with pytest.raises(ValueError, match=message):
        batches(images, 1, np.random.default_rng(0))


def test_bad_rng_and_size():
    with pytest.raises(TypeError, match=r"rng must be a numpy.random.Generator \(numpy.random.default_rng"
                                        r"\(seed\)\), got RandomState"):
        batches(numbered(5), 1, np.random.RandomState(0))
    with pytest.raises(ValueError, match="size must be a positive int or None, got 0"):
        batches(numbered(5), 1, np.random.default_rng(0), size=0)


def test_resize_plane_keeps_the_dtype_and_agrees_between_uint8_and_float():
    from minigan.job.data.batches import resize_plane
    plane = np.random.default_rng(0).integers(0, 256, (28, 28)).astype(np.uint8)
    small, smooth = resize_plane(plane, (64, 48)), resize_plane(plane.astype(np.float64), (64, 48))
    assert small.dtype == np.uint8 and small.shape == (64, 48)
    assert smooth.dtype == np.float32 and smooth.shape == (64, 48)
    assert np.abs(small.astype(np.float32) - smooth).max() <= 1.0     # the same filter, 8-bit vs float


def test_start_skips_batches_without_changing_the_order():
    images = np.arange(10 * 4 * 4, dtype=np.uint8).reshape(10, 4, 4)
    whole = list(batches(images, 3, np.random.default_rng(7)))
    later = list(batches(images, 3, np.random.default_rng(7), start=2))
    assert len(later) == 1 and np.array_equal(later[0], whole[2])
    assert list(batches(images, 3, np.random.default_rng(7), start=5)) == []


def test_bad_start_is_a_clear_error():
    with pytest.raises(ValueError, match=r"start must be an int >= 0 \(a batch index\), got -1"):
        batches(np.zeros((4, 2, 2), np.uint8), 2, np.random.default_rng(0), start=-1)
