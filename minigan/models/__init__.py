"""DCGAN generator/discriminator builders (plain and class-conditional), noise, a model summary table,
and safetensors files."""
from .conditional import CONDITIONAL_FORMS, LabelConcatD, LabelConcatG, ProjectionD
from .dcgan import ARCHITECTURES, conditional_dcgan, dcgan28, dcgan64
from .labels import class_rows
from .mlp import mlp, mlp_pictures, mlp_points
from .noise import sample_noise
from .safetensors_file import load_safetensors, save_safetensors
from .summary import summary

__all__ = ["dcgan64", "dcgan28", "sample_noise", "summary", "ARCHITECTURES", "load_safetensors", "save_safetensors",
           "conditional_dcgan", "LabelConcatG", "LabelConcatD", "ProjectionD", "CONDITIONAL_FORMS", "class_rows",
           "mlp", "mlp_points", "mlp_pictures"]
