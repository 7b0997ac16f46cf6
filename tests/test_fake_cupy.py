"""The CuPy code path, run without a GPU on the strict fake of ``tests/fakecupy.py``.

Every test here takes the ``fake_cupy`` fixture (``tests/conftest.py``): ``"cupy"``
is then a working backend whose arrays refuse, as real CuPy's do, to turn into
NumPy arrays by themselves. Each test runs the same thing on NumPy and on the
fake and compares: layers, losses and optimizers, GANTrainer steps, and the
whole training job (samples, checkpoints, resume, evaluation, generate).

The first tests check the fake itself is strict, so this file cannot pass by accident.
"""
import copy
import json
import math
from dataclasses import replace

import numpy as np
import pytest

from minigan import backend as B
from minigan import nn
from minigan.gradflow import GradFlow
from minigan.init import dcgan_init
from minigan.losses import bce, bce_with_logits, softmax_cross_entropy
from minigan.models import dcgan28, summary
from minigan.optim import SGD, Adam
from minigan.train import GANTrainer

from . import fakecupy
from .job.cli.conftest import squares


def on_device(a):
    return B.backend_name(a) == "cupy"


# ------------------------------------------------------------------------------ (d) the fake is strict
def test_fake_refuses_implicit_conversion_like_cupy(fake_cupy):
    a = B.asarray(np.arange(6.0).reshape(2, 3), "cupy")
    assert type(a) is fake_cupy.ndarray and not isinstance(a, np.ndarray)
    host = np.zeros((2, 3))
    for to_host in (np.asarray, np.array, lambda x: host.__setitem__(Ellipsis, x)):
        with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
            to_host(a)
    for numpy_function in (np.mean, np.nan_to_num, lambda x: np.concatenate([x, x]), lambda x: np.savez("f", x=x)):
        with pytest.raises(TypeError):
            numpy_function(a)
    with pytest.raises(TypeError, match="Unsupported type"):
        a + np.ones(3)                                   # a host array in device arithmetic
    with pytest.raises(TypeError, match="Unsupported type"):
        fake_cupy.maximum(a, np.zeros(3))
    with pytest.raises(ValueError, match="non-scalar numpy.ndarray"):
        a[...] = np.ones((2, 3))
    with pytest.raises(TypeError):
        json.dumps(a.sum())                              # reductions give 0-d device arrays, not floats
    with pytest.raises(AttributeError, match="no attribute 'trapz'"):
        fake_cupy.trapz                                  # what CuPy does not have, the fake has not either


def test_fake_behaves_like_cupy_where_cupy_works(fake_cupy):
    host = np.arange(6.0).reshape(2, 3)
    a = B.asarray(host, "cupy")
    a += 1                                               # a copy on the device: the host array is untouched
    assert host[0, 0] == 0 and float(a[0, 0]) == 1.0
    assert on_device(a.sum()) and a.sum().ndim == 0 and float(a.sum()) == 21.0
    assert on_device(np.exp(a)) and on_device(np.float32(2) * a) and on_device(a.T @ a)
    assert B.get_array_module(a) is fake_cupy and B.available() == ["numpy", "cupy"]
    out = B.to_numpy(a)
    assert type(out) is np.ndarray and out.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert bool(fake_cupy.isnan(fake_cupy.empty(3)).all())   # never-written memory reads as NaN
    view = a[1]
    view[...] = 0                                        # views write through, as on the GPU
    assert B.to_numpy(a)[1].tolist() == [0, 0, 0]
    assert copy.deepcopy(a) is not a and f"{a.max():.1f}" == "3.0"


def test_fixture_put_everything_back():
    """Runs after the tests above: the fake is gone again."""
    import sys
    assert sys.modules.get("cupy") is not fakecupy.cupy
    assert B._cupy is not fakecupy.cupy


