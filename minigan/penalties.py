"""Gradient penalties on the critic's input gradient, with their exact gradients (no autograd).

WGAN-GP (Gulrajani et al. 2017, https://arxiv.org/abs/1704.00028) and R1
(Mescheder et al. 2018, https://arxiv.org/abs/1801.04406) penalize the
gradient of D's raw score s with respect to its input, per sample::

    g_i = d s(x_i) / d x_i                         (N, C, H, W), one image-sized gradient per sample
    gradient_penalty:  P = mean_i (||g_i|| - target)^2
    r1_penalty:        P = mean_i  ||g_i||^2

Training D on P needs dP/dtheta, the derivative of a derivative. Four passes give it:

1. forward x -> s, keeping every layer's cache (its input, its ReLU masks);
2. backward from ones: g = J_x(sum_i s_i)^T, and on the way delta_l, the signal
   at each layer's output (sample i's score depends only on x_i, so the
   gradient of the sum is every g_i at once);
3. v = dP/dg, per sample: ``2/N (||g_i|| - target) g_i / ||g_i||`` (GP), ``2/N g_i`` (R1);
4. dP/dtheta = d/dtheta <v, g(theta)> with v held fixed (the chain rule through g).
   ``<v, g> = s_dot``, the change of sum_i s_i when x moves along v: a
   *tangent* forward pass ``a_dot_0 = v, a_dot_l = J_l a_dot_{l-1}``. For a
   piecewise-linear critic (Conv2d, Linear, ReLU, LeakyReLU) the masks are
   constant almost everywhere, so theta enters s_dot only through each weight
   layer's ``a_dot_l = W_l a_dot_{l-1}``, and::

       d s_dot / d W_l = delta_l (x) a_dot_{l-1}    (= layer.add_weight_grad(delta_l, a_dot_{l-1}))
       d s_dot / d b_l = 0

   the weight product backward already computes, with the input replaced by
   the tangent. SpectralNorm chains it through ``W / sigma`` as its backward does.

A class-conditional D (minigan/models/conditional.py) scores ``s(x, y)``; the labels y
are constants of the input gradient (g is d s / d x alone). The passes run through it as
through a Sequential, its label input made a layer of the chain (:func:`chain_of`): a concat
D is ``[LabelPlanes(y)] + its layers`` (the planes' tangent is zero), a projection D is
``its body + [ProjectionScore(y)]`` (``<e_y, sum phi>``'s tangent is ``<e_y, sum phi_dot>``).

docs/gradient-penalty.md derives each step. At ``g_i = 0`` the norm has no
derivative; we take v_i = 0 there (the subgradient 0, as PyTorch's
``torch.linalg.vector_norm`` does; ``sqrt(sum(g**2))`` in autograd gives NaN).

Both functions run their own forward and backward through D, which replaces
D's layers' caches (and in training mode moves SpectralNorm's u and v, as a
PyTorch ``D(x_hat)`` would): call them after the step's own backward passes.
They restore D's ``requires_grad`` and ``input_grad`` flags, and add into
``D.grads`` only ``weight * dP/dtheta``.
"""
from __future__ import annotations

import contextlib

from .backend import get_array_module
from .losses import as_float64
from .models.conditional import LabelConcat, ProjectionD
from .models.conditional_chain import LabelPlanes, ProjectionScore
from .nn import BatchNorm1d, BatchNorm2d, MinibatchStdDev, Sequential, Sigmoid, SpectralNorm, Tanh
from .nn.module import Module


def gradient_penalty(D, x, weight=1.0, target=1.0, labels=None) -> float:
    """WGAN-GP's ``P = mean_i (||grad_x D(x)_i||_2 - target)^2``; adds ``weight * dP/dtheta`` into ``D.grads``.

    D: a Sequential critic giving one raw score per sample, (N, 1) or (N, 1, 1, 1), or a
       conditional D (``D(x, labels)``: pass ``labels``, (N,) ints; the gradient is x's alone)
    x: (N, C, H, W) (or (N, features)), e.g. WGAN-GP's x_hat = a x_real + (1 - a) x_fake
    """
    return float(gradient_penalty_array(D, x, weight, target, labels))


