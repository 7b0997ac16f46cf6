"""Many samples for use elsewhere: a folder of PNGs, one per picture, or one ``.npy`` array.

``minigan generate --out`` picks the writer from the path it is given::

    --out samples/       a folder (existing, new, or any name without an extension): 000000.png, 000001.png, ...
                         (a conditional run's names add the class: 000000_Sneaker.png)
    --out samples.npy    the raw array (N, C, H, W), float32 in [-1, 1], as G made it; a conditional
                         run also writes samples.labels.npy, int64 (N,), the class of each picture;
                         a 2D run (ring, grid) writes its points, (N, 2) float32
    --out grid.png       one grid picture (minigan/job/generate.py), the format its extension names

Both writers take the pictures batch by batch from
:func:`minigan.job.generate.generate_batches`, so ``--n 50000`` needs the memory of
one batch, not of 50,000 pictures: the ``.npy`` file is a memory map
written batch by batch, in order, into a file whose space was reserved first
(:func:`minigan.fileio.reserve_space`: a full disk is one line at the start,
not a crash half-way), beside its final name, and moved into place when
complete by the output guard (minigan/job/output_guard.py). Nothing is
overwritten without ``--force``: a folder that already holds a picture of the
same name, or an existing ``.npy`` (it carries no mark of who wrote it), is refused.
"""
from __future__ import annotations

import math
import os
import re
from pathlib import Path

import numpy as np
from numpy.lib.format import dtype_to_descr, write_array_header_1_0
from PIL import Image

from ..fileio import reserve_space
from .generate import BATCH, asked_labels, check_out_path, describe_classes, generate_batches, load_generator
from .output_guard import OutputRefused, OutputTarget, run_file_of
from .data import POINT_SETS
from .viz.grid import to_uint8


def export_kind(out) -> str | None:
    """``"folder"``, ``"npy"``, or None (a grid picture) for the ``--out`` path ``out``."""
    text = str(out)
    path = Path(text).expanduser()
    if text.endswith(("/", os.sep)) or path.is_dir() or (not path.suffix and not path.exists()):
        return "folder"
    return "npy" if path.suffix.lower() == ".npy" else None


def write_samples(checkpoint_path, out, n: int = 64, seed: int = 0, backend: str = "numpy", use_ema: bool = True,
                  batch_size: int = BATCH, class_spec=None, force: bool = False) -> Path:
    """Write ``n`` samples to ``out``, a folder of PNGs or a ``.npy`` file (:func:`export_kind`).

    ``class_spec``: a conditional G's class (name or index) for all of them; None: each class in
    turn (sample i is class ``i mod K``). Raises ``ValueError`` (one line) for an ``out`` that
    would overwrite something (``force``: replace files minigan did not write), or a class G does not have.
    """
    kind = export_kind(out)
    out = Path(out).expanduser()
    if kind == "npy":
        targets = [check_out_path(out, checkpoint_path, force, kind="array")]
    elif out.exists() and not out.is_dir():
        check_out_path(out, checkpoint_path, force)            # a file that is no folder: refused, one line
    elif out.is_symlink():
        raise OutputRefused(f"--out {out} is a symbolic link; minigan does not write through links: give the "
                            "real folder's path, or a new folder")
    elif run_file_of(out / "000000.png"):
        raise OutputRefused(f"--out {out} is a folder of a training run's own files (its {out.name}/); give a "
                            "new folder for the pictures, e.g. generated/")
    G = load_generator(checkpoint_path, backend, use_ema)
    labels = asked_labels(G, n, class_spec)                    # (n,) int64, or None: unconditional
    batches = generate_batches(G, n, seed, batch_size, labels)
    if G.config.dataset in POINT_SETS:                         # a 2D run: (n, 2) points, float32
        if kind != "npy":
            raise ValueError(f"{G.config.dataset}'s samples are 2D points, not pictures: write them to a .npy "
                             "file (an (N, 2) array) or a .png scatter plot")
        write_npy(targets, (x.reshape(len(x), 2) for x in batches), n, (2,), None)
        print(f"wrote {out}: {n:,} points (N, 2) float32 from {'EMA ' if G.ema else ''}G at step {G.step}")
        return out
    if kind == "npy":
        if labels is not None:                                 # the class of each picture, beside it
            targets.append(OutputTarget(out.with_suffix(".labels.npy"), "array", force, flag="the labels file"))
        write_npy(targets, batches, n, (G.channels, *image_size(G)), labels)
    else:
        write_folder(out, batches, n, labels, G.class_names, force)
    extra = f" and {out.with_suffix('.labels.npy')}" if kind == "npy" and labels is not None else ""
    print(f"wrote {out}{extra}: {n:,} pictures from {'EMA ' if G.ema else ''}G at step {G.step}"
          f"{describe_classes(G, class_spec, False)}")
    return out


