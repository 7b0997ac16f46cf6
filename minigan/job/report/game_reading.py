"""The report's reading of the curves, per game: what the panels show, the equilibrium table, a verdict, advice.

Each game's numbers mean something of their own (minigan/job/game_views.py):
bce's D(x) = 0.9 is a confident D, hinge's D(x) = 0.9 is a D short of its
margin, a WGAN critic's scores mean nothing alone, only their difference W.
So the note beside curves.png, the table of recent means against the
equilibrium, and the verdict are written for the run's game. The verdict's
advice, where it has any, is a command to paste: it continues this run
(``--resume``) with one flag changed, a flag the command line accepts for
this run's game (tests/job/report/test_game_reading.py parses each one).
"""
from __future__ import annotations

import shlex

import numpy as np

from ..game_views import GameView, PROBABILITY_GAMES, WASSERSTEIN_GAMES, game_view, with_derived
from .html import esc

EARLY_STEPS = 300                # D needs a few hundred steps to tell real from fake (docs/how-gans-work.md)

NOTES = {
    "probability": """<p><b>Top, the losses</b> (binary cross-entropy). The dashed lines are their values at the
game's equilibrium, where D cannot tell real from fake and outputs 1/2 for everything: Loss_D = 2 ln 2 ≈ 1.386,
Loss_G = {loss_g}. A healthy DCGAN does <b>not</b> sit on them: after its first few hundred steps it settles in a
noisy band with Loss_D below 2 ln 2 and Loss_G {g_side}, and stays there while the samples keep improving. The
equilibrium is the ideal end point, not where a network of finite size spends its training.</p>
<p><b>Bottom, D's outputs</b>, probabilities: D(x) on real pictures, D(G(z)) on fakes. <b>Healthy</b>: D(x) above
0.5 and D(G(z)) below it, each wandering in its band (about 0.7 and 0.3 on Fashion-MNIST). <b>D winning</b>:
D(x) → 1 and D(G(z)) → 0, Loss_D → 0 while Loss_G climbs steadily; then G's gradient weakens (see gradient
flow). Both stuck at 0.5 from the first step would mean D is not learning.</p>""",
    "lsgan": """<p><b>Top, the least-squares losses</b>: D regresses its score on reals to {r:g} and on fakes to 0,
G pulls the fakes' score to 1. At the equilibrium the best D scores {q:g} everywhere: Loss_D = {loss_d:g},
Loss_G = {loss_g:g} (the dashed lines). As with bce, a healthy run settles in a band with Loss_D below its line
and Loss_G above, not on the lines.</p>
<p><b>Bottom, D's raw scores</b> (no sigmoid: they may leave [0, 1]). <b>Healthy</b>: D(x) above {q:g} and D(G(z))
below it. <b>D winning</b>: the scores at their targets ({r:g} and 0) with Loss_D near 0; least squares still gives G
a gradient proportional to how far its score is from 1, so lsgan suffers less from it than bce.</p>""",
    "hinge": """<p><b>Top, the hinge losses</b>: Loss_D = mean relu(1 − s) on reals + mean relu(1 + s) on fakes,
Loss_G = −mean s on fakes. At the equilibrium D cannot separate the two and any score in [−1, 1] is as good as
another: Loss_D = 2 (the dashed line), and Loss_G has no value of its own. D winning drives Loss_D to 0.</p>
<p><b>Bottom, D's raw scores</b>, with its margins at +1 and −1. D stops learning from a real picture once it
scores it above +1, and from a fake below −1. <b>Healthy</b>: D(x) above D(G(z)), both mostly inside the margins.
<b>D winning</b>: D(x) beyond +1 and D(G(z)) beyond −1 for most pictures; G's gradient does not fade (its
loss is linear in s), but D has nothing left to learn from.</p>""",
    "wasserstein": """<p><b>Top, the losses.</b> The critic's loss is −W{penalty}, where W = mean D(x) − mean D(G(z))
is its estimate of the Wasserstein distance between the pictures and the data; G's loss, −mean D(G(z)), has no
level of its own (adding a constant to the critic changes it and nothing else). There is no 2 ln 2 here.</p>
<p><b>Middle, the critic's raw scores.</b> Only their difference means anything; both may drift together.</p>
<p><b>Below, the Wasserstein estimate W</b>, the one curve a WGAN user watches (Arjovsky et al. 2017): it
rises in the first steps while the critic learns, then <b>falls as G's pictures improve</b>, towards 0 (equal
distributions). W negative means the critic is not yet trained: it rates the fakes higher.{gp}</p>""",
}
GP_NOTE = """ <b>The gradient penalty</b> panel: λ mean(‖∇D(x̂)‖ − 1)² at points between reals and fakes, and the
mean ‖∇D(x̂)‖; <b>healthy</b>: the norm near 1 and the penalty small beside W."""
R1_NOTE = """<p><b>The R1 panel</b>: (γ/2) mean ‖∇D(x)‖² on the real pictures, and the mean norm. R1 keeps D flat
on the data; the norm shrinking towards 0 as training goes on is what it asks for.</p>"""


