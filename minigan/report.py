"""The run report: one self-contained HTML page that shows what happened in a training run.

    write_report("runs/fashion")          # -> runs/fashion/index.html; or: minigan report runs/fashion

``minigan train`` writes it at every sample point and at the end. The page
reads only the files in the run folder (see :mod:`minigan.run` for the list)
and shows, each beside a short note on what to look for:

    samples over time   the fixed-noise grids (samples/step_*.png), a handful spread over the run
    training curves     curves.png: Loss_D, Loss_G, D(x), D(G(z)), with recent averages
    metrics             metrics.png and eval.csv: Frechet distance, classifier score, class mix
    gradient flow       gradflow.csv: per layer, activations and gradient sizes, first vs latest
    interpolation       interpolation.png: walks through latent space
    config              config.json, with each setting's meaning

Self-contained means one file and nothing else: every picture is embedded as
a ``data:image/png;base64,...`` URI, the styles are inline, the bar charts
are HTML and inline SVG, and there is no script, web font or link to
anywhere. It opens from disk in any browser, offline, and can be mailed as
it is. It is written atomically (:mod:`minigan.fileio`), so a browser
reloading it mid-run never sees half a page.
"""
from __future__ import annotations

import base64
import datetime
import html
import json
import math
from pathlib import Path

import numpy as np

from . import gradflow
from .evaluation import DATASETS, NUM_CLASSES
from .fileio import write_text_atomic
from .logs import read_metrics

MAX_GRIDS = 8                    # sample grids shown in "samples over time"
RECENT = 0.1                     # "recent averages": the last tenth of the logged steps


def write_report(run_dir, path=None) -> Path:
    """Write the report of the run in ``run_dir`` to ``path`` (default ``run_dir/index.html``); returns it."""
    run_dir = Path(run_dir)
    path = run_dir / "index.html" if path is None else Path(path)
    write_text_atomic(path, render_report(run_dir))
    return path


def render_report(run_dir) -> str:
    """The report's HTML, from whatever files ``run_dir`` holds so far."""
    run = Run(Path(run_dir))
    title = f"{run.config.get('arch', 'GAN')} on {run.dataset_title}"
    sections = [overview(run), samples_section(run), curves_section(run), metrics_section(run),
                gradflow_section(run), interpolation_section(run), config_section(run)]
    return PAGE.format(title=esc(title), style=STYLE, body="\n".join(s for s in sections if s))


class Run:
    """What the run folder holds, read once; anything missing is empty (a run in its first steps)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.config = _read_json(folder / "config.json")
        self.last_step = _read_json(folder / "run.json").get("last_step")   # where the run will stop
        self.history = _read_csv(folder / "metrics.csv")
        self.evals = _read_csv(folder / "eval.csv")
        self.flows = _read_gradflow(folder / "gradflow.csv")
        self.grids = sorted((folder / "samples").glob("step_*.png"))
        dataset = self.config.get("dataset", "")
        self.dataset_title = DATASETS[dataset].title if dataset in DATASETS else (dataset or "?")
        self.classes = DATASETS[dataset].classes if dataset in DATASETS else tuple(map(str, range(NUM_CLASSES)))
        self.step = int(self.history["step"][-1]) if self.history.get("step") else 0


# ------------------------------------------------------------------------------------ sections
def overview(run: Run) -> str:
    cfg, h = run.config, run.history
    planned = run.last_step
    cards = [("step", f"{run.step:,}" + (f" <small>of {planned:,}</small>" if planned else ""))]
    if run.step:
        cards += [("Loss_D / Loss_G", f"{h['loss_d'][-1]:.3f} / {h['loss_g'][-1]:.3f}"),
                  ("D(x) / D(G(z))", f"{h['d_x'][-1]:.3f} / {h['d_g_z'][-1]:.3f}")]
    if run.evals.get("step"):
        e = {k: v[-1] for k, v in run.evals.items()}
        cards += [("Frechet distance", f"{e['frechet_distance']:.2f}"),
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


def samples_section(run: Run) -> str:
    if not run.grids:
        return section("samples", "Samples over time", "<p class=\"note\">No sample grid yet: the first one is "
                       "saved at step <code>--sample-every</code>.</p>")
    picks = sorted({int(round(i)) for i in np.linspace(0, len(run.grids) - 1, min(MAX_GRIDS, len(run.grids)))})
    strip = "".join(f'<figure>{img(run.grids[i], f"samples at {_step_of(run.grids[i])}")}'
                    f'<figcaption>step {_step_of(run.grids[i]):,}</figcaption></figure>' for i in picks)
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
                  f'<figcaption>step {_step_of(latest):,} (latest)</figcaption></figure>')
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
        n = max(1, int(len(h["step"]) * RECENT))
        means = {k: float(np.nanmean(h[k][-n:])) for k in ("loss_d", "loss_g", "d_x", "d_g_z")}
        rows = [("Loss_D", means["loss_d"], "1.386 (2 ln 2)"), ("Loss_G", means["loss_g"], "0.693 (ln 2)"),
                ("D(x)", means["d_x"], "0.5"), ("D(G(z))", means["d_g_z"], "0.5")]
        recent = (f'<table class="small"><tr><th>mean of the last {n:,} steps</th><th>this run</th>'
                  f'<th>at equilibrium</th></tr>'
                  + "".join(f"<tr><td>{k}</td><td>{v:.3f}</td><td>{eq}</td></tr>" for k, v, eq in rows)
                  + f"</table><p>{reading(means['d_x'], means['d_g_z'])}</p>")
    note = f"""<p><b>Top, the losses.</b> The dashed lines are their values at the game's equilibrium, where
