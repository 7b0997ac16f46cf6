"""Conditional G and D (concat and projection): gradients, where the label goes, the Module contract."""
import copy

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

from minigan import backend as B
from minigan import nn
from minigan.gradflow import GradFlow
from minigan.init import dcgan_init
from minigan.models import (LabelConcatD, LabelConcatG, ProjectionD, class_rows, conditional_dcgan, dcgan28,
                            summary)
from minigan.models.labels import label_planes
from minigan.optim import Adam
from tests.gradcheck import assert_close, batchnorm_margin, kink_margin, numerical_gradient
from tests.strategies import seeds


def widened(net, seed):
    """DCGAN init, then 10x wider conv weights: DCGAN's 0.02 makes tiny nets nearly linear."""
    dcgan_init(net, seed)
    for _, p, _ in net.parameters():
        p *= 10 if p.ndim == 4 else 1
    return net


def tiny_conditional_gan(form, nz, ch, nc, K, seed, sigmoid=True):
    """The conditional networks in miniature, for 8x8 pictures: the DCGAN layer kinds, a few hundred weights."""
    f64 = "float64"
    G = LabelConcatG(
        nn.ConvTranspose2d(nz + K, 2 * ch, 4, 1, 0, bias=False, dtype=f64), nn.BatchNorm2d(2 * ch, dtype=f64), nn.ReLU(),
        nn.ConvTranspose2d(2 * ch, nc, 4, 2, 1, bias=False, dtype=f64), nn.Tanh(), num_classes=K)
    c_in = nc + K if form == "concat" else nc
    body = [nn.Conv2d(c_in, ch, 4, 2, 1, bias=False, dtype=f64), nn.LeakyReLU(0.2),
            nn.Conv2d(ch, 2 * ch, 4, 2, 1, bias=False, dtype=f64), nn.BatchNorm2d(2 * ch, dtype=f64), nn.LeakyReLU(0.2)]
    head = nn.Conv2d(2 * ch, 1, 2, 1, 0, bias=False, dtype=f64)              # phi (N, 2ch, 2, 2) -> (N, 1, 1, 1)
    if form == "concat":
        D = LabelConcatD(*body, head, *([nn.Sigmoid()] if sigmoid else []), num_classes=K)
    else:
        D = ProjectionD(nn.Sequential(*body), head, K, sigmoid=sigmoid)
    widened(G, seed), widened(D, seed + 1)
    if form == "projection":                       # it starts at 0; a random embedding tests more
        D.embed.params["weight"][...] = np.random.default_rng(seed).standard_normal((K, 2 * ch))
    return G, D


def stack_and_input(net, x, labels):
    """The Sequential a network runs and that Sequential's input, for kink_margin/batchnorm_margin."""
    if isinstance(net, ProjectionD):
        return net.body, x
    planes = label_planes(labels, net.num_classes, x.shape[2], x.shape[3], x.dtype)
    return net, np.concatenate([x, planes], axis=1)


def smooth_at(net, x, labels):
    """Whether finite differences are valid here: no ReLU input near 0, no BatchNorm channel near-constant."""
    stack, inp = stack_and_input(net, x, labels)
    return kink_margin(stack, inp) > 1e-4 and batchnorm_margin(stack, inp) > 1e-5


def check_conditional_gradients(net, x, labels, rng, what):
    """dL/dx and dL/dparam of ``L = sum(net(x, labels) * dy)`` against central differences, dy random."""
    dy = rng.standard_normal(net.forward(x, labels).shape)

    def loss():
        return float(np.sum(net.forward(x, labels) * dy))

    net.zero_grad()
    net.forward(x, labels)
    dx = net.backward(dy)
    assert dx.shape == x.shape, f"{what}: the gradient is for the input without its labels"
    assert_close(dx, numerical_gradient(loss, x), f"{what} dL/dinput")
    for name, p, g in list(net.parameters()):
        assert_close(g.copy(), numerical_gradient(loss, p), f"{what} dL/d{name}")


@settings(max_examples=8)
@given(form=st.sampled_from(["concat", "projection"]), nz=st.integers(1, 3), ch=st.integers(1, 2),
       nc=st.integers(1, 2), K=st.integers(1, 3), N=st.integers(2, 4), sigmoid=st.booleans(), seed=seeds)
