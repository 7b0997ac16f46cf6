"""Train the judge once, keep it on disk, and refuse a damaged copy.

    clf = load_or_train_classifier("fashion-mnist")    # first call: trains (about a minute on 2 idle cores)
    clf = load_or_train_classifier("fashion-mnist")    # later calls: loads in well under a second

The classifier lives in ``<cache>/classifiers/<dataset>-cnn-v<VERSION>-<data>.npz``
(``<cache>`` is ``$MINIGAN_DATA`` or ``~/.cache/minigan``, as for the data
sets), where ``<data>`` is the fingerprint of the training split it learned from
(:func:`minigan.job.data.array_digest` of its images and labels): the cache is keyed
by the data's content, not the dataset's name, so MNIST files passed as
``--dataset fashion-mnist`` get a judge of their own, never the Fashion-MNIST one. One ``.npz`` file holds the weights, the BatchNorm running statistics
and a JSON record (dataset, architecture, training recipe, test accuracy,
training time), written with :func:`minigan.fileio.atomic_write`: a crash
mid-write leaves the old file or none, never half of one.

A file that cannot be trusted -- truncated, a flipped bit (every member of
an ``.npz`` zip carries a CRC-32, checked as it is read), weights of another
shape, NaNs, a record for another dataset -- raises
:class:`CorruptClassifierCache`, which says where the file is and how to
delete it. :func:`load_or_train_classifier` catches it, says so, and trains a
fresh classifier over it (``retrain_if_corrupt=False`` re-raises instead).

Change ``VERSION`` whenever the architecture or the training recipe changes:
old files are then simply not looked at.
"""
from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path

import numpy as np

from ..data import array_digest
from ..data import cache_dir as data_cache_dir
from ..data import load_fashion_mnist, load_mnist
from ..progress import resolve_stream
from ...fileio import atomic_write
from .classifier import Classifier, accuracy, train_classifier

VERSION = 1
RECIPE = dict(epochs=2, batch_size=128, lr=2e-3, seed=0)     # see train_classifier
LOADERS = {"mnist": load_mnist, "fashion-mnist": load_fashion_mnist}
TARGET_ACCURACY = {"mnist": 0.98, "fashion-mnist": 0.89}     # what the recipe is meant to reach
META_KEY = "__meta__"                                         # the JSON record's name inside the .npz


class CorruptClassifierCache(RuntimeError):
    """A cached classifier file exists but cannot be trusted."""


def classifier_path(dataset="fashion-mnist", cache_dir=None, data: str | None = None) -> Path:
    """``<cache_dir>/<dataset>-cnn-v<VERSION>-<data>.npz``, ``data`` the training split's digest (without it, no
    ``-<data>``: a name for a file made elsewhere); ``cache_dir`` defaults to ``<data cache>/classifiers``."""
    _check_dataset(dataset)
    folder = Path(cache_dir).expanduser() if cache_dir is not None else data_cache_dir() / "classifiers"
    return folder / f"{dataset}-cnn-v{VERSION}{'-' + data if data else ''}.npz"


def save_classifier(classifier, path, **meta) -> None:
    """Write ``classifier``'s state and a JSON record (``config`` plus ``meta``) to ``path`` atomically."""
    record = {"version": VERSION, "config": classifier.config, **meta}
    arrays = {name: a for name, a in classifier.state_dict().items()}
    arrays[META_KEY] = np.array(json.dumps(record))                 # a 0-d unicode array: no pickle needed
    with atomic_write(path, "wb") as f:
        np.savez(f, **arrays)


