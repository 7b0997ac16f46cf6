"""im2col and col2im: the two data movements behind every convolution.

A convolution slides a ``kH x kW`` window over the (zero-padded) input and takes a
dot product with the kernel at each position. **im2col** copies every window
into a row of a matrix, so the whole convolution becomes ONE matrix product
(a GEMM) -- the fastest thing a CPU or GPU does::

    cols = im2col(x)                 # (N*H_out*W_out, C*kH*kW)   one row per window
    y    = cols @ W.reshape(F, -1).T # (N*H_out*W_out, F)         PyTorch's weight (F, C, kH, kW), flattened

A row lists its window channel by channel, then row by row: ``(C, kH, kW)``,
the order of a PyTorch weight's last three axes, so the weight matrix is just
``W.reshape(F, C*kH*kW)``.

**col2im** is its adjoint (transpose): it adds every row back onto the window
it came from; overlapping windows add up. It is what convolution's backward
pass does with ``dcols``, and it is the whole forward pass of a *transposed*
convolution -- which is why ``conv_transpose2d.py`` uses these same two
functions the other way round.

Output size (PyTorch's formula, used everywhere)::

    H_out = floor((H + 2*pad_h - kH) / stride_h) + 1

The fast path (``minigan/fast/im2col.py``) computes the same windows in
channels-last memory, without the padded copy; the tests hold the two equal.
"""
from __future__ import annotations

from ..backend import get_array_module
from ..shapes import conv_output_size


def im2col(x, kernel, stride, padding):
    """Copy every kernel window of ``x`` into a row.

    x:      (N, C, H, W)
    return: (N*H_out*W_out, C*kH*kW), rows in (n, a, b) order, each window in (c, i, j) order

    Output pixel (a, b) reads padded input pixel (a*sh + i, b*sw + j) at kernel
    offset (i, j): one strided slice per offset gives that offset's value for
    every window at once.
    """
    xp = get_array_module(x)
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    N, C, H, W = x.shape
    Ho, Wo = conv_output_size(H, kh, sh, ph), conv_output_size(W, kw, sw, pw)
    x_pad = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))                  # (N, C, H + 2ph, W + 2pw)
    cols = xp.empty((N, C, kh, kw, Ho, Wo), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = x_pad[:, :, i : i + sh * Ho : sh, j : j + sw * Wo : sw]   # (N, C, Ho, Wo)
    return cols.transpose(0, 4, 5, 1, 2, 3).reshape(N * Ho * Wo, C * kh * kw)


def col2im(cols, shape, kernel, stride, padding):
    """Add every row of ``cols`` back onto its window: the adjoint of :func:`im2col`.

    cols:   (N*H_out*W_out, C*kH*kW), as :func:`im2col` makes them
    shape:  (N, C, H, W) of the image to rebuild (before padding)
    return: (N, C, H, W)

    For any x and c of matching shapes, ``<im2col(x), c> == <x, col2im(c)>``;
    the tests check exactly that. Add into a zero-padded image, offset by
    offset (overlapping windows add up), then cut the padding off.
    """
    xp = get_array_module(cols)
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    N, C, H, W = shape
    Ho, Wo = conv_output_size(H, kh, sh, ph), conv_output_size(W, kw, sw, pw)
    cols = cols.reshape(N, Ho, Wo, C, kh, kw).transpose(0, 3, 4, 5, 1, 2)    # (N, C, kH, kW, Ho, Wo)
    x_pad = xp.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            x_pad[:, :, i : i + sh * Ho : sh, j : j + sw * Wo : sw] += cols[:, :, i, j]   # window (a, b) -> pixels
    return x_pad[:, :, ph : ph + H, pw : pw + W]


__all__ = ["col2im", "conv_output_size", "im2col"]
