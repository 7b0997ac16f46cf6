"""Tick choice and tick labels for the Pillow-drawn plots."""
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from minigan.job.viz.axes import format_ticks, nice_ticks


@pytest.mark.parametrize("lo, hi, expected", [
    (0, 1, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
    (0, 2000, [0, 500, 1000, 1500, 2000]),
    (0.3, 3.7, [0, 1, 2, 3, 4]),
])
def test_nice_ticks_examples(lo, hi, expected):
    assert np.allclose(nice_ticks(lo, hi), expected)


@given(lo=st.floats(-1e9, 1e9), width=st.floats(0, 1e9), max_ticks=st.integers(3, 10))
@example(lo=5033164.875, width=0.25, max_ticks=5)           # once failed the old mantissa check
def test_nice_ticks_cover_the_range_with_few_round_ticks(lo, width, max_ticks):
    hi = lo + width
    t = nice_ticks(lo, hi, max_ticks)
    assert 2 <= len(t) <= max_ticks
    step = t[1] - t[0]
    assert t[0] <= lo + 1e-6 * step and t[-1] >= hi - 1e-6 * step
    assert np.allclose(np.diff(t), step)
    # step is 1, 2, 2.5 or 5 times a power of ten -- within the rounding of t[1] - t[0], which is
    # relative to the size of the ticks (at lo = 5e6, a step of 0.1 comes out as 0.0999999996)
    powers = [np.log10(step / m) for m in (1, 2, 2.5, 5)]
    assert any(abs(p - round(p)) < 1e-6 for p in powers)


def test_integer_ticks_for_step_counts():
    assert np.allclose(nice_ticks(1, 1, integer=True), [0, 1, 2])
    assert all(float(t).is_integer() for t in nice_ticks(0, 7, max_ticks=9, integer=True))


def test_format_ticks():
    assert format_ticks([0, 0.5, 1.0]) == ["0", "0.5", "1.0"]
    assert format_ticks([0, 0.25, 0.5]) == ["0", "0.25", "0.50"]
    assert format_ticks([0, 500, 1000]) == ["0", "500", "1000"]
    assert format_ticks([0, 250_000, 500_000]) == ["0", "250k", "500k"]
    assert format_ticks([0, 5e7, 1e8]) == ["0", "50M", "100M"]
