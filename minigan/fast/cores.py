"""The idle core: NumPy's passes over memory on every core, a slice of the rows each.

A GEMM runs on every core (OpenBLAS's threads); everything else NumPy does --
im2col's window copies, BatchNorm, the activations, Adam -- runs on one, while
the others wait. In a DCGAN step on two cores that is a third of the time
(docs/performance.md). Those passes treat rows (images, pixels) one at a time,
so they split: cut axis 0 into slices, share them out between the cores, run
the same NumPy lines on each slice (NumPy lets go of Python's GIL inside its
loops), and wait for all of them. Results written with ``out=`` land in place::

    y = xp.empty_like(x)
    on_cores(lambda x, y: xp.maximum(x, 0, out=y), x, y)   # each core fills its rows of y

A sum over the rows comes back as one partial sum per slice, which the caller adds::

    total = sum(on_cores(lambda x: x.sum(axis=0), x))

What makes it pay (each measured: docs/performance.md, "The idle core"):

- OpenBLAS's threads spin for a while after each GEMM, waiting for the next
  one. A thread of ours then shares a core with a spinning one, and the split
  gains nothing. A job shortens the spin before NumPy loads
  (``minigan/fast/blas.py``); where nothing did, :func:`threads` starts at 1
  and the slices run one after the other here.
- Small arrays run in one piece in the calling thread (:data:`MIN_ELEMENTS`):
  handing a slice to a thread costs tens of microseconds.
- CuPy arrays are never split: one GPU kernel already covers the whole device.

A large array is always cut into the same SLICES slices, whatever the number
of cores, so the numbers never depend on it: a sum over rows adds up its
slices' sums in one fixed order (``tests/fast/test_cores.py``).
"""
from __future__ import annotations

import os
import threading
import queue
from concurrent.futures import Future

from .blas import spins_short

#: Arrays with fewer elements than this (1 MB of float32) run in one piece: the hand-off to a
#: thread would cost more than it saves (measured at batch 16: docs/performance.md).
MIN_ELEMENTS = 2**18

#: Larger arrays are always cut into this many slices, however many cores there are, which share
#: them out; so a sum over rows adds its slices' sums in the same order, and the numbers of a
#: training run are the same, bit for bit, on 1, 2 or 4 cores.
SLICES = 4


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                   # not on Linux
        return os.cpu_count() or 1


def _default_threads() -> int:
    """1, 2 or 4 (each a divisor of SLICES, so every core gets as many slices), 1 if OpenBLAS spins long."""
    if not spins_short():
        return 1
    cpus = _usable_cpus()
    return 4 if cpus >= 4 else 2 if cpus >= 2 else 1


_threads = _default_threads()
_pool = None                                 # the helper threads, made on first use
_inside = threading.local()                  # set while a thread runs a slice: no splitting inside it


def threads() -> int:
    """How many threads share a large array's slices (1: every pass runs in the calling thread)."""
    return _threads


def describe() -> str:
    """One line for a job's start-up: how many cores the passes outside the GEMMs use, and if 1, why."""
    if _threads == 1 and not spins_short() and _usable_cpus() > 1:
        return ("cores: 1 for the passes outside the matrix products: OpenBLAS's threads spin after each "
                "product; set OPENBLAS_THREAD_TIMEOUT=4 before NumPy loads to use all of them "
                "(minigan/fast/blas.py)")
    return f"cores: {_threads} of {_usable_cpus()} for the passes outside the matrix products (minigan/fast/cores.py)"


def set_threads(n: int) -> None:
    """Use ``n`` cores for the passes outside the GEMMs (1: none but the calling thread)."""
    global _threads, _pool
    if int(n) < 1:
        raise ValueError(f"set_threads: need at least 1 thread, got {n}")
    if _pool is not None:
        _pool.shutdown()
    _threads, _pool = int(n), None


def _forget_pool_after_fork():                # a forked child has the pool object but not its threads
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def _one_slice(fn, args):
    """``fn(*args)``, with every ``on_cores`` inside it running in one piece (no threads waiting on threads)."""
    was, _inside.active = getattr(_inside, "active", False), True
    try:
        return fn(*args)
    finally:
        _inside.active = was


