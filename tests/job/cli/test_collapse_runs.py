"""The collapse lab's runs: 2D rings, Stacked MNIST, --arch mlp, --pack and --mbstd, end to end.

Each resumes bit for bit (the Dropout masks of the MLP's D included), shows its settings in
config.json, and refuses what cannot work with one line before training starts.
"""
import json

import numpy as np
import pytest
from PIL import Image

from minigan.job.checkpoint import load_checkpoint
from minigan.job.cli import main
from minigan.job.config import TrainConfig
from minigan.job.data import StackedMNIST
from tests.job.cli.test_resume import assert_trees_equal

RUNS = {
    "ring":    ("--dataset", "ring"),
    "ring-no-bn": ("--dataset", "ring", "--g-norm", "none"),
    "ring-gp": ("--dataset", "ring", "--recipe", "wgan-gp"),        # 5 batches a step, one per D update
    "grid":    ("--dataset", "grid", "--pack", 2, "--mbstd"),
    "stacked": ("--dataset", "stacked-mnist", "--pack", 2),
    "mlp":     ("--arch", "mlp"),                                   # Goodfellow's MNIST nets, Dropout in D
    "dcgan":   ("--pack", 4, "--mbstd", "--loss", "hinge"),
}


@pytest.mark.parametrize("name", list(RUNS))
def test_collapse_runs_resume_bit_for_bit(train, tmp_path, name):
    flags = (*RUNS[name], "--sample-every", 3, "--checkpoint-every", 2)
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert train(straight, *flags, "--max-steps", 6)[0] == 0
    assert train(split, *flags, "--max-steps", 3)[0] == 0
    rc, stdout, stderr = train(split, *flags, "--max-steps", 6, "--resume")
    assert rc == 0, stderr
    a, b = load_checkpoint(straight), load_checkpoint(split)
    assert_trees_equal(a["trainer"], b["trainer"])
    assert (straight / "metrics.csv").read_text() == (split / "metrics.csv").read_text()
    assert (straight / "samples.png").read_bytes() == (split / "samples.png").read_bytes()
    saved = json.loads((straight / "config.json").read_text())
    assert (saved["pack"], saved["mbstd"]) == ({"grid": 2, "stacked": 2, "dcgan": 4}.get(name, 1),
                                               name in ("grid", "dcgan"))


def test_a_ring_run_is_an_mlp_on_2d_points_and_its_samples_a_scatter_plot(train, tmp_path, capsys):
    out = tmp_path / "ring"
    rc, stdout, _ = train(out, "--dataset", "ring", "--max-steps", 2)
    assert rc == 0
    cfg = json.loads((out / "config.json").read_text())
    assert (cfg["arch"], cfg["channels"], cfg["d_norm"]) == ("mlp", 2, "none")
    assert "Maxout(in_features=2, out_features=200, pieces=5)" in stdout
    assert Image.open(out / "samples.png").size == (400, 400)
    state = load_checkpoint(out)
    assert state["fixed_noise"].shape == (2500, 8, 1, 1)             # --nz 8 from TINY; 2,500 points plotted

    capsys.readouterr()
    assert main(["generate", "--checkpoint", str(out), "--n", "300", "--out", str(tmp_path / "pts.npy")]) == 0
    points = np.load(tmp_path / "pts.npy")
    assert points.shape == (300, 2) and points.dtype == np.float32 and np.isfinite(points).all()
    assert main(["generate", "--checkpoint", str(out), "--n", "300", "--out", str(tmp_path / "pts.png")]) == 0
    assert Image.open(tmp_path / "pts.png").size == (400, 400)
    with pytest.raises(SystemExit) as e:                              # no torch.nn twin for Maxout: one line
        main(["export", "--checkpoint", str(out), "--out", str(tmp_path / "G.safetensors")])
    assert e.value.code == 2 and "is an --arch mlp, --pack or --mbstd run" in capsys.readouterr().err


def test_2d_defaults_are_pacgans():
    cfg = TrainConfig(dataset="grid").resolved()
    assert (cfg.arch, cfg.nz, cfg.channels) == ("mlp", 2, 2)
    assert (TrainConfig().resolved().arch, TrainConfig().resolved().nz) == ("dcgan28", 100)


def test_stacked_mnist_draws_three_independent_digits_afresh_each_epoch():
    digits = np.arange(10, dtype=np.uint8)[:, None, None] * np.ones((1, 28, 28), np.uint8)   # digit k: all k
    data = StackedMNIST(digits, np.arange(10), epoch_size=600)
    x = next(data.batches(600, np.random.default_rng([0, 0])))       # (600, 3, 28, 28) in [-1, 1]
    assert x.shape == (600, 3, 28, 28) and len(data) == 600
    triples = np.rint((x[:, :, 0, 0] + 1) * 127.5).astype(int)       # each channel's digit
    assert len({tuple(t) for t in triples}) > 400                    # 1,000 equally likely triples
    assert not (triples[:, 0] == triples[:, 1]).all()
    again = next(data.batches(600, np.random.default_rng([0, 0]), start=0))
    other = next(data.batches(600, np.random.default_rng([0, 1])))   # the next epoch: new pictures
    np.testing.assert_array_equal(x, again)
    assert not np.array_equal(x, other)
    mid = next(data.batches(100, np.random.default_rng([0, 0]), start=2))
    np.testing.assert_array_equal(mid, x[200:300])                   # resuming mid-epoch: the same batch