D cannot tell real from fake and outputs 1/2 for everything: Loss_D = 2 ln 2 ≈ 1.386, Loss_G = ln 2 ≈ 0.693.
A healthy run is noisy but stays in their neighbourhood.</p>
<p><b>Bottom, D's outputs</b>: D(x) on real pictures, D(G(z)) on fakes. <b>D winning</b>: D(x) → 1 and
D(G(z)) → 0 for long stretches, Loss_D → 0 while Loss_G climbs; then G's gradient vanishes (see gradient flow).
<b>Balance</b>: both oscillate around 0.5. Both stuck at 0.5 from the first step would mean D is not learning.</p>
<p>With many steps, each curve is a moving average drawn over the faint raw values.</p>"""
    return section("curves", "Training curves", f'<div class="wide">{img(path, "training curves")}</div>'
                   f'<div class="cols"><div class="explain">{note}</div><div>{recent}</div></div>')


def reading(d_x: float, d_g_z: float) -> str:
    """A rough reading of D's recent mean outputs on real and fake pictures, in one sentence."""
    gap = d_x - d_g_z
    if gap > 0.9:
        verdict = ("<b>D is winning decisively</b>: it tells real from fake almost perfectly, so G's gradient "
                   "is weak; check the gradient flow, and consider --label-smoothing 0.1")
    elif gap > 0.3:
        verdict = ("<b>D is ahead</b>, as is usual for a DCGAN: it tells them apart most of the time, yet "
                   "D(G(z)) stays far enough from 0 for G to get a useful gradient")
    elif gap > -0.1:
        verdict = "<b>Close to balance</b>: D can hardly tell real from fake at the moment"
    else:
        verdict = "<b>D is confused</b>: it rates the fakes as more real than the real pictures"
    return f"Reading this run: D(x) − D(G(z)) = {gap:.2f}. {verdict}."


