import numpy as np
import pytest

from minigan import backend, nn


def small_net(dtype=None):
    rng = np.random.default_rng(0)
    return nn.Sequential(nn.Conv2d(1, 2, 3, dtype=dtype, rng=rng), nn.BatchNorm2d(2, dtype=dtype), nn.ReLU())


def test_state_dict_round_trip_copies_numpy_arrays():
    a, b = small_net(), small_net()
    b.layers[0].params["weight"][...] = 0
    a(np.ones((2, 1, 5, 5), np.float32))                   # moves a's running stats
    state = a.state_dict()
    assert set(state) == {"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var"}
    assert all(type(v) is np.ndarray for v in state.values())
    b.load_state_dict(state)
    for k, v in b.state_dict().items():
        np.testing.assert_array_equal(v, state[k])
    state["0.weight"][...] = 7                             # a copy, not a view of b's arrays
    assert not (b.layers[0].params["weight"] == 7).any()


def test_load_state_dict_errors_name_the_problem():
    net = small_net()
    state = net.state_dict()
    del state["0.bias"]
    with pytest.raises(KeyError, match=r"missing keys \['0.bias'\]"):
        net.load_state_dict(state)
    state = net.state_dict()
    state["0.weight"] = np.zeros((3, 1, 3, 3))
    with pytest.raises(ValueError, match=r"0.weight has shape \(3, 1, 3, 3\) in the state but \(2, 1, 3, 3\)"):
        net.load_state_dict(state)


def test_to_dtype_casts_params_grads_and_buffers():
    net = small_net().to(dtype="float64")
    for _, m in net.leaves():
        for d in (m.params, m.grads, m.buffers):
            assert all(v.dtype == np.float64 for v in d.values())
    assert net(np.ones((2, 1, 5, 5))).dtype == np.float64
    with pytest.raises(ValueError, match="float32 or float64"):
        net.to(dtype="int32")


def test_to_unknown_or_unavailable_backend():
    with pytest.raises(ValueError, match="unknown backend 'tpu'"):
        small_net().to("tpu")
    if "cupy" not in backend.available():
        with pytest.raises(backend.BackendUnavailable, match="pip install minigan\\[gpu\\]|nvidia-smi"):
            small_net().to("cupy")


def test_float32_is_the_default():
    net = small_net()
    assert all(p.dtype == np.float32 for _, p, _ in net.parameters())
    assert net(np.ones((2, 1, 5, 5), np.float32)).dtype == np.float32


def test_requires_grad_and_train_propagate():
    net = small_net().requires_grad_(False).eval()
    assert all(not m.requires_grad and not m.training for _, m in net.named_modules())


def test_evaluating_runs_in_eval_mode_and_restores_modes_and_caches():
    net = small_net()
    x = np.ones((2, 1, 5, 5), np.float32)
    net(x)                                               # a training forward: caches for backward
    caches = [m.cache for _, m in net.named_modules()]
    with net.evaluating():
        assert not any(m.training for _, m in net.named_modules())
        net(np.zeros((3, 1, 5, 5), np.float32))
    assert all(m.training for _, m in net.named_modules())
    assert all(a is b for a, b in zip(caches, [m.cache for _, m in net.named_modules()]))
    assert net.backward(np.ones((2, 2, 3, 3), np.float32)).shape == x.shape   # backward still works


def test_a_nested_sequentials_input_grad_is_its_first_layers():
    inner = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    outer = nn.Sequential(inner, nn.Linear(3, 1))
    outer.layers[0].input_grad = False
    assert inner.layers[0].input_grad is False and inner.input_grad is False
    outer(np.ones((2, 2), np.float32))
    assert outer.backward(np.ones((2, 1), np.float32)) is None


