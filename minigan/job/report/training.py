"""The report's sections on training itself: the overview, the samples over time, the curves, the walks.

Each section is a function of the :class:`~minigan.job.report.run_files.Run`
that returns its HTML, with a short note on what to look for beside the
picture. The readings agree with docs/how-gans-work.md.
"""
from __future__ import annotations

import datetime

from ..game_views import WASSERSTEIN_GAMES, game_view
from .game_reading import curves_note, equilibrium_table, reading, recent_means
from .html import esc, img, section
from .run_files import RECENT_STEPS, Run, step_of

MAX_GRIDS = 8                    # sample grids shown in "samples over time", at most
N_SAMPLES, PER_ROW = 64, 8       # the job's fixed noise: an 8 x 8 grid; a conditional run's: 8 a row per class


def overview(run: Run) -> str:
    cfg, h = run.config, run.history
    planned = run.last_step
    cards = [("step", f"{run.step:,}" + (f" <small>of {planned:,}</small>" if planned else ""))]
    if run.step:
        cards += [("Loss_D / Loss_G", f"{h['loss_d'][-1]:.3f} / {h['loss_g'][-1]:.3f}"),
                  ("D(x) / D(G(z))", f"{h['d_x'][-1]:.3f} / {h['d_g_z'][-1]:.3f}")]
        if cfg.get("loss") in WASSERSTEIN_GAMES:     # the critic's estimate of the distance
            cards.append(("W = D(x) − D(G(z))", f"{h['d_x'][-1] - h['d_g_z'][-1]:.3f}"))
    if run.evals.get("step") and "modes" in run.evals:             # a ring, grid or Stacked MNIST run
        e = {k: v[-1] for k, v in run.evals.items()}
        cards += [("modes", f"{int(e['modes'])} <small>at step {int(e['step']):,}</small>")]
        cards += [("high quality / reverse KL", f"{e['high_quality']:.1f}% / {e['reverse_kl']:.3f}")
                  if "high_quality" in e else ("KL", f"{e['kl']:.3f}")]
    elif run.evals.get("step"):
        e = {k: v[-1] for k, v in run.evals.items()}
        cards += [("Frechet distance", f"{e['frechet_distance']:.2f} <small>at step {int(e['step']):,}</small>"),
                  ("classes present", f"{int(e['classes_present'])} / {len(run.classes)}")]
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
    classes = run.config.get("class_names") if run.config.get("conditional") else None
    if classes:                                # a row per class, each row the same PER_ROW z
        tiles = len(classes) * PER_ROW
        what = (f"<b>same {PER_ROW} noise vectors z</b> through G{ema} in each of its {len(classes)} rows, one row "
                f"per class ({tiles} tiles), so each column follows one \"individual\" through training, drawn "
                "as every class")
        variety = (f"the {PER_ROW} tiles of a row should differ from each other, and each row should show its "
                   "class. Near-identical tiles, or rows that look alike, are")
    else:
        what = (f"<b>same {N_SAMPLES} noise vectors z</b> through G{ema}, so each tile follows one \"individual\" "
                "through training")
        variety = f"the {N_SAMPLES} tiles should differ from each other. Many near-identical tiles are"
    note = f"""<p>Every grid is the {what}: blobs first, then outlines, then detail.</p>
<ul>
<li><b>Getting better</b>: tiles sharpen and look like {esc(run.dataset_title)} pictures.</li>
<li><b>Variety</b>: {variety}
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
        means = recent_means(h)
        recent = (equilibrium_table(game_view(run.config), means, n)
                  + f"<p>{reading(means, run.step, run.config, str(run.folder))}</p>")
    note = curves_note(run.config) + f"""<p>The losses do not measure picture quality: look at the samples.
With many steps, each curve is a moving average drawn over the faint raw values (their lowest and highest in each
stretch of steps, so a single spike still shows). The table beside: the mean of the most recent {RECENT_STEPS:,}
steps (all of them in a shorter run), and what the reading of D's outputs says.</p>"""
    return section("curves", "Training curves", f'<div class="wide">{img(path, "training curves")}</div>'
                   f'<div class="cols"><div class="explain">{note}</div><div>{recent}</div></div>')


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
