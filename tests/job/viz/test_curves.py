"""plot_training_curves: a real picture (size, ink, each line in its panel, at the right height), edge cases."""
import math

import numpy as np
import pytest
from PIL import Image

from minigan.job.viz import plot_training_curves
from minigan.job.viz.axes import Axes
from minigan.job.viz.bins import MAX_POINTS
from minigan.job.viz.curves import BLUE, GREEN, HEIGHT, ORANGE, RED, WIDTH, _faint, ema


def history(n=50, loss_d=1.0, loss_g=1.0, d_x=0.8, d_g_z=0.2, step0=0):
    col = lambda v: np.full(n, v, dtype=float) if np.isscalar(v) else np.asarray(v, float)  # noqa: E731
    return dict(step=np.arange(step0, step0 + n), loss_d=col(loss_d), loss_g=col(loss_g),
                d_x=col(d_x), d_g_z=col(d_g_z))


def render(tmp_path, h, name="curves.png", **kw):
    path = tmp_path / name
    plot_training_curves(h, path, **kw)
    return np.asarray(Image.open(path).convert("RGB"))


def rows_of(img, colour):
    """Row index of every pixel of exactly ``colour``."""
    return np.nonzero(np.all(img == np.array(colour, np.uint8), axis=-1))[0]


def main_row(img, colour):
    """The row holding the most pixels of ``colour``: where a horizontal data line runs."""
    r = rows_of(img, colour)
    return int(np.bincount(r).argmax())


def test_png_written_right_size_and_not_blank(tmp_path):
    img = render(tmp_path, history(), title="a run")
    assert img.shape == (HEIGHT, WIDTH, 3)
    assert (img.min(axis=-1) < 200).mean() > 0.01           # there is ink: text, frame, lines
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.png"]


