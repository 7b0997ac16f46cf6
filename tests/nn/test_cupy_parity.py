"""NumPy and CuPy run the same code; on a GPU machine they must give the same numbers."""
import numpy as np
import pytest

from minigan import backend, nn

pytestmark = pytest.mark.skipif("cupy" not in backend.available(), reason="needs CuPy and a GPU")


def test_forward_and_backward_match_between_numpy_and_cupy():
    rng = np.random.default_rng(0)
    net = nn.Sequential(
        nn.ConvTranspose2d(4, 6, 4, 2, 1, dtype="float64", rng=rng), nn.BatchNorm2d(6, dtype="float64"), nn.ReLU(),
        nn.Conv2d(6, 3, 3, 2, 1, dtype="float64", rng=rng), nn.LeakyReLU(0.2), nn.Tanh(), nn.Flatten(),
        nn.Linear(3 * 4 * 4, 2, dtype="float64", rng=rng), nn.BatchNorm1d(2, dtype="float64"), nn.Sigmoid(),
    )
    x = rng.standard_normal((5, 4, 4, 4))
    dy = rng.standard_normal((5, 2))
    y_cpu = net(x)
    dx_cpu = net.backward(dy)
    grads_cpu = {k: g.copy() for k, g in net.grads.items()}

    net.zero_grad()
    net.to("cupy")
    y_gpu = net(backend.asarray(x, "cupy"))
    dx_gpu = net.backward(backend.asarray(dy, "cupy"))
    np.testing.assert_allclose(backend.to_numpy(y_gpu), y_cpu, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(dx_gpu), dx_cpu, rtol=1e-10, atol=1e-12)
    for k, g in net.grads.items():
        np.testing.assert_allclose(backend.to_numpy(g), grads_cpu[k], rtol=1e-10, atol=1e-12, err_msg=k)
    assert backend.backend_name(net.state_dict()["0.weight"]) == "numpy"


def test_numpy_input_to_cupy_module_is_a_clear_error():
    layer = nn.Conv2d(1, 1, 3).to("cupy")
    with pytest.raises(ValueError, match="input is a numpy array but the parameters are on cupy"):
        layer(np.zeros((1, 1, 5, 5), np.float32))


# ---------------------------------------------------------------------------- every layer, every pass
# Each runs on the plain path and on the fast one (tests/nn/conftest.py): on a GPU, CuPy must give
# NumPy's numbers in float64 for forward, backward (dx and every gradient) and the penalties' tangent
# pass (tangent and the weight product at a tangent input).
def _conv(rng, *a, **k):
    return nn.Conv2d(*a, dtype="float64", rng=rng, **k)


def _convt(rng, *a, **k):
    return nn.ConvTranspose2d(*a, dtype="float64", rng=rng, **k)


