"""The run's CSV logs on resume and on the way out: a log the run cannot continue is one error line,
and every log is closed however the run ends."""
import pytest

from minigan.job import run_folder, side_tasks
from minigan.job.logs import MetricsLog


def first_half(train, out):
    assert train(out, "--max-steps", 3, "--grad-flow-every", 1)[0] == 0


def drop_last_column(path):
    lines = path.read_text().splitlines()
    path.write_text("".join(line.rsplit(",", 1)[0] + "\n" for line in lines))


@pytest.mark.parametrize("log", ["metrics.csv", "gradflow.csv"])
def test_a_log_with_other_columns_is_one_error_line(train, tmp_path, log):
    out = tmp_path / "run"
    first_half(train, out)
    drop_last_column(out / log)
    rc, _, stderr = train(out, "--max-steps", 5, "--resume")
    assert rc == 2
    assert stderr.startswith(f"error: cannot continue the logs in {out}: MetricsLog: {out / log} already exists "
                             "with columns")
    assert "one file cannot hold both" in stderr
    assert stderr.rstrip().endswith("Start a fresh run with another --out, or move that file away.")
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 2


@pytest.mark.parametrize("log, damage, complaint", [
    ("metrics.csv", "2,1,x,0.7,0.5,0.5,0.5\n", "line 3 has a non-numeric cell"),
    ("metrics.csv", "two,1\n", "line 3 has no number in column 'step'"),
    ("gradflow.csv", "1,G,0:Linear,oops,1,1,1\n", "has a malformed row"),
])
def test_a_damaged_row_is_one_error_line(train, tmp_path, log, damage, complaint):
    out = tmp_path / "run"
    first_half(train, out)
    lines = (out / log).read_text().splitlines(keepends=True)
    (out / log).write_text(lines[0] + lines[1] + damage + "".join(lines[2:]))
    rc, _, stderr = train(out, "--max-steps", 5, "--resume")
    assert rc == 2
    assert stderr.startswith(f"error: cannot continue the logs in {out}: ") and complaint in stderr
    assert "Traceback" not in stderr and "another --out" in stderr


@pytest.fixture
def opened(monkeypatch):
    """Every MetricsLog the run opens."""
    logs = []

    class Recorded(MetricsLog):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            logs.append(self)
    monkeypatch.setattr(run_folder, "MetricsLog", Recorded)
    return logs


def test_the_logs_are_closed_when_the_run_ends(train, tmp_path, opened):
    assert train(tmp_path / "run", "--max-steps", 3, "--grad-flow-every", 1)[0] == 0
    assert sorted(log.path.name for log in opened) == ["gradflow.csv", "metrics.csv"]
    assert all(log._file is None for log in opened)


def test_the_logs_are_closed_when_the_run_stops_early(train, tmp_path, opened, monkeypatch):
    out = tmp_path / "run"
    first_half(train, out)
    opened.clear()
    drop_last_column(out / "gradflow.csv")          # metrics.csv opens, then gradflow.csv fails
    assert train(out, "--max-steps", 5, "--resume")[0] == 2
    assert [log.path.name for log in opened] == ["metrics.csv"] and opened[0]._file is None

    monkeypatch.setattr(side_tasks.GifWriter, "append", lambda *a, **k: (_ for _ in ()).throw(OSError(28, "No space left")))
    opened.clear()
    rc, _, stderr = train(tmp_path / "full", "--max-steps", 4, "--sample-every", 2)
    assert rc == 1 and "No space left" in stderr
    assert len(opened) == 2 and all(log._file is None for log in opened)


def test_no_log_file_is_left_for_the_garbage_collector(train, tmp_path):
    import gc
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        assert train(tmp_path / "run", "--max-steps", 3, "--grad-flow-every", 1)[0] == 0
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
