"""Conditional accuracy and the Fréchet distance within each class (minigan/job/metrics/conditional_accuracy.py)."""
import numpy as np
import pytest

from minigan.job.metrics import conditional_accuracy, conditional_measures, evaluate_generator, real_statistics
from minigan.job.metrics.frechet import frechet_distance_of_features

from .conftest import toy_dataset, toy_images


def test_conditional_accuracy_counts_the_samples_drawn_as_asked():
    asked = np.array([0, 0, 1, 1, 1, 2])
    predicted = np.array([0, 1, 1, 1, 0, 0])
    overall, per_class = conditional_accuracy(predicted, asked, 4)
    assert overall == pytest.approx(3 / 6)
    assert per_class[:3] == pytest.approx([1 / 2, 2 / 3, 0.0]) and np.isnan(per_class[3])   # 3: never asked


def test_the_fd_within_a_class_compares_it_with_its_own_real_pictures():
    rng = np.random.default_rng(0)
    real = [rng.normal(k, 1, (400, 3)) for k in range(2)]              # class k's features around k
    fake = [rng.normal(k, 1, (300, 3)) for k in (0, 5)]                 # class 1 drawn badly
    per_class = [(f.mean(0), np.cov(f, rowvar=False)) for f in real]
    features, asked = np.concatenate(fake), np.repeat([0, 1], 300)
    probs = np.eye(2)[[0] * 300 + [0] * 300]                            # everything classified as class 0
    r = conditional_measures(features, probs, asked, per_class)
    assert r["conditional_accuracy"] == 0.5 and r["class_accuracy"] == [1.0, 0.0]
    for k in range(2):
        assert r["class_frechet_distance"][k] == pytest.approx(frechet_distance_of_features(fake[k], real[k]))
    assert r["class_frechet_distance"][0] < 0.2 < 40 < r["class_frechet_distance"][1]
    assert r["mean_class_frechet_distance"] == pytest.approx(np.mean(r["class_frechet_distance"]))


def test_a_generator_that_draws_the_asked_class_scores_high_and_one_that_ignores_it_scores_chance(toy_classifier):
    real, real_labels = toy_dataset(1000, seed=1)
    stats = real_statistics(toy_classifier, real, labels=real_labels)
    asked = np.arange(500) % 10
    rng = np.random.default_rng(2)
    obeys = lambda m, y: toy_images(y, rng)                              # noqa: E731  draws class y
    ignores = lambda m, y: toy_images(rng.permutation(y), rng)           # noqa: E731  draws some class
    good = evaluate_generator(obeys, toy_classifier, n=500, batch_size=128, real_stats=stats, labels=asked)
    bad = evaluate_generator(ignores, toy_classifier, n=500, batch_size=128, real_stats=stats, labels=asked)
    assert good["conditional_accuracy"] > 0.95 and min(good["class_accuracy"]) > 0.8
    assert bad["conditional_accuracy"] < 0.3                             # about 1/10
    assert good["mean_class_frechet_distance"] < bad["mean_class_frechet_distance"]
    assert good["frechet_distance"] == pytest.approx(bad["frechet_distance"], rel=0.5)   # the overall FD can't tell
    assert len(good["class_frechet_distance"]) == 10
    unconditional = evaluate_generator(lambda m: toy_images(rng.integers(0, 10, m), rng), toy_classifier, n=100,
                                       real_stats=stats)
    assert "conditional_accuracy" not in unconditional
    with pytest.raises(ValueError, match=r"labels must be \(500,\) ints, with the real images' labels"):
        evaluate_generator(obeys, toy_classifier, real[:100], n=500, labels=asked)
