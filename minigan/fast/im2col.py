"""im2col and col2im, fast: channels-last memory, one strided copy, no padded image.

The plain pair (``minigan/nn/im2col.py``) works on NCHW images and orders a
window ``(C, kH, kW)``. This pair does the same data movement on ``(N, H, W, C)``
arrays and orders a window ``(kH, kW, C)``, so each of the ``kH*kW`` copies
moves contiguous runs of ``C`` numbers. The fast layers keep activations as
NCHW-shaped arrays whose memory is NHWC (``a.transpose(0, 3, 1, 2)`` of a
contiguous NHWC array), so ``x.transpose(0, 2, 3, 1)`` here costs nothing;
convolution weights are stored the same way (:func:`channels_last_memory`).
docs/performance.md has the measurements behind each choice.
"""
from __future__ import annotations

from ..backend import get_array_module
from ..shapes import conv_output_size
from .cores import on_cores, row_slices


def channels_last_memory(a):
    """``a`` (A, B, H, W), the same numbers with memory laid out (A, H, W, B): the conv weights' layout.

    A convolution's weight keeps PyTorch's shape -- (C_out, C_in, kH, kW), or
    (C_in, C_out, kH, kW) for a transposed one -- but the GEMMs read it as a
    matrix with rows in window order (kH, kW, channel): ``Wm = W.transpose(0, 2,
    3, 1).reshape(...)``. Stored channels-last, like the activations, that
    matrix is a view, and backward's ``grads["weight"] +=`` a contiguous add;
    stored as PyTorch lays it out, both were copies across the channels
    (docs/performance.md has the figures).
    ``zeros_like``, ``empty_like`` and every elementwise pass (Adam) keep the layout.
    """
    xp = get_array_module(a)
    return xp.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def whole_image_window(size, kernel, padding) -> bool:
    """Whether the kernel's one window is the whole (unpadded) image: G's first layer, D's last.

    Then the window matrix is the image itself, row for row: im2col is a
    reshape and col2im a copy (or, straight from a GEMM, nothing at all).
    """
    return tuple(kernel) == tuple(size) and tuple(padding) == (0, 0)


def im2col(x, kernel, stride, padding):
    """Copy every kernel window of ``x`` into a row.

    x:      (N, H, W, C)   channels-last input
    return: (N, H_out, W_out, kH, kW, C);   reshape to (N*H_out*W_out, kH*kW*C) for the GEMM
            (read it only: where the one window is the whole image, it is ``x`` itself)

    The loop form, for reading (what the one line below computes)::

        for i in range(kH):          # output pixel (a, b) reads input pixel (a*sh + i, b*sw + j)
            for j in range(kW):
                cols[:, :, :, i, j, :] = x_pad[:, i : i + sh*H_out : sh, j : j + sw*W_out : sw, :]

    The fast form first builds a *view* whose axes are (n, a, b, i, j, c) --
    no copy, just strides: moving one output pixel (a -> a+1) jumps ``sh``
    input rows, moving one kernel row (i -> i+1) jumps one input row -- and
    then copies it once into a contiguous array (faster than the kH*kW slice
    copies: docs/performance.md). Each core copies the windows of its share of the
    images (``minigan/fast/cores.py``).
    """
    xp = get_array_module(x)
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    N, H, W, C = x.shape
    Ho, Wo = conv_output_size(H, kh, sh, ph), conv_output_size(W, kw, sw, pw)
    if whole_image_window((H, W), kernel, padding):              # the image is its one window:
        return x.reshape(N, 1, 1, kh, kw, C)                      # a view, no copy
    cols = xp.empty((N, Ho, Wo, kh, kw, C), dtype=x.dtype)

    def copy_windows(x, cols):                         # some of the images: (n, H, W, C) -> (n, Ho, Wo, kH, kW, C)
        if ph or pw:
            x = xp.pad(x, ((0, 0), (ph, ph), (pw, pw), (0, 0)))
        sN, sH, sW, sC = x.strides
        windows = xp.lib.stride_tricks.as_strided(
            x, shape=cols.shape, strides=(sN, sH * sh, sW * sw, sH, sW, sC))
        cols[...] = windows                            # the one copy
    on_cores(copy_windows, x, cols)
    return cols


