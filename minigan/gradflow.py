"""Per-layer gradient-flow statistics: watch D saturate or G's gradients vanish.

Attach a :class:`GradFlow` to a :class:`~minigan.nn.Sequential` (``net.monitor =
GradFlow(net)``) and every forward/backward pass records, per layer:

- ``act_mean``, ``act_std``: the layer's output (a dead ReLU stack shows std 0);
- ``grad_in``: mean |dL/d input| the layer passes back (vanishing gradients
  show as this shrinking towards the first layers);
- ``grad_param``: mean |dL/d param| over the layer's parameters (from ``grads``).

Which loss each number belongs to, in ``GANTrainer``: G's rows all come from
G's update (Loss_G). D's ``act_*`` and ``grad_in`` come from G's update too --
D judging the fake batch and passing dLoss_G/dx back towards G -- but D's
``grad_param`` is what D's own update was made of, the gradient of Loss_D
(D's weights are frozen in G's update, so ``D.grads`` still holds it).

Each statistic costs one pass over the array, so it is opt-in
(``GANTrainer(track_grad_flow=True)``), and ``minigan train`` switches it on
only for the steps it records (``--grad-flow-every``), as rows of
``gradflow.csv`` (:data:`LOG_COLUMNS`, one row per layer; :func:`read_log`).
"""
from __future__ import annotations

import csv
import math

from .fileio import complete_lines

#: The columns of ``gradflow.csv``: ``net`` is "G" or "D", ``layer`` e.g. "3:ConvTranspose2d".
LOG_COLUMNS = ("step", "net", "layer", "act_mean", "act_std", "grad_in", "grad_param")


class GradFlow:
    """A monitor for one network: ``net.monitor = GradFlow(net)``; ``summary()`` reads and resets it.

    ``Sequential.forward``/``backward`` call ``on_forward``/``on_backward`` after
    each layer; the latest pass of each kind wins.
    """

    def __init__(self, net):
        self.net = net
        self.forward_stats: dict = {}      # layer index -> (mean, std) of its output
        self.backward_stats: dict = {}     # layer index -> mean |dL/d input|

    def on_forward(self, i, layer, y):
        self.forward_stats[i] = (float(y.mean()), float(y.std()))

    def on_backward(self, i, layer, dx):
        if dx is not None:                 # a first layer may skip dL/dx (input_grad = False)
            self.backward_stats[i] = float(abs(dx).mean())

    def summary(self) -> list[dict]:
        """One dict per layer: ``layer``, ``act_mean``, ``act_std``, ``grad_in``, ``grad_param``.

        The recorded statistics are cleared, so the next summary holds only later passes.
        """
        rows = []
        for i, layer in enumerate(self.net.layers):
            act_mean, act_std = self.forward_stats.get(i, (float("nan"), float("nan")))
            grads = list(layer.grads.values())
            grad_param = (sum(float(abs(g).sum()) for g in grads) / sum(g.size for g in grads)) if grads else float("nan")
            rows.append({"layer": f"{i}:{type(layer).__name__}", "act_mean": act_mean, "act_std": act_std,
                         "grad_in": self.backward_stats.get(i, float("nan")), "grad_param": grad_param})
        self.forward_stats.clear()
        self.backward_stats.clear()
        return rows


def read_log(path) -> list[dict]:
    """The rows of a ``gradflow.csv`` as dicts: ``step`` an int, ``net`` and ``layer`` text, the rest floats.

    A last row cut off by a crash (no newline at the end) is skipped.
    """
    rows = []
    for row in csv.DictReader(complete_lines(path)):
        try:
            rows.append({"step": int(row["step"]), "net": row["net"], "layer": row["layer"],
                         **{k: float(row[k]) if row[k] else math.nan for k in LOG_COLUMNS[3:]}})
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"read_log: {path} has a malformed row: {row}") from None
    return rows