def test_backend_helpers_on_the_fake(fake_cupy):
    t = B.asarray(np.zeros(3), "cupy")
    B.scatter_add(t, B.asarray(np.array([0, 0, 2]), "cupy"), B.asarray(np.array([1.0, 2.0, 5.0]), "cupy"))
    assert B.to_numpy(t).tolist() == [3.0, 0.0, 5.0]
    assert B.asarray(t, "numpy", "float32").dtype == np.float32 and B.backend_name(B.asarray(t, "numpy")) == "numpy"


# ------------------------------------------------------------------------------ (a) every layer
def layers():
    """``(name, make_layer, input shape, train mode)`` for every layer kind, float64."""
    f64 = dict(dtype="float64")
    return [
        ("conv", lambda rng: nn.Conv2d(3, 4, 3, 1, 1, **f64, rng=rng), (2, 3, 6, 6), True),
        ("conv-strided-nobias", lambda rng: nn.Conv2d(3, 4, (4, 3), (2, 1), (1, 0), bias=False, **f64, rng=rng),
         (2, 3, 7, 6), True),
        ("convT", lambda rng: nn.ConvTranspose2d(3, 2, 4, 2, 1, **f64, rng=rng), (2, 3, 4, 4), True),
        ("convT-outpad", lambda rng: nn.ConvTranspose2d(2, 3, 3, 2, 1, output_padding=1, bias=False, **f64, rng=rng),
         (2, 2, 3, 5), True),
        ("linear", lambda rng: nn.Linear(5, 3, **f64, rng=rng), (4, 5), True),
        ("bn1d", lambda rng: nn.BatchNorm1d(5, **f64), (4, 5), True),
        ("bn1d-eval", lambda rng: nn.BatchNorm1d(5, **f64), (4, 5), False),
        ("bn2d", lambda rng: nn.BatchNorm2d(3, **f64), (2, 3, 4, 4), True),
        ("bn2d-eval", lambda rng: nn.BatchNorm2d(3, **f64), (2, 3, 4, 4), False),
        ("relu", lambda rng: nn.ReLU(), (2, 3, 4), True),
        ("leaky", lambda rng: nn.LeakyReLU(0.2), (2, 3, 4), True),
        ("leaky-steep", lambda rng: nn.LeakyReLU(1.5), (2, 3, 4), True),
        ("tanh", lambda rng: nn.Tanh(), (2, 3, 4), True),
        ("sigmoid", lambda rng: nn.Sigmoid(), (2, 3, 4), True),
        ("flatten", lambda rng: nn.Flatten(), (2, 3, 2, 2), True),
        ("reshape", lambda rng: nn.Reshape(3, 2, 2), (2, 12), True),
    ]


def forward_backward(make, shape, training, backend, requires_grad=True, input_grad=True):
    """One forward and backward pass of a fresh layer on ``backend``; everything it made, as NumPy."""
    rng = np.random.default_rng(0)
    layer = make(rng).train(training).requires_grad_(requires_grad)
    layer.input_grad = input_grad
    for name, p, _ in layer.parameters():             # BatchNorm starts at gamma 1, beta 0: perturb it
        p[...] = B.asarray(rng.uniform(0.5, 1.5, p.shape), B.backend_name(p))
    for name, b in layer.named_buffers():             # ... and its running statistics
        b[...] = B.asarray(rng.uniform(0.5, 1.5, b.shape), B.backend_name(b))
    x = rng.standard_normal(shape)
    layer.to(backend)
    y = layer(B.asarray(x, backend))
    dy = B.asarray(np.random.default_rng(1).standard_normal(y.shape), backend)
    dx = layer.backward(dy)
    assert B.backend_name(y) == backend and (dx is None or B.backend_name(dx) == backend)
    for d in (layer.params, layer.grads, layer.buffers):
        assert all(B.backend_name(v) == backend for v in d.values())
    return {"y": B.to_numpy(y), "dx": None if dx is None else B.to_numpy(dx),
            **{f"grad {k}": B.to_numpy(g) for k, g in layer.grads.items()},
            **{f"buffer {k}": B.to_numpy(b) for k, b in layer.buffers.items()}}


