"""2-D convolution (cross-correlation, as in every deep-learning library).

Forward, for output channel f at output pixel (a, b)::

    y[n, f, a, b] = bias[f] + sum_{c, i, j} W[f, c, i, j] * x_pad[n, c, a*sh + i, b*sw + j]

With ``cols = im2col(x)`` holding each window as a row (``minigan/nn/im2col.py``),
that sum is one GEMM, and the backward products are GEMMs too::

    y     = cols @ Wm.T          (N*Ho*Wo, C_out)      Wm = W.reshape(C_out, C_in*kH*kW)
    dWm   = dy.T @ cols          (C_out, C_in*kH*kW)   each weight meets every window it touched
    dcols = dy @ Wm              (N*Ho*Wo, C_in*kH*kW) then col2im adds windows back: dx
    db    = sum of dy over N, Ho, Wo

(``dy``: the upstream gradient, a row per output pixel.) The code below is exactly those
lines; ``minigan/fast/conv2d.py`` computes the same numbers faster, taken when
:func:`minigan.fast.enabled`, and the tests hold the two equal.

Second-order pass (the gradient penalties, ``minigan/penalties.py``): ``tangent(x_dot)``
is the same GEMM on ``x_dot`` without bias, and ``add_weight_grad(dy, x_dot)``
the same ``dy^T cols`` product at another input.

``conv2d_naive`` and ``conv2d_backward_naive`` below spell both passes out as
loops, for reading; the tests check the layer against them.
"""
from __future__ import annotations

import numpy as np

from .. import fast
from ..fast import conv2d as fast_conv2d
from ..fast.im2col import channels_last_memory
from .im2col import col2im, conv_output_size, im2col
from .module import Module, init_uniform, pair


