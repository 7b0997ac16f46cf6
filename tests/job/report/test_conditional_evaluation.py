"""A conditional run judged: conditional accuracy and FD per class in eval.csv, the log, evaluate and the report."""
import json

from minigan.job.judge import CONDITIONAL_EVAL_COLUMNS, EVAL_COLUMNS
from minigan.job.logs import read_metrics

from .conftest import run_main


def test_a_conditional_run_is_judged_class_by_class(train, judged, tmp_path):
    out = tmp_path / "run"
    rc, stdout, stderr = train(out, "--max-steps", 6, "--eval-every", 3, "--eval-samples", 40,
                               "--conditional", "projection", "--checkpoint-every", 3)
    assert rc == 0, stderr
    header = (out / "eval.csv").read_text().splitlines()[0].split(",")
    assert header == list(CONDITIONAL_EVAL_COLUMNS) and header[:len(EVAL_COLUMNS)] == list(EVAL_COLUMNS)
    log = read_metrics(out / "eval.csv")
    assert log["step"] == [3, 6]
    assert all(0 <= a <= 1 for a in log["conditional_accuracy"] + log["accuracy_9"])
    assert all(fd >= 0 for fd in log["frechet_9"] + log["mean_class_frechet_distance"])
    assert "conditional accuracy" in stdout and "FD per class (mean)" in stdout
    page = " ".join((out / "index.html").read_text(encoding="utf-8").split())
    assert "Conditional: does G draw the class it is asked for?" in page
    assert f"{log['accuracy_9'][-1]:.1%}</td><td>{log['frechet_9'][-1]:.2f}</td>" in page

    result = tmp_path / "r.json"
    rc, stdout, stderr = run_main("evaluate", "--checkpoint", out / "checkpoints" / "step_000003.npz", "--n", 40,
                                  "--json", result)
    assert rc == 0, stderr
    assert "conditional accuracy" in stdout and "per class asked for:" in stdout
    r = json.loads(result.read_text())
    assert len(r["class_accuracy"]) == len(r["class_frechet_distance"]) == 10
    assert r["conditional_accuracy"] == log["conditional_accuracy"][0]  # the same judge, z and labels as the run's
    assert read_metrics(out / "eval.csv")["step"] == [3, 6, 3]          # recorded in the run, in its columns


def test_an_unconditional_runs_eval_csv_keeps_its_columns(finished_run):
    out, stdout = finished_run
    assert (out / "eval.csv").read_text().splitlines()[0].split(",") == list(EVAL_COLUMNS)
    assert "conditional accuracy" not in stdout
    assert "Conditional: does G draw" not in (out / "index.html").read_text(encoding="utf-8")
