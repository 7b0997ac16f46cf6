"""2D toy data: mixtures of Gaussians whose modes a collapsed generator visibly misses.

The protocol of PacGAN (Lin et al. 2018, https://arxiv.org/abs/1712.04086, after
VEEGAN, Srivastava et al. 2017), measured by :mod:`minigan.job.metrics.modes`::

    ring: 8 modes at (cos 2 pi i/8, sin 2 pi i/8), i = 0..7,   std 0.01
    grid: 25 modes at (i, j), i, j in {-4, -2, 0, 2, 4},      std 0.05

A run trains on 100,000 fixed points drawn from ``--seed`` (each point: a mode
uniformly at random, plus isotropic Gaussian noise of the mode's std). The
trainer speaks NCHW, so a batch is ``(B, 2, 1, 1)``: a 2D point is a 1x1 "picture"
with 2 channels, in the data's own coordinates (no scaling to [-1, 1]).

    points = PointSet("ring", seed=0)               # .points (100000, 2) float32
    for x in points.batches(100, rng):              # float32 (100, 2, 1, 1), one shuffled epoch
        ...
"""
from __future__ import annotations

import numpy as np

N_POINTS = 100_000                                  # PacGAN's fixed training set
POINT_SETS = ("ring", "grid")


def mixture(name: str) -> tuple[np.ndarray, float]:
    """``(modes (K, 2) float64, std)`` of the named mixture: ring (K = 8) or grid (K = 25)."""
    if name == "ring":
        angle = 2 * np.pi * np.arange(8) / 8          # not linspace(0, 2 pi, 8): that repeats a centre
        return np.stack([np.cos(angle), np.sin(angle)], axis=1), 0.01
    if name == "grid":
        axis = np.array([-4.0, -2.0, 0.0, 2.0, 4.0])
        return np.array([(i, j) for i in axis for j in axis]), 0.05
    raise ValueError(f"unknown 2D dataset {name!r}: choose one of {', '.join(POINT_SETS)}")


def sample_mixture(name: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points of the mixture, float64 ``(n, 2)``: a uniform mode each, plus N(0, std^2 I)."""
    modes, std = mixture(name)
    which = rng.integers(0, len(modes), n)                       # (n,) the mode of each point
    return modes[which] + std * rng.standard_normal((n, 2))


class PointSet:
    """The fixed training points of a 2D run: ``.points`` float32 ``(100000, 2)``, drawn from ``seed``.

    Their stream, ``default_rng([seed, 2, 0])``, is none of the trainer's or the epochs' shuffles.
    """

    def __init__(self, name: str, seed: int = 0, n: int = N_POINTS):
        self.name = name
        self.modes, self.std = mixture(name)
        self.points = sample_mixture(name, n, np.random.default_rng([seed, 2, 0])).astype(np.float32)

    def __len__(self) -> int:
        return len(self.points)

    def batches(self, batch_size: int, rng: np.random.Generator, start: int = 0):
        """One epoch in the order of ``rng.permutation``: float32 ``(B, 2, 1, 1)``; ``start``: the first batch."""
        order = rng.permutation(len(self.points))
        for b in range(start, len(self.points) // batch_size):   # whole batches only
            picked = order[b * batch_size:(b + 1) * batch_size]
            yield self.points[picked].reshape(batch_size, 2, 1, 1)