def metrics_section(run: Run) -> str:
    e = run.evals
    if not e.get("step"):
        how = ("train with <code>--eval-every N</code>, or measure a checkpoint afterwards with "
               f"<code>minigan evaluate --checkpoint {esc(str(run.folder))}</code>")
        if run.config.get("dataset") not in DATASETS:
            how = "evaluation needs MNIST or Fashion-MNIST, whose labels train the judging classifier"
        return section("metrics", "Metrics", f'<p class="note">This run was not evaluated: {how}.</p>')
    n = int(e["n"][-1])
    plot = img(run.folder / "metrics.png", "metric curves") if (run.folder / "metrics.png").is_file() else ""
    note = f"""<p>A small CNN classifier trained on {esc(run.dataset_title)} judges {n:,} samples of G
at each evaluation (always the same z), against the real test images.</p>
<ul>
<li><b>Frechet distance</b> (FD): the distance between Gaussians fitted to the classifier's features of real and
generated pictures, the recipe of FID. It should fall and level off; a rise means the samples got worse.
It depends on the number of samples, so compare runs at the same number.</li>
<li><b>Classifier score</b>: high when each sample is clearly one class and all classes are used
(the Inception Score's recipe); the dashed line is the real pictures' own score.</li>
<li><b>Classes present</b>: classes that get at least a quarter of their real share of the samples.
Fewer than {NUM_CLASSES} is <b>mode collapse</b>, often visible here before it is in the grids.</li>
</ul>"""
    rows = list(zip(*(e[k] for k in ("step", "frechet_distance", "classifier_score", "classes_present", "class_kl"))))
    shown = rows[-12:]
    table = ('<table class="small"><tr><th>step</th><th>FD</th><th>classifier score</th><th>classes present</th>'
             '<th>class KL</th></tr>'
             + "".join(f"<tr><td>{int(s):,}</td><td>{fd:.2f}</td><td>{cs:.2f}</td><td>{int(cp)} / {NUM_CLASSES}</td>"
                       f"<td>{kl:.3f}</td></tr>" for s, fd, cs, cp, kl in shown) + "</table>")
    if len(rows) > len(shown):
        table += f'<p class="note">The last {len(shown)} of {len(rows)} evaluations; all are in eval.csv.</p>'
    shares = [e[f"class_{k}"][-1] for k in range(NUM_CLASSES)]
    mix = class_mix_chart(shares, run.classes, int(e["step"][-1]))
    return section("metrics", "Metrics", f'<div class="wide">{plot}</div>'
                   f'<div class="cols"><div class="explain">{note}</div><div>{table}</div></div>{mix}')


def class_mix_chart(shares, classes, step) -> str:
    """Horizontal bars: the share of the samples in each class, with the even share and the 'present' cut-off."""
    even, cut = 1 / len(shares), 0.25 / len(shares)
    top = max(max(shares), 2 * even) * 1.05
    pct = lambda v: f"{100 * v / top:.2f}%"  # noqa: E731  (a position along the bar's track)
    rows = []
    for name, s in zip(classes, shares):
        cls = "bar low" if s < cut else "bar"
        rows.append(f'<div class="mixrow"><span class="name">{esc(name)}</span><span class="track">'
                    f'<span class="{cls}" style="width:{pct(s)}"></span>'
                    f'<span class="tick even" style="left:{pct(even)}"></span>'
                    f'<span class="tick cut" style="left:{pct(cut)}"></span></span>'
                    f'<span class="val">{s:.1%}</span></div>')
    return f"""<div class="fig"><div class="mix"><h3>Class mix at step {step:,}</h3>{''.join(rows)}
<p class="legend"><span><span class="swatch even"></span>even share ({even:.0%}; the test sets are balanced)</span>
<span><span class="swatch cut"></span>"present" cut-off (about {cut:.1%})</span>
<span><span class="swatch low"></span>below it: missing</span></p></div>
<div class="explain"><p>The classifier's verdict on each sample of the latest evaluation. A good generator
spreads its samples like the real data, about {even:.0%} per class. One or two long bars and many short ones
is mode collapse; a class that is always short may be one G finds hard to draw (or the classifier
does).</p></div></div>"""


