"""ImageFolder reads pictures stored in any Pillow mode with the right 8-bit values.

Each picture is 4x4 (the size loaded), so no resampling blurs the values checked.
"""
import numpy as np
import pytest
from PIL import Image

from minigan.job.data import ImageFolder
from minigan.job.data.folder import BACKGROUND, to_8bit_mode

LEVELS = np.array([[0, 64, 128, 255]] * 4, np.uint8)          # (4, 4): four gray levels, one per column


def load(tmp_path, picture, name, channels):
    folder = tmp_path / name.replace(".", "_")
    folder.mkdir()
    picture.save(folder / name)
    return ImageFolder(folder, size=4, channels=channels, report=False).images[0]   # (4, 4, channels)


@pytest.mark.parametrize("name", ["gray16.png", "gray16.tif"])
def test_16_bit_gray_is_scaled_not_clipped(tmp_path, name):
    sixteen = Image.fromarray(LEVELS.astype(np.uint16) * 257)   # 0, 16448, 32896, 65535 in mode I;16
    assert sixteen.mode == "I;16"
    gray = load(tmp_path, sixteen, name, channels=1)[..., 0]
    assert np.array_equal(gray, LEVELS)                         # not 99% white: 16448 -> 64, not 255
    assert np.array_equal(load(tmp_path, sixteen, "rgb_" + name, channels=3), np.repeat(LEVELS[..., None], 3, 2))


def test_32_bit_int_and_float_gray(tmp_path):
    as_int = Image.fromarray(LEVELS.astype(np.int32) * 257)     # mode I: read as 16-bit
    assert as_int.mode == "I"
    assert np.array_equal(load(tmp_path, as_int, "int.tif", channels=1)[..., 0], LEVELS)
    as_float = Image.fromarray(LEVELS.astype(np.float32) / 255)  # mode F in [0, 1]
    assert as_float.mode == "F"
    assert np.array_equal(load(tmp_path, as_float, "float.tif", channels=1)[..., 0], LEVELS)


def test_palette_pictures_go_through_rgb(tmp_path):
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[:, :2] = (200, 30, 90)
    rgb[:, 2:] = (10, 250, 40)
    palette = Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    assert palette.mode == "P"
    assert np.array_equal(load(tmp_path, palette, "palette.png", channels=3), rgb)
    assert np.array_equal(load(tmp_path, palette, "palette.gif", channels=3), rgb)


def test_transparency_is_laid_over_the_background(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., :3] = (0, 0, 0)                                   # black everywhere, under the alpha
    rgba[..., 3] = np.array([0, 255, 128, 0])[None, :]         # transparent, opaque, half, transparent
    got = load(tmp_path, Image.fromarray(rgba, "RGBA"), "rgba.png", channels=3)
    white = np.array(BACKGROUND)
    assert np.array_equal(got[:, 0], np.broadcast_to(white, (4, 3)))   # not the black hidden under it
    assert np.array_equal(got[:, 1], np.zeros((4, 3)))
    assert np.all(np.abs(got[:, 2].astype(int) - 127) <= 1)     # half of white over black
    la = Image.fromarray(np.stack([LEVELS, np.zeros_like(LEVELS)], axis=-1), "LA")   # fully transparent gray
    assert np.all(load(tmp_path, la, "la.png", channels=1) == 255)
    transparent_palette = Image.fromarray(rgba, "RGBA").convert("P")
    transparent_palette.info["transparency"] = transparent_palette.getpixel((0, 0))
    assert np.array_equal(to_8bit_mode(transparent_palette, "RGB").getpixel((0, 0)), BACKGROUND)


def test_cmyk_and_one_bit(tmp_path):
    cmyk = Image.new("CMYK", (4, 4), (0, 255, 255, 0))          # no cyan ink, full magenta and yellow: red
    assert np.array_equal(load(tmp_path, cmyk, "cmyk.jpg", channels=3)[0, 0] // 10, np.array([255, 0, 0]) // 10)
    assert np.array_equal(load(tmp_path, cmyk, "cmyk.tif", channels=3)[0, 0], [255, 0, 0])
    bits = Image.fromarray(LEVELS > 100).convert("1")
    assert bits.mode == "1"
    assert np.array_equal(load(tmp_path, bits, "bits.png", channels=1)[..., 0], np.where(LEVELS > 100, 255, 0))
