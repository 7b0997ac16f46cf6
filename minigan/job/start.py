"""Where the ``minigan`` command starts: the one setting that must come before NumPy, then the command line.

OpenBLAS reads ``OPENBLAS_THREAD_TIMEOUT`` once, when NumPy loads it
(``minigan/fast/blas.py`` says why minigan's fast path wants it short). So
this module imports nothing that imports NumPy until :func:`main` has set it;
the command line itself is ``minigan/job/cli.py``.
"""
from __future__ import annotations

from ..fast import blas


def main(argv=None, prog=None):
    """``minigan ...``: shorten OpenBLAS's spin, then run the command line (minigan/job/cli.py)."""
    blas.shorten_spin()                      # before NumPy loads OpenBLAS
    from .cli import main as cli_main        # imported here, not above: this import loads NumPy
    return cli_main(argv, prog=prog)


def run_command(command, argv, prog=None):
    """``python examples/train_mnist.py ...``: one command of the command line, after the same setting."""
    blas.shorten_spin()
    from .cli import run_command as cli_run_command   # imported here: this import loads NumPy
    return cli_run_command(command, argv, prog=prog)


__all__ = ["main", "run_command"]
