"""The fast path computes the plain path's numbers: every layer, Adam, and whole training steps.

The plain path (``minigan/nn/``, ``minigan/optim.py``) is the code a learner
reads; the fast path (``minigan/fast/``) is what trains by default. In float64
the two agree to 1e-12 relative (they add the same products in another order),
for forward, backward (dx and every parameter gradient) and the tangent pass
of the gradient penalties, on hypothesis-drawn shapes; and whole
``GANTrainer.step`` runs of every game, conditional pairs, penalties,
augmentation and the MLPs end with the same weights.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigan
from minigan import fast, nn
from minigan.gan_losses import GAN_LOSSES
from minigan.models import LabelConcatD, LabelConcatG, ProjectionD, mlp_pictures
from minigan.optim import Adam
from minigan.train import GANTrainer
from tests.strategies import conv_configs, conv_transpose_configs, seeds
from tests.test_train import tiny_gan

RTOL = 1e-12


def assert_equal_paths(fast_value, plain_value, what, scale=None):
    """Equal to 1e-12 of the value's scale (a sum in another order moves the last bits only).

    ``scale``: the size of the terms the value is a sum of, where they cancel (BatchNorm's dx);
    by default the value's own largest entry.
    """
    a, b = np.asarray(fast_value), np.asarray(plain_value)
    assert a.shape == b.shape, f"{what}: shape {a.shape} (fast) != {b.shape} (plain)"
    scale = max(float(np.abs(b).max(initial=0)) if scale is None else scale, 1e-300)
    err = float(np.abs(a - b).max(initial=0)) / scale
    assert err <= RTOL, f"{what}: the fast and plain paths differ (relative error {err:.2e})"


def both_paths(make_layer, x, rng, tangent=False):
    """Forward, backward (random dy) and, if asked, the tangent pass of one layer on each path.

    Returns ``{"fast": results, "plain": results}``, each a dict of arrays.
    """
    dy = x_dot = None
    out = {}
    for path in ("fast", "plain"):
        layer = make_layer()                                          # the same weights each time
        with (fast.on() if path == "fast" else minigan.plain()):
            y = layer.forward(x)
            if dy is None:
                dy, x_dot = rng.standard_normal(y.shape), rng.standard_normal(x.shape)
            layer.zero_grad()
            dx = layer.backward(dy)
            res = {"y": y.copy(), "dx": None if dx is None else dx.copy(),
                   **{f"d{name}": g.copy() for name, _, g in layer.parameters()}}
            if tangent:
                layer.forward(x)
                res["y_dot"] = layer.tangent(x_dot).copy()
                layer.zero_grad()
                layer.add_weight_grad(dy, x_dot)                      # the penalty's weight product
                res["dW_at_x_dot"] = layer.grads["weight"].copy()
        out[path] = res
    out["dy"] = dy
    return out


def check_paths(results, what, scales=None):
    for key, value in results["plain"].items():
        if value is None:
            assert results["fast"][key] is None, f"{what}: {key} is None on the plain path only"
            continue
        assert_equal_paths(results["fast"][key], value, f"{what} {key}", (scales or {}).get(key))


def layout(x, channels_last):
    """``x`` (N, C, H, W) as it is, or with NHWC memory (as activations travel between fast layers)."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2) if channels_last else x


@given(cfg=conv_configs(), bias=st.booleans(), channels_last=st.booleans(), seed=seeds)
def test_conv2d(cfg, bias, channels_last, seed):
    rng = np.random.default_rng(seed)
    x = layout(rng.standard_normal((cfg["N"], cfg["C_in"], cfg["H"], cfg["W"])), channels_last)

    def make():
        return nn.Conv2d(cfg["C_in"], cfg["C_out"], cfg["kernel"], cfg["stride"], cfg["padding"], bias=bias,
                         dtype="float64", rng=np.random.default_rng(seed))
    check_paths(both_paths(make, x, rng, tangent=True), f"Conv2d {cfg}")


@given(cfg=conv_transpose_configs(), bias=st.booleans(), channels_last=st.booleans(), seed=seeds)
def test_conv_transpose2d(cfg, bias, channels_last, seed):
    rng = np.random.default_rng(seed)
    x = layout(rng.standard_normal((cfg["N"], cfg["C_in"], cfg["H"], cfg["W"])), channels_last)

    def make():
        return nn.ConvTranspose2d(cfg["C_in"], cfg["C_out"], cfg["kernel"], cfg["stride"], cfg["padding"],
                                  cfg["output_padding"], bias=bias, dtype="float64", rng=np.random.default_rng(seed))
    check_paths(both_paths(make, x, rng), f"ConvTranspose2d {cfg}")


@pytest.mark.parametrize("kind", ["Conv2d", "ConvTranspose2d"])
@pytest.mark.parametrize("input_grad, requires_grad", [(False, True), (True, False)])
def test_convolutions_with_gradients_switched_off(kind, input_grad, requires_grad):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 2, 6, 6))

    def make():
        layer = getattr(nn, kind)(2, 3, 4, 2, 1, dtype="float64", rng=np.random.default_rng(0))
        layer.input_grad, layer.requires_grad = input_grad, requires_grad
        return layer
    check_paths(both_paths(make, x, rng), kind)


