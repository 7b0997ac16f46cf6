"""ConvTranspose2d, fast: the plain layer's products (``minigan/nn/conv_transpose2d.py``) as a CPU likes them.

The same numbers as ``y = col2im(x Wm)``, ``dx = im2col(dy) Wm^T`` and
``dWm = x^T im2col(dy)``, with the tricks of ``minigan/fast/conv2d.py``:
channels-last memory (``Wm`` a view of the channels-last weight), batch
chunks, the blocked col2im for the forward (G's upsampling), the whole-image
window (G's first layer) and weight gradients in row order, added chunk by
chunk straight into ``grads``. docs/performance.md has the measurements.
"""
from __future__ import annotations

from ..backend import get_array_module
from . import Cache
from .col2im_blocked import group_weights, matmul_col2im
from .gemm import matmul_tn
from .im2col import batch_chunks, im2col


def forward(layer, x):
    """``(N, C_in, H, W) -> (N, C_out, H_out, W_out)``: :meth:`ConvTranspose2d.forward`, fast."""
    xp = get_array_module(x)
    N, C, H, W = x.shape
    F, (kh, kw) = layer.out_channels, layer.kernel_size
    Ho, Wo = layer.output_size(H, W)
    Wm = layer.params["weight"].transpose(0, 2, 3, 1).reshape(C, kh * kw * F)  # (C_in, kH*kW*C_out), a view
    x_nhwc = x.transpose(0, 2, 3, 1)                                            # free for NHWC memory
    y = xp.empty((N, Ho, Wo, F), dtype=x.dtype)
    grouped = group_weights(Wm, layer.kernel_size, layer.stride)                # Wm's columns in pixel-block order
    for b in batch_chunks(x, H * W * kh * kw * F * x.itemsize):                # a few images at a time
        x2 = x_nhwc[b].reshape(-1, C)                                           # (n*H*W, C_in): one stamp per row
        matmul_col2im(x2, Wm, grouped, layer.kernel_size, layer.stride, layer.padding, out=y[b])  # y = col2im(x Wm)
    if "bias" in layer.params:
        y += layer.params["bias"]                                               # (N, Ho, Wo, F)
    layer.cache = Cache((x_nhwc, Wm))
    return y.transpose(0, 3, 1, 2)                                              # NCHW view of NHWC memory


def backward(layer, dy):
    """``dy`` (N, C_out, H_out, W_out) -> ``dx`` (N, C_in, H, W): :meth:`ConvTranspose2d.backward`, fast."""
    x_nhwc, Wm = layer.check_backward(dy)
    xp = get_array_module(dy)
    N, H, W, C = x_nhwc.shape
    F, (kh, kw) = layer.out_channels, layer.kernel_size
    dy_nhwc = dy.transpose(0, 2, 3, 1)                                          # (N, Ho, Wo, F)
    dW = layer.grads["weight"].transpose(0, 2, 3, 1) if layer.requires_grad else None   # a view in Wm's order
    dx = xp.empty((N, H, W, C), dtype=dy.dtype) if layer.input_grad else None
    for b in batch_chunks(dy, H * W * kh * kw * F * dy.itemsize):
        dcols = im2col(dy_nhwc[b], layer.kernel_size, layer.stride, layer.padding)  # (n, H, W, kH, kW, F)
        dcols = dcols.reshape(-1, kh * kw * F)                                   # the dy under each input pixel's stamp
        if dW is not None:
            dW += matmul_tn(x_nhwc[b].reshape(-1, C), dcols).reshape(dW.shape)  # dL/dWm = x^T dcols, chunk by chunk
        if dx is not None:
            xp.matmul(dcols, Wm.T, out=dx[b].reshape(-1, C))                   # dL/dx = dcols Wm^T
    if dW is not None and "bias" in layer.params:
        layer.grads["bias"] += dy_nhwc.sum(axis=(0, 1, 2))
    return None if dx is None else dx.transpose(0, 3, 1, 2)                     # (N, C, H, W); None: not needed


__all__ = ["backward", "forward"]
