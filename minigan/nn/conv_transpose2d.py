"""Transposed 2-D convolution: the adjoint of :class:`~minigan.nn.conv2d.Conv2d`.

The generator's upsampling layer. Each *input* pixel stamps a ``kH x kW``
copy of the kernel, scaled by its value, onto the output at stride
``s``; overlapping stamps add up::

    y[n, o, a*sh + i - ph, b*sw + j - pw] += sum_c x[n, c, a, b] * W[c, o, i, j]

That is exactly what convolution's backward pass does with its output
gradient, so the code is convolution's code run backwards (same
``im2col``/``col2im``, the products swapped), with ``x`` as a matrix of one
row per input pixel::

    cols  = x @ Wm                (N*H*W, C_out*kH*kW)   Wm = W.reshape(C_in, C_out*kH*kW)
    y     = col2im(cols)          (N, C_out, H_out, W_out): stamps added into place
    dcols = im2col(dy)            (N*H*W, C_out*kH*kW): each input pixel gathers the dy under its stamp
    dx    = dcols @ Wm.T          (N*H*W, C_in)
    dWm   = x.T @ dcols           (C_in, C_out*kH*kW)

The code below is exactly those lines; ``minigan/fast/conv_transpose2d.py``
computes the same numbers faster, when :func:`minigan.fast.enabled`.

Output size (the inverse of convolution's formula)::

    H_out = (H - 1)*stride - 2*padding + kH + output_padding

``output_padding`` (< stride) picks among the output sizes that a stride-s
convolution would map back to ``H``.
"""
from __future__ import annotations

import numpy as np

from .. import fast
from ..fast import conv_transpose2d as fast_conv_transpose2d
from ..fast.im2col import channels_last_memory
from ..shapes import conv_transpose_output_size
from .im2col import col2im, im2col
from .module import Module, init_uniform, pair


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


def conv_transpose2d_backward_naive(x, W, dy, stride=(1, 1), padding=(0, 0)):
    """Loop version of the backward pass (each stamp sends its dy back), for reading: ``(dx, dW, db)``.

    Input pixel (a, d) stamped ``x[n, c, a, d] * W[c]`` onto the output, so it
    gets back the dy under its stamp, times the kernel, and the kernel gets the
    dy under the stamp times the pixel's value.
    """
    N, C, H, Wd = x.shape
    _, F, kh, kw = W.shape
    (sh, sw), (ph, pw) = stride, padding
    dypad = np.zeros((N, F, dy.shape[2] + 2 * ph + kh, dy.shape[3] + 2 * pw + kw), dtype=dy.dtype)
    dypad[:, :, ph : ph + dy.shape[2], pw : pw + dy.shape[3]] = dy       # zeros where stamps fell in the padding
    dx, dW = np.zeros_like(x), np.zeros_like(W)
    for n in range(N):
        for c in range(C):
            for a in range(H):
                for d in range(Wd):
                    under = dypad[n, :, a * sh : a * sh + kh, d * sw : d * sw + kw]   # (F, kH, kW): dy under the stamp
                    dx[n, c, a, d] = np.sum(under * W[c])
                    dW[c] += x[n, c, a, d] * under
    return dx, dW, dy.sum(axis=(0, 2, 3))


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
        N, C, H, W = x.shape
        F, (kh, kw) = self.out_channels, self.kernel_size
        Ho, Wo = self.output_size(H, W)
        if Ho < 1 or Wo < 1:
            raise ValueError(f"{self!r}: input {H}x{W} gives an empty output ({Ho}x{Wo}); reduce padding")
        if fast.enabled():
            return fast_conv_transpose2d.forward(self, x)                    # the same numbers, faster
        x2 = x.transpose(0, 2, 3, 1).reshape(N * H * W, C)                   # (N*H*W, C_in): a row per input pixel
        cols = x2 @ self.params["weight"].reshape(C, F * kh * kw)            # (N*H*W, F*kH*kW): each pixel's stamp
        y = col2im(cols, (N, F, Ho, Wo), self.kernel_size, self.stride, self.padding)   # stamps added into place
        if "bias" in self.params:
            y += self.params["bias"].reshape(1, F, 1, 1)
        self.cache = (x2, x.shape)
        return y                                                             # (N, F, Ho, Wo)

    def backward(self, dy):
        if fast.made(self.cache):
            return fast_conv_transpose2d.backward(self, dy)
        x2, x_shape = self.check_backward(dy)
        W = self.params["weight"]
        dcols = im2col(dy, self.kernel_size, self.stride, self.padding)      # (N*H*W, F*kH*kW): dy under each stamp
        if self.requires_grad:
            self.grads["weight"] += (x2.T @ dcols).reshape(W.shape)          # dL/dWm = x^T dcols
            if "bias" in self.params:
                self.grads["bias"] += dy.sum(axis=(0, 2, 3))                 # the bias touches every pixel
        if not self.input_grad:
            return None                                                      # nobody needs dL/dx
        dx = dcols @ W.reshape(self.in_channels, -1).T                        # (N*H*W, C_in): dL/dx = dcols Wm^T
        N, C, H, Wd = x_shape
        return dx.reshape(N, H, Wd, C).transpose(0, 3, 1, 2)                 # (N, C_in, H, W)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}, padding={self.padding}")
        if any(self.output_padding):
            s += f", output_padding={self.output_padding}"
        return s + f", bias={'bias' in self.params}"
