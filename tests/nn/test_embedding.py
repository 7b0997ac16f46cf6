"""Embedding: lookup forward, scatter-add backward (repeated labels add up), no gradient for labels."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from minigan import backend as B
from minigan import nn
from tests.gradcheck import assert_close, numerical_gradient
from tests.strategies import seeds


@given(K=st.integers(1, 5), dim=st.integers(1, 4), shape=st.sampled_from([(1,), (3,), (6,), (2, 3)]), seed=seeds)
def test_embedding_weight_gradient_matches_finite_differences(K, dim, shape, seed):
    rng = np.random.default_rng(seed)
    emb = nn.Embedding(K, dim, dtype="float64", rng=rng)
    labels = rng.integers(0, K, shape)             # with 6 draws from <= 5 classes, labels repeat
    y = emb.forward(labels)
    assert y.shape == (*shape, dim)
    dy = rng.standard_normal(y.shape)

    def loss():
        return float(np.sum(emb.forward(labels) * dy))

    emb.zero_grad()
    emb.forward(labels)
    assert emb.backward(dy) is None                # labels are integers: no gradient to return
    assert_close(emb.grads["weight"].copy(), numerical_gradient(loss, emb.params["weight"]), "Embedding dL/dW")


def test_repeated_labels_add_up_like_a_loop():
    rng = np.random.default_rng(0)
    emb = nn.Embedding(4, 3, dtype="float64", rng=rng)
    labels = np.array([2, 0, 2, 2, 3])
    dy = rng.standard_normal((5, 3))
    emb.forward(labels)
    emb.backward(dy)
    expected = np.zeros((4, 3))
    for n, k in enumerate(labels):                 # the naive oracle: one row update per sample
        expected[k] += dy[n]
    np.testing.assert_allclose(emb.grads["weight"], expected)
    assert not expected[1].any() and np.allclose(expected[2], dy[0] + dy[2] + dy[3])
    emb.forward(labels)
    emb.backward(dy)                               # grads accumulate until zero_grad
    np.testing.assert_allclose(emb.grads["weight"], 2 * expected)


def test_forward_is_a_row_lookup_with_pytorchs_layout_and_init():
    emb = nn.Embedding(1000, 50, rng=0)
    W = emb.params["weight"]
    assert W.shape == (1000, 50) and W.dtype == np.float32
    assert abs(W.mean()) < 0.01 and abs(W.std() - 1) < 0.01          # N(0, 1), as torch.nn.Embedding
    np.testing.assert_array_equal(emb(np.array([7, 7, 3])), W[[7, 7, 3]])
    assert repr(emb) == "Embedding(1000, 50)"


def test_frozen_embedding_adds_no_gradient():
    emb = nn.Embedding(3, 2, rng=0).requires_grad_(False)
    emb.forward(np.array([0, 1]))
    emb.backward(np.ones((2, 2), np.float32))
    assert not emb.grads["weight"].any()


def test_matches_pytorch_when_torch_is_installed():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    emb = nn.Embedding(5, 4, dtype="float64", rng=rng)
    ref = torch.nn.Embedding(5, 4).double()
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(emb.params["weight"]))
    labels = np.array([[1, 4, 1], [0, 1, 3]])
    dy = rng.standard_normal((2, 3, 4))
    y_ref = ref(torch.from_numpy(labels))
    y_ref.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(emb.forward(labels), y_ref.detach().numpy(), rtol=1e-12)
    emb.backward(dy)
    np.testing.assert_allclose(emb.grads["weight"], ref.weight.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("labels, message", [
    (np.array([0.0, 1.0]), "labels must be an integer array, got float64"),
    ([0, 1], "labels must be an integer array, got list"),
    (np.array([0, 3]), r"labels must be in \[0, 3\), got values from 0 to 3"),
    (np.array([-1, 2]), r"labels must be in \[0, 3\), got values from -1 to 2"),
])
def test_bad_labels_are_clear_errors(labels, message):
    with pytest.raises(ValueError, match=r"Embedding\(3, 2\): " + message):
        nn.Embedding(3, 2, rng=0)(labels)


def test_bad_sizes_are_clear_errors():
    with pytest.raises(ValueError, match="num_embeddings and embedding_dim must be >= 1, got 0 and 2"):
        nn.Embedding(0, 2)


def test_runs_on_the_cupy_stand_in(fake_cupy):
    rng = np.random.default_rng(2)
    host = nn.Embedding(4, 3, dtype="float64", rng=3)
    device = nn.Embedding(4, 3, dtype="float64", rng=3).to("cupy")
    labels, dy = np.array([3, 1, 3]), rng.standard_normal((3, 3))
    with pytest.raises(ValueError, match="labels are a numpy array but the weight is on cupy"):
        device(labels)
    y = device(B.asarray(labels, "cupy"))
    assert isinstance(y, fake_cupy.ndarray)
    np.testing.assert_array_equal(B.to_numpy(y), host(labels))
    device.backward(B.asarray(dy, "cupy"))
    host.backward(dy)
    assert isinstance(device.grads["weight"], fake_cupy.ndarray)
    np.testing.assert_allclose(B.to_numpy(device.grads["weight"]), host.grads["weight"])
