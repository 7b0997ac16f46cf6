"""MetricsLog / read_metrics: plain CSV, one flushed row per log call, resume, crash recovery; reading a log in part."""
import csv
import math

import numpy as np
import pytest

from minigan.job.logs import MetricsLog, read_metrics, read_metrics_tail, spread_lines, tail_lines
from minigan.job.viz import plot_training_curves

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
    from minigan.job.logs import complete_lines
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


def long_log(path, rows, cut_off=False):
    """A metrics log of ``rows`` rows (varied widths), ending in half a row when ``cut_off``."""
    with MetricsLog(path, FIELDS) as log:
        for s in range(1, rows + 1):
            log.log(step=s, loss_d=1 / s, loss_g=s * 1e6 if s % 7 else float("nan"), d_x=0.5, d_g_z=s % 3)
    if cut_off:
        with open(path, "a") as f:
            f.write("99999,0.12")                                     # what a crash mid-row leaves
    return path


@pytest.mark.parametrize("rows", [0, 1, 5, 999, 1000, 1001, 3000])
@pytest.mark.parametrize("cut_off", [False, True])
def test_read_metrics_tail_is_the_end_of_read_metrics(tmp_path, rows, cut_off):
    path = long_log(tmp_path / "metrics.csv", rows, cut_off)
    whole = read_metrics(path)
    for n in (1, 2, 10, 1000, 5000):                                # 5000: a file shorter than n
        tail = read_metrics_tail(path, n)
        assert list(tail) == FIELDS
        for k in FIELDS:
            np.testing.assert_array_equal(tail[k], whole[k][-n:])   # NaN cells included
    assert read_metrics_tail(path, 0) == {k: [] for k in FIELDS}


def test_read_metrics_tail_reads_the_end_only(tmp_path):
    path = long_log(tmp_path / "metrics.csv", 20_000)
    header, lines = tail_lines(path, 100)
    assert header == "step,loss_d,loss_g,d_x,d_g_z\n" and len(lines) == 100
    assert lines[0].startswith("19901,") and lines[-1].startswith("20000,")
    (tmp_path / "nothing.csv").write_text("")
    with pytest.raises(ValueError, match="empty"):
        read_metrics_tail(tmp_path / "nothing.csv", 5)
    with open(path, "a") as f:
        f.write("20001,oops,1,1,1\n")
    with pytest.raises(ValueError, match="line 1 from the end has a non-numeric cell"):
        read_metrics_tail(path, 3)


@pytest.mark.parametrize("rows", [0, 1, 40, 5000])
@pytest.mark.parametrize("cut_off", [False, True])
def test_spread_lines_are_whole_rows_from_across_the_file(tmp_path, rows, cut_off):
    path = long_log(tmp_path / "metrics.csv", rows, cut_off)
    all_lines = path.read_text().splitlines(keepends=True)
    complete = all_lines[1:] if not cut_off else all_lines[1:-1]
    header, lines = spread_lines(path, 8, 512)
    assert header == all_lines[0]
    if rows <= 40:                                                  # fits in 8 x 512 bytes: read whole
        assert lines == complete
        return
    assert set(lines) <= set(complete) and len(set(lines)) == len(lines)
    assert lines == sorted(lines, key=complete.index)               # in file order
    assert lines[0] == complete[0] and lines[-1] == complete[-1]    # the first and the last row
    assert 8 * 5 <= len(lines) <= 8 * 512 // 20                     # a few rows from each of the 8 windows
    steps = [int(line.split(",")[0]) for line in lines]
    assert max(np.diff(steps)) < rows / 4                           # from all over the file, not only its ends
    with pytest.raises(ValueError, match="2 or more windows"):
        spread_lines(path, 1, 512)