def assert_same(cpu: dict, gpu: dict, rtol=1e-12, atol=1e-13):
    assert cpu.keys() == gpu.keys()
    for k in cpu:
        if cpu[k] is None:
            assert gpu[k] is None, k
        else:
            np.testing.assert_allclose(gpu[k], cpu[k], rtol=rtol, atol=atol, err_msg=k)


LAYERS = layers()
WEIGHTED = [c for c in LAYERS if c[0].startswith(("conv", "linear", "bn"))]     # layers with parameters


@pytest.mark.parametrize("name, make, shape, training", LAYERS, ids=[c[0] for c in LAYERS])
def test_every_layer_matches_numpy(fake_cupy, name, make, shape, training):
    assert_same(forward_backward(make, shape, training, "numpy"), forward_backward(make, shape, training, "cupy"))


@pytest.mark.parametrize("name, make, shape, training", WEIGHTED, ids=[c[0] for c in WEIGHTED])
def test_frozen_layers_and_first_layers_match_numpy(fake_cupy, name, make, shape, training):
    for flags in (dict(requires_grad=False), dict(input_grad=False)):
        assert_same(forward_backward(make, shape, training, "numpy", **flags),
                    forward_backward(make, shape, training, "cupy", **flags))


def test_the_gpu_only_tests_pass_on_the_fake(fake_cupy, tmp_path, monkeypatch):
    """The tests skipped without a GPU, and the GPU half of docs/backends.md, run on the fake."""
    from . import test_docs
    from .job.metrics import test_classifier
    from .nn import test_cupy_parity
    from .job.viz import test_grid
    test_cupy_parity.test_forward_and_backward_match_between_numpy_and_cupy()
    test_cupy_parity.test_numpy_input_to_cupy_module_is_a_clear_error()
    test_classifier.test_cupy_features_match_numpy()
    test_grid.test_cupy_input_matches_numpy()
    test_docs.test_python_snippets_run(test_docs.ROOT / "docs" / "backends.md", tmp_path, monkeypatch)


def test_losses_take_host_targets_and_labels(fake_cupy):
    p, logits = np.full((3, 1), 0.25), np.zeros((3, 4))
    assert bce(B.asarray(p, "cupy"), np.ones((3, 1)))[0] == pytest.approx(bce(p, 1.0)[0])
    assert softmax_cross_entropy(B.asarray(logits, "cupy"), np.array([0, 1, 3]))[0] == pytest.approx(math.log(4))


def test_losses_match_numpy(fake_cupy):
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, (6, 1, 1, 1))
    p[0], p[1] = 0.0, 1.0                               # the clamped ends
    z = rng.standard_normal((6, 1)) * 30
    logits, labels = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    for fn, args in ((bce, (p, 0.9)), (bce, (p, rng.uniform(0, 1, p.shape))), (bce_with_logits, (z, 1.0)),
                     (softmax_cross_entropy, (logits, labels))):
        loss_cpu, grad_cpu = fn(*args)
        loss_gpu, grad_gpu = fn(*(B.asarray(a, "cupy") if isinstance(a, np.ndarray) else a for a in args))
        assert type(loss_gpu) is float and on_device(grad_gpu)
        assert math.isclose(loss_gpu, loss_cpu, rel_tol=1e-12)
        np.testing.assert_allclose(B.to_numpy(grad_gpu), grad_cpu, rtol=1e-12)


@pytest.mark.parametrize("make_opt", [lambda net: Adam(net, lr=1e-2), lambda net: SGD(net, lr=1e-2, momentum=0.9)],
                         ids=["adam", "sgd"])
