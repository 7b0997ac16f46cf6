"""minigan evaluate: a checkpoint's samples judged, printed as a table, optionally written as JSON."""
import json

import numpy as np
import pytest
from PIL import Image

from minigan.cli import main
from minigan.logs import read_metrics

from .conftest import run_main


def test_evaluate_prints_a_table_and_writes_json(finished_run, judged, tmp_path):
    out, _ = finished_run
    result = tmp_path / "result.json"
    rc, stdout, stderr = run_main("evaluate", "--checkpoint", out, "--n", 64, "--json", result)
    assert rc == 0, stderr
    assert stdout.startswith("EMA G at step 12 (")
    for label in ("Fréchet distance", "classifier score", "classes present", "class KL", "class mix"):
        assert label in stdout
    assert "64 samples against the 100 MNIST test images" in stdout

    r = json.loads(result.read_text())
    assert r["step"] == 12 and r["ema"] is True and r["dataset"] == "mnist" and r["n"] == 64
    assert r["classes"] == list("0123456789") and np.isclose(sum(r["class_histogram"]), 1.0)
    # the same G, the same z (seed 0 = the run's seed) and the same judge as the run's last evaluation
    assert r["frechet_distance"] == read_metrics(out / "eval.csv")["frechet_distance"][-1]


def test_evaluate_needs_a_labelled_dataset(tmp_path, judged, capsys):
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    for i in range(8):
        Image.fromarray(np.full((32, 32, 3), 30 * i, np.uint8)).save(pictures / f"{i}.png")
    out = tmp_path / "run"
    assert run_main("train", "--dataset", "folder", "--data-dir", pictures, "--ngf", 4, "--ndf", 4, "--nz", 8,
                    "--batch-size", 8, "--max-steps", 1, "--out", out)[0] == 0
    with pytest.raises(SystemExit) as e:
        main(["evaluate", "--checkpoint", str(out)])
    assert e.value.code == 2
    assert "--dataset mnist" in capsys.readouterr().err


def test_evaluate_without_a_checkpoint_is_one_error_line(tmp_path):
    rc, _, stderr = run_main("evaluate", "--checkpoint", tmp_path / "nothing")
    assert rc == 1 and stderr.startswith("error: no checkpoint") and stderr.count("\n") == 1
