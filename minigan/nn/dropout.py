"""Dropout (Srivastava et al. 2014, https://jmlr.org/papers/v15/srivastava14a.html): in training, each
unit is kept with probability ``1 - p`` and scaled by ``1 / (1 - p)``; in eval mode, the identity.

    training:  mask ~ Bernoulli(1 - p), same shape as x       y = x * mask / (1 - p)
    eval:      y = x
    backward:  dx = dy * mask / (1 - p)                       the same mask: y is linear in x given it
    tangent:   x_dot * mask / (1 - p)                         (the penalties' pass: the same product)

"Inverted" dropout, as ``torch.nn.Dropout``: the expected value of y equals x, so
eval mode needs no rescaling.

**Where the masks come from.** A resumed run must draw the very masks the
uninterrupted run would have, so the random draws come from a
``numpy.random.Generator`` passed in (``rng``), never from a global state.
:class:`~minigan.train.GANTrainer` hands every Dropout in G and D one stream of its
own (:func:`use_stream`; ``default_rng([seed, 3, 0])``) and saves that stream's state in
its checkpoints. The masks are drawn on the host in float64 (the same bits on
every backend and dtype) and moved to x's device.
"""
from __future__ import annotations

import numpy as np

from .. import backend as B
from .module import Module


class Dropout(Module):
    """``(N, *) -> (N, *)``, the same shape; like ``torch.nn.Dropout(p)``.

    p:   the probability of zeroing a unit, in [0, 1).
    rng: the ``numpy.random.Generator`` (or an int seed) the masks are drawn from; default
         ``default_rng(0)``. A GANTrainer replaces it with its own seeded, checkpointed stream.
    """

    passes_none = True                            # backward(None) is None: it learns nothing

    def __init__(self, p=0.5, *, rng=None):
        super().__init__()
        if not 0.0 <= float(p) < 1.0:
            raise ValueError(f"Dropout: p is the probability of dropping a unit, in [0, 1); got {p}")
        self.p = float(p)
        self.rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(0 if rng is None else rng)

    def forward(self, x):
        self.check_float(x)
        if not self.training or self.p == 0.0:
            self.cache = x.dtype.type(1)                                    # the identity: scale 1
            return x
        keep = self.rng.random(x.shape) >= self.p                           # (N, *) bool, P(keep) = 1 - p
        scale = B.asarray(keep / (1.0 - self.p), B.backend_name(x), x.dtype)   # mask / (1 - p), on x's device
        self.cache = scale
        return x * scale

    def backward(self, dy):
        scale = self.check_backward(dy)
        if dy is None:                                                      # no dL/dx wanted upstream
            return None
        return dy * scale                                                   # dy/dx = mask / (1 - p), elementwise

    def tangent(self, x_dot):
        return self.backward(x_dot)                 # diagonal J, so J x_dot = J^T x_dot: the same product

    def extra_repr(self):
        return f"p={self.p}"


def use_stream(net, rng) -> int:
    """Make every Dropout inside ``net`` draw its masks from ``rng``; returns how many there are."""
    found = [m for _, m in net.named_modules() if isinstance(m, Dropout)]
    for m in found:
        m.rng = rng
    return len(found)
