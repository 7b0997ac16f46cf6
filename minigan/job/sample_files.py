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
(``numpy.lib.format.open_memmap``) filled batch by batch, written beside its
final name and renamed into place when complete, as every file minigan writes
(minigan/fileio.py). Nothing is overwritten: a folder that already holds a
picture of the same name, or an existing ``.npy``, is refused.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import numpy as np
from numpy.lib.format import open_memmap
from PIL import Image

from ..fileio import atomic_write
from .generate import BATCH, asked_labels, check_out_path, describe_classes, generate_batches, load_generator
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
                  batch_size: int = BATCH, class_spec=None) -> Path:
    """Write ``n`` samples to ``out``, a folder of PNGs or a ``.npy`` file (:func:`export_kind`).

    ``class_spec``: a conditional G's class (name or index) for all of them; None: each class in
    turn (sample i is class ``i mod K``). Raises ``ValueError`` (one line) for an ``out`` that
    would overwrite something, or a class G does not have.
    """
    kind = export_kind(out)
    out = Path(out).expanduser()
    if kind == "npy":
        if out.exists():
            raise ValueError(f"--out {out} exists; choose a new file name (nothing is overwritten)")
        if out.with_suffix(".labels.npy").exists():
            raise ValueError(f"{out.with_suffix('.labels.npy')} exists; choose another --out (nothing is overwritten)")
    elif out.exists() and not out.is_dir():
        check_out_path(out, checkpoint_path)                   # a file that is no folder: refused, one line
    G = load_generator(checkpoint_path, backend, use_ema)
    labels = asked_labels(G, n, class_spec)                    # (n,) int64, or None: unconditional
    batches = generate_batches(G, n, seed, batch_size, labels)
    if G.config.dataset in POINT_SETS:                         # a 2D run: (n, 2) points, float32
        if kind != "npy":
            raise ValueError(f"{G.config.dataset}'s samples are 2D points, not pictures: write them to a .npy "
                             "file (an (N, 2) array) or a .png scatter plot")
        write_npy(out, (x.reshape(len(x), 2) for x in batches), n, (2,), None)
        print(f"wrote {out}: {n:,} points (N, 2) float32 from {'EMA ' if G.ema else ''}G at step {G.step}")
        return out
    if kind == "npy":
        write_npy(out, batches, n, (G.channels, *image_size(G)), labels)
    else:
        write_folder(out, batches, n, labels, G.class_names)
    extra = f" and {out.with_suffix('.labels.npy')}" if kind == "npy" and labels is not None else ""
    print(f"wrote {out}{extra}: {n:,} pictures from {'EMA ' if G.ema else ''}G at step {G.step}"
          f"{describe_classes(G, class_spec, False)}")
    return out


def image_size(G) -> tuple[int, int]:
    """The ``(H, W)`` of G's pictures, from the architecture it was built as."""
    size = {"dcgan28": 28, "dcgan64": 64, "mlp": 28}[G.config.arch]
    return size, size


def write_npy(out: Path, batches, n: int, shape, labels) -> None:
    """Fill a ``(n, *shape)`` float32 memory map batch by batch, then rename it to ``out`` (and the labels)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.{os.getpid()}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        array = open_memmap(tmp, mode="w+", dtype=np.float32, shape=(n, *shape))   # on disk, not in memory
        start = 0
        for x in batches:                                      # (m, C, H, W) in [-1, 1]
            array[start:start + len(x)] = x
            start += len(x)
        array.flush()
        del array                                              # close the map before the rename
        if labels is not None:                                 # the class of each picture, beside it
            with atomic_write(out.with_suffix(".labels.npy")) as f:
                np.save(f, labels.astype(np.int64))
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_folder(out: Path, batches, n: int, labels, class_names) -> None:
    """One PNG per picture in the folder ``out``: ``000000.png``, or ``000000_<class>.png``; refuses to overwrite."""
    names = [f"{i:06d}" + ("" if labels is None else f"_{safe_name(class_names[labels[i]])}") + ".png"
             for i in range(n)]
    if out.is_dir():
        taken = [name for name in names if (out / name).exists()]
        if taken:
            raise ValueError(f"--out {out} already holds {taken[0]} (and {len(taken) - 1} more of the names this "
                             "would write); choose an empty or new folder (nothing is overwritten)")
    out.mkdir(parents=True, exist_ok=True)
    i = 0
    for x in batches:                                          # (m, C, H, W) in [-1, 1]
        for picture in to_uint8(x).transpose(0, 2, 3, 1):      # (H, W, C) uint8
            image = Image.fromarray(picture[:, :, 0] if picture.shape[2] == 1 else picture)   # "L" or "RGB"
            with atomic_write(out / names[i]) as f:
                image.save(f, format="PNG")
            i += 1


def safe_name(name: str) -> str:
    """A class name as part of a file name: ``T-shirt/top`` -> ``T-shirt_top``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(name))
