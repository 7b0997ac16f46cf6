"""The DiffAugment module: gradients through the composed policies, reproducibility, errors, CuPy, PyTorch."""
import json

import numpy as np
import pytest
from hypothesis import given, strategies as st

from minigan import backend as B
from minigan.augment import DiffAugment, parse_policy
from tests.augment.strategies import image_shapes
from tests.gradcheck import assert_close, numerical_gradient
from tests.strategies import seeds

NAMES = ["translation", "cutout", "color"]
policies = st.permutations(NAMES).flatmap(lambda p: st.integers(1, 3).map(lambda k: ",".join(p[:k])))


@given(shape=image_shapes(), policy=policies, ratio=st.sampled_from([0.125, 0.5, 1.0]), seed=seeds)
def test_composed_gradient_matches_finite_differences(shape, policy, ratio, seed):
    """Every order and subset of the policies, with one fixed draw of their parameters."""
    N, C, H, W = shape
    rng = np.random.default_rng(seed)
    T = DiffAugment(policy, seed=seed, translation_ratio=ratio, cutout_ratio=ratio)
    params = T.draw(N, H, W)
    x, dy = rng.standard_normal(shape), rng.standard_normal(shape)
    numeric = numerical_gradient(lambda: float(np.sum(T.apply(x, params) * dy)), x)
    T.apply(x, params)
    assert_close(T.backward(dy), numeric, f"{T!r} dL/dx")


@given(shape=image_shapes(), seed=seeds)
def test_forward_is_draw_then_apply(shape, seed):
    N, C, H, W = shape
    x = np.random.default_rng(seed).standard_normal(shape)
    T1, T2 = DiffAugment(seed=seed), DiffAugment(seed=seed)
    np.testing.assert_array_equal(T1(x), T2.apply(x, T2.draw(N, H, W)))
    np.testing.assert_array_equal(T1(x), T2(x))                  # and the next draw agrees too


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("C", [1, 3])
def test_shape_and_dtype_are_kept(dtype, C):
    x = np.random.default_rng(0).standard_normal((4, C, 9, 6)).astype(dtype)
    T = DiffAugment()
    y = T(x)
    assert y.shape == x.shape and y.dtype == dtype
    dx = T.backward(np.ones_like(y))
    assert dx.shape == x.shape and dx.dtype == dtype


def test_reproducible_from_the_seed_and_different_between_seeds():
    x = np.random.default_rng(0).standard_normal((8, 3, 16, 16))
    a = [DiffAugment(seed=7)(x) for _ in range(2)]
    np.testing.assert_array_equal(a[0], a[1])
    assert not np.allclose(DiffAugment(seed=8)(x), a[0])
    T = DiffAugment(seed=7)
    first, second = T(x), T(x)
    assert not np.allclose(first, second)                         # fresh parameters on every call


def test_state_dict_restores_the_draws_through_json():
    """A checkpoint stores the RNG state (as JSON, like the trainer's); the resumed module draws the same."""
    x = np.random.default_rng(0).standard_normal((4, 1, 12, 12))
    T = DiffAugment(seed=3)
    T(x)
    saved = json.loads(json.dumps(T.state_dict()))
    expected = T(x)
    resumed = DiffAugment(seed=99)
    resumed.load_state_dict(saved)
    np.testing.assert_array_equal(resumed(x), expected)


def test_eval_mode_is_the_identity():
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8))
    T = DiffAugment().eval()
    state = T.state_dict()
    np.testing.assert_array_equal(T(x), x)
    np.testing.assert_array_equal(T.backward(2 * x), 2 * x)
    assert T.state_dict() == state                                # and it draws nothing
    assert not np.allclose(T.train()(x), x)


def test_empty_policy_is_the_identity():
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 5))
    T = DiffAugment("")
    np.testing.assert_array_equal(T(x), x)
    np.testing.assert_array_equal(T.backward(x), x)


def test_translation_and_cutout_with_ratio_zero_are_the_identity():
    x = np.random.default_rng(0).standard_normal((3, 3, 7, 5))
    T = DiffAugment("translation,cutout", translation_ratio=0.0, cutout_ratio=0.0)
    np.testing.assert_array_equal(T(x), x)


def test_policy_names_are_parsed_and_checked():
    assert parse_policy(" translation, color ") == ("translation", "color")
    assert parse_policy("") == ()
    with pytest.raises(ValueError, match=r"policy 'flip': choose from translation, cutout, color \(comma-sep"):
        DiffAugment("color,flip")
    with pytest.raises(ValueError, match="names color more than once"):
        DiffAugment("color,translation,color")
    with pytest.raises(ValueError, match="comma-separated string"):
        DiffAugment(["color"])
    with pytest.raises(ValueError, match=r"cutout_ratio must be in \[0, 1\], got 2"):
        DiffAugment(cutout_ratio=2)


