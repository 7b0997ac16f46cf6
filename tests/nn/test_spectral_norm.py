import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

from minigan import backend, nn
from minigan.nn.spectral_norm import weight_matrix
from minigan.optim import Adam
from tests.gradcheck import check_layer_gradients
from tests.strategies import conv_configs, conv_transpose_configs, seeds


@st.composite
def wrapped_layers(draw):
    """``(kind, layer, x)``: a tiny float64 Conv2d, ConvTranspose2d or Linear and an input for it."""
    kind = draw(st.sampled_from(["Conv2d", "ConvTranspose2d", "Linear"]))
    bias = draw(st.booleans())
    rng = np.random.default_rng(draw(seeds))
    if kind == "Linear":
        n_in, n_out, N = draw(st.integers(1, 5)), draw(st.integers(1, 5)), draw(st.integers(1, 3))
        return kind, nn.Linear(n_in, n_out, bias=bias, dtype="float64", rng=rng), rng.standard_normal((N, n_in))
    cfg = draw(conv_configs(max_size=5) if kind == "Conv2d" else conv_transpose_configs(max_size=4))
    if kind == "Conv2d":
        layer = nn.Conv2d(cfg["C_in"], cfg["C_out"], cfg["kernel"], cfg["stride"], cfg["padding"],
                          bias=bias, dtype="float64", rng=rng)
    else:
        layer = nn.ConvTranspose2d(cfg["C_in"], cfg["C_out"], cfg["kernel"], cfg["stride"], cfg["padding"],
                                   cfg["output_padding"], bias=bias, dtype="float64", rng=rng)
    return kind, layer, rng.standard_normal((cfg["N"], cfg["C_in"], cfg["H"], cfg["W"]))


@given(drawn=wrapped_layers(), seed=seeds)
def test_spectral_norm_gradients_match_finite_differences(drawn, seed):
    # Eval mode: u and v stay fixed, so forward is a deterministic function of (x, weight, bias).
    # They come from power iterations first, as in training: from their random start u^T W v can
    # be ~0, and W / sigma then so steep that finite differences miss (found at 300 examples).
    _, layer, x = drawn
    rng = np.random.default_rng(seed)
    sn = nn.SpectralNorm(layer, rng=rng)
    for _ in range(10):
        sn(x)
    check_layer_gradients(sn.eval(), x, rng)


@given(drawn=wrapped_layers(), seed=seeds)
def test_sigma_converges_to_the_largest_singular_value(drawn, seed):
    _, layer, x = drawn
    sn = nn.SpectralNorm(layer, n_power_iterations=3000, rng=np.random.default_rng(seed))
    s = np.linalg.svd(weight_matrix(sn.params["weight"], sn.dim), compute_uv=False)
    assume(len(s) == 1 or s[1] < 0.99 * s[0])               # a spectral gap: power iteration converges
    sn(x)
    _, _, sigma, _, _ = sn.cache
    assert np.isclose(float(sigma), s[0], rtol=1e-8)
    W_sn = sn.cache[1]
    assert np.isclose(np.linalg.svd(weight_matrix(W_sn, sn.dim), compute_uv=False)[0], 1.0, rtol=1e-8)


@given(drawn=wrapped_layers(), seed=seeds)
def test_eval_mode_keeps_u_and_v_and_training_mode_moves_them(drawn, seed):
    _, layer, x = drawn
    sn = nn.SpectralNorm(layer, rng=np.random.default_rng(seed))
    u0, v0 = sn.buffers["u"].copy(), sn.buffers["v"].copy()
    sn.eval()(x)
    np.testing.assert_array_equal(sn.buffers["u"], u0)
    np.testing.assert_array_equal(sn.buffers["v"], v0)
    sn.train()(x)
    np.testing.assert_allclose(np.linalg.norm(sn.buffers["u"]), 1.0)
    assume(sn.buffers["u"].size + sn.buffers["v"].size > 2)                 # a 1x1 weight: u = v = +-1 stay put
    assert not (np.array_equal(sn.buffers["u"], u0) and np.array_equal(sn.buffers["v"], v0))


