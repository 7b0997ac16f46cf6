"""BatchNorm's row formulas, fast: the same numbers as ``minigan/nn/batchnorm.py``, in place, on every core.

The plain ``batchnorm_rows_forward``/``_backward`` write each formula as one
line that makes a new array. Here each core works on its share of the rows
(``minigan/fast/cores.py``): the column sums come back one per share and are
added, the rest is written in place into arrays made once, and backward's two
means reuse the sums that give ``dbeta`` and ``dgamma``. docs/performance.md
has the measurements.
"""
from __future__ import annotations

from ..backend import get_array_module
from .cores import on_cores


def rows_forward(x, gamma, beta, eps):
    """x: (M, C) -> y (M, C), and the cache backward needs. Normalizes each column.

    Each core works on its share of the rows (``minigan/fast/cores.py``): the sums
    come back one per share and are added here, the rest is written in place.
    """
    xp = get_array_module(x)
    M = x.shape[0]
    mu = sum(on_cores(lambda x: x.sum(axis=0), x)) / M       # (C,) the mean of each column

    def centre(x, xc):
        xp.subtract(x, mu, out=xc)                           # (m, C) centred
        return xp.einsum("mc,mc->c", xc, xc)                 # sum of xc^2, no (m, C) temporary
    xc = xp.empty_like(x)
    var = sum(on_cores(centre, x, xc)) / M                   # (C,) biased variance: mean of xc^2
    inv_std = 1.0 / xp.sqrt(var + eps)                       # (C,)

    def normalize(x_hat, y):
        x_hat *= inv_std                                     # x_hat = xc / std, in place: xc is not needed again
        xp.multiply(x_hat, gamma, out=y)
        y += beta                                            # y = gamma * x_hat + beta
    x_hat, y = xc, xp.empty_like(x)
    on_cores(normalize, x_hat, y)
    return y, mu, var, (x_hat, inv_std)


def rows_backward(dy, gamma, cache):
    """dy: (M, C) -> (dx, dgamma, dbeta) for batch statistics (derived in minigan/nn/batchnorm.py)."""
    xp = get_array_module(dy)
    x_hat, inv_std = cache
    M = dy.shape[0]
    sums = on_cores(lambda dy, x_hat: (dy.sum(axis=0), xp.einsum("mc,mc->c", dy, x_hat)), dy, x_hat)
    dbeta = sum(s[0] for s in sums)                  # beta is added to every row
    dgamma = sum(s[1] for s in sums)                 # gamma scales x_hat: sum of dy * x_hat over rows
    mean_dx_hat = dbeta * gamma / M                  # mean(dx_hat) over rows, reusing dbeta
    mean_dx_hat_xhat = dgamma * gamma / M            # mean(dx_hat * x_hat), reusing dgamma

    def input_grad(dy, x_hat, dx):                   # some of the rows
        dx_hat = dy * gamma                          # (m, C)
        dx[...] = (dx_hat - mean_dx_hat - x_hat * mean_dx_hat_xhat) * inv_std   # paths via x_hat, mu and var
    dx = xp.empty_like(dy)
    on_cores(input_grad, dy, x_hat, dx)
    return dx, dgamma, dbeta


__all__ = ["rows_backward", "rows_forward"]
