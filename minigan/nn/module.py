"""The layer contract every minigan module follows.

A module is a function with a hand-written derivative::

    y  = m.forward(x)      # also m(x); keeps in m.cache exactly what backward needs
    dx = m.backward(dy)    # dy = dLoss/dy, returns dLoss/dx of the latest forward,
                           # and ADDS dLoss/dparam into m.grads[name]

There is no tape and no autograd: a network's backward is its layers' backward
calls in reverse order (see :class:`~minigan.nn.container.Sequential`).

State lives in three dicts with fixed names, like PyTorch's:

- ``m.params``  -- learnable arrays, e.g. ``{"weight": W, "bias": b}``;
- ``m.grads``   -- same keys, same shapes; backward accumulates with ``+=``
  until ``m.zero_grad()`` (so two backward passes add up, as in PyTorch);
- ``m.buffers`` -- non-learned state, e.g. BatchNorm's ``running_mean``.

Optimizers update ``params`` *in place*, and so do initialization and the
trainer, so the arrays a layer holds never change identity except through
:meth:`Module.to` and :meth:`Module.load_state_dict`.
"""
from __future__ import annotations

import contextlib

import numpy as np

from .. import backend as B


class Module:
    """Base class: the bookkeeping shared by every layer (no math here)."""

    #: True for a layer that only moves or masks numbers and learns nothing (Flatten, Reshape, Pack,
    #: Dropout): its ``backward(None)`` returns None, so in front of a network the layer after it
    #: decides whether dL/dx is computed (:func:`~minigan.nn.container.first_layer_with_input_grad`).
    passes_none = False

    def __init__(self):
        self.params: dict = {}
        self.grads: dict = {}
        self.buffers: dict = {}
        self.cache = None            # what forward saved for backward
        self.training = True         # train() / eval() mode (BatchNorm reads it)
        self.requires_grad = True    # False: backward skips parameter gradients
        self.input_grad = True       # False: backward may skip dL/dx and return None (a network's
                                     # first layer, when its input is data that nothing learns from;
                                     # the layers in front of it, if any, then pass None on)

    # -- the two functions every layer writes ---------------------------------
    def forward(self, x):
        raise NotImplementedError

    def backward(self, dy):
        raise NotImplementedError

    def __call__(self, x):
        return self.forward(x)

    # -- the second-order pass, for the gradient penalties (minigan/penalties.py) --
    def tangent(self, x_dot):
        """``y_dot = J x_dot``: the change of the latest forward's output along ``x_dot``.

        Defined by the layers a gradient penalty can differentiate twice (Conv2d,
        Linear, ReLU, LeakyReLU, Flatten, Reshape, SpectralNorm, Sequential).
        """
        raise NotImplementedError(
            f"{self!r} has no tangent pass, so the gradient penalties cannot differentiate through it "
            f"(they handle Conv2d, Linear, LeakyReLU, ReLU, Flatten, Reshape and SpectralNorm)")

    # -- parameters -------------------------------------------------------------
    def add_param(self, name: str, value) -> None:
        """Register a learnable array and a zero gradient of the same shape."""
        xp = B.get_array_module(value)
        self.params[name] = value
        self.grads[name] = xp.zeros_like(value)

    def children(self) -> list:
        """``(name, module)`` pairs of direct sub-modules (none for a plain layer)."""
        return []

    def named_modules(self, prefix: str = ""):
        """Yield ``(dotted_name, module)`` for this module and everything inside it."""
        yield prefix.rstrip("."), self
        for name, child in self.children():
            yield from child.named_modules(f"{prefix}{name}.")

    def leaves(self):
        """``(dotted_prefix, module)`` for every module that holds arrays itself (not a container)."""
        return [(prefix, m) for prefix, m in self.named_modules() if not m.children()]

    def parameters(self):
        """Yield ``(dotted_name, param, grad)`` for every learnable array, for optimizers."""
        params, grads = self.params, self.grads
        for name in params:
            yield name, params[name], grads[name]

    def named_buffers(self):
        """Yield ``(dotted_name, buffer)`` for every buffer (BatchNorm running stats)."""
        yield from self.buffers.items()

    def num_parameters(self) -> int:
        return int(sum(p.size for _, p, _ in self.parameters()))

    def zero_grad(self) -> None:
        """Reset every gradient to 0 (backward adds into them)."""
        for _, _, g in self.parameters():
            g[...] = 0

    # -- modes ------------------------------------------------------------------
    def train(self, mode: bool = True):
        """Training mode: BatchNorm normalizes with the batch's own statistics."""
        for _, m in self.named_modules():
            m.training = mode
        return self

    def eval(self):
        """Evaluation mode: BatchNorm uses its running statistics."""
        return self.train(False)

    @contextlib.contextmanager
    def evaluating(self):
        """``with net.evaluating(): y = net(x)`` -- a forward pass in eval mode that changes nothing.

        Inside, every layer is in eval mode (BatchNorm uses its running statistics,
        so a sample does not depend on the rest of its batch) and no monitor
        watches. On leaving, each layer's train/eval mode and backward cache are
        put back, so a training step in progress can still call ``backward``.
        """
        saved = [(m, m.training, m.cache, getattr(m, "monitor", None)) for _, m in self.named_modules()]
        self.eval()
        for m, *_ in saved:
            if hasattr(m, "monitor"):
                m.monitor = None
        try:
            yield self
        finally:
            for m, training, cache, monitor in saved:
                m.training, m.cache = training, cache
                if hasattr(m, "monitor"):
                    m.monitor = monitor

    def requires_grad_(self, flag: bool = True):
        """Whether backward computes parameter gradients (input gradients still flow,
        unless a layer's ``input_grad`` is False).

        The GAN trainer freezes D while G learns: D's backward still passes the
        gradient to its input, but spends no time on D's weight gradients.
        """
        for _, m in self.named_modules():
            m.requires_grad = flag
        return self

    # -- devices, dtypes, saving ------------------------------------------------
    def to(self, backend: str | None = None, dtype=None):
        """Move (``backend='numpy'|'cupy'``) and/or cast (``dtype``) all arrays; returns self."""
        for _, m in self.leaves():
            for d in (m.params, m.grads, m.buffers):
                for k, v in d.items():
                    dt = v.dtype if dtype is None else B.resolve_dtype(dtype)
                    d[k] = B.asarray(v, backend or B.backend_name(v), dt)
        for _, m in self.named_modules():
            m.cache = None
        return self

    def state_dict(self) -> dict:
        """``{dotted_name: numpy array copy}`` of every parameter and buffer."""
        d = {name: B.to_numpy(p).copy() for name, p, _ in self.parameters()}
        d.update({name: B.to_numpy(b).copy() for name, b in self.named_buffers()})
        return d

    def load_state_dict(self, state: dict) -> None:
        """Copy arrays from ``state`` (as made by :meth:`state_dict`) into this module.

        Keys and shapes must match exactly; arrays keep this module's backend and dtype.
        """
        targets = {}
        for prefix, m in self.leaves():
            for d in (m.params, m.buffers):
                for k in d:
                    targets[f"{prefix}.{k}" if prefix else k] = (d, k)
        missing = sorted(set(targets) - set(state))
        unexpected = sorted(set(state) - set(targets))
        if missing or unexpected:
            raise KeyError(
                f"load_state_dict: state does not match {type(self).__name__}: "
                f"missing keys {missing}, unexpected keys {unexpected}"
            )
        for name, (d, k) in targets.items():
            old, new = d[k], state[name]
            if tuple(new.shape) != tuple(old.shape):
                raise ValueError(
                    f"load_state_dict: {name} has shape {tuple(new.shape)} in the state "
                    f"but {tuple(old.shape)} in the model (was it built with other sizes?)"
                )
            d[k] = B.filled_like(old, new)                       # this module's backend, dtype and layout

    # -- errors a learner can act on --------------------------------------------
    def check_input(self, x, expected: tuple) -> None:
        """Raise a clear ``ValueError`` unless ``x`` fits ``expected``.

        ``expected`` names each axis: an int must match exactly, a string
        (``"N"``, ``"H"``) matches any size. Also checks that ``x`` is a float
        array of this module's dtype and backend.
        """
        shape = getattr(x, "shape", None)
        want = "(" + ", ".join(str(e) for e in expected) + ")"
        if shape is None:
            raise ValueError(f"{self!r}: expected an array of shape {want}, got {type(x).__name__}")
        if len(shape) != len(expected) or any(
            isinstance(e, int) and e != s for e, s in zip(expected, shape)
        ):
            raise ValueError(f"{self!r}: expected input of shape {want}, got {tuple(shape)}")
        ref = next(iter(self.params.values()), None)
        if ref is not None:
            if B.backend_name(x) != B.backend_name(ref):
                raise ValueError(
                    f"{self!r}: input is a {B.backend_name(x)} array but the parameters are on "
                    f"{B.backend_name(ref)}; move one of them (minigan.backend.asarray or module.to)"
                )
            if x.dtype != ref.dtype:
                raise ValueError(
                    f"{self!r}: input dtype is {x.dtype} but the parameters are {ref.dtype}; "
                    f"cast the input (x.astype('{ref.dtype}')) or the module (.to(dtype='{x.dtype}'))"
                )
        elif x.dtype not in B.FLOAT_DTYPES:
            raise ValueError(f"{self!r}: input dtype must be float32 or float64, got {x.dtype}")

    def check_float(self, x) -> None:
        """For shape-agnostic layers (activations): ``x`` must be a float32/float64 array."""
        if not hasattr(x, "dtype") or x.dtype not in B.FLOAT_DTYPES:
            got = getattr(x, "dtype", type(x).__name__)
            raise ValueError(f"{self!r}: expected a float32 or float64 array, got {got}")

    def check_backward(self, dy):
        """The cache of the latest forward, or a clear error if there was none."""
        if self.cache is None:
            raise RuntimeError(f"{self!r}: backward() called before forward()")
        return self.cache

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


def init_uniform(rng, shape, fan_in: int, dtype) -> np.ndarray:
    """PyTorch's default layer init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

    (``kaiming_uniform_(a=sqrt(5))`` for weights reduces to this bound, and biases use it too.)
    """
    rng = np.random.default_rng() if rng is None else rng
    bound = 1.0 / np.sqrt(max(fan_in, 1))
    return rng.uniform(-bound, bound, size=shape).astype(B.resolve_dtype(dtype))


def pair(v, name: str) -> tuple[int, int]:
    """``3 -> (3, 3)``; ``(3, 2) -> (3, 2)``; anything else is a clear error."""
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    if isinstance(v, (tuple, list)) and len(v) == 2 and all(isinstance(i, (int, np.integer)) for i in v):
        return int(v[0]), int(v[1])
    raise ValueError(f"{name} must be an int or a pair of ints, got {v!r}")
