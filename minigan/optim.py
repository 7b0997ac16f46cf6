"""Optimizers: they read ``(name, param, grad)`` from ``module.parameters()`` and
update each ``param`` in place.

Adam (Kingma & Ba, 2015, https://arxiv.org/abs/1412.6980), exactly as
``torch.optim.Adam`` computes it, for step t = 1, 2, ...::

    m = b1 m + (1 - b1) g                 running mean of gradients  (momentum)
    v = b2 v + (1 - b2) g^2               running mean of squared gradients
    p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)

The ``1 - b^t`` factors undo the bias of m and v towards their zero start.
``Adam.step`` writes the paper's equations one line each; the fast path
(``minigan/fast/adam.py``, when :func:`minigan.fast.enabled`) computes the same
numbers in place, as PyTorch folds them. DCGAN trains both networks with
lr = 2e-4, betas = (0.5, 0.999).

``step(apply=...)`` lets a trainer refuse an update without waiting for a GPU to
say whether it should (minigan/finite_check.py).
"""
from __future__ import annotations

from . import backend as B
from . import fast
from .fast.adam import adam_update
from .finite_check import kept_only_if, on_host


class Optimizer:
    """Holds the module and per-parameter state; ``zero_grad`` clears the module's grads."""

    def __init__(self, module, lr):
        if not lr > 0:
            raise ValueError(f"{type(self).__name__}: lr must be > 0, got {lr}")
        self.module, self.lr = module, float(lr)
        self.state: dict = {}            # per parameter name: arrays such as Adam's m and v
        self.step_count = 0

    def zero_grad(self):
        self.module.zero_grad()

    def state_dict(self) -> dict:
        """Everything needed to resume exactly: hyper-parameters, step count, NumPy copies of the state."""
        return {
            "lr": self.lr,
            "step_count": self.step_count,
            "state": {name: {k: B.to_numpy(a).copy() for k, a in s.items()} for name, s in self.state.items()},
            **self.hyperparameters(),
        }

    def load_state_dict(self, d: dict) -> None:
        params = {name: p for name, p, _ in self.module.parameters()}
        unknown = sorted(set(d["state"]) - set(params))
        if unknown:
            raise KeyError(f"{type(self).__name__}.load_state_dict: no parameters named {unknown} in the module")
        self.lr, self.step_count = float(d["lr"]), int(d["step_count"])
        self.state = {name: {k: B.filled_like(params[name], a) for k, a in s.items()}   # laid out as p
                      for name, s in d["state"].items()}
        self.load_hyperparameters(d)

    def hyperparameters(self) -> dict:
        return {}

    def load_hyperparameters(self, d) -> None:
        pass


class Adam(Optimizer):
    """``Adam(module, lr=1e-3, betas=(0.9, 0.999), eps=1e-8)``, matching ``torch.optim.Adam``."""

    def __init__(self, module, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(module, lr)
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"Adam: betas must be in [0, 1), got {betas}")
        self.betas, self.eps = (float(betas[0]), float(betas[1])), float(eps)

    def step(self, apply=True):
        """One update of every parameter (and of m and v).

        apply: True; False: no update at all (``step_count`` unchanged); or a 0-d bool on
               the parameters' device, unknown to Python: the update is computed and kept
               only where it is true (:func:`~minigan.finite_check.kept_only_if`), so
               p, m and v stay bitwise as they were where it is false. ``step_count``
               counts such a step either way: the host cannot know without waiting.
        """
        if on_host(apply) and not apply:
            return
        self.step_count += 1
        t, (b1, b2) = self.step_count, self.betas
        params = list(self.module.parameters())
        for name, p, _ in params:
            if name not in self.state:
                xp = B.get_array_module(p)
                self.state[name] = {"m": xp.zeros_like(p), "v": xp.zeros_like(p)}
        if fast.enabled():
            return adam_update(params, self.state, self.lr, self.betas, self.eps, t, apply)   # the same, in place
        for name, p, g in params:
            xp, m, v = B.get_array_module(p), self.state[name]["m"], self.state[name]["v"]
            with kept_only_if(apply, p, m, v):            # a device flag: undone where it is false
                m[...] = b1 * m + (1 - b1) * g            # m_t = b1 m_{t-1} + (1 - b1) g
                v[...] = b2 * v + (1 - b2) * g * g        # v_t = b2 v_{t-1} + (1 - b2) g^2
                m_hat = m / (1 - b1**t)                   # bias-corrected first moment
                v_hat = v / (1 - b2**t)                   # bias-corrected second moment
                p -= self.lr * m_hat / (xp.sqrt(v_hat) + self.eps)   # the update

    def hyperparameters(self):
        return {"betas": self.betas, "eps": self.eps}

    def load_hyperparameters(self, d):
        self.betas, self.eps = tuple(d["betas"]), float(d["eps"])


class SGD(Optimizer):
    """``SGD(module, lr, momentum=0)``: ``buf = momentum*buf + g; p -= lr*buf`` (PyTorch's form)."""

    def __init__(self, module, lr, momentum=0.0):
        super().__init__(module, lr)
        self.momentum = float(momentum)

    def step(self):
        self.step_count += 1
        for name, p, g in self.module.parameters():
            if self.momentum:
                s = self.state.get(name)
                if s is None:                              # PyTorch starts the buffer at g itself
                    s = self.state[name] = {"buf": g.copy()}
                else:
                    s["buf"] *= self.momentum
                    s["buf"] += g
                p -= self.lr * s["buf"]
            else:
                p -= self.lr * g

    def hyperparameters(self):
        return {"momentum": self.momentum}

    def load_hyperparameters(self, d):
        self.momentum = float(d["momentum"])
