"""The report is rewritten at every sample point: its work there must not grow with the run.

Counted, not timed: how many pictures are base64-encoded into the page, and
how many bytes, when one sample point adds a grid and redraws the curves,
after 10 grids and after 1,000.
"""
import json

import numpy as np
import pytest
from PIL import Image

from minigan.report import html as report_html
from minigan.report import write_report
from minigan.report.training import spread_picks

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
