"""The array backend: NumPy on the CPU, CuPy on an NVIDIA GPU, one code path for both.

This is the only file in minigan that imports ``cupy``, and the only one that
moves arrays between devices. Layer math never names a device: every layer
asks its input which module to use::

    xp = get_array_module(x)      # numpy or cupy, whichever owns x
    y = xp.maximum(x, 0)

so the same ``forward``/``backward`` code runs on either device (the idiom
comes from CuPy's ``cupy.get_array_module``). NumPy is still imported directly
where work is on the host by nature: the naive loop versions of the layers,
parameter initialization (drawn on the CPU, then moved), and noise. This file
also owns moving arrays between devices (:func:`asarray`, :func:`to_numpy`),
dtype choice, and a scatter-add for code that needs one.

Importing minigan never needs CuPy: it is imported on first use, and asking for
it where it cannot work raises :class:`BackendUnavailable` with what to do.
"""
from __future__ import annotations

import numpy as np

#: The backends minigan knows about, in order of preference for a CPU user.
BACKENDS = ("numpy", "cupy")

#: float32 by default (the speed of every GEMM), float64 for gradient checks.
DEFAULT_DTYPE = np.float32
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class BackendUnavailable(RuntimeError):
    """The requested backend cannot run here (CuPy missing, or no GPU visible)."""


_cupy = None          # the imported cupy module, once it has been found to work
_cupy_error = None    # why it does not work, once that has been found


def _load_cupy():
    """Import CuPy and check a GPU is visible; remember the answer."""
    global _cupy, _cupy_error
    if _cupy is not None or _cupy_error is not None:
        return _cupy
    try:
        import cupy  # noqa: PLC0415  (imported lazily on purpose)
    except Exception as e:  # ImportError, or a broken CUDA install
        _cupy_error = (
            f"CuPy is not installed or failed to import ({type(e).__name__}: {e}). "
            "Install it with `pip install minigan[gpu]` (CuPy for CUDA 12), "
            "or use --backend numpy."
        )
        return None
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:
        n, why = 0, f"{type(e).__name__}: {e}"
    else:
        why = "CUDA reports 0 devices"
    if n == 0:
        _cupy_error = (
            f"CuPy is installed but no GPU is visible ({why}). "
            "Check that `nvidia-smi` lists a GPU and CUDA_VISIBLE_DEVICES is not empty, "
            "or use --backend numpy."
        )
        return None
    _cupy = cupy
    return _cupy


def available() -> list[str]:
    """The backends usable on this machine, e.g. ``['numpy']`` or ``['numpy', 'cupy']``."""
    return ["numpy"] + (["cupy"] if _load_cupy() is not None else [])


def get_backend(name: str):
    """The array module for a backend name: ``numpy`` or ``cupy``.

    Raises ``ValueError`` for an unknown name and :class:`BackendUnavailable`
    when CuPy cannot run here.
    """
    if name == "numpy":
        return np
    if name == "cupy":
        cp = _load_cupy()
        if cp is None:
            raise BackendUnavailable(_cupy_error)
        return cp
    raise ValueError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}")


def get_array_module(*arrays):
    """``cupy`` if any argument is a CuPy array, else ``numpy`` (never imports CuPy)."""
    for a in arrays:
        if type(a).__module__.startswith("cupy"):
            return _load_cupy()
    return np


def backend_name(a) -> str:
    """``'cupy'`` for a CuPy array, ``'numpy'`` for anything else."""
    return "cupy" if type(a).__module__.startswith("cupy") else "numpy"


def resolve_dtype(dtype) -> np.dtype:
    """``None`` -> float32; a name or dtype -> that dtype, which must be float32 or float64."""
    dt = np.dtype(DEFAULT_DTYPE if dtype is None else dtype)
    if dt not in FLOAT_DTYPES:
        raise ValueError(f"dtype must be float32 or float64, got {dt}")
    return dt


def asarray(a, backend: str = "numpy", dtype=None):
    """``a`` as an array of ``backend`` (moving it between devices if needed), cast to ``dtype``."""
    xp = get_backend(backend)
    if backend == "numpy":
        a = to_numpy(a)
    return xp.asarray(a, dtype=None if dtype is None else np.dtype(dtype))


def filled_like(template, values):
    """A fresh array with ``template``'s backend, dtype and memory layout, holding ``values``.

    For loading saved numbers into a model: the arrays come back as the
    model made them (a conv weight's channels-last memory, minigan/nn/im2col.py), not as saved.
    """
    out = get_array_module(template).empty_like(template)
    out[...] = asarray(values, backend_name(template), template.dtype)
    return out


def to_numpy(a) -> np.ndarray:
    """A NumPy copy (or view) of ``a``, wherever it lives."""
    if type(a).__module__.startswith("cupy"):
        return a.get()
    return np.asarray(a)


def scatter_add(target, indices, values) -> None:
    """``target[indices] += values``, adding repeated indices once each (``np.add.at``).

    Plain ``target[idx] += v`` keeps only one of several writes to the same
    element; this adds them all. It is slow, so minigan scatters only where
    nothing else will do: :class:`~minigan.nn.Embedding`'s backward, where several
    samples of a batch may share a label (im2col/col2im use one strided add per
    kernel offset instead).
    """
    xp = get_array_module(target)
    if xp is np:
        np.add.at(target, indices, values)
    else:
        import cupyx  # noqa: PLC0415

        cupyx.scatter_add(target, indices, values)