def load_classifier(path, dataset=None, data=None) -> Classifier:
    """The classifier saved at ``path`` (NumPy, float32, eval mode), with ``.test_accuracy`` and ``.meta`` set.

    Raises ``FileNotFoundError`` if there is no file, :class:`CorruptClassifierCache`
    if there is one that cannot be trusted (or was made for another ``dataset``, or from
    training data whose digest is not ``data``).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no cached classifier at {path}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}       # reading each member checks its CRC-32
        record = json.loads(str(arrays.pop(META_KEY)))
        if record.get("version") != VERSION:
            raise ValueError(f"it is version {record.get('version')}, this minigan reads version {VERSION}")
        if dataset is not None and record.get("dataset") != dataset:
            raise ValueError(f"it was trained on {record.get('dataset')!r}, not {dataset!r}")
        if data is not None and record.get("data") != data:
            raise ValueError(f"it was trained on data {record.get('data')}, not on these files ({data})")
        accuracy_ = float(record["test_accuracy"])
        if not 0.0 <= accuracy_ <= 1.0:
            raise ValueError(f"its recorded test accuracy {accuracy_} is not a fraction")
        config = record["config"]
        clf = Classifier(**{**config, "widths": tuple(config["widths"])})
        clf.load_state_dict(arrays)                                 # keys and shapes must match exactly
        if not all(np.all(np.isfinite(a)) for a in arrays.values()):
            raise ValueError("it holds NaN or inf weights")
    except (OSError, EOFError, zipfile.BadZipFile, AttributeError, KeyError, TypeError, ValueError) as e:
        raise CorruptClassifierCache(
            f"the cached classifier {path} is damaged or stale ({type(e).__name__}: {e}).\n"
            f"Delete it and it will be retrained on next use:  rm '{path}'"
        ) from e
    clf.test_accuracy, clf.meta = accuracy_, record
    return clf.eval()


def load_or_train_classifier(dataset="fashion-mnist", root=None, cache_dir=None, progress=None, *,
                             backend="numpy", retrain_if_corrupt=True) -> Classifier:
    """The evaluation classifier for ``dataset`` (``"fashion-mnist"`` or ``"mnist"``), from the cache or trained now.

    root: where the dataset's IDX files are (as for :func:`minigan.job.data.load_mnist`; default: found automatically).
    cache_dir: where classifiers are kept (default ``<$MINIGAN_DATA or ~/.cache/minigan>/classifiers``).
    progress: a text stream for what is happening (``None``: stderr, ``False``: silent).
    backend: where the returned classifier lives, and where a new one is trained (``"cupy"`` is much faster).
    Returns a :class:`Classifier` in eval mode; ``.test_accuracy`` is its accuracy on the test split.
    """
    stream = resolve_stream(progress)
    _check_dataset(dataset)
    images, labels = LOADERS[dataset](root, train=True, progress=progress)   # what the judge learns from:
    data = array_digest(images, labels)                                      # its content keys the cache
    path = classifier_path(dataset, cache_dir, data)
    try:
        return load_classifier(path, dataset, data).to(backend)
    except FileNotFoundError:
        _say(stream, f"minigan: no cached {dataset} classifier at {path}; training one (done once)")
    except CorruptClassifierCache as e:
        if not retrain_if_corrupt:
            raise
        _say(stream, f"minigan: {e}\nminigan: training a new one over it")

    clf, meta = _train_and_test(dataset, root, backend, progress, images, labels)
    meta["data"] = data
    target = TARGET_ACCURACY[dataset]
    _say(stream, f"minigan: {dataset} classifier: test accuracy {meta['test_accuracy']:.2%} "
                 f"(target {target:.0%}), trained in {meta['train_seconds']:.0f} s")
    if meta["test_accuracy"] < target:
        _say(stream, f"minigan: warning: below the {target:.0%} this classifier should reach; "
                     f"its metrics are less trustworthy")
    try:
        save_classifier(clf, path, **meta)
        _say(stream, f"minigan: saved to {path}")
    except OSError as e:                                            # a read-only cache: still usable, just not kept
        _say(stream, f"minigan: warning: could not save the classifier to {path} ({e}); "
                     f"it will be trained again next time")
    clf.test_accuracy, clf.meta = meta["test_accuracy"], {"version": VERSION, "config": clf.config, **meta}
    return clf


def _train_and_test(dataset, root, backend, progress, images, labels):
    """Train with :data:`RECIPE` on the training split ``images, labels``; measure on the test split.
    Returns ``(clf, meta)``."""
    test_images, test_labels = LOADERS[dataset](root, train=False, progress=progress)
    t0 = time.perf_counter()
    clf = train_classifier(images, labels, backend=backend, progress=progress, **RECIPE)
    seconds = time.perf_counter() - t0
    meta = dict(dataset=dataset, recipe=RECIPE, train_size=int(len(images)), test_size=int(len(test_images)),
                test_accuracy=accuracy(clf, test_images, test_labels), train_seconds=round(seconds, 1),
                backend=backend)
    return clf, meta


def _check_dataset(dataset):
    if dataset not in LOADERS:
        raise ValueError(f"unknown dataset {dataset!r} for the evaluation classifier: "
                         f"choose one of {', '.join(LOADERS)}")


def _say(stream, text):
    if stream is not None:
        stream.write(text + "\n")
        stream.flush()
