"""Progress on a terminal, with no dependency: the download bar, the epoch bar, and stop signals.

    train-images-idx3-ubyte.gz [########............]  10.5 MB / 26.4 MB  40%
    epoch 2/5 [########................] 412/937  5.30 steps/s  ETA 1:39 epoch, 10:51 run

Both bars are a :class:`Line`: one line of text redrawn in place (a carriage
return, no newline) on a text stream -- ``sys.stderr`` by default, so a bar
never mixes with a program's real output on stdout. Each redraws only when
what it shows has moved on, so a log written to a file stays short:

- :class:`ProgressBar` (downloads, ``minigan/job/data/download.py``) redraws when
  the percentage changes (every 100 kB when the server sends no
  Content-Length and the total is unknown);
- :class:`EpochBar` (``minigan train``) redraws at most ten times a second on
  a terminal, and elsewhere (a CI log, a file) writes a full line at every
  tenth of the epoch.

:class:`StopSignals` makes the first Ctrl-C (or SIGTERM, SIGHUP) a request
(finish this step, save, stop) and only the second one an interrupt.
"""
from __future__ import annotations

import math
import signal
import sys
import threading
import time


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


def clock(seconds: float) -> str:
    """``99.5 -> '1:39'``, ``3725 -> '1:02:05'``, NaN -> ``'?'``."""
    if not math.isfinite(seconds):
        return "?"
    m, s = divmod(int(seconds + 0.5), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Line:
    """One line of text on ``stream``, redrawn in place; :meth:`end` finishes it with a newline."""

    def __init__(self, stream):
        self.stream = stream
        self.shown = ""   # the text drawn last

    def redraw(self, text: str) -> None:
        self.stream.write("\r" + text.ljust(len(self.shown)))   # pad over a longer old line
        self.stream.flush()
        self.shown = text

    def end(self) -> None:
        """A newline, so what is printed next starts on a fresh line."""
        self.stream.write("\n")
        self.stream.flush()
        self.shown = ""


class ProgressBar(Line):
    """Shows ``done`` of ``total`` bytes for one file; call :meth:`update` then :meth:`close`.

    ``stream``: a text stream, ``None`` for ``sys.stderr``, or ``False`` for no bar.
    ``total``: the expected byte count, or ``None`` if unknown.
    """

    def __init__(self, label: str, total: int | None, stream=None, width: int = 20):
        super().__init__(resolve_stream(stream))
        self.label, self.total, self.width = label, total, width
        self.step = None  # the last step drawn: a percent, or 100 kB units when total is unknown
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
        """Draw the final count and end the line."""
        if self.stream is not None and self.shown:
            self._draw()
            self.end()

    def _draw(self) -> None:
        text = self.line(self.done)
        if self.stream is not None and text != self.shown:
            self.redraw(text)


class EpochBar(Line):
    """``epoch 2/5 [########............] 412/937  5.3 steps/s  ETA 1:39 epoch, 10:51 run``, on stderr.

    On a terminal the line is redrawn in place; elsewhere (a CI log, a file)
    a full line is written at every tenth of the epoch, so logs stay short.
    ``start``/``stop``: the batches this run will do (a resumed or
    ``--max-steps`` run does part of an epoch); the bar ends at ``stop``
    (``563/563 of a 937-batch epoch``), and so does the ETA, and
    with ``run_left`` (the run's steps after this epoch) the run's ETA too.
    """

    def __init__(self, label, total, start, stop, stream=None, width=24, run_left=0):
        super().__init__(stream or sys.stderr)
        self.label, self.total, self.start, self.stop, self.width = label, total, start, stop, width
        self.run_left = run_left
        self.tty = self.stream.isatty() if hasattr(self.stream, "isatty") else False
        self.t0, self.done, self.last_draw, self.tenth = time.perf_counter(), start, 0.0, None

    def line(self) -> str:
        elapsed = time.perf_counter() - self.t0
        rate = (self.done - self.start) / elapsed if elapsed > 0 else 0.0
        eta = (self.stop - self.done) / rate if rate > 0 else float("nan")
        run_eta = (self.stop - self.done + self.run_left) / rate if rate > 0 else float("nan")
        end = self.stop                                  # the run's last batch in this epoch: the bar ends there
        filled = self.done * self.width // end if end else self.width
        cut = f" of a {self.total}-batch epoch" if end < self.total else ""   # --max-steps stops mid-epoch
        return (f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{end}{cut}"
                f"  {rate:.2f} steps/s  ETA {clock(eta)} epoch, {clock(run_eta)} run")

    def update(self, done) -> None:
        self.done = done
        now = time.perf_counter()
        if self.tty:
            if now - self.last_draw > 0.1 or done == self.stop:
                self._draw(now)
        else:
            tenth = done * 10 // max(self.stop, 1)
            if tenth != self.tenth or done == self.stop:
                self.tenth = tenth
                print(self.line(), file=self.stream, flush=True)

    def print(self, text) -> None:
        """A line on stdout that does not tear the bar: clear the bar, print, draw it again."""
        if self.tty and self.shown:
            self.stream.write("\r" + " " * len(self.shown) + "\r")
            self.stream.flush()
        print(text, flush=True)
        if self.tty and self.shown:
            self._draw(time.perf_counter())

    def close(self) -> None:
        if self.tty and self.shown:
            self._draw(time.perf_counter())
            self.end()

    def _draw(self, now) -> None:
        self.redraw(self.line())
        self.last_draw = now


class StopSignals:
    """While active, the first Ctrl-C, SIGTERM or SIGHUP only sets ``received``; a second one interrupts.

    SIGINT is Ctrl-C; SIGTERM is what ``kill``, ``timeout``, ``docker stop`` and
    job schedulers send; SIGHUP comes when the terminal closes. Each asks the
    job to stop, and the job treats them alike: the training step in progress
    finishes, a checkpoint holding a consistent state is saved, and the job
    exits with ``128 + the signal's number`` (130, 143, 129), as a shell
    reports a process stopped by that signal. Any second signal raises
    ``KeyboardInterrupt`` at once: quit without saving more. Outside the main
    thread (where Python cannot take signals) this does nothing.
    """

    SIGNALS = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}
    if hasattr(signal, "SIGHUP"):                          # not on Windows
        SIGNALS[signal.SIGHUP] = "SIGHUP"

    def __enter__(self):
        self.received, self._old = None, {}               # received: the first signal's number
        if threading.current_thread() is threading.main_thread():
            self._old = {s: signal.signal(s, self._handler) for s in self.SIGNALS}
        return self

    @property
    def exit_code(self) -> int:
        return 128 + int(self.received)

    @property
    def name(self) -> str:
        return self.SIGNALS[self.received]

    def _handler(self, signum, frame):
        if self.received is not None:
            raise KeyboardInterrupt
        self.received = signum
        try:
            print(f"\n{self.SIGNALS[signum]}: finishing this step, then saving a checkpoint "
                  "(send it again to quit without saving)", file=sys.stderr, flush=True)
        except OSError:                                   # stderr a closed pipe (Ctrl-C on `| tee`): save anyway
            pass

    def __exit__(self, *exc):
        for s, old in self._old.items():
            signal.signal(s, old)
