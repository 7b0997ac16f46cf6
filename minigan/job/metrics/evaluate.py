"""Is it getting better? Has it collapsed? One call that answers both for a generator.

    evaluate_generator(generate_fn, classifier, real_images, n=10000)

1. The real images go through the classifier once: the mean and covariance of
   their features, their class mix and their own classifier score
   (:func:`real_statistics`; keep the result and pass it as ``real_stats`` to
   evaluate many checkpoints against the same real set without redoing it).
2. ``n`` samples are drawn from ``generate_fn`` in batches; each batch goes
   through the classifier and is dropped, keeping only its features
   ``(B, hidden)`` and class probabilities ``(B, K)``.
3. From those: the Fréchet distance to the real features (``frechet.py``), the
   classifier score and the mode coverage (``score.py``).

The result is a dict of plain Python numbers and lists, ready for
``json.dumps``, a CSV log or an HTML report::

    frechet_distance       FD in the classifier's feature space; 0 = real statistics
    classifier_score       exp(E KL(p(y|x) || p(y))), from 1 to K; and its std over splits
    real_classifier_score  the same on the real images: what a perfect generator would score
    class_histogram        fraction of samples per predicted class (K floats)
    real_class_histogram   the same for the real images
    class_kl               KL(class_histogram || real mix); 0 = same mix, log K = one class
    classes_present        how many classes have at least a quarter of their real share

For a conditional G, pass ``labels`` (the class each sample is asked for) and the
real images' labels: the result also holds ``conditional.py``'s conditional
accuracy and Fréchet distance per class.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ... import backend as B
from ..data.batches import resize_plane
from .classifier import softmax
from .conditional_accuracy import class_statistics, conditional_measures
from .frechet import feature_statistics, frechet_distance
from .score import class_histogram, classifier_score, coverage, reference_distribution


@dataclass
class RealStatistics:
    """What the metrics need from the real images, computed once: see :func:`real_statistics`."""

    mu: np.ndarray                   # (D,) mean feature
    sigma: np.ndarray                # (D, D) feature covariance
    class_mix: np.ndarray            # (K,) add-one smoothed predicted-class fractions (for the KL)
    class_histogram: np.ndarray      # (K,) plain predicted-class fractions (for reports)
    classifier_score: float
    n: int
    per_class: list | None = None    # K (mu, sigma) pairs of each class's features, given the real labels


def real_statistics(classifier, real_images, batch_size=500, splits=10, labels=None) -> RealStatistics:
    """Feature mean and covariance, class mix and classifier score of ``real_images``.

    real_images: uint8 ``(N, H, W)`` / ``(N, C, H, W)``, or floats in [-1, 1].
    labels: their true classes ``(N,)``, to judge a conditional G class by class; or None.
    """
    features, probs = _features_and_probs(classifier, real_images, batch_size)
    mu, sigma = feature_statistics(features)
    K = probs.shape[1]
    predicted = probs.argmax(axis=1)
    per_class = None if labels is None else class_statistics(features, labels, K)
    return RealStatistics(mu, sigma, reference_distribution(predicted, K), class_histogram(predicted, K),
                          classifier_score(probs, min(splits, len(probs)))[0], len(probs), per_class)


def evaluate_generator(generate_fn, classifier, real_images=None, n=10000, batch_size=500, *,
                       real_stats=None, splits=10, min_share=0.25, labels=None, real_labels=None) -> dict:
    """Fréchet distance, classifier score and mode coverage of ``n`` samples of ``generate_fn``.

    generate_fn: ``generate_fn(m)`` returns ``m`` images ``(m, C, H, W)`` in [-1, 1]
        on any backend (e.g. ``lambda m: trainer.generate(n=m)``); pictures of
        another size than the classifier's are resized (bilinear), e.g. 64x64
        samples of a dcgan64 trained on resized Fashion-MNIST.
    classifier: a :class:`~minigan.job.metrics.Classifier` (see :func:`load_or_train_classifier`).
    real_images: the real test set, uint8 ``(N, H, W)``; or pass ``real_stats`` from
        :func:`real_statistics` instead, to skip recomputing them.
    n, batch_size: how many samples, drawn how many at a time.
    splits: for the classifier score's mean and std. min_share: see :mod:`~minigan.job.metrics.score`.
    labels: a conditional G's asked-for classes, int ``(n,)``: then ``generate_fn(m, labels_of_batch)``,
        and the result adds :func:`~minigan.job.metrics.conditional_accuracy.conditional_measures`; the real side
        needs its labels too (``real_labels``, or ``real_stats`` made with them).
    """
    t0 = time.perf_counter()
    if real_stats is None:
        if real_images is None:
            raise ValueError("evaluate_generator: give real_images (the real test set) or real_stats")
        real_stats = real_statistics(classifier, real_images, batch_size, splits, real_labels)
    if n < 2:
        raise ValueError(f"evaluate_generator: need n >= 2 samples for a covariance, got {n}")
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (n,) or real_stats.per_class is None:
            raise ValueError(f"evaluate_generator: labels must be ({n},) ints, with the real images' labels "
                             f"(real_labels, or real_stats from real_statistics(..., labels=...))")
    feats, probs = [], []
    for start in range(0, n, batch_size):
        m = min(batch_size, n - start)
        asked = () if labels is None else (labels[start:start + m],)   # the classes this batch is asked for
        x = _check_samples(generate_fn(m, *asked), m, classifier.input_shape)
        f, p = _features_and_probs(classifier, x, batch_size)
        feats.append(f)
        probs.append(p)
    features, probs = np.concatenate(feats), np.concatenate(probs)       # (n, D), (n, K)

    mu, sigma = feature_statistics(features)
    score, score_std = classifier_score(probs, min(splits, n))
    conditional = {} if labels is None else conditional_measures(features, probs, labels, real_stats.per_class)
    return {
        "n": int(n),
        "frechet_distance": frechet_distance(mu, sigma, real_stats.mu, real_stats.sigma),
        "classifier_score": score,
        "classifier_score_std": score_std,
        "real_classifier_score": float(real_stats.classifier_score),
        **coverage(probs, real_stats.class_mix, min_share),
        "real_class_histogram": [float(v) for v in real_stats.class_histogram],
        "classifier_test_accuracy": getattr(classifier, "test_accuracy", None),
        **conditional,
        "seconds": time.perf_counter() - t0,
    }


def array_source(images):
    """A ``generate_fn`` that hands out ``images`` in order, for evaluating a fixed set of pictures.

    ``evaluate_generator(array_source(x), clf, real, n=len(x))`` scores saved
    samples (or, as the tests do, one half of a real test set against the other).
    """
    position = 0

    def generate_fn(m):
        nonlocal position
        if position + m > len(images):
            raise ValueError(f"array_source: asked for {position + m} images, only {len(images)} given")
        out = images[position:position + m]
        position += m
        return out

    return generate_fn


# -- helpers ----------------------------------------------------------------------------------

def _features_and_probs(classifier, x, batch_size):
    features = classifier.features(x, batch_size)                   # (N, D) float64
    return features, softmax(classifier.head(features))             # (N, K) p(y | x)


def _check_samples(x, m, input_shape):
    """``generate_fn``'s output as a NumPy batch the classifier can read, or a clear error."""
    shape = getattr(x, "shape", None)
    if shape is None or len(shape) not in (3, 4) or shape[0] != m:
        raise ValueError(f"evaluate_generator: generate_fn({m}) must return images ({m}, C, H, W), "
                         f"got {shape if shape is not None else type(x).__name__}")
    x = B.to_numpy(x)
    if x.ndim == 3:
        x = x[:, None]                                              # (m, H, W) -> (m, 1, H, W)
    if x.dtype != np.uint8:
        x = x.astype(np.float32, copy=False)
        if not np.all(np.isfinite(x)):
            raise ValueError("evaluate_generator: generate_fn returned NaN or inf pixels; "
                             "the generator has diverged, so there is nothing to measure")
    C, H, W = input_shape
    if x.shape[1] != C:
        raise ValueError(f"evaluate_generator: the samples have {x.shape[1]} channels, the classifier reads {C}")
    if x.shape[2:] != (H, W):
        x = resize_images(x, (H, W))
    return x


def resize_images(x, size):
    """Bilinear resize of ``(N, C, H, W)`` images to ``size = (H', W')``, one plane at a time (Pillow).

    uint8 stays uint8; anything else comes back float32.
    """
    N, C = x.shape[:2]
    out = np.empty((N, C, *size), dtype=np.uint8 if x.dtype == np.uint8 else np.float32)
    for i in range(N):
        for c in range(C):
            out[i, c] = resize_plane(x[i, c], size)
    return out
