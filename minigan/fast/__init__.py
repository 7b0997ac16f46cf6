"""The speed schedule: the same layers, computed faster, behind one switch.

Every layer in ``minigan/nn/`` is first written in its plain, whole-batch form,
the one its docstring derives (``cols = im2col(x); y = cols @ Wm.T; ...``): that
is the code a learner reads and steps through. This package holds the other way
to compute the very same numbers on a CPU, kept apart so that the layers stay
readable (like cs231n's ``fast_layers.py`` beside ``layers.py``)::

    conv2d.py, conv_transpose2d.py   channels-last memory, batch chunks, kept windows,
                                     the blocked col2im, the whole-image window
    im2col.py                        the strided-view im2col and the padding-free col2im
    col2im_blocked.py                col2im(a @ Wm) in pixel blocks
    gemm.py                          a.T @ b in the order BLAS runs fastest; outer products
    maxout.py                        Maxout's max and winners as passes over its pieces, no argmax
    batchnorm.py, activations.py     the same formulas, written in place, on every core
    adam.py                          Adam's update through one scratch array, on every core
    cores.py                         the passes outside the GEMMs shared between the cores
    blas.py                          OpenBLAS's thread spin, set where a job starts

Each of them is measured in docs/performance.md, and held equal to the plain
path by ``tests/test_fast_equals_plain.py`` (float64, 1e-12 relative).

The switch (fast is the default for training)::

    with minigan.plain():          # every layer and the optimizer on their plain paths
        trainer.step(real)
    MINIGAN_PLAIN=1 python ...     # the same for a whole process
    minigan train --plain ...      # the same for a training job

A layer asks :func:`enabled` at ``forward``. The convolutions' and Maxout's
fast caches differ from the plain ones, so their ``backward`` (and tangent)
follows whichever path the forward took (:func:`made`); the other layers keep
the same cache on both paths, so either backward reads it. Flipping the switch between a forward and
its backward cannot mix them. The switch is one process-wide setting, not per thread.
"""
from __future__ import annotations

import contextlib
import os

#: ``MINIGAN_PLAIN=1`` (any value but empty or 0) starts a process on the plain paths.
_fast = os.environ.get("MINIGAN_PLAIN", "").strip() in ("", "0")


def enabled() -> bool:
    """Whether the layers and the optimizer take their fast paths now."""
    return _fast


def set_enabled(fast: bool) -> None:
    """Switch every layer and the optimizer to their fast (True) or plain (False) paths."""
    global _fast
    _fast = bool(fast)


@contextlib.contextmanager
def plain():
    """``with minigan.plain():`` -- the plain paths inside the block, the previous setting after it."""
    was = enabled()
    set_enabled(False)
    try:
        yield
    finally:
        set_enabled(was)


@contextlib.contextmanager
def on():
    """``with minigan.fast.on():`` -- the fast paths inside the block (for tests and benchmarks)."""
    was = enabled()
    set_enabled(True)
    try:
        yield
    finally:
        set_enabled(was)


def describe() -> str:
    """One line for a job's start-up: which paths the layers take, and how to take the other."""
    if _fast:
        return "layers: the fast paths (minigan/fast/); --plain or MINIGAN_PLAIN=1 for the plain ones"
    return "layers: the plain paths (minigan/nn/), as --plain or MINIGAN_PLAIN=1 asks; slower, the same numbers"


class Cache(tuple):
    """What a fast forward keeps for its backward: a tuple marked as the fast path's own."""


def made(cache) -> bool:
    """Whether ``cache`` was kept by a fast forward (so backward takes the fast path too)."""
    return isinstance(cache, Cache)


__all__ = ["Cache", "describe", "enabled", "made", "on", "plain", "set_enabled"]
