"""A training step's statistics, left on the GPU until read, then fetched in one transfer.

A GPU runs ahead of Python. Each ``xp`` call on a device array only *queues*
a kernel and returns at once, so Python can queue the next layer, the next
update, the next step, while the GPU is still busy with this one. A
``float()`` of a device array breaks that: Python must wait until the GPU has
run everything queued before it, then copy the number back. One step used to
do a dozen of those (each loss, each mean, each NaN check, each BatchNorm
buffer), and each one left the GPU idle while Python caught up.

So :meth:`GANTrainer.step <minigan.train.GANTrainer.step>` returns a
:class:`StepStats`: its numbers (``loss_d``, ``loss_g``, ``d_x``, ``d_g_z``,
``d_g_z_after``), each update's loss for the NaN check
(minigan/finite_check.py), and one "every BatchNorm buffer finite" flag for
the divergence guard, stacked into ONE vector on the device. Reading it the
first time (``stats["loss_d"]``, ``dict(stats)``, a log line, a CSV row)
fetches that vector in one transfer and turns it into Python floats; a
non-finite loss raises :class:`~minigan.finite_check.NonFiniteLossError` then.
On NumPy nothing moves: the same code, no cost.

tests/test_step_transfers.py counts the transfers on the CuPy stand-in: none
inside ``step``, one when the statistics are read.
"""
from __future__ import annotations

from collections.abc import MutableMapping

from . import backend as B
from .finite_check import FiniteCheck


class StepStats(MutableMapping):
    """The statistics of one step, read like a dict of Python floats.

    stats:  ``{name: 0-d array}`` on the step's backend, in the order the keys are listed
    check:  the step's :class:`~minigan.finite_check.FiniteCheck`, holding each update's loss
    buffers_finite: a 0-d bool on the device (or True): every running statistic finite
    host:   entries already on the host (``grad_flow``'s per-layer tables), added as they are
    """

    def __init__(self, stats: dict, check: FiniteCheck, buffers_finite=True, host=None):
        values = [*stats.values(), *check.losses, buffers_finite]
        xp = B.get_array_module(*values)
        self._vector = xp.stack([xp.asarray(v, dtype="float64") for v in values])   # (5 + updates + 1,)
        self._keys, self._check, self._host = list(stats), check, dict(host or {})
        self._values = None                                   # the Python floats, once fetched
        self._buffers_finite = None

    def _fetched(self) -> dict:
        """The values as Python floats: one transfer the first time (raising for a NaN loss), then none."""
        if self._values is None:
            numbers = B.to_numpy(self._vector).tolist()       # the one transfer
            n, n_losses = len(self._keys), len(self._check.losses)
            self._check.raise_if_failed(numbers[n:n + n_losses])
            self._buffers_finite = bool(numbers[-1])
            self._values = {**dict(zip(self._keys, numbers[:n])), **self._host}
        return self._values

    @property
    def buffers_finite(self) -> bool:
        """Whether every BatchNorm running statistic (and every other buffer) of G and D is finite."""
        self._fetched()
        return self._buffers_finite

    def __getitem__(self, key):
        return self._fetched()[key]

    def __setitem__(self, key, value):
        self._fetched()[key] = value

    def __delitem__(self, key):
        del self._fetched()[key]

    def __iter__(self):
        return iter(self._fetched())

    def __len__(self):
        return len(self._fetched())

    def __repr__(self):
        return f"StepStats({self._fetched()!r})"
