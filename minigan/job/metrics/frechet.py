"""The Fréchet distance between two clouds of feature vectors: the "FD" of FID.

Fit a Gaussian to each cloud -- mean ``mu`` and covariance ``S`` of the
classifier's features of the real images and of the generated ones -- and
measure how far apart the two Gaussians are (Dowson & Landau, 1982; the
squared 2-Wasserstein distance between Gaussians)::

    FD = ||mu1 - mu2||^2 + Tr( S1 + S2 - 2 (S1 S2)^{1/2} )

The first term sees a shifted average picture, the second a wrong spread: a
generator that draws one good picture over and over has the right kind of
features but a covariance near 0, and pays for it. FD is 0 exactly when the
two Gaussians coincide, is symmetric in its arguments, and is in squared
feature units (so only numbers from the same classifier can be compared).

The matrix square root, without SciPy
-------------------------------------
``S1 S2`` is not symmetric, so the textbook route (``scipy.linalg.sqrtm``, a
Schur decomposition in complex numbers) returns complex results with tiny
imaginary parts that FID code has to throw away. We need only the *trace* of
the root, and that has a symmetric form. Let ``R = S1^{1/2}``, the symmetric
PSD root of ``S1`` (from its eigendecomposition ``S1 = V diag(l) V^T``,
``R = V diag(sqrt(l)) V^T``). Then

    S1 S2 = R (R S2)    and    M = (R S2) R = R S2 R

are products ``AB`` and ``BA`` of the same two matrices, which always have the
same eigenvalues. ``M = R S2 R`` is symmetric and PSD (``v^T M v = (Rv)^T S2 (Rv) >= 0``),
so those eigenvalues ``e_i`` are real and >= 0, and::

    Tr (S1 S2)^{1/2} = sum_i sqrt(e_i),   e_i = eigvalsh(R S2 R)

Two symmetric eigendecompositions (``numpy.linalg.eigh``, backward-stable),
no complex numbers, no inverse of a possibly singular ``S1``. Everything is
done in float64.

Singular covariances are the rule, not the exception (a ReLU unit that never
fires has variance 0), and they are where square roots are delicate: rounding
leaves an eigenvalue that should be 0 at, say, 1e-16 * max, and its square root
1e-8 * sqrt(max) is a much larger error. So eigenvalues below
``D * eps * max`` -- the tolerance ``numpy.linalg.matrix_rank`` uses to call
them zero -- are set to exactly 0 before the root (negative ones included).
What remains is the limit of any matrix square root in floating point: near
a zero eigenvalue an error of eps becomes one of sqrt(eps), so FD is good to
about 1e-8 of ``Tr S`` -- far below any difference between two generators.
"""
from __future__ import annotations

import numpy as np


def feature_statistics(features):
    """Mean ``(D,)`` and covariance ``(D, D)`` of ``features (N, D)``, in float64.

    The covariance is the unbiased one (divides by N - 1), as ``numpy.cov`` and
    the reference FID code compute it. Needs N >= 2.
    """
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"feature_statistics: need features (N, D) with N >= 2, got shape {f.shape}")
    mu = f.mean(axis=0)                                   # (D,)
    fc = f - mu                                           # (N, D) centred
    sigma = fc.T @ fc / (len(f) - 1)                      # (D, D)
    return mu, sigma


def _sqrt_eigenvalues(l):
    """``sqrt(l)`` for the eigenvalues of a PSD matrix, rounding noise below ``D * eps * max`` set to 0."""
    tol = len(l) * np.finfo(np.float64).eps * max(float(np.abs(l).max(initial=0)), 0.0)
    return np.sqrt(np.where(l > tol, l, 0.0))


def sqrtm_psd(S):
    """The symmetric PSD square root of a symmetric PSD matrix: ``R @ R == S``, ``R == R.T``.

    ``S = V diag(l) V^T``  ->  ``R = V diag(sqrt(l)) V^T``.
    """
    S = np.asarray(S, dtype=np.float64)
    l, V = np.linalg.eigh((S + S.T) / 2)                  # symmetrize away rounding asymmetry first
    return (V * _sqrt_eigenvalues(l)) @ V.T               # V diag(sqrt l) V^T, columns scaled


def trace_sqrt_product(S1, S2):
    """``Tr (S1 S2)^{1/2}`` for symmetric PSD ``S1``, ``S2``, as the sum of sqrt(eigvalsh(R S2 R)), R = S1^{1/2}."""
    R = sqrtm_psd(S1)
    M = R @ np.asarray(S2, dtype=np.float64) @ R          # symmetric PSD, same eigenvalues as S1 S2
    return float(_sqrt_eigenvalues(np.linalg.eigvalsh((M + M.T) / 2)).sum())


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """``||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^{1/2})`` between N(mu1, S1) and N(mu2, S2).

    mu: ``(D,)``, sigma: ``(D, D)`` symmetric PSD. Returns a Python float >= 0
    (rounding can make it a hair below 0 for identical inputs; it is clipped).
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    D = mu1.shape[0]
    if mu1.shape != (D,) or mu2.shape != (D,) or sigma1.shape != (D, D) or sigma2.shape != (D, D):
        raise ValueError(f"frechet_distance: need mu (D,) and sigma (D, D) for both sets, got "
                         f"{mu1.shape}, {sigma1.shape}, {mu2.shape}, {sigma2.shape}")
    diff = mu1 - mu2
    fd = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt_product(sigma1, sigma2)
    return max(float(fd), 0.0)


def frechet_distance_of_features(features1, features2) -> float:
    """Fréchet distance between the Gaussians fitted to two feature sets ``(N1, D)`` and ``(N2, D)``."""
    return frechet_distance(*feature_statistics(features1), *feature_statistics(features2))
