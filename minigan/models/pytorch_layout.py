"""minigan's networks as PyTorch state_dicts: the key table, and the sizes read back from shapes.

minigan names its arrays as PyTorch does (a Sequential's children are "0",
"1", ...; a layer's arrays are ``weight``, ``bias``, ``running_mean``,
``running_var``) and stores them in PyTorch's layouts (conv weight
``(C_out, C_in, kH, kW)``, transposed conv weight ``(C_in, C_out, kH, kW)``).
So ``net.state_dict()`` is nearly the state_dict of the same ``nn.Sequential``
in PyTorch. This file holds the difference, as two tables::

    minigan                       PyTorch
    1.weight         (C,)         1.weight               (C,)
    1.running_var    (C,)         1.running_var          (C,)
                                  1.num_batches_tracked  ()  int64     <- TORCH_ONLY
    0.weight  0.u  0.v            0.weight_orig  0.weight_u  0.weight_v   <- RENAMED (SpectralNorm)

**num_batches_tracked.** PyTorch's BatchNorm counts its training-mode forward
passes; it reads the count only when ``momentum=None`` (running statistics as a
cumulative average). minigan's BatchNorm, like PyTorch's default, has
``momentum=0.1`` and keeps no count. Export writes the number of training
steps the weights have taken (a lower bound: a step runs each BatchNorm on
more than one batch), so a PyTorch user who switches to ``momentum=None``
continues with sensible weights; import accepts any value and drops it.

A file without minigan's metadata (say, saved from PyTorch) tells which
network it holds only by its keys and shapes: :data:`WHERE_SIZES_ARE` says
where each architecture shows its sizes, and :func:`infer_spec` tries each.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from .. import backend as B
from ..nn.batchnorm import _BatchNorm
from ..nn.spectral_norm import SpectralNorm
from .dcgan import ARCHITECTURES

#: Arrays a PyTorch layer holds that the minigan layer does not: name -> the value export writes,
#: given the number of training steps taken. Import accepts them, checks their shape, and drops them.
TORCH_ONLY = {
    _BatchNorm: {"num_batches_tracked": lambda steps: np.array(steps, dtype=np.int64)},   # shape ()
}

#: Arrays a layer names differently from PyTorch: minigan's name -> PyTorch's. ``torch.nn.utils.spectral_norm``
#: keeps the unnormalized weight as ``weight_orig`` and its power-iteration vectors as ``weight_u``, ``weight_v``.
RENAMED: dict[type, dict[str, str]] = {
    SpectralNorm: {"weight": "weight_orig", "u": "weight_u", "v": "weight_v"},
}

#: The forms of D that its keys tell apart: (d_norm, spectral_norm). A final Sigmoid has no
#: arrays, so a file without metadata is read as a D with one (its metadata says otherwise).
D_FORMS = [("batch", False), ("none", False), ("batch", True), ("none", True)]

#: Where a PyTorch state_dict of each network shows its sizes: size -> (key, axis, multiple of the size).
#: E.g. dcgan28's G ends in ConvTranspose2d(2 ngf, nc, 4), so "6.weight" is (2 ngf, nc, 4, 4).
WHERE_SIZES_ARE = {
    ("dcgan28", "G"): {"nz": ("0.weight", 0, 1), "ngf": ("6.weight", 0, 2), "nc": ("6.weight", 1, 1)},
    ("dcgan64", "G"): {"nz": ("0.weight", 0, 1), "ngf": ("12.weight", 0, 1), "nc": ("12.weight", 1, 1)},
    ("dcgan28", "D"): {"ndf": ("0.weight", 0, 1), "nc": ("0.weight", 1, 1)},
    ("dcgan64", "D"): {"ndf": ("0.weight", 0, 1), "nc": ("0.weight", 1, 1)},
}


class StateMismatch(ValueError):
    """A state_dict does not fit the network; the message names the first key that does not."""


@dataclass(frozen=True)
class NetSpec:
    """One network of :data:`~minigan.models.ARCHITECTURES`: its name, ``"G"`` or ``"D"``, and sizes."""

    arch: str
    net: str                  # "G" or "D"
    nz: int = 100
    ngf: int = 64
    ndf: int = 64
    nc: int = 1
    sigmoid: bool = True              # D's form (G ignores these): a final Sigmoid,
    d_norm: str = "batch"             # its normalization,
    spectral_norm: bool = False       # SpectralNorm around its convolutions
    num_classes: int = 0              # a conditional pair's K (0: unconditional), and its form,
    conditional: str = ""             # "concat" or "projection" (minigan/models/conditional.py)

    def build(self, dtype=None):
        """The minigan network (a Sequential; a conditional one: LabelConcatG/D or ProjectionD), freshly initialized."""
        labels = dict(num_classes=self.num_classes, conditional=self.conditional) if self.num_classes else {}
        G, D = ARCHITECTURES[self.arch](self.nz, self.ngf, self.ndf, self.nc, seed=0, dtype=dtype,
                                        sigmoid=self.sigmoid, d_norm=self.d_norm, spectral_norm=self.spectral_norm,
                                        **labels)
        return G if self.net == "G" else D

    def labels(self) -> dict:
        """``{"num_classes": K, "conditional": form}`` of a conditional network; ``{}`` otherwise."""
        return {"num_classes": self.num_classes, "conditional": self.conditional} if self.num_classes else {}

    def form(self) -> dict:
        """D's form, ``{"sigmoid": ..., "d_norm": ..., "spectral_norm": ...}``; ``{}`` for G."""
        return {} if self.net == "G" else {k: getattr(self, k) for k in ("sigmoid", "d_norm", "spectral_norm")}

    def sizes(self) -> dict:
        """The sizes that shape this network: nz, ngf, nc for G; ndf, nc for D."""
        return {k: getattr(self, k) for k in (("nz", "ngf", "nc") if self.net == "G" else ("ndf", "nc"))}

    def layout(self) -> dict:
        """``torch_layout(self.build())`` without building: ``{PyTorch key: (shape, required)}``.

        A file's claimed sizes are checked against its arrays with this *before* any
        network is allocated (a 188-byte file claiming ngf 1024 must not cost 2.75 GB).
        Every dimension of every array is affine in the sizes (a conv weight is
        ``(8 ngf, 4 ngf, 4, 4)``, a BatchNorm's ``(2 ngf,)``), so three or so networks of
        width 1 and 2 give each dimension's ``c_0 + sum_s c_s size_s`` (:func:`_affine_layout`).
        """
        sizes = (self.nz, self.ngf, self.ndf, self.nc) + ((self.num_classes,) if self.num_classes else ())
        return {key: (tuple(c0 + sum(c * n for c, n in zip(cs, sizes)) for c0, cs in dims), required)
                for key, (dims, required) in _affine_layout(self.arch, self.net, *self.form_key()).items()}

    def num_elements(self) -> int:
        """How many numbers the network's arrays hold (from :meth:`layout`, nothing built)."""
        return sum(int(np.prod(shape)) for shape, _ in self.layout().values())

    def form_key(self) -> tuple:
        """What shapes the layout besides the sizes: D's form, and a conditional pair's form ("" if none)."""
        return self.sigmoid, self.d_norm, self.spectral_norm, self.conditional if self.num_classes else ""

    def __str__(self):
        form = self.form()
        shown = {**self.sizes(), **{k: v for k, v in form.items() if v != NetSpec.__dataclass_fields__[k].default},
                 **self.labels()}
        return f"{self.arch} {self.net} ({', '.join(f'{k}={v}' for k, v in shown.items())})"


