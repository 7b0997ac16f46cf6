"""Mode collapse, counted: the measures of the 2D and Stacked MNIST tables of PacGAN and VEEGAN.

**2D mixtures** (ring, grid; :mod:`minigan.job.data.points`), over 2,500 samples of G
(VEEGAN's notebook, PacGAN's code)::

    nearest(x)     = argmin_k ||x - mu_k||                the mode a sample is closest to
    high quality   : ||x - mu_nearest(x)|| <= 3 std       within 3 standard deviations of it
    captured(k)    : k is the nearest mode of >= 1 high-quality sample
    % high quality = 100 * (high-quality samples) / (all samples)
    q_k            = share of the high-quality samples whose nearest mode is k   (the per-mode histogram)
    reverse KL     = KL(q || uniform) = sum_k q_k log(K q_k)  (0 log 0 = 0): 0 when every mode is
                     equally hit, ln K when all high-quality samples sit on one mode

A perfect sampler scores 98.9% high quality: P(||e|| <= 3 std) = 1 - exp(-9/2) for a
2D Gaussian error e. (The notes name the 2D reverse-KL formula unconfirmed in the
papers' prose; this is the histogram form their code computes.)

**Stacked MNIST** (:mod:`minigan.job.data.stacked_mnist`), over 26,000 samples: each of
the three channels is read by minigan's digit classifier (:mod:`.classifier`), a
picture's mode is its triple ``100 d_R + 10 d_G + d_B``::

    modes  = how many of the 1,000 triples occur
    KL     = KL(p || uniform over 1,000) = sum_t p_t log(1000 p_t), in nats
"""
from __future__ import annotations

import numpy as np

from ... import backend as B

HQ_STDS = 3.0                                     # "high quality": within 3 standard deviations
SAMPLES_2D = 2_500                                # the papers' sample count for the 2D tables
SAMPLES_STACKED = 26_000                          # and for Stacked MNIST
STACKED_MODES = 1_000


def nearest_modes(samples, modes) -> tuple[np.ndarray, np.ndarray]:
    """``(index (n,), distance (n,))`` of each sample's nearest mode; samples ``(n, 2)``, modes ``(K, 2)``."""
    samples = np.asarray(B.to_numpy(samples), dtype=np.float64).reshape(len(samples), -1)
    d = np.linalg.norm(samples[:, None, :] - np.asarray(modes)[None, :, :], axis=2)   # (n, K)
    k = d.argmin(axis=1)
    return k, d[np.arange(len(samples)), k]


def reverse_kl(counts) -> float:
    """``sum_k q_k log(K q_k)`` for ``q = counts / sum(counts)``; 0 log 0 = 0. ln K if ``counts`` are all 0."""
    counts = np.asarray(counts, dtype=np.float64)
    K, total = len(counts), counts.sum()
    if total == 0:
        return float(np.log(K))                   # nothing of high quality: as bad as one mode
    q = counts[counts > 0] / total
    return float(np.sum(q * np.log(K * q)))


def mode_measures(samples, modes, std) -> dict:
    """The 2D table's row for ``samples`` (n, 2) of a mixture with ``modes`` (K, 2) and ``std``.

    Returns ``{"modes": captured (int), "high_quality": % (float), "reverse_kl": float, "histogram": (K,) ints}``.
    """
    nearest, distance = nearest_modes(samples, modes)
    good = distance <= HQ_STDS * std                                  # (n,) high quality
    histogram = np.bincount(nearest[good], minlength=len(modes))      # (K,) high-quality samples per mode
    return {"modes": int((histogram > 0).sum()), "high_quality": 100.0 * float(good.mean()),
            "reverse_kl": reverse_kl(histogram), "histogram": histogram}


def stacked_modes(classifier, pictures, batch_size=500) -> np.ndarray:
    """The mode ``100 d_R + 10 d_G + d_B`` of each picture ``(n, 3, 28, 28)`` in [-1, 1], as int64 ``(n,)``.

    Each channel goes through the one-channel digit classifier on its own.
    """
    n = len(pictures)
    digits = [B.to_numpy(classifier.predict(pictures[:, c:c + 1], batch_size)).astype(np.int64)
              for c in range(3)]                                      # three (n,) digit arrays
    return digits[0] * 100 + digits[1] * 10 + digits[2] if n else np.zeros(0, np.int64)


def stacked_measures(triples) -> dict:
    """``{"modes": distinct triples, "kl": KL(p || uniform over 1,000) in nats}`` for int triples ``(n,)``."""
    counts = np.bincount(np.asarray(triples, dtype=np.int64), minlength=STACKED_MODES)
    return {"modes": int((counts > 0).sum()), "kl": reverse_kl(counts)}
