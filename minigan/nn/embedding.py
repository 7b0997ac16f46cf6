"""Embedding: a learned vector per class, looked up by its integer label.

    labels: int (*)     W: (num_embeddings, embedding_dim)     y: (*, embedding_dim)

    y[n] = W[labels[n]]                  the row of W that labels[n] names

It is a linear layer applied to a one-hot vector, ``y = onehot(label) @ W``,
computed as a lookup. Backward, for a batch where several samples may share a label::

    dW[k] = sum over n with labels[n] = k of dy[n]       a scatter-add into the rows used
    d labels: none -- a label is an integer index (data), not a number to nudge

The scatter-add must add repeated labels once each: ``dW[labels] += dy`` keeps only
one of the writes to a repeated row (:func:`minigan.backend.scatter_add` keeps them all).
Same signature, layout and init (N(0, 1)) as ``torch.nn.Embedding``.
"""
from __future__ import annotations

import contextlib
import contextvars

import numpy as np

from .. import backend as B
from .module import Module


class Embedding(Module):
    """``labels (*) -> (*, embedding_dim)``: row ``labels[i]`` of ``weight``, like ``torch.nn.Embedding``."""

    def __init__(self, num_embeddings, embedding_dim, *, dtype=None, rng=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if self.num_embeddings < 1 or self.embedding_dim < 1:
            raise ValueError(f"Embedding: num_embeddings and embedding_dim must be >= 1, "
                             f"got {num_embeddings} and {embedding_dim}")
        rng = np.random.default_rng(rng)
        W = rng.standard_normal((self.num_embeddings, self.embedding_dim))   # N(0, 1), as PyTorch
        self.add_param("weight", W.astype(B.resolve_dtype(dtype)))
        self.input_grad = False            # labels are integers: there is no dL/dlabels to return

    def forward(self, labels):
        self.check_labels(labels)
        self.cache = labels
        return self.params["weight"][labels]                          # (*, dim): one row per label

    def backward(self, dy):
        labels = self.check_backward(dy)
        if self.requires_grad:
            dim = self.embedding_dim                                  # dW[k] += sum of dy[n] over labels[n] = k
            B.scatter_add(self.grads["weight"], labels.reshape(-1), dy.reshape(-1, dim))
        return None                                                   # labels get no gradient

    def check_labels(self, labels) -> None:
        """``labels`` must be an integer array on the weight's backend, each in ``[0, num_embeddings)``."""
        W = self.params["weight"]
        kind = getattr(getattr(labels, "dtype", None), "kind", None)
        if kind not in ("i", "u"):
            got = getattr(labels, "dtype", type(labels).__name__)
            raise ValueError(f"{self!r}: labels must be an integer array, got {got}")
        if B.backend_name(labels) != B.backend_name(W):
            raise ValueError(f"{self!r}: labels are a {B.backend_name(labels)} array but the weight is on "
                             f"{B.backend_name(W)}; move them with minigan.backend.asarray")
        span = label_range(labels)
        if span and not (0 <= span[0] and span[1] < self.num_embeddings):
            raise ValueError(f"{self!r}: labels must be in [0, {self.num_embeddings}), got values from "
                             f"{span[0]} to {span[1]}")

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"


# -- checking labels without waiting for a GPU -------------------------------------------------------
_CHECKED = contextvars.ContextVar("labels_checked", default=False)


@contextlib.contextmanager
def labels_checked():
    """Inside this block (or a function decorated with ``@labels_checked()``), labels already
    on a GPU are taken as checked.

    Whether labels lie in ``[0, K)`` depends on their values, and reading values
    on a GPU makes Python wait for it. ``GANTrainer.step`` checks its labels on the
    host before moving them, then runs inside this, so the layers skip the check.
    """
    token = _CHECKED.set(True)
    try:
        yield
    finally:
        _CHECKED.reset(token)


def label_range(labels):
    """``(lowest, highest)`` label as Python ints; None for no labels, or for labels on a GPU
    inside :func:`labels_checked`. Elsewhere, labels on a GPU cost one transfer."""
    if not labels.size or (_CHECKED.get() and B.backend_name(labels) != "numpy"):
        return None
    xp = B.get_array_module(labels)
    low, high = B.to_numpy(xp.stack([labels.min(), labels.max()])).tolist()   # one transfer on a GPU
    return int(low), int(high)
