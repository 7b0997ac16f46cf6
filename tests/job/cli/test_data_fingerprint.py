"""Resume checks its data: a fingerprint of the decoded training arrays in config.json and every
checkpoint; other data is refused in one line; --out inside a folder dataset's --data-dir is refused."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest
from PIL import Image

from minigan.job.checkpoint import load_checkpoint, save_checkpoint
from minigan.job.cli import main
from minigan.job.data import array_digest, data_changed, fingerprint, write_idx
from tests.job.cli.conftest import N_IMAGES, TINY, squares, train_on


def snapshot(out):
    return {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file() and p.name != ".lock"}


@pytest.fixture
def data(tmp_path):
    """A folder of IDX files this test may change."""
    folder = tmp_path / "data"
    folder.mkdir()
    write_idx(folder / "train-images-idx3-ubyte", squares(N_IMAGES))
    write_idx(folder / "train-labels-idx1-ubyte", np.zeros(N_IMAGES, np.uint8))
    return folder


def test_the_fingerprint_tells_data_apart():
    x = squares(10)
    assert fingerprint(x) == fingerprint(x.copy()) and fingerprint(x)["pictures"] == 10
    y = x.copy()
    y[3, 5, 5] ^= 1                                                       # one bit of one picture
    assert fingerprint(y) != fingerprint(x)
    assert fingerprint(x, np.zeros(10, np.int64)) != fingerprint(x, np.ones(10, np.int64))   # relabelled
    assert array_digest(x.reshape(10, 784)) != array_digest(x)            # the shape counts too
    assert data_changed(None, fingerprint(x), "d") is None and data_changed(fingerprint(x), fingerprint(x), "d") is None
    assert "(5 more)" in data_changed(fingerprint(squares(5)), fingerprint(x), "d")


@pytest.mark.parametrize("change, message", [
    ("added", f"trained on {N_IMAGES:,} pictures, but .* now gives {N_IMAGES + 16:,} \\(16 more\\)"),
    ("edited", f"the same number, {N_IMAGES:,}, but fingerprint"),
])
def test_a_resume_on_other_data_is_refused_in_one_line(data, tmp_path, capsys, change, message):
    train = train_on(data, capsys)
    out = tmp_path / "run"
    rc, _, err = train(out, "--max-steps", 2)
    assert rc == 0, err
    saved = json.loads((out / "config.json").read_text())["data_fingerprint"]
    assert saved == fingerprint(squares(N_IMAGES)) and load_checkpoint(out)["config"]["data_fingerprint"] == saved
    if change == "added":
        write_idx(data / "train-images-idx3-ubyte", squares(N_IMAGES + 16))
        write_idx(data / "train-labels-idx1-ubyte", np.zeros(N_IMAGES + 16, np.uint8))
    else:
        write_idx(data / "train-images-idx3-ubyte", squares(N_IMAGES, seed=1))
    before = snapshot(out)
    rc, _, err = train(out, "--resume", "--max-steps", 4)
    assert rc == 2 and "Traceback" not in err
    assert re.search(message, err.strip().splitlines()[-1]), err
    assert snapshot(out) == before


def test_a_resume_on_the_same_data_goes_on_and_an_old_run_without_a_fingerprint_says_so(train, tmp_path):
    out = tmp_path / "run"
    assert train(out, "--max-steps", 2)[0] == 0
    rc, stdout, err = train(out, "--resume", "--max-steps", 3)
    assert rc == 0, err
    assert "note: this run was saved without a fingerprint" not in stdout
    path = out / "checkpoints" / "step_000003.npz"                        # an older minigan's checkpoint:
    state = load_checkpoint(path)
    del state["config"]["data_fingerprint"]
    save_checkpoint(path, state)
    rc, stdout, err = train(out, "--resume", "--max-steps", 4)
    assert rc == 0, err
    notes = [line for line in stdout.splitlines() if line.startswith("note:") and "fingerprint" in line]
    assert len(notes) == 1 and notes[0].startswith("note: this run was saved without a fingerprint")
    assert load_checkpoint(out)["config"]["data_fingerprint"] == fingerprint(squares(N_IMAGES))


def test_out_inside_a_folder_datasets_data_dir_is_refused(tmp_path, capsys):
    root = tmp_path / "pictures"
    root.mkdir()
    for i in range(20):
        Image.fromarray(np.full((28, 28), i * 10, np.uint8)).save(root / f"{i}.png")
    before = snapshot(root)
    for out in (root / "run", root, root / "a" / "b"):
        capsys.readouterr()
        assert main(["train", "--dataset", "folder", "--data-dir", str(root), "--channels", "1", *TINY,
                     "--out", str(out), "--max-steps", "1"]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "is inside --data-dir" in err and "Traceback" not in err
    assert snapshot(root) == before and not (root / "run").exists()


def test_an_old_run_whose_config_names_a_clip_for_every_game_still_generates(train, tmp_path):
    """Configs saved before the flags were checked held clip and gp_weight for every game: a bce run's
    checkpoint still loads (its clip is not --clip given to bce)."""
    out = tmp_path / "run"
    assert train(out, "--max-steps", 2)[0] == 0
    path = out / "checkpoints" / "step_000002.npz"
    state = load_checkpoint(path)
    state["config"].update(clip=0.01, gp_weight=10.0)
    save_checkpoint(path, state)
    assert main(["generate", "--checkpoint", str(out), "--n", "4", "--out", str(tmp_path / "g.png")]) == 0
    assert train(out, "--resume", "--max-steps", 3)[0] == 0


def test_a_dataset_object_is_fingerprinted_by_its_arrays_not_its_address():
    from minigan.job.data import PointSet, StackedMNIST
    assert fingerprint(PointSet("ring", seed=0)) == fingerprint(PointSet("ring", seed=0))       # two objects, one data
    assert fingerprint(PointSet("ring", seed=0)) != fingerprint(PointSet("ring", seed=1))
    digits = squares(40)
    assert fingerprint(StackedMNIST(digits)) == fingerprint(StackedMNIST(digits.copy()))
    with pytest.raises(TypeError, match="an array of numbers is needed"):
        array_digest(np.array([object()]))
