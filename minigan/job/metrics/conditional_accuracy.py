"""Does a conditional G draw the class it is asked for? Conditional accuracy and the Fréchet distance per class.

A conditional generator is asked for class y with each sample. Two questions,
answered with the same classifier that judges unconditional samples
(``classifier.py``):

**Conditional accuracy**: the fraction of samples the classifier assigns to the
class they were asked for, overall and for each class::

    accuracy_k = #{ samples asked for class k and classified as k } / #{ samples asked for class k }

A G that ignores its label scores about 1/K (chance); one that draws every
class perfectly scores about the classifier's own test accuracy, not 100%
(the classifier makes mistakes on real pictures too).

**The Fréchet distance within each class** (``frechet.py``): the samples asked
for class k against the real test pictures *of* class k, in the classifier's
feature space. The overall FD can be low while classes are swapped (a "7"
that looks like a perfect 1); each class's own FD cannot. It needs at least
two samples per class; with few, it is biased upwards (as the overall FD),
so compare only runs judged with the same number of samples.
"""
from __future__ import annotations

import numpy as np

from .frechet import feature_statistics, frechet_distance


def class_statistics(features, labels, num_classes: int) -> list:
    """Per class k, the mean ``(D,)`` and covariance ``(D, D)`` of the features of the samples labelled k.

    features: ``(N, D)``; labels: int ``(N,)``. A class with fewer than two samples gets None.
    """
    labels = np.asarray(labels)
    return [feature_statistics(features[labels == k]) if np.sum(labels == k) >= 2 else None
            for k in range(num_classes)]


def conditional_accuracy(predicted, asked, num_classes: int) -> tuple[float, list]:
    """``(overall, per_class)``: the share of samples whose predicted class is the one asked for.

    predicted, asked: int ``(N,)``. ``per_class[k]`` is NaN for a class never asked for.
    """
    predicted, asked = np.asarray(predicted), np.asarray(asked)
    hit = predicted == asked                                              # (N,) bool
    per_class = [float(hit[asked == k].mean()) if np.any(asked == k) else float("nan")
                 for k in range(num_classes)]
    return float(hit.mean()), per_class


def conditional_measures(features, probs, asked, real_per_class) -> dict:
    """The conditional entries of an evaluation, as plain Python numbers (ready for JSON and CSV)::

        conditional_accuracy         share of the samples classified as the class asked for
        class_accuracy               the same for each class asked for (K floats)
        class_frechet_distance       FD of the samples asked for class k to the real pictures of class k (K)
        mean_class_frechet_distance  their mean over the classes

    features ``(N, D)`` and probs ``(N, K)``: the classifier's view of the samples; asked: int
    ``(N,)``, the classes they were asked for; real_per_class: :func:`class_statistics` of the real pictures.
    """
    K = probs.shape[1]
    overall, per_class = conditional_accuracy(probs.argmax(axis=1), asked, K)
    fake_per_class = class_statistics(features, asked, K)
    fds = [frechet_distance(*fake, *real) if fake is not None and real is not None else float("nan")
           for fake, real in zip(fake_per_class, real_per_class)]
    return {"conditional_accuracy": overall, "class_accuracy": per_class,
            "class_frechet_distance": fds, "mean_class_frechet_distance": float(np.nanmean(fds))
            if not np.all(np.isnan(fds)) else float("nan")}
