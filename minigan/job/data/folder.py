"""ImageFolder: a folder of your own pictures as a training set (e.g. for dcgan64).

Every picture file under the folder (searched recursively, in sorted order;
extensions ``.png .jpg .jpeg .gif .bmp .tif .tiff .webp`` in any case) is

1. decoded by Pillow (the first frame of an animation) and turned upright by
   its EXIF orientation tag (phone photos are stored sideways with a tag saying so);
2. converted to ``RGB`` (``channels=3``) or grayscale ``L`` (``channels=1``)
   from whatever mode it was stored in (:func:`to_8bit_mode`): a grayscale
   picture gets three equal channels; 16-bit pictures are *scaled* to 8 bits
   (65535 -> 255), not clipped; transparent pixels are laid over
   :data:`BACKGROUND`; palette and CMYK pictures go through RGB;
3. center-cropped to the largest square in its middle, so nothing is
   stretched, and resized to ``size x size`` with Pillow's Lanczos filter
   (antialiased, so shrinking a photo does not alias).

All pictures are decoded once, up front, into one uint8 array ``.images`` of
shape ``(N, size, size, channels)``: 12 kB a picture at 64x64x3, so 10,000
pictures take 120 MB. A file that cannot be decoded is skipped, kept in
``.skipped`` with the reason, and reported once, when the folder is loaded;
so a bad file can never stop training in the middle of an epoch.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from .errors import DatasetError
from ..progress import resolve_stream

EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp")
BACKGROUND = (255, 255, 255)      # what shows through transparent pixels: white, as a browser shows them
SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N")


class ImageFolder:
    """The pictures under ``path`` as uint8 ``.images`` of shape ``(N, size, size, channels)``.

    Attributes: ``.images``; ``.paths``, the N files kept, in the order of
    ``.images``; ``.skipped``, a list of ``(path, reason)`` for files that
    could not be decoded. ``report``: where the skipped files are listed
    (``None``: stderr, ``False``: nowhere). Raises :class:`DatasetError` if
    the folder does not exist or holds no readable picture.
    """

    def __init__(self, path, size: int = 64, channels: int = 3, *, report=None):
        if not isinstance(size, int) or size <= 0:
            raise ValueError(f"ImageFolder: size must be a positive int, got {size!r}")
        if channels not in (1, 3):
            raise ValueError(f"ImageFolder: channels must be 1 (grayscale) or 3 (RGB), got {channels!r}")
        root = Path(path).expanduser()
        if not root.is_dir():
            what = "is not a folder" if root.exists() else "no such folder"
            raise DatasetError(f"{root}: {what}; ImageFolder needs a folder of pictures (PNG, JPEG, ...)")

        files = sorted(p for p in root.rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file())
        if not files:
            raise DatasetError(f"{root}: no pictures in it or its sub-folders "
                               f"(looked for file names ending in {', '.join(EXTENSIONS)})")

        mode = "RGB" if channels == 3 else "L"
        pictures, self.paths, self.skipped = [], [], []
        for file in files:
            try:
                pictures.append(load_picture(file, size, mode))  # (size, size) PIL image
                self.paths.append(file)
            except Exception as e:  # Pillow raises many types for a bad file: OSError, SyntaxError, ...
                self.skipped.append((file, f"{type(e).__name__}: {e}"))

        self.size, self.channels = size, channels
        self._report_skipped(len(files), report)
        if not pictures:
            first, reason = self.skipped[0]
            raise DatasetError(f"{root}: none of its {len(files)} picture files could be read "
                               f"(first: {first}: {reason})")
        N = len(pictures)
        self.images = np.stack([np.asarray(p) for p in pictures]).reshape(N, size, size, channels)

    def __len__(self) -> int:
        return len(self.images)

    def __repr__(self) -> str:
        return f"ImageFolder({len(self)} pictures, images {self.images.shape}, {len(self.skipped)} skipped)"

    def _report_skipped(self, found: int, report) -> None:
        stream = resolve_stream(report)
        if stream is None or not self.skipped:
            return
        print(f"ImageFolder: skipped {len(self.skipped)} of {found} files that could not be read:",
              file=stream)
        for file, reason in self.skipped:
            print(f"  {file}: {reason}", file=stream)


def load_picture(file, size: int, mode: str) -> Image.Image:
    """Decode ``file``, make it upright, convert to ``mode``, center-crop, resize to ``(size, size)``."""
    with Image.open(file) as picture:
        picture.draft(mode, (size, size))  # JPEG only: decode at 1/2, 1/4 or 1/8 scale if still >= size
        picture = to_8bit_mode(ImageOps.exif_transpose(picture), mode)
    W, H = picture.size
    side = min(W, H)
    left, top = (W - side) // 2, (H - side) // 2
    square = picture.crop((left, top, left + side, top + side))  # the centered square
    return square.resize((size, size), Image.Resampling.LANCZOS)


def to_8bit_mode(picture: Image.Image, mode: str) -> Image.Image:
    """``picture`` in ``mode`` ("RGB" or "L", 8 bits a channel), from any mode Pillow decodes.

    Pillow's own ``convert`` clips 16-bit values at 255 (a 16-bit PNG comes out
    almost all white), drops transparency (showing whatever colour hides under
    transparent pixels), so those cases are handled first:

        I;16, I   16-bit gray (0..65535): v / 257, rounded (a 32-bit ``I`` is read as 16-bit, clipped)
        F         floating-point gray in [0, 1] (as TIFFs store it): v * 255, clipped
        P         palette: through RGBA when the palette has a transparent entry, else RGB
        RGBA, LA, PA  laid over BACKGROUND by their alpha
        CMYK, YCbCr, 1, ...  Pillow's conversion to RGB (1-bit: 0 or 255)
    """
    if picture.mode in SIXTEEN_BIT or picture.mode == "I":
        v = np.asarray(picture).astype(np.float64)
        picture = Image.fromarray(np.rint(np.clip(v, 0, 65535) / 257).astype(np.uint8))   # 65535 / 257 = 255
    elif picture.mode == "F":
        v = np.nan_to_num(np.asarray(picture, dtype=np.float64))
        picture = Image.fromarray(np.rint(np.clip(v, 0.0, 1.0) * 255).astype(np.uint8))
    if picture.mode == "P":
        picture = picture.convert("RGBA" if "transparency" in picture.info else "RGB")
    if picture.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = picture.convert("RGBA")
        picture = Image.alpha_composite(Image.new("RGBA", rgba.size, BACKGROUND + (255,)), rgba).convert("RGB")
    if picture.mode not in ("RGB", "L"):
        picture = picture.convert("RGB")                                 # CMYK, YCbCr, 1, LAB, HSV, ...
    return picture.convert(mode)
