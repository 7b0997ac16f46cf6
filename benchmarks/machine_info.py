"""What machine a benchmark figure was measured on: CPU model, BLAS library and kernel, BLAS settings.

Every figure in docs/performance.md depends on the CPU and on the BLAS
kernel OpenBLAS picked for it (the same AMD EPYC can run its Haswell or its
SkylakeX kernels), so every benchmark output starts with these lines.
threadpoolctl (optional, never required) is what can ask a loaded BLAS
library which kernel ("architecture") and how many threads it uses; without
it the output says so and the kernel is "unknown".
"""
from __future__ import annotations

import os
import platform
import subprocess

try:
    from threadpoolctl import threadpool_info
except ImportError:          # optional: without it nobody can ask OpenBLAS for its kernel
    threadpool_info = None

#: Environment variables that change what OpenBLAS does; reported, never changed here.
BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")

NO_THREADPOOLCTL = "unknown (threadpoolctl is not installed: pip install threadpoolctl to see the BLAS kernel)"


def cpu_model() -> str:
    """``lscpu``'s "Model name", else /proc/cpuinfo's "model name", else what Python knows."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def blas_libraries() -> list[dict] | None:
    """threadpoolctl's entries for every BLAS library loaded in this process (None without threadpoolctl).

    Each entry has ``internal_api`` ("openblas", "mkl", ...), ``version``,
    ``architecture`` (OpenBLAS's kernel, e.g. "Haswell", "SkylakeX"),
    ``num_threads``, ``threading_layer`` and ``filepath``. Import NumPy first:
    a library that is not loaded yet is not listed.
    """
    if threadpool_info is None:
        return None
    return [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]


def blas_summary(libs: list[dict] | None) -> str:
    """One line per the loaded BLAS libraries: ``openblas 0.3.31, kernel SkylakeX, 2 threads (pthreads)``."""
    if libs is None:
        return NO_THREADPOOLCTL
    if not libs:
        return "none loaded (import NumPy first)"
    return "; ".join(f"{lib.get('internal_api')} {lib.get('version')}, kernel {lib.get('architecture', 'n/a')}, "
                     f"{lib.get('num_threads')} threads ({lib.get('threading_layer', 'n/a')})" for lib in libs)


def blas_warnings(libs: list[dict] | None, threads: int) -> list[str]:
    """What in the BLAS set-up would make a figure not comparable: wrong thread count, forced kernel, two BLAS."""
    warnings = []
    for lib in libs or ():
        if lib.get("num_threads") != threads:
            warnings.append(f"{lib.get('internal_api')} runs {lib.get('num_threads')} threads, "
                            f"{threads} configured ({os.path.basename(lib.get('filepath', '?'))})")
    if libs and len(libs) > 1:
        warnings.append(f"{len(libs)} BLAS libraries loaded in one process: "
                        + ", ".join(os.path.basename(lib.get("filepath", "?")) for lib in libs))
    if os.environ.get("OPENBLAS_CORETYPE"):
        warnings.append(f"OpenBLAS's kernel is forced by OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']}")
    return warnings


def blas_env() -> str:
    """``OPENBLAS_CORETYPE=unset OPENBLAS_L2_SIZE=unset ...``: the settings that change OpenBLAS."""
    return " ".join(f"{k}={os.environ.get(k, 'unset')}" for k in BLAS_ENV)