def gradflow_section(run: Run) -> str:
    if not run.flows:
        return section("gradflow", "Gradient flow", '<p class="note">No gradient-flow statistics were recorded '
                       "(<code>--grad-flow-every 0</code>, or none recorded yet).</p>")
    steps = sorted({r["step"] for r in run.flows})
    first, last = steps[0], steps[-1]
    values = [r[k] for r in run.flows for k in ("grad_in", "grad_param") if _positive(r[k])]
    lo, hi = (math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))) if values else (-6, 0)
    hi = max(hi, lo + 1)
    tables = "".join(gradflow_table(run.flows, net, first, last, lo, hi) for net in ("G", "D"))
    compare = f"step {first:,} (light) and step {last:,} (dark)" if first != last else f"step {last:,}"
    note = f"""<p>Per layer, at {compare}, from the {len(steps)} recorded steps in gradflow.csv:
the mean and spread of the layer's output, and the mean size of two gradients on a log scale
(10<sup>{lo}</sup> to 10<sup>{hi}</sup>): <b>|dL/d input|</b>, what the layer passes back to the layer
below, and <b>|dL/d weights|</b>, the gradient its weights were updated with. The little curve is
|dL/d input| over all recorded steps (log scale, at least one factor of 10 high; hover over it for the
numbers).</p>
<p><b>Which loss each number belongs to.</b> Every number in G's table comes from G's update (Loss_G).
D's table mixes two: its <b>|dL/d weights|</b> is the gradient of <b>Loss_D</b>, D's own update, while its
activations and <b>|dL/d input|</b> come from <b>G's update</b> -- D judging the fake batch and passing
dLoss_G/dx back towards G.</p>
<ul>
<li>Read each table <b>from the bottom up</b>: that is the way the gradient flows. G's signal starts at the
bottom of D's table (the loss), runs up D to its layer 0, the gradient with respect to the fake picture, and
enters G at its last layer.</li>
<li><b>Vanishing gradients</b>: bars shrinking by orders of magnitude towards the first layers, or D's layer-0
gradient collapsing over time while D(x) → 1 and D(G(z)) → 0: D has won and G learns nothing.</li>
<li><b>Dead units</b>: an output spread (std) of 0 after a ReLU. BatchNorm layers should show
mean ≈ 0, std ≈ 1.</li>
<li>G's layer 0 has no |dL/d input|: z is drawn, not learned, so that gradient is never computed.</li>
</ul>"""
    return section("gradflow", "Gradient flow", f'<div class="explain prose">{note}</div>{tables}')


def gradflow_table(rows, net, first, last, lo, hi) -> str:
    """One network's layers: output mean/std, log-scale bars of |dL/d input| and |dL/d weights|, a sparkline."""
    mine = [r for r in rows if r["net"] == net]
    layers = list(dict.fromkeys(r["layer"] for r in mine))            # in order, once each
    at = {(r["step"], r["layer"]): r for r in mine}
    name = {"G": "Generator G (z at layer 0, picture out at the last layer)",
            "D": "Discriminator D (picture in at layer 0, probability out at the last layer)"}[net]
    body = []
    for layer in layers:
        a, b = at.get((first, layer)), at.get((last, layer), {})
        series = [(s, at[(s, layer)]["grad_in"]) for s in sorted({r["step"] for r in mine}) if (s, layer) in at]
        body.append(f"<tr><td class=\"layer\">{esc(layer)}</td><td>{_num(b.get('act_mean'))}</td>"
                    f"<td>{_num(b.get('act_std'))}</td>"
                    f"<td>{log_bars(a and a['grad_in'], b.get('grad_in'), lo, hi, first != last)}</td>"
                    f"<td>{log_bars(a and a['grad_param'], b.get('grad_param'), lo, hi, first != last)}</td>"
                    f"<td>{sparkline(series)}</td></tr>")
    scale = f"<small>log scale, 10<sup>{lo}</sup> … 10<sup>{hi}</sup></small>"
    return (f'<h3>{esc(name)}</h3><table class="flow"><tr><th>layer</th><th>output mean</th><th>output std</th>'
            f'<th>|dL/d input| {scale}</th><th>|dL/d weights| {scale}</th><th>|dL/d input| over time</th></tr>'
            f'{"".join(body)}</table>')


def log_bars(first, last, lo, hi, both: bool) -> str:
    """Two stacked bars (first step light, latest dark) whose lengths are log10 of the values, and the latest value."""
    def bar(v, cls):
        if not _positive(v):
            return f'<span class="lbar {cls}" style="width:0"></span>'
        width = 100 * (math.log10(v) - lo) / (hi - lo)
        return f'<span class="lbar {cls}" style="width:{max(width, 1):.1f}%"></span>'
    if not _positive(last):
        return '<span class="na">—</span>'
    bars = (bar(first, "first") if both else "") + bar(last, "last")
    return f'<div class="lbars">{bars}</div><span class="lval">{last:.2e}</span>'


