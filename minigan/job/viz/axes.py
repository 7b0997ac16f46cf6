"""A tiny line-plot axes drawn with Pillow: the part of matplotlib the training curves need.

minigan has no plotting dependency, so :mod:`minigan.job.viz.curves` draws its
charts from four pieces kept here:

* :func:`nice_ticks` picks round tick values (steps of 1, 2, 2.5 or 5 x 10^k);
* :func:`format_ticks` writes them with a common number of decimals, and
  ``k``/``M``/``G`` suffixes for large step counts;
* :class:`Axes` maps data ``(x, y)`` to pixels and draws lines, dashed
  reference lines, the frame, grid and tick labels. Data is drawn on its own
  image the size of the plot area and pasted in, so anything outside the data
  range is clipped at the frame;
* :func:`load_font` returns Pillow's built-in font at a given size.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
GRID_GREY = (232, 232, 232)
TEXT_GREY = (60, 60, 60)


def load_font(size: int):
    """Pillow's built-in font at ``size`` pixels (a scalable font needs Pillow >= 10.1 with FreeType)."""
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: one fixed-size bitmap font, size ignored
        return ImageFont.load_default()


def text_size(draw: ImageDraw.ImageDraw, text: str, font) -> tuple[int, int]:
    """``(width, height)`` in pixels of ``text`` drawn in ``font``."""
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    return right - left, bottom - top


def put_text(draw: ImageDraw.ImageDraw, xy, text: str, font, fill=BLACK, ha: str = "left",
             va: str = "top", background=None) -> tuple[float, float, float, float]:
    """Draw ``text`` with its box aligned at ``xy``; returns the box drawn (left, top, right, bottom).

    ``ha``: "left" | "center" | "right"; ``va``: "top" | "middle" | "bottom".
    (Pillow's own ``anchor=`` does this only for FreeType fonts; this works for any.)
    ``background``: a colour to fill the box with first, so lines behind do not cross the text.
    """
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    x = xy[0] - {"left": left, "center": (left + right) / 2, "right": right}[ha]
    y = xy[1] - {"top": top, "middle": (top + bottom) / 2, "bottom": bottom}[va]
    if background is not None:
        draw.rectangle([x + left - 4, y + top - 3, x + right + 4, y + bottom + 3], fill=background)
    draw.text((x, y), text, font=font, fill=fill)
    return x + left, y + top, x + right, y + bottom


def nice_ticks(lo: float, hi: float, max_ticks: int = 6, integer: bool = False) -> np.ndarray:
    """Round tick values covering ``[lo, hi]``: at most ``max_ticks`` of them, evenly spaced.

    The spacing is the smallest of 1, 2, 2.5, 5 (x 10^k) that needs no more
    than ``max_ticks`` ticks (a whole number if ``integer``, for step counts);
    the first tick is <= lo and the last >= hi, so the ticks also make good
    axis limits. ``lo == hi`` is widened first.
    """
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"nice_ticks needs finite limits, got [{lo}, {hi}]")
    if hi < lo:
        lo, hi = hi, lo
    # A range below ~1e-9 of the values' size is one value as far as a plot can tell (and its
    # ticks could not even be spaced evenly in float64): widen around it.
    if hi - lo < 1e-9 * max(1.0, abs(lo), abs(hi)):
        pad = max(abs(lo) * 0.1, 1.0)
        lo, hi = lo - pad, hi + pad
    step = 10.0 ** math.floor(math.log10((hi - lo) / max_ticks))
    if integer:
        step = max(step, 1.0)
    while True:
        for mult in (1.0, 2.0, 2.5, 5.0):
            s = mult * step
            if integer and s != round(s):
                continue
            first, last = math.floor(lo / s + 1e-9), math.ceil(hi / s - 1e-9)
            if last - first + 1 <= max_ticks:
                return np.arange(first, last + 1) * s
        step *= 10.0


def format_ticks(ticks) -> list[str]:
    """Tick labels with the same number of decimals, e.g. ``0.0 0.5 1.0`` or ``0 200k 400k``."""
    ticks = np.asarray(ticks, dtype=np.float64)
    biggest = float(np.max(np.abs(ticks))) if ticks.size else 0.0
    scale, suffix = 1.0, ""
    for s, name in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if biggest >= 10 * s:
            scale, suffix = s, name
            break
    scaled = ticks / scale
    step = float(np.min(np.diff(scaled))) if scaled.size > 1 else 1.0
    decimals = next((d for d in range(7) if abs(round(step, d) - step) < 1e-9 * max(1.0, step)), 6)
    return [f"{v:.{decimals}f}{suffix}" if abs(v) > 1e-12 else "0" for v in scaled]


