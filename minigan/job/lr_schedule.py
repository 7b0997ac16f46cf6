"""The learning-rate schedule of a run: ``--lr-decay linear`` anneals both rates to zero.

A GAN trained at a constant learning rate never stops moving: each G update
answers the latest D, so G's samples keep circling round the data's modes
(docs/collapse.md, the Dirac-GAN). An exponential moving average of G
(``--ema``) averages the circling out; lowering the rate stops it. With
``--lr-decay linear`` each network's rate stays at its ``--lr`` (``--lr-g``,
``--lr-d``) for the first half of the run, then falls in a straight line to
nearly zero at its last step -- the schedule CycleGAN trained with (Zhu et al.
2017, https://arxiv.org/abs/1703.10593: 100 epochs constant, 100 decaying)::

    factor(t) = 1                             t <= T - H         (H = T // 2 + T % 2, the decaying steps)
    factor(t) = (T - t + 1) / H               t >  T - H         (1 at the first decaying step, 1/H at step T)

for step t of T in all (``--max-steps``, or the epochs' steps). The factor is a
function of the step alone, so a resumed run gets exactly the rates it would have
had; a resume that changes the run's length changes the schedule with it.
"""
from __future__ import annotations

LR_DECAYS = ("none", "linear")


def lr_factor(kind: str, step: int, last_step: int) -> float:
    """The factor on each base rate for ``step`` (1-based) of a run of ``last_step`` steps."""
    if kind == "none":
        return 1.0
    if kind != "linear":
        raise ValueError(f"unknown --lr-decay {kind!r}: choose one of {', '.join(LR_DECAYS)}")
    decaying = last_step // 2 + last_step % 2                  # H: the second half (the longer one, if odd)
    return min(1.0, (last_step - step + 1) / decaying)


def set_learning_rates(trainer, cfg, step: int, last_step: int) -> None:
    """Both optimizers' rates for ``step``: the config's (``--lr``, or ``--lr-g``/``--lr-d``) times the factor."""
    f = lr_factor(cfg.lr_decay, step, last_step)
    trainer.opt_G.lr = (cfg.lr if cfg.lr_g is None else cfg.lr_g) * f
    trainer.opt_D.lr = (cfg.lr if cfg.lr_d is None else cfg.lr_d) * f


def describe(cfg, last_step: int) -> str | None:
    """One line for the start of a run with a schedule (None without one)."""
    if cfg.lr_decay == "none":
        return None
    start = last_step - (last_step // 2 + last_step % 2) + 1
    return (f"learning rates: constant to step {start - 1}, then linearly down to 1/{last_step - start + 1} of "
            f"--lr at step {last_step} (--lr-decay linear)")
