"""``col2im(a @ Wm)`` in pixel blocks: the overlap-add without its slow strided adds.

Two products in minigan end in a col2im: a transposed convolution's forward
(``y = col2im(x @ Wm)``) and a convolution's input gradient
(``dx = col2im(dy @ Wm)``). The plain way (``minigan/nn/im2col.py::col2im``)
does one GEMM and then kH*kW strided adds, each moving runs of only C numbers
to every stride-th pixel. Those adds are slow (NumPy's inner loop is C numbers
long): for dcgan64's second conv they take most of the GEMM's own time.

When the kernel is a multiple of the stride -- every DCGAN layer: kernel 4,
stride 2 -- there is a better order. Cut the (padded) image into blocks of
``sh x sw`` pixels. Window ``a`` starts at block ``a``, and kernel offset
``i = di*sh + pi`` lands in block ``a + di`` at row ``pi`` of the block::

    padded row  a*sh + i  =  (a + di)*sh + pi        di = i // sh,  pi = i % sh

So the kH*kW offsets fall into ``(kH/sh) * (kW/sw)`` groups (4 for DCGAN), and
the offsets of one group fill one whole block: ``sh*sw*C`` numbers that sit
side by side in a blocked image of shape ``(N, H_blocks, W_blocks, sh, sw, C)``.
Per group, one GEMM with that group's columns of ``Wm`` gives a contiguous
``(n*H_out*W_out, sh*sw*C)`` slab, added into the blocked image with long
contiguous runs. At the end the blocks are unpacked into the image (one
assignment per position in the block, no adds). The GEMMs do the same
multiply-adds as the single big one, just grouped; on DCGAN layers the whole
thing takes less time than GEMM + col2im (docs/performance.md has the figures).

This is the "space-to-depth" view of a strided convolution: a stride-s
convolution of an image is a stride-1 convolution of its s x s pixel blocks.
"""
from __future__ import annotations

from ..backend import get_array_module
from .cores import on_cores
from .gemm import matmul
from ..shapes import conv_output_size
from .im2col import col2im, whole_image_window, windows_inside


def blocked(kernel, stride) -> bool:
    """Whether the blocked path applies: stride > 1 and the kernel a multiple of it."""
    (kh, kw), (sh, sw) = kernel, stride
    return (sh > 1 or sw > 1) and kh % sh == 0 and kw % sw == 0


def group_weights(Wm, kernel, stride):
    """Reorder the columns of ``Wm`` into block groups (once per layer call, for all its chunks).

    Wm:     (R, kH*kW*C), columns in window order (i, j, c)
    return: (kH/sh, kW/sw, R, sh*sw*C): group (di, dj) holds the columns of
            offsets i = di*sh + pi, j = dj*sw + pj, in block order (pi, pj, c);
            None where :func:`blocked` says no (then :func:`matmul_col2im` takes the plain way)
    """
    if not blocked(kernel, stride):
        return None
    xp = get_array_module(Wm)
    (kh, kw), (sh, sw) = kernel, stride
    R = Wm.shape[0]
    W6 = Wm.reshape(R, kh // sh, sh, kw // sw, sw, -1)                 # (R, di, pi, dj, pj, c)
    return xp.ascontiguousarray(W6.transpose(1, 3, 0, 2, 4, 5)).reshape(kh // sh, kw // sw, R, -1)


def matmul_col2im(a, Wm, grouped, kernel, stride, padding, out):
    """``out = col2im(a @ Wm)``: every row of ``a @ Wm`` added back onto its window.

    a:        (n*H_out*W_out, R)     one row per window (per input pixel of a transposed conv),
                                     windows in (n, H_out, W_out) order
    Wm:       (R, kH*kW*C)           columns in window order (i, j, c)
    grouped:  ``group_weights(Wm, kernel, stride)``
    out:      (n, H, W, C)           the image, written in place (any strides)
    """
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    n, H, W, C = out.shape
    Ho, Wo = conv_output_size(H, kh, sh, ph), conv_output_size(W, kw, sw, pw)
    if grouped is None and whole_image_window((H, W), kernel, padding) and out.flags.c_contiguous:
        matmul(a, Wm, out=out.reshape(n, H * W * C))                     # one window: the rows are the images
        return out
    if grouped is None:                                                  # the plain way
        cols = matmul(a, Wm).reshape(n, Ho, Wo, kh, kw, C)
        return col2im(cols, (H, W), kernel, stride, padding, out=out)
    kbh, kbw = kh // sh, kw // sw                                        # kernel size in blocks
    slabs = [matmul(a, grouped[di, dj]).reshape(n, Ho, Wo, -1)          # offsets (di*sh + pi, dj*sw + pj):
             for di in range(kbh) for dj in range(kbw)]                  # (n, Ho, Wo, sh*sw*C), contiguous

    def add_and_unpack(out, *slabs):                                     # each core, its share of the images
        overlap_add(out, slabs, (kbh, kbw), stride, padding)
    on_cores(add_and_unpack, out, *slabs)
    return out


def overlap_add(out, slabs, kernel_blocks, stride, padding):
    """``out`` (n, H, W, C) from the groups' slabs: each added into the pixel blocks, which are then unpacked.

    slabs:         kbh*kbw arrays (n, H_out, W_out, sh*sw*C), group (di, dj) at ``di*kbw + dj``
                   (together as big as the chunk's window matrix; all made before the adds, so
                   that the adds and the unpacking are one hand-off to the cores, not five)
    kernel_blocks: (kbh, kbw), the kernel's size in blocks
    """
    xp = get_array_module(out)
    n, H, W, C = out.shape
    (kbh, kbw), (sh, sw), (_, Ho, Wo, _) = kernel_blocks, stride, slabs[0].shape
    Hb, Wb = Ho + kbh - 1, Wo + kbw - 1                                  # blocks the windows reach
    blocks = xp.empty((n, Hb, Wb, sh * sw * C), dtype=out.dtype)
    blocks[:, :Ho, :Wo, :] = slabs[0]                                    # group (0, 0): a copy, not zeros + add;
    blocks[:, Ho:, :, :] = 0                                             # the blocks it does not reach start at 0
    blocks[:, :Ho, Wo:, :] = 0
    for di in range(kbh):
        for dj in range(kbw):
            if di or dj:
                blocks[:, di : di + Ho, dj : dj + Wo, :] += slabs[di * kbw + dj]   # window (a,b) -> block (a+di, b+dj)
    unpack(out, blocks.reshape(n, Hb, Wb, sh, sw, C), padding)


def unpack(out, blocks, padding):
    """The image from its pixel blocks: ``out`` (n, H, W, C) from ``blocks`` (n, Hb, Wb, sh, sw, C).

    Row ``pi`` of block ``u`` is padded row ``u*sh + pi``, i.e. image row ``u*sh + pi - ph``:
    one strided assignment per position in the block, no adds.
    """
    n, H, W, C = out.shape
    _, Hb, Wb, sh, sw, _ = blocks.shape
    (ph, pw) = padding
    if (Hb * sh - ph < H) or (Wb * sw - pw < W):                         # image pixels no window reaches
        out[...] = 0
    for pi in range(sh):
        u0, u1, r0 = windows_inside(pi, sh, ph, H, Hb)
        for pj in range(sw):
            v0, v1, c0 = windows_inside(pj, sw, pw, W, Wb)
            if u1 > u0 and v1 > v0:
                out[:, r0 : r0 + sh * (u1 - u0) : sh, c0 : c0 + sw * (v1 - v0) : sw, :] = blocks[:, u0:u1, v0:v1, pi, pj, :]


__all__ = ["blocked", "group_weights", "matmul_col2im"]
