"""Stacked MNIST: three MNIST digits as the red, green and blue channels of one 28x28 picture.

A picture's *mode* is its three digits, ``100 d_R + 10 d_G + d_B``: 1,000 modes,
equally likely, which makes collapse countable (Metz et al. 2017's and VEEGAN's
benchmark; PacGAN, Lin et al. 2018, Table 3). Each channel is read by minigan's
digit classifier (:mod:`minigan.job.metrics.modes`).

The pictures are drawn afresh every epoch: epoch e takes :data:`EPOCH_SIZE`
triples of independent, uniformly drawn MNIST training digits from that epoch's
stream, ``default_rng([seed, e])`` (the stream that shuffles an epoch of the other
datasets), so a resumed run sees the very same batches.

    data = StackedMNIST(images)                       # images: MNIST's uint8 (60000, 28, 28)
    for x in data.batches(64, np.random.default_rng([seed, e])):   # float32 (64, 3, 28, 28) in [-1, 1]
        ...
"""
from __future__ import annotations

import numpy as np

EPOCH_SIZE = 60_000                                  # pictures per epoch: as many as MNIST has digits


class StackedMNIST:
    """Three MNIST digits per picture, drawn afresh each epoch; ``len()`` is an epoch's pictures."""

    def __init__(self, digits: np.ndarray, labels: np.ndarray | None = None, epoch_size: int = EPOCH_SIZE):
        if digits.dtype != np.uint8 or digits.ndim != 3:
            raise ValueError(f"StackedMNIST: digits must be uint8 (N, 28, 28), got {digits.dtype} {digits.shape}")
        self.digits, self.labels, self.epoch_size = digits, labels, int(epoch_size)

    def __len__(self) -> int:
        return self.epoch_size

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``(n, 3)`` indices into the digits: the three channels of each picture, drawn independently."""
        return rng.integers(0, len(self.digits), (n, 3))

    def modes(self, picked: np.ndarray) -> np.ndarray:
        """The mode of each picture, ``100 d_R + 10 d_G + d_B``, for indices ``(n, 3)`` (needs the labels)."""
        d = self.labels[picked].astype(np.int64)                  # (n, 3) digits
        return d[:, 0] * 100 + d[:, 1] * 10 + d[:, 2]

    def batches(self, batch_size: int, rng: np.random.Generator, start: int = 0):
        """One epoch: float32 ``(B, 3, 28, 28)`` in [-1, 1]; ``start``: the first batch (resuming mid-epoch)."""
        picked = self.draw(self.epoch_size, rng)                  # (epoch, 3): the whole epoch, one draw
        for b in range(start, self.epoch_size // batch_size):
            x = self.digits[picked[b * batch_size:(b + 1) * batch_size]]   # (B, 3, 28, 28) uint8
            yield x.astype(np.float32) / np.float32(127.5) - np.float32(1)
