"""Shared pytest set-up: OpenBLAS's spin, hypothesis profiles, and the `fake_cupy` fixture (tests/fakecupy.py).

CI runs on a loaded 2-core machine, so no test has a deadline, and under CI
(the ``CI`` environment variable is set) hypothesis is derandomized: the same
examples every run, so a red CI is always reproducible.
"""
import os

from minigan.fast import blas

blas.shorten_spin()          # the suite runs as a job does: OpenBLAS's short spin, set before NumPy loads

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

import minigan  # noqa: E402
from minigan import fast  # noqa: E402

settings.register_profile(
    "dev",
    deadline=None,
    max_examples=30,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "ci",
    deadline=None,
    max_examples=30,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture
def fake_cupy(monkeypatch):
    """CuPy's code path without a GPU: ``tests/fakecupy.py`` installed as ``cupy`` (and ``cupyx``).

    ``minigan.backend`` then imports the fake on first use, as it would import
    CuPy, so ``available()`` lists "cupy", ``get_backend("cupy")`` is the fake
    and arrays move with ``asarray``/``to_numpy``. Everything is put back afterwards.
    """
    import sys

    from minigan import backend

    from .fakecupy import cupy, cupyx

    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setitem(sys.modules, "cupyx", cupyx)
    monkeypatch.setattr(backend, "_cupy", None)           # forget what was found before: the next
    monkeypatch.setattr(backend, "_cupy_error", None)     # use imports the fake, checks its GPU count
    assert backend.get_backend("cupy") is cupy
    return cupy


@pytest.fixture(scope="module", params=["fast", "plain"])
def both_paths(request):
    """Run a test on the fast path and on the plain one: ``@pytest.mark.usefixtures("both_paths")``.

    Every gradient check runs on both (minigan/fast/__init__.py). Module scope, so that
    hypothesis's tests can use it; tests/nn/ uses it for every test (tests/nn/conftest.py).
    """
    with (fast.on() if request.param == "fast" else minigan.plain()):
        yield request.param
