"""minigan: a from-scratch, autograd-free GAN engine on NumPy or CuPy."""

__version__ = "0.1.0"
