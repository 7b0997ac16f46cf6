"""Refusing an update whose loss is NaN or inf: at once on the host, masked on a GPU.

A NaN loss means NaN gradients, and one Adam step with them turns every weight
into NaN. So the trainer checks each update's loss before applying it.

- On the host (NumPy) the check is free: the loss is already a Python-side
  number. :class:`FiniteCheck` puts the BatchNorm running statistics back and
  raises :class:`NonFiniteLossError` before the update.
- On a GPU, asking "is this loss finite?" in Python would make Python wait
  until the GPU has computed it (minigan/step_stats.py says why that costs).
  So the question is asked *on the GPU*: ``ok = isfinite(loss)``, a 0-d bool
  there, and every in-place change of the update (Adam, weight clipping, the
  EMA copy, the running statistics) is kept only where ``ok`` is true, with
  ``xp.where`` (:func:`kept_only_if`). Nothing NaN is ever written, and nothing
  waits. Once an update of a step fails, ``ok`` stays false for the rest of
  the step, so no later update of it is applied either. The step's
  statistics carry the losses, and reading them raises the same
  :class:`NonFiniteLossError`, naming the same update.
"""
from __future__ import annotations

import contextlib
import math

import numpy as np

from . import backend as B


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or inf; the update that would have spread it was not applied."""


def nonfinite_message(step: int, name: str, loss: float, network: str) -> str:
    return (f"step {step}: {name} is {loss} in the update of {network}; the update was not applied. "
            "Try a lower --lr, --label-smoothing 0.1, or float64 to locate the overflow.")


def on_host(flag) -> bool:
    """Whether ``flag`` is a Python/NumPy bool (known now) rather than a 0-d bool on a GPU."""
    return isinstance(flag, (bool, np.bool_))


@contextlib.contextmanager
def kept_only_if(apply, *arrays):
    """The in-place changes made to ``arrays`` inside the block, kept only if ``apply``.

    ``apply`` True: nothing extra is done (the host path costs nothing). False, or a
    0-d bool on the arrays' device: copies are taken first, and put back after the
    block where ``apply`` is false: ``a[...] = where(apply, a, old)``, no wait.
    """
    if on_host(apply) and apply:
        yield
        return
    saved = [(a, a.copy()) for a in arrays]
    yield
    for a, old in saved:
        a[...] = old if on_host(apply) else B.get_array_module(a).where(apply, a, old)


def all_finite(arrays):
    """One 0-d bool on the arrays' backend: every float entry of every array finite (no wait)."""
    floats = [a.ravel() for a in arrays if a.dtype.kind == "f"]
    if not floats:
        return True
    xp = B.get_array_module(floats[0])
    return xp.isfinite(xp.concatenate(floats)).all()       # one pass over a few kB


def saved_buffers(*nets):
    """Copies of the networks' buffers (BatchNorm running statistics, a few kB), to put back
    after a refused update: ``(dict, key, copy)`` triples, as :class:`FiniteCheck` takes them."""
    return [(m.buffers, k, v.copy()) for net in nets for _, m in net.leaves() for k, v in m.buffers.items()]


def all_buffers(*nets):
    """The networks' buffers themselves (BatchNorm running statistics, SpectralNorm's u and v)."""
    return [v for net in nets for _, m in net.leaves() for v in m.buffers.values()]


class FiniteCheck:
    """The losses of one training step, each checked before its update is applied.

    ``ok = check(loss, "Loss_D", "the discriminator D", saved_buffers)`` returns True,
    or raises at once, on the host; on a GPU it returns a 0-d device bool, false from
    the first non-finite loss on, having put the running statistics back where false.
    :meth:`raise_if_failed` raises for the first non-finite loss, once they are on the host.
    """

    def __init__(self, step: int):
        self.step = step                  # the number of the step being checked (1, 2, ...)
        self.ok = True                    # the host's True, or a 0-d bool on the device
        self.losses = []                  # each update's loss (0-d arrays), in order
        self.updates = []                 # (name, network) of each

    def __call__(self, loss, name, network, saved_buffers):
        self.losses.append(loss)
        self.updates.append((name, network))
        if B.backend_name(loss) == "numpy":                    # a host number: ask now, for free
            if not math.isfinite(loss):
                for d, k, v in saved_buffers:                  # the forward passes leave no trace either
                    d[k][...] = v
                raise NonFiniteLossError(nonfinite_message(self.step, name, float(loss), network))
            return True
        xp = B.get_array_module(loss)
        self.ok = xp.isfinite(loss) & self.ok                  # stays false once an update failed
        for d, k, v in saved_buffers:
            d[k][...] = xp.where(self.ok, d[k], v)
        return self.ok

    def raise_if_failed(self, host_losses) -> None:
        """``host_losses``: the values of :attr:`losses` as Python floats, in order."""
        for loss, (name, network) in zip(host_losses, self.updates):
            if not math.isfinite(loss):
                raise NonFiniteLossError(nonfinite_message(self.step, name, loss, network))
