"""Hypothesis strategies shared by the tests: valid layer geometries, drawn small.

Shapes stay tiny (a finite-difference check costs two forward passes per
number), but cover every case that breaks convolution code: kernels wider
than the stride and narrower, padding up to kernel - 1, non-square kernels,
strides that skip pixels, 1x1 images, output_padding.
"""
from __future__ import annotations

from hypothesis import assume
from hypothesis import strategies as st

from minigan.nn.conv_transpose2d import conv_transpose_output_size
from minigan.nn.im2col import conv_output_size


@st.composite
def conv_configs(draw, max_size=7):
    """A Conv2d geometry with a non-empty output: dict of N, C_in, C_out, H, W, kernel, stride, padding."""
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, kh - 1)), draw(st.integers(0, kw - 1))
    H = draw(st.integers(max(1, kh - 2 * ph), max_size))
    W = draw(st.integers(max(1, kw - 2 * pw), max_size))
    assume(conv_output_size(H, kh, sh, ph) >= 1 and conv_output_size(W, kw, sw, pw) >= 1)
    return dict(N=draw(st.integers(1, 2)), C_in=draw(st.integers(1, 3)), C_out=draw(st.integers(1, 3)),
                H=H, W=W, kernel=(kh, kw), stride=(sh, sw), padding=(ph, pw))


@st.composite
def conv_transpose_configs(draw, max_size=5):
    """A ConvTranspose2d geometry with a non-empty output, including output_padding < stride."""
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, kh - 1)), draw(st.integers(0, kw - 1))
    oph, opw = draw(st.integers(0, sh - 1)), draw(st.integers(0, sw - 1))
    H, W = draw(st.integers(1, max_size)), draw(st.integers(1, max_size))
    assume(conv_transpose_output_size(H, kh, sh, ph, oph) >= 1)
    assume(conv_transpose_output_size(W, kw, sw, pw, opw) >= 1)
    return dict(N=draw(st.integers(1, 2)), C_in=draw(st.integers(1, 3)), C_out=draw(st.integers(1, 3)),
                H=H, W=W, kernel=(kh, kw), stride=(sh, sw), padding=(ph, pw), output_padding=(oph, opw))


seeds = st.integers(0, 2**32 - 1)