def sparkline(points, width=120, height=26) -> str:
    """An inline SVG line of log10(value) against step, for ``points = [(step, value)]``.

    The height spans the values' own range but at least one decade (10x), so noise stays a wiggle
    and only a real rise or collapse fills the box.
    """
    points = [(s, v) for s, v in points if _positive(v)]
    if len(points) < 2:
        return '<span class="na">—</span>'
    v = np.array([v for _, v in points], dtype=np.float64)
    tip = f"step {points[0][0]:,}: {v[0]:.2e} … step {points[-1][0]:,}: {v[-1]:.2e} (log scale)"
    y = np.log10(v)
    span = max(y.max() - y.min(), 1.0)
    bottom = (y.max() + y.min()) / 2 - span / 2
    xs = np.linspace(2, width - 2, v.size)
    ys = (height - 3) - (y - bottom) / span * (height - 6)
    points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs, ys))
    return (f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">'
            f'<title>{tip}</title><polyline points="{points}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>'
            f'<circle cx="{xs[-1]:.1f}" cy="{ys[-1]:.1f}" r="2.5" fill="#1f77b4"/></svg>')


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


def config_section(run: Run) -> str:
    from .run import TrainConfig                     # noqa: PLC0415  (run imports this module)
    helps = {f.name: f.metadata.get("help", "") for f in TrainConfig.__dataclass_fields__.values()}
    rows = "".join(f"<tr><td><code>--{esc(k.replace('_', '-'))}</code></td><td><code>{esc(json.dumps(v))}</code>"
                   f"</td><td>{esc(helps.get(k, '').split(';')[0])}</td></tr>" for k, v in run.config.items())
    files = sorted(p.name + ("/" if p.is_dir() else "") for p in run.folder.iterdir() if not p.name.startswith("."))
    return section("config", "Config", f"""<p>The settings of this run (config.json). Rerun it with
<code>minigan train</code> and these flags, or continue it with <code>minigan train --out {esc(str(run.folder))}
--resume</code>.</p><table class="config"><tr><th>flag</th><th>value</th><th>meaning</th></tr>{rows}</table>
<p class="note">In the run folder: {esc(", ".join(files))}.</p>""")


# ------------------------------------------------------------------------------------ helpers
def section(anchor, title, body) -> str:
    return f'<section id="{anchor}"><h2>{esc(title)}</h2>\n{body}\n</section>'


