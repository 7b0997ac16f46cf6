"""MetricsLog / read_metrics: plain CSV, one flushed row per log call, resume, crash recovery."""
import csv
import math

import numpy as np
import pytest

from minigan.logs import MetricsLog, read_metrics
from minigan.viz import plot_training_curves

FIELDS = ["step", "loss_d", "loss_g", "d_x", "d_g_z"]


def row(step):
    return dict(step=step, loss_d=1.0 + step / 10, loss_g=0.5, d_x=0.75, d_g_z=0.25)


def test_header_once_rows_flushed_and_plain_csv(tmp_path):
    path = tmp_path / "metrics.csv"
    log = MetricsLog(path, FIELDS)
    log.log(**row(1))
    assert path.read_text().splitlines() == ["step,loss_d,loss_g,d_x,d_g_z", "1,1.1,0.5,0.75,0.25"]  # before close
    log.log(**row(2))
    log.close()
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["step"] for r in rows] == ["1", "2"] and rows[1]["loss_d"] == "1.2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.csv"]   # no temp file left


def test_resume_appends_and_read_metrics(tmp_path):
    path = tmp_path / "metrics.csv"
    with MetricsLog(path, FIELDS) as log:
        log.log(**row(1))
    with MetricsLog(path, FIELDS) as log:      # the run is resumed
        log.log(**row(2))
    assert path.read_text().count("step,") == 1
    h = read_metrics(path)
    assert list(h) == FIELDS
    assert h["step"] == [1.0, 2.0] and h["loss_d"] == [1.1, 1.2]


def test_different_header_is_a_clear_error(tmp_path):
    path = tmp_path / "metrics.csv"
    MetricsLog(path, FIELDS).close()
    before = path.read_text()
    with pytest.raises(ValueError, match=r"already exists with columns .*loss_g.* this run logs .*fid"):
        MetricsLog(path, FIELDS + ["fid"])
    assert path.read_text() == before


def test_values_numpy_scalars_blank_and_nan(tmp_path):
    path = tmp_path / "m.csv"
    with MetricsLog(path, FIELDS) as log:
        log.log(step=np.int64(3), loss_d=np.float32(0.3), loss_g=np.array(0.125), d_x=float("nan"))
    assert path.read_text().splitlines()[1] == "3,0.3,0.125,nan,"
    h = read_metrics(path)
    assert h["step"] == [3.0] and h["loss_d"] == [pytest.approx(0.3)]
    assert math.isnan(h["d_x"][0]) and math.isnan(h["d_g_z"][0])


def test_bad_rows_are_refused(tmp_path):
    with MetricsLog(tmp_path / "m.csv", FIELDS) as log:
        with pytest.raises(ValueError, match="unknown columns.*'lossD'"):
            log.log(step=1, lossD=0.5)
        with pytest.raises(TypeError, match="loss_d='high' is not a number"):
            log.log(step=1, loss_d="high")
        with pytest.raises(TypeError, match="single number"):
            log.log(step=1, loss_d=np.zeros(3))
    with pytest.raises(ValueError, match="closed"):
        log.log(step=2)


def test_a_row_cut_off_by_a_crash_is_dropped(tmp_path):
    path = tmp_path / "m.csv"
    with MetricsLog(path, FIELDS) as log:
        log.log(**row(1))
    with open(path, "a") as f:
        f.write("2,1.2,0.")                    # the process died mid-row
    assert read_metrics(path)["step"] == [1.0]
    with MetricsLog(path, FIELDS) as log:
        log.log(**row(3))
    assert read_metrics(path)["step"] == [1.0, 3.0]


def test_drop_rows_after_for_resuming_from_an_older_checkpoint(tmp_path):
    path = tmp_path / "m.csv"
    with MetricsLog(path, FIELDS) as log:
        for s in (100, 200, 300):
            log.log(**row(s))
    with MetricsLog(path, FIELDS) as log:      # resume from the checkpoint at step 200
        log.drop_rows_after(200)
        log.log(**row(300))
    assert read_metrics(path)["step"] == [100.0, 200.0, 300.0]


def test_a_malformed_middle_row_names_its_line(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("step,loss_d\n1,0.5\n2\n3,0.4\n")
    with pytest.raises(ValueError, match="line 3"):
        read_metrics(path)


def test_read_metrics_feeds_the_curves_plot(tmp_path):
    path = tmp_path / "m.csv"
    with MetricsLog(path, FIELDS) as log:
        for s in range(1, 20):
            log.log(**row(s))
    plot_training_curves(read_metrics(path), tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 1000


def test_complete_lines_drops_only_a_cut_off_last_row(tmp_path):
    from minigan.logs import complete_lines
    path = tmp_path / "log.csv"
    path.write_text("step,x\n1,0.5\n2,0.2")                       # the last row lost its newline
    assert complete_lines(path) == ["step,x\n", "1,0.5\n"]
    path.write_text("step,x\n1,0.5\n")
    assert complete_lines(path) == ["step,x\n", "1,0.5\n"]
    path.write_text("step,x")                                      # a header alone is kept
    assert complete_lines(path) == ["step,x"]


def test_drop_rows_after_names_a_row_without_a_step(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("step,x\n1,0.5\nlate,0.3\n")
    log = MetricsLog(path, ["step", "x"])
    with pytest.raises(ValueError, match=r"MetricsLog: .*log.csv line 3 has no number in column 'step': \['late', '0.3'\]"):
        log.drop_rows_after(1)
    log.close()
