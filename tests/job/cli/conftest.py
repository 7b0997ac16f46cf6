"""Fixtures for the CLI tests: a small MNIST-style dataset as IDX files, and a tiny-model run helper.

The pictures are bright squares at random places on black, 28x28: enough for a
GAN to learn something in a few steps, and quick to make.
"""
from __future__ import annotations

import numpy as np
import pytest

from minigan.job.cli import main
from minigan.job.data import write_idx

N_IMAGES = 160            # 10 steps per epoch at batch 16
TINY = ["--ngf", "4", "--ndf", "4", "--nz", "8", "--batch-size", "16", "--log-every", "5"]


def squares(n, size=28, seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros((n, size, size), np.uint8)
    for i, (r, c) in enumerate(rng.integers(2, size - 10, (n, 2))):
        x[i, r:r + 8, c:c + 8] = 255
    return x


@pytest.fixture(scope="session")
def idx_dir(tmp_path_factory):
    """A folder with train-images/labels IDX files (uncompressed) of N_IMAGES squares."""
    folder = tmp_path_factory.mktemp("idx")
    write_idx(folder / "train-images-idx3-ubyte", squares(N_IMAGES))
    write_idx(folder / "train-labels-idx1-ubyte", np.zeros(N_IMAGES, np.uint8))
    return folder


def train_on(data_dir, capsys):
    """``run(out, *flags)``: ``minigan train`` in-process on ``data_dir`` with TINY; returns (rc, stdout, stderr)."""
    def run(out, *flags):
        capsys.readouterr()
        rc = main(["train", "--data-dir", str(data_dir), *TINY, "--out", str(out), *map(str, flags)])
        captured = capsys.readouterr()
        return rc, captured.out, captured.err
    return run


@pytest.fixture
def train(idx_dir, capsys):
    """``train(out, *flags)``: ``minigan train`` in-process on the tiny set; returns (rc, stdout, stderr)."""
    return train_on(idx_dir, capsys)
