"""The GPU step never waits: device-to-host transfers counted on the CuPy stand-in.

``tests/fakecupy.py`` counts every way a device array's data reaches the host
(``.get()``, ``float()``, ``bool()``, formatting, ...). ``GANTrainer.step`` must make
none, and reading its statistics exactly one (minigan/step_stats.py); the job's
loop, one per ordinary step. A NaN loss is refused on both backends: at once on
NumPy, masked on the device (minigan/finite_check.py); either way nothing of the
failing update is applied, bitwise.
"""
import json
import pickle
import numpy as np
import pytest

from minigan import backend as B
from minigan import nn
from minigan.finite_check import kept_only_if
from minigan.gan_losses import GAN_LOSSES
from minigan.models import dcgan28
from minigan.models.labels import labels_checked
from minigan.optim import Adam
from minigan.step_stats import StepStats
from minigan.train import GANTrainer, NonFiniteLossError

from .job.cli.conftest import squares
from .fakecupy import transfers

def test_the_stand_in_counts_every_way_out_and_nothing_else(fake_cupy):
    a = fake_cupy.asarray(np.arange(3.0))
    s = a.sum()
    ways_out = [a.get, lambda: float(s), lambda: int(s), lambda: bool(s), s.item, a.tolist, a.tobytes,
                lambda: repr(a), lambda: str(a), lambda: f"{s:.2f}", lambda: fake_cupy.asnumpy(a),
                lambda: B.to_numpy(a), lambda: pickle.dumps(a)]
    for way in ways_out:
        with transfers.counting() as c:
            way()
        assert c.count == 1, way
    with transfers.counting() as c:
        with pytest.raises(TypeError):
            np.asarray(a)                                   # refused, but counted
    assert c.count >= 1
    with transfers.counting() as c:                         # work on the device, and metadata
        b = (a * 2 + 1).sum() / a.size
        a[0] = b
        fake_cupy.stack([b, s]), a.shape, len(a), a.dtype
    assert c.count == 0


CASES = {
    **{f"{name}-ncritic2": dict(loss=name, n_critic=2) for name in GAN_LOSSES},
    "bce-sigmoid": dict(loss="bce", sigmoid=True),
    "r1": dict(loss="bce", r1=1.0),
    "ema-smoothing": dict(loss="bce", sigmoid=True, ema=0.9, label_smoothing=0.1),
    "augment": dict(loss="hinge", augment="translation,cutout,color"),
    "wgan-clip-ema": dict(loss="wgan", ema=0.99),
    "sngan-hinge": dict(loss="hinge", spectral_norm=True),
    "conditional-concat": dict(loss="bce", num_classes=3),
    "conditional-projection": dict(loss="hinge", num_classes=3, conditional="projection"),
    "conditional-wgan-gp": dict(loss="wgan-gp", num_classes=3, n_critic=2),
    "conditional-projection-r1": dict(loss="hinge", num_classes=3, conditional="projection", r1=1.0),
}


def make_trainer(backend, loss, sigmoid=False, num_classes=None, conditional="concat", spectral_norm=False,
                 **options):
    needs_plain_critic = loss == "wgan-gp" or options.get("r1")       # no BatchNorm for the penalties
    G, D = dcgan28(ngf=4, ndf=4, nz=8, seed=0, dtype="float64", sigmoid=sigmoid, num_classes=num_classes,
                   conditional=conditional, d_norm="none" if needs_plain_critic else "batch",
                   spectral_norm=spectral_norm)
    G.to(backend), D.to(backend)
    return GANTrainer(G, D, seed=0, loss=loss, **options)


def batches(steps, N=4, conditional=False):
    x = squares(N * steps, seed=1).astype(np.float64)[:, None] / 127.5 - 1
    y = np.arange(N * steps) % 3 if conditional else None
    return [(x[N * i:N * (i + 1)], None if y is None else y[N * i:N * (i + 1)]) for i in range(steps)]


