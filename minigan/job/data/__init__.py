"""minigan.job.data: getting pictures from disk (or the internet) into the trainer.

    idx.py        the IDX file format of MNIST: read_idx, write_idx
    download.py   mirrors, MD5 check, atomic write; its bar is minigan/job/progress.py's
    mnist.py      load_mnist, load_fashion_mnist: find, download, read, check
    folder.py     ImageFolder: your own PNG/JPEG pictures, cropped and resized
    classes.py    LabelledImageFolder, find_classes: a sub-folder per class; class names of the datasets
    batches.py    batches: one shuffled epoch of float32 (B, C, H, W) in [-1, 1]
    errors.py     DatasetError, the one exception a user can meet here
    points.py     PointSet: the 2D rings and grids of Gaussians (--dataset ring, grid)
    stacked_mnist.py  StackedMNIST: three digits as the channels of one picture, 1,000 modes
    fingerprint.py  fingerprint, array_digest: what a resume and the classifier cache check the data by

Typical use::

    images, labels = load_fashion_mnist()          # uint8 (60000, 28, 28), uint8 (60000,)
    rng = np.random.default_rng(0)
    for x in batches(images, 128, rng, size=64):   # float32 (128, 1, 64, 64)
        ...
"""
from .batches import batches
from .classes import DATASET_CLASSES, LabelledImageFolder, class_index, find_classes
from .errors import DatasetError
from .fingerprint import array_digest, data_changed, fingerprint
from .folder import ImageFolder
from .idx import read_idx, write_idx
from .points import POINT_SETS, PointSet, mixture
from .stacked_mnist import StackedMNIST
from .mnist import FASHION_MNIST, MNIST, IdxDataset, cache_dir, load_fashion_mnist, load_idx_dataset, load_mnist

__all__ = [
    "DATASET_CLASSES", "LabelledImageFolder", "class_index", "find_classes",
    "DatasetError",
    "array_digest", "data_changed", "fingerprint",
    "FASHION_MNIST",
    "IdxDataset",
    "ImageFolder",
    "MNIST",
    "batches",
    "cache_dir",
    "load_fashion_mnist",
    "load_idx_dataset",
    "load_mnist",
    "read_idx",
    "write_idx",
    "POINT_SETS", "PointSet", "mixture", "StackedMNIST",
]
