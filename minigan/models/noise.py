"""The generator's input: a random vector z per image, shaped as a 1x1 'image' with nz channels."""
from __future__ import annotations

import numpy as np

from ..backend import resolve_dtype


def sample_noise(n, nz, kind="normal", rng=None, dtype=None):
    """z of shape ``(n, nz, 1, 1)`` as a NumPy array.

    kind: ``"normal"`` (N(0, 1), as in DCGAN) or ``"uniform"`` (U(-1, 1)).
    rng:  a seed or ``np.random.Generator`` (the trainer passes its own, for reproducibility).
    """
    rng = np.random.default_rng(rng)
    if kind == "normal":
        z = rng.standard_normal((n, nz, 1, 1))
    elif kind == "uniform":
        z = rng.uniform(-1.0, 1.0, (n, nz, 1, 1))
    else:
        raise ValueError(f"noise kind must be 'normal' or 'uniform', got {kind!r}")
    return z.astype(resolve_dtype(dtype))
