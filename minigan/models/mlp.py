"""The original GAN's networks: multilayer perceptrons (Goodfellow et al. 2014, https://arxiv.org/abs/1406.2661).

Two builders, both returning ``(G, D)`` as :class:`~minigan.nn.Sequential` stacks that
take and give NCHW arrays like the DCGANs (a 2D point is a 1x1 "picture" with 2 channels,
``(N, 2, 1, 1)``; z is ``(N, nz, 1, 1)``), so the trainer treats them alike.

**On 2D points** (``--dataset ring|grid``), PacGAN's nets (Lin et al. 2018,
https://arxiv.org/abs/1712.04086; its synthetic_data_experiments code)::

    G: z (N, 2) -> [Linear 400, BatchNorm1d, ReLU] x 4 -> Linear 2     points in the data's own coordinates
    D: x (N, 2) -> Maxout(., 200, pieces=5) x 3 -> Linear(200, 1)       (-> Sigmoid for bce and minimax)

weights N(0, 0.02^2), biases 0 (BatchNorm's gamma N(1, 0.02^2)). ``g_norm="none"``
(``--g-norm none``) drops G's BatchNorm1d: each sample's point then depends on its own z
alone, also in eval mode, where BatchNorm's running averages blur a mode of std 0.01.

**On MNIST-size pictures** (``--dataset mnist`` etc.), the paper's MNIST nets as its
released code sets them (github.com/goodfeli/adversarial, ``mnist.yaml``)::

    G: z (N, 100) -> Linear 1200, ReLU -> Linear 1200, ReLU -> Linear 784, Tanh -> (N, 1, 28, 28)
    D: x (N, 784) -> Dropout(0.2) -> Maxout(784, 240, 5) -> Dropout(0.5) -> Maxout(240, 240, 5)
                  -> Dropout(0.5) -> Linear(240, 1) (-> Sigmoid)

The code's "input include probabilities" .8 on D's input and .5 elsewhere, with
input scales 1.25 and 2 (= 1/.8, 1/.5), are inverted dropout with p = 0.2 and 0.5.
Its weights are uniform in +-0.05 (G) and +-0.005 (D); so are ours. Two changes:
G ends with Tanh, not Sigmoid (minigan's pictures live in [-1, 1]), and it trains with
the trainer's optimizer (Adam), not the code's SGD with momentum.

**Stabilizers** (both nets' D): ``pack=m`` puts :class:`~minigan.nn.Pack` first
(D judges m samples at once, its first layer reads m times the features);
``mbstd=True`` puts :class:`~minigan.nn.MinibatchStdDev` before D's last layer
(which reads one more feature); ``spectral_norm=True`` wraps each of D's Maxout and
Linear layers in :class:`~minigan.nn.SpectralNorm` (Miyato et al. 2018).
"""
from __future__ import annotations

import numpy as np

from .. import backend as B
from ..nn import (BatchNorm1d, Dropout, Flatten, Linear, Maxout, MinibatchStdDev, Pack, ReLU, Reshape,
                  Sequential, Sigmoid, SpectralNorm, Tanh)
from ..nn.batchnorm import _BatchNorm

MBSTD_GROUP = 4                                  # ProGAN's group size


def mlp_points(nz=2, *, seed=0, dtype=None, sigmoid=True, pack=1, mbstd=False, spectral_norm=False, width=400,
               d_width=200, pieces=5, g_norm="batch"):
    """PacGAN's G and D for 2D points: ``G: (N, nz, 1, 1) -> (N, 2, 1, 1)``, ``D: (N, 2, 1, 1) -> (N/pack, 1)``.

    ``g_norm="none"``: G without its BatchNorm1d layers, He-initialized (see :func:`_he_init`).
    """
    if g_norm not in ("batch", "none"):
        raise ValueError(f"g_norm must be 'batch' or 'none', got {g_norm!r}")
    bn = g_norm == "batch"
    G = Sequential(
        Flatten(),                                                    # (N, nz, 1, 1) -> (N, nz)
        *_hidden(nz, width, dtype, bn), *_hidden(width, width, dtype, bn),   # -> (N, 400), (BN +) ReLU each
        *_hidden(width, width, dtype, bn), *_hidden(width, width, dtype, bn),
        Linear(width, 2, dtype=dtype), Reshape(2, 1, 1),              # -> (N, 2) -> (N, 2, 1, 1), no squashing
    )
    D = Sequential(
        Flatten(), *([Pack(pack)] if pack > 1 else []),               # (N, 2, 1, 1) -> (N, 2) -> (N/m, 2m)
        Maxout(2 * pack, d_width, pieces, dtype=dtype),               # -> (N/m, 200)
        Maxout(d_width, d_width, pieces, dtype=dtype),
        Maxout(d_width, d_width, pieces, dtype=dtype),
        *([MinibatchStdDev(MBSTD_GROUP)] if mbstd else []),           # -> (N/m, 201)
        Linear(d_width + bool(mbstd), 1, dtype=dtype),                # -> (N/m, 1)
        *([Sigmoid()] if sigmoid else []),
    )
    rng = np.random.default_rng(seed)             # one stream: G's weights, then D's (then SN's u and v)
    G = _normal_init(G, rng) if bn else _he_init(G, rng)
    D = _spectral(_normal_init(D, rng), spectral_norm, rng)
    G.nz, G.input_shape, D.input_shape, D.pack = nz, (nz, 1, 1), (2, 1, 1), pack
    return G, D


