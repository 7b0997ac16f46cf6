"""How each game's numbers read: the curves it draws, the equilibrium it has (or has not), its scores' axis.

The six games (minigan/gan_losses.py) log the same columns of metrics.csv,
but the numbers mean different things. ``d_x`` is a probability in [0, 1]
for bce and minimax (D's sigmoid output), and a raw score on the whole real
line for lsgan, hinge and the Wasserstein games. What the losses do at the
game's equilibrium, where G's pictures are distributed like the data
(``p_g = p_data``), follows from each loss with the best D for that p_g,
``r = 1 - label_smoothing`` being D's target for reals:

=========  ====================================  =========================  =======================
game       best D when p_g = p_data              Loss_D                      Loss_G
=========  ====================================  =========================  =======================
bce        D = r/2 (1/2)                         H(r, r/2) - ln(1 - r/2)     -ln(r/2)      (ln 2)
           (Goodfellow et al. 2014, Prop. 1)     (2 ln 2)
minimax    as bce                                as bce                      ln(1 - r/2)   (-ln 2)
lsgan      s = r/2 (1/2) (Mao et al. 2017)       r^2 / 4   (0.25)            (1 - r/2)^2 / 2 (0.125)
hinge      any s in [-1, 1] (Lim & Ye 2017)      2                           none: -mean s, any in [-1, 1]
wgan(-gp)  any 1-Lipschitz f: W = 0              0 = -W (+ penalty)          none: f's offset is free
=========  ====================================  =========================  =======================

(``H(r, q) = -r ln q - (1 - r) ln(1 - q)``.) For the Wasserstein games the one
curve to watch is the critic's estimate of the distance, ``W = mean D(x) -
mean D(G(z))`` (the negative of Loss_D without its penalty; Arjovsky et al.
2017, Fig. 3): it should fall as the pictures improve. Where a penalty is on,
its term and the mean input-gradient norm ``||grad_x D||`` are drawn too:
WGAN-GP pulls the norm at points between reals and fakes towards 1
(Gulrajani et al. 2017); R1 pulls it at the reals towards 0 (Mescheder et
al. 2018).

:func:`game_view` turns a run's config into a :class:`GameView`: the panels
``curves.png`` draws (minigan/job/viz/curves.py) and the rows of the report's
equilibrium table (minigan/job/report/game_reading.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

#: The games whose D output is a probability: their scores axis is [0, 1].
PROBABILITY_GAMES = ("bce", "minimax")
WASSERSTEIN_GAMES = ("wgan", "wgan-gp")


@dataclass(frozen=True)
class Panel:
    """One panel of curves.png: a title, a y-axis title, its series and its dashed reference lines.

    series: ``((column, legend label), ...)``, columns of metrics.csv (or ``wasserstein``, computed)
    refs:   ``((value, label, column or None), ...)``: a dashed line, coloured as that column's curve
    ylim:   fixed y limits, or None to fit the data
    legend: the legend's name for the dashed lines
    """
    title: str
    axis: str
    series: tuple
    refs: tuple = ()
    ylim: tuple | None = None
    legend: str = "equilibrium"

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(key for key, _ in self.series)


@dataclass(frozen=True)
class GameView:
    """What a run's curves and report show for its game (see the module docstring)."""
    game: str
    panels: tuple              # of Panel, top to bottom
    equilibrium: tuple         # ((label, column, value at equilibrium or None, how to read it), ...)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the panels draw."""
        return tuple(dict.fromkeys(k for p in self.panels for k in p.columns))


def game_view(config: dict | None = None) -> GameView:
    """The :class:`GameView` of a run with settings ``config`` (config.json's dict; ``{}``: a bce run)."""
    config = config or {}
    game = config.get("loss") or "bce"
    r = 1.0 - float(config.get("label_smoothing") or 0.0)         # D's target for reals
    panels, rows = _game_panels(game, r)
    if game == "wgan-gp":
        lam = float(config.get("gp_weight") or 10.0)
        panels.append(Panel("Gradient penalty", "penalty term and norm",
                            (("gp", f"penalty {lam:g} mean(||g|| - 1)^2"), ("gp_grad_norm", "mean ||g||")),
                            ((1.0, "||g|| = 1", "gp_grad_norm"),), legend="the penalty's target"))
        rows.append(("||grad D(x_hat)||", "gp_grad_norm", 1.0, "WGAN-GP pulls it to 1 between reals and fakes"))
    if float(config.get("r1") or 0) > 0:
        gamma = float(config["r1"])
        panels.append(Panel("R1 penalty", "penalty term and norm",
                            (("r1", f"R1 {gamma / 2:g} mean ||g||^2"), ("r1_grad_norm", "mean ||g|| on reals")),
                            ((0.0, "0", "r1"),), legend="equilibrium: D flat on the data"))
        rows.append(("||grad D(x)||", "r1_grad_norm", 0.0, "at equilibrium D is flat on the data"))
    return GameView(game, tuple(panels), tuple(rows))


