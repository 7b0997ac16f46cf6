"""ImageFolder on generated picture files: crop, resize, color modes, and bad files."""
import io
import re

import numpy as np
import pytest
from PIL import Image

from minigan.job.data import DatasetError, ImageFolder, batches

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def stripes(width, height, colors):
    """A picture of vertical stripes of equal width, one per color."""
    array = np.zeros((height, width, 3), np.uint8)
    for i, color in enumerate(colors):
        array[:, i * width // len(colors):(i + 1) * width // len(colors)] = color
    return Image.fromarray(array)


@pytest.fixture
def folder(tmp_path):
    """Three good pictures (one in a sub-folder, one grayscale), two broken ones, one non-picture."""
    stripes(30, 10, [RED, GREEN, BLUE]).save(tmp_path / "a-wide.png")   # center square is the green stripe
    (tmp_path / "sub").mkdir()
    stripes(20, 40, [BLUE]).save(tmp_path / "sub" / "b-tall.JPG", quality=95)
    Image.fromarray(np.full((12, 12), 77, np.uint8)).save(tmp_path / "c-gray.png")  # mode "L"
    (tmp_path / "d-broken.png").write_bytes(b"this is not a png")
    jpeg = io.BytesIO()
    stripes(64, 64, [RED]).save(jpeg, format="JPEG")
    (tmp_path / "e-truncated.jpg").write_bytes(jpeg.getvalue()[:300])
    (tmp_path / "notes.txt").write_text("not a picture, not an error")
    return tmp_path


def test_keeps_good_pictures_and_skips_broken_ones(folder, log):
    data = ImageFolder(folder, size=8, channels=3, report=log)
    assert len(data) == 3
    assert data.paths == [folder / "a-wide.png", folder / "c-gray.png", folder / "sub" / "b-tall.JPG"]
    assert data.images.shape == (3, 8, 8, 3) and data.images.dtype == np.uint8
    assert [path for path, _ in data.skipped] == [folder / "d-broken.png", folder / "e-truncated.jpg"]
    assert "cannot identify image file" in data.skipped[0][1]
    assert "truncated" in data.skipped[1][1].lower()


def test_skipped_files_are_reported_once(folder, log):
    data = ImageFolder(folder, size=8, report=log)
    report = log.getvalue()
    assert report.startswith("ImageFolder: skipped 2 of 5 files that could not be read:\n")
    lines = report.splitlines()[1:]
    assert lines == [f"  {path}: {reason}" for path, reason in data.skipped]  # one line per bad file
    for _ in range(2):  # whole epochs later, nothing more is printed
        list(batches(data, 2, np.random.default_rng(0)))
    assert log.getvalue() == report


def test_center_crop_and_resize(folder, log):
    images = ImageFolder(folder, size=8, report=log).images
    assert np.all(images[0] == GREEN)  # the wide picture's middle third, not squeezed
    assert np.all(images[1] == 77)     # grayscale: three equal channels
    assert np.abs(images[2].astype(int) - BLUE).max() <= 3  # JPEG, so nearly


def test_one_channel(folder, log):
    images = ImageFolder(folder, size=5, channels=1, report=log).images
    assert images.shape == (3, 5, 5, 1)
    assert np.all(images[0] == 150)  # ITU-R 601 luma of pure green: 0.587 * 255 = 149.7
    assert np.all(images[1] == 77)


def test_exif_orientation_is_applied(tmp_path, log):
    # Stored 40 wide x 20 high, top half white; the EXIF tag says "rotate 90 degrees clockwise
    # to display". Upright it is 20 x 40 with the white half on the right.
    array = np.zeros((20, 40, 3), np.uint8)
    array[:10] = 255
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    Image.fromarray(array).save(tmp_path / "phone.jpg", exif=exif, quality=95)
    image = ImageFolder(tmp_path, size=20, report=log).images[0]
    assert image[:, :8].mean() < 30 and image[:, 12:].mean() > 225


def test_big_jpeg_and_rgba_png(tmp_path, log):
    stripes(800, 600, [RED]).save(tmp_path / "big.jpg", quality=95)  # decoded at reduced scale
    Image.new("RGBA", (9, 9), (10, 20, 30, 0)).save(tmp_path / "clear.png")
    images = ImageFolder(tmp_path, size=16, report=log).images
    assert np.abs(images[0].astype(int) - RED).max() <= 3
    assert np.all(images[1] == (255, 255, 255))  # fully transparent: the white background, not the hidden colour


# --------------------------------------------------------------------------- errors
def test_empty_folder_is_a_clear_error(tmp_path):
    (tmp_path / "readme.txt").write_text("no pictures here")
    with pytest.raises(DatasetError, match=re.escape(f"{tmp_path}: no pictures in it or its sub-folders "
                                                     "(looked for file names ending in .png, .jpg, .jpeg, .gif, .bmp, .tif, .tiff, .webp)")):
        ImageFolder(tmp_path)


def test_folder_of_only_bad_files_is_a_clear_error(tmp_path, log):
    (tmp_path / "x.png").write_bytes(b"junk")
    (tmp_path / "y.jpeg").write_bytes(b"")
    with pytest.raises(DatasetError) as error:
        ImageFolder(tmp_path, report=log)
    assert str(error.value).startswith(f"{tmp_path}: none of its 2 picture files could be read "
                                       f"(first: {tmp_path / 'x.png'}: UnidentifiedImageError")
    assert "skipped 2 of 2" in log.getvalue()


def test_missing_folder_and_file_instead_of_folder(tmp_path):
    with pytest.raises(DatasetError, match=re.escape(f"{tmp_path / 'nope'}: no such folder")):
        ImageFolder(tmp_path / "nope")
    (tmp_path / "f.png").write_bytes(b"")
    with pytest.raises(DatasetError, match=re.escape(f"{tmp_path / 'f.png'}: is not a folder")):
        ImageFolder(tmp_path / "f.png")


@pytest.mark.parametrize("kwargs, message", [
    (dict(size=0), "size must be a positive int, got 0"),
    (dict(size=64.0), "size must be a positive int, got 64.0"),
    (dict(channels=4), r"channels must be 1 \(grayscale\) or 3 \(RGB\), got 4"),
])
def test_bad_arguments(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        ImageFolder(tmp_path, **kwargs)
