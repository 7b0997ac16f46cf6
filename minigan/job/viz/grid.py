"""Sample grids: a batch of generated images tiled into one picture.

A generator's output is a batch ``(N, C, H, W)`` of images in [-1, 1] (the
range of its final ``tanh``). To look at it we tile the batch row by row, with
``padding`` pixels between tiles, and map [-1, 1] to the 0..255 of a PNG::

    pixel = round((x + 1) / 2 * 255)        # -1 -> 0 (black), +1 -> 255 (white)

This is what ``torchvision.utils.make_grid(x, normalize=True, value_range=(-1, 1))``
followed by ``save_image`` does; the argument names are the same.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from minigan.backend import to_numpy
from minigan.fileio import atomic_write
from minigan.job.viz.axes import BLACK, WHITE, load_font, put_text, text_size


def to_uint8(x) -> np.ndarray:
    """Map floats in [-1, 1] to uint8 0..255; values outside are clipped, NaN becomes mid-grey.

    ``x``: any shape, NumPy or CuPy. Returns a NumPy uint8 array of the same shape.
    """
    x = np.nan_to_num(to_numpy(x).astype(np.float64), nan=0.0, posinf=1.0, neginf=-1.0)
    x = np.clip(x, -1.0, 1.0)
    return np.rint((x + 1.0) * 127.5).astype(np.uint8)  # (x + 1) / 2 * 255


def make_grid(images, nrow: int = 8, padding: int = 2, pad_value: float = 1.0) -> np.ndarray:
    """Tile a batch of images into one RGB picture.

    Args:
        images: ``(N, C, H, W)`` floats in [-1, 1], C = 1 (grayscale) or 3 (RGB);
            NumPy or CuPy. Values outside [-1, 1] are clipped.
        nrow: images per row of the grid (torchvision's name for it). The grid
            has ``ceil(N / nrow)`` rows; unused cells of the last row are
            filled with ``pad_value``.
        padding: pixels of border around and between the tiles.
        pad_value: colour of the border, on the same [-1, 1] scale as the
            images (1.0 = white, -1.0 = black).

    Returns:
        ``(H_grid, W_grid, 3)`` uint8, ready for ``PIL.Image.fromarray``, where
        ``H_grid = rows * (H + padding) + padding`` and
        ``W_grid = cols * (W + padding) + padding``, ``cols = min(nrow, N)``.
    """
    images = to_numpy(images)
    if images.ndim != 4 or images.shape[1] not in (1, 3) or images.shape[0] == 0:
        raise ValueError(
            "make_grid expects images of shape (N, C, H, W) with N >= 1 and C = 1 or 3, "
            f"got shape {tuple(images.shape)}"
        )
    if int(nrow) < 1:
        raise ValueError(f"make_grid: nrow must be >= 1, got {nrow}")
    if int(padding) < 0:
        raise ValueError(f"make_grid: padding must be >= 0, got {padding}")
    nrow, padding = int(nrow), int(padding)

    N, C, H, W = images.shape
    if C == 1:
        images = np.repeat(images, 3, axis=1)               # grayscale -> (N, 3, H, W)
    tiles = to_uint8(images).transpose(0, 2, 3, 1)          # (N, H, W, 3), channels last for PNG

    cols = min(nrow, N)
    rows = -(-N // cols)                                    # ceil(N / cols)
    step_y, step_x = H + padding, W + padding
    grid = np.empty((rows * step_y + padding, cols * step_x + padding, 3), dtype=np.uint8)
    grid[...] = to_uint8(np.float64(pad_value))
    for i in range(N):
        r, c = divmod(i, cols)
        y, x = padding + r * step_y, padding + c * step_x
        grid[y:y + H, x:x + W] = tiles[i]
    return grid


def grid_scale(size: int) -> int:
    """How much :func:`save_grid` enlarges pictures of ``size`` pixels: 28x28 2x, so a digit is big
    enough to see; 64x64 not at all."""
    return 2 if size < 48 else 1


#: The picture formats a grid can be saved in, by file-name extension (Pillow's names).
PICTURE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".gif": "GIF", ".bmp": "BMP",
                   ".tif": "TIFF", ".tiff": "TIFF", ".webp": "WEBP"}


def picture_format(path) -> str:
    """The format ``path``'s extension names (``grid.jpg`` -> ``"JPEG"``); ``ValueError`` for any other."""
    suffix = Path(path).suffix.lower()
    if suffix not in PICTURE_FORMATS:
        known = ", ".join(sorted(set(PICTURE_FORMATS)))
        raise ValueError(f"{path}: cannot tell which picture format to write from "
                         f"{repr(suffix) if suffix else 'a name with no extension'}; end the name in one of {known}")
    return PICTURE_FORMATS[suffix]


def save_grid(images, path, nrow: int = 8, padding: int = 2, scale: int = 1, row_labels=None,
              fmt: str | None = None, options: dict | None = None):
    """Write :func:`make_grid` of ``images`` to ``path``, atomically, in the format its extension names.

    ``scale`` (a whole number >= 1) enlarges every pixel to a ``scale x scale``
    block (nearest neighbour), so 28x28 digits are big enough to see.
    ``row_labels``: a text per row of the grid (a conditional grid's class names), written
    left of each row (:func:`label_rows`). ``path`` ends in .png (lossless: what the training
    job writes), .jpg, .gif, ... (:data:`PICTURE_FORMATS`), or is written in the format ``fmt``
    names ("PNG", ...); ``options`` are added to ``PIL.Image.save``'s (the output guard's mark,
    minigan/job/output_guard.py). Returns ``path``.
    """
    fmt = fmt or picture_format(path)
    if int(scale) != scale or scale < 1:
        raise ValueError(f"save_grid: scale must be a whole number >= 1, got {scale}")
    grid = make_grid(images, nrow=nrow, padding=padding)   # (H_grid, W_grid, 3)
    if scale > 1:
        grid = grid.repeat(int(scale), axis=0).repeat(int(scale), axis=1)
    if row_labels is not None:
        grid = label_rows(grid, row_labels, padding * int(scale))
    with atomic_write(path, "wb") as f:
        Image.fromarray(grid).save(f, format=fmt, **({"quality": 95} if fmt in ("JPEG", "WEBP") else {}),
                                   **(options or {}))
    return path


def label_rows(grid: np.ndarray, labels, padding: int = 2, size: int = 13) -> np.ndarray:
    """``grid`` ``(H, W, 3)`` uint8 with a white margin on its left holding ``labels[r]`` beside row r.

    The rows are ``len(labels)`` equal bands of the grid's height (as :func:`make_grid` lays
    them out, ``padding`` pixels of border at top and bottom); each text is drawn in
    Pillow's default font, right-aligned against the grid and centred on its row.
    """
    labels = [str(label) for label in labels]
    if not labels:
        return grid
    font = load_font(size)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    margin = max(text_size(probe, label, font)[0] for label in labels) + 10
    picture = Image.new("RGB", (grid.shape[1] + margin, grid.shape[0]), WHITE)
    picture.paste(Image.fromarray(grid), (margin, 0))
    draw = ImageDraw.Draw(picture)
    band = (grid.shape[0] - padding) / len(labels)            # one row of tiles and its border below
    for r, label in enumerate(labels):
        put_text(draw, (margin - 5, padding / 2 + (r + 0.5) * band), label, font, BLACK, ha="right", va="middle")
    return np.asarray(picture)
