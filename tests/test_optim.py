import math

import numpy as np
import pytest

from minigan import nn
from minigan.optim import SGD, Adam


class Quadratic(nn.Module):
    """f(p) = 0.5 * sum(a * (p - c)^2): a one-parameter 'layer' with a known gradient a (p - c)."""

    def __init__(self, p0, a, c):
        super().__init__()
        self.add_param("weight", np.array(p0, dtype=np.float64))
        self.a, self.c = np.asarray(a, np.float64), np.asarray(c, np.float64)

    def accumulate_grad(self):
        self.grads["weight"] += self.a * (self.params["weight"] - self.c)


pytestmark = pytest.mark.usefixtures("both_paths")        # every check on the plain and the fast path


def reference_adam(p, a, c, lr, b1, b2, eps, steps):
    """Adam written with scalars, straight from the paper's Algorithm 1 (PyTorch's form)."""
    m = v = 0.0
    for t in range(1, steps + 1):
        g = a * (p - c)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        p = p - lr * m_hat / (math.sqrt(v_hat) + eps)
    return p


def test_adam_matches_hand_computed_reference_on_a_quadratic():
    p0, a, c = [1.0, -2.0, 0.3], [1.0, 4.0, 0.5], [0.0, 1.0, -1.0]
    q = Quadratic(p0, a, c)
    opt = Adam(q, lr=0.1, betas=(0.5, 0.999), eps=1e-8)
    for _ in range(7):
        opt.zero_grad()
        q.accumulate_grad()
        opt.step()
    expected = [reference_adam(p0[i], a[i], c[i], 0.1, 0.5, 0.999, 1e-8, 7) for i in range(3)]
    np.testing.assert_allclose(q.params["weight"], expected, rtol=1e-12)


def test_adam_first_step_moves_each_parameter_by_lr():
    # After one step, m_hat / sqrt(v_hat) = g / |g|: every parameter moves by lr against its gradient.
    q = Quadratic([1.0, -3.0], [2.0, 0.1], [0.0, 0.0])
    opt = Adam(q, lr=0.01)
    q.accumulate_grad()
    opt.step()
    np.testing.assert_allclose(q.params["weight"], [1.0 - 0.01, -3.0 + 0.01], rtol=1e-6)


def test_adam_state_dict_resumes_exactly():
    def run(steps, resume_at=None):
        q = Quadratic([1.0, 2.0], [1.0, 3.0], [0.5, -0.5])
        opt = Adam(q, lr=0.05)
        for t in range(steps):
            if t == resume_at:                 # rebuild from saved state, as a restarted run would
                state, weights = opt.state_dict(), q.state_dict()
                q = Quadratic([9.0, 9.0], [1.0, 3.0], [0.5, -0.5])
                q.load_state_dict(weights)
                opt = Adam(q, lr=1.0)
                opt.load_state_dict(state)
            opt.zero_grad()
            q.accumulate_grad()
            opt.step()
        return q.params["weight"]

    np.testing.assert_array_equal(run(10), run(10, resume_at=4))


def test_sgd_with_momentum_matches_pytorch_form():
    q = Quadratic([1.0], [2.0], [0.0])
    opt = SGD(q, lr=0.1, momentum=0.9)
    p, buf = 1.0, None
    for _ in range(4):
        opt.zero_grad()
        q.accumulate_grad()
        opt.step()
        g = 2.0 * p
        buf = g if buf is None else 0.9 * buf + g
        p -= 0.1 * buf
    assert q.params["weight"][()] == pytest.approx(p, rel=1e-12)


def test_bad_hyperparameters_are_clear_errors():
    q = Quadratic([1.0], [1.0], [0.0])
    with pytest.raises(ValueError, match="lr must be > 0"):
        Adam(q, lr=0)
    with pytest.raises(ValueError, match=r"betas must be in \[0, 1\)"):
        Adam(q, betas=(0.5, 1.5))


def test_adam_keeps_float32():
    layer = nn.Linear(3, 2)
    opt = Adam(layer, lr=1e-3)
    layer(np.ones((4, 3), np.float32))
    layer.backward(np.ones((4, 2), np.float32))
    opt.step()
    assert all(p.dtype == np.float32 for _, p, _ in layer.parameters())
    assert all(a.dtype == np.float32 for s in opt.state.values() for a in s.values())
