"""2-D convolution (cross-correlation, as in every deep-learning library).

Forward, for output channel f at output pixel (a, b)::

    y[n, f, a, b] = bias[f] + sum_{c, i, j} W[f, c, i, j] * x_pad[n, c, a*sh + i, b*sw + j]

With ``cols = im2col(x)`` holding each window as a row, that sum is one GEMM,
and the three backward products are GEMMs too::

    y     = cols @ Wm.T          (N*Ho*Wo, C_out)      Wm = W as (C_out, kH*kW*C_in)
    dWm   = dy.T @ cols          (C_out, kH*kW*C_in)   each weight meets every window it touched
    dcols = dy @ Wm              (N*Ho*Wo, kH*kW*C_in) then col2im adds windows back: dx
    db    = sum of dy over N, Ho, Wo

``conv2d_naive`` below spells the forward out as loops, for reading; the tests
check the fast layer against it.
"""
from __future__ import annotations

import numpy as np

from .gemm import matmul_tn
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
        self.add_param("weight", init_uniform(rng, (self.out_channels, self.in_channels, kh, kw), fan_in, dtype))
        if bias:
            self.add_param("bias", init_uniform(rng, (self.out_channels,), fan_in, dtype))

    def forward(self, x):
        self.check_input(x, ("N", self.in_channels, "H", "W"))
        N, C, H, W = x.shape
        kh, kw = self.kernel_size
        Ho = conv_output_size(H, kh, self.stride[0], self.padding[0])
        Wo = conv_output_size(W, kw, self.stride[1], self.padding[1])
        if Ho < 1 or Wo < 1:
            raise ValueError(f"{self!r}: input {H}x{W} is smaller than the kernel {kh}x{kw} (after padding)")
        F = self.out_channels
        Wm = self.params["weight"].transpose(0, 2, 3, 1).reshape(F, kh * kw * C)  # (F, kH*kW*C), window order
        cols = im2col(x.transpose(0, 2, 3, 1), self.kernel_size, self.stride, self.padding)
        cols = cols.reshape(N * Ho * Wo, kh * kw * C)                                # (N*Ho*Wo, kH*kW*C)
        y = cols @ Wm.T                                                              # (N*Ho*Wo, F)
        if "bias" in self.params:
            y += self.params["bias"]
        self.cache = (cols, Wm, (N, C, H, W))
        return y.reshape(N, Ho, Wo, F).transpose(0, 3, 1, 2)                        # NCHW view of NHWC memory

    def backward(self, dy):
        cols, Wm, (N, C, H, W) = self.check_backward(dy)
        F, kh, kw = self.out_channels, *self.kernel_size
        Ho, Wo = dy.shape[2], dy.shape[3]
        dy2 = dy.transpose(0, 2, 3, 1).reshape(N * Ho * Wo, F)                      # (N*Ho*Wo, F)
        if self.requires_grad:
            dWm = matmul_tn(dy2, cols)                                               # dL/dWm = dy^T cols
            self.grads["weight"] += dWm.reshape(F, kh, kw, C).transpose(0, 3, 1, 2)
            if "bias" in self.params:
                self.grads["bias"] += dy2.sum(axis=0)                                # bias touches every pixel
        if not self.input_grad:
            return None                                                              # nobody needs dL/dx
        dcols = dy2 @ Wm                                                             # dL/dcols = dy Wm
        dx = col2im(dcols.reshape(N, Ho, Wo, kh, kw, C), (H, W), self.kernel_size, self.stride, self.padding)
        return dx.transpose(0, 3, 1, 2)                                              # (N, C, H, W)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, bias={'bias' in self.params}")


__all__ = ["Conv2d", "conv2d_naive"]