def gradient_penalty_array(D, x, weight=1.0, target=1.0, labels=None, with_norm=False):
    """:func:`gradient_penalty` with P left on x's backend, a 0-d float64 array (what the trainer
    uses: ``float()`` would wait for the GPU). ``with_norm``: ``(P, mean_i ||g_i||)``, the mean
    input-gradient norm the job logs beside the penalty."""
    def dP_dg(norm, N):
        xp = get_array_module(norm)
        P = ((norm - target) ** 2).mean()
        safe = xp.where(norm > 0, norm, 1)                            # at ||g_i|| = 0: v_i = 0 (subgradient)
        coef = (2 / N) * (norm - target) / safe                       # d/dg_i (|g_i| - t)^2 / N = 2/N (|g_i| - t) g_i/|g_i|
        return P, coef
    return _penalty("gradient_penalty", D, x, weight, dP_dg, labels, with_norm)


def r1_penalty(D, x, weight=1.0, labels=None) -> float:
    """R1's ``P = mean_i ||grad_x D(x)_i||^2``; adds ``weight * dP/dtheta`` into ``D.grads``.

    Mescheder et al.'s regularizer is ``(gamma / 2) P`` on real images: pass ``weight=gamma / 2``.
    A conditional D takes the pictures' ``labels`` (N,), as :func:`gradient_penalty`.
    """
    return float(r1_penalty_array(D, x, weight, labels))


def r1_penalty_array(D, x, weight=1.0, labels=None, with_norm=False):
    """:func:`r1_penalty` with P left on x's backend, a 0-d float64 array (``with_norm``: and mean_i ||g_i||)."""
    def dP_dg(norm, N):
        xp = get_array_module(norm)
        return (norm * norm).mean(), xp.full_like(norm, 2 / N)        # d/dg_i |g_i|^2 / N = 2/N g_i
    return _penalty("r1_penalty", D, x, weight, dP_dg, labels, with_norm)


def _penalty(name, D, x, weight, dP_dg, labels=None, with_norm=False):
    layers = chain_of(D, labels, name)
    with _flags_restored(layers):
        g, deltas = input_gradient(layers, x, name)                   # passes 1 and 2
        N = deltas[-1].shape[0]                                       # D's scores: the samples, or packs of m
        g_rows = g.reshape(N, -1)                                     # (N, C*H*W); packed: (N/m, m*C*H*W), one row a pack
        xp = get_array_module(g)
        norm = xp.sqrt((g_rows * g_rows).sum(axis=1))                 # (N,) per-sample ||g_i||
        P, coef = dP_dg(norm, N)                                   # pass 3: v = coef_i g_i
        v = (weight * coef[:, None] * g_rows).reshape(g.shape)        # weight folded in: every later product is linear in v
        add_tangent_weight_grads(layers, deltas, v)                   # pass 4
    if with_norm:
        return as_float64(P), as_float64(norm.mean())                 # and the mean ||g_i||, for the logs
    return as_float64(P)                                              # 0-d, on x's backend


def input_gradient(layers, x, name="input_gradient"):
    """Forward ``x`` through ``layers`` and backward from ones, without touching any grads.

    Returns ``g`` (like x) = d(sum_i s_i)/dx and ``deltas``, where ``deltas[l - 1]``
    is delta_l, the backward signal at the output of layer l, counting the
    layers from 1 as the module docstring does (``deltas[-1]`` = ones).
    """
    a = x
    for layer in layers:
        a = layer.forward(a)
    N = x.shape[0]
    if a.size != a.shape[0] or N % a.shape[0]:                        # one score per sample (or per pack, Pack(m))
        raise ValueError(f"{name}: D must give one raw score per sample, shape (N, 1) or (N, 1, 1, 1); "
                         f"got {tuple(a.shape)} for N = {N}")
    for layer in layers:
        layer.requires_grad, layer.input_grad = False, True           # only the signals, no first-order grads
    delta = get_array_module(a).ones_like(a)                          # d(sum_i s_i)/ds_i = 1
    deltas = [None] * len(layers)
    for l in reversed(range(1, len(layers) + 1)):                     # layers L, ..., 1
        deltas[l - 1] = delta                                         # delta_l: the signal at layer l's output
        delta = layers[l - 1].backward(delta)
    return delta, deltas


