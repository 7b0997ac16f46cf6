"""An exponential moving average (EMA) of the generator's weights.

G's weights jump around from step to step: each update answers the latest D.
The average of the recent weights draws smoother, often better pictures than
the latest weights themselves (Yazici et al. 2019,
https://arxiv.org/abs/1806.04498). After every G update::

    G_ema = d * G_ema + (1 - d) * G           for every parameter

with decay d, e.g. 0.999: the average over roughly the last 1 / (1 - d) = 1,000
steps. Early on such an average would still be mostly G's random start, so d
is warmed up: ``min(decay, (1 + t) / (10 + t))`` at step t (0.1, 0.18, ...).
BatchNorm's running statistics are not averaged but copied: they describe the
activations of the current weights. The average copy only ever samples; it is
never trained.
"""
from __future__ import annotations

from .finite_check import kept_only_if


def update_ema(G_ema, G, decay: float, step: int, apply=True) -> None:
    """``G_ema = d G_ema + (1 - d) G`` in place, ``d = min(decay, (1 + step) / (10 + step))``.

    G_ema, G: two :class:`~minigan.nn.Sequential` of the same architecture.
    apply:    as :meth:`minigan.optim.Adam.step`'s: True, or a 0-d bool on the GPU (the change
              is kept only where it is true: minigan/finite_check.py).
    """
    d = min(decay, (1 + step) / (10 + step))
    for (_, p_ema, _), (_, p, _) in zip(G_ema.parameters(), G.parameters()):
        with kept_only_if(apply, p_ema):
            p_ema *= d
            p_ema += (1 - d) * p
    for (_, m_ema), (_, m) in zip(G_ema.leaves(), G.leaves()):
        for k in m.buffers:                                   # running stats are copied, not averaged
            with kept_only_if(apply, m_ema.buffers[k]):
                m_ema.buffers[k][...] = m.buffers[k]