SIZE_NAMES = ("nz", "ngf", "ndf", "nc")


@lru_cache(maxsize=None)
def _affine_layout(arch: str, net: str, sigmoid: bool, d_norm: str, spectral_norm: bool,
                   conditional: str = "") -> dict:
    """``{key: (((c_0, (c_nz, c_ngf, c_ndf, c_nc[, c_K])), ...) per dimension, required)}`` for one network.

    Built from the network at every size 1 (``c_0 + sum c_s``) and at one size 2 at a time
    (``c_s`` = the difference); a conditional pair's number of classes K is one more size.
    tests/test_interop.py holds it equal to ``torch_layout(build())``.
    """
    form = dict(sigmoid=sigmoid, d_norm=d_norm, spectral_norm=spectral_norm,
                **({"conditional": conditional} if conditional else {}))
    names = SIZE_NAMES + (("num_classes",) if conditional else ())
    ones = dict.fromkeys(names, 1)
    base = torch_layout(NetSpec(arch, net, **ones, **form).build())
    bumped = [torch_layout(NetSpec(arch, net, **{**ones, s: 2}, **form).build()) for s in names]
    table = {}
    for key, (shape, required) in base.items():
        slopes = [[b[key][0][d] - shape[d] for b in bumped] for d in range(len(shape))]   # c_s per dimension
        table[key] = (tuple((shape[d] - sum(slopes[d]), tuple(slopes[d])) for d in range(len(shape))), required)
    return table


