"""Sampling from a trained generator: random grids and latent interpolations.

A checkpoint (see :mod:`minigan.checkpoint`) holds G's weights, the EMA copy
when the run kept one, and the config that says how to rebuild G. So::

    G = load_generator("out")                      # the latest checkpoint of the run in out/
    z = sample_noise(64, G.nz, "normal", rng=0)    # (64, nz, 1, 1)
    images = G(z)                                  # (64, C, H, W) in [-1, 1]

**Latent interpolation.** Walking in a straight line from one z to another
and decoding each point shows whether G has learned a smooth map: the
pictures should morph, not jump. For Gaussian z a straight line passes near
the origin, where almost no training z ever lies (in nz = 100 dimensions
|z| is close to sqrt(100) = 10), so we walk along the great circle instead:
spherical interpolation (slerp; White, 2016, https://arxiv.org/abs/1609.04468)::

    slerp(a, b, t) = sin((1 - t) w) / sin(w) * a + sin(t w) / sin(w) * b,   cos(w) = a.b / (|a| |b|)

For uniform z (a box) we walk the straight line, which stays inside the box.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import backend as B
from .checkpoint import load_checkpoint
from .config import TrainConfig, build_models
from .models import sample_noise
from .viz import grid_scale, save_grid


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Points on the great circle from ``a`` (t = 0) to ``b`` (t = 1): a, b ``(nz,)``, t ``(T,)`` -> ``(T, nz)``."""
    cos_w = np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))
    w = np.arccos(np.clip(cos_w, -1.0, 1.0))
    t = t[:, None]
    if w < 1e-6:                                      # a and b (nearly) parallel: a straight line
        return (1 - t) * a + t * b
    return (np.sin((1 - t) * w) * a + np.sin(t * w) * b) / np.sin(w)


def latent_walk(nz: int, rows: int, steps: int, kind: str = "normal", rng=None, dtype=None) -> np.ndarray:
    """``rows`` walks of ``steps`` points each, between random pairs of z: ``(rows * steps, nz, 1, 1)``.

    Row r goes from one noise vector to another (slerp for normal z, a
    straight line for uniform z); laid out with ``nrow=steps``, each grid row
    is one walk.
    """
    ends = sample_noise(2 * rows, nz, kind, rng, np.float64)[:, :, 0, 0]     # (2 rows, nz)
    t = np.linspace(0.0, 1.0, steps)                                          # (steps,)
    walk = slerp if kind == "normal" else (lambda a, b, t: (1 - t[:, None]) * a + t[:, None] * b)
    z = np.concatenate([walk(ends[2 * r], ends[2 * r + 1], t) for r in range(rows)])  # (rows*steps, nz)
    return z.reshape(rows * steps, nz, 1, 1).astype(B.resolve_dtype(dtype))


class Generator:
    """G rebuilt from a checkpoint, in eval mode: ``Generator(...)(z)`` -> images ``(N, C, H, W)``.

    Attributes: ``net`` (the Sequential), ``config`` (the run's TrainConfig), ``nz``, ``noise``,
    ``step`` (the training step the checkpoint was saved at), ``ema`` (whether ``net`` is the EMA copy).
    """

    def __init__(self, net, config, step, ema):
        self.net, self.config, self.step, self.ema = net.eval(), config, step, ema
        self.nz, self.noise = config.nz, config.noise

    def __call__(self, z):
        ref = next(iter(self.net.params.values()))
        return self.net.forward(B.asarray(z, B.backend_name(ref), ref.dtype))


def load_generator(path, backend: str = "numpy", use_ema: bool = True) -> Generator:
    """G from a checkpoint file, a ``latest`` pointer or a run's output folder, on ``backend``.

    Uses the EMA generator when the checkpoint has one and ``use_ema``.
    """
    state = load_checkpoint(path)
    config = TrainConfig.from_dict(state["config"])
    config.backend = backend
    G, _ = build_models(config.resolved())
    weights = state["trainer"].get("G_ema") if use_ema else None
    G.load_state_dict(weights if weights is not None else state["trainer"]["G"])
    return Generator(G, config, int(state["step"]), ema=weights is not None)


def generate_grid(checkpoint_path, out, n: int = 64, seed: int = 0, interpolate: bool = False,
                  nrow: int = 8, backend: str = "numpy", use_ema: bool = True) -> Path:
    """Write a grid of ``n`` samples (or, with ``interpolate``, of latent walks) to ``out`` (PNG).

    Interpolation: ``ceil(n / nrow)`` rows of ``nrow`` steps each.
    """
    G = load_generator(checkpoint_path, backend, use_ema)
    rng = np.random.default_rng(seed)
    if interpolate:
        z = latent_walk(G.nz, rows=-(-n // nrow), steps=nrow, kind=G.noise, rng=rng)
    else:
        z = sample_noise(n, G.nz, G.noise, rng)                              # (n, nz, 1, 1)
    images = G(z)                                                            # (n, C, H, W) in [-1, 1]
    save_grid(images, out, nrow=nrow, scale=grid_scale(images.shape[-1]))
    print(f"wrote {out}: {len(z)} pictures from {'EMA ' if G.ema else ''}G at step {G.step}"
          f"{' (latent walks, one per row)' if interpolate else ''}")
    return Path(out)
