"""Per-layer gradient-flow statistics: watch D saturate or G's gradients vanish.

Attach a :class:`GradFlow` to a :class:`~minigan.nn.Sequential` (``net.monitor =
GradFlow(net)``) and every forward/backward pass records, per layer:

- ``act_mean``, ``act_std``: the layer's output (a dead ReLU stack shows std 0);
- ``grad_in``: mean |dL/d input| the layer passes back (vanishing gradients
  show as this shrinking towards the first layers);
- ``grad_param``: mean |dL/d param| over the layer's parameters (from ``grads``).

Each statistic costs one pass over the array, so it is opt-in
(``GANTrainer(track_grad_flow=True)``).
"""
from __future__ import annotations


class GradFlow:
    def __init__(self, net):
        self.net = net
        self.enabled = True
        self.forward_stats: dict = {}
        self.backward_stats: dict = {}

    def on_forward(self, i, layer, y):
        if self.enabled:
            self.forward_stats[i] = (float(y.mean()), float(y.std()))

    def on_backward(self, i, layer, dx):
        if self.enabled and dx is not None:
            self.backward_stats[i] = float(abs(dx).mean())

    def summary(self) -> list[dict]:
        """One dict per layer: ``layer``, ``act_mean``, ``act_std``, ``grad_in``, ``grad_param``."""
        rows = []
        for i, layer in enumerate(self.net.layers):
            act_mean, act_std = self.forward_stats.get(i, (float("nan"), float("nan")))
            grads = list(layer.grads.values())
            grad_param = (sum(float(abs(g).sum()) for g in grads) / sum(g.size for g in grads)) if grads else float("nan")
            rows.append({"layer": f"{i}:{type(layer).__name__}", "act_mean": act_mean, "act_std": act_std,
                         "grad_in": self.backward_stats.get(i, float("nan")), "grad_param": grad_param})
        return rows
