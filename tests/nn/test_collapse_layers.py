"""Maxout, Dropout, Pack and MinibatchStdDev (the collapse lab's layers): backward and tangent against
float64 central differences with a random upstream gradient, and against PyTorch where it is installed."""
import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

from minigan import backend as B
from minigan import nn
from minigan.penalties import critic_layers
from tests.gradcheck import assert_close, check_layer_gradients, numerical_gradient
from tests.nn.test_tangent import assert_weight_grad_of_tangent_product
from tests.strategies import seeds


def tangent_by_differences(layer, x, x_dot, h=1e-6):
    """``(f(x + h x_dot) - f(x - h x_dot)) / 2h``; leaves the layer's cache at x."""
    expected = (layer.forward(x + h * x_dot) - layer.forward(x - h * x_dot)) / (2 * h)
    layer.forward(x)
    return expected


# ------------------------------------------------------------------------------------------- Maxout
def piece_margin(layer, x):
    """Smallest gap between a unit's two largest pieces (central differences must not cross a switch)."""
    u = (x @ layer.params["weight"].T + layer.params["bias"]).reshape(len(x), layer.out_features, layer.pieces)
    top = np.sort(u, axis=2)
    return float((top[:, :, -1] - top[:, :, -2]).min()) if layer.pieces > 1 else np.inf


@st.composite
def maxouts(draw):
    rng = np.random.default_rng(draw(seeds))
    layer = nn.Maxout(draw(st.integers(1, 5)), draw(st.integers(1, 4)), draw(st.integers(1, 4)),
                      dtype="float64", rng=rng)
    x = rng.standard_normal((draw(st.integers(1, 4)), layer.in_features))
    return layer, x, rng


@given(drawn=maxouts())
def test_maxout_gradients(drawn):
    layer, x, rng = drawn
    assume(piece_margin(layer, x) > 1e-4)
    check_layer_gradients(layer, x, rng)


@given(drawn=maxouts())
def test_maxout_tangent_and_weight_product(drawn):
    layer, x, rng = drawn
    assume(piece_margin(layer, x) > 1e-4)
    x_dot, dy = rng.standard_normal(x.shape), rng.standard_normal((len(x), layer.out_features))
    layer.forward(x)
    assert_close(layer.tangent(x_dot), tangent_by_differences(layer, x, x_dot), f"{layer!r} tangent")
    assert_weight_grad_of_tangent_product(layer, x, x_dot, dy)          # weight, and the bias (0)


def test_maxout_is_the_max_of_its_pieces_and_ties_go_to_the_first():
    layer = nn.Maxout(1, 2, 3, dtype="float64")
    layer.params["weight"][...] = np.array([[1.0], [2.0], [2.0], [-1.0], [0.0], [1.0]])
    layer.params["bias"][...] = 0.0
    y = layer(np.array([[1.0], [-1.0]]))
    np.testing.assert_array_equal(y, [[2.0, 1.0], [-1.0, 1.0]])         # x = -1, unit 0: the max of -1, -2, -2
    layer.backward(np.ones((2, 2)))
    # x = 1: unit 0's pieces 1, 2, 2 tie between pieces 1 and 2: the first (row 1) takes the gradient
    np.testing.assert_array_equal(layer.grads["weight"][:, 0], [-1.0, 1.0, 0.0, -1.0, 0.0, 1.0])


