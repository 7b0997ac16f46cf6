"""make_grid / save_grid: value mapping, layout, padding, grayscale -> RGB, errors, atomic PNG."""
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from minigan.job.viz import make_grid, save_grid


def test_value_mapping_black_white_grey_and_clipping():
    x = np.array([-1.0, 1.0, 0.0, -5.0, 7.0, np.nan]).reshape(6, 1, 1, 1)
    g = make_grid(x, nrow=6, padding=0)
    assert g.dtype == np.uint8 and g.shape == (1, 6, 3)
    assert g[0, :, 0].tolist() == [0, 255, 128, 0, 255, 128]   # -1 -> 0, +1 -> 255, clipped, NaN grey


def test_grayscale_becomes_three_equal_channels():
    x = np.random.default_rng(0).uniform(-1, 1, (3, 1, 5, 4))
    g = make_grid(x, nrow=3, padding=1)
    assert g.shape[2] == 3
    assert np.array_equal(g[..., 0], g[..., 1]) and np.array_equal(g[..., 0], g[..., 2])


def test_rgb_channels_keep_their_order():
    x = -np.ones((1, 3, 2, 2))
    x[0, 0] = 1.0                                  # pure red
    g = make_grid(x, padding=0)
    assert g[0, 0].tolist() == [255, 0, 0]


def test_layout_padding_and_empty_cells():
    N, H, W, p = 5, 3, 4, 2
    x = np.stack([np.full((1, H, W), -1.0 + 0.5 * i) for i in range(N)])   # image i has one value
    g = make_grid(x, nrow=2, padding=p, pad_value=-1.0)                    # black border
    rows, cols = 3, 2                                                     # ceil(5 / 2) rows
    assert g.shape == (rows * (H + p) + p, cols * (W + p) + p, 3)
    for i in range(N):
        r, c = divmod(i, cols)
        y, x0 = p + r * (H + p), p + c * (W + p)
        tile = g[y:y + H, x0:x0 + W, 0]
        assert np.all(tile == np.rint((x[i, 0, 0, 0] + 1) * 127.5)), f"tile {i} misplaced"
    border = np.ones(g.shape[:2], bool)
    for i in range(N):
        r, c = divmod(i, cols)
        border[p + r * (H + p):p + r * (H + p) + H, p + c * (W + p):p + c * (W + p) + W] = False
    assert np.all(g[border] == 0)                  # padding and the empty 6th cell: exactly pad_value


def test_default_padding_is_white_and_fewer_images_than_nrow():
    g = make_grid(-np.ones((3, 1, 2, 2)))          # nrow=8 > N: one row of 3
    assert g.shape == (2 + 2 + 2, 3 * (2 + 2) + 2, 3)
    assert np.all(g[0] == 255) and np.all(g[:, 0] == 255)


@given(n=st.integers(1, 10), c=st.sampled_from([1, 3]), h=st.integers(1, 6), w=st.integers(1, 6),
       nrow=st.integers(1, 5), p=st.integers(0, 3))
def test_grid_shape_formula(n, c, h, w, nrow, p):
    g = make_grid(np.zeros((n, c, h, w), np.float32), nrow=nrow, padding=p)
    cols = min(nrow, n)
    rows = -(-n // cols)
    assert g.shape == (rows * (h + p) + p, cols * (w + p) + p, 3)


@pytest.mark.parametrize("shape", [(28, 28), (1, 28, 28), (4, 2, 8, 8), (0, 1, 8, 8), (2, 1, 1, 8, 8)])
def test_bad_shapes_name_the_expected_layout(shape):
    with pytest.raises(ValueError, match=r"\(N, C, H, W\).*" + re.escape(str(shape))):
        make_grid(np.zeros(shape))


def test_bad_nrow_padding_scale():
    x = np.zeros((2, 1, 3, 3))
    with pytest.raises(ValueError, match="nrow"):
        make_grid(x, nrow=0)
    with pytest.raises(ValueError, match="padding"):
        make_grid(x, padding=-1)
    with pytest.raises(ValueError, match="scale"):
        save_grid(x, "unused.png", scale=0)


def test_save_grid_png_with_nearest_neighbour_scale(tmp_path):
    x = np.random.default_rng(1).uniform(-1, 1, (6, 1, 7, 5))
    path = tmp_path / "sub" / "grid.png"
    save_grid(x, path, nrow=3, padding=1, scale=3)
    img = np.asarray(Image.open(path).convert("RGB"))
    small = make_grid(x, nrow=3, padding=1)
    assert img.shape == (small.shape[0] * 3, small.shape[1] * 3, 3)
    assert np.array_equal(img[::3, ::3], small) and np.array_equal(img[2::3, 1::3], small)
    assert sorted(p.name for p in path.parent.iterdir()) == ["grid.png"]   # no temp file left


def test_cupy_input_matches_numpy():
    cp = pytest.importorskip("cupy")
    try:
        x = cp.linspace(-1, 1, 2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    except Exception as e:  # CuPy installed but no usable GPU
        pytest.skip(f"no GPU: {e}")
    assert np.array_equal(make_grid(x), make_grid(x.get()))



def test_grid_scale_enlarges_small_pictures_only():
    from minigan.job.viz import grid_scale
    assert (grid_scale(28), grid_scale(32), grid_scale(64)) == (2, 2, 1)
