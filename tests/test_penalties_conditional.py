"""The gradient penalties through a class-conditional D (concat and projection): the labels are
constants of the input gradient. Checked like the unconditional ones (tests/test_penalties.py):
finite differences of the whole penalty, an input gradient by finite differences, PyTorch's
double backward, and the real GANTrainer.step end to end in float64."""
import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

from minigan import nn
from minigan.models import LabelConcatD, ProjectionD
from minigan.penalties import chain_of, gradient_penalty, r1_penalty
from minigan.train import GANTrainer
from tests.gradcheck import assert_close, numerical_gradient
from tests.models.test_conditional import smooth_at, tiny_conditional_gan
from tests.strategies import seeds
from tests.test_gan_losses import reference
from tests.test_train_losses import record, record_draws

FORMS = ["concat", "projection"]


def conditional_critic(form, nc, ch, K, rng, spectral=False, bias=True):
    """A float64 conditional critic for 8x8 pictures: no BatchNorm, no Sigmoid, a random embedding."""
    f64 = "float64"
    c_in = nc + K if form == "concat" else nc
    first = nn.Conv2d(c_in, ch, 4, 2, 1, bias=bias, dtype=f64, rng=rng)
    body = [nn.SpectralNorm(first, rng=rng) if spectral else first, nn.LeakyReLU(0.2),
            nn.Conv2d(ch, 2 * ch, 4, 2, 1, bias=bias, dtype=f64, rng=rng), nn.LeakyReLU(0.2)]
    head = nn.Conv2d(2 * ch, 1, 2, 1, 0, bias=bias, dtype=f64, rng=rng)        # phi (N, 2ch, 2, 2) -> (N, 1, 1, 1)
    if form == "concat":
        return LabelConcatD(*body, head, num_classes=K).eval()
    D = ProjectionD(nn.Sequential(*body), head, K, sigmoid=False)
    D.embed.params["weight"][...] = rng.standard_normal((K, 2 * ch))           # it starts at 0: random tests more
    return D.eval()


@st.composite
def conditional_critics(draw):
    rng = np.random.default_rng(draw(seeds))
    form, K, N = draw(st.sampled_from(FORMS)), draw(st.integers(2, 3)), draw(st.integers(1, 3))
    nc, ch = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    D = conditional_critic(form, nc, ch, K, rng, spectral=draw(st.booleans()), bias=draw(st.booleans()))
    x, y = rng.standard_normal((N, nc, 8, 8)), rng.integers(0, K, N)
    assume(smooth_at(D, x, y))
    return D, x, y, rng


def penalty(kind, D, x, y, weight=1.0, target=1.0):
    return gradient_penalty(D, x, weight, target, labels=y) if kind == "gp" else r1_penalty(D, x, weight, labels=y)


def plain_penalty(kind, g, target=1.0):
    norms = np.sqrt((g.reshape(len(g), -1) ** 2).sum(axis=1))
    return float(np.mean((norms - target) ** 2) if kind == "gp" else np.mean(norms ** 2))


@settings(max_examples=12)
@given(drawn=conditional_critics(), kind=st.sampled_from(["gp", "r1"]), target=st.floats(0.1, 2.0))
def test_conditional_penalty_gradient_matches_finite_differences_of_the_whole_penalty(drawn, kind, target):
    D, x, y, rng = drawn
    weight = float(rng.uniform(0.5, 3))
    D.zero_grad()
    penalty(kind, D, x, y, weight, target)
    analytic = {name: g.copy() for name, g in D.grads.items()}
    assert isinstance(D, LabelConcatD) or "embed.weight" in analytic          # the projection term's weight too
    for name, p in D.params.items():
        expected = weight * numerical_gradient(lambda: penalty(kind, D, x, y, 1.0, target), p)
        assert_close(analytic[name], expected, f"{kind} dP/d{name}", rtol=1e-5)


@settings(max_examples=12)
@given(drawn=conditional_critics(), kind=st.sampled_from(["gp", "r1"]))
def test_conditional_penalty_value_is_of_the_pictures_gradient_alone(drawn, kind):
    D, x, y, _ = drawn
    x_moved = x.copy()                                                        # numerical_gradient moves it
    g = numerical_gradient(lambda: float(D.forward(x_moved, y).sum()), x_moved)   # d s / dx, labels held fixed
    assert np.isclose(penalty(kind, D, x, y), plain_penalty(kind, g), rtol=1e-6, atol=1e-9)


