"""Conv2d, fast: the plain layer's three GEMMs (``minigan/nn/conv2d.py``) in the order a CPU likes.

The same numbers as the plain path (``y = cols Wm^T``, ``dWm = dy^T cols``,
``dx = col2im(dy Wm)``), computed with the tricks of this package, each
measured in docs/performance.md:

- **Channels-last memory.** Activations are NCHW-shaped arrays with NHWC memory
  and the weight ``(C_out, C_in, kH, kW)`` is stored channels-last
  (:func:`~minigan.fast.im2col.channels_last_memory`), so ``Wm`` -- the weight
  as a matrix with rows in window order ``(kH, kW, C_in)`` -- is a view, and
  every window copy moves runs of C numbers.
- **Batch chunks.** The window matrix is built a few images at a time
  (:func:`~minigan.fast.im2col.batch_chunks`), so it stays in cache between
  im2col and the GEMM; the chunks' windows are **kept** for the weight
  gradient when the whole batch's fit in :data:`~minigan.fast.im2col.KEEP_BYTES`.
- **The blocked col2im** (``minigan/fast/col2im_blocked.py``): ``col2im(dy Wm)``
  as four GEMMs whose outputs add up in long contiguous runs.
- **The whole-image window** (D's last layer): im2col is a view.
- **Weight gradients in row order**, chunk by chunk straight into ``grads``
  (``minigan/fast/gemm.py::matmul_tn``).
"""
from __future__ import annotations

from ..backend import get_array_module
from ..shapes import conv_output_size
from . import Cache
from .col2im_blocked import group_weights, matmul_col2im
from .gemm import matmul_tn
from .im2col import KEEP_BYTES, batch_chunks, im2col


def forward(layer, x):
    """``(N, C_in, H, W) -> (N, C_out, H_out, W_out)``: :meth:`Conv2d.forward`, fast."""
    N, C, H, W = x.shape
    F, (kh, kw) = layer.out_channels, layer.kernel_size
    x_nhwc = x.transpose(0, 2, 3, 1)                                             # free for NHWC memory
    Wm = layer.params["weight"].transpose(0, 2, 3, 1).reshape(F, kh * kw * C)   # (F, kH*kW*C), window order
    y, windows = correlate(layer, x_nhwc, Wm, keep_windows=layer.requires_grad)  # (N, Ho, Wo, F) = cols Wm^T
    if "bias" in layer.params:
        y += layer.params["bias"]
    layer.cache = Cache((x_nhwc, Wm, windows))                                   # windows: for dL/dW only
    return y.transpose(0, 3, 1, 2)                                               # NCHW view of NHWC memory


def backward(layer, dy):
    """``dy`` (N, C_out, H_out, W_out) -> ``dx`` (N, C_in, H, W): :meth:`Conv2d.backward`, fast."""
    x_nhwc, Wm, windows = layer.check_backward(dy)
    xp = get_array_module(dy)
    N, H, W, C = x_nhwc.shape
    F, (kh, kw) = layer.out_channels, layer.kernel_size
    Ho, Wo = dy.shape[2], dy.shape[3]
    dy_nhwc = dy.transpose(0, 2, 3, 1)                                           # (N, Ho, Wo, F)
    if layer.requires_grad:
        add_weight_grad(layer, dy, x_nhwc.transpose(0, 3, 1, 2), windows)       # dL/dWm = dy^T cols
        if "bias" in layer.params:
            layer.grads["bias"] += dy_nhwc.sum(axis=(0, 1, 2))
    if not layer.input_grad:
        return None
    dx = xp.empty((N, H, W, C), dtype=dy.dtype)
    grouped = group_weights(Wm, layer.kernel_size, layer.stride)                # Wm in pixel-block order
    for b in batch_chunks(dy, Ho * Wo * kh * kw * C * dy.itemsize):
        dy2 = dy_nhwc[b].reshape(-1, F)                                          # (n*Ho*Wo, F)
        matmul_col2im(dy2, Wm, grouped, layer.kernel_size, layer.stride, layer.padding, out=dx[b])  # col2im(dy Wm)
    return dx.transpose(0, 3, 1, 2)                                              # (N, C, H, W)


