"""The tests of the fast path's own pieces run with the fast path on, whatever MINIGAN_PLAIN says."""
import pytest

from minigan import fast


@pytest.fixture(autouse=True)
def fast_path():
    with fast.on():
        yield
