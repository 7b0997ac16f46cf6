"""Shared by the metrics tests: a toy 10-class picture set and a tiny classifier trained on it in seconds.

Class k of the toy set is a bright 8x8 square at one of ten places on a dark
28x28 canvas (two rows of five), jittered by up to 2 pixels, with a random
brightness and pixel noise: easy to learn, but a real distribution with
spread, so two samples of it have a small, nonzero Fréchet distance.
"""
import numpy as np
import pytest

from minigan.job.metrics import Classifier, train_classifier

PLACES = [(3 + 12 * r, 1 + 5 * c) for r in range(2) for c in range(5)]   # (top, left) of each class's square


def toy_images(labels, rng):
    """uint8 (N, 28, 28) pictures of the given classes (N,)."""
    N = len(labels)
    x = rng.normal(20, 8, (N, 28, 28))
    for n, k in enumerate(labels):
        top, left = PLACES[k]
        dt, dl = rng.integers(-2, 3, 2)
        t, l = max(top + dt, 0), max(left + dl, 0)
        x[n, t:t + 8, l:l + 8] += rng.uniform(150, 230)
    return np.clip(x, 0, 255).astype(np.uint8)


def toy_dataset(n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    return toy_images(labels, rng), labels


@pytest.fixture(scope="session")
def toy_classifier():
    """A narrow classifier trained for one epoch on 1,600 toy pictures (about 2 s); 100% accurate on them."""
    images, labels = toy_dataset(1600, seed=0)
    clf = Classifier(widths=(8, 8, 16), hidden=32, seed=0)
    return train_classifier(images, labels, epochs=1, batch_size=32, lr=3e-3, classifier=clf, progress=False)
