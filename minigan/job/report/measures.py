"""The report's sections on measurements: the judge's metrics and the class mix, and the gradient flow.

Each section is a function of the :class:`~minigan.job.report.run_files.Run`
that returns its HTML; the bar charts are HTML and the sparklines inline SVG,
so nothing but the page is needed to show them.
"""
from __future__ import annotations

import math
import shlex

import numpy as np

from ..collapse_eval import COLLAPSE_DATASETS
from ..judge import DATASETS
from .html import esc, img, num, positive, section
from .run_files import Run


def metrics_section(run: Run) -> str:
    e = run.evals
    if e.get("step") and "modes" in e:                                 # a ring, grid or Stacked MNIST run
        return collapse_section(run)
    if not e.get("step"):
        how = ("train with <code>--eval-every N</code>, or measure a checkpoint afterwards with "
               f"<code>minigan evaluate --checkpoint {esc(shlex.quote(str(run.folder)))}</code>, which adds its "
               "result to this run's eval.csv and so to this page")
        if run.config.get("dataset") not in (*DATASETS, *COLLAPSE_DATASETS):
            how = ("a folder is judged by <code>minigan evaluate</code> when it has a sub-folder per class, whose "
                   "labels train the judging classifier")
        return section("metrics", "Metrics", f'<p class="note">This run was not evaluated: {how}.</p>')
    n = int(e["n"][-1])
    sizes = sorted({int(v) for v in e["n"]})
    mixed = "" if len(sizes) == 1 else (f" (evaluations of {', '.join(f'{m:,}' for m in sizes)} samples: "
                                        "compare only rows of the same n)")
    plot = img(run.folder / "metrics.png", "metric curves") if (run.folder / "metrics.png").is_file() else ""
    judge = (f"trained on {esc(run.dataset_title)} judges {n:,} samples of G at each evaluation (always the same "
             "z), against the real test images" if run.config.get("dataset") in DATASETS else
             f"trained on 80% of the folder's pictures judges {n:,} samples of G at each evaluation (always the "
             "same z), against the held-out 20%")
    note = f"""<p>A small CNN classifier {judge}{mixed}.
Rows come from <code>--eval-every</code> during training and from <code>minigan evaluate</code> afterwards.</p>
<ul>
<li><b>Frechet distance</b> (FD): the distance between Gaussians fitted to the classifier's features of real and
generated pictures, the recipe of FID. It should fall and level off; a rise means the samples got worse.
It depends on the number of samples, so compare runs at the same number.</li>
<li><b>Classifier score</b>: high when each sample is clearly one class and all classes are used
(the Inception Score's recipe); the dashed line is the real pictures' own score.</li>
<li><b>Classes present</b>: classes that get at least a quarter of their real share of the samples.
Fewer than {len(run.classes)} is <b>mode collapse</b>, often visible here before it is in the grids.</li>
</ul>"""
    columns = ("step", "n", "frechet_distance", "classifier_score", "classes_present", "class_kl")
    rows = list(zip(*(e[k] for k in columns)))
    shown = rows[-12:]
    table = ('<table class="small"><tr><th>step</th><th>n</th><th>FD</th><th>classifier score</th>'
             '<th>classes present</th><th>class KL</th></tr>'
             + "".join(f"<tr><td>{int(s):,}</td><td>{int(m):,}</td><td>{fd:.2f}</td><td>{cs:.2f}</td>"
                       f"<td>{int(cp)} / {len(run.classes)}</td><td>{kl:.3f}</td></tr>"
                       for s, m, fd, cs, cp, kl in shown) + "</table>")
    if len(rows) > len(shown):
        table += f'<p class="note">The last {len(shown)} of {len(rows)} evaluations; all are in eval.csv.</p>'
    shares = [e[f"class_{k}"][-1] for k in range(len(run.classes))]
    mix = class_mix_chart(shares, run.classes, int(e["step"][-1]))
    return section("metrics", "Metrics", f'<div class="wide">{plot}</div>'
                   f'<div class="cols"><div class="explain">{note}</div><div>{table}</div></div>{mix}'
                   f'{conditional_table(e, run.classes)}')


def collapse_section(run: Run) -> str:
    """A ring, grid or Stacked MNIST run's evaluations: modes, % high quality and reverse KL (or KL)."""
    e = run.evals
    points = "high_quality" in e
    plot = img(run.folder / "metrics.png", "mode curves") if (run.folder / "metrics.png").is_file() else ""
    of = 1000 if not points else (8 if run.config.get("dataset") == "ring" else 25)
    note = (f"""<p>{int(e["n"][-1]):,} samples of G at each evaluation (always the same z), judged as PacGAN and
VEEGAN judge them (minigan/job/metrics/modes.py).</p><ul>""" + (
        "<li><b>Modes</b>: modes with at least one high-quality sample nearest to them.</li>"
        "<li><b>High quality</b>: samples within 3 standard deviations of their nearest mode (a perfect "
        "sampler: 98.9%).</li><li><b>Reverse KL</b>: how unevenly the high-quality samples spread over the "
        f"modes; 0 is even, ln {of} = {math.log(of):.2f} is one mode.</li>" if points else
        "<li><b>Modes</b>: digit triples present, each channel read by the MNIST classifier.</li>"
        "<li><b>KL</b>: KL(triples || uniform over 1,000), in nats; 0 is even.</li>") + "</ul>")
    columns = ("step", "n", "modes") + (("high_quality", "reverse_kl") if points else ("kl",))
    head = "".join(f"<th>{c.replace('_', ' ')}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{v:,.0f}</td>" if c in ("step", "n") else
                                    f"<td>{int(v)} / {of}</td>" if c == "modes" else f"<td>{v:.3f}</td>"
                                    for c, v in zip(columns, row)) + "</tr>"
                   for row in list(zip(*(e[c] for c in columns)))[-12:])
    histogram = mode_histogram(e, of) if points and "mode_0" in e else ""
    return section("metrics", "Mode collapse", f'<div class="wide">{plot}</div><div class="cols"><div class="explain">'
                   f'{note}</div><div><table class="small"><tr>{head}</tr>{body}</table></div></div>{histogram}')


