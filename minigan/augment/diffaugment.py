"""DiffAugment: the same kind of random augmentation on every image D sees, with G's gradient flowing through it.

Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training",
https://arxiv.org/abs/2006.10738. With few real images, D memorizes them and G's training
collapses. Augmenting only the real images would teach G to draw the augmentations (cut
squares, shifted frames). DiffAugment instead puts a random transform T in front of D
for *every* batch D judges, real and fake, in D's update and in G's::

    D update:  D(T(x_real)) -> 1,   D(T(G(z))) -> 0
    G update:  D(T(G(z)))   -> 1,   dL/dG(z) = T.backward(D.backward(dL/dp))

so D never sees an un-augmented image and G is judged only through T. This needs T's
backward pass: each policy below is affine in its input, with hand-written adjoints in
its own file (:mod:`minigan.augment.translation`, :mod:`~minigan.augment.cutout`,
:mod:`~minigan.augment.color`), none needing the input itself, only the drawn parameters.

As a :class:`~minigan.nn.module.Module`::

    T = DiffAugment("translation,cutout,color", seed=0)
    y = T(x)                 # (N, C, H, W) -> (N, C, H, W): fresh random parameters each call
    dx = T.backward(dy)      # through the latest call's transforms, in reverse order
    p = T.draw(N, H, W)      # or: draw parameters yourself (on the host) ...
    y = T.apply(x, p)        # ... and apply them, e.g. the same draw twice

Its random numbers come from its own seeded NumPy generator (``T.rng``), drawn on the host
and moved once to ``x``'s device; ``T.state_dict()`` / ``T.load_state_dict()`` save and
restore that generator, so a resumed run draws the same augmentations. In eval mode
(``T.eval()``) it is the identity, as dropout is.
"""
from __future__ import annotations

import numpy as np

from .. import backend as B
from ..nn.module import Module
from .color import color, color_backward, draw_color
from .cutout import cutout, cutout_backward, draw_cutout
from .translation import draw_translation, translate, translate_backward

#: Every policy: ``name -> (forward(x, **params), backward(dy, **params))``, params from its ``draw_*``.
POLICIES = {
    "translation": (translate, translate_backward),
    "cutout": (cutout, cutout_backward),
    "color": (color, color_backward),
}


def parse_policy(policy: str) -> tuple[str, ...]:
    """``"translation, cutout,color"`` -> ``("translation", "cutout", "color")``; ``""`` -> ``()``.

    Raises ``ValueError`` naming the valid policies for an unknown name, and for a repeated one.
    """
    if not isinstance(policy, str):
        raise ValueError(f"DiffAugment policy must be a comma-separated string such as "
                         f"'translation,cutout,color', got {policy!r}")
    names = tuple(p.strip() for p in policy.split(",") if p.strip())
    for name in names:
        if name not in POLICIES:
            raise ValueError(f"unknown DiffAugment policy {name!r}: choose from {', '.join(POLICIES)} "
                             f"(comma-separated, e.g. 'translation,cutout,color')")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"DiffAugment policy {policy!r} names {', '.join(repeated)} more than once; "
                         f"give each of {', '.join(POLICIES)} at most once")
    return names


