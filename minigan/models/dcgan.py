"""DCGAN (Radford, Metz & Chintala, 2016, https://arxiv.org/abs/1511.06434).

The generator G turns a noise vector z into an image; the discriminator D
turns an image into the probability that it is real (or, with ``sigmoid=False``,
a raw score, as every loss but bce and minimax needs: :mod:`minigan.gan_losses`). Both are plain
:class:`~minigan.nn.Sequential` stacks, following the paper's guidelines:

- no pooling: G upsamples with transposed convolutions, D downsamples with
  strided convolutions;
- batch norm in both, except G's output layer and D's input layer
  (``d_norm="none"``: none in D, as the gradient penalties of WGAN-GP and R1 need);
- ReLU in G (tanh at the output, so images live in [-1, 1]);
  LeakyReLU(0.2) in D (sigmoid at the output; ``sigmoid=False`` drops it);
- no biases in the convolutions (batch norm's beta does that job);
- weights drawn from N(0, 0.02) (:func:`minigan.init.dcgan_init`);
- ``spectral_norm=True``: each of D's Conv2d wrapped in :class:`~minigan.nn.SpectralNorm`
  (Miyato et al. 2018), after its weights are drawn, so the draws are the same either way.

Shapes of ``dcgan64`` with the defaults (nz=100, ngf=ndf=64, nc=3)::

    G: z (N,100,1,1) -> (N,512,4,4) -> (N,256,8,8) -> (N,128,16,16) -> (N,64,32,32) -> (N,3,64,64)
    D: x (N,3,64,64) -> (N,64,32,32) -> (N,128,16,16) -> (N,256,8,8) -> (N,512,4,4) -> (N,1,1,1)
"""
from __future__ import annotations

import numpy as np

from ..init import dcgan_init
from ..nn import (BatchNorm2d, Conv2d, ConvTranspose2d, LeakyReLU, MinibatchStdDev, Pack, ReLU, Sequential, Sigmoid,
                  SpectralNorm, Tanh)
from .conditional import with_labels
from .mlp import mlp


def up(c_in, c_out, kernel, stride, padding, dtype):
    """G's building block: transposed conv -> batch norm -> ReLU."""
    return [ConvTranspose2d(c_in, c_out, kernel, stride, padding, bias=False, dtype=dtype),
            BatchNorm2d(c_out, dtype=dtype), ReLU()]


def down(c_in, c_out, kernel, stride, padding, dtype, batchnorm=True):
    """D's building block: strided conv -> (batch norm) -> LeakyReLU(0.2)."""
    conv = [Conv2d(c_in, c_out, kernel, stride, padding, bias=False, dtype=dtype)]
    return conv + ([BatchNorm2d(c_out, dtype=dtype)] if batchnorm else []) + [LeakyReLU(0.2)]


@with_labels
def dcgan64(nz=100, ngf=64, ndf=64, nc=3, *, seed=0, dtype=None, sigmoid=True, d_norm="batch",
            spectral_norm=False, pack=1, mbstd=False):
    """The DCGAN for 64x64 images: returns ``(G, D)``, DCGAN-initialized from ``seed``.

    sigmoid: D ends with a Sigmoid (probabilities); False: with its last Conv2d (a raw score).
    d_norm:  ``"batch"``: BatchNorm2d in D's inner blocks; ``"none"``: no normalization in D.
    spectral_norm: every Conv2d of D computes with ``W / sigma(W)`` (:class:`~minigan.nn.SpectralNorm`).
    num_classes: None for the plain DCGAN; K for a class-conditional pair, ``G(z, labels)`` and
             ``D(x, labels)``, in the ``conditional`` form ``"concat"`` or ``"projection"``
             (minigan/models/conditional.py).
    pack:    PacGAN's packing: D starts with :class:`~minigan.nn.Pack` ``(N, nc, H, W) -> (N/m, m nc, H, W)``
             and judges m pictures at once (1: off).
    mbstd:   a :class:`~minigan.nn.MinibatchStdDev` (groups of 4) before D's last conv, which reads one
             more channel.
    """
    bn = _d_batchnorm(d_norm)
    G = Sequential(
        *up(nz, ngf * 8, 4, 1, 0, dtype),          # (N, nz, 1, 1)     -> (N, 8ngf, 4, 4)
        *up(ngf * 8, ngf * 4, 4, 2, 1, dtype),     #                   -> (N, 4ngf, 8, 8)
        *up(ngf * 4, ngf * 2, 4, 2, 1, dtype),     #                   -> (N, 2ngf, 16, 16)
        *up(ngf * 2, ngf, 4, 2, 1, dtype),         #                   -> (N, ngf, 32, 32)
        ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False, dtype=dtype), Tanh(),   # -> (N, nc, 64, 64)
    )
    D = Sequential(
        *([Pack(pack)] if pack > 1 else []),               # packing: (N, nc, 64, 64) -> (N/m, m nc, 64, 64)
        *down(nc * pack, ndf, 4, 2, 1, dtype, batchnorm=False),   # (N, nc, 64, 64) -> (N, ndf, 32, 32)
        *down(ndf, ndf * 2, 4, 2, 1, dtype, bn),           #                 -> (N, 2ndf, 16, 16)
        *down(ndf * 2, ndf * 4, 4, 2, 1, dtype, bn),       #                 -> (N, 4ndf, 8, 8)
        *down(ndf * 4, ndf * 8, 4, 2, 1, dtype, bn),       #                 -> (N, 8ndf, 4, 4)
        *([MinibatchStdDev(4)] if mbstd else []),          # --mbstd:        -> (N, 8ndf + 1, 4, 4)
        Conv2d(ndf * 8 + bool(mbstd), 1, 4, 1, 0, bias=False, dtype=dtype),   # -> (N, 1, 1, 1)
        *([Sigmoid()] if sigmoid else []),
    )
    return _packed(*_initialized(G, D, seed, spectral_norm), pack, (nc, 64, 64))


