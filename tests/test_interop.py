"""safetensors files: minigan -> file -> minigan, minigan -> PyTorch, PyTorch -> minigan, and clear errors.

The PyTorch tests build the DCGAN the way PyTorch's own DCGAN example does, an
``nn.Sequential`` of the same layers written out by hand (not derived from
minigan's networks, so a wrong layer in minigan would show), and load with
``strict=True``. They are skipped where PyTorch is not installed.
"""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("safetensors")
import safetensors  # noqa: E402
import safetensors.numpy  # noqa: E402

from minigan.models import ARCHITECTURES, load_safetensors, save_safetensors  # noqa: E402
from minigan.models import safetensors_file  # noqa: E402
from minigan.models.pytorch_layout import NetSpec, infer_spec, torch_state_dict  # noqa: E402
from minigan.models.safetensors_file import SafetensorsUnavailable, WeightsFileError, read_safetensors  # noqa: E402

IMAGE_SIZE = {"dcgan28": 28, "dcgan64": 64}
SPECS = [NetSpec("dcgan28", "G", nz=6, ngf=3, nc=1), NetSpec("dcgan28", "D", ndf=5, nc=2),
         NetSpec("dcgan64", "G", nz=5, ngf=2, nc=3), NetSpec("dcgan64", "D", ndf=3, nc=3)]
IDS = [str(s) for s in SPECS]


def input_shape(spec: NetSpec, n: int) -> tuple:
    """G takes z (n, nz, 1, 1); D takes pictures (n, nc, H, W)."""
    if spec.net == "G":
        return (n, spec.nz, 1, 1)
    return (n, spec.nc, IMAGE_SIZE[spec.arch], IMAGE_SIZE[spec.arch])


def trained_a_little(spec: NetSpec, dtype="float32", seed=0):
    """``spec``'s minigan network with every array non-trivial: running statistics moved by two
    training-mode batches, and every weight and bias nudged (BatchNorm's beta starts at 0)."""
    rng = np.random.default_rng(seed)
    net = spec.build(dtype)
    for _ in range(2):
        net.forward(rng.standard_normal(input_shape(spec, 4)).astype(dtype))
    for _, p, _ in net.parameters():
        p += (0.05 * rng.standard_normal(p.shape)).astype(dtype)
    return net.eval()


def assert_same_arrays(a: dict, b: dict):
    assert list(a) == list(b)
    for k in a:
        assert a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]), k


# ---- minigan -> file -> minigan ---------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_round_trip_is_exact(spec, dtype, tmp_path):
    net = trained_a_little(spec, dtype)
    path = save_safetensors(net, tmp_path / "net.safetensors", steps=7)
    back = load_safetensors(path)
    assert_same_arrays(net.state_dict(), back.state_dict())
    assert not back.training                                          # ready to sample: eval mode
    x = np.random.default_rng(1).standard_normal(input_shape(spec, 3)).astype(dtype)
    assert np.array_equal(net(x), back(x))
    arrays, meta = read_safetensors(path)
    form = {"minigan.sigmoid": "true", "minigan.d_norm": "batch", "minigan.spectral_norm": "false"}
    assert meta == {"minigan.arch": spec.arch, "minigan.net": spec.net,
                    **{f"minigan.{k}": str(v) for k, v in spec.sizes().items()}, **(form if spec.net == "D" else {})}
    batchnorms = [k for k in arrays if k.endswith(".running_mean")]
    assert batchnorms and all(arrays[k.replace("running_mean", "num_batches_tracked")].shape == () for k in batchnorms)
    assert {int(arrays[k]) for k in arrays if k.endswith("num_batches_tracked")} == {7}


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_a_file_without_metadata_is_recognized_from_its_shapes(spec, tmp_path):
    net = trained_a_little(spec)
    path = tmp_path / "bare.safetensors"
    safetensors.numpy.save_file(torch_state_dict(net), str(path))      # no metadata, as PyTorch writes
    assert read_safetensors(path)[1] == {}
    assert infer_spec({k: v.shape for k, v in torch_state_dict(net).items()}) == spec
    assert_same_arrays(net.state_dict(), load_safetensors(path).state_dict())


