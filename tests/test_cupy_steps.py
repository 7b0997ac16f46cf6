"""Whole training steps on CuPy give NumPy's numbers: every game, conditional pairs, penalties, augmentation.

Skipped without CuPy and a GPU (benchmarks/gpu_check.sh runs them on a GPU machine, and on the CuPy
stand-in in the suite). Each case runs on the plain path and on the fast one, float64, three steps.
"""
import numpy as np
import pytest

import minigan
from minigan import backend, fast
from tests.test_fast_equals_plain import STEP_CASES, make_trainer

pytestmark = pytest.mark.skipif("cupy" not in backend.available(), reason="needs CuPy and a GPU")


@pytest.mark.parametrize("path", ["fast", "plain"])
@pytest.mark.parametrize("case", list(STEP_CASES.values()), ids=list(STEP_CASES))
def test_whole_training_steps_on_cupy_match_numpy(case, path):
    rng = np.random.default_rng(11)
    x = np.tanh(rng.standard_normal((6, 1, 8, 8)))
    labels = np.arange(6) % 3
    states = {}
    for name in ("numpy", "cupy"):
        trainer = make_trainer(case, backend=name)
        with (fast.on() if path == "fast" else minigan.plain()):
            for _ in range(3):
                stats = trainer.step(x, labels) if trainer.num_classes else trainer.step(x)
                dict(stats)                                           # read: a NaN would raise here
        states[name] = trainer.state_dict()
    for net in ("G", "D"):                                            # GPU sums run in another order:
        for key, value in states["numpy"][net].items():               # equal to 1e-9 of each array's scale
            scale = max(float(np.abs(value).max()), 1e-300)
            err = float(np.abs(states["cupy"][net][key] - value).max()) / scale
            assert err <= 1e-9, f"{net}.{key} after 3 steps: CuPy and NumPy differ (relative error {err:.1e})"
