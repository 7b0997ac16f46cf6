"""What the classifier's softmax says about a set of samples: quality, variety, and which classes.

All functions take ``probs (N, K)``: the classifier's ``p(y | x)`` for N samples
(rows summing to 1), as NumPy arrays, and return Python numbers.

Classifier score (the Inception Score of Salimans et al., 2016,
https://arxiv.org/abs/1606.03498, with our classifier in Inception's place)::

    p(y)  = mean_x p(y | x)                         the class mix of the whole set
    score = exp( mean_x KL( p(y|x) || p(y) ) )

It is high when each sample is *confidently* one class (``p(y|x)`` peaked)
and the set as a whole uses *many* classes (``p(y)`` flat): it ranges from 1
(every sample looks alike, or every sample is a shrug) to K (every sample is
sure of itself and the K classes are equally used). As in the paper, the N
samples are cut into ``splits`` parts and the mean and standard deviation of
the part scores are reported.

Mode coverage -- the histogram of predicted classes ``h_k`` (fraction of the
samples whose most probable class is k) against the real images' histogram
``q_k``::

    KL(h || q) = sum_k h_k log(h_k / q_k)           0 for a perfect class mix
                                                    log K for one class of K balanced ones

and the number of classes *present*: those with ``h_k >= min_share * q_k``
(by default a quarter of their real share: 2.5% of the samples for 10 balanced
classes), so a few misclassified samples do not count as covering a class.
A collapsed generator shows it at once: one class present, KL near log K.
"""
from __future__ import annotations

import numpy as np


def _kl_rows(p, q):
    """``sum_k p_k log(p_k / q_k)`` for each row of p, with ``0 log 0 = 0``."""
    p, q = np.broadcast_arrays(p, q)
    terms = np.zeros_like(p)
    nz = p > 0
    terms[nz] = p[nz] * (np.log(p[nz]) - np.log(q[nz]))
    return terms.sum(axis=-1)


def _check_probs(probs, name):
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or len(p) == 0:
        raise ValueError(f"{name}: probs must be (N, K) with N >= 1, got shape {p.shape}")
    if np.any(p < 0) or not np.allclose(p.sum(axis=1), 1, atol=1e-6):
        raise ValueError(f"{name}: each row of probs must be a probability distribution (>= 0, summing to 1)")
    return p


def classifier_score(probs, splits=10):
    """``(mean, std)`` of ``exp(mean_x KL(p(y|x) || p(y)))`` over ``splits`` equal parts of the samples.

    probs: ``(N, K)``, N >= splits. ``splits=1`` gives the score of the whole set and std 0.
    """
    p = _check_probs(probs, "classifier_score")
    if not 1 <= splits <= len(p):
        raise ValueError(f"classifier_score: splits must be between 1 and N = {len(p)}, got {splits}")
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(axis=0)                        # p(y) over this part, (K,)
        scores.append(np.exp(_kl_rows(part, marginal).mean()))
    return float(np.mean(scores)), float(np.std(scores))


def class_histogram(predicted, num_classes) -> np.ndarray:
    """Fraction of ``predicted`` (int class indices ``(N,)``) in each of ``num_classes`` classes, ``(K,)``."""
    predicted = np.asarray(predicted)
    return np.bincount(predicted, minlength=num_classes)[:num_classes] / max(len(predicted), 1)


def reference_distribution(predicted, num_classes) -> np.ndarray:
    """The real images' class mix ``q``, add-one smoothed: ``(count_k + 1) / (N + K)``.

    The smoothing keeps every ``q_k > 0``, so ``KL(h || q)`` stays finite even
    if a class never occurs among the real predictions (with 10,000 real
    images it moves each ``q_k`` by less than 1e-4).
    """
    counts = np.bincount(np.asarray(predicted), minlength=num_classes)[:num_classes]
    return (counts + 1) / (counts.sum() + num_classes)


def coverage(probs, reference, min_share=0.25) -> dict:
    """Mode coverage of samples with class probabilities ``probs (N, K)`` against a real class mix ``(K,)``.

    Returns ``{"class_histogram": [K floats], "class_kl": KL(h || q), "classes_present": int}``.
    """
    p = _check_probs(probs, "coverage")
    q = np.asarray(reference, dtype=np.float64)
    if q.shape != (p.shape[1],) or np.any(q <= 0):
        raise ValueError(f"coverage: reference must be {p.shape[1]} positive class fractions, got {q}")
    q = q / q.sum()
    h = class_histogram(p.argmax(axis=1), p.shape[1])      # (K,) fractions of the samples
    return {
        "class_histogram": [float(v) for v in h],
        "class_kl": float(_kl_rows(h, q)),
        "classes_present": int(np.sum((h > 0) & (h >= min_share * q))),
    }
