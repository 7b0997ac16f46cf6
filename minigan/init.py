"""Weight initialization from the DCGAN paper (Radford et al., 2016, https://arxiv.org/abs/1511.06434).

"All weights were initialized from a zero-centered Normal distribution with
standard deviation 0.02." BatchNorm's scale gamma starts near 1 (N(1, 0.02))
and every bias at 0, as in PyTorch's DCGAN example.
"""
from __future__ import annotations

import numpy as np

from . import backend as B
from .nn.batchnorm import _BatchNorm
from .nn.conv2d import Conv2d
from .nn.conv_transpose2d import ConvTranspose2d
from .nn.linear import Linear


def dcgan_init(module, rng=None):
    """Re-initialize ``module``'s layers in place; ``rng`` is a seed or ``np.random.Generator``.

    Draws in float64 from NumPy in layer order (so a seed gives the same weights
    on every backend and dtype), then casts to each parameter's dtype and backend.
    Returns the module.
    """
    rng = np.random.default_rng(rng)

    def assign(m, name, values):                 # in place: an optimizer built earlier keeps working
        old = m.params[name]
        old[...] = B.asarray(values, B.backend_name(old), old.dtype)

    for _, m in module.leaves():
        if isinstance(m, (Conv2d, ConvTranspose2d, Linear)):
            assign(m, "weight", rng.normal(0.0, 0.02, m.params["weight"].shape))
            if "bias" in m.params:
                assign(m, "bias", np.zeros(m.params["bias"].shape))
        elif isinstance(m, _BatchNorm):
            assign(m, "weight", rng.normal(1.0, 0.02, m.params["weight"].shape))
            assign(m, "bias", np.zeros(m.params["bias"].shape))
    return module