def col2im(cols, size, kernel, stride, padding, out=None):
    """Add every row of ``cols`` back onto its window: the adjoint of :func:`im2col`.

    cols:   (N, H_out, W_out, kH, kW, C)
    size:   (H, W) of the image to rebuild (before padding)
    out:    optional (N, H, W, C) array to write into (any strides: e.g. a slice of a bigger array)
    return: (N, H, W, C)

    For any x and c of matching shapes, ``<im2col(x), c> == <x, col2im(c)>``;
    the tests check exactly that.

    The loop form, for reading: add into a zero-padded image, then cut the padding off::

        x_pad = zeros((N, H + 2*ph, W + 2*pw, C))
        for i in range(kH):          # output pixel (a, b) came from input pixel (a*sh + i, b*sw + j)
            for j in range(kW):
                x_pad[:, i : i + sh*H_out : sh, j : j + sw*W_out : sw, :] += cols[:, :, :, i, j, :]
        return x_pad[:, ph : ph + H, pw : pw + W, :]

    The code below does the same adds straight into the unpadded image: each
    kernel offset skips the window positions that land in the padding (see
    :func:`windows_inside`). That saves the padded buffer, the adds that would be cut
    off, and the final copy out of the padding.
    """
    xp = get_array_module(cols)
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    N, Ho, Wo, _, _, C = cols.shape
    H, W = size
    x = xp.zeros((N, H, W, C), dtype=cols.dtype) if out is None else out
    if whole_image_window((H, W), kernel, padding):              # the image is its one window: nothing
        x[...] = cols.reshape(N, H, W, C)                         # overlaps, so the adds are one copy
        return x
    if out is not None:
        x[...] = 0
    for i in range(kh):          # overlapping windows add up: one strided add per offset,
        a0, a1, r0 = windows_inside(i, sh, ph, H, Ho)    # never a scatter (np.add.at) over pixels
        for j in range(kw):
            b0, b1, c0 = windows_inside(j, sw, pw, W, Wo)
            if a1 > a0 and b1 > b0:
                x[:, r0 : r0 + sh * (a1 - a0) : sh, c0 : c0 + sw * (b1 - b0) : sw, :] += cols[:, a0:a1, b0:b1, i, j, :]
    return x


def windows_inside(i, stride, pad, size, n_windows):
    """Which windows put kernel offset ``i`` inside the unpadded image, and where.

    Window ``a`` puts offset ``i`` on image row ``r = a*stride + i - pad``; we
    need ``0 <= r < size``, i.e. ``a0 <= a < a1`` below. Returns ``(a0, a1, r0)``
    with ``r0`` the row of window ``a0`` (``a1 <= a0``: no window does).
    """
    a0 = max(0, -((i - pad) // stride))                   # ceil((pad - i) / stride), at least 0
    a1 = min(n_windows, (size - 1 - i + pad) // stride + 1)
    return a0, a1, a0 * stride + i - pad


#: Target size of one chunk's window matrix on the CPU (see :func:`batch_chunks`).
CHUNK_BYTES = 16 * 2**20

#: A convolution keeps its forward's window matrices for backward's weight product when the
#: whole batch's are at most this big; larger ones are rebuilt chunk by chunk (``Conv2d.correlate``).
KEEP_BYTES = 32 * 2**20


def batch_chunks(x, bytes_per_image):
    """Slices of the batch axis, a few images each, so one chunk's window matrix stays in cache.

    A layer's whole window matrix is big -- (N*H_out*W_out, kH*kW*C) is 67 MB
    for dcgan64's second conv at batch 64 -- so im2col would write it all out to
    memory and the GEMM read it all back. Chunks of ~16 MB stay in the CPU's
    last-level cache between the two, and the layer never holds the whole
    matrix (backward rebuilds each chunk's windows instead of keeping them,
    unless the whole batch's come to :data:`KEEP_BYTES` or less: ``minigan/fast/conv2d.py::correlate``).
    Much smaller chunks are slower: each GEMM gets too small to keep two BLAS
    threads busy (docs/performance.md has the measurements), so the chunks
    are made equal: 128 images in chunks of at most 41 are 4 chunks of 32,
    not 41 + 41 + 41 + 5. On a GPU one chunk, the whole batch, is best.
    """
    N = x.shape[0]
    if get_array_module(x).__name__ != "numpy":
        return [slice(0, N)]
    per_chunk = max(1, CHUNK_BYTES // max(1, bytes_per_image))
    return row_slices(N, -(-N // per_chunk))     # as few chunks as fit, all about equal: no small leftover