def correlate(layer, x_nhwc, Wm, keep_windows=False):
    """``y = cols Wm^T``, the convolution without bias: (N, H, W, C_in) -> (N, H_out, W_out, C_out).

    Returns ``(y, windows)``: with ``keep_windows``, each chunk's ``(batch
    slice, window matrix)`` when the whole batch's windows come to at most
    ``KEEP_BYTES`` (backward's weight product reuses them); else None
    (backward rebuilds each chunk's windows: less memory).
    """
    xp = get_array_module(x_nhwc)
    N, H, W, C = x_nhwc.shape
    F, (kh, kw) = Wm.shape[0], layer.kernel_size
    Ho = conv_output_size(H, kh, layer.stride[0], layer.padding[0])
    Wo = conv_output_size(W, kw, layer.stride[1], layer.padding[1])
    y = xp.empty((N, Ho, Wo, F), dtype=x_nhwc.dtype)
    keep = keep_windows and N * Ho * Wo * kh * kw * C * x_nhwc.itemsize <= KEEP_BYTES
    windows = []
    for b in batch_chunks(x_nhwc, Ho * Wo * kh * kw * C * x_nhwc.itemsize):    # a few images at a time
        cols = window_matrix(layer, x_nhwc[b])                                   # (n*Ho*Wo, kH*kW*C)
        xp.matmul(cols, Wm.T, out=y[b].reshape(-1, F))                          # y = cols Wm^T
        if keep:
            windows.append((b, cols))
    return y, (windows or None)


def add_weight_grad(layer, dy, x, windows=None):
    """``grads["weight"] += dy^T cols(x)``, chunk by chunk: :meth:`Conv2d.add_weight_grad`, fast.

    ``windows``: the chunks' window matrices if forward kept them, else None (rebuilt here).
    """
    x_nhwc, dy_nhwc = x.transpose(0, 2, 3, 1), dy.transpose(0, 2, 3, 1)
    C, F, (kh, kw) = x_nhwc.shape[3], layer.out_channels, layer.kernel_size
    Ho, Wo = dy.shape[2], dy.shape[3]
    dW = layer.grads["weight"].transpose(0, 2, 3, 1)                            # (C_out, kH, kW, C_in): Wm's order
    if windows is None:                                                          # not kept: rebuilt per chunk
        windows = [(b, None) for b in batch_chunks(dy, Ho * Wo * kh * kw * C * dy.itemsize)]
    for b, cols in windows:
        cols = window_matrix(layer, x_nhwc[b]) if cols is None else cols         # (n*Ho*Wo, kH*kW*C)
        dy2 = dy_nhwc[b].reshape(-1, F)                                          # (n*Ho*Wo, F)
        dW += matmul_tn(dy2, cols).reshape(dW.shape)                             # dL/dWm = dy^T cols, chunk by chunk


def tangent(layer, x_dot):
    """``x_dot`` (N, C_in, H, W) -> the convolution of ``x_dot`` without bias: :meth:`Conv2d.tangent`, fast."""
    _, Wm, _ = layer.check_backward(x_dot)
    y_dot, _ = correlate(layer, x_dot.transpose(0, 2, 3, 1), Wm)
    return y_dot.transpose(0, 3, 1, 2)


def window_matrix(layer, x_nhwc):
    """The window matrix of a chunk of images: (n*H_out*W_out, kH*kW*C_in)."""
    cols = im2col(x_nhwc, layer.kernel_size, layer.stride, layer.padding)
    return cols.reshape(-1, cols.shape[3] * cols.shape[4] * cols.shape[5])


__all__ = ["add_weight_grad", "backward", "correlate", "forward", "tangent", "window_matrix"]
