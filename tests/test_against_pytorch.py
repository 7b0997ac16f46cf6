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