@with_labels
def dcgan28(nz=100, ngf=64, ndf=64, nc=1, *, seed=0, dtype=None, sigmoid=True, d_norm="batch",
            spectral_norm=False, pack=1, mbstd=False):
    """The MNIST-size DCGAN (28x28 images): returns ``(G, D)``, DCGAN-initialized from ``seed``.

    ``sigmoid``, ``d_norm``, ``spectral_norm``, ``num_classes`` and ``conditional`` as in :func:`dcgan64`.
    """
    bn = _d_batchnorm(d_norm)
    G = Sequential(
        *up(nz, ngf * 4, 7, 1, 0, dtype),          # (N, nz, 1, 1)     -> (N, 4ngf, 7, 7)
        *up(ngf * 4, ngf * 2, 4, 2, 1, dtype),     #                   -> (N, 2ngf, 14, 14)
        ConvTranspose2d(ngf * 2, nc, 4, 2, 1, bias=False, dtype=dtype), Tanh(),   # -> (N, nc, 28, 28)
    )
    D = Sequential(
        *([Pack(pack)] if pack > 1 else []),               # packing: (N, nc, 28, 28) -> (N/m, m nc, 28, 28)
        *down(nc * pack, ndf, 4, 2, 1, dtype, batchnorm=False),   # (N, nc, 28, 28) -> (N, ndf, 14, 14)
        *down(ndf, ndf * 2, 4, 2, 1, dtype, bn),           #                 -> (N, 2ndf, 7, 7)
        *([MinibatchStdDev(4)] if mbstd else []),          # --mbstd:        -> (N, 2ndf + 1, 7, 7)
        Conv2d(ndf * 2 + bool(mbstd), 1, 7, 1, 0, bias=False, dtype=dtype),   # -> (N, 1, 1, 1)
        *([Sigmoid()] if sigmoid else []),
    )
    return _packed(*_initialized(G, D, seed, spectral_norm), pack, (nc, 28, 28))


def _d_batchnorm(d_norm):
    """True for D's ``d_norm="batch"``, False for ``"none"``."""
    if d_norm not in ("batch", "none"):
        raise ValueError(f"d_norm must be 'batch' or 'none', got {d_norm!r}")
    return d_norm == "batch"


def _packed(G, D, pack, picture):
    """``(G, D)`` with ``D.pack``, the samples D judges at once, and ``D.input_shape``, one picture's
    ``(C, H, W)`` (the model summary feeds D that many pictures of that shape)."""
    D.pack, D.input_shape = pack, picture
    return G, D


def _initialized(G, D, seed, spectral_norm=False):
    rng = np.random.default_rng(seed)       # one stream: G's weights, then D's (then SN's u and v)
    G, D = dcgan_init(G, rng), dcgan_init(D, rng)
    if spectral_norm:                       # wrap after drawing: dcgan_init does not look inside SpectralNorm
        D = Sequential(*(SpectralNorm(m, rng=rng) if isinstance(m, Conv2d) else m for m in D.layers))
    return G, D


ARCHITECTURES = {"dcgan28": dcgan28, "dcgan64": dcgan64, "mlp": mlp}


def conditional_dcgan(arch="dcgan28", num_classes=10, conditional="concat", *, nz=100, ngf=64, ndf=64,
                      nc=None, seed=0, dtype=None, sigmoid=True, d_norm="batch"):
    """A class-conditional DCGAN by architecture name: ``ARCHITECTURES[arch](..., num_classes=K)``.

    ``nc``: image channels (default: the architecture's, 1 for dcgan28, 3 for dcgan64).
    See :func:`minigan.models.conditional.conditional_networks` for the two forms.
    """
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}: choose one of {', '.join(ARCHITECTURES)}")
    channels = {} if nc is None else {"nc": nc}
    return ARCHITECTURES[arch](nz=nz, ngf=ngf, ndf=ndf, seed=seed, dtype=dtype, sigmoid=sigmoid, d_norm=d_norm,
                               num_classes=num_classes, conditional=conditional, **channels)