def torch_conditional_critic(D, y):
    """D(., y) as a PyTorch function of x and of leaf tensors named like D.params (SpectralNorm's u, v fixed)."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    params = {k: torch.from_numpy(v.copy()).requires_grad_() for k, v in D.params.items()}
    yt = torch.from_numpy(y)

    def layer_stack(x, layers, prefix):
        for i, layer in enumerate(layers):
            W, b = params.get(f"{prefix}{i}.weight"), params.get(f"{prefix}{i}.bias")
            inner = layer
            if isinstance(layer, nn.SpectralNorm):
                u, v = (torch.from_numpy(layer.buffers[k]) for k in "uv")
                W = W / (u @ (W.reshape(W.shape[0], -1) @ v))
                inner = layer.layer
            x = F.conv2d(x, W, b, inner.stride, inner.padding) if isinstance(inner, nn.Conv2d) else \
                F.leaky_relu(x, inner.negative_slope)
        return x

    def f(x):
        if isinstance(D, LabelConcatD):
            planes = F.one_hot(yt, D.num_classes).to(x.dtype)[:, :, None, None].expand(-1, -1, *x.shape[2:])
            return layer_stack(torch.cat([x, planes], 1), D.layers, "")
        phi = layer_stack(x, D.body.layers, "body.")
        s = F.conv2d(phi, params["head.weight"], params.get("head.bias"))
        return s + (params["embed.weight"][yt] * phi.sum((2, 3))).sum(1).reshape(-1, 1, 1, 1)
    return f, params


@settings(max_examples=12)
@given(drawn=conditional_critics(), kind=st.sampled_from(["gp", "r1"]), target=st.floats(0.1, 2.0))
def test_conditional_penalty_matches_pytorch_double_backward(drawn, kind, target):
    torch = pytest.importorskip("torch")
    D, x, y, _ = drawn
    f, params = torch_conditional_critic(D, y)
    xt = torch.from_numpy(x).requires_grad_()
    g, = torch.autograd.grad(f(xt).sum(), xt, create_graph=True)
    norms = torch.linalg.vector_norm(g.flatten(1), dim=1)
    P = ((norms - target) ** 2).mean() if kind == "gp" else (norms ** 2).mean()
    P.backward()
    D.zero_grad()
    assert np.isclose(penalty(kind, D, x, y, 1.0, target), P.item(), rtol=1e-10, atol=1e-14)
    for name, grad in D.grads.items():
        t = params[name].grad
        np.testing.assert_allclose(grad, 0 * grad if t is None else t.numpy(), rtol=1e-8, atol=1e-12, err_msg=name)


@settings(max_examples=12)
@given(drawn=conditional_critics())
def test_each_link_of_the_chain_has_the_tangent_of_its_forward(drawn):
    """``tangent(v)`` is the directional derivative of ``forward`` (by central differences), for
    LabelPlanes (whose planes do not move) and ProjectionScore (``<e_y, sum phi_dot>`` included)."""
    D, x, y, rng = drawn
    chain = chain_of(D, y)
    a = x
    for layer in chain:
        v = rng.standard_normal(a.shape)
        h = 1e-6
        moved = (layer.forward(a + h * v) - layer.forward(a - h * v)) / (2 * h)
        out = layer.forward(a)                                                 # the cache tangent reads
        np.testing.assert_allclose(layer.tangent(v), moved, rtol=1e-6, atol=1e-8, err_msg=repr(layer))
        a = out


def penalty_value(kind, D, x, y):
    """The penalty from D's own first-order backward (labels fixed): an oracle apart from the tangent pass."""
    D.layers[0].input_grad = True
    D.forward(x, y)
    g = D.backward(np.ones((len(x), 1, 1, 1)))
    return plain_penalty(kind, g)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name, r1", [("wgan-gp", 0.0), ("wgan-gp", 0.7), ("hinge", 2.0)])
