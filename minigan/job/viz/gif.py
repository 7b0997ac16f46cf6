"""An animated GIF of sample grids over training: watch the generator learn.

The trainer saves a sample grid of the *same* fixed noise vectors ``z`` at
every sample point; played in order, the frames show each digit taking shape
out of noise. The last frame is held longer so the final result can be seen
before the animation loops.

**Growing the GIF one frame at a time.** A GIF file is a sequence of blocks::

    GIF89a | screen size | loop (NETSCAPE2.0) | frame | frame | ... | frame | ; (0x3B, the trailer)
    frame = comment "step_000200" | delay (graphic control) | image descriptor | colour table | LZW pixels

Each frame stands on its own (its own colour table, its own compressed
pixels), so adding a frame to a GIF means writing one more frame where the
trailer was, then the trailer again; the frames already in the file are never
decoded or encoded again. :class:`GifWriter` does that, so a sample point
costs the same at frame 10 as at frame 1,000 (one PNG read, one frame
encoded, a few kB written); rebuilding the whole GIF every time cost 28 s at
1,000 frames. Pillow encodes the new frame (:func:`~minigan.job.viz.gif_blocks.encode_frame`);
this module only moves its blocks into place (the blocks: ``minigan/job/viz/gif_blocks.py``).

Every frame carries a comment with its label (the sample grid's name,
``step_000200``), so the file says which grids it holds: a resumed run that
dropped its later grids cuts the GIF back to match, and a GIF that a crash
left with half a frame at its end is cut back to its last whole frame. GIF
readers skip comments. :func:`save_gif` writes a whole GIF at once, atomically.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from minigan.fileio import atomic_write
from minigan.job.viz.gif_blocks import TRAILER, comment_length, encode_frame, frame_block, gif_header, index_gif


class GifWriter:
    """The animated GIF at ``path``, grown one frame per :meth:`append` without touching earlier frames.

    Usage (what the training job does at every sample point)::

        gif = GifWriter(out / "training.gif")
        gif.sync(sample_frames)                # the grids saved so far, oldest first: cut or fill the GIF to match
        gif.append(out / "samples/step_000400.png")

    ``duration_ms``: how long each frame shows; ``hold_last_ms``: how long the
    last one does (None = ``duration_ms``); ``loop``: 0 = forever, None = play once.
    Attributes: ``labels``, the frames' labels in order; ``frames_encoded`` and
    ``bytes_written``, the work done since this object was made.
    """

    def __init__(self, path, duration_ms: int = 300, loop: int | None = 0, hold_last_ms: int | None = 1500):
        if duration_ms <= 0:
            raise ValueError(f"GifWriter: duration_ms must be > 0, got {duration_ms}")
        self.path = Path(path)
        self.delay = _centiseconds(duration_ms)
        self.last_delay = self.delay if hold_last_ms is None else max(self.delay, _centiseconds(hold_last_ms))
        self.loop = loop
        self.frames_encoded = self.bytes_written = 0
        self.labels, self._delay_at, self._end, self.size = [], [], 0, None
        if self.path.is_file():
            self._read_index()

    # ---- reading what is there -------------------------------------------------------------------
    def _read_index(self) -> None:
        """Find each frame's label and delay field by walking the blocks (no pixel is decoded).

        A file that is not a GIF this class wrote is left alone until :meth:`sync`
        or :meth:`append` replaces it; a cut-off last frame is forgotten here.
        """
        data = self.path.read_bytes()
        try:
            self.size, frames, self._end = index_gif(data)
        except ValueError:
            self.size, frames, self._end = None, [], 0
        self.labels = [label for label, _ in frames]
        self._delay_at = [at for _, at in frames]

    # ---- changing it -------------------------------------------------------------------------------
    def sync(self, frames) -> None:
        """Make the GIF hold exactly ``frames`` (paths of sample grids, oldest first; label = file stem).

        Keeps the longest run of frames already in the file whose labels match,
        cuts the rest (a resumed run's abandoned grids), and appends the missing
        ones. In a run that is simply continuing, nothing is encoded.
        """
        wanted = [Path(f).stem for f in frames]
        keep = 0
        while keep < min(len(wanted), len(self.labels)) and wanted[keep] == self.labels[keep]:
            keep += 1
        self.truncate(keep)
        for frame in frames[keep:]:
            self.append(frame)

    def truncate(self, n: int) -> None:
        """Keep the first ``n`` frames, the last of them held (0: remove the file); rewrites nothing else.

        Also cuts off half a frame that a crash left at the end of the file.
        """
        if n == 0:
            self.path.unlink(missing_ok=True)
            self.labels, self._delay_at, self._end, self.size = [], [], 0, None
            return
        if n < len(self.labels):
            self._end = self._frame_start(n)                  # where frame n begins: cut there
            self.labels, self._delay_at = self.labels[:n], self._delay_at[:n]
        with open(self.path, "r+b") as f:
            f.seek(self._end)
            f.write(TRAILER)
            f.truncate()
            self._set_delay(f, n - 1, self.last_delay)
            _sync(f)

    def append(self, frame, label: str | None = None) -> None:
        """Add ``frame`` (an ``(H, W, 3)`` uint8 array or a picture's path) as the new last frame.

        ``label``: the frame's name in the file (default: the path's stem, e.g.
        ``step_000400``). Writes the frame where the trailer was, then the
        trailer; then shortens the previous last frame's delay (it is no longer held).
        """
        if label is None:
            label = Path(frame).stem if isinstance(frame, (str, Path)) else f"frame_{len(self.labels)}"
        image = _to_image(frame, len(self.labels))
        if self.size is not None and image.size != self.size:
            raise ValueError(f"GifWriter: all frames must be the same size; {self.path} holds "
                             f"{self.size} (W, H) frames, got {image.size}")
        block = frame_block(encode_frame(image), self.last_delay, label)
        self.frames_encoded += 1
        if not self.labels:                                   # the first frame: a new file, atomically
            head = gif_header(image.size, self.loop)
            with atomic_write(self.path, "wb") as f:
                f.write(head + block + TRAILER)
            self.bytes_written += len(head) + len(block) + 1
            self.size, self._end = image.size, len(head)
        else:
            with open(self.path, "r+b") as f:
                f.seek(self._end)
                f.write(block + TRAILER)                      # frame first: a crash here loses only this frame
                f.truncate()
                _sync(f)
                self._set_delay(f, len(self.labels) - 1, self.delay)   # the old last frame is no longer held
                _sync(f)
            self.bytes_written += len(block) + 1          # (+ 2 bytes of delay, counted in _set_delay)
        self._delay_at.append(self._end + comment_length(label) + 4)   # comment, then 21 F9 04 packed delay
        self._end += len(block)
        self.labels.append(label)

    # ---- helpers -------------------------------------------------------------------------------------
    def _frame_start(self, i: int) -> int:
        """The offset where frame ``i`` (its comment block) begins."""
        return self._delay_at[i] - 4 - comment_length(self.labels[i])

    def _set_delay(self, f, i: int, delay: int) -> None:
        f.seek(self._delay_at[i])
        f.write(delay.to_bytes(2, "little"))
        self.bytes_written += 2


def save_gif(frames, path, duration_ms: int = 300, loop: int | None = 0, hold_last_ms: int | None = 1500):
    """Write ``frames`` as an animated GIF at ``path``, atomically, all at once.

    Args:
        frames: a non-empty sequence of ``(H, W, 3)`` uint8 arrays (e.g. from
            :func:`minigan.job.viz.make_grid`) or paths to image files (e.g. the
            saved sample-grid PNGs), all the same size.
        duration_ms: how long each frame shows, in milliseconds.
        loop: how many times to repeat; 0 = forever, None = play once.
        hold_last_ms: how long the final frame shows (None = ``duration_ms``).

    GIF stores at most 256 colours per frame, so each frame is reduced to its
    own palette (exact for grayscale grids). To grow a GIF during training use
    :class:`GifWriter`, which encodes each frame once. Returns ``path``.
    """
    frames = list(frames)
    if not frames:
        raise ValueError("save_gif: frames is empty; need at least one (H, W, 3) frame")
    if duration_ms <= 0:
        raise ValueError(f"save_gif: duration_ms must be > 0, got {duration_ms}")
    images = [_to_image(f, i) for i, f in enumerate(frames)]
    sizes = {im.size for im in images}
    if len(sizes) != 1:
        raise ValueError(f"save_gif: all frames must be the same size, got (W, H) sizes {sorted(sizes)}")
    delay = _centiseconds(duration_ms)
    last = delay if hold_last_ms is None else max(delay, _centiseconds(hold_last_ms))
    labels = [Path(f).stem if isinstance(f, (str, Path)) else f"frame_{i}" for i, f in enumerate(frames)]
    blocks = [frame_block(encode_frame(im), last if i == len(images) - 1 else delay, label)
              for i, (im, label) in enumerate(zip(images, labels))]
    with atomic_write(path, "wb") as f:
        f.write(gif_header(images[0].size, loop) + b"".join(blocks) + TRAILER)
    return path


def _centiseconds(ms) -> int:
    """GIF delays are in 1/100 s."""
    return max(1, int(round(ms / 10)))


def _sync(f) -> None:
    f.flush()
    os.fsync(f.fileno())


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
