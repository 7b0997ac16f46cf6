"""minigan generate: sample grids and latent walks from a checkpoint."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from minigan.job import generate
from minigan.job.cli import main
from minigan.job.generate import latent_walk, slerp

REPO = Path(__file__).resolve().parents[3]


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


MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "jpg": b"\xff\xd8\xff", "jpeg": b"\xff\xd8\xff", "gif": b"GIF8", "bmp": b"BM"}


def test_the_extension_names_the_format(train, tmp_path):
    out = tmp_path / "run"
    assert train(out, "--max-steps", 2)[0] == 0
    for ext, magic in MAGIC.items():
        path = tmp_path / f"grid.{ext.upper() if ext == 'jpeg' else ext}"
        assert main(["generate", "--checkpoint", str(out), "--n", "4", "--out", str(path)]) == 0
        assert path.read_bytes().startswith(magic), ext


def one_error_line(capsys, argv):
    """Run ``minigan ARGV``, expect exit 2 and return the error line (argparse prints the usage line first)."""
    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2 and "Traceback" not in err
    return err.strip().splitlines()[-1]


def test_bad_out_paths_and_sizes_are_one_line(train, tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out, "--max-steps", 2)[0] == 0
    checkpoint = out / "checkpoints" / "step_000002.npz"
    model = checkpoint.read_bytes()
    for target in (checkpoint, out / "latest"):
        line = one_error_line(capsys, ["generate", "--checkpoint", str(checkpoint), "--out", str(target)])
        assert "is a checkpoint" in line and "would destroy the model" in line
    renamed = tmp_path / "model.png"                            # a checkpoint with a picture's name
    renamed.write_bytes(model)
    assert "is a checkpoint" in one_error_line(capsys, ["generate", "--checkpoint", str(renamed),
                                                        "--out", str(renamed)])
    assert checkpoint.read_bytes() == model and renamed.read_bytes() == model
    assert (out / "latest").read_text() == "checkpoints/step_000002.npz\n"

    line = one_error_line(capsys, ["generate", "--checkpoint", str(out), "--out", str(tmp_path / "grid.xyz")])
    assert "cannot tell which picture format to write from '.xyz'" in line and ".jpg" in line
    line = one_error_line(capsys, ["generate", "--checkpoint", str(out), "--n", "100000",
                                   "--out", str(tmp_path / "big.png")])
    assert "--n 100,000 is too many pictures for one grid (at most 1,024" in line
    assert not (tmp_path / "grid.xyz").exists() and not (tmp_path / "big.png").exists()


def test_pictures_are_made_in_bounded_batches(train, tmp_path, monkeypatch):
    """G sees at most BATCH pictures at a time, and batching changes no picture."""
    out = tmp_path / "run"
    assert train(out, "--max-steps", 2)[0] == 0
    G = generate.load_generator(out)
    seen = []
    real_call = generate.Generator.__call__
    monkeypatch.setattr(generate.Generator, "__call__",
                        lambda self, z, labels=None: seen.append(len(z)) or real_call(self, z, labels))
    batched = np.concatenate(list(generate.generate_batches(G, 1000, seed=3, batch_size=256)))
    assert seen == [256, 256, 256, 232]
    seen.clear()
    whole = np.concatenate(list(generate.generate_batches(G, 1000, seed=3, batch_size=1000)))
    assert seen == [1000] and np.array_equal(batched, whole)
    seen.clear()
    assert main(["generate", "--checkpoint", str(out), "--n", "600", "--out", str(tmp_path / "g.png")]) == 0
    assert max(seen) == generate.BATCH and sum(seen) == 600


def test_a_checkpoint_missing_an_array_is_one_line(train, tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out, "--max-steps", 2)[0] == 0
    path = out / "checkpoints" / "step_000002.npz"
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files if k != "trainer/G/0.weight"}
    np.savez(path, **arrays)
    for command in (["generate", "--checkpoint", str(out), "--out", str(tmp_path / "g.png")],
                    ["evaluate", "--checkpoint", str(out)]):
        capsys.readouterr()
        assert main(command) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith(f"error: {path} is damaged") and \
            "0.weight" in err, err
