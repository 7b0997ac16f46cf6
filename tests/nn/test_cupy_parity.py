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
