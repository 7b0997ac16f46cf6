"""Output sizes of the sliding-window layers, PyTorch's formulas (one place for the plain and fast paths).

A convolution with kernel k, stride s and padding p fits ``floor((H + 2p - k) / s) + 1``
windows along an axis of size H; a transposed convolution, its adjoint, maps that
many positions back to ``(H - 1)*s - 2p + k + output_padding``.
"""
from __future__ import annotations


def conv_output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """``floor((size + 2*padding - kernel) / stride) + 1``."""
    return (size + 2 * padding - kernel) // stride + 1


def conv_transpose_output_size(size, kernel, stride, padding, output_padding=0):
    """``(size - 1)*stride - 2*padding + kernel + output_padding``."""
    return (size - 1) * stride - 2 * padding + kernel + output_padding


__all__ = ["conv_output_size", "conv_transpose_output_size"]
