"""Class-conditional DCGANs: ask G for a 7, and have D judge "a real 7?" instead of "real?".

Both networks get a class label y, an int in ``[0, K)``, beside their usual input::

    G(z, y) -> x                     D(x, y) -> how much x looks like a real picture OF CLASS y

Two classic ways to let the label in:

**concat** (Mirza & Osindero, 2014, https://arxiv.org/abs/1411.1784) -- :class:`LabelConcatG`,
:class:`LabelConcatD`. The one-hot label is appended to the input's channels
(:func:`~minigan.models.labels.label_planes`), and the DCGAN stack reads it like more input::

    G: z (N, nz, 1, 1) ++ one-hot y (N, K, 1, 1)    -> (N, nz + K, 1, 1) -> DCGAN G -> (N, nc, H, W)
    D: x (N, nc, H, W) ++ K label planes (N, K, H, W) -> (N, nc + K, H, W) -> DCGAN D -> (N, 1, 1, 1)

**projection** (Miyato & Koyama, 2018, https://arxiv.org/abs/1802.05637) -- :class:`ProjectionD`
(G is the concat G). D's score gains the inner product of a learned class embedding
with D's own features of the picture::

    phi = body(x)  (N, F, h, w)        s = head(phi) + <embed(y), sum_hw phi>        D = sigmoid(s)

Labels are data, not parameters: nothing learns them, so no backward pass here
returns a gradient for them. ``backward(dy)`` returns dL/dz (G) or dL/dx (D) for
the picture/noise part of the input only -- see ``LabelConcat.backward`` and
``ProjectionD.backward`` for the two lines where the label's share is dropped.

How a trainer calls them (``labels``: int (N,), NumPy or on the model's backend)::

    x_fake = G.forward(z, labels)          p = D.forward(x, labels)
    dz = G.backward(dx)                    dx = D.backward(dp)

``G.input_grad`` / ``D.input_grad`` switch dL/dz, dL/dx off and on, as for a Sequential.
"""
from __future__ import annotations

from .. import backend as B
from ..nn import BatchNorm2d, Conv2d, Embedding, Module, Sequential, Sigmoid, SpectralNorm
from .labels import as_labels, label_planes

#: The two forms of :func:`conditional_networks` (``dcgan28(..., conditional=...)``).
CONDITIONAL_FORMS = ("concat", "projection")


class LabelConcat(Sequential):
    """A Sequential whose input gets K one-hot label planes appended to its channels.

    ``forward(x (N, C, H, W), labels (N,))`` runs the layers on ``(N, C + K, H, W)``;
    ``backward(dy)`` returns dL/dx ``(N, C, H, W)`` (or None when ``input_grad`` is False).
    The first layer must take ``C + K`` input channels. Parameter names are the
    Sequential's (``"0.weight"``, ...).
    """

    def __init__(self, *layers, num_classes: int):
        super().__init__(*layers)
        self.num_classes = int(num_classes)
        self.data_channels = self.layers[0].in_channels - self.num_classes   # C: the input without labels

    def forward(self, x, labels):
        N, C, H, W = x.shape
        if C != self.data_channels:
            raise ValueError(f"{type(self).__name__}: expected input with {self.data_channels} channels "
                             f"(the labels' {self.num_classes} are added here), got {tuple(x.shape)}")
        labels = as_labels(labels, x, self.num_classes, type(self).__name__)
        xp = B.get_array_module(x)
        planes = label_planes(labels, self.num_classes, H, W, x.dtype)        # (N, K, H, W)
        return super().forward(xp.concatenate([x, planes], axis=1))           # the label enters: (N, C + K, H, W)

    def backward(self, dy):
        d_input = super().backward(dy)                  # (N, C + K, H, W), or None (input_grad False)
        if d_input is None:
            return None
        # dL/d(label planes) is dropped here: labels are data, not parameters, and nothing learns them.
        return d_input[:, :self.data_channels]          # (N, C, H, W): the gradient for x (or z) alone

    def __call__(self, x, labels):
        return self.forward(x, labels)

    def __repr__(self):
        lines = [f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers)]
        return f"{type(self).__name__}(num_classes={self.num_classes},\n" + "\n".join(lines) + "\n)"