def test_optimizers_match_numpy_and_save_numpy_state(fake_cupy, make_opt):
    def run(backend):
        rng = np.random.default_rng(0)
        net = nn.Sequential(nn.Linear(4, 3, dtype="float64", rng=rng), nn.Tanh()).to(backend)
        opt = make_opt(net)
        for _ in range(3):
            opt.zero_grad()
            net.backward(B.asarray(np.ones((5, 3)), backend) * net(B.asarray(rng.standard_normal((5, 4)), backend)))
            opt.step()
        state = opt.state_dict()
        assert all(type(a) is np.ndarray for s in state["state"].values() for a in s.values())
        opt.load_state_dict(state)                      # back onto the parameters' device
        assert all(B.backend_name(a) == backend for s in opt.state.values() for a in s.values())
        return net.state_dict()
    assert_same(run("numpy"), run("cupy"))


def test_module_to_state_dict_summary_and_gradflow(fake_cupy):
    G, D = dcgan28(ngf=4, ndf=4, nz=8, seed=0)
    table = summary(G, (8, 1, 1), print_fn=None)
    G.to("cupy")
    assert summary(G, (8, 1, 1), print_fn=None) == table
    assert all(type(v) is np.ndarray for v in G.state_dict().values())
    G2, _ = dcgan28(ngf=4, ndf=4, nz=8, seed=1)
    G.load_state_dict(G2.state_dict())                  # host weights into a device model: it stays on the device
    assert all(on_device(p) for p in G.params.values())
    G.monitor = flow = GradFlow(G)
    y = G(B.asarray(np.random.default_rng(0).standard_normal((3, 8, 1, 1)), "cupy", "float32"))
    G.backward(y)
    rows = flow.summary()
    assert len(rows) == len(G.layers) and all(isinstance(r["act_std"], float) for r in rows)
    G.to(dtype="float64")                               # cast on the device
    assert all(on_device(p) and p.dtype == np.float64 for p in G.params.values())
    G.to("numpy")
    assert all(B.backend_name(p) == "numpy" for p in G.params.values())
    D.to("cupy")
    dcgan_init(D, 7)                                    # drawn on the host, written into device arrays
    _, D_host = dcgan28(ngf=4, ndf=4, nz=8, seed=0)
    assert_same(dcgan_init(D_host, 7).state_dict(), D.state_dict())


def test_a_nan_step_on_the_device_changes_nothing(fake_cupy):
    from minigan.train import NonFiniteLossError
    G, D = dcgan28(ngf=4, ndf=4, nz=8, seed=0)
    G.to("cupy"), D.to("cupy")
    trainer = GANTrainer(G, D, seed=0)
    before = D.state_dict()
    stats = trainer.step(np.full((4, 1, 28, 28), np.nan, np.float32))   # masked on the device, no wait ...
    with pytest.raises(NonFiniteLossError, match="step 1: Loss_D is nan"):
        stats["loss_d"]                                 # ... and refused when its numbers are read
    assert_same(before, D.state_dict(), rtol=0, atol=0)


# ------------------------------------------------------------------------------ (b) GANTrainer steps
def trainer_run(backend, steps=3, dtype="float64", **options):
    G, D = dcgan28(ngf=4, ndf=4, nz=8, seed=0, dtype=dtype)
    G.to(backend), D.to(backend)
    trainer = GANTrainer(G, D, seed=0, **options)
    x = squares(8 * steps, seed=1).astype(np.float64) / 127.5 - 1
    history = []
    for i in range(steps):
        trainer.track_grad_flow = i == 1
        stats = trainer.step(x[8 * i:8 * (i + 1), None].astype(dtype))
        history.append(stats)
    return trainer, history


@pytest.mark.parametrize("options", [{}, dict(ema=0.9, label_smoothing=0.1, n_critic=2, noise="uniform")],
                         ids=["dcgan", "ema-smoothing-ncritic"])
