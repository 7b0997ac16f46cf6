"""The gradient penalties (minigan/penalties.py): value and parameter gradient, against
finite differences of the whole penalty, an independent input gradient, and PyTorch."""
import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

from minigan import backend, nn
from minigan.penalties import gradient_penalty, r1_penalty
from tests.gradcheck import assert_close, kink_margin, numerical_gradient
from tests.strategies import seeds


pytestmark = pytest.mark.usefixtures("both_paths")        # every check on the plain and the fast path


@st.composite
def critics(draw):
    """``(D, x, rng)``: a tiny float64 piecewise-linear critic (one raw score per sample) and an input.

    1-2 Conv2d (with or without bias, some spectrally normalized, in eval mode) each
    followed by LeakyReLU or ReLU, then either Flatten + Linear head(s) or a final
    Conv2d whose kernel covers the whole map (DCGAN's head, output (N, 1, 1, 1)).
    """
    rng = np.random.default_rng(draw(seeds))
    N, C, H, W = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(3, 5)), draw(st.integers(3, 5))
    x = rng.standard_normal((N, C, H, W))
    layers = []
    for _ in range(draw(st.integers(1, 2))):
        k, s = draw(st.integers(1, 3)), draw(st.integers(1, 2))
        p = draw(st.integers(0, k - 1))
        Ho, Wo = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
        assume(Ho >= 1 and Wo >= 1)
        C_out = draw(st.integers(1, 3))
        conv = nn.Conv2d(C, C_out, k, s, p, bias=draw(st.booleans()), dtype="float64", rng=rng)
        layers.append(nn.SpectralNorm(conv, rng=rng) if draw(st.booleans()) else conv)
        layers.append(nn.LeakyReLU(0.2) if draw(st.booleans()) else nn.ReLU())
        C, H, W = C_out, Ho, Wo
    if draw(st.booleans()):
        layers.append(nn.Conv2d(C, 1, (H, W), bias=draw(st.booleans()), dtype="float64", rng=rng))
    else:
        layers.append(nn.Flatten())
        features = C * H * W
        if draw(st.booleans()):
            layers += [nn.Linear(features, 3, dtype="float64", rng=rng), nn.LeakyReLU(0.2)]
            features = 3
        head = nn.Linear(features, 1, bias=draw(st.booleans()), dtype="float64", rng=rng)
        layers.append(nn.SpectralNorm(head, rng=rng) if draw(st.booleans()) else head)
    D = nn.Sequential(*layers).eval()                             # eval: SpectralNorm's u, v stay put
    assume(kink_margin(D, x) > 1e-3)                              # finite differences must not straddle a kink
    return D, x, rng


def penalty(kind, D, x, weight=1.0, target=1.0):
    return gradient_penalty(D, x, weight, target) if kind == "gp" else r1_penalty(D, x, weight)


def input_gradient_by_fd(D, x):
    """g = d(sum_i D(x)_i)/dx by central differences: an oracle independent of any backward pass."""
    x = x.copy()
    return numerical_gradient(lambda: float(D.forward(x).sum()), x)


def plain_penalty(kind, g, target):
    norms = np.sqrt((g.reshape(len(g), -1) ** 2).sum(axis=1))
    return float(np.mean((norms - target) ** 2) if kind == "gp" else np.mean(norms ** 2))


@given(drawn=critics(), kind=st.sampled_from(["gp", "r1"]), target=st.floats(0.1, 2.0))
def test_penalty_gradient_matches_finite_differences_of_the_whole_penalty(drawn, kind, target):
    D, x, rng = drawn
    weight = float(rng.uniform(0.5, 3))
    D.zero_grad()
    penalty(kind, D, x, weight, target)
    analytic = {name: g.copy() for name, g in D.grads.items()}
    for name, p in D.params.items():
        expected = weight * numerical_gradient(lambda: penalty(kind, D, x, 1.0, target), p)
        assert_close(analytic[name], expected, f"{kind} d P/d {name}", rtol=1e-5)