def curves_note(config: dict) -> str:
    """The paragraphs beside curves.png, for the run's game."""
    view, r = game_view(config), 1.0 - float(config.get("label_smoothing") or 0.0)
    if view.game in PROBABILITY_GAMES:
        loss_g = "ln 2 ≈ 0.693" if view.game == "bce" else "−ln 2 ≈ −0.693 (minimax: log(1 − D(G(z))))"
        text = NOTES["probability"].format(loss_g=loss_g, g_side="above ln 2" if view.game == "bce"
                                           else "below −ln 2")
    elif view.game == "lsgan":
        text = NOTES["lsgan"].format(r=r, q=r / 2, loss_d=r * r / 4, loss_g=(1 - r / 2) ** 2 / 2)
    elif view.game == "hinge":
        text = NOTES["hinge"]
    else:
        gp = view.game == "wgan-gp"
        text = NOTES["wasserstein"].format(penalty=" + the gradient penalty" if gp else "",
                                           gp=GP_NOTE if gp else "")
    return text + (R1_NOTE if float(config.get("r1") or 0) > 0 else "")


def recent_means(history: dict) -> dict:
    """The mean of each column of ``history`` (NaN where a column has no number), derived columns too."""
    means = {}
    for key, values in with_derived(history).items():
        v = np.asarray(values, dtype=np.float64)
        means[key] = float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")
    return means


def equilibrium_table(view: GameView, means: dict, n: int) -> str:
    """The recent means beside their values at the game's equilibrium (or "none")."""
    def number(v):
        return f"{v:.3f}" if v is not None and np.isfinite(v) else "—"
    rows = "".join(f"<tr><td>{esc(label)}</td><td>{number(means.get(key))}</td>"
                   f"<td>{'none' if eq is None else f'{eq:.3g}'}{f' <small>({esc(why)})</small>' if why else ''}"
                   f"</td></tr>" for label, key, eq, why in view.equilibrium)
    return (f'<table class="small"><tr><th>mean of the last {n:,} steps</th><th>this run</th>'
            f'<th>at equilibrium</th></tr>{rows}</table>')


def reading(means: dict, steps: int, config: dict | None = None, folder: str = "RUN") -> str:
    """A rough reading of the recent means of the run's curves after ``steps`` steps, in a sentence or two.

    ``means``: :func:`recent_means` of the last rows of metrics.csv; ``folder``: the run's folder,
    for the advice's command. In the first few hundred steps D is still learning to tell real from
    fake (docs/how-gans-work.md), so any reading says more about the run's length than its health:
    the advice then is to train longer.
    """
    config = config or {}
    view = game_view(config)
    d_x, d_g_z = means["d_x"], means["d_g_z"]
    gap = d_x - d_g_z
    if steps < EARLY_STEPS:
        verdict = (f"<b>Too early to tell</b>: after {steps:,} steps D is still learning to tell real from fake "
                   f"(that takes a few hundred steps), so these numbers say little about the run's health. "
                   f"Train longer before changing any setting: "
                   + advice(folder, "--max-steps", max(1000, 2 * EARLY_STEPS)))
        return f"Reading this run: {_measured(view, gap)}. {verdict}."
    if view.game in WASSERSTEIN_GAMES:
        verdict = _wasserstein_verdict(view, means, config, folder)
    elif view.game == "hinge":
        verdict = _hinge_verdict(gap, d_x, d_g_z, config, folder)
    else:
        verdict = _target_verdict(view.game, gap, config, folder)
    return f"Reading this run: {_measured(view, gap)}. {verdict}."


