"""OpenBLAS's thread spin: the one setting that must come before NumPy is imported.

A GEMM runs on every core through OpenBLAS's threads. After each GEMM those
threads spin for a while, waiting for the next one (``OPENBLAS_THREAD_TIMEOUT``;
by default 2^28 cycles, about a tenth of a second). The fast path also hands
the passes outside the GEMMs to the cores (``minigan/fast/cores.py``); a thread
of ours then shares a core with a spinning one, and the split gains nothing.
``OPENBLAS_THREAD_TIMEOUT=4``, the shortest spin, fixes that -- but OpenBLAS
reads it once, when NumPy first loads it, so it must be set before anything
imports NumPy.

Importing minigan sets nothing. Where a job starts, it is set explicitly:

- ``minigan ...`` (the console command) and ``python -m minigan ...``:
  ``minigan/job/start.py`` calls :func:`shorten_spin` first;
- ``examples/train_mnist.py`` and the benchmarks: their first lines do;
- your own script: call it before ``import numpy`` (or any module that imports
  it), or export ``OPENBLAS_THREAD_TIMEOUT=4`` in the shell.

Without it the fast path still computes the same numbers; it runs the passes
outside the GEMMs on one core (:func:`spins_short` is False), which
docs/performance.md measured slower, not faster, with the long spin.
"""
from __future__ import annotations

import os
import sys

#: The value :func:`shorten_spin` sets: OpenBLAS's shortest spin after a GEMM.
SHORT_SPIN = "4"


def shorten_spin() -> bool:
    """Set ``OPENBLAS_THREAD_TIMEOUT=4`` if NumPy is not loaded yet and nothing else set it.

    Returns whether the setting can take effect: False if NumPy (and OpenBLAS)
    was already loaded, when setting it would change nothing.
    """
    if "numpy" in sys.modules:
        return False
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", SHORT_SPIN)
    return True


def spins_short() -> bool:
    """Whether OpenBLAS's threads go to sleep soon after a GEMM (``OPENBLAS_THREAD_TIMEOUT`` <= 8)."""
    try:
        return int(os.environ.get("OPENBLAS_THREAD_TIMEOUT", "")) <= 8
    except ValueError:
        return False


__all__ = ["SHORT_SPIN", "shorten_spin", "spins_short"]
