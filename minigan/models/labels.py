"""Class labels as network inputs: checking them, one-hot planes, and a class-per-row grid.

A class label is an integer ``y`` in ``[0, K)``. A network cannot multiply an
integer by a weight in any meaningful way, so a conditional GAN feeds it in as
a one-hot code: K numbers, 1 at position y and 0 elsewhere. Spread over an
``H x W`` picture, that code becomes K *label planes*: plane y all ones, the
others all zeros (Mirza & Osindero, 2014, https://arxiv.org/abs/1411.1784)::

    label_planes([2, 0], K=3, H=1, W=1)[:, :, 0, 0]  ->  [[0, 0, 1],
                                                          [1, 0, 0]]
"""
from __future__ import annotations

import numpy as np

from .. import backend as B
from ..nn.embedding import label_range, labels_checked

__all__ = ["as_labels", "one_hot", "label_planes", "class_rows", "conditional_classes", "labels_checked",
           "step_labels"]


def as_labels(labels, x, num_classes: int, who: str):
    """``labels`` checked against the batch ``x`` and moved to ``x``'s backend, as int64 ``(N,)``.

    ``labels`` may be a NumPy array (as a dataset gives them) or already on
    ``x``'s backend; anything else than N integers in ``[0, num_classes)`` is
    a clear ``ValueError`` naming ``who`` (the network that was called).
    """
    N = x.shape[0]
    kind = getattr(getattr(labels, "dtype", None), "kind", None)
    if kind not in ("i", "u") or labels.shape != (N,):
        got = f"{labels.dtype} {tuple(labels.shape)}" if kind else type(labels).__name__
        raise ValueError(f"{who}: labels must be an integer array of shape ({N},), one class per "
                         f"sample, got {got}")
    span = label_range(labels)                    # before moving: host labels are checked for free
    if span and (span[0] < 0 or span[1] >= num_classes):
        raise ValueError(f"{who}: labels must be in [0, {num_classes}) (the model has {num_classes} "
                         f"classes), got values from {span[0]} to {span[1]}")
    return B.asarray(labels, B.backend_name(x), np.int64)


def one_hot(labels, num_classes: int, dtype):
    """``(N,)`` ints -> ``(N, K)`` of ``dtype``: row n is 1 at column labels[n], 0 elsewhere."""
    xp = B.get_array_module(labels)
    return (labels[:, None] == xp.arange(num_classes)).astype(dtype)


def label_planes(labels, num_classes: int, H: int, W: int, dtype):
    """``(N,)`` ints -> ``(N, K, H, W)``: plane ``labels[n]`` of sample n all ones, the others zeros.

    A read-only broadcast view (no copy): concatenate it, do not write into it.
    """
    xp = B.get_array_module(labels)
    code = one_hot(labels, num_classes, dtype)                            # (N, K)
    return xp.broadcast_to(code[:, :, None, None], (len(labels), num_classes, H, W))


def class_rows(num_classes: int, per_row: int) -> np.ndarray:
    """Labels for a grid with one row per class: int64 ``(K * per_row,)``, ``[0]*per_row + [1]*per_row + ...``.

    With :func:`minigan.job.viz.grid.make_grid` ``(images, nrow=per_row)``, row k of the
    grid then shows class k. Pair it with ``per_row`` noise vectors repeated for
    every row (``np.tile(z, (K, 1, 1, 1))``) to see each class drawn from the same z.
    """
    if num_classes < 1 or per_row < 1:
        raise ValueError(f"class_rows: num_classes and per_row must be >= 1, got {num_classes}, {per_row}")
    return np.repeat(np.arange(num_classes, dtype=np.int64), per_row)


def conditional_classes(G, D):
    """K when G and D are a class-conditional pair (``num_classes`` on both), None when neither is."""
    k_g, k_d = getattr(G, "num_classes", None), getattr(D, "num_classes", None)
    if k_g != k_d:
        raise ValueError(f"GANTrainer: G and D must both be conditional on the same classes, or neither; "
                         f"got G with {k_g} and D with {k_d} classes")
    return k_g


def step_labels(num_classes, labels, x, name: str):
    """A training step's extra network input: ``(labels,)``, checked, int64 ``(N,)`` on ``x``'s
    backend, for a conditional pair (``num_classes`` K); ``()`` for an unconditional one (None),
    so that ``D.forward(x, *y)`` is ``D.forward(x)``. ``name`` is the argument of
    ``GANTrainer.step`` they came in (``labels``, ``fake_labels``), for the error messages."""
    if num_classes is None:
        if labels is not None:
            raise ValueError(f"GANTrainer: {name} given, but G and D are not conditional; build them with "
                             "num_classes=K (dcgan28(..., num_classes=K)) to train on labels")
        return ()
    if labels is None:
        raise ValueError(f"GANTrainer: G and D are conditional ({num_classes} classes): pass the "
                         f"batch's labels, step(x_real, labels)")
    if isinstance(labels, (list, tuple)) or B.backend_name(labels) != "numpy":
        labels = B.to_numpy(labels) if hasattr(labels, "dtype") else np.asarray(labels)  # checked on the host
    return (as_labels(labels, x, num_classes, f"GANTrainer ({name})"),)                  # (device labels: a transfer)
