"""minigan.nn: layers with hand-written forward and backward passes.

Every layer follows the contract in :mod:`minigan.nn.module`; the signatures
and weight layouts are PyTorch's, so minigan can be read beside it.
"""
from .activations import LeakyReLU, ReLU, Sigmoid, Tanh
from .batchnorm import BatchNorm1d, BatchNorm2d
from .container import Sequential, first_layer_with_input_grad
from .conv2d import Conv2d
from .conv_transpose2d import ConvTranspose2d
from .dropout import Dropout
from .embedding import Embedding
from .linear import Linear
from .maxout import Maxout
from .minibatch_stddev import MinibatchStdDev
from .module import Module
from .pack import Pack
from .reshape import Flatten, Reshape
from .spectral_norm import SpectralNorm

__all__ = [
    "Module", "Sequential", "Linear", "Conv2d", "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d",
    "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "Flatten", "Reshape", "SpectralNorm", "Embedding",
    "Maxout", "Dropout", "Pack", "MinibatchStdDev",                # the collapse lab's layers
    "first_layer_with_input_grad",
]
