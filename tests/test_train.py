import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

from minigan import nn
from minigan.init import dcgan_init
from minigan.losses import bce
from minigan.train import GANTrainer, NonFiniteLossError
from tests.gradcheck import assert_close, batchnorm_margin, kink_margin, numerical_gradient


def tiny_gan(nz=3, ch=2, nc=1, seed=0, dtype="float64"):
    """A DCGAN in miniature for 8x8 images: the same layer kinds, a few hundred weights."""
    G = nn.Sequential(
        nn.ConvTranspose2d(nz, 2 * ch, 4, 1, 0, bias=False, dtype=dtype), nn.BatchNorm2d(2 * ch, dtype=dtype), nn.ReLU(),
        nn.ConvTranspose2d(2 * ch, nc, 4, 2, 1, bias=False, dtype=dtype), nn.Tanh())
    D = nn.Sequential(
        nn.Conv2d(nc, ch, 4, 2, 1, bias=False, dtype=dtype), nn.LeakyReLU(0.2),
        nn.Conv2d(ch, 2 * ch, 4, 2, 1, bias=False, dtype=dtype), nn.BatchNorm2d(2 * ch, dtype=dtype), nn.LeakyReLU(0.2),
        nn.Conv2d(2 * ch, 1, 2, 1, 0, bias=False, dtype=dtype), nn.Sigmoid())
    rng = np.random.default_rng(seed)
    dcgan_init(G, rng), dcgan_init(D, rng)
    for net in (G, D):                       # DCGAN's 0.02 init makes tiny nets nearly linear: widen it
        for _, p, _ in net.parameters():
            p *= 10 if p.ndim == 4 else 1
    return G, D


def snapshot_updates(trainer):
    """Wrap both optimizers' step() to record the gradients and weights at the moment of each update."""
    seen = {}
    for name, opt in (("D", trainer.opt_D), ("G", trainer.opt_G)):
        real_step = opt.step

        def step(apply=True, name=name, real_step=real_step):
            seen[name] = {"G": trainer.G.state_dict(), "D": trainer.D.state_dict(),
                          "grads": {k: g.copy() for k, g in (trainer.D if name == "D" else trainer.G).grads.items()}}
            real_step(apply=apply)
            seen[name + "_after"] = {"G": trainer.G.state_dict(), "D": trainer.D.state_dict()}
        opt.step = step
    return seen


@pytest.mark.usefixtures("both_paths")
@settings(max_examples=6)
@given(nz=st.integers(2, 3), ch=st.integers(1, 2), nc=st.integers(1, 2), N=st.integers(2, 3),
       smoothing=st.sampled_from([0.0, 0.1]), seed=st.integers(0, 2**31))
def test_step_gradients_match_finite_differences_end_to_end(nz, ch, nc, N, smoothing, seed):
    rng = np.random.default_rng(seed)
    G, D = tiny_gan(nz, ch, nc, seed)
    trainer = GANTrainer(G, D, label_smoothing=smoothing)
    seen = snapshot_updates(trainer)
    x_real = rng.uniform(-1, 1, (N, nc, 8, 8))
    z = rng.standard_normal((N, nz, 1, 1))
    trainer.step(x_real, z=z)

    # D's update: dLoss_D/dtheta_D, with the fake batch a constant.
    G.load_state_dict(seen["D"]["G"])
    D.load_state_dict(seen["D"]["D"])
    x_fake = G.forward(z).copy()
    assume(min(kink_margin(G, z), kink_margin(D, x_real), kink_margin(D, x_fake)) > 1e-4)   # smooth here
    assume(min(batchnorm_margin(G, z), batchnorm_margin(D, x_real), batchnorm_margin(D, x_fake)) > 1e-5)

    def loss_d():
        return bce(D.forward(x_real), 1 - smoothing)[0] + bce(D.forward(x_fake), 0.0)[0]

    for name, p, _ in D.parameters():
        assert_close(seen["D"]["grads"][name], numerical_gradient(loss_d, p), f"D step, dLoss_D/d{name}")

    # G's update: dLoss_G/dtheta_G, the gradient travelling through the *updated* D into G.
    G.load_state_dict(seen["G"]["G"])
    D.load_state_dict(seen["G"]["D"])
    assume(min(kink_margin(G, z), kink_margin(D, G.forward(z))) > 1e-4)
    assume(min(batchnorm_margin(G, z), batchnorm_margin(D, G.forward(z))) > 1e-5)

    def loss_g():
        return bce(D.forward(G.forward(z)), 1.0)[0]

    for name, p, _ in G.parameters():
        assert_close(seen["G"]["grads"][name], numerical_gradient(loss_g, p), f"G step, dLoss_G/d{name}")


