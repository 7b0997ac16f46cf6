"""Every viz writer is atomic: a failure mid-write leaves the old file intact and no temp file behind."""
import numpy as np
import pytest
from PIL import Image

from minigan.job.viz import plot_training_curves, save_gif, save_grid


def write_grid(path):
    save_grid(np.zeros((4, 1, 8, 8)), path)


def write_curves(path):
    h = {k: [0.5, 0.6, 0.7] for k in ("loss_d", "loss_g", "d_x", "d_g_z")}
    plot_training_curves(dict(h, step=[1, 2, 3]), path)


def write_gif(path):
    save_gif([np.zeros((8, 8, 3), np.uint8), np.full((8, 8, 3), 255, np.uint8)], path)


@pytest.mark.parametrize("writer, name", [(write_grid, "grid.png"), (write_curves, "curves.png"),
                                          (write_gif, "train.gif")])
def test_failure_mid_write_keeps_the_old_file(tmp_path, monkeypatch, writer, name):
    path = tmp_path / name
    path.write_bytes(b"the previous file")

    def save_then_fail(self, fp, *args, **kwargs):
        fp.write(b"half an image")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", save_then_fail)
    with pytest.raises(OSError, match="disk full"):
        writer(path)
    assert path.read_bytes() == b"the previous file"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


@pytest.mark.parametrize("writer, name", [(write_grid, "grid.png"), (write_curves, "curves.png"),
                                          (write_gif, "train.gif")])
def test_success_replaces_the_file_and_leaves_no_temp(tmp_path, writer, name):
    path = tmp_path / name
    path.write_bytes(b"the previous file")
    writer(path)
    with Image.open(path) as im:
        im.verify()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
