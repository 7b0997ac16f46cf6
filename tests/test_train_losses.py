"""GANTrainer with each GAN game: gradients end to end, wgan's clipping, TTUR, the untouched bce step.

The games themselves (values, gradients wrt D's output) are tested in tests/test_gan_losses.py;
here the real ``GANTrainer.step`` runs, and the gradient each Adam receives is held against
finite differences of the game's loss, written from the formulas (``reference``).
"""
import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

from minigan import backend as B
from minigan import nn
from minigan.augment import DiffAugment
from minigan.gan_losses import GAN_LOSSES
from minigan.losses import bce
from minigan.models import dcgan28, sample_noise
from minigan.penalties import critic_layers, input_gradient
from minigan.train import GANTrainer
from tests.gradcheck import assert_close, batchnorm_margin, kink_margin, numerical_gradient
from tests.test_gan_losses import reference
from tests.test_train import tiny_gan

# every game but wgan-gp (its D has no BatchNorm: test_penalty_step_... below), on raw scores,
# and bce/minimax on a Sigmoid D too
STEP_HEADS = [(n, True) for n in GAN_LOSSES if n != "wgan-gp"] + [("bce", False), ("minimax", False)]
STEP_IDS = [f"{n}-{'logits' if lg else 'sigmoid'}" for n, lg in STEP_HEADS]


def raw_score_gan(sigmoid, **kwargs):
    """tests/test_train.py's tiny GAN, with or without D's final Sigmoid."""
    G, D = tiny_gan(**kwargs)
    return (G, D) if sigmoid else (G, nn.Sequential(*D.layers[:-1]))


def record(trainer):
    """Every optimizer update (weights and grads just before, weights just after) and every z drawn."""
    seen = {"D": [], "G": [], "z": []}
    for name, opt in (("D", trainer.opt_D), ("G", trainer.opt_G)):
        real_step = opt.step

        def step(apply=True, name=name, real_step=real_step):
            net = trainer.D if name == "D" else trainer.G
            snap = {"G": trainer.G.state_dict(), "D": trainer.D.state_dict(),
                    "grads": {k: g.copy() for k, g in net.grads.items()}}
            real_step(apply=apply)
            snap["after"] = net.state_dict()               # after Adam, before anything the trainer does next
            seen[name].append(snap)
        opt.step = step
    real_noise = trainer._noise

    def noise(n, rng=None):
        z = real_noise(n, rng)
        if rng is None:
            seen["z"].append(z.copy())
        return z
    trainer._noise = noise
    return seen


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("name, logits", STEP_HEADS, ids=STEP_IDS)
@settings(max_examples=5)
@given(N=st.integers(2, 3), n_critic=st.integers(1, 2), smoothing=st.sampled_from([0.0, 0.1]),
       seed=st.integers(0, 2**31))