LAYERS = {                                                    # name: (make(rng), input shape, has a tangent)
    "Conv2d k4 s2 p1": (lambda rng: _conv(rng, 3, 4, 4, 2, 1), (5, 3, 8, 8), True),
    "Conv2d k3 s1 p1": (lambda rng: _conv(rng, 3, 4, 3, 1, 1), (5, 3, 6, 6), True),
    "Conv2d whole image": (lambda rng: _conv(rng, 3, 1, 4, 1, 0, bias=False), (5, 3, 4, 4), True),
    "ConvTranspose2d k4 s2 p1": (lambda rng: _convt(rng, 3, 4, 4, 2, 1), (5, 3, 4, 4), False),
    "ConvTranspose2d first layer": (lambda rng: _convt(rng, 6, 3, 4, 1, 0, bias=False), (5, 6, 1, 1), False),
    "ConvTranspose2d output_padding": (lambda rng: _convt(rng, 2, 3, 3, 2, 1, 1), (5, 2, 3, 3), False),
    "Linear": (lambda rng: nn.Linear(7, 4, dtype="float64", rng=rng), (5, 7), True),
    "Maxout": (lambda rng: nn.Maxout(7, 4, 3, dtype="float64", rng=rng), (5, 7), True),
    "BatchNorm2d": (lambda rng: nn.BatchNorm2d(3, dtype="float64"), (5, 3, 4, 4), False),
    "BatchNorm2d eval": (lambda rng: nn.BatchNorm2d(3, dtype="float64").eval(), (5, 3, 4, 4), False),
    "BatchNorm1d": (lambda rng: nn.BatchNorm1d(6, dtype="float64"), (5, 6), False),
    "ReLU": (lambda rng: nn.ReLU(), (5, 3, 4, 4), True),
    "LeakyReLU": (lambda rng: nn.LeakyReLU(0.2), (5, 3, 4, 4), True),
    "Tanh": (lambda rng: nn.Tanh(), (5, 3, 4, 4), False),
    "Sigmoid": (lambda rng: nn.Sigmoid(), (5, 3), False),
    "Flatten": (lambda rng: nn.Flatten(), (5, 3, 2, 2), True),
    "Reshape": (lambda rng: nn.Reshape(3, 2, 2), (5, 12), True),
    "SpectralNorm(Conv2d)": (lambda rng: nn.SpectralNorm(_conv(rng, 3, 4, 4, 2, 1)), (5, 3, 8, 8), True),
    "SpectralNorm(Linear)": (lambda rng: nn.SpectralNorm(nn.Linear(7, 4, dtype="float64", rng=rng)), (5, 7), True),
    "SpectralNorm(Maxout)": (lambda rng: nn.SpectralNorm(nn.Maxout(7, 4, 3, dtype="float64", rng=rng)), (5, 7), True),
}


def _passes(layer, x, dy, x_dot, tangent):
    """Every pass of one layer, the results as NumPy arrays."""
    out = {"y": layer.forward(x)}
    layer.zero_grad()
    out["dx"] = layer.backward(dy)
    out.update({f"d{name}": g for name, _, g in layer.parameters()})
    if tangent:
        out["y_dot"] = layer.tangent(x_dot)
        if layer.params:
            layer.zero_grad()
            layer.add_weight_grad(dy, x_dot)
            out["dW at x_dot"] = layer.grads["weight"]
    return {k: backend.to_numpy(v).copy() for k, v in out.items()}


@pytest.mark.parametrize("name", list(LAYERS))
def test_every_layer_gives_numpys_numbers_on_cupy(name):
    import copy
    make, shape, tangent = LAYERS[name]
    rng = np.random.default_rng(0)
    layer = make(rng)
    x = rng.standard_normal(shape)
    y = layer.forward(x)
    dy, x_dot = rng.standard_normal(y.shape), rng.standard_normal(shape)
    twin = copy.deepcopy(layer).to("cupy")
    cpu = _passes(layer, x, dy, x_dot, tangent)
    gpu = _passes(twin, *(backend.asarray(a, "cupy") for a in (x, dy, x_dot)), tangent)
    assert set(cpu) == set(gpu)
    for key, value in cpu.items():
        np.testing.assert_allclose(gpu[key], value, rtol=1e-10, atol=1e-12, err_msg=f"{name}: {key}")


def test_embedding_gives_numpys_numbers_on_cupy():
    rng = np.random.default_rng(1)
    emb = nn.Embedding(4, 3, dtype="float64", rng=rng)
    labels = np.array([0, 3, 3, 1, 0])
    dy = rng.standard_normal((5, 3))
    y = emb(labels)
    emb.backward(dy)
    twin = nn.Embedding(4, 3, dtype="float64", rng=np.random.default_rng(1)).to("cupy")   # the same weights
    y_gpu = twin(backend.asarray(labels, "cupy"))
    twin.backward(backend.asarray(dy, "cupy"))
    np.testing.assert_array_equal(backend.to_numpy(y_gpu), y)
    np.testing.assert_allclose(backend.to_numpy(twin.grads["weight"]), emb.grads["weight"], rtol=1e-12)