@pytest.mark.parametrize("case", CASES)
def test_the_step_makes_no_transfer_and_reading_its_stats_one(fake_cupy, case):
    options = CASES[case]
    gpu, cpu = make_trainer("cupy", **options), make_trainer("numpy", **options)
    for x, y in batches(3, conditional="num_classes" in options):
        with transfers.counting() as in_step:
            stats = gpu.step(x, y)
        with transfers.counting() as reading:
            values = dict(stats)
            again = (stats["loss_d"], stats.get("grad_flow"), stats.buffers_finite, len(stats), repr(stats))
        assert (in_step.count, reading.count) == (0, 1), case
        assert again[1] is None and again[2] is True
        assert all(type(v) is float for v in values.values())
        assert values == pytest.approx(dict(cpu.step(x, y)), rel=1e-9)


@pytest.mark.parametrize("case", ["wgan-gp-ncritic2", "conditional-wgan-gp"])
def test_a_list_of_real_batches_one_per_d_update_makes_no_transfer_either(fake_cupy, case):
    options = CASES[case]
    gpu, cpu = make_trainer("cupy", **options), make_trainer("numpy", **options)
    steps = batches(2 * 2, conditional="num_classes" in options)           # n_critic 2: two batches a step
    for first, second in zip(steps[::2], steps[1::2]):
        xs, ys = [first[0], second[0]], None if first[1] is None else [first[1], second[1]]
        with transfers.counting() as in_step:
            stats = gpu.step(xs, ys)                   # host labels: checked there, then moved
        assert in_step.count == 0
        assert dict(stats) == pytest.approx(dict(cpu.step(xs, ys)), rel=1e-9)


def test_a_grad_flow_step_may_transfer_but_its_numbers_still_come_in_one(fake_cupy):
    trainer = make_trainer("cupy", "bce")
    trainer.track_grad_flow = True
    stats = trainer.step(*batches(1)[0])                  # the per-layer tables transfer as gathered
    with transfers.counting() as reading:
        row = dict(stats)
    assert reading.count == 1 and json.dumps(row) and set(row["grad_flow"]) == {"G", "D"}


def test_labels_already_on_the_device_are_still_checked(fake_cupy):
    trainer = make_trainer("cupy", "bce", num_classes=3)
    x, _ = batches(1)[0]
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        trainer.step(x, fake_cupy.asarray(np.array([0, 1, 2, 3])))      # brought to the host and checked
    pair = make_trainer("cupy", "bce", num_classes=3, n_critic=2)      # a list: each batch's labels, checked
    with pytest.raises(ValueError, match=r"\(labels\[1\]\): labels must be in \[0, 3\)"):
        pair.step([x, x], [np.array([0, 1, 2, 0]), fake_cupy.asarray(np.array([0, 1, 2, 3]))])
    assert pair.opt_D.step_count == 0                                   # before any D update
    embedding = nn.Embedding(3, 2).to("cupy")
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\), got values from 0 to 3"):
        embedding(fake_cupy.asarray(np.array([0, 3])))                  # outside a step: one transfer
    with labels_checked(), transfers.counting() as inside:              # as in GANTrainer.step
        embedding(fake_cupy.asarray(np.array([0, 2])))
    assert inside.count == 0


def test_step_stats_read_like_a_dict_of_python_floats():
    stats = make_trainer("numpy", "bce", sigmoid=True).step(*batches(1)[0])
    assert isinstance(stats, StepStats)
    plain = dict(stats)
    assert list(plain) == ["loss_d", "loss_g", "d_x", "d_g_z", "d_g_z_after"]
    assert all(type(v) is float for v in plain.values())
    assert stats == plain and plain == stats and json.loads(json.dumps(plain)) == plain
    assert stats.pop("d_x") == plain["d_x"] and "d_x" not in stats and len(stats) == 4


