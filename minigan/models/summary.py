"""``summary(model, input_shape)``: the per-layer table a learner wants to see first."""
from __future__ import annotations

import numpy as np

from .. import backend as B


def summary(model, input_shape, print_fn=print) -> str:
    """Print (and return) each layer's output shape and parameter count.

    input_shape: one sample's shape without the batch axis, e.g. ``(100, 1, 1)`` for G.
    Runs one forward pass on zeros in eval mode (:meth:`Module.evaluating`); the model's
    state, backward caches included, is left as it was.
    """
    ref = next(iter(model.params.values()))
    n = 2 * getattr(model, "pack", 1)                               # a packed D judges pack samples at once
    x = B.asarray(np.zeros((n, *input_shape)), B.backend_name(ref), ref.dtype)
    rows = [("input", "", f"(N, {', '.join(map(str, input_shape))})", "")]
    with model.evaluating():
        for i, layer in enumerate(model.layers):
            x = layer.forward(x)
            n = sum(p.size for p in layer.params.values())
            rows.append((str(i), repr(layer), "(N, " + ", ".join(map(str, x.shape[1:])) + ")", f"{n:,}" if n else "-"))
    rows.append(("", "total", "", f"{model.num_parameters():,}"))
    widths = [max(len(r[c]) for r in rows) for c in range(4)]
    line = "  ".join("-" * w for w in widths)
    table = [line] + [
        f"{r[0]:>{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]:>{widths[3]}}" for r in rows
    ] + [line]
    table.insert(1, f"{'#':>{widths[0]}}  {'layer':<{widths[1]}}  {'output shape':<{widths[2]}}  {'params':>{widths[3]}}")
    table.insert(2, line)
    text = "\n".join(table)
    if print_fn:
        print_fn(text)
    return text
