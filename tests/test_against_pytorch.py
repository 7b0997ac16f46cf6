"""minigan beside PyTorch, number for number (float64), where PyTorch is installed.

PyTorch is never a dependency: these tests skip without it. They pin down the
claims of "PyTorch's signatures, layouts and update rules": the same weights
and inputs give the same outputs, input gradients, weight gradients, running
statistics and Adam steps.
"""
import numpy as np
import pytest

from minigan import nn
from minigan.optim import Adam

torch = pytest.importorskip("torch")
F = torch.nn.functional


def t(a):
    return torch.tensor(np.ascontiguousarray(a), dtype=torch.float64, requires_grad=True)


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), (3, 2)])
def test_convolutions_match_pytorch(transposed, stride, padding):
    rng = np.random.default_rng(0)
    if transposed:
        layer = nn.ConvTranspose2d(3, 4, (4, 3), stride, padding, dtype="float64", rng=rng)
        torch_fn = F.conv_transpose2d
    else:
        layer = nn.Conv2d(3, 4, (4, 3), stride, padding, dtype="float64", rng=rng)
        torch_fn = F.conv2d
    x = rng.standard_normal((2, 3, 9, 8))
    y = layer(x)
    dy = rng.standard_normal(y.shape)
    dx = layer.backward(dy)
    tx, tw, tb = t(x), t(layer.params["weight"]), t(layer.params["bias"])
    ty = torch_fn(tx, tw, tb, stride=stride, padding=padding)
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.grads["weight"], tw.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.grads["bias"], tb.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_batchnorm_matches_pytorch_in_train_and_eval_mode():
    rng = np.random.default_rng(1)
    ours = nn.BatchNorm2d(3, momentum=0.2, dtype="float64")
    theirs = torch.nn.BatchNorm2d(3, momentum=0.2).double()
    ours.params["weight"][...] = rng.uniform(0.5, 2, 3)
    ours.params["bias"][...] = rng.standard_normal(3)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.params["weight"]))
        theirs.bias.copy_(torch.tensor(ours.params["bias"]))
    for _ in range(3):                                   # running statistics over several batches
        x = rng.standard_normal((4, 3, 5, 5)) * 2 + 1
        dy = rng.standard_normal(x.shape)
        ours.zero_grad()
        y = ours(x)
        dx = ours.backward(dy)
        tx = t(x)
        theirs.zero_grad()
        ty = theirs(tx)
        ty.backward(torch.tensor(dy))
        np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(ours.grads["weight"], theirs.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.buffers["running_mean"], theirs.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.buffers["running_var"], theirs.running_var.numpy(), rtol=1e-12)
    ours.eval(), theirs.eval()
    x = rng.standard_normal((2, 3, 4, 4))
    np.testing.assert_allclose(ours(x), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10, atol=1e-12)