def test_gradients_of_g_and_d_match_finite_differences(form, nz, ch, nc, K, N, sigmoid, seed):
    rng = np.random.default_rng(seed)
    G, D = tiny_conditional_gan(form, nz, ch, nc, K, seed % 2**31, sigmoid)
    labels = rng.integers(0, K, N)                 # N > K at times: repeated labels
    z = rng.standard_normal((N, nz, 1, 1))
    x = rng.uniform(-1, 1, (N, nc, 8, 8))
    assume(smooth_at(G, z, labels) and smooth_at(D, x, labels))
    check_conditional_gradients(G, z, labels, rng, f"{form} G")
    check_conditional_gradients(D, x, labels, rng, f"{form} D")


@pytest.mark.parametrize("form", ["concat", "projection"])
def test_builder_networks_gradients_end_to_end(form):
    """Through the real dcgan28 stacks (narrow), D without BatchNorm: every weight, the embedding, dL/dx, dL/dz."""
    rng = np.random.default_rng(5)
    G, D = conditional_dcgan("dcgan28", 3, form, nz=2, ngf=1, ndf=2, seed=1, dtype="float64", d_norm="none")
    for net in (G, D):
        for _, p, _ in net.parameters():
            p[...] = rng.standard_normal(p.shape) * (0.5 if p.ndim == 4 else 0.1) + (1 if p.ndim == 1 else 0)
    labels = np.array([2, 0, 2])
    for _ in range(50):                            # ~2,000 ReLU inputs: redraw until none is near a kink
        z, x = rng.standard_normal((3, 2, 1, 1)), rng.uniform(-1, 1, (3, 1, 28, 28))
        if smooth_at(G, z, labels) and smooth_at(D, x, labels):
            break
    else:
        pytest.fail("no smooth draw in 50 tries")
    check_conditional_gradients(G, z, labels, rng, f"{form} dcgan28 G")
    check_conditional_gradients(D, x, labels, rng, f"{form} dcgan28 D")


@pytest.mark.parametrize("form", ["concat", "projection"])
def test_labels_reach_g_and_d(form):
    G, D = conditional_dcgan("dcgan28", 10, form, ngf=8, ndf=8, seed=0)
    z = np.repeat(np.random.default_rng(0).standard_normal((1, 100, 1, 1)).astype(np.float32), 2, axis=0)
    with G.evaluating():                           # eval mode: each picture depends on its own (z, y) only
        x = G(z, np.array([3, 7]))
        assert np.abs(x[0] - x[1]).max() > 0.1 * np.abs(x).max(), "the same z, two labels: two pictures"
        np.testing.assert_allclose(G(z[:1], np.array([3])), x[:1], atol=1e-6)
    if form == "projection":
        D.embed.params["weight"][...] = np.random.default_rng(1).normal(0, 0.02, D.embed.params["weight"].shape)
    with D.evaluating():
        p = D(np.repeat(x[:1], 2, axis=0), np.array([3, 7]))
        assert p[0, 0, 0, 0] != p[1, 0, 0, 0], "D's verdict on one picture must depend on the label asked"


def test_concat_is_the_sequential_on_the_picture_and_its_one_hot_planes():
    G, D = conditional_dcgan("dcgan28", 4, "concat", nz=5, ngf=4, ndf=4, seed=2)
    assert G.layers[0].params["weight"].shape == (5 + 4, 16, 7, 7) and G.nz == 5
    assert D.layers[0].params["weight"].shape == (4, 1 + 4, 4, 4) and D.nc == 1
    labels = np.array([1, 3])
    x = np.random.default_rng(0).uniform(-1, 1, (2, 1, 28, 28)).astype(np.float32)
    planes = np.zeros((2, 4, 28, 28), np.float32)
    planes[0, 1], planes[1, 3] = 1, 1              # plane y all ones, the others zeros
    plain = nn.Sequential(*D.layers)               # the same layers, fed the concatenation by hand
    np.testing.assert_array_equal(D(x, labels), plain(np.concatenate([x, planes], axis=1)))


