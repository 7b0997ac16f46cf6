"""minigan generate: sample grids and latent walks from a checkpoint."""
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from minigan.cli import main
from minigan.generate import latent_walk, slerp

REPO = Path(__file__).resolve().parents[2]


def test_generate_from_a_run(train, tmp_path):
    out = tmp_path / "run"
    assert train(out, "--max-steps", 3, "--ema")[0] == 0
    a, b, walk = tmp_path / "a.png", tmp_path / "b.png", tmp_path / "walk.png"
    assert main(["generate", "--checkpoint", str(out), "--n", "16", "--out", str(a), "--seed", "5"]) == 0
    assert main(["generate", "--checkpoint", str(out / "latest"), "--n", "16", "--out", str(b), "--seed", "5"]) == 0
    assert a.read_bytes() == b.read_bytes()                             # same seed, same pictures
    with Image.open(a) as im:
        assert im.size == (2 * (8 * 30 + 2), 2 * (2 * 30 + 2))          # 16 = 2 rows of 8, at 2x
    assert main(["generate", "--checkpoint", str(out / "checkpoints" / "step_000003.npz"), "--n", "24",
                 "--nrow", "6", "--interpolate", "--out", str(walk)]) == 0
    with Image.open(walk) as im:
        assert im.size == (2 * (6 * 30 + 2), 2 * (4 * 30 + 2))          # 4 walks of 6 steps


def test_slerp_stays_on_the_sphere_between_its_ends():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(50), rng.standard_normal(50)
    b *= np.linalg.norm(a) / np.linalg.norm(b)
    path = slerp(a, b, np.linspace(0, 1, 7))
    assert np.allclose(path[0], a) and np.allclose(path[-1], b)
    assert np.allclose(np.linalg.norm(path, axis=1), np.linalg.norm(a))
    z = latent_walk(8, rows=3, steps=5, kind="uniform", rng=1)
    assert z.shape == (15, 8, 1, 1) and z.dtype == np.float32 and np.abs(z).max() <= 1


def test_entry_points_and_examples_start(tmp_path):
    for cmd in (["-m", "minigan", "--help"], ["examples/train_mnist.py", "--help"],
                ["examples/generate.py", "--help"]):
        done = subprocess.run([sys.executable, *cmd], cwd=REPO, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "usage:" in done.stdout, done.stderr


def test_generate_writes_into_the_run_folder_not_the_current_one(train, tmp_path, monkeypatch):
    out = tmp_path / "run"
    assert train(out, "--max-steps", 2)[0] == 0
    here = tmp_path / "here"                            # as if run from the repository root
    here.mkdir()
    monkeypatch.chdir(here)
    assert main(["generate", "--checkpoint", str(out / "checkpoints" / "step_000002.npz"), "--n", "4"]) == 0
    assert (out / "generated.png").is_file() and list(here.iterdir()) == []
