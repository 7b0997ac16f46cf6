"""DCGAN generator/discriminator builders, noise, and a model summary table."""
from .dcgan import ARCHITECTURES, dcgan28, dcgan64
from .noise import sample_noise
from .summary import summary

__all__ = ["dcgan64", "dcgan28", "sample_noise", "summary", "ARCHITECTURES"]