# ---- minigan <-> PyTorch keys -----------------------------------------------------------------
def _key(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _torch_only(layer) -> dict:
    return next((extra for kind, extra in TORCH_ONLY.items() if isinstance(layer, kind)), {})


def _renamed(layer) -> dict:
    return next((names for kind, names in RENAMED.items() if isinstance(layer, kind)), {})


def torch_state_dict(net, steps: int = 0) -> dict:
    """``net``'s arrays under PyTorch's keys, as NumPy copies: what ``torch_net.state_dict()`` holds.

    ``steps`` is written as BatchNorm's ``num_batches_tracked`` (see the module docstring).
    """
    state = {}
    for prefix, layer in net.leaves():
        names = _renamed(layer)
        for name, value in {**layer.params, **layer.buffers}.items():
            state[_key(prefix, names.get(name, name))] = B.to_numpy(value).copy()
        for name, make in _torch_only(layer).items():
            state[_key(prefix, name)] = make(steps)
    return state


def torch_layout(net) -> dict:
    """``{PyTorch key: (shape, required)}`` for ``net``, in layer order; TORCH_ONLY keys are not required."""
    layout = {}
    for prefix, layer in net.leaves():
        names = _renamed(layer)
        for name, value in {**layer.params, **layer.buffers}.items():
            layout[_key(prefix, names.get(name, name))] = (tuple(value.shape), True)
        for name, make in _torch_only(layer).items():
            layout[_key(prefix, name)] = (make(0).shape, False)
    return layout


def first_mismatch(layout: dict, shapes: dict) -> str | None:
    """The first key, in layer order, where ``shapes`` (key -> shape) departs from ``layout``; None if none.

    ``layout`` is :func:`torch_layout`'s ``{key: (shape, required)}``; a shape of None accepts any shape.
    """
    for key, (shape, required) in layout.items():
        if key not in shapes:
            if required:
                listed = ", ".join(list(shapes)[:6]) + (", ..." if len(shapes) > 6 else "")
                what = f" (shape {shape})" if shape is not None else ""
                return f"no key '{key}'{what}; the keys there are {listed or 'none'}"
        elif shape is not None and tuple(shapes[key]) != shape:      # shape None: any shape
            return f"'{key}' has shape {tuple(shapes[key])}, but the network's is {shape}"
    extra = [key for key in shapes if key not in layout]
    if extra:
        return f"unexpected key '{extra[0]}' (the network has no such array)"
    return None


def load_torch_state_dict(net, state: dict, spec=None) -> None:
    """Copy a PyTorch-keyed ``state`` into ``net`` (casting to ``net``'s dtype and backend).

    Raises :class:`StateMismatch` naming the first key or shape that does not fit.
    """
    problem = first_mismatch(torch_layout(net), {k: np.shape(v) for k, v in state.items()})
    if problem:
        raise StateMismatch(f"does not fit {spec or 'the network'}: {problem}")
    mine = {}
    for prefix, layer in net.leaves():
        names = _renamed(layer)
        for name in {**layer.params, **layer.buffers}:
            mine[_key(prefix, name)] = np.asarray(state[_key(prefix, names.get(name, name))])
    net.load_state_dict(mine)


# ---- which network is this? -------------------------------------------------------------------
def _read_sizes(where: dict, shapes: dict) -> dict | None:
    """The sizes ``where`` points at in ``shapes``, or None if a key is missing or a size does not divide."""
    sizes = {}
    for size, (key, axis, multiple) in where.items():
        shape = shapes.get(key)
        if shape is None or len(shape) <= axis or shape[axis] % multiple or shape[axis] < multiple:
            return None
        sizes[size] = shape[axis] // multiple
    return sizes


def infer_spec(shapes: dict) -> NetSpec:
    """The network whose PyTorch state_dict has exactly these ``{key: shape}``.

    For every entry of :data:`WHERE_SIZES_ARE`: first the keys (they do not
    depend on the sizes, so a network of size 1 shows them), then the sizes read
    from the shapes, then the network built at those sizes, every shape
    compared. Raises :class:`StateMismatch` naming the first mismatch with the
    closest candidate (the one sharing the most keys) if none fits.
    """
    closest = None                                  # (keys shared, spec or name, first mismatch)
    for (arch, net), where, form in _candidates():
        probe = NetSpec(arch, net, 1, 1, 1, 1, **form).layout()    # keys do not depend on the sizes
        keys_only = {k: (None, required) for k, (_, required) in probe.items()}
        shared = len(keys_only.keys() & shapes.keys())
        problem = first_mismatch(keys_only, shapes)
        spec = f"{arch} {net}"
        if problem is None:
            sizes = _read_sizes(where, shapes)
            if sizes is None:
                problem = "its shapes give no whole sizes (" + ", ".join(
                    f"{size}: {key} axis {axis}" for size, (key, axis, _) in where.items()) + ")"
            else:
                spec = NetSpec(arch, net, **sizes, **form)
                problem = first_mismatch(spec.layout(), shapes)      # nothing built: the sizes may be huge
                if problem is None:
                    return spec
        if closest is None or shared > closest[0]:
            closest = (shared, spec, problem)
    _, spec, problem = closest
    spec = str(spec) if isinstance(spec, NetSpec) else spec
    raise StateMismatch(f"matches none of minigan's networks ({', '.join(ARCHITECTURES)}, G or D); "
                        f"the closest is {spec}: {problem}")


def _candidates():
    """``((arch, net), where, form)`` for every network and every form of D its keys can show."""
    for (arch, net), where in WHERE_SIZES_ARE.items():
        if net == "G":
            yield (arch, net), where, {}
            continue
        for d_norm, sn in D_FORMS:
            renamed = RENAMED[SpectralNorm] if sn else {}
            moved = {size: (_rename(key, renamed), axis, k) for size, (key, axis, k) in where.items()}
            yield (arch, net), moved, {"d_norm": d_norm, "spectral_norm": sn}


def _rename(key: str, names: dict) -> str:
    """``"0.weight"`` -> ``"0.weight_orig"`` under SpectralNorm's names."""
    prefix, _, name = key.rpartition(".")
    return _key(prefix, names.get(name, name))


def with_form_of(spec: NetSpec, net) -> NetSpec:
    """``spec`` with the Sigmoid head ``net`` really has (its keys cannot show it)."""
    if spec.net != "D":
        return spec
    return replace(spec, sigmoid=bool(net.layers) and type(net.layers[-1]).__name__ == "Sigmoid")