# ------------------------------------------------------------------------------------- the NaN path
def poison(trainer, from_call):
    """D's first layer turns its input to NaN from its ``from_call``-th forward on; just before
    that forward, the trainer's state is saved in the returned dict (``"before"``)."""
    layer, seen = trainer.D.layers[0], {"n": 0}
    real_forward = layer.forward

    def forward(x, *rest):
        seen["n"] += 1
        if seen["n"] == from_call:
            seen["before"] = state_of(trainer)
        return real_forward(x * np.nan if seen["n"] >= from_call else x, *rest)

    layer.forward = forward
    return seen


def state_of(trainer):
    """Weights, running statistics, Adam's moments and the EMA copy, as NumPy arrays."""
    s = trainer.state_dict()
    return {"G": s["G"], "D": s["D"], "G_ema": s["G_ema"],
            "opt_G": s["opt_G"]["state"], "opt_D": s["opt_D"]["state"]}


def assert_bitwise_equal(a, b, where="state"):
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            assert_bitwise_equal(a[k], b[k], f"{where}/{k}")
    elif a is not None:
        np.testing.assert_array_equal(a, b, err_msg=where, strict=True)


# D's first layer runs 2 forwards in each D update (real, fake), then 1 in G's update.
FAILURES = {
    "second-D-update": (5 + 2 + 1,                      # step 2's second D update (step 1 made 5 forwards)
                        r"step 2: Loss_D is nan in the update of the discriminator D \(D update 2 of 2; "
                        r"the earlier ones were applied\); the update was not applied"),
    "G-update": (5 + 2 * 2 + 1, r"step 2: Loss_G is nan in the update of the generator G; the update was not"),
}


@pytest.mark.parametrize("backend", ["numpy", "cupy"])
@pytest.mark.parametrize("failure", FAILURES)
def test_a_nan_update_is_not_applied_bitwise(request, backend, failure):
    if backend == "cupy":
        request.getfixturevalue("fake_cupy")
    from_call, message = FAILURES[failure]
    trainer = make_trainer(backend, "bce", sigmoid=True, n_critic=2, ema=0.9)
    seen = poison(trainer, from_call)
    (x1, _), (x2, _) = batches(2)
    trainer.step(x1)["loss_d"]                              # a good step: Adam's moments and the EMA move
    steps_before = trainer.opt_D.step_count, trainer.opt_G.step_count
    with pytest.raises(NonFiniteLossError, match=message):
        stats = trainer.step(x2)                            # NumPy raises here ...
        assert backend == "cupy"                            # ... the device when the stats are read
        stats["loss_g"]
    assert_bitwise_equal(seen["before"], state_of(trainer))
    assert all(np.isfinite(a).all() for part in state_of(trainer).values() for a in part.values()
               if isinstance(a, np.ndarray))
    skipped = (trainer.opt_D.step_count - steps_before[0], trainer.opt_G.step_count - steps_before[1])
    if backend == "numpy":                                  # refused on the host: not counted
        assert skipped == ((2, 0) if failure == "G-update" else (1, 0)) and trainer.step_count == 1
    else:                                                   # masked on the device: counted (documented)
        assert skipped == (2, 1) and trainer.step_count == 2


def test_the_device_keeps_training_from_the_good_weights_after_a_nan_step(fake_cupy):
    trainer = make_trainer("cupy", "bce", sigmoid=True)
    seen = poison(trainer, 1)
    (x1, _), (x2, _) = batches(2)
    stats = trainer.step(x1)                                # never read: its failure goes unreported
    now = state_of(trainer)
    assert_bitwise_equal({k: seen["before"][k] for k in ("G", "D")}, {k: now[k] for k in ("G", "D")})
    del trainer.D.layers[0].forward                          # the poison gone
    assert np.isfinite(trainer.step(x2)["loss_d"])
    with pytest.raises(NonFiniteLossError, match="step 1: Loss_D is nan"):
        dict(stats)


