"""minigan train --conditional and minigan generate --class: labels through the job, the grid, export, errors."""
import json

import numpy as np
import pytest
from PIL import Image

from minigan.job import generate
from minigan.job.checkpoint import load_checkpoint
from minigan.job.cli import main
from minigan.job.data import DATASET_CLASSES, write_idx

from .conftest import TINY, squares, train_on
from .test_generate import one_error_line
from .test_resume import assert_trees_equal

MNIST_NAMES = list(DATASET_CLASSES["mnist"])


@pytest.fixture(scope="session")
def two_class_dir(tmp_path_factory):
    """MNIST-style IDX files whose labels alternate 0, 1 (the squares are the pictures)."""
    folder = tmp_path_factory.mktemp("idx-two-classes")
    write_idx(folder / "train-images-idx3-ubyte", squares(160))
    write_idx(folder / "train-labels-idx1-ubyte", (np.arange(160) % 2).astype(np.uint8))
    return folder


@pytest.fixture
def ctrain(two_class_dir, capsys):
    """``ctrain(out, *flags)``: a tiny ``minigan train`` on two classes; returns (rc, stdout, stderr)."""
    return train_on(two_class_dir, capsys)


@pytest.fixture(scope="module")
def crun(tmp_path_factory, two_class_dir):
    """One finished concat run of 6 steps, with EMA."""
    out = tmp_path_factory.mktemp("cruns") / "run"
    rc = main(["train", "--data-dir", str(two_class_dir), *TINY, "--out", str(out), "--max-steps", "6",
               "--conditional", "concat", "--sample-every", "3", "--ema"])
    assert rc == 0
    return out


def test_the_run_saves_its_classes_and_draws_a_row_per_class(crun):
    config = json.loads((crun / "config.json").read_text())
    assert config["conditional"] == "concat" and config["class_names"] == MNIST_NAMES
    state = load_checkpoint(crun)
    assert state["config"]["class_names"] == MNIST_NAMES
    assert state["fixed_noise"].shape == (10 * 8, 8, 1, 1)             # 8 z's, once per class
    np.testing.assert_array_equal(state["fixed_noise"][:8], state["fixed_noise"][8:16])
    for grid in (crun / "samples.png", crun / "samples" / "step_000003.png"):
        with Image.open(grid) as im:                                   # 10 rows (classes) of 8, at 2x,
            assert im.size[1] == 2 * (10 * 30 + 2)                     # each class's name on its left
            assert 2 * (8 * 30 + 2) < im.size[0] < 2 * (8 * 30 + 2) + 40
        assert (tiles(grid) < 255).all() and tiles(grid).shape == (10, 8)
    G = generate.load_generator(crun)
    z = np.repeat(np.random.default_rng(0).standard_normal((1, 8, 1, 1)), 2, axis=0)
    a, b = G(z, np.array([0, 1]))
    assert np.abs(a - b).max() > 0                                     # the label reaches the saved G


@pytest.mark.parametrize("game", [(), ("--loss", "hinge", "--n-critic", 2)])   # n_critic 2: labels of 2 batches
def test_conditional_resume_is_bitwise_exact(ctrain, tmp_path, capsys, game):
    flags = ("--conditional", "projection", "--ema", "--sample-every", 4, "--checkpoint-every", 3, *game)
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert ctrain(straight, *flags, "--max-steps", 14)[0] == 0
    assert ctrain(split, *flags, "--max-steps", 7)[0] == 0
    rc, stdout, stderr = ctrain(split, "--max-steps", 14, "--resume")
    assert rc == 0, stderr
    a, b = load_checkpoint(straight), load_checkpoint(split)
    assert_trees_equal(a["trainer"], b["trainer"])
    assert (straight / "samples.png").read_bytes() == (split / "samples.png").read_bytes()
    assert (straight / "metrics.csv").read_text() == (split / "metrics.csv").read_text()
    with pytest.raises(SystemExit) as e:
        ctrain(split, "--max-steps", 16, "--resume", "--conditional", "concat")
    assert e.value.code == 2 and "cannot resume with different conditional" in capsys.readouterr().err


def test_generate_a_class_by_index_and_by_name(crun, tmp_path):
    by_index, by_name = tmp_path / "sevens.png", tmp_path / "sevens-by-name.png"
    assert main(["generate", "--checkpoint", str(crun), "--class", "7", "--n", "16", "--out", str(by_index)]) == 0
    assert main(["generate", "--checkpoint", str(crun), "--class", "7", "--n", "16", "--out", str(by_name)]) == 0
    assert by_index.read_bytes() == by_name.read_bytes()
    other = tmp_path / "ones.png"
    assert main(["generate", "--checkpoint", str(crun), "--class", "1", "--n", "16", "--out", str(other)]) == 0
    assert other.read_bytes() != by_index.read_bytes()                 # same z, another class
    rows = tmp_path / "rows.png"
    assert main(["generate", "--checkpoint", str(crun), "--nrow", "4", "--out", str(rows)]) == 0
    with Image.open(rows) as im:                                        # no --class: a row of 4 per class,
        assert im.size[1] == 2 * (10 * 30 + 2)                          # its name in a margin on the left
        assert 2 * (4 * 30 + 2) < im.size[0] < 2 * (4 * 30 + 2) + 40


