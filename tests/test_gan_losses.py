"""The six GAN games of minigan/gan_losses.py: values against the formulas, gradients against
finite differences (float64, hypothesis-drawn batches and scores), the stable logit forms at +-300."""
import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

from minigan import nn
from minigan.gan_losses import GAN_LOSSES, BCE, clip_weights, make_gan_loss
from tests.gradcheck import assert_close, numerical_gradient

# (name, logits): every game on raw scores, and bce/minimax on probabilities too
HEADS = [(name, True) for name in GAN_LOSSES] + [("bce", False), ("minimax", False)]
HEAD_IDS = [f"{n}-{'logits' if lg else 'probabilities'}" for n, lg in HEADS]


def log(p):
    return np.log(p)


def log_sigmoid(s):
    return -np.logaddexp(0, -s)


def reference(name, logits, y):
    """The issue's formulas, written plainly: (Loss_D(s_real, s_fake), Loss_G(s_fake)), means over the batch."""
    if name in ("bce", "minimax"):
        if logits:                                        # log p = log sigmoid(s), log(1 - p) = log sigmoid(-s)
            lp, l1p = log_sigmoid, lambda s: log_sigmoid(-s)
        else:
            lp, l1p = log, lambda p: log(1 - p)
        d = lambda r, f: -np.mean(y * lp(r) + (1 - y) * l1p(r)) - np.mean(l1p(f))   # noqa: E731
        g = (lambda f: -np.mean(lp(f))) if name == "bce" else (lambda f: np.mean(l1p(f)))
        return d, g
    if name == "lsgan":
        return (lambda r, f: 0.5 * np.mean((r - y) ** 2) + 0.5 * np.mean(f ** 2),
                lambda f: 0.5 * np.mean((f - 1) ** 2))
    if name == "hinge":
        return (lambda r, f: np.mean(np.maximum(1 - r, 0)) + np.mean(np.maximum(1 + f, 0)),
                lambda f: -np.mean(f))
    return lambda r, f: np.mean(f) - np.mean(r), lambda f: -np.mean(f)      # wgan, wgan-gp


@st.composite
def scores(draw, logits, shape):
    """A batch of D's outputs: raw scores in [-4, 4], or probabilities in [0.02, 0.98]."""
    lo, hi = (-4.0, 4.0) if logits else (0.02, 0.98)
    values = draw(st.lists(st.floats(lo, hi), min_size=shape[0], max_size=shape[0]))
    return np.array(values, dtype=np.float64).reshape(shape)


@pytest.mark.parametrize("name, logits", HEADS, ids=HEAD_IDS)
@given(data=st.data(), N=st.integers(1, 6), smoothing=st.sampled_from([0.0, 0.1]))
def test_each_loss_and_its_gradients_match_the_formula_and_finite_differences(name, logits, data, N, smoothing):
    loss = GAN_LOSSES[name](logits=logits, real_label=1 - smoothing if GAN_LOSSES[name].has_labels else 1.0)
    y = loss.real_label
    shape = (N, 1, 1, 1)
    s_real, s_fake = data.draw(scores(logits, shape)), data.draw(scores(logits, shape))
    if name == "hinge":                                   # central differences must not straddle a kink
        assume(np.abs(s_real - 1).min() > 1e-3 and np.abs(s_fake + 1).min() > 1e-3)
    ref_d, ref_g = reference(name, logits, y)

    value, ds_real, ds_fake = loss.d_loss(s_real, s_fake)
    assert is_0d_float64(value) and value == pytest.approx(ref_d(s_real, s_fake), rel=1e-12, abs=1e-12)
    f = lambda: loss.d_loss(s_real, s_fake)[0]            # noqa: E731
    assert_close(ds_real, numerical_gradient(f, s_real), f"{name} dLoss_D/ds_real")
    assert_close(ds_fake, numerical_gradient(f, s_fake), f"{name} dLoss_D/ds_fake")

    value, ds = loss.g_loss(s_fake)
    assert is_0d_float64(value) and value == pytest.approx(ref_g(s_fake), rel=1e-12, abs=1e-12)
    assert_close(ds, numerical_gradient(lambda: loss.g_loss(s_fake)[0], s_fake), f"{name} dLoss_G/ds_fake")


