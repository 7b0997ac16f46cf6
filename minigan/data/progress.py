"""A one-line text progress bar for downloads, with no dependency.

    train-images-idx3-ubyte.gz [########............]  10.5 MB / 26.4 MB  40%

The bar redraws its line in place (a carriage return, no newline) on a text
stream: ``sys.stderr`` by default, so it never mixes with a program's real
output on stdout. It redraws only when the percentage changes (every 100 kB
when the total is unknown), so a download logged to a file adds at most about
a hundred short updates, not one per chunk.
When the server sends no Content-Length the total is unknown, and the line
shows only the bytes received so far.
"""
from __future__ import annotations

import sys


def resolve_stream(stream):
    """``None`` means ``sys.stderr`` (looked up now, not at import), ``False`` means no output."""
    if stream is None:
        return sys.stderr
    return stream or None


def human_bytes(n: int) -> str:
    """``5125 -> '5.1 kB'``, ``26421880 -> '26.4 MB'`` (decimal units, like the file sizes servers list)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


class ProgressBar:
    """Shows ``done`` of ``total`` bytes for one file; call :meth:`update` then :meth:`close`.

    ``stream``: a text stream, ``None`` for ``sys.stderr``, or ``False`` for no bar.
    ``total``: the expected byte count, or ``None`` if unknown.
    """

    def __init__(self, label: str, total: int | None, stream=None, width: int = 20):
        self.label, self.total, self.width = label, total, width
        self.stream = resolve_stream(stream)
        self.step = None  # the last step drawn: a percent, or 100 kB units when total is unknown
        self.shown = ""   # the last line drawn
        self.done = 0     # the last byte count seen

    def line(self, done: int) -> str:
        if not self.total:
            return f"{self.label} {human_bytes(done)}"
        fraction = min(done / self.total, 1.0)
        filled = int(fraction * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        return (f"{self.label} [{bar}] {human_bytes(done):>8} / {human_bytes(self.total)}"
                f" {int(fraction * 100):3d}%")

    def update(self, done: int) -> None:
        self.done = done
        step = done * 100 // self.total if self.total else done // 100_000
        if step != self.step:
            self.step = step
            self._draw()

    def close(self) -> None:
        """Draw the final count and end the line, so what is printed next starts on a fresh one."""
        if self.stream is not None and self.shown:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self) -> None:
        text = self.line(self.done)
        if self.stream is not None and text != self.shown:
            self.stream.write("\r" + text.ljust(len(self.shown)))  # pad over a longer old line
            self.stream.flush()
            self.shown = text