def test_projection_d_starts_as_the_unconditional_d_and_adds_the_inner_product():
    G, D = conditional_dcgan("dcgan28", 3, "projection", ngf=4, ndf=4, seed=7, dtype="float64")
    _, D_plain = dcgan28(ngf=4, ndf=4, seed=7, dtype="float64")   # same seed: same body and head weights
    x = np.random.default_rng(1).uniform(-1, 1, (4, 1, 28, 28))
    labels = np.array([0, 2, 2, 1])
    np.testing.assert_allclose(D(x, labels), D_plain(x), rtol=1e-12)   # embedding starts at zero
    E = np.random.default_rng(2).standard_normal((3, 8))      # F = 2 ndf
    D.embed.params["weight"][...] = E
    D_raw = conditional_dcgan("dcgan28", 3, "projection", ngf=4, ndf=4, seed=7, dtype="float64", sigmoid=False)[1]
    D_raw.load_state_dict(D.state_dict())
    phi = D_raw.body(x)                            # (N, 2ndf, 7, 7)
    expected = D_raw.head(phi).ravel() + np.sum(E[labels] * phi.sum(axis=(2, 3)), axis=1)
    s = D_raw(x, labels)
    np.testing.assert_allclose(s.ravel(), expected, rtol=1e-12)
    np.testing.assert_allclose(D(x, labels), 1 / (1 + np.exp(-s)), rtol=1e-12)


@pytest.mark.parametrize("form", ["concat", "projection"])
def test_no_gradient_for_labels_and_input_grad_switches_the_input_gradient(form):
    G, D = conditional_dcgan("dcgan28", 3, form, ngf=4, ndf=4, seed=0)
    z = np.random.default_rng(0).standard_normal((2, 100, 1, 1)).astype(np.float32)
    labels = np.array([0, 2])
    x = G(z, labels)
    assert G.backward(np.ones_like(x)).shape == (2, 100, 1, 1)       # dL/dz only, not the one-hot part
    assert D.backward(np.ones_like(D(x, labels))).shape == (2, 1, 28, 28)   # dL/dx only, not the planes
    G.input_grad = False                           # what the trainer sets: z and D's data need no gradient
    D.input_grad = False
    assert G.layers[0].input_grad is False and D.layers[0].input_grad is False
    x = G(z, labels)
    assert G.backward(np.ones_like(x)) is None
    assert D.backward(np.ones_like(D(x, labels))) is None
    D.layers[0].input_grad = True                  # the trainer's spelling works too
    assert D.input_grad is True


@pytest.mark.parametrize("form", ["concat", "projection"])
def test_module_contract(form):
    G, D = conditional_dcgan("dcgan28", 3, form, ngf=4, ndf=4, seed=0)
    rng = np.random.default_rng(0)
    x, labels = rng.uniform(-1, 1, (4, 1, 28, 28)).astype(np.float32), np.array([0, 1, 2, 1])
    names = list(D.params)
    assert names == list(D.grads) == [n for n, _, _ in D.parameters()]
    if form == "projection":
        assert names[-2:] == ["head.weight", "embed.weight"] and names[0] == "body.0.weight"
        assert list(D.buffers) == ["body.3.running_mean", "body.3.running_var"]
        assert [p for p, _ in D.leaves()][-3:] == ["head", "embed", "sigmoid"]
        assert D.grads["embed.weight"] is D.embed.grads["weight"]
    # gradients accumulate, zero_grad clears, requires_grad_(False) freezes but passes dL/dx
    D.backward(np.ones_like(D(x, labels)))
    assert all(np.abs(g).sum() > 0 for g in D.grads.values())
    D.zero_grad()
    assert not any(g.any() for g in D.grads.values())
    D.requires_grad_(False)
    assert D.backward(np.ones_like(D(x, labels))).shape == x.shape
    assert not any(g.any() for g in D.grads.values())
    D.requires_grad_(True)
    # eval/train modes, evaluating() leaves the training state and caches alone
    p_train = D(x, labels)
    with D.evaluating():
        D(x[:2], labels[:2])
    assert all(m.training for _, m in D.named_modules())
    assert D.backward(np.ones_like(p_train)).shape == x.shape      # the cache of the training forward survived
    D.eval()
    assert not any(m.training for _, m in D.named_modules())
    # Adam moves every parameter, the embedding included
    D.train().zero_grad()
    before = D.state_dict()
    D.backward(np.ones_like(D(x, labels)))
    Adam(D, lr=1e-3).step()
    assert all(not np.array_equal(before[k], v) for k, v in D.state_dict().items() if k in D.params)
    # dtype cast, deepcopy (the trainer's EMA generator), summary
    G64 = copy.deepcopy(G).to(dtype="float64")
    assert all(p.dtype == np.float64 for p in G64.params.values())
    z = rng.standard_normal((2, 100, 1, 1)).astype(np.float32)
    with G.evaluating(), G64.evaluating():
        np.testing.assert_allclose(G64(z.astype(np.float64), labels[:2]), G(z, labels[:2]), atol=1e-5)
    assert "(N, 1, 28, 28)" in summary(G, (103, 1, 1), print_fn=None)
    assert f"{D.num_parameters():,}" in summary(D, (4, 28, 28) if form == "concat" else (1, 28, 28), print_fn=None)