@pytest.mark.parametrize("flags, message", [
    (("--dataset", "ring", "--arch", "dcgan28"), "--dataset ring makes 2D points, not pictures: only --arch mlp"),
    (("--pack", 3), "--pack 3 does not divide --batch-size 16"),
    (("--pack", 2, "--mbstd", "--batch-size", 12), "--mbstd takes D's batch in groups of 4, but D judges 6 packs"),
    (("--mbstd", "--loss", "wgan-gp"), "--mbstd cannot be used with --loss wgan-gp"),
    (("--mbstd", "--r1", 1), "--mbstd cannot be used with --r1"),
    (("--dataset", "stacked-mnist", "--arch", "dcgan64"), "--dataset stacked-mnist makes 28x28 pictures"),
    (("--conditional", "concat", "--pack", 2), "--conditional works with dcgan28/dcgan64"),
    (("--dataset", "grid", "--channels", 3), "--channels 3 applies to --dataset folder only"),
    (("--g-norm", "none"), "--g-norm none is for the 2D nets (--dataset ring or grid)"),
])
def test_impossible_combinations_are_one_line_before_training(train, tmp_path, capsys, flags, message):
    with pytest.raises(SystemExit) as e:
        train(tmp_path / "run", *flags, "--max-steps", 1)
    err = capsys.readouterr().err
    assert e.value.code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()                           # nothing written, nothing trained


@pytest.mark.parametrize("flags", [("--pack", 2, "--loss", "wgan-gp"), ("--spectral-norm", "--loss", "hinge")])
def test_a_packed_penalized_or_spectrally_normalized_mlp_trains(train, tmp_path, flags):
    rc, stdout, stderr = train(tmp_path / "run", "--dataset", "ring", *flags, "--max-steps", 2)
    assert rc == 0, stderr
    assert ("SpectralNorm(Maxout(" in stdout) == ("--spectral-norm" in flags)


def test_evaluate_counts_the_modes_of_a_ring_run(train, tmp_path, capsys):
    out = tmp_path / "ring"
    assert train(out, "--dataset", "ring", "--max-steps", 2)[0] == 0
    capsys.readouterr()
    assert main(["evaluate", "--checkpoint", str(out), "--json", str(tmp_path / "r.json")]) == 0
    printed = capsys.readouterr().out
    r = json.loads((tmp_path / "r.json").read_text())
    assert r["n"] == 2500 and r["of"] == 8 and 0 <= r["modes"] <= 8 and len(r["histogram"]) == 8
    assert f"{r['modes']} / 8" in printed and "high quality" in printed and "reverse KL" in printed


def test_evaluate_reads_each_channel_of_a_stacked_mnist_run(train, tmp_path, capsys, monkeypatch):
    from tests.job.metrics.test_modes import FakeClassifier
    import minigan.job.collapse_eval as collapse_eval
    out = tmp_path / "stacked"
    assert train(out, "--dataset", "stacked-mnist", "--max-steps", 1)[0] == 0
    monkeypatch.setattr(collapse_eval, "load_or_train_classifier", lambda *a, **k: FakeClassifier())
    capsys.readouterr()
    assert main(["evaluate", "--checkpoint", str(out), "--n", "300", "--json", str(tmp_path / "r.json")]) == 0
    r = json.loads((tmp_path / "r.json").read_text())
    assert r["n"] == 300 and r["of"] == 1000 and 1 <= r["modes"] <= 300 and 0 <= r["kl"] <= np.log(1000) + 1e-9
    assert "KL" in capsys.readouterr().out


@pytest.mark.parametrize("net", ["points", "pictures"])
def test_mlp_steps_with_pack_and_mbstd_match_numpy_on_the_cupy_stand_in(fake_cupy, net):
    from minigan import backend as B
    from minigan.models import mlp
    from minigan.train import GANTrainer

    def run(backend):
        G, D = mlp(4, points=net == "points", pack=2, mbstd=True, seed=0, dtype="float64",
                   **({} if net == "points" else dict(width=16, d_width=8)))
        G.to(backend), D.to(backend)
        trainer = GANTrainer(G, D, seed=0)
        rng = np.random.default_rng(1)
        shape = (16, 2, 1, 1) if net == "points" else (16, 1, 28, 28)
        return trainer, [dict(trainer.step(rng.uniform(-1, 1, shape))) for _ in range(2)]

    (cpu, cpu_stats), (gpu, gpu_stats) = run("numpy"), run("cupy")
    assert gpu_stats == [pytest.approx(s, rel=1e-9) for s in cpu_stats]
    assert B.backend_name(next(iter(gpu.D.params.values()))) == "cupy"
    for k, v in cpu.state_dict()["D"].items():
        np.testing.assert_allclose(gpu.state_dict()["D"][k], v, rtol=1e-8, atol=1e-12, err_msg=k)


