import numpy as np
import pytest

from minigan import nn
from minigan.models import dcgan28, dcgan64, sample_noise, summary


def conv_params(c_in, c_out, k):
    return c_in * c_out * k * k


def test_dcgan64_shapes_and_parameter_counts_match_pytorch_dcgan():
    G, D = dcgan64(nc=3)
    assert G.num_parameters() == 3_576_704 and D.num_parameters() == 2_765_568   # PyTorch's DCGAN example
    z = sample_noise(2, 100, rng=0)
    x = G(z)
    assert x.shape == (2, 3, 64, 64) and x.dtype == np.float32
    assert np.all(np.abs(x) <= 1)
    assert D(x).shape == (2, 1, 1, 1)


def test_dcgan28_layers_in_order_and_counts():
    G, D = dcgan28(nz=100, ngf=64, ndf=64, nc=1)
    kinds = [type(m).__name__ for m in G.layers]
    assert kinds == ["ConvTranspose2d", "BatchNorm2d", "ReLU", "ConvTranspose2d", "BatchNorm2d", "ReLU",
                     "ConvTranspose2d", "Tanh"]
    kinds = [type(m).__name__ for m in D.layers]
    assert kinds == ["Conv2d", "LeakyReLU", "Conv2d", "BatchNorm2d", "LeakyReLU", "Conv2d", "Sigmoid"]
    assert G.num_parameters() == (conv_params(100, 256, 7) + 2 * 256 + conv_params(256, 128, 4) + 2 * 128
                                  + conv_params(128, 1, 4))
    assert D.num_parameters() == conv_params(1, 64, 4) + conv_params(64, 128, 4) + 2 * 128 + conv_params(128, 1, 7)
    assert all("bias" not in m.params for m in G.layers + D.layers if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)))
    assert all(m.negative_slope == 0.2 for m in D.layers if isinstance(m, nn.LeakyReLU))
    x = G(sample_noise(3, 100, kind="uniform", rng=1))
    assert x.shape == (3, 1, 28, 28) and D(x).shape == (3, 1, 1, 1)


def test_same_seed_same_weights_other_seed_other_weights():
    a, b, c = dcgan28(ngf=8, ndf=8, seed=3), dcgan28(ngf=8, ndf=8, seed=3), dcgan28(ngf=8, ndf=8, seed=4)
    for k, v in a[0].state_dict().items():
        np.testing.assert_array_equal(v, b[0].state_dict()[k])
    assert not np.array_equal(a[1].state_dict()["0.weight"], c[1].state_dict()["0.weight"])


def test_matches_pytorch_parameter_counts_when_torch_is_installed():
    torch = pytest.importorskip("torch")
    tnn = torch.nn
    G = tnn.Sequential(
        tnn.ConvTranspose2d(100, 512, 4, 1, 0, bias=False), tnn.BatchNorm2d(512), tnn.ReLU(),
        tnn.ConvTranspose2d(512, 256, 4, 2, 1, bias=False), tnn.BatchNorm2d(256), tnn.ReLU(),
        tnn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False), tnn.BatchNorm2d(128), tnn.ReLU(),
        tnn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), tnn.BatchNorm2d(64), tnn.ReLU(),
        tnn.ConvTranspose2d(64, 3, 4, 2, 1, bias=False), tnn.Tanh())
    ours, _ = dcgan64()
    assert ours.num_parameters() == sum(p.numel() for p in G.parameters())
    for (name, p, _), (tname, tp) in zip(ours.parameters(), G.named_parameters()):
        assert name == tname and p.shape == tuple(tp.shape)


def test_summary_table_lists_every_layer_and_leaves_state_alone():
    G, _ = dcgan28(ngf=8)
    before = G.state_dict()
    text = summary(G, (100, 1, 1), print_fn=None)
    assert "(N, 32, 7, 7)" in text and "(N, 1, 28, 28)" in text and f"{G.num_parameters():,}" in text
    assert len([line for line in text.splitlines() if "ConvTranspose2d(" in line]) == 3
    assert all(m.training for _, m in G.named_modules())
    for k, v in G.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_sample_noise_kinds_and_errors():
    z = sample_noise(1000, 10, "uniform", rng=0)
    assert z.shape == (1000, 10, 1, 1) and z.min() >= -1 and z.max() <= 1 and z.dtype == np.float32
    assert abs(sample_noise(1000, 10, rng=0).std() - 1) < 0.05
    with pytest.raises(ValueError, match="'normal' or 'uniform'"):
        sample_noise(2, 3, kind="gaussian")