def tiles(path, scale=2, size=28, padding=2):
    """The grid's tiles left of the label margin: ``(rows, cols)`` of mean pixel values (255 = blank)."""
    a = np.asarray(Image.open(path).convert("L"), dtype=np.float64)
    step = scale * (size + padding)
    rows = (a.shape[0] - scale * padding) // step
    margin = a.shape[1] - scale * padding - (a.shape[1] - scale * padding) // step * step
    cols = (a.shape[1] - margin - scale * padding) // step
    def tile(r, c):
        top, left = scale * padding + r * step, margin + scale * padding + c * step
        return a[top:top + scale * size, left:left + scale * size].mean()
    return np.array([[tile(r, c) for c in range(cols)] for r in range(rows)])


def test_generate_n_is_exact_in_rows_of_classes(crun, tmp_path, capsys):
    """--n 40 over 10 classes: 40 pictures, 4 a row, one row per class, the names beside (not 80)."""
    out = tmp_path / "forty.png"
    capsys.readouterr()
    assert main(["generate", "--checkpoint", str(crun), "--n", "40", "--out", str(out)]) == 0
    assert ": 40 pictures" in capsys.readouterr().out
    t = tiles(out)
    assert t.shape == (10, 4) and (t < 255).all()
    out = tmp_path / "thirteen.png"                                      # 13 = 2 + 2 + 2 + 1 * 7: ragged rows
    assert main(["generate", "--checkpoint", str(crun), "--n", "13", "--out", str(out)]) == 0
    t = tiles(out)
    assert t.shape == (10, 2) and (t[:3] < 255).all() and (t[3:, 1] == 255).all() and (t[3:, 0] < 255).all()
    with_names = np.asarray(Image.open(out).convert("L"))
    assert (with_names[:, :8] < 128).sum() > 0 or (with_names[:, 8:16] < 128).sum() > 0   # ink in the margin


def test_class_names_are_matched_without_regard_to_case():
    from minigan.job.data import class_index
    names = ["T-shirt/top", "Sneaker", "Bag"]
    assert class_index("sneaker", names) == 1 and class_index("SNEAKER", names) == 1
    assert class_index("Sneaker", names) == 1 and class_index("2", names) == 2
    with pytest.raises(ValueError, match="ambiguous"):
        class_index("cat", ["Cat", "cat2", "CAT"])
    assert class_index("cat", ["Cat", "dog", "CAT", "cat"]) == 3       # an exact match first


def test_interpolate_writes_its_own_file_and_covers_every_class(crun, capsys):
    generated = crun / "generated.png"
    assert main(["generate", "--checkpoint", str(crun), "--n", "8"]) == 0
    before = generated.read_bytes()
    capsys.readouterr()
    assert main(["generate", "--checkpoint", str(crun), "--n", "20", "--interpolate"]) == 0
    assert generated.read_bytes() == before                              # not written over
    assert "10 latent walks of 8" in capsys.readouterr().out             # 3 walks rounded up to 1 per class
    t = tiles(crun / "interpolation-generated.png")
    assert t.shape == (10, 8) and (t < 255).all()


def test_generate_by_class_name_on_a_folder_run(tmp_path, capsys):
    root = tmp_path / "pets"
    rng = np.random.default_rng(0)
    for name, n in (("dog", 20), ("cat", 12)):                          # sorted: cat = 0, dog = 1
        (root / name).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(rng.integers(0, 255, (28, 28), dtype=np.uint8)).save(root / name / f"{i}.png")
    out = tmp_path / "run"
    assert main(["train", "--dataset", "folder", "--data-dir", str(root), "--channels", "1", *TINY,
                 "--out", str(out), "--max-steps", "2", "--conditional", "projection"]) == 0
    assert json.loads((out / "config.json").read_text())["class_names"] == ["cat", "dog"]
    capsys.readouterr()
    assert main(["generate", "--checkpoint", str(out), "--class", "dog", "--n", "3", "--out",
                 str(tmp_path / "dogs") + "/"]) == 0
    assert "class 1 (dog)" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "dogs").iterdir()) == [f"00000{i}_dog.png" for i in range(3)]
    line = one_error_line(capsys, ["generate", "--checkpoint", str(out), "--class", "bird", "--out",
                                   str(tmp_path / "b.png")])
    assert line.endswith("no class 'bird': give a class name or an index from 0 to 1 (0=cat, 1=dog)")