def test_every_loss_step_gradients_match_finite_differences_end_to_end(name, logits, N, n_critic, smoothing, seed):
    smoothing = smoothing if GAN_LOSSES[name].has_labels else 0.0
    rng = np.random.default_rng(seed)
    G, D = raw_score_gan(not logits, nz=2, ch=1, nc=1, seed=seed)
    trainer = GANTrainer(G, D, loss=name, n_critic=n_critic, label_smoothing=smoothing, clip=0.05, seed=seed)
    seen = record(trainer)
    x_real = rng.uniform(-1, 1, (N, 1, 8, 8))
    stats = trainer.step(x_real)                           # z drawn by the trainer, fresh per D update
    assert len(seen["D"]) == n_critic and len(seen["z"]) == n_critic and len(seen["G"]) == 1
    ref_d, ref_g = reference(name, logits, 1.0 - smoothing)

    # The last (k-th) D update: dLoss_D/dtheta_D at D's weights after the k-1 earlier updates
    # (and, for wgan, their clipping), the fake batch from that update's own z.
    snap, z = seen["D"][-1], seen["z"][-1]
    G.load_state_dict(snap["G"])
    D.load_state_dict(snap["D"])
    x_fake = G.forward(z).copy()
    assume(min(kink_margin(G, z), kink_margin(D, x_real), kink_margin(D, x_fake)) > 1e-4)
    assume(min(batchnorm_margin(G, z), batchnorm_margin(D, x_real), batchnorm_margin(D, x_fake)) > 1e-5)
    s_real, s_fake = D.forward(x_real), D.forward(x_fake)
    if name == "hinge":                                    # away from the hinge's kinks
        assume(np.abs(s_real - 1).min() > 1e-4 and np.abs(s_fake + 1).min() > 1e-4)
    assert stats["loss_d"] == pytest.approx(ref_d(s_real, s_fake), rel=1e-9)
    assert stats["d_x"] == pytest.approx(trainer.loss.d_mean(s_real), rel=1e-9)
    assert stats["d_g_z"] == pytest.approx(trainer.loss.d_mean(s_fake), rel=1e-9)

    def loss_d():
        return ref_d(D.forward(x_real), D.forward(x_fake))

    for pname, p, _ in D.parameters():
        assert_close(snap["grads"][pname], numerical_gradient(loss_d, p), f"{name}: D update {n_critic}, d{pname}")

    # G's update: through the updated D, on the last D update's z.
    snap = seen["G"][0]
    G.load_state_dict(snap["G"])
    D.load_state_dict(snap["D"])
    assume(min(kink_margin(G, z), kink_margin(D, G.forward(z))) > 1e-4)
    assume(min(batchnorm_margin(G, z), batchnorm_margin(D, G.forward(z))) > 1e-5)
    assert stats["loss_g"] == pytest.approx(ref_g(D.forward(G.forward(z))), rel=1e-9)

    def loss_g():
        return ref_g(D.forward(G.forward(z)))

    for pname, p, _ in G.parameters():
        assert_close(snap["grads"][pname], numerical_gradient(loss_g, p), f"{name}: G update, d{pname}")


@pytest.mark.parametrize("n_critic", [1, 3])
def test_wgan_clips_every_weight_of_d_after_each_update_and_takes_the_gradient_before(n_critic):
    G, D = raw_score_gan(False, seed=1)
    c = 0.03
    trainer = GANTrainer(G, D, loss="wgan", clip=c, n_critic=n_critic)
    seen = record(trainer)
    trainer.step(np.random.default_rng(0).uniform(-1, 1, (4, 1, 8, 8)))
    first = seen["D"][0]
    assert max(np.abs(first["D"][k]).max() for k in first["grads"]) > 10 * c   # it starts far outside
    for k, snap in enumerate(seen["D"]):
        params = {n: snap["after"][n] for n in snap["grads"]}
        assert max(np.abs(v).max() for v in params.values()) > c   # Adam's result, not yet clipped
        nxt = seen["D"][k + 1]["D"] if k + 1 < n_critic else seen["G"][0]["D"]
        for n, v in params.items():                    # ... and what the next update (or G's) sees
            np.testing.assert_array_equal(nxt[n], np.clip(v, -c, c))
    for n, p, _ in D.parameters():                     # BatchNorm's gamma and beta too
        assert np.abs(p).max() <= c, n
    untouched = GANTrainer(*raw_score_gan(False, seed=1), loss="hinge", clip=c)
    untouched.step(np.zeros((4, 1, 8, 8)))
    assert max(np.abs(p).max() for _, p, _ in untouched.D.parameters()) > 10 * c   # only wgan clips


