"""Catching a diverged run: the states no healthy GAN reaches, checked before they are saved.

The trainer already refuses a NaN or infinite loss (``NonFiniteLossError`` in
minigan/train.py). A run can diverge without one:

- **a loss pinned at the clamp.** ``bce`` (and ``minimax``) on a Sigmoid D
  clamps ``log p`` at -100, as PyTorch does, so a D that is certain and wrong
  gives a loss of exactly 100 per picture. A batch *mean* at 100 means every picture in it is at the
  clamp: D's output has saturated at 0 or 1, its gradient is gone, and the
  game has stopped (``--lr 1e9`` gets there at step 2). A healthy run never
  comes near it; one step there can be a fluke, :data:`PINNED_STEPS` in a row
  are not. Only those games have the clamp: a raw-score D's losses (bce with
  logits, lsgan, hinge, wgan's critic) have none, and a WGAN critic's score can
  legitimately pass 100, so the rule is off for them.
- **non-finite weights or running statistics.** A huge update can leave
  finite losses but inf in a BatchNorm's running variance (used only in
  eval mode, so the training losses do not show it) or in a weight.

:class:`DivergenceGuard` watches each step's statistics, and looks through
every array of a checkpoint before it is written, so a diverged model is never
saved. It raises :class:`Diverged`, whose message names the step and what to
try; the job stops with exit status 3, as it does for a NaN loss.
"""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module
from ..gan_losses import BCE
from ..losses import LOG_CLAMP
from ..step_stats import StepStats

CLAMP = -LOG_CLAMP          # 100: BCE of one picture when D is certain and wrong
PINNED_STEPS = 10           # this many steps in a row with a loss at the clamp: diverged
ADVICE = "Try a lower --lr (DCGAN uses 2e-4), --label-smoothing 0.1, or --dtype float64 to find the overflow."


class Diverged(FloatingPointError):
    """The run has diverged; the message names the step, what was seen, and what to try."""


class DivergenceGuard:
    """``check_step`` after every step, ``check_state`` before every save; each raises :class:`Diverged`."""

    def __init__(self, pinned_steps: int = PINNED_STEPS):
        self.pinned_steps = pinned_steps
        self.pinned = 0                                  # steps in a row with a loss at the clamp

    def check_step(self, step: int, stats: dict, trainer) -> None:
        """One step's ``stats`` (``loss_d``, ``loss_g``) and the BatchNorm running statistics."""
        clamped = isinstance(trainer.loss, BCE) and not trainer.loss.logits   # bce/minimax on a Sigmoid D
        at_clamp = [name for name, key in (("Loss_D", "loss_d"), ("Loss_G", "loss_g"))
                    if clamped and stats[key] >= CLAMP]
        self.pinned = self.pinned + 1 if at_clamp else 0
        if self.pinned >= self.pinned_steps:
            raise Diverged(f"step {step}: {' and '.join(at_clamp)} at {CLAMP:g}, the loss's clamp, for "
                           f"{self.pinned} steps in a row: D's output has saturated and the run has diverged. "
                           + ADVICE)
        if not (isinstance(stats, StepStats) and stats.buffers_finite):   # the step's flag, fetched with its numbers
            self._check_buffers(step, trainer)           # a plain dict, or a bad buffer: find which one

    def check_state(self, step: int, state: dict) -> None:
        """Before a checkpoint: no loss pinned, and every array of the checkpoint's ``state`` finite
        (weights, running statistics, Adam's moments, the EMA copy)."""
        if self.pinned:
            raise Diverged(f"step {step}: a loss is at {CLAMP:g}, the loss's clamp, for the last {self.pinned} "
                           "steps; a diverged model is not saved. " + ADVICE)
        for where, a in arrays_in(state):
            if a.dtype.kind == "f" and not np.isfinite(a).all():
                raise Diverged(f"step {step}: {where} holds inf or NaN: the run has diverged, and nothing from "
                               "this step on is saved. " + ADVICE)

    def _check_buffers(self, step, trainer):
        """Name the first non-finite buffer. It reads every buffer: on a GPU, one transfer each, so it
        runs only when the step's flag (``StepStats.buffers_finite``) says one is not finite."""
        nets = {"G": trainer.G, "D": trainer.D}
        for net_name, net in nets.items():
            for layer_name, layer in net.leaves():
                for key, a in layer.buffers.items():
                    if not bool(get_array_module(a).isfinite(a).all()):
                        raise Diverged(f"step {step}: {net_name}'s layer {layer_name} ({type(layer).__name__}) "
                                       f"has inf or NaN in its {key}: the run has diverged. " + ADVICE)


def arrays_in(tree, where="checkpoint"):
    """``(path, array)`` for every NumPy array in a nested dict/list, e.g. ``("trainer/D/1.running_var", a)``."""
    if isinstance(tree, np.ndarray):
        yield where, tree
    elif isinstance(tree, dict):
        for k, v in tree.items():
            yield from arrays_in(v, f"{where}/{k}")
    elif isinstance(tree, (list, tuple)):
        for i, v in enumerate(tree):
            yield from arrays_in(v, f"{where}/{i}")