def test_the_keys_are_pytorchs():
    G = NetSpec("dcgan28", "G", nz=4, ngf=2).build()
    assert list(torch_state_dict(G))[:7] == ["0.weight", "1.weight", "1.bias", "1.running_mean",
                                             "1.running_var", "1.num_batches_tracked", "3.weight"]


# ---- errors -----------------------------------------------------------------------------------
def bare_file(path, arrays: dict, metadata=None):
    safetensors.numpy.save_file(arrays, str(path), metadata=metadata)
    return path


def test_damaged_and_missing_files(tmp_path):
    path = save_safetensors(SPECS[0].build(), tmp_path / "g.safetensors")
    data = path.read_bytes()
    for i, damaged in enumerate([data[:-10], data[:20], b"not a weights file", b""]):
        bad = tmp_path / f"bad{i}.safetensors"
        bad.write_bytes(damaged)
        with pytest.raises(WeightsFileError, match=f"{bad} is not a readable safetensors file"):
            load_safetensors(bad)
    with pytest.raises(WeightsFileError, match="no weights file at"):
        load_safetensors(tmp_path / "nothing.safetensors")


@pytest.mark.parametrize("with_metadata", [True, False], ids=["metadata", "bare"])
def test_wrong_keys_name_the_first_mismatch(with_metadata, tmp_path):
    spec = SPECS[0]
    meta = safetensors_file.spec_metadata(spec) if with_metadata else None
    state = torch_state_dict(spec.build())
    missing = {k: v for k, v in state.items() if k != "4.running_var"}
    with pytest.raises(WeightsFileError, match=r"no key '4\.running_var'"):
        load_safetensors(bare_file(tmp_path / "a.safetensors", missing, meta))
    extra = {**state, "4.weight_u": np.zeros(3, np.float32)}
    with pytest.raises(WeightsFileError, match=r"unexpected key '4\.weight_u'"):
        load_safetensors(bare_file(tmp_path / "b.safetensors", extra, meta))
    wrapped = {f"module.{k}": v for k, v in state.items()}               # nn.DataParallel's prefix
    with pytest.raises(WeightsFileError, match=r"no key '0\.weight'.*the keys there are module\.0\.weight"):
        load_safetensors(bare_file(tmp_path / "c.safetensors", wrapped, meta))


def test_wrong_shapes_name_the_first_mismatch(tmp_path):
    spec = SPECS[0]                                                      # dcgan28 G, nz=6, ngf=3
    state = torch_state_dict(spec.build())
    wider = torch_state_dict(NetSpec("dcgan28", "G", nz=6, ngf=4).build())
    # the metadata says ngf=3, the arrays are ngf=4: the first layer's weight is named
    path = bare_file(tmp_path / "a.safetensors", wider, safetensors_file.spec_metadata(spec))
    fits_not = r"does not fit dcgan28 G \(nz=6, ngf=3, nc=1\): '0\.weight' has shape \(6, 16, 7, 7\), "
    with pytest.raises(WeightsFileError, match=fits_not + r"but the network's is \(6, 12, 7, 7\)"):
        load_safetensors(path)
    # no metadata: the sizes are read from the first and last layers, so a middle one is named
    state["4.bias"] = np.zeros(5, np.float32)
    with pytest.raises(WeightsFileError, match=r"the closest is dcgan28 G \(nz=6, ngf=3, nc=1\): "
                                               r"'4\.bias' has shape \(5,\), but the network's is \(6,\)"):
        load_safetensors(bare_file(tmp_path / "b.safetensors", state))


def test_files_that_are_no_dcgan(tmp_path):
    with pytest.raises(WeightsFileError, match=r"matches none of minigan's networks.*no key '0\.weight'"):
        load_safetensors(bare_file(tmp_path / "a.safetensors", {"embedding": np.zeros((4, 3), np.float32)}))
    meta = {"minigan.arch": "stylegan", "minigan.net": "G"}
    with pytest.raises(WeightsFileError, match="names stylegan G in its metadata, which this minigan does not have"):
        load_safetensors(bare_file(tmp_path / "b.safetensors", torch_state_dict(SPECS[0].build()), meta))


def test_without_the_package_the_error_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(safetensors_file, "safetensors", None)
    with pytest.raises(SafetensorsUnavailable, match=r"pip install 'minigan\[interop\]'"):
        save_safetensors(SPECS[0].build(), tmp_path / "g.safetensors")
    with pytest.raises(SafetensorsUnavailable):
        load_safetensors(tmp_path / "g.safetensors")
    assert not (tmp_path / "g.safetensors").exists()