@pytest.mark.parametrize("build", [dcgan28, dcgan64])
def test_raw_score_head_and_no_batchnorm_in_d(build):
    G0, D0 = build(ngf=4, ndf=4, nz=8, seed=3)
    assert type(D0.layers[-1]).__name__ == "Sigmoid" and any(isinstance(m, nn.BatchNorm2d) for m in D0.layers)
    G, D = build(ngf=4, ndf=4, nz=8, seed=3, sigmoid=False)
    assert [type(m) for m in D.layers] == [type(m) for m in D0.layers[:-1]]
    for k, v in D0.state_dict().items():                   # the same weights, minus the Sigmoid
        np.testing.assert_array_equal(D.state_dict()[k], v)
    x = G(sample_noise(2, 8, rng=0))
    np.testing.assert_allclose(1 / (1 + np.exp(-D(x).astype(np.float64))), D0(x), rtol=1e-5)
    G1, D1 = build(ngf=4, ndf=4, nz=8, seed=3, sigmoid=False, d_norm="none")
    assert not any(isinstance(m, nn.BatchNorm2d) for m in D1.layers)
    assert [type(m).__name__ for m in D1.layers if not isinstance(m, nn.LeakyReLU)] == ["Conv2d"] * len(
        [m for m in D0.layers if isinstance(m, nn.Conv2d)])
    for k, v in G0.state_dict().items():                   # G is drawn first: the same G whatever D's form
        np.testing.assert_array_equal(G1.state_dict()[k], v)
    np.testing.assert_array_equal(D1.state_dict()["0.weight"], D0.state_dict()["0.weight"])
    assert D1(x).shape == (2, 1, 1, 1)
    with pytest.raises(ValueError, match="d_norm must be 'batch' or 'none', got 'layer'"):
        build(d_norm="layer")


@pytest.mark.parametrize("build", [dcgan28, dcgan64])
def test_spectral_norm_wraps_every_conv_of_d_after_the_same_draws(build):
    G0, D0 = build(ngf=4, ndf=4, nz=8, seed=3, d_norm="none", sigmoid=False)
    G, D = build(ngf=4, ndf=4, nz=8, seed=3, d_norm="none", sigmoid=False, spectral_norm=True)
    convs = [m for m in D0.layers if isinstance(m, nn.Conv2d)]
    wrapped = [m for m in D.layers if isinstance(m, nn.SpectralNorm)]
    assert len(wrapped) == len(convs) >= 3 and not any(isinstance(m, nn.Conv2d) for m in D.layers)
    assert not any(isinstance(m, nn.SpectralNorm) for m in G.layers)
    for k, v in D0.state_dict().items():                   # the weights drawn are the same: SN wraps them after
        np.testing.assert_array_equal(D.state_dict()[k], v)
    for k, v in G0.state_dict().items():
        np.testing.assert_array_equal(G.state_dict()[k], v)
    x = G(sample_noise(2, 8, rng=0))
    D.eval()
    expected = x
    for m in D.layers:                                     # by hand: each conv with W / sigma, sigma = u^T W v
        if isinstance(m, nn.SpectralNorm):
            W = m.params["weight"]
            sigma = m.buffers["u"] @ W.reshape(W.shape[0], -1) @ m.buffers["v"]
            conv = nn.Conv2d(W.shape[1], W.shape[0], W.shape[2:], m.layer.stride, m.layer.padding, bias=False)
            conv.params["weight"] = W / sigma
            expected = conv(expected)
        else:
            expected = m(expected)
    np.testing.assert_allclose(D(x), expected, rtol=1e-5, atol=1e-7)
    _, D_default = build(ngf=4, ndf=4, nz=8, seed=3)
    assert not any(isinstance(m, nn.SpectralNorm) for m in D_default.layers)   # default unchanged
