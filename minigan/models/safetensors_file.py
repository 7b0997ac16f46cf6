"""Weights files PyTorch reads: a minigan network to and from the safetensors format.

`safetensors <https://huggingface.co/docs/safetensors>`_ stores named arrays
and a little text metadata, with no code in the file (unlike a pickle), and
PyTorch, JAX and NumPy all read it. minigan writes exactly the keys and shapes
of the PyTorch ``nn.Sequential`` of the same layers (:mod:`.pytorch_layout`),
so in PyTorch::

    G.load_state_dict(safetensors.torch.load_file("G.safetensors"), strict=True)

and back in minigan::

    G = load_safetensors("G.safetensors")      # also a file PyTorch saved: the network is
                                               # recognized from its keys and shapes

The metadata (text to text) names the network, so minigan need not guess::

    minigan.arch  "dcgan28"   minigan.net  "G"   minigan.nz "100"   minigan.ngf "64"   minigan.nc "1"

and for a D its form: ``minigan.sigmoid "true"``, ``minigan.d_norm "batch"``,
``minigan.spectral_norm "false"`` (a raw-score or spectrally normalized D is rebuilt as it was);
for a conditional network ``minigan.num_classes "10"`` and ``minigan.conditional "concat"``
(or ``"projection"``), its PyTorch module in docs/pytorch-interop.md.

plus, from ``minigan export``, the training step, which weights (``G``,
``G_ema``, ``D``) and the run's config as JSON. The ``safetensors`` package is
optional: ``pip install 'minigan[interop]'``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..fileio import write_bytes_atomic
from .conditional import CONDITIONAL_FORMS
from .dcgan import ARCHITECTURES
from .pytorch_layout import (NetSpec, StateMismatch, first_mismatch, infer_spec, load_torch_state_dict, torch_layout,
                             torch_state_dict, with_form_of)

try:
    import safetensors
    import safetensors.numpy
except ImportError:                     # optional: pip install 'minigan[interop]'
    safetensors = None

META = "minigan."                       # the prefix of minigan's metadata keys
READABLE = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64}   # dtypes NumPy holds


class WeightsFileError(Exception):
    """A weights file is unreadable, or its keys or shapes fit no minigan network; the message says which."""


class SafetensorsUnavailable(RuntimeError):
    """The optional ``safetensors`` package is not installed."""


def require_safetensors() -> None:
    if safetensors is None:
        raise SafetensorsUnavailable("the safetensors package is not installed: pip install 'minigan[interop]'")


# ---- metadata: which network a file holds -------------------------------------------------------
def spec_metadata(spec: NetSpec) -> dict:
    """``{"minigan.arch": "dcgan28", "minigan.net": "G", "minigan.nz": "100", ...}`` (text to text)."""
    form = {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in spec.form().items()}
    return {META + "arch": spec.arch, META + "net": spec.net,
            **{META + k: str(v) for k, v in spec.sizes().items()}, **{META + k: v for k, v in form.items()},
            **{META + k: str(v) for k, v in spec.labels().items()}}


def spec_from_metadata(meta: dict) -> NetSpec | None:
    """The network the metadata names, or None if the file has no minigan metadata (say, PyTorch wrote it)."""
    if META + "arch" not in meta:
        return None
    arch, net = meta[META + "arch"], meta.get(META + "net")
    if arch not in ARCHITECTURES or net not in ("G", "D"):
        raise WeightsFileError(f"names {arch} {net} in its metadata, which this minigan does not have "
                               f"(it has {', '.join(ARCHITECTURES)}, G or D)")
    sizes = {k: meta[META + k] for k in ("nz", "ngf", "ndf", "nc") if META + k in meta}
    if not all(v.isdigit() and int(v) > 0 for v in sizes.values()):
        raise WeightsFileError(f"has metadata sizes that are not positive whole numbers: {sizes}")
    form = {}
    for k in ("sigmoid", "spectral_norm"):
        if META + k in meta:
            if meta[META + k] not in ("true", "false"):
                raise WeightsFileError(f"has metadata {k} = {meta[META + k]!r}; expected 'true' or 'false'")
            form[k] = meta[META + k] == "true"
    if META + "d_norm" in meta:
        if meta[META + "d_norm"] not in ("batch", "none"):
            raise WeightsFileError(f"has metadata d_norm = {meta[META + 'd_norm']!r}; expected 'batch' or 'none'")
        form["d_norm"] = meta[META + "d_norm"]
    if META + "num_classes" in meta:                          # a conditional network: G(z, y), D(x, y)
        K, kind = meta[META + "num_classes"], meta.get(META + "conditional")
        if not K.isdigit() or int(K) < 1 or kind not in CONDITIONAL_FORMS:
            raise WeightsFileError(f"has metadata num_classes = {K!r}, conditional = {kind!r}; expected a "
                                   f"positive whole number and one of {', '.join(CONDITIONAL_FORMS)}")
        form.update(num_classes=int(K), conditional=kind)
    return NetSpec(arch, net, **{k: int(v) for k, v in sizes.items()}, **form)


# ---- write and read -----------------------------------------------------------------------------
def save_safetensors(net, path, spec: NetSpec | None = None, *, steps: int = 0, metadata=None) -> Path:
    """Write ``net`` to ``path`` (atomically) with PyTorch's keys, and which network it is in the metadata.

    ``spec`` defaults to the DCGAN ``net``'s shapes show (none for another network: the file
    then holds the arrays alone). ``steps`` becomes BatchNorm's ``num_batches_tracked``;
    ``metadata`` (text to text) is added to the file's.
    """
    require_safetensors()
    if spec is None:
        try:
            spec = with_form_of(infer_spec({k: shape for k, (shape, _) in torch_layout(net).items()}), net)
        except StateMismatch:
            spec = None
    meta = {**(spec_metadata(spec) if spec else {}), **(metadata or {})}
    tensors = torch_state_dict(net, steps)                    # fresh C-ordered copies, as save() needs
    write_bytes_atomic(path, safetensors.numpy.save(tensors, metadata=meta))
    return Path(path)


def read_safetensors(path) -> tuple[dict, dict]:
    """``(arrays, metadata)`` of a safetensors file: ``{key: NumPy array}`` and ``{text: text}``."""
    return _read(path, arrays=True)


def read_safetensors_shapes(path) -> tuple[dict, dict]:
    """``({key: shape}, metadata)``: the file's header alone, no array read (nothing allocated)."""
    return _read(path, arrays=False)


