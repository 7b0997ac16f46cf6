import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

from minigan import backend as B
from minigan.losses import softmax_cross_entropy
from minigan.job.metrics import Classifier, accuracy, to_input
from tests.gradcheck import assert_close, batchnorm_margin, kink_margin, numerical_gradient
from tests.job.metrics.conftest import toy_dataset
from tests.strategies import seeds


@settings(max_examples=5)
@given(image_size=st.integers(5, 9), N=st.integers(2, 3), seed=seeds)
def test_classifier_loss_gradient_matches_finite_differences(image_size, N, seed):
    # The whole training signal: softmax CE -> head -> BatchNorm1d -> Linear -> ... -> first conv,
    # checked in float64 for the input and every parameter (BatchNorm in training mode).
    rng = np.random.default_rng(seed)
    clf = Classifier(2, image_size, num_classes=3, widths=(2, 3, 2), hidden=4, dtype="float64", seed=seed)
    x = rng.standard_normal((N, 2, image_size, image_size))
    y = rng.integers(0, 3, N)
    c = rng.standard_normal()                           # a random upstream gradient of the scalar loss
    assume(kink_margin(clf, x) > 1e-4)                  # finite differences must not straddle a ReLU kink,
    assume(batchnorm_margin(clf, x) > 1e-5)             # nor a BatchNorm over values that (nearly) coincide

    def loss():
        return c * softmax_cross_entropy(clf.forward(x), y)[0]

    clf.zero_grad()
    _, dlogits = softmax_cross_entropy(clf.forward(x), y)
    dx = clf.backward(c * dlogits)
    assert_close(dx, numerical_gradient(loss, x), "classifier dL/dx", rtol=1e-5)
    for name, p, g in list(clf.parameters()):
        assert_close(g.copy(), numerical_gradient(loss, p), f"classifier dL/d{name}", rtol=1e-5)


def test_features_shapes_and_probabilities():
    clf = Classifier(widths=(4, 8, 8), hidden=16, seed=0)
    images, _ = toy_dataset(7, seed=0)                       # uint8 (7, 28, 28)
    f = clf.features(images, batch_size=3)                   # three batches: 3 + 3 + 1
    assert f.shape == (7, 16) and f.dtype == np.float64 and np.all(f >= 0)   # after a ReLU
    p = clf.predict_proba(images)
    assert p.shape == (7, 10)
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(images), p.argmax(axis=1))
    assert clf.input_shape == (1, 28, 28) and clf.features(images[:0]).shape == (0, 16)


def test_features_use_eval_mode_and_leave_the_training_state_alone():
    clf = Classifier(widths=(4, 8, 8), hidden=16, seed=0).train()
    images, _ = toy_dataset(6, seed=1)
    before = {k: v.copy() for k, v in clf.state_dict().items()}
    one_by_one = np.concatenate([clf.features(images[i:i + 1]) for i in range(6)])
    np.testing.assert_allclose(clf.features(images), one_by_one, rtol=1e-5, atol=1e-6)  # no batch effects
    assert clf.training and all(m.training for _, m in clf.named_modules())
    for k, v in clf.state_dict().items():                    # running statistics untouched
        np.testing.assert_array_equal(v, before[k])


def test_uint8_and_scaled_float_inputs_give_the_same_features():
    clf = Classifier(widths=(4, 8, 8), hidden=16, seed=0)
    images, _ = toy_dataset(4, seed=2)
    x = to_input(images)
    assert x.shape == (4, 1, 28, 28) and x.dtype == np.float32 and x.min() >= -1 and x.max() <= 1
    np.testing.assert_allclose(x, images[:, None] / 127.5 - 1, rtol=1e-6)
    np.testing.assert_allclose(clf.features(images), clf.features(x.astype(np.float64)), rtol=1e-6)


def test_trained_toy_classifier_is_accurate(toy_classifier):
    images, labels = toy_dataset(500, seed=5)
    assert accuracy(toy_classifier, images, labels) > 0.95
    assert not toy_classifier.training


def test_image_too_small_is_a_clear_error():
    with pytest.raises(ValueError, match="Classifier: image_size 1 is too small for three strided convolutions"):
        Classifier(image_size=1)


def test_features_leave_the_caches_as_they_were():
    """The eval passes' caches (tens of MB per batch) are not kept: each layer's cache is put back."""
    clf = Classifier(widths=(4, 8, 8), hidden=16, seed=0)
    images, _ = toy_dataset(4, seed=3)
    clf.features(images)
    assert all(m.cache is None for _, m in clf.named_modules())
    clf.train().forward(to_input(images))                  # a training pass, its backward still to come
    before = {name: m.cache for name, m in clf.named_modules()}
    clf.features(images)
    assert all(m.cache is before[name] for name, m in clf.named_modules())


@pytest.mark.skipif("cupy" not in B.available(), reason="needs CuPy and a GPU")
def test_cupy_features_match_numpy():
    clf = Classifier(widths=(4, 8, 8), hidden=16, seed=0)
    images, _ = toy_dataset(8, seed=3)
    expected = clf.features(images)
    np.testing.assert_allclose(clf.to("cupy").features(images), expected, rtol=1e-4, atol=1e-5)
