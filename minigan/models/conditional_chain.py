"""A conditional D as one chain of layers, for the gradient penalties' four passes (minigan/penalties.py).

The penalties differentiate D's score with respect to the picture x alone: the labels are
constants of the input gradient, so their tangent is zero. These two layers, built for one
batch's labels, let the passes run through a conditional D (minigan/models/conditional.py)
as through a Sequential::

    concat D:       [LabelPlanes(y)] + D.layers                 s = D([x, planes(y)])
    projection D:   D.body.layers + [ProjectionScore(D, y)]     s = head(phi) + <e_y, sum_hw phi>

(:func:`minigan.penalties.chain_of` builds them.) Each states its forward, backward and
tangent, the three products the passes take from a layer, with the derivation beside it.
"""
from __future__ import annotations

from .. import backend as B
from ..nn import Module
from .labels import as_labels, label_planes


class LabelPlanes(Module):
    """``x (N, C, H, W) -> (N, C + K, H, W)``: the one-hot planes of fixed ``labels`` appended.

    LabelConcatD's first step as a layer of the chain. The planes do not depend on x::

        forward:   [x, planes(y)]
        backward:  dL/dx = dy[:, :C]                   (the planes' share is dropped)
        tangent:   [x_dot, 0]                          (a constant's tangent is zero)
    """

    def __init__(self, labels, num_classes: int):
        super().__init__()
        self.labels, self.num_classes = labels, int(num_classes)

    def forward(self, x):
        N, C, H, W = x.shape
        y = as_labels(self.labels, x, self.num_classes, "LabelPlanes")
        planes = label_planes(y, self.num_classes, H, W, x.dtype)           # (N, K, H, W)
        self.cache = C
        return B.get_array_module(x).concatenate([x, planes], axis=1)        # (N, C + K, H, W)

    def backward(self, dy):
        C = self.check_backward(dy)
        return dy[:, :C]                                                      # (N, C, H, W)

    def tangent(self, x_dot):
        N, C, H, W = x_dot.shape
        zeros = B.get_array_module(x_dot).zeros((N, self.num_classes, H, W), x_dot.dtype)
        return B.get_array_module(x_dot).concatenate([x_dot, zeros], axis=1)   # the labels do not move


class ProjectionScore(Module):
    """``phi (N, F, h, w) -> s (N, 1, 1, 1)``: ProjectionD's top, ``head(phi) + <e_y, sum_hw phi>``, for fixed labels.

    With ``e = embed(y)`` (N, F) held for the batch, s is linear in phi up to head's bias, so::

        backward:         dL/dphi = head^T ds + ds e[:, :, None, None]
        tangent:          s_dot = head(phi_dot) (no bias) + <e, sum_hw phi_dot>
        add_weight_grad:  d s_dot/dW_head = ds (x) phi_dot;   d s_dot/d e_y = ds sum_hw phi_dot  (row y)

    Its ``requires_grad``/``input_grad`` are the head's, so the penalties' flag handling reaches it;
    its ``params`` name the arrays its weight product adds into (``head.weight``, ``embed.weight``).
    """

    def __init__(self, D, labels):
        """``D``: a :class:`~minigan.models.conditional.ProjectionD`; ``labels``: (N,) ints, the batch's classes."""
        self.head, self.embed, self.labels, self.num_classes = D.head, D.embed, labels, D.num_classes
        self.cache = None
        self.training = True

    requires_grad = property(lambda self: self.head.requires_grad,       # the head's flags are the layer's
                             lambda self, flag: setattr(self.head, "requires_grad", flag))
    input_grad = property(lambda self: self.head.input_grad, lambda self, flag: setattr(self.head, "input_grad", flag))

    @property
    def params(self):
        return {"head.weight": self.head.params["weight"], "embed.weight": self.embed.params["weight"]}

    def forward(self, phi):
        N = phi.shape[0]
        y = as_labels(self.labels, phi, self.num_classes, "ProjectionScore")
        e = self.embed.forward(y)                                             # (N, F), cached for add_weight_grad
        self.cache = e
        return self.head.forward(phi) + (e * phi.sum(axis=(2, 3))).sum(axis=1).reshape(N, 1, 1, 1)

    def backward(self, ds):
        e = self.check_backward(ds)
        dphi = self.head.backward(ds)                                         # head^T ds (input_grad on)
        return dphi + (ds.reshape(-1, 1) * e)[:, :, None, None]              # + d<e, sum phi>/dphi = ds e

    def tangent(self, phi_dot):
        e = self.check_backward(phi_dot)
        N = phi_dot.shape[0]
        return self.head.tangent(phi_dot) + (e * phi_dot.sum(axis=(2, 3))).sum(axis=1).reshape(N, 1, 1, 1)

    def add_weight_grad(self, ds, phi_dot):
        self.check_backward(ds)
        self.head.add_weight_grad(ds, phi_dot)                               # d s_dot/dW_head = ds (x) phi_dot
        self.embed.backward(ds.reshape(-1, 1) * phi_dot.sum(axis=(2, 3)))    # d s_dot/de_y = ds sum_hw phi_dot

    def __repr__(self):
        return f"ProjectionScore(head={self.head!r}, classes={self.num_classes})"