def torch_twin(kind, layer, sn):
    """``torch.nn.utils.spectral_norm`` of the same layer, with the same weight_orig, bias, u and v."""
    torch = pytest.importorskip("torch")
    if kind == "Linear":
        t = torch.nn.Linear(layer.in_features, layer.out_features, bias="bias" in sn.params)
    else:
        cls = torch.nn.Conv2d if kind == "Conv2d" else torch.nn.ConvTranspose2d
        extra = {} if kind == "Conv2d" else {"output_padding": layer.output_padding}
        t = cls(layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride, layer.padding,
                bias="bias" in sn.params, **extra)
    t = t.double()
    with torch.no_grad():
        t.weight.copy_(torch.from_numpy(sn.params["weight"]))
        if "bias" in sn.params:
            t.bias.copy_(torch.from_numpy(sn.params["bias"]))
    t = torch.nn.utils.spectral_norm(t, n_power_iterations=sn.n_power_iterations, eps=sn.eps)
    with torch.no_grad():
        t.weight_u.copy_(torch.from_numpy(sn.buffers["u"]))
        t.weight_v.copy_(torch.from_numpy(sn.buffers["v"]))
    return t


@given(drawn=wrapped_layers(), training=st.booleans(), seed=seeds)
def test_spectral_norm_matches_pytorch(drawn, training, seed):
    torch = pytest.importorskip("torch")
    kind, layer, x = drawn
    rng = np.random.default_rng(seed)
    sn = nn.SpectralNorm(layer, n_power_iterations=2, rng=rng).train(training)
    t = torch_twin(kind, layer, sn).train(training)
    assert t.weight_u.shape == sn.buffers["u"].shape and t.weight_v.shape == sn.buffers["v"].shape
    y = sn(x)
    xt = torch.from_numpy(x).requires_grad_()
    yt = t(xt)
    dy = rng.standard_normal(y.shape)
    dx = sn.backward(dy)
    yt.backward(torch.from_numpy(dy))
    close = dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(y, yt.detach().numpy(), **close)
    np.testing.assert_allclose(sn.buffers["u"], t.weight_u.numpy(), **close)
    np.testing.assert_allclose(sn.buffers["v"], t.weight_v.numpy(), **close)
    np.testing.assert_allclose(dx, xt.grad.numpy(), **close)
    np.testing.assert_allclose(sn.grads["weight"], t.weight_orig.grad.numpy(), **close)
    if "bias" in sn.params:
        np.testing.assert_allclose(sn.grads["bias"], t.bias.grad.numpy(), **close)
    state = {k: v.numpy() for k, v in t.state_dict().items()}
    np.testing.assert_array_equal(state["weight_orig"], sn.params["weight"])   # the same names, mapped


def test_spectral_norm_is_one_leaf_of_a_sequential_and_adam_updates_its_weight():
    rng = np.random.default_rng(0)
    net = nn.Sequential(nn.SpectralNorm(nn.Conv2d(1, 2, 3, dtype="float64", rng=rng), rng=rng), nn.LeakyReLU(0.2),
                        nn.Flatten(), nn.SpectralNorm(nn.Linear(2 * 3 * 3, 1, bias=False, dtype="float64", rng=rng)))
    assert [p for p, _ in net.leaves()] == ["0", "1", "2", "3"]
    assert list(net.params) == ["0.weight", "0.bias", "3.weight"]
    assert list(net.buffers) == ["0.u", "0.v", "3.u", "3.v"]
    assert net[0].grads["weight"] is not net[0].layer.grads["weight"]             # SN's own gradient array
    x = rng.standard_normal((2, 1, 5, 5))
    net.layers[0].input_grad = False
    net(x)
    assert net.backward(np.ones((2, 1))) is None
    assert np.abs(net.grads["0.weight"]).max() > 0
    before = net.params["0.weight"].copy()
    opt = Adam(net, lr=0.1)
    opt.step()
    assert not np.array_equal(net.params["0.weight"], before)
    assert net.params["0.weight"] is net[0].params["weight"]                       # updated in place

    net.zero_grad()
    net.requires_grad_(False)
    net(x)
    net.backward(np.ones((2, 1)))
    assert all(np.abs(g).max() == 0 for g in net.grads.values())
    assert repr(net[0]).startswith("SpectralNorm(Conv2d(1, 2, kernel_size=(3, 3)")
    assert "n_power_iterations=1, eps=1e-12" in repr(net[0])


