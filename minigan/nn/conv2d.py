"""2-D convolution (cross-correlation, as in every deep-learning library).

Forward, for output channel f at output pixel (a, b)::

    y[n, f, a, b] = bias[f] + sum_{c, i, j} W[f, c, i, j] * x_pad[n, c, a*sh + i, b*sw + j]

With ``cols = im2col(x)`` holding each window as a row, that sum is one GEMM,
and the three backward products are GEMMs too::

    y     = cols @ Wm.T          (N*Ho*Wo, C_out)      Wm = W as (C_out, kH*kW*C_in)
    dWm   = dy.T @ cols          (C_out, kH*kW*C_in)   each weight meets every window it touched
    dcols = dy @ Wm              (N*Ho*Wo, kH*kW*C_in) then col2im adds windows back: dx
    db    = sum of dy over N, Ho, Wo

Second-order pass (the gradient penalties, ``minigan/penalties.py``): ``tangent(x_dot)``
is the same GEMM on ``x_dot`` without bias, and ``add_weight_grad(dy, x_dot)``
the same ``dy^T cols`` product at another input.

``conv2d_naive`` below spells the forward out as loops, for reading; the tests
check the fast layer against it.
"""
from __future__ import annotations

import numpy as np

from ..fast.gemm import matmul_tn
from ..backend import get_array_module
from ..fast.col2im_blocked import group_weights, matmul_col2im
from .im2col import KEEP_BYTES, batch_chunks, channels_last_memory, conv_output_size, im2col
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
        self.add_param("weight", channels_last_memory(weight))   # PyTorch's shape, channels-last memory
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
        x_nhwc = x.transpose(0, 2, 3, 1)                                             # free for NHWC memory
        Wm = self.params["weight"].transpose(0, 2, 3, 1).reshape(F, kh * kw * C)  # (F, kH*kW*C), window order
        y, windows = self.correlate(x_nhwc, Wm, keep_windows=self.requires_grad)     # (N, Ho, Wo, F) = cols Wm^T
        if "bias" in self.params:
            y += self.params["bias"]
        self.cache = (x_nhwc, Wm, windows)                                           # windows: for dL/dW only
        return y.transpose(0, 3, 1, 2)                                               # NCHW view of NHWC memory

    def backward(self, dy):
        x_nhwc, Wm, windows = self.check_backward(dy)
        xp = get_array_module(dy)
        N, H, W, C = x_nhwc.shape
        F, (kh, kw) = self.out_channels, self.kernel_size
        Ho, Wo = dy.shape[2], dy.shape[3]
        dy_nhwc = dy.transpose(0, 2, 3, 1)                                           # (N, Ho, Wo, F)
        if self.requires_grad:
            self.add_weight_grad(dy, x_nhwc.transpose(0, 3, 1, 2), windows)          # dL/dWm = dy^T cols
            if "bias" in self.params:
                self.grads["bias"] += dy_nhwc.sum(axis=(0, 1, 2))                   # bias touches every pixel
        if not self.input_grad:
            return None                                                              # nobody needs dL/dx
        dx = xp.empty((N, H, W, C), dtype=dy.dtype)
        grouped = group_weights(Wm, self.kernel_size, self.stride)                  # Wm in pixel-block order
        for b in batch_chunks(dy, Ho * Wo * kh * kw * C * dy.itemsize):
            dy2 = dy_nhwc[b].reshape(-1, F)                                          # (n*Ho*Wo, F)
            matmul_col2im(dy2, Wm, grouped, self.kernel_size, self.stride, self.padding, out=dx[b])  # dL/dx = col2im(dy Wm)
        return dx.transpose(0, 3, 1, 2)                                              # (N, C, H, W)

    def correlate(self, x_nhwc, Wm, keep_windows=False):
        """``y = cols Wm^T``, the convolution without bias: (N, H, W, C_in) -> (N, H_out, W_out, C_out).

        Returns ``(y, windows)``: with ``keep_windows``, each chunk's ``(batch
        slice, window matrix)`` when the whole batch's windows come to at most
        ``KEEP_BYTES`` (backward's weight product reuses them); else None
        (backward rebuilds each chunk's windows: less memory).
        """
        xp = get_array_module(x_nhwc)
        N, H, W, C = x_nhwc.shape
        F, (kh, kw) = Wm.shape[0], self.kernel_size
        Ho = conv_output_size(H, kh, self.stride[0], self.padding[0])
        Wo = conv_output_size(W, kw, self.stride[1], self.padding[1])
        y = xp.empty((N, Ho, Wo, F), dtype=x_nhwc.dtype)
        keep = keep_windows and N * Ho * Wo * kh * kw * C * x_nhwc.itemsize <= KEEP_BYTES
        windows = []
        for b in batch_chunks(x_nhwc, Ho * Wo * kh * kw * C * x_nhwc.itemsize):    # a few images at a time
            cols = self.im2col(x_nhwc[b])                                            # (n*Ho*Wo, kH*kW*C)
            xp.matmul(cols, Wm.T, out=y[b].reshape(-1, F))                          # y = cols Wm^T
            if keep:
                windows.append((b, cols))
        return y, (windows or None)

    def add_weight_grad(self, dy, x, windows=None):
        """``grads["weight"] += dy^T cols(x)`` for ``dy`` (N, C_out, H_out, W_out) and ``x`` (N, C_in, H, W).

        Backward's weight product; ``backward`` calls it with the cached input
        (and the windows forward kept, if it did), the penalty's second-order
        pass with a tangent ``x_dot``. Otherwise each chunk's windows are rebuilt here.
        """
        x_nhwc, dy_nhwc = x.transpose(0, 2, 3, 1), dy.transpose(0, 2, 3, 1)
        C, F, (kh, kw) = x_nhwc.shape[3], self.out_channels, self.kernel_size
        Ho, Wo = dy.shape[2], dy.shape[3]
        dW = self.grads["weight"].transpose(0, 2, 3, 1)                             # (C_out, kH, kW, C_in): Wm's order
        if windows is None:                                                          # not kept: rebuilt per chunk
            windows = [(b, None) for b in batch_chunks(dy, Ho * Wo * kh * kw * C * dy.itemsize)]
        for b, cols in windows:
            cols = self.im2col(x_nhwc[b]) if cols is None else cols                  # (n*Ho*Wo, kH*kW*C)
            dy2 = dy_nhwc[b].reshape(-1, F)                                          # (n*Ho*Wo, F)
            dW += matmul_tn(dy2, cols).reshape(dW.shape)                             # dL/dWm = dy^T cols, chunk by chunk

    # -- the second-order pass (minigan.penalties) -------------------------------
    def tangent(self, x_dot):
        """``(N, C_in, H, W) -> (N, C_out, H_out, W_out)``: the convolution of ``x_dot``, without bias.

        Convolution is linear in x, so its change along x_dot is the same
        convolution applied to x_dot (with the weights of the latest forward);
        the bias shifts y but does not move with x.
        """
        _, Wm, _ = self.check_backward(x_dot)
        y_dot, _ = self.correlate(x_dot.transpose(0, 2, 3, 1), Wm)
        return y_dot.transpose(0, 3, 1, 2)

    def im2col(self, x_nhwc):
        """The window matrix of a chunk of images: (n*H_out*W_out, kH*kW*C_in)."""
        cols = im2col(x_nhwc, self.kernel_size, self.stride, self.padding)
        return cols.reshape(-1, cols.shape[3] * cols.shape[4] * cols.shape[5])

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, bias={'bias' in self.params}")


__all__ = ["Conv2d", "conv2d_naive"]
