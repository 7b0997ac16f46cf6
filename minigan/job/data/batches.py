"""One epoch of shuffled training batches, as the networks want them.

The datasets keep their pictures compactly, as uint8 in (N, H, W) or
(N, H, W, C) layout. :func:`batches` turns them into what a DCGAN consumes:

    uint8 [0, 255]  (N, H, W) or (N, H, W, C)
      -> shuffle: one permutation of 0..N-1 per epoch, drawn from ``rng``
      -> (optional) resize each picture to size x size
      -> x / 127.5 - 1: float32 in [-1, 1], the range of the generator's tanh
      -> (B, C, H, W) contiguous, PyTorch's NCHW layout

Labels (a conditional GAN's): pass ``labels`` (N,) and each batch comes as
``(x, y)``, the labels taken with the same permutation as their pictures.

Converting batch by batch keeps the float copy small: all of MNIST as float32
would be 188 MB, one batch of 128 is 0.4 MB.

Resizing (``size``): dcgan64 wants 64x64 pictures and MNIST's are 28x28. We
*resize* (bilinear, via Pillow) rather than pad with black, as PyTorch's DCGAN
example does with ``transforms.Resize(64)``, so results compare with it.
Padding 28 -> 64 would leave the digit a small 28x28 island in a 64x64 frame
that is 81% black, and the generator would spend its capacity on the border.
"""
from __future__ import annotations

import numpy as np
from PIL import Image


def batches(images, batch_size: int, rng: np.random.Generator, drop_last: bool = True,
            size: int | None = None, start: int = 0, labels=None):
    """Yield one epoch of float32 batches ``(B, C, H, W)`` scaled to [-1, 1] (with ``labels``: ``(x, y)``).

    ``images``: uint8 ``(N, H, W)`` (one channel) or ``(N, H, W, C)``, or an
    :class:`~minigan.job.data.ImageFolder`. ``rng``: shuffles the order, so the
    same seed gives the same batches. ``drop_last``: leave out the final
    batch if it would be smaller than ``batch_size`` (a GAN's BatchNorm
    dislikes a tiny last batch). ``size``: resize every picture to
    ``size x size`` first (bilinear; see the module docstring), or ``None``.
    ``start``: begin at this batch of the epoch's order (a resumed run picks
    up mid-epoch; the batches before it are skipped, not converted).
    ``labels``: int ``(N,)``, one class per picture, or None; given, each batch is
    ``(x, y)`` with ``y`` int64 ``(B,)`` the labels of ``x``'s pictures. The
    order is the same permutation either way, so labels do not change the pictures.

    The arguments are checked when :func:`batches` is called, not when the
    first batch is taken; bad ones raise ``ValueError`` or ``TypeError``.
    """
    images = getattr(images, "images", images)  # an ImageFolder holds its array in .images
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim not in (3, 4):
        what = f"{images.dtype} {images.shape}" if isinstance(images, np.ndarray) else type(images).__name__
        raise ValueError(f"batches: images must be a uint8 array (N, H, W) or (N, H, W, C), got {what}")
    if images.ndim == 3:
        images = images[..., None]  # (N, H, W) -> (N, H, W, 1)
    N = len(images)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError(f"batches: batch_size must be an int, got {batch_size!r}")
    if not 0 < batch_size <= N:
        raise ValueError(f"batches: batch_size must be between 1 and the number of images ({N}), "
                         f"got {batch_size}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"batches: rng must be a numpy.random.Generator "
                        f"(numpy.random.default_rng(seed)), got {type(rng).__name__}")
    if size is not None and (not isinstance(size, (int, np.integer)) or size <= 0):
        raise ValueError(f"batches: size must be a positive int or None, got {size!r}")
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or start < 0:
        raise ValueError(f"batches: start must be an int >= 0 (a batch index), got {start!r}")
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (N,) or labels.dtype.kind not in "iu":
            raise ValueError(f"batches: labels must be {N} integers, one per picture, got "
                             f"{labels.dtype} {labels.shape}")
    return _epoch(images, int(batch_size), rng.permutation(N), drop_last, size, int(start), labels)


def _epoch(images, batch_size, order, drop_last, size, first_batch, labels=None):
    N = len(images)
    stop = N - N % batch_size if drop_last else N
    for start in range(first_batch * batch_size, stop, batch_size):
        picked = order[start:start + batch_size]                    # (B,) indices into the dataset
        x = images[picked]                                          # (B, H, W, C) uint8
        if size is not None:
            x = resize(x, size)                                     # (B, size, size, C) uint8
        x = x.astype(np.float32) / np.float32(127.5) - np.float32(1)  # [0, 255] -> [-1, 1]
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))          # (B, C, H, W)
        yield x if labels is None else (x, labels[picked].astype(np.int64))   # each label with its picture


def resize(x: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of uint8 ``(B, H, W, C)`` to ``(B, size, size, C)``, each channel by Pillow."""
    B, H, W, C = x.shape
    if (H, W) == (size, size):
        return x
    out = np.empty((B, size, size, C), dtype=np.uint8)
    for b in range(B):
        for c in range(C):
            out[b, :, :, c] = resize_plane(x[b, :, :, c], (size, size))
    return out


def resize_plane(plane: np.ndarray, size) -> np.ndarray:
    """Bilinear resize of one picture ``(H, W)`` to ``size = (H', W')`` by Pillow, keeping its dtype.

    uint8 pictures are resized as Pillow mode "L" (8-bit); anything else as
    mode "F" (32-bit float), so float32 comes back float32.
    """
    if plane.dtype != np.uint8:
        plane = np.asarray(plane, dtype=np.float32)
    image = Image.fromarray(plane)                     # mode "L" or "F"
    return np.asarray(image.resize((size[1], size[0]), Image.Resampling.BILINEAR))