def test_each_line_is_drawn_in_its_own_panel(tmp_path):
    img = render(tmp_path, history(n=50, loss_d=1.2, loss_g=2.5, d_x=0.8, d_g_z=0.3))   # no overlaps
    top, bottom = img[:HEIGHT // 2], img[HEIGHT // 2:]
    for colour in (BLUE, ORANGE):        # losses: top panel only
        assert len(rows_of(top, colour)) > 1000 and len(rows_of(bottom, colour)) == 0
    for colour in (GREEN, RED):          # D outputs: bottom panel only
        assert len(rows_of(bottom, colour)) > 1000 and len(rows_of(top, colour)) == 0


def test_lines_sit_at_the_height_of_their_values(tmp_path):
    img = render(tmp_path, history(loss_d=3.0, loss_g=0.2, d_x=0.9, d_g_z=0.1))
    assert main_row(img, BLUE) < main_row(img, ORANGE) < HEIGHT // 2      # 3.0 above 0.2
    assert HEIGHT // 2 < main_row(img, GREEN) < main_row(img, RED)        # 0.9 above 0.1
    flipped = render(tmp_path, history(loss_d=0.2, loss_g=3.0), name="flipped.png")
    assert main_row(flipped, BLUE) > main_row(flipped, ORANGE)


def test_the_line_is_what_adds_the_colour(tmp_path):
    # Legend samples, reference lines and labels share the series colour; the data line must add a lot more.
    without = render(tmp_path, history(loss_d=np.nan), name="without.png")
    with_line = render(tmp_path, history(loss_d=0.3), name="with.png")
    assert len(rows_of(with_line, BLUE)) > len(rows_of(without, BLUE)) + 1000


def test_many_points_draw_faint_raw_and_smoothed_lines(tmp_path):
    rng = np.random.default_rng(0)
    n = 2000
    h = history(n=n, loss_d=1.4 + 0.1 * rng.standard_normal(n), loss_g=2 + 0.3 * rng.standard_normal(n))
    img = render(tmp_path, h)
    assert len(rows_of(img, _faint(ORANGE))) > 500 and len(rows_of(img, ORANGE)) > 700
    raw = render(tmp_path, h, name="raw.png", smooth=False)
    assert len(rows_of(raw, _faint(ORANGE))) < 20        # (a few anti-aliased text pixels may match)


@pytest.mark.parametrize("case", ["one point", "empty", "nan values", "all nan", "constant",
                                  "huge steps", "unsorted", "spike", "inf"])
def test_edge_cases_do_not_crash(tmp_path, case):
    h = history(n=300)
    if case == "one point":
        h = history(n=1)
    elif case == "empty":
        h = history(n=0)
    elif case == "nan values":
        h["loss_d"][::3] = np.nan
        h["d_x"][100:200] = np.nan
    elif case == "all nan":
        h = {k: (v if k == "step" else np.full(300, np.nan)) for k, v in h.items()}
    elif case == "constant":
        h = history(n=300, loss_d=5.0, loss_g=5.0, d_x=0.5, d_g_z=0.5)
    elif case == "huge steps":
        h["step"] = np.arange(300) * 10_000_000
    elif case == "unsorted":
        h["step"] = np.random.default_rng(0).permutation(300)
    elif case == "spike":
        h["loss_g"][150] = 1e30
    elif case == "inf":
        h["loss_g"][150] = np.inf
    img = render(tmp_path, {k: list(v) for k, v in h.items()})
    assert img.shape == (HEIGHT, WIDTH, 3)


def test_one_point_is_visible(tmp_path):
    img = render(tmp_path, history(n=1))
    without = render(tmp_path, history(n=1, d_x=np.nan), name="without.png")
    assert len(rows_of(img, GREEN)) > len(rows_of(without, GREEN)) + 10    # a dot, not just the legend


def test_many_steps_render_quickly(tmp_path):
    n = 200_000
    h = history(n=n, loss_d=np.random.default_rng(0).uniform(0, 2, n))
    img = render(tmp_path, h)
    assert len(rows_of(img, BLUE)) > 1000


def test_bad_history_is_explained(tmp_path):
    h = history()
    del h["d_g_z"]
    with pytest.raises(ValueError, match="d_g_z"):
        plot_training_curves(h, tmp_path / "x.png")
    h = history()
    h["loss_g"] = h["loss_g"][:-1]
    with pytest.raises(ValueError, match="equal lengths"):
        plot_training_curves(h, tmp_path / "x.png")


def test_ema_skips_nan_and_starts_at_first_value():
    out = ema([np.nan, 2.0, np.nan, 4.0], span=3)              # a = 2 / (3 + 1) = 0.5
    assert math.isnan(out[0]) and math.isnan(out[2])
    assert out[1] == 2.0 and out[3] == pytest.approx(3.0)


@pytest.fixture
def points_drawn(monkeypatch):
    """The number of points of every line drawn (``Axes.line`` calls), in order."""
    drawn, real_line = [], Axes.line

    def counting_line(self, x, y, *args, **kwargs):
        drawn.append(len(x))
        return real_line(self, x, y, *args, **kwargs)
    monkeypatch.setattr(Axes, "line", counting_line)
    return drawn


@pytest.mark.parametrize("smooth", [None, False])
def test_the_points_drawn_do_not_grow_with_the_run(tmp_path, points_drawn, smooth):
    rng = np.random.default_rng(0)
    counts = {}
    for n in (10, 3_000, 150_000):
        points_drawn.clear()
        render(tmp_path, history(n=n, loss_d=1 + 0.1 * rng.standard_normal(n)), smooth=smooth)
        counts[n] = list(points_drawn)
    assert counts[10] == [10] * 4                 # 4 series, every point
    assert len(counts[3_000]) == len(counts[150_000]) == (4 if smooth is False else 8)   # (+ faint raw lines)
    for n in (3_000, 150_000):                    # at most MAX_POINTS a curve, twice that for a low-high envelope
        assert 0 < max(counts[n]) <= 2 * MAX_POINTS
    assert counts[150_000] == counts[3_000]       # 50 times the rows, the same work


def test_a_one_step_spike_still_shows_in_a_long_run(tmp_path):
    n = 150_000
    noise = 0.05 * np.random.default_rng(1).standard_normal(n)
    calm = render(tmp_path, history(n=n, loss_g=1.5 + noise), name="calm.png")
    noise[123_456] = 1.0                          # one step of 150,000, Loss_G 2.5 instead of ~1.5
    spiked = render(tmp_path, history(n=n, loss_g=1.5 + noise), name="spiked.png")
    top = lambda img: rows_of(img[:HEIGHT // 2], _faint(ORANGE)).min()      # noqa: E731 (highest faint pixel)
    assert top(spiked) < top(calm) - 20           # the faint line reaches up to it