# ---- PyTorch ----------------------------------------------------------------------------------
def pytorch_dcgan(nn, spec: NetSpec):
    """The DCGAN of ``spec`` in PyTorch, written out as in PyTorch's DCGAN example."""
    nz, ngf, ndf, nc = spec.nz, spec.ngf, spec.ndf, spec.nc

    def up(c_in, c_out, k, s, p):
        return [nn.ConvTranspose2d(c_in, c_out, k, s, p, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True)]

    def down(c_in, c_out, batchnorm=True):
        return [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False), *([nn.BatchNorm2d(c_out)] if batchnorm else []),
                nn.LeakyReLU(0.2, inplace=True)]

    layers = {
        ("dcgan28", "G"): [*up(nz, ngf * 4, 7, 1, 0), *up(ngf * 4, ngf * 2, 4, 2, 1),
                           nn.ConvTranspose2d(ngf * 2, nc, 4, 2, 1, bias=False), nn.Tanh()],
        ("dcgan64", "G"): [*up(nz, ngf * 8, 4, 1, 0), *up(ngf * 8, ngf * 4, 4, 2, 1), *up(ngf * 4, ngf * 2, 4, 2, 1),
                           *up(ngf * 2, ngf, 4, 2, 1), nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh()],
        ("dcgan28", "D"): [*down(nc, ndf, batchnorm=False), *down(ndf, ndf * 2),
                           nn.Conv2d(ndf * 2, 1, 7, 1, 0, bias=False), nn.Sigmoid()],
        ("dcgan64", "D"): [*down(nc, ndf, batchnorm=False), *down(ndf, ndf * 2), *down(ndf * 2, ndf * 4),
                           *down(ndf * 4, ndf * 8), nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid()],
    }
    return nn.Sequential(*layers[(spec.arch, spec.net)])