@pytest.mark.parametrize("form", ["concat", "projection"])
def test_grad_flow_monitor_sees_ds_stack(form):
    _, D = conditional_dcgan("dcgan28", 3, form, ngf=4, ndf=4, seed=0)
    D.monitor = GradFlow(D)
    x, labels = np.random.default_rng(0).uniform(-1, 1, (2, 1, 28, 28)).astype(np.float32), np.array([0, 1])
    D.backward(np.ones_like(D(x, labels)))
    rows = D.monitor.summary()
    assert len(rows) == len(D.layers) and rows[0]["layer"] == "0:Conv2d"
    assert all(np.isfinite(r["act_mean"]) and np.isfinite(r["grad_in"]) for r in rows)


@pytest.mark.parametrize("form", ["concat", "projection"])
def test_state_dict_round_trip(form):
    G, D = conditional_dcgan("dcgan28", 3, form, ngf=4, ndf=4, seed=0)
    G2, D2 = conditional_dcgan("dcgan28", 3, form, ngf=4, ndf=4, seed=1)
    if form == "projection":
        D.embed.params["weight"][...] = 1.5
    G2.load_state_dict(G.state_dict())
    D2.load_state_dict(D.state_dict())
    z = np.random.default_rng(0).standard_normal((2, 100, 1, 1)).astype(np.float32)
    labels = np.array([2, 1])
    for a, b in ((G, G2), (D, D2)):
        for k, v in a.state_dict().items():
            np.testing.assert_array_equal(v, b.state_dict()[k])
    with G.evaluating(), G2.evaluating(), D.evaluating(), D2.evaluating():
        np.testing.assert_array_equal(D2(G2(z, labels), labels), D(G(z, labels), labels))
    _, D_other = conditional_dcgan("dcgan28", 4, form, ngf=4, ndf=4, seed=0)
    with pytest.raises(ValueError, match="has shape"):
        D_other.load_state_dict(D.state_dict())            # built for 4 classes, saved with 3


@pytest.mark.parametrize("form", ["concat", "projection"])
def test_sigmoid_and_d_norm_options(form):
    _, D = conditional_dcgan("dcgan28", 3, form, ngf=4, ndf=4, seed=0, sigmoid=False, d_norm="none")
    assert not any(isinstance(m, (nn.BatchNorm2d, nn.Sigmoid)) for _, m in D.named_modules())
    x, labels = np.random.default_rng(0).uniform(-1, 1, (3, 1, 28, 28)).astype(np.float32), np.array([0, 1, 2])
    if form == "projection":
        D.embed.params["weight"][...] = 0.3
    s = D(x, labels)
    _, D_sig = conditional_dcgan("dcgan28", 3, form, ngf=4, ndf=4, seed=0, d_norm="none")
    D_sig.load_state_dict(D.state_dict())
    np.testing.assert_allclose(D_sig(x, labels), 1 / (1 + np.exp(-s)), rtol=1e-5)   # sigmoid of the full score


