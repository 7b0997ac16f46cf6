"""load_mnist / load_fashion_mnist: where files are found, downloading, the offline error.

The datasets are made local with ``dataclasses.replace``: the real MNIST and
FASHION_MNIST descriptions with the mirrors pointed at a 127.0.0.1 server (or a
dead port), the MD5s of small generated files, and no system folder.
"""
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from minigan.job.data import (FASHION_MNIST, MNIST, DatasetError, cache_dir, load_fashion_mnist,
                          load_idx_dataset, load_mnist)
from minigan.job.data.mnist import FILES

TRAIN = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
TEST = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache root, set through $MINIGAN_DATA as a user would."""
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "cache"))
    return tmp_path / "cache"


def local(dataset, fake, mirrors):
    return replace(dataset, mirrors=tuple(mirrors), md5=dict(fake.md5), system_dirs=())


def assert_split(loaded, fake, names):
    images, labels = loaded
    assert images.dtype == np.uint8 and labels.dtype == np.uint8
    np.testing.assert_array_equal(images, fake.arrays[names[0]])
    np.testing.assert_array_equal(labels, fake.arrays[names[1]])


# --------------------------------------------------------------------------- files already on disk
@pytest.mark.parametrize("compressed", [True, False])
def test_loads_both_splits_from_root(tmp_path, fake_mnist, compressed):
    fake_mnist.write(tmp_path, compressed=compressed)
    assert_split(load_mnist(tmp_path, train=True, download=False), fake_mnist, TRAIN)
    assert_split(load_mnist(tmp_path, train=False, download=False), fake_mnist, TEST)


def test_loads_from_the_cache_folder_named_after_the_dataset(cache, fake_mnist):
    fake_mnist.write(cache / "fashion-mnist")
    assert_split(load_fashion_mnist(download=False), fake_mnist, TRAIN)
    with pytest.raises(DatasetError, match="MNIST not found"):
        load_mnist(download=False)  # MNIST has its own folder, cache/mnist, which is empty


def test_cache_dir_is_minigan_data_or_home_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "x"))
    assert cache_dir() == tmp_path / "x"
    monkeypatch.delenv("MINIGAN_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "minigan"


def test_system_folder_is_used_without_download(cache, tmp_path, fake_mnist, dead_url):
    fake_mnist.write(tmp_path / "usr-share", names=TEST)
    dataset = replace(local(FASHION_MNIST, fake_mnist, [dead_url]), system_dirs=(str(tmp_path / "usr-share"),))
    assert_split(load_idx_dataset(dataset, train=False, progress=False), fake_mnist, TEST)
    assert not (cache / "fashion-mnist").exists()  # nothing downloaded, no folder made


def test_fashion_mnist_looks_where_debian_installs_it():
    assert "/usr/share/datasets/fashion-mnist" in FASHION_MNIST.system_dirs


def test_published_md5s_cover_the_four_files():
    for dataset in (MNIST, FASHION_MNIST):
        assert set(dataset.md5) == set(FILES)
        assert all(re.fullmatch("[0-9a-f]{32}", md5) for md5 in dataset.md5.values())
        assert dataset.mirrors and all(mirror.endswith("/") for mirror in dataset.mirrors)


# --------------------------------------------------------------------------- downloading
def test_downloads_missing_split_into_the_cache(cache, server, fake_mnist, log):
    base = server.serve("mirror", fake_mnist.gz_bytes)
    dataset = local(MNIST, fake_mnist, [base])
    assert_split(load_idx_dataset(dataset, train=True, progress=log), fake_mnist, TRAIN)
    assert sorted(p.name for p in (cache / "mnist").iterdir()) == sorted(TRAIN)
    assert server.requests == [f"/mirror/{name}" for name in TRAIN]  # only the split asked for
    assert f"downloading {base}train-images-idx3-ubyte.gz" in log.getvalue()
    # The second time the cache is used: no request.
    assert_split(load_idx_dataset(dataset, train=True, progress=log), fake_mnist, TRAIN)
    assert len(server.requests) == 2


def test_downloads_only_the_file_that_is_missing(tmp_path, server, fake_mnist, log):
    fake_mnist.write(tmp_path, names=TRAIN[:1], compressed=False)  # images there, labels not
    base = server.serve("mirror", fake_mnist.gz_bytes)
    assert_split(load_idx_dataset(local(MNIST, fake_mnist, [base]), tmp_path, progress=log),
                 fake_mnist, TRAIN)
    assert server.requests == ["/mirror/train-labels-idx1-ubyte.gz"]


def test_first_mirror_down_second_used(cache, server, dead_url, fake_mnist, log):
    base = server.serve("second", fake_mnist.gz_bytes)
    dataset = local(MNIST, fake_mnist, [dead_url, base])
    assert_split(load_idx_dataset(dataset, train=False, progress=log), fake_mnist, TEST)
    assert "failed: " in log.getvalue()


def test_checksum_mismatch_everywhere_is_one_clear_error(cache, server, fake_mnist, log):
    wrong = {name: body[::-1] for name, body in fake_mnist.gz_bytes.items()}
    base = server.serve("mirror", wrong)
    with pytest.raises(DatasetError) as error:
        load_idx_dataset(local(MNIST, fake_mnist, [base]), progress=log)
    message = str(error.value)
    assert message.startswith("MNIST: could not download train-images-idx3-ubyte.gz from any mirror:")
    assert "checksum mismatch" in message
    assert list((cache / "mnist").iterdir()) == []  # nothing left in the cache


def test_connection_dropped_leaves_nothing_in_the_cache(cache, server, fake_mnist, log):
    base = server.serve("mirror", fake_mnist.gz_bytes, how="drop")
    with pytest.raises(DatasetError, match="the connection closed after"):
        load_idx_dataset(local(FASHION_MNIST, fake_mnist, [base]), progress=log)
    assert list((cache / "fashion-mnist").iterdir()) == []


def offline_error(dataset, **kwargs) -> str:
    with pytest.raises(DatasetError) as error:
        load_idx_dataset(dataset, progress=False, **kwargs)
    return str(error.value)


@pytest.mark.parametrize("dataset, hint", [
    (MNIST, "train on Fashion-MNIST instead"),
    (FASHION_MNIST, "puts the files in /usr/share/datasets/fashion-mnist"),
])
def test_offline_error_lists_files_folder_and_alternatives(cache, dead_url, dataset, hint):
    message = offline_error(replace(dataset, mirrors=(dead_url,), system_dirs=()))
    assert f"{dead_url}train-images-idx3-ubyte.gz: cannot connect" in message
    for name in FILES:
        assert f"\n    {name}\n" in message
    assert f"put them in\n    {cache / dataset.name}\n" in message
    assert "--data-dir FOLDER" in message
    assert hint in message and "sudo apt install dataset-fashion-mnist" in message


def test_offline_error_names_root_when_given(tmp_path, dead_url):
    message = offline_error(replace(MNIST, mirrors=(dead_url,)), root=tmp_path / "mine")
    assert f"put them in\n    {tmp_path / 'mine'}\n" in message


def test_download_false_says_where_it_looked(cache, tmp_path):
    dataset = replace(FASHION_MNIST, system_dirs=(str(tmp_path / "system"),))
    message = offline_error(dataset, download=False)
    assert message.startswith(f"Fashion-MNIST not found (looked in {cache / 'fashion-mnist'}, "
                              f"{tmp_path / 'system'}); download=False, so nothing was downloaded.")
    assert "t10k-labels-idx1-ubyte.gz" in message


def test_unwritable_cache_folder_is_a_dataset_error(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    message = offline_error(MNIST, root=tmp_path / "a-file" / "mnist")
    assert message.startswith(f"cannot create the folder {tmp_path / 'a-file' / 'mnist'} for MNIST: ")
    assert "--data-dir FOLDER" in message


# --------------------------------------------------------------------------- files that do not fit
def write_idx_bytes(path: Path, array: np.ndarray):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(n.to_bytes(4, "big") for n in array.shape)
    path.write_bytes(header + array.tobytes())


@pytest.mark.parametrize("images, labels, message", [
    (np.zeros((5, 28, 28)), np.zeros(4), "holds 5 images but {labels} holds 4 labels"),
    (np.zeros((5, 27, 27)), np.zeros(5), "{images}: expected MNIST images, uint8 (N, 28, 28); "
                                         "found uint8 (5, 27, 27)"),
    (np.zeros((5, 28, 28)), np.zeros((5, 1)), "{labels}: expected MNIST labels, uint8 (N,); "
                                              "found uint8 (5, 1)"),
])
def test_files_that_do_not_fit_together(tmp_path, images, labels, message):
    paths = {"images": tmp_path / "train-images-idx3-ubyte", "labels": tmp_path / "train-labels-idx1-ubyte"}
    write_idx_bytes(paths["images"], images.astype(np.uint8))
    write_idx_bytes(paths["labels"], labels.astype(np.uint8))
    with pytest.raises(DatasetError) as error:
        load_mnist(tmp_path, download=False)
    assert message.format(**paths) in str(error.value)


def test_corrupt_cached_file_names_the_file(tmp_path, fake_mnist):
    fake_mnist.write(tmp_path, names=TRAIN)
    bad = tmp_path / TRAIN[0]
    bad.write_bytes(bad.read_bytes()[:100])
    with pytest.raises(DatasetError, match=re.escape(f"{bad}: truncated gzip file")):
        load_mnist(tmp_path, download=False)


# --------------------------------------------------------------------------- the real thing, if installed
DEBIAN = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(not DEBIAN.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_debian_fashion_mnist(cache):
    train_images, train_labels = load_fashion_mnist(download=False)
    test_images, test_labels = load_fashion_mnist(train=False, download=False)
    assert train_images.shape == (60000, 28, 28) and test_images.shape == (10000, 28, 28)
    assert np.bincount(train_labels).tolist() == [6000] * 10  # labels 0-9, balanced
    assert np.bincount(test_labels).tolist() == [1000] * 10
    assert train_labels[0] == 9  # the first training image is an ankle boot
    assert train_images.min() == 0 and train_images.max() == 255