def conv2d_naive(x, W, b, stride=(1, 1), padding=(0, 0)):
    """Loop version of the forward pass, for reading and as a test oracle.

    x: (N, C_in, H, W)   W: (C_out, C_in, kH, kW)   b: (C_out,) or None
    return: (N, C_out, H_out, W_out)
    """
    N, C, H, Wd = x.shape
    F, _, kh, kw = W.shape
    (sh, sw), (ph, pw) = stride, padding
    Ho, Wo = conv_output_size(H, kh, sh, ph), conv_output_size(Wd, kw, sw, pw)
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    y = np.zeros((N, F, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for a in range(Ho):
                for c in range(Wo):
                    window = xpad[n, :, a * sh : a * sh + kh, c * sw : c * sw + kw]
                    y[n, f, a, c] = np.sum(window * W[f]) + (0 if b is None else b[f])
    return y


def conv2d_backward_naive(x, W, dy, stride=(1, 1), padding=(0, 0)):
    """Loop version of the backward pass, for reading and as a test oracle: ``(dx, dW, db)``.

    Each output pixel's window sent ``W[f]`` times it forward, so backward sends
    ``dy[n, f, a, b]`` back along the same products: into every input pixel of
    the window (times the weight) and into every weight (times the input pixel).
    """
    N, C, H, Wd = x.shape
    F, _, kh, kw = W.shape
    (sh, sw), (ph, pw) = stride, padding
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dxpad, dW = np.zeros_like(xpad), np.zeros_like(W)
    for n in range(N):
        for f in range(F):
            for a in range(dy.shape[2]):
                for c in range(dy.shape[3]):
                    rows, cols = slice(a * sh, a * sh + kh), slice(c * sw, c * sw + kw)
                    dxpad[n, :, rows, cols] += dy[n, f, a, c] * W[f]           # d y / d window = W[f]
                    dW[f] += dy[n, f, a, c] * xpad[n, :, rows, cols]           # d y / d W[f] = the window
    return dxpad[:, :, ph : ph + H, pw : pw + Wd], dW, dy.sum(axis=(0, 2, 3))


class Conv2d(Module):
    """``(N, C_in, H, W) -> (N, C_out, H_out, W_out)``, weight ``(C_out, C_in, kH, kW)``.

    ``H_out = floor((H + 2*padding - kH) / stride) + 1``. Same signature and
    weight layout as ``torch.nn.Conv2d`` (no dilation or groups).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 bias=True, *, dtype=None, rng=None):
        super().__init__()
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = pair(stride, "stride")
        self.padding = pair(padding, "padding")
        if min(self.kernel_size) < 1 or min(self.stride) < 1 or min(self.padding) < 0:
            raise ValueError(f"Conv2d: need kernel_size >= 1, stride >= 1, padding >= 0; got {self.extra_repr()}")
        kh, kw = self.kernel_size
        fan_in = self.in_channels * kh * kw
        weight = init_uniform(rng, (self.out_channels, self.in_channels, kh, kw), fan_in, dtype)
        self.add_param("weight", channels_last_memory(weight))   # PyTorch's shape; memory as the fast path reads it
        if bias:
            self.add_param("bias", init_uniform(rng, (self.out_channels,), fan_in, dtype))

    def forward(self, x):
        self.check_input(x, ("N", self.in_channels, "H", "W"))
        N, C, H, W = x.shape
        F, (kh, kw) = self.out_channels, self.kernel_size
        Ho = conv_output_size(H, kh, self.stride[0], self.padding[0])
        Wo = conv_output_size(W, kw, self.stride[1], self.padding[1])
        if Ho < 1 or Wo < 1:
            raise ValueError(f"{self!r}: input {H}x{W} is smaller than the kernel {kh}x{kw} (after padding)")
        if fast.enabled():
            return fast_conv2d.forward(self, x)                  # the same numbers, faster (minigan/fast/)
        cols = im2col(x, self.kernel_size, self.stride, self.padding)   # (N*Ho*Wo, C*kH*kW): a window per row
        Wm = self.params["weight"].reshape(F, C * kh * kw)       # (F, C*kH*kW)
        y = cols @ Wm.T                                          # (N*Ho*Wo, F): every window times every filter
        if "bias" in self.params:
            y += self.params["bias"]
        self.cache = (x.shape, cols)
        return y.reshape(N, Ho, Wo, F).transpose(0, 3, 1, 2)     # (N, F, Ho, Wo)

    def backward(self, dy):
        if fast.made(self.cache):
            return fast_conv2d.backward(self, dy)
        x_shape, cols = self.check_backward(dy)
        W = self.params["weight"]
        dy2 = dy.transpose(0, 2, 3, 1).reshape(-1, self.out_channels)       # (N*Ho*Wo, F): a row per output pixel
        if self.requires_grad:
            self.grads["weight"] += (dy2.T @ cols).reshape(W.shape)          # dL/dWm = dy^T cols
            if "bias" in self.params:
                self.grads["bias"] += dy2.sum(axis=0)                        # the bias touches every pixel
        if not self.input_grad:
            return None                                                      # nobody needs dL/dx
        dcols = dy2 @ W.reshape(self.out_channels, -1)                       # (N*Ho*Wo, C*kH*kW): dL/dcols = dy Wm
        return col2im(dcols, x_shape, self.kernel_size, self.stride, self.padding)   # windows added back: dL/dx

    # -- the second-order pass (minigan.penalties) -------------------------------
    def tangent(self, x_dot):
        """``(N, C_in, H, W) -> (N, C_out, H_out, W_out)``: the convolution of ``x_dot``, without bias.

        Convolution is linear in x, so its change along x_dot is the same
        convolution applied to x_dot; the bias shifts y but does not move with x.
        """
        if fast.made(self.cache):
            return fast_conv2d.tangent(self, x_dot)
        self.check_backward(x_dot)
        N, _, H, W = x_dot.shape
        F, (kh, kw) = self.out_channels, self.kernel_size
        Ho = conv_output_size(H, kh, self.stride[0], self.padding[0])
        Wo = conv_output_size(W, kw, self.stride[1], self.padding[1])
        cols = im2col(x_dot, self.kernel_size, self.stride, self.padding)
        y_dot = cols @ self.params["weight"].reshape(F, -1).T                 # the forward's GEMM, on x_dot
        return y_dot.reshape(N, Ho, Wo, F).transpose(0, 3, 1, 2)

    def add_weight_grad(self, dy, x):
        """``grads["weight"] += dy^T cols(x)`` for ``dy`` (N, C_out, H_out, W_out) and ``x`` (N, C_in, H, W).

        Backward's weight product at another input: the penalty's second-order
        pass calls it with a tangent ``x_dot``.
        """
        if fast.made(self.cache):
            return fast_conv2d.add_weight_grad(self, dy, x)
        dy2 = dy.transpose(0, 2, 3, 1).reshape(-1, self.out_channels)       # (N*Ho*Wo, F)
        cols = im2col(x, self.kernel_size, self.stride, self.padding)       # (N*Ho*Wo, C*kH*kW)
        self.grads["weight"] += (dy2.T @ cols).reshape(self.params["weight"].shape)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, bias={'bias' in self.params}")


__all__ = ["Conv2d", "conv2d_backward_naive", "conv2d_naive"]
