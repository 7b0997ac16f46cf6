"""Transposed 2-D convolution: the adjoint of :class:`~minigan.nn.conv2d.Conv2d`.

The generator's upsampling layer. Each *input* pixel stamps a ``kH x kW``
copy of the kernel, scaled by its value, onto the output at stride
``s``; overlapping stamps add up::

    y[n, o, a*sh + i - ph, b*sw + j - pw] += sum_c x[n, c, a, b] * W[c, o, i, j]

That is exactly what convolution's backward pass does with its output
gradient, so the code is convolution's code run backwards (same
``im2col``/``col2im``, the products swapped)::

    cols  = x @ Wm                (N*H*W, kH*kW*C_out)   Wm = W as (C_in, kH*kW*C_out)
    y     = col2im(cols)          (N, H_out, W_out, C_out): stamps added into place
    dcols = im2col(dy)            each input pixel gathers the dy under its stamp
    dx    = dcols @ Wm.T          (N*H*W, C_in)
    dWm   = x.T @ dcols           (C_in, kH*kW*C_out)

Output size (the inverse of convolution's formula)::

    H_out = (H - 1)*stride - 2*padding + kH + output_padding

``output_padding`` (< stride) picks among the output sizes that a stride-s
convolution would map back to ``H``.
"""
from __future__ import annotations

import numpy as np

from ..fast.gemm import matmul_tn
from ..backend import get_array_module
from ..fast.col2im_blocked import group_weights, matmul_col2im
from .im2col import batch_chunks, channels_last_memory, im2col
from .module import Module, init_uniform, pair


def conv_transpose_output_size(size, kernel, stride, padding, output_padding=0):
    """``(size - 1)*stride - 2*padding + kernel + output_padding``."""
    return (size - 1) * stride - 2 * padding + kernel + output_padding


def conv_transpose2d_naive(x, W, b, stride=(1, 1), padding=(0, 0), output_padding=(0, 0)):
    """Loop version of the forward pass (stamp the kernel per input pixel), for reading.

    x: (N, C_in, H, W)   W: (C_in, C_out, kH, kW)   b: (C_out,) or None
    return: (N, C_out, H_out, W_out)
    """
    N, C, H, Wd = x.shape
    _, F, kh, kw = W.shape
    (sh, sw), (ph, pw), (oph, opw) = stride, padding, output_padding
    Ho = conv_transpose_output_size(H, kh, sh, ph, oph)
    Wo = conv_transpose_output_size(Wd, kw, sw, pw, opw)
    ypad = np.zeros((N, F, Ho + 2 * ph, Wo + 2 * pw), dtype=x.dtype)   # room for stamps that fall in the padding
    for n in range(N):
        for c in range(C):
            for a in range(H):
                for d in range(Wd):
                    ypad[n, :, a * sh : a * sh + kh, d * sw : d * sw + kw] += x[n, c, a, d] * W[c]
    y = ypad[:, :, ph : ph + Ho, pw : pw + Wo]                          # the padding is cropped away
    return y + (0 if b is None else b.reshape(1, F, 1, 1))