def test_d_step_leaves_g_alone_and_g_step_leaves_d_alone():
    G, D = tiny_gan()
    trainer = GANTrainer(G, D)
    start = {"G": G.state_dict(), "D": D.state_dict()}
    seen = snapshot_updates(trainer)
    trainer.step(np.random.default_rng(0).uniform(-1, 1, (4, 1, 8, 8)))
    params = lambda net, state: {n: state[n] for n, _, _ in net.parameters()}   # noqa: E731
    for k, v in params(G, start["G"]).items():            # G untouched until its own update
        np.testing.assert_array_equal(seen["D_after"]["G"][k], v)
        np.testing.assert_array_equal(seen["G"]["G"][k], v)
    for k, v in params(D, seen["D_after"]["D"]).items():  # D's weights frozen during G's update
        np.testing.assert_array_equal(seen["G_after"]["D"][k], v)
        assert not np.array_equal(v, start["D"][k]), f"D's update did not change {k}"
    assert any(not np.array_equal(seen["G_after"]["G"][k], v) for k, v in params(G, start["G"]).items())


def test_same_seed_gives_bitwise_identical_weights():
    data = np.random.default_rng(5).uniform(-1, 1, (6, 4, 1, 8, 8)).astype(np.float32)

    def run(seed):
        G, D = tiny_gan(dtype="float32")
        trainer = GANTrainer(G, D, seed=seed, ema=0.9)
        history = [trainer.step(x) for x in data]
        return G.state_dict(), D.state_dict(), trainer.G_ema.state_dict(), history

    a, b, c = run(1), run(1), run(2)
    for k in a[0]:
        assert np.array_equal(a[0][k], b[0][k]) and np.array_equal(a[2][k], b[2][k])
    for k in a[1]:
        assert np.array_equal(a[1][k], b[1][k])
    assert a[3] == b[3]
    assert not all(np.array_equal(a[0][k], c[0][k]) for k in a[0])


def test_resume_from_state_dict_continues_bitwise():
    data = np.random.default_rng(5).uniform(-1, 1, (6, 4, 1, 8, 8)).astype(np.float32)
    G, D = tiny_gan(dtype="float32")
    straight = GANTrainer(G, D, seed=1, ema=0.99)
    for x in data:
        straight.step(x)

    G1, D1 = tiny_gan(dtype="float32")
    first = GANTrainer(G1, D1, seed=1, ema=0.99)
    for x in data[:3]:
        first.step(x)
    state = first.state_dict()
    G2, D2 = tiny_gan(dtype="float32", seed=9)           # different weights, overwritten by the state
    second = GANTrainer(G2, D2, seed=123, ema=0.99)
    second.load_state_dict(state)
    for x in data[3:]:
        second.step(x)
    for k, v in straight.G.state_dict().items():
        np.testing.assert_array_equal(G2.state_dict()[k], v)
    assert second.step_count == 6


def test_stats_are_python_floats_and_numpy_input_is_cast():
    G, D = tiny_gan(dtype="float32")
    trainer = GANTrainer(G, D, track_grad_flow=True, n_critic=2, label_smoothing=0.1)
    stats = trainer.step(np.zeros((3, 1, 8, 8)))           # float64 data is cast to the model's float32
    for k in ("loss_d", "loss_g", "d_x", "d_g_z", "d_g_z_after"):
        assert type(stats[k]) is float
    assert 0 < stats["d_x"] < 1 and stats["loss_d"] > 0
    flow = stats["grad_flow"]
    assert [r["layer"] for r in flow["D"]][0] == "0:Conv2d" and len(flow["G"]) == len(G.layers)
    assert all(np.isfinite(r["grad_in"]) and r["grad_in"] > 0 for r in flow["D"] + flow["G"][1:])
    assert np.isnan(flow["G"][0]["grad_in"])          # dLoss/dz is never computed: nothing learns z
    assert trainer.opt_D.step_count == 2 and trainer.opt_G.step_count == 1