def test_the_first_layer_with_an_input_gradient_is_behind_flatten_pack_and_dropout():
    lin, mx, conv = nn.Linear(8, 3), nn.Maxout(16, 3, 2), nn.Conv2d(1, 2, 3)
    sn = nn.SpectralNorm(nn.Maxout(8, 3, 2))
    cases = [(nn.Sequential(nn.Flatten(), lin, nn.ReLU()), lin),                        # the MLPs' G
             (nn.Sequential(nn.Flatten(), nn.Pack(2), nn.Dropout(0.2), mx), mx),       # a packed mlp_pictures D
             (nn.Sequential(nn.Flatten(), sn, nn.Linear(3, 1)), sn),                   # spectral norm: the wrapper
             (nn.Sequential(conv, nn.Flatten()), conv),                                # a DCGAN: its first layer
             (nn.Sequential(nn.Reshape(8), nn.Sequential(nn.Dropout(), lin)), lin),     # nested
             (nn.Sequential(nn.Flatten(), nn.Reshape(4)), None),                        # all pass None: the first
             (lin, lin)]
    for net, first in cases:
        first = net.layers[0] if first is None else first
        assert nn.first_layer_with_input_grad(net) is first
        net.input_grad = False                                                          # the container's flag is its
        assert first.input_grad is False and net.input_grad is False                    # first learning layer's
        net.input_grad = True
        assert first.input_grad is True


@pytest.mark.parametrize("make, shape", [(nn.Flatten, (4, 2, 3)), (lambda: nn.Reshape(6), (4, 2, 3)),
                                         (lambda: nn.Pack(2), (4, 3)), (lambda: nn.Dropout(0.5), (4, 3))])
def test_layers_that_pass_none_on_pass_none_on(make, shape):
    layer = make()
    assert layer.passes_none
    layer.forward(np.ones(shape, np.float32))
    assert layer.backward(None) is None


def test_an_mlp_without_its_first_input_gradient_returns_none_and_the_same_weight_gradients():
    rng = np.random.default_rng(0)
    x, dy = rng.standard_normal((4, 2, 3, 3)), rng.standard_normal((2, 1))
    nets = [nn.Sequential(nn.Flatten(), nn.Pack(2), nn.Dropout(0.5), nn.Maxout(36, 4, 3, dtype="float64", rng=rng),
                          nn.Linear(4, 1, dtype="float64", rng=rng)) for _ in range(2)]
    nets[1].load_state_dict(nets[0].state_dict())
    nets[1].input_grad = False
    dx = []
    for net in nets:
        net.forward(x)
        dx.append(net.backward(dy))
    assert dx[0].shape == x.shape and dx[1] is None
    for name, g in nets[0].grads.items():
        np.testing.assert_array_equal(nets[1].grads[name], g)


def channels_last(a):
    """Whether a 4-d array's memory runs (A, H, W, B): its transpose(0, 2, 3, 1) is contiguous."""
    return a.transpose(0, 2, 3, 1).flags.c_contiguous


@pytest.mark.parametrize("make", [lambda: nn.Conv2d(3, 5, (4, 2), stride=2, padding=1, rng=np.random.default_rng(0)),
                                  lambda: nn.ConvTranspose2d(3, 5, (4, 2), stride=2, padding=1, rng=np.random.default_rng(0))])
def test_conv_weights_keep_pytorchs_shape_in_channels_last_memory_through_loads_and_casts(make):
    from minigan.optim import Adam
    layer = make()
    w = layer.params["weight"]
    assert channels_last(w) and channels_last(layer.grads["weight"]) and not w.flags.c_contiguous
    assert np.shares_memory(w, w.transpose(0, 2, 3, 1).reshape(w.shape[0], -1))     # the GEMM's Wm: a view
    x = np.random.default_rng(1).standard_normal((2, 3, 6, 6)).astype(np.float32)
    y = layer(x)
    layer.backward(np.ones_like(y))
    opt = Adam(layer, lr=1e-3)
    opt.step()
    assert all(channels_last(a) for a in opt.state["weight"].values())               # m, v made like p
    state, opt_state = layer.state_dict(), opt.state_dict()
    assert state["weight"].flags.c_contiguous                                          # files get PyTorch's order
    fresh = make()
    fresh.load_state_dict(state)
    opt2 = Adam(fresh, lr=1e-3)
    opt2.load_state_dict(opt_state)
    assert channels_last(fresh.params["weight"]) and all(channels_last(a) for a in opt2.state["weight"].values())
    np.testing.assert_array_equal(fresh.params["weight"], layer.params["weight"])
    np.testing.assert_array_equal(fresh(x), layer(x))
    assert channels_last(fresh.to(dtype="float64").params["weight"])
