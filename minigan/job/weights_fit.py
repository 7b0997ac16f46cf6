"""A checkpoint's arrays against the networks its config describes, before any network is built.

A checkpoint's config names the sizes (``--ngf 64``); its arrays are what the file holds.
Building G and D from a hostile or damaged config first (``--ngf 2048``: 4.5 GB) and
comparing after would cost that memory; :func:`model_layout` gives every array's shape
without building anything, and :func:`check_weights_fit` compares::

    check_weights_fit(cfg, state["trainer"])       # a one-line ValueError, or nothing
    G, D = build_models(cfg)                       # now the size the file's arrays show
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .config import TrainConfig, build_models


def model_layout(cfg: TrainConfig) -> dict:
    """``{"G": {name: shape}, "D": {name: shape}}``: the state_dicts of ``build_models(cfg)``, nothing built.

    A checkpoint's config is checked against its arrays with this before any network is
    allocated (a config claiming --ngf 2048 must not cost 4.5 GB first). Every dimension is
    affine in nz, ngf, ndf, channels and the number of classes (G's first weight is
    ``(nz + K, 8 ngf, 4, 4)``), so networks of width 1 and 2 give each one's coefficients.
    """
    K = len(cfg.class_names or []) if cfg.conditional else 0
    sizes = (cfg.nz, cfg.ngf, cfg.ndf, cfg.channels, K)

    def shapes(nz, ngf, ndf, channels, k):
        probe = replace(cfg, nz=nz, ngf=ngf, ndf=ndf, channels=channels, backend="numpy", dtype="float32",
                        class_names=[str(i) for i in range(k)] if cfg.conditional else None)
        return [{name: v.shape for name, v in net.state_dict().items()} for net in build_models(probe)]
    ones = (1, 1, 1, 1, 1 if cfg.conditional else 0)
    base = shapes(*ones)
    bumped = [shapes(*(2 if j == i else n for j, n in enumerate(ones))) for i in range(len(sizes) - (not K))]
    layout = {}
    for which, net_base in zip("GD", base):
        idx = "GD".index(which)
        layout[which] = {name: tuple(b + sum((bump[idx][name][d] - b) * (n - o)
                                             for bump, n, o in zip(bumped, sizes, ones))
                                     for d, b in enumerate(shape))
                         for name, shape in net_base.items()}
    return layout


def check_weights_fit(cfg: TrainConfig, weights: dict, nets=("G", "D")) -> None:
    """A one-line ``ValueError`` unless ``weights[net]`` (a checkpoint's ``trainer``) has exactly the arrays
    :func:`model_layout` gives for ``cfg``, all finite: call it before :func:`build_models` on a checkpoint's config."""
    layout = model_layout(cfg)
    for net in nets:
        expected, saved = layout[net[0]], weights.get(net) if isinstance(weights, dict) else None
        if not isinstance(saved, dict):
            raise ValueError(f"it has no {net} weights")
        for name, shape in expected.items():
            if name not in saved:
                raise ValueError(f"its {net} weights have no {name!r} (its config describes a network that has)")
            if tuple(getattr(saved[name], "shape", ())) != shape:
                raise ValueError(f"its {net} weight {name!r} is {tuple(getattr(saved[name], 'shape', ()))}, but its "
                                 f"config (--nz {cfg.nz} --ngf {cfg.ngf} --ndf {cfg.ndf}) makes it {shape}")
        extra = sorted(set(saved) - set(expected))
        if extra:
            raise ValueError(f"its {net} weights have {extra[0]!r}, which the network its config describes has not")
        for name, value in saved.items():
            if np.asarray(value).dtype.kind == "f" and not np.isfinite(value).all():
                raise ValueError(f"its {net} weight {name!r} holds NaN or infinite values")