def test_folder_classes_mistakes_are_one_line(tmp_path, capsys):
    flat, lone, mixed = tmp_path / "flat", tmp_path / "lone", tmp_path / "mixed"
    picture = Image.fromarray(np.zeros((28, 28), np.uint8))
    for folder in (flat, lone / "cat", mixed / "cat", mixed / "dog"):
        folder.mkdir(parents=True)
        picture.save(folder / "a.png")
    picture.save(mixed / "stray.png")

    def error(root, *flags):
        capsys.readouterr()
        rc = main(["train", "--dataset", "folder", "--data-dir", str(root), "--channels", "1", *TINY,
                   "--out", str(tmp_path / "out" / root.name), "--max-steps", "1", *flags])
        err = capsys.readouterr().err
        assert rc == 1 and "Traceback" not in err and err.count("\n") == 1, err
        return err
    assert "no class sub-folders" in error(flat, "--conditional", "concat")
    assert "only one class folder (cat)" in error(lone, "--conditional", "concat")
    assert "picture(s) at the top level (e.g. stray.png)" in error(mixed, "--conditional", "concat")


def test_export_a_folder_and_an_npy_in_batches(crun, tmp_path, monkeypatch, capsys):
    seen = []
    real_call = generate.Generator.__call__
    monkeypatch.setattr(generate.Generator, "__call__",
                        lambda self, z, labels=None: seen.append(len(z)) or real_call(self, z, labels))
    npy = tmp_path / "samples.npy"
    assert main(["generate", "--checkpoint", str(crun), "--n", "600", "--out", str(npy)]) == 0
    assert seen == [256, 256, 88]                                      # never more than a batch at a time
    x, labels = np.load(npy), np.load(tmp_path / "samples.labels.npy")
    assert x.shape == (600, 1, 28, 28) and x.dtype == np.float32 and -1 <= x.min() and x.max() <= 1
    assert labels.dtype == np.int64 and labels.tolist() == [i % 10 for i in range(600)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["samples.labels.npy", "samples.npy"]   # no temp file
    G = generate.load_generator(crun)
    expected = np.concatenate(list(generate.generate_batches(G, 600, seed=0, labels=np.arange(600) % 10)))
    np.testing.assert_array_equal(x, expected)

    sevens = tmp_path / "sevens"                                        # a new folder, no trailing slash
    assert main(["generate", "--checkpoint", str(crun), "--class", "7", "--n", "5", "--out", str(sevens)]) == 0
    assert sorted(p.name for p in sevens.iterdir()) == [f"00000{i}_7.png" for i in range(5)]
    seven = next(generate.generate_batches(G, 5, seed=0, labels=np.full(5, 7)))[0, 0]   # (28, 28) in [-1, 1]
    with Image.open(sevens / "000000_7.png") as im:
        assert im.mode == "L"
        np.testing.assert_array_equal(np.asarray(im), np.rint((np.clip(seven, -1, 1) + 1) * 127.5))
    line = one_error_line(capsys, ["generate", "--checkpoint", str(crun), "--class", "7", "--n", "5",
                                   "--out", str(sevens)])
    assert "already holds 000000_7.png" in line and "nothing is overwritten" in line
    line = one_error_line(capsys, ["generate", "--checkpoint", str(crun), "--out", str(npy)])
    assert "exists; choose a new file name" in line


def test_unconditional_export_and_class_errors(train, tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out, "--max-steps", 2)[0] == 0
    npy, folder = tmp_path / "x.npy", tmp_path / "pictures"
    folder.mkdir()
    assert main(["generate", "--checkpoint", str(out), "--n", "3", "--out", str(npy)]) == 0
    assert main(["generate", "--checkpoint", str(out), "--n", "3", "--out", str(folder)]) == 0
    assert np.load(npy).shape == (3, 1, 28, 28) and not (tmp_path / "x.labels.npy").exists()
    assert sorted(p.name for p in folder.iterdir()) == ["000000.png", "000001.png", "000002.png"]
    G = generate.load_generator(out)
    with Image.open(folder / "000001.png") as im:
        first = np.concatenate(list(generate.generate_batches(G, 3)))
        np.testing.assert_array_equal(np.asarray(im), np.rint((np.clip(first[1, 0], -1, 1) + 1) * 127.5))
    line = one_error_line(capsys, ["generate", "--checkpoint", str(out), "--class", "7", "--out",
                                   str(tmp_path / "g.png")])
    assert line.endswith("--class 7: this checkpoint's G is not conditional (the run was trained without "
                         "--conditional), so it cannot be asked for a class; leave --class out")
    line = one_error_line(capsys, ["generate", "--checkpoint", str(out), "--n", "2000", "--out",
                                   str(tmp_path / "g.png")])
    assert "too many pictures for one grid" in line and "--out samples.npy" in line


def test_the_reports_samples_note_counts_the_tiles_there(crun):
    text = " ".join((crun / "index.html").read_text(encoding="utf-8").split())
    assert "80 tiles" in text and "same 8 noise vectors z" in text and "the 64 tiles" not in text