def legacy_step(G, D, opt_G, opt_D, rng, x_real, label_smoothing, n_critic):
    """GANTrainer.step as it was before the games arrived (frozen copy, grad flow and EMA left out)."""
    N = x_real.shape[0]
    ref = next(iter(G.params.values()))
    real_label = 1.0 - label_smoothing
    D.layers[0].input_grad = False
    for _ in range(n_critic):
        opt_D.zero_grad()
        p_real = D.forward(x_real)
        loss_real, dp = bce(p_real, real_label)
        D.backward(dp)
        zb = B.asarray(sample_noise(N, G.layers[0].in_channels, "normal", rng, ref.dtype), B.backend_name(ref))
        x_fake = G.forward(zb)
        p_fake = D.forward(x_fake)
        loss_fake, dp = bce(p_fake, 0.0)
        D.backward(dp)
        loss_d = loss_real + loss_fake
        opt_D.step()
    opt_G.zero_grad()
    D.requires_grad_(False)
    D.layers[0].input_grad = True
    p_fake_g = D.forward(x_fake)
    loss_g, dp = bce(p_fake_g, 1.0)
    dx_fake = D.backward(dp)
    D.requires_grad_(True)
    G.backward(dx_fake)
    opt_G.step()
    return {"loss_d": loss_d, "loss_g": loss_g, "d_x": float(p_real.mean()),
            "d_g_z": float(p_fake.mean()), "d_g_z_after": float(p_fake_g.mean())}


@pytest.mark.parametrize("smoothing, n_critic", [(0.0, 1), (0.1, 2)])
def test_default_bce_step_is_bitwise_the_step_before_the_games(smoothing, n_critic):
    from minigan.optim import Adam
    data = np.random.default_rng(5).uniform(-1, 1, (3, 4, 1, 8, 8)).astype(np.float32)
    G1, D1 = tiny_gan(dtype="float32")
    trainer = GANTrainer(G1, D1, seed=7, label_smoothing=smoothing, n_critic=n_critic)
    G2, D2 = tiny_gan(dtype="float32")
    opt_G, opt_D = Adam(G2, lr=2e-4, betas=(0.5, 0.999)), Adam(D2, lr=2e-4, betas=(0.5, 0.999))
    G2.layers[0].input_grad = False
    rng = np.random.default_rng(7)
    for x in data:
        assert trainer.step(x) == legacy_step(G2, D2, opt_G, opt_D, rng, x, smoothing, n_critic)
    for mine, old in ((G1, G2), (D1, D2)):
        for k, v in old.state_dict().items():
            np.testing.assert_array_equal(mine.state_dict()[k], v, err_msg=k)
    assert trainer.rng.bit_generator.state == rng.bit_generator.state     # the same draws, no more


def test_lr_g_and_lr_d_reach_their_own_adam():
    G, D = tiny_gan()
    t = GANTrainer(G, D)
    assert (t.opt_G.lr, t.opt_D.lr, t.opt_G.betas, t.opt_D.betas) == (2e-4, 2e-4, (0.5, 0.999), (0.5, 0.999))
    t = GANTrainer(*tiny_gan(), lr=1e-3, lr_d=4e-3, betas=(0.0, 0.9))
    assert (t.opt_G.lr, t.opt_D.lr, t.opt_D.betas) == (1e-3, 4e-3, (0.0, 0.9))
    t = GANTrainer(*tiny_gan(), lr_g=5e-5)
    assert (t.opt_G.lr, t.opt_D.lr) == (5e-5, 2e-4)
    # and the step uses them: Adam's first update moves each weight by lr * |g| / (|g| + eps) <= lr
    G, D = tiny_gan()
    start = {"G": G.state_dict(), "D": D.state_dict()}
    GANTrainer(G, D, lr_g=1e-3, lr_d=3e-3).step(np.random.default_rng(0).uniform(-1, 1, (4, 1, 8, 8)))
    for net, lr in ((G, 1e-3), (D, 3e-3)):
        moved = max(np.abs(p - start["G" if net is G else "D"][n]).max() for n, p, _ in net.parameters())
        assert moved == pytest.approx(lr, rel=1e-3)


def test_raw_score_statistics_mean_what_the_docstring_says():
    x = np.random.default_rng(0).uniform(-1, 1, (4, 1, 8, 8))
    for name in ("bce", "wgan"):
        G, D = raw_score_gan(False, seed=2)
        trainer = GANTrainer(G, D, loss=name)
        seen = record(trainer)
        stats = trainer.step(x)
        D.load_state_dict(seen["D"][0]["D"])
        s = D.forward(x)                                   # the raw scores of the real batch
        expected = 1 / (1 + np.exp(-s)) if name == "bce" else s   # bce: mean probability; wgan: mean score
        assert stats["d_x"] == pytest.approx(float(expected.mean()), rel=1e-12)


