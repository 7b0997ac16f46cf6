"""Adam's update, fast: the same numbers as ``minigan/optim.py::Adam.step``, in place, on every core.

The plain update writes the paper's equations one line each, each line a new
array. Here every product lands in one scratch array per parameter, the bias
corrections are folded into two scalars (``step_size = lr / (1 - b1^t)`` and
``sqrt(1 - b2^t)``, as ``torch.optim.Adam`` computes them), and the parameters
are dealt out between the cores (``minigan/fast/cores.py::share_out``).
docs/performance.md has the measurements.
"""
from __future__ import annotations

import math

from .. import backend as B
from ..finite_check import kept_only_if
from .cores import run_all, share_out


def adam_update(params, state, lr, betas, eps, t, apply):
    """``p -= lr/(1 - b1^t) * m / (sqrt(v)/sqrt(1 - b2^t) + eps)`` for each ``(name, p, g)``, m and v moved first.

    state: ``{name: {"m": m, "v": v}}``, updated in place; apply: as in ``Adam.step``.
    """
    b1, b2 = betas
    step_size = lr / (1 - b1**t)                      # bias correction of m, folded into the step
    sqrt_bc2 = math.sqrt(1 - b2**t)                   # bias correction of v

    def update(params):
        for name, p, g in params:
            xp, m, v = B.get_array_module(p), state[name]["m"], state[name]["v"]
            with kept_only_if(apply, p, m, v):        # a device flag: undone where it is false
                scratch = xp.empty_like(p)            # each product below lands here
                m *= b1
                m += xp.multiply(1 - b1, g, out=scratch)                        # m = b1 m + (1 - b1) g
                v *= b2
                v += xp.multiply(1 - b2, xp.multiply(g, g, out=scratch), out=scratch)   # v = b2 v + (1 - b2) g^2
                denom = xp.sqrt(v, out=scratch)
                denom /= sqrt_bc2
                denom += eps
                p -= xp.multiply(step_size, xp.divide(m, denom, out=scratch), out=scratch)
    if params and B.backend_name(params[0][1]) == "numpy":
        run_all(update, [(group,) for group in share_out(params, size=lambda e: e[1].size)])  # one share per core
    else:
        update(params)                                # a GPU kernel already covers the whole device


__all__ = ["adam_update"]