def assert_same_outputs(torch, torch_net, net, spec, seed=2):
    """Eval mode, the same float32 input: the same outputs, to float32 rounding."""
    x = np.random.default_rng(seed).standard_normal(input_shape(spec, 5)).astype(np.float32)
    with torch.no_grad():
        want = torch_net.eval()(torch.from_numpy(x)).numpy()
    got = net.eval()(x)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert want.std() > 1e-3                      # outputs that differ from input to input: a real comparison


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_minigan_weights_load_into_pytorch(spec, tmp_path):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    net = trained_a_little(spec)
    path = save_safetensors(net, tmp_path / "net.safetensors", steps=3)
    torch_net = pytorch_dcgan(torch.nn, spec)
    torch_net.load_state_dict(st_torch.load_file(str(path)), strict=True)
    assert int(torch_net.state_dict()["1.num_batches_tracked" if spec.net == "G" else "3.num_batches_tracked"]) == 3
    assert_same_outputs(torch, torch_net, net, spec)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_pytorch_trained_weights_load_into_minigan(spec, tmp_path):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    torch.manual_seed(0)
    torch_net = pytorch_dcgan(torch.nn, spec).train()
    opt = torch.optim.SGD(torch_net.parameters(), lr=0.1)
    for _ in range(3):                            # a few steps: weights and running statistics all move
        x = torch.randn(input_shape(spec, 6))
        loss = ((torch_net(x) - 0.3) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    path = tmp_path / "from_pytorch.safetensors"
    st_torch.save_file(torch_net.state_dict(), str(path))
    net = load_safetensors(path)
    assert str(infer_spec({k: tuple(v.shape) for k, v in torch_net.state_dict().items()})) == str(spec)
    for key, value in torch_net.state_dict().items():
        if key.endswith("running_mean"):
            assert value.abs().max() > 0 and net.state_dict()[key].tolist() == value.tolist()
    assert_same_outputs(torch, torch_net, net, spec)


def test_bfloat16_from_pytorch_is_refused_clearly(tmp_path):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    state = {k: v.to(torch.bfloat16) if v.is_floating_point() else v
             for k, v in pytorch_dcgan(torch.nn, SPECS[0]).state_dict().items()}
    path = tmp_path / "bf16.safetensors"
    st_torch.save_file(state, str(path))
    with pytest.raises(WeightsFileError, match=r"'0\.weight' is BF16, which minigan cannot read; save float32"):
        load_safetensors(path)


def test_every_architecture_has_a_pytorch_twin_here():
    # but the collapse lab's MLP: its Maxout layers have no torch.nn twin, and export refuses it in one
    # line (tests/job/cli/test_collapse_runs.py::test_a_ring_run_is_an_mlp_on_2d_points_and_its_samples_a_scatter_plot)
    assert set(ARCHITECTURES) - {"mlp"} == set(IMAGE_SIZE) == {s.arch for s in SPECS}


# ---- D's other forms: a raw score, no batch norm, spectral norm ---------------------------------
D_FORMS = [NetSpec(arch, "D", ndf=3, nc=2, sigmoid=sig, d_norm=norm, spectral_norm=sn)
           for arch in ("dcgan28", "dcgan64") for sig, norm, sn in [(False, "none", True), (True, "batch", True),
                                                                    (False, "none", False)]]


@pytest.mark.parametrize("spec", D_FORMS, ids=[str(s) for s in D_FORMS])
def test_every_form_of_d_round_trips_and_its_metadata_rebuilds_it(spec, tmp_path):
    net = trained_a_little(spec)
    path = save_safetensors(net, tmp_path / "D.safetensors")
    back = load_safetensors(path)
    assert [type(m) for m in back.layers] == [type(m) for m in net.layers]
    assert_same_arrays(net.state_dict(), back.state_dict())
    x = np.random.default_rng(1).standard_normal(input_shape(spec, 3)).astype(np.float32)
    assert np.array_equal(net(x), back(x))
    arrays, meta = read_safetensors(path)
    assert meta["minigan.sigmoid"] == str(spec.sigmoid).lower() and meta["minigan.d_norm"] == spec.d_norm
    assert ("0.weight_orig" in arrays) == spec.spectral_norm == ("0.weight_u" in arrays)
    assert infer_spec({k: v.shape for k, v in arrays.items()}).spectral_norm == spec.spectral_norm


def pytorch_sn_critic(nn, spec):
    """The D of ``spec`` in PyTorch by hand: torch.nn.utils.spectral_norm around every Conv2d."""
    sn = nn.utils.spectral_norm
    ndf, nc = spec.ndf, spec.nc

    def down(c_in, c_out, batchnorm):
        return [sn(nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False)), *([nn.BatchNorm2d(c_out)] if batchnorm else []),
                nn.LeakyReLU(0.2)]
    bn = spec.d_norm == "batch"
    if spec.arch == "dcgan28":
        layers = [*down(nc, ndf, False), *down(ndf, ndf * 2, bn), sn(nn.Conv2d(ndf * 2, 1, 7, 1, 0, bias=False))]
    else:
        layers = [*down(nc, ndf, False), *down(ndf, ndf * 2, bn), *down(ndf * 2, ndf * 4, bn),
                  *down(ndf * 4, ndf * 8, bn), sn(nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False))]
    return nn.Sequential(*layers, *([nn.Sigmoid()] if spec.sigmoid else []))


SN_FORMS = [s for s in D_FORMS if s.spectral_norm]