@pytest.mark.parametrize("form", ["concat", "projection"])
def test_runs_on_the_cupy_stand_in(fake_cupy, form):
    G, D = conditional_dcgan("dcgan28", 3, form, ngf=4, ndf=4, seed=0, dtype="float64")
    Gc, Dc = copy.deepcopy(G).to("cupy"), copy.deepcopy(D).to("cupy")
    if form == "projection":
        for net in (D, Dc):
            net.embed.params["weight"][...] = 0.01
    rng = np.random.default_rng(0)
    z, labels = rng.standard_normal((2, 100, 1, 1)), np.array([2, 0])
    x = G(z, labels)
    xc = Gc(B.asarray(z, "cupy"), labels)          # NumPy labels are moved to the model's backend
    assert isinstance(xc, fake_cupy.ndarray)
    np.testing.assert_allclose(B.to_numpy(xc), x, atol=1e-10)
    p, pc = D(x, labels), Dc(xc, B.asarray(labels, "cupy"))
    np.testing.assert_allclose(B.to_numpy(pc), p, atol=1e-10)
    dp = rng.standard_normal(p.shape)
    dx, dxc = D.backward(dp), Dc.backward(B.asarray(dp, "cupy"))
    np.testing.assert_allclose(B.to_numpy(dxc), dx, atol=1e-10)
    np.testing.assert_allclose(B.to_numpy(Gc.backward(dxc)), G.backward(dx), atol=1e-10)
    for a, b in ((D, Dc), (G, Gc)):
        for k, g in a.grads.items():
            np.testing.assert_allclose(B.to_numpy(b.grads[k]), g, atol=1e-10, err_msg=k)


def test_bad_labels_and_inputs_are_clear_errors():
    G, D = conditional_dcgan("dcgan28", 3, "concat", ngf=4, ndf=4, seed=0)
    _, P = conditional_dcgan("dcgan28", 3, "projection", ngf=4, ndf=4, seed=0)
    z, x = np.zeros((2, 100, 1, 1), np.float32), np.zeros((2, 1, 28, 28), np.float32)
    with pytest.raises(ValueError, match=r"LabelConcatG: labels must be an integer array of shape \(2,\), "
                                         r"one class per sample, got float64 \(2,\)"):
        G(z, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"LabelConcatD: labels must be an integer array of shape \(2,\).*"
                                         r"got int64 \(3,\)"):
        D(x, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"ProjectionD: labels must be in \[0, 3\) \(the model has 3 classes\), "
                                         r"got values from 1 to 3"):
        P(x, np.array([1, 3]))
    with pytest.raises(ValueError, match=r"labels must be an integer array .* got list"):
        P(x, [0, 1])
    with pytest.raises(ValueError, match=r"LabelConcatD: expected input with 1 channels \(the labels' 3 are "
                                         r"added here\), got \(2, 4, 28, 28\)"):
        D(np.zeros((2, 4, 28, 28), np.float32), np.array([0, 1]))


@pytest.mark.parametrize("kwargs, message", [
    (dict(arch="dcgan32"), "unknown architecture 'dcgan32': choose one of dcgan28, dcgan64"),
    (dict(conditional="film"), "conditional must be one of concat, projection, got 'film'"),
    (dict(d_norm="layer"), "d_norm must be 'batch' or 'none', got 'layer'"),
    (dict(num_classes=0), "num_classes must be >= 1, got 0"),
])
def test_bad_builder_arguments_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        conditional_dcgan(**{"arch": "dcgan28", "num_classes": 3, **kwargs})


def test_dcgan64_shapes_both_forms():
    for form in ("concat", "projection"):
        G, D = conditional_dcgan("dcgan64", 5, form, ngf=4, ndf=4, seed=0)
        x = G(np.zeros((2, 100, 1, 1), np.float32), np.array([4, 0]))
        assert x.shape == (2, 3, 64, 64) and D(x, np.array([4, 0])).shape == (2, 1, 1, 1)
    assert D.embed.params["weight"].shape == (5, 32)           # F = 8 ndf, phi (N, 32, 4, 4)


def test_class_rows_labels_a_grid_with_one_row_per_class():
    labels = class_rows(3, 4)
    assert labels.dtype == np.int64 and labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    with pytest.raises(ValueError, match="num_classes and per_row must be >= 1, got 0, 4"):
        class_rows(0, 4)