def _game_panels(game: str, r: float):
    """``(panels, equilibrium rows)`` of the game itself, before any penalty's."""
    losses, outputs = (("loss_d", "Loss_D"), ("loss_g", "Loss_G")), (("d_x", "D(x)"), ("d_g_z", "D(G(z))"))
    if game in PROBABILITY_GAMES:
        q = r / 2                                                   # the best D when p_g = p_data
        loss_d = -r * math.log(q) - (1 - r) * math.log(1 - q) - math.log(1 - q)
        loss_g = -math.log(q) if game == "bce" else math.log(1 - q)
        name = "BCE" if game == "bce" else "BCE; Loss_G minimax"
        return ([Panel("Losses", f"loss ({name})", losses,
                       ((loss_d, f"{loss_d:.3f}" + (" = 2 ln 2" if r == 1 else ""), "loss_d"),
                        (loss_g, f"{loss_g:.3f}" + (" = ln 2" if r == 1 and game == "bce" else
                                                    " = -ln 2" if r == 1 else ""), "loss_g"))),
                 Panel("Discriminator outputs", "mean D output (probability)", outputs,
                       ((q, f"{q:g}", None),), (0.0, 1.0), f"equilibrium (D = {q:g})")],
                [("Loss_D", "loss_d", loss_d, "D cannot tell real from fake"),
                 ("Loss_G", "loss_g", loss_g, ""),
                 ("D(x)", "d_x", q, "the best D outputs r/2 everywhere" if r != 1 else "D = 1/2 everywhere"),
                 ("D(G(z))", "d_g_z", q, "")])
    if game == "lsgan":
        q, loss_d, loss_g = r / 2, r * r / 4, (1 - r / 2) ** 2 / 2
        return ([Panel("Losses", "loss (least squares)", losses,
                       ((loss_d, f"{loss_d:g}", "loss_d"), (loss_g, f"{loss_g:g}", "loss_g"))),
                 Panel("Discriminator scores", "mean raw score s", outputs,
                       ((q, f"{q:g}", None), (r, f"real target {r:g}", "d_x"), (0.0, "fake target 0", "d_g_z")),
                       legend="equilibrium, and D's targets")],
                [("Loss_D", "loss_d", loss_d, "0.5 (s - r)^2 on reals + 0.5 s^2 on fakes at s = r/2"),
                 ("Loss_G", "loss_g", loss_g, "0.5 (s - 1)^2 at s = r/2"),
                 ("D(x)", "d_x", q, "the best D scores r/2 everywhere"), ("D(G(z))", "d_g_z", q, "")])
    if game == "hinge":
        return ([Panel("Losses", "loss (hinge)", losses, ((2.0, "Loss_D 2", "loss_d"),)),
                 Panel("Discriminator scores", "mean raw score s", outputs,
                       ((1.0, "margin +1", "d_x"), (-1.0, "margin -1", "d_g_z")), legend="D's margins")],
                [("Loss_D", "loss_d", 2.0, "relu(1 - s) + relu(1 + s) = 2 for s in [-1, 1]"),
                 ("Loss_G", "loss_g", None, "none: -mean s, anywhere in [-1, 1]"),
                 ("D(x) - D(G(z))", "gap", 0.0, "D scores reals and fakes alike, inside the margins")])
    # wgan, wgan-gp: the critic's estimate of the Wasserstein-1 distance is the curve to watch
    loss_axis = "loss (Wasserstein" + (", + penalty)" if game == "wgan-gp" else ")")
    return ([Panel("Losses", loss_axis, losses, ((0.0, "0", "loss_d"),), legend="equilibrium: Loss_D = -W = 0"),
             Panel("Critic scores", "mean raw score s", outputs),
             Panel("Wasserstein estimate", "mean D(x) - mean D(G(z))",
                   (("wasserstein", "W = D(x) - D(G(z))"),), ((0.0, "0", "wasserstein"),),
                   legend="W = 0, equal distributions")],
            [("W = D(x) - D(G(z))", "wasserstein", 0.0, "falls towards 0 as G's pictures approach the data"),
             ("Loss_D", "loss_d", 0.0, "= -W" + (" + the penalty" if game == "wgan-gp" else "")),
             ("Loss_G", "loss_g", None, "none: -mean s shifts with the critic's free offset")])


def with_derived(history: dict) -> dict:
    """``history`` with the computed columns a view may draw: ``wasserstein`` and ``gap`` (both
    ``d_x - d_g_z``, per row), where ``d_x`` and ``d_g_z`` are there."""
    if "d_x" not in history or "d_g_z" not in history:
        return history
    gap = [a - b for a, b in zip(history["d_x"], history["d_g_z"])]
    return {**history, "wasserstein": gap, "gap": gap}