@pytest.mark.parametrize("spec", SN_FORMS, ids=[str(s) for s in SN_FORMS])
def test_a_spectrally_normalized_d_loads_into_pytorch_and_back(spec, tmp_path):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    net = trained_a_little(spec)
    path = save_safetensors(net, tmp_path / "D.safetensors")
    torch_net = pytorch_sn_critic(torch.nn, spec)
    torch_net.load_state_dict(st_torch.load_file(str(path)), strict=True)     # weight_orig, weight_u, weight_v
    assert_same_outputs(torch, torch_net, net, spec)                            # eval: sigma = u^T W v, no iteration

    torch.manual_seed(1)                                                        # and back: trained in PyTorch
    torch_net = pytorch_sn_critic(torch.nn, spec).train()
    opt = torch.optim.SGD(torch_net.parameters(), lr=0.1)
    for _ in range(3):                                                          # u, v move with each forward
        loss = ((torch_net(torch.randn(input_shape(spec, 6))) - 0.3) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    state = torch_net.state_dict()
    assert "0.weight_orig" in state and "0.weight" not in state
    path = tmp_path / "from_pytorch.safetensors"
    st_torch.save_file(state, str(path), metadata={"minigan.arch": spec.arch, "minigan.net": "D", "minigan.ndf": "3", "minigan.nc": "2",
                                                   "minigan.sigmoid": str(spec.sigmoid).lower(),
                                                   "minigan.d_norm": spec.d_norm, "minigan.spectral_norm": "true"})
    back = load_safetensors(path)
    np.testing.assert_array_equal(back.state_dict()["0.u"], state["0.weight_u"].numpy())
    assert_same_outputs(torch, torch_net, back, spec)


# ---- conditional networks: G(z, y), D(x, y) ---------------------------------------------------
K = 3
COND_SPECS = [NetSpec("dcgan28", net, nz=6, ngf=3, ndf=4, nc=1, sigmoid=sig, d_norm="batch",
                      num_classes=K, conditional=form)
              for form in ("concat", "projection") for net, sig in (("G", True), ("D", True), ("D", False))]


def pytorch_conditional(torch, nn, spec: NetSpec):
    """The PyTorch modules of docs/pytorch-interop.md, written out again: a Sequential that appends one-hot
    label planes (concat G and D), and the projection D (body, head, embed)."""
    F, K = torch.nn.functional, spec.num_classes

    class LabelConcat(nn.Sequential):
        def __init__(self, *layers, num_classes):
            super().__init__(*layers)
            self.num_classes = num_classes

        def forward(self, x, y):
            N, _, H, W = x.shape
            planes = F.one_hot(y, self.num_classes).to(x.dtype)[:, :, None, None].expand(N, -1, H, W)
            return super().forward(torch.cat([x, planes], dim=1))

    class ProjectionD(nn.Module):
        def __init__(self, body, head, num_classes, sigmoid):
            super().__init__()
            self.body, self.head, self.embed = body, head, nn.Embedding(num_classes, head.in_channels)
            self.sigmoid = sigmoid

        def forward(self, x, y):
            phi = self.body(x)
            s = self.head(phi) + (self.embed(y) * phi.sum(dim=(2, 3))).sum(dim=1).view(-1, 1, 1, 1)
            return torch.sigmoid(s) if self.sigmoid else s

    if spec.net == "G":
        plain = pytorch_dcgan(nn, NetSpec(spec.arch, "G", nz=spec.nz + K, ngf=spec.ngf, nc=spec.nc))
        return LabelConcat(*plain, num_classes=K)
    if spec.conditional == "concat":
        *layers, sigmoid = pytorch_dcgan(nn, NetSpec(spec.arch, "D", ndf=spec.ndf, nc=spec.nc + K))
        return LabelConcat(*layers, *([sigmoid] if spec.sigmoid else []), num_classes=K)
    *body, head, _ = pytorch_dcgan(nn, NetSpec(spec.arch, "D", ndf=spec.ndf, nc=spec.nc))
    return ProjectionD(nn.Sequential(*body), head, K, spec.sigmoid)


@pytest.mark.parametrize("spec", COND_SPECS, ids=[str(s) for s in COND_SPECS])
def test_a_conditional_network_round_trips_and_loads_strictly_into_pytorch(spec, tmp_path):
    rng = np.random.default_rng(1)
    net = spec.build("float32")
    x = rng.standard_normal(input_shape(spec, 6)).astype(np.float32)
    y = np.arange(6) % K
    for _ in range(2):                                              # running statistics moved
        net.forward(x, y)
    for _, p, _ in net.parameters():                                # every weight (the embedding too) non-trivial
        p += (0.05 * rng.standard_normal(p.shape)).astype(np.float32)
    net.eval()
    path = save_safetensors(net, tmp_path / "net.safetensors", spec, steps=2)
    back = load_safetensors(path)                                   # the metadata names the form
    assert_same_arrays(net.state_dict(), back.state_dict())
    assert np.array_equal(back(x, y), net(x, y))
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    torch_net = pytorch_conditional(torch, torch.nn, spec)
    torch_net.load_state_dict(st_torch.load_file(str(path)), strict=True)
    with torch.no_grad():
        want = torch_net.eval()(torch.from_numpy(x), torch.from_numpy(y)).numpy()
    np.testing.assert_allclose(net(x, y), want, rtol=1e-5, atol=1e-5)
    assert np.abs(net(x, (y + 1) % K) - want).max() > 1e-4          # the label matters: a real comparison
