"""GANTrainer with a class-conditional pair: the step's gradients, where the labels go, and that it learns them."""
import copy

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

from minigan import nn
from minigan.init import dcgan_init
from minigan.losses import bce
from minigan.models import LabelConcatD, LabelConcatG, ProjectionD, conditional_dcgan, dcgan28, dcgan64
from minigan.train import GANTrainer
from tests.gradcheck import assert_close, numerical_gradient
from tests.models.test_conditional import smooth_at, tiny_conditional_gan
from tests.test_train import snapshot_updates


@pytest.mark.usefixtures("both_paths")
@settings(max_examples=6)
@given(form=st.sampled_from(["concat", "projection"]), nz=st.integers(2, 3), ch=st.integers(1, 2),
       nc=st.integers(1, 2), K=st.integers(2, 3), N=st.integers(2, 3), smoothing=st.sampled_from([0.0, 0.1]),
       seed=st.integers(0, 2**31))
def test_conditional_step_gradients_match_finite_differences_end_to_end(form, nz, ch, nc, K, N, smoothing, seed):
    """Loss_D and Loss_G of the real GANTrainer.step, label planes and embedding included, in float64."""
    rng = np.random.default_rng(seed)
    G, D = tiny_conditional_gan(form, nz, ch, nc, K, seed)
    trainer = GANTrainer(G, D, label_smoothing=smoothing)
    seen = snapshot_updates(trainer)
    x_real = rng.uniform(-1, 1, (N, nc, 8, 8))
    y_real, y_fake = rng.integers(0, K, N), rng.integers(0, K, N)     # the real batch's labels, G's asked-for
    z = rng.standard_normal((N, nz, 1, 1))
    trainer.step(x_real, y_real, z=z, fake_labels=y_fake)

    # D's update: dLoss_D/dtheta_D with the fake batch a constant; D sees each picture with its label.
    G.load_state_dict(seen["D"]["G"])
    D.load_state_dict(seen["D"]["D"])
    x_fake = G.forward(z, y_fake).copy()
    assume(smooth_at(G, z, y_fake) and smooth_at(D, x_real, y_real) and smooth_at(D, x_fake, y_fake))

    def loss_d():
        return bce(D.forward(x_real, y_real), 1 - smoothing)[0] + bce(D.forward(x_fake, y_fake), 0.0)[0]

    names = [name for name, _, _ in D.parameters()]
    assert form == "concat" or "embed.weight" in names            # the embedding's gradient is checked too
    for name, p, _ in D.parameters():
        assert_close(seen["D"]["grads"][name], numerical_gradient(loss_d, p), f"{form} D step, dLoss_D/d{name}")

    # G's update: through the updated D, judged with the labels G was asked for, into G's weights
    # (the first layer's weights for the K one-hot inputs included).
    G.load_state_dict(seen["G"]["G"])
    D.load_state_dict(seen["G"]["D"])
    assume(smooth_at(G, z, y_fake) and smooth_at(D, G.forward(z, y_fake), y_fake))

    def loss_g():
        return bce(D.forward(G.forward(z, y_fake), y_fake), 1.0)[0]

    for name, p, _ in G.parameters():
        assert_close(seen["G"]["grads"][name], numerical_gradient(loss_g, p), f"{form} G step, dLoss_G/d{name}")


@pytest.mark.parametrize("form", ["concat", "projection"])
def test_labels_reach_g_and_the_step_sends_no_gradient_into_them(form):
    G, D = tiny_conditional_gan(form, 3, 2, 1, 3, seed=4)
    trainer = GANTrainer(G, D)
    z = trainer.sample_noise(1).repeat(2, axis=0)                     # the same z twice ...
    a, b = trainer.generate(labels=np.array([0, 2]), z=z)             # ... asked for two classes
    assert np.abs(a - b).max() > 1e-3                                 # ... gives two pictures

    returned = {}
    for name, net in (("G", G), ("D", D)):
        real_backward = net.backward

        def spy(dy, name=name, real_backward=real_backward):
            returned.setdefault(name, []).append(real_backward(dy))
            return returned[name][-1]
        net.backward = spy
    x = np.random.default_rng(0).uniform(-1, 1, (4, 1, 8, 8))
    labels = np.array([0, 1, 2, 1])
    before = labels.copy()
    trainer.step(x, labels)
    np.testing.assert_array_equal(labels, before)                     # the labels are data: untouched
    assert returned["G"] == [None]                                    # z and labels get no gradient
    assert [r is None for r in returned["D"]] == [True, True, False]  # only G's step asks D for dL/dx ...
    assert returned["D"][-1].shape == x.shape                         # ... the picture's: no label planes