def test_gan_trainer_steps_match_numpy(fake_cupy, options):
    cpu, cpu_history = trainer_run("numpy", **options)
    gpu, gpu_history = trainer_run("cupy", **options)
    for s_cpu, s_gpu in zip(cpu_history, gpu_history):
        flows = s_cpu.pop("grad_flow", None), s_gpu.pop("grad_flow", None)
        assert all(type(v) is float for v in s_gpu.values())
        assert s_gpu == pytest.approx(s_cpu, rel=1e-10)
        if flows[0] is not None:
            assert json.dumps(flows[1])                 # plain Python numbers, ready for a CSV
    state_cpu, state_gpu = cpu.state_dict(), gpu.state_dict()
    for part in ("G", "D", "G_ema"):
        if state_cpu[part] is not None:
            assert_same(state_cpu[part], state_gpu[part], rtol=1e-9, atol=1e-12)
    samples = gpu.generate(n=4)
    assert on_device(samples)
    np.testing.assert_allclose(B.to_numpy(samples), cpu.generate(n=4), rtol=1e-9, atol=1e-12)


def test_gan_trainer_float32_and_resume_across_devices(fake_cupy):
    cpu, cpu_history = trainer_run("numpy", steps=2, dtype="float32")
    gpu, gpu_history = trainer_run("cupy", steps=2, dtype="float32")
    assert [s["loss_d"] for s in gpu_history] == pytest.approx([s["loss_d"] for s in cpu_history], rel=1e-4)
    # a checkpoint of the NumPy run continues on the device, and the other way round
    for source, target_backend in ((cpu, "cupy"), (gpu, "numpy")):
        G, D = dcgan28(ngf=4, ndf=4, nz=8, seed=5)
        G.to(target_backend), D.to(target_backend)
        resumed = GANTrainer(G, D, seed=3)
        resumed.load_state_dict(source.state_dict())
        x = squares(8, seed=9).astype(np.float32)[:, None] / 127.5 - 1
        assert resumed.step(x)["loss_g"] == pytest.approx(copy.deepcopy(source).step(x)["loss_g"], rel=1e-4)


# ------------------------------------------------------------------------------ (c) the training job
@pytest.fixture
def tiny_job(tmp_path, monkeypatch):
    """A labelled MNIST-style set of squares and a tiny untrained judge: the config of a small run."""
    from minigan.job.data import write_idx
    from minigan.job.metrics import Classifier, classifier_path, save_classifier
    from minigan.job.run import TrainConfig

    data = tmp_path / "data"
    rng = np.random.default_rng(0)
    for split, n, seed in (("train", 128, 0), ("t10k", 40, 1)):
        write_idx(data / f"{split}-images-idx3-ubyte", squares(n, seed=seed))
        write_idx(data / f"{split}-labels-idx1-ubyte", rng.integers(0, 10, n).astype(np.uint8))
    clf = Classifier(widths=(4, 4, 8), hidden=16, seed=0).eval()
    save_classifier(clf, classifier_path("mnist", tmp_path / "cache" / "classifiers"), dataset="mnist",
                    test_accuracy=0.1)
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "cache"))
    return TrainConfig(dataset="mnist", data_dir=str(data), ngf=4, ndf=4, nz=8, batch_size=16, epochs=2,
                       max_steps=5, sample_every=2, log_every=2, checkpoint_every=3, eval_every=4,
                       eval_samples=20, grad_flow_every=2, ema=0.9)


