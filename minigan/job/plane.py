"""What a 2D run shows besides its samples: D's verdict over the whole plane, and G's warped noise grid.

GAN Lab's picture (Kahng et al. 2019, https://poloclub.github.io/ganlab/): D is a
function of the point x in the plane, so it can be drawn everywhere, not only where
the samples are. G's points move uphill on it (towards "real"); a collapsed G sits
in one bright patch while D marks the other modes real but nobody goes there::

    grid:  R x R points covering the plotted square, (R*R, 2, 1, 1)
    field: D(grid) in eval mode, (R, R); probabilities for a Sigmoid D, else the raw
           score scaled to [0, 1] over the square (low -> high)

A packed D (``--pack m``) judges m points at once: each grid point is given to it m
times over, so the field is D's verdict on a pack of m copies of x (what a fully
collapsed G would show it there). Nothing here draws from a random stream, and D's
caches are put back (:meth:`~minigan.nn.Module.evaluating`), so drawing it between
steps changes nothing in training.

G's *manifold* (GAN Lab's name): with z in R^2, G maps a square grid of z onto the
plane; drawing the grid's lines where G sends them shows how G stretches and folds
its noise to cover (or fail to cover) the modes::

    z grid: L x L points in [-3, 3]^2 (3 standard deviations of N(0, I))
    warped: G(z grid) as (L, L, 2), row i = the line z_2 = const, column j = z_1 = const
"""
from __future__ import annotations

import numpy as np

from .. import backend as B
from ..nn import Sigmoid

RESOLUTION = 80                                   # points per side of the grid D is evaluated on
LINES = 20                                        # grid lines per side of G's warped noise grid
Z_EXTENT = 3.0                                    # the noise grid covers [-3, 3]^2


def decision_field(D, half: float, resolution: int = RESOLUTION) -> np.ndarray:
    """D's verdict on the square ``[-half, half]^2`` as a ``(R, R)`` float64 array in [0, 1], row 0 at the top."""
    ref = next(iter(D.params.values()))
    centres = (np.arange(resolution) + 0.5) / resolution * 2 * half - half          # (R,) cell centres
    xs, ys = np.meshgrid(centres, centres[::-1])                                     # y up: row 0 is the top
    grid = np.stack([xs.ravel(), ys.ravel()], axis=1)                                # (R*R, 2)
    pack = getattr(D, "pack", 1)
    grid = np.repeat(grid, pack, axis=0).reshape(-1, 2, 1, 1)                        # each point m times: a pack
    with D.evaluating():
        s = B.to_numpy(D.forward(B.asarray(grid, B.backend_name(ref), ref.dtype))).astype(np.float64).ravel()
    if not isinstance(D.layers[-1], Sigmoid):                                        # a raw score: its range here
        s = (s - s.min()) / max(float(s.max() - s.min()), 1e-12)
    return s.reshape(resolution, resolution)


def warped_grid(generate, lines: int = LINES, extent: float = Z_EXTENT, dtype=None) -> np.ndarray:
    """G's image of a ``lines x lines`` grid of z in ``[-extent, extent]^2``: ``(lines, lines, 2)`` float64.

    ``generate(z)``: z ``(n, 2, 1, 1)`` -> points ``(n, 2, 1, 1)`` (the trainer's ``generate(z=z)``).
    """
    ticks = np.linspace(-extent, extent, lines)
    z1, z2 = np.meshgrid(ticks, ticks)                                           # row i: z_2 = ticks[i]
    z = np.stack([z1.ravel(), z2.ravel()], axis=1).reshape(-1, 2, 1, 1).astype(dtype or np.float32)
    return B.to_numpy(generate(z)).astype(np.float64).reshape(lines, lines, 2)
