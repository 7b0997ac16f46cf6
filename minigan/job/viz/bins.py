"""A long history shrunk for drawing: equal stretches of steps, each one point (its mean, lowest and highest value).

A training run logs a row every step; a curve 800 pixels wide cannot show
200,000 of them, and drawing (and smoothing) them all would make the picture's
cost grow with the run. :func:`bin_history` cuts the steps into at most
:data:`MAX_POINTS` equal stretches and keeps, per stretch and series, the mean
(the curve through the means has the same shape, and its moving average the
same smoothness, measured in stretches instead of rows) and the lowest and
highest value (so a one-step spike is still drawn). Exact: a stretch's mean is
the mean of its rows (``tests/job/viz/test_curves.py`` checks it against
``np.mean``). It is one vectorised pass over the rows, a few milliseconds at
200,000; everything drawn after it costs the same at any length.
"""
from __future__ import annotations

import numpy as np

#: A curve is drawn from at most this many points, however long the run.
MAX_POINTS = 2_000


def bin_history(steps, data: dict, bins: int = MAX_POINTS):
    """A history shrunk to at most ``bins`` points: each of ``bins`` equal stretches of steps becomes one point.

    Args:
        steps: ``(n,)`` the step of each row, in any order.
        data: ``{key: (n,) values}``, one entry per series.
        bins: the most points to return.

    Returns ``(x, means, lows, highs)``: ``x`` ``(m,)`` sorted, ``m <= bins``,
    the mean step of each stretch that holds rows (stretches without rows are
    left out, so a line runs across them as it would across the rows); then,
    per key, ``(m,)`` arrays of the mean, lowest and highest finite value of
    the stretch's rows (NaN where it has none: a gap in the line). With
    ``n <= bins`` every row is its own point, rows with a NaN step included:
    ``x`` is ``steps`` sorted and the three dicts hold the values.
    """
    steps = np.asarray(steps, dtype=np.float64)
    data = {k: np.asarray(v, dtype=np.float64) for k, v in data.items()}
    if steps.size <= bins:
        order = np.argsort(steps, kind="stable")                   # lines run left to right
        values = {k: v[order] for k, v in data.items()}
        return steps[order], values, values, values
    ok = np.isfinite(steps)
    s = steps[ok]
    lo, hi = s.min(), s.max()
    stretch = np.minimum(((s - lo) / ((hi - lo) / bins or 1.0)).astype(np.int64), bins - 1)   # (n,) 0 .. bins-1
    order = np.argsort(stretch, kind="stable")
    stretch = stretch[order]
    starts = np.flatnonzero(np.concatenate([[True], stretch[1:] != stretch[:-1]]))   # each stretch's first row
    x = np.add.reduceat(s[order], starts) / np.diff(np.append(starts, s.size))      # (m,) the mean step
    means, lows, highs = {}, {}, {}
    for key, v in data.items():
        v = v[ok][order]
        finite = np.isfinite(v)                                    # NaN and inf are skipped, as the lines skip them
        count = np.add.reduceat(finite, starts)                    # (m,) finite values in each stretch
        empty = count == 0                                         # none: NaN, a gap in the line
        total = np.add.reduceat(np.where(finite, v, 0.0), starts)
        means[key] = np.where(empty, np.nan, total / np.maximum(count, 1))
        lows[key] = np.where(empty, np.nan, np.minimum.reduceat(np.where(finite, v, np.inf), starts))
        highs[key] = np.where(empty, np.nan, np.maximum.reduceat(np.where(finite, v, -np.inf), starts))
    return x, means, lows, highs
