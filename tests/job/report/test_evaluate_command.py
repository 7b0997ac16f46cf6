"""minigan evaluate: a checkpoint's samples judged, printed as a table, optionally written as JSON."""
import contextlib
import io
import json
import shutil

import numpy as np
import pytest
from PIL import Image

from minigan.job.cli import main
from minigan.job.logs import read_metrics

from .conftest import run_main


def test_evaluate_prints_a_table_and_writes_json(finished_run, judged, tmp_path):
    out, _ = finished_run
    result = tmp_path / "result.json"
    rc, stdout, stderr = run_main("evaluate", "--checkpoint", out, "--n", 64, "--json", result, "--no-record")
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
    assert "added a row" not in stdout                                  # --no-record: the run is untouched


def test_evaluate_replaces_its_own_json_only(finished_run, judged, tmp_path):
    """The output guard (minigan/job/output_guard.py): an earlier result is replaced, the user's file is not."""
    out, _ = finished_run
    result, notes = tmp_path / "result.json", tmp_path / "notes.json"
    for n in (16, 24):
        rc, _, stderr = run_main("evaluate", "--checkpoint", out, "--n", n, "--json", result, "--no-record")
        assert rc == 0, stderr
    assert json.loads(result.read_text())["n"] == 24
    notes.write_text('{"n": 1}')
    stderr = io.StringIO()
    with pytest.raises(SystemExit) as e, contextlib.redirect_stderr(stderr):   # parser.error: usage, then one line
        main(["evaluate", "--checkpoint", str(out), "--n", "16", "--json", str(notes), "--no-record"])
    stderr = stderr.getvalue()
    assert e.value.code == 2 and "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].endswith(
        "add --force to replace it (it carries no mark of a file minigan evaluate --json wrote, so it may be yours)")
    assert notes.read_text() == '{"n": 1}'
    rc, _, stderr = run_main("evaluate", "--checkpoint", out, "--n", 16, "--json", notes, "--no-record", "--force")
    assert rc == 0 and json.loads(notes.read_text())["n"] == 16


def test_evaluate_adds_its_result_to_the_runs_eval_csv_and_report(finished_run, judged, tmp_path):
    """What the report suggests (minigan evaluate --checkpoint OUT) shows up in the report."""
    out = tmp_path / "run"
    shutil.copytree(finished_run[0], out)
    before = (out / "eval.csv").read_text()
    rc, stdout, stderr = run_main("evaluate", "--checkpoint", out / "checkpoints" / "step_000010.npz", "--n", 32)
    assert rc == 0, stderr
    assert f"added a row to {out / 'eval.csv'}" in stdout
    after = (out / "eval.csv").read_text()
    assert after.startswith(before) and after.count("\n") == before.count("\n") + 1   # appended, nothing lost
    log = read_metrics(out / "eval.csv")
    assert log["step"][-1] == 10 and log["n"][-1] == 32
    page = " ".join((out / "index.html").read_text(encoding="utf-8").split())
    assert "<td>10</td><td>32</td>" in page                              # the new row, sorted among the others
    assert "compare only rows of the same n" in page


def test_a_run_with_no_evaluation_gets_its_first_row(train, judged, tmp_path):
    out = tmp_path / "run"
    assert train(out, "--max-steps", 3)[0] == 0
    assert not (out / "eval.csv").exists()
    assert "minigan evaluate --checkpoint" in (out / "index.html").read_text(encoding="utf-8")
    rc, _, stderr = run_main("evaluate", "--checkpoint", out, "--n", 16)
    assert rc == 0, stderr
    assert read_metrics(out / "eval.csv")["step"] == [3] and (out / "metrics.png").is_file()
    assert "This run was not evaluated" not in (out / "index.html").read_text(encoding="utf-8")


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
    with pytest.raises(SystemExit) as e:                                 # judged as mnist: the RGB is the problem
        main(["evaluate", "--checkpoint", str(out), "--dataset", "fashion-mnist"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "Traceback" not in err
    assert err.splitlines()[-1].endswith("G makes 3-channel (RGB) pictures, and the fashion-mnist classifier judges "
                                         "grayscale ones, so there is nothing it can measure here; only a run with 1 "
                                         "channel (mnist, fashion-mnist, or --dataset folder --channels 1) can be "
                                         "evaluated")


def test_evaluate_without_a_checkpoint_is_one_error_line(tmp_path):
    rc, _, stderr = run_main("evaluate", "--checkpoint", tmp_path / "nothing")
    assert rc == 1 and stderr.startswith("error: no checkpoint") and stderr.count("\n") == 1
