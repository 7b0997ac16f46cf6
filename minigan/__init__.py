"""minigan: a from-scratch, autograd-free GAN engine on NumPy or CuPy."""

__version__ = "0.1.0"

from .fast import cores  # noqa: E402,F401  first: it shortens OpenBLAS's spin before NumPy loads OpenBLAS
