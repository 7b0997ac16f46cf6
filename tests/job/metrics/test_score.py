import numpy as np
import pytest
from hypothesis import given, strategies as st

from minigan.job.metrics.score import class_histogram, classifier_score, coverage, reference_distribution
from tests.strategies import seeds

K = 10
UNIFORM = np.full(K, 1 / K)


def confident(labels, K=K):
    """One-hot probabilities: a classifier sure of every sample."""
    return np.eye(K)[labels]


def test_score_is_K_for_sure_samples_spread_evenly_and_1_for_collapse():
    labels = np.arange(1000) % K
    assert classifier_score(confident(labels))[0] == pytest.approx(K)
    assert classifier_score(confident(np.full(1000, 3)))[0] == pytest.approx(1.0)
    assert classifier_score(np.full((1000, K), 1 / K))[0] == pytest.approx(1.0)    # every sample a shrug


@given(N=st.integers(10, 60), K=st.integers(2, 6), seed=seeds, splits=st.integers(1, 5))
def test_score_matches_the_definition_and_stays_between_1_and_K(N, K, seed, splits):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(K, 0.5), N)
    mean, std = classifier_score(p, splits)
    assert 1 - 1e-9 <= mean <= K + 1e-9 and std >= 0
    parts = np.array_split(p, splits)
    expected = [np.exp(np.mean(np.sum(q * np.log(q / q.mean(axis=0)), axis=1))) for q in parts]
    assert mean == pytest.approx(np.mean(expected), rel=1e-10)


def test_one_class_only_is_flagged_by_coverage():
    c = coverage(confident(np.full(500, 7)), UNIFORM)
    assert c["classes_present"] == 1
    assert c["class_kl"] == pytest.approx(np.log(K))                # as far from uniform as 10 classes get
    assert c["class_histogram"][7] == 1.0 and sum(c["class_histogram"]) == 1.0


def test_uniform_class_mix_has_zero_kl_and_every_class_present():
    c = coverage(confident(np.arange(1000) % K), UNIFORM)
    assert c["class_kl"] == pytest.approx(0.0, abs=1e-12) and c["classes_present"] == K
    assert all(isinstance(v, float) for v in c["class_histogram"])


def test_a_few_stray_predictions_do_not_count_as_a_class():
    labels = np.array([0] * 500 + [1] * 470 + [2] * 30)             # class 2 gets 3%, under a quarter of 1/3
    assert coverage(confident(labels, 3), np.full(3, 1 / 3))["classes_present"] == 2
    assert coverage(confident(labels, 3), np.full(3, 1 / 3), min_share=0.01)["classes_present"] == 3


def test_reference_distribution_is_smoothed_and_histogram_counts():
    q = reference_distribution(np.array([0, 0, 1]), 3)
    np.testing.assert_allclose(q, [3 / 6, 2 / 6, 1 / 6])             # (count + 1) / (N + K): no zero
    np.testing.assert_allclose(class_histogram(np.array([0, 0, 1]), 3), [2 / 3, 1 / 3, 0])


def test_bad_probabilities_are_clear_errors():
    with pytest.raises(ValueError, match="probability distribution"):
        classifier_score(np.ones((4, 3)))
    with pytest.raises(ValueError, match="splits must be between 1 and N"):
        classifier_score(np.full((4, 2), 0.5), splits=5)
    with pytest.raises(ValueError, match="reference must be 3 positive"):
        coverage(np.full((4, 3), 1 / 3), np.array([0.5, 0.5, 0.0]))