def test_adam_matches_torch_optim_adam():
    rng = np.random.default_rng(2)
    layer = nn.Linear(5, 3, dtype="float64", rng=rng)
    tw, tb = t(layer.params["weight"]), t(layer.params["bias"])
    opt = Adam(layer, lr=0.01, betas=(0.5, 0.999))
    topt = torch.optim.Adam([tw, tb], lr=0.01, betas=(0.5, 0.999))
    for _ in range(6):
        x = rng.standard_normal((4, 5))
        dy = rng.standard_normal((4, 3))
        opt.zero_grad()
        layer(x)
        layer.backward(dy)
        opt.step()
        topt.zero_grad()
        (torch.tensor(x) @ tw.T + tb).backward(torch.tensor(dy))
        topt.step()
    np.testing.assert_allclose(layer.params["weight"], tw.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.params["bias"], tb.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_bce_matches_pytorch_including_saturation():
    from minigan.losses import bce, bce_with_logits

    p = np.array([0.0, 1e-30, 0.3, 0.999, 1.0])
    y = np.array([1.0, 1.0, 0.0, 1.0, 0.0])
    tp = t(p)
    loss = F.binary_cross_entropy(tp, torch.tensor(y))
    loss.backward()
    ours, dp = bce(p, y)
    assert ours == pytest.approx(loss.item(), rel=1e-12)
    # at saturation both divide by a 1e-12 floor; PyTorch's is float32(1e-12) = 0.9999999960e-12
    np.testing.assert_allclose(dp, tp.grad.numpy(), rtol=1e-8)
    z = np.array([-50.0, -3.0, 0.0, 2.5, 40.0])
    tz = t(z)
    loss = F.binary_cross_entropy_with_logits(tz, torch.tensor(y))
    loss.backward()
    ours, dz = bce_with_logits(z, y)
    assert ours == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(dz, tz.grad.numpy(), rtol=1e-10, atol=1e-15)


# -- each GAN game's whole training step, minigan's GANTrainer.step against the same step in PyTorch

def torch_copy(net):
    """A torch.nn.Sequential with the same layers and the same weights (float64)."""
    layers = []
    for m in net.layers:
        kind = type(m).__name__
        if kind in ("Conv2d", "ConvTranspose2d"):
            w = m.params["weight"]
            c_in, c_out = (w.shape[1], w.shape[0]) if kind == "Conv2d" else w.shape[:2]
            tm = getattr(torch.nn, kind)(c_in, c_out, w.shape[2:], m.stride, m.padding, bias="bias" in m.params)
        elif kind == "BatchNorm2d":
            tm = torch.nn.BatchNorm2d(m.num_features, eps=m.eps, momentum=m.momentum)
        elif kind == "LeakyReLU":
            tm = torch.nn.LeakyReLU(m.negative_slope)
        else:                                            # ReLU, Tanh, Sigmoid
            tm = getattr(torch.nn, kind)()
        tm = tm.double()                                 # float64 first, then the weights: no rounding
        with torch.no_grad():
            for name, p in m.params.items():
                getattr(tm, name).copy_(torch.tensor(p))
        layers.append(tm)
    return torch.nn.Sequential(*layers)


def torch_losses(name, logits, real_label):
    """The game in PyTorch: (loss_D(s_real, s_fake), loss_G(s_fake)), written from the papers."""
    if name in ("bce", "minimax"):
        bce_ = F.binary_cross_entropy_with_logits if logits else F.binary_cross_entropy
        d = lambda r, f: bce_(r, torch.full_like(r, real_label)) + bce_(f, torch.zeros_like(f))  # noqa: E731
        if name == "bce":
            return d, lambda f: bce_(f, torch.ones_like(f))
        return d, (lambda f: -F.softplus(f).mean()) if logits else (lambda f: torch.log(1 - f).mean())
    if name == "lsgan":
        return (lambda r, f: 0.5 * ((r - real_label) ** 2).mean() + 0.5 * (f ** 2).mean(),
                lambda f: 0.5 * ((f - 1) ** 2).mean())
    if name == "hinge":
        return lambda r, f: F.relu(1 - r).mean() + F.relu(1 + f).mean(), lambda f: -f.mean()
    return lambda r, f: f.mean() - r.mean(), lambda f: -f.mean()               # wgan


@pytest.mark.parametrize("name, logits, n_critic", [
    ("bce", False, 1), ("bce", True, 1), ("minimax", False, 1), ("minimax", True, 2),
    ("lsgan", True, 1), ("hinge", True, 2), ("wgan", True, 3)])
def test_each_gan_loss_step_matches_the_same_step_in_pytorch(name, logits, n_critic):
    from minigan.gan_losses import GAN_LOSSES
    from minigan.train import GANTrainer
    from tests.test_train_losses import raw_score_gan

    smoothing = 0.1 if GAN_LOSSES[name].has_labels else 0.0
    lr_g, lr_d, betas, clip = 1e-3, 3e-3, (0.5, 0.9), 0.05
    G, D = raw_score_gan(not logits, nz=3, ch=2, nc=1, seed=4)
    tG, tD = torch_copy(G), torch_copy(D)
    trainer = GANTrainer(G, D, loss=name, lr_g=lr_g, lr_d=lr_d, betas=betas, n_critic=n_critic,
                         label_smoothing=smoothing, clip=clip)
    opt_G = torch.optim.Adam(tG.parameters(), lr=lr_g, betas=betas)
    opt_D = torch.optim.Adam(tD.parameters(), lr=lr_d, betas=betas)
    loss_d_fn, loss_g_fn = torch_losses(name, logits, 1.0 - smoothing)
    rng = np.random.default_rng(0)
    for _ in range(2):                                   # two steps: Adam's moments carry over
        x_real, z = rng.uniform(-1, 1, (4, 1, 8, 8)), rng.standard_normal((4, 3, 1, 1))
        stats = trainer.step(x_real, z=z)
        tx, tz = torch.tensor(x_real), torch.tensor(z)
        for _ in range(n_critic):                        # the critic's updates, the fake batch detached
            opt_D.zero_grad()
            x_fake = tG(tz)
            loss_d = loss_d_fn(tD(tx), tD(x_fake.detach()))
            loss_d.backward()
            opt_D.step()
            if name == "wgan":
                with torch.no_grad():
                    for p in tD.parameters():
                        p.clamp_(-clip, clip)
        opt_G.zero_grad()                                # G's update through the updated D
        loss_g = loss_g_fn(tD(x_fake))
        loss_g.backward()
        opt_G.step()
        assert stats["loss_d"] == pytest.approx(loss_d.item(), rel=1e-9)
        assert stats["loss_g"] == pytest.approx(loss_g.item(), rel=1e-9)
    assert_same_weights(G, D, tG, tD, name)


@pytest.mark.parametrize("n_critic, r1", [(1, 0.0), (3, 0.0), (2, 1.5)])
def test_wgan_gp_step_matches_the_same_step_in_pytorch_double_backward(n_critic, r1):
    """WGAN-GP (and R1 on top): the penalty by torch.autograd.grad(..., create_graph=True), a drawn the same."""
    from minigan.train import GANTrainer
    from tests.test_train_losses import critic_gan, record_draws

    lr_g, lr_d, betas, lam = 1e-3, 3e-3, (0.0, 0.9), 10.0
    G, D = critic_gan(4, nz=3, ch=2, nc=1)
    tG, tD = torch_copy(G), torch_copy(D)
    trainer = GANTrainer(G, D, loss="wgan-gp", lr_g=lr_g, lr_d=lr_d, betas=betas, n_critic=n_critic,
                         gp_weight=lam, r1=r1)
    draws = record_draws(trainer)
    opt_G = torch.optim.Adam(tG.parameters(), lr=lr_g, betas=betas)
    opt_D = torch.optim.Adam(tD.parameters(), lr=lr_d, betas=betas)

    def input_grad(x):
        x = x.detach().requires_grad_(True)
        g, = torch.autograd.grad(tD(x).sum(), x, create_graph=True)
        return g.flatten(1)

    rng = np.random.default_rng(0)
    for _ in range(2):
        x_real, z = rng.uniform(-1, 1, (4, 1, 8, 8)), rng.standard_normal((4, 3, 1, 1))
        stats = trainer.step(x_real, z=z)
        tx, tz = torch.tensor(x_real), torch.tensor(z)
        for a in draws["a"][-n_critic:]:                 # each critic update with its own a ~ U(0, 1)
            opt_D.zero_grad()
            x_fake = tG(tz).detach()
            loss_d = tD(x_fake).mean() - tD(tx).mean()
            x_hat = torch.tensor(a) * tx + (1 - torch.tensor(a)) * x_fake
            loss_d = loss_d + lam * ((input_grad(x_hat).norm(dim=1) - 1) ** 2).mean()
            if r1:
                loss_d = loss_d + r1 / 2 * (input_grad(tx) ** 2).sum(dim=1).mean()
            loss_d.backward()
            opt_D.step()
        opt_G.zero_grad()
        loss_g = -tD(tG(tz)).mean()
        loss_g.backward()
        opt_G.step()
        assert stats["loss_d"] == pytest.approx(loss_d.item(), rel=1e-9)
        assert stats["loss_g"] == pytest.approx(loss_g.item(), rel=1e-9)
    assert_same_weights(G, D, tG, tD, "wgan-gp")


def assert_same_weights(G, D, tG, tD, what):
    """minigan's G and D against PyTorch's, parameter by parameter, names included."""
    for ours, theirs in ((G, tG), (D, tD)):
        for (n, p, _), (tn, tp) in zip(ours.parameters(), theirs.named_parameters()):
            assert n == tn
            np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-8, atol=1e-11, err_msg=f"{what}: {n}")