@settings(max_examples=3)
@given(N=st.integers(2, 3), n_critic=st.integers(1, 2), seed=st.integers(0, 2**31), fresh=st.booleans())
def test_conditional_penalty_step_gradients_match_finite_differences_end_to_end(form, name, r1, N, n_critic, seed,
                                                                                fresh):
    """The real GANTrainer.step on a conditional pair with wgan-gp and/or R1: the whole Loss_D of
    every D update, penalties judged with the real pictures' labels, by finite differences. ``fresh``:
    a list of n_critic real batches and their labels, update k's loss on batch k."""
    rng = np.random.default_rng(seed)
    K, nz, nc = 3, 2, 1
    G, _ = tiny_conditional_gan(form, nz, 1, nc, K, seed)
    D = conditional_critic(form, nc, 1, K, rng).train()
    gp_weight = 3.0
    trainer = GANTrainer(G, D, loss=name, n_critic=n_critic, gp_weight=gp_weight, r1=r1, seed=seed)
    seen, draws = record(trainer), record_draws(trainer)
    n = n_critic if fresh else 1
    xs, ys, y_fake = list(rng.uniform(-1, 1, (n, N, nc, 8, 8))), list(rng.integers(0, K, (n, N))), rng.integers(0, K, N)
    z = rng.standard_normal((N, nz, 1, 1))
    stats = trainer.step(xs if fresh else xs[0], ys if fresh else ys[0], z=z, fake_labels=y_fake)
    ref_d, _ = reference(name, True, 1.0)

    for k in range(n_critic):                                  # D update k: batch k (or the one batch)
        snap, x_real, y_real = seen["D"][k], xs[k % n], ys[k % n]
        G.load_state_dict(snap["G"])
        D.load_state_dict(snap["D"])
        x_fake = G.forward(z, y_fake).copy()
        a = draws["a"][k] if draws["a"] else None
        x_hat = None if a is None else a * x_real + (1 - a) * x_fake
        assume(smooth_at(G, z, y_fake) and smooth_at(D, x_real, y_real) and smooth_at(D, x_fake, y_fake))
        assume(x_hat is None or smooth_at(D, x_hat, y_real))
        if name == "hinge":
            assume(np.abs(D.forward(x_real, y_real) - 1).min() > 1e-4
                   and np.abs(D.forward(x_fake, y_fake) + 1).min() > 1e-4)

        def loss_d():
            loss = ref_d(D.forward(x_real, y_real), D.forward(x_fake, y_fake))
            if x_hat is not None:
                loss += gp_weight * penalty_value("gp", D, x_hat, y_real)
            if r1:
                loss += r1 / 2 * penalty_value("r1", D, x_real, y_real)
            return loss

        if k == n_critic - 1:                                  # the statistics are the last update's
            assert stats["loss_d"] == pytest.approx(loss_d(), rel=1e-9)
        for pname, p, _ in D.parameters():
            assert_close(snap["grads"][pname], numerical_gradient(loss_d, p), f"{form} {name}, r1={r1}: d{pname}")


def test_a_conditional_d_needs_its_labels_and_a_plain_one_none():
    rng = np.random.default_rng(0)
    D = conditional_critic("concat", 1, 1, 3, rng)
    x = rng.standard_normal((2, 1, 8, 8))
    with pytest.raises(ValueError, match="a conditional D needs the pictures' labels"):
        gradient_penalty(D, x)
    with pytest.raises(ValueError, match="labels given, but D is not conditional"):
        r1_penalty(nn.Sequential(*D.layers[1:]), np.zeros((2, 4, 8, 8)), labels=np.array([0, 1]))
    sigmoid_D = ProjectionD(nn.Sequential(nn.Conv2d(1, 2, 4, 2, 1, dtype="float64")), nn.Conv2d(2, 1, 4, dtype="float64"),
                            3, sigmoid=True)
    with pytest.raises(ValueError, match="build the ProjectionD with sigmoid=False"):
        chain_of(sigmoid_D, np.array([0, 1]))


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("kind", ["gp", "r1"])
def test_conditional_penalties_on_the_cupy_stand_in(fake_cupy, form, kind):
    from minigan import backend
    rng = np.random.default_rng(5)
    D = conditional_critic(form, 1, 2, 3, rng, spectral=True)
    x, y = rng.standard_normal((3, 1, 8, 8)), np.array([2, 0, 2])
    D.zero_grad()
    value_cpu = penalty(kind, D, x, y, 3.0, 0.5)
    grads_cpu = {k: g.copy() for k, g in D.grads.items()}
    D.zero_grad()
    D.to("cupy")
    value = penalty(kind, D, backend.asarray(x, "cupy"), y, 3.0, 0.5)    # host labels: moved as the step moves them
    assert value == pytest.approx(value_cpu, rel=1e-12)
    for k, g in D.grads.items():
        assert backend.backend_name(g) == "cupy"
        np.testing.assert_allclose(backend.to_numpy(g), grads_cpu[k], rtol=1e-10, atol=1e-14, err_msg=k)
