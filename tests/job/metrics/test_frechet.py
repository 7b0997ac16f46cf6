import numpy as np
import pytest
from hypothesis import given, strategies as st

from minigan.job.metrics.frechet import (feature_statistics, frechet_distance, frechet_distance_of_features,
                                     sqrtm_psd, trace_sqrt_product)
from tests.strategies import seeds


def random_psd(rng, D, rank=None):
    """A random symmetric PSD (D, D) matrix of the given rank (full by default)."""
    A = rng.standard_normal((D, rank or D))
    return A @ A.T


@given(D=st.integers(1, 8), seed=seeds, singular=st.booleans())
def test_sqrtm_psd_squares_back_and_is_symmetric(D, seed, singular):
    rng = np.random.default_rng(seed)
    S = random_psd(rng, D, rank=max(1, D // 2) if singular else None)
    R = sqrtm_psd(S)
    np.testing.assert_allclose(R, R.T, atol=1e-12)
    np.testing.assert_allclose(R @ R, S, rtol=1e-9, atol=1e-9 * np.abs(S).max())
    assert np.linalg.eigvalsh(R).min() > -1e-7                      # the PSD root, not another one


@given(seed=seeds)
def test_trace_sqrt_product_matches_the_2x2_closed_form(seed):
    # For a 2x2 matrix A with eigenvalues l1, l2 >= 0: (sqrt l1 + sqrt l2)^2 = tr A + 2 sqrt(det A),
    # an oracle for Tr (S1 S2)^{1/2} that never forms a matrix root (S1 and S2 need not commute).
    rng = np.random.default_rng(seed)
    S1, S2 = random_psd(rng, 2), random_psd(rng, 2)
    A = S1 @ S2
    expected = np.sqrt(np.trace(A) + 2 * np.sqrt(max(np.linalg.det(S1) * np.linalg.det(S2), 0)))
    assert trace_sqrt_product(S1, S2) == pytest.approx(expected, rel=1e-9)


@given(D=st.integers(1, 8), seed=seeds)
def test_commuting_covariances_give_the_closed_form(D, seed):
    # S1 = Q diag(a) Q^T and S2 = Q diag(b) Q^T commute: FD = ||mu1 - mu2||^2 + sum (sqrt a - sqrt b)^2.
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((D, D)))
    a, b = rng.uniform(0, 3, D), rng.uniform(0, 3, D)
    mu1, mu2 = rng.standard_normal(D), rng.standard_normal(D)
    fd = frechet_distance(mu1, (Q * a) @ Q.T, mu2, (Q * b) @ Q.T)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert fd == pytest.approx(expected, rel=1e-8, abs=1e-10)


def test_one_dimensional_gaussians():
    # N(0, 1) vs N(3, 4): 3^2 + (1 - 2)^2 = 10, the squared W2 distance of two normals.
    assert frechet_distance(np.zeros(1), np.eye(1), np.full(1, 3.0), 4 * np.eye(1)) == pytest.approx(10.0)


@given(D=st.integers(1, 8), seed=seeds)
def test_symmetric_and_zero_for_identical_statistics(D, seed):
    rng = np.random.default_rng(seed)
    mu1, mu2 = rng.standard_normal(D), rng.standard_normal(D)
    S1, S2 = random_psd(rng, D), random_psd(rng, D, rank=1)
    # Square roots of eigenvalues near 0 (S2 is singular; S1 S1 squares S1's condition number) turn
    # rounding errors of eps into ~sqrt(eps) = 1.5e-8 relative: the accuracy the module docstring states.
    assert frechet_distance(mu1, S1, mu2, S2) == pytest.approx(frechet_distance(mu2, S2, mu1, S1), rel=1e-6)
    assert frechet_distance(mu1, S1, mu1, S1) == pytest.approx(0.0, abs=1e-6 * np.trace(S1))
    assert frechet_distance(mu1, S1, mu2, S2) >= 0


def test_identical_feature_sets_give_zero_and_samples_approach_the_population_value():
    rng = np.random.default_rng(0)
    f = rng.standard_normal((500, 6)) @ rng.standard_normal((6, 6))
    assert frechet_distance_of_features(f, f.copy()) == pytest.approx(0.0, abs=1e-9)
    # two large samples of N(0, I) and N(1, 4 I) in 4-D: population FD = 4 * 1 + 4 * (2 - 1)^2 = 8
    a, b = rng.standard_normal((20000, 4)), 1 + 2 * rng.standard_normal((20000, 4))
    assert frechet_distance_of_features(a, b) == pytest.approx(8.0, rel=0.03)


def test_feature_statistics_are_numpy_mean_and_unbiased_cov():
    f = np.random.default_rng(1).standard_normal((50, 3)).astype(np.float32)
    mu, sigma = feature_statistics(f)
    assert mu.dtype == sigma.dtype == np.float64
    np.testing.assert_allclose(mu, f.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(sigma, np.cov(f, rowvar=False), rtol=1e-6)


def test_bad_shapes_are_clear_errors():
    with pytest.raises(ValueError, match="N >= 2"):
        feature_statistics(np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"need mu \(D,\) and sigma \(D, D\)"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
