"""How a command stops: SIGTERM and SIGHUP interrupt like Ctrl-C, and a closed output pipe is no error.

**Signals.** Python turns Ctrl-C (SIGINT) into ``KeyboardInterrupt``, which
unwinds the stack: every ``with atomic_write(...)`` and output guard on the
way removes its temporary file (minigan/fileio.py, minigan/job/output_guard.py).
SIGTERM (``kill``, ``timeout``, ``docker stop``, a job scheduler) and SIGHUP (a
closed terminal) would end the process on the spot instead, leaving
``.NAME.PID.*.tmp`` files behind. While :class:`InterruptSignals` is active
they raise :class:`Interrupted`, a ``KeyboardInterrupt`` that knows its
signal, so the same clean-up runs and the command exits ``128 + signal``
(143, 129), as ``minigan train`` does. The training loop installs
:class:`~minigan.job.progress.StopSignals` on top of it: there a first signal
only asks the job to finish the step and save.

**A closed pipe.** ``python examples/train_mnist.py 2>&1 | tee log``, then
Ctrl-C in a terminal: the terminal sends SIGINT to the whole process group,
so ``tee`` dies with the trainer's stdout and stderr still pointing into its
pipe. The trainer's next ``print`` (the "finishing this step" note, a log
line) then raises ``BrokenPipeError``, an ``OSError`` like a full disk, and the
job stopped as if a file could not be written: no checkpoint saved. With
:class:`OutputPipes` a write to a closed pipe is dropped instead: the stream
is pointed at ``os.devnull`` (the recipe of Python's own ``signal`` docs),
the job goes on to save and exits with its usual status, and only what it
would have printed is lost (no one was reading it).
"""
from __future__ import annotations

import os
import signal
import sys
import threading


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised like Ctrl-C: ``exit_code`` is ``128 + signum``, ``name`` the signal's name."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum, self.name, self.exit_code = signum, signal.Signals(signum).name, 128 + signum


class InterruptSignals:
    """While active (in the main thread), SIGTERM and SIGHUP raise :class:`Interrupted`; restored on exit."""

    SIGNALS = tuple(s for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None)

    def __enter__(self):
        self._old = {}
        if threading.current_thread() is threading.main_thread():
            self._old = {s: signal.signal(s, self._handler) for s in self.SIGNALS}
        return self

    @staticmethod
    def _handler(signum, frame):
        raise Interrupted(signum)

    def __exit__(self, *exc):
        for s, old in self._old.items():
            signal.signal(s, old)


class ClosedPipeSafe:
    """A text stream whose writes to a closed pipe are dropped: wraps ``sys.stdout`` or ``sys.stderr``.

    On the first ``BrokenPipeError`` the stream's file descriptor is pointed at
    ``os.devnull``, so what is still buffered, and everything written later,
    goes nowhere instead of raising (also when Python flushes it at exit).
    Everything else (``isatty``, ``fileno``, ``encoding``) is the wrapped stream's.
    """

    def __init__(self, stream):
        self.stream, self.broken = stream, False

    def write(self, text):
        if not self.broken:
            try:
                return self.stream.write(text)
            except BrokenPipeError:
                self._to_devnull()
        return len(text)

    def flush(self):
        if not self.broken:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._to_devnull()

    def _to_devnull(self):
        self.broken = True
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, self.stream.fileno())          # the buffered rest is flushed into nothing
            os.close(null)
        except (OSError, ValueError, AttributeError):    # a stream with no file descriptor (a test's)
            pass

    def __getattr__(self, name):
        return getattr(self.stream, name)


class OutputPipes:
    """While active, ``sys.stdout`` and ``sys.stderr`` are :class:`ClosedPipeSafe`; restored on exit."""

    def __enter__(self):
        self._old = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = (s if isinstance(s, ClosedPipeSafe) else ClosedPipeSafe(s) for s in self._old)
        return self

    def __exit__(self, *exc):
        for wrapped in (sys.stdout, sys.stderr):
            if isinstance(wrapped, ClosedPipeSafe):
                wrapped.flush()
        sys.stdout, sys.stderr = self._old
