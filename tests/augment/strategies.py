"""Hypothesis strategies for the augmentation tests: small image batches, odd sizes and H != W included."""
from __future__ import annotations

from hypothesis import strategies as st


@st.composite
def image_shapes(draw, max_size=7):
    """``(N, C, H, W)``: 1-3 images, grey (C = 1) or colour (C = 3), 1..max_size pixels each way."""
    return (draw(st.integers(1, 3)), draw(st.sampled_from([1, 3])),
            draw(st.integers(1, max_size)), draw(st.integers(1, max_size)))