def test_bad_loss_arguments_are_clear_errors():
    G, D = tiny_gan()
    with pytest.raises(ValueError, match="unknown loss 'ls-gan'; choose one of bce, minimax, lsgan"):
        GANTrainer(G, D, loss="ls-gan")
    with pytest.raises(ValueError, match=r"loss 'hinge' needs D's raw score, but D ends with a Sigmoid"):
        GANTrainer(G, D, loss="hinge")
    with pytest.raises(ValueError, match="'wgan' has none: leave label_smoothing at 0"):
        GANTrainer(*raw_score_gan(False), loss="wgan", label_smoothing=0.1)
    with pytest.raises(ValueError, match="need clip > 0, gp_weight >= 0 and r1 >= 0; got clip=0"):
        GANTrainer(G, D, clip=0)
    with pytest.raises(ValueError, match="lr must be > 0"):
        GANTrainer(G, D, lr_d=0)
    for kwargs in (dict(loss="wgan-gp"), dict(r1=1.0)):          # the penalties need D without batch norm
        with pytest.raises(ValueError, match=r"D's layer 3 BatchNorm2d.*d_norm='none'"):
            GANTrainer(*raw_score_gan(False), **kwargs)


@pytest.mark.parametrize("name", ["bce", "minimax", "lsgan", "hinge", "wgan"])
def test_each_loss_runs_the_same_on_the_cupy_code_path(fake_cupy, name):
    def run(backend):
        G, D = dcgan28(ngf=4, ndf=4, nz=8, seed=0, dtype="float64", sigmoid=False)
        G.to(backend), D.to(backend)
        trainer = GANTrainer(G, D, seed=0, loss=name, n_critic=2)
        x = np.random.default_rng(1).uniform(-1, 1, (2, 4, 1, 28, 28))
        return trainer, [trainer.step(b) for b in x]

    cpu, cpu_stats = run("numpy")
    gpu, gpu_stats = run("cupy")
    assert all(type(v) is float for s in gpu_stats for v in s.values())
    for g, c in zip(gpu_stats, cpu_stats, strict=True):                   # one approx per step: pytest 9.2
        assert g == pytest.approx(c, rel=1e-9)                             # refuses nested structures
    for part in ("G", "D"):
        for k, v in cpu.state_dict()[part].items():
            np.testing.assert_allclose(B.to_numpy(gpu.state_dict()[part][k]), v, rtol=1e-9, atol=1e-12)


def test_wgan_gp_interpolation_weights_come_from_the_training_stream():
    """``a`` of x_hat = a x_real + (1 - a) x_fake: (N, 1, 1, 1), U(0, 1), the model's dtype, the seeded stream."""
    trainer = GANTrainer(*tiny_gan(dtype="float32"), seed=3)
    a = trainer._uniform(1000)
    assert a.shape == (1000, 1, 1, 1) and a.dtype == np.float32 and 0 <= a.min() and a.max() < 1
    assert abs(float(a.mean()) - 0.5) < 0.05
    np.testing.assert_array_equal(a, np.random.default_rng(3).uniform(0, 1, (1000, 1, 1, 1)).astype(np.float32))


# ---- DiffAugment in the step, and the penalties end to end -----------------------------------
def critic_gan(seed, **kwargs):
    """tiny_gan with a critic for the penalties: D's BatchNorm and final Sigmoid removed."""
    G, D = tiny_gan(seed=seed, **kwargs)
    return G, nn.Sequential(*(layer for layer in D.layers if not isinstance(layer, (nn.BatchNorm2d, nn.Sigmoid))))