def test_dcgan_builders_take_num_classes_and_the_defaults_are_unchanged():
    for build, nc in ((dcgan28, 1), (dcgan64, 3)):
        plain_G, plain_D = build(ngf=4, ndf=4)
        again_G, again_D = build(ngf=4, ndf=4, num_classes=None)
        for a, b in ((plain_G, again_G), (plain_D, again_D)):
            assert type(a) is nn.Sequential and type(b) is nn.Sequential
            for k, v in a.state_dict().items():
                np.testing.assert_array_equal(v, b.state_dict()[k])
        for form, D_type in (("concat", LabelConcatD), ("projection", ProjectionD)):
            G, D = build(ngf=4, ndf=4, num_classes=5, conditional=form)
            G2, D2 = conditional_dcgan(build.__name__, 5, form, ngf=4, ndf=4)
            assert isinstance(G, LabelConcatG) and isinstance(D, D_type) and G.nz == 100
            for a, b in ((G, G2), (D, D2)):
                for k, v in a.state_dict().items():
                    np.testing.assert_array_equal(v, b.state_dict()[k])


def test_the_trainer_reads_a_conditional_pair():
    G, D = dcgan28(nz=7, ngf=2, ndf=2, num_classes=4, conditional="projection")
    trainer = GANTrainer(G, D, ema=0.9)
    assert trainer.nz == 7 and trainer.num_classes == 4
    x = np.random.default_rng(0).uniform(-1, 1, (4, 1, 28, 28)).astype(np.float32)
    stats = trainer.step(x, np.array([0, 1, 2, 3]))
    assert 0 < stats["d_x"] < 1                                       # a probability: ProjectionD's sigmoid seen
    state = trainer.sample_rng.bit_generator.state
    samples = trainer.generate(n=6)                                   # no labels: each class in turn
    trainer.sample_rng.bit_generator.state = state                    # the same z again
    np.testing.assert_array_equal(samples, trainer.generate(labels=np.array([0, 1, 2, 3, 0, 1])))
    assert samples.shape == (6, 1, 28, 28)
    z = trainer.sample_noise(3)
    np.testing.assert_array_equal(trainer.generate(z=z), trainer.generate(labels=[0, 1, 2], z=z))


def test_label_mistakes_are_clear_errors():
    G, D = tiny_conditional_gan("concat", 3, 2, 1, 3, seed=0)
    plain_G, plain_D = dcgan28(ngf=2, ndf=2)
    x = np.zeros((2, 1, 8, 8))
    with pytest.raises(ValueError, match=r"G and D are conditional \(3 classes\): pass the batch's labels"):
        GANTrainer(G, D).step(x)
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        GANTrainer(G, D).step(x, np.array([0, 3]))
    with pytest.raises(ValueError, match=r"labels must be an integer array of shape \(2,\)"):
        GANTrainer(G, D).step(x, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="labels given, but G and D are not conditional"):
        GANTrainer(plain_G, plain_D).step(np.zeros((2, 1, 28, 28)), np.array([0, 1]))
    with pytest.raises(ValueError, match="must both be conditional on the same classes, or neither"):
        GANTrainer(G, plain_D)
    with pytest.raises(TypeError, match=r"pass noise as generate\(z=...\)"):
        GANTrainer(G, D).generate(np.zeros((2, 3, 1, 1)))
    G, D = dcgan28(ngf=2, ndf=2, num_classes=3, sigmoid=False, d_norm="none")
    for kwargs in (dict(loss="wgan-gp"), dict(loss="hinge", r1=1.0)):   # the penalties take a conditional D
        GANTrainer(G, D, **kwargs).step(np.zeros((2, 1, 28, 28)), np.array([0, 2]))   # (tests/test_penalties_conditional.py)