class Axes:
    """A plot area at pixel box ``(left, top, right, bottom)`` showing data limits ``xlim``, ``ylim``."""

    def __init__(self, canvas: Image.Image, box, xlim, ylim):
        self.canvas = canvas
        self.left, self.top, self.right, self.bottom = box
        self.xlim, self.ylim = (float(xlim[0]), float(xlim[1])), (float(ylim[0]), float(ylim[1]))
        self.width, self.height = self.right - self.left, self.bottom - self.top
        self.layer = Image.new("RGB", (self.width, self.height), WHITE)   # data goes here
        self.draw = ImageDraw.Draw(self.layer)

    # ---- data -> pixels -------------------------------------------------------------
    def to_pixels(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Data coordinates -> pixel coordinates inside the plot area (y grows downwards)."""
        (x0, x1), (y0, y1) = self.xlim, self.ylim
        px = (np.asarray(x, dtype=np.float64) - x0) / (x1 - x0) * (self.width - 1)
        py = (self.height - 1) - (np.asarray(y, dtype=np.float64) - y0) / (y1 - y0) * (self.height - 1)
        # Far-off-scale points would overflow Pillow's integer coordinates; a few
        # plot heights away they are clipped at the frame anyway.
        return np.clip(px, -2 * self.width, 3 * self.width), np.clip(py, -2 * self.height, 3 * self.height)

    # ---- drawing data (on the layer, clipped at the frame) ---------------------------
    def gridlines(self, xticks, yticks) -> None:
        """Light vertical and horizontal lines at the ticks."""
        px, _ = self.to_pixels(xticks, np.zeros(len(xticks)))
        _, py = self.to_pixels(np.zeros(len(yticks)), yticks)
        for x in px:
            self.draw.line([(x, 0), (x, self.height)], fill=GRID_GREY, width=1)
        for y in py:
            self.draw.line([(0, y), (self.width, y)], fill=GRID_GREY, width=1)

    def line(self, x, y, colour, width: int = 2) -> None:
        """Connect the points ``(x[i], y[i])``; NaN or inf values break the line (a gap).

        A point with no finite neighbour is drawn as a dot, so a one-point
        series is still visible. Very long series are first reduced to the
        lowest and highest point in each pixel column (which is all a line
        that dense can show).
        """
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        ok = np.isfinite(x) & np.isfinite(y)
        # Runs of consecutive finite points: edges where ok switches on or off.
        edges = np.flatnonzero(np.diff(np.concatenate([[0], ok.astype(np.int8), [0]])))
        for start, stop in zip(edges[::2], edges[1::2]):
            px, py = self.to_pixels(x[start:stop], y[start:stop])
            if stop - start == 1:
                r = width + 1
                self.draw.ellipse([px[0] - r, py[0] - r, px[0] + r, py[0] + r], fill=colour)
                continue
            if px.size > 4 * self.width:
                px, py = _column_envelope(px, py)
            px, py = _drop_repeats(px, py)   # Pillow skips sub-pixel segments of a wide line
            self.draw.line(list(zip(px.tolist(), py.tolist())), fill=colour, width=width, joint="curve")

    def dots(self, x, y, colour, radius: int = 4) -> None:
        """A filled circle at every finite point ``(x[i], y[i])``, marking where the data was measured."""
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        ok = np.isfinite(x) & np.isfinite(y)
        for px, py in zip(*self.to_pixels(x[ok], y[ok])):
            self.draw.ellipse([px - radius, py - radius, px + radius, py + radius], fill=colour)

    def hline(self, y: float, colour, width: int = 1, dash: tuple[int, int] = (8, 5)) -> float:
        """A dashed horizontal line at data height ``y``; returns its pixel row on the canvas."""
        _, py = self.to_pixels([self.xlim[0]], [y])
        on, off = dash
        for x in range(0, self.width, on + off):
            self.draw.line([(x, py[0]), (min(x + on, self.width), py[0])], fill=colour, width=width)
        return self.top + float(py[0])

    # ---- the frame, ticks and labels (on the canvas, around the plot area) -----------
    def finish(self, xticks, yticks, font, tick_len: int = 4) -> None:
        """Paste the data layer in, then draw the frame and the labelled ticks around it."""
        self.canvas.paste(self.layer, (self.left, self.top))
        draw = ImageDraw.Draw(self.canvas)
        draw.rectangle([self.left - 1, self.top - 1, self.right, self.bottom], outline=BLACK, width=1)
        px, _ = self.to_pixels(xticks, np.zeros(len(xticks)))
        for x, label in zip(px + self.left, format_ticks(xticks)):
            draw.line([(x, self.bottom), (x, self.bottom + tick_len)], fill=BLACK)
            put_text(draw, (x, self.bottom + tick_len + 4), label, font, TEXT_GREY, ha="center")
        _, py = self.to_pixels(np.zeros(len(yticks)), yticks)
        for y, label in zip(py + self.top, format_ticks(yticks)):
            draw.line([(self.left - tick_len - 1, y), (self.left - 1, y)], fill=BLACK)
            put_text(draw, (self.left - tick_len - 5, y), label, font, TEXT_GREY, ha="right", va="middle")


def _column_envelope(px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reduce a dense polyline to (min, max) of y per whole-pixel column of x (x sorted)."""
    col = np.floor(px).astype(np.int64)
    starts = np.flatnonzero(np.concatenate([[True], col[1:] != col[:-1]]))   # first index of each column
    lo, hi = np.minimum.reduceat(py, starts), np.maximum.reduceat(py, starts)
    xs = np.repeat(col[starts].astype(np.float64), 2)                        # each column twice: lo, hi
    ys = np.stack([lo, hi], axis=1).ravel()
    return xs, ys


def _drop_repeats(px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep only points that land on a different whole pixel than the point before them."""
    ix, iy = np.rint(px), np.rint(py)
    keep = np.concatenate([[True], (ix[1:] != ix[:-1]) | (iy[1:] != iy[:-1])])
    keep[-1] = True
    return ix[keep], iy[keep]