class LabelConcatG(LabelConcat):
    """Concat generator: ``G(z (N, nz, 1, 1), labels (N,)) -> (N, nc, H, W)``; ``backward`` gives dL/dz.

    The one-hot label is K more noise channels, ``(N, nz + K, 1, 1)``, so the first
    ConvTranspose2d has ``nz + K`` input channels. ``G.nz`` is the noise size a trainer draws.
    """

    @property
    def nz(self) -> int:
        return self.data_channels


class LabelConcatD(LabelConcat):
    """Concat discriminator: ``D(x (N, nc, H, W), labels (N,)) -> (N, 1, 1, 1)``; ``backward`` gives dL/dx.

    The first Conv2d has ``nc + K`` input channels: the picture's, then K label planes.
    """

    @property
    def nc(self) -> int:
        return self.data_channels


class ProjectionD(Module):
    """Projection discriminator: ``D(x (N, nc, H, W), labels (N,)) -> (N, 1, 1, 1)``::

        x --body--> phi (N, F, h, w) --head--> (N, 1, 1, 1)           the unconditional score
                     | sum over h, w
                     phi_sum (N, F) . embed(y) (N, F) -> (N,)          the class term
        s = head(phi) + <embed(y), phi_sum>;   D = sigmoid(s), or s itself with ``sigmoid=False``

    ``body``: the DCGAN D's stack up to its last features (a Sequential); ``head``: its
    last Conv2d (F -> 1, a kernel as large as phi, so one number per picture); ``embed``:
    an :class:`~minigan.nn.Embedding` ``(K, F)``, one direction in feature space per class.
    It starts at zero, so a fresh ProjectionD scores exactly like the unconditional D
    it was built from; its gradient ``dL/ds * phi_sum`` needs no random start.

    Children and parameter names: ``body.*``, ``head.weight``, ``embed.weight``.
    ``layers`` is the body's layers and ``input_grad``/``monitor`` are the body's, so
    code written for a Sequential D (the trainer's ``D.layers[0].input_grad``, grad-flow
    monitors) sees D's conv stack.
    """

    def __init__(self, body: Sequential, head: Conv2d, num_classes: int, *, sigmoid: bool = True):
        self.body, self.head = body, head
        self.num_classes = int(num_classes)
        F = head.params["weight"].shape[1]                                # the head's input features (C_out, F, kh, kw)
        self.embed = Embedding(self.num_classes, F, dtype=head.params["weight"].dtype)
        self.embed.params["weight"][...] = 0                                  # start as the unconditional D
        self.sigmoid = Sigmoid() if sigmoid else None
        self.cache = None
        self.training = True
        self.requires_grad = True

    def forward(self, x, labels):
        N = x.shape[0]
        labels = as_labels(labels, x, self.num_classes, "ProjectionD")
        phi = self.body.forward(x)                                            # (N, F, h, w): D's features
        phi_sum = phi.sum(axis=(2, 3))                                        # (N, F): summed over positions
        e = self.embed.forward(labels)                                        # (N, F): the label enters here
        s = self.head.forward(phi) + (e * phi_sum).sum(axis=1).reshape(N, 1, 1, 1)   # (N, 1, 1, 1)
        self.cache = (phi_sum, e)
        return s if self.sigmoid is None else self.sigmoid.forward(s)

    def backward(self, dy):
        phi_sum, e = self.check_backward(dy)
        ds = dy if self.sigmoid is None else self.sigmoid.backward(dy)       # (N, 1, 1, 1): dL/ds
        ds_n = ds.reshape(-1, 1)                                              # (N, 1)
        self.embed.backward(ds_n * phi_sum)     # dL/de_y = dL/ds * phi_sum, into row y; labels get no gradient
        dphi = self.head.backward(ds)                                         # (N, F, h, w) through the head
        dphi = dphi + (ds_n * e)[:, :, None, None]   # d<e, sum_hw phi>/dphi[n, f, i, j] = e[n, f] at every (i, j)
        return self.body.backward(dphi)                                       # dL/dx, or None (input_grad False)

    def __call__(self, x, labels):
        return self.forward(x, labels)

    # -- a container's bookkeeping: the children's arrays under dotted names ------------------
    def children(self):
        named = [("body", self.body), ("head", self.head), ("embed", self.embed)]
        return named + ([("sigmoid", self.sigmoid)] if self.sigmoid is not None else [])

    @property
    def params(self):
        return {f"{name}.{k}": v for name, m in self.children() for k, v in m.params.items()}

    @property
    def grads(self):
        return {f"{name}.{k}": v for name, m in self.children() for k, v in m.grads.items()}

    @property
    def buffers(self):
        return {f"{name}.{k}": v for name, m in self.children() for k, v in m.buffers.items()}

    @property
    def layers(self):
        """The body's layers (D's conv stack up to phi), for code that expects a Sequential."""
        return self.body.layers

    @property
    def input_grad(self):
        return self.body.input_grad

    @input_grad.setter
    def input_grad(self, flag):
        self.body.input_grad = flag

    @property
    def monitor(self):
        return self.body.monitor

    @monitor.setter
    def monitor(self, value):
        self.body.monitor = value

    def __repr__(self):
        body = "\n".join(f"    ({i}): {layer!r}" for i, layer in enumerate(self.body.layers))
        return (f"ProjectionD(num_classes={self.num_classes},\n  (body): Sequential(\n{body}\n  )\n"
                f"  (head): {self.head!r}\n  (embed): {self.embed!r}\n  (sigmoid): {self.sigmoid!r}\n)")