class ConvTranspose2d(Module):
    """``(N, C_in, H, W) -> (N, C_out, H_out, W_out)``, weight ``(C_in, C_out, kH, kW)``.

    Same signature and weight layout as ``torch.nn.ConvTranspose2d`` (no dilation or groups).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, bias=True, *, dtype=None, rng=None):
        super().__init__()
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = pair(stride, "stride")
        self.padding = pair(padding, "padding")
        self.output_padding = pair(output_padding, "output_padding")
        if min(self.kernel_size) < 1 or min(self.stride) < 1 or min(self.padding) < 0:
            raise ValueError(f"ConvTranspose2d: need kernel_size >= 1, stride >= 1, padding >= 0; got {self.extra_repr()}")
        if any(op < 0 or op >= s for op, s in zip(self.output_padding, self.stride)):
            raise ValueError(f"ConvTranspose2d: output_padding must be >= 0 and smaller than stride; got "
                             f"output_padding={self.output_padding}, stride={self.stride}")
        kh, kw = self.kernel_size
        fan_in = self.out_channels * kh * kw      # PyTorch computes fan_in from weight.shape[1:]
        weight = init_uniform(rng, (self.in_channels, self.out_channels, kh, kw), fan_in, dtype)
        self.add_param("weight", channels_last_memory(weight))   # PyTorch's shape, channels-last memory
        if bias:
            self.add_param("bias", init_uniform(rng, (self.out_channels,), fan_in, dtype))

    def output_size(self, H, W):
        (kh, kw), (sh, sw), (ph, pw), (oph, opw) = self.kernel_size, self.stride, self.padding, self.output_padding
        return (conv_transpose_output_size(H, kh, sh, ph, oph), conv_transpose_output_size(W, kw, sw, pw, opw))

    def forward(self, x):
        self.check_input(x, ("N", self.in_channels, "H", "W"))
        xp = get_array_module(x)
        N, C, H, W = x.shape
        F, (kh, kw) = self.out_channels, self.kernel_size
        Ho, Wo = self.output_size(H, W)
        if Ho < 1 or Wo < 1:
            raise ValueError(f"{self!r}: input {H}x{W} gives an empty output ({Ho}x{Wo}); reduce padding")
        Wm = self.params["weight"].transpose(0, 2, 3, 1).reshape(C, kh * kw * F)  # (C_in, kH*kW*C_out)
        x_nhwc = x.transpose(0, 2, 3, 1)                                            # free for NHWC memory
        y = xp.empty((N, Ho, Wo, F), dtype=x.dtype)
        grouped = group_weights(Wm, self.kernel_size, self.stride)                  # Wm's columns in pixel-block order
        for b in batch_chunks(x, H * W * kh * kw * F * x.itemsize):                # a few images at a time
            x2 = x_nhwc[b].reshape(-1, C)                                           # (n*H*W, C_in): one stamp per row
            matmul_col2im(x2, Wm, grouped, self.kernel_size, self.stride, self.padding, out=y[b])  # y = col2im(x Wm)
        if "bias" in self.params:
            y += self.params["bias"]                                                # (N, Ho, Wo, F)
        self.cache = (x_nhwc, Wm)
        return y.transpose(0, 3, 1, 2)                                              # NCHW view of NHWC memory

    def backward(self, dy):
        x_nhwc, Wm = self.check_backward(dy)
        xp = get_array_module(dy)
        N, H, W, C = x_nhwc.shape
        F, (kh, kw) = self.out_channels, self.kernel_size
        dy_nhwc = dy.transpose(0, 2, 3, 1)                                          # (N, Ho, Wo, F)
        dW = self.grads["weight"].transpose(0, 2, 3, 1) if self.requires_grad else None   # (C_in, kH, kW, C_out)
        dx = xp.empty((N, H, W, C), dtype=dy.dtype) if self.input_grad else None       # dW: a view in Wm's order
        for b in batch_chunks(dy, H * W * kh * kw * F * dy.itemsize):
            dcols = im2col(dy_nhwc[b], self.kernel_size, self.stride, self.padding)  # (n, H, W, kH, kW, F)
            dcols = dcols.reshape(-1, kh * kw * F)                                   # the dy under each input pixel's stamp
            if dW is not None:
                dW += matmul_tn(x_nhwc[b].reshape(-1, C), dcols).reshape(dW.shape)  # dL/dWm = x^T dcols, chunk by chunk
            if dx is not None:
                xp.matmul(dcols, Wm.T, out=dx[b].reshape(-1, C))                   # dL/dx = dcols Wm^T
        if dW is not None and "bias" in self.params:
            self.grads["bias"] += dy_nhwc.sum(axis=(0, 1, 2))
        return None if dx is None else dx.transpose(0, 3, 1, 2)                     # (N, C, H, W); None: not needed

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}, padding={self.padding}")
        if any(self.output_padding):
            s += f", output_padding={self.output_padding}"
        return s + f", bias={'bias' in self.params}"