def test_generate_uses_eval_mode_and_changes_nothing():
    G, D = tiny_gan(dtype="float32")
    trainer = GANTrainer(G, D, ema=0.9)
    trainer.step(np.zeros((4, 1, 8, 8), np.float32))
    before = G.state_dict()
    z = trainer.sample_noise(5)
    a, b = trainer.generate(z=z), trainer.generate(z=z[:2])
    np.testing.assert_allclose(a[:2], b, rtol=1e-5, atol=1e-6)   # no batch dependence in eval mode
    assert a.shape == (5, 1, 8, 8)
    for k, v in G.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
    assert all(m.training for _, m in G.named_modules())


def test_nan_loss_stops_before_the_update_with_a_clear_message():
    G, D = tiny_gan(dtype="float32")
    trainer = GANTrainer(G, D)
    before = D.state_dict()
    with pytest.raises(NonFiniteLossError, match=r"step 1: Loss_D is nan in the update of the discriminator"):
        trainer.step(np.full((4, 1, 8, 8), np.nan, np.float32))
    for k, v in D.state_dict().items():                  # weights and BatchNorm running stats alike
        np.testing.assert_array_equal(v, before[k])


def test_bad_arguments_are_clear_errors():
    G, D = tiny_gan()
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        GANTrainer(G, D, label_smoothing=0.7)
    with pytest.raises(ValueError, match="n_critic must be >= 1"):
        GANTrainer(G, D, n_critic=0)
    with pytest.raises(ValueError, match="ema decay must be in"):
        GANTrainer(G, D, ema=1.5)
    with pytest.raises(ValueError, match=r"x_real must be a 4-D array \(N, C, H, W\), got \(4, 8, 8\)"):
        GANTrainer(G, D).step(np.zeros((4, 8, 8)))
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 1, H, W\), got \(4, 3, 8, 8\)"):
        GANTrainer(G, D).step(np.zeros((4, 3, 8, 8)))


def bright_squares(n, rng, size=8, side=3):
    """The toy data distribution: one bright side x side square at a random place on black."""
    x = -np.ones((n, 1, size, size), np.float32)
    for i, (a, b) in enumerate(rng.integers(0, size - side + 1, (n, 2))):
        x[i, 0, a:a + side, b:b + side] = 1
    return x


def sorted_pixel_distance(samples, data):
    """Mean |difference| between the average sorted-pixel profiles of two image sets.

    It sees how many pixels are bright and how bright they are, whatever their
    position: 0 for images with exactly the data's mix of dark and bright.
    """
    profile = lambda x: np.sort(x.reshape(len(x), -1), axis=1).mean(axis=0)   # noqa: E731
    return float(np.abs(profile(samples) - profile(data)).mean())