def conditional_networks(build, num_classes, conditional="concat", *, nz=100, ngf=64, ndf=64, nc=1,
                         seed=0, dtype=None, sigmoid=True, d_norm="batch", spectral_norm=False):
    """``(G, D)``: the class-conditional pair made from a plain DCGAN builder ``build`` (``dcgan28``, ...).

    ``build(nz, ngf, ndf, nc, seed=, dtype=)`` returns the unconditional ``(G, D)``
    Sequentials; here G's stack is built for ``nz + K`` inputs and wrapped in a
    :class:`LabelConcatG`; D's for ``nc + K`` channels in a :class:`LabelConcatD`
    (concat), or split at its last conv into a :class:`ProjectionD` (projection).
    ``minigan.models.dcgan28(..., num_classes=K)`` calls this (as does
    :func:`minigan.models.conditional_dcgan`); the other arguments are theirs.
    """
    if conditional not in CONDITIONAL_FORMS:
        raise ValueError(f"conditional must be one of {', '.join(CONDITIONAL_FORMS)}, got {conditional!r}")
    if d_norm not in ("batch", "none"):
        raise ValueError(f"d_norm must be 'batch' or 'none', got {d_norm!r}")
    K = int(num_classes)
    if K < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    sizes = dict(ngf=ngf, ndf=ndf, seed=seed, dtype=dtype, spectral_norm=spectral_norm)

    G_stack, _ = build(nz=nz + K, nc=nc, **sizes)                 # G reads z and the one-hot label
    G = LabelConcatG(*G_stack.layers, num_classes=K)
    if conditional == "concat":
        _, D_stack = build(nz=nz, nc=nc + K, **sizes)             # D reads x and K label planes
        return G, LabelConcatD(*discriminator_layers(D_stack, sigmoid, d_norm), num_classes=K)
    _, D_stack = build(nz=nz, nc=nc, **sizes)                     # the unconditional D, split at its last conv
    *body, head = discriminator_layers(D_stack, False, d_norm)    # ProjectionD adds its own sigmoid
    if not isinstance(head.layer if isinstance(head, SpectralNorm) else head, Conv2d):
        raise TypeError(f"conditional_networks: expected {build.__name__}'s D to end with a Conv2d, found {head!r}")
    return G, ProjectionD(Sequential(*body), head, K, sigmoid=sigmoid)


def discriminator_layers(D: Sequential, sigmoid: bool, d_norm: str) -> list:
    """D's layers, without its BatchNorm layers (``d_norm="none"``) and final Sigmoid (``sigmoid=False``)."""
    layers = [m for m in D.layers if d_norm == "batch" or not isinstance(m, BatchNorm2d)]
    if not sigmoid and isinstance(layers[-1], Sigmoid):
        layers.pop()
    return layers
