"""MNIST and Fashion-MNIST: finding, downloading and loading their IDX files.

Both datasets are published as the same four gzip-compressed IDX files
(the format is explained in ``idx.py``):

    train-images-idx3-ubyte.gz   uint8 (60000, 28, 28)   training images, 0 = background
    train-labels-idx1-ubyte.gz   uint8 (60000,)          their classes, 0-9
    t10k-images-idx3-ubyte.gz    uint8 (10000, 28, 28)   test images
    t10k-labels-idx1-ubyte.gz    uint8 (10000,)          their classes

MNIST's classes are the digits; Fashion-MNIST's are in ``FASHION_MNIST.classes``.
Each file may also be kept uncompressed, under the name without ``.gz``.

Where :func:`load_mnist` and :func:`load_fashion_mnist` look, in order:

1. ``root``, if given (the CLI's ``--data-dir``), and nowhere else: missing
   files are downloaded into it.
2. Otherwise the cache folder ``<cache>/<name>``, where ``<cache>`` is
   ``$MINIGAN_DATA`` if set, else ``~/.cache/minigan``, and ``<name>`` is
   ``mnist`` or ``fashion-mnist``.
3. Fashion-MNIST only: ``/usr/share/datasets/fashion-mnist``, where Debian's
   ``dataset-fashion-mnist`` package installs the four ``.gz`` files. Debian
   recompressed them, so their MD5s differ from the published ones; like any
   file found on disk they are checked by :func:`read_idx` (gzip CRC-32,
   header against size) rather than by MD5.
4. Otherwise, with ``download=True``, the two files of the split are
   downloaded into the cache folder of step 2 (see ``download.py``).

The mirrors and MD5s are those torchvision's ``datasets/mnist.py`` uses. To
point the loader elsewhere (a local mirror, tests), pass a modified dataset
to :func:`load_idx_dataset`, e.g. ``dataclasses.replace(MNIST, mirrors=(...))``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .download import download_from_mirrors
from .errors import DatasetError
from .idx import read_idx

FILES = (  # the four files of either dataset, as published
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


@dataclass(frozen=True)
class IdxDataset:
    """Where an MNIST-style dataset comes from.

    ``name``: the cache sub-folder; ``title``: the name in messages;
    ``mirrors``: base URLs tried in order (a file's URL is mirror + file name);
    ``md5``: the published MD5 of each ``.gz`` file in :data:`FILES`;
    ``system_dirs``: folders where an OS package may have installed the files;
    ``offline_hint``: one more way out, printed when the files cannot be had.
    """

    name: str
    title: str
    mirrors: tuple[str, ...]
    md5: dict[str, str]
    classes: tuple[str, ...]
    system_dirs: tuple[str, ...] = ()
    offline_hint: str = ""


MNIST = IdxDataset(
    name="mnist",
    title="MNIST",
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    md5={
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    classes=tuple("0123456789"),
    offline_hint=(
        "Or train on Fashion-MNIST instead, which needs no download once Debian's package is\n"
        "installed: sudo apt install dataset-fashion-mnist"
    ),
)

FASHION_MNIST = IdxDataset(
    name="fashion-mnist",
    title="Fashion-MNIST",
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    md5={
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
    classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
             "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    system_dirs=("/usr/share/datasets/fashion-mnist",),
    offline_hint=(
        "Or install Debian's package, which puts the files in /usr/share/datasets/fashion-mnist,\n"
        "where minigan finds them: sudo apt install dataset-fashion-mnist"
    ),
)


def load_mnist(root=None, train=True, download=True, *, progress=None):
    """MNIST digits: ``(images uint8 (N, 28, 28), labels uint8 (N,))``, N = 60000 or 10000.

    ``root``: the folder holding the IDX files (default: the cache folder, see
    the module docstring); ``train``: the training split, else the test split;
    ``download``: fetch missing files; ``progress``: a stream for the download
    bar (``None``: stderr, ``False``: none). Raises :class:`DatasetError`.
    """
    return load_idx_dataset(MNIST, root, train, download, progress=progress)


def load_fashion_mnist(root=None, train=True, download=True, *, progress=None):
    """Fashion-MNIST, Zalando's clothing images, in the same form as :func:`load_mnist`."""
    return load_idx_dataset(FASHION_MNIST, root, train, download, progress=progress)


def cache_dir() -> Path:
    """The cache root: ``$MINIGAN_DATA`` if set, else ``~/.cache/minigan``."""
    return Path(os.environ.get("MINIGAN_DATA") or "~/.cache/minigan").expanduser()


def load_idx_dataset(dataset: IdxDataset, root=None, train=True, download=True, *, progress=None):
    """Find (or download) and read one split of ``dataset``; see the module docstring."""
    split = "train" if train else "t10k"
    wanted = (f"{split}-images-idx3-ubyte", f"{split}-labels-idx1-ubyte")  # names without .gz
    if root is not None:
        target = Path(root).expanduser()
        folders = [target]
    else:
        target = cache_dir() / dataset.name
        folders = [target, *map(Path, dataset.system_dirs)]

    # 1. A folder that already has both files of the split.
    for folder in folders:
        found = [_find(folder, stem) for stem in wanted]
        if all(found):
            return _read_pair(dataset, *found)

    # 2. Download what the target folder lacks.
    if not download:
        searched = ", ".join(str(folder) for folder in folders)
        raise DatasetError(f"{dataset.title} not found (looked in {searched}); "
                           f"download=False, so nothing was downloaded.\n\n"
                           + _how_to_get(dataset, target))
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DatasetError(f"cannot create the folder {target} for {dataset.title}: "
                           f"{e.strerror or e}\n\n" + _how_to_get(dataset, target)) from e
    paths = []
    for stem in wanted:
        path = _find(target, stem)
        if path is None:
            gz = stem + ".gz"
            try:
                path = download_from_mirrors(gz, dataset.md5[gz], dataset.mirrors, target,
                                             progress=progress)
            except DatasetError as e:
                raise DatasetError(f"{dataset.title}: {e}\n\n" + _how_to_get(dataset, target)) from e
        paths.append(path)
    return _read_pair(dataset, *paths)


def _find(folder: Path, stem: str) -> Path | None:
    """``folder/stem`` or ``folder/stem.gz``, whichever is a file (uncompressed first)."""
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def _read_pair(dataset: IdxDataset, images_path: Path, labels_path: Path):
    """Read and cross-check an images file and its labels file."""
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.dtype != np.uint8 or images.shape[1:] != (28, 28):
        raise DatasetError(f"{images_path}: expected {dataset.title} images, uint8 (N, 28, 28); "
                           f"found {images.dtype} {images.shape}")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DatasetError(f"{labels_path}: expected {dataset.title} labels, uint8 (N,); "
                           f"found {labels.dtype} {labels.shape}")
    if len(images) != len(labels):
        raise DatasetError(f"{images_path} holds {len(images)} images but {labels_path} holds "
                           f"{len(labels)} labels; the two files are from different sets")
    return images, labels


def _how_to_get(dataset: IdxDataset, folder: Path) -> str:
    """The offline instructions: the four files, where to put them, the alternatives."""
    names = "\n".join(f"    {name}" for name in FILES)
    source = f" (from {dataset.mirrors[0]})" if dataset.mirrors else ""
    return (
        f"{dataset.title} is these four files (gzip-compressed as named, or uncompressed without .gz):\n"
        f"{names}\n"
        f"Download them where you are online{source} and put them in\n"
        f"    {folder}\n"
        f"or put them in any folder and pass it with --data-dir FOLDER.\n"
        f"{dataset.offline_hint}"
    ).rstrip()
