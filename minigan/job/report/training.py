"""The report's sections on training itself: the overview, the samples over time, the curves, the walks.

Each section is a function of the :class:`~minigan.job.report.run_files.Run`
that returns its HTML, with a short note on what to look for beside the
picture. The readings agree with docs/how-gans-work.md.
"""
from __future__ import annotations

import datetime

import numpy as np

from ..judge import NUM_CLASSES
from .html import esc, img, section
from .run_files import RECENT_STEPS, Run, step_of

MAX_GRIDS = 8                    # sample grids shown in "samples over time", at most
EARLY_STEPS = 300                # D needs a few hundred steps to tell real from fake (docs/how-gans-work.md)


def overview(run: Run) -> str:
    cfg, h = run.config, run.history
    planned = run.last_step
    cards = [("step", f"{run.step:,}" + (f" <small>of {planned:,}</small>" if planned else ""))]
    if run.step:
        cards += [("Loss_D / Loss_G", f"{h['loss_d'][-1]:.3f} / {h['loss_g'][-1]:.3f}"),
                  ("D(x) / D(G(z))", f"{h['d_x'][-1]:.3f} / {h['d_g_z'][-1]:.3f}")]
    if run.evals.get("step") and "modes" in run.evals:             # a ring, grid or Stacked MNIST run
        e = {k: v[-1] for k, v in run.evals.items()}
        cards += [("modes", f"{int(e['modes'])} <small>at step {int(e['step']):,}</small>")]
        cards += [("high quality / reverse KL", f"{e['high_quality']:.1f}% / {e['reverse_kl']:.3f}")
                  if "high_quality" in e else ("KL", f"{e['kl']:.3f}")]
    elif run.evals.get("step"):
        e = {k: v[-1] for k, v in run.evals.items()}
        cards += [("Frechet distance", f"{e['frechet_distance']:.2f} <small>at step {int(e['step']):,}</small>"),
                  ("classes present", f"{int(e['classes_present'])} / {NUM_CLASSES}")]
    cards_html = "".join(f'<div class="card"><div class="k">{esc(k)}</div><div class="v">{v}</div></div>'
                         for k, v in cards)
    nav = " · ".join(f'<a href="#{a}">{t}</a>' for a, t in (
        ("samples", "samples"), ("curves", "training curves"), ("metrics", "metrics"),
        ("gradflow", "gradient flow"), ("interpolation", "interpolation"), ("config", "config")))
    written = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    return f"""<header>
<h1>{esc(cfg.get('arch', 'GAN'))} on {esc(run.dataset_title)}</h1>
<p class="sub">run folder <code>{esc(str(run.folder))}</code> · report written {written} at step {run.step:,}.
Written by <code>minigan train</code> at every sample point; rebuild with
<code>minigan report {esc(str(run.folder))}</code>.</p>
<div class="cards">{cards_html}</div>
<nav>{nav}</nav>
</header>"""