def test_conditional_training_is_bitwise_repeatable_and_resumes_exactly():
    rng = np.random.default_rng(3)
    data = rng.uniform(-1, 1, (6, 4, 1, 8, 8)).astype(np.float32)
    labels = rng.integers(0, 3, (6, 4))

    def trainer_from(seed):
        G, D = tiny_conditional_gan("projection", 3, 2, 1, 3, seed=seed)
        return GANTrainer(G.to(dtype="float32"), D.to(dtype="float32"), seed=1, ema=0.9)

    straight = trainer_from(0)
    for x, y in zip(data, labels):
        straight.step(x, y)
    first = trainer_from(0)
    for x, y in zip(data[:3], labels[:3]):
        first.step(x, y)
    second = trainer_from(5)                                          # other weights, replaced by the state
    second.load_state_dict(copy.deepcopy(first.state_dict()))
    for x, y in zip(data[3:], labels[3:]):
        second.step(x, y)
    for net in ("G", "D", "G_ema"):
        for k, v in getattr(straight, net).state_dict().items():
            np.testing.assert_array_equal(getattr(second, net).state_dict()[k], v, err_msg=f"{net} {k}")


# -- it learns the condition -------------------------------------------------------------------------
def halves(labels, rng, size=8):
    """The toy two-class data: class 0 has a bright left half, class 1 a bright right half (a little noise)."""
    n = len(labels)
    x = -np.ones((n, 1, size, size), np.float32)
    left = labels == 0
    x[left, :, :, :size // 2] = 1
    x[~left, :, :, size // 2:] = 1
    return np.clip(x + rng.normal(0, 0.1, x.shape).astype(np.float32), -1, 1)


def drawn_class(x):
    """The simple statistic: 0 when a picture's left half is brighter than its right half, else 1."""
    half = x.shape[-1] // 2
    return (x[..., half:].mean(axis=(1, 2, 3)) > x[..., :half].mean(axis=(1, 2, 3))).astype(int)


def tiny_conditional_pair(form, ch=8, nz=8, K=2, seed=0):
    """Small conditional networks for 8x8 pictures, DCGAN-initialized, float32."""
    G = LabelConcatG(nn.ConvTranspose2d(nz + K, 2 * ch, 4, 1, 0, bias=False), nn.BatchNorm2d(2 * ch), nn.ReLU(),
                     nn.ConvTranspose2d(2 * ch, 1, 4, 2, 1, bias=False), nn.Tanh(), num_classes=K)
    body = [nn.Conv2d(1 + K if form == "concat" else 1, ch, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
            nn.Conv2d(ch, 2 * ch, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * ch), nn.LeakyReLU(0.2)]
    head = nn.Conv2d(2 * ch, 1, 2, 1, 0, bias=False)
    rng = np.random.default_rng(seed)
    dcgan_init(G, rng)
    if form == "concat":
        return G, dcgan_init(LabelConcatD(*body, head, nn.Sigmoid(), num_classes=K), rng)
    D = ProjectionD(nn.Sequential(*body), head, K)
    dcgan_init(D.body, rng), dcgan_init(D.head, rng)
    return G, D


@pytest.mark.parametrize("form, steps", [("concat", 100), ("projection", 200)])
# measured, seeds 0-3: concat draws the asked class 100% of the time from step 50, projection from step 150
def test_it_learns_the_condition(form, steps):
    G, D = tiny_conditional_pair(form)
    trainer = GANTrainer(G, D, lr=2e-3, seed=0)
    rng = np.random.default_rng(1)
    asked = np.arange(200) % 2
    z = trainer.sample_noise(200)
    for _ in range(steps):
        y = rng.integers(0, 2, 32)
        trainer.step(halves(y, rng), y)
    hit = float((drawn_class(trainer.generate(labels=asked, z=z)) == asked).mean())
    assert hit >= 0.9, f"{form}: G drew the asked class {hit:.0%} of the time after {steps} steps"
