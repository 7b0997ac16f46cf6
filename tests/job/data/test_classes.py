"""Folder classes (one sub-folder per class) and the class names of the built-in datasets."""
import re

import numpy as np
import pytest
from PIL import Image

from minigan.job.data import (DATASET_CLASSES, FASHION_MNIST, DatasetError, LabelledImageFolder, class_index,
                          find_classes)
from tests.pictures import random_pictures


def gray(folder, name, value):
    """A 6x6 grayscale PNG of one value, so a picture's class can be read back from its pixels."""
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((6, 6), value, np.uint8)).save(folder / name)


@pytest.fixture
def pets(tmp_path):
    """Three classes named out of order, pictures nested in one, a hidden folder and a text file to ignore."""
    for i in range(3):
        gray(tmp_path / "dog", f"{i}.png", 200)
    gray(tmp_path / "cat", "a.png", 10)
    gray(tmp_path / "cat" / "kittens", "b.png", 10)            # deeper folders belong to their class
    gray(tmp_path / "bird", "x.png", 100)
    gray(tmp_path / ".ipynb_checkpoints", "x.png", 0)          # hidden: not a class
    (tmp_path / "README.txt").write_text("not a picture")
    return tmp_path


def test_sub_folders_become_classes_in_sorted_order(pets):
    names, files = find_classes(pets)
    assert names == ["bird", "cat", "dog"]
    assert files == [[pets / "bird" / "x.png"], [pets / "cat" / "a.png", pets / "cat" / "kittens" / "b.png"],
                     [pets / "dog" / f"{i}.png" for i in range(3)]]


def test_labelled_folder_gives_images_labels_and_names(pets):
    data = LabelledImageFolder(pets, size=4, channels=1, report=False)
    assert data.class_names == ["bird", "cat", "dog"]
    assert data.images.shape == (6, 4, 4, 1) and data.images.dtype == np.uint8
    assert data.labels.dtype == np.int64 and data.labels.tolist() == [0, 1, 1, 2, 2, 2]
    assert data.images[:, 0, 0, 0].tolist() == [100, 10, 10, 200, 200, 200]   # each picture kept its label
    assert len(data) == 6 and data.paths[0] == pets / "bird" / "x.png"
    assert repr(data) == "LabelledImageFolder(6 pictures in 3 classes (bird: 1, cat: 2, dog: 3))"


def test_unreadable_files_are_skipped_and_reported(pets, capsys):
    (pets / "cat" / "broken.png").write_bytes(b"not a png")
    data = LabelledImageFolder(pets, size=4, channels=3)
    assert data.labels.tolist() == [0, 1, 1, 2, 2, 2] and data.images.shape == (6, 4, 4, 3)
    assert [path for path, _ in data.skipped] == [pets / "cat" / "broken.png"]
    assert "skipped 1 of 3 files" in capsys.readouterr().err


def test_a_folder_of_loose_pictures_has_no_classes(tmp_path):
    random_pictures(tmp_path, 3, 8)
    assert find_classes(tmp_path) == ([], [])
    with pytest.raises(DatasetError, match=r"no class sub-folders, its pictures are all at the top level; .*"
                                           r"or train without --conditional"):
        LabelledImageFolder(tmp_path, size=4)


def one_line(excinfo):
    message = str(excinfo.value)
    assert "\n" not in message, "a user-facing message is one line"
    return message


def test_a_picture_beside_class_folders_is_a_clear_error(pets):
    gray(pets, "stray.png", 5)
    with pytest.raises(DatasetError) as excinfo:
        find_classes(pets)
    assert one_line(excinfo) == (f"{pets}: 1 picture(s) at the top level (e.g. stray.png) beside the class folders "
                                 f"bird, cat, dog; move each into its class folder, or remove it")
    with pytest.raises(DatasetError, match=re.escape("at the top level (e.g. stray.png)")):
        LabelledImageFolder(pets, size=4)


def test_an_empty_class_folder_is_a_clear_error(pets):
    (pets / "eel" / "sub").mkdir(parents=True)
    (pets / "eel" / "notes.txt").write_text("no pictures here")
    with pytest.raises(DatasetError) as excinfo:
        LabelledImageFolder(pets, size=4)
    assert one_line(excinfo) == (f"{pets / 'eel'}: class folder with no pictures in it; add PNG/JPEG pictures to "
                                 f"it or remove it")


def test_a_single_class_is_a_clear_error(tmp_path):
    random_pictures(tmp_path / "cats", 2, 8)
    assert find_classes(tmp_path)[0] == ["cats"]
    with pytest.raises(DatasetError) as excinfo:
        LabelledImageFolder(tmp_path, size=4)
    assert one_line(excinfo) == (f"{tmp_path}: only one class folder (cats), so there is nothing to condition on; "
                                 f"add a folder for each other class, or train without --conditional")


def test_missing_and_empty_folders_are_clear_errors(tmp_path):
    with pytest.raises(DatasetError, match=r"no such folder; give a folder with one sub-folder of pictures per"):
        find_classes(tmp_path / "nowhere")
    with pytest.raises(DatasetError, match=r"is not a folder"):
        (tmp_path / "file.png").write_bytes(b"")
        find_classes(tmp_path / "file.png")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match=r"empty: no pictures in it \(looked for file names ending in "):
        find_classes(tmp_path / "empty")


def test_dataset_class_names():
    assert DATASET_CLASSES["mnist"] == tuple("0123456789")
    assert DATASET_CLASSES["fashion-mnist"] == FASHION_MNIST.classes == (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


@pytest.mark.parametrize("spec, expected", [("Sneaker", 7), (7, 7), ("7", 7), ("Ankle boot", 9), (0, 0)])
def test_class_index_takes_a_name_or_an_index(spec, expected):
    assert class_index(spec, DATASET_CLASSES["fashion-mnist"]) == expected


def test_class_index_prefers_a_name_and_lists_the_classes_when_lost():
    assert class_index("1", ["0", "2", "1"]) == 2            # folder "1" is class 2, whatever its index
    assert class_index(1, ["0", "2", "1"]) == 1               # an int is an index
    with pytest.raises(ValueError, match=r"no class 'sneaker': give a class name or an index from 0 to 2 "
                                         r"\(0=cat, 1=dog, 2=eel\)"):
        class_index("sneaker", ["cat", "dog", "eel"])
    with pytest.raises(ValueError, match="no class 3"):
        class_index(3, ["cat", "dog", "eel"])
