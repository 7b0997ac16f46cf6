import json

import numpy as np
import pytest

from minigan.job.data import DatasetError, load_fashion_mnist
from minigan.job.metrics import Classifier, array_source, evaluate_generator, real_statistics, train_classifier
from tests.job.metrics.conftest import toy_dataset, toy_images


@pytest.fixture(scope="module")
def toy_real(toy_classifier):
    """Two independent halves of a toy test set, and the statistics of the first."""
    images, _ = toy_dataset(4000, seed=1)
    a, b = images[:2000], images[2000:]
    return a, b, real_statistics(toy_classifier, a)


def noise_fn(seed):
    rng = np.random.default_rng(seed)
    return lambda m: rng.uniform(-1, 1, (m, 1, 28, 28)).astype(np.float32)


def test_real_vs_real_is_near_zero_and_real_vs_noise_is_large(toy_classifier, toy_real):
    a, b, stats = toy_real
    real = evaluate_generator(array_source(b), toy_classifier, real_stats=stats, n=2000, batch_size=400)
    noise = evaluate_generator(noise_fn(0), toy_classifier, real_stats=stats, n=2000, batch_size=400)
    scale = np.trace(stats.sigma)                            # the real features' total variance
    assert real["frechet_distance"] < 0.01 * scale
    assert noise["frechet_distance"] > 0.5 * scale
    assert noise["frechet_distance"] > 50 * real["frechet_distance"]
    assert real["classes_present"] == 10 and real["class_kl"] < 0.01
    assert real["classifier_score"] == pytest.approx(real["real_classifier_score"], rel=0.05)
    assert noise["classifier_score"] < real["classifier_score"]


def test_a_one_class_generator_is_flagged(toy_classifier, toy_real):
    _, _, stats = toy_real
    rng = np.random.default_rng(2)
    one_class = lambda m: toy_images(np.full(m, 3), rng)    # noqa: E731  -- every sample is class 3
    r = evaluate_generator(one_class, toy_classifier, real_stats=stats, n=1000, batch_size=250)
    assert r["classes_present"] == 1 and r["class_histogram"][3] == 1.0
    assert r["class_kl"] > 2.0                              # log 10 = 2.30 for total collapse
    assert r["classifier_score"] < 1.1
    assert r["frechet_distance"] > 0.5 * np.trace(stats.sigma)


def test_result_is_plain_json_and_real_images_or_stats_give_the_same(toy_classifier, toy_real):
    a, b, stats = toy_real
    r1 = evaluate_generator(array_source(b), toy_classifier, a, n=500)
    r2 = evaluate_generator(array_source(b), toy_classifier, real_stats=stats, n=500)
    json.dumps(r1)
    for k in ("frechet_distance", "classifier_score", "class_kl", "classes_present", "class_histogram"):
        assert r1[k] == pytest.approx(r2[k], rel=1e-9)
    assert r1["n"] == 500 and len(r1["class_histogram"]) == len(r1["real_class_histogram"]) == 10
    assert all(type(r1[k]) is float for k in ("frechet_distance", "classifier_score", "class_kl"))


def test_larger_samples_are_resized_and_generate_fn_is_called_in_batches(toy_classifier, toy_real):
    a, b, stats = toy_real
    sizes = []
    big = np.repeat(np.repeat(b[:300], 2, axis=1), 2, axis=2)   # 56x56 versions of real pictures

    def generate(m):
        sizes.append(m)
        out = big[sum(sizes) - m:sum(sizes)]
        return out[:, None].astype(np.float32) / 127.5 - 1
    r = evaluate_generator(generate, toy_classifier, real_stats=stats, n=300, batch_size=128)
    assert sizes == [128, 128, 44]
    assert r["classes_present"] == 10 and r["frechet_distance"] < 0.05 * np.trace(stats.sigma)


@pytest.mark.parametrize("fn, needle", [
    (lambda m: np.zeros((m + 1, 1, 28, 28)), r"must return images \(\d+, C, H, W\)"),
    (lambda m: np.full((m, 1, 28, 28), np.nan), "NaN or inf"),
    (lambda m: np.zeros((m, 3, 28, 28)), "3 channels, the classifier reads 1"),
])
def test_bad_generator_output_is_a_clear_error(toy_classifier, toy_real, fn, needle):
    with pytest.raises(ValueError, match=needle):
        evaluate_generator(fn, toy_classifier, real_stats=toy_real[2], n=10)


def test_missing_real_images_is_a_clear_error(toy_classifier):
    with pytest.raises(ValueError, match="give real_images"):
        evaluate_generator(noise_fn(0), toy_classifier, n=10)


def test_fashion_mnist_test_halves_are_close_and_noise_is_far():
    # The same check on real pictures: a narrow classifier trained for one epoch on 4,000
    # Fashion-MNIST training images, then two halves of 2,000 test images against each other.
    try:
        train, train_labels = load_fashion_mnist(download=False)
        test, test_labels = load_fashion_mnist(train=False, download=False)
    except DatasetError:
        pytest.skip("Fashion-MNIST is not installed (apt install dataset-fashion-mnist)")
    clf = train_classifier(train[:4000], train_labels[:4000], epochs=1, batch_size=32, lr=3e-3,
                           classifier=Classifier(widths=(8, 8, 16), hidden=32), progress=False)
    stats = real_statistics(clf, test[:2000])
    real = evaluate_generator(array_source(test[2000:4000]), clf, real_stats=stats, n=2000)
    noise = evaluate_generator(noise_fn(1), clf, real_stats=stats, n=2000)
    assert real["frechet_distance"] < 0.02 * noise["frechet_distance"]
    assert real["classes_present"] == 10 and real["class_kl"] < 0.02
    sneakers = test[test_labels == 7]                                   # a generator that draws only sneakers
    one = evaluate_generator(array_source(sneakers), clf, real_stats=stats, n=len(sneakers))
    assert one["class_kl"] > 1.5 and one["classes_present"] < 5       # this quick judge confuses some shoes
    assert one["frechet_distance"] > 20 * real["frechet_distance"]


def test_array_source_says_when_it_runs_out():
    fn = array_source(np.zeros((5, 1, 28, 28), np.uint8))
    assert fn(3).shape == (3, 1, 28, 28)
    with pytest.raises(ValueError, match=r"array_source: asked for 6 images, only 5 given"):
        fn(3)