def test_maxout_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    layer = nn.Maxout(5, 3, 4, dtype="float64", rng=rng)
    x, dy = rng.standard_normal((6, 5)), rng.standard_normal((6, 3))
    tx, tW, tb = (torch.tensor(a, requires_grad=True) for a in (x, layer.params["weight"], layer.params["bias"]))
    ty = (tx @ tW.T + tb).reshape(6, 3, 4).max(dim=2).values
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(layer(x), ty.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.backward(dy), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.grads["weight"], tW.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.grads["bias"], tb.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_maxout_on_the_fake_gpu(fake_cupy):
    rng = np.random.default_rng(2)
    W, b = rng.integers(-1, 2, (12, 5)).astype(float), rng.integers(-1, 2, 12).astype(float)
    x = rng.integers(-2, 3, (6, 5)).astype(float)                # small integers: some pieces tie
    dy, x_dot = rng.standard_normal((6, 3)), rng.standard_normal((6, 5))
    results = []
    for device, move in (("numpy", lambda a: a), ("cupy", lambda a: B.asarray(a, "cupy"))):
        layer = nn.Maxout(5, 3, 4, dtype="float64")
        layer.params["weight"][...], layer.params["bias"][...] = W, b
        layer.to(device)
        y, dx = layer(move(x)), layer.backward(move(dy))
        y_dot = layer.tangent(move(x_dot))
        layer.add_weight_grad(move(dy), move(x_dot))
        assert B.backend_name(y) == device and B.backend_name(dx) == device and B.backend_name(y_dot) == device
        results.append([B.to_numpy(a) for a in (y, dx, y_dot, layer.grads["weight"], layer.grads["bias"])])
    for cpu, gpu in zip(*results):
        np.testing.assert_allclose(gpu, cpu, rtol=1e-12, atol=1e-15)


# ------------------------------------------------------------------------------------------- Dropout
@given(p=st.sampled_from([0.0, 0.2, 0.5, 0.9]), shape=st.sampled_from([(3, 4), (2, 3, 2, 2)]), seed=seeds)
def test_dropout_gradients_and_tangent_with_the_mask_fixed(p, shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    layer = nn.Dropout(p, rng=np.random.default_rng(seed))
    state = layer.rng.bit_generator.state

    def same_mask(a):                                          # every forward draws afresh: replay the draw
        layer.rng.bit_generator.state = state
        return layer.forward(a)
    y = same_mask(x)
    dy = rng.standard_normal(shape)
    assert_close(layer.backward(dy), numerical_gradient(lambda: float(np.sum(same_mask(x) * dy)), x), "dropout dx")
    x_dot = rng.standard_normal(shape)
    same_mask(x)
    assert_close(layer.tangent(x_dot), (same_mask(x + 1e-6 * x_dot) - same_mask(x - 1e-6 * x_dot)) / 2e-6,
                 "dropout tangent")
    kept = y != 0
    np.testing.assert_allclose(y[kept], x[kept] / (1 - p))         # kept units scaled by 1 / (1 - p)


def test_dropout_keeps_about_1_minus_p_and_is_the_identity_in_eval():
    layer = nn.Dropout(0.3, rng=np.random.default_rng(0))
    x = np.ones((200, 100))
    y = layer(x)
    assert abs((y != 0).mean() - 0.7) < 0.01 and abs(y.mean() - 1.0) < 0.03
    layer.eval()
    assert layer(x) is x
    np.testing.assert_array_equal(layer.backward(x), x)


def test_dropout_draws_only_from_its_stream():
    a, b = nn.Dropout(0.5, rng=np.random.default_rng(7)), nn.Dropout(0.5, rng=np.random.default_rng(7))
    x = np.ones((4, 8), np.float32)
    np.random.seed(0)
    ya = a(x)
    np.random.seed(1)                                           # the global state plays no part
    np.testing.assert_array_equal(ya, b(x))
    assert not np.array_equal(a(x), ya)                         # the next forward: the next draw
    net = nn.Sequential(nn.Dropout(0.5), nn.Linear(8, 2), nn.Dropout(0.1))
    stream = np.random.default_rng(3)
    assert nn.dropout.use_stream(net, stream) == 2 and net[0].rng is stream and net[2].rng is stream


@pytest.mark.parametrize("p", [-0.1, 1.0])
def test_dropout_refuses_p_outside_0_1(p):
    with pytest.raises(ValueError, match=r"in \[0, 1\)"):
        nn.Dropout(p)


def test_dropout_mask_is_the_same_on_the_fake_gpu(fake_cupy):
    x = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    y_cpu = nn.Dropout(0.5, rng=np.random.default_rng(1))(x)
    y_gpu = nn.Dropout(0.5, rng=np.random.default_rng(1))(B.asarray(x, "cupy"))
    assert B.backend_name(y_gpu) == "cupy"
    np.testing.assert_array_equal(B.to_numpy(y_gpu), y_cpu)


# ------------------------------------------------------------------------------------------- Pack
@given(m=st.integers(1, 3), groups=st.integers(1, 3), image=st.booleans(), seed=seeds)
def test_pack_gradients_and_tangent(m, groups, image, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((m * groups, 2, 3, 2) if image else (m * groups, 3))
    layer = nn.Pack(m)
    check_layer_gradients(layer, x, rng)
    x_dot = rng.standard_normal(x.shape)
    layer.forward(x)
    assert_close(layer.tangent(x_dot), tangent_by_differences(layer, x, x_dot), "Pack tangent")


def test_pack_puts_consecutive_samples_side_by_side():
    x = np.arange(12.0).reshape(6, 2)                           # sample n = (2n, 2n + 1)
    np.testing.assert_array_equal(nn.Pack(3)(x), [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]])
    images = np.arange(4 * 2 * 3 * 3.0).reshape(4, 2, 3, 3)
    packed = nn.Pack(2)(images)                                 # (2, 4, 3, 3): samples 0, 1 then 2, 3
    assert packed.shape == (2, 4, 3, 3)
    np.testing.assert_array_equal(packed[1, 2:], images[3])     # pack 1's second picture is sample 3
    with pytest.raises(ValueError, match="a batch of 6 cannot be packed in groups of 4"):
        nn.Pack(4)(np.zeros((6, 2), np.float32))


def test_pack_matches_torch_cat_of_consecutive_samples():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((6, 2, 4, 4))
    t = torch.tensor(x)                                         # pack r: samples 3r, 3r + 1, 3r + 2, channels cat
    theirs = torch.cat([t[j::3] for j in range(3)], dim=1)
    np.testing.assert_array_equal(nn.Pack(3)(x), theirs.numpy())


# ------------------------------------------------------------------------------------------- MinibatchStdDev
@st.composite
def mbstd_inputs(draw):
    rng = np.random.default_rng(draw(seeds))
    group = draw(st.integers(1, 4))
    N = group * draw(st.integers(1, 3))
    shape = (N, draw(st.integers(1, 3))) + draw(st.sampled_from([(), (2, 2), (1, 3)]))
    return nn.MinibatchStdDev(group), rng.standard_normal(shape), rng


@given(drawn=mbstd_inputs())
def test_minibatch_stddev_gradients(drawn):
    layer, x, rng = drawn
    check_layer_gradients(layer, x, rng)


@given(drawn=mbstd_inputs())
def test_minibatch_stddev_tangent(drawn):
    layer, x, rng = drawn
    x_dot = rng.standard_normal(x.shape)
    layer.forward(x)
    assert_close(layer.tangent(x_dot), tangent_by_differences(layer, x, x_dot), f"{layer!r} tangent")


def progan_minibatch_stddev(torch, x, group_size):
    """ProGAN's minibatch_stddev_layer (networks.py), written in PyTorch, NCHW."""
    G = min(group_size, x.shape[0])
    N, C, H, W = x.shape
    y = x.reshape(G, -1, C, H, W)                               # [GMCHW] split the batch into groups of G
    y = y - y.mean(dim=0, keepdim=True)                         # [GMCHW] subtract the group's mean
    y = (y ** 2).mean(dim=0)                                    # [MCHW]  variance over the group
    y = torch.sqrt(y + 1e-8)                                    # [MCHW]  std
    y = y.mean(dim=(1, 2, 3), keepdim=True)                     # [M111]  averaged over channels and pixels
    y = y.repeat(G, 1, H, W)                                    # [N1HW]  replicated over the group and pixels
    return torch.cat([x, y], dim=1)                             # [N(C+1)HW]


@pytest.mark.parametrize("N, group_size", [(8, 4), (6, 2), (3, 4)])
def test_minibatch_stddev_matches_progan_in_pytorch(N, group_size):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(N)
    x, layer = rng.standard_normal((N, 3, 4, 5)), nn.MinibatchStdDev(group_size)
    tx = torch.tensor(x, requires_grad=True)
    ty = progan_minibatch_stddev(torch, tx, group_size)
    dy = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(layer(x), ty.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.backward(dy), tx.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_minibatch_stddev_sees_a_collapsed_batch():
    layer = nn.MinibatchStdDev(4)
    same = np.tile(np.random.default_rng(0).standard_normal((1, 5)), (4, 1))
    assert layer(same)[:, -1] == pytest.approx(1e-4)             # sqrt(0 + 1e-8): a batch of copies
    assert (layer(np.random.default_rng(1).standard_normal((4, 5)))[:, -1] > 0.3).all()
    with pytest.raises(ValueError, match="a batch of 6 does not split into groups of 4"):
        layer(np.zeros((6, 5)))


def test_minibatch_stddev_on_the_fake_gpu(fake_cupy):
    x = np.random.default_rng(0).standard_normal((8, 2, 3, 3))
    dy = np.random.default_rng(1).standard_normal((8, 3, 3, 3))
    cpu, gpu = nn.MinibatchStdDev(4), nn.MinibatchStdDev(4)
    np.testing.assert_allclose(B.to_numpy(gpu(B.asarray(x, "cupy"))), cpu(x), rtol=1e-12)
    np.testing.assert_allclose(B.to_numpy(gpu.backward(B.asarray(dy, "cupy"))), cpu.backward(dy), rtol=1e-12)


# ------------------------------------------------------------------------------------------- the penalties
def test_the_penalties_take_maxout_dropout_and_pack_but_refuse_minibatch_stddev():
    ok = nn.Sequential(nn.Pack(2), nn.Maxout(4, 3, 2), nn.Dropout(0.5), nn.Linear(3, 1))
    assert len(critic_layers(ok)) == 4
    with pytest.raises(ValueError, match="MinibatchStdDev"):
        critic_layers(nn.Sequential(nn.MinibatchStdDev(4), nn.Linear(3, 1)))


@given(seed=seeds, kind=st.sampled_from(["gp", "r1"]), m=st.integers(1, 3))
def test_penalty_through_a_packed_maxout_critic_matches_finite_differences(seed, kind, m):
    from minigan.penalties import gradient_penalty, r1_penalty
    rng = np.random.default_rng(seed)
    D = nn.Sequential(nn.Flatten(), nn.Pack(m), nn.Maxout(2 * m, 3, 2, dtype="float64", rng=rng),
                      nn.Maxout(3, 2, 3, dtype="float64", rng=rng), nn.Linear(2, 1, dtype="float64", rng=rng))
    x = rng.standard_normal((2 * m, 2, 1, 1))                   # two packs of m 2D points, as the trainer holds them
    D.forward(x)
    assume(min(piece_margin(D[2], D[1].forward(D[0].forward(x))),
               piece_margin(D[3], D[2].forward(D[1].forward(D[0].forward(x))))) > 1e-3)

    def P():
        return gradient_penalty(D, x, 1.0, 0.5) if kind == "gp" else r1_penalty(D, x, 1.0)
    xc = x.copy()
    g = numerical_gradient(lambda: float(D.forward(xc).sum()), xc)
    norms = np.sqrt((g.reshape(2, -1) ** 2).sum(axis=1))        # one norm per pack: D's input is the pack
    assert P() == pytest.approx(np.mean((norms - 0.5) ** 2) if kind == "gp" else np.mean(norms ** 2), rel=1e-6)
    D.zero_grad()
    P()
    analytic = {name: g.copy() for name, g in D.grads.items()}
    for name, p in D.params.items():
        assert_close(analytic[name], numerical_gradient(P, p), f"{kind} dP/d{name}", rtol=1e-5)


@given(seed=seeds, kind=st.sampled_from(["gp", "r1", "backward"]))
def test_spectral_norm_of_a_maxout_matches_finite_differences(seed, kind):
    from minigan.penalties import gradient_penalty, r1_penalty
    rng = np.random.default_rng(seed)
    mx = nn.Maxout(3, 2, 3, dtype="float64", rng=rng)
    D = nn.Sequential(nn.SpectralNorm(mx, rng=rng), nn.Linear(2, 1, dtype="float64", rng=rng))
    x = rng.standard_normal((3, 3))
    for _ in range(5):                                           # power iterations from the random start,
        D.forward(x)                                             # then u, v fixed (eval) for the differences
    D.eval()
    assume(piece_margin(mx, x) > 1e-3)                           # W_sn's pieces: the margin scales by 1/sigma
    if kind == "backward":
        check_layer_gradients(D, x, rng)
        return

    def P():
        return gradient_penalty(D, x, 1.0, 0.5) if kind == "gp" else r1_penalty(D, x, 1.0)
    D.zero_grad()
    P()
    analytic = {name: g.copy() for name, g in D.grads.items()}
    for name, p in D.params.items():
        assert_close(analytic[name], numerical_gradient(P, p), f"{kind} dP/d{name}", rtol=1e-5)