def image_size(G) -> tuple[int, int]:
    """The ``(H, W)`` of G's pictures, from the architecture it was built as."""
    size = {"dcgan28": 28, "dcgan64": 64, "mlp": 28}[G.config.arch]
    return size, size


def write_npy(targets, batches, n: int, shape, labels) -> None:
    """Write the ``(n, *shape)`` float32 array batch by batch into ``targets[0]`` (and the labels into ``targets[1]``).

    The header first, then the space for all ``n`` pictures is reserved (a full disk: ``OSError``
    now), then the batches in order: a plain sequential write, no memory map. The labels file is
    moved into place first; if the array then cannot be, the labels file is removed again.
    """
    header = {"descr": dtype_to_descr(np.dtype("<f4")), "fortran_order": False, "shape": (n, *shape)}
    placed = None                                              # the labels file, once in place
    try:
        with targets[0].temp() as tmp:
            with open(tmp, "wb") as f:
                write_array_header_1_0(f, header)
                reserve_space(f, f.tell() + 4 * n * math.prod(shape), targets[0].path)
                for x in batches:                              # (m, C, H, W) in [-1, 1]
                    f.write(np.ascontiguousarray(x, dtype="<f4").tobytes())
            if labels is not None:
                with targets[1].temp() as tmp_labels, open(tmp_labels, "wb") as f:
                    np.save(f, labels.astype(np.int64))
                placed = os.lstat(targets[1].path)
    except BaseException:
        if placed is not None:                                 # the array failed: take its labels back
            try:
                if os.path.samestat(os.lstat(targets[1].path), placed):
                    os.unlink(targets[1].path)
            except OSError:
                pass
        raise


def write_folder(out: Path, batches, n: int, labels, class_names, force: bool = False) -> None:
    """One PNG per picture in the folder ``out``: ``000000.png``, or ``000000_<class>.png``; refuses to overwrite."""
    names = [f"{i:06d}" + ("" if labels is None else f"_{safe_name(class_names[labels[i]])}") + ".png"
             for i in range(n)]
    if out.is_dir() and not force:
        taken = [name for name in names if (out / name).exists()]
        if taken:
            raise ValueError(f"--out {out} already holds {taken[0]} (and {len(taken) - 1} more of the names this "
                             "would write); choose an empty or new folder (nothing is overwritten without --force)")
    out.mkdir(parents=True, exist_ok=True)
    i = 0
    for x in batches:                                          # (m, C, H, W) in [-1, 1]
        for picture in to_uint8(x).transpose(0, 2, 3, 1):      # (H, W, C) uint8
            image = Image.fromarray(picture[:, :, 0] if picture.shape[2] == 1 else picture)   # "L" or "RGB"
            target = OutputTarget(out / names[i], "picture", force)
            with target.temp() as tmp:
                image.save(tmp, format="PNG", **target.mark("PNG"))
            i += 1


def safe_name(name: str) -> str:
    """A class name as part of a file name: ``T-shirt/top`` -> ``T-shirt_top``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(name))
