"""DCGAN generator/discriminator builders, noise, a model summary table, and safetensors files."""
from .dcgan import ARCHITECTURES, dcgan28, dcgan64
from .noise import sample_noise
from .safetensors_file import load_safetensors, save_safetensors
from .summary import summary

__all__ = ["dcgan64", "dcgan28", "sample_noise", "summary", "ARCHITECTURES", "load_safetensors", "save_safetensors"]
