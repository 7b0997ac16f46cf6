"""Scatter plots of 2D samples: G's points over the data's modes, drawn with Pillow.

A 2D run (``--dataset ring|grid``) has no pictures to tile: its "sample grid" is
this plot. The plane is mapped to the square picture so that the mixture's
modes fill the middle ~70% of it (the ring's [-1.5, 1.5]^2, the grid's [-6, 6]^2)::

    pixel_x = (x - lo) / (hi - lo) * size          pixel_y = (hi - y) / (hi - lo) * size   (y up)

Grey: the real points (when given); red: G's samples; a black ring: each mode, at 3 std
(the "high quality" radius of :mod:`minigan.job.metrics.modes`, drawn at least 3 pixels wide).
Behind them, when given, D's verdict over the plane (:func:`minigan.job.plane.decision_field`):
light blue where D says "real", light orange where it says "fake"; and G's warped noise grid
(:func:`minigan.job.plane.warped_grid`) in thin violet lines; and, from the fakes of the latest
training step, G's gradient arrows: ``-dLoss_G/dx`` at each fake, the direction the step moved
it (the trainer's own ``dx_fake``), scaled so the longest is :data:`ARROW` of the picture.
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from minigan.backend import to_numpy
from minigan.fileio import atomic_write
from minigan.job.viz.axes import load_font
from minigan.job.viz.grid import picture_format

REAL, FAKE, MODE, AXES = (190, 190, 190), (214, 39, 40), (0, 0, 0), (230, 230, 230)
SAYS_REAL, SAYS_FAKE = np.array([198, 219, 239]), np.array([253, 208, 162])   # D's field: 1 and 0
MANIFOLD = (170, 150, 210)                                                     # G's warped noise grid
ARROWS, ARROW = (40, 40, 40), 0.08                 # G's gradient arrows: colour, the longest's share of the side


def plot_extent(modes) -> float:
    """Half the side of the plotted square: 1.5x the farthest mode from the origin (ring 1.5, grid 6)."""
    return 1.5 * float(np.abs(np.asarray(modes)).max())


def scatter_picture(fake, modes, std, real=None, size: int = 400, title: str | None = None,
                    field=None, manifold=None, arrows=None) -> Image.Image:
    """A ``size x size`` RGB picture of ``fake`` (n, 2) (or (n, 2, 1, 1)) over the ``modes`` (K, 2).

    ``field``: D's verdict in [0, 1] over the plotted square, ``(R, R)`` with row 0 at the top, or None.
    ``manifold``: G's warped noise grid, ``(L, L, 2)`` points in the plane, or None.
    ``arrows``: ``(x, dx)``, points ``(m, 2)`` and G's loss gradient there ``(m, 2)``; drawn as ``-dx``.
    """
    half = plot_extent(modes)

    def pixels(p):
        p = np.asarray(to_numpy(p), dtype=np.float64).reshape(len(p), 2)
        p = np.nan_to_num(p, nan=0.0, posinf=1e6, neginf=-1e6)
        return np.stack([(p[:, 0] + half) / (2 * half) * size, (half - p[:, 1]) / (2 * half) * size], axis=1)

    picture = Image.new("RGB", (size, size), "white")
    if field is not None:                                                 # D's verdict, as the background
        p = np.clip(np.asarray(field, dtype=np.float64), 0, 1)[:, :, None]
        colours = np.rint(p * SAYS_REAL + (1 - p) * SAYS_FAKE).astype(np.uint8)   # (R, R, 3)
        picture = Image.fromarray(colours).resize((size, size), Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(picture)
    draw.line([(size / 2, 0), (size / 2, size)], fill=AXES)              # the axes through the origin
    draw.line([(0, size / 2), (size, size / 2)], fill=AXES)
    if manifold is not None:                                              # each row and column of the z grid
        grid = np.asarray(manifold, dtype=np.float64)
        for line in (*grid, *grid.transpose(1, 0, 2)):
            draw.line([tuple(p) for p in pixels(line)], fill=MANIFOLD)
    if real is not None:
        for x, y in pixels(real):
            draw.point((x, y), fill=REAL)
    radius = max(3.0, 3 * std / (2 * half) * size)                        # 3 std, in pixels
    for x, y in pixels(modes):
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], outline=MODE)
    for x, y in pixels(fake):
        draw.rectangle([x - 1, y - 1, x + 1, y + 1], fill=FAKE)          # 3 x 3 pixels a sample
    if arrows is not None:
        start, grad = (np.asarray(to_numpy(a), dtype=np.float64).reshape(-1, 2) for a in arrows)
        step = -grad / max(float(np.abs(grad).max()), 1e-30) * ARROW * 2 * half   # -dLoss_G/dx, the longest ARROW
        for (x0, y0), (x1, y1) in zip(pixels(start), pixels(start + step)):
            draw.line([(x0, y0), (x1, y1)], fill=ARROWS)
            draw.ellipse([x1 - 1.5, y1 - 1.5, x1 + 1.5, y1 + 1.5], fill=ARROWS)   # the arrow's head
    if title:
        draw.text((6, 4), title, fill=(0, 0, 0), font=load_font(13))
    return picture


def save_scatter(fake, path, modes, std, real=None, size: int = 400, title: str | None = None, field=None,
                 manifold=None, arrows=None, fmt: str | None = None, options: dict | None = None):
    """Write :func:`scatter_picture` to ``path``, atomically, in the format its extension names (or ``fmt``).

    ``options`` are added to ``PIL.Image.save``'s (the output guard's mark). Returns ``path``.
    """
    fmt = fmt or picture_format(path)
    with atomic_write(path, "wb") as f:
        scatter_picture(fake, modes, std, real, size, title, field, manifold, arrows).save(f, format=fmt,
                                                                                         **(options or {}))
    return path
