"""An animated GIF of sample grids over training: watch the generator learn.

The trainer saves a sample grid of the *same* fixed noise vectors ``z`` at
every sample point; played in order, the frames show each digit taking shape
out of noise. The last frame is held longer so the final result can be seen
before the animation loops.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from minigan.fileio import atomic_write


def save_gif(frames, path, duration_ms: int = 300, loop: int | None = 0, hold_last_ms: int | None = 1500):
    """Write ``frames`` as an animated GIF at ``path``, atomically.

    Args:
        frames: a non-empty sequence of ``(H, W, 3)`` uint8 arrays (e.g. from
            :func:`minigan.viz.make_grid`) or paths to image files (e.g. the
            saved sample-grid PNGs), all the same size.
        duration_ms: how long each frame shows, in milliseconds.
        loop: how many times to repeat; 0 = forever, None = play once.
        hold_last_ms: how long the final frame shows (None = ``duration_ms``).

    GIF stores at most 256 colours per frame, so each frame is reduced to its
    own palette (exact for grayscale grids). Pillow merges consecutive frames
    that are pixel-for-pixel identical into one longer frame.
    Returns ``path``.
    """
    images = [_to_image(f, i) for i, f in enumerate(frames)]
    if not images:
        raise ValueError("save_gif: frames is empty; need at least one (H, W, 3) frame")
    sizes = {im.size for im in images}
    if len(sizes) != 1:
        raise ValueError(f"save_gif: all frames must be the same size, got (W, H) sizes {sorted(sizes)}")
    if duration_ms <= 0:
        raise ValueError(f"save_gif: duration_ms must be > 0, got {duration_ms}")

    last = duration_ms if hold_last_ms is None else max(duration_ms, hold_last_ms)
    durations = [int(duration_ms)] * (len(images) - 1) + [int(last)]
    options = {} if loop is None else {"loop": int(loop)}
    with atomic_write(path, "wb") as f:
        images[0].save(f, format="GIF", save_all=True, append_images=images[1:],
                       duration=durations, **options)
    return path


def _to_image(frame, index: int) -> Image.Image:
    """One frame as an RGB PIL image: from a path, or from an ``(H, W, 3)`` uint8 array."""
    if isinstance(frame, (str, Path)):
        with Image.open(frame) as im:
            return im.convert("RGB")
    a = np.asarray(frame)
    if a.ndim != 3 or a.shape[2] != 3 or a.dtype != np.uint8:
        raise ValueError(
            f"save_gif: frame {index} must be a uint8 array of shape (H, W, 3) or a path, "
            f"got {a.dtype} array of shape {a.shape}"
        )
    return Image.fromarray(a)