def add_tangent_weight_grads(layers, deltas, v):
    """Add ``d s_dot / d theta`` into the layers' grads, for the tangent pass that starts at ``x_dot = v``.

    ``s_dot = <v, g>``; a weight layer l contributes ``d s_dot / dW_l = delta_l (x) a_dot_{l-1}``.
    """
    a_dot = v                                                         # a_dot_0 = v, the input's tangent
    for l, layer in enumerate(layers, start=1):                       # layer l maps a_{l-1} to a_l, as above
        if layer.params:                                              # a weight layer (critic_layers checked it)
            layer.add_weight_grad(deltas[l - 1], a_dot)               # d s_dot/dW_l = delta_l (x) a_dot_{l-1}
        if l < len(layers):
            a_dot = layer.tangent(a_dot)                              # a_dot_l = J_l a_dot_{l-1} (no bias)


def chain_of(D, labels=None, name="critic"):
    """D as the chain of layers the four passes run through: :func:`critic_layers`, with a conditional
    D's label input made a layer for this batch's ``labels`` (see the module docstring)."""
    conditional = isinstance(D, (LabelConcat, ProjectionD))
    if conditional != (labels is not None):
        raise ValueError(f"{name}: " + ("a conditional D needs the pictures' labels" if conditional else
                                        "labels given, but D is not conditional"))
    layers = critic_layers(D, name)
    if isinstance(D, LabelConcat):
        return [LabelPlanes(labels, D.num_classes)] + layers                 # s(x, y) = D([x, planes(y)])
    if isinstance(D, ProjectionD):
        return layers[:-1] + [ProjectionScore(D, labels)]                    # body, then head + <e_y, sum phi>
    return layers


def critic_layers(D, name="critic_layers"):
    """D's layers in the order they run (nested Sequentials flattened), or a clear error for one we cannot handle.

    A conditional D's: a concat D's stack (after its label planes), a projection D's body and head.
    """
    if isinstance(D, ProjectionD):
        if D.sigmoid is not None:
            raise ValueError(f"{name}: D's Sigmoid is not piecewise linear, and the penalties act on D's raw "
                             "score: build the ProjectionD with sigmoid=False")
        D = Sequential(*D.body.layers, D.head)
    layers = list(_flatten(D))
    for where, layer in layers:
        problem = _unsupported(layer)
        if problem:
            raise ValueError(f"{name}: D's layer {where} {layer!r} {problem}")
    return [layer for _, layer in layers]


def _flatten(m, prefix=""):
    if isinstance(m, Sequential):
        for i, layer in enumerate(m.layers):
            yield from _flatten(layer, f"{prefix}{i}.")
    else:
        yield prefix.rstrip(".") or "(the whole D)", m


def _unsupported(layer):
    """Why the second-order pass cannot go through ``layer`` and what to do, or ``None``."""
    if isinstance(layer, (BatchNorm1d, BatchNorm2d)):
        return ("mixes the samples of a batch, so a per-sample input gradient is not defined: "
                "build D without batch norm (d_norm='none')")
    if isinstance(layer, MinibatchStdDev):
        return ("is not piecewise linear (its Jacobian changes with x), so the penalties' exact gradient would "
                "need its second derivative: train without --mbstd, or with a loss without a penalty")
    if isinstance(layer, (Sigmoid, Tanh)):
        return ("is not piecewise linear, and the penalties act on D's raw score: drop the final Sigmoid "
                "(use a loss on raw scores, e.g. with logits)")
    inner = layer.layer if isinstance(layer, SpectralNorm) else layer
    if type(inner).tangent is Module.tangent or (layer.params and not hasattr(inner, "add_weight_grad")):
        return ("has no second-order pass: the penalties handle Conv2d, Linear, LeakyReLU, ReLU, "
                "Flatten, Reshape and SpectralNorm of Conv2d or Linear")
    return None


@contextlib.contextmanager
def _flags_restored(layers):
    saved = [(layer, layer.requires_grad, layer.input_grad) for layer in layers]
    try:
        yield
    finally:
        for layer, requires_grad, input_grad in saved:
            layer.requires_grad, layer.input_grad = requires_grad, input_grad


__all__ = ["gradient_penalty", "r1_penalty", "input_gradient", "add_tangent_weight_grads", "critic_layers", "chain_of"]