def mlp_pictures(nz=100, nc=1, size=28, *, seed=0, dtype=None, sigmoid=True, pack=1, mbstd=False,
                 spectral_norm=False, width=1200, d_width=240, pieces=5):
    """Goodfellow et al.'s MNIST nets: ``G: (N, nz, 1, 1) -> (N, nc, size, size)``, ``D: -> (N/pack, 1)``."""
    F = nc * size * size                                              # 784 for MNIST
    G = Sequential(
        Flatten(),                                                    # (N, nz, 1, 1) -> (N, nz)
        Linear(nz, width, dtype=dtype), ReLU(),                       # -> (N, 1200)
        Linear(width, width, dtype=dtype), ReLU(),
        Linear(width, F, dtype=dtype), Tanh(), Reshape(nc, size, size),   # -> (N, nc, 28, 28) in [-1, 1]
    )
    D = Sequential(
        Flatten(), *([Pack(pack)] if pack > 1 else []),               # (N, nc, 28, 28) -> (N/m, 784 m)
        Dropout(0.2), Maxout(F * pack, d_width, pieces, dtype=dtype),  # -> (N/m, 240)
        Dropout(0.5), Maxout(d_width, d_width, pieces, dtype=dtype),
        *([MinibatchStdDev(MBSTD_GROUP)] if mbstd else []),           # -> (N/m, 241)
        Dropout(0.5), Linear(d_width + bool(mbstd), 1, dtype=dtype),  # -> (N/m, 1)
        *([Sigmoid()] if sigmoid else []),
    )
    rng = np.random.default_rng(seed)
    G, D = _uniform_init(G, rng, 0.05), _spectral(_uniform_init(D, rng, 0.005), spectral_norm, rng)
    G.nz, G.input_shape, D.input_shape, D.pack = nz, (nz, 1, 1), (nc, size, size), pack
    return G, D


def mlp(nz=100, ngf=None, ndf=None, nc=1, *, seed=0, dtype=None, sigmoid=True, d_norm="none",
        spectral_norm=False, num_classes=None, points=False, size=28, pack=1, mbstd=False, g_norm="batch", **widths):
    """``--arch mlp``: :func:`mlp_points` for 2D data (``points=True``), else :func:`mlp_pictures`.

    Takes the DCGAN builders' arguments; ``ngf``, ``ndf`` and ``d_norm`` do not apply (the
    papers' widths are fixed, and neither D has batch norm). ``widths``: ``width``, ``d_width``,
    ``pieces`` to build smaller nets than the papers' (tests do).
    """
    if num_classes is not None:
        raise ValueError("--arch mlp has no conditional form: leave out --conditional, or use --arch dcgan28")
    if points:
        return mlp_points(nz, seed=seed, dtype=dtype, sigmoid=sigmoid, pack=pack, mbstd=mbstd,
                          spectral_norm=spectral_norm, g_norm=g_norm, **widths)
    return mlp_pictures(nz, nc, size, seed=seed, dtype=dtype, sigmoid=sigmoid, pack=pack, mbstd=mbstd,
                        spectral_norm=spectral_norm, **widths)


def _spectral(D, on, rng):
    """``D`` with each Maxout and Linear wrapped in SpectralNorm (``on``), after its weights are drawn."""
    if not on:
        return D
    return Sequential(*(SpectralNorm(m, rng=rng) if isinstance(m, (Maxout, Linear)) else m for m in D.layers))


def _hidden(n_in, n_out, dtype, batch_norm=True):
    """G's hidden block on 2D data: Linear -> BatchNorm1d -> ReLU (without ``batch_norm``: Linear -> ReLU)."""
    return [Linear(n_in, n_out, dtype=dtype), *([BatchNorm1d(n_out, dtype=dtype)] if batch_norm else []), ReLU()]


def _assign(m, name, values):
    old = m.params[name]                         # in place, drawn in float64 on the host, then cast and moved
    old[...] = B.asarray(values, B.backend_name(old), old.dtype)


def _normal_init(net, rng, std=0.02):
    """PacGAN's: every weight N(0, std^2), every bias 0; BatchNorm's gamma N(1, std^2), beta 0."""
    for _, m in net.leaves():
        if isinstance(m, _BatchNorm):
            _assign(m, "weight", rng.normal(1.0, std, m.params["weight"].shape))
        elif "weight" in m.params:
            _assign(m, "weight", rng.normal(0.0, std, m.params["weight"].shape))
        if "bias" in m.params:
            _assign(m, "bias", np.zeros(m.params["bias"].shape))
    return net


def _he_init(net, rng):
    """A G without batch norm: every Linear's weight N(0, 2 / fan_in) (He et al. 2015), biases 0.

    PacGAN's N(0, 0.02^2) relies on BatchNorm to rescale each layer: without it, four layers of
    400 units shrink the signal (and the gradient) by 0.02 * sqrt(400 / 2) ~ 0.3 each. He's
    variance keeps a ReLU layer's output as large as its input, so G starts alive.
    """
    for _, m in net.leaves():
        if isinstance(m, Linear):
            fan_in = m.params["weight"].shape[1]
            _assign(m, "weight", rng.normal(0.0, np.sqrt(2.0 / fan_in), m.params["weight"].shape))
            _assign(m, "bias", np.zeros(m.params["bias"].shape))
    return net


def _uniform_init(net, rng, irange):
    """pylearn2's ``irange``: every weight uniform in [-irange, irange], every bias 0."""
    for _, m in net.leaves():
        if "weight" in m.params:
            _assign(m, "weight", rng.uniform(-irange, irange, m.params["weight"].shape))
        if "bias" in m.params:
            _assign(m, "bias", np.zeros(m.params["bias"].shape))
    return net
