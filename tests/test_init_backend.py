import numpy as np
import pytest

from minigan import backend, nn
from minigan.init import dcgan_init


def test_dcgan_init_statistics_and_determinism():
    def build():
        return nn.Sequential(nn.ConvTranspose2d(100, 256, 4, bias=False), nn.BatchNorm2d(256),
                             nn.Conv2d(256, 64, 4, bias=True))
    a, b = dcgan_init(build(), 0), dcgan_init(build(), 0)
    for k, v in a.state_dict().items():
        np.testing.assert_array_equal(v, b.state_dict()[k])
    w = a.layers[0].params["weight"]
    assert w.dtype == np.float32 and abs(w.mean()) < 2e-3 and abs(w.std() - 0.02) < 1e-3
    g = a.layers[1].params["weight"]
    assert abs(g.mean() - 1) < 0.01 and 0.01 < g.std() < 0.03
    assert not a.layers[1].params["bias"].any() and not a.layers[2].params["bias"].any()
    c = dcgan_init(build(), 1)
    assert not np.array_equal(c.layers[0].params["weight"], w)


def test_available_lists_numpy_and_importing_minigan_needs_no_cupy():
    assert backend.available()[0] == "numpy"
    import subprocess
    import sys
    code = ("import sys; import minigan, minigan.nn, minigan.losses, minigan.optim, minigan.init; "
            "assert 'cupy' not in sys.modules, 'importing minigan imported cupy'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_get_array_module_and_to_numpy():
    x = np.ones(3)
    assert backend.get_array_module(x) is np
    assert backend.to_numpy(x) is x
    assert backend.asarray([1, 2], "numpy", "float32").dtype == np.float32


def test_scatter_add_adds_repeated_indices():
    t = np.zeros(3)
    backend.scatter_add(t, np.array([0, 0, 2]), np.array([1.0, 2.0, 5.0]))
    np.testing.assert_array_equal(t, [3.0, 0.0, 5.0])


@pytest.mark.skipif("cupy" in backend.available(), reason="this machine has a working CuPy")
def test_cupy_unavailable_says_what_to_do():
    with pytest.raises(backend.BackendUnavailable) as e:
        backend.get_backend("cupy")
    msg = str(e.value)
    assert "pip install minigan[gpu]" in msg or "nvidia-smi" in msg
    assert "--backend numpy" in msg