@given(drawn=critics(), kind=st.sampled_from(["gp", "r1"]), target=st.floats(0.1, 2.0))
def test_penalty_value_matches_an_input_gradient_by_finite_differences(drawn, kind, target):
    D, x, _ = drawn
    expected = plain_penalty(kind, input_gradient_by_fd(D, x), target)
    assert np.isclose(penalty(kind, D, x, target=target), expected, rtol=1e-6, atol=1e-9)


def torch_critic(D):
    """D as a PyTorch function of x and of leaf tensors named like D.params (SpectralNorm with fixed u, v)."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    params = {k: torch.from_numpy(v.copy()).requires_grad_() for k, v in D.params.items()}

    def f(x):
        for i, layer in enumerate(D.layers):
            W, b = params.get(f"{i}.weight"), params.get(f"{i}.bias")
            inner = layer
            if isinstance(layer, nn.SpectralNorm):
                u, v = (torch.from_numpy(layer.buffers[k]) for k in "uv")
                W = W / (u @ (W.reshape(W.shape[0], -1) @ v))
                inner = layer.layer
            if isinstance(inner, nn.Conv2d):
                x = F.conv2d(x, W, b, inner.stride, inner.padding)
            elif isinstance(inner, nn.Linear):
                x = F.linear(x, W, b)
            elif isinstance(inner, nn.LeakyReLU):
                x = F.leaky_relu(x, inner.negative_slope)
            elif isinstance(inner, nn.ReLU):
                x = torch.relu(x)
            else:
                x = x.flatten(1)
        return x
    return f, params


@given(drawn=critics(), kind=st.sampled_from(["gp", "r1"]), target=st.floats(0.1, 2.0))
def test_penalty_matches_pytorch_double_backward(drawn, kind, target):
    torch = pytest.importorskip("torch")
    D, x, _ = drawn
    f, params = torch_critic(D)
    xt = torch.from_numpy(x).requires_grad_()
    g, = torch.autograd.grad(f(xt).sum(), xt, create_graph=True)
    norms = torch.linalg.vector_norm(g.flatten(1), dim=1)
    P = ((norms - target) ** 2).mean() if kind == "gp" else (norms ** 2).mean()
    P.backward()
    D.zero_grad()
    value = penalty(kind, D, x, 1.0, target)
    assert np.isclose(value, P.item(), rtol=1e-10, atol=1e-14)
    for name, grad in D.grads.items():
        t = params[name].grad
        np.testing.assert_allclose(grad, 0 * grad if t is None else t.numpy(), rtol=1e-8, atol=1e-12, err_msg=name)


def test_a_zero_input_gradient_gives_no_nan():
    # A ReLU critic whose units are all off at x: g = 0, ||g|| = 0. We take dP/dg = 0 there
    # (the subgradient 0, as torch.linalg.vector_norm's backward does), so nothing is NaN.
    rng = np.random.default_rng(0)
    D = nn.Sequential(nn.Linear(3, 2, dtype="float64", rng=rng), nn.ReLU(), nn.Linear(2, 1, dtype="float64", rng=rng))
    D[0].params["bias"][...] = -100.0
    D.zero_grad()
    assert gradient_penalty(D, rng.standard_normal((4, 3)), weight=10.0) == pytest.approx(1.0)
    assert all(np.all(g == 0) for g in D.grads.values())


@pytest.mark.parametrize("bad, message", [
    (nn.BatchNorm2d(2, dtype="float64"), r"layer 1 BatchNorm2d\(.*\) mixes the samples.*d_norm='none'"),
    (nn.Sigmoid(), r"layer 1 Sigmoid\(\) is not piecewise linear.*drop the final Sigmoid"),
    (nn.Tanh(), r"layer 1 Tanh\(\) is not piecewise linear"),
    (nn.ConvTranspose2d(2, 2, 1, dtype="float64"), r"layer 1 ConvTranspose2d.*has no second-order pass"),
    (nn.SpectralNorm(nn.ConvTranspose2d(2, 2, 1, dtype="float64")), r"layer 1 SpectralNorm\(ConvTranspose2d"),
])
def test_layers_the_penalties_cannot_handle_are_a_clear_error(bad, message):
    D = nn.Sequential(nn.Conv2d(1, 2, 3, dtype="float64"), bad, nn.Flatten(), nn.Linear(2, 1, dtype="float64"))
    for fn in (gradient_penalty, r1_penalty):
        with pytest.raises(ValueError, match=message):
            fn(D, np.zeros((2, 1, 3, 3)))


def test_nested_sequentials_are_flattened_and_named_in_errors():
    inner = nn.Sequential(nn.Conv2d(1, 2, 3, dtype="float64"), nn.LeakyReLU(0.2))
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 1, 3, 3))
    flat = nn.Sequential(*inner.layers, nn.Flatten(), nn.Linear(2, 1, dtype="float64"))
    nested = nn.Sequential(inner, nn.Sequential(nn.Flatten(), flat[3]))
    assert gradient_penalty(nested, x) == gradient_penalty(flat, x)
    with pytest.raises(ValueError, match=r"layer 1\.1 Sigmoid"):
        gradient_penalty(nn.Sequential(inner, nn.Sequential(nn.Flatten(), nn.Sigmoid())), x)
    with pytest.raises(ValueError, match=r"one raw score per sample.*got \(2, 2\)"):
        gradient_penalty(nn.Sequential(inner, nn.Flatten()), x)


@pytest.mark.parametrize("kind", ["gp", "r1"])
def test_flags_are_restored_and_grads_only_gain_weight_times_dP(kind):
    rng = np.random.default_rng(2)
    D = nn.Sequential(nn.SpectralNorm(nn.Conv2d(1, 2, 3, padding=1, dtype="float64", rng=rng), rng=rng),
                      nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(2 * 4 * 4, 1, dtype="float64", rng=rng)).eval()
    x = rng.standard_normal((3, 1, 4, 4))
    D.zero_grad()
    penalty(kind, D, x)
    dP = {k: g.copy() for k, g in D.grads.items()}                   # weight 1, from zero grads

    start = {k: rng.standard_normal(g.shape) for k, g in D.grads.items()}
    for k, g in D.grads.items():
        g[...] = start[k]
    D.layers[0].input_grad = False                                   # as the trainer leaves it during D's update
    D.layers[3].requires_grad = False
    penalty(kind, D, x, weight=2.5)
    assert D.layers[0].input_grad is False and D.layers[3].requires_grad is False
    assert all(m.input_grad for m in D.layers[1:]) and all(m.requires_grad for m in D.layers[:3])
    for k, g in D.grads.items():
        np.testing.assert_allclose(g, start[k] + 2.5 * dP[k], rtol=1e-12, err_msg=k)
    assert np.all(dP["0.bias"] == 0) and np.all(dP["3.bias"] == 0)   # biases do not move the input gradient


def test_training_mode_spectral_norm_steps_u_as_a_pytorch_forward_would():
    rng = np.random.default_rng(3)
    sn = nn.SpectralNorm(nn.Linear(3, 1, dtype="float64", rng=rng), rng=rng)
    D = nn.Sequential(sn)
    v = sn.buffers["v"].copy()
    gradient_penalty(D, rng.standard_normal((2, 3)))
    assert not np.array_equal(sn.buffers["v"], v)                   # one power iteration, as D(x_hat) in PyTorch


@pytest.mark.parametrize("kind", ["gp", "r1"])
def test_penalties_on_the_cupy_stand_in(fake_cupy, kind):
    rng = np.random.default_rng(4)
    D = nn.Sequential(nn.SpectralNorm(nn.Conv2d(2, 3, 3, 2, 1, dtype="float64", rng=rng), rng=rng), nn.LeakyReLU(0.2),
                      nn.Conv2d(3, 1, 2, bias=False, dtype="float64", rng=rng)).eval()
    x = rng.standard_normal((3, 2, 4, 4))
    D.zero_grad()
    value_cpu = penalty(kind, D, x, 3.0, 0.5)
    grads_cpu = {k: g.copy() for k, g in D.grads.items()}
    D.zero_grad()
    D.to("cupy")
    value = penalty(kind, D, backend.asarray(x, "cupy"), 3.0, 0.5)
    assert isinstance(value, float) and value == pytest.approx(value_cpu, rel=1e-12)
    for k, g in D.grads.items():
        assert backend.backend_name(g) == "cupy"
        np.testing.assert_allclose(backend.to_numpy(g), grads_cpu[k], rtol=1e-10, atol=1e-14, err_msg=k)
