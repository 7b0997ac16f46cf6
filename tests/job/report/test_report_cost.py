"""The report is rewritten at every sample point: its work there must not grow with the run.

Counted, not timed: how many pictures are base64-encoded into the page, and
how many bytes, when one sample point adds a grid and redraws the curves,
after 10 grids and after 1,000; how many bytes of metrics.csv and
gradflow.csv one report reads, after 10 sample points and after 1,000.
"""
import builtins
import io
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from minigan.job.report import html as report_html
from minigan.job.report import write_report
from minigan.job.report.run_files import FLOW_WINDOW, FLOW_WINDOWS, RECENT_STEPS
from minigan.job.report.training import spread_picks

from .test_report import Page


def grid(path, i):
    """A tiny sample grid, different for each i."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((6, 6, 3), i % 251, np.uint8)).save(path)


def sample_point(folder, step):
    """What the job does at a sample point before writing the report: a new grid, curves.png redrawn."""
    grid(folder / "samples" / f"step_{step:06d}.png", step)
    Image.fromarray(np.full((20, 30, 3), step % 253, np.uint8)).save(folder / ".curves.tmp.png")
    (folder / ".curves.tmp.png").replace(folder / "curves.png")         # replaced by a rename, as fileio does


@pytest.mark.parametrize("grids", [10, 1000])
def test_a_sample_point_encodes_only_the_new_pictures(tmp_path, monkeypatch, grids):
    (tmp_path / "config.json").write_text(json.dumps({"dataset": "mnist", "arch": "dcgan28"}))
    (tmp_path / "metrics.csv").write_text("step,epoch,loss_d,loss_g,d_x,d_g_z,d_g_z_after\n"
                                          + "".join(f"{s},1,1.0,1.0,0.7,0.3,0.3\n" for s in range(1, grids + 1)))
    embedder = report_html.Embedder()
    monkeypatch.setattr(report_html, "EMBEDDED", embedder)
    for step in range(1, grids + 1):
        grid(tmp_path / "samples" / f"step_{step:06d}.png", step)
    sample_point(tmp_path, grids)
    write_report(tmp_path)                                             # the report so far

    before = (embedder.encoded, embedder.bytes_encoded)
    sample_point(tmp_path, grids + 1)
    page = Page(write_report(tmp_path).read_text(encoding="utf-8"))    # the next sample point
    new = [tmp_path / "samples" / f"step_{grids + 1:06d}.png", tmp_path / "curves.png"]
    assert embedder.encoded - before[0] == 2                           # the new grid and the new curves, only
    assert embedder.bytes_encoded - before[1] == sum(p.stat().st_size for p in new)
    assert 4 <= len(page.images()) - 2 <= 8                            # a handful of grids over time, the latest


def test_the_strips_picks_stay_put_as_the_run_grows():
    for n in (1, 2, 3, 8, 9, 10, 11, 100, 1000, 1001, 4097):
        picks = spread_picks(n)
        assert picks[0] == 0 and picks[-1] == n - 1 and len(picks) <= 8
        assert n < 9 or len(picks) >= 4
    for n in range(1, 3000):                                           # grid n (0-based) is the new one:
        assert set(spread_picks(n + 1)) - set(spread_picks(n)) <= {n}  # every other pick was shown before


LAYERS = ("0:ConvTranspose2d", "1:BatchNorm2d", "2:ReLU", "3:ConvTranspose2d", "4:Tanh")


def long_run(folder, sample_points, every=200):
    """A run folder after ``sample_points`` sample points, ``every`` steps apart: one metrics row a step,
    gradflow rows at each sample point, a grid each (what the job leaves, made up)."""
    steps = sample_points * every
    (folder / "config.json").write_text(json.dumps({"dataset": "mnist", "arch": "dcgan28"}))
    (folder / "metrics.csv").write_text("step,epoch,loss_d,loss_g,d_x,d_g_z,d_g_z_after\n" + "".join(
        f"{s},{s // 1000},{1 + s / steps},{2 - s / steps},0.7,0.3,0.3\n" for s in range(1, steps + 1)))
    (folder / "gradflow.csv").write_text("step,net,layer,act_mean,act_std,grad_in,grad_param\n" + "".join(
        f"{s},{net},{layer},0.1,1.0,{1e-3 * s / steps},2e-3\n"
        for s in range(every, steps + 1, every) for net in "GD" for layer in LAYERS))
    for i in range(1, sample_points + 1):
        grid(folder / "samples" / f"step_{i * every:06d}.png", i)
    sample_point(folder, steps)
    return steps


class CountedFile:
    """An open file whose reads add the characters (or bytes) they return to ``counts[name]``."""

    def __init__(self, f, counts, name):
        self._f, self._counts, self._name = f, counts, name

    def _count(self, data):
        self._counts[self._name] += len(data)
        return data

    def read(self, *args):
        return self._count(self._f.read(*args))

    def readline(self, *args):
        return self._count(self._f.readline(*args))

    def __iter__(self):
        return self

    def __next__(self):
        return self._count(next(self._f))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()

    def __getattr__(self, name):                                       # seek, tell, close, ...
        return getattr(self._f, name)


@pytest.fixture
def reads(monkeypatch):
    """``Counter``: characters read per file name, through any ``open`` (builtins, io, pathlib)."""
    counts, real_open = Counter(), io.open

    def counting_open(file, *args, **kwargs):
        f = real_open(file, *args, **kwargs)
        return CountedFile(f, counts, Path(file).name) if isinstance(file, (str, Path)) else f
    monkeypatch.setattr(builtins, "open", counting_open)
    monkeypatch.setattr(io, "open", counting_open)
    return counts


@pytest.mark.parametrize("sample_points", [10, 1000])
def test_a_report_reads_a_bounded_part_of_the_logs(tmp_path, reads, sample_points):
    steps = long_run(tmp_path, sample_points)
    reads.clear()
    page = Page(write_report(tmp_path).read_text(encoding="utf-8"))
    metrics_size, flow_size = (tmp_path / "metrics.csv").stat().st_size, (tmp_path / "gradflow.csv").stat().st_size
    # The bound: the last RECENT_STEPS rows (in doubling blocks from 128 bytes a row: at most 4x), and the windows.
    assert 0 < reads["metrics.csv"] <= min(metrics_size, 4 * 128 * (RECENT_STEPS + 1))
    assert 0 < reads["gradflow.csv"] <= min(flow_size, FLOW_WINDOWS * FLOW_WINDOW + 100)
    if sample_points == 1000:                                          # the long logs were not read whole
        assert reads["metrics.csv"] < metrics_size / 20 and reads["gradflow.csv"] < flow_size / 2
    text = " ".join(page.text)
    assert f"at step {steps:,}" in text                                # the last row, from the end of metrics.csv
    assert f"mean of the last {min(steps, RECENT_STEPS):,} steps" in text
    assert f"step 200 (light) and step {steps:,} (dark)" in text       # gradflow.csv's first and last steps