def mode_histogram(e, of) -> str:
    """Horizontal bars: the high-quality samples nearest to each mode, at the latest evaluation."""
    counts = [e[f"mode_{k}"][-1] for k in range(of)]
    total = max(sum(counts), 1)
    top = max(max(counts), 2 * total / of, 1) * 1.05
    rows = "".join(f'<div class="mixrow"><span class="name">mode {k}</span><span class="track">'
                   f'<span class="{"bar low" if c == 0 else "bar"}" style="width:{100 * c / top:.2f}%"></span>'
                   f'<span class="tick even" style="left:{100 * total / of / top:.2f}%"></span></span>'
                   f'<span class="val">{int(c):,}</span></div>' for k, c in enumerate(counts))
    return f"""<div class="fig"><div class="mix"><h3>High-quality samples per mode at step {int(e["step"][-1]):,}</h3>
{rows}<p class="legend"><span><span class="swatch even"></span>an even share</span>
<span><span class="swatch low"></span>none: the mode is missed</span></p></div>
<div class="explain"><p>Each bar counts the high-quality samples nearest to one mode: the histogram whose
unevenness the reverse KL measures. A generator that collapsed puts all its samples on one or two modes;
one that hops from mode to mode shows a different tall bar at each evaluation.</p></div></div>"""


def conditional_table(e, classes) -> str:
    """A conditional run's latest evaluation: per class asked for, the share drawn as it and the FD within it."""
    if not e.get("conditional_accuracy"):
        return ""                                                    # an unconditional run's eval.csv
    rows = "".join(f"<tr><td>{esc(name)}</td><td>{e[f'accuracy_{k}'][-1]:.1%}</td>"
                   f"<td>{e[f'frechet_{k}'][-1]:.2f}</td></tr>" for k, name in enumerate(classes))
    return f"""<div class="cols"><div class="explain"><h3>Conditional: does G draw the class it is asked for?</h3>
<p>At step {int(e["step"][-1]):,}, G was asked for each class in turn. <b>Conditional accuracy</b>
{e["conditional_accuracy"][-1]:.1%}: the share of samples the classifier assigns to the class asked for
(chance is {1 / len(classes):.0%}; the classifier's own test accuracy is the ceiling).
<b>FD within the class</b>: the samples asked for a class against the real test pictures of that class
(mean {e["mean_class_frechet_distance"][-1]:.2f}); a class drawn as another one shows here even when the
overall FD looks good.</p></div>
<div><table class="small"><tr><th>class asked for</th><th>accuracy</th><th>FD within the class</th></tr>
{rows}</table></div></div>"""


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
    values = [r[k] for r in run.flows for k in ("grad_in", "grad_param") if positive(r[k])]
    lo, hi = (math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))) if values else (-6, 0)
    hi = max(hi, lo + 1)
    tables = "".join(gradflow_table(run.flows, net, first, last, lo, hi) for net in ("G", "D"))
    compare = f"step {first:,} (light) and step {last:,} (dark)" if first != last else f"step {last:,}"
    note = f"""<p>Per layer, at {compare}, from gradflow.csv:
the mean and spread of the layer's output, and the mean size of two gradients on a log scale
(10<sup>{lo}</sup> to 10<sup>{hi}</sup>): <b>|dL/d input|</b>, what the layer passes back to the layer
below, and <b>|dL/d weights|</b>, the gradient its weights were updated with. The little curve is
|dL/d input| over the run, at recorded steps spread over it (log scale, at least one factor of 10 high;
hover over it for the numbers).</p>
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
        body.append(f"<tr><td class=\"layer\">{esc(layer)}</td><td>{num(b.get('act_mean'))}</td>"
                    f"<td>{num(b.get('act_std'))}</td>"
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
        if not positive(v):
            return f'<span class="lbar {cls}" style="width:0"></span>'
        width = 100 * (math.log10(v) - lo) / (hi - lo)
        return f'<span class="lbar {cls}" style="width:{max(width, 1):.1f}%"></span>'
    if not positive(last):
        return '<span class="na">—</span>'
    bars = (bar(first, "first") if both else "") + bar(last, "last")
    return f'<div class="lbars">{bars}</div><span class="lval">{last:.2e}</span>'


def sparkline(points, width=120, height=26) -> str:
    """An inline SVG line of log10(value) against step, for ``points = [(step, value)]``.

    The height spans the values' own range but at least one decade (10x), so noise stays a wiggle
    and only a real rise or collapse fills the box.
    """
    points = [(s, v) for s, v in points if positive(v)]
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
