"""Class labels for a conditional GAN: a folder per class, and the classes of MNIST and Fashion-MNIST.

A folder of your own pictures becomes a labelled dataset by the ImageFolder
convention (torchvision's): each sub-folder of the root is one class, named
after the folder, and classes are numbered in sorted order of their names::

    pets/cat/001.png  pets/cat/002.jpg  pets/dog/a.png  ...   ->   classes ["cat", "dog"], labels 0, 1

Pictures inside a class folder may sit in deeper folders of their own; folders
whose name starts with "." (``.ipynb_checkpoints``) are not classes. A folder with
pictures at its top level and no sub-folders has no classes: it trains an
unconditional GAN (:class:`~minigan.job.data.ImageFolder`), and asking it for
labels is a clear error, as are a picture at the top level beside class folders,
a class folder without pictures, and a single class (nothing to condition on).

MNIST's and Fashion-MNIST's loaders already return ``(images, labels)``; their
class names are ``MNIST.classes`` and ``FASHION_MNIST.classes`` (:data:`DATASET_CLASSES`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import DatasetError
from .folder import EXTENSIONS, ImageFolder
from .mnist import FASHION_MNIST, MNIST

#: The class names of the built-in datasets, by their ``--dataset`` name (label k is name k).
DATASET_CLASSES = {"mnist": MNIST.classes, "fashion-mnist": FASHION_MNIST.classes}


def pictures_in(folder: Path) -> list[Path]:
    """The picture files under ``folder``, recursively, sorted: the files :class:`ImageFolder` loads."""
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file())


def find_classes(root) -> tuple[list[str], list[list[Path]]]:
    """The classes of a folder: ``(class_names, files_per_class)``, names sorted, files sorted.

    Returns ``([], [])`` -- no classes -- for a folder with pictures at its top level
    and no sub-folders. Raises :class:`DatasetError` (one line saying what to
    change) for a missing folder, a picture at the top level beside class folders,
    a class folder with no pictures, or a folder with no pictures at all.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        what = "is not a folder" if root.exists() else "no such folder"
        raise DatasetError(f"{root}: {what}; give a folder with one sub-folder of pictures per class")
    folders = sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
                     key=lambda p: p.name)
    loose = sorted(p for p in root.iterdir() if p.suffix.lower() in EXTENSIONS and p.is_file())
    if not folders:
        if not loose:
            raise DatasetError(f"{root}: no pictures in it (looked for file names ending in "
                               f"{', '.join(EXTENSIONS)})")
        return [], []                                                 # no classes: an unconditional folder
    if loose:
        raise DatasetError(f"{root}: {len(loose)} picture(s) at the top level (e.g. {loose[0].name}) beside the "
                           f"class folders {', '.join(p.name for p in folders)}; move each into its class "
                           f"folder, or remove it")
    files = [pictures_in(folder) for folder in folders]
    for folder, found in zip(folders, files):
        if not found:
            raise DatasetError(f"{folder}: class folder with no pictures in it; add PNG/JPEG pictures to it "
                               f"or remove it")
    return [folder.name for folder in folders], files


class LabelledImageFolder:
    """A folder with one sub-folder per class, as uint8 ``.images`` ``(N, size, size, channels)``
    and int64 ``.labels`` ``(N,)``; ``.class_names[labels[i]]`` is the folder picture i came from.

    Each class folder is loaded by :class:`ImageFolder` (same decoding, crop and
    resize; unreadable files skipped and reported). Also ``.paths`` and
    ``.skipped`` over all classes, in class order. Raises :class:`DatasetError`
    for every case :func:`find_classes` rejects, for a folder without classes,
    and for a single class.
    """

    def __init__(self, path, size: int = 64, channels: int = 3, *, report=None):
        root = Path(path).expanduser()
        self.class_names, _ = find_classes(root)
        if not self.class_names:
            raise DatasetError(f"{root}: no class sub-folders, its pictures are all at the top level; for a "
                               f"conditional GAN put each class in a sub-folder named after it "
                               f"({root / 'cat'}, {root / 'dog'}, ...), or train without --conditional")
        if len(self.class_names) == 1:
            raise DatasetError(f"{root}: only one class folder ({self.class_names[0]}), so there is nothing to "
                               f"condition on; add a folder for each other class, or train without --conditional")
        per_class = [ImageFolder(root / name, size, channels, report=report) for name in self.class_names]
        self.images = np.concatenate([folder.images for folder in per_class])    # (N, size, size, channels)
        self.labels = np.concatenate([np.full(len(folder), k, np.int64)          # (N,): class k for folder k
                                      for k, folder in enumerate(per_class)])
        self.paths = [p for folder in per_class for p in folder.paths]
        self.skipped = [s for folder in per_class for s in folder.skipped]
        self.size, self.channels = size, channels

    def __len__(self) -> int:
        return len(self.images)

    def __repr__(self) -> str:
        counts = ", ".join(f"{name}: {n}" for name, n in zip(self.class_names, np.bincount(self.labels)))
        return f"LabelledImageFolder({len(self)} pictures in {len(self.class_names)} classes ({counts}))"


def class_index(spec, class_names) -> int:
    """The label of a class asked for by name (``"Sneaker"``) or index (``7``, or ``"7"`` from a command line).

    An int is an index. A string is matched against the names first, exactly, so
    a folder class named "3" is that folder whatever its index; then without regard
    to case ("sneaker" is "Sneaker"), when only one name matches so; otherwise a
    string of digits is an index. Raises ``ValueError`` listing the classes.
    """
    names = [str(name) for name in class_names]
    if isinstance(spec, str) and spec in names:
        return names.index(spec)
    if isinstance(spec, str):
        folded = [i for i, name in enumerate(names) if name.casefold() == spec.casefold()]
        if len(folded) == 1:
            return folded[0]
        if len(folded) > 1:
            raise ValueError(f"class {spec!r} is ambiguous: it matches {', '.join(names[i] for i in folded)} "
                             "without regard to case; give the name exactly, or its index")
    k = int(spec) if isinstance(spec, (int, np.integer)) or str(spec).isdigit() else None
    if k is not None and 0 <= k < len(names):
        return k
    listed = ", ".join(f"{i}={name}" for i, name in enumerate(names))
    raise ValueError(f"no class {spec!r}: give a class name or an index from 0 to {len(names) - 1} ({listed})")