def test_training_job_end_to_end_on_the_device(fake_cupy, tiny_job, tmp_path, capsys):
    from minigan.job.checkpoint import load_checkpoint
    from minigan.job.cli import main
    from minigan.job.judge import evaluate_checkpoint
    from minigan.job.generate import generate_grid
    from minigan.job.run import train
    from minigan.job.logs import read_metrics

    cpu, gpu = tmp_path / "cpu", tmp_path / "gpu"
    train(replace(tiny_job, out=str(cpu), backend="numpy"))
    train(replace(tiny_job, out=str(gpu), backend="cupy", max_steps=3))
    result = train(replace(tiny_job, out=str(gpu), backend="cupy"), resume=gpu)      # continue on the device
    assert result["step"] == 5 and "resumed from step 3" in capsys.readouterr().out
    for name in ("samples.png", "training.gif", "curves.png", "interpolation.png", "metrics.png",
                 "index.html", "gradflow.csv", "samples/step_000004.png"):
        assert (gpu / name).is_file(), name
    state = load_checkpoint(gpu)
    assert state["config"]["backend"] == "cupy" and state["step"] == 5
    for log in ("metrics.csv", "eval.csv"):                # the same numbers as the run on NumPy
        a, b = read_metrics(cpu / log), read_metrics(gpu / log)
        rows = [b["step"].index(step) for step in a["step"]]   # eval.csv also has the first half's end, step 3
        for k in a:
            np.testing.assert_allclose([b[k][i] for i in rows], a[k], rtol=1e-4, atol=1e-6, err_msg=f"{log}: {k}")

    grid = generate_grid(gpu, tmp_path / "grid.png", n=6, nrow=3, backend="cupy")
    assert grid.is_file()
    evaluated = evaluate_checkpoint(gpu, n=20, backend="cupy", progress=False)
    assert json.dumps(evaluated) and evaluated["step"] == 5
    assert main(["generate", "--checkpoint", str(gpu), "--n", "6", "--interpolate", "--backend", "cupy",
                 "--out", str(tmp_path / "walk.png")]) == 0
    assert main(["evaluate", "--checkpoint", str(gpu), "--n", "20", "--backend", "cupy",
                 "--json", str(tmp_path / "result.json")]) == 0
    assert json.loads((tmp_path / "result.json").read_text())["step"] == 5


def test_classifier_trains_and_judges_on_the_device(fake_cupy):
    from minigan.job.metrics import Classifier, evaluate_generator, train_classifier
    from minigan.job.metrics.classifier import accuracy

    images, labels = squares(48, seed=2), np.arange(48) % 10
    nets = {}
    for backend in ("numpy", "cupy"):
        clf = Classifier(widths=(4, 4, 8), hidden=16, seed=0)
        nets[backend] = train_classifier(images, labels, epochs=1, batch_size=16, classifier=clf,
                                         backend=backend, progress=False)
    assert on_device(next(iter(nets["cupy"].params.values())))
    np.testing.assert_allclose(nets["cupy"].features(images), nets["numpy"].features(images), rtol=1e-4, atol=1e-5)
    assert accuracy(nets["cupy"], images, labels) == accuracy(nets["numpy"], images, labels)
    fake = B.asarray(images[:, None].astype(np.float32) / 127.5 - 1, "cupy")    # device "samples"
    result = evaluate_generator(lambda m: fake[:m], nets["cupy"], images, n=20, batch_size=10)
    assert json.dumps(result)


def test_the_judge_is_trained_on_the_device_when_none_is_cached(fake_cupy, tiny_job, tmp_path):
    from minigan.job.metrics import load_classifier, load_or_train_classifier
    from minigan.job.metrics.cache import classifier_path
    clf = load_or_train_classifier("mnist", root=tiny_job.data_dir, cache_dir=tmp_path / "new", backend="cupy",
                                   progress=False)             # RECIPE: 2 epochs of 1 batch of 128 here
    assert on_device(next(iter(clf.params.values()))) and 0 <= clf.test_accuracy <= 1
    saved = load_classifier(classifier_path("mnist", tmp_path / "new", clf.meta["data"]), "mnist")   # saved from the device
    assert_same(saved.state_dict(), clf.state_dict(), rtol=0, atol=0)


def test_grids_and_logs_take_device_arrays(fake_cupy, tmp_path):
    from minigan.job.logs import MetricsLog, read_metrics
    from minigan.job.viz import make_grid
    x = np.linspace(-1, 1, 2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    assert np.array_equal(make_grid(B.asarray(x, "cupy")), make_grid(x))
    with MetricsLog(tmp_path / "m.csv", ("step", "loss")) as log:
        log.log(step=1, loss=B.asarray(np.float32(0.25), "cupy").sum())          # a 0-d device array
    assert read_metrics(tmp_path / "m.csv")["loss"] == [0.25]
