"""save_gif: frame count, timing, loop, frames from paths, errors."""
import numpy as np
import pytest
from PIL import Image

from minigan.job.viz import make_grid, save_grid, save_gif


def frames(n, h=20, w=30):
    """``n`` visibly different (H, W, 3) uint8 frames: a bar that grows."""
    out = []
    for i in range(n):
        f = np.zeros((h, w, 3), np.uint8)
        f[:, : (i + 1) * w // n] = 255
        out.append(f)
    return out


def test_frame_count_durations_and_loop(tmp_path):
    path = tmp_path / "train.gif"
    save_gif(frames(5), path, duration_ms=200, loop=0, hold_last_ms=1000)
    with Image.open(path) as im:
        assert im.format == "GIF" and im.n_frames == 5 and im.size == (30, 20)
        assert im.info["loop"] == 0
        durations = []
        for i in range(im.n_frames):
            im.seek(i)
            durations.append(im.info["duration"])
    assert durations == [200, 200, 200, 200, 1000]          # the last frame is held
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.gif"]   # no temp file left


def test_frames_keep_their_pixels(tmp_path):
    fs = frames(3)
    save_gif(fs, tmp_path / "a.gif")
    with Image.open(tmp_path / "a.gif") as im:
        for i, f in enumerate(fs):
            im.seek(i)
            assert np.array_equal(np.asarray(im.convert("RGB")), f)


def test_frames_from_png_paths_and_single_frame(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for i in range(3):
        p = tmp_path / f"grid_{i:04d}.png"
        save_grid(rng.uniform(-1, 1, (4, 1, 6, 6)), p, nrow=2)
        paths.append(p)
    save_gif(paths, tmp_path / "from_paths.gif")
    with Image.open(tmp_path / "from_paths.gif") as im:
        assert im.n_frames == 3
    save_gif([make_grid(np.zeros((1, 1, 4, 4)))], tmp_path / "one.gif", loop=None)
    with Image.open(tmp_path / "one.gif") as im:
        assert im.n_frames == 1


def test_bad_frames_are_explained(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        save_gif([], tmp_path / "x.gif")
    with pytest.raises(ValueError, match="same size"):
        save_gif([np.zeros((4, 4, 3), np.uint8), np.zeros((5, 4, 3), np.uint8)], tmp_path / "x.gif")
    with pytest.raises(ValueError, match=r"frame 1 .*\(H, W, 3\)"):
        save_gif([np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.float32)], tmp_path / "x.gif")
    assert not any(tmp_path.iterdir())