def img(path: Path, alt: str) -> str:
    """An <img> whose picture is inside the page: a base64 data URI of the PNG's bytes."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{esc(alt)}">'


def esc(text) -> str:
    return html.escape(str(text), quote=True)


def _num(v) -> str:
    return f"{v:.3f}" if v is not None and math.isfinite(v) else '<span class="na">—</span>'


def _positive(v) -> bool:
    return v is not None and math.isfinite(v) and v > 0


def _step_of(path: Path) -> int:
    return int(path.stem.split("_")[1])


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _read_csv(path: Path) -> dict:
    try:
        return read_metrics(path)
    except (OSError, ValueError):
        return {}


def _read_gradflow(path: Path) -> list[dict]:
    try:
        return gradflow.read_log(path)
    except (OSError, ValueError):
        return []


STYLE = """
:root { --ink:#1d232b; --muted:#5b6673; --line:#e3e7ec; --accent:#1f77b4; --light:#a9cbe6; --bg:#f6f8fa; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 20px 24px 48px; }
header h1 { margin: 4px 0 2px; font-size: 28px; }
.sub { color: var(--muted); margin: 0 0 14px; }
code { font: 13px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; background:#eef1f4;
  padding: 1px 4px; border-radius: 3px; }
.cards { display:flex; flex-wrap:wrap; gap:12px; margin: 8px 0 14px; }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:10px 16px; min-width:150px; }
.card .k { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.card .v { font-size:22px; font-weight:600; }
.card small { font-size:13px; color:var(--muted); font-weight:400; }
nav a { color:var(--accent); text-decoration:none; }
section { background:#fff; border:1px solid var(--line); border-radius:10px; padding:18px 22px; margin:18px 0; }
h2 { margin:0 0 12px; font-size:21px; }
h3 { margin:18px 0 8px; font-size:16px; }
.fig { display:grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap:24px; align-items:start;
  margin-bottom:8px; }
.fig img { width:100%; height:auto; border:1px solid var(--line); border-radius:4px; }
figure { margin:0; }
figure.big img { image-rendering: pixelated; }
figcaption { color:var(--muted); font-size:13px; text-align:center; }
.explain p, .explain ul { margin: 0 0 10px; }
.explain li { margin-bottom: 4px; }
.explain.prose { max-width: 900px; }
.wide { max-width: 1002px; margin: 0 auto 12px; }
.wide img { width:100%; height:auto; border:1px solid var(--line); border-radius:4px; }
.cols { display:grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap:28px; align-items:start;
  margin-bottom:8px; }
th small { font-weight:400; color:var(--muted); }
.strip { display:grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap:12px; margin-top:14px; }
.strip img { width:100%; height:auto; border:1px solid var(--line); border-radius:3px; }
.note { color:var(--muted); }
table { border-collapse:collapse; }
table.small { margin-top:8px; font-size:14px; }
table.small td, table.small th { padding:3px 10px; border-bottom:1px solid var(--line); text-align:right; }
table.small td:first-child, table.small th:first-child { text-align:left; }
table.config { width:100%; font-size:14px; }
table.config td:nth-child(-n+2) { white-space:nowrap; }
table.config td, table.config th { padding:4px 10px; border-bottom:1px solid var(--line); text-align:left;
  vertical-align:top; }
th { color:var(--muted); font-weight:600; }
table.flow { width:100%; font-size:13.5px; }
table.flow td, table.flow th { padding:3px 8px; border-bottom:1px solid var(--line); text-align:left;
  vertical-align:middle; }
table.flow td.layer { font-family: ui-monospace, Menlo, Consolas, monospace; white-space:nowrap; }
.lbars { display:inline-block; width:150px; vertical-align:middle; background:#f1f3f5; border-radius:2px; }
.lbar { display:block; height:6px; margin:1px 0; border-radius:2px; }
.lbar.first { background:var(--light); } .lbar.last { background:var(--accent); }
.lval { font-family: ui-monospace, Menlo, Consolas, monospace; font-size:12px; margin-left:8px; color:var(--muted); }
.na { color:#b0b8c1; }
.mix .mixrow { display:flex; align-items:center; gap:10px; margin:3px 0; }
.mix .name { width:110px; text-align:right; font-size:14px; }
.mix .val { width:52px; font-size:13px; color:var(--muted); }
.track { position:relative; flex:1; height:16px; background:#f1f3f5; border-radius:3px; }
.bar { position:absolute; left:0; top:0; bottom:0; background:var(--accent); border-radius:3px; }
.bar.low { background:#d62728; }
.tick { position:absolute; top:-2px; bottom:-2px; width:0; border-left:2px dashed #6e6e6e; }
.tick.cut { border-left:2px dotted #d62728; }
.legend { font-size:13px; color:var(--muted); display:flex; flex-wrap:wrap; gap:4px 18px; }
.swatch { display:inline-block; width:14px; height:10px; margin-right:6px; vertical-align:middle; }
.swatch.even { border-left:2px dashed #6e6e6e; } .swatch.cut { border-left:2px dotted #d62728; }
.swatch.low { background:#d62728; }
@media (max-width: 800px) {
  .fig, .cols { grid-template-columns: 1fr; } .strip { grid-template-columns: repeat(2, 1fr); } }
"""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>minigan: {title}</title>
<style>{style}</style>
</head>
<body>
<main>
{body}
<footer class="note">minigan run report: one self-contained file, every picture inside it.</footer>
</main>
</body>
</html>
"""