def test_state_dict_round_trip_carries_u_and_v():
    rng = np.random.default_rng(1)
    make = lambda seed: nn.Sequential(nn.SpectralNorm(nn.Linear(4, 3, dtype="float64", rng=np.random.default_rng(seed)),
                                                     rng=np.random.default_rng(seed)))
    a, b = make(1), make(2)
    x = rng.standard_normal((5, 4))
    a(x)                                                                           # moves a's u and v
    b.load_state_dict(a.state_dict())
    for k, v in a.state_dict().items():
        np.testing.assert_array_equal(b.state_dict()[k], v)
    np.testing.assert_array_equal(a(x), b(x))                                      # another training step, alike
    np.testing.assert_array_equal(a.buffers["0.u"], b.buffers["0.u"])


def test_backward_after_an_evaluating_forward_uses_the_training_forward():
    rng = np.random.default_rng(2)
    sn = nn.SpectralNorm(nn.Conv2d(2, 3, 3, padding=1, dtype="float64", rng=rng), rng=rng)
    net = nn.Sequential(sn)
    x, other, dy = rng.standard_normal((2, 2, 4, 4)), rng.standard_normal((3, 2, 6, 6)), rng.standard_normal((2, 3, 4, 4))
    net(x)
    with net.evaluating():
        net(other)                                                                 # caches put back on leaving
    dx = net.backward(dy)
    g = sn.grads["weight"].copy()
    twin = nn.SpectralNorm(nn.Conv2d(2, 3, 3, padding=1, dtype="float64"))
    twin.load_state_dict({**sn.state_dict(), "u": sn.cache[3], "v": sn.cache[4]})
    twin.eval()(x)
    np.testing.assert_allclose(twin.backward(dy), dx, rtol=1e-12)
    np.testing.assert_allclose(twin.grads["weight"], g, rtol=1e-12)


def test_to_float32_and_the_cupy_stand_in(fake_cupy):
    rng = np.random.default_rng(3)
    sn = nn.SpectralNorm(nn.Conv2d(2, 3, 3, dtype="float64", rng=rng), rng=rng)
    x, dy = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((2, 3, 3, 3))
    y_cpu, dx_cpu = sn(x), sn.backward(dy)
    g_cpu, u_cpu = sn.grads["weight"].copy(), sn.buffers["u"].copy()
    sn.zero_grad()
    sn.eval().to("cupy")                                                           # eval: the u, v the step left
    y = sn(backend.asarray(x, "cupy"))
    dx = sn.backward(backend.asarray(dy, "cupy"))
    np.testing.assert_allclose(backend.to_numpy(y), y_cpu, rtol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(dx), dx_cpu, rtol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(sn.grads["weight"]), g_cpu, rtol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(sn.buffers["u"]), u_cpu, rtol=1e-12)
    assert backend.backend_name(sn.buffers["v"]) == "cupy"
    sn.to("numpy", dtype="float32")
    assert sn(x.astype(np.float32)).dtype == np.float32 and sn.buffers["u"].dtype == np.float32


def test_wrapping_an_unsupported_layer_is_a_clear_error():
    with pytest.raises(TypeError, match="SpectralNorm wraps a Conv2d, ConvTranspose2d, Linear or Maxout layer, not BatchNorm2d"):
        nn.SpectralNorm(nn.BatchNorm2d(3))
    with pytest.raises(ValueError, match="n_power_iterations must be a positive int"):
        nn.SpectralNorm(nn.Linear(2, 2), n_power_iterations=0)
