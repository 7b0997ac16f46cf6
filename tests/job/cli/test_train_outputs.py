"""A short run leaves every output the issue asks for, and prints what it should."""
import csv
import json

import numpy as np
from PIL import Image

from minigan.job.checkpoint import load_checkpoint
from minigan.job.cli import main
from minigan.job.progress import EpochBar
from minigan.job.run_folder import COLUMNS
from tests.pictures import random_pictures


def test_short_run_writes_every_output(train, tmp_path):
    out = tmp_path / "run"
    rc, stdout, stderr = train(out, "--max-steps", 12, "--sample-every", 5, "--checkpoint-every", 4,
                               "--keep-checkpoints", 2, "--ema", "--seed", 3)
    assert rc == 0, stderr

    # the resolved config: printed, and saved
    config = json.loads((out / "config.json").read_text())
    assert config["ngf"] == 4 and config["ema"] == 0.999 and config["channels"] == 1 and config["seed"] == 3
    assert "config (to be saved as" in stdout and "ngf              = 4" in stdout
    assert "generator G:" in stdout and "ConvTranspose2d" in stdout       # the summary tables

    # the classic lines, every number labelled; a progress bar with rate and ETA on stderr
    lines = [line for line in stdout.splitlines() if line.startswith("epoch ")]
    assert [line.split("  ")[2] for line in lines] == ["step 1", "step 5", "step 10", "step 12"]   # first, last
    assert "step 1 " in lines[0] and "Loss_D " in lines[0] and "D(G(z)) " in lines[0] and "after" in lines[0]
    assert "steps/s" in stderr and "ETA" in stderr and "epoch 2/2" in stderr and " run" in stderr

    # metrics.csv: one row per step, opened by the csv module as a spreadsheet would
    with open(out / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(COLUMNS)
    assert [int(r["step"]) for r in rows] == list(range(1, 13))
    assert [int(r["epoch"]) for r in rows] == [1] * 10 + [2] * 2
    assert all(np.isfinite(float(r[k])) for r in rows for k in COLUMNS)

    # sample grids before training (noise), at each sample point and at the end; the GIF of them; curves
    assert sorted(p.name for p in (out / "samples").iterdir()) == [
        "step_000000.png", "step_000005.png", "step_000010.png", "step_000012.png"]
    with Image.open(out / "samples.png") as im:
        assert im.size == (2 * (8 * 30 + 2),) * 2                            # 8 x 8 tiles of 28 + 2, at 2x
    with Image.open(out / "training.gif") as gif:
        assert gif.n_frames == 4                                            # the first: step 0
    with Image.open(out / "curves.png") as im:
        assert im.size[0] >= 800
    with Image.open(out / "interpolation.png") as im:
        assert im.size == (2 * (10 * 30 + 2), 2 * (8 * 30 + 2))              # 8 walks of 10 steps

    # checkpoints: the last two kept, 'latest' pointing at the final one, everything inside
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step_000010.npz", "step_000012.npz"]   # 10: epoch end
    assert (out / "latest").read_text().strip() == "checkpoints/step_000012.npz"
    state = load_checkpoint(out)
    assert (state["step"], state["epoch"], state["batch"]) == (12, 1, 2)
    assert set(state["trainer"]) >= {"G", "D", "opt_G", "opt_D", "G_ema", "rng", "step"}
    assert state["fixed_noise"].shape == (64, 8, 1, 1) and state["config"] == config
    assert state["trainer"]["opt_G"]["step_count"] == 12


def test_dcgan64_on_28x28_data_resizes_to_64(train, tmp_path):
    out = tmp_path / "run64"
    rc, _, stderr = train(out, "--arch", "dcgan64", "--ngf", 2, "--ndf", 2, "--max-steps", 2)
    assert rc == 0, stderr
    with Image.open(out / "samples.png") as im:
        assert im.size == (8 * 66 + 2,) * 2                                  # 64x64 tiles, no upscaling


def test_the_other_training_flags(train, tmp_path):
    out = tmp_path / "run"
    rc, _, stderr = train(out, "--max-steps", 2, "--dtype", "float64", "--noise", "uniform", "--n-critic", 2,
                          "--label-smoothing", 0.1, "--lr", "1e-3", "--beta1", 0.9)
    assert rc == 0, stderr
    state = load_checkpoint(out)
    assert state["trainer"]["G"]["0.weight"].dtype == np.float64
    assert np.abs(state["fixed_noise"]).max() <= 1                       # uniform z
    assert state["trainer"]["opt_D"]["step_count"] == 4                  # two D updates a step
    assert state["trainer"]["opt_G"]["betas"] == [0.9, 0.999] and state["trainer"]["opt_G"]["lr"] == 1e-3


def test_folder_dataset_rgb(tmp_path, capsys):
    pictures = random_pictures(tmp_path / "pictures", 20, 40)
    rc = main(["train", "--dataset", "folder", "--data-dir", str(pictures), "--ngf", "4", "--ndf", "4",
               "--nz", "8", "--batch-size", "8", "--max-steps", "2", "--out", str(tmp_path / "out")])
    assert rc == 0, capsys.readouterr().err
    assert load_checkpoint(tmp_path / "out")["trainer"]["G"]["6.weight"].shape == (8, 3, 4, 4)   # RGB out


class FakeTTY:
    def __init__(self):
        self.text = ""

    def write(self, s):
        self.text += s

    def flush(self):
        pass

    def isatty(self):
        return True


def test_progress_bar_redraws_in_place_on_a_terminal(capsys):
    tty = FakeTTY()
    bar = EpochBar("epoch 1/2", total=10, start=0, stop=10, stream=tty)
    for done in range(1, 11):
        bar.update(done)
    bar.print("a log line")
    bar.close()
    assert tty.text.count("\n") == 1 and "\r" in tty.text                  # one line, redrawn
    assert "10/10" in tty.text and "steps/s" in tty.text and "ETA" in tty.text
    assert capsys.readouterr().out == "a log line\n"



def test_the_last_partial_epochs_bar_ends_at_its_real_count():
    """--max-steps ending an epoch at batch 563 of 937: the bar ends full at 563, not at "563/937"."""
    tty = FakeTTY()
    bar = EpochBar("epoch 2/2", total=937, start=0, stop=563, stream=tty)
    bar.update(563)
    line = bar.line()
    assert "563/563 of a 937-batch epoch" in line and "[" + "#" * 24 + "]" in line
    assert "/937 " not in line

def test_the_job_names_the_cores_it_uses(train, tmp_path):
    rc, stdout, _ = train(tmp_path / "run")
    assert rc == 0
    lines = stdout.splitlines()
    data = next(i for i, line in enumerate(lines) if line.startswith("data: "))
    assert lines[data + 1] == "layers: the fast paths (minigan/fast/); --plain or MINIGAN_PLAIN=1 for the plain ones"
    assert lines[data + 2].startswith("cores: ") and "(minigan/fast/cores.py)" in lines[data + 2]
