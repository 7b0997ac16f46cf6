"""Every layer test in this folder runs twice: on the plain path and on the fast one.

The plain path is the code a learner reads (``minigan/nn/``); the fast path
(``minigan/fast/``) computes the same numbers another way. Both must pass every
gradient check, every oracle and every error test. (Module scope, so that
hypothesis's tests can use it: each test module runs once per path.)
"""
import pytest

from minigan import fast


@pytest.fixture(autouse=True, scope="module", params=["fast", "plain"])
def layer_path(request):
    was = fast.enabled()
    fast.set_enabled(request.param == "fast")
    yield request.param
    fast.set_enabled(was)