@pytest.mark.parametrize("shape, make", [
    ((4, 7), lambda: nn.Linear(7, 5, dtype="float64", rng=np.random.default_rng(1))),
    ((4, 64), lambda: nn.Linear(64, 3, dtype="float64", rng=np.random.default_rng(1))),    # tall dW
    ((5, 7), lambda: nn.Maxout(7, 3, 4, dtype="float64", rng=np.random.default_rng(1))),
], ids=["Linear", "Linear, tall dW", "Maxout"])
def test_linear_and_maxout(shape, make):
    rng = np.random.default_rng(2)
    check_paths(both_paths(make, rng.standard_normal(shape), rng, tangent=True), repr(make()))


@given(N=st.integers(1, 6), n_in=st.integers(1, 5), out=st.integers(1, 4), pieces=st.integers(1, 7),
       ties=st.booleans(), seed=seeds)
def test_maxout(N, n_in, out, pieces, ties, seed):
    """The running max and the winners' index (fast) against argmax and the one-hot mask (plain).

    ``ties``: small integers for x, W and b, so that pieces often tie exactly; the first of the
    tied pieces must take the gradient on both paths (dW and db tell which one did).
    """
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, (N, n_in)).astype(float) if ties else rng.standard_normal((N, n_in))

    def make():
        layer = nn.Maxout(n_in, out, pieces, dtype="float64", rng=np.random.default_rng(seed))
        if ties:
            ints = np.random.default_rng(seed)
            for p in layer.params.values():
                p[...] = ints.integers(-1, 2, p.shape)
        return layer
    check_paths(both_paths(make, x, rng, tangent=True), repr(make()))


@given(N=st.integers(2, 6), C=st.integers(1, 4), H=st.integers(1, 5), channels_last=st.booleans(),
       training=st.booleans(), seed=seeds)
def test_batchnorm2d(N, C, H, channels_last, training, seed):
    rng = np.random.default_rng(seed)
    x = layout(rng.standard_normal((N, C, H, H)) * 3 + 1, channels_last)

    def make():
        bn = nn.BatchNorm2d(C, dtype="float64")
        bn.params["weight"][...] = np.random.default_rng(seed).uniform(0.5, 2, C)
        bn.buffers["running_var"][...] = 2.0
        return bn.train(training)
    results = both_paths(make, x, rng)
    # dx = inv_std * (dx_hat - mean(dx_hat) - x_hat mean(dx_hat x_hat)): terms of size |dy| gamma inv_std
    # that cancel (to 0 at one value per channel): judged against the terms, not their difference.
    inv_std = 1 / np.sqrt(x.var(axis=(0, 2, 3)) + 1e-5) if training else 1 / np.sqrt(2.0 + 1e-5)
    terms = float(np.abs(results["dy"]).max() * np.abs(make().params["weight"]).max() * np.max(inv_std))
    check_paths(results, "BatchNorm2d", {"dx": terms})


def test_batchnorm_on_every_core_and_its_running_statistics():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((64, 8, 32, 32)) * 2 - 1                  # 2**19 values: split between the cores
    layers = {}
    for path in ("fast", "plain"):
        bn = layers[path] = nn.BatchNorm2d(8, dtype="float64")
        with (fast.on() if path == "fast" else minigan.plain()):
            y = bn.forward(x)
            dx = bn.backward(np.cos(x))
        layers[path] = (y, dx, bn.grads["weight"], bn.buffers["running_mean"], bn.buffers["running_var"])
    for f, p, what in zip(layers["fast"], layers["plain"], ("y", "dx", "dgamma", "running_mean", "running_var")):
        assert_equal_paths(f, p, f"BatchNorm2d {what}")