def run_all(fn, pieces):
    """``[fn(*p) for p in pieces]``: the pieces dealt in order to ``threads()`` threads, this one first."""
    global _pool
    groups = [pieces[s] for s in row_slices(len(pieces), _threads)]   # consecutive pieces per thread
    if len(groups) == 1:
        return [_one_slice(fn, p) for p in pieces]
    if _pool is None:
        _pool = Helpers(_threads - 1)
    futures = [_pool.submit(_run_group, fn, g) for g in groups[1:]]
    first = _run_group(fn, groups[0])
    return first + [r for f in futures for r in f.result()]


def _run_group(fn, group):
    return [_one_slice(fn, p) for p in group]


class Helpers:
    """``n`` daemon threads that run submitted calls: a thread pool with no lock a signal can strand.

    ``concurrent.futures.ThreadPoolExecutor`` takes a lock shared by every pool in ``submit``
    and again at interpreter exit, where it also joins its threads. Ctrl-C or SIGTERM raised
    in the main thread at the wrong bytecode can leave that lock held, and the process then
    hangs at exit after its last line (seen once in a suite of 1,400 tests: ``generate``
    stopped by SIGHUP). Here a submit is one ``SimpleQueue.put`` (no Python-level lock), and
    the threads are daemons, which exit with the process.
    """

    def __init__(self, n: int):
        self._tasks = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._work, name=f"minigan-core-{i}", daemon=True)
                         for i in range(n)]
        for t in self._threads:
            t.start()

    def submit(self, fn, *args) -> Future:
        future = Future()
        self._tasks.put((future, fn, args))
        return future

    def _work(self):
        while (task := self._tasks.get()) is not None:
            future, fn, args = task
            try:
                future.set_result(fn(*args))
            except BaseException as e:           # the caller's f.result() raises it
                future.set_exception(e)

    def shutdown(self):
        """Stop the threads once the calls already submitted have run."""
        for _ in self._threads:
            self._tasks.put(None)
        for t in self._threads:
            t.join()


def row_slices(n: int, parts: int) -> list[slice]:
    """``parts`` slices of ``range(n)``, as equal as can be, none empty (fewer if n < parts)."""
    parts = max(1, min(parts, n))
    bounds = [n * i // parts for i in range(parts + 1)]
    return [slice(a, b) for a, b in zip(bounds, bounds[1:])]


def on_cores(fn, *arrays):
    """``fn`` on matching slices of axis 0 of every array, shared out between the cores; its results.

    arrays: same length along axis 0 (any other shapes and strides); ``fn``
            must touch only its own slices, so slices of outputs can be
            written with ``out=`` or ``[...] =``.
    return: ``[fn(*slices) for each slice]``, in row order: SLICES entries for a
            large NumPy array (however many threads), one for a small or CuPy
            array or inside a slice.
    """
    first = arrays[0]
    if type(first).__module__ != "numpy" or first.size < MIN_ELEMENTS or getattr(_inside, "active", False):
        return [fn(*arrays)]
    return run_all(fn, [tuple(a[s] for a in arrays) for s in row_slices(len(first), SLICES)])


def share_out(items, size):
    """``items`` dealt into ``threads()`` groups of about equal total ``size(item)``, largest first.

    For work that is a list of independent jobs rather than rows: Adam's
    parameters, each updated by whichever core holds it (``run_all(fn, [(g,) for g in groups])``).
    """
    if _threads == 1 or sum(size(item) for item in items) < MIN_ELEMENTS or getattr(_inside, "active", False):
        return [list(items)]                     # not worth a hand-off
    groups = [[] for _ in range(min(_threads, len(items)))]
    totals = [0] * len(groups)
    for item in sorted(items, key=size, reverse=True):
        i = totals.index(min(totals))            # the lightest group so far takes the next largest job
        groups[i].append(item)
        totals[i] += size(item)
    return groups


__all__ = ["MIN_ELEMENTS", "SLICES", "describe", "on_cores", "row_slices", "run_all",
           "set_threads", "share_out", "threads"]