def record_draws(trainer):
    """Every DiffAugment draw (in the order the step makes them) and every wgan-gp ``a``."""
    seen = {"T": [], "a": []}
    real_draw, real_uniform = trainer.augment.draw, trainer._uniform

    def draw(*args):
        params = real_draw(*args)
        seen["T"].append(params)
        return params

    def uniform(n):
        a = real_uniform(n)
        seen["a"].append(a.copy())
        return a
    trainer.augment.draw, trainer._uniform = draw, uniform
    return seen


def penalty_value(kind, D, x):
    """WGAN-GP's mean (||g_i|| - 1)^2 or R1's mean ||g_i||^2, g = D's input gradient (first order only)."""
    g, _ = input_gradient(critic_layers(D), x)
    norm = np.sqrt((g.reshape(len(g), -1) ** 2).sum(axis=1))
    return float(np.mean((norm - 1) ** 2) if kind == "gp" else np.mean(norm ** 2))


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("name, logits", [("bce", False), ("bce", True), ("hinge", True), ("wgan", True)])
@settings(max_examples=4)
@given(N=st.integers(2, 3), n_critic=st.integers(1, 2), seed=st.integers(0, 2**31))
def test_augmented_step_gradients_match_finite_differences_end_to_end(name, logits, N, n_critic, seed):
    """Every image D sees goes through T; G's gradient through T.backward. The oracle replays the draws."""
    rng = np.random.default_rng(seed)
    G, D = raw_score_gan(not logits, nz=2, ch=1, nc=1, seed=seed)
    trainer = GANTrainer(G, D, loss=name, n_critic=n_critic, clip=0.05, seed=seed, augment="translation,cutout,color")
    seen, draws = record(trainer), record_draws(trainer)
    x_real = rng.uniform(-1, 1, (N, 1, 8, 8))
    stats = trainer.step(x_real)
    assert len(draws["T"]) == 2 * n_critic + 1                 # real and fake per D update, then G's
    T = DiffAugment("translation,cutout,color")                # applies recorded draws; its own rng unused
    ref_d, ref_g = reference(name, logits, 1.0)
    p_real, p_fake, p_g = draws["T"][-3], draws["T"][-2], draws["T"][-1]

    snap, z = seen["D"][-1], seen["z"][-1]                     # the last D update
    G.load_state_dict(snap["G"])
    D.load_state_dict(snap["D"])
    x_fake = G.forward(z).copy()
    t_real, t_fake = T.apply(x_real, p_real), T.apply(x_fake, p_fake)
    assume(min(kink_margin(G, z), kink_margin(D, t_real), kink_margin(D, t_fake)) > 1e-4)
    assume(min(batchnorm_margin(G, z), batchnorm_margin(D, t_real), batchnorm_margin(D, t_fake)) > 1e-5)
    s_real, s_fake = D.forward(t_real), D.forward(t_fake)
    if name == "hinge":
        assume(np.abs(s_real - 1).min() > 1e-4 and np.abs(s_fake + 1).min() > 1e-4)
    assert stats["loss_d"] == pytest.approx(ref_d(s_real, s_fake), rel=1e-9)

    def loss_d():
        return ref_d(D.forward(t_real), D.forward(t_fake))

    for pname, p, _ in D.parameters():
        assert_close(snap["grads"][pname], numerical_gradient(loss_d, p), f"{name}+T: D update {n_critic}, d{pname}")

    snap = seen["G"][0]                                        # G's update, through T with its own draw
    G.load_state_dict(snap["G"])
    D.load_state_dict(snap["D"])
    t_g = T.apply(G.forward(z), p_g)
    assume(min(kink_margin(G, z), kink_margin(D, t_g)) > 1e-4)
    assume(min(batchnorm_margin(G, z), batchnorm_margin(D, t_g)) > 1e-5)
    assert stats["loss_g"] == pytest.approx(ref_g(D.forward(t_g)), rel=1e-9)

    def loss_g():
        return ref_g(D.forward(T.apply(G.forward(z), p_g)))

    for pname, p, _ in G.parameters():
        assert_close(snap["grads"][pname], numerical_gradient(loss_g, p), f"{name}+T: G update, d{pname}")


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("name, r1", [("wgan-gp", 0.0), ("wgan-gp", 0.7), ("hinge", 2.0), ("bce", 1.5)])
@settings(max_examples=4)
@given(N=st.integers(2, 3), n_critic=st.integers(2, 3), seed=st.integers(0, 2**31), fresh=st.booleans())
def test_penalty_step_gradients_match_finite_differences_end_to_end(name, r1, N, n_critic, seed, fresh):
    """wgan-gp (lambda mean (||grad D(x_hat)|| - 1)^2) and R1 ((gamma/2) mean ||grad D(x_real)||^2), n_critic > 1:
    the whole Loss_D of every D update k, penalties included, by finite differences; the penalties from the
    plain input gradient. ``fresh``: a list of n_critic real batches, update k's loss on batch k."""
    rng = np.random.default_rng(seed)
    G, D = critic_gan(seed, nz=2, ch=1, nc=1)
    gp_weight = 3.0
    trainer = GANTrainer(G, D, loss=name, n_critic=n_critic, gp_weight=gp_weight, r1=r1, seed=seed)
    seen, draws = record(trainer), record_draws(trainer)
    reals = list(rng.uniform(-1, 1, (n_critic if fresh else 1, N, 1, 8, 8)))
    stats = trainer.step(reals if fresh else reals[0])
    assert len(draws["a"]) == (n_critic if name == "wgan-gp" else 0)
    ref_d, _ = reference(name, True, 1.0)

    for k in range(n_critic):                                  # D update k: its real batch, z and a
        snap, z, x_real = seen["D"][k], seen["z"][k], reals[k if fresh else 0]
        G.load_state_dict(snap["G"])
        D.load_state_dict(snap["D"])
        x_fake = G.forward(z).copy()
        a = draws["a"][k] if draws["a"] else None
        x_hat = None if a is None else a * x_real + (1 - a) * x_fake
        inputs = [x_real, x_fake] + ([] if x_hat is None else [x_hat])
        assume(min(kink_margin(G, z), *(kink_margin(D, x) for x in inputs)) > 1e-4)
        if name == "hinge":
            assume(np.abs(D.forward(x_real) - 1).min() > 1e-4 and np.abs(D.forward(x_fake) + 1).min() > 1e-4)

        def loss_d():
            loss = ref_d(D.forward(x_real), D.forward(x_fake))
            if x_hat is not None:
                loss += gp_weight * penalty_value("gp", D, x_hat)
            if r1:
                loss += r1 / 2 * penalty_value("r1", D, x_real)
            return loss

        if k == n_critic - 1:                                  # the statistics are the last update's
            assert stats["loss_d"] == pytest.approx(loss_d(), rel=1e-9)
        for pname, p, _ in D.parameters():
            assert_close(snap["grads"][pname], numerical_gradient(loss_d, p),
                         f"{name}, r1={r1}: D update {k + 1}, d{pname}")


def test_augment_off_draws_nothing_and_its_stream_is_saved_and_restored():
    G, D = tiny_gan()
    plain = GANTrainer(G, D, seed=4)
    assert plain.augment.policy == () and plain.augment.training
    x = np.random.default_rng(0).uniform(-1, 1, (4, 1, 8, 8))
    t1 = GANTrainer(*tiny_gan(), seed=4, augment="translation,cutout")
    t1.step(x)
    state = t1.state_dict()
    assert state["augment"] == t1.augment.state_dict()
    t2 = GANTrainer(*tiny_gan(), seed=4, augment="translation,cutout")
    t2.load_state_dict(state)
    assert t2.augment.draw(4, 8, 8)["cutout"]["centre_h"].tolist() == t1.augment.draw(4, 8, 8)["cutout"]["centre_h"].tolist()
    old = dict(state)
    del old["augment"]                                         # a checkpoint from before DiffAugment
    GANTrainer(*tiny_gan(), seed=4, augment="translation,cutout").load_state_dict(old)
    with pytest.raises(ValueError, match="unknown DiffAugment policy 'flip'"):
        GANTrainer(*tiny_gan(), augment="flip")