def advice(folder: str, flag: str, value) -> str:
    """A command that continues the run in ``folder`` with ``flag value`` changed, as HTML code."""
    command = f"minigan train --out {shlex.quote(str(folder))} --resume {flag} {value}"
    return f'<code class="advice">{esc(command)}</code>'


def _measured(view: GameView, gap: float) -> str:
    return f"W = D(x) − D(G(z)) = {gap:.2f}" if view.game in WASSERSTEIN_GAMES else f"D(x) − D(G(z)) = {gap:.2f}"


def _slower_d(config: dict, folder: str) -> str:
    """Advice for a D that wins: half its learning rate (TTUR's knob, valid for every game)."""
    lr_d = config.get("lr_d") or config.get("lr") or 2e-4
    return advice(folder, "--lr-d", f"{float(lr_d) / 2:g}")


def _target_verdict(game: str, gap: float, config: dict, folder: str) -> str:
    """bce, minimax, lsgan: D has targets (1 or 1 - smoothing for reals, 0 for fakes)."""
    r = 1.0 - float(config.get("label_smoothing") or 0.0)
    if gap > 0.9 * r:
        fix = (f"consider one-sided label smoothing, {advice(folder, '--label-smoothing', 0.1)}"
               if r == 1.0 else f"consider a slower D, {_slower_d(config, folder)}")
        return ("<b>D is winning decisively</b>: it tells real from fake almost perfectly, so G's gradient "
                f"is weak; check the gradient flow, and {fix}")
    if gap > 0.2 * r:
        usual = "as is usual for a healthy DCGAN" if game != "lsgan" else "as is usual for a healthy run"
        mid = f"{r / 2:g}"
        return (f"<b>D is ahead, {usual}</b>: D(x) above {mid} and D(G(z)) below it, "
                "yet D(G(z)) far enough from 0 for G to get a useful gradient")
    if gap > -0.1 * r:
        if float(config.get("r1") or 0) > 0:
            return ("<b>Close to balance, as R1 holds it</b>: the penalty keeps D flat around the real pictures, "
                    "so D(x) and D(G(z)) stay near each other while the samples improve; judge this run by its "
                    "samples and the R1 panel")
        return ("<b>Close to balance</b>: D can hardly tell real from fake at the moment; if it stays so "
                "while the samples are still poor, D may not be learning")
    return "<b>D is confused</b>: it rates the fakes as more real than the real pictures"


def _hinge_verdict(gap: float, d_x: float, d_g_z: float, config: dict, folder: str) -> str:
    if d_x >= 1 and d_g_z <= -1:
        return ("<b>D clears both margins</b>: on average it scores reals above +1 and fakes below −1, so its "
                f"loss is near 0 and it learns little more; if the samples stall, consider a slower D, "
                f"{_slower_d(config, folder)}")
    if gap > 0.5:
        return ("<b>D is ahead, as is usual</b>: it scores reals above fakes, mostly inside its margins, "
                "where both it and G still learn")
    if gap > -0.1:
        return ("<b>Close to balance</b>: D scores reals and fakes alike at the moment; if it stays so while "
                "the samples are still poor, D may not be learning")
    return "<b>D is confused</b>: it scores the fakes above the real pictures"


def _wasserstein_verdict(view: GameView, means: dict, config: dict, folder: str) -> str:
    w = means["d_x"] - means["d_g_z"]                         # the critic's estimate of W
    n_critic = int(config.get("n_critic") or 1)
    norm = means.get("gp_grad_norm", float("nan"))
    if view.game == "wgan-gp" and np.isfinite(norm) and abs(norm - 1) > 0.5:
        lam = float(config.get("gp_weight") or 10.0)
        return (f"<b>The penalty is not holding</b>: the mean ‖∇D(x̂)‖ is {norm:.2f}, far from 1, so W is not a "
                f"trustworthy distance; consider a stronger penalty, {advice(folder, '--gp-weight', f'{2 * lam:g}')}")
    if w < 0:
        fix = (f"; consider more critic updates per G update, {advice(folder, '--n-critic', 5)}"
               if n_critic < 5 else "")
        return f"<b>The critic is behind</b>: it rates the fakes above the reals, so W says nothing yet{fix}"
    return ("<b>The critic is ahead, as it should be</b>: W > 0 is its estimate of the distance to the data; "
            "a healthy run's W falls over the run (compare it with earlier steps in the curves) while the "
            "samples improve")