def test_misuse_is_a_clear_error():
    x = np.zeros((2, 3, 8, 8))
    T = DiffAugment("translation,color")
    with pytest.raises(RuntimeError, match="backward\\(\\) called before forward\\(\\)"):
        T.backward(x)
    with pytest.raises(ValueError, match=r"expected input of shape \(N, C, H, W\)"):
        T(np.zeros((3, 8, 8)))
    with pytest.raises(ValueError, match="float32 or float64"):
        T(np.zeros((2, 3, 8, 8), dtype=np.int64))
    with pytest.raises(ValueError, match=r"parameters are for policies \['color'\]"):
        T.apply(x, {"color": T.draw(2, 8, 8)["color"]})
    with pytest.raises(ValueError, match=r"translation parameter 'shift_h' has shape \(3,\), expected \(2,\)"):
        T.apply(x, T.draw(3, 8, 8))


def test_runs_on_the_cupy_stand_in_and_matches_numpy(fake_cupy):
    """Parameters are drawn on the host and moved once; the numbers are NumPy's."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 3, 10, 7)).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    cpu = DiffAugment(seed=5)
    y_cpu, dx_cpu = cpu(x), cpu.backward(dy)
    gpu = DiffAugment(seed=5)
    y = gpu(B.asarray(x, "cupy"))
    dx = gpu.backward(B.asarray(dy, "cupy"))
    assert B.backend_name(y) == "cupy" and B.backend_name(dx) == "cupy" and y.dtype == np.float32
    assert all(B.backend_name(v) == "cupy" for _, p in gpu.cache for v in p.values() if not isinstance(v, int))
    np.testing.assert_allclose(B.to_numpy(y), y_cpu, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(B.to_numpy(dx), dx_cpu, rtol=1e-6, atol=1e-6)


# -- against the reference code's construction, in PyTorch with autograd -------------------------
def torch_reference(torch, x, params):
    """The reference implementation's steps (pad + clamped gather, clamped cutout grid, colour means),
    written again in PyTorch for given parameters, so autograd can check the hand-written backward."""
    F = torch.nn.functional
    N, C, H, W = x.shape
    for name, p in params.items():
        if name == "color":
            b, s, k = (torch.tensor(p[key]).view(-1, 1, 1, 1) for key in ("brightness", "saturation", "contrast"))
            x = x + b
            m = x.mean(dim=1, keepdim=True)
            x = (x - m) * s + m
            m = x.mean(dim=[1, 2, 3], keepdim=True)
            x = (x - m) * k + m
        elif name == "translation":
            th, tw = torch.tensor(p["shift_h"]).view(-1, 1, 1), torch.tensor(p["shift_w"]).view(-1, 1, 1)
            n, i, j = torch.meshgrid(torch.arange(N), torch.arange(H), torch.arange(W), indexing="ij")
            i = torch.clamp(i + th + 1, 0, H + 1)                 # into the image padded with one zero row
            j = torch.clamp(j + tw + 1, 0, W + 1)
            x = F.pad(x, [1, 1, 1, 1])[n, :, i, j].permute(0, 3, 1, 2)
        else:
            sh, sw = p["size_h"], p["size_w"]
            ch, cw = torch.tensor(p["centre_h"]).view(-1, 1, 1), torch.tensor(p["centre_w"]).view(-1, 1, 1)
            n, i, j = torch.meshgrid(torch.arange(N), torch.arange(sh), torch.arange(sw), indexing="ij")
            i = torch.clamp(i + ch - sh // 2, 0, H - 1)
            j = torch.clamp(j + cw - sw // 2, 0, W - 1)
            mask = torch.ones(N, H, W, dtype=x.dtype)
            mask[n, i, j] = 0
            x = x * mask.unsqueeze(1)
    return x


@given(shape=image_shapes(max_size=12), policy=policies, seed=seeds)
def test_matches_the_reference_construction_in_pytorch(shape, policy, seed):
    torch = pytest.importorskip("torch")
    N, C, H, W = shape
    rng = np.random.default_rng(seed)
    T = DiffAugment(policy, seed=seed)
    params = T.draw(N, H, W)
    x, dy = rng.standard_normal(shape), rng.standard_normal(shape)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch_reference(torch, xt, params)
    (yt * torch.tensor(dy)).sum().backward()
    np.testing.assert_allclose(T.apply(x, params), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(T.backward(dy), xt.grad.numpy(), rtol=1e-12, atol=1e-12)
