"""Sequential: layers applied in order, gradients passed back in reverse.

This is all the "autograd" a feed-forward network needs: the chain rule,
applied one layer at a time::

    forward:   x -> L1 -> L2 -> ... -> Lk -> y
    backward:  dx <- L1.backward <- ... <- Lk.backward <- dy

and, for the gradient penalties, the tangent pass (the chain rule forwards)::

    tangent:   x_dot -> L1.tangent -> ... -> Lk.tangent -> y_dot = J x_dot
"""
from __future__ import annotations

from .module import Module


class Sequential(Module):
    """``Sequential(*layers)``: ``layers`` is the ordered list of children, named "0", "1", ...

    A container owns no arrays itself: ``params``, ``grads`` and ``buffers`` are
    dicts assembled from its layers with dotted names (``"0.weight"``), holding
    the layers' own arrays (so ``seq.grads["0.weight"] is seq.layers[0].grads["weight"]``).
    """

    def __init__(self, *layers):
        self.layers = list(layers)
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: argument {i} is a {type(layer).__name__}, not a minigan Module")
        self.cache = None
        self.training = True
        self.requires_grad = True
        self.monitor = None       # optional observer of every layer's output and input gradient

    @property
    def input_grad(self):
        """Whether backward computes dL/dx: :func:`first_layer_with_input_grad`'s flag (setting this sets it)."""
        return first_layer_with_input_grad(self).input_grad if self.layers else True

    @input_grad.setter
    def input_grad(self, flag):
        if self.layers:
            first_layer_with_input_grad(self).input_grad = flag

    def children(self):
        return [(str(i), layer) for i, layer in enumerate(self.layers)]

    @property
    def params(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.params.items()}

    @property
    def grads(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.grads.items()}

    @property
    def buffers(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.buffers.items()}

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer.forward(x)
            if self.monitor is not None:
                self.monitor.on_forward(i, layer, x)
        return x

    def backward(self, dy):
        for i in reversed(range(len(self.layers))):     # the chain rule, last layer first
            dy = self.layers[i].backward(dy)
            if self.monitor is not None:
                self.monitor.on_backward(i, self.layers[i], dy)
        return dy

    def tangent(self, x_dot):
        """``y_dot = J x_dot``: how the latest forward's output moves when x moves along x_dot."""
        for layer in self.layers:
            x_dot = layer.tangent(x_dot)
        return x_dot

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self):
        return len(self.layers)

    def __repr__(self):
        lines = [f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers)]
        return "Sequential(\n" + "\n".join(lines) + "\n)"


def first_layer_with_input_grad(net):
    """The layer of ``net`` whose ``input_grad`` decides whether ``net.backward`` computes dL/dx.

    The first layer, unless it only moves or masks its input (``passes_none``: Flatten,
    Reshape, Pack, Dropout): such layers pass a None gradient on, so it is the first layer
    after them, e.g. the MLPs' first Linear or Maxout behind Flatten. A nested Sequential
    (or any net with ``layers``) is looked into; a single layer is its own.
    """
    layers = getattr(net, "layers", None)
    if not layers:
        return net
    first = next((layer for layer in layers if not layer.passes_none), layers[0])   # all pass None: the first
    return first_layer_with_input_grad(first)
