"""The report in a real browser: headless Chromium renders it and takes a screenshot, which must show the pictures.

Skipped where no Chromium is installed (Debian: ``apt-get install chromium``).
"""
import json
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from minigan.job.report import write_report
from minigan.job.viz import plot_training_curves
from minigan.job.viz.curves import ORANGE

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no chromium or chromium-browser on PATH")
MAGENTA = (255, 0, 255)


def screenshot(page, tmp_path, height=2000):
    """Render ``page`` headless, offline, in a fresh profile; return the screenshot as an (H, W, 3) array."""
    png = tmp_path / "screenshot.png"
    cmd = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}",
           f"--window-size=1200,{height}", page.resolve().as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert png.is_file(), f"chromium wrote no screenshot (exit {proc.returncode}): {proc.stderr[-2000:]}"
    with Image.open(png) as im:
        return np.asarray(im.convert("RGB"))


def near(pixels, colour, tolerance=40):
    """How many pixels are within ``tolerance`` (per channel) of ``colour``."""
    return int(np.all(np.abs(pixels.astype(int) - colour) <= tolerance, axis=-1).sum())


def test_the_browser_shows_the_pictures(tmp_path):
    """A run folder whose sample grid is magenta and whose Loss_G curve is orange: both must be on screen."""
    run = tmp_path / "run"
    (run / "samples").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"dataset": "mnist", "arch": "dcgan28", "max_steps": 100}))
    Image.new("RGB", (466, 466), MAGENTA).save(run / "samples" / "step_000100.png")
    steps = np.arange(1, 101)
    plot_training_curves(dict(step=steps, loss_d=np.full(100, 0.4), loss_g=np.linspace(1.0, 2.5, 100),
                              d_x=np.full(100, 0.8), d_g_z=np.full(100, 0.2)), run / "curves.png")
    pixels = screenshot(write_report(run), tmp_path)

    assert pixels.shape[:2] == (2000, 1200)
    assert near(pixels, MAGENTA) > 100_000            # the grid: shown at ~560 x 560, and again in the strip
    assert near(pixels, ORANGE, tolerance=30) > 500   # Loss_G's line in the curves picture


def test_a_real_runs_report_is_not_blank(finished_run, tmp_path):
    out, _ = finished_run
    pixels = screenshot(out / "index.html", tmp_path, height=3000)
    colours = np.unique(pixels.reshape(-1, 3), axis=0)
    assert len(colours) > 200                                            # pictures, not just text on white
    background = np.all(pixels >= 240, axis=-1).mean()
    assert background < 0.9                                              # a good part of the page is ink
    assert near(pixels, ORANGE, tolerance=30) > 200                      # the training curves are on screen
