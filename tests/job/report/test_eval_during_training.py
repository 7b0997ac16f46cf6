"""--eval-every and --grad-flow-every: what a run logs, and that a resumed run logs every step once."""
import csv

import numpy as np
from PIL import Image

from minigan.job.judge import EVAL_COLUMNS
from minigan.gradflow import LOG_COLUMNS, read_log
from minigan.job.logs import read_metrics
from tests.pictures import random_pictures

from .conftest import run_main


def test_evaluations_are_logged_printed_and_plotted(finished_run):
    out, stdout = finished_run
    assert "evaluation: every 5 steps and at the end, 64 samples against the 100 MNIST test images" in stdout
    lines = [line for line in stdout.splitlines() if line.startswith("eval at step")]
    assert [line.split(":")[0] for line in lines] == ["eval at step 5", "eval at step 10", "eval at step 12"]
    assert "FD " in lines[0] and "classes present " in lines[0] and "64 samples" in lines[0]

    with open(out / "eval.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(EVAL_COLUMNS)
    assert [int(r["step"]) for r in rows] == [5, 10, 12] and {r["n"] for r in rows} == {"64"}
    for r in rows:
        assert float(r["frechet_distance"]) >= 0 and float(r["classifier_score"]) >= 1
        assert 0 <= int(r["classes_present"]) <= 10
        assert np.isclose(sum(float(r[f"class_{k}"]) for k in range(10)), 1.0)
    with Image.open(out / "metrics.png") as im:
        pixels = np.asarray(im.convert("RGB"))
    assert pixels.shape[1] == 1000 and (pixels.min(axis=-1) < 200).mean() > 0.01


def test_gradient_flow_is_logged_per_layer_at_the_recorded_steps(finished_run):
    out, _ = finished_run
    rows = read_log(out / "gradflow.csv")
    assert (out / "gradflow.csv").read_text().splitlines()[0] == ",".join(LOG_COLUMNS)
    assert sorted({r["step"] for r in rows}) == [4, 8, 12]
    layers = {s: [(r["net"], r["layer"]) for r in rows if r["step"] == s] for s in (4, 8, 12)}
    assert layers[4] == layers[8] == layers[12]                 # every layer of G, then of D, each time
    at_4 = [r for r in rows if r["step"] == 4]
    G_rows, D_rows = [r for r in at_4 if r["net"] == "G"], [r for r in at_4 if r["net"] == "D"]
    assert G_rows[0]["layer"] == "0:ConvTranspose2d" and G_rows[-1]["layer"].endswith(":Tanh")
    assert D_rows[0]["layer"] == "0:Conv2d" and D_rows[-1]["layer"].endswith(":Sigmoid")
    assert any(r["layer"].endswith(":ReLU") for r in G_rows)    # parameterless layers have rows too
    assert np.isnan(G_rows[2]["grad_param"])                    # ... with no weight gradient
    assert np.isnan(G_rows[0]["grad_in"])                       # dLoss/dz is never computed
    assert all(np.isfinite(r["grad_in"]) and r["grad_in"] > 0 for r in G_rows[1:] + D_rows)
    assert all(np.isfinite(r["act_std"]) for r in at_4)


def test_resuming_from_an_older_checkpoint_logs_each_step_once(train, tmp_path):
    """Stop at 8, resume from the checkpoint at 6: the rows after 6 are dropped and logged again, so
    every log ends up exactly as in a run that never stopped (evaluation does not touch training's noise)."""
    flags = ("--eval-every", 4, "--eval-samples", 32, "--grad-flow-every", 3, "--checkpoint-every", 3)
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert train(straight, *flags, "--max-steps", 10)[0] == 0
    assert train(split, *flags, "--max-steps", 8)[0] == 0
    rc, stdout, stderr = train(split, *flags, "--max-steps", 10, "--resume", split / "checkpoints" / "step_000006.npz",
                               "--discard-newer")
    assert rc == 0, stderr
    assert "resumed from step 6" in stdout

    for name in ("metrics.csv", "eval.csv", "gradflow.csv"):
        assert (split / name).read_text() == (straight / name).read_text(), name
    assert read_metrics(split / "eval.csv")["step"] == [4, 8, 10]
    assert sorted({r["step"] for r in read_log(split / "gradflow.csv")}) == [3, 6, 9]


def test_a_folder_of_pictures_is_not_evaluated_and_says_why(tmp_path, judged):
    pictures = random_pictures(tmp_path / "pictures", 16, 32)
    out = tmp_path / "run"
    rc, stdout, stderr = run_main("train", "--dataset", "folder", "--data-dir", pictures, "--ngf", 4, "--ndf", 4,
                                  "--nz", 8, "--batch-size", 8, "--max-steps", 2, "--eval-every", 1, "--out", out)
    assert rc == 0, stderr
    assert "evaluation needs a labelled dataset (mnist or fashion-mnist)" in stdout and "not evaluated" in stdout
    assert not (out / "eval.csv").exists() and (out / "index.html").exists()
