"""Every layer test in this folder runs twice: on the plain path and on the fast one.

The plain path is the code a learner reads (``minigan/nn/``); the fast path
(``minigan/fast/``) computes the same numbers another way. Both must pass every
gradient check, every oracle and every error test (the ``both_paths`` fixture of
tests/conftest.py, used here by every test).
"""
import pytest


@pytest.fixture(autouse=True, scope="module")
def layer_path(both_paths):
    yield both_paths