class DiffAugment(Module):
    """Random differentiable augmentation ``(N, C, H, W) -> (N, C, H, W)``, any C (1 or 3), any H, W.

    Args:
        policy:            comma-separated names from ``translation``, ``cutout``, ``color``,
                           applied in the order given; ``""`` is the identity.
        seed:              seeds ``self.rng`` (anything ``np.random.default_rng`` accepts).
        translation_ratio: largest shift as a fraction of the size (0.125: up to H/8 pixels).
        cutout_ratio:      the cut rectangle's size as a fraction of the image's (0.5: half).

    It has no parameters; ``state_dict()`` is the generator's state (a JSON-able dict, like
    ``GANTrainer.state_dict()["rng"]``), not arrays.
    """

    def __init__(self, policy: str = "translation,cutout,color", seed=0,
                 translation_ratio: float = 0.125, cutout_ratio: float = 0.5):
        super().__init__()
        for name, ratio in (("translation_ratio", translation_ratio), ("cutout_ratio", cutout_ratio)):
            if not 0.0 <= ratio <= 1.0:
                raise ValueError(f"DiffAugment {name} must be in [0, 1], got {ratio}")
        self.policy = parse_policy(policy)
        self.seed = seed
        self.translation_ratio, self.cutout_ratio = float(translation_ratio), float(cutout_ratio)
        self.rng = np.random.default_rng(seed)

    # -- random parameters, on the host -----------------------------------------
    def draw(self, N: int, H: int, W: int) -> dict:
        """Fresh parameters for a batch of N images of H x W, from ``self.rng``: ``{policy: {name: array}}``.

        Host NumPy arrays, one dict per policy in order (see each policy's ``draw_*``). The
        draws happen in that order, so a run with the same seed and policy draws the same.
        """
        params = {}
        for name in self.policy:
            if name == "translation":
                params[name] = draw_translation(self.rng, N, H, W, self.translation_ratio)
            elif name == "cutout":
                params[name] = draw_cutout(self.rng, N, H, W, self.cutout_ratio)
            else:
                params[name] = draw_color(self.rng, N)
        return params

    # -- forward and backward -----------------------------------------------------
    def forward(self, x):
        """``T(x)`` with freshly drawn parameters (the identity in eval mode)."""
        self.check_input(x, ("N", "C", "H", "W"))
        if not self.training:
            self.cache = []                                      # nothing to undo: backward passes dy on
            return x
        N, C, H, W = x.shape
        return self.apply(x, self.draw(N, H, W))

    def apply(self, x, params: dict):
        """``T(x)`` with the given parameters (as :meth:`draw` makes them); keeps them for :meth:`backward`."""
        self.check_input(x, ("N", "C", "H", "W"))
        if list(params) != list(self.policy):
            raise ValueError(f"{self!r}: parameters are for policies {list(params)}, "
                             f"expected {list(self.policy)} (make them with .draw(N, H, W))")
        steps = [(name, self._to_device(p, x, name)) for name, p in params.items()]
        for name, p in steps:
            x = POLICIES[name][0](x, **p)                        # y = T_k(x), k = 1, 2, ...
        self.cache = steps
        return x

    def backward(self, dy):
        """dL/dx of the latest :meth:`forward` / :meth:`apply`: each policy's adjoint, in reverse order."""
        steps = self.check_backward(dy)
        for name, p in reversed(steps):
            dy = POLICIES[name][1](dy, **p)                      # dL/dx_k = T_k^T dL/dy_k (each T_k affine)
        return dy

    # -- saving and resuming ----------------------------------------------------
    def state_dict(self) -> dict:
        """``{"rng": state of self.rng}``: what a checkpoint needs to continue the same draws."""
        return {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        """Restore the generator saved by :meth:`state_dict`."""
        self.rng.bit_generator.state = state["rng"]

    # -- helpers ----------------------------------------------------------------
    def _to_device(self, params: dict, x, name: str) -> dict:
        """One policy's host parameters on ``x``'s device: floats in ``x``'s dtype, indices as int64."""
        N, backend = x.shape[0], B.backend_name(x)
        moved = {}
        for key, value in params.items():
            if isinstance(value, (int, np.integer)):
                moved[key] = int(value)                          # a size, shared by the batch
                continue
            value = B.to_numpy(value)
            if value.shape != (N,):
                raise ValueError(f"{self!r}: {name} parameter {key!r} has shape {value.shape}, "
                                 f"expected ({N},) for a batch of {N}")
            dtype = x.dtype if value.dtype.kind == "f" else np.int64
            moved[key] = B.asarray(value, backend, dtype)
        return moved

    def extra_repr(self) -> str:
        return f"{','.join(self.policy)!r}, seed={self.seed!r}"