def test_eval_every_logs_the_modes_of_a_ring_run_and_the_report_shows_them(train, tmp_path):
    out = tmp_path / "ring"
    rc, stdout, stderr = train(out, "--dataset", "ring", "--max-steps", 4, "--eval-every", 2, "--sample-every", 2)
    assert rc == 0, stderr
    assert "eval at step 2: modes " in stdout and "eval at step 4: modes " in stdout
    lines = (out / "eval.csv").read_text().splitlines()
    assert lines[0] == "step,n,modes,high_quality,reverse_kl," + ",".join(f"mode_{k}" for k in range(8))
    assert [line.split(",")[:2] for line in lines[1:]] == [["2", "2500"], ["4", "2500"]]
    page = (out / "index.html").read_text()
    assert "Mode collapse" in page and "reverse KL" in page and (out / "metrics.png").is_file()
    assert "High-quality samples per mode at step 4" in page
    assert main(["evaluate", "--checkpoint", str(out)]) == 0          # recorded beside the training rows
    assert len((out / "eval.csv").read_text().splitlines()) == 4


def test_eval_every_on_stacked_mnist_reads_each_channel(train, tmp_path, monkeypatch):
    from tests.job.metrics.test_modes import FakeClassifier
    import minigan.job.collapse_eval as collapse_eval
    monkeypatch.setattr(collapse_eval, "load_or_train_classifier", lambda *a, **k: FakeClassifier())
    monkeypatch.setattr(collapse_eval, "SAMPLES_STACKED", 200)
    out = tmp_path / "stacked"
    rc, stdout, stderr = train(out, "--dataset", "stacked-mnist", "--max-steps", 2, "--eval-every", 2)
    assert rc == 0, stderr
    assert "eval at step 2: modes " in stdout and "/1000, KL " in stdout
    assert (out / "eval.csv").read_text().splitlines()[0] == "step,n,modes,kl"


def test_a_ring_run_on_the_cupy_stand_in_matches_numpy(fake_cupy, train, tmp_path):
    flags = ("--dataset", "ring", "--pack", 2, "--max-steps", 3, "--eval-every", 3, "--dtype", "float64")
    assert train(tmp_path / "cpu", *flags)[0] == 0
    rc, _, stderr = train(tmp_path / "gpu", *flags, "--backend", "cupy")
    assert rc == 0, stderr
    a, b = load_checkpoint(tmp_path / "cpu"), load_checkpoint(tmp_path / "gpu")
    for k, v in a["trainer"]["G"].items():
        np.testing.assert_allclose(b["trainer"]["G"][k], v, rtol=1e-8, atol=1e-12, err_msg=k)
    assert (tmp_path / "cpu" / "eval.csv").read_text() == (tmp_path / "gpu" / "eval.csv").read_text()


def test_g_norm_none_drops_gs_batch_norm_and_starts_g_alive():
    """--g-norm none: G's Linear and ReLU layers alone, He-initialized, so its points are not squashed to 0."""
    from minigan.models.mlp import mlp_points
    from minigan.nn import BatchNorm1d

    G, _ = mlp_points(seed=0, g_norm="none")
    G_bn, _ = mlp_points(seed=0)
    assert not any(isinstance(m, BatchNorm1d) for m in G.layers)
    assert sum(isinstance(m, BatchNorm1d) for m in G_bn.layers) == 4
    z = np.random.default_rng(0).standard_normal((1000, 2, 1, 1)).astype(np.float32)
    spread = float(np.asarray(G.eval().forward(z)).std())
    assert 0.1 < spread < 10                                         # PacGAN's N(0, 0.02^2) without BN: ~1e-3
    with pytest.raises(ValueError, match="g_norm must be 'batch' or 'none'"):
        mlp_points(g_norm="layer")


def test_resuming_with_another_g_norm_is_refused(train, tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out, "--dataset", "ring", "--g-norm", "none", "--max-steps", 1)[0] == 0
    assert json.loads((out / "config.json").read_text())["g_norm"] == "none"
    with pytest.raises(SystemExit) as e:
        train(out, "--dataset", "ring", "--g-norm", "batch", "--max-steps", 2, "--resume")
    assert e.value.code == 2 and "cannot resume with different g_norm" in capsys.readouterr().err