def _read(path, arrays: bool) -> tuple[dict, dict]:
    require_safetensors()
    path = Path(path)
    if not path.is_file():
        raise WeightsFileError(f"no weights file at {path}")
    try:     # safetensors checks the header: every tensor's bytes inside the file, none overlapping
        with safetensors.safe_open(str(path), framework="np") as f:
            for key in f.keys():
                kind = f.get_slice(key).get_dtype()
                if kind not in READABLE:
                    raise WeightsFileError(f"{path}: '{key}' is {kind}, which minigan cannot read; save float32 "
                                           "from PyTorch ({k: v.float() for k, v in G.state_dict().items()})")
            if not arrays:
                return {key: tuple(f.get_slice(key).get_shape()) for key in f.keys()}, dict(f.metadata() or {})
            return {key: f.get_tensor(key) for key in f.keys()}, dict(f.metadata() or {})
    except safetensors.SafetensorError as e:
        raise WeightsFileError(f"{path} is not a readable safetensors file ({e})") from None


def _dtypes(path) -> list:
    """The dtype of each array in the file, in the file's order (``"F32"``, ...), from its header."""
    with safetensors.safe_open(str(path), framework="np") as f:
        return [f.get_slice(key).get_dtype() for key in f.keys()]


def load_safetensors(path, backend: str = "numpy", dtype=None):
    """The minigan network a safetensors file holds, with its weights, in eval mode.

    The network comes from the file's minigan metadata, or, for a file without it
    (``safetensors.torch.save_file(G.state_dict(), path)`` in PyTorch), from its
    keys and shapes (:func:`~minigan.models.pytorch_layout.infer_spec`). ``dtype``
    defaults to the file's (float64 stays float64, anything else becomes float32).
    Raises :class:`WeightsFileError` naming the first key or shape that does not fit,
    or the first array holding NaN or an infinity. Call ``.train()`` on the result to train it further.

    Nothing is allocated before the file's header is checked against the network's
    layout (:meth:`~minigan.models.pytorch_layout.NetSpec.layout`, computed without
    building it): a file cannot make minigan build a network larger than its arrays.
    """
    shapes, meta = read_safetensors_shapes(path)            # the header only
    try:
        spec = spec_from_metadata(meta) or infer_spec(shapes)
        problem = first_mismatch(spec.layout(), shapes)      # every claimed size against the file's arrays
        if problem:
            raise StateMismatch(f"does not fit {spec}: {problem}")
    except (StateMismatch, WeightsFileError) as e:
        raise WeightsFileError(f"{path} {e}") from None
    if dtype is None:
        first = next((kind for kind in _dtypes(path) if kind.startswith("F")), None)   # the first weight's
        dtype = "float64" if first == "F64" else "float32"
    net = spec.build(dtype)                                   # the size the file's arrays show, no larger
    arrays, _ = read_safetensors(path)                        # then the arrays (not both at their peaks)
    for key, value in arrays.items():
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            raise WeightsFileError(f"{path}: '{key}' holds NaN or infinite values (weights of a diverged "
                                   "run?); export an earlier checkpoint")
    try:
        load_torch_state_dict(net, arrays, spec)
    except StateMismatch as e:
        raise WeightsFileError(f"{path} {e}") from None
    return net.to(backend=backend).eval()