@pytest.mark.parametrize("name", ["bce", "minimax"])
@given(data=st.data(), N=st.integers(1, 5))
def test_bce_games_on_logits_equal_the_games_on_sigmoid_probabilities(name, data, N):
    """Sigmoid then the probability form = the logit form: values, and gradients through Sigmoid.backward."""
    s_real, s_fake = data.draw(scores(True, (N, 1))), data.draw(scores(True, (N, 1)))
    on_logits, on_p = GAN_LOSSES[name](logits=True, real_label=0.9), GAN_LOSSES[name](logits=False, real_label=0.9)
    sig_real, sig_fake = nn.Sigmoid(), nn.Sigmoid()
    p_real, p_fake = sig_real(s_real), sig_fake(s_fake)
    d_logit, d_p = on_logits.d_loss(s_real, s_fake), on_p.d_loss(p_real, p_fake)
    assert d_logit[0] == pytest.approx(d_p[0], rel=1e-9)
    np.testing.assert_allclose(d_logit[1], sig_real.backward(d_p[1]), rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(d_logit[2], sig_fake.backward(d_p[2]), rtol=1e-7, atol=1e-12)
    g_logit, g_p = on_logits.g_loss(s_fake), on_p.g_loss(p_fake)
    assert g_logit[0] == pytest.approx(g_p[0], rel=1e-9)
    np.testing.assert_allclose(g_logit[1], sig_fake.backward(g_p[1]), rtol=1e-7, atol=1e-12)
    assert on_logits.d_mean(s_real) == pytest.approx(on_p.d_mean(p_real), rel=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_logit_forms_are_exact_at_extreme_scores(dtype):
    """At +-300 the logit forms keep the gradient p - y (minimax's: -sigmoid(s)): no inf, no NaN, no lost 1."""
    s = np.array([-300.0, 300.0], dtype).reshape(2, 1, 1, 1)
    with np.errstate(over="raise", divide="raise", invalid="raise"):   # no overflow, no inf - inf
        d_real = BCE(logits=True).d_real(s)               # -mean log sigmoid(s): 300 / 2 from the -300 entry
        d_fake = BCE(logits=True).d_fake(s)               # -mean log(1 - sigmoid(s)): 300 / 2 from the +300 entry
        g_nonsat = BCE(logits=True).g_loss(s)
        g_minimax = GAN_LOSSES["minimax"](logits=True).g_loss(s)
    for value in (d_real[0], d_fake[0], g_nonsat[0]):
        assert value == pytest.approx(150.0)
    exact = dict(rtol=1e-7, atol=1e-30)                   # sigmoid(-300) = 5e-131 is no 0 in float64
    np.testing.assert_allclose(d_real[1].ravel(), [-0.5, 0.0], **exact)   # (sigmoid(s) - 1) / N
    np.testing.assert_allclose(d_fake[1].ravel(), [0.0, 0.5], **exact)    # sigmoid(s) / N
    assert g_minimax[0] == pytest.approx(-150.0)          # mean log(1 - sigmoid(s)) = mean -softplus(s)
    np.testing.assert_allclose(g_minimax[1].ravel(), [0.0, -0.5], **exact)   # -sigmoid(s) / N
    for _, ds in (d_real, d_fake, g_nonsat, g_minimax):
        assert ds.dtype == np.dtype(dtype)


def test_minimax_saturates_where_the_non_saturating_loss_does_not():
    """The lesson of the minimax game: when D rejects the fakes (s << 0), G's gradient vanishes."""
    s = np.full((4, 1, 1, 1), -8.0)                       # D(G(z)) = sigmoid(-8) ~ 3e-4
    _, ds_minimax = GAN_LOSSES["minimax"](logits=True).g_loss(s)
    _, ds_bce = BCE(logits=True).g_loss(s)
    assert np.abs(ds_minimax).max() < 1e-3 * np.abs(ds_bce).max()


@pytest.mark.parametrize("name", list(GAN_LOSSES))
def test_float32_in_float32_out(name):
    s = np.linspace(-2, 2, 6, dtype=np.float32).reshape(6, 1, 1, 1) + np.float32(0.05)
    loss = GAN_LOSSES[name](logits=True)
    _, ds_real, ds_fake = loss.d_loss(s, s)
    _, ds = loss.g_loss(s)
    assert ds_real.dtype == ds_fake.dtype == ds.dtype == np.float32
    assert is_0d_float64(loss.d_mean(s))                  # the numbers: as precise as the Python float they
                                                          # stand for, left on s's backend (no wait on a GPU)


def is_0d_float64(value):
    """A game's loss or mean: a 0-d float64 value on the scores' backend (NumPy: a np.float64)."""
    return value.dtype == np.float64 and value.shape == ()


def test_clip_weights_clips_every_parameter_in_place():
    net = nn.Sequential(nn.Conv2d(1, 2, 3, dtype="float64", rng=np.random.default_rng(0)), nn.BatchNorm2d(2))
    for _, p, _ in net.parameters():
        p *= 100
    arrays = [p for _, p, _ in net.parameters()]
    clip_weights(net, 0.05)
    for (_, p, _), same in zip(net.parameters(), arrays):
        assert p is same and np.abs(p).max() <= 0.05
    assert any(np.isclose(np.abs(p), 0.05).any() for p in arrays)


def test_registry_and_clear_errors():
    assert list(GAN_LOSSES) == ["bce", "minimax", "lsgan", "hinge", "wgan", "wgan-gp"]
    assert all(cls.name == name for name, cls in GAN_LOSSES.items())
    assert make_gan_loss("bce", sigmoid_head=True, label_smoothing=0.1).real_label == 0.9
    assert make_gan_loss("minimax", sigmoid_head=False).logits
    choices = "bce, minimax, lsgan, hinge, wgan, wgan-gp"
    with pytest.raises(ValueError, match=f"unknown loss 'wgangp'; choose one of {choices}$"):
        make_gan_loss("wgangp", sigmoid_head=False)
    for name in ("lsgan", "hinge", "wgan", "wgan-gp"):
        with pytest.raises(ValueError, match=rf"loss '{name}' needs D's raw score, but D ends with a Sigmoid: "
                                             r"build D without it \(dcgan28\(\.\.\., sigmoid=False\)"):
            make_gan_loss(name, sigmoid_head=True)
    for name in ("hinge", "wgan", "wgan-gp"):
        with pytest.raises(ValueError, match=rf"'{name}' has none: leave label_smoothing at 0"):
            make_gan_loss(name, sigmoid_head=False, label_smoothing=0.1)
    assert make_gan_loss("lsgan", sigmoid_head=False, label_smoothing=0.1).real_label == 0.9
    with pytest.raises(ValueError, match="works on D's raw score, not on probabilities"):
        GAN_LOSSES["hinge"](logits=False)