# ------------------------------------------------------------------------------- Adam(apply=...)
@pytest.mark.parametrize("backend", ["numpy", "cupy"])
def test_adam_apply_false_changes_nothing_and_true_is_a_plain_step(request, backend):
    if backend == "cupy":
        request.getfixturevalue("fake_cupy")
    xp = B.get_backend(backend)

    def net_and_adam():
        net = nn.Sequential(nn.Linear(3, 2, dtype="float64", rng=np.random.default_rng(0))).to(backend)
        opt = Adam(net, lr=0.1)
        for _, _, g in net.parameters():
            g[...] = 1.0
        opt.step()
        return net, opt

    flags = [False, True] if backend == "numpy" else [False, True, xp.asarray(False), xp.asarray(True)]
    plain_net, plain = net_and_adam()
    plain.step()
    for apply in flags:
        net, opt = net_and_adam()
        before = net.state_dict(), {k: B.to_numpy(v["m"]) for k, v in opt.state.items()}
        opt.step(apply=apply)
        applied = bool(B.to_numpy(apply)) if hasattr(apply, "shape") else apply
        expected = (plain_net.state_dict(), {k: B.to_numpy(v["m"]) for k, v in plain.state.items()}) \
            if applied else before
        assert_bitwise_equal(expected[0], net.state_dict())
        assert_bitwise_equal(expected[1], {k: B.to_numpy(v["m"]) for k, v in opt.state.items()})
        assert opt.step_count == (1 if apply is False else 2)   # a device flag still counts the step


def test_kept_only_if_puts_back_where_false(fake_cupy):
    a = fake_cupy.asarray(np.arange(3.0))
    with kept_only_if(fake_cupy.asarray(False), a):
        a *= np.nan
    with transfers.counting() as c:
        with kept_only_if(fake_cupy.asarray(True), a):
            a += 1
    assert c.count == 0
    np.testing.assert_array_equal(a.get(), [1.0, 2.0, 3.0])


# -------------------------------------------------------------------------------------- the job
def tiny_config(tmp_path, **fields):
    """A 6-step run on the device, 64 pictures of squares, batches of 8: no step ends an epoch."""
    from minigan.job.data import write_idx
    from minigan.job.run import TrainConfig

    data = tmp_path / "data"
    write_idx(data / "train-images-idx3-ubyte", squares(64, seed=0))
    write_idx(data / "train-labels-idx1-ubyte", (np.arange(64) % 10).astype(np.uint8))
    return TrainConfig(dataset="mnist", data_dir=str(data), out=str(tmp_path / "run"), backend="cupy", ngf=4,
                       ndf=4, nz=8, batch_size=8, max_steps=6, eval_every=0, checkpoint_every=100, **fields)


def test_the_job_loop_makes_one_transfer_per_ordinary_step(fake_cupy, tmp_path, monkeypatch):
    """Through minigan.job.run.train on the device: every step that samples, checkpoints, evaluates or
    prints nothing costs one transfer in all (the step, the divergence guard, the CSV row, the bar)."""
    from minigan.job.run import train

    cfg = tiny_config(tmp_path, sample_every=100, log_every=100, grad_flow_every=0, ema=0.9)
    counts = []
    real_step = GANTrainer.step

    def step(self, *args, **kwargs):
        counts.append(transfers.count)                      # at the start of each step
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(GANTrainer, "step", step)
    train(cfg)
    assert np.diff(counts).tolist() == [1] * 5              # loop iterations 1 to 5 (1 prints its line too)


def test_the_job_stops_at_a_nan_on_the_device(fake_cupy, tmp_path, monkeypatch):
    from minigan.job.logs import read_metrics
    from minigan.job.run import StopRun, train

    cfg = tiny_config(tmp_path)
    real_step = GANTrainer.step

    def step(self, x, *args, **kwargs):                     # NaN pictures from step 3 on
        return real_step(self, x * np.nan if self.step_count >= 2 else x, *args, **kwargs)

    monkeypatch.setattr(GANTrainer, "step", step)
    with pytest.raises(StopRun, match=r"step 3: Loss_D is nan in the update of the discriminator D") as stop:
        train(cfg)
    assert stop.value.exit_code == 3
    assert read_metrics(tmp_path / "run" / "metrics.csv")["step"] == [1, 2]