@pytest.mark.parametrize("make", [nn.ReLU, lambda: nn.LeakyReLU(0.2), lambda: nn.LeakyReLU(3.0)],
                         ids=["ReLU", "LeakyReLU(0.2)", "LeakyReLU(3)"])
@pytest.mark.parametrize("shape", [(3, 4, 5, 5), (64, 16, 16, 16)], ids=["small", "split between the cores"])
def test_activations(make, shape):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape)
    results = both_paths(make, x, rng)
    for key in results["plain"]:
        np.testing.assert_array_equal(results["fast"][key], results["plain"][key])   # elementwise: the same bits
    layer = make()
    with minigan.plain():
        layer.forward(x)
        y_dot = layer.tangent(x * 0.5)
    with fast.on():
        layer.forward(x)
        np.testing.assert_array_equal(layer.tangent(x * 0.5), y_dot)


@given(seed=seeds, steps=st.integers(1, 4), apply_last=st.booleans())
def test_adam(seed, steps, apply_last):
    rng = np.random.default_rng(seed)
    weights = {}
    for path in ("fast", "plain"):
        net = nn.Sequential(nn.Linear(5, 4, dtype="float64", rng=np.random.default_rng(seed)),
                            nn.Conv2d(1, 2, 3, dtype="float64", rng=np.random.default_rng(seed)))
        opt = Adam(net, lr=1e-2, betas=(0.5, 0.999))
        grads = np.random.default_rng(seed + 1)
        with (fast.on() if path == "fast" else minigan.plain()):
            for k in range(steps):
                for _, _, g in net.parameters():
                    g[...] = grads.standard_normal(g.shape) * 10.0 ** grads.integers(-3, 2)
                opt.step(apply=apply_last or k < steps - 1)
        weights[path] = {**net.state_dict(), **{f"{n}.{k}": a for n, s in opt.state.items() for k, a in s.items()}}
    for key, value in weights["plain"].items():
        assert_equal_paths(weights["fast"][key], value, f"Adam {key}")
    del rng


def tiny_conditional(form, K=3, nz=3, ch=2, seed=0):
    """A conditional pair for 8x8 images: G reads z and the label planes; D concat or projection."""
    rng = np.random.default_rng(seed)
    kw = dict(dtype="float64", rng=rng)
    G = LabelConcatG(nn.ConvTranspose2d(nz + K, 2 * ch, 4, 1, 0, bias=False, **kw), nn.BatchNorm2d(2 * ch, dtype="float64"),
                     nn.ReLU(), nn.ConvTranspose2d(2 * ch, 1, 4, 2, 1, bias=False, **kw), nn.Tanh(), num_classes=K)
    if form == "concat":
        D = LabelConcatD(nn.Conv2d(1 + K, ch, 4, 2, 1, bias=False, **kw), nn.LeakyReLU(0.2),
                         nn.Conv2d(ch, 1, 4, 1, 0, bias=False, **kw), nn.Sigmoid(), num_classes=K)
    else:
        body = nn.Sequential(nn.Conv2d(1, ch, 4, 2, 1, bias=False, **kw), nn.LeakyReLU(0.2),
                             nn.Conv2d(ch, 2 * ch, 4, 2, 1, bias=False, **kw), nn.LeakyReLU(0.2))
        D = ProjectionD(body, nn.Conv2d(2 * ch, 1, 2, 1, 0, bias=False, **kw), K, sigmoid=False)
    return G, D


GAMES = [dict(loss=name) for name in GAN_LOSSES if name != "wgan-gp"]
STEP_CASES = {
    **{f"{g['loss']}": g for g in GAMES},
    "wgan-gp": dict(loss="wgan-gp", d_norm="none"),
    "r1": dict(loss="bce", r1=10.0, d_norm="none"),
    "augment": dict(loss="bce", augment="translation,cutout,color"),
    "ttur-ema-smoothing": dict(loss="bce", lr_g=1e-4, lr_d=4e-4, ema=0.9, label_smoothing=0.1),
    "n_critic": dict(loss="wgan", n_critic=3),
    "n_critic-gp-projection": dict(loss="wgan-gp", n_critic=2, conditional="projection"),
    "concat": dict(loss="bce", conditional="concat"),
    "projection": dict(loss="hinge", conditional="projection"),
    "mlp": dict(loss="bce", arch="mlp"),
}