def test_it_learns_a_simple_image_distribution():
    ch, nz = 8, 8
    G = nn.Sequential(nn.ConvTranspose2d(nz, 2 * ch, 4, 1, 0, bias=False), nn.BatchNorm2d(2 * ch), nn.ReLU(),
                      nn.ConvTranspose2d(2 * ch, 1, 4, 2, 1, bias=False), nn.Tanh())
    D = nn.Sequential(nn.Conv2d(1, ch, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
                      nn.Conv2d(ch, 2 * ch, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * ch), nn.LeakyReLU(0.2),
                      nn.Conv2d(2 * ch, 1, 2, 1, 0, bias=False), nn.Sigmoid())
    rng = np.random.default_rng(0)
    dcgan_init(G, rng), dcgan_init(D, rng)
    trainer = GANTrainer(G, D, lr=2e-3, seed=0)
    reference = bright_squares(512, np.random.default_rng(1))
    z = trainer.sample_noise(512)
    before = sorted_pixel_distance(trainer.generate(z=z), reference)
    for _ in range(300):
        trainer.step(bright_squares(32, rng))
    after = sorted_pixel_distance(trainer.generate(z=z), reference)
    assert before > 0.9                      # a fresh G outputs near-zero grey everywhere
    assert after < 0.5 * before, f"samples did not move toward the data: {before:.3f} -> {after:.3f}"


def test_float32_throughout_the_step():
    """No float64 creeps in through a Python float or a NumPy default (it would halve the speed)."""
    G, D = tiny_gan(dtype="float32")
    dtypes = set()

    class Recorder:
        def on_forward(self, i, layer, y):
            dtypes.add((type(layer).__name__, "forward", y.dtype))

        def on_backward(self, i, layer, dx):
            if dx is not None:                  # a first layer skips dL/dx when nothing needs it
                dtypes.add((type(layer).__name__, "backward", dx.dtype))

    G.monitor = D.monitor = Recorder()
    trainer = GANTrainer(G, D, ema=0.9)
    trainer.step(np.zeros((4, 1, 8, 8), np.float32))
    assert {d for _, _, d in dtypes} == {np.dtype(np.float32)}, sorted(map(str, dtypes))
    assert len(dtypes) >= 12
    arrays = [p for net in (G, D) for _, p, _ in net.parameters()] + [g for net in (G, D) for _, _, g in net.parameters()]
    arrays += [a for opt in (trainer.opt_G, trainer.opt_D) for s in opt.state.values() for a in s.values()]
    assert all(a.dtype == np.float32 for a in arrays)


def test_sampling_between_steps_does_not_change_training():
    data = np.random.default_rng(5).uniform(-1, 1, (3, 4, 1, 8, 8)).astype(np.float32)

    def run(sample_between):
        G, D = tiny_gan(dtype="float32")
        trainer = GANTrainer(G, D, seed=1)
        for x in data:
            trainer.step(x)
            if sample_between:
                trainer.generate(n=5)                  # draws its own z, from its own stream
        return G.state_dict()

    a, b = run(False), run(True)
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_nan_in_a_later_critic_update_says_which_and_keeps_the_earlier_ones():
    G, D = tiny_gan(dtype="float32")
    trainer = GANTrainer(G, D, n_critic=2)
    calls = {"n": 0}
    real_forward = D.layers[0].forward

    def forward(x):                                    # poison D's input from the second D update on
        calls["n"] += 1
        return real_forward(x * np.nan if calls["n"] >= 3 else x)

    D.layers[0].forward = forward
    with pytest.raises(NonFiniteLossError, match=r"D update 2 of 2; the earlier ones were applied"):
        trainer.step(np.zeros((4, 1, 8, 8), np.float32))
    assert trainer.opt_D.step_count == 1
    assert all(np.isfinite(b).all() for _, b in D.named_buffers())


def spy_on_input_gradients(layer):
    """Record, for each call of ``layer.backward``, whether it computed dL/dx (returned an array)."""
    calls, backward = [], layer.backward

    def spied(dy):
        dx = backward(dy)
        calls.append(dx is not None)
        return dx
    layer.backward = spied
    return calls


@pytest.mark.parametrize("net, options", [
    ("points", dict()),
    ("points", dict(pack=2, spectral_norm=True)),
    ("pictures", dict(pack=2)),                                       # Flatten, Pack, Dropout in front of D
    ("pictures r1", dict(sigmoid=False)),
])
def test_the_mlps_first_layers_compute_only_the_input_gradients_g_needs(net, options):
    from minigan.models import mlp_pictures, mlp_points
    if net == "points":
        G, D = mlp_points(seed=0, dtype="float64", width=6, d_width=5, pieces=3, **options)
        x = np.random.default_rng(0).standard_normal((8, 2, 1, 1))
    else:
        G, D = mlp_pictures(3, 1, 4, seed=0, dtype="float64", width=6, d_width=5, pieces=3, **options)
        x = np.tanh(np.random.default_rng(0).standard_normal((8, 1, 4, 4)))
    first_G = G.layers[1]                                             # behind Flatten: G's first Linear
    first_D = next(m for m in D.layers if m.params)                   # D's first Maxout (or its SpectralNorm)
    assert nn.first_layer_with_input_grad(G) is first_G and nn.first_layer_with_input_grad(D) is first_D
    g_calls = spy_on_input_gradients(first_G)
    d_calls = spy_on_input_gradients(getattr(first_D, "layer", first_D))   # the Maxout itself under SpectralNorm
    r1 = net.endswith("r1")
    trainer = GANTrainer(G, D, seed=0, **(dict(r1=1.0, loss="hinge") if r1 else {}))
    trainer.step(x)
    assert g_calls == [False]                                         # nothing upstream of z learns
    # D's update: real and fake need no dL/dx (R1's penalty does: dD/dx_real); G's update does
    assert d_calls == ([False, False, True, True] if r1 else [False, False, True])
    assert first_D.input_grad is True and first_G.input_grad is False
