"""minigan: a from-scratch, autograd-free GAN engine on NumPy or CuPy.

The package in three layers (docs/index.md has the reading path)::

    the engine   backend.py, nn/, losses.py, optim.py, init.py       every layer's forward and backward
                 fast/                                              the same numbers, faster (one switch)
    the GAN      train.py (GANTrainer), gan_losses.py, penalties.py, models/, augment/, recipes.py
    the job      job/                                               the command line, run folder, report

``with minigan.plain():`` runs every layer and the optimizer on their plain
paths, the code their docstrings derive (``minigan/fast/__init__.py``).
Importing minigan changes no environment variable (``minigan/fast/blas.py``).
"""

__version__ = "0.1.0"

from .fast import plain  # noqa: E402,F401

__all__ = ["plain"]