def make_trainer(case, seed=0, backend="numpy"):
    """A trainer for one of STEP_CASES: the tiny GAN (or conditional pair) in float64 on ``backend``."""
    case = dict(case)
    form = case.pop("conditional", None)
    d_norm = case.pop("d_norm", "batch")
    if case.pop("arch", None) == "mlp":                               # Goodfellow et al.'s MLPs: Dropout, Maxout
        G, D = mlp_pictures(3, 1, 8, seed=seed, dtype="float64", width=6, d_width=4, pieces=3)
    elif form:
        G, D = tiny_conditional(form, seed=seed)
    else:
        G, D = tiny_gan(seed=seed)
        if d_norm == "none":                                          # the penalties need a D without BatchNorm
            D = nn.Sequential(*[m for m in D.layers if not isinstance(m, nn.BatchNorm2d)])
        if case["loss"] not in ("bce", "minimax") or case.get("r1"):
            D = nn.Sequential(*D.layers[:-1])                        # raw scores (the penalties need them)
    return GANTrainer(G.to(backend), D.to(backend), seed=seed, **case)


@pytest.mark.parametrize("case", list(STEP_CASES.values()), ids=list(STEP_CASES))
def test_whole_training_steps(case):
    rng = np.random.default_rng(7)
    k = case.get("n_critic", 1)                                       # n_critic > 1: a real batch per D update
    x = np.tanh(rng.standard_normal((k, 6, 1, 8, 8)))                 # real batches in [-1, 1]
    x = x[0] if k == 1 else list(x)
    labels = np.arange(6) % 3 if k == 1 else [np.roll(np.arange(6) % 3, i) for i in range(k)]
    results = {}
    for path in ("fast", "plain"):
        trainer = make_trainer(case)
        with (fast.on() if path == "fast" else minigan.plain()):
            stats = [dict(trainer.step(x, labels) if trainer.num_classes else trainer.step(x)) for _ in range(3)]
        results[path] = (stats, trainer.state_dict())
    (stats_f, state_f), (stats_p, state_p) = results["fast"], results["plain"]
    for sf, sp in zip(stats_f, stats_p):
        for key in sp:
            assert_equal_paths(sf[key], sp[key], f"step statistic {key}")
    for net in ("G", "D", "G_ema"):
        if state_p[net] is None:
            continue
        for key in state_p[net]:
            assert_equal_paths(state_f[net][key], state_p[net][key], f"{net}.{key} after 3 steps")


@pytest.mark.parametrize("make", [lambda: nn.Conv2d(2, 3, 4, 2, 1, dtype="float64", rng=np.random.default_rng(0)),
                                  lambda: nn.ConvTranspose2d(2, 3, 4, 2, 1, dtype="float64", rng=np.random.default_rng(0)),
                                  lambda: nn.BatchNorm2d(2, dtype="float64"), lambda: nn.LeakyReLU(0.2),
                                  lambda: nn.Sequential(nn.Flatten(), nn.Maxout(72, 3, 4, dtype="float64",
                                                                                rng=np.random.default_rng(0)))],
                         ids=["Conv2d", "ConvTranspose2d", "BatchNorm2d", "LeakyReLU", "Maxout"])
def test_a_switch_flipped_between_forward_and_backward_mixes_nothing(make):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 2, 6, 6))
    reference = both_paths(make, x, rng)["plain"]
    for first, then in ((fast.on, minigan.plain), (minigan.plain, fast.on)):
        layer = make()
        with first():
            layer.forward(x)
        layer.zero_grad()
        dy = rng.standard_normal(reference["y"].shape)
        with then():
            dx = layer.backward(dy)
        with minigan.plain():
            twin = make()
            twin.forward(x)
            twin.zero_grad()
            assert_equal_paths(dx, twin.backward(dy), f"{layer!r} dx, forward and backward on other paths")
