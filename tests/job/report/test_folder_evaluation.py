"""minigan evaluate on your own pictures: a folder with a sub-folder per class gets a classifier trained on most of
it (cached by content) and numbers; a folder without classes gets one line saying why there are none."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from minigan.job.cli import main
from minigan.job.metrics import folder_classifier as folder_metrics
from minigan.job.metrics.folder_classifier import folder_hash, held_out_split

from ..cli.conftest import TINY


def shapes(kind: str, n: int, seed: int) -> np.ndarray:
    """``n`` 28x28 uint8 pictures of one kind: bright squares, or bright horizontal bars, at random places."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 28, 28), np.uint8)
    for i, (r, c) in enumerate(rng.integers(2, 18, (n, 2))):
        if kind == "square":
            x[i, r:r + 8, c:c + 8] = 255
        else:
            x[i, r:r + 3, 2:26] = 255
    return x


@pytest.fixture
def class_folder(tmp_path):
    root = tmp_path / "shapes"
    for seed, kind in enumerate(("bar", "square")):              # sorted: bar = 0, square = 1
        (root / kind).mkdir(parents=True)
        for i, picture in enumerate(shapes(kind, 20, seed)):
            Image.fromarray(picture).save(root / kind / f"{i:02d}.png")
    return root


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "cache"))
    monkeypatch.setattr(folder_metrics, "STEPS", 30)              # a classifier in a second, not a minute
    return tmp_path / "cache" / "classifiers"


def run(capsys, *argv):
    capsys.readouterr()
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as e:
        rc = e.code
    out, err = capsys.readouterr()
    return rc, out, err


def test_a_class_folder_run_gets_numbers_and_the_classifier_is_cached(class_folder, cache, tmp_path, capsys):
    out = tmp_path / "run"
    rc, _, err = run(capsys, "train", "--dataset", "folder", "--data-dir", class_folder, "--channels", 1, *TINY,
                     "--out", out, "--max-steps", 3, "--conditional", "concat")
    assert rc == 0, err
    rc, stdout, err = run(capsys, "evaluate", "--checkpoint", out, "--n", 40, "--json", tmp_path / "r.json")
    assert rc == 0, err
    assert "training a classifier of the folder's 32 pictures in 2 classes (8 held out)" in err
    assert "against the 8 held-out pictures" in stdout and "conditional accuracy" in stdout
    assert "bar" in stdout and "square" in stdout                 # the class mix, by the folder's names
    r = json.loads((tmp_path / "r.json").read_text())
    assert np.isfinite(r["frechet_distance"]) and r["classes"] == ["bar", "square"]
    assert len(r["class_histogram"]) == 2 and 0 <= r["conditional_accuracy"] <= 1
    assert (out / "eval.csv").is_file()                           # recorded in the run's folder
    cached = sorted(p.name for p in cache.iterdir())
    assert len(cached) == 1 and cached[0].startswith("folder-")

    rc, _, err = run(capsys, "evaluate", "--checkpoint", out, "--n", 40, "--no-record")
    assert rc == 0 and "training a classifier" not in err        # loaded from the cache
    Image.fromarray(shapes("bar", 1, 9)[0]).save(class_folder / "bar" / "extra.png")
    rc, _, err = run(capsys, "evaluate", "--checkpoint", out, "--n", 40, "--no-record")
    assert rc == 0 and "training a classifier of the folder's 33 pictures" in err   # new content: a new one
    assert len(list(cache.iterdir())) == 2


def test_a_flat_folder_says_in_one_line_why_it_has_no_numbers(tmp_path, cache, capsys):
    flat = tmp_path / "flat"
    flat.mkdir()
    for i, picture in enumerate(shapes("square", 16, 0)):
        Image.fromarray(picture).save(flat / f"{i:02d}.png")
    out = tmp_path / "run"
    assert run(capsys, "train", "--dataset", "folder", "--data-dir", flat, "--channels", 1, *TINY,
               "--out", out, "--max-steps", 1)[0] == 0
    rc, _, err = run(capsys, "evaluate", "--checkpoint", out, "--n", 8)
    line = err.strip().splitlines()[-1]
    assert rc == 2 and "has no class sub-folders" in line and "sub-folder" in line and "Traceback" not in err


def test_the_split_holds_out_a_share_of_every_class_and_the_hash_follows_the_content(class_folder):
    labels = np.array([0] * 10 + [1] * 3 + [2] * 1)
    held = held_out_split(labels)
    assert [held[labels == k].sum() for k in range(3)] == [2, 1, 1]  # 20%, at least one
    assert np.array_equal(held, held_out_split(labels))            # seeded: the same every time
    before = folder_hash(class_folder, 28, 1)
    assert before != folder_hash(class_folder, 64, 1)              # another size: another classifier
    (class_folder / "bar" / "00.png").rename(class_folder / "bar" / "zz.png")
    assert folder_hash(class_folder, 28, 1) != before
