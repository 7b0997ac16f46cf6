"""A judge for your own pictures: minigan's classifier, trained on part of a folder with a sub-folder per class.

MNIST and Fashion-MNIST come with a training split to train the judging
classifier on and a test split to compare G's samples with. A folder of your
own pictures with one sub-folder per class (``pets/cat/*.png``,
``pets/dog/*.png``: the convention of minigan/job/data/classes.py) has labels
too, so it gets the same treatment::

    clf, held_out, held_out_labels, names = folder_classifier("pets", size=28, channels=1)

1. The pictures are loaded as the training job loads them (same size, same
   channels) and split, class by class, into a training part and a held-out
   part, :data:`HELD_OUT` of each class (at least one picture), chosen by a
   seeded shuffle: the same folder always splits the same way.
2. The classifier (minigan/job/metrics/classifier.py) is trained on the training
   part for about :data:`STEPS` steps, however small the folder, and its
   accuracy measured on the held-out part: the ceiling of the conditional
   accuracy, and a warning when it is low (its features then say little).
3. It is cached under ``<cache>/classifiers/folder-<hash>-cnn-v<VERSION>.npz``,
   where the hash is SHA-256 over every picture's relative path and bytes, the
   size and the channels: a changed, added or removed picture trains a new one.

The held-out pictures are the real side of the comparison (their features,
class mix and per-class statistics), as the 10,000 test images are for MNIST.
A folder *without* class sub-folders has no labels to train on: no classifier
here makes sense for it (one trained on digits would judge your pictures by
what they share with digits), so :func:`folder_classifier` raises
:class:`NoClasses` saying so.
"""
from __future__ import annotations

import hashlib
import math
import time
from pathlib import Path

import numpy as np

from ..data import LabelledImageFolder, cache_dir as data_cache_dir, find_classes
from ..data.classes import pictures_in
from ..progress import resolve_stream
from .cache import VERSION, CorruptClassifierCache, load_classifier, save_classifier
from .classifier import Classifier, accuracy, train_classifier

HELD_OUT = 0.2                 # the share of each class kept from the classifier, to measure it and to compare with
STEPS = 600                    # the classifier's training steps (batches of up to BATCH), whatever the folder's size
BATCH = 128
LOW_ACCURACY = 0.8             # below this on the held-out part, say the numbers are less trustworthy


class NoClasses(ValueError):
    """The folder has no class sub-folders, so there are no labels to train a classifier on."""


def folder_hash(root, size: int, channels: int) -> str:
    """SHA-256 (hex, first 16 characters) of every picture's path under ``root`` and its bytes, and the size."""
    root = Path(root).expanduser()
    digest = hashlib.sha256(f"v{VERSION} size {size} channels {channels}\n".encode())
    for path in pictures_in(root):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def held_out_split(labels: np.ndarray, share: float = HELD_OUT, seed: int = 0) -> np.ndarray:
    """A bool mask ``(N,)``: True for the held-out pictures, ``share`` of each class (at least one), seeded."""
    rng = np.random.default_rng(seed)
    held = np.zeros(len(labels), dtype=bool)
    for k in np.unique(labels):
        members = np.flatnonzero(labels == k)
        held[rng.permutation(members)[:max(1, int(round(share * len(members))))]] = True
    return held


def folder_classifier(root, size: int, channels: int, cache_dir=None, progress=None, backend="numpy",
                      steps: int | None = None):
    """``(classifier, held-out images, their labels, class names)`` for the folder ``root``.

    images: uint8 ``(M, channels, size, size)``. The classifier is loaded from the cache when
    the folder's pictures are unchanged, else trained (see the module docstring) and saved.
    Raises :class:`NoClasses` for a folder without class sub-folders, and
    :class:`~minigan.job.data.DatasetError` for one that cannot be read.
    """
    root = Path(root).expanduser()
    names, _ = find_classes(root)                                   # DatasetError for a missing or empty folder
    if not names:
        raise NoClasses(f"{root} has no class sub-folders, so there are no labels to train a classifier of its "
                        "pictures on, and one trained on another dataset (MNIST's digits, say) would judge them by "
                        "what they share with it: there is no number to give. Put each class's pictures in a "
                        f"sub-folder ({root / 'cat'}, {root / 'dog'}, ...) to get one")
    stream = resolve_stream(progress)
    folder = LabelledImageFolder(root, size=size, channels=channels)
    images = folder.images.transpose(0, 3, 1, 2)                    # (N, C, size, size), as the classifier reads
    held = held_out_split(folder.labels)
    key = f"folder-{folder_hash(root, size, channels)}"
    path = (Path(cache_dir).expanduser() if cache_dir is not None else data_cache_dir() / "classifiers") / \
        f"{key}-cnn-v{VERSION}.npz"
    try:
        clf = load_classifier(path, dataset=key).to(backend)
    except (FileNotFoundError, CorruptClassifierCache):               # none yet, or a damaged one: train
        clf = _train(images[~held], folder.labels[~held], len(names), images[held], folder.labels[held],
                     path, key, backend, steps or STEPS, stream)
    if stream is not None and clf.test_accuracy < LOW_ACCURACY:
        stream.write(f"minigan: warning: the classifier of {root} is right on {clf.test_accuracy:.0%} of its held-out "
                     "pictures; its numbers are less trustworthy (more pictures per class help)\n")
    order = np.random.default_rng(1).permutation(np.flatnonzero(held))   # classes mixed, as a test split is:
    return clf, images[order], folder.labels[order], list(names)         # the score's splits each hold every class


def _train(images, labels, K, test_images, test_labels, path, key, backend, steps, stream) -> Classifier:
    """Train on ``images``, measure on the held-out pictures, save to ``path``: the classifier."""
    if stream is not None:
        stream.write(f"minigan: training a classifier of the folder's {len(images):,} pictures in {K} classes "
                     f"({len(test_images):,} held out); done once, then cached at {path}\n")
    batch = min(BATCH, len(images))
    epochs = max(1, math.ceil(steps * batch / len(images)))
    t0 = time.perf_counter()
    clf = Classifier(images.shape[1], images.shape[-1], K, seed=0)
    clf = train_classifier(images, labels, epochs=epochs, batch_size=batch, backend=backend, classifier=clf,
                           progress=False)
    meta = dict(dataset=key, train_size=int(len(images)), test_size=int(len(test_images)),
                test_accuracy=accuracy(clf, test_images, test_labels), train_seconds=round(time.perf_counter() - t0, 1),
                recipe=dict(epochs=epochs, batch_size=batch), backend=backend)
    try:
        save_classifier(clf, path, **meta)
    except OSError as e:                                            # a read-only cache: still usable, just not kept
        if stream is not None:
            stream.write(f"minigan: warning: could not save the classifier to {path} ({e})\n")
    if stream is not None:
        stream.write(f"minigan: folder classifier: held-out accuracy {meta['test_accuracy']:.1%}, trained in "
                     f"{meta['train_seconds']:.0f} s\n")
    clf.test_accuracy, clf.meta = meta["test_accuracy"], {"version": VERSION, "config": clf.config, **meta}
    return clf
