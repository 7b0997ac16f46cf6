"""bin_history: a long history shrunk to at most MAX_POINTS points, each the exact mean (and range) of its stretch."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigan.job.viz.bins import MAX_POINTS, bin_history


def test_a_stretchs_point_is_the_exact_mean_lowest_and_highest_of_its_rows():
    steps = np.arange(1, 11)                                      # 1..10 in 2 stretches: 1-5 and 6-10
    v = np.array([3.0, 1.0, np.nan, 4.0, 1.5, 9.0, 2.0, 6.0, np.inf, 5.0])
    x, means, lows, highs = bin_history(steps, {"v": v}, bins=2)
    np.testing.assert_array_equal(x, [3.0, 8.0])                  # the mean step of each stretch
    assert means["v"][0] == np.mean([3.0, 1.0, 4.0, 1.5])         # NaN and inf skipped, as the lines skip them
    assert means["v"][1] == np.mean([9.0, 2.0, 6.0, 5.0])
    np.testing.assert_array_equal(lows["v"], [1.0, 2.0])
    np.testing.assert_array_equal(highs["v"], [4.0, 9.0])


@settings(max_examples=40)
@given(n=st.integers(2, 400), bins=st.integers(1, 50), seed=st.integers(0, 2**16))
def test_binned_means_are_the_means_of_equal_stretches(n, bins, seed):
    rng = np.random.default_rng(seed)
    steps = rng.permutation(rng.choice(10 * n, n, replace=False))   # any order, any gaps
    v = rng.standard_normal(n)
    x, means, lows, highs = bin_history(steps, {"v": v}, bins=bins)
    if n <= bins:                                                    # every row its own point, sorted
        order = np.argsort(steps)
        np.testing.assert_array_equal(x, steps[order])
        np.testing.assert_array_equal(means["v"], v[order])
        return
    lo, width = steps.min(), (steps.max() - steps.min()) / bins     # the naive way: a loop over the rows
    groups = {}
    for s, value in zip(steps, v):
        groups.setdefault(min(int((s - lo) / width), bins - 1), []).append((s, value))
    expected = [(np.mean([s for s, _ in g]), np.mean([u for _, u in g]), min(u for _, u in g), max(u for _, u in g))
                for _, g in sorted(groups.items())]
    assert len(x) == len(expected) <= bins
    np.testing.assert_allclose(np.c_[x, means["v"], lows["v"], highs["v"]], expected, rtol=1e-12, atol=1e-12)


def test_a_long_history_gives_at_most_max_points_and_keeps_a_spike():
    n = 150_000
    v = np.ones(n)
    v[77_777] = 50.0                                                 # one step's spike
    v[1000:3000] = np.nan                                            # a gap of 2,000 steps
    x, means, lows, highs = bin_history(np.arange(n), {"v": v, "w": np.zeros(n)})
    assert x.size == MAX_POINTS and np.all(np.diff(x) > 0)
    assert np.nanmax(highs["v"]) == 50.0 and np.nanmax(means["v"]) == pytest.approx(1 + 49 / 75)   # 75 rows a stretch
    assert np.isnan(means["v"]).sum() >= 2000 // 75 - 1              # the gap stays a gap
    assert np.all(means["w"] == 0)
