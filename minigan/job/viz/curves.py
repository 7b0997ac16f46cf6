"""Training curves: a GAN's losses and its discriminator's outputs against step, in one PNG.

The picture has a panel per quantity of the run's game (minigan/job/game_views.py
says which, and what each game's equilibrium is), meant to be read together.

**Losses** (top): ``Loss_D`` and ``Loss_G``, the losses the trainer
minimises, the axis named for the game. The dashed lines mark their values at
the game's equilibrium, where the generator's samples are indistinguishable
from data. For bce the best discriminator then outputs D = 1/2 everywhere::

    Loss_D = -log D(x) - log(1 - D(G(z))) = -log(1/2) - log(1/2) = 2 ln 2 ~= 1.386
    Loss_G = -log D(G(z))                 = -log(1/2)            =   ln 2 ~= 0.693

(Goodfellow et al. 2014, "Generative Adversarial Nets", Theorem 1; Loss_G is
the non-saturating generator loss.) Loss_D far below 1.386 with Loss_G climbing
means D is winning; both hovering near their lines is the balanced game.
lsgan's lines are 0.25 and 0.125; hinge has only Loss_D's (2); the Wasserstein
games have Loss_D = -W, whose line is 0.

**Discriminator outputs** (second): ``D(x)``, D's mean output on a real batch,
and ``D(G(z))``, its mean output on a fake batch. For bce and minimax both are
probabilities in [0, 1], 1/2 at equilibrium (the dashed line). D(x) -> 1 with
D(G(z)) -> 0 means D separates real from fake perfectly: G still gets a
gradient (the non-saturating loss keeps it alive) but is losing the game, and
once D's sigmoid saturates (``minigan/losses.py``) even that gradient is lost; both stuck
near 1/2 from the first step means D is not learning. The other games' D
gives raw scores, drawn on an axis fitted to them (hinge: with its margins
at +1 and -1).

**The Wasserstein estimate** (wgan, wgan-gp): ``W = mean D(x) - mean
D(G(z))``, the critic's estimate of the distance between the pictures and
the data; it falls as G improves. **Penalties** (wgan-gp, ``--r1``): the
penalty's term in Loss_D and the mean norm of D's input gradient.

With many points, each series is drawn twice: the raw values as a faint line
and an exponential moving average over it (like TensorBoard's smoothing).
The step axis ends at the last step logged.

**A long run is drawn from at most** :data:`MAX_POINTS` **points per curve**
(:func:`bin_history`), so redrawing the picture at every sample point costs
about the same at step 200,000 as at step 2,000: the steps are cut into
equal stretches, each drawn as one point holding its rows' mean (what the
moving average smooths) and their lowest and highest values (what the faint
line draws, so a one-step spike still shows). A picture 800 pixels wide shows
no more than that anyway.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from minigan.fileio import atomic_write
from minigan.job.viz.axes import (BLACK, WHITE, Axes, load_font, nice_ticks, put_text,
                              text_size)
from minigan.job.game_views import GameView, game_view, with_derived
from minigan.job.viz.bins import MAX_POINTS, bin_history

#: The columns of ``history`` that :func:`plot_training_curves` needs (a game's other panels
#: are drawn when their columns are there).
HISTORY_KEYS = ("step", "loss_d", "loss_g", "d_x", "d_g_z")

WIDTH, HEIGHT = 1000, 700
PANEL_HEIGHT = 230                 # each panel beyond the first two adds this many pixels
BLUE, ORANGE, GREEN, RED, GREY = (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (110, 110, 110)
PURPLE, BROWN, TEAL = (148, 103, 189), (140, 86, 75), (23, 190, 207)
#: Each column's colour, the same in every game's picture.
COLOURS = {"loss_d": BLUE, "loss_g": ORANGE, "d_x": GREEN, "d_g_z": RED, "wasserstein": PURPLE,
           "gp": BROWN, "gp_grad_norm": TEAL, "r1": BROWN, "r1_grad_norm": TEAL}

LN2 = math.log(2.0)

SMOOTH_MIN_POINTS = 100   # with more points than this, smoothing is on by default


def ema(values, span: float) -> np.ndarray:
    """Exponential moving average ``m_t = m_{t-1} + a (v_t - m_{t-1})``, ``a = 2 / (span + 1)``.

    NaN/inf values are skipped (they stay NaN in the output and do not disturb
    the average); the average starts at the first finite value, so it has no
    pull towards zero at the start.
    """
    values = np.asarray(values, dtype=np.float64)
    out = np.full_like(values, np.nan)
    a, m = 2.0 / (span + 1.0), None
    for i, v in enumerate(values):
        if math.isfinite(v):
            m = v if m is None else m + a * (v - m)
            out[i] = m
    return out


def panels_of(view: GameView, history: dict) -> tuple:
    """``view``'s panels as :func:`plot_panels` takes them, leaving out those with no column in ``history``
    (a run logged before minigan logged its penalty)."""
    panels, history = [], with_derived(history)
    for p in view.panels:
        if not any(k in history for k in p.columns):
            continue
        series = tuple((k, label, COLOURS[k]) for k, label in p.series)
        refs = tuple((value, label, COLOURS.get(key, GREY)) for value, label, key in p.refs)
        panels.append((p.title, p.axis, series, refs, p.ylim, p.legend))
    return tuple(panels)


def plot_training_curves(history: dict, path, title: str | None = None, *, smooth: bool | None = None,
                         game: dict | GameView | None = None):
    """Draw the curves of a training run's game as a PNG ~1000 pixels wide at ``path`` (atomically).

    Args:
        history: a dict of equal-length sequences (lists or arrays), one entry
            per logged step, with at least the keys ``step``, ``loss_d``,
            ``loss_g``, ``d_x``, ``d_g_z`` (other keys are ignored), e.g. what
            :func:`minigan.job.viz.read_metrics` returns. NaN values are skipped
            (the line has a gap); rows need not be sorted by step.
        path: where to write the PNG.
        title: a line of text above the plot, or None.
        smooth: draw a moving average over faint raw lines; None = only when
            there are more than 100 points.
        game: the run's config (config.json's dict) or its
            :class:`~minigan.job.game_views.GameView`: which panels, axes and
            equilibrium lines to draw; None: bce's. A panel whose columns the
            history lacks (an older run's log) is left out.

    A history of more than :data:`~minigan.job.viz.bins.MAX_POINTS` rows is drawn
    from that many stretches of steps (:func:`~minigan.job.viz.bins.bin_history`),
    so the cost stays the same however long the run.

    Returns ``path``.
    """
    missing = [k for k in HISTORY_KEYS if k not in history]
    if missing:
        raise ValueError(f"plot_training_curves: history is missing {missing}; "
                         f"it needs keys {list(HISTORY_KEYS)}")
    data = {k: np.asarray(history[k], dtype=np.float64).reshape(-1) for k in HISTORY_KEYS}
    lengths = {k: v.size for k, v in data.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"plot_training_curves: history columns must have equal lengths, got {lengths}")
    n = data["step"].size
    view = game if isinstance(game, GameView) else game_view(game)
    history = with_derived({k: history[k] for k in history if k in COLOURS or k in HISTORY_KEYS})
    panels = panels_of(view, history)
    columns = [k for k in view.columns if k in history]
    for k in columns:
        data[k] = np.asarray(history[k], dtype=np.float64).reshape(-1)
        if data[k].size != n:
            raise ValueError(f"plot_training_curves: column {k!r} has {data[k].size} values, step has {n}")
    for p in panels:                                 # a panel missing one of its columns: a gap, not an error
        for key, _, _ in p[2]:
            data.setdefault(key, np.full(n, np.nan))
    if smooth is None:
        smooth = n > SMOOTH_MIN_POINTS
    steps, means, lows, highs = bin_history(data["step"], {k: v for k, v in data.items() if k != "step"})
    return plot_panels(steps, means, panels, path, title=title, smooth=smooth,
                       height=HEIGHT + PANEL_HEIGHT * max(0, len(panels) - 2),
                       envelope=(lows, highs) if n > MAX_POINTS else None)


def plot_panels(steps, data: dict, panels, path, title: str | None = None, *, smooth: bool = False,
                ref_legend: str | None = None, markers: bool = False, height: int = HEIGHT,
                envelope: tuple[dict, dict] | None = None):
    """Panels stacked above one shared "training step" axis, as a ``WIDTH x height`` PNG at ``path``.

    The engine behind :func:`plot_training_curves` and
    :func:`minigan.job.viz.plot_eval_curves`. ``steps``: ``(n,)`` sorted;
    ``data``: ``{key: (n,) array}``; ``panels``: ``(title, y-axis title, ((key, legend label,
    colour), ...), ((value, label, colour), ...) dashed reference lines, fixed y limits or None[, the
    legend's name for this panel's dashed lines])``.
    ``ref_legend``: the legend's label for the dashed reference lines;
    ``markers``: a dot on every point (for a few, widely spaced points);
    ``envelope``: ``(lows, highs)``, dicts like ``data``, when each point
    stands for a stretch of steps (:func:`bin_history`): the raw line then runs
    through each stretch's lowest and highest value.
    """
    steps = np.asarray(steps, dtype=np.float64)
    span = max(2.0, steps.size / 40)

    image = Image.new("RGB", (WIDTH, height), WHITE)
    draw = ImageDraw.Draw(image)
    f_tick, f_label, f_panel, f_title = load_font(13), load_font(14), load_font(16), load_font(18)

    # ---- layout: panels stacked, margins for tick labels and reference labels ----
    left, right = 86, WIDTH - 120
    top = 12
    if title:
        put_text(draw, (WIDTH / 2, 12), title, f_title, BLACK, ha="center")
        top = 44
    k = len(panels)
    header, ticks_h, gap, xtitle_h = 30, 24, 16, 26
    plot_h = (height - top - k * (header + ticks_h) - (k - 1) * gap - xtitle_h - 4) // k
    boxes = []
    y = top
    for _ in panels:
        boxes.append((left, y + header, right, y + header + plot_h))
        y += header + plot_h + ticks_h + gap

    # ---- x axis: shared by all panels ----
    finite_steps = steps[np.isfinite(steps)]
    x_lo, x_hi = (finite_steps.min(), finite_steps.max()) if finite_steps.size else (0.0, 1.0)
    whole_steps = bool(np.all(finite_steps == np.round(finite_steps)))
    xticks = nice_ticks(x_lo, x_hi, max_ticks=9, integer=whole_steps)
    if x_hi > x_lo:                                  # the axis spans the steps logged, no further
        xlim = (float(x_lo), float(x_hi))
        xticks = xticks[(xticks >= x_lo - 1e-9) & (xticks <= x_hi + 1e-9)]
    else:
        xlim = (xticks[0], xticks[-1])

    for panel, box in zip(panels, boxes):
        (panel_title, y_title, series, refs, fixed_ylim), legend_name = panel[:5], (panel[5:] or (ref_legend,))[0]
        raw = {key: np.asarray(data[key], dtype=np.float64) for key, _, _ in series}
        smoothed = {key: ema(v, span) for key, v in raw.items()} if smooth else {}
        lows, highs = envelope or (raw, raw)         # each point's lowest and highest raw value
        lows, highs = {key: lows[key] for key in raw}, {key: highs[key] for key in raw}   # this panel's series
        raw_lines = {key: _raw_line(steps, raw[key], lows[key], highs[key], bool(envelope)) for key in raw}

        # ---- y limits: the data (without rare spikes when smoothing), the reference lines ----
        if fixed_ylim is not None:
            yticks = nice_ticks(*fixed_ylim, max_ticks=6)
        else:
            yticks = nice_ticks(*_fit_range(lows, highs, smoothed, [r[0] for r in refs]), max_ticks=7)
        margin = 0.03 * (yticks[-1] - yticks[0])   # so a line at the first or last tick clears the frame
        ax = Axes(image, box, xlim, (yticks[0] - margin, yticks[-1] + margin))

        # ---- data, then the frame and ticks around it ----
        ax.gridlines(xticks, yticks)
        for key, _, colour in series if smooth else ():   # faint raw lines first, under everything
            ax.line(*raw_lines[key], _faint(colour), width=1)
        rows = [ax.hline(value, colour, width=1) for value, _, colour in refs]   # canvas rows
        for key, _, colour in series:
            ax.line(*((steps, smoothed[key]) if smooth else raw_lines[key]), colour, width=2)
            if markers:
                ax.dots(steps, raw[key], colour)
        if not any(np.isfinite(v).any() for v in raw.values()):
            put_text(ax.draw, (ax.width / 2, ax.height / 2), "no data yet", f_label, GREY,
                     ha="center", va="middle", background=WHITE)
        ax.finish(xticks, yticks, f_tick)

        # ---- labels: panel title, legend, y-axis title, reference values in the right margin ----
        b_left, b_top, b_right, b_bottom = box
        put_text(draw, (b_left, b_top - 8), panel_title, f_panel, BLACK, va="bottom")
        legend = [(label, colour, False) for _, label, colour in series]
        if refs and legend_name:
            legend.append((legend_name, GREY, True))
        _legend(draw, legend, right_x=b_right, baseline_y=b_top - 8, font=f_label)
        _vertical_text(image, y_title, f_label, centre=(22, (b_top + b_bottom) / 2))
        for (value, label, colour), y_row in zip(refs, _spread(rows, 16, b_top + 8, b_bottom - 8)):
            put_text(draw, (b_right + 8, y_row), label, f_tick, colour, va="middle")

    put_text(draw, ((left + right) / 2, boxes[-1][3] + ticks_h + 2), "training step", f_label, BLACK,
             ha="center")

    with atomic_write(path, "wb") as f:
        image.save(f, format="PNG")
    return path


def _raw_line(steps, values, lows, highs, binned: bool) -> tuple[np.ndarray, np.ndarray]:
    """The raw line's points: the values, or, for binned points, each stretch's lowest then highest value."""
    if not binned:
        return steps, values
    return np.repeat(steps, 2), np.stack([lows, highs], axis=1).ravel()    # (2m,): low, high, low, high, ...


def _fit_range(lows: dict, highs: dict, smoothed: dict, refs: list[float]) -> tuple[float, float]:
    """Low and high y limits showing the data and every reference value, starting at 0 for losses >= 0.

    ``lows`` and ``highs``: each series' values (the same dict twice), or each
    binned point's lowest and highest value.
    """
    def finite(series):
        values = [v[np.isfinite(v)] for v in series.values()]
        return np.concatenate(values) if values else np.zeros(0)
    low, high = finite(lows), finite(highs)
    parts = list(refs)
    if low.size:
        if smoothed:   # a rare spike should not squash the whole plot: use the 1st-99th percentiles
            parts += [np.percentile(low, 1), np.percentile(high, 99)]
            for v in smoothed.values():
                parts += [np.nanmin(v), np.nanmax(v)] if np.isfinite(v).any() else []
        else:
            parts += [low.min(), high.max()]
    lo, hi = min(parts), max(parts)
    if lo >= 0:
        lo = 0.0
    return lo, hi + 0.04 * (hi - lo)


def _faint(colour) -> tuple[int, int, int]:
    """``colour`` mixed 30/70 with white, for the raw line under a smoothed one."""
    return tuple(int(round(255 - 0.3 * (255 - c))) for c in colour)


def _legend(draw, entries, right_x: float, baseline_y: float, font) -> None:
    """Line samples and labels in a row ending at ``right_x``; dashed samples for reference lines."""
    sample, pad, gap = 26, 6, 18
    widths = [sample + pad + text_size(draw, label, font)[0] for label, _, _ in entries]
    x = right_x - sum(widths) - gap * (len(entries) - 1)
    for (label, colour, dashed), w in zip(entries, widths):
        _, top, _, bottom = put_text(draw, (x + sample + pad, baseline_y), label, font, BLACK, va="bottom")
        y = (top + bottom) / 2
        if dashed:
            for dx in range(0, sample, 9):
                draw.line([(x + dx, y), (x + min(dx + 5, sample), y)], fill=colour, width=2)
        else:
            draw.line([(x, y), (x + sample, y)], fill=colour, width=3)
        x += w + gap


def _vertical_text(image: Image.Image, text: str, font, centre) -> None:
    """Draw ``text`` rotated 90 degrees (reading bottom to top) centred at ``centre``."""
    probe = ImageDraw.Draw(image)
    w, h = text_size(probe, text, font)
    strip = Image.new("L", (w + 4, h + 8), 0)
    put_text(ImageDraw.Draw(strip), (2, 4), text, font, 255)
    strip = strip.rotate(90, expand=True)
    ink = Image.new("RGB", strip.size, BLACK)
    image.paste(ink, (int(centre[0] - strip.width / 2), int(centre[1] - strip.height / 2)), mask=strip)


def _spread(rows: list[float], min_gap: float, lo: float, hi: float) -> list[float]:
    """Move label rows apart so no two are closer than ``min_gap``, keeping them within [lo, hi]."""
    order = sorted(range(len(rows)), key=lambda i: rows[i])
    placed = [min(max(rows[i], lo), hi) for i in order]
    for j in range(1, len(placed)):                      # push down past the one above
        placed[j] = max(placed[j], placed[j - 1] + min_gap)
    overflow = placed[-1] - hi if placed else 0.0
    if overflow > 0:                                     # then shift the block back up if it fell out
        placed = [p - overflow for p in placed]
    out = [0.0] * len(rows)
    for i, p in zip(order, placed):
        out[i] = p
    return out