def spread_picks(n: int, most: int = MAX_GRIDS) -> list[int]:
    """Which of ``n`` grids the strip shows: every ``stride``-th one and the last, at most ``most``.

    ``stride`` is the smallest power of 2 that fits, so the picks stay the same
    from one sample point to the next (only the last changes, and, rarely, the
    stride doubles): the report re-encodes one new grid, not a new handful.
    """
    stride = 1
    while -(-(n - 1) // stride) + 1 > most:                  # ceil((n - 1) / stride) picks, plus the last
        stride *= 2
    return sorted(set(range(0, n - 1, stride)) | {n - 1})


def samples_section(run: Run) -> str:
    if not run.grids:
        return section("samples", "Samples over time", "<p class=\"note\">No sample grid yet: the first one is "
                       "saved at step <code>--sample-every</code>.</p>")
    strip = "".join(f'<figure>{img(run.grids[i], f"samples at {step_of(run.grids[i])}")}'
                    f'<figcaption>step {step_of(run.grids[i]):,}</figcaption></figure>'
                    for i in spread_picks(len(run.grids)))
    latest = run.grids[-1]
    ema = " (its EMA copy, as <code>--ema</code> was on)" if run.config.get("ema") else ""
    note = f"""<p>Every grid is the <b>same 64 noise vectors z</b> through G{ema}, so each tile follows one
"individual" through training: blobs first, then outlines, then detail.</p>
<ul>
<li><b>Getting better</b>: tiles sharpen and look like {esc(run.dataset_title)} pictures.</li>
<li><b>Variety</b>: the 64 tiles should differ from each other. Many near-identical tiles are
<b>mode collapse</b>: G found a few pictures that fool D and makes only those.</li>
<li><b>Flicker</b>: tiles changing wholesale between grids late in training mean G and D are still
chasing each other rather than settling.</li>
</ul>
<p>The animation of every grid is <code>training.gif</code> in the run folder.</p>"""
    latest_fig = (f'<figure class="big">{img(latest, "latest samples")}'
                  f'<figcaption>step {step_of(latest):,} (latest)</figcaption></figure>')
    return section("samples", "Samples over time",
                   f'<div class="fig">{latest_fig}<div class="explain">{note}</div></div>'
                   f'<div class="strip">{strip}</div>')


def curves_section(run: Run) -> str:
    path = run.folder / "curves.png"
    if not path.is_file():
        return section("curves", "Training curves",
                       '<p class="note">No curves yet (drawn at the first sample point).</p>')
    h, recent = run.history, ""
    if h.get("step"):
        n = len(h["step"])                   # the last RECENT_STEPS rows of metrics.csv, or all of a shorter run
        means = {k: float(np.nanmean(h[k])) for k in ("loss_d", "loss_g", "d_x", "d_g_z")}
        rows = [("Loss_D", means["loss_d"], "1.386 (2 ln 2)"), ("Loss_G", means["loss_g"], "0.693 (ln 2)"),
                ("D(x)", means["d_x"], "0.5"), ("D(G(z))", means["d_g_z"], "0.5")]
        recent = (f'<table class="small"><tr><th>mean of the last {n:,} steps</th><th>this run</th>'
                  f'<th>at equilibrium</th></tr>'
                  + "".join(f"<tr><td>{k}</td><td>{v:.3f}</td><td>{eq}</td></tr>" for k, v, eq in rows)
                  + f"</table><p>{reading(means['d_x'], means['d_g_z'], run.step)}</p>")
    note = f"""<p><b>Top, the losses.</b> The dashed lines are their values at the game's equilibrium, where
D cannot tell real from fake and outputs 1/2 for everything: Loss_D = 2 ln 2 ≈ 1.386, Loss_G = ln 2 ≈ 0.693.
A healthy DCGAN does <b>not</b> sit on them: after its first few hundred steps it settles in a noisy band with
Loss_D below 2 ln 2 and Loss_G above ln 2, and stays there while the samples keep improving. The equilibrium is
the ideal end point, not where a network of finite size spends its training.</p>
<p><b>Bottom, D's outputs</b>: D(x) on real pictures, D(G(z)) on fakes. <b>Healthy</b>: D(x) above 0.5 and
D(G(z)) below it, each wandering in its band (about 0.7 and 0.3 on Fashion-MNIST). <b>D winning</b>:
D(x) → 1 and D(G(z)) → 0, Loss_D → 0 while Loss_G climbs steadily; then G's gradient weakens (see gradient
flow). Both stuck at 0.5 from the first step would mean D is not learning. The losses do not measure picture
quality: look at the samples.</p>
<p>With many steps, each curve is a moving average drawn over the faint raw values (their lowest and
highest in each stretch of steps, so a single spike still shows). The table beside: the mean of the most recent
{RECENT_STEPS:,} steps (all of them in a shorter run), and what the reading of D's outputs says.</p>"""
    return section("curves", "Training curves", f'<div class="wide">{img(path, "training curves")}</div>'
                   f'<div class="cols"><div class="explain">{note}</div><div>{recent}</div></div>')


def reading(d_x: float, d_g_z: float, steps: int) -> str:
    """A rough reading of D's recent mean outputs on real and fake pictures after ``steps`` steps, in a sentence.

    In the first few hundred steps D is still learning to tell real from fake
    (docs/how-gans-work.md), so any reading says more about the run's length
    than its health: the advice then is to train longer.
    """
    gap = d_x - d_g_z
    if steps < EARLY_STEPS:
        verdict = (f"<b>Too early to tell</b>: after {steps:,} steps D is still learning to tell real from fake "
                   f"(that takes a few hundred steps), so these numbers say little about the run's health. "
                   f"Train longer (say <code>--max-steps {max(1000, 2 * EARLY_STEPS):,}</code>) before "
                   "changing any setting")
    elif gap > 0.9:
        verdict = ("<b>D is winning decisively</b>: it tells real from fake almost perfectly, so G's gradient "
                   "is weak; check the gradient flow, and consider --label-smoothing 0.1")
    elif gap > 0.2:
        verdict = ("<b>D is ahead, as is usual for a healthy DCGAN</b>: D(x) above 0.5 and D(G(z)) below it, "
                   "yet D(G(z)) far enough from 0 for G to get a useful gradient")
    elif gap > -0.1:
        verdict = ("<b>Close to balance</b>: D can hardly tell real from fake at the moment; if it stays so "
                   "while the samples are still poor, D may not be learning")
    else:
        verdict = "<b>D is confused</b>: it rates the fakes as more real than the real pictures"
    return f"Reading this run: D(x) − D(G(z)) = {gap:.2f}. {verdict}."


def interpolation_section(run: Run) -> str:
    path = run.folder / "interpolation.png"
    if not path.is_file():
        return ""
    note = """<p>Each row walks from one noise vector z to another in 10 steps, along the great circle
between them (slerp), and shows G's picture at each point.</p>
<ul><li><b>Smooth morphing</b> from one picture to the other: G has learned a continuous map from z to
pictures, not a lookup table of memorised ones.</li>
<li><b>Sudden jumps</b> or a row that hardly changes: parts of z-space G ignores or folds together,
a mild form of mode collapse.</li></ul>"""
    return section("interpolation", "Latent-space interpolation",
                   f'<div class="fig">{img(path, "latent interpolation")}<div class="explain">{note}</div></div>')
